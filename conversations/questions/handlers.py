"""The questions flow's entry points: its commands, one handler for its buttons, its share
of free text, and what runs after every update (delivery, notices, the flag checks after a
changed figure, the end of an amendment)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from conversations import flags
from conversations.buttons import unpack
from conversations.context import Context
from conversations.questions import answer, ask, change, deliver, listing, notify
from conversations.questions import buttons as qb
from conversations.questions.steps import ChoosingThread, DraftingQuestion, Writing
from conversations.session import Session, answer_query, send, session
from conversations.staff import require_secretariat, secretariat_session
from conversations.state import Idle
from pmm_core.domain.text import N_
from pmm_core.domain.threads import MessageKind
from pmm_core.storage.thread_store import ThreadStore

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

# In the Secretariat's command menu (after its other commands); /questions is in everyone's
# (conversations.onboarding.COMMANDS).
SECRETARIAT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ask", N_("Ask a Member's NCPs about a figure")),
    ("notify", N_("Be told of submissions: on, off or a daily digest")),
)


async def on_ask(update: Update, context: Context) -> None:
    """/ask <Member> <KPI> <question>."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert update.message is not None
    await ask.on_ask(s, update.message.text or "")


async def on_questions(update: Update, context: Context) -> None:
    """/questions [Member] [KPI] [state]: the threads, newest first."""
    s = session(update, context)
    if s.is_secretariat:
        s = await secretariat_session(update, context) or s
    await listing.on_questions(s, list(context.args or []))


async def on_notify(update: Update, context: Context) -> None:
    """/notify [on|off|digest]."""
    s = await secretariat_session(update, context)
    if s is not None:
        await notify.on_notify(s, list(context.args or []))


COMMANDS: dict[str, Handler] = {"ask": on_ask, "questions": on_questions, "notify": on_notify}

# Buttons for the Secretariat only, and those on the draft's screen (bound).
_SECRETARIAT = (qb.Resolve, qb.Reopen, qb.Approve, qb.Decline, qb.AskMember, qb.AskAbout, qb.SendAsIs)
_ON_SCREEN = (qb.AskAbout, qb.SendAsIs, qb.SendAnyway, qb.ReplyTo)


async def on_button(update: Update, context: Context) -> None:
    """Every button of the flow: who may press it and on which screen is checked here or in
    the step it leads to."""
    s = session(update, context)
    await answer_query(s)
    pressed = unpack(update.callback_query.data if update.callback_query else None)
    if pressed is None:
        return
    b = pressed.button
    if isinstance(b, _SECRETARIAT) and not await require_secretariat(s):
        return
    if s.cycle is None:
        await send(
            s, s.lang._("No collection cycle is open at the moment. The WCO Secretariat will tell you when it opens.")
        )
        return
    if isinstance(b, _ON_SCREEN) and not s.is_current(pressed.stamp):
        await send(s, s.lang._("That button belongs to an earlier screen, so nothing was changed."))
        return
    step = s.state.step
    if isinstance(b, qb.AskAbout | qb.SendAsIs) or (
        isinstance(b, qb.SendAnyway) and isinstance(step, DraftingQuestion)
    ):
        if not isinstance(step, DraftingQuestion):
            await send(s, s.lang._("That button belongs to an earlier screen, so nothing was changed."))
            return
        await ask.on_button(s, b)
    elif isinstance(b, qb.SendAnyway):
        if not isinstance(step, Writing) or not step.asker or not s.is_secretariat:
            await send(s, s.lang._("That button belongs to an earlier screen, so nothing was changed."))
            return
        await answer.on_send_anyway(s)
    elif isinstance(b, qb.AskMember):
        if s.store.member(b.member) is None:
            await answer.refused_press(s)
            return
        await ask.from_member(s, b.member)
    elif isinstance(b, qb.Reply):
        await answer.on_reply(s, b)
    elif isinstance(b, qb.History):
        await answer.on_history(s, b)
    elif isinstance(b, qb.OpenFigure):
        await answer.on_open_figure(s, b)
    elif isinstance(b, qb.Correct):
        await answer.on_correct(s, b)
    elif isinstance(b, qb.Resolve | qb.Reopen):
        await answer.on_resolve(s, b)
    elif isinstance(b, qb.ReplyTo):
        await answer.on_reply_to(s, b)
    elif isinstance(b, qb.Page):
        await listing.page(s, b.member, b.kpi, b.state, b.page)
    elif isinstance(b, qb.AskChange):
        await change.on_ask_change(s, b)
    elif isinstance(b, qb.Approve | qb.Decline):
        await change.on_decide(s, b)


BUTTONS = (
    qb.AskAbout,
    qb.SendAsIs,
    qb.SendAnyway,
    qb.AskMember,
    qb.Reply,
    qb.History,
    qb.OpenFigure,
    qb.Correct,
    qb.Resolve,
    qb.Reopen,
    qb.ReplyTo,
    qb.Page,
    qb.AskChange,
    qb.Approve,
    qb.Decline,
)


async def on_text(s: Session, text: str) -> bool:
    """A typed text this flow takes: what one of its steps waits for, or an NCP's reply to a
    waiting question. False: the text is for the other flows."""
    step = s.state.step
    if isinstance(step, DraftingQuestion):
        if not s.is_secretariat:
            return False
        await ask.on_text(s, text)
        return True
    if isinstance(step, Writing):
        if step.purpose == "change":
            await change.on_reason_text(s, text)
        else:
            await answer.on_writing_text(s, text)
        return True
    if isinstance(step, ChoosingThread):
        s.go(s.state.but(Idle()))  # a new text instead of a choice: read it afresh
    return await answer.on_free_text(s, text)


async def after_update(update: Update, context: Context) -> None:
    """After every update: the checks again if a figure changed under a flagged question,
    then every thread message to its readers, the Secretariat's notices, and the end of an
    amendment the NCP left the screen of."""
    bot = context.bot_data
    store = ThreadStore(bot.store)
    if store.has_undelivered():
        pending = store.undelivered()
        cycles = {t.cycle_id for t, m in pending if m.kind is MessageKind.FIGURE and t.flag_id is not None}
        open_cycle = bot.store.current_cycle()
        if open_cycle is not None and open_cycle.id in cycles:
            await flags.refresh_flags(bot, open_cycle)
        deliver.deliver_pending(bot)
    notify.notify_now(bot)
    user = bot.store.user(update.effective_user.id) if update.effective_user is not None else None
    cycle = bot.store.current_cycle()
    if user is None or not user.is_ncp or user.member is None or cycle is None:
        return
    data = bot.store.member_data(cycle.id, user.member)
    if data.locked and data.amending:
        s = session(update, context)
        if getattr(s.state.step, "kpi", None) not in data.amending:
            await change.finish_settled(s)
