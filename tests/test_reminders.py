"""Reminders before the deadline, with a controlled clock: offsets, only Members that have
not submitted, the NCP's language and progress, downtime and restarts, deadline change."""

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.scheduler import JOB_PREFIX, schedule_reminders
from conversations.admin.buttons import TellDeadline
from conversations.review.buttons import SubmitNow
from tests.chat import start_chat, texts

SEC, NCP_BE, NCP_FR, NCP_KE = 9001, 1001, 1002, 1003


@pytest.fixture
async def bots(store, catalog, clock):
    """Starts bots on the same store and fake server, as restarts of one bot."""
    clock.now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    started = []

    async def start(api=None):
        chat = await start_chat(store, catalog, secretariat_ids=frozenset({SEC}), api=api)
        started.append(chat)
        return chat

    first = await start()
    for user, member, language in ((NCP_BE, "BE", "fr"), (NCP_FR, "FR", "en"), (NCP_KE, "KE", "es")):
        await first.say(user, f"/start {store.create_invite(member, timedelta(days=3))}", language_code=language)
    await first.say(NCP_FR, "/submit")
    await first.tap(NCP_FR, SubmitNow)  # FR submitted: never reminded
    yield start, first
    for chat in started:
        await chat.app.shutdown()


def reminders_to(chat, user):
    return [m for m in chat.api.messages_to(user) if m.text.startswith("⏰")]


def jobs(chat):
    # The JobQueue is not started in these tests, so read the due time from the trigger.
    return sorted(
        (job.name, job.job.trigger.run_date) for job in chat.app.job_queue.jobs() if job.name.startswith(JOB_PREFIX)
    )


async def test_schedule_has_one_job_per_offset_at_the_configured_hour(bots):
    _, chat = bots
    await schedule_reminders(chat.app)
    due = [t for _, t in jobs(chat)]
    expected = [datetime(2026, 3, d, 9, 0, tzinfo=UTC) for d in (17, 24, 28, 30)]  # 14, 7, 3, 1 days before
    assert sorted(due) == expected


async def test_due_reminder_goes_only_to_members_not_submitted_in_their_language(bots, clock):
    start, chat = bots
    clock.now = datetime(2026, 3, 17, 9, 0, 5, tzinfo=UTC)
    restarted = await start(chat.api)
    await restarted.drain()
    fr = reminders_to(restarted, NCP_BE)
    es = reminders_to(restarted, NCP_KE)
    assert len(fr) == 1 and len(es) == 1 and reminders_to(restarted, NCP_FR) == []
    assert "14 jours" in fr[0].text and "31 mars 2026" in fr[0].text and "0 sur 51" in fr[0].text
    assert "14 días" in es[0].text and "31 de marzo de 2026" in es[0].text
    assert fr[0].button_data() == ["n"]  # resumes at the next open KPI


async def test_downtime_across_due_times_sends_the_latest_once_and_never_twice(bots, clock):
    start, chat = bots
    clock.now = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # 14 and 7 days both passed while down
    again = await start(chat.api)
    await again.drain()
    texts = [m.text for m in reminders_to(again, NCP_BE)]
    # Only the most recent (the 7-day one), not a burst; it says the real time left: 6 days.
    assert len(texts) == 1 and "6 jours" in texts[0]
    for _ in range(2):  # two more restarts: nothing new
        later = await start(chat.api)
        await later.drain()
    assert len(reminders_to(later, NCP_BE)) == 1
    assert [name for name, _ in jobs(later)] == ["reminder:1:1", "reminder:1:3"]  # only future ones


async def test_moving_the_deadline_re_arms_every_reminder_and_offers_to_tell_the_ncps(bots, clock):
    start, chat = bots
    clock.now = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
    bot = await start(chat.api)
    await bot.drain()  # the 7-day reminder went out, for the 31 March deadline
    sent = await bot.say(SEC, "/cycle deadline 2026-04-30")
    assert "March 31, 2026" in texts(sent) and "April 30, 2026" in texts(sent)
    names = dict(jobs(bot))
    # A reminder sent for the old date says nothing about the new one: all four are due again.
    assert names == {
        "reminder:1:14": datetime(2026, 4, 16, 9, 0, tzinfo=UTC),
        "reminder:1:7": datetime(2026, 4, 23, 9, 0, tzinfo=UTC),
        "reminder:1:3": datetime(2026, 4, 27, 9, 0, tzinfo=UTC),
        "reminder:1:1": datetime(2026, 4, 29, 9, 0, tzinfo=UTC),
    }
    sent = await bot.say(SEC, "/reminders")
    assert "7 days before: April 23, 2026 09:00 UTC — scheduled" in sent[0].text
    await bot.tap(SEC, TellDeadline, yes=True)
    await bot.drain()
    told = [m.text for m in bot.api.messages_to(NCP_BE) if "30 avril 2026" in m.text]
    assert len(told) == 1 and "31 mars 2026" in told[0]  # in the NCP's language, both dates
    assert not [m for m in bot.api.messages_to(NCP_FR) if "April 30" in m.text]  # FR submitted
    clock.now = datetime(2026, 4, 23, 9, 0, 5, tzinfo=UTC)
    later = await start(chat.api)
    await later.drain()
    assert len(reminders_to(later, NCP_BE)) == 2  # the 7-day reminder again, for the new date


async def test_offsets_before_the_cycle_opened_are_not_caught_up(store, catalog, clock):
    clock.now = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)
    store.open_cycle(2026, deadline=date(2026, 3, 31), opens=date(2026, 3, 26))
    chat = await start_chat(store, catalog)
    await chat.say(NCP_BE, f"/start {store.create_invite('BE', timedelta(days=3))}", language_code="en")
    assert await schedule_reminders(chat.app) == 0  # 14 and 7 days before fell before the opening
    assert [name for name, _ in jobs(chat)] == ["reminder:1:1", "reminder:1:3"]
    await chat.app.shutdown()
