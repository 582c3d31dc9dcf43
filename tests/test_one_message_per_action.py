"""One message per action where a screen follows a screen: an NCP walking the KPIs — opening
a KPI (its card with the first question), answering, confirming and moving to the next,
refused or stale presses — gets one message for each thing they do."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from bench.walk import next_action
from conversations.collect import buttons as btn
from conversations.kit.buttons import pack

NCP = 1001


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


async def test_walking_the_kpis_is_one_message_per_action(chat):
    rng = random.Random(2026)
    per_action: Counter[int] = Counter()
    last = None
    for _ in range(120):
        action = next_action(last, rng)
        sent = await (chat.press(NCP, action.value) if action.kind == "press" else chat.say(NCP, action.value))
        per_action[len(sent)] += 1
        last = sent[-1] if sent else last
    confirmed = sum(1 for s in chat.store.kpi_states(chat.cycle.id, "BE").values() if s.status.value == "confirmed")
    print(f"\n120 actions: messages per action {dict(per_action)}; {confirmed} KPIs confirmed")
    assert confirmed >= 10  # the walk got somewhere
    assert per_action == {1: 120}


async def test_opening_a_kpi_and_moving_to_the_next_are_one_message_each(chat):
    sent = await chat.press(NCP, pack(btn.Go("TF-03")))
    assert len(sent) == 1 and "Question 1 of 2" in sent[0].text and "AEO involvement in trade" in sent[0].text
    sent = await chat.press(NCP, pack(btn.NextKpi("TF-03")))
    assert len(sent) == 1 and "Question 1 of" in sent[0].text
    skip = chat.find(NCP, btn.Skip)
    sent = await chat.press(NCP, skip)
    assert len(sent) == 1 and "Skipped for now" in sent[0].text
    sent = await chat.press(NCP, skip)  # the same button again: its screen is gone
    assert len(sent) == 1 and "earlier screen" in sent[0].text and "Question" in sent[0].text
