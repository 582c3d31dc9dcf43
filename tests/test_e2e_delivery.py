"""Nothing lost, nothing false, against the real `pmm-bot run` process and the loopback Bot
API emulator: the process is killed at random moments right after an NCP types a figure;
update ids restart; Telegram delivers updates twice.

Each typed figure is a distinct value, so its fate can be read back: an input is *lost* if
it has neither an effect (an audit row with its value) nor a reply quoting it; a *false
confirmation* is a "Saved: … = value" reply for a value the store never took."""

import contextlib
import random
import re
import signal
import sqlite3
import time

import pytest

from bot.emulator import FakeBotApi
from conversations.collect.buttons import Edit
from conversations.kit.buttons import pack
from pmm_core.storage.store import Store
from tests.bot_process import seed, start_bot, stop

NCP = 5005
SAVED = re.compile(r"Saved: .* = <b>([\d.,]+)</b>")  # Belgium's English groups with "." (en_BE)


@pytest.fixture
def api():
    api = FakeBotApi()
    yield api
    api.shutdown()


def settle(api: FakeBotApi, limit: float = 30.0) -> None:
    """Waits until every update was fetched and confirmed and the bot went quiet (longer than
    the per-chat pace of one message a second, which spaces the replies to a replay)."""
    api.wait_quiet(NCP, quiet=1.2, limit=limit)


def drain(api: FakeBotApi, db_path, limit: float = 30.0) -> None:
    """Waits until the bot has handled every update in its inbox (a restart slowed by load can
    outlast a quiet second with updates still waiting there), then until it is quiet again."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            if conn.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone()[0] == 0:
                break
        time.sleep(0.1)
    settle(api)


def stored_values(db_path) -> list[str]:
    """Every value ever written to the figure, in order (from the audit log)."""
    store = Store.open(db_path)
    values = [r.new_value for r in store.audit_log() if r.action == "answer" and r.new_value]
    store.close()
    return values


def confirmed_in_replies(api: FakeBotApi) -> list[str]:
    return [re.sub(r"[.,]", "", m.group(1)) for s in api.messages_to(NCP) for m in SAVED.finditer(s.text)]


def ask_first_figure(api: FakeBotApi) -> None:
    api.press(NCP, pack(Edit("TF-02", 0)))


def wait_for_text(api: FakeBotApi, text: str, after: int, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if any(text in m.text for m in api.messages_to(NCP)[after:]):
            return
        time.sleep(0.02)
    raise AssertionError(f"no reply with {text!r}")


def test_kills_between_fetch_and_handling_lose_nothing_and_confirm_nothing_false(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    base = api.serve()
    rng = random.Random(2026)
    kills, typed = 12, []
    bot = start_bot(base, db, tmp_path)
    try:
        for i in range(kills):
            before = len(api.messages_to(NCP))
            ask_first_figure(api)
            wait_for_text(api, "Question 1 of 2", before)
            value = str(10_000 + i)
            typed.append(value)
            api.message(NCP, value)
            time.sleep(rng.uniform(0.0, 0.03))  # somewhere between fetch, write and reply
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
            bot = start_bot(base, db, tmp_path)
            settle(api)
        drain(api, db)
        values, replies = stored_values(db), confirmed_in_replies(api)
        lost = [v for v in typed if v not in values and v not in replies]
        false = [v for v in replies if v not in values]
        # every value was typed for question 1: a reply naming question 2 confirms a write that never happened
        misnamed = [
            label
            for m in api.messages_to(NCP)
            for label in re.findall(r"Saved: (.*?) = <b>", m.text)
            if "previous" in label
        ]
        print(f"\nkills {kills} · inputs lost {len(lost)} · false confirmations {len(false) + len(misnamed)}")
        assert lost == [] and false == [] and misnamed == []
        assert all(values.count(v) == 1 for v in typed)  # each applied exactly once
        polls = sum(1 for method, _ in api.calls if method == "getUpdates")
        while sum(1 for method, _ in api.calls if method == "getUpdates") <= polls + 1:
            time.sleep(0.05)  # polling: its signal handlers are set
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=20) == 0
    finally:
        stop(bot)


def test_update_ids_that_restart_are_still_answered_once(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    bot = start_bot(api.serve(), db, tmp_path)
    typed = []
    try:
        for round_ in range(2):
            for i in range(5):
                before = len(api.messages_to(NCP))
                ask_first_figure(api)
                wait_for_text(api, "Question 1 of 2", before)
                value = str(20_000 + 10 * round_ + i)
                typed.append(value)
                api.message(NCP, value)
                wait_for_text(api, "Saved", before)
            settle(api)
            api.restart_update_ids()  # a week without updates, or a new Bot API server
        values, replies = stored_values(db), confirmed_in_replies(api)
        assert values == typed  # every figure after the restart of the ids is stored…
        assert replies == typed  # …and confirmed once, truthfully
    finally:
        stop(bot)


def test_an_update_delivered_twice_is_answered_once_and_applied_once(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    bot = start_bot(api.serve(), db, tmp_path)
    try:
        ask_first_figure(api)
        wait_for_text(api, "Question 1 of 2", 0)
        update = api.message(NCP, "30000")
        settle(api)
        replies_before, rows_before = len(api.messages_to(NCP)), stored_values(db)
        for _ in range(3):
            api.redeliver(update)  # as Telegram does after a crash
        no = api.message(NCP, "no")  # and a comment-like word, twice
        settle(api)
        api.redeliver(no)
        settle(api)
        extra = len(api.messages_to(NCP)) - replies_before - 1  # "no": the error and the question again
        print(
            f"\nduplicated updates 4 · rows changed {len(stored_values(db)) - len(rows_before)} · extra replies {extra}"
        )
        assert stored_values(db) == rows_before
        assert extra == 0
    finally:
        stop(bot)


def test_the_token_never_appears_in_the_logs_even_at_debug(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    token = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    bot = start_bot(api.serve(), db, tmp_path, PMM_BOT_TOKEN=token, PMM_LOG_LEVEL="DEBUG")
    try:
        api.message(NCP, "/help")
        wait_for_text(api, "/next", 0)
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=20) == 0
    finally:
        stop(bot)
    log = (tmp_path / "bot.log").read_text()
    assert "getUpdates" in log  # the requests were logged…
    assert token not in log and token.split(":")[1] not in log  # …without the token
