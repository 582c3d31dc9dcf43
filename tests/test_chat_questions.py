"""Questions on a figure, both ways, through PTB's real request stack against the strict fake
Bot API: the Secretariat asks its own question about a figure (a breakdown figure included),
the NCP answers in text, by changing the figure or by saying it is correct, the officer
resolves or reopens; a submitted Member is reached without reopening it; a KPI is changed
after submission on request (approved: that KPI only, confirmed again, a new receipt;
declined: nothing moves). English, French and Spanish."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from conversations.collect.buttons import Confirm, Go, KeepFigures
from conversations.collect.buttons import Edit as EditFigure
from conversations.flags.buttons import FlagAsk
from conversations.kit.buttons import Stamp, pack
from conversations.kit.state import parse_state
from conversations.questions import buttons as qb
from conversations.questions.steps import Writing
from conversations.review.buttons import OpenKpi, SubmitNow
from pmm_core.catalog.models import Catalog
from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.records import FlagState, KpiState
from pmm_core.domain.threads import ChangeState, MessageKind, Thread, ThreadState, figure_choices
from pmm_core.outputs.i18n import lang
from pmm_core.storage.store import Store
from pmm_core.storage.thread_store import ThreadStore
from tests.chat import Chat, texts

NCP, OTHER_NCP, SEC = 1001, 1002, 9001
CRASH = "something went wrong"
QUESTION = "Does the customs time include inland clearance?"
CUSTOMS = "tf_import_release_minutes_customs"
REPLIES = {
    "en": "The figures are right, it was an exceptional year",
    "fr": "Les chiffres sont corrects, il s'agit d'une année exceptionnelle",
    "es": "Las cifras son correctas, fue un año excepcional",
}


async def bind(chat: Chat, user: int, member: str, language: str = "en") -> None:
    await chat.say(user, f"/start {chat.store.create_invite(member, timedelta(days=3))}", language_code=language)


def seed_tf04(chat: Chat, member: str = "KE", user: int = NCP) -> None:
    """TF-04 with its two main figures and the Customs share of the release time."""
    assert chat.cycle is not None
    outcome = chat.store.apply(
        ChangeSet(
            user,
            chat.cycle.id,
            member,
            answers={"tf_import_release_minutes": "240000", "tf_import_release_declarations": "1000", CUSTOMS: "45"},
        )
    )
    assert outcome.value == "applied"


def threads(chat: Chat, member: str = "KE") -> list[Thread]:
    assert chat.cycle is not None
    return ThreadStore(chat.store).threads(chat.cycle.id, member=member)


def the_thread(chat: Chat, member: str = "KE") -> Thread:
    [thread] = threads(chat, member)
    return thread


def kinds_of(chat: Chat, thread: Thread) -> list[MessageKind]:
    return [m.kind for m in ThreadStore(chat.store).messages(thread.id)]


def said_to(chat: Chat, user: int, since: int = 0) -> str:
    return "\n---\n".join(m.text for m in chat.api.messages_to(user)[since:])


async def ask_about_customs(chat: Chat, language: str = "en") -> Thread:
    """Kenya's NCP (in `language`) has TF-04; the officer asks about its Customs breakdown figure."""
    await bind(chat, NCP, "KE", language)
    seed_tf04(chat)
    sent = await chat.say(SEC, f"/ask KE TF-04 {QUESTION}")
    assert "Which figure of Kenya" in texts(sent)
    assert any("↳ Import release time: Customs: 45 min" in label for label in sent[-1].button_labels())
    choice = figure_choices(chat.catalog, chat.catalog.kpi("TF-04")).index(CUSTOMS)
    sent = await chat.tap(SEC, qb.AskAbout, choice=choice)
    assert "Sent to 1 NCP of Kenya" in texts(sent)
    await chat.drain()
    return the_thread(chat)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_an_officers_own_question_about_a_breakdown_figure(chat, catalog: Catalog, language):
    thread = await ask_about_customs(chat, language)
    assert (thread.kpi, thread.data_point, thread.state, thread.figure) == ("TF-04", CUSTOMS, ThreadState.OPEN, "45")
    [question] = ThreadStore(chat.store).messages(thread.id)
    assert (question.kind, question.author, question.role.value, question.language, question.figure) == (
        MessageKind.QUESTION,
        SEC,
        "secretariat",
        "en",
        "45",
    )
    received = chat.api.messages_to(NCP)[-1]
    L = lang(language)
    assert QUESTION in received.text  # the officer's text as written
    assert catalog.data_points[CUSTOMS].label.get(language) in received.text  # the breakdown figure, by its label
    assert catalog.kpi("TF-04").name.get(language) in received.text
    assert L._("{n} min").format(n="45") in received.text
    assert "Kenya" not in received.text and "KE" not in received.text.replace("KPI", "")  # no Member named
    assert L._("The WCO Secretariat has a question about a figure of yours") in received.text
    if language != "en":  # no English left in French or Spanish
        assert "Secretariat" not in received.text and "figure" not in received.text
        assert not set(received.button_labels()) & {"Reply", "Open the figure", "The figure is correct", "History"}
    labels = received.button_labels()
    assert [L._("Reply"), L._("Open the figure"), L._("The figure is correct"), L._("History")] == labels
    # "Open the figure" opens exactly that breakdown figure, not the KPI's total
    sent = await chat.tap(NCP, qb.OpenFigure, language_code=language, thread=thread.id)
    assert catalog.data_points[CUSTOMS].question.get(language) in texts(sent)
    step = parse_state(chat.store.conversation(NCP).state).step
    assert (getattr(step, "kpi", None), getattr(step, "dp", None)) == ("TF-04", CUSTOMS)
    assert CRASH not in said_to(chat, NCP) + said_to(chat, SEC)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_the_ncps_text_reply_reaches_the_officer(chat, language):
    thread = await ask_about_customs(chat, language)
    L = lang(language)
    sent = await chat.say(NCP, REPLIES[language], language_code=language)
    said = texts(sent)
    assert L._("Sent to the WCO Secretariat.") in said
    assert (
        "I did not find a KPI" not in said
        and L._("I did not find a KPI matching “{query}”. Try other words, or browse them:")[:20] not in said
    )
    thread = the_thread(chat)
    assert thread.state is ThreadState.ANSWERED
    reply = ThreadStore(chat.store).messages(thread.id)[-1]
    assert (reply.kind, reply.text, reply.author, reply.language) == (
        MessageKind.REPLY,
        REPLIES[language],
        NCP,
        language,
    )
    before = len(chat.api.messages_to(SEC))
    await chat.drain()
    notice = chat.api.messages_to(SEC)[before:]
    assert len(notice) == 1 and "KE · Kenya" in notice[0].text
    assert REPLIES[language] in notice[0].text  # as typed (HTML-escaped only where needed)
    assert notice[0].button_labels() == ["Reply", "Resolve", "History"]
    # the officer replies again: the thread waits for the NCP again, who gets it at once
    await chat.tap(SEC, qb.Reply, thread=thread.id, asker=True)
    await chat.say(SEC, "Thank you. Which period does it cover?")
    assert the_thread(chat).state is ThreadState.OPEN
    await chat.drain()
    assert "Which period does it cover?" in chat.api.messages_to(NCP)[-1].text
    # the history is a tap away, in the NCP's language
    sent = await chat.tap(NCP, qb.History, language_code=language, thread=thread.id, asker=False)
    history = texts(sent)
    assert history.index(QUESTION) < history.index(REPLIES[language]) < history.index("Which period")
    assert L._("WCO Secretariat") in history


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_a_changed_figure_closes_the_threads_flag(chat, store, language):
    """A flag of /checks asked with the officer's own words; the NCP corrects one of the two
    figures: the thread records it (2,000 → 900) and the checks, run again, close the flag."""
    await bind(chat, NCP, "KE", language)
    await chat.press(NCP, pack(Go("TF-10")), language_code=language)
    await chat.say(NCP, "2000", language_code=language)
    await chat.say(NCP, "1000", language_code=language)
    await chat.tap(NCP, KeepFigures, kpi="TF-10", language_code=language)
    await chat.tap(NCP, Confirm, kpi="TF-10", language_code=language)
    await chat.say(SEC, "/checks")
    sent = await chat.tap(SEC, FlagAsk)
    assert "Type your question to the NCPs of Kenya about TF-10" in texts(sent)
    sent = await chat.say(SEC, "Are all 2,000 electronic declarations really of this year?")
    assert "Sent to 1 NCP of Kenya" in texts(sent)
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.state is FlagState.ASKED
    thread = the_thread(chat)
    assert thread.flag_id == flag.id
    await chat.drain()
    received = chat.api.messages_to(NCP)[-1].text
    assert "Are all 2,000 electronic declarations" in received
    assert lang(language).number(2000) in received  # the check's finding too, in the NCP's language
    sent = await chat.tap(NCP, qb.OpenFigure, thread=thread.id, figure=0)  # a share: its two figures
    assert len(sent[-1].button_data()) == 2
    await chat.press(NCP, sent[-1].button_data()[0], language_code=language)
    await chat.say(NCP, "900", language_code=language)
    await chat.tap(NCP, Confirm, kpi="TF-10", language_code=language)
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.state is FlagState.RESOLVED
    thread = the_thread(chat)
    assert thread.state is ThreadState.ANSWERED
    changed = ThreadStore(store).messages(thread.id)[-1]
    assert (changed.kind, changed.data_point, changed.old_value, changed.new_value) == (
        MessageKind.FIGURE,
        "tf_declarations_electronic",
        "2000",
        "900",
    )
    await chat.drain()
    assert "from <b>2,000</b> to <b>900</b>" in chat.api.messages_to(SEC)[-1].text
    actions = [r.action for r in store.audit_log(chat.cycle.id, "KE")]
    assert {"thread.open", "thread.figure", "flag"} <= set(actions)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_the_figure_is_correct_with_an_explanation(chat, language):
    thread = await ask_about_customs(chat, language)
    L = lang(language)
    sent = await chat.tap(NCP, qb.Correct, language_code=language, thread=thread.id)
    assert isinstance(parse_state(chat.store.conversation(NCP).state).step, Writing)
    assert "?" in texts(sent)
    sent = await chat.say(NCP, REPLIES[language], language_code=language)
    assert L._("Sent to the WCO Secretariat.") in texts(sent)
    thread = the_thread(chat)
    assert thread.state is ThreadState.ANSWERED and kinds_of(chat, thread)[-1] is MessageKind.CORRECT
    await chat.drain()
    assert "says the figure is correct" in chat.api.messages_to(SEC)[-1].text
    sent = await chat.tap(SEC, qb.Resolve, thread=thread.id)
    assert "Resolved." in texts(sent)
    assert the_thread(chat).state is ThreadState.RESOLVED
    await chat.drain()
    assert L._("marked the question resolved.") in chat.api.messages_to(NCP)[-1].text
    # reopened: the NCPs are told, and the officer's next line goes to them
    await chat.tap(SEC, qb.Reopen, thread=thread.id)
    assert the_thread(chat).state is ThreadState.REOPENED
    await chat.say(SEC, "One more thing: which border post?")
    await chat.drain()
    assert "which border post?" in chat.api.messages_to(NCP)[-1].text


