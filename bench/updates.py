"""Per-update cost of answering a figure on the whole path, next to the framework's floor, in
one process.

Three bots run the real PTB Application — its update queue, its update fetcher, an update
processor — and the real HTTP request stack, against the same in-process fake Bot API
(httpx.MockTransport), under the same rate limiter class (``RepliesFirstRateLimiter``,
unlimited here: this times the work, not the pace):

- *echo*: a bare PTB bot replying with the text it got;
- *echo+kb*: a PTB bot replying with exactly the message pmm-bot sends for an answer (its
  HTML text and its inline keyboard) — the floor for this reply;
- *pmm-bot*: an NCP typing a figure, through the durable inbox (the update written before
  it is queued), the ordered update processor (per-user order, the inbox's done mark), the
  session from the cache, validation, one transaction (answer, KPI state, conversation
  state, audit, idempotency key), and the reply with the next screen (the KPI result,
  computed, with its formula filled in).

Each update is timed from the bot's getUpdates call that fetches it (as PTB's poller makes
it; for pmm-bot through the inbox request, which writes it to the store) to the moment its
reply reaches the fake server, through the application's update queue and update
processor; one update at a time. It also counts the statements SQLite runs per update, and
the commits (a batch of one update here: the inbox's done marks ride with the next batch).

    python -m bench.updates [--updates 500] [--rounds 3]

The rounds are interleaved so that the machine's drift hits all three alike. Prints min /
median / max over the rounds of each bot's median, and the ratios within each round.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.emulator import FakeBotApi, Sent
from bot.ratelimit import RepliesFirstRateLimiter
from bot.settings import Settings
from conversations.collect.steps import Asking
from conversations.kit.state import ConversationState
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.domain.actions import ChangeSet
from pmm_core.storage.store import Store

NCP = 1001
TOKEN = "123456:BENCH"


def _request(api: FakeBotApi) -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"transport": api.transport()})


class Replies:
    """Resolves a future when the fake server records the bot's next message."""

    def __init__(self, api: FakeBotApi) -> None:
        self.waiting: asyncio.Future[Sent] | None = None
        api.on_message = self._seen

    def _seen(self, sent: Sent) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(sent)

    def next(self) -> asyncio.Future[Sent]:
        self.waiting = asyncio.get_running_loop().create_future()
        return self.waiting


async def _time(
    app: Any, api: FakeBotApi, replies: Replies, text: Callable[[int], str], n: int, before: Callable[[], None] | None
) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each of `n` updates. CPU is the loop thread's (the bot, PTB and
    the in-process fake server), from the update's fetch to the end of its handling: on a
    shared machine it is the work itself, where wall time also counts waiting for a core."""
    timings = []
    for i in range(n):
        if before is not None:
            before()
        api.message(NCP, text(i))
        reply = replies.next()
        cpu, started = time.thread_time(), time.perf_counter()
        await _fetch(app)
        await asyncio.wait_for(reply, timeout=10)
        wall = time.perf_counter() - started
        for _ in range(3):
            await asyncio.sleep(0)  # the update's own end (done mark, task bookkeeping)
        timings.append((wall, time.thread_time() - cpu))
    return timings


def _figure(value: int, _index: int) -> str:
    return f"{value:,}"


async def _fetch(app: Any) -> None:
    """What PTB's poller does with one batch: getUpdates (for pmm-bot, through the inbox
    request), then each update into the application's queue."""
    offset = getattr(app, "_bench_offset", 0)
    updates = await app.bot.get_updates(offset=offset, timeout=0)
    for update in updates:
        await app.update_queue.put(update)
    if updates:
        app._bench_offset = updates[-1].update_id + 1


def _echo_app(api: FakeBotApi, reply: Callable[[Update], Awaitable[None]]) -> Any:
    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await reply(update)

    app = (
        Application.builder()
        .token(TOKEN)
        .request(_request(api))
        .get_updates_request(_request(api))
        .rate_limiter(RepliesFirstRateLimiter(overall_rate=0))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, handler))
    return app


