"""A contributor (issue 21) in a thread about a figure they gave (issue 19 §3, schema 10):
asked by the Secretariat, they reply, say the figure is correct and — once submitted — ask to
change the KPI, in chat through PTB's real request stack; the NCPs read what they wrote; a
press on a thread about a KPI outside their scope (or another Member's) changes nothing."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

from conversations.collect.buttons import Confirm
from conversations.collect.buttons import Edit as EditFigure
from conversations.delegation.buttons import ScopeConfirmRight, ScopeDimension, ScopeDone
from conversations.kit.buttons import pack
from conversations.questions import buttons as qb
from conversations.review.buttons import SubmitNow
from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.threads import AuthorRole, ChangeState, MessageKind, Thread, figure_choices
from pmm_core.storage.thread_store import ThreadStore
from tests.chat import Chat, texts

NCP, ANA, SEC, FR_NCP = 1001, 3001, 9001, 2001
MINUTES = "tf_import_release_minutes"


def thread_rows(chat: Chat) -> list[tuple]:
    conn = sqlite3.connect(chat.store.path)
    try:
        return [
            *conn.execute("SELECT * FROM threads ORDER BY id").fetchall(),
            *conn.execute("SELECT * FROM thread_messages ORDER BY id").fetchall(),
            *conn.execute("SELECT * FROM change_requests ORDER BY id").fetchall(),
        ]
    finally:
        conn.close()


async def contributor_of_tf(chat: Chat, can_confirm: bool = False) -> None:
    """Belgium's NCP delegates the TF dimension to Ana, who gives TF-04's figures; OD-01 is
    the NCP's own."""
    assert chat.cycle is not None
    chat.api.profile(NCP, "Nadia", "Peeters")
    chat.api.profile(ANA, "Ana", "Dupont")
    await chat.say(NCP, f"/start {chat.store.create_invite('BE', timedelta(days=3))}")
    await chat.say(NCP, "/delegate")
    await chat.tap(NCP, ScopeDimension, dimension="TF")
    if can_confirm:
        await chat.tap(NCP, ScopeConfirmRight)
    found = re.search(r"\?start=([\w-]+)", texts(await chat.tap(NCP, ScopeDone)))
    assert found is not None
    await chat.say(ANA, f"/start {found.group(1)}")
    answers = {MINUTES: "240000", "tf_import_release_declarations": "1000"}
    assert chat.store.apply(ChangeSet(ANA, chat.cycle.id, "BE", answers=answers)).value == "applied"


async def ask(chat: Chat, kpi: str, dp: str, question: str) -> Thread:
    await chat.say(SEC, f"/ask BE {kpi} {question}")
    await chat.tap(SEC, qb.AskAbout, choice=figure_choices(chat.catalog, chat.catalog.kpi(kpi)).index(dp))
    await chat.drain()
    assert chat.cycle is not None
    return next(t for t in ThreadStore(chat.store).threads(chat.cycle.id, member="BE") if t.kpi == kpi)


async def test_a_contributor_replies_and_explains_in_a_thread_on_their_figure(chat: Chat) -> None:
    await contributor_of_tf(chat)
    thread = await ask(chat, "TF-04", MINUTES, "Is the release time in minutes?")
    to_ana = chat.api.messages_to(ANA)[-1]
    assert "Is the release time in minutes?" in to_ana.text and "You gave this figure" in to_ana.text
    assert {"Reply", "The figure is correct"} <= set(to_ana.button_labels())
    await chat.tap(ANA, qb.Reply, thread=thread.id)
    sent = await chat.say(ANA, "Yes, minutes, from the release system.")
    assert "Sent to the WCO Secretariat" in texts(sent)
    store = ThreadStore(chat.store)
    last = store.messages(thread.id)[-1]
    assert (last.kind, last.role, last.author) == (MessageKind.REPLY, AuthorRole.CONTRIBUTOR, ANA)
    await chat.drain()
    to_sec = chat.api.messages_to(SEC)[-1].text
    assert "Yes, minutes" in to_sec and "Ana Dupont (contributor)" in to_sec
    to_ncp = chat.api.messages_to(NCP)[-1].text  # the NCPs read what their colleague answered
    assert "Yes, minutes" in to_ncp and "Ana Dupont (contributor)" in to_ncp
    # the officer answers back: the contributor who wrote reads it, and says the figure is correct
    await chat.tap(SEC, qb.Reply, thread=thread.id, asker=True)
    await chat.say(SEC, "Including weekends?")
    await chat.drain()
    assert "Including weekends?" in chat.api.messages_to(ANA)[-1].text
    await chat.tap(ANA, qb.Correct, thread=thread.id)
    await chat.say(ANA, "Yes: calendar time, as the guide asks.")
    kinds = [(m.kind, m.role) for m in store.messages(thread.id)]
    assert kinds[-1] == (MessageKind.CORRECT, AuthorRole.CONTRIBUTOR)


