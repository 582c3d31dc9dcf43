"""First contact and the basics: /start (with an invite code), /help, /language, /cancel,
unknown commands and non-text messages, and the "private chat only" guard."""

from __future__ import annotations

import contextlib
from typing import Literal

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from conversations.collect.buttons import Next
from conversations.kit.context import BotData, Context
from conversations.kit.dispatch import Invalid, Router, Stale
from conversations.kit.render import kpi_line
from conversations.kit.send import Row, lang_of, send
from conversations.kit.session import Session, session
from conversations.kit.state import ConversationState, Idle
from conversations.kit.text import esc
from conversations.kit.words import is_greeting, is_help
from conversations.onboarding import buttons as btn
from conversations.onboarding import number_style
from conversations.onboarding.steps import ConfirmingMove, SettingProfile
from conversations.peer_review import flow as peer_review
from conversations.staff.menu import COMMANDS as SECRETARIAT_COMMANDS
from pmm_core.catalog.members.groupings import GROUPS, Grouping, group_label
from pmm_core.domain.records import InviteProblem, OutMessage, Role, User
from pmm_core.domain.text import N_
from pmm_core.outputs.i18n import LANGUAGE_NAMES, LANGUAGES, lang, user_lang
from pmm_core.storage.base import MoveNeeded
from pmm_core.storage.db import sha256_hex
from pmm_core.storage.store import Store

router = Router()

# The command menu (setMyCommands), translated per language at start-up.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("next", N_("Continue with the next open KPI")),
    ("kpis", N_("Browse the KPIs and their status")),
    ("progress", N_("See your progress")),
    ("review", N_("Review every answer before submitting")),
    ("submit", N_("Submit your administration's answers")),
    ("template", N_("Get a spreadsheet to fill in offline")),
    ("benchmark", N_("Compare your results with the other Members")),
    ("myreport", N_("A report for your administration")),
    ("delegate", N_("Hand KPIs to a colleague who holds the data")),
    ("contributors", N_("Colleagues who answer KPIs for you")),
    ("questions", N_("Questions on figures, with the WCO Secretariat")),
    ("explain", N_("What does a KPI mean?")),
    ("language", N_("Change the language")),
    ("help", N_("How this bot works")),
    ("cancel", N_("Stop the current step")),
)


