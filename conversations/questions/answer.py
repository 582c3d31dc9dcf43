"""A thread after its question: replies both ways, "the figure is correct", Resolve, Reopen,
the history, the figure opened exactly, and text typed by an NCP while a question waits.

Who may press what: the asking side's buttons need a Secretariat user; the NCP side's need an
active NCP of the thread's Member (a press on another Member's thread changes nothing and
shows nothing). A button that moves the thread (Resolve, Reopen, The figure is correct)
carries the thread's version and is refused once the thread moved on.

Free text from an NCP while a question waits for them is their reply — unless it answers the
figure on screen, or asks what a KPI means: one question waiting, or one on the KPI on
screen, takes it; with several, the NCP picks which (the text is kept meanwhile).
"""

from __future__ import annotations

import html
import re

from conversations.collect import flow as collect
from conversations.collect.steps import Asking, AwaitingComment, Justifying, ResolvingNumber
from conversations.kit.render import kpi_line
from conversations.kit.send import Row, send
from conversations.kit.session import Session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc, looks_like_question, short
from conversations.questions import buttons as qb
from conversations.questions import deliver, texts
from conversations.questions.steps import ChoosingThread, Writing
from pmm_core.domain.answers import AnswerError, validate
from pmm_core.domain.threads import (
    AuthorRole,
    MessageKind,
    Refusal,
    Side,
    Thread,
    ThreadState,
    clean_text,
    figure_choices,
    other_members_named,
)
from pmm_core.outputs.labels import labelled
from pmm_core.storage.base import Outcome
from pmm_core.storage.thread_store import Act, Result

WAITING = (ThreadState.OPEN, ThreadState.REOPENED)
_LETTERS = re.compile(r"[^\W\d_]{3,}")


# ---- who may act ---------------------------------------------------------------------------


def may(s: Session, thread: Thread | None, side: Side) -> bool:
    """True if the caller may act on `thread` as `side` (in the open cycle): on the NCP side,
    an NCP of the thread's Member, or one of its contributors if the KPI is in their scope."""
    if thread is None or s.cycle is None or thread.cycle_id != s.cycle.id:
        return False
    if side is Side.ASKER:
        return s.is_secretariat
    if s.user.member != thread.member or not s.user.active:
        return False
    return s.user.is_ncp or (s.user.is_contributor and s.delegation is not None and s.in_scope(thread.kpi))


def side_of(asker: bool) -> Side:
    return Side.ASKER if asker else Side.NCP


def role_of(side: Side, s: Session | None = None) -> AuthorRole:
    """The author role of a message of `side` written by the caller of `s`."""
    if side is Side.ASKER:
        return AuthorRole.SECRETARIAT
    return AuthorRole.CONTRIBUTOR if s is not None and s.user.is_contributor else AuthorRole.NCP


async def refused_press(s: Session) -> None:
    """A press on a thread the caller may not act on: one line, nothing shown of it."""
    await send(s, s.lang._("This button is no longer valid."))


async def moved_on(s: Session, thread: Thread, side: Side) -> None:
    """A press from an older state of the thread: nothing done, the thread as it is now."""
    await send(s, "ℹ️ " + s.lang._("This question changed since that message; nothing was done. Here it is now:"))
    await show_thread(s, thread, side)


# ---- showing a thread ----------------------------------------------------------------------


async def show_thread(s: Session, thread: Thread, side: Side) -> None:
    """The history and what the caller's side can do now."""
    store = texts.store_of(s)
    messages = store.messages(thread.id)
    member = s.store.member(thread.member)
    member_name = member.name(s.lang.code) if member else thread.member
    people = deliver.names(s.store, {m.author for m in messages if m.author}) if side is Side.ASKER else {}
    if side is Side.NCP:  # an NCP reads their colleagues' names, never the Secretariat's staff
        people = deliver.names(s.store, {m.author for m in messages if m.author and m.role is AuthorRole.NCP})
    text = texts.history_text(s.lang, s.catalog, thread, messages, member_name, people, for_ncp=side is Side.NCP)
    await send(s, text, rows_for(s, thread, side, history=False))


def rows_for(s: Session, thread: Thread, side: Side, *, history: bool = True) -> list[Row]:
    change = texts.store_of(s).request_of_thread(thread.id)
    if side is Side.ASKER:
        return texts.secretariat_rows(s.lang, thread, change, history)
    locked = s.store.member_data(thread.cycle_id, thread.member).locked
    return texts.ncp_rows(s.lang, thread, locked=locked, change=change, history=history)


async def on_history(s: Session, b: qb.History) -> None:
    thread = texts.store_of(s).thread(b.thread)
    side = side_of(b.asker)
    if thread is None or not may(s, thread, side):
        await refused_press(s)
        return
    await show_thread(s, thread, side)


