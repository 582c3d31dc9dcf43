"""First contact and the basics: /start (with an invite code), /help, /language, /cancel,
the free-text router, and the "private chat only" guard."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from conversations import collect, secretariat
from conversations.common import Session, answer_query, esc, send, session
from conversations.explain import explain_query
from pmm_core.answers import N_, AnswerError, parse_number
from pmm_core.i18n import LANGUAGE_NAMES, LANGUAGES, lang
from pmm_core.store import InviteProblem

# The command menu (setMyCommands), translated per language at start-up.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("next", N_("Continue with the next open KPI")),
    ("kpis", N_("Browse the KPIs and their status")),
    ("progress", N_("See your progress")),
    ("review", N_("Review every answer before submitting")),
    ("submit", N_("Submit your administration's answers")),
    ("explain", N_("What does a KPI mean?")),
    ("language", N_("Change the language")),
    ("help", N_("How this bot works")),
    ("cancel", N_("Stop the current step")),
)


async def private_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers messages in groups and channels with one line, and stops there."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    if update.message is not None and update.effective_user is not None:
        L = lang(update.effective_user.language_code, "en")
        await send(update, L._("Please talk to me in a private chat."))
    raise ApplicationHandlerStop


def help_text(s: Session) -> str:
    L = s.lang
    lines = [
        "<b>" + L._("pmm-bot — WCO Performance Measurement Mechanism") + "</b>",
        L._(
            "I help National Contact Points report their administration's PMM data, KPI by KPI, and I explain what each KPI means."
        ),
        "",
    ]
    lines += [f"/{name} — {esc(L._(description))}" for name, description in COMMANDS]
    if s.is_secretariat:
        lines += ["", "<b>" + esc(L._("For the WCO Secretariat")) + "</b>"]
        lines += [f"/{name} — {esc(L._(description))}" for name, description in secretariat.COMMANDS]
    lines += ["", L._("You can also just ask, for example: what is AEO involvement in trade?")]
    return "\n".join(lines)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [code]: binds an NCP with an invite code, or says what the bot does."""
    s = await session(update, context)
    L = s.lang
    code = (context.args or [""])[0].strip()
    if code:
        outcome = await s.store.redeem_invite(code, s.user.telegram_id)
        if isinstance(outcome, InviteProblem):
            messages = {
                InviteProblem.UNKNOWN: L._(
                    "This invitation code is not valid. Please check the link, or ask the WCO Secretariat for a new one."
                ),
                InviteProblem.USED: L._(
                    "This invitation has already been used. Each invitation works once; ask the WCO Secretariat for a new one."
                ),
                InviteProblem.EXPIRED: L._(
                    "This invitation has expired. Please ask the WCO Secretariat for a new one."
                ),
            }
            await send(update, messages[outcome])
            return
        member = await s.store.member(outcome)
        name = member.name(L.code) if member else outcome
        s = await session(update, context)
        text = L._("Welcome! You are now a National Contact Point for {member}.").format(member=f"<b>{esc(name)}</b>")
        if s.cycle is not None:
            text += "\n" + L._("The {year} data collection is open until {deadline}.").format(
                year=s.cycle.year, deadline=L.date(s.cycle.deadline)
            )
        await send(update, text + "\n\n" + help_text(s), [[(L._("Start ▸"), "n")]])
        return
    if s.user.is_ncp:
        await send(update, L._("Welcome back!") + "\n\n" + help_text(s), [[(L._("Continue ▸"), "n")]])
        return
    await send(
        update,
        help_text(s)
        + "\n\n"
        + L._(
            "To report data you need the invitation link the WCO Secretariat sends to each National Contact Point. Anyone can ask what a KPI means: /explain"
        ),
    )


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = await session(update, context)
    await send(update, help_text(s))


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: offers the three languages."""
    s = await session(update, context)
    await send(update, s.lang._("Choose your language:"), [[(LANGUAGE_NAMES[c], f"l:{c}") for c in LANGUAGES]])


async def on_language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stores the language and re-sends the pending question in it."""
    query = update.callback_query
    assert query is not None and query.data is not None
    code = query.data.split(":", 1)[1]
    s = await session(update, context)
    if code not in LANGUAGES:
        await answer_query(update, s.lang._("This button is no longer valid."))
        return
    await s.store.set_language(s.user.telegram_id, code)
    s = await session(update, context)
    await answer_query(update)
    await send(update, s.lang._("Language set to English."))
    if s.user.is_ncp and s.user.cursor_kpi and s.cycle is not None:
        await collect.continue_next(update, s)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: leaves the current step; nothing saved is lost."""
    s = await session(update, context)
    await s.store.set_cursor(s.user.telegram_id, None, None)
    if context.user_data is not None:
        context.user_data.pop("broadcast", None)
    await send(update, s.lang._("Stopped. Everything you saved is kept. Use /next to continue when you are ready."))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message: the answer to the pending question, a blank comment, or a question."""
    assert update.message is not None and update.message.text is not None
    s = await session(update, context)
    if await secretariat.handle_text(update, context, s):
        return
    kpi = s.catalog.kpi_by_id.get(s.user.cursor_kpi or "")
    if kpi is not None and s.user.is_ncp and s.cycle is not None:
        if s.user.cursor_dp == collect.COMMENT:
            if await collect.require_ncp(update, s):
                await collect.on_blank_comment(update, s, kpi)
            return
        if s.user.cursor_dp == collect.RESULT and not isinstance(
            parse_number(update.message.text, s.lang.code), AnswerError
        ):
            # A figure typed while the result waits for Confirm: show the way to change one.
            await send(
                update, s.lang._("To change a figure, press Change a figure; to keep the result, press Confirm.")
            )
            await collect.continue_next(update, s)
            return
        dp = s.catalog.data_points.get(s.user.cursor_dp or "")
        if dp is not None:
            if not await collect.require_ncp(update, s):
                return
            await collect.on_text_answer(update, s, kpi, dp)
            return
    await explain_query(update, s, update.message.text)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = await session(update, context)
    await send(update, s.lang._("I do not know this command. Here is what I can do: /help"))


async def on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, files, stickers, voice…: says what the bot reads instead of staying silent."""
    s = await session(update, context)
    await send(update, s.lang._("I can only read typed text and the buttons. Please type your answer, or see /help."))


def build_handlers() -> list:
    """Registered last: the catch-alls come after every other flow's handlers."""
    return [
        CommandHandler("start", on_start),
        CommandHandler("help", on_help),
        CommandHandler("language", on_language),
        CommandHandler("cancel", on_cancel),
        CallbackQueryHandler(on_language_button, pattern=r"^l:"),
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(filters.COMMAND, on_unknown_command),
        MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, on_other_message),
    ]


def build_guard() -> TypeHandler:
    """The private-chat guard, registered in a group before all other handlers."""
    return TypeHandler(Update, private_only)
