"""Heavy work — templates, uploaded files, exports, reports, statistics — in other processes,
one per lane, each job under the limits of its lane.

These builds are pure Python (openpyxl, matplotlib, the spreadsheet reader) and take seconds;
on the event loop, or in a thread holding the GIL, they would freeze every NCP's replies. A
process of its own reads the database through a read-only connection (``pmm_core.jobs``) and
hands back bytes or values.

Lanes (``pmm_core.jobs.Lane``, chosen by the job function): an NCP's /template never queues
behind another NCP's file or the Secretariat's export, and a file never behind an export. On
a 2-core machine that is three processes at most, each started on first use (spawned, so it
shares no threads or connections with the bot) and kept for the next jobs of its lane; one
idle for a while exits, giving its memory back.

Limits (:data:`LIMITS`), so that a bad job ends itself and nothing else:

- address space (``RLIMIT_AS``) of the lane's process: an allocation past it fails with
  MemoryError; the job fails and the process is replaced by a fresh one;
- CPU time (``RLIMIT_CPU``, re-armed before each job): past it the job gets SIGXCPU, which
  raises in the job;
- wall clock: past it the process is killed and the job fails; the lane's next job runs in a
  new process.

A job that fails so raises :class:`pmm_core.jobs.JobFailed`; its own exceptions come back as
they are, and the process stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from pmm_core.jobs import JobFailed, Lane, lane_of

T = TypeVar("T")
MIB = 2**20


@dataclass(frozen=True)
class Limits:
    seconds: float  # wall clock per job: the process is killed past it
    cpu_seconds: int  # CPU time per job: SIGXCPU past it
    memory: int | None  # address space of the process, bytes (None: no limit)
    idle: float | None = None  # an idle process exits after this many seconds


LIMITS: dict[Lane, Limits] = {
    # the Member's own data: a template is built in about a second
    Lane.QUICK: Limits(seconds=120, cpu_seconds=120, memory=1536 * MIB),
    # an untrusted file: the reader refuses it within 60 s and about 100 MB (pmm_core.jobs);
    # 100,000 list rows take about 5 s and 130 MB
    Lane.FILES: Limits(seconds=90, cpu_seconds=75, memory=1024 * MIB, idle=600),
    # exports and reports of a whole cycle
    Lane.REPORTS: Limits(seconds=900, cpu_seconds=900, memory=3072 * MIB, idle=600),
}


class _TooLong(BaseException):
    """Raised in a job by SIGXCPU. A BaseException, so that no ``except Exception`` in the job
    turns it into an answer."""


# ---- the lane's process ------------------------------------------------------------------------


def _serve(conn: Connection, limits: Limits) -> None:
    """The worker process: runs the jobs sent on `conn` one after the other, under `limits`."""
    if limits.memory is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the bot's to handle
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        used = resource.getrusage(resource.RUSAGE_SELF)
        budget = int(used.ru_utime + used.ru_stime) + limits.cpu_seconds
        if hard == resource.RLIM_INFINITY or budget < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (budget, hard))
        exit_after = False
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            reply, exit_after = ("memory", None), True  # what memory is left is not to be trusted
        except _TooLong:
            reply = ("cpu", None)
        except Exception as exc:  # the job's own error, sent back to the caller
            reply = ("error", exc)
        finally:
            resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        try:
            conn.send(reply)
        except Exception as exc:  # a result or an error that does not pickle
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        if exit_after:
            return


def _on_cpu_limit(signum: int, frame: object) -> None:
    raise _TooLong


# ---- the bot's side ------------------------------------------------------------------------------


class _Lane:
    """One process and one job at a time; the jobs of the lane wait their turn in order."""

    def __init__(self, lane: Lane, limits: Limits) -> None:
        self.lane, self.limits = lane, limits
        self._turn = asyncio.Lock()
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"worker-{lane}")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._idle: asyncio.TimerHandle | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    async def run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        async with self._turn:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            loop = asyncio.get_running_loop()
            exchange = loop.run_in_executor(self._io, self._exchange, fn, args)
            try:
                kind, value = await asyncio.wait_for(asyncio.shield(exchange), self.limits.seconds)
            except TimeoutError:
                while not exchange.done():  # the exchange ends with the process (which may be starting)
                    self._kill()
                    await asyncio.wait({exchange}, timeout=0.1)
                with contextlib.suppress(JobFailed):
                    exchange.result()
                raise JobFailed("time") from None
            finally:
                if self.limits.idle is not None and self._process is not None:
                    self._idle = loop.call_later(self.limits.idle, self._idle_exit)
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        if kind == "memory":
            await loop.run_in_executor(self._io, self._stop)
        raise JobFailed(kind)

    def _exchange(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
        """In the lane's thread: sends the job and waits for its reply (starting the process
        first if there is none)."""
        if self._process is None or not self._process.is_alive():
            self._start()
        assert self._conn is not None
        try:
            self._conn.send((fn, args))
            return self._conn.recv()
        except (EOFError, OSError):  # the process died: killed, or out of memory in C code
            self._stop()
            raise JobFailed("died") from None

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, self.limits), name=f"pmm-worker-{self.lane}", daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours

    def _kill(self) -> None:
        process = self._process
        if process is not None and process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
            if not process.is_alive():
                process.close()

    def _idle_exit(self) -> None:
        self._idle = None
        if not self._turn.locked():
            self._io.submit(self._stop)

    def shutdown(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._stop()
        self._io.shutdown(wait=False, cancel_futures=True)


class ProcessWorker:
    """Runs each job in the process of its lane (``pmm_core.jobs.lane_of``)."""

    def __init__(self, limits: dict[Lane, Limits] | None = None) -> None:
        self.limits = {**LIMITS, **(limits or {})}
        self._lanes: dict[Lane, _Lane] = {}

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        lane = lane_of(fn)
        if lane not in self._lanes:
            self._lanes[lane] = _Lane(lane, self.limits[lane])
        return await self._lanes[lane].run(fn, args)

    def pids(self) -> dict[Lane, int]:
        """The lanes' running processes."""
        return {lane: pid for lane, runner in self._lanes.items() if (pid := runner.pid) is not None}

    def shutdown(self) -> None:
        for runner in self._lanes.values():
            runner.shutdown()
        self._lanes.clear()
