"""Telegram's overall limit (about 30 messages per second), with replies before bulk.

PTB's AIORateLimiter treats every request alike, so a broadcast draining at its pace
delays the replies NCPs wait for. Here a request sent with ``rate_limit_args={"bulk":
True}`` (the outbox: broadcasts, reminders) only takes a slot while fewer than
``overall_rate - reserve`` messages went out in the last second; a reply takes any free
slot. So bulk yields to replies, and a reply waits only when replies alone exceed
Telegram's limit. A 429 pauses every request for its ``retry_after``, as Telegram asks.
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


class RepliesFirstRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(self, overall_rate: float = 30, reserve: float = 10, max_retries: int = 3) -> None:
        self.overall_rate = overall_rate
        self.reserve = reserve
        self.max_retries = max_retries
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def _slot(self, bulk: bool) -> None:
        """Waits for a slot in the last second's window."""
        if self.overall_rate <= 0:
            return
        limit = self.overall_rate - (self.reserve if bulk else 0)
        while True:
            async with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= 1.0:
                    self._sent.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._sent) < limit:
                    self._sent.append(now)
                    return
                if wait <= 0:
                    wait = 1.0 - (now - self._sent[0]) + 0.001
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
        limited = "chat_id" in data
        for attempt in range(self.max_retries + 1):
            if limited:
                await self._slot(bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                delay = retry_seconds(exc)
                log.warning("Telegram asked to wait %.1f s (%s)", delay, endpoint)
                self._paused_until = max(self._paused_until, time.monotonic() + delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
