"""`pmm-bot run` as a separate process in polling mode against the loopback Bot API
emulator: SIGKILL mid-KPI, restart, nothing confirmed is lost, the pending question comes
back, a redelivered update is applied once, and SIGTERM stops cleanly."""

import signal
import time

import pytest

from bot.emulator import FakeBotApi
from pmm_core.storage.store import Store
from tests.bot_process import seed, start_bot, stop

NCP = 5005


@pytest.fixture
def api():
    api = FakeBotApi()
    yield api
    api.shutdown()


def wait_for(api: FakeBotApi, text: str, what: str, after: int = 0, limit: float = 30.0) -> None:
    """Waits until a message newer than the first `after` ones contains `text`."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if any(text in m.text for m in api.messages_to(NCP)[after:]):
            api.wait_quiet(NCP, limit=5)
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {limit}s for {what}; last message: {api.messages_to(NCP)[-1].text[:300]!r}")


async def stored(db_path) -> tuple[dict[str, str], int]:
    store = Store.open(db_path)
    cycle = store.current_cycle()
    assert cycle is not None
    answers = {k: a.value for k, a in (store.answers(cycle.id, "BE")).items()}
    writes = len([r for r in store.audit_log(cycle.id, "BE") if r.action == "answer"])
    store.close()
    return answers, writes


async def test_kill_restart_resume_and_redelivery(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    base = api.serve()
    bot = start_bot(base, db, tmp_path)
    try:
        api.press(NCP, "go:TF-02")
        wait_for(api, "Question 1 of 2", "the first question")
        answer = api.message(NCP, "1300")
        wait_for(api, "Question 2 of 2", "the second question")
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=10)

        assert (await stored(db))[0] == {"tf_aeo_valid": "1300"}
        api.redeliver(answer)  # Telegram sends the unconfirmed update again
        bot = start_bot(base, db, tmp_path)
        before = len(api.messages_to(NCP))
        api.message(NCP, "/next")
        wait_for(api, "Question 2 of 2", "the pending question after restart", after=before)
        answers, writes = await stored(db)
        assert answers == {"tf_aeo_valid": "1300"}
        assert writes == 1
        # Applying the redelivered answer again would have confirmed it again ("Saved").
        assert not any("Saved" in m.text for m in api.messages_to(NCP)[before:])

        api.message(NCP, "1000")
        wait_for(api, "30%", "the result", after=before)
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=20) == 0
    finally:
        stop(bot)
    assert (await stored(db))[0] == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1000"}
