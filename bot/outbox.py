"""The durable outbox: broadcasts, reminders and notices are rows in the store, drained in
the background at a pace under Telegram's limits, after the replies (``bot.ratelimit``).

- Pace: at most ``rate`` messages per second (default 20, under Telegram's ~30), and at
  most one message per chat per pass of about a second; every send is marked bulk, so the
  rate limiter lets replies to users go first.
- 429: the limiter waits ``retry_after`` and retries; if it still fails the row is retried
  later, never dropped or duplicated.
- 403 (the user blocked the bot): the row and the chat's other pending rows are marked
  blocked and the user inactive.
- A crash mid-broadcast leaves the unsent rows pending; they go out after restart. A row
  is marked sent right after Telegram accepts it, so only a crash between those two steps
  could repeat one message (at-least-once, like Telegram's own delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.ratelimit import retry_seconds
from conversations.kit.text import split_html
from pmm_core.domain.records import OutboxRow
from pmm_core.storage.store import Store

log = logging.getLogger(__name__)

ReportSender = Callable[[int, dict[str, int]], Awaitable[None]]
PER_CHAT_GAP = 1.0  # seconds between two messages to one chat
BULK = {"bulk": True}


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
    ) -> None:
        self.bot = bot
        self.store = store
        self.interval = 1.0 / rate
        self.per_chat_gap = per_chat_gap
        self.on_report = on_report
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
            if await _send(self.bot, self.store, row):
                sent += 1
        return sent


async def _send(bot: ExtBot[Any], store: Store, row: OutboxRow) -> bool:
    pages = split_html(row.text)
    try:
        for i, page in enumerate(pages):
            markup = _markup(row) if i == len(pages) - 1 else None
            await bot.send_message(
                row.chat_id, page, parse_mode=ParseMode.HTML, reply_markup=markup, rate_limit_args=BULK
            )
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