async def test_a_flag_asked_and_said_correct_is_explained_when_resolved(chat, store):
    await bind(chat, NCP, "KE", "fr")
    await chat.press(NCP, pack(Go("TF-10")), language_code="fr")
    await chat.say(NCP, "2000", language_code="fr")
    await chat.say(NCP, "1000", language_code="fr")
    await chat.tap(NCP, KeepFigures, kpi="TF-10", language_code="fr")
    await chat.tap(NCP, Confirm, kpi="TF-10", language_code="fr")
    await chat.say(SEC, "/checks")
    await chat.tap(SEC, FlagAsk)
    await chat.tap(SEC, qb.SendAsIs)  # the check's own question
    await chat.drain()
    thread = the_thread(chat)
    assert "(2\u202f000)" in chat.api.messages_to(NCP)[-1].text  # the finding, in French
    await chat.tap(NCP, qb.Correct, thread=thread.id, language_code="fr")
    await chat.say(NCP, "Les manifestes comptent comme déclarations électroniques.", language_code="fr")
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.justification == "Les manifestes comptent comme déclarations électroniques."
    await chat.drain()
    await chat.tap(SEC, qb.Resolve, thread=thread.id)
    [flag] = store.flags(chat.cycle.id, member="KE")
    assert flag.state is FlagState.EXPLAINED


