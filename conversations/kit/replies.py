"""Saved means said: replies that reach the user even when Telegram stumbles.

A send that fails for a reason of the network or of Telegram's servers (a 5xx, a refused or
dropped connection, a timeout, a 429 beyond the rate limiter's own retries) is tried again
a few times: a confirmation is idempotent to the user, who at worst reads it twice. If it
still fails, the reply is kept in the store, and said first thing with the user's next
message. A stored answer is so never followed by an error, nor by a silence the user fills
by typing the figure again — which would then answer the next question, one they never
saw: a typed text that comes while a reply is owed is not read as an answer.
"""

from __future__ import annotations

import asyncio
import logging
import warnings

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop
from telegram.warnings import PTBUserWarning

from conversations.kit.context import Context
from conversations.kit.session import session
from conversations.kit.text import quote, split_html
from pmm_core.domain.records import Buttons

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0)  # seconds before each new attempt


class Undelivered(Exception):
    """Telegram did not take the message after every retry."""


def transient(exc: TelegramError) -> bool:
    """A failure that says nothing about the message itself: worth another attempt."""
    return isinstance(exc, NetworkError | RetryAfter)


# A reply is sent through PTB's request stack (its rate limiter, errors and retries) without
# PTB making a Message of Telegram's answer, which nothing reads: that object took 8% of an
# answer's time (bench.updates). do_api_request warns that send_message exists; we know.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)


async def deliver(chat: Chat, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Sends one HTML message, retrying transient failures; raises :class:`Undelivered`
    when they persist (a 400 or 403 is raised as it is)."""
    params: dict[str, object] = {"chat_id": chat.id, "text": text, "parse_mode": ParseMode.HTML.value}
    if keyboard is not None:
        params["reply_markup"] = keyboard
    for delay in (*RETRY_DELAYS, None):
        try:
            await chat.get_bot().do_api_request("sendMessage", api_kwargs=params)
            return
        except TelegramError as exc:
            if not transient(exc):
                raise
            if delay is None:
                log.warning("a reply to chat %s could not be sent: %s", chat.id, exc)
                raise Undelivered from exc
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def keyboard_of(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons]
    )


async def on_owed_reply(update: Update, context: Context) -> None:
    """Before any other handler: says the reply the user missed. A typed text that comes
    meanwhile was written without seeing it, so it is not read as an answer."""
    user, chat = update.effective_user, update.effective_chat
    store = context.bot_data.store
    if user is None or chat is None or (owed := store.owed_reply(user.id)) is None:
        return
    s = session(update, context)
    L = s.lang
    text, buttons = owed
    message = update.message
    typed = message is not None and message.text is not None and not message.text.startswith("/")
    note = ""
    if typed and message is not None and message.text is not None:
        note = "\n\n" + L._(
            "Your message “{text}” was not taken as an answer, since the reply above had not reached you. "
            "Send it again if it answers the question."
        ).format(text=quote(message.text))
    pages = split_html("ℹ️ " + L._("My last reply did not reach you. Here it is:") + "\n\n" + text + note)
    try:
        for i, page in enumerate(pages):
            await deliver(chat, page, keyboard_of(buttons) if i == len(pages) - 1 else None)
    except Undelivered:
        if note:
            store.owe_reply(user.id, chat.id, note.strip(), buttons)
    except TelegramError:  # refused for good (blocked, a 400): not tried again at every message
        log.warning("the reply owed to %s could not be sent", user.id, exc_info=True)
        store.reply_delivered(user.id)
    else:
        store.reply_delivered(user.id)
    if typed:
        raise ApplicationHandlerStop
