"""Exactly-once handling of Telegram's at-least-once delivery.

Telegram forgets an update once the bot asks for the next offset (polling) or answers
200 (webhook), and PTB does both as soon as the update is *in its queue* — before any
handler ran. A crash in between would lose the update with no effect and no reply. So:

- :class:`InboxRequest` is PTB's request for ``getUpdates``: it writes each fetched batch
  to the store's inbox, in one transaction, from Telegram's own JSON, before PTB even
  parses it — so before PTB can ask for the next offset. :class:`DurableUpdateQueue` is the
  Application's update queue: it queues what the inbox took as new, and writes an update
  that did not come that way (a webhook's) itself before queueing it; PTB's webhook handler
  awaits ``put`` before answering 200. What Telegram forgets is already on disk.
- The inbox key is the update's idempotency key (chat + message id, or the callback query
  id), not the update id, which restarts; an update delivered again is dropped here.
- :class:`OrderedUpdateProcessor` runs different users' updates concurrently and each
  user's one at a time in the order they were written: by message id, a button press right
  after the message that carries it (Telegram numbers a private chat's messages, the bot's
  and the user's, in one sequence). Updates that arrive together (a batch of getUpdates, a
  replay) are so sorted even when delivered in another order; an update that comes after
  a later one was handled cannot be, and runs in arrival order. It drops a flood beyond the
  per-user limit (one polite line), and notes the update handled when its handlers are
  done: the done marks are written together with the next batch (or 0.1 s later when no batch
  comes), one commit for many. Each update's handling asks SQLite once whether another process
  wrote (``Store.one_check``).
- At start-up, :func:`replay_pending` queues the updates received but not handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

from conversations.kit.send import lang_of
from conversations.kit.session import update_key
from pmm_core.storage.store import Store

log = logging.getLogger(__name__)
# seconds a done mark may wait for the next batch before it is written alone: under load the
# marks ride with the batches; when quiet, a crash replays at most this window's updates (each
# told "saved" if its write was committed). At 0.1 s, 200 walking NCPs had 0.30 inbox commits per
# update just for marks; at 0.5 s, 0.08 (bench.load --scenario walk --why).
FLUSH_AFTER = 0.5


def _user_id(update: Update) -> int | None:
    user = update.effective_user
    return user.id if user else None


def raw_update_key(data: dict[str, Any]) -> str:
    """:func:`conversations.session.update_key` of an update as Telegram's JSON."""
    if "callback_query" in data:
        return f"q:{data['callback_query']['id']}"
    if "message" in data:
        message = data["message"]
        return f"m:{message['chat']['id']}:{message['message_id']}"
    if "edited_message" in data:
        edited = data["edited_message"]
        return f"e:{edited['chat']['id']}:{edited['message_id']}:{int(edited.get('edit_date') or 0)}"
    return f"u:{data['update_id']}"


def _raw_user_id(data: dict[str, Any]) -> int | None:
    for kind in ("message", "edited_message", "callback_query"):
        if kind in data:
            sender = data[kind].get("from") or {}
            return int(sender["id"]) if "id" in sender else None
    return None


class DurableUpdateQueue(asyncio.Queue[object]):
    """The Application's update queue: an update is in the store's inbox before PTB lets
    Telegram forget it."""

    def __init__(self) -> None:
        super().__init__()
        self.store: Store | None = None  # set by the application once the store is open
        self._fetched: dict[str, bool] = {}  # key → new? for updates the inbox request wrote

    def received(self, body: bytes) -> None:
        """A getUpdates answer: its updates go into the inbox, in one transaction."""
        if self.store is None:
            return
        try:
            updates = json.loads(body).get("result") or []
        except (ValueError, AttributeError):
            return  # PTB reports a malformed answer; nothing was taken
        rows = [
            (raw_update_key(u), int(u["update_id"]), _raw_user_id(u), json.dumps(u, ensure_ascii=False))
            for u in updates
            if isinstance(u, dict) and "update_id" in u
        ]
        if not rows:
            return
        new = self.store.inbox_add_batch(rows)
        if len(self._fetched) > 10_000:  # updates PTB fetched and never queued (it could not parse them)
            self._fetched.clear()
        for key, *_ in rows:
            self._fetched[key] = key in new

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.store is not None:
            key = update_key(item)
            new = self._fetched.pop(key, None)
            if new is None:  # not fetched through the inbox request: a webhook's update
                payload = json.dumps(item.to_dict(), ensure_ascii=False)
                new = self.store.inbox_add(key, item.update_id, _user_id(item), payload)
            if not new:
                log.info("update %s delivered again: already received", item.update_id)
                return
        await super().put(item)

    def requeue(self, update: Update) -> None:
        """Queues an update already in the inbox (a replay at start-up)."""
        super().put_nowait(update)


