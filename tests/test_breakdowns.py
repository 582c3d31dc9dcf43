"""A KPI's optional breakdowns: once every breakdown figure is given, the walk-through
moves on to the next KPI (it does not offer an empty list again, loop or fail)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from conversations.collect.buttons import AddBreakdown, Back, Confirm, Go
from conversations.collect.steps import Asking, OfferingBreakdowns
from conversations.kit.buttons import pack
from conversations.kit.state import parse_state
from pmm_core.domain.records import KpiState
from tests.chat import Chat, kinds, texts

NCP = 1001
CRASH = "something went wrong"
BREAKDOWN = {
    "tf_aeo_trade_value_import": "100",
    "tf_trade_value_import": "400",
    "tf_aeo_trade_value_export": "150",
    "tf_trade_value_export": "600",
}


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


def answers(chat: Chat) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "BE").items()}


def step(chat: Chat):
    stored = chat.store.conversation(NCP)
    assert stored is not None
    return parse_state(stored.state).step


async def confirm_tf03_and_give_its_breakdown(chat: Chat):
    """TF-03 confirmed, then its only breakdown, every figure of it; the last reply."""
    await chat.press(NCP, pack(Go("TF-03")))
    await chat.say(NCP, "250")
    await chat.say(NCP, "1000")
    sent = await chat.tap(NCP, Confirm, kpi="TF-03")
    assert "AddBreakdown" in kinds(sent)
    await chat.tap(NCP, AddBreakdown, kpi="TF-03", group=0)
    for value in BREAKDOWN.values():
        sent = await chat.say(NCP, value)
    return sent


async def test_the_last_breakdown_figure_moves_on_to_the_next_kpi(chat, store, caplog):
    caplog.set_level(logging.WARNING)
    sent = await confirm_tf03_and_give_its_breakdown(chat)
    said = texts(sent)
    assert CRASH not in said
    assert "Breakdown saved" in said
    assert "would you like to add a breakdown" not in said  # no empty offer
    assert "AddBreakdown" not in kinds(sent)
    assert "TF-01" in sent[-1].text and "Question 1 of 9" in sent[-1].text  # the next KPI to do
    assert answers(chat) == {"tf_aeo_trade_value": "250", "tf_trade_value": "1000", **BREAKDOWN}
    assert store.kpi_states(chat.cycle.id, "BE")["TF-03"].status is KpiState.CONFIRMED
    assert isinstance(step(chat), Asking) and step(chat).kpi == "TF-01"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_next_after_the_last_breakdown_figure_works(chat, store):
    await confirm_tf03_and_give_its_breakdown(chat)
    sent = await chat.say(NCP, "/next")
    assert CRASH not in texts(sent)
    assert "TF-01" in texts(sent) and "Question 1 of 9" in sent[-1].text
    assert "breakdown" not in texts(sent).lower()
    sent = await chat.say(NCP, "/cancel")
    sent = await chat.say(NCP, "/next")
    assert CRASH not in texts(sent) and "TF-01" in texts(sent)
    assert store.kpi_states(chat.cycle.id, "BE")["TF-03"].status is KpiState.CONFIRMED


async def test_back_on_the_first_breakdown_figure_when_all_are_given_moves_on(chat, store, caplog):
    caplog.set_level(logging.WARNING)
    await confirm_tf03_and_give_its_breakdown(chat)
    before = (answers(chat), len(store.audit_log()))
    # the (unbound) Add button of the earlier offer opens the breakdown's first figure again
    sent = await chat.tap(NCP, AddBreakdown, kpi="TF-03", group=0)
    assert "Question 1 of 4" in sent[0].text and "Back" in kinds(sent)
    sent = await chat.tap(NCP, Back, kpi="TF-03", dp=2)
    said = texts(sent)
    assert CRASH not in said
    assert "would you like to add a breakdown" not in said and "AddBreakdown" not in kinds(sent)
    assert "TF-01" in sent[-1].text and "Question 1 of 9" in sent[-1].text
    assert not isinstance(step(chat), OfferingBreakdowns)
    assert (answers(chat), len(store.audit_log())) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