async def private_only(update: Update, context: Context) -> None:
    """Answers messages in groups and channels with one line, and stops there."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    if update.message is not None and update.effective_user is not None:
        await chat.send_message(
            lang_of(update, context.bot_data.settings.default_language)._("Please talk to me in a private chat.")
        )
    raise ApplicationHandlerStop


# What a contributor may use: their KPIs, nothing of the Member's as a whole.
CONTRIBUTOR_COMMANDS = frozenset({"next", "kpis", "progress", "review", "explain", "language", "help", "cancel"})
# What a peer reviewer of no Member has besides their reviewer's commands.
EXPERT_COMMANDS = frozenset({"explain", "language", "help", "cancel"})

# A peer reviewer's commands (conversations.peer_review): in /help and in the menu of their chat.
REVIEWER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("peer", N_("Review the data of the Member you review")),
    ("progress", N_("Your peer review's progress, KPI by KPI")),
    ("roles", N_("Your roles: NCP, peer reviewer")),
    ("peerreport", N_("The peer review report")),
)


def is_reviewer(store: Store, user_id: int) -> bool:
    """Whether the user is an active peer reviewer of a review of the open cycle."""
    cycle = store.current_cycle()
    return cycle is not None and bool(store.reviews_of(user_id, cycle.id))


def menu(user: User | None, *, secretariat: bool, reviewer: bool) -> list[tuple[str, str]]:
    """The commands of one person's chat menu: the Secretariat's, a peer reviewer's, then the
    NCP's (a contributor's share of them; an expert reviewer of no Member: only explain,
    language, help, cancel). A command listed twice keeps its first description."""
    if user is not None and user.is_contributor:
        own = [c for c in COMMANDS if c[0] in CONTRIBUTOR_COMMANDS]
    elif reviewer and not secretariat and not (user is not None and user.is_ncp):
        own = [c for c in COMMANDS if c[0] in EXPERT_COMMANDS]
    else:
        own = list(COMMANDS)
    listed = [*(SECRETARIAT_COMMANDS if secretariat else ()), *(REVIEWER_COMMANDS if reviewer else ()), *own]
    first: dict[str, tuple[str, str]] = {}
    for name, text in listed:
        first.setdefault(name, (name, text))
    return list(first.values())


async def set_chat_menu(bot: Bot, data: BotData, user_id: int) -> None:
    """The command menu of one person's chat, for the Secretariat and peer reviewers (everyone
    else has the menu of their language). A Telegram error leaves the menu as it was."""
    user = data.store.user(user_id)
    secretariat = user_id in data.settings.secretariat_ids
    reviewer = is_reviewer(data.store, user_id)
    scope = BotCommandScopeChat(user_id)
    with contextlib.suppress(TelegramError):  # the user may not have started the bot yet
        if not secretariat and not reviewer:
            await bot.delete_my_commands(scope=scope)  # back to the menu of their language
            return
        L = user_lang(user)
        commands = menu(user, secretariat=secretariat, reviewer=reviewer)
        await bot.set_my_commands([BotCommand(name, L._(text)) for name, text in commands], scope=scope)


def help_text(s: Session) -> str:
    L = s.lang
    lines = [
        "<b>" + L._("pmm-bot — WCO Performance Measurement Mechanism") + "</b>",
        L._(
            "I help National Contact Points report their administration's PMM data, KPI by KPI, and I explain what each KPI means."
        ),
        "",
    ]
    reviewer = is_reviewer(s.store, s.user.telegram_id)
    if s.user.is_contributor:
        commands = [c for c in COMMANDS if c[0] in CONTRIBUTOR_COMMANDS]
    elif reviewer and not s.user.is_ncp and not s.is_secretariat:
        commands = [c for c in COMMANDS if c[0] in EXPERT_COMMANDS]
    else:
        commands = list(COMMANDS)
    lines += [f"/{name} — {esc(L._(description))}" for name, description in commands]
    if reviewer:
        lines += ["", "<b>" + esc(L._("For peer reviewers")) + "</b>"]
        lines += [f"/{name} — {esc(L._(description))}" for name, description in REVIEWER_COMMANDS]
    if s.is_secretariat:
        lines += ["", "<b>" + esc(L._("For the WCO Secretariat")) + "</b>"]
        lines += [f"/{name} — {esc(L._(description))}" for name, description in SECRETARIAT_COMMANDS]
    lines += ["", L._("You can also just ask, for example: what is AEO involvement in trade?")]
    return "\n".join(lines)


@router.command("start")
async def on_start(update: Update, context: Context) -> None:
    """/start [code]: binds an NCP with an invite code, or says what the bot does."""
    s = session(update, context)
    code = (context.args or [""])[0].strip()[:64]
    if code:
        if await peer_review.redeem(s, code):  # a reviewer's invitation, else an NCP's
            await set_chat_menu(update.get_bot(), s.bot, s.user.telegram_id)  # the reviewer's commands
        else:
            await redeem(s, code)
        return
    L = s.lang
    if s.user.is_contributor:
        await send(s, L._("Welcome back!") + "\n\n" + contributor_intro(s), [[(L._("Continue ▸"), Next())]])
        return
    if s.user.is_ncp:
        await send(s, L._("Welcome back!") + "\n\n" + help_text(s), [[(L._("Continue ▸"), Next())]])
        return
    await send(
        s,
        help_text(s)
        + "\n\n"
        + L._(
            "To report data you need the invitation link the WCO Secretariat sends to each National Contact Point. Anyone can ask what a KPI means: /explain"
        ),
    )


def contributor_intro(s: Session) -> str:
    """What a contributor is told at /start: whose questionnaire, their KPIs with where each
    stands, who checks and submits, and the commands they have."""
    L = s.lang
    assert s.delegation is not None
    member = s.store.member(s.delegation.member)
    ncps = [u.name for u in s.store.users(role=Role.NCP, member=s.delegation.member) if u.active]
    kpis = [k for k in s.catalog.kpis if k.id in s.delegation.kpis]
    text = L.ngettext(
        "You answer {n} KPI of the PMM questionnaire for {member}, for your National Contact Point ({ncp}):",
        "You answer {n} KPIs of the PMM questionnaire for {member}, for your National Contact Point ({ncp}):",
        len(kpis),
    ).format(
        n=len(kpis),
        member=f"<b>{esc(member.name(L.code) if member else s.delegation.member)}</b>",
        ncp=esc(", ".join(ncps) or "—"),
    )
    if s.cycle is not None:
        snap = s.snapshot()
        text += "\n" + "\n".join(kpi_line(L, s.catalog, snap, k) for k in kpis)
        text += "\n\n" + L._("The {year} data collection is open until {deadline}.").format(
            year=s.cycle.year, deadline=L.date(s.cycle.deadline)
        )
    else:
        text += "\n" + "\n".join(f"• {k.id} {esc(k.name.get(L.code))}" for k in kpis)
    text += "\n" + (
        L._("You confirm the results of these KPIs; your National Contact Point submits.")
        if s.delegation.can_confirm
        else L._("Your National Contact Point checks your figures, confirms the results and submits.")
    )
    return text + "\n\n" + help_text(s)


async def redeem(s: Session, code: str, *, move: bool = False) -> None:
    """Binds the caller with an invite code; an NCP of another Member is asked first."""
    L = s.lang
    if len(code) < 64 and s.store.is_contributor_invite(code):
        await _join_as_contributor(s, code)
        return
    outcome = s.store.redeem_invite(code, s.user.telegram_id, move=move) if len(code) < 64 else InviteProblem.UNKNOWN
    if isinstance(outcome, MoveNeeded):
        members = s.store.members()
        current, target = members.get(outcome.current), members.get(outcome.target)
        s.go(
            ConversationState(
                step=ConfirmingMove(code_hash=sha256_hex(code), current=outcome.current, target=outcome.target)
            )
        )
        await send(
            s,
            L._(
                "You are the National Contact Point of {current}. This invitation is for {target}. Move from {current} to {target}?"
            ).format(
                current=f"<b>{esc(current.name(L.code) if current else outcome.current)}</b>",
                target=f"<b>{esc(target.name(L.code) if target else outcome.target)}</b>",
            ),
            [[(L._("Move"), btn.Move(True)), (L._("Stay"), btn.Move(False))]],
        )
        s.store.log_action(s.user.telegram_id, "invite.move_asked", f"{outcome.current}→{outcome.target}")
        return
    if isinstance(outcome, InviteProblem):
        messages = {
            InviteProblem.UNKNOWN: L._(
                "This invitation code is not valid. Please check the link, or ask the WCO Secretariat for a new one."
            ),
            InviteProblem.USED: L._(
                "This invitation has already been used. Each invitation works once; ask the WCO Secretariat for a new one."
            ),
            InviteProblem.EXPIRED: L._("This invitation has expired. Please ask the WCO Secretariat for a new one."),
        }
        await send(s, messages[outcome])
        return
    await _welcome(s, outcome)


async def _join_as_contributor(s: Session, code: str) -> None:
    """A colleague's invitation from an NCP: they become a contributor for its scope."""
    L = s.lang
    outcome = s.store.redeem_contributor_invite(code, s.user.telegram_id)
    if isinstance(outcome, InviteProblem):
        messages = {
            InviteProblem.UNKNOWN: L._("This invitation code is not valid."),
            InviteProblem.USED: L._(
                "This invitation has already been used. Each invitation works once; ask your National Contact Point for a new one."
            ),
            InviteProblem.EXPIRED: L._(
                "This invitation has expired. Please ask your National Contact Point for a new one."
            ),
            InviteProblem.IS_NCP: L._(
                "You are a National Contact Point or on the WCO Secretariat, so you already have access; this invitation is for a colleague."
            ),
        }
        await send(s, messages[outcome])
        return
    s.user = s.store.user(s.user.telegram_id) or s.user
    s.delegation = outcome
    s.reload()
    member = s.store.member(outcome.member)
    text = L._("Welcome! You now help {member} answer the PMM questionnaire.").format(
        member=f"<b>{esc(member.name(L.code) if member else outcome.member)}</b>"
    )
    rows: list[Row] = [[(LANGUAGE_NAMES[c], btn.Language(c)) for c in LANGUAGES]]
    rows.append([(L._("Start ▸"), Next())])
    await send(
        s,
        text + "\n\n" + contributor_intro(s) + "\n\n" + L._("Your language can be changed here or with /language:"),
        rows,
    )
    _tell_ncps(s, outcome.member)