# ---- writing in a thread ---------------------------------------------------------------------


async def on_reply(s: Session, b: qb.Reply) -> None:
    """Reply: the next text typed is the reply (on an older message: the thread as it is now)."""
    thread = texts.store_of(s).thread(b.thread)
    side = side_of(b.asker)
    if thread is None or not may(s, thread, side):
        await refused_press(s)
        return
    if thread.settled:
        await send(s, s.lang._("This question is resolved; nothing was done."))
        await show_thread(s, thread, side)
        return
    s.go(
        s.state.but(
            Writing(purpose="reply", thread=thread.id, version=thread.version, asker=b.asker, kpi=thread.kpi),
            cycle=s.cycle_id,
        )
    )
    prompt = (
        s.lang._("Type your reply to the WCO Secretariat.")
        if side is Side.NCP
        else s.lang._("Type your reply to the NCPs.")
    )
    lines = [texts.subject(s.lang, s.catalog, thread)]
    last = texts.store_of(s).messages(thread.id)[-1:]
    if b.version != thread.version and last:
        lines.append(
            "ℹ️ " + esc(s.lang._("Since that message:")) + " " + texts.message_text(s.lang, s.catalog, thread, last[0])
        )
    await send(s, "\n".join([*lines, "", "✍️ " + esc(prompt)]))


async def on_correct(s: Session, b: qb.Correct) -> None:
    """The figure is correct: a short explanation is asked next."""
    thread = texts.store_of(s).thread(b.thread)
    if thread is None or not may(s, thread, Side.NCP):
        await refused_press(s)
        return
    if thread.version != b.version or not thread.awaits_ncp:
        await moved_on(s, thread, Side.NCP)
        return
    s.go(
        s.state.but(
            Writing(purpose="correct", thread=thread.id, version=thread.version, kpi=thread.kpi), cycle=s.cycle_id
        )
    )
    await send(
        s,
        texts.subject(s.lang, s.catalog, thread)
        + "\n\n✍️ "
        + esc(
            s.lang._(
                "In a line, why is the figure correct (for example, an exceptional year)? The WCO Secretariat will read it."
            )
        ),
    )


async def on_writing_text(s: Session, text: str) -> None:
    """The text awaited by a Writing step: a reply or the explanation of a correct figure."""
    step = s.state.step
    assert isinstance(step, Writing)
    side = side_of(step.asker)
    thread = texts.store_of(s).thread(step.thread)
    if thread is None or not may(s, thread, side):
        s.go(s.state.but(Idle()))
        await refused_press(s)
        return
    body, cut = clean_text(text)
    if not body:
        await send(s, s.lang._("Type some text, or /cancel."))
        return
    if side is Side.ASKER and not step.warned and other_members_named(body, thread.member, s.store.members()):
        named = other_members_named(body, thread.member, s.store.members())
        s.go(s.state.but(step.model_copy(update={"text": body, "warned": True})))
        await send(
            s,
            "⚠️ "
            + s.lang._(
                "Your text names {others}. The NCPs of {member} may not read other Members' figures: check it, then send it anyway or type it again."
            ).format(
                others=esc(", ".join(m.name(s.lang.code) for m in named[:5])), member=esc(_name(s, thread.member))
            ),
            [[(s.lang._("Send anyway"), qb.SendAnyway())]],
        )
        return
    kind = MessageKind.CORRECT if step.purpose == "correct" else MessageKind.REPLY
    await post(s, thread, side, kind, body, cut=cut, next_step=s.state.but(Idle()))


async def on_send_anyway(s: Session) -> None:
    step = s.state.step
    assert isinstance(step, Writing)
    thread = texts.store_of(s).thread(step.thread)
    if thread is None or not step.warned or not step.text or not may(s, thread, Side.ASKER):
        await send(s, s.lang._("That button belongs to an earlier screen, so nothing was changed."))
        return
    await post(s, thread, Side.ASKER, MessageKind.REPLY, step.text, next_step=s.state.but(Idle()))


