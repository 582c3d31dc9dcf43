"""Opening a thread: the Secretariat writes its own question to a Member's NCPs.

Three ways in, one draft (``DraftingQuestion``):

- ``/ask <Member> <KPI> <question>`` — then the figure, by buttons (the KPI as a whole, a
  main figure or a breakdown figure): one message and one press;
- "Ask" on a flag of ``/checks`` — the figure is the flag's; type a question, or send the
  check's own (the NCPs read the check's finding either way);
- "Ask its NCPs" on a Member's view (``/member BE``) — type the KPI and the question.

A question that names another Member waits for "Send anyway". Sending stores the thread, its
first message and the asker's next step in one transaction, then delivers it at once.
"""

from __future__ import annotations

import html
import re

from conversations.kit.send import Row, send
from conversations.kit.session import Session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc
from conversations.questions import buttons as qb
from conversations.questions import deliver, texts
from conversations.questions.steps import DraftingQuestion
from conversations.staff.tools import find_member
from pmm_core.catalog.models import Kpi
from pmm_core.domain.records import Flag
from pmm_core.domain.threads import (
    MAX_TEXT,
    AuthorRole,
    ThreadState,
    clean_text,
    covered_points,
    figure_choices,
    other_members_named,
)
from pmm_core.storage.base import Outcome
from pmm_core.storage.thread_store import Act

_KPI = re.compile(r"^[A-Za-z]{2}-\d{2}$")
UNSETTLED = (ThreadState.OPEN, ThreadState.ANSWERED, ThreadState.REOPENED)


def usage(s: Session) -> str:
    return esc(
        s.lang._(
            "Usage: /ask <Member> <KPI> <your question>, e.g. /ask KE TF-04 Does the release time include inland clearance?"
        )
    )


def split_kpi(s: Session, words: list[str]) -> tuple[list[str], Kpi | None, list[str]]:
    """(words before the KPI, the KPI, words after it) of a command's words."""
    for i, word in enumerate(words):
        if _KPI.match(word) and word.upper() in s.catalog.kpi_by_id:
            return words[:i], s.catalog.kpi(word.upper()), words[i + 1 :]
    return words, None, []


def _rest_after(text: str, count: int) -> str:
    """The text after its first `count` words, line breaks kept."""
    rest = text
    for _ in range(count):
        rest = rest.lstrip().split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else ""
    return rest.strip()


async def on_ask(s: Session, raw: str) -> None:
    """/ask <Member> <KPI> <question>: drafts the question, then asks which figure."""
    assert s.cycle is not None
    words = raw.split()[1:]  # without the command
    before, kpi, after = split_kpi(s, words)
    member = find_member(s.store.members(), " ".join(before)) if before else None
    if member is None or kpi is None:
        await send(s, usage(s))
        return
    text, cut = clean_text(_rest_after(raw, 1 + len(before) + 1)) if after else ("", False)
    draft = DraftingQuestion(member=member.iso2, kpi=kpi.id, text=text)
    await _continue(s, draft, cut)


async def from_flag(s: Session, flag: Flag, rev: str) -> None:
    """ "Ask" on a flag: the thread already open on it, or a draft on the flag's figure."""
    assert s.cycle is not None
    store = texts.store_of(s)
    existing = [
        t for t in store.threads(s.cycle.id, member=flag.member, kpi=flag.kpi, states=UNSETTLED) if t.flag_id == flag.id
    ]
    if existing:
        thread = existing[0]
        change = store.request_of_thread(thread.id)
        await send(
            s,
            s.lang._("The NCPs were already asked about this flag; here is the question:")
            + "\n"
            + texts.subject(s.lang, s.catalog, thread),
            texts.secretariat_rows(s.lang, thread, change),
        )
        return
    kpi = s.catalog.kpi_by_id.get(flag.kpi)
    if kpi is None:
        return
    choices = figure_choices(s.catalog, kpi)
    figure = choices.index(flag.data_point) if flag.data_point in choices else 0
    draft = DraftingQuestion(member=flag.member, kpi=kpi.id, figure=figure, flag=flag.id, flag_rev=rev)
    s.go(ConversationState(step=draft, cycle=s.cycle.id))
    L = s.lang
    name = texts.figure_name(L, s.catalog, kpi, choices[figure])
    await send(
        s,
        L._(
            "Type your question to the NCPs of {member} about {kpi} — {figure}. They will also read what the check found."
        ).format(member=esc(_member_name(s, flag.member)), kpi=kpi.id, figure=name),
        [[(L._("Send the check's question"), qb.SendAsIs())]],
    )


