"""`pmm-bot run` with a watch on its event loop, for bench.load: every callback the loop runs
is timed in CPU time of the loop's thread (so a machine shared with other work does not
count: only the bot's own code does), and those over 25 ms are written, with what they were,
to the file named by PMM_BENCH_STALLS when the bot stops.

    PMM_BENCH_STALLS=stalls.json python -m bench.monitored
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sqlite3
import sys
import threading
import time
import traceback
from asyncio import events
from collections import Counter
from typing import Any

STALL = 0.025
_stalls: list[tuple[float, str]] = []
_worst = [0.0, 0]  # seconds, callbacks run
_run = events.Handle._run
_began = time.monotonic()


_running: list[float] = [0.0]  # when the callback now running began (monotonic), 0 if none
_samples: list[str] = []  # where the loop's thread was, sampled during a long callback


def _timed(self: events.Handle) -> None:
    started = time.thread_time()
    _samples.clear()
    _running[0] = time.monotonic()
    _run(self)
    _running[0] = 0.0
    spent = time.thread_time() - started
    _worst[1] += 1
    if spent > _worst[0]:
        _worst[0] = spent
    if spent > STALL:
        where = Counter(_samples).most_common(2)
        seen = " | ".join(f"{n}× {w}" for w, n in where)
        _stalls.append((spent, f"at {time.monotonic() - _began:.1f} s: {_what(self)} — sampled: {seen}"))


_gc_began = [0.0]
_loop_thread = [0]
_collections: list[tuple[float, int, int]] = []  # (seconds, generation, objects collected) over 10 ms


def _gc_timed(phase: str, info: dict[str, int]) -> None:
    """Python's cyclic collector runs inside whatever callback allocated last: its long
    passes on the loop's thread are timed apart, or they look like the bot's own code."""
    if phase == "start":
        _gc_began[0] = time.thread_time()
    elif (spent := time.thread_time() - _gc_began[0]) > 0.010 and threading.get_ident() == _loop_thread[0]:
        _collections.append((spent, info["generation"], info["collected"]))


def _sampler(loop_thread: int) -> None:
    """Every 5 ms, where the loop's thread is, if one callback has run for over 10 ms: a
    finished callback's task has no stack left to tell what took the time."""
    while True:
        time.sleep(0.005)
        began = _running[0]
        if began and time.monotonic() - began > 0.010:
            frame = sys._current_frames().get(loop_thread)
            stack = traceback.extract_stack(frame) if frame is not None else []
            ours = [
                f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                for f in stack
                if any(f"/{part}/" in f.filename for part in ("conversations", "bot", "pmm_core"))
            ]
            last = f"{stack[-1].filename.rsplit('/', 1)[-1]}:{stack[-1].lineno} {stack[-1].name}" if stack else ""
            _samples.append(" > ".join(ours[-4:]) + f" >> {last}")


def _what(handle: events.Handle) -> str:
    """The task a callback stepped: its coroutine, and the bot's own frames it stopped in."""
    task = getattr(getattr(handle, "_callback", None), "__self__", None)
    if task is None or not hasattr(task, "get_stack"):
        return repr(handle)[:300]
    ours = [
        f"{f.f_code.co_filename.rsplit('/', 2)[-2]}/{f.f_code.co_filename.rsplit('/', 1)[-1]}:{f.f_lineno} {f.f_code.co_name}"
        for f in task.get_stack()
        if any(f"/{part}/" in f.f_code.co_filename for part in ("conversations", "bot", "pmm_core"))
    ]
    return " > ".join(ours)[-400:] or repr(task.get_coro())[:300]


_commits = [0]
_opened_by: Counter[str] = Counter()  # what each transaction did first (its first statement's head)
_after_begin = [False]


def _traced(sql: str) -> None:
    if sql == "COMMIT":
        _commits[0] += 1
    elif sql.startswith("BEGIN"):
        _after_begin[0] = True
    elif _after_begin[0] and not sql.startswith("PRAGMA"):
        _after_begin[0] = False
        _opened_by[" ".join(sql.split()[:3])[:40]] += 1


def _count_commits() -> None:
    """Every connection the bot opens counts its COMMITs (the inbox's, the actions', the
    outbox's), to give commits per action under load."""
    connect = sqlite3.connect

    def counted(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(_traced)
        return conn

    sqlite3.connect = counted  # type: ignore[assignment]


def _dump() -> None:
    path = os.environ.get("PMM_BENCH_STALLS")
    if path:
        report: dict[str, Any] = {
            "worst": _worst[0],
            "callbacks": _worst[1],
            "stalls": _stalls,
            "collections": _collections,
            "commits": _commits[0],
            "transactions": _opened_by.most_common(8),
            "tracked": Counter(type(o).__name__ for o in gc.get_objects()).most_common(12),
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(report, handle)


def main() -> int:
    events.Handle._run = _timed  # type: ignore[method-assign]
    if os.environ.get("PMM_BENCH_COMMITS"):  # a Python call per statement: only when asked
        _count_commits()
    _loop_thread[0] = threading.get_ident()
    gc.callbacks.append(_gc_timed)
    threading.Thread(target=_sampler, args=(threading.get_ident(),), daemon=True).start()
    atexit.register(_dump)
    from bot.cli import main as cli

    return cli(["run"])


if __name__ == "__main__":
    sys.exit(main())
