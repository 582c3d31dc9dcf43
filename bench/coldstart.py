"""Cold start of the real `pmm-bot run` process: time from spawn to its first getUpdates
call on the loopback Bot API emulator, and its resident memory once idle.

    python -m bench.coldstart [--runs 5]

Prints min / median / max over the runs. Target (issue 10): < 0.8 s and < 80 MB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bot.emulator import FakeBotApi
from pmm_core.catalog.members import read_members
from pmm_core.storage.store import Store


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_run(folder: Path) -> tuple[float, float]:
    db = folder / "pmm.sqlite3"
    if not db.exists():
        store = Store.open(db)
        store.import_members(read_members())
        store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
        store.close()
    api = FakeBotApi()
    base = api.serve()
    env = {
        "PMM_BOT_TOKEN": "123456:BENCH",
        "PMM_API_BASE_URL": base,
        "PMM_DB_PATH": str(db),
        "PMM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),  # this checkout's code
    }
    started = time.perf_counter()
    bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=folder)
    try:
        while not any(method == "getUpdates" for method, _ in api.calls):
            if bot.poll() is not None:
                raise SystemExit(f"the bot exited with {bot.returncode}")
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
        time.sleep(1.5)  # idle: the background jobs have started
        memory = rss_mb(bot.pid)
    finally:
        bot.terminate()
        bot.wait(timeout=20)
        api.shutdown()
    return elapsed, memory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [one_run(Path(tmp)) for _ in range(args.runs)]
    starts = sorted(r[0] for r in results)
    memory = sorted(r[1] for r in results)
    print(
        f"cold start, spawn → first getUpdates: min {starts[0]:.3f} s · median {statistics.median(starts):.3f} s · max {starts[-1]:.3f} s (target < 0.8 s)"
    )
    print(
        f"RSS once idle: min {memory[0]:.1f} MB · median {statistics.median(memory):.1f} MB · max {memory[-1]:.1f} MB (target < 80 MB)"
    )


if __name__ == "__main__":
    main()