async def submit(chat: Chat, user: int = NCP, language: str = "en") -> str:
    """Submits the Member's answers; the receipt's digest."""
    await chat.say(user, "/submit", language_code=language)
    sent = await chat.tap(user, SubmitNow, language_code=language)
    return digest_in(sent[-1].text)


def digest_in(text: str) -> str:
    found = re.search(r"[0-9a-f]{64}", text)
    assert found is not None, text
    return found.group(0)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_a_question_on_a_submitted_member_is_answered_without_reopening(chat, store, language):
    L = lang(language)
    await bind(chat, NCP, "KE", language)
    seed_tf04(chat)
    await submit(chat, language=language)
    sent = await chat.say(SEC, f"/ask KE TF-04 {QUESTION}")
    sent = await chat.tap(SEC, qb.AskAbout, choice=1)
    assert "/reopen" not in texts(sent) and "Sent to 1 NCP of Kenya" in texts(sent)
    await chat.drain()
    received = chat.api.messages_to(NCP)[-1]
    assert L._("Ask to change this KPI") in received.button_labels()
    sent = await chat.say(NCP, REPLIES[language], language_code=language)
    assert L._("Sent to the WCO Secretariat.") in texts(sent)
    await chat.drain()
    assert REPLIES[language] in chat.api.messages_to(SEC)[-1].text
    assert store.submission(chat.cycle.id, "KE").locked
    assert "reopen" not in [r.action for r in store.audit_log(chat.cycle.id, "KE")]
    # /next of a submitted Member: nothing waits now, and the answers stay locked
    sent = await chat.say(NCP, "/next", language_code=language)
    assert "/review" in texts(sent) and store.submission(chat.cycle.id, "KE").locked


