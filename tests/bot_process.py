"""`pmm-bot run` as a separate process, for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from pmm_core.catalog.members import Member
from pmm_core.storage.store import Store

ROOT = Path(__file__).resolve().parent.parent  # the code under test, not an installed copy


def start_bot(base_url: str, db_path: Path, cwd: Path, **settings: str) -> subprocess.Popen:
    """Starts the bot against the fake Bot API at `base_url`; `settings` are extra PMM_*
    variables. None of the developer's own PMM_* variables leak in, and the code run is this
    checkout's (PYTHONPATH), not whatever `pip install -e` points to. Output goes to
    cwd/bot.log (a pipe nobody reads could fill up and stall the bot)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMM_")} | {
        "PMM_BOT_TOKEN": "123456:E2E",
        "PMM_API_BASE_URL": base_url,
        "PMM_DB_PATH": str(db_path),
        "PMM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    with open(cwd / "bot.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=cwd, stdout=log, stderr=log)


def stop(bot: subprocess.Popen) -> None:
    """Kills the bot if a failed test left it running."""
    if bot.poll() is None:
        bot.kill()
        bot.wait()


def seed(db_path: Path, ncp: int) -> None:
    """A database with Belgium, the 2025 cycle open and `ncp` bound as Belgium's NCP."""
    store = Store.open(db_path)
    store.import_members([Member("BE", "eur")])
    store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    store.touch_user(ncp, "E2E", "en")
    store.redeem_invite(store.create_invite("BE", timedelta(days=1)), ncp)
    store.close()
