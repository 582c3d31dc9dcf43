"""Exactly-once handling of Telegram's at-least-once delivery.

Telegram forgets an update once the bot asks for the next offset (polling) or answers
200 (webhook), and PTB does both as soon as the update is *in its queue* — before any
handler ran. A crash in between would lose the update with no effect and no reply. So:

- :class:`DurableUpdateQueue` is the Application's update queue; ``put`` first writes the
  update to the store's inbox (one transaction) and only then queues it. PTB's Updater
  awaits ``put`` for every update of a batch before it asks for the next offset, and its
  webhook handler awaits it before answering 200: what Telegram forgets is already on disk.
- The inbox key is the update's idempotency key (chat + message id, or the callback query
  id), not the update id, which restarts; an update delivered again is dropped here.
- :class:`OrderedUpdateProcessor` runs different users' updates concurrently and each
  user's in order, drops a flood beyond the per-user limit (one polite line), and marks the
  inbox row handled when its handlers are done.
- At start-up, :func:`replay_pending` queues the updates received but not handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from conversations.kit.send import lang_of
from conversations.kit.session import update_key
from pmm_core.storage.store import Store

log = logging.getLogger(__name__)


def _user_id(update: Update) -> int | None:
    user = update.effective_user
    return user.id if user else None


class DurableUpdateQueue(asyncio.Queue[object]):
    """The Application's update queue: an update is in the store's inbox before PTB lets
    Telegram forget it."""

    def __init__(self) -> None:
        super().__init__()
        self.store: Store | None = None  # set by the application once the store is open

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.store is not None:
            payload = json.dumps(item.to_dict(), ensure_ascii=False)
            if not self.store.inbox_add(update_key(item), item.update_id, _user_id(item), payload):
                log.info("update %s delivered again: already received", item.update_id)
                return
        await super().put(item)

    def requeue(self, update: Update) -> None:
        """Queues an update already in the inbox (a replay at start-up)."""
        super().put_nowait(update)


def replay_pending(store: Store, bot: Bot, queue: DurableUpdateQueue, applied: set[str]) -> int:
    """Queues every update received but not handled before a stop; returns how many. The
    keys of those whose write was committed before the stop go into `applied`: the chat
    tells the user it was saved instead of reading the update again against a state that
    has moved on."""
    count = 0
    pending = store.inbox_pending()
    applied |= store.claimed(key for key, _ in pending)
    for _key, payload in pending:
        update = Update.de_json(json.loads(payload), bot)
        if update is not None:
            queue.requeue(update)
            count += 1
    if count:
        log.warning("handling %s update(s) received before the last stop", count)
    return count


class OrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrency across users, order within a user, a per-user flood limit, and the
    inbox row of each update marked handled once its handlers are done."""

    def __init__(self, flood_messages: int = 20, flood_window: float = 10.0) -> None:
        # The semaphore only bounds memory; fairness comes from the per-user locks, so a
        # flooding user's queued updates never take every slot.
        super().__init__(max_concurrent_updates=4096)
        self.store: Store | None = None  # set by the application once the store is open
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._recent: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self.flood_messages = flood_messages
        self.flood_window = flood_window

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        user = _user_id(update)
        if user is not None and self._flooding(user):
            _close(coroutine)
            await self._slow_down(update, user)
            self._done(update)
            return
        lock = self._locks.setdefault(user or 0, asyncio.Lock())
        self._waiting[user or 0] = self._waiting.get(user or 0, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._done(update)
            left = self._waiting[user or 0] = self._waiting[user or 0] - 1
            if left == 0:
                self._waiting.pop(user or 0, None)
                self._locks.pop(user or 0, None)

    def _flooding(self, user: int) -> bool:
        now = time.monotonic()
        recent = self._recent.setdefault(user, deque())
        while recent and now - recent[0] > self.flood_window:
            recent.popleft()
        recent.append(now)
        if len(self._recent) > 10_000:  # forget quiet users
            for quiet in [u for u, q in self._recent.items() if not q or now - q[-1] > self.flood_window]:
                self._recent.pop(quiet, None)
        return len(recent) > self.flood_messages

    async def _slow_down(self, update: Update, user: int) -> None:
        """One line per flood window, then silence."""
        now = time.monotonic()
        if now - self._warned.get(user, -1e9) < self.flood_window:
            return
        self._warned[user] = now
        chat = update.effective_chat
        if chat is None:
            return
        with contextlib.suppress(TelegramError):
            await chat.send_message(
                lang_of(update)._(
                    "You are sending messages faster than I can read them, so I skipped the last ones. "
                    "Please wait a few seconds, then send your answer again."
                )
            )

    def _done(self, update: Update) -> None:
        if self.store is not None:
            self.store.inbox_done(update_key(update))

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
