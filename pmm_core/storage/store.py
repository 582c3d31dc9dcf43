"""The store: every read and write of pmm-bot's data, with an in-process read cache, composed
of one part per subject (``members``, ``users``, ``cycles``, ``answers``, ``conversations``,
``uploads``, ``inbox``, ``audit``, ``outbox``, ``flags``) behind one class.

Writes. One user action is one transaction (:meth:`Store.apply`): the action's idempotency
key, the checks (cycle open, answers not locked, the NCP still bound to the Member, the
screen the button was pressed on still current), the figures, the KPI states, the
conversation state and the audit rows commit together or not at all, and the caller learns
which (:class:`Outcome`). Nothing is confirmed to a user for a write that did not happen.

Reads. What every update needs — the user, the open cycle, the conversation state, a
Member's answers, KPI states and submission — is served from memory. The cache is updated
by the store's own writes after they commit and dropped whenever another process (the
CLI) has committed, which SQLite reports through ``PRAGMA data_version``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from pmm_core.domain.carry import LastCycle
from pmm_core.domain.clock import Clock, utcnow
from pmm_core.domain.records import (
    Answer,
    Cycle,
    CycleData,
    KpiStatus,
)
from pmm_core.storage.answers import AnswersStore
from pmm_core.storage.audit import AuditStore
from pmm_core.storage.base import _audit, _Cache, _days_text, _kpi_status, _submission
from pmm_core.storage.conversations import ConversationsStore
from pmm_core.storage.cycles import CyclesStore
from pmm_core.storage.db import Database
from pmm_core.storage.delegation import DelegationStore
from pmm_core.storage.flags import FlagsStore
from pmm_core.storage.inbox import InboxStore
from pmm_core.storage.members import MembersStore
from pmm_core.storage.outbox import OutboxStore
from pmm_core.storage.peer_reviews import PeerReviewsStore
from pmm_core.storage.undelivered import UndeliveredStore
from pmm_core.storage.uploads import UploadsStore
from pmm_core.storage.users import UsersStore


class AfterWork(NamedTuple):
    """What waits for the after-update hooks, read in one query at the end of every update."""

    thread_messages: bool  # thread messages not yet queued to their readers
    # submissions or amendments after the immediate notices' mark, and an officer who wants them
    # at once (the mark stays while nobody does: without this, every update read them again)
    notices: bool
    review_notices: bool  # KPIs sent back to review whose reviewers are not yet told


class Store(
    MembersStore,
    UsersStore,
    CyclesStore,
    AnswersStore,
    ConversationsStore,
    UploadsStore,
    InboxStore,
    AuditStore,
    OutboxStore,
    FlagsStore,
    UndeliveredStore,
    DelegationStore,
    PeerReviewsStore,
):
    """All reads and writes of pmm-bot's data. Open with :meth:`open`."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self._db = db
        self.clock = clock
        self._cache = _Cache()
        self._owed: set[int] | None = None
        self._handled: set[str] = set()

    @classmethod
    def open(cls, path: str | Path, clock: Clock = utcnow) -> Store:
        """Opens (creating if needed, 0600) and migrates the database at `path`."""
        return cls(Database.open(path), clock)

    @classmethod
    def open_readonly(cls, path: str | Path, clock: Clock = utcnow) -> Store:
        """The store on a read-only connection (reports and exports in a worker process)."""
        return cls(Database.open_readonly(path), clock)

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def database(self) -> Database:
        """For the modules that keep their own tables (``pmm_core.publishing.storage``)."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def schema_version(self) -> int:
        return self._db.schema_version()

    def backup(self, target: Path) -> None:
        self._db.backup(target)

    # ---- a whole cycle (analysis, checks, exports) -----------------------------------------
    def cycle_data(self, cycle_id: int) -> CycleData:
        cycle = self.cycle(cycle_id)
        if cycle is None:
            raise ValueError(f"no cycle {cycle_id}")
        answers: dict[str, dict[str, Answer]] = {}
        for r in self._db.rows("SELECT * FROM answers WHERE cycle_id = ? ORDER BY member", (cycle_id,)):
            answers.setdefault(r["member"], {})[r["data_point"]] = Answer(
                r["value"], r["by_user"], r["at"], r["source"]
            )
        states: dict[str, dict[str, KpiStatus]] = {}
        for r in self._db.rows("SELECT * FROM kpi_status WHERE cycle_id = ? ORDER BY member", (cycle_id,)):
            states.setdefault(r["member"], {})[r["kpi"]] = _kpi_status(r)
        submissions = {
            r["member"]: _submission(r)
            for r in self._db.rows("SELECT * FROM submissions WHERE cycle_id = ?", (cycle_id,))
        }
        return CycleData(
            cycle=cycle,
            members=self.members(),
            answers=answers,
            states=states,
            submissions=submissions,
            ncps=self.ncp_counts(),
            flags=tuple(self.flags(cycle_id)),
            reviewed=frozenset(
                r["member"]
                for r in self._db.rows(
                    "SELECT member FROM peer_reviews WHERE cycle_id = ? AND state = 'closed'", (cycle_id,)
                )
            ),
        )

    def last_cycle(self, cycle: Cycle, member: str) -> LastCycle | None:
        """The Member's answers and KPI states in the cycle before `cycle` (carry forward,
        last cycle's values beside the questions), or None if there is no earlier cycle."""
        before = self.previous_cycle(cycle)
        if before is None:
            return None
        data = self.member_data(before.id, member)
        return LastCycle(before.year, {dp: a.value for dp, a in data.answers.items()}, data.states)

    def import_cycle(self, data: CycleData) -> Cycle:
        """Loads a whole cycle's data in one transaction (synthetic data for the demo and the
        benchmarks): the cycle by its year, answers, KPI states and submissions."""
        now = self.now()
        c = data.cycle
        with self._db.tx() as conn:
            if conn.execute("SELECT 1 FROM cycles WHERE year = ?", (c.year,)).fetchone():
                raise ValueError(f"a cycle for {c.year} already exists")
            cur = conn.execute(
                "INSERT INTO cycles (year, opens, deadline, state, reminder_days) VALUES (?, ?, ?, ?, ?)",
                (c.year, c.opens.isoformat(), c.deadline.isoformat(), c.state.value, _days_text(c.reminder_days)),
            )
            cycle_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO answers (cycle_id, member, data_point, value, by_user, at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (cycle_id, member, dp, a.value, a.by_user, a.at, a.source)
                    for member, answers in data.answers.items()
                    for dp, a in answers.items()
                ],
            )
            conn.executemany(
                "INSERT INTO kpi_status (cycle_id, member, kpi, status, reason, comment, by_user, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (cycle_id, member, kpi, st.status.value, st.reason, st.comment, st.by_user, st.at)
                    for member, states in data.states.items()
                    for kpi, st in states.items()
                ],
            )
            conn.executemany(
                "INSERT INTO submissions (cycle_id, member, submitted_at, submitted_by, reopened_at) VALUES (?, ?, ?, ?, ?)",
                [
                    (cycle_id, m, sub.submitted_at, sub.submitted_by, sub.reopened_at)
                    for m, sub in data.submissions.items()
                ],
            )
            _audit(conn, now, None, cycle_id, None, "cycle.import", str(c.year), None, c.state.value)
        self._forget_cycles()
        cycle = self.cycle(cycle_id)
        assert cycle is not None
        return cycle

    def after_update_work(self) -> AfterWork:
        row = self._db.one(
            "SELECT EXISTS (SELECT 1 FROM thread_messages WHERE delivered = 0), "
            "EXISTS (SELECT 1 FROM notify_prefs WHERE mode = 'on') AND EXISTS (SELECT 1 FROM audit "
            "WHERE action IN ('submit', 'amend.done') AND id > (SELECT audit_id FROM notify_marks WHERE name = 'immediate')), "
            "EXISTS (SELECT 1 FROM peer_review_notices WHERE delivered = 0)"
        )
        assert row is not None
        return AfterWork(bool(row[0]), bool(row[1]), bool(row[2]))
