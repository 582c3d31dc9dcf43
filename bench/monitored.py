"""`pmm-bot run` with a watch on its event loop, for bench.load: every callback the loop runs
is timed in CPU time of the loop's thread (so a machine shared with other work does not
count: only the bot's own code does), and those over 25 ms are written, with what they were,
to the file named by PMM_BENCH_STALLS when the bot stops.

    PMM_BENCH_STALLS=stalls.json python -m bench.monitored
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from asyncio import events
from typing import Any

STALL = 0.025
_stalls: list[tuple[float, str]] = []
_worst = [0.0, 0]  # seconds, callbacks run
_run = events.Handle._run


def _timed(self: events.Handle) -> None:
    started = time.thread_time()
    _run(self)
    spent = time.thread_time() - started
    _worst[1] += 1
    if spent > _worst[0]:
        _worst[0] = spent
    if spent > STALL:
        _stalls.append((spent, _what(self)))


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


def _dump() -> None:
    path = os.environ.get("PMM_BENCH_STALLS")
    if path:
        report: dict[str, Any] = {"worst": _worst[0], "callbacks": _worst[1], "stalls": _stalls}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(report, handle)


def main() -> int:
    events.Handle._run = _timed  # type: ignore[method-assign]
    atexit.register(_dump)
    from bot.cli import main as cli

    return cli(["run"])


if __name__ == "__main__":
    sys.exit(main())
