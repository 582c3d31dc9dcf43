"""Telegram's allowance — about 30 messages per second in all, about one per second in a
chat with short bursts — with replies before bulk, in two lanes.

PTB's AIORateLimiter treats every request alike and pauses every request of the bot on a
429, so a broadcast draining at its pace, or hitting a 429, delays the replies NCPs wait
for. Here a request sent with ``rate_limit_args={"bulk": True}`` (the outbox: broadcasts,
reminders) is in the bulk lane:

- Overall: a reply takes any free slot of the last second's ``overall_rate`` (30); bulk
  only while fewer than ``overall_rate - reserve`` (20) went out, so it yields to replies,
  and a reply waits only when replies alone exceed Telegram's limit.
- Per chat: a token bucket of ``chat_burst`` messages refilled at ``chat_rate`` per second
  (3, then one a second), for both lanes; a reply that follows a screen at once still goes
  at once. ``chat_rate=0`` lifts it (the demo, against a local emulator).
- 429: the request is retried after ``retry_after``. A 429 on bulk pauses the bulk lane
  only — replies go on; a 429 on a reply pauses both lanes, as Telegram asks.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class _Bucket:
    """Tokens of one chat: `burst` at most, refilled at `rate` per second."""

    __slots__ = ("at", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.at = now

    def wait(self, burst: float, rate: float, now: float) -> float:
        """Seconds until a token is free (0: taken now)."""
        self.tokens = min(burst, self.tokens + (now - self.at) * rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate


class RepliesFirstRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        overall_rate: float = 30,
        reserve: float = 10,
        max_retries: int = 3,
        chat_rate: float = 1.0,
        chat_burst: float = 3.0,
    ) -> None:
        self.overall_rate = overall_rate
        self.reserve = reserve
        self.max_retries = max_retries
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self._sent: deque[float] = deque()
        self._paused_until = {False: 0.0, True: 0.0}  # by lane: bulk?
        self._chats: dict[object, _Bucket] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _free(self, bulk: bool, chat: object, now: float) -> float:
        """Takes a slot and returns 0, or returns the seconds to wait for one."""
        wait = self._paused_until[bulk] - now
        if wait > 0:
            return wait
        while self._sent and now - self._sent[0] >= 1.0:
            self._sent.popleft()
        limit = self.overall_rate - (self.reserve if bulk else 0)
        if len(self._sent) >= limit:
            return 1.0 - (now - self._sent[0]) + 0.001
        bucket = self._chats.get(chat) if self.chat_rate > 0 else None
        if bucket is None and self.chat_rate > 0:
            if len(self._chats) > 10_000:  # forget the chats whose bucket is full again
                full = now - self.chat_burst / self.chat_rate
                self._chats = {c: b for c, b in self._chats.items() if b.at > full}
            bucket = self._chats[chat] = _Bucket(self.chat_burst, now)
        if bucket is not None and (wait := bucket.wait(self.chat_burst, self.chat_rate, now)) > 0:
            return wait
        self._sent.append(now)
        return 0.0

    async def _slot(self, bulk: bool, chat: object) -> None:
        """Waits for a slot in the last second's window and in the chat's bucket. No lock:
        the check and the take run without an await between them."""
        if self.overall_rate <= 0:
            return
        while (wait := self._free(bulk, chat, time.monotonic())) > 0:
            await asyncio.sleep(min(wait, 1.0) if bulk else min(wait, 0.05))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | JSONDict | list[JSONDict]:
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        chat = data.get("chat_id")
        limited = chat is not None
        for attempt in range(self.max_retries + 1):
            if limited:
                await self._slot(bulk, chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                delay = retry_seconds(exc)
                log.warning("Telegram asked to wait %.1f s (%s, %s)", delay, endpoint, "bulk" if bulk else "reply")
                until = time.monotonic() + delay
                lanes = (True,) if bulk else (True, False)  # bulk's 429 never holds up replies
                for lane in lanes:
                    self._paused_until[lane] = max(self._paused_until[lane], until)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
