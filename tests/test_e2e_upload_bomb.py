"""`pmm-bot run` as a separate process: an NCP sends a workbook with millions of empty shared
strings (about 15 KB sent, 15 MB declared) while another NCP asks for a template. The file is
refused with its reason, the other NCP gets the template, and the bot and its workers go on.
(Time and memory against the 38-million-string file: bench/upload_bomb.py.)"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from bot.emulator import FakeBotApi, Sent
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import build_template
from pmm_core.storage.store import Store
from tests.bot_process import start_bot, stop
from tests.sheets import fill, with_shared_strings

SENDER, OTHER = 5101, 5102


@pytest.fixture
def api():
    api = FakeBotApi()
    yield api
    api.shutdown()


def wait_for(api: FakeBotApi, user: int, after: int, done, what: str, limit: float = 60.0) -> Sent:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for sent in api.messages_to(user)[after:]:
            if done(sent):
                return sent
        time.sleep(0.02)
    raise AssertionError(f"waited {limit:.0f}s for {what}; got {[s.text[:80] for s in api.messages_to(user)[after:]]}")


def test_a_shared_string_bomb_is_refused_while_another_ncp_gets_a_template(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    store = Store.open(db)
    store.import_members([Member("BE", "eur"), Member("FR", "eur")])
    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    for user, member in ((SENDER, "BE"), (OTHER, "FR")):
        store.touch_user(user, "NCP", "en")
        store.redeem_invite(store.create_invite(member, timedelta(days=1)), user)
    store.close()
    template = build_template(load_catalog(), Member("BE", "eur"), cycle, {}, {}, lang("en"))
    bomb = with_shared_strings(fill(template, {"tf_aeo_valid": 10}), 3_000_000, declared=False)
    bot = start_bot(api.serve(), db, tmp_path)
    try:
        api.document(SENDER, "figures.xlsx", bomb)
        wait_for(api, SENDER, 0, lambda s: "Reading your file" in s.text, "the file to be taken")
        api.message(OTHER, "/template")
        refusal = wait_for(api, SENDER, 1, lambda s: "different texts" in s.text, "the refusal")
        assert "more than 500,000 different texts" in refusal.text and not refusal.buttons
        wait_for(api, OTHER, 0, lambda s: s.method == "sendDocument", "the other NCP's template")
        before = len(api.messages_to(SENDER))
        api.message(SENDER, "/template")  # the bot and its workers go on
        wait_for(api, SENDER, before, lambda s: s.method == "sendDocument", "the sender's next template")
        assert bot.poll() is None
    finally:
        stop(bot)