async def ask_to_change_tf02(chat: Chat, language: str = "en") -> tuple[str, int]:
    """Kenya's NCP submitted TF-02 and asks to change it from /review; (old digest, request id)."""
    L = lang(language)
    await bind(chat, NCP, "KE", language)
    await chat.press(NCP, pack(Go("TF-02")), language_code=language)
    await chat.say(NCP, "1300", language_code=language)
    await chat.say(NCP, "1000", language_code=language)
    await chat.tap(NCP, Confirm, kpi="TF-02", language_code=language)
    digest = await submit(chat, language=language)
    await chat.say(NCP, "/review", language_code=language)
    sent = await chat.tap(NCP, OpenKpi, kpi="TF-02", language_code=language)
    assert L._("Ask to change this KPI") in sent[-1].button_labels()
    await chat.tap(NCP, qb.AskChange, kpi="TF-02", language_code=language)
    sent = await chat.say(NCP, "We counted expired certificates: the right figure is 1,200.", language_code=language)
    told = L._("Sent to the WCO Secretariat: you will be told when they approve or decline the change to {kpi}.")
    assert told.format(kpi="TF-02") in texts(sent)
    assert chat.cycle is not None
    [request] = ThreadStore(chat.store).change_requests(chat.cycle.id, "KE")
    assert request.state is ChangeState.REQUESTED
    await chat.drain()
    notice = chat.api.messages_to(SEC)[-1]
    assert "asks to change this KPI" in notice.text and "expired certificates" in notice.text
    assert notice.button_labels()[:2] == ["Approve", "Decline"]
    return digest, request.id


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_ask_to_change_approved_reopens_that_kpi_only_and_issues_a_new_receipt(chat, store, language):
    L = lang(language)
    await chat.say(SEC, "/notify on")
    old_digest, request_id = await ask_to_change_tf02(chat, language)
    sent = await chat.tap(SEC, qb.Approve, request=request_id)
    assert "Approved" in texts(sent)
    data = store.member_data(chat.cycle.id, "KE")
    assert data.locked and data.amending == {"TF-02"}
    assert data.states["TF-02"].status is KpiState.IN_PROGRESS
    await chat.drain()
    assert (
        L._("approved the change: the KPI is open to be changed and confirmed again.")
        in chat.api.messages_to(NCP)[-1].text
    )
    # another KPI stays locked
    sent = await chat.press(NCP, pack(Go("TF-03")), language_code=language)
    await chat.say(NCP, "5000", language_code=language)
    assert "tf_aeo_trade_value" not in store.answers(chat.cycle.id, "KE")
    # the NCP changes TF-02 and confirms it again
    sent = await chat.say(NCP, "/next", language_code=language)
    assert "TF-02" in texts(sent)  # /next goes to the KPI open for change
    sent = await chat.press(NCP, pack(EditFigure("TF-02", 0)), language_code=language)
    assert L._("Question {i} of {n}").format(i=1, n=2) in texts(sent)
    await chat.say(NCP, "1200", language_code=language)
    sent = await chat.tap(NCP, Confirm, kpi="TF-02", language_code=language)
    said = texts(sent)
    done = L._("{kpi} is confirmed again: your submission for {year} is amended. Here is the new receipt.")
    assert done.format(kpi="TF-02", year=2025) in said
    new_digest = digest_in(sent[-1].text)
    assert sent[-1].method == "sendDocument" and new_digest != old_digest
    data = store.member_data(chat.cycle.id, "KE")
    assert data.locked and not data.amending and data.submission.amended_at is not None
    assert data.answers["tf_aeo_valid"].value == "1200" and data.states["TF-02"].status is KpiState.CONFIRMED
    [request] = ThreadStore(store).change_requests(chat.cycle.id, "KE")
    assert (request.state, request.digest) == (ChangeState.AMENDED, new_digest)
    actions = [r.action for r in store.audit_log(chat.cycle.id, "KE")]
    assert {"change.request", "change.approve", "amend.done", "thread.amended"} <= set(actions)
    assert "reopen" not in actions
    await chat.drain()
    assert any("amended TF-02" in m.text for m in chat.api.messages_to(SEC))  # /notify on
    # the KPI is locked again
    await chat.press(NCP, pack(EditFigure("TF-02", 0)), language_code=language)
    await chat.say(NCP, "900", language_code=language)
    assert store.answers(chat.cycle.id, "KE")["tf_aeo_valid"].value == "1200"


async def test_ask_to_change_declined_changes_nothing(chat, store):
    _, request_id = await ask_to_change_tf02(chat)
    before = store.member_data(chat.cycle.id, "KE")
    sent = await chat.tap(SEC, qb.Decline, request=request_id)
    assert "Declined" in texts(sent)
    await chat.drain()
    assert "declined the change" in chat.api.messages_to(NCP)[-1].text
    after = store.member_data(chat.cycle.id, "KE")
    assert after.answers == before.answers and after.states == before.states and after.locked
    assert not after.amending
    [request] = ThreadStore(store).change_requests(chat.cycle.id, "KE")
    assert request.state is ChangeState.DECLINED
    assert the_thread(chat).state is ThreadState.RESOLVED
    sent = await chat.press(NCP, pack(EditFigure("TF-02", 0)))
    assert "locked" in texts(sent)


