"""How the bot answers the caller: HTML messages split to Telegram's limits with typed buttons
on the last part, documents and photos, and the acknowledgement of a press."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from conversations.kit.buttons import Button, Stamp, pack
from conversations.kit.replies import Undelivered, deliver
from conversations.kit.session import Session
from conversations.kit.text import split_html
from pmm_core.domain.records import Buttons
from pmm_core.outputs import utf16
from pmm_core.outputs.i18n import Lang, lang, pick_language

log = logging.getLogger(__name__)

Row = Sequence[tuple[str, Button]]


def markup(rows: Sequence[Row], stamp: Stamp | None) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=pack(b, stamp if b.bound else None)) for label, b in row]
            for row in rows
        ]
    )


def packed(rows: Sequence[Row], stamp: Stamp | None = None) -> Buttons:
    """Rows of buttons as stored in the outbox (label, callback data)."""
    return tuple(tuple((label, pack(b, stamp if b.bound else None)) for label, b in row) for row in rows if row)


async def send(s: Session, text: str, rows: Sequence[Row] = ()) -> bool:
    """Sends an HTML message to the caller, split to fit Telegram's limit (buttons on the
    last part). Transient failures are retried; a reply that still cannot be sent is kept
    and said with the user's next message (``conversations.kit.replies``). A user who
    blocked the bot is logged, not raised. True if every part was sent."""
    chat = s.update.effective_chat
    assert chat is not None
    pages = split_html(text)
    for i, page in enumerate(pages):
        keyboard = markup(rows, s.stamp) if i == len(pages) - 1 else None
        try:
            await deliver(chat, page, keyboard)
        except Forbidden:
            log.info("chat %s blocked the bot; message not delivered", chat.id)
            return False
        except Undelivered:
            s.store.owe_reply(s.user.telegram_id, chat.id, "\n\n".join(pages[i:]), packed(rows, s.stamp))
            return False
    return True


async def answer_query(s: Session, text: str | None = None) -> None:
    """Acknowledges a button press (stops the spinner, with a short notice if `text`). Best
    effort, after the write: its failure (too old, a network error, a 5xx) never loses the press."""
    query = s.update.callback_query
    if query is None:
        return
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.debug("could not answer the callback query: %s", exc)


def lang_of(update: Update, default: str = "en") -> Lang:
    user = update.effective_user
    return lang(pick_language(user.language_code if user else None, default))


async def send_document(s: Session, data: bytes, filename: str, caption: str = "", rows: Sequence[Row] = ()) -> None:
    """Sends a file (a chart, a workbook, a report), with buttons if given; a failure is
    reported, not raised."""
    chat = s.update.effective_chat
    assert chat is not None
    try:
        await chat.send_document(
            document=io.BytesIO(data),
            filename=filename,
            caption=utf16.cut(caption, 1024) or None,
            reply_markup=markup(rows, s.stamp),
        )
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
