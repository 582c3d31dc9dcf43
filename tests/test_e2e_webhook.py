"""`pmm-bot run` in webhook mode as a separate process: it registers its webhook with the
secret, takes updates posted with that secret, refuses others, and stops on SIGTERM."""

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from datetime import date

from bot.emulator import FakeBotApi
from pmm_core.catalog.members import Member
from pmm_core.storage.store import Store
from tests.bot_process import start_bot, stop

USER = 7007
SECRET = "s3cret-token_for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, update: dict, secret: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode(),
        headers={"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:  # not listening yet
        return 0


def wait_until(predicate, limit: float = 30.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


async def test_webhook_mode(tmp_path):
    db = tmp_path / "pmm.sqlite3"
    store = Store.open(db)
    store.import_members([Member("BE", "eur")])
    store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    store.close()
    api = FakeBotApi()
    base, port = api.serve(), free_port()
    bot = start_bot(
        base,
        db,
        tmp_path,
        PMM_WEBHOOK_URL="https://pmm.example.org/hooks",
        PMM_WEBHOOK_PORT=str(port),
        PMM_WEBHOOK_SECRET=SECRET,
    )
    try:
        assert wait_until(lambda: api.webhook is not None), "the bot never called setWebhook"
        assert api.webhook is not None and api.webhook["url"] == "https://pmm.example.org/hooks/telegram"
        assert api.webhook["secret_token"] == SECRET
        hook = f"http://127.0.0.1:{port}/telegram"
        assert wait_until(lambda: post(hook, {"update_id": 1}, "wrong") == 403)
        assert api.messages_to(USER) == []
        update = api.message(USER, "/help")
        assert post(hook, update, SECRET) == 200
        assert wait_until(lambda: any("/next" in m.text for m in api.messages_to(USER)))
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=20) == 0
    finally:
        stop(bot)
        api.shutdown()
