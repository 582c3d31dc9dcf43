"""Heavy Secretariat work — exports, reports, statistics with charts — in another process.

These builds are pure Python (openpyxl, matplotlib) and take seconds for a large cycle; on
the event loop, or in a thread holding the GIL, they would freeze every NCP's replies. A
process of its own reads the database through a read-only connection
(``pmm_core.jobs``) and hands back bytes. The process is started on first use (spawned,
so it shares no threads or connections with the bot) and kept for the next jobs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")


class ProcessWorker:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            return await asyncio.wrap_future(self._pool.submit(fn, *args))
        except BrokenProcessPool:
            # The process died (out of memory, killed): this job fails, the next one
            # starts a new process instead of failing for as long as the bot runs.
            self._pool = None
            raise

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
