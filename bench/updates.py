"""Per-update cost of answering a data point, next to a bare PTB echo bot.

Both bots run the real PTB Application and HTTP request stack against the same in-process
fake Bot API (httpx.MockTransport). The pmm-bot update is an NCP typing a figure: session
lookup, validation, a durable SQLite write (update id, answer, audit), the "Saved" reply and
the next step (here the KPI result). The echo bot replies once. Run:

    python -m bench.updates [--updates 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from telegram import Update
from telegram.ext import AIORateLimiter, Application, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.emulator import FakeBotApi
from bot.settings import Settings
from pmm_core.catalog import load_catalog
from pmm_core.members import Member
from pmm_core.store import Store

NCP = 1001
TOKEN = "123456:BENCH"


def _request(api: FakeBotApi) -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"transport": api.transport()})


async def _time(app: Application, api: FakeBotApi, make_update, before=None, n: int = 300) -> list[float]:
    timings = []
    for i in range(n):
        if before is not None:
            await before()
        update = Update.de_json(make_update(i), app.bot)
        started = time.perf_counter()
        await app.process_update(update)
        timings.append(time.perf_counter() - started)
    return timings


async def echo_bot(n: int) -> list[float]:
    api = FakeBotApi()

    async def echo(update: Update, _context) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app = Application.builder().token(TOKEN).request(_request(api)).get_updates_request(_request(api)).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        return await _time(app, api, lambda i: api.message(NCP, str(i + 1)), n=n)


async def pmm_bot(n: int, db_path: Path) -> list[float]:
    api = FakeBotApi()
    store = Store.open(db_path)
    store.import_members([Member("BE", "eur")])
    store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    store.touch_user(NCP, "Bench", "en")
    store.redeem_invite(store.create_invite("BE", timedelta(days=1)), NCP)
    catalog = load_catalog()
    cycle = store.current_cycle()
    store.save_answer(cycle.id, "BE", "es_alcohol_seizures", "40", NCP, kpi="ES-05")
    settings = Settings(bot_token=TOKEN, _env_file=None)
    app = build_application(
        settings,
        catalog,
        store=store,
        request=_request(api),
        updates_request=_request(api),
        rate_limiter=AIORateLimiter(overall_max_rate=0),
    )

    async def ask_inspections() -> None:
        store.set_cursor(NCP, "ES-05", "es_physical_inspections")

    async with app:
        await app.post_init(app)
        timings = await _time(app, api, lambda i: api.message(NCP, f"{400 + i:,}"), before=ask_inspections, n=n)
    replies = sum(1 for m in api.sent if m.chat_id == NCP)
    store.close()
    print(f"pmm-bot sent {replies} messages for {n} answers ({replies / n:.1f} per answer)")
    return timings


def _summary(name: str, timings: list[float]) -> str:
    ms = sorted(t * 1000 for t in timings)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"{name:<28} median {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms   mean {statistics.mean(ms):6.2f} ms"


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pmm = await pmm_bot(n, Path(tmp) / "bench.sqlite3")
    echo = await echo_bot(n)
    print(_summary("bare PTB echo bot", echo))
    print(_summary("pmm-bot: answer a figure", pmm))
    print(f"ratio (median pmm-bot / median echo): {statistics.median(pmm) / statistics.median(echo):.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    asyncio.run(main(parser.parse_args().updates))
