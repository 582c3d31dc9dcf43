"""Replies at Telegram's pace: the rate limiter under PTB's real request stack against the
fake Bot API — about 30 messages a second in all, about one a second per chat after a short
burst, and a 429 on bulk (a broadcast) that never holds up the replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telegram.ext import Application, ExtBot
from telegram.request import HTTPXRequest

from bot.emulator import FakeBotApi
from bot.outbox import BULK
from bot.ratelimit import RepliesFirstRateLimiter


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
async def bot(api) -> AsyncIterator[ExtBot]:
    app = (
        Application.builder()
        .token("123456:RATE")
        .request(HTTPXRequest(httpx_kwargs={"transport": api.transport()}))
        .get_updates_request(HTTPXRequest(httpx_kwargs={"transport": api.transport()}))
        .rate_limiter(RepliesFirstRateLimiter())
        .build()
    )
    async with app:
        yield app.bot


def times_to(api: FakeBotApi, chat: int) -> list[float]:
    return [t for t, m in zip(api.received_at, api.sent, strict=True) if m.chat_id == chat]


async def test_replies_go_at_thirty_a_second_overall(bot, api):
    started = time.monotonic()
    await asyncio.gather(*(bot.send_message(1000 + i, "ok") for i in range(45)))
    times = sorted(t - started for t in api.received_at)
    assert times[30] - times[0] >= 0.95  # 30 in the first second, the 31st after it
    assert max(sum(1 for t in times if a <= t < a + 1.0) for a in times) <= 30
    assert times[-1] < 3.0  # and not slower than that


async def test_one_chat_gets_a_short_burst_then_one_a_second(bot, api):
    started = time.monotonic()
    for i in range(5):
        await bot.send_message(77, f"message {i}")
    times = [t - started for t in times_to(api, 77)]
    assert max(times[:3]) < 0.3  # a screen that follows a screen is not delayed
    assert times[3] - times[0] >= 0.9 and 1.9 <= times[4] - times[0] < 2.6


async def test_a_429_on_bulk_never_holds_up_replies(bot, api):
    api.fail("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2, chat_id=5)
    bulk = asyncio.create_task(bot.send_message(5, "broadcast", rate_limit_args=BULK))
    await asyncio.sleep(0.1)  # the broadcast got its 429
    started = time.monotonic()
    await bot.send_message(6, "reply")
    waited = time.monotonic() - started
    also_bulk = asyncio.create_task(bot.send_message(8, "broadcast", rate_limit_args=BULK))
    await bulk
    await also_bulk
    assert waited < 0.3  # the reply did not wait for the broadcast's 429
    assert times_to(api, 5)[0] - times_to(api, 6)[0] >= 1.5  # the broadcast did
    assert times_to(api, 8)[0] - times_to(api, 6)[0] >= 1.5  # and so did the rest of bulk


async def test_a_429_on_a_reply_pauses_bulk_too(bot, api):
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=6)
    reply = asyncio.create_task(bot.send_message(6, "reply"))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await bot.send_message(9, "broadcast", rate_limit_args=BULK)
    assert time.monotonic() - started >= 0.8
    await reply
