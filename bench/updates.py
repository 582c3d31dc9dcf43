"""Per-update cost of answering a figure, next to the framework's floor, in one process.

Three bots run the real PTB Application and HTTP request stack against the same in-process
fake Bot API (httpx.MockTransport):

- *echo*: a bare PTB bot replying with the text it got;
- *echo+kb*: a PTB bot replying with exactly the message pmm-bot sends for an answer (its
  HTML text and its inline keyboard) — the floor for this reply;
- *pmm-bot*: an NCP typing a figure: session from the cache, validation, one transaction
  (answer, KPI state, conversation state, audit, idempotency key), the reply with the next
  screen (here the KPI result, computed, with its formula filled in).

    python -m bench.updates [--updates 500] [--rounds 3]

Each round times every bot on `--updates` updates; the rounds are interleaved so that the
machine's drift hits all three alike. Prints min / median / max over the rounds of each
bot's median, and the ratios within each round.
"""

from __future__ import annotations

import argparse
import asyncio
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
from bot.emulator import FakeBotApi
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


async def _time(
    app: Any, api: FakeBotApi, text: Callable[[int], str], n: int, before: Callable[[], None] | None = None
) -> list[float]:
    timings = []
    for i in range(n):
        if before is not None:
            before()
        update = Update.de_json(api.message(NCP, text(i)), app.bot)
        started = time.perf_counter()
        await app.process_update(update)
        timings.append(time.perf_counter() - started)
    return timings


def _echo_app(api: FakeBotApi, reply: Callable[[Update], Awaitable[None]]) -> Any:
    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await reply(update)

    app = Application.builder().token(TOKEN).request(_request(api)).get_updates_request(_request(api)).build()
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
        self.store.apply(ChangeSet(NCP, cycle.id, "BE", answers={"es_alcohol_seizures": "40"}, started=("ES-05",)))
        self.asking = ConversationState(
            step=Asking(kpi="ES-05", dp="es_physical_inspections"), cycle=cycle.id
        ).to_json()
        settings = Settings(bot_token=TOKEN, _env_file=None)
        self.app = build_application(
            settings,
            load_catalog(),
            store=self.store,
            request=_request(self.api),
            updates_request=_request(self.api),
            rate_limiter=RepliesFirstRateLimiter(overall_rate=0),
            background=False,
        )

    def ask_inspections(self) -> None:
        self.store.save_conversation(NCP, self.asking)

    async def run(self, n: int, offset: int) -> list[float]:
        return await _time(self.app, self.api, lambda i: f"{400 + offset + i:,}", n, before=self.ask_inspections)


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pmm = PmmBench(Path(tmp))
        async with pmm.app:
            await pmm.app.post_init(pmm.app)  # type: ignore[misc]
            await pmm.run(3, 0)
            reply = pmm.api.sent[-1]
            text, markup = reply.text, InlineKeyboardMarkup.de_json(json.loads(reply.params["reply_markup"]), None)
            per_answer = sum(1 for m in pmm.api.sent if m.chat_id == NCP) / 3
            echo_api, kb_api = FakeBotApi(), FakeBotApi()

            async def echo(update: Update) -> None:
                assert update.message is not None
                await update.message.reply_text(update.message.text or "")

            async def echo_kb(update: Update) -> None:
                assert update.message is not None
                await update.message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

            echo_app, kb_app = _echo_app(echo_api, echo), _echo_app(kb_api, echo_kb)
            medians: dict[str, list[float]] = {"echo": [], "echo+kb": [], "pmm-bot": []}
            ratios: dict[str, list[float]] = {"pmm-bot / echo+kb": [], "pmm-bot / echo": []}
            async with echo_app, kb_app:
                for r in range(rounds):
                    e = statistics.median(await _time(echo_app, echo_api, str, n))
                    k = statistics.median(await _time(kb_app, kb_api, str, n))
                    p = statistics.median(await pmm.run(n, 1000 * (r + 1)))
                    medians["echo"].append(e)
                    medians["echo+kb"].append(k)
                    medians["pmm-bot"].append(p)
                    ratios["pmm-bot / echo+kb"].append(p / k)
                    ratios["pmm-bot / echo"].append(p / e)
        pmm.store.close()
    print(f"{n} updates per bot per round, {rounds} rounds; pmm-bot sends {per_answer:.1f} message(s) per answer")
    for name, values in medians.items():
        ms = sorted(v * 1000 for v in values)
        print(
            f"{name:<10} median per update: min {ms[0]:.3f} ms · median {statistics.median(ms):.3f} ms · max {ms[-1]:.3f} ms"
        )
    for name, values in ratios.items():
        v = sorted(values)
        print(f"{name:<18} min {v[0]:.2f}× · median {statistics.median(v):.2f}× · max {v[-1]:.2f}×")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.updates, arguments.rounds))
