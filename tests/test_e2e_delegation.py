"""Delegation end to end, through `pmm-bot run` in its own process against the loopback Bot
API emulator: the NCP of Belgium hands Organizational Development to one colleague and
Revenue Collection to another; each answers only their KPIs (forged and stale presses for
other KPIs, another Member or submit change nothing); reminders reach each contributor
with their own counts; the NCP sees who answered what, revokes one colleague (whose figures
stay, and who gets nothing more), confirms and submits."""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.emulator import FakeBotApi, Sent
from pmm_core.catalog.members import Member
from pmm_core.domain.records import KpiState
from pmm_core.storage.store import Store
from tests.bot_process import seed, start_bot, stop

NCP, ANA, BEN, FR_NCP = 5005, 6001, 6002, 5006
TABLES = ("answers", "kpi_status", "submissions", "contributors", "contributor_invites", "flags")


class People:
    """Counts what each person sends (messages and presses) through the fake Telegram."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.actions: Counter[int] = Counter()

    def say(self, user: int, text: str, language: str = "en") -> list[Sent]:
        before = len(self.api.messages_to(user))
        self.actions[user] += 1
        self.api.message(user, text, language_code=language, first_name=NAMES[user])
        self.api.wait_quiet(user, quiet=0.2)
        return self.api.messages_to(user)[before:]

    def press(self, user: int, data: str, language: str = "en") -> list[Sent]:
        before = len(self.api.messages_to(user))
        self.actions[user] += 1
        self.api.press(user, data, language_code=language, first_name=NAMES[user])
        self.api.wait_quiet(user, quiet=0.2)
        return self.api.messages_to(user)[before:]

    def button(self, user: int, prefix: str, contains: str = "") -> str:
        for message in reversed(self.api.messages_to(user)):
            for data in message.button_data():
                if data.startswith(prefix) and contains in data:
                    return data
        raise AssertionError(f"no {prefix} button for {user}: {self.api.messages_to(user)[-1].text[:300]}")

    def answer(self, user: int, language: str, kpis: set[str] | None = None, limit: int = 200) -> set[str]:
        """Answers what the user is asked (yes, or 100), confirms where they may, moves on;
        stops when nothing is left or, with `kpis`, once those were shown a result."""
        shown: set[str] = set()
        settled = False
        self.say(user, "/next", language)
        for _ in range(limit):
            last = self.api.messages_to(user)[-1]
            data = last.button_data()
            kinds = {d.split(":")[0] for d in data}
            if kpis is not None and kpis <= shown:
                return shown
            if "a" in kinds:  # a yes/no or scale question
                self.press(
                    user, next(d for d in data if d.startswith("a:") and d.split(":")[3].startswith("1")), language
                )
            elif "kp" in kinds:
                self.press(user, next(d for d in data if d.startswith("kp:")), language)
            elif "c" in kinds:
                shown.add(next(d for d in data if d.startswith("c:")).split(":")[1])
                self.press(user, next(d for d in data if d.startswith("c:")), language)
            elif "s" in kinds:  # a figure to type
                self.say(user, "100", language)
            elif "nk" in kinds:
                shown.add(next(d for d in data if d.startswith("nk:")).split(":")[1].split("@")[0])
                self.press(user, next(d for d in data if d.startswith("nk:")), language)
            elif not settled:  # the reply may still be coming (a card, then its question)
                self.api.wait_quiet(user, quiet=1.0)
                settled = True
                continue
            else:
                return shown
            settled = False
        raise AssertionError("the walk-through did not end")


# One person answering a whole dimension as fast as the test can press goes past the flood
# guard (20 updates in 10 s by default), which is not what this test is about.
QUICK = {"PMM_FLOOD_MESSAGES": "1000"}
NAMES = {NCP: "Nadia Peeters", ANA: "Ana Dupont", BEN: "Benito Ruiz", FR_NCP: "Fanny Roux"}


@pytest.fixture
def api():
    api = FakeBotApi()
    yield api
    api.shutdown()


def dump(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        out = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}
        out["users"] = sorted(conn.execute("SELECT telegram_id, role, member FROM users").fetchall())
        return out
    finally:
        conn.close()


def move_deadline(db: Path, days: int) -> None:
    """The Secretariat moves the deadline (as `pmm-bot cycle deadline` does): every reminder
    is due again for the new date; a restarted bot sends the most recent one it missed."""
    store = Store.open(db)
    cycle = store.current_cycle()
    assert cycle is not None
    store.set_deadline(cycle.id, date.today() + timedelta(days=days))
    store.close()


def wait_for_reminders(api: FakeBotApi, users: tuple[int, ...], after: dict[int, int], limit: float = 30.0) -> None:
    """Waits until each of `users` got a reminder after their first `after[user]` messages."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(any(m.text.startswith("⏰") for m in api.messages_to(u)[after[u] :]) for u in users):
            api.wait_quiet(quiet=1.0, limit=10)
            return
        time.sleep(0.1)
    raise AssertionError(f"no reminder for some of {users}")