async def test_a_contributor_asks_to_change_a_submitted_kpi_of_their_scope(chat: Chat) -> None:
    await contributor_of_tf(chat)
    await chat.say(NCP, "/submit")
    await chat.tap(NCP, SubmitNow)
    thread = await ask(chat, "TF-04", MINUTES, "240,000 minutes for 1,000 declarations?")
    assert "Ask to change this KPI" in chat.api.messages_to(ANA)[-1].button_labels()
    await chat.tap(ANA, qb.AskChange, kpi="TF-04", thread=thread.id)
    sent = await chat.say(ANA, "Entered in seconds; the minutes are 4,000.")
    assert "Sent to the WCO Secretariat" in texts(sent)
    assert chat.cycle is not None
    [request] = ThreadStore(chat.store).change_requests(chat.cycle.id, "BE")
    assert (request.state, request.requested_by, request.thread_id) == (ChangeState.REQUESTED, ANA, thread.id)
    await chat.drain()
    assert "Approve" in chat.api.messages_to(SEC)[-1].button_labels()


async def test_a_contributor_cannot_act_on_a_thread_outside_their_scope(chat: Chat) -> None:
    await contributor_of_tf(chat)
    assert chat.cycle is not None
    chat.store.apply(ChangeSet(NCP, chat.cycle.id, "BE", answers={"od_eu_budget_customs_pct": "10"}))
    od = chat.catalog.kpi_by_id.get("OD-01")
    assert od is not None
    dp = figure_choices(chat.catalog, od)[1]
    theirs = await ask(chat, "TF-04", MINUTES, "Minutes?")
    other = await ask(chat, "OD-01", dp, "Is this share right?")
    assert not any("Is this share right?" in m.text for m in chat.api.messages_to(ANA))  # not theirs to read
    await chat.say(FR_NCP, f"/start {chat.store.create_invite('FR', timedelta(days=3))}")
    before = thread_rows(chat)
    for data in (
        pack(qb.Reply(other.id, other.version, False)),
        pack(qb.Correct(other.id, other.version)),
        pack(qb.AskChange("OD-01", other.id)),
        pack(qb.History(other.id, False)),
        pack(qb.OpenFigure(other.id, 0)),
        pack(qb.Reply(theirs.id, theirs.version, True)),  # the asking side's button
        pack(qb.Resolve(theirs.id, theirs.version)),
    ):
        sent = await chat.press(ANA, data)
        assert "Is this share right?" not in texts(sent)
        await chat.say(ANA, "Forged text after a forged press.")
    # France's NCP presses Belgium's contributor's buttons: nothing either
    await chat.press(FR_NCP, pack(qb.Reply(theirs.id, theirs.version, False)))
    await chat.say(FR_NCP, "Not my Member.")
    assert thread_rows(chat) == before


async def test_a_contributor_who_confirms_an_approved_change_ends_the_amendment(chat: Chat) -> None:
    """Issue 19: the change a contributor asked for, approved, changed and confirmed again by
    them, ends like the NCP's: the submission is marked amended, the contributor is told, and
    the NCP (who holds the submission) receives the new receipt."""
    await contributor_of_tf(chat, can_confirm=True)
    assert chat.cycle is not None
    await chat.say(NCP, "/submit")
    await chat.tap(NCP, SubmitNow)
    old_receipts = len([m for m in chat.api.messages_to(NCP) if m.method == "sendDocument"])
    thread = await ask(chat, "TF-04", MINUTES, "240,000 minutes for 1,000 declarations?")
    await chat.tap(ANA, qb.AskChange, kpi="TF-04", thread=thread.id)
    await chat.say(ANA, "Entered in seconds; the minutes are 4,000.")
    await chat.drain()
    [request] = ThreadStore(chat.store).change_requests(chat.cycle.id, "BE")
    await chat.tap(SEC, qb.Approve, request=request.id)
    await chat.drain()
    assert chat.store.member_data(chat.cycle.id, "BE").amending == {"TF-04"}
    await chat.press(ANA, pack(EditFigure("TF-04", 0)))
    await chat.say(ANA, "4000")
    sent = await chat.tap(ANA, Confirm, kpi="TF-04")
    said = texts(sent)
    assert "TF-04 is confirmed again: the submission for 2025 is amended." in said
    assert "SHA-256" not in said and not any(m.method == "sendDocument" for m in sent)  # not the Member's file
    data = chat.store.member_data(chat.cycle.id, "BE")
    assert data.locked and not data.amending and data.submission is not None and data.submission.amended_at
    [request] = ThreadStore(chat.store).change_requests(chat.cycle.id, "BE")
    assert request.state is ChangeState.AMENDED and request.digest
    last = ThreadStore(chat.store).messages(thread.id)[-1]
    assert (last.kind, last.role, last.author) == (MessageKind.AMENDED, AuthorRole.CONTRIBUTOR, ANA)
    await chat.drain()
    receipts = [m for m in chat.api.messages_to(NCP) if m.method == "sendDocument"]
    assert len(receipts) == old_receipts + 1  # the NCP holds the submission: the new receipt is theirs
    assert request.digest in receipts[-1].params["caption"] and "TF-04" in receipts[-1].params["caption"]
    assert "Ana Dupont" in receipts[-1].params["caption"]
    # a press again changes nothing and sends nothing more
    await chat.say(ANA, "/next")
    await chat.drain()
    assert len([m for m in chat.api.messages_to(NCP) if m.method == "sendDocument"]) == old_receipts + 1
