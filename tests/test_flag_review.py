"""The Secretariat's review of a flag in /checks: the note typed after Explained is kept
only while the flag is as it was when Explained was pressed and only as the next line
typed; the NCP's justification and the Secretariat's note are both kept; and Ask reaches a
submitted Member without reopening it, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Confirm, Edit, Go, KeepFigures
from conversations.flags.buttons import FlagAsk, FlagExplained
from conversations.flags.steps import AwaitingFlagNote
from conversations.kit.buttons import pack
from conversations.kit.state import parse_state
from conversations.questions import buttons as qb
from conversations.review.buttons import SubmitNow
from pmm_core.domain.records import Flag, FlagState, Role
from pmm_core.storage.thread_store import ThreadStore
from tests.chat import Chat, texts

NCP, SEC, SEC2 = 1001, 9001, 9002
CRASH = "something went wrong"


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('KE', timedelta(days=3))}")
    return chat


async def flagged(chat: Chat, justification: str | None = None) -> Flag:
    """TF-10 kept and confirmed by Kenya's NCP with 2,000 electronic declarations of 1,000."""
    assert chat.cycle is not None
    await chat.press(NCP, pack(Go("TF-10")))
    await chat.say(NCP, "2000")
    await chat.say(NCP, "1000")
    await chat.tap(NCP, KeepFigures, kpi="TF-10")
    if justification is not None:
        await chat.say(NCP, justification)
    await chat.tap(NCP, Confirm, kpi="TF-10")
    [flag] = chat.store.flags(chat.cycle.id, member="KE")
    return flag


def the_flag(chat: Chat) -> Flag:
    assert chat.cycle is not None
    [flag] = chat.store.flags(chat.cycle.id, member="KE")
    return flag


async def explained(chat: Chat) -> Flag:
    await chat.say(SEC, "/checks")
    sent = await chat.tap(SEC, FlagExplained)
    assert "Type a note" in texts(sent)
    stored = chat.store.conversation(SEC)
    assert stored is not None and isinstance(parse_state(stored.state).step, AwaitingFlagNote)
    return the_flag(chat)


async def test_a_note_typed_after_the_ncp_changed_the_flag_is_not_saved(chat, store):
    await flagged(chat)
    await explained(chat)
    # Meanwhile the NCP keeps other figures that still trip the check: the flag opens again.
    await chat.press(NCP, pack(Edit("TF-10", 0)))
    await chat.say(NCP, "3000")
    await chat.tap(NCP, KeepFigures, kpi="TF-10")
    await chat.tap(NCP, Confirm, kpi="TF-10")
    changed = the_flag(chat)
    assert changed.state is FlagState.OPEN and "3000" in changed.detail
    audit = len(store.audit_log())
    sent = await chat.say(SEC, "Known national practice.")
    assert "changed since" in texts(sent) and "Note saved" not in texts(sent)
    assert the_flag(chat) == changed  # still open, no note
    assert len(store.audit_log()) == audit
    # the next line is not a note either
    await chat.say(SEC, "Known national practice.")
    assert the_flag(chat) == changed


async def test_a_note_typed_after_another_secretariat_user_resolved_the_flag_is_not_saved(chat, store):
    await flagged(chat)
    await chat.say(SEC2, "/start")
    store.set_role(SEC2, Role.SECRETARIAT, by=SEC)
    await explained(chat)
    await chat.press(NCP, pack(Edit("TF-10", 0)))
    await chat.say(NCP, "900")  # corrected
    await chat.tap(NCP, Confirm, kpi="TF-10")
    await chat.say(SEC2, "/checks resolved")  # another Secretariat user's run closes the flag
    resolved = the_flag(chat)
    assert resolved.state is FlagState.RESOLVED
    sent = await chat.say(SEC, "Known national practice.")
    assert "changed since" in texts(sent) and "Note saved" not in texts(sent)
    assert the_flag(chat) == resolved  # not explained again, no note


async def test_a_line_typed_after_another_command_is_not_the_note(chat, store):
    await flagged(chat)
    flag = await explained(chat)
    assert flag.state is FlagState.EXPLAINED and flag.note == ""
    await chat.say(SEC, "/status")
    sent = await chat.say(SEC, "thanks")
    assert "Note saved" not in texts(sent) and CRASH not in texts(sent)
    assert the_flag(chat).note == "" and the_flag(chat).state is FlagState.EXPLAINED


async def test_a_question_typed_at_the_note_step_is_answered_not_stored(chat, store):
    await flagged(chat)
    await explained(chat)
    sent = await chat.say(SEC, "what is TF-10?")
    said = texts(sent)
    assert "Note saved" not in said and CRASH not in said
    assert "Rate of electronic declarations" in said  # the explanation
    assert the_flag(chat).note == ""
    assert the_flag(chat).state is FlagState.EXPLAINED


async def test_the_ncps_justification_and_the_secretariats_note_are_both_kept(chat, store):
    flag = await flagged(chat, "Cargo manifests count as electronic declarations.")
    assert flag.justification == "Cargo manifests count as electronic declarations."
    await explained(chat)
    sent = await chat.say(SEC, "Known national practice.")
    assert "Note saved with the flag." in texts(sent)
    flag = the_flag(chat)
    assert flag.state is FlagState.EXPLAINED
    assert flag.justification == "Cargo manifests count as electronic declarations."
    assert flag.note == "Known national practice."
    shown = texts(await chat.say(SEC, "/checks explained"))
    assert "The NCP says: Cargo manifests count as electronic declarations." in shown
    assert "Note: Known national practice." in shown


async def test_ask_reaches_a_submitted_member_without_reopening(chat, store):
    await flagged(chat)
    await chat.say(NCP, "/submit")
    await chat.tap(NCP, SubmitNow)
    assert store.submission(chat.cycle.id, "KE").locked
    await chat.say(SEC, "/checks")
    await chat.tap(SEC, FlagAsk)
    sent = await chat.tap(SEC, qb.SendAsIs)
    said = texts(sent)
    assert "/reopen" not in said and "Sent to 1 NCP of Kenya." in said
    assert the_flag(chat).state is FlagState.ASKED
    assert store.submission(chat.cycle.id, "KE").locked
    await chat.drain()
    question = chat.api.messages_to(NCP)[-1]
    assert "has a question about a figure of yours" in question.text
    assert "Ask to change this KPI" in question.button_labels()


async def test_ask_pressed_twice_sends_one_question(chat, store):
    await flagged(chat)
    await chat.say(SEC, "/checks")
    first = chat.find(SEC, FlagAsk)
    await chat.press(SEC, first)
    send_as_is = chat.find(SEC, qb.SendAsIs)
    sent = await chat.press(SEC, send_as_is)
    assert "Sent to 1 NCP of Kenya." in texts(sent)
    sent = await chat.press(SEC, send_as_is)  # the same button again: its screen is gone
    assert "earlier screen" in texts(sent)
    sent = await chat.press(SEC, first)  # the flag is asked now: it changed since
    assert "changed since" in texts(sent)
    await chat.say(SEC, "/checks")
    sent = await chat.tap(SEC, FlagAsk)  # the flag as asked: its question, not a second one
    assert "already asked about this flag" in texts(sent)
    assert len(ThreadStore(store).threads(chat.cycle.id)) == 1
    assert the_flag(chat).state is FlagState.ASKED
    await chat.drain()
    assert sum(1 for m in chat.api.messages_to(NCP) if "has a question" in m.text) == 1