def snapshot(store: Store, chat: Chat) -> tuple:
    assert chat.cycle is not None
    t = ThreadStore(store)
    every = t.threads(chat.cycle.id)
    return (
        every,
        [t.messages(x.id) for x in every],
        t.change_requests(chat.cycle.id),
        store.member_data(chat.cycle.id, "KE"),
        [r for r in store.audit_log() if r.action not in ("button", "command")],
        store.outbox_counts(),
    )


async def test_stale_and_forged_presses_on_thread_buttons_change_nothing(chat, store):
    thread = await ask_about_customs(chat)
    await bind(chat, OTHER_NCP, "BE")
    old_version = thread.version
    await chat.say(NCP, "It does not.")
    await chat.tap(SEC, qb.Reply, thread=thread.id, asker=True)
    await chat.say(SEC, "And the inland depots?")
    await chat.drain()
    before = snapshot(store, chat)
    current = the_thread(chat).version
    forged = [
        # another Member's NCP, on Kenya's thread
        (OTHER_NCP, pack(qb.Reply(thread.id, current, False))),
        (OTHER_NCP, pack(qb.Correct(thread.id, current))),
        (OTHER_NCP, pack(qb.OpenFigure(thread.id, 0))),
        (OTHER_NCP, pack(qb.History(thread.id, False))),
        (OTHER_NCP, pack(qb.AskChange("TF-04", thread.id))),
        # Kenya's NCP, from an older state of the thread, or as the Secretariat
        (NCP, pack(qb.Correct(thread.id, old_version))),
        (NCP, pack(qb.Resolve(thread.id, current))),
        (NCP, pack(qb.History(thread.id, True))),
        (NCP, pack(qb.Approve(1, current))),
        # the officer, from an older state; a thread that does not exist; a choice with no draft
        (SEC, pack(qb.Resolve(thread.id, old_version))),
        (SEC, pack(qb.Reopen(thread.id, current))),
        (SEC, pack(qb.Resolve(thread.id + 7, current))),
        (SEC, pack(qb.AskAbout(1), Stamp(chat.cycle.id, 999))),
        (SEC, pack(qb.SendAnyway(), Stamp(chat.cycle.id, 999))),
        (NCP, pack(qb.ReplyTo(thread.id), Stamp(chat.cycle.id, 999))),
        (SEC, "qs:1"),
        (SEC, f"qs:{thread.id}:{current}:9"),
    ]
    for user, data in forged:
        sent = await chat.press(user, data)
        said = texts(sent)
        assert CRASH not in said, data
        assert "Resolved" not in said and "Sent to" not in said, data
        if user == OTHER_NCP:
            assert "It does not." not in said and QUESTION not in said, data  # nothing of Kenya's shown
    await chat.drain()
    assert snapshot(store, chat)[:5] == before[:5]
    assert not any("It does not" in m.text or QUESTION in m.text for m in chat.api.messages_to(OTHER_NCP))
    # and a press delivered twice acts once
    resolve = pack(qb.Resolve(thread.id, current))
    update = chat.api.press(SEC, resolve)
    await chat.replay(update)
    await chat.replay(update)
    thread = the_thread(chat)
    assert thread.state is ThreadState.RESOLVED
    assert kinds_of(chat, thread).count(MessageKind.RESOLVED) == 1


async def test_a_question_naming_another_member_waits_for_send_anyway(chat):
    await bind(chat, NCP, "KE")
    seed_tf04(chat)
    await chat.say(SEC, "/ask KE TF-04 France reports half your time: is yours right?")
    sent = await chat.tap(SEC, qb.AskAbout, choice=0)
    assert "names France" in texts(sent) and not threads(chat)
    sent = await chat.tap(SEC, qb.SendAnyway)
    assert "Sent to 1 NCP" in texts(sent) and len(threads(chat)) == 1


async def test_text_while_several_questions_wait_asks_which_one(chat):
    await bind(chat, NCP, "KE")
    seed_tf04(chat)
    for choice in (1, 2):
        await chat.say(SEC, f"/ask KE TF-04 Question {choice}?")
        await chat.tap(SEC, qb.AskAbout, choice=choice)
    sent = await chat.say(NCP, "Both figures come from the same study.")
    assert "Which one does your text answer?" in texts(sent)
    assert all(t.state is ThreadState.OPEN for t in threads(chat))
    second = threads(chat)[0]
    await chat.tap(NCP, qb.ReplyTo, thread=second.id)
    assert {t.id: t.state for t in threads(chat)}[second.id] is ThreadState.ANSWERED
    assert kinds_of(chat, the_thread_by(chat, second.id))[-1] is MessageKind.REPLY


def the_thread_by(chat: Chat, thread_id: int) -> Thread:
    return next(t for t in threads(chat) if t.id == thread_id)


