"""One commit per update: a fetched batch goes into the inbox in one transaction (with the
done marks of the updates handled before it), an answer is one transaction, and SQLite is
asked once per update whether another process wrote — through PTB's real getUpdates request,
update queue and update processor against the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.delivery import FLUSH_AFTER, raw_update_key
from bot.emulator import FakeBotApi
from bot.ratelimit import RepliesFirstRateLimiter
from bot.settings import Settings
from conversations.collect import buttons as btn
from conversations.kit.buttons import pack
from conversations.kit.session import update_key
from pmm_core.storage.store import Store

NCP = 1001


def test_the_inbox_key_of_telegrams_json_is_the_key_of_the_parsed_update():
    api = FakeBotApi()
    raw = [
        api.message(NCP, "1300"),
        api.press(NCP, "go:TF-02", message_id=12),
        {"update_id": 9, "edited_message": {**api.message(NCP, "x")["message"], "edit_date": 1767225600}},
        {"update_id": 10, "my_chat_member": {}},
    ]
    for data in raw:
        assert raw_update_key(data) == update_key(Update.de_json(data, None))


@pytest.fixture
async def bot(store, catalog, cycle):
    store.touch_user(NCP, "NCP", "en")
    store.redeem_invite(store.create_invite("BE", timedelta(days=1)), NCP)
    api = FakeBotApi()
    app = build_application(
        Settings(bot_token="123456:INBOX", _env_file=None),
        catalog,
        store=store,
        request=HTTPXRequest(httpx_kwargs={"transport": api.transport()}),
        updates_request=HTTPXRequest(httpx_kwargs={"transport": api.transport()}),
        rate_limiter=RepliesFirstRateLimiter(overall_rate=0),
        background=False,
    )
    await app.initialize()
    await app.post_init(app)  # type: ignore[misc]
    await app.start()
    yield app, api, store
    await app.stop()
    await app.shutdown()


async def fetch(app, offset: int) -> int:
    """One pass of PTB's poller: getUpdates, then each update into the queue."""
    updates = await app.bot.get_updates(offset=offset, timeout=0)
    for update in updates:
        await app.update_queue.put(update)
    return updates[-1].update_id + 1 if updates else offset


def traced(store: Store) -> list[str]:
    statements: list[str] = []
    store._db.conn.set_trace_callback(statements.append)
    return statements


async def settle(app, api, count: int) -> None:
    for _ in range(200):
        if app.update_queue.empty() and len(api.sent) >= count:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)


async def test_a_batch_is_one_transaction_and_done_marks_ride_with_the_next(bot, monkeypatch):
    monkeypatch.setattr("bot.delivery.FLUSH_AFTER", 60.0)  # no quiet-time flush in this test
    app, api, store = bot
    for kpi in ("TF-02", "TF-03", "ES-05"):
        api.press(NCP, pack(btn.Go(kpi)))
    statements = traced(store)
    offset = await fetch(app, 0)
    assert statements.count("COMMIT") == 1  # three updates, one transaction
    assert len(store.inbox_pending()) == 3
    await settle(app, api, 3)
    assert len(store.inbox_pending()) == 3  # handled; the marks wait for the next batch
    api.press(NCP, pack(btn.Go("TF-02")))
    statements.clear()
    await fetch(app, offset)
    assert statements.count("COMMIT") == 1
    assert len(store.inbox_pending()) == 1  # the new update only
    assert all(r["payload"] == "" for r in store._db.rows("SELECT payload FROM inbox WHERE done_at IS NOT NULL"))


async def test_done_marks_are_written_soon_when_no_batch_comes(bot):
    app, api, store = bot
    api.press(NCP, pack(btn.Go("TF-02")))
    await fetch(app, 0)
    await settle(app, api, 1)
    assert len(store.inbox_pending()) == 1  # handled: its mark waits for a batch…
    await asyncio.sleep(FLUSH_AFTER + 0.2)
    assert store.inbox_pending() == []  # …or FLUSH_AFTER at most: a crash now replays nothing


async def test_an_answer_costs_one_commit_and_one_cache_check(bot, monkeypatch):
    monkeypatch.setattr("bot.delivery.FLUSH_AFTER", 60.0)
    app, api, store = bot
    api.press(NCP, pack(btn.Go("TF-02")))
    offset = await fetch(app, 0)
    await settle(app, api, 1)
    api.message(NCP, "1300")
    before = len(api.sent)
    await fetch(app, offset)  # its inbox write, and the previous update's done mark
    statements = traced(store)
    await settle(app, api, before + 1)
    assert "Saved" in api.sent[-1].text
    assert statements.count("COMMIT") == 1  # the answer, its state, audit and key together
    # once when the update starts, once under the write lock before the cache is updated
    assert sum("data_version" in s for s in statements) == 2
    app.update_processor.flush()
    assert store.inbox_pending() == []
