"""Typed notes longer than their limit — a blank KPI's comment (1,000 characters), a
justification (300), the Secretariat's note on a flag (500) — are cut, and the user is
told that only the beginning was kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Blank, Confirm, Go, KeepFigures, Reason
from conversations.flags.buttons import FlagExplained
from conversations.kit.buttons import pack
from pmm_core.domain.records import FlagState, KpiState
from tests.chat import Chat, texts

NCP, SEC = 1001, 9001
CUT = "only its beginning was kept"
LONG = "".join(chr(ord("a") + i % 26) for i in range(5000))


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('KE', timedelta(days=3))}")
    return chat


async def keep_electronic_over_total(chat: Chat) -> None:
    await chat.press(NCP, pack(Go("TF-10")))
    await chat.say(NCP, "2000")
    await chat.say(NCP, "1000")
    await chat.tap(NCP, KeepFigures, kpi="TF-10")


async def test_a_long_blank_comment_keeps_its_first_1000_characters(chat, store):
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.tap(NCP, Blank, kpi="TF-02")
    await chat.tap(NCP, Reason, kpi="TF-02", reason=0)
    sent = await chat.say(NCP, LONG)
    said = texts(sent)
    assert "Comment saved." in said and CUT in said and "1,000 characters" in said
    state = store.kpi_states(chat.cycle.id, "KE")["TF-02"]
    assert state.status is KpiState.BLANK
    assert state.comment == LONG[:1000]
    [row] = [r for r in store.audit_log(chat.cycle.id, "KE") if r.action == "kpi.comment"]
    assert row.new_value == LONG[:1000]


async def test_a_short_blank_comment_is_not_said_to_be_cut(chat, store):
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.tap(NCP, Blank, kpi="TF-02")
    await chat.tap(NCP, Reason, kpi="TF-02", reason=0)
    sent = await chat.say(NCP, LONG[:1000])
    assert "Comment saved." in texts(sent) and CUT not in texts(sent)
    assert store.kpi_states(chat.cycle.id, "KE")["TF-02"].comment == LONG[:1000]


async def test_a_long_justification_keeps_its_first_300_characters(chat, store):
    await keep_electronic_over_total(chat)
    sent = await chat.say(NCP, LONG)
    assert CUT in texts(sent) and "300 characters" in texts(sent)
    await chat.tap(NCP, Confirm, kpi="TF-10")
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.justification == LONG[:300]


async def test_a_long_flag_note_keeps_its_first_500_characters(chat, store):
    await keep_electronic_over_total(chat)
    await chat.tap(NCP, Confirm, kpi="TF-10")
    await chat.say(SEC, "/checks")
    await chat.tap(SEC, FlagExplained)
    sent = await chat.say(SEC, LONG)
    assert "Note saved with the flag." in texts(sent)
    assert CUT in texts(sent) and "500 characters" in texts(sent)
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.state is FlagState.EXPLAINED and flag.note == LONG[:500]