async def test_a_figure_typed_on_the_figures_screen_is_the_figure_not_a_reply(chat, store):
    thread = await ask_about_customs(chat)
    await chat.tap(NCP, qb.OpenFigure, thread=thread.id)
    sent = await chat.say(NCP, "30")
    assert "Saved" in texts(sent)
    assert store.answers(chat.cycle.id, "KE")[CUSTOMS].value == "30"
    thread = the_thread(chat)
    assert kinds_of(chat, thread)[-1] is MessageKind.FIGURE and thread.state is ThreadState.ANSWERED
    sent = await chat.say(NCP, "what is AEO?")  # a question about a KPI is still explained
    assert "Sent to the WCO Secretariat" not in texts(sent)


async def test_questions_lists_newest_first_in_pages_with_counts_in_status(chat):
    await bind(chat, NCP, "KE")
    await bind(chat, OTHER_NCP, "BE")
    seed_tf04(chat)
    seed_tf04(chat, "BE", OTHER_NCP)
    for n in range(7):
        member = "KE" if n % 2 else "BE"
        await chat.say(SEC, f"/ask {member} TF-04 Question number {n}?")
        await chat.tap(SEC, qb.AskAbout, choice=1 + n % 2)
    sent = await chat.say(SEC, "/questions")
    said = texts(sent)
    assert "7 questions" in said and "Page 1 of 2" in said
    assert said.index("Question number 6") < said.index("Question number 5")  # newest first
    sent = await chat.tap(SEC, qb.Page, page=1)
    assert "Page 2 of 2" in texts(sent)
    sent = await chat.say(SEC, "/questions KE")
    assert "3 questions" in texts(sent) and "BE ·" not in texts(sent)
    sent = await chat.say(SEC, "/questions resolved")
    assert "No question matches." in texts(sent)
    sent = await chat.say(SEC, "/status")
    assert "Questions: 7 waiting for the NCP, 0 answered, 0 resolved" in texts(sent)
    # an NCP sees their own Member's only, whatever a forged page button says
    sent = await chat.say(NCP, "/questions")
    assert "3 questions" in texts(sent)
    sent = await chat.press(NCP, pack(qb.Page("BE", "-", "all", 0)))
    assert "3 questions" in texts(sent) and "Question number 0" not in texts(sent)
    sent = await chat.say(NCP, "/questions BE")
    assert "Usage" in texts(sent)


async def test_a_member_view_offers_to_ask_its_ncps(chat):
    await bind(chat, NCP, "KE")
    seed_tf04(chat)
    sent = await chat.say(SEC, "/member KE")
    assert "Ask its NCPs" in sent[-1].button_labels()
    await chat.tap(SEC, qb.AskMember, member="KE")
    sent = await chat.say(SEC, "TF-04 How were the declarations sampled?")
    assert "Which figure of Kenya" in texts(sent)
    await chat.tap(SEC, qb.AskAbout, choice=2)
    thread = the_thread(chat)
    assert thread.data_point == "tf_import_release_declarations"


async def test_long_and_astral_texts_fit_telegrams_limits(chat):
    await bind(chat, NCP, "KE")
    seed_tf04(chat)
    long = "📨 Is this right? " * 200  # 3,400 characters, 3,600 UTF-16 units: under Telegram's 4,096
    sent = await chat.say(SEC, f"/ask KE TF-04 {long}")
    assert "cut to its first 2,000 characters" in texts(sent)
    await chat.tap(SEC, qb.AskAbout, choice=1)
    await chat.drain()
    for _ in range(6):
        await chat.say(NCP, "🙂" * 1990)
        await chat.tap(SEC, qb.Reply, thread=the_thread(chat).id, asker=True)
        await chat.say(SEC, "📨" * 1990)
    await chat.drain()
    sent = await chat.tap(SEC, qb.History, thread=the_thread(chat).id, asker=True)
    assert len(sent) > 3  # split, each part accepted by the strict fake Bot API
    assert CRASH not in said_to(chat, SEC) + said_to(chat, NCP)
    assert chat.store.outbox_counts().get("failed", 0) == 0


async def test_notify_modes_and_the_daily_digest(chat, store, clock):
    from conversations.questions import notify

    await chat.say(SEC, "/notify")
    assert "one digest a day" in chat.api.messages_to(SEC)[-1].text  # the default
    await bind(chat, NCP, "KE")
    seed_tf04(chat)
    await submit(chat)
    await chat.drain()
    assert not any("submitted its PMM" in m.text for m in chat.api.messages_to(SEC))
    queued = notify.send_digest(chat.app.bot_data, clock.now.replace(hour=10))
    await chat.drain()
    assert queued == 1 and "Kenya submitted its PMM 2025 answers." in chat.api.messages_to(SEC)[-1].text
    assert notify.send_digest(chat.app.bot_data, clock.now.replace(hour=11)) == 0  # once a day
    await chat.say(SEC, "/notify on")
    await bind(chat, OTHER_NCP, "BE")
    await submit(chat, OTHER_NCP)
    await chat.drain()
    assert "Belgium submitted its PMM 2025 answers." in chat.api.messages_to(SEC)[-1].text
    await chat.say(SEC, "/notify off")
    sent = await chat.say(NCP, "/notify off")
    assert "Secretariat only" in texts(sent)


