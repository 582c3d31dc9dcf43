"""What every chat flow needs: the dependencies, the caller's session, sending helpers."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from pmm_core.catalog import Catalog
from pmm_core.i18n import Lang, lang, pick_language
from pmm_core.progress import Snapshot
from pmm_core.store import Cycle, Store, User

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096
Button = tuple[str, str]  # (label, callback_data)


@dataclass
class Deps:
    """Shared by all handlers through ``application.bot_data["deps"]``."""

    store: Store
    catalog: Catalog
    default_language: str = "en"
    secretariat_ids: frozenset[int] = frozenset()
    bot_username: str = ""
    invite_ttl: timedelta = timedelta(days=30)


@dataclass
class Session:
    """The caller of one update: stored user, language, open cycle."""

    deps: Deps
    user: User
    lang: Lang
    cycle: Cycle | None
    update_id: int
    skipped: set[str] = field(default_factory=set)

    @property
    def store(self) -> Store:
        return self.deps.store

    @property
    def catalog(self) -> Catalog:
        return self.deps.catalog

    @property
    def is_secretariat(self) -> bool:
        return self.user.telegram_id in self.deps.secretariat_ids or self.user.role == "secretariat"

    async def snapshot(self) -> Snapshot:
        assert self.cycle is not None and self.user.member is not None
        answers = await self.store.answers(self.cycle.id, self.user.member)
        states = await self.store.kpi_states(self.cycle.id, self.user.member)
        return Snapshot(self.catalog, answers, states)


def deps_of(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.application.bot_data["deps"]


async def session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Session:
    """Loads (creating on first contact) the caller and their language."""
    deps = deps_of(context)
    tg_user = update.effective_user
    assert tg_user is not None
    language = pick_language(tg_user.language_code, deps.default_language)
    user = await deps.store.visit(tg_user.id, tg_user.full_name, language)
    cycle = await deps.store.current_cycle()
    skipped = context.user_data.setdefault("skipped", set()) if context.user_data is not None else set()
    return Session(deps, user, lang(user.language, deps.default_language), cycle, update.update_id, skipped)


def esc(text: str) -> str:
    """Escapes user or catalog text for HTML parse mode."""
    return html.escape(text, quote=False)


def short(text: str, limit: int = 60) -> str:
    """A button label: cut on a word boundary with "…" when it is too long to show."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:·-")
    return cut + "…"


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def split_text(text: str, limit: int = MAX_MESSAGE - 96) -> list[str]:
    """Splits a long text on paragraph, then line boundaries, to fit Telegram's limit."""
    return _pack(text.split("\n\n"), "\n\n", limit, lambda block, n: _pack(block.split("\n"), "\n", n, _chop))


def _pack(pieces: list[str], sep: str, limit: int, split_long: Callable[[str, int], list[str]]) -> list[str]:
    """Joins pieces with `sep` into pages of at most `limit` characters."""
    pages: list[str] = []
    current = ""
    for piece in pieces:
        for part in [piece] if len(piece) <= limit else split_long(piece, limit):
            candidate = f"{current}{sep}{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                pages.append(current)
                current = part
    if current:
        pages.append(current)
    return pages


def _chop(line: str, limit: int) -> list[str]:
    return [line[i : i + limit] for i in range(0, len(line), limit)]


async def send(update: Update, text: str, buttons: Sequence[Sequence[Button]] = ()) -> Message | None:
    """Sends an HTML message to the caller's chat; a blocked bot is logged, not raised."""
    chat = update.effective_chat
    assert chat is not None
    try:
        return await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons))
    except Forbidden:
        log.info("chat %s blocked the bot; message not delivered", chat.id)
        return None


async def answer_query(update: Update, text: str | None = None) -> None:
    """Acknowledges a button press (stops the spinner); failures are harmless."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text)
        except BadRequest:
            log.debug("callback query too old to answer")
