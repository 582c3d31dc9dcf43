"""The screen counter of a user's conversation only grows, also when the NCP is unbound
or moves to another Member: a bound button shown before can never match a later screen
(of the same Member after a new invitation, or of the new Member after a move)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Choice, Go
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Move
from tests.chat import Chat, texts

NCP, SEC = 1001, 9001


def screen(chat: Chat) -> int:
    stored = chat.store.conversation(NCP)
    assert stored is not None, "the conversation row was deleted: its screen counter starts again at 1"
    return stored.screen


def answers(chat: Chat, member: str) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, member).items()}


async def on_a_yes_no_question(chat: Chat) -> str:
    """Belgium's NCP on OD-07's first question; its Yes button (bound to this screen)."""
    await chat.press(NCP, pack(Go("OD-07")))
    return chat.find(NCP, Choice, kpi="OD-07", dp=0, choice=1)


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


async def test_unbinding_moves_the_screen_on_and_an_old_button_is_refused(chat, store):
    old = await on_a_yes_no_question(chat)
    shown = screen(chat)
    sent = await chat.say(SEC, f"/unbind {NCP}")
    assert "no longer has access" in texts(sent)
    assert screen(chat) > shown
    # invited again to the same Member, and back on the same question
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    assert screen(chat) > shown
    await chat.press(NCP, pack(Go("OD-07")))
    assert screen(chat) > shown
    audit = len(store.audit_log())
    sent = await chat.press(NCP, old)
    assert "earlier screen" in texts(sent)
    assert answers(chat, "BE") == {}
    assert len(store.audit_log()) == audit


async def test_moving_to_another_member_moves_the_screen_on_and_an_old_button_is_refused(chat, store):
    old = await on_a_yes_no_question(chat)
    shown = screen(chat)
    sent = await chat.say(NCP, f"/start {store.create_invite('FR', timedelta(days=3))}")
    assert "Move from" in texts(sent)
    sent = await chat.tap(NCP, Move, yes=True)
    assert store.user(NCP).member == "FR"
    assert screen(chat) > shown
    await chat.press(NCP, pack(Go("OD-07")))  # France's OD-07, the same question
    assert screen(chat) > shown
    audit = len(store.audit_log())
    sent = await chat.press(NCP, old)  # Belgium's button, pressed as France's NCP
    assert "earlier screen" in texts(sent)
    assert answers(chat, "FR") == {} and answers(chat, "BE") == {}
    assert len(store.audit_log()) == audit


def test_the_store_keeps_the_counter_when_an_ncp_is_unbound_or_moved(store, cycle):
    store.touch_user(NCP, "NCP", "en")
    store.redeem_invite(store.create_invite("BE", timedelta(days=1)), NCP)
    for _ in range(5):
        store.save_conversation(NCP, '{"step":{"kind":"idle"}}')
    shown = store.conversation(NCP).screen
    store.unbind_ncp(NCP, by=SEC)
    after_unbind = store.conversation(NCP)
    assert after_unbind is not None and after_unbind.screen > shown and after_unbind.state == ""
    store.redeem_invite(store.create_invite("BE", timedelta(days=1)), NCP)
    outcome = store.redeem_invite(store.create_invite("FR", timedelta(days=1)), NCP, move=True)
    assert outcome == "FR"
    after_move = store.conversation(NCP)
    assert after_move is not None and after_move.screen > after_unbind.screen and after_move.state == ""
