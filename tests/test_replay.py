"""An update received before a stop and not marked handled is queued again at start-up
(``replay_pending``). If its write was committed before the stop, the restarted bot tells
the user it was saved and shows where they stand, instead of reading it again against a
screen that has moved on; an update that wrote nothing is handled as if it were new.

Simulated faithfully: the update is handled by the running bot (its write commits), its
inbox row is left pending (the stop came before ``inbox_done``), a new bot is started on
the same store and fake server, and what its post_init queued is processed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from telegram import Update

from bot.emulator import Sent
from conversations.broadcast.buttons import BroadcastAudience, BroadcastSend, BroadcastTo
from conversations.collect.buttons import Blank, Confirm, Go, Reason
from conversations.kit.buttons import pack
from conversations.kit.session import update_key
from pmm_core.domain.records import KpiState
from tests.chat import Chat, start_chat, texts

NCP, NCP_FR, SEC = 1001, 1002, 9001


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    await chat.say(NCP_FR, f"/start {store.create_invite('FR', timedelta(days=3))}")
    return chat


def left_pending(chat: Chat, update: dict[str, Any]) -> str:
    """Puts the update in the inbox as received and not handled; returns its key."""
    parsed = Update.de_json(update, chat.app.bot)
    assert parsed is not None and parsed.effective_user is not None
    key = update_key(parsed)
    payload = json.dumps(parsed.to_dict(), ensure_ascii=False)
    assert chat.store.inbox_add(key, parsed.update_id, parsed.effective_user.id, payload)
    return key


async def restart_and_replay(chat: Chat) -> tuple[Chat, list[Sent]]:
    """A new bot on the same store and server; handles what its start-up queued."""
    restarted = await start_chat(chat.store, chat.catalog, secretariat_ids=frozenset({SEC}), api=chat.api)
    restarted.cycle = chat.cycle
    before = len(chat.api.sent)
    queue = restarted.app.update_queue
    assert not queue.empty(), "nothing was queued again at start-up"
    while not queue.empty():
        await restarted.app.process_update(queue.get_nowait())
    return restarted, chat.api.sent[before:]


def answers(chat: Chat) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "BE").items()}


def writes(chat: Chat, action: str) -> int:
    assert chat.cycle is not None
    return len([r for r in chat.store.audit_log(chat.cycle.id, "BE") if r.action == action])


async def test_a_typed_figure_saved_before_the_stop_is_not_read_again(chat, store):
    await chat.press(NCP, pack(Go("TF-02")))
    update = chat.api.message(NCP, "1300")
    sent = await chat.replay(update)  # stored in the first figure; the bot asks the second
    assert "Question 2 of 2" in texts(sent)
    key = left_pending(chat, update)
    restarted, sent = await restart_and_replay(chat)
    try:
        assert key in store.claimed([key])
        said = texts(sent)
        assert sent[0].text.startswith("This was already saved.")
        assert "Question 2 of 2" in sent[-1].text  # where the NCP stands: the second figure
        assert "Saved:" not in said and "Already saved:" not in said
        assert "1.300" not in said  # not claimed as the value of the figure asked now
        assert answers(chat) == {"tf_aeo_valid": "1300"}
        assert writes(chat, "answer") == 1
        assert key not in restarted.app.bot_data.applied_before_restart  # told once
    finally:
        await restarted.app.shutdown()


async def test_a_confirm_pressed_before_the_stop_is_not_pressed_again(chat, store):
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.say(NCP, "1300")
    await chat.say(NCP, "1000")
    update = chat.api.press(NCP, chat.find(NCP, Confirm, kpi="TF-02"))
    sent = await chat.replay(update)
    assert "TF-02 confirmed" in texts(sent)
    audit = len(store.audit_log())
    left_pending(chat, update)
    restarted, sent = await restart_and_replay(chat)
    try:
        said = texts(sent)
        assert sent[0].text.startswith("This was already saved.")
        assert "earlier screen" not in said and "nothing was changed" not in said
        assert "TF-02 confirmed" not in said  # not confirmed a second time
        assert "breakdown" in sent[-1].text and sent[-1].button_data()  # the current screen, with its buttons
        assert store.kpi_states(chat.cycle.id, "BE")["TF-02"].status is KpiState.CONFIRMED
        assert answers(chat) == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1000"}
        confirmations = [r for r in store.audit_log(chat.cycle.id, "BE") if r.action == "kpi"]
        assert [(r.subject, r.new_value) for r in confirmations] == [("TF-02", "confirmed")]
        assert len(store.audit_log()) == audit  # nothing written again
    finally:
        await restarted.app.shutdown()


async def test_a_broadcast_sent_before_the_stop_goes_out_once(chat, store):
    await chat.say(SEC, "/broadcast")
    await chat.say(SEC, "Hello NCPs")
    await chat.tap(SEC, BroadcastAudience)
    await chat.tap(SEC, BroadcastTo, region="all", pending=False)
    update = chat.api.press(SEC, chat.find(SEC, BroadcastSend))
    sent = await chat.replay(update)
    assert "already saved" not in texts(sent)
    left_pending(chat, update)
    restarted, sent = await restart_and_replay(chat)
    try:
        assert texts(sent).startswith("This was already saved.")
        assert store._db.one("SELECT COUNT(*) FROM broadcasts")[0] == 1
        rows = store._db.rows("SELECT chat_id FROM outbox WHERE broadcast_id IS NOT NULL")
        assert sorted(r["chat_id"] for r in rows) == [NCP, NCP_FR]  # one message per recipient
        await restarted.drain()
        for ncp in (NCP, NCP_FR):
            assert [m.text for m in chat.api.messages_to(ncp)].count("Hello NCPs") == 1
    finally:
        await restarted.app.shutdown()


async def test_an_update_that_wrote_nothing_before_the_stop_is_handled_on_replay(chat, store):
    await chat.press(NCP, pack(Go("TF-02")))
    update = chat.api.message(NCP, "1300")  # received, never handled: the stop came first
    key = left_pending(chat, update)
    assert not store.claimed([key])
    restarted, sent = await restart_and_replay(chat)
    try:
        said = texts(sent)
        assert "already saved" not in said
        assert "Saved:" in said and "1.300" in said  # Belgium's English: 1.300
        assert "Question 2 of 2" in sent[-1].text
        assert answers(chat) == {"tf_aeo_valid": "1300"}
        assert writes(chat, "answer") == 1
        assert store.claimed([key]) == {key}
    finally:
        await restarted.app.shutdown()


async def test_a_blank_comment_saved_before_the_stop_is_not_read_as_the_next_figure(chat, store):
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.tap(NCP, Blank, kpi="TF-02")
    await chat.tap(NCP, Reason, kpi="TF-02", reason=0)
    update = chat.api.message(NCP, "2024")  # the comment; a figure on the next screen
    sent = await chat.replay(update)
    assert "Comment saved." in texts(sent)
    question = chat.api.last_to(NCP).text
    assert "Question 1 of" in question  # the next KPI's first figure is pending
    before = (answers(chat), len(store.audit_log()))
    left_pending(chat, update)
    restarted, sent = await restart_and_replay(chat)
    try:
        said = texts(sent)
        assert sent[0].text.startswith("This was already saved.")
        assert "Saved:" not in said and "Comment saved." not in said
        pending = next(line for line in question.split("\n") if "Question 1 of" in line)
        assert pending in sent[-1].text  # the same question, still pending
        assert (answers(chat), len(store.audit_log())) == before
        assert answers(chat) == {}
        assert store.kpi_states(chat.cycle.id, "BE")["TF-02"].comment == "2024"
    finally:
        await restarted.app.shutdown()