def _tell_ncps(s: Session, member: str) -> None:
    """The Member's NCPs hear that a colleague joined with their invitation."""
    messages = [
        OutMessage(
            f"dl:joined:{s.key}:{u.telegram_id}",
            u.telegram_id,
            lang(u.language)
            ._("{name} joined as a contributor with your invitation. See /contributors.")
            .format(name=esc(s.user.name)),
        )
        for u in s.store.users(role=Role.NCP, member=member)
        if u.active
    ]
    s.store.enqueue(messages)
    s.bot.outbox.wake()


async def _welcome(s: Session, member_code: str) -> None:
    s.user = s.store.user(s.user.telegram_id) or s.user
    L = s.lang
    member = s.store.member(member_code)
    name = member.name(L.code) if member else member_code
    text = L._("Welcome! You are now a National Contact Point for {member}.").format(member=f"<b>{esc(name)}</b>")
    if s.cycle is not None:
        text += "\n" + L._("The {year} data collection is open until {deadline}.").format(
            year=s.cycle.year, deadline=L.date(s.cycle.deadline)
        )
    await send(s, text + "\n\n" + help_text(s) + "\n\n" + _start_line(s), [[(L._("Start ▸"), Next())]])
    if member is not None and not s.store.profile_confirmed(member.iso2):
        await ask_profile(s, "type")  # it ends with Start too


