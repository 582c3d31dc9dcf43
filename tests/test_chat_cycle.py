"""Cycle safety and news through the real PTB stack: /cycle close names who has not
submitted and asks first (a bound button); a closed cycle can be reopened (audited); NCPs
are told in their own language when a cycle opens, reopens and closes, through the outbox."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.admin.buttons import CycleConfirm
from conversations.collect.buttons import Go, Next
from conversations.kit.buttons import pack, unpack
from conversations.kit.text import visible_length
from conversations.reports.buttons import StatusPage
from conversations.review.buttons import SubmitNow
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.records import CycleState, KpiState
from pmm_core.storage.store import Store
from tests.chat import Chat, start_chat, texts

SEC, NCP_BE, NCP_FR, NCP_KE, STRANGER = 9001, 1001, 1002, 1003, 4242


@pytest.fixture
async def chat(chat: Chat, store):
    """NCPs of Belgium (en), France (fr) and Kenya (es); France has submitted."""
    assert chat.cycle is not None
    for user, member, language in ((NCP_BE, "BE", "en"), (NCP_FR, "FR", "fr"), (NCP_KE, "KE", "es")):
        await chat.say(user, f"/start {store.create_invite(member, timedelta(days=3))}", language_code=language)
    store.apply(
        ChangeSet(
            user_id=SEC, cycle_id=chat.cycle.id, member="BE", answers={"tf_aeo_valid": "1300"}, by_secretariat=True
        )
    )
    await chat.say(NCP_FR, "/submit", language_code="fr")
    await chat.tap(NCP_FR, SubmitNow, language_code="fr")
    await chat.drain()
    return chat


def cycle_actions(store) -> list[str]:
    return [r.action for r in store.audit_log() if r.action.startswith("cycle.")]


def last_news(chat: Chat) -> dict[int, str]:
    return {user: chat.api.last_to(user).text for user in (NCP_BE, NCP_FR, NCP_KE)}


async def test_close_names_who_has_not_submitted_and_asks_first(chat, store):
    sent = await chat.say(SEC, "/cycle close")
    text = texts(sent)
    assert "Close the PMM 2025 cycle?" in text
    assert "1 of 3 Members with an NCP or data have submitted." in text
    assert "Not submitted, in progress (1):</b> Belgium" in text
    assert "Not submitted, not started (1):</b> Kenya" in text
    assert store.current_cycle() is not None and "cycle.close" not in cycle_actions(store)
    # Keep it open: nothing changes.
    await chat.tap(SEC, CycleConfirm, yes=False)
    assert store.current_cycle() is not None
    # The Close button of that screen is now stale.
    stale = chat.find(SEC, CycleConfirm, yes=True)
    assert "earlier screen" in texts(await chat.press(SEC, stale))
    assert store.current_cycle() is not None and "cycle.close" not in cycle_actions(store)


async def test_closing_tells_every_ncp_in_their_language(chat, store):
    await chat.say(SEC, "/cycle close")
    sent = await chat.tap(SEC, CycleConfirm, yes=True)
    assert "The 2025 cycle is closed. Telling 3 NCPs." in texts(sent)
    assert store.current_cycle() is None and cycle_actions(store) == ["cycle.open", "cycle.close"]
    assert await chat.drain() == 3
    news = last_news(chat)
    assert "closed the PMM 2025 data collection" in news[NCP_BE] and "were not submitted" in news[NCP_BE]
    assert "a clos la collecte de données 2025 du MMP" in news[NCP_FR] and "ont été soumises" in news[NCP_FR]
    assert "ha cerrado la recopilación de datos 2025 del MMD" in news[NCP_KE]
    assert all("next cycle" in t or "prochain cycle" in t or "próximo ciclo" in t for t in news.values())
    # An NCP of the closed cycle changes nothing.
    reply = texts(await chat.say(NCP_BE, "/next"))
    assert "No collection cycle is open" in reply


async def test_a_replayed_or_forged_confirm_closes_once_and_only_for_the_secretariat(chat, store):
    await chat.say(SEC, "/cycle close")
    data = chat.find(SEC, CycleConfirm, yes=True)
    assert "Secretariat only" in texts(await chat.press(NCP_BE, data))
    assert store.current_cycle() is not None
    update = chat.api.press(SEC, data, language_code="en")
    await chat.replay(update)
    sent = await chat.replay(update)  # Telegram delivers the same press again
    assert "closed" not in texts(sent) or "nothing was changed" in texts(sent)
    assert cycle_actions(store) == ["cycle.open", "cycle.close"]
    assert await chat.drain() == 3  # the news went out once


async def test_a_submission_since_the_question_shows_it_again(chat, store):
    await chat.say(SEC, "/cycle close")
    await chat.say(NCP_BE, "/submit")
    await chat.tap(NCP_BE, SubmitNow)
    sent = await chat.tap(SEC, CycleConfirm, yes=True)
    assert "Submissions changed since this question was shown" in texts(sent)
    assert "2 of 3 Members with an NCP or data have submitted." in texts(sent)
    assert store.current_cycle() is not None
    await chat.tap(SEC, CycleConfirm, yes=True)
    assert store.current_cycle() is None


async def test_a_closed_cycle_is_reopened_audited_and_the_ncps_carry_on(chat, store, clock):
    await chat.say(SEC, "/cycle close")
    await chat.tap(SEC, CycleConfirm, yes=True)
    await chat.drain()
    # Its own deadline (31 March 2026) is still ahead of the test clock (15 January 2026).
    sent = await chat.say(SEC, "/cycle open 2025 2026-06-30")
    assert "There is already a cycle" not in texts(sent)
    assert "Reopen the PMM 2025 cycle until June 30, 2026?" in texts(sent)
    assert "1 Member submitted" in texts(sent)
    await chat.tap(SEC, CycleConfirm, yes=True)
    cycle = store.current_cycle()
    assert cycle is not None and cycle.year == 2025 and cycle.deadline == date(2026, 6, 30)
    assert cycle_actions(store) == ["cycle.open", "cycle.close", "cycle.reopen", "cycle.deadline"]
    reopen = next(r for r in store.audit_log() if r.action == "cycle.reopen")
    assert (reopen.user_id, reopen.old_value, reopen.new_value) == (SEC, "closed", "open")
    assert await chat.drain() == 3
    news = last_news(chat)
    assert (
        "reopened the PMM 2025 data collection until 30 June 2026" in news[NCP_BE]
    )  # the Belgian NCP reads dates as in Belgium
    assert "restent soumises" in news[NCP_FR]  # France submitted: its answers stay submitted
    assert "Continuar" in next(b["text"] for row in chat.api.last_to(NCP_KE).buttons for b in row)
    # Belgium goes on where it was: its figure is kept and a new one is stored.
    await chat.press(NCP_BE, pack(Go("TF-03")))
    await chat.say(NCP_BE, "250000000")
    answers = store.answers(cycle.id, "BE")
    assert answers["tf_aeo_valid"].value == "1300" and answers["tf_aeo_trade_value"].value == "250000000"


async def test_reopening_needs_a_deadline_after_today_and_no_other_open_cycle(chat, store, clock):
    await chat.say(SEC, "/cycle close")
    await chat.tap(SEC, CycleConfirm, yes=True)
    clock.now += timedelta(days=120)  # past the 31 March deadline
    sent = await chat.say(SEC, "/cycle reopen 2025")
    assert "The deadline must come after today." in texts(sent) and "/cycle reopen 2025 " in texts(sent)
    assert store.current_cycle() is None
    assert "No such cycle" in texts(await chat.say(SEC, "/cycle reopen 1999"))
    await chat.say(SEC, "/cycle open 2026 2026-12-31")
    sent = await chat.say(SEC, "/cycle reopen 2025 2026-09-30")
    assert "A cycle is already open" in texts(sent)
    assert store.current_cycle().year == 2026


async def test_opening_a_cycle_tells_every_ncp_with_a_button_to_start(chat, store):
    await chat.say(SEC, "/cycle close")
    await chat.tap(SEC, CycleConfirm, yes=True)
    await chat.drain()
    sent = await chat.say(SEC, "/cycle open 2026 2026-12-31")
    assert "Telling 3 NCPs that it opened." in texts(sent) and "Cycle 2026: open" in texts(sent)
    assert await chat.drain() == 3
    news = last_news(chat)
    assert "opened the PMM 2026 data collection: please give your figures by 31 December 2026" in news[NCP_BE]
    assert "a ouvert la collecte de données 2026 du MMP" in news[NCP_FR]
    assert "ha abierto la recopilación de datos 2026 del MMD" in news[NCP_KE]
    start = chat.api.last_to(NCP_BE).button_data()
    assert [type(p.button) for d in start if (p := unpack(d)) is not None] == [Next]
    reply = texts(await chat.press(NCP_BE, start[0]))
    assert "TF-01" in reply  # the first KPI of the new cycle
    assert store.cycle_of_year(2025).state is CycleState.CLOSED


async def test_the_usage_examples_are_dated_from_today(chat, store, clock):
    text = texts(await chat.say(SEC, "/cycle what"))
    # The test clock says 15 January 2026: last year's data, due in 90 days.
    assert "/cycle open 2025 2026-04-15" in text and "/cycle reopen 2025 2026-04-15" in text
    assert "2026-03-31" not in text


async def test_kpi_states_survive_close_and_reopen(chat, store):
    store.apply(
        ChangeSet(
            user_id=SEC,
            cycle_id=chat.cycle.id,
            member="KE",
            kpis={"TF-02": KpiChange(KpiState.BLANK, reason="no_detail")},
            by_secretariat=True,
        )
    )
    await chat.say(SEC, "/cycle close")
    await chat.tap(SEC, CycleConfirm, yes=True)
    await chat.say(SEC, "/cycle reopen 2025")
    await chat.tap(SEC, CycleConfirm, yes=True)
    assert store.kpi_states(chat.cycle.id, "KE")["TF-02"].reason == "no_detail"
    assert store.submission(chat.cycle.id, "FR").locked


def test_hostile_words_after_cycle_stats_and_status_never_crash_or_change_the_cycle(tmp_path):
    """Random words, dates, years and forged page buttons: a usage or a refusal, never a
    crash; the open cycle stays open, and nothing is closed without the confirm button."""
    catalog = load_catalog()
    loop = asyncio.new_event_loop()
    store = Store.open(tmp_path / "pmm.sqlite3")
    store.import_members([Member("BE", "eur"), Member("FR", "eur")])
    store.open_cycle(2025, deadline=date(2027, 3, 31), opens=date(2026, 1, 1))
    chat = loop.run_until_complete(start_chat(store, catalog, secretariat_ids=frozenset({SEC})))
    word = st.one_of(
        st.sampled_from(["open", "close", "reopen", "deadline", "reminders", "2025", "2024", "9999", "other", "geo"]),
        st.sampled_from(["type:other", "::", "eur", "2026-02-30", "2099-01-01", "0000-00-00", "-1", "1e9", "😀"]),
        st.text(max_size=20).filter(lambda t: t.strip() and " " not in t and "\n" not in t),
    )

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(command=st.sampled_from(["/cycle", "/stats", "/status"]), words=st.lists(word, max_size=4))
    def one(command: str, words: list[str]) -> None:
        sent = loop.run_until_complete(chat.say(SEC, " ".join([command, *words])))
        replies = [m.text for m in sent if m.method == "sendMessage"]
        assert replies and not any("something went wrong" in r for r in replies), (words, replies)
        assert all(visible_length(r) <= 4096 for r in replies)
        cycle = store.current_cycle()
        assert cycle is not None and cycle.year == 2025  # never closed without the button: no other opens

    try:
        one()
        page = pack(StatusPage(2025, "-", "-", 10**11))
        assert "PMM 2025" in texts(loop.run_until_complete(chat.press(SEC, page)))
    finally:
        loop.run_until_complete(chat.app.shutdown())
        loop.close()
