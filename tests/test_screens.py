"""Every press is checked against the screen it was made on, and where the user stands
survives a restart of the bot.

The matrix: for every kind of button that changes data, a press from an earlier screen,
from the previous cycle, and one forged for another KPI are refused, change no row and
add no audit line."""

import dataclasses
from datetime import date, timedelta

import pytest

from conversations.broadcast.buttons import BroadcastAudience
from conversations.collect.buttons import Blank, Choice, Confirm, Go, NoComment, Number, Reason, Skip
from conversations.kit.buttons import Stamp, pack, unpack
from conversations.review.buttons import SubmitNow
from pmm_core.domain.records import KpiState
from tests.chat import start_chat, texts

NCP, SEC = 1001, 9001


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


def rows(chat):
    """Everything stored about the Member, and the audit trail."""
    cycles = chat.store.cycles()
    data = [(c.id, dict(chat.store.answers(c.id, "BE")), dict(chat.store.kpi_states(c.id, "BE"))) for c in cycles]
    submissions = [chat.store.submission(c.id, "BE") for c in cycles]
    return data, submissions, len(chat.store.audit_log())


async def go(chat, kpi):
    return await chat.press(NCP, pack(Go(kpi)))


async def on_yes_no(chat):
    await go(chat, "OD-07")
    return chat.find(NCP, Choice, kpi="OD-07", dp=0, choice=1)


async def on_result(chat):
    await go(chat, "TF-02")
    await chat.say(NCP, "1300")
    await chat.say(NCP, "1000")
    return chat.find(NCP, Confirm, kpi="TF-02")


async def on_reasons(chat):
    await go(chat, "ES-15")
    await chat.tap(NCP, Blank, kpi="ES-15")
    return chat.find(NCP, Reason, kpi="ES-15", reason=0)


async def on_comment(chat):
    await on_reasons(chat)
    await chat.tap(NCP, Reason, kpi="ES-15", reason=0)
    return chat.find(NCP, NoComment, kpi="ES-15")


async def on_number_choice(chat):
    await go(chat, "ES-05")
    await chat.say(NCP, "1,000")  # one thousand, or one? (Belgium's English: "," is the decimal mark)
    return chat.find(NCP, Number, kpi="ES-05", dp=0, option=0)


async def on_submit(chat):
    await chat.say(NCP, "/submit")
    return chat.find(NCP, SubmitNow)


SCREENS = {
    "a yes/no answer": on_yes_no,
    "Confirm": on_result,
    "a blank reason": on_reasons,
    "No comment": on_comment,
    "a reading of an ambiguous number": on_number_choice,
    "Submit now": on_submit,
}


def forged_for_another_kpi(data: str) -> str:
    pressed = unpack(data)
    assert pressed is not None and pressed.stamp is not None
    button = pressed.button
    if hasattr(button, "kpi"):
        fields = dataclasses.asdict(button)
        fields["kpi"] = "TF-01" if fields["kpi"] != "TF-01" else "TF-02"
        button = type(button)(**fields)
    return pack(button, pressed.stamp)


@pytest.mark.parametrize("screen", SCREENS)
async def test_a_press_from_an_earlier_screen_changes_nothing(chat, screen):
    old = await SCREENS[screen](chat)
    await chat.say(NCP, "/next")  # shows the same screen again: still current
    await chat.say(NCP, "/cancel")  # a new screen
    before = rows(chat)
    sent = await chat.press(NCP, old)
    assert rows(chat) == before
    assert "earlier screen" in texts(sent)


@pytest.mark.parametrize("screen", SCREENS)
async def test_a_press_from_the_previous_cycle_changes_nothing(chat, store, screen):
    old = await SCREENS[screen](chat)
    store.close_cycle(chat.cycle.id)
    store.open_cycle(2026, deadline=date(2027, 3, 31), opens=date(2026, 1, 10))
    before = rows(chat)
    await chat.press(NCP, old)
    assert rows(chat) == before


@pytest.mark.parametrize("screen", [s for s in SCREENS if s != "Submit now"])
async def test_a_press_forged_for_another_kpi_changes_nothing(chat, screen):
    old = await SCREENS[screen](chat)
    before = rows(chat)
    await chat.press(NCP, forged_for_another_kpi(old))
    assert rows(chat) == before


async def test_a_press_with_a_forged_screen_number_changes_nothing(chat):
    old = await on_result(chat)
    pressed = unpack(old)
    assert pressed is not None and pressed.stamp is not None
    for screen in (pressed.stamp.screen + 1, pressed.stamp.screen + 10**9, 0):
        before = rows(chat)
        await chat.press(NCP, pack(pressed.button, Stamp(pressed.stamp.cycle, screen)))
        assert rows(chat) == before


async def test_the_blank_reason_from_an_earlier_screen_cannot_blank_a_confirmed_kpi(chat, store):
    """The report's case: blank → cancel → answer every figure → confirm → old reason "1"."""
    await go(chat, "TF-02")
    await chat.tap(NCP, Blank, kpi="TF-02")
    old_reason = chat.find(NCP, Reason, kpi="TF-02", reason=0)
    await chat.tap(NCP, Go, kpi="TF-02")  # Cancel
    await chat.say(NCP, "1300")
    await chat.say(NCP, "1000")
    await chat.tap(NCP, Confirm, kpi="TF-02")
    await chat.press(NCP, old_reason)
    assert store.kpi_states(chat.cycle.id, "BE")["TF-02"].status is KpiState.CONFIRMED
    assert not [r for r in store.audit_log(chat.cycle.id, "BE") if r.new_value and "blank" in r.new_value]


async def test_skipped_figures_a_pending_comment_and_a_draft_survive_a_restart(chat, store, catalog):
    await go(chat, "TF-01")
    for i in range(9):
        await chat.tap(NCP, Skip, kpi="TF-01", dp=i)
    await chat.tap(NCP, Skip, kpi="TF-02", dp=0)
    await chat.tap(NCP, Skip, kpi="TF-02", dp=1)
    await chat.say(SEC, "/broadcast")
    await chat.say(SEC, "The deadline is near.")
    await chat.app.shutdown()

    restarted = await start_chat(store, catalog, secretariat_ids=frozenset({SEC}), api=chat.api)
    sent = await restarted.say(NCP, "/next")
    assert "TF-03" in texts(sent)  # not back to TF-01 or TF-02: their figures were skipped
    await restarted.tap(NCP, Blank, kpi="TF-03")
    await restarted.tap(NCP, Reason, kpi="TF-03", reason=1)
    await restarted.app.shutdown()

    again = await start_chat(store, catalog, secretariat_ids=frozenset({SEC}), api=chat.api)
    await again.say(NCP, "Our systems are being replaced.")  # the comment still awaited
    assert store.kpi_states(chat.cycle.id, "BE")["TF-03"].comment == "Our systems are being replaced."
    sent = await again.tap(SEC, BroadcastAudience)  # the draft is still there
    assert "Who should receive it?" in texts(sent)
    await again.app.shutdown()
