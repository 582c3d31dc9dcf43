"""The rest of the bot learns the peer review stage, through PTB's real request stack against the
fake Bot API with the fake clock: the Secretariat sets and moves a review deadline (the reviewers
and the NCPs are told in their language), reminders reach each reviewer who has not concluded
with their own count, once, caught up after downtime and re-armed by a new date; at close, the
report files reach the Member's NCPs, its reviewers and the Secretariat through the outbox —
once each across a lost answer and a restart between the close and the queueing — and nobody
else, not even a reviewer removed before the close."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from conversations.peer_review import buttons as pb
from conversations.peer_review.reminders import JOB_PREFIX
from pmm_core.domain.peer_review import KpiReview
from tests.chat import Chat, start_chat, texts
from tests.conftest import SECRETARIAT
from tests.test_chat_peer_review import BE_NCP, EXPERT, FR_NCP, bind, code_in, report_files, started_review

SEC = SECRETARIAT
KE_NCP, THIRD = 5001, 4001
Restart = Callable[[], Awaitable[Chat]]


@pytest.fixture
async def restart(chat, store, catalog) -> AsyncIterator[Restart]:
    """Starts the bot again on the same store and fake server (as after a stop)."""
    started: list[Chat] = []

    async def again() -> Chat:
        bot = await start_chat(store, catalog, secretariat_ids=frozenset({SEC}), api=chat.api)
        bot.cycle = chat.cycle
        started.append(bot)
        return bot

    yield again
    for bot in started:
        await bot.app.shutdown()


def reminders_to(chat: Chat, user: int) -> list[str]:
    return [m.text for m in chat.api.messages_to(user) if m.text.startswith("⏰") and "peer review" in m.text]


def review_jobs(chat: Chat) -> dict[str, datetime]:
    assert chat.app.job_queue is not None
    return {
        job.name: job.job.trigger.run_date
        for job in chat.app.job_queue.jobs()
        if job.name and job.name.startswith(JOB_PREFIX)
    }


async def test_deadline_reminders_once_after_downtime_and_re_armed(chat, store, catalog, clock, restart):
    review = await started_review(chat, "fr")  # Belgium's NCP reads French
    total = len(catalog.kpis)
    await chat.tap(FR_NCP, pb.OpenReview, review=review)
    for _ in range(3):
        await chat.tap(FR_NCP, pb.AcceptKpi)
    # a date that does not read, a Member with no review: nothing set
    assert "Usage: /reviewdeadline" in texts(await chat.say(SEC, "/reviewdeadline BE soon"))
    assert "has no peer review" in texts(await chat.say(SEC, "/reviewdeadline KE 2026-02-28"))
    assert "Secrétariat" in texts(await chat.say(BE_NCP, "/reviewdeadline BE 2026-02-28", language_code="fr"))
    assert store.peer_review(review).deadline is None
    sent = await chat.say(SEC, "/reviewdeadline BE 2026-02-28")
    assert "February 28, 2026" in texts(sent)
    assert store.peer_review(review).deadline == "2026-02-28"
    assert any(r.action == "review.deadline" for r in store.audit_log(chat.cycle.id, "BE"))
    await chat.drain()
    assert any("28 février 2026" in m.text for m in chat.api.messages_to(BE_NCP))  # the NCP, in French
    # each reviewer in their own date format, as the reminders: France's NCP as written in France
    for reviewer, written in ((FR_NCP, "28 February 2026"), (EXPERT, "February 28, 2026")):
        assert any(written in m.text for m in chat.api.messages_to(reviewer)), reviewer
    assert not any("2026" in m.text and "deadline" in m.text for m in chat.api.messages_to(KE_NCP))
    # one job per offset of the cycle, at the reminder hour, named after the review and offset
    assert review_jobs(chat) == {
        f"{JOB_PREFIX}{review}:{days}": datetime(2026, 2, 28 - days, 9, 0, tzinfo=UTC) for days in (14, 7, 3, 1)
    }
    # the deadline where people look
    assert "Review deadline: February 28, 2026" in texts(await chat.say(SEC, "/peerreviews"))
    assert "Review deadline: February 28, 2026" in texts(await chat.say(SEC, "/status"))
    assert "Review deadline: February 28, 2026" in texts(await chat.say(EXPERT, "/progress"))
    # down across the 14- and 7-day reminders: only the latest goes out, with the real days left
    clock.now = datetime(2026, 2, 22, 10, 0, tzinfo=UTC)
    bot = await restart()
    await bot.drain()
    [mine] = reminders_to(bot, FR_NCP)
    assert (
        "6 days, on 28 February 2026" in mine
    )  # a French NCP: the date as written in France and f"{total - 3} of {total} KPIs still to review" in mine
    assert bot.api.messages_to(FR_NCP)[-1].button_data() == [bot.find(FR_NCP, pb.OpenReview, review=review)]
    [theirs] = reminders_to(bot, EXPERT)
    assert f"{total} of {total} KPIs still to review" in theirs
    assert reminders_to(bot, BE_NCP) == [] and reminders_to(bot, SEC) == []  # reviewers only
    for _ in range(2):  # restarts again: never twice
        bot = await restart()
        await bot.drain()
    assert len(reminders_to(bot, FR_NCP)) == 1 and len(reminders_to(bot, EXPERT)) == 1
    assert set(review_jobs(bot)) == {f"{JOB_PREFIX}{review}:3", f"{JOB_PREFIX}{review}:1"}
    # a reviewer who concluded is not reminded
    for kpi in catalog.kpis:
        store.review_step(review, EXPERT, kpi.id, state=KpiReview.ACCEPTED)
    store.review_step(review, EXPERT, "", conclusion="Fine.")
    # moved, in the Secretariat's own date format: every reminder is armed again for the new date
    sent = await bot.say(SEC, "/reviewdeadline BE 3/31/2026")
    assert "moved from February 28, 2026 to March 31, 2026" in texts(sent)
    assert review_jobs(bot)[f"{JOB_PREFIX}{review}:7"] == datetime(2026, 3, 24, 9, 0, tzinfo=UTC)
    await bot.drain()
    assert any("28 février 2026" in m.text and "31 mars 2026" in m.text for m in bot.api.messages_to(BE_NCP))
    clock.now = datetime(2026, 3, 24, 9, 0, 5, tzinfo=UTC)
    bot = await restart()
    await bot.drain()
    latest = reminders_to(bot, FR_NCP)
    assert len(latest) == 2, [t[:90] for t in latest]
    assert "7 days, on 31 March 2026" in latest[-1]
    assert len(reminders_to(bot, EXPERT)) == 1  # concluded: no new reminder


async def concluded_review(chat: Chat, catalog) -> int:
    """Belgium's review with both reviewers concluded; a third reviewer invited and removed."""
    review = await started_review(chat)
    await chat.say(THIRD, f"/start {code_in(texts(await chat.say(SEC, '/invite_reviewer BE')))}")
    await chat.say(SEC, "/peerreviews")
    await chat.tap(SEC, pb.RemoveReviewer, review=review, user=THIRD)
    for user in (FR_NCP, EXPERT):
        for kpi in catalog.kpis:
            chat.store.review_step(review, user, kpi.id, state=KpiReview.ACCEPTED)
        chat.store.review_step(review, user, "", conclusion="Sound.")
    await bind(chat, KE_NCP, "KE")
    return review


