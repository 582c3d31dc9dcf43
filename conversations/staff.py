"""What the Secretariat's commands share: the role check (one polite line for anyone else,
nothing changed), Member lookup, region and language names, long replies."""

from __future__ import annotations

import contextlib
import io

from babel import Locale
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from conversations.common import Session, answer_query, send, session, split_text
from pmm_core import analytics
from pmm_core.i18n import LANGUAGES, Lang
from pmm_core.members import Member
from pmm_core.search import fold

STATES = ("submitted", "in_progress", "not_started")


async def require_secretariat(update: Update, s: Session) -> bool:
    if s.is_secretariat:
        return True
    await send(update, s.lang._("Sorry, this command is for the WCO Secretariat only."))
    return False


async def secretariat_session(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, with_cycle: bool = False
) -> Session | None:
    """The caller's session if they are Secretariat (and, with `with_cycle`, a cycle is
    open); otherwise None, after telling them why in one line. The command is audited."""
    s = await session(update, context)
    if not await require_secretariat(update, s):
        return None
    assert update.message is not None
    await s.store.log_action(s.user.telegram_id, "command", (update.message.text or "")[:200])
    if with_cycle and s.cycle is None:
        await send(update, s.lang._("No cycle is open."))
        return None
    return s


async def secretariat_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Session, str] | None:
    """A Secretariat button press: the session and the callback data, or None if refused."""
    query = update.callback_query
    assert query is not None and query.data is not None
    s = await session(update, context)
    await answer_query(update)
    if not await require_secretariat(update, s):
        return None
    await s.store.log_action(s.user.telegram_id, "button", query.data)
    return s, query.data


def find_member(members: list[Member], text: str) -> Member | None:
    """A Member by ISO code or by name in English, French or Spanish."""
    wanted = fold(text.strip())
    for member in members:
        if member.iso2.lower() == wanted:
            return member
    matches = [m for m in members if any(wanted and wanted in fold(m.name(code)) for code in LANGUAGES)]
    return matches[0] if len(matches) == 1 else None


def language_name(code: str, L: Lang) -> str:
    """ "French" in English, "français" in French, "francés" in Spanish (Babel's names)."""
    return Locale.parse(code).get_language_name(L.code)


def region_name(L: Lang, code: str) -> str:
    return L._(analytics.REGION_NAMES[code])


def state_label(L: Lang, state: str) -> str:
    return {
        "submitted": L._("submitted"),
        "in_progress": L._("in progress"),
        "not_started": L._("not started"),
    }[state]


async def send_long(update: Update, text: str) -> None:
    for page in split_text(text):
        await send(update, page)


async def send_photo(update: Update, png: bytes, filename: str) -> None:
    assert update.effective_chat is not None
    with contextlib.suppress(TelegramError):  # the text above already carries the figures
        await update.effective_chat.send_photo(photo=io.BytesIO(png), filename=filename)


def wake(context: ContextTypes.DEFAULT_TYPE) -> None:
    sender = context.application.bot_data.get("outbox")
    if sender is not None:
        sender.wake()
