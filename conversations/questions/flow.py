"""The questions flow's router: its commands, its buttons, its share of typed text, and what
runs after every update (delivery, notices, the checks after a changed figure, the end of an
amendment).

Its text routes come before the walk-through's (``bot.app`` lists this router first): on a
figure's screen, a sentence typed while a question waits for the NCP is their reply, not a
figure that does not read; on any other screen of the NCP, any text is.
"""

from __future__ import annotations

from telegram import Update

from conversations.collect.steps import Asking, ResolvingNumber, ShowingResult
from conversations.flags.flow import refresh_flags
from conversations.kit.context import Context
from conversations.kit.dispatch import Router
from conversations.kit.roles import Who, secretariat_session
from conversations.kit.send import send
from conversations.kit.session import Session, session
from conversations.kit.state import Idle
from conversations.questions import answer, ask, change, deliver, listing, notify
from conversations.questions import buttons as qb
from conversations.questions.steps import ChoosingThread, DraftingQuestion, Writing
from pmm_core.domain.threads import MessageKind
from pmm_core.storage.store import AfterWork
from pmm_core.storage.thread_store import ThreadStore

router = Router()


# ---- commands -------------------------------------------------------------------------------
@router.command("ask")
async def on_ask(update: Update, context: Context) -> None:
    """/ask <Member> <KPI> <question>."""
    s = await secretariat_session(update, context, with_cycle=True)
    if s is None:
        return
    assert update.message is not None
    await ask.on_ask(s, update.message.text or "")


@router.command("questions")
async def on_questions(update: Update, context: Context) -> None:
    """/questions [Member] [KPI] [state]: the threads, newest first."""
    s = session(update, context)
    if s.is_secretariat:
        s = await secretariat_session(update, context) or s
    await listing.on_questions(s, list(context.args or []))


@router.command("notify")
async def on_notify(update: Update, context: Context) -> None:
    """/notify [on|off|digest]."""
    s = await secretariat_session(update, context)
    if s is not None:
        await notify.on_notify(s, list(context.args or []))


# ---- buttons --------------------------------------------------------------------------------
# Thread buttons arrive through the outbox: they carry the thread and its version, and
# answer.may() checks who presses them (another Member's thread is refused). The draft's
# buttons are bound to their screen (the dispatcher checks the stamp) and to its step.


async def _secretariat(s: Session) -> bool:
    if s.is_secretariat:
        return True
    await send(s, s.lang._("Sorry, this command is for the WCO Secretariat only."))
    return False


@router.press(qb.AskAbout, step=DraftingQuestion)
async def _ask_about(s: Session, b: qb.AskAbout, step: DraftingQuestion) -> None:
    if await _secretariat(s):
        await ask.on_button(s, b)


@router.press(qb.SendAsIs, step=DraftingQuestion)
async def _send_as_is(s: Session, b: qb.SendAsIs, step: DraftingQuestion) -> None:
    if await _secretariat(s):
        await ask.on_button(s, b)


@router.press(qb.SendAnyway, step=(DraftingQuestion, Writing))
async def _send_anyway(s: Session, b: qb.SendAnyway, step: DraftingQuestion | Writing) -> None:
    if not await _secretariat(s):
        return
    if isinstance(step, DraftingQuestion):
        await ask.on_button(s, b)
    else:
        await answer.on_send_anyway(s)


@router.press(qb.AskMember, who=Who.SECRETARIAT)
async def _ask_member(s: Session, b: qb.AskMember) -> None:
    if s.store.member(b.member) is None or s.cycle is None:
        await answer.refused_press(s)
        return
    await ask.from_member(s, b.member)


@router.press(qb.Reply)
async def _reply(s: Session, b: qb.Reply) -> None:
    await answer.on_reply(s, b)


@router.press(qb.History)
async def _history(s: Session, b: qb.History) -> None:
    await answer.on_history(s, b)


@router.press(qb.OpenFigure)
async def _open_figure(s: Session, b: qb.OpenFigure) -> None:
    await answer.on_open_figure(s, b)


@router.press(qb.Correct)
async def _correct(s: Session, b: qb.Correct) -> None:
    await answer.on_correct(s, b)


@router.press(qb.Resolve, who=Who.SECRETARIAT)
async def _resolve(s: Session, b: qb.Resolve) -> None:
    await answer.on_resolve(s, b)