async def post(
    s: Session,
    thread: Thread,
    side: Side,
    kind: MessageKind,
    body: str,
    *,
    cut: bool = False,
    next_step: ConversationState | None = None,
    version: int | None = None,
) -> Result:
    """Stores a message with the writer's next step, delivers it, and tells the writer."""
    L = s.lang
    kpi = s.catalog.kpi_by_id.get(thread.kpi)
    figure = (
        texts.current_figure(s.catalog, s.store.answers(thread.cycle_id, thread.member), kpi, thread.data_point)
        if kpi
        else ""
    )
    act = Act(
        s.user.telegram_id,
        role_of(side, s),
        L.code,
        key=s.key,
        conversation=next_step.to_json() if next_step is not None else None,
        render=deliver.renderer(s.bot),
    )
    result = texts.store_of(s).post(act, thread.id, kind, body, figure, version=version)
    s.reload()
    if result.outcome is Outcome.DUPLICATE:
        await send(s, L._("This was already saved."))
        return result
    if not result.applied or result.thread is None:
        if result.refusal is Refusal.RESOLVED:
            await send(s, L._("This question is resolved; nothing was done."))
        if result.thread is not None:
            await moved_on(s, result.thread, side)
        return result
    s.bot.outbox.wake()  # its messages were queued with it
    told = {
        MessageKind.RESOLVED: "✅ " + L._("Resolved."),
        MessageKind.REOPENED: "↩️ " + L._("Reopened: the NCPs are told. Type a message for them if you like."),
    }.get(kind)
    if told is None:
        told = "📨 " + (
            L._("Sent to the WCO Secretariat.")
            if side is Side.NCP
            else L._("Sent to the NCPs of {member}.").format(member=esc(_name(s, thread.member)))
        )
    if cut:
        told += "\n" + L._("Your text was longer than {n} characters: only its beginning was kept.").format(
            n=L.number(len(body))
        )
    await send(s, told + "\n" + texts.subject(L, s.catalog, result.thread), rows_for(s, result.thread, side))
    return result


async def on_resolve(s: Session, b: qb.Resolve | qb.Reopen) -> None:
    thread = texts.store_of(s).thread(b.thread)
    if thread is None or not may(s, thread, Side.ASKER):
        await refused_press(s)
        return
    if thread.version != b.version:
        await moved_on(s, thread, Side.ASKER)
        return
    if isinstance(b, qb.Resolve):
        await post(s, thread, Side.ASKER, MessageKind.RESOLVED, "", version=b.version)
        return
    step = s.state.but(
        Writing(purpose="reply", thread=thread.id, version=thread.version + 1, asker=True), cycle=s.cycle_id
    )
    await post(s, thread, Side.ASKER, MessageKind.REOPENED, "", version=b.version, next_step=step)


# ---- the figure, exactly ---------------------------------------------------------------------


async def on_open_figure(s: Session, b: qb.OpenFigure) -> None:
    """The thread's figure (a breakdown figure included), to change it if the Member's data
    can change, else to read it; for a flag about several figures, the list of them."""
    thread = texts.store_of(s).thread(b.thread)
    if thread is None or not may(s, thread, Side.NCP):
        await refused_press(s)
        return
    kpi = s.catalog.kpi_by_id.get(thread.kpi)
    if kpi is None:
        await refused_press(s)
        return
    choices = figure_choices(s.catalog, kpi)
    if b.figure >= len(choices):
        await refused_press(s)
        return
    if b.figure == 0:
        flag = s.store.flag(thread.flag_id) if thread.flag_id is not None else None
        several = texts.flag_figures(s.catalog, flag)
        if len(several) > 1:
            await _figure_list(s, thread, several)
            return
        dp_id = thread.data_point
    else:
        dp_id = choices[b.figure]
    data = s.member_data()
    if data.editable(kpi.id):
        dp = s.catalog.data_points.get(dp_id) if dp_id else None
        if dp is not None:
            await collect.ask(s, kpi, dp)
        else:
            await collect.open_kpi(s, kpi)
        return
    if dp_id:
        dp = s.catalog.data_points[dp_id]
        stored = data.answers[dp_id].value if dp_id in data.answers else None
        body = labelled(
            s.lang,
            texts.figure_name(s.lang, s.catalog, kpi, dp_id),
            f"<b>{esc(texts.show_figure(s.lang, s.catalog, kpi, dp_id, stored))}</b>",
        )
        body = texts.kpi_title(kpi, s.lang) + "\n" + body + "\n" + esc(dp.question.get(s.lang.code))
    else:
        body = kpi_line(s.lang, s.catalog, s.snapshot(), kpi, detailed=True)
    await send(
        s,
        "🔒 "
        + body
        + "\n\n"
        + esc(
            s.lang._("Your answers are submitted: to change this KPI, ask the WCO Secretariat with the button below.")
        ),
        rows_for(s, thread, Side.NCP),
    )


async def _figure_list(s: Session, thread: Thread, figures: list[str]) -> None:
    kpi = s.catalog.kpi(thread.kpi)
    choices = figure_choices(s.catalog, kpi)
    answers = s.member_data().answers
    rows: list[Row] = []
    for dp_id in figures:
        value = texts.show_figure(s.lang, s.catalog, kpi, dp_id, answers[dp_id].value if dp_id in answers else None)
        name = _unescape(texts.figure_name(s.lang, s.catalog, kpi, dp_id, short_form=True))
        rows.append([(texts.button_label(s.lang, name, value), qb.OpenFigure(thread.id, choices.index(dp_id)))])
    await send(
        s,
        texts.kpi_title(kpi, s.lang)
        + "\n"
        + esc(s.lang._("The question is about these figures; which one do you want to open?")),
        rows,
    )


