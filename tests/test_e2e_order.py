"""Order within a user, against the real `pmm-bot run` process: two answers delivered in the
reverse of the order they were written (in one batch, as after a redelivery or from
parallel webhook connections) are stored against their own questions, and a button press
is handled after the message that was written before the message carrying the button."""

import time
from datetime import date, timedelta

import pytest

from bot.emulator import FakeBotApi
from conversations.collect import buttons as btn
from conversations.kit.buttons import Stamp, pack
from pmm_core.catalog.members import Member
from pmm_core.storage.store import Store
from tests.bot_process import seed, start_bot, stop

NCP = 5005


@pytest.fixture
def api():
    api = FakeBotApi()
    yield api
    api.shutdown()


def wait_for_text(api: FakeBotApi, text: str, after: int, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if any(text in m.text for m in api.messages_to(NCP)[after:]):
            return
        time.sleep(0.02)
    raise AssertionError(f"no reply with {text!r}")


def figures(db_path, member: str = "BE") -> dict[str, str]:
    store = Store.open(db_path)
    cycle = store.current_cycle()
    assert cycle is not None
    values = {k: a.value for k, a in store.answers(cycle.id, member).items()}
    store.close()
    return values


MEMBERS = ("BE", "FR", "DE", "KE", "JP", "BR", "CA", "IN", "NG", "NZ")


def seed_many(db_path) -> dict[int, str]:
    """Ten NCPs, one per Member, the 2025 cycle open."""
    store = Store.open(db_path)
    store.import_members([Member(code, "eur") for code in MEMBERS])
    store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    ncps = {}
    for i, member in enumerate(MEMBERS):
        store.touch_user(NCP + i, "E2E", "en")
        store.redeem_invite(store.create_invite(member, timedelta(days=1)), NCP + i)
        ncps[NCP + i] = member
    store.close()
    return ncps


def test_answers_delivered_in_reverse_are_stored_against_their_own_questions(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    ncps = seed_many(db)
    bot = start_bot(api.serve(), db, tmp_path)
    try:
        for ncp in ncps:
            api.press(ncp, pack(btn.Go("TF-02")))
        deadline = time.monotonic() + 30
        while not all(any("Question 1 of 2" in m.text for m in api.messages_to(n)) for n in ncps):
            assert time.monotonic() < deadline, "the first questions did not come"
            time.sleep(0.02)
        with api.together(reverse=True):  # twenty answers in one batch, each NCP's two reversed
            for i, ncp in enumerate(ncps):
                api.message(ncp, str(1000 + i))  # written first: question 1
                api.message(ncp, str(500 + i))  # then: question 2
        deadline = time.monotonic() + 60  # every answer confirmed ("Saved"), on a machine that may be busy
        while sum("Saved" in m.text for n in ncps for m in api.messages_to(n)) < 2 * len(ncps):
            assert time.monotonic() < deadline, "not every answer was confirmed"
            time.sleep(0.05)
        wrong = sum(
            figures(db, member) != {"tf_aeo_valid": str(1000 + i), "tf_aeo_valid_prev": str(500 + i)}
            for i, member in enumerate(ncps.values())
        )
        print(f"\npairs delivered in reverse: {len(ncps)} · stored against the wrong question: {wrong}")
        assert wrong == 0
    finally:
        stop(bot)


def screen_of(db_path) -> Stamp:
    store = Store.open(db_path)
    cycle, conversation = store.current_cycle(), store.conversation(NCP)
    store.close()
    assert cycle is not None and conversation is not None
    return Stamp(cycle.id, conversation.screen)


def test_a_press_goes_after_the_message_written_before_its_screen(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    bot = start_bot(api.serve(), db, tmp_path)
    try:
        api.press(NCP, pack(btn.Edit("TF-02", 0)))
        wait_for_text(api, "Question 1 of 2", 0)
        now = screen_of(db)
        question = api.last_to(NCP)
        before = len(api.messages_to(NCP))
        with api.together(reverse=True):
            api.message(NCP, "1300")  # the answer to question 1, then Skip on question 2's screen
            api.press(NCP, pack(btn.Skip("TF-02", 1), Stamp(now.cycle, now.screen + 1)), question.message_id + 2)
        wait_for_text(api, "Saved", before, limit=60)
        api.wait_quiet(NCP, quiet=1.0, limit=30)
        replies = "\n".join(m.text for m in api.messages_to(NCP)[before:])
        assert figures(db) == {"tf_aeo_valid": "1300"}
        assert "Skipped for now" in replies and "earlier screen" not in replies
    finally:
        stop(bot)


def test_an_old_button_pressed_after_typing_does_not_overtake_the_typing(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    bot = start_bot(api.serve(), db, tmp_path)
    try:
        api.press(NCP, pack(btn.Edit("TF-02", 0)))
        wait_for_text(api, "Question 1 of 2", 0)
        now = screen_of(db)
        question = api.last_to(NCP)
        with api.together():  # in the order they happened: typed, then Skip on question 1's screen
            api.message(NCP, "1300")
            api.press(NCP, pack(btn.Skip("TF-02", 0), now), question.message_id)
        wait_for_text(api, "Saved", 0, limit=60)
        api.wait_quiet(NCP, quiet=1.0, limit=30)
        assert figures(db) == {"tf_aeo_valid": "1300"}  # the answer went to question 1; Skip came too late
    finally:
        stop(bot)