@router.press(qb.Reopen, who=Who.SECRETARIAT)
async def _reopen(s: Session, b: qb.Reopen) -> None:
    await answer.on_resolve(s, b)


@router.press(qb.ReplyTo, who=Who.NCP_READING, step=ChoosingThread)
async def _reply_to(s: Session, b: qb.ReplyTo, step: ChoosingThread) -> None:
    await answer.on_reply_to(s, b)


@router.press(qb.Page)
async def _page(s: Session, b: qb.Page) -> None:
    if s.cycle is None or not (s.is_secretariat or s.user.is_ncp):
        await answer.refused_press(s)
        return
    await listing.page(s, b.member, b.kpi, b.state, b.page)


@router.press(qb.AskChange, who=Who.COLLECTOR_READING)  # a contributor: a KPI of their scope
async def _ask_change(s: Session, b: qb.AskChange) -> None:
    await change.on_ask_change(s, b)


@router.press(qb.Approve, who=Who.SECRETARIAT)
async def _approve(s: Session, b: qb.Approve) -> None:
    await change.on_decide(s, b)


@router.press(qb.Decline, who=Who.SECRETARIAT)
async def _decline(s: Session, b: qb.Decline) -> None:
    await change.on_decide(s, b)


# ---- typed text -------------------------------------------------------------------------------
@router.text(DraftingQuestion, who=Who.SECRETARIAT)
async def _draft_text(s: Session, text: str, step: DraftingQuestion) -> None:
    await ask.on_text(s, text)


@router.text(Writing)
async def _writing_text(s: Session, text: str, step: Writing) -> None:
    if step.purpose == "change":
        await change.on_reason_text(s, text)
    else:
        await answer.on_writing_text(s, text)


@router.text(ChoosingThread, who=Who.NCP_READING)
async def _chosen_text(s: Session, text: str, step: ChoosingThread) -> None:
    """A new text instead of a choice: read afresh."""
    s.go(s.state.but(Idle()))
    if not await answer.on_free_text(s, text):
        await send(s, s.lang._("No question from the WCO Secretariat waits for you now."))


def _a_reply(s: Session, text: str) -> bool:
    return bool(answer.waiting(s)) and answer.takes_text(s, text)


@router.text(Asking, ResolvingNumber, who=Who.NCP_READING, when=_a_reply)
async def _reply_on_a_figure(s: Session, text: str, step: Asking | ResolvingNumber) -> None:
    """A sentence typed on a figure's screen while a question waits: the reply."""
    await answer.on_free_text(s, text)


@router.text(ShowingResult, who=Who.NCP_READING, when=_a_reply)
async def _reply_on_a_result(s: Session, text: str, step: ShowingResult) -> None:
    await answer.on_free_text(s, text)


@router.fallback
async def _reply_anywhere(s: Session, text: str) -> bool:
    """Any other text of an NCP while a question waits for them is their reply."""
    return await answer.on_free_text(s, text)


# ---- after every update ---------------------------------------------------------------------
async def after_update(update: Update, context: Context, work: AfterWork | None = None) -> None:
    """After every update: the checks again if a figure changed under a flagged question,
    then every thread message to its readers, the Secretariat's notices, and the end of an
    amendment the NCP left the screen of."""
    bot = context.bot_data
    work = work or bot.store.after_update_work()
    store = ThreadStore(bot.store)
    if work.thread_messages:
        pending = store.undelivered()
        cycles = {t.cycle_id for t, m in pending if m.kind is MessageKind.FIGURE and t.flag_id is not None}
        open_cycle = bot.store.current_cycle()
        if open_cycle is not None and open_cycle.id in cycles:
            await refresh_flags(bot, open_cycle)
        deliver.deliver_pending(bot)
    if work.notices:
        notify.notify_now(bot)
    user = bot.store.user(update.effective_user.id) if update.effective_user is not None else None
    cycle = bot.store.current_cycle()
    if user is None or not (user.is_ncp or user.is_contributor) or user.member is None or cycle is None:
        return
    data = bot.store.member_data(cycle.id, user.member)
    if data.locked and data.amending:
        s = session(update, context)
        if getattr(s.state.step, "kpi", None) not in data.amending:
            await change.finish_settled(s)
