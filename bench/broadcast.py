"""Broadcast to 1,000 fake NCPs through the fake Bot API and the durable outbox.

Prints the achieved rate as a fraction of the configured limit, the busiest second, and
the messages lost and duplicated, with 429s (retry_after) and 403s (blocked) injected.
Run:

    python -m bench.broadcast [--ncps 1000] [--rate 20] [--429 5] [--403 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.emulator import FakeBotApi
from bot.outbox import OutboxSender
from bot.ratelimit import RepliesFirstRateLimiter
from pmm_core.catalog.members import Member
from pmm_core.domain.records import OutMessage
from pmm_core.storage.store import Store

SECRETARIAT = 1


async def run(ncps: int, rate: float, throttled: int, blocked: int) -> None:
    api = FakeBotApi()
    ids = list(range(100_000, 100_000 + ncps))
    for chat_id in ids[:throttled]:
        api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=chat_id)
    for chat_id in ids[-blocked:] if blocked else []:
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=chat_id)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.sqlite3")
        store.import_members([Member("BE", "eur")])
        for chat_id in ids:
            store.touch_user(chat_id, f"NCP {chat_id}", "en")
            store.redeem_invite(store.create_invite("BE", timedelta(days=1)), chat_id)
        messages = [OutMessage(str(i), i, "The PMM deadline is in 7 days.") for i in ids]
        store.create_broadcast(SECRETARIAT, "all", {"en": "The PMM deadline is in 7 days."}, messages)
        request = HTTPXRequest(httpx_kwargs={"transport": api.transport()})
        app = (
            Application.builder()
            .token("123456:BENCH")
            .request(request)
            .get_updates_request(HTTPXRequest(httpx_kwargs={"transport": api.transport()}))
            .rate_limiter(RepliesFirstRateLimiter(max_retries=3))
            .build()
        )
        async with app:
            sender = OutboxSender(app.bot, store, rate)
            started = time.perf_counter()
            while (store.outbox_counts()).get("pending"):
                if not await sender.drain_once():
                    await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - started
        counts = store.outbox_counts()
        store.close()
    delivered = Counter(m.chat_id for m in api.sent)
    lost = sum(1 for i in ids[: ncps - blocked] if delivered[i] == 0)
    duplicated = sum(1 for i in ids if delivered[i] > 1)
    sends = [p for m, p in api.calls if m == "sendMessage"]
    busiest = _busiest_second(api)
    achieved = len(api.sent) / elapsed
    print(f"recipients {ncps}, configured rate {rate:g} msg/s, injected 429: {throttled}, 403: {blocked}")
    print(f"delivered {len(api.sent)} in {elapsed:.1f} s ({len(sends)} sendMessage calls incl. retries)")
    print(
        f"achieved {achieved:.1f} msg/s = {achieved / rate:.0%} of the configured limit; busiest second {busiest} msg"
    )
    print(f"outbox: {dict(counts)}; lost {lost}, duplicated {duplicated}")


def _busiest_second(api: FakeBotApi) -> int:
    """Most messages in any one-second window, from the emulator's receive times."""
    times = sorted(api.received_at)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ncps", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--429", dest="throttled", type=int, default=5)
    parser.add_argument("--403", dest="blocked", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.ncps, args.rate, args.throttled, args.blocked))
