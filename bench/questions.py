"""What the questions on figures add to every update, in one run.

Every update now passes two hooks of ``conversations.questions``: on a figure's screen its text
route asks first whether the text is a reply to a waiting question, and after the update a
handler delivers stored thread messages, reads the Secretariat's notices and ends an
amendment. This times both on the NCP's answer of ``bench.updates`` (a figure typed, one
transaction, the result screen), with `--threads` questions open on other figures of the
Member, and prints each hook's median next to the whole update's median.

    python -m bench.questions [--updates 300] [--threads 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.updates import NCP, PmmBench
from conversations.kit.dispatch import Dispatcher
from conversations.questions import flow
from pmm_core.domain.threads import AuthorRole, MessageKind
from pmm_core.storage.thread_store import Act, ThreadStore


async def main(updates: int, threads: int) -> None:
    bench = PmmBench(Path(tempfile.mkdtemp()))
    app = bench.app
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    store = ThreadStore(bench.store)
    cycle = bench.store.current_cycle()
    assert cycle is not None
    for i in range(threads):  # questions on other figures, answered: they take no text
        act = Act(1, AuthorRole.SECRETARIAT, "en", key=f"bench-q{i}")
        opened = store.open_thread(
            act,
            cycle_id=cycle.id,
            member="BE",
            kpi="TF-02",
            data_point="tf_aeo_valid",
            points=("tf_aeo_valid",),
            text=f"question {i}",
            figure="",
        )
        assert opened.thread is not None
        store.post(Act(NCP, AuthorRole.NCP, "en", key=f"bench-a{i}"), opened.thread.id, MessageKind.REPLY, "ok")
    timings: dict[str, list[float]] = {"text route": [], "after the update": []}
    condition = flow._a_reply  # the questions' text route on a figure's screen asks this first

    def timed_condition(s: Any, text: str) -> bool:
        started = time.perf_counter()
        taken = condition(s, text)
        timings["text route"].append(time.perf_counter() - started)
        return taken

    dispatcher = app.bot_data.screens
    assert isinstance(dispatcher, Dispatcher)
    for route in dispatcher.texts.get(flow.Asking, []):
        if route.when is condition:
            object.__setattr__(route, "when", timed_condition)
    for handler in app.handlers[1]:
        callback = handler.callback

        async def timed(update: Any, context: Any, callback: Any = callback) -> None:
            started = time.perf_counter()
            await callback(update, context)
            timings["after the update"].append(time.perf_counter() - started)

        handler.callback = timed
    await bench.run(50, 0)  # warm up
    for values in timings.values():
        values.clear()
    whole = await bench.run(updates, 1000)
    total = statistics.median(wall for wall, _ in whole)
    print(f"{updates} answers, {threads} questions open on the Member; median per update {total * 1000:.3f} ms")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:<17} median {median * 1000:.3f} ms · {median / total:.1%} of the update")
    await app.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--threads", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.threads))