async def from_member(s: Session, member: str) -> None:
    """ "Ask its NCPs" on a Member's view: the KPI and the question are typed next."""
    assert s.cycle is not None
    s.go(ConversationState(step=DraftingQuestion(member=member), cycle=s.cycle.id))
    await send(
        s,
        s.lang._(
            "Type the KPI and your question to the NCPs of {member}, e.g. TF-04 Does the release time include inland clearance?"
        ).format(member=esc(_member_name(s, member))),
    )


async def on_text(s: Session, text: str) -> None:
    """A text typed while a question is drafted: the KPI and question, or the question."""
    step = s.state.step
    assert isinstance(step, DraftingQuestion)
    if not step.kpi:
        _, kpi, _ = split_kpi(s, text.split()[:1])
        if kpi is None:
            await send(s, s.lang._("Start with the KPI, e.g. TF-04, then your question."))
            return
        body, cut = clean_text(_rest_after(text, 1))
        await _continue(s, step.model_copy(update={"kpi": kpi.id, "text": body}), cut)
        return
    body, cut = clean_text(text)
    await _continue(s, step.model_copy(update={"text": body, "warned": False}), cut)


async def _continue(s: Session, draft: DraftingQuestion, cut: bool) -> None:
    """The draft's next need: its text, its figure, a second thought, or sending."""
    assert s.cycle is not None
    L = s.lang
    note = (
        ("ℹ️ " + L._("Your text was cut to its first {n} characters.").format(n=L.number(MAX_TEXT)) + "\n")
        if cut
        else ""
    )
    if not draft.text and not draft.flag:
        s.go(ConversationState(step=draft, cycle=s.cycle.id))
        await send(
            s,
            L._("Type your question to the NCPs of {member} about {kpi}.").format(
                member=esc(_member_name(s, draft.member)), kpi=draft.kpi
            ),
        )
        return
    if draft.figure < 0:
        s.go(ConversationState(step=draft, cycle=s.cycle.id))
        await _choose_figure(s, draft, note)
        return
    named = other_members_named(draft.text, draft.member, s.store.members())
    if named and not draft.warned:
        s.go(ConversationState(step=draft.model_copy(update={"warned": True}), cycle=s.cycle.id))
        await send(
            s,
            note
            + "⚠️ "
            + L._(
                "Your text names {others}. The NCPs of {member} may not read other Members' figures: check it, then send it anyway or type it again."
            ).format(
                others=esc(", ".join(m.name(L.code) for m in named[:5])), member=esc(_member_name(s, draft.member))
            ),
            [[(L._("Send anyway"), qb.SendAnyway())]],
        )
        return
    await _send(s, draft, note)


async def _choose_figure(s: Session, draft: DraftingQuestion, note: str) -> None:
    assert s.cycle is not None
    L = s.lang
    kpi = s.catalog.kpi(draft.kpi)
    answers = s.store.answers(s.cycle.id, draft.member)
    rows: list[Row] = []
    for i, dp_id in enumerate(figure_choices(s.catalog, kpi)):
        value = texts.show_figure(L, s.catalog, kpi, dp_id, texts.current_figure(s.catalog, answers, kpi, dp_id))
        name = _plain(texts.figure_name(L, s.catalog, kpi, dp_id, short_form=True))
        rows.append([(texts.button_label(L, name, value), qb.AskAbout(i))])
    await send(
        s,
        note
        + L._("Which figure of {member} is your question about?").format(member=esc(_member_name(s, draft.member)))
        + "\n"
        + texts.kpi_title(kpi, L),
        rows,
    )


