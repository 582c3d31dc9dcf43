"""Many NCPs at once through the real `pmm-bot run` process on loopback: latency of the
replies, throughput, fairness under floods, and a heavy Secretariat export meanwhile.

    python -m bench.load [--scenario walk|burst|stall|steady|flood|long|export|all] [--ncps 200]

The scenarios of issue 23 (each against the floor, measured in the same run):

- walk: 200 NCPs walking the KPIs as people do (``bench.walk``: press the answer, type a
  figure, confirm, next KPI), each acting on the bot's last message, then thinking a random
  time (exponential, mean 12 s); their first actions spread over 30 s. p50/p99 of the
  reply latency and messages per action, for pmm-bot and for an echo+kb bot
  (``bench.echo_bot``: one screen-sized message with a keyboard for every update) under
  the same rate limiter and the same walkers.
- burst: the same, all 200 starting within 15 s, as after a reminder.
- stall: pmm-bot at 187 Members with a cycle of data (``bench.monitored``, which times every
  event-loop callback in CPU time), 187 NCPs walking while the Secretariat runs /status,
  /friction, /stats, /checks, /export and /report: the callbacks over 25 ms, and the worst.

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
import heapq
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from bench.walk import next_action
from bot.emulator import FakeBotApi, Sent
from conversations.collect.steps import Asking
from conversations.kit.state import ConversationState
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.samples.synthetic import synthetic_cycles
from pmm_core.storage.store import Store

SECRETARIAT = 999_999
WHY = "--why" in sys.argv  # print the slowest replies and the loop's stalls too
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


class Walkers:
    """NCPs walking the KPIs against the fake Bot API: each acts on the bot's last message to
    them, waits for the reply (the bot's next message to that chat), thinks, acts again."""

    def __init__(self, api: FakeBotApi, users: list[int], think: float, start_within: float, seed: int = 7) -> None:
        self.api = api
        self.rng = random.Random(seed)
        self.think = think
        self.cond = threading.Condition()
        self.last: dict[int, Sent] = {}
        self.pending: dict[int, float] = {}  # chat → when its action was pushed
        self.latencies: list[tuple[float, float]] = []  # (when, seconds)
        self.doing: dict[int, str] = {}  # chat → what its pending action is
        self.slowest: list[tuple[float, str]] = []  # (seconds, what) of the slowest replies
        self.unanswered = 0
        self.actions = 0
        now = time.monotonic()
        self.heap = [(now + self.rng.uniform(0, start_within), u) for u in users]
        heapq.heapify(self.heap)
        self.users = set(users)
        api.on_message = self._seen

    def _seen(self, sent: Sent) -> None:
        with self.cond:
            if sent.chat_id not in self.users:
                return
            self.last[sent.chat_id] = sent
            pushed = self.pending.pop(sent.chat_id, None)
            if pushed is not None:
                now = time.monotonic()
                self.latencies.append((pushed, now - pushed))
                heapq.heappush(self.slowest, (now - pushed, self.doing.get(sent.chat_id, "")))
                if len(self.slowest) > 10:
                    heapq.heappop(self.slowest)
                heapq.heappush(self.heap, (now + self.rng.expovariate(1 / self.think), sent.chat_id))
                self.cond.notify()

    def run(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while (now := time.monotonic()) < until:
            with self.cond:
                for user, pushed in list(self.pending.items()):
                    if now - pushed > 15:  # no reply: counted, and the NCP goes on
                        del self.pending[user]
                        self.unanswered += 1
                        heapq.heappush(self.heap, (now, user))
                if not self.heap or self.heap[0][0] > now:
                    self.cond.wait(min(self.heap[0][0] - now, 0.05) if self.heap else 0.05)
                    continue
                _, user = heapq.heappop(self.heap)
                message = self.last.get(user)
                action = next_action(message, self.rng)
                self.pending[user] = time.monotonic()
                self.doing[user] = (
                    f"{action.kind} {action.value[:24]!r} after {message.text[:40]!r}" if message else "/next"
                )
                self.actions += 1
            if action.kind == "press" and message is not None:
                self.api.press(user, action.value, message_id=message.message_id)
            else:
                self.api.message(user, action.value)
        self.api.on_message = None

    def messages(self) -> int:
        return sum(1 for m in self.api.sent if m.chat_id in self.users and m.method != "answerCallbackQuery")


def seed_idle(db: Path, ncps: int, history: bool = False) -> list[int]:
    """Members, an open cycle (with `history`: 187 Members' data over two cycles), `ncps` NCPs
    with nothing on screen."""
    store = Store.open(db)
    members = read_members()
    store.import_members(members)
    if history:
        for data in synthetic_cycles(load_catalog(), members, [2024, 2025], seed=11, participants=len(members)):
            store.import_cycle(data)
    else:
        store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    users = []
    for i in range(ncps):
        user = FIRST_NCP + i
        store.touch_user(user, f"NCP {i}", "en")
        store.redeem_invite(store.create_invite(members[i % len(members)].iso2, timedelta(days=1)), user)
        users.append(user)
    store.close()
    return users


def start_module(module: str, api: FakeBotApi, folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    base = api.serve()
    full = {k: v for k, v in os.environ.items() if not k.startswith("PMM_")} | {
        "PMM_API_BASE_URL": base,
        "PMM_LOG_LEVEL": "WARNING",
        # the bench's own modules (bench.monitored, bench.echo_bot) run from a temporary folder
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")])
        ),
        **env,
    }
    bot = subprocess.Popen([sys.executable, "-m", module], env=full, cwd=folder)
    deadline = time.monotonic() + 60
    while not any(m == "getUpdates" for m, _ in api.calls):
        if time.monotonic() > deadline or bot.poll() is not None:
            raise SystemExit(f"{module} did not start")
        time.sleep(0.01)
    return bot


def _walk_once(folder: Path, which: str, ncps: int, start_within: float, seconds: float) -> dict[str, float]:
    api, db = FakeBotApi(), folder / f"{which}-{start_within}.sqlite3"
    users = seed_idle(db, ncps)
    stalls = folder / f"{which}-{start_within}-stalls.json"
    if which == "pmm-bot":
        env = {"PMM_BOT_TOKEN": "123456:LOAD", "PMM_DB_PATH": str(db), "PMM_BENCH_STALLS": str(stalls)}
        if WHY:
            env["PMM_BENCH_COMMITS"] = "1"
        bot = start_module("bench.monitored", api, folder, env)
    else:
        bot = start_module("bench.echo_bot", api, folder, {})
    acted = 0
    try:
        time.sleep(1.0)  # start-up's own requests (menus) out of the way
        walkers = Walkers(api, users, think=12.0, start_within=start_within)
        walkers.run(seconds)
        acted = walkers.actions
        time.sleep(2.0)
        ms = [v * 1000 for _, v in walkers.latencies]
        if WHY:
            for seconds_, what in sorted(walkers.slowest, reverse=True):
                print(f"  [{which}] {seconds_ * 1000:.0f} ms  {what}")
        return {
            "actions": walkers.actions,
            "answered": len(ms),
            "unanswered": walkers.unanswered,
            "p50": pct(ms, 0.50),
            "p99": pct(ms, 0.99),
            "max": max(ms, default=0.0),
            "per_action": walkers.messages() / max(walkers.actions, 1),
        }
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        api.shutdown()
        if WHY and stalls.exists():
            found = json.loads(stalls.read_text())
            print(
                f"  [{which}] loop: worst callback {found['worst'] * 1000:.1f} ms of CPU, {len(found['stalls'])} over 25 ms"
            )
            for spent, what in sorted(found["stalls"], reverse=True)[:5]:
                print(f"    {spent * 1000:.1f} ms  {what[:200]}")
            if found.get("commits") and acted:
                print(
                    f"  [{which}] SQLite commits of the bot's process: {found['commits']} for {acted} actions "
                    f"({found['commits'] / acted:.2f} per action, start-up and the outbox included); "
                    f"transactions by first statement: {found.get('transactions')}"
                )


def walking(folder: Path, ncps: int, burst: bool) -> None:
    start_within, seconds = (15.0, 45.0) if burst else (30.0, 90.0)
    label = f"{ncps} NCPs starting within 15 s" if burst else f"{ncps} NCPs walking the KPIs"
    results = {which: _walk_once(folder, which, ncps, start_within, seconds) for which in ("echo+kb", "pmm-bot")}
    print(f"{label} (think ~12 s, {seconds:.0f} s):")
    for which, r in results.items():
        print(
            f"  {which:<8} {r['actions']:.0f} actions, {r['unanswered']:.0f} unanswered; "
            f"p50 {r['p50']:.1f} ms · p99 {r['p99']:.1f} ms · max {r['max']:.1f} ms; "
            f"{r['per_action']:.2f} messages per action"
        )
    print(f"  p99 pmm-bot / echo+kb: {results['pmm-bot']['p99'] / results['echo+kb']['p99']:.2f}×")


def stall(folder: Path) -> None:
    api, db = FakeBotApi(), folder / "stall.sqlite3"
    users = seed_idle(db, 187, history=True)
    report = folder / "stalls.json"
    env = {
        "PMM_BOT_TOKEN": "123456:LOAD",
        "PMM_DB_PATH": str(db),
        "PMM_SECRETARIAT_IDS": str(SECRETARIAT),
        "PMM_BENCH_STALLS": str(report),
    }
    bot = start_module("bench.monitored", api, folder, env)
    try:
        time.sleep(1.0)
        walkers = Walkers(api, users, think=12.0, start_within=20.0)
        runner = threading.Thread(target=walkers.run, args=(100.0,))
        runner.start()
        for command in ("/status", "/friction", "/stats", "/checks", "/export", "/report", "/status"):
            time.sleep(10.0)
            api.message(SECRETARIAT, command)
        runner.join()
        settle(api)
    finally:
        bot.terminate()
        bot.wait(timeout=60)
        api.shutdown()
    found = json.loads(report.read_text())
    ms = [v * 1000 for _, v in walkers.latencies]
    print(
        f"187 Members, 187 NCPs walking, the Secretariat running 7 reports: {found['callbacks']} loop callbacks, "
        f"the longest {found['worst'] * 1000:.1f} ms of CPU; {len(found['stalls'])} over 25 ms"
    )
    for spent, what in sorted(found["stalls"], reverse=True)[:5]:
        print(f"  {spent * 1000:.1f} ms  {what[:700]}")
    gcs = found.get("collections", [])
    if gcs:
        print(
            f"  Python's cyclic collector: {len(gcs)} passes over 10 ms, the longest {max(g[0] for g in gcs) * 1000:.1f} ms"
            f" (generation {max(gcs)[1]})"
        )
    if WHY:
        print(f"  objects the collector tracks at the end: {found.get('tracked')}")
    print(f"  NCPs meanwhile: p50 {pct(ms, 0.5):.1f} ms · p99 {pct(ms, 0.99):.1f} ms ({len(ms)} replies)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--scenario", default="all", choices=("walk", "burst", "stall", "steady", "flood", "long", "export", "all")
    )
    parser.add_argument("--ncps", type=int, default=200)
    parser.add_argument("--why", action="store_true", help="print the slowest replies and the loop's stalls")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.scenario in ("walk", "all"):
            walking(folder, args.ncps, burst=False)
        if args.scenario in ("burst", "all"):
            walking(folder, args.ncps, burst=True)
        if args.scenario in ("stall", "all"):
            stall(folder)
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