class PmmBench:
    """pmm-bot on a fresh store, its NCP answering ES-05's second figure again and again."""

    def __init__(self, folder: Path) -> None:
        self.api = FakeBotApi()
        self.store = Store.open(folder / "bench.sqlite3")
        self.store.import_members([Member("BE", "eur")])
        cycle = self.store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
        self.store.touch_user(NCP, "Bench", "en")
        self.store.redeem_invite(self.store.create_invite("BE", timedelta(days=1)), NCP)
        # Belgian English reads 1,400 as 1.4 (a count refused): this NCP writes 1,400 as 1400
        self.store.set_number_format(NCP, "comma_dot")
        self.store.apply(ChangeSet(NCP, cycle.id, "BE", answers={"es_alcohol_seizures": "40"}, started=("ES-05",)))
        self.asking = ConversationState(
            step=Asking(kpi="ES-05", dp="es_physical_inspections"), cycle=cycle.id
        ).to_json()
        # one NCP typing hundreds of figures a second: no flood limit here
        settings = Settings(bot_token=TOKEN, flood_messages=1000, flood_window=0.001, _env_file=None)
        self.app = build_application(
            settings,
            load_catalog(),
            store=self.store,
            request=_request(self.api),
            updates_request=_request(self.api),
            rate_limiter=RepliesFirstRateLimiter(overall_rate=0),
            background=False,
        )
        self.replies = Replies(self.api)

    def ask_inspections(self) -> None:
        self.store.save_conversation(NCP, self.asking)

    async def run(self, n: int, offset: int) -> list[tuple[float, float]]:
        return await _time(
            self.app, self.api, self.replies, lambda i: f"{400 + offset + i:,}", n, before=self.ask_inspections
        )

    async def statements(self, n: int) -> tuple[float, float, float]:
        """(statements, of which PRAGMA data_version, commits) per update, over `n` updates:
        from the inbox write to the reply, and the update's end just after."""
        traced: list[str] = []
        conn = self.store._db.conn
        for i in range(n):
            self.ask_inspections()  # the bench's own reset, not counted
            conn.set_trace_callback(traced.append)
            try:
                await _time(self.app, self.api, self.replies, functools.partial(_figure, 7000 + i), 1, None)
                await asyncio.sleep(0.01)
            finally:
                conn.set_trace_callback(None)
        return (len(traced) / n, sum("data_version" in s for s in traced) / n, sum(s == "COMMIT" for s in traced) / n)


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pmm = PmmBench(Path(tmp))
        async with pmm.app:
            await pmm.app.post_init(pmm.app)  # type: ignore[misc]
            await pmm.app.start()
            await pmm.run(3, 0)
            reply = pmm.api.sent[-1]
            if "Saved" not in reply.text:  # the bench times a stored answer, never an error reply
                raise SystemExit(f"pmm-bot did not store the figure: {reply.text[:200]}")
            text, markup = reply.text, InlineKeyboardMarkup.de_json(json.loads(reply.params["reply_markup"]), None)
            sent_before = len(pmm.api.sent)
            await pmm.run(20, 100)
            await asyncio.sleep(0.2)
            per_answer = (len(pmm.api.sent) - sent_before) / 20
            echo_api, kb_api = FakeBotApi(), FakeBotApi()
            echo_replies, kb_replies = Replies(echo_api), Replies(kb_api)

            async def echo(update: Update) -> None:
                assert update.message is not None
                await update.message.reply_text(update.message.text or "")

            async def echo_kb(update: Update) -> None:
                assert update.message is not None
                await update.message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

            echo_app, kb_app = _echo_app(echo_api, echo), _echo_app(kb_api, echo_kb)
            medians: dict[str, dict[str, list[float]]] = {
                kind: {"echo": [], "echo+kb": [], "pmm-bot": []} for kind in ("wall", "CPU")
            }
            async with echo_app, kb_app:
                await echo_app.start()
                await kb_app.start()
                for r in range(rounds):
                    runs = {
                        "echo": await _time(echo_app, echo_api, echo_replies, str, n, None),
                        "echo+kb": await _time(kb_app, kb_api, kb_replies, str, n, None),
                        "pmm-bot": await pmm.run(n, 1000 * (r + 1)),
                    }
                    for name, timings in runs.items():
                        medians["wall"][name].append(statistics.median(w for w, _ in timings))
                        medians["CPU"][name].append(statistics.median(c for _, c in timings))
                await echo_app.stop()
                await kb_app.stop()
            statements, pragmas, commits = await pmm.statements(50)
            await pmm.app.stop()
        pmm.store.close()
    print(
        f"{n} updates per bot per round, {rounds} rounds, each from the update queue to the reply; "
        f"pmm-bot sends {per_answer:.2f} message(s) per answer"
    )
    for kind, by_bot in medians.items():
        for name, values in by_bot.items():
            ms = sorted(v * 1000 for v in values)
            print(
                f"{kind:<4} {name:<8} median per update: min {ms[0]:.3f} ms · median {statistics.median(ms):.3f} ms"
                f" · max {ms[-1]:.3f} ms"
            )
        ratios = sorted(p / k for p, k in zip(by_bot["pmm-bot"], by_bot["echo+kb"], strict=True))
        plain = sorted(p / e for p, e in zip(by_bot["pmm-bot"], by_bot["echo"], strict=True))
        print(
            f"{kind:<4} pmm-bot / echo+kb per round: min {ratios[0]:.2f}× · median {statistics.median(ratios):.2f}×"
            f" · max {ratios[-1]:.2f}×   (pmm-bot / echo: median {statistics.median(plain):.2f}×)"
        )
    print(
        f"SQLite per update: {statements:.1f} statements, {pragmas:.1f} of them PRAGMA data_version, {commits:.1f} commits"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.updates, arguments.rounds))