async def on_button(s: Session, b: qb.AskAbout | qb.SendAsIs | qb.SendAnyway) -> None:
    """A press on the draft's screen (the figure, Send as is, Send anyway)."""
    step = s.state.step
    assert isinstance(step, DraftingQuestion) and s.cycle is not None
    if isinstance(b, qb.AskAbout):
        kpi = s.catalog.kpi_by_id.get(step.kpi)
        if kpi is None or step.figure >= 0 or b.choice >= len(figure_choices(s.catalog, kpi)):
            await _stale(s)
            return
        await _continue(s, step.model_copy(update={"figure": b.choice}), False)
    elif isinstance(b, qb.SendAsIs):
        if not step.flag or step.figure < 0:
            await _stale(s)
            return
        await _send(s, step, "")
    else:
        if not step.warned or step.figure < 0:
            await _stale(s)
            return
        await _send(s, step, "")


async def _send(s: Session, draft: DraftingQuestion, note: str) -> None:
    """Stores the thread and its question with the asker's next step, then delivers it."""
    assert s.cycle is not None
    L = s.lang
    kpi = s.catalog.kpi_by_id.get(draft.kpi)
    flag = s.store.flag(draft.flag) if draft.flag else None
    if kpi is None or (
        draft.flag and (flag is None or _flag_rev(flag) != draft.flag_rev or flag.cycle_id != s.cycle.id)
    ):
        s.go(ConversationState(cycle=s.cycle.id))
        await send(
            s, L._("This flag changed since this screen was shown; nothing was done. /checks shows it as it is now.")
        )
        return
    dp = figure_choices(s.catalog, kpi)[draft.figure]
    figure = texts.current_figure(s.catalog, s.store.answers(s.cycle.id, draft.member), kpi, dp)
    act = Act(
        s.user.telegram_id,
        AuthorRole.SECRETARIAT,
        L.code,
        key=s.key,
        conversation=ConversationState(step=Idle(), cycle=s.cycle.id).to_json(),
        expect_screen=s.screen,
        render=deliver.renderer(s.bot),
    )
    result = texts.store_of(s).open_thread(
        act,
        cycle_id=s.cycle.id,
        member=draft.member,
        kpi=kpi.id,
        data_point=dp,
        points=covered_points(s.catalog, kpi, dp),
        text=draft.text,
        figure=figure,
        flag_id=flag.id if flag else None,
    )
    s.reload()
    if result.outcome is Outcome.DUPLICATE:
        await send(s, L._("This question was already sent."))
        return
    if not result.applied or result.thread is None:
        await _stale(s)
        return
    s.bot.outbox.wake()  # the question to the NCPs was queued with it
    count = len(deliver.ncps(s.store, draft.member))
    member = esc(_member_name(s, draft.member))
    if count:
        said = L.ngettext("Sent to {n} NCP of {member}.", "Sent to {n} NCPs of {member}.", count).format(
            n=count, member=member
        )
    else:
        said = L._("{member} has no NCP yet (/invite {code}): the question is kept for them.").format(
            member=member, code=draft.member
        )
    await send(
        s,
        note
        + "📨 "
        + said
        + "\n"
        + texts.subject(L, s.catalog, result.thread)
        + "\n"
        + L._("Their answer will come here; /questions lists every question."),
        texts.secretariat_rows(L, result.thread, None),
    )


async def _stale(s: Session) -> None:
    await send(s, s.lang._("That button belongs to an earlier screen, so nothing was changed."))


def _flag_rev(flag: Flag) -> str:
    from conversations.flags.flow import revision  # the flag's revision, as /checks shows it (it imports this)

    return revision(flag)


def _member_name(s: Session, iso2: str) -> str:
    member = s.store.member(iso2)
    return member.name(s.lang.code) if member else iso2


def _plain(html_text: str) -> str:
    """A label for a button (buttons are not HTML)."""
    return html.unescape(html_text)


def asked_flags(s: Session) -> set[int]:
    """The flags some thread was opened on (the others are asked the old way, if at all)."""
    assert s.cycle is not None
    return {t.flag_id for t in texts.store_of(s).threads(s.cycle.id) if t.flag_id is not None}