def restart(bot, base: str, db: Path, cwd: Path):
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=20) == 0
    return start_bot(base, db, cwd, **QUICK)


def test_two_contributors_through_the_real_process(api, tmp_path):
    db = tmp_path / "pmm.sqlite3"
    seed(db, NCP)
    store = Store.open(db)
    store.import_members([Member("FR", "eur")])
    cycle = store.current_cycle()
    assert cycle is not None
    # Open a month ago, due in 20 days: the 14-day reminder is not due yet.
    store.set_deadline(cycle.id, date.today() + timedelta(days=20))
    store.touch_user(FR_NCP, "Fanny Roux", "fr")
    store.redeem_invite(store.create_invite("FR", timedelta(days=1)), FR_NCP)
    store.close()
    base = api.serve()
    bot = start_bot(base, db, tmp_path, **QUICK)
    people = People(api)
    try:
        codes = []
        for dimension, confirm in (("OD", False), ("RC", True)):
            people.say(NCP, "/delegate")
            people.press(NCP, people.button(NCP, "dld:", dimension))
            if confirm:
                people.press(NCP, people.button(NCP, "dlc"))
            sent = people.press(NCP, people.button(NCP, "dlok"))
            found = re.search(r"\?start=([\w-]+)", "\n".join(m.text for m in sent))
            assert found is not None
            codes.append(found.group(1))
        joined = people.say(ANA, f"/start {codes[0]}", "fr")
        assert "Vous répondez à 10 KPI" in joined[0].text and "RC-01" not in joined[0].text
        joined = people.say(BEN, f"/start {codes[1]}", "es")
        assert "Usted responde 6 KPI" in joined[0].text and "OD-01" not in joined[0].text

        # Part of the work, then reminders with each one's own count (after a restart).
        people.answer(ANA, "fr", kpis={"OD-01"})
        people.answer(BEN, "es", kpis={"RC-01"})
        move_deadline(db, 5)
        bot = restart(bot, base, db, tmp_path)
        wait_for_reminders(api, (NCP, ANA, BEN), dict.fromkeys((NCP, ANA, BEN), 0))
        reminder = {u: [m.text for m in api.messages_to(u) if m.text.startswith("⏰")] for u in (NCP, ANA, BEN)}
        assert len(reminder[ANA]) == 1 and "9 de vos 10 KPI sont encore ouverts." in reminder[ANA][0]
        assert len(reminder[BEN]) == 1 and "5 de sus 6 KPI siguen abiertos." in reminder[BEN][0]
        assert len(reminder[NCP]) == 1 and "51" in reminder[NCP][0]

        assert people.answer(ANA, "fr") >= {f"OD-{i:02}" for i in range(2, 11)}
        people.answer(BEN, "es")
        store = Store.open(db)
        cycle = store.current_cycle()
        assert cycle is not None
        states = store.kpi_states(cycle.id, "BE")
        answers = store.answers(cycle.id, "BE")
        store.close()
        assert {k for k, s in states.items() if s.status is KpiState.CONFIRMED} == {f"RC-0{i}" for i in range(1, 7)}
        assert {k for k, s in states.items() if k.startswith("OD")} == {f"OD-{i:02}" for i in range(1, 11)}
        assert {a.by_user for dp, a in answers.items() if dp.startswith("od_")} == {ANA}
        assert {a.by_user for dp, a in answers.items() if dp.startswith("rc_")} == {BEN}

        # Forged and stale presses: other KPIs, another Member, confirm, submit, delegate.
        useful = people.actions.copy()  # what each one did to give their part
        before = dump(db)
        stale = people.button(ANA, "s:")  # an old screen's bound button
        for data in (
            "go:RC-01",
            "go:TF-01",
            "c:OD-01:00000000",
            f"c:OD-01:00000000{stale[stale.index('@') :]}",
            f"a:RC-02:0:1{stale[stale.index('@') :]}",
            f"sub{stale[stale.index('@') :]}",
            "dlok@1.1",
            f"dly:{BEN}{stale[stale.index('@') :]}",
            "b:OD-02",
            stale,
        ):
            people.press(ANA, data, "fr")
        for command in ("/submit", "/delegate", "/contributors", "/upload"):
            people.say(ANA, command, "fr")
        people.say(BEN, "/submit", "es")
        people.press(BEN, "go:TF-01", "es")
        people.say(FR_NCP, "/next", "fr")  # France's NCP sees nothing of Belgium's
        assert all("Belgique" not in m.text and "Ana" not in m.text for m in api.messages_to(FR_NCP))
        assert dump(db) == before

        # The NCP sees who answered what, revokes Ana; her figures stay, she gets nothing more.
        ncp_before_review = people.actions[NCP]
        review = "\n".join(m.text for m in people.say(NCP, "/review"))
        assert "Ana Dupont" in review and "Benito Ruiz" in review and "to check" in review
        people.say(NCP, "/contributors")
        people.press(NCP, people.button(NCP, "dlr:", str(ANA)))
        people.press(NCP, people.button(NCP, "dly:", str(ANA)))
        before = dump(db)
        assert next(r for r in before["contributors"] if r[0] == ANA)[-1] is not None  # revoked_at
        people.say(ANA, "/next", "fr")
        people.press(ANA, "go:OD-01", "fr")
        people.say(ANA, "100", "fr")
        assert dump(db) == before
        move_deadline(db, 2)
        count = len(api.messages_to(ANA))
        bot = restart(bot, base, db, tmp_path)
        wait_for_reminders(api, (NCP,), {NCP: len(api.messages_to(NCP))})
        assert len(api.messages_to(ANA)) == count  # no reminder for who left
        assert api.messages_to(NCP)[-1].text.startswith("⏰")

        # The NCP confirms Ana's KPIs and submits.
        ncp_before_confirming = people.actions[NCP]
        for i in range(1, 11):
            sent = people.press(NCP, f"go:OD-{i:02}")
            if any(d.startswith("kp:") for m in sent for d in m.button_data()):
                people.press(NCP, people.button(NCP, "kp:", f"OD-{i:02}"))
            people.press(NCP, people.button(NCP, "c:", f"OD-{i:02}"))
        people.say(NCP, "/submit")
        people.press(NCP, people.button(NCP, "sub@"))
        store = Store.open(db)
        cycle = store.current_cycle()
        assert cycle is not None
        final = store.member_data(cycle.id, "BE")
        audit = store.audit_log(cycle.id, "BE")
        store.close()
        assert final.locked and final.submission is not None and final.submission.submitted_by == NCP
        assert sum(1 for s in final.states.values() if s.status is KpiState.CONFIRMED) == 16
        assert {final.answers[dp].by_user for dp in final.answers if dp.startswith("od_")} == {ANA}
        assert {r.user_id for r in audit if r.action == "answer" and r.subject.startswith("od_")} == {ANA}
        useful[NCP] += people.actions[NCP] - ncp_before_confirming + 1  # + /review, not the revocation
        assert ncp_before_review == useful[NCP] - (people.actions[NCP] - ncp_before_confirming) - 1
        print("ACTIONS per person for Belgium (delegating, answering, checking, submitting):", dict(useful))
    finally:
        stop(bot)