async def test_the_export_has_a_questions_sheet(chat, store):
    import io

    import openpyxl

    thread = await ask_about_customs(chat)
    await chat.tap(NCP, qb.OpenFigure, thread=thread.id)
    await chat.say(NCP, "30")
    await chat.tap(NCP, qb.Reply, thread=thread.id)  # answered now: more text goes through Reply
    await chat.say(NCP, '=HYPERLINK("http://x") it was 30 all along')
    sent = await chat.say(SEC, "/export")
    document = next(m for m in sent if m.method == "sendDocument")
    book = openpyxl.load_workbook(io.BytesIO(document.params["document"]["data"]))
    assert "Questions" in book.sheetnames
    rows = list(book["Questions"].iter_rows(values_only=True))
    header, row = rows[0], rows[1]
    values = dict(zip(header, row, strict=True))
    assert values["ISO code"] == "KE" and values["Member"] == "Kenya" and values["KPI"] == "TF-04"
    assert values["Data point"] == "Import release time: Customs"
    assert (values["Figure when asked"], values["Figure now"]) == (45, 30)
    assert values["State"] == "answered" and values["Messages"] == 3
    dialogue = values["Dialogue"]
    assert QUESTION in dialogue and "45 min → 30 min" in dialogue and "WCO Secretariat" in dialogue
    assert "it was 30 all along" in dialogue
    assert all(cell.data_type != "f" for r in book["Questions"].iter_rows() for cell in r)  # no formula injected


async def test_status_marks_an_amended_submission(chat, store):
    _, request_id = await ask_to_change_tf02(chat)
    await chat.tap(SEC, qb.Approve, request=request_id)
    await chat.press(NCP, pack(EditFigure("TF-02", 0)))
    await chat.say(NCP, "1200")
    await chat.tap(NCP, Confirm, kpi="TF-02")
    sent = await chat.say(SEC, "/status")
    assert "Kenya — submitted (a KPI amended since)" in texts(sent)


async def test_an_ncp_reads_no_statistic_and_no_other_member(chat, store):
    """An outlier flag carries the median of the other Members' results; the officer sees it
    in /checks, the Kenyan NCP asked about the flag reads only Kenya's own figures."""
    from pmm_core.catalog.members import Member

    store.import_members([Member("DE", "eur"), Member("ES", "eur"), Member("IT", "eur")])
    await bind(chat, NCP, "KE", "fr")
    values = {"BE": 100, "FR": 110, "DE": 120, "ES": 130, "IT": 140, "KE": 900}
    for member, inspected in values.items():
        store.apply(
            ChangeSet(
                SEC,
                chat.cycle.id,
                member,
                answers={"tf_air_passengers_inspected": str(inspected), "tf_air_passengers": "1000"},
                kpis={"TF-07": KpiChange(KpiState.CONFIRMED)},
                by_secretariat=True,
            )
        )
    sent = await chat.say(SEC, "/checks KE")
    assert "median" in texts(sent).lower()  # the Secretariat sees the group's statistic
    await chat.tap(SEC, FlagAsk)
    await chat.say(SEC, "Is 90 % right for Kenya?")
    await chat.drain()
    received = chat.api.messages_to(NCP)[-1].text
    assert "90" in received and "Is 90 % right" in received
    assert "12,5" not in received and "12.5" not in received and "médiane" not in received.lower()
    for other in ("BE", "FR", "DE", "ES", "IT"):
        assert store.member(other).name("fr") not in received


