"""The durable outbox: broadcasts, reminders and notices are rows in the store, drained in
the background at a pace under Telegram's limits, after the replies (``bot.ratelimit``).

- Pace: at most ``rate`` messages per second (default 20, under Telegram's ~30), and at
  most one message per chat per pass of about a second; every send is marked bulk, so the
  rate limiter lets replies to users go first, and a 429 on bulk pauses bulk only.
- Documents (``OutMessage.file``): the file is kept once in the store, each person's row
  points at it and its text is the caption; it is one page, with the same fate rules.
- Once per person and page. A long message goes out in pages; each page Telegram accepts
  is counted in the row (``pages_sent``), so a failure on page 2 resends page 2 only.
- A failure whose request never reached Telegram (connection refused, 429, 5xx) is retried
  later; 403 (the user blocked the bot) marks the row and the chat's other pending rows
  blocked and the user inactive; 400 fails the row.
- An ambiguous failure — the request left and no answer came (a timeout while waiting for
  the reply, the connection dropped after sending) — may mean Telegram delivered the page.
  Bulk sends wait up to ``BULK_READ_TIMEOUT`` (30 s, not the 5 s of replies) for the
  answer; if none comes, the page is marked **uncertain** and never sent again: a
  duplicate broadcast is worse than a missing one that the sender can see. The sender's
  delivery report counts them ("may not have arrived"), and pages after it are not sent.
- A crash mid-broadcast leaves the unsent rows pending; they go out after restart. Only a
  crash between Telegram's answer and the store's write of it (a millisecond) can repeat
  one page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.ratelimit import retry_seconds
from conversations.kit.text import split_html
from pmm_core.domain.records import OutboxRow
from pmm_core.outputs import utf16
from pmm_core.storage.store import Store

log = logging.getLogger(__name__)

ReportSender = Callable[[int, dict[str, int]], Awaitable[None]]
PER_CHAT_GAP = 1.0  # seconds between two messages to one chat
BULK = {"bulk": True}
BULK_READ_TIMEOUT = 30.0  # seconds a bulk send waits for Telegram's answer (replies: PTB's 5 s)
# httpx errors raised before the request was complete: Telegram cannot have acted on it
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout)


def may_have_arrived(exc: TelegramError) -> bool:
    """True if a request failed after it left in full, with no answer: Telegram may have
    acted on it (a read timeout, a connection dropped while waiting for the reply)."""
    if not isinstance(exc, NetworkError) or isinstance(exc, RetryAfter):
        return False
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        return not isinstance(cause, _NOT_SENT)
    # NetworkError: from an httpx transport error, or an HTTP status (5xx: Telegram answered)
    return isinstance(cause, httpx.TransportError) and not isinstance(cause, _NOT_SENT)


def _markup(row: OutboxRow) -> InlineKeyboardMarkup | None:
    if not row.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in line] for line in row.buttons]
    )


class OutboxSender:
    """Drains the outbox in the background at a steady pace; `wake()` starts a pass now."""

    def __init__(
        self,
        bot: ExtBot[Any],
        store: Store,
        rate: float,
        on_report: ReportSender | None = None,
        per_chat_gap: float = PER_CHAT_GAP,
        read_timeout: float = BULK_READ_TIMEOUT,
    ) -> None:
        self.bot = bot
        self.store = store
        self.interval = 1.0 / rate
        self.per_chat_gap = per_chat_gap
        self.on_report = on_report
        self.read_timeout = read_timeout
        self._last_by_chat: dict[int, float] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Runs until cancelled; an error in one pass is logged and the loop goes on."""
        while True:
            try:
                sent = await self.drain_once()
                await self.report()
            except Exception:
                log.exception("outbox pass failed")
                sent = 0
            if not sent:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def report(self) -> int:
        """Sends the delivery reports of the broadcasts that are finished."""
        return await report_finished(self.store, self.on_report) if self.on_report is not None else 0

    async def drain_once(self, limit: int = 200) -> int:
        """Sends the due messages of one pass; returns how many were sent."""
        sent = 0
        next_slot = time.monotonic()
        for row in self.store.due_messages(limit=limit):
            last = self._last_by_chat.get(row.chat_id)
            if last is not None and time.monotonic() - last < self.per_chat_gap:
                continue  # at most one message per chat per second; it goes next pass
            delay = next_slot - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            next_slot = max(next_slot, time.monotonic()) + self.interval
            self._last_by_chat[row.chat_id] = time.monotonic()
            if await _send(self.bot, self.store, row, self.read_timeout):
                sent += 1
        return sent


async def _send(bot: ExtBot[Any], store: Store, row: OutboxRow, read_timeout: float = BULK_READ_TIMEOUT) -> bool:
    """Sends the row's pages not yet accepted (a document: the file with its caption, one
    page); records each accepted page, and the row's fate. True if the row is now sent in full."""
    pages = [row.text] if row.file_id is not None else split_html(row.text)
    done = min(row.pages_sent, len(pages))
    try:
        if row.file_id is not None and done == 0:
            name, data = store.outbox_file(row.file_id)
            await bot.send_document(
                row.chat_id,
                document=data,
                filename=name,
                caption=utf16.cut(row.text, 1024) or None,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(row),
                read_timeout=read_timeout,
                write_timeout=read_timeout,
                rate_limit_args=BULK,
            )
            done = 1
        for i in range(done, len(pages)):
            markup = _markup(row) if i == len(pages) - 1 else None
            await bot.send_message(
                row.chat_id,
                pages[i],
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                read_timeout=read_timeout,
                rate_limit_args=BULK,
            )
            done = i + 1
            if done < len(pages):
                store.mark_page_sent(row.id, done)
    except RetryAfter as exc:
        store.mark_retry(row.id, timedelta(seconds=retry_seconds(exc)), "429 retry after", max_attempts=50)
        return False
    except Forbidden:
        store.mark_blocked(row.id, row.chat_id)
        return False
    except BadRequest as exc:
        store.mark_retry(row.id, timedelta(0), f"400 {exc.message}", max_attempts=1)
        return False
    except TelegramError as exc:
        if may_have_arrived(exc):
            log.warning(
                "outbox %s: page %s of %s may have arrived (no answer): not sent again", row.id, done + 1, len(pages)
            )
            store.mark_uncertain(row.id, done, f"no answer: {exc}")
        else:
            store.mark_retry(row.id, timedelta(seconds=30 * (row.attempts + 1)), str(exc))
        return False
    store.mark_sent(row.id)
    return True


async def report_finished(store: Store, send_report: ReportSender) -> int:
    """Sends each finished broadcast's delivery report (once); returns how many."""
    reported = 0
    for broadcast in store.queued_broadcasts():
        counts = store.outbox_counts(broadcast_id=broadcast.id)
        if counts.get("pending"):
            continue
        if store.finish_broadcast(broadcast.id):
            await send_report(broadcast.created_by, counts)
            reported += 1
    return reported
