"""A broadcast goes out once per person and page, whatever the network does: the outbox
against the strict fake Bot API over loopback HTTP (PTB's real request stack, real
timeouts), counting the copies of each page that reached each chat.

Faults: the request accepted and its answer lost (connection dropped), an answer slower
than a reply's timeout but within the bulk wait, an answer slower than the bulk wait, a
5xx on page 2, the answer of page 2 lost, a connection refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.emulator import FakeBotApi
from bot.outbox import OutboxSender
from bot.ratelimit import RepliesFirstRateLimiter
from conversations.kit.text import split_html
from pmm_core.domain.records import OutMessage
from pmm_core.storage.store import Store
from tests.conftest import Clock

SENDER, NCP, OTHER = 9001, 1001, 1002
REPLY_TIMEOUT = 0.5  # a reply's read timeout in these tests (PTB's default is 5 s)
BULK_TIMEOUT = 2.0  # the outbox's longer wait (30 s in production)
LONG = "\n\n".join(f"Paragraph {i}: " + "word " * 60 for i in range(20))  # two pages


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    api = FakeBotApi()
    yield api
    api.shutdown()


@pytest.fixture
async def sender(api, store) -> AsyncIterator[OutboxSender]:
    base = api.serve()
    app = (
        Application.builder()
        .token("123456:OUTBOX")
        .base_url(f"{base}/bot")
        .request(HTTPXRequest(read_timeout=REPLY_TIMEOUT))
        .get_updates_request(HTTPXRequest())
        .rate_limiter(RepliesFirstRateLimiter(overall_rate=0))
        .build()
    )
    async with app:
        yield OutboxSender(app.bot, store, rate=1000, per_chat_gap=0.0, read_timeout=BULK_TIMEOUT)


def broadcast(store: Store, text: str, chats=(NCP,)) -> int:
    messages = [OutMessage(str(c), c, text) for c in chats]
    broadcast_id = store.create_broadcast(SENDER, "all", {"en": text}, messages)
    assert broadcast_id is not None
    return broadcast_id


def copies(api: FakeBotApi, chat: int) -> Counter[str]:
    """How many times each page text reached the chat."""
    return Counter(m.text for m in api.messages_to(chat))


async def drain_until_settled(sender: OutboxSender, clock: Clock, passes: int = 6) -> None:
    """Outbox passes with the clock moved past every retry delay in between."""
    for _ in range(passes):
        await sender.drain_once()
        clock.now += timedelta(minutes=10)


def state_of(store: Store, chat: int) -> tuple[str, int]:
    row = store._db.one("SELECT state, pages_sent FROM outbox WHERE chat_id = ?", (chat,))
    assert row is not None
    return row["state"], row["pages_sent"]


def test_the_test_text_is_two_pages():
    assert len(split_html(LONG)) == 2


async def test_accepted_but_answer_lost_is_not_sent_again(api, store, sender, clock):
    broadcast(store, "Deadline in 7 days.", chats=(NCP, OTHER))
    api.lose_answer("sendMessage", chat_id=NCP)
    await drain_until_settled(sender, clock)
    print(f"\nanswer lost: copies to the NCP {copies(api, NCP).total()}, to another {copies(api, OTHER).total()}")
    assert copies(api, NCP) == {"Deadline in 7 days.": 1}
    assert copies(api, OTHER) == {"Deadline in 7 days.": 1}
    assert state_of(store, NCP) == ("uncertain", 0)
    assert store.outbox_counts() == {"sent": 1, "uncertain": 1}


async def test_a_slow_answer_within_the_bulk_wait_is_waited_for(api, store, sender, clock):
    broadcast(store, "Deadline in 7 days.")
    api.slow("sendMessage", seconds=REPLY_TIMEOUT * 2, chat_id=NCP)  # a reply would have timed out
    await drain_until_settled(sender, clock)
    assert copies(api, NCP) == {"Deadline in 7 days.": 1}
    assert state_of(store, NCP) == ("sent", 0)


async def test_an_answer_slower_than_the_bulk_wait_is_uncertain_not_repeated(api, store, sender, clock):
    broadcast(store, "Deadline in 7 days.")
    api.slow("sendMessage", seconds=BULK_TIMEOUT + 1, chat_id=NCP)
    await drain_until_settled(sender, clock)
    print(f"\nslower than the bulk wait: copies {copies(api, NCP).total()}")
    assert copies(api, NCP) == {"Deadline in 7 days.": 1}
    assert state_of(store, NCP)[0] == "uncertain"


async def test_a_failure_on_page_two_resends_page_two_only(api, store, sender, clock):
    broadcast(store, LONG)
    first, second = split_html(LONG)
    api.fail_after("sendMessage", 1, 500, "Internal Server Error", chat_id=NCP)
    await sender.drain_once()
    assert copies(api, NCP) == {first: 1}
    assert state_of(store, NCP) == ("pending", 1)
    await drain_until_settled(sender, clock)
    print(f"\n500 on page 2: copies of page 1 {copies(api, NCP)[first]}, page 2 {copies(api, NCP)[second]}")
    assert copies(api, NCP) == {first: 1, second: 1}
    assert state_of(store, NCP)[0] == "sent"
    assert api.messages_to(NCP)[-1].text == second  # in order


async def test_page_two_answer_lost_sends_each_page_once(api, store, sender, clock):
    broadcast(store, LONG)
    first, second = split_html(LONG)
    api.lose_answer("sendMessage", chat_id=NCP, after=1)
    await drain_until_settled(sender, clock)
    assert copies(api, NCP) == {first: 1, second: 1}
    assert state_of(store, NCP) == ("uncertain", 1)


async def test_a_refused_connection_is_retried_and_delivered_once(store, clock):
    # Refused before anything left: only the in-process transport can tell it apart (over a
    # socket the emulator can only drop the connection, which reads as "answer lost").
    api = FakeBotApi()
    app = (
        Application.builder()
        .token("123456:OUTBOX")
        .request(HTTPXRequest(httpx_kwargs={"transport": api.transport()}))
        .get_updates_request(HTTPXRequest(httpx_kwargs={"transport": api.transport()}))
        .rate_limiter(RepliesFirstRateLimiter(overall_rate=0))
        .build()
    )
    broadcast(store, "Deadline in 7 days.")
    api.refuse("sendMessage", times=2, chat_id=NCP)
    async with app:
        sender = OutboxSender(app.bot, store, rate=1000, per_chat_gap=0.0)
        await drain_until_settled(sender, clock)
    assert copies(api, NCP) == {"Deadline in 7 days.": 1}
    assert state_of(store, NCP)[0] == "sent"


async def test_the_sender_is_told_how_many_may_not_have_arrived(chat):
    broadcast(chat.store, "Deadline in 7 days.", chats=(NCP, OTHER))
    chat.api.lose_answer("sendMessage", chat_id=NCP)
    await chat.drain()
    report = chat.api.last_to(SENDER).text
    assert "1 sent" in report and "1 may not have arrived" in report
    assert copies(chat.api, NCP).total() == 1