def _start_line(s: Session) -> str:
    return s.lang._("Press Start for the first KPI; later, /next always takes you on from where you left off.")


async def _start(s: Session, text: str) -> None:
    """The end of onboarding: what was done, then Start (and /next)."""
    await send(s, text + "\n\n" + _start_line(s), [[(s.lang._("Start ▸"), Next())]] if s.cycle is not None else [])


PROFILE_FIELDS = {"type": Grouping.ADMINISTRATION, "geo": Grouping.GEOGRAPHY}


async def ask_profile(s: Session, field: Literal["type", "geo"]) -> None:
    """Asks the NCP to confirm or correct how the WCO groups their administration (the report
    analyses results by these groups); skippable, asked again at /submit."""
    member = s.store.member(s.user.member or "")
    if member is None:
        return
    L = s.lang
    grouping = PROFILE_FIELDS[field]
    current = member.group(grouping)
    s.go(s.state.but(SettingProfile(field=field)))
    question = {
        "type": L._("What kind of administration is {member}'s Customs? The WCO has it as: {current}."),
        "geo": L._("What is {member}'s geographic type? The WCO has it as: {current}."),
    }[field]
    rows: list[Row] = []
    if current:
        rows.append([(L._("That is right"), btn.Profile(field, "ok"))])
    rows += [[(L._(label), btn.Profile(field, code))] for code, label in GROUPS[grouping].items() if code != current]
    rows.append([(L._("Later"), btn.Profile(field, "later"))])
    await send(
        s,
        question.format(member=esc(member.name(L.code)), current=esc(L._(group_label(grouping, current))))
        + "\n"
        + L._("The WCO compares results by these groups; only the Secretariat sees your choice."),
        rows,
    )


@router.press(btn.AskProfile)
async def _ask_profile(s: Session, b: btn.AskProfile) -> None:
    if s.user.is_ncp:
        await ask_profile(s, "type")


@router.press(btn.Profile, step=SettingProfile, same=("field",))
async def _profile(s: Session, b: btn.Profile, step: SettingProfile) -> None:
    """The NCP's answer about their administration's type, then its geographic type."""
    if not s.user.is_ncp or s.user.member is None or b.field not in PROFILE_FIELDS:
        raise Stale
    grouping = PROFILE_FIELDS[b.field]
    if b.code == "later":
        s.go(s.state.but(Idle()))
        await _start(s, s.lang._("Fine: you can confirm it later, from /submit."))
        return
    if b.code != "ok" and b.code not in GROUPS[grouping]:
        return
    member = s.store.member(s.user.member)
    assert member is not None
    values = {} if b.code == "ok" else {grouping.value: b.code}
    if values:
        s.store.set_member_profile(member.iso2, s.user.telegram_id, values, confirm=b.field == "geo")
    elif b.field == "geo":
        s.store.set_member_profile(
            member.iso2, s.user.telegram_id, {grouping.value: member.group(grouping)}, confirm=True
        )
    if b.field == "type":
        await ask_profile(s, "geo")
        return
    s.go(s.state.but(Idle()))
    await _start(s, s.lang._("Thank you: your administration's profile is confirmed."))


