"""After /submit the Member's answers are locked: a figure typed then is answered with
the lock, not read as a search for a KPI, and /progress says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Go
from conversations.kit.buttons import pack
from conversations.review.buttons import SubmitNow
from tests.chat import Chat, texts

NCP = 1001
LOCKED = "were submitted and are locked"


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.say(NCP, "1300")
    await chat.say(NCP, "/submit")
    await chat.tap(NCP, SubmitNow)
    assert store.submission(chat.cycle.id, "BE").locked
    return chat


def stored(chat: Chat):
    assert chat.cycle is not None
    c = chat.cycle.id
    return {k: a.value for k, a in chat.store.answers(c, "BE").items()}, len(chat.store.audit_log())


@pytest.mark.parametrize("typed", ["1200", "1,200", "0"])
async def test_a_figure_typed_after_submit_gets_the_lock(chat, typed):
    before = stored(chat)
    sent = await chat.say(NCP, typed)
    said = texts(sent)
    assert LOCKED in said and "/review" in said
    assert "I did not find a KPI" not in said
    assert stored(chat) == before == ({"tf_aeo_valid": "1300"}, before[1])


async def test_words_after_submit_are_still_a_kpi_search(chat):
    sent = await chat.say(NCP, "AEO involvement")
    assert LOCKED not in texts(sent)
    assert "TF-03" in texts(sent)


async def test_progress_after_submit_shows_the_lock(chat):
    sent = await chat.say(NCP, "/progress")
    said = texts(sent)
    assert "🔒" in said and LOCKED in said
    assert "KPIs" in said  # and the progress itself
