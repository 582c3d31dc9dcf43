"""Many NCPs at once through the real `pmm-bot run` process on loopback: latency of the
replies, throughput, fairness under floods, and a heavy Secretariat export meanwhile.

    python -m bench.load [--scenario steady|flood|long|export|all] [--ncps 200]

Load is open-loop (updates arrive on a schedule, whatever the replies): the latency of an
update is the time from its arrival at the Bot API emulator to the bot's next message to
that chat. Scenarios:

- steady: 200 NCPs, each typing a figure every ~10 s (about 20 updates/s in all, under
  Telegram's 30 messages/s), for 30 s: p50/p99, throughput, updates without a reply;
- flood: one NCP sends 300 messages as fast as possible while another types one figure
  every second: the other's p95;
- long: a stranger sends twenty 4,096-character texts while the other types: the other's p95;
- export: a Secretariat /export of 180 Members × 3 cycles of synthetic data while the
  200 NCPs type: their p99.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from bot.emulator import FakeBotApi
from conversations.collect.steps import Asking
from conversations.kit.state import ConversationState
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.samples.synthetic import synthetic_cycles
from pmm_core.storage.store import Store

SECRETARIAT = 999_999
FIRST_NCP = 10_000


def seed(db: Path, ncps: int, history: bool = False) -> list[int]:
    """Members, an open cycle (with `history`: 180 Members' synthetic data over three cycles),
    `ncps` NCPs each on the first figure of ES-05."""
    store = Store.open(db)
    members = read_members()
    store.import_members(members)
    if history:
        for data in synthetic_cycles(load_catalog(), members, [2023, 2024, 2025], seed=11, participants=180):
            store.import_cycle(data)
        cycle = store.current_cycle()
        assert cycle is not None
    else:
        cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    users = []
    asking = ConversationState(step=Asking(kpi="ES-05", dp="es_alcohol_seizures"), cycle=cycle.id).to_json()
    for i in range(ncps):
        user = FIRST_NCP + i
        store.touch_user(user, f"NCP {i}", "en")
        store.redeem_invite(store.create_invite(members[i % len(members)].iso2, timedelta(days=1)), user)
        store.save_conversation(user, asking)
        users.append(user)
    store.close()
    return users


def start(db: Path, api: FakeBotApi, folder: Path) -> subprocess.Popen[bytes]:
    env = {
        "PMM_BOT_TOKEN": "123456:LOAD",
        "PMM_API_BASE_URL": api.serve(),
        "PMM_DB_PATH": str(db),
        "PMM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),  # this checkout's code
        "PMM_SECRETARIAT_IDS": str(SECRETARIAT),
    }
    bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=folder)
    deadline = time.monotonic() + 30
    while not any(m == "getUpdates" for m, _ in api.calls):
        if time.monotonic() > deadline or bot.poll() is not None:
            raise SystemExit("the bot did not start")
        time.sleep(0.01)
    return bot


def typing(api: FakeBotApi, users: list[int], rate: float, seconds: float, stop: threading.Event | None = None) -> None:
    """Poisson arrivals at `rate` updates/s in all, each from a random NCP, typing a figure."""
    rng = random.Random(7)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (stop and stop.is_set()):
        api.message(rng.choice(users), str(rng.randint(1, 99_999)))
        time.sleep(rng.expovariate(rate))


def settle(api: FakeBotApi, seconds: float = 3.0) -> None:
    api.wait_quiet(quiet=seconds, limit=60)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(name: str, latencies: list[float], sent: int) -> None:
    ms = [v * 1000 for v in latencies]
    print(
        f"{name}: {sent} updates, {len(ms)} answered ({sent - len(ms)} without a reply); "
        f"p50 {pct(ms, 0.50):.1f} ms · p95 {pct(ms, 0.95):.1f} ms · p99 {pct(ms, 0.99):.1f} ms · max {max(ms, default=0):.1f} ms"
    )


def steady(folder: Path, ncps: int) -> None:
    api, db = FakeBotApi(), folder / "steady.sqlite3"
    users = seed(db, ncps)
    bot = start(db, api, folder)
    try:
        began = time.monotonic()
        typing(api, users, rate=20, seconds=30)
        settle(api)
        elapsed = time.monotonic() - began
        latencies = api.reply_latencies(set(users))
        report(f"steady, {ncps} NCPs at ~20 updates/s", latencies, len(api.pushed))
        print(f"throughput: {len(api.sent) / elapsed:.1f} messages/s sent by the bot over {elapsed:.0f} s")
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        api.shutdown()


def fairness(folder: Path, kind: str) -> None:
    api, db = FakeBotApi(), folder / f"{kind}.sqlite3"
    users = seed(db, 2)
    other, flooder = users
    bot = start(db, api, folder)
    try:
        stop = threading.Event()
        victim = threading.Thread(target=typing, args=(api, [other], 1.0, 60.0, stop))
        victim.start()
        time.sleep(1.0)
        if kind == "flood":
            for i in range(300):
                api.message(flooder, str(i))
        else:
            for _ in range(20):
                api.message(424_242, "x" * 4096)  # a stranger
        time.sleep(8.0)
        stop.set()
        victim.join()
        settle(api)
        latencies = api.reply_latencies({other})
        label = "flood of 300 messages by one NCP" if kind == "flood" else "twenty 4,096-character texts by a stranger"
        report(f"{label}: the other NCP", latencies, sum(1 for _, c in api.pushed if c == other))
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        api.shutdown()


def export(folder: Path, ncps: int) -> None:
    api, db = FakeBotApi(), folder / "export.sqlite3"
    users = seed(db, ncps, history=True)
    bot = start(db, api, folder)
    try:
        stop = threading.Event()
        load = threading.Thread(target=typing, args=(api, users, 20.0, 120.0, stop))
        load.start()
        time.sleep(3.0)
        asked = time.monotonic()
        api.message(SECRETARIAT, "/export")
        while not any(m.method == "sendDocument" for m in api.messages_to(SECRETARIAT)):
            if time.monotonic() - asked > 110:
                raise SystemExit("no export within 110 s")
            time.sleep(0.05)
        took = time.monotonic() - asked
        time.sleep(2.0)
        stop.set()
        load.join()
        settle(api)
        during = api.reply_latencies(set(users), since=asked, until=asked + took)
        report(f"{ncps} NCPs while a 180-Member × 3-cycle export is built ({took:.1f} s)", during, len(during))
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        api.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scenario", default="all", choices=("steady", "flood", "long", "export", "all"))
    parser.add_argument("--ncps", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.scenario in ("steady", "all"):
            steady(folder, args.ncps)
        if args.scenario in ("flood", "all"):
            fairness(folder, "flood")
        if args.scenario in ("long", "all"):
            fairness(folder, "long")
        if args.scenario in ("export", "all"):
            export(folder, args.ncps)


if __name__ == "__main__":
    main()