@router.press(btn.Move, step=ConfirmingMove)
async def _move(s: Session, b: btn.Move, step: ConfirmingMove) -> None:
    """The answer to "Move from Belgium to France?"."""
    s.go(ConversationState(step=Idle()))
    if not b.yes:
        await send(s, s.lang._("Nothing changed: you stay the National Contact Point of your administration."))
        return
    outcome = s.store.redeem_invite_hash(step.code_hash, s.user.telegram_id)
    if isinstance(outcome, InviteProblem | MoveNeeded):
        await send(s, s.lang._("This invitation can no longer be used. Please ask the WCO Secretariat for a new one."))
        return
    _tell_secretariat(s, step.current, step.target)
    await _welcome(s, outcome)


def _tell_secretariat(s: Session, current: str, target: str) -> None:
    """The Secretariat hears of an NCP who moved to another Member."""
    recipients = {u.telegram_id: u.language for u in s.store.users(role=Role.SECRETARIAT)}
    recipients |= {uid: (u.language if (u := s.store.user(uid)) else "en") for uid in s.bot.settings.secretariat_ids}
    messages = [
        OutMessage(
            f"move:{s.key}:{uid}",
            uid,
            lang(language)
            ._("NCP {name} ({id}) moved from {current} to {target} with an invitation.")
            .format(name=esc(s.user.name), id=s.user.telegram_id, current=current, target=target),
        )
        for uid, language in recipients.items()
    ]
    s.store.enqueue(messages)
    s.bot.outbox.wake()


@router.command("help")
async def on_help(update: Update, context: Context) -> None:
    s = session(update, context)
    await send(s, help_text(s))


@router.command("language")
async def on_language(update: Update, context: Context) -> None:
    """/language: offers the three languages, then the ways of writing numbers."""
    s = session(update, context)
    rows: list[Row] = [[(LANGUAGE_NAMES[c], btn.Language(c)) for c in LANGUAGES], *number_style.rows(s)]
    await send(s, s.lang._("Choose your language:") + "\n\n" + number_style.prompt(s), rows)


@router.press(btn.Language)
async def _language(s: Session, b: btn.Language) -> None:
    """Stores the language and shows the pending screen again in it."""
    if b.code not in LANGUAGES:
        raise Invalid
    s.user = s.store.set_language(s.user.telegram_id, b.code)
    s.lang = user_lang(s.user, s.bot.settings.default_language)
    await send(s, s.lang._("Language set to English."))
    if s.user.collects and s.cycle is not None and not isinstance(s.state.step, Idle):
        await s.bot.screens.show_where(s)


router.press(number_style.NumberStyleChoice)(number_style.on_number_style)


@router.command("cancel")
async def on_cancel(update: Update, context: Context) -> None:
    """/cancel: leaves the current step (a question, a broadcast draft…); nothing saved is lost."""
    s = session(update, context)
    s.go(ConversationState(cycle=s.cycle_id))
    await send(s, s.lang._("Stopped. Everything you saved is kept. Use /next to continue when you are ready."))


async def on_unknown_command(update: Update, context: Context) -> None:
    s = session(update, context)
    await send(s, s.lang._("I do not know this command. Here is what I can do: /help"))


async def on_other_message(update: Update, context: Context) -> None:
    """Photos, stickers, voice…: says what the bot reads instead of staying silent."""
    s = session(update, context)
    await send(
        s,
        s.lang._(
            "I can only read typed text, the buttons and spreadsheets (/template). Please type your answer, or see /help."
        ),
    )


async def on_edited_message(update: Update, context: Context) -> None:
    """An edited message: what it said was read (and may be stored) as first sent, so the
    edit changes nothing; the user is told to send the correction."""
    s = session(update, context)
    await send(
        s,
        s.lang._(
            "I do not read edited messages, so nothing was changed. Please send the corrected answer as a new message."
        ),
    )


@router.fallback
async def _greeting_or_help(s: Session, text: str) -> bool:
    """ "hello", "help" out of a prompt: what the bot does and its commands."""
    if not (is_greeting(text) or is_help(text)):
        return False
    rows: list[Row] = [[(s.lang._("Continue ▸"), Next())]] if s.user.is_ncp and s.cycle is not None else []
    await send(s, ("👋 " if is_greeting(text) else "") + help_text(s), rows)
    return True