async def test_the_catch_up_job_delivers_what_a_crash_left_and_sends_a_missed_digest(chat, store, clock):
    """A reply stored just before a crash (never delivered), and a digest whose hour passed
    while the bot was down: the scheduler's job sends both, once."""
    from bot.scheduler import questions_job
    from pmm_core.domain.threads import AuthorRole
    from pmm_core.storage.thread_store import Act

    thread = await ask_about_customs(chat)
    result = ThreadStore(store).post(
        Act(NCP, AuthorRole.NCP, "en", key="crash"), thread.id, MessageKind.REPLY, "Stored, then the bot died."
    )
    assert result.applied and ThreadStore(store).has_undelivered()
    await submit(chat)  # a submission for the digest (the officer is on the default: digest)
    ThreadStore(store).post(Act(NCP, AuthorRole.NCP, "en", key="crash2"), thread.id, MessageKind.REPLY, "Once more.")
    clock.now = clock.now.replace(hour=23)
    context: Any = SimpleNamespace(application=chat.app)
    await questions_job(context)
    await questions_job(context)
    await chat.drain()
    to_officer = [m.text for m in chat.api.messages_to(SEC)]
    assert sum("Stored, then the bot died." in t for t in to_officer) == 1
    assert sum("Once more." in t for t in to_officer) == 1
    assert sum("Kenya submitted its PMM 2025 answers." in t for t in to_officer) == 1


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_open_the_figure_of_a_flag_on_breakdown_parts_opens_each_part(chat, store, catalog, language):
    """Parts over their total are filed under the total (a main figure); the question's "Open
    the figure" lists the total and its breakdown parts, and each opens exactly that figure."""
    await bind(chat, NCP, "KE", language)
    store.apply(
        ChangeSet(
            NCP,
            chat.cycle.id,
            "KE",
            answers={
                "tf_import_release_minutes": "100",
                "tf_import_release_declarations": "10",
                "tf_import_release_minutes_business": "80",
                CUSTOMS: "70",
            },
        )
    )
    await chat.say(SEC, "/checks KE")
    await chat.tap(SEC, FlagAsk)
    await chat.tap(SEC, qb.SendAsIs)
    await chat.drain()
    thread = the_thread(chat)
    assert thread.data_point == "tf_import_release_minutes"  # the flag's figure: the total
    sent = await chat.tap(NCP, qb.OpenFigure, language_code=language, thread=thread.id, figure=0)
    labels = sent[-1].button_labels()
    assert len(labels) == 3  # the total, and the two parts given
    assert any(catalog.data_points[CUSTOMS].label.get(language).split(":")[-1].strip() in label for label in labels)
    customs = next(d for d, label in zip(sent[-1].button_data(), labels, strict=True) if "70" in label)
    sent = await chat.press(NCP, customs, language_code=language)
    assert catalog.data_points[CUSTOMS].question.get(language) in texts(sent)
    # the legacy list of /next (flags asked before questions existed) opens each part too
    from conversations.flags import flow as flags

    [flag] = store.flags(chat.cycle.id, member="KE")
    session = SimpleNamespace(catalog=catalog, lang=lang(language))
    rows = flags.open_buttons(session, flag)  # type: ignore[arg-type]
    assert [type(b).__name__ for row in rows for _, b in row] == ["OpenFigure"] * 3


HOSTILE = [
    "<b>bold</b> & <script>alert(1)</script>",
    "&amp; &lt; &#128512; &nosuch;",
    "\u202eevil\u202c right-to-left \u200b\u200d",
    "a\x00b\x07c\x1bd",
    "=CMD|' /C calc'!A0",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 " * 300,
    "\n\n\n\n  \t ",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_replies_are_kept_escaped_and_fit(chat, text):
    thread = await ask_about_customs(chat)
    sent = await chat.say(NCP, text)
    assert CRASH not in texts(sent)
    await chat.drain()
    stored = [m for m in ThreadStore(chat.store).messages(thread.id) if m.kind is MessageKind.REPLY]
    if text.strip():
        [reply] = stored
        assert len(reply.text) <= 2000 and "\x00" not in reply.text
        notice = chat.api.messages_to(SEC)[-1].text
        assert "<script>" not in notice  # escaped
    else:
        assert not stored  # nothing to send
    await chat.tap(SEC, qb.History, thread=thread.id, asker=True)
    assert CRASH not in said_to(chat, SEC) + said_to(chat, NCP)
    assert chat.store.outbox_counts().get("failed", 0) == 0  # every message was accepted by the strict fake API


async def test_each_question_action_is_one_transaction(chat, store):
    """The message, the thread's state, the writer's next step, the audit rows and the
    messages to the other side's outbox commit together: one COMMIT per action (a Secretariat
    button's audit row of the press comes before, as for every Secretariat button)."""
    from tests.test_transactions import commits

    await bind(chat, NCP, "KE")
    seed_tf04(chat)
    await chat.say(SEC, f"/ask KE TF-04 {QUESTION}")
    assert await commits(store, lambda: chat.tap(SEC, qb.AskAbout, choice=1)) == 1
    assert store.outbox_counts().get("pending", 0) == 1  # the NCP's copy, queued with it
    assert await commits(store, lambda: chat.say(NCP, "Yes, inland depots included.")) == 1
    thread = the_thread(chat)
    await chat.tap(SEC, qb.Reply, thread=thread.id, asker=True)
    assert await commits(store, lambda: chat.say(SEC, "Thanks: which depots?")) == 1
    await chat.drain()
    await chat.tap(NCP, qb.Correct, thread=thread.id)
    assert await commits(store, lambda: chat.say(NCP, "All of them, as the method says.")) == 1
    await chat.drain()
    # a Secretariat button is audited first (kit.roles), as /reopen's command is: then the action
    assert await commits(store, lambda: chat.tap(SEC, qb.Resolve, thread=thread.id)) == 2
    assert the_thread(chat).state is ThreadState.RESOLVED
