"""What the Secretariat's commands share: the role check (one polite line for anyone else,
nothing changed), Member lookup, region and language names, long replies, documents."""

from __future__ import annotations

import contextlib
import io

from babel import Locale
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from conversations import buttons as btn
from conversations.context import Context
from conversations.questions.steps import DraftingQuestion, Writing
from conversations.session import Session, answer_query, send, session
from conversations.state import AwaitingFlagNote, Idle
from pmm_core.catalog.members import Member
from pmm_core.domain.analytics import REGION_NAMES
from pmm_core.domain.records import Role
from pmm_core.domain.search import fold
from pmm_core.outputs.i18n import LANGUAGES, Lang


async def require_secretariat(s: Session) -> bool:
    if s.is_secretariat:
        return True
    await send(s, s.lang._("Sorry, this command is for the WCO Secretariat only."))
    return False


async def secretariat_session(update: Update, context: Context, *, with_cycle: bool = False) -> Session | None:
    """The caller's session if they are Secretariat (and, with `with_cycle`, a cycle is
    open); otherwise None, after telling them why in one line. The command is audited."""
    s = session(update, context)
    if not await require_secretariat(s):
        return None
    assert update.message is not None
    s.store.log_action(s.user.telegram_id, "command", (update.message.text or "")[:200])
    _no_more_note(s)
    if with_cycle and s.cycle is None:
        await send(s, s.lang._("No cycle is open."))
        return None
    return s


async def secretariat_press(update: Update, context: Context) -> tuple[Session, btn.Pressed] | None:
    """A Secretariat button press: the session and the typed button, or None if refused."""
    s = session(update, context)
    await answer_query(s)
    pressed = btn.unpack(update.callback_query.data if update.callback_query else None)
    if pressed is None or not await require_secretariat(s):
        return None
    s.store.log_action(
        s.user.telegram_id, "button", (update.callback_query.data if update.callback_query else "") or ""
    )
    _no_more_note(s)
    return s, pressed


def _no_more_note(s: Session) -> None:
    """Another command or button: the optional note on a flag just explained, or the question
    or reply being written, is not coming, and the next typed text is not it."""
    if isinstance(s.state.step, AwaitingFlagNote | DraftingQuestion) or (
        isinstance(s.state.step, Writing) and s.state.step.asker
    ):
        s.go(s.state.but(Idle()))


def recipients(s: Session, region: str = "all", pending: bool = False) -> list[tuple[int, str]]:
    """(telegram id, language) of the active NCPs of the Members in `region` ("all": every
    region), only those whose Member has not submitted if `pending`."""
    submitted = s.store.submitted_members(s.cycle.id) if s.cycle and pending else set()
    members = s.store.members()
    return [
        (ncp.telegram_id, ncp.language)
        for ncp in s.store.users(role=Role.NCP)
        if ncp.active
        and ncp.member is not None
        and ncp.member not in submitted
        and (region == "all" or (ncp.member in members and members[ncp.member].region == region))
    ]


def find_member(members: dict[str, Member], text: str) -> Member | None:
    """A Member by ISO code or by name in English, French or Spanish."""
    wanted = fold(text.strip())
    if not wanted:
        return None
    for member in members.values():
        if member.iso2.lower() == wanted:
            return member
    matches = [m for m in members.values() if any(wanted in fold(m.name(code)) for code in LANGUAGES)]
    return matches[0] if len(matches) == 1 else None


def language_name(code: str, L: Lang) -> str:
    """ "French" in English, "français" in French, "francés" in Spanish (Babel's names)."""
    return Locale.parse(code).get_language_name(L.code) or code


def region_name(L: Lang, code: str) -> str:
    return L._(REGION_NAMES[code]) if code in REGION_NAMES else code


async def send_document(s: Session, data: bytes, filename: str, caption: str = "") -> None:
    """Sends a file (a chart, a workbook, a report); a failure is reported, not raised."""
    chat = s.update.effective_chat
    assert chat is not None
    try:
        await chat.send_document(document=io.BytesIO(data), filename=filename, caption=caption[:1000] or None)
    except TelegramError:
        with contextlib.suppress(TelegramError):
            await send(s, s.lang._("The file could not be sent; please try again."))


async def send_photo(s: Session, png: bytes, filename: str, caption: str = "") -> None:
    """A chart as a preview photo with its caption (HTML, at most 1,024 characters); the
    document that follows keeps its full resolution."""
    chat = s.update.effective_chat
    assert chat is not None
    with contextlib.suppress(TelegramError):
        await chat.send_photo(
            photo=io.BytesIO(png), filename=filename, caption=caption or None, parse_mode=ParseMode.HTML
        )