class InboxRequest(BaseRequest):
    """PTB's request object for getUpdates, around the real one: each answer's updates are
    written to the inbox before PTB parses them (one transaction per batch, from Telegram's
    own JSON — cheaper than serialising PTB's objects again)."""

    def __init__(self, inner: BaseRequest, queue: DurableUpdateQueue) -> None:
        self.inner = inner
        self.queue = queue

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, body = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if code == 200 and url.endswith("/getUpdates"):
            self.queue.received(body)
        return code, body


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


def order_key(update: Update, seen: int = 0) -> tuple[float, int]:
    """Where an update goes among its user's: a message by its id; a press after the
    message that carries its button and after every message that arrived before it (`seen`,
    the highest id so far: pressing an old button does not overtake what was typed since);
    anything else after them, in arrival order."""
    if update.message is not None:
        return (update.message.message_id, 0)
    query = update.callback_query
    if query is not None and query.message is not None:
        return (max(query.message.message_id, seen), 1)
    return (float("inf"), 0)


@dataclass(order=True)
class _Turn:
    key: tuple[float, int]
    seq: int
    event: asyncio.Event = field(default_factory=asyncio.Event, compare=False)


@dataclass
class _Lane:
    """One user's updates: the one running, and the ones waiting, smallest key first."""

    running: bool = False
    waiting: list[_Turn] = field(default_factory=list)


class OrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrency across users, order within a user, a per-user flood limit, and the
    inbox row of each update marked handled once its handlers are done."""

    def __init__(self, flood_messages: int = 20, flood_window: float = 10.0) -> None:
        # The semaphore only bounds memory; fairness comes from the per-user locks, so a
        # flooding user's queued updates never take every slot.
        super().__init__(max_concurrent_updates=4096)
        self.store: Store | None = None  # set by the application once the store is open
        self._lanes: dict[int, _Lane] = {}
        self._seq = itertools.count()
        self._seen: dict[int, int] = {}  # per user, the highest message id that arrived
        self._flush: asyncio.TimerHandle | None = None
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
        key = order_key(update, self._seen.get(user or 0, 0))
        if update.message is not None:
            self._seen[user or 0] = max(self._seen.get(user or 0, 0), update.message.message_id)
        lane = await self._turn(user or 0, key)
        try:
            if self.store is not None:
                with self.store.one_check():
                    await coroutine
            else:
                await coroutine
        finally:
            self._done(update)
            self._release(user or 0, lane)

    async def _turn(self, user: int, key: tuple[float, int]) -> _Lane:
        """Waits until no other update of the user runs and this one has the smallest key
        among those waiting."""
        lane = self._lanes.setdefault(user, _Lane())
        turn = _Turn(key, next(self._seq))
        heapq.heappush(lane.waiting, turn)
        try:
            await asyncio.sleep(0)  # the other updates of the same batch join the queue first
            while lane.running or lane.waiting[0] is not turn:
                turn.event.clear()
                await turn.event.wait()
        except BaseException:  # cancelled while waiting: leave the queue to the others
            lane.waiting.remove(turn)
            heapq.heapify(lane.waiting)
            self._wake(user, lane)
            raise
        heapq.heappop(lane.waiting)
        lane.running = True
        return lane

    def _release(self, user: int, lane: _Lane) -> None:
        lane.running = False
        self._wake(user, lane)

    def _wake(self, user: int, lane: _Lane) -> None:
        if lane.waiting:
            if not lane.running:
                lane.waiting[0].event.set()
        elif not lane.running:
            self._lanes.pop(user, None)
            if len(self._seen) > 10_000:  # forget the users with nothing in flight
                self._seen = {u: m for u, m in self._seen.items() if u in self._lanes}

    @property
    def busy(self) -> bool:
        """True while an update is being handled or waits for its turn."""
        return bool(self._lanes)

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
        if self.store is None:
            return
        self.store.inbox_handled(update_key(update))
        if self._flush is None:  # written with the next batch, or within FLUSH_AFTER seconds
            self._flush = asyncio.get_running_loop().call_later(FLUSH_AFTER, self.flush)

    def flush(self) -> None:
        """Writes the done marks of the updates handled since the last batch."""
        self._flush = None
        if self.store is not None:
            try:
                self.store.flush_inbox()
            except Exception:  # the marks stay noted; a crash would replay those updates
                log.exception("could not mark handled updates in the inbox")

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        self.flush()


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
