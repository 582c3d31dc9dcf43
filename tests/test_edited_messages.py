"""Telegram also delivers edits of messages already sent (``edited_message``). What the
first message said was read (and may be stored) when it came; an edit changes nothing,
and the user is told to send the correction as a new message — for a figure and for a
command alike, never with an error."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from telegram import Update

from conversations.collect.buttons import Blank, Go, Reason
from conversations.kit.buttons import pack
from conversations.kit.session import update_key
from tests.chat import Chat, texts

NCP, SEC = 1001, 9001
CRASH = "something went wrong"
NOT_READ = "I do not read edited messages"


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


def edited(chat: Chat, user: int, text: str) -> dict[str, Any]:
    """An edited_message update: the message as first sent (its id, date), with `text`."""
    update = chat.api.message(user, text)
    message = update.pop("message")
    message["edit_date"] = message["date"] + 5
    update["edited_message"] = message
    return update


def everything(chat: Chat) -> tuple[Any, ...]:
    assert chat.cycle is not None
    c = chat.cycle.id
    return (
        {k: a.value for k, a in chat.store.answers(c, "BE").items()},
        dict(chat.store.kpi_states(c, "BE")),
        chat.store.submission(c, "BE"),
        len(chat.store.audit_log()),
        chat.store.conversation(NCP),
        chat.store.conversation(SEC),
    )


@pytest.fixture
def errors(caplog):
    caplog.set_level(logging.WARNING)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_edited_figure_changes_nothing(chat, store, errors):
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.say(NCP, "1300")
    before = everything(chat)
    sent = await chat.replay(edited(chat, NCP, "1200"))
    said = texts(sent)
    assert NOT_READ in said and "nothing was changed" in said
    assert CRASH not in said and "Saved" not in said
    assert everything(chat) == before
    assert not errors()
    assert {k: a.value for k, a in store.answers(chat.cycle.id, "BE").items()} == {"tf_aeo_valid": "1300"}


async def test_an_edited_command_is_not_run(chat, store, errors):
    before = everything(chat)
    sent = await chat.replay(edited(chat, NCP, "/submit"))
    said = texts(sent)
    assert NOT_READ in said and CRASH not in said
    assert "Submit" not in said
    assert store.submission(chat.cycle.id, "BE") is None
    assert everything(chat) == before
    sent = await chat.replay(edited(chat, SEC, "/cycle close"))
    assert NOT_READ in texts(sent) and CRASH not in texts(sent)
    assert store.current_cycle() is not None
    assert everything(chat) == before
    assert not errors()


async def test_an_edited_message_while_a_comment_is_awaited_is_not_the_comment(chat, store, errors):
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.tap(NCP, Blank, kpi="TF-02")
    await chat.tap(NCP, Reason, kpi="TF-02", reason=0)
    before = everything(chat)
    sent = await chat.replay(edited(chat, NCP, "We do not collect this."))
    assert NOT_READ in texts(sent) and CRASH not in texts(sent)
    assert everything(chat) == before
    assert not store.kpi_states(chat.cycle.id, "BE")["TF-02"].comment
    assert not errors()


def test_edited_messages_keep_a_stable_distinct_key(chat):
    """An edit is not mistaken for the message as first sent (their inbox keys differ)."""
    update = chat.api.message(NCP, "1300")
    first = Update.de_json(update, chat.app.bot)
    message = dict(update["message"], edit_date=update["message"]["date"] + 5)
    edit = Update.de_json({"update_id": update["update_id"] + 1, "edited_message": message}, chat.app.bot)
    again = Update.de_json({"update_id": update["update_id"] + 2, "edited_message": message}, chat.app.bot)
    assert update_key(first) != update_key(edit)
    assert update_key(edit) == update_key(again)
    assert not update_key(edit).startswith("u:")
