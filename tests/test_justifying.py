"""Keeping figures the bot warned about: the NCP's line is kept with the screen until
Confirm, said back to them, and given to the flag that Confirm creates; a later visit
to the same KPI starts without it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import ChangeList, Confirm, Edit, Go, KeepFigures
from conversations.collect.steps import Justifying
from conversations.kit.buttons import pack
from conversations.kit.state import parse_state
from pmm_core.domain.records import Flag, KpiState
from tests.chat import Chat, kinds, texts

NCP, SEC = 1001, 9001
WHY = "Cargo manifests count as electronic declarations here."


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('KE', timedelta(days=3))}")
    return chat


async def keep_electronic_over_total(chat: Chat) -> None:
    """TF-10: 2,000 electronic declarations of 1,000 in all, kept."""
    await chat.press(NCP, pack(Go("TF-10")))
    await chat.say(NCP, "2000")
    await chat.say(NCP, "1000")
    sent = await chat.tap(NCP, KeepFigures, kpi="TF-10")
    assert "type one line saying why" in texts(sent)


def the_flag(chat: Chat) -> Flag:
    assert chat.cycle is not None
    [flag] = chat.store.flags(chat.cycle.id, member="KE")
    return flag


async def test_after_the_justification_the_bot_asks_for_confirm_not_for_the_line_again(chat, store):
    await keep_electronic_over_total(chat)
    sent = await chat.say(NCP, WHY)
    said = texts(sent)
    assert "Noted" in said
    assert "Press Confirm to keep these figures with your explanation" in said
    assert "type one line saying why" not in said  # not the first prompt again
    assert {"Confirm", "ChangeList"} <= set(kinds(sent))
    stored = store.conversation(NCP)
    assert stored is not None
    step = parse_state(stored.state).step
    assert isinstance(step, Justifying) and step.note == WHY
    assert store.flags(chat.cycle.id) == []  # nothing for the Secretariat before Confirm
    sent = await chat.tap(NCP, Confirm, kpi="TF-10")
    assert "TF-10 confirmed" in texts(sent)
    assert the_flag(chat).justification == WHY


async def test_a_justification_is_not_reused_after_change_a_figure(chat, store):
    await keep_electronic_over_total(chat)
    await chat.say(NCP, WHY)
    await chat.tap(NCP, ChangeList, kpi="TF-10")
    await chat.tap(NCP, Edit, kpi="TF-10", dp=1)
    await chat.say(NCP, "500")  # 2,000 of 500: still warned
    sent = await chat.tap(NCP, KeepFigures, kpi="TF-10")
    assert "type one line saying why" in texts(sent)  # a fresh start, no line kept
    assert WHY not in texts(sent)
    sent = await chat.tap(NCP, Confirm, kpi="TF-10")  # without typing anything
    assert "TF-10 confirmed" in texts(sent)
    assert store.kpi_states(chat.cycle.id, "KE")["TF-10"].status is KpiState.CONFIRMED
    flag = the_flag(chat)
    assert "500" in flag.detail
    assert flag.justification == "" and flag.note == ""
    assert not [r for r in store.audit_log() if WHY in (r.new_value or "")]


async def test_a_justification_is_not_reused_when_a_flagged_kpi_is_kept_again(chat, store):
    """The flag already exists (kept with a line); the NCP changes a figure, keeps the new
    figures and confirms without typing: the old line no longer speaks for the flag."""
    await keep_electronic_over_total(chat)
    await chat.say(NCP, WHY)
    await chat.tap(NCP, Confirm, kpi="TF-10")
    assert the_flag(chat).justification == WHY
    await chat.press(NCP, pack(Edit("TF-10", 0)))
    await chat.say(NCP, "3000")  # still more than the total
    sent = await chat.tap(NCP, KeepFigures, kpi="TF-10")
    assert WHY not in texts(sent)
    await chat.tap(NCP, Confirm, kpi="TF-10")
    flag = the_flag(chat)
    assert "3000" in flag.detail
    assert flag.justification == ""
    shown = texts(await chat.say(SEC, "/checks"))
    assert "3,000" in shown
    assert WHY not in shown, "the NCP's line about the earlier figures is shown with the new ones"
