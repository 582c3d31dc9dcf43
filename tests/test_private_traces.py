"""What the bot leaves behind stays private: no invite code in any log, at any level (PTB
logs every update and request at DEBUG); typed figures only at DEBUG; every folder the bot
creates readable by its owner only (0700)."""

from __future__ import annotations

import base64
import re
import signal
import stat
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from bot.demo import render
from bot.emulator import FakeBotApi, Sent
from bot.logs import redact
from bot.scheduler import take_backup
from conversations.collect import buttons as btn
from conversations.kit.buttons import pack
from pmm_core.catalog.members import Member
from pmm_core.storage.store import Store
from tests.bot_process import start_bot, stop

SEC, NCP = 7007, 5005
FIGURES = ("7345191", "6123457")  # distinct enough to be found in a log


def _code(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")  # as secrets.token_urlsafe(12)


@given(st.binary(min_size=12, max_size=12), st.sampled_from(["", "@pmm_bot"]))
def test_an_invite_code_is_redacted_wherever_a_log_line_holds_it(raw, mention):
    code = _code(raw)
    lines = [
        f"Processing update Update(message=Message(text='/start{mention} {code}', date=1))",
        f"parameters {{'text': 'Invitation…:\\nhttps://t.me/pmm_bot?start={code}\\nIt is shown once'}}",
        f"{{'update_id': 3, 'message': {{'text': \"/start{mention}  {code}\"}}}}",
        f"text={code}",
        f"/start%20{code}",
    ]
    for line in lines:
        assert code not in redact(line), line


def test_words_and_figures_are_not_taken_for_codes():
    line = "tf_aeo_valid_prev es_physical_inspections 1300 Question 1 of 2 /start"
    assert redact(line) == line


@pytest.fixture
def api():
    api = FakeBotApi()
    yield api
    api.shutdown()


def _wait(api: FakeBotApi, chat: int, text: str, limit: float = 30.0) -> str:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for m in api.messages_to(chat):
            if text in m.text:
                return m.text
        time.sleep(0.02)
    raise AssertionError(f"no message with {text!r} to {chat}")


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_no_invite_code_in_the_log_and_figures_only_at_debug(api, tmp_path, level):
    db = tmp_path / "pmm.sqlite3"
    store = Store.open(db)
    store.import_members([Member("BE", "eur")])
    store.open_cycle(2025, deadline=datetime(2026, 3, 31).date(), opens=datetime(2026, 1, 1).date())
    store.close()
    bot = start_bot(api.serve(), db, tmp_path, PMM_LOG_LEVEL=level, PMM_SECRETARIAT_IDS=str(SEC))
    try:
        api.message(SEC, "/invite BE")
        code = re.search(r"start=([A-Za-z0-9_-]+)", _wait(api, SEC, "start=")).group(1)  # type: ignore[union-attr]
        api.message(NCP, f"/start {code}")
        _wait(api, NCP, "Belgium")
        api.press(NCP, pack(btn.Go("TF-02")))
        _wait(api, NCP, "Question 1 of 2")
        for figure in FIGURES:
            api.message(NCP, figure)
        _wait(api, NCP, "Question 2 of 2")
        api.wait_quiet(NCP, quiet=0.5, limit=20)
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=20) == 0
    finally:
        stop(bot)
    log = (tmp_path / "bot.log").read_text()
    if level == "DEBUG":
        assert "Processing update" in log and "sendMessage" in log  # updates and requests were logged…
    assert code not in log  # …never the invite code
    if level != "DEBUG":
        assert not any(figure in log for figure in FIGURES)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_report_output_folders_are_private(monkeypatch, tmp_path):
    monkeypatch.setenv("PMM_DB_PATH", str(tmp_path / "pmm.sqlite3"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("os.umask", lambda mask: 0o022)  # whatever umask the shell has
    assert main(["members", "import"]) == 0
    assert main(["cycle", "open", "--year", "2025", "--deadline", "2026-03-31", "--opens", "2026-01-01"]) == 0
    assert main(["report", "--output", "reports/2025"]) == 0
    assert _mode(tmp_path / "reports") == 0o700
    assert _mode(tmp_path / "reports" / "2025") == 0o700
    assert _mode(tmp_path / "reports" / "2025" / "report.html") == 0o600


def test_backup_and_demo_folders_are_private(tmp_path, monkeypatch):
    store = Store.open(tmp_path / "pmm.sqlite3")
    store.close()
    target = take_backup(tmp_path / "pmm.sqlite3", tmp_path / "backups" / "daily", keep=2, now=datetime.now(UTC))
    assert _mode(tmp_path / "backups") == 0o700 and _mode(tmp_path / "backups" / "daily") == 0o700
    assert _mode(target) == 0o600
    monkeypatch.setattr("bot.demo.FILES", tmp_path / "demo-files")
    render(Sent("sendDocument", 1, 1, "", params={"document": {"filename": "a.xlsx", "data": b"x"}}), 0)
    assert _mode(tmp_path / "demo-files") == 0o700 and _mode(tmp_path / "demo-files" / "a.xlsx") == 0o600