# ---- text typed by an NCP while a question waits -------------------------------------------


def waiting(s: Session) -> list[Thread]:
    """The threads waiting for the caller's Member, newest first."""
    if not s.user.is_ncp or s.cycle is None or s.user.member is None:
        return []
    return texts.store_of(s).threads(s.cycle.id, member=s.user.member, states=WAITING)


def takes_text(s: Session, text: str) -> bool:
    """True if a text typed by an NCP now is a reply to a waiting question rather than what
    their current step expects."""
    step = s.state.step
    if isinstance(step, AwaitingComment | Justifying):
        return False
    if isinstance(step, Asking | ResolvingNumber):
        dp = s.catalog.data_points.get(step.dp)
        answered = dp is not None and not isinstance(validate(dp, text, s.lang.code), AnswerError)
        return not answered and not looks_like_question(text) and bool(_LETTERS.search(text))
    return True


async def on_free_text(s: Session, text: str) -> bool:
    """An NCP's text as the reply to a waiting question; False if it is not one."""
    threads = waiting(s)
    if not threads or not takes_text(s, text):
        return False
    on_screen = getattr(s.state.step, "kpi", None)
    chosen = [t for t in threads if t.kpi == on_screen][:1] or (threads if len(threads) == 1 else [])
    body, cut = clean_text(text)
    if not body:
        return False
    if not chosen:
        s.go(s.state.but(ChoosingThread(text=body), cycle=s.cycle_id))
        rows: list[Row] = [
            [
                (
                    short(
                        f"{t.kpi} · "
                        + _unescape(
                            texts.figure_name(s.lang, s.catalog, s.catalog.kpi(t.kpi), t.data_point, short_form=True)
                        )
                    ),
                    qb.ReplyTo(t.id),
                )
            ]
            for t in threads[:8]
            if t.kpi in s.catalog.kpi_by_id
        ]
        await send(
            s,
            esc(s.lang._("Several questions from the WCO Secretariat wait for you. Which one does your text answer?")),
            rows,
        )
        return True
    await _implicit_reply(s, chosen[0], body, cut)
    return True


async def _implicit_reply(s: Session, thread: Thread, body: str, cut: bool) -> None:
    result = await post(s, thread, Side.NCP, MessageKind.REPLY, body, cut=cut)
    if result.applied:
        await send(
            s,
            "ℹ️ " + esc(s.lang._("Taken as your reply to the question above. To look up a KPI instead, use /explain.")),
        )
        if isinstance(s.state.step, Asking | ResolvingNumber) and s.member_data().editable(s.state.step.kpi):
            await collect.show(s)


async def on_reply_to(s: Session, b: qb.ReplyTo) -> None:
    step = s.state.step
    thread = texts.store_of(s).thread(b.thread)
    if not isinstance(step, ChoosingThread) or thread is None or not may(s, thread, Side.NCP):
        await send(s, s.lang._("That button belongs to an earlier screen, so nothing was changed."))
        return
    await post(s, thread, Side.NCP, MessageKind.REPLY, step.text, next_step=s.state.but(Idle()))


async def offer_waiting(s: Session) -> None:
    """For /next: the questions waiting for the NCP, first."""
    threads = waiting(s)
    if not threads:
        return
    L = s.lang
    lines = [
        "❓ "
        + L.ngettext(
            "The WCO Secretariat has {n} question for you:",
            "The WCO Secretariat has {n} questions for you:",
            len(threads),
        ).format(n=len(threads))
    ]
    rows: list[Row] = []
    store = texts.store_of(s)
    for thread in threads[:5]:
        question = next(
            (m for m in reversed(store.messages(thread.id)) if m.role is not AuthorRole.NCP and m.text), None
        )
        lines.append(
            "• " + texts.subject(L, s.catalog, thread) + (f"\n  «{esc(_cut(question.text))}»" if question else "")
        )
        rows.append(
            [
                (short(L._("Reply: {kpi}").format(kpi=thread.kpi), 30), qb.Reply(thread.id, thread.version, False)),
                (short(L._("Open: {kpi}").format(kpi=thread.kpi), 30), qb.OpenFigure(thread.id, 0)),
            ]
        )
    if len(threads) > 5:
        lines.append(L._("All of them: /questions"))
    await send(s, "\n".join(lines), rows)


def _cut(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _name(s: Session, iso2: str) -> str:
    member = s.store.member(iso2)
    return member.name(s.lang.code) if member else iso2


def _unescape(html_text: str) -> str:
    return html.unescape(html_text)