EN = ["pmm-peer-review-BE-en.html", "pmm-peer-review-BE-en.xlsx"]


async def test_the_report_reaches_every_reader_at_close_once_despite_a_lost_answer(chat, store, catalog, restart):
    review = await concluded_review(chat, catalog)
    await chat.say(SEC, "/peerreviews")
    chat.api.lose_answer("sendDocument", chat_id=EXPERT)  # delivered, but the bot never hears so
    chat.api.fail("sendDocument", 500, "Internal Server Error", chat_id=BE_NCP)  # not delivered
    await chat.tap(SEC, pb.CloseReview, review=review)
    await chat.drain()
    store._db.conn.execute("UPDATE outbox SET next_at = '2000-01-01' WHERE state = 'pending'")  # retry now
    await chat.drain()
    for user in (SEC, FR_NCP, BE_NCP, EXPERT):  # BE's HTML came again after its 500: after the XLSX
        assert sorted(report_files(chat, user)) == EN, user
    assert report_files(chat, KE_NCP) == [] and report_files(chat, THIRD) == []
    html = next(
        m
        for m in chat.api.messages_to(BE_NCP)
        if m.method == "sendDocument" and str(m.params.get("caption", "")).startswith("Peer")
    )
    assert "Peer review report of Belgium (English), printable" in html.params["caption"]
    assert b"Sound." in html.params["document"]["data"]
    # the files are kept once, whatever the number of readers
    assert store._db.one("SELECT COUNT(*) AS n FROM outbox_files")["n"] == 2
    bot = await restart()
    await bot.drain()
    for user in (SEC, FR_NCP, BE_NCP, EXPERT):
        assert sorted(report_files(bot, user)) == EN, user
    # nor can they fetch it: the reviewer removed before the close, another Member's NCP
    for outsider in (THIRD, KE_NCP):
        sent = await bot.say(outsider, "/peerreport BE")
        assert [m.method for m in sent] == ["sendMessage"], outsider
        assert "no peer review report you may read" in sent[0].text


async def test_a_restart_between_the_close_and_the_queueing_still_delivers_once(chat, store, catalog, restart):
    review = await concluded_review(chat, catalog)
    store.close_review(review, SEC)  # the process stops right after the close was committed
    bot = await restart()
    await bot.drain()
    for user in (SEC, FR_NCP, BE_NCP, EXPERT):
        assert report_files(bot, user) == EN, user
    assert report_files(bot, KE_NCP) == [] and report_files(bot, THIRD) == []
    for _ in range(2):
        bot = await restart()
        await bot.drain()
    for user in (SEC, FR_NCP, BE_NCP, EXPERT):
        assert report_files(bot, user) == EN, user
