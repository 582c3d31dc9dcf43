"""Questions on a figure through the real `pmm-bot run` process and the loopback Bot API: the
officer asks with /ask and a press, the NCP gets it through the outbox; the NCP's replies
reach the officer even when the process is killed right after the NCP typed them (each
reply is stored once, and delivered); Resolve reaches the NCP."""

from __future__ import annotations

import random
import signal
import time

import pytest

from bot.emulator import FakeBotApi
from conversations.kit.buttons import unpack
from conversations.questions import buttons as qb
from pmm_core.domain.threads import MessageKind, ThreadState
from pmm_core.storage.store import Store
from pmm_core.storage.thread_store import ThreadStore
from tests.bot_process import seed, start_bot, stop

NCP, SEC = 5005, 9009


@pytest.fixture
def api():
    api = FakeBotApi()
    yield api
    api.shutdown()


def wait_for(api: FakeBotApi, user: int, text: str, after: int = 0, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if any(text in m.text for m in api.messages_to(user)[after:]):
            return
        time.sleep(0.05)
    last = api.messages_to(user)[-1].text[:300] if api.messages_to(user) else "nothing"
    raise AssertionError(f"waited {limit}s for {text!r} to {user}; last: {last!r}")


def button(api: FakeBotApi, user: int, kind: type) -> str:
    for message in reversed(api.messages_to(user)):
        for data in message.button_data():
            pressed = unpack(data)
            if pressed is not None and isinstance(pressed.button, kind):
                return data
    raise AssertionError(f"no {kind.__name__} button for {user}")


def replies(db) -> list[str]:
    store = Store.open(db)
    try:
        threads = ThreadStore(store)
        cycle = store.current_cycle()
        assert cycle is not None
        [thread] = threads.threads(cycle.id)
        return [m.text for m in threads.messages(thread.id) if m.kind is MessageKind.REPLY]
    finally:
        store.close()


def test_a_question_and_its_replies_survive_kills(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    base = api.serve()
    rng = random.Random(18)
    bot = start_bot(base, db, tmp_path, PMM_SECRETARIAT_IDS=str(SEC))
    try:
        api.message(SEC, "/ask BE TF-02 Are expired certificates counted?")
        wait_for(api, SEC, "Which figure of Belgium")
        api.press(SEC, button(api, SEC, qb.AskAbout))
        wait_for(api, SEC, "Sent to 1 NCP of Belgium")
        wait_for(api, NCP, "has a question about a figure of yours")
        assert "Are expired certificates counted?" in api.messages_to(NCP)[-1].text

        typed = []
        for i in range(4):
            text = f"Only valid certificates, reply {i}"
            typed.append(text)
            if i:  # answered now: further replies go through Reply
                before = len(api.messages_to(NCP))
                api.press(NCP, button(api, NCP, qb.Reply))
                wait_for(api, NCP, "Type your reply", after=before)
            api.message(NCP, text)
            time.sleep(rng.uniform(0.0, 0.05))  # somewhere between fetch, write, delivery
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
            bot = start_bot(base, db, tmp_path, PMM_SECRETARIAT_IDS=str(SEC))
            wait_for(api, SEC, text)  # delivered after the restart, whatever the moment of the kill
            api.wait_quiet(NCP, quiet=0.5, limit=15)

        assert replies(db) == typed  # each stored once, in order
        for text in typed:
            assert 1 <= sum(text in m.text for m in api.messages_to(SEC)) <= 2  # at least once (outbox)

        before = len(api.messages_to(NCP))
        api.press(SEC, button(api, SEC, qb.Resolve))
        wait_for(api, NCP, "marked the question resolved.", after=before)
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=20) == 0
    finally:
        stop(bot)
    store = Store.open(db)
    try:
        cycle = store.current_cycle()
        assert cycle is not None
        [thread] = ThreadStore(store).threads(cycle.id)
        assert thread.state is ThreadState.RESOLVED
    finally:
        store.close()
