"""A Member's data — answers, KPI states, submission — and the one transaction that changes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.records import (
    Answer,
    CycleState,
    KpiState,
    KpiStatus,
    OutMessage,
    Submission,
)
from pmm_core.storage.base import (
    Conversation,
    MemberData,
    Outcome,
    StoreBase,
    _audit,
    _claim,
    _kpi_status,
    _Refused,
    _screen,
    _state_text,
    _submission,
    _write_conversation,
)
from pmm_core.storage.flags import _upsert_flag
from pmm_core.storage.outbox import _enqueue
from pmm_core.storage.thread_sql import amending_kpis, amendment_allows, record_figure_changes, touch_of


class AnswersStore(StoreBase):
    # ---- a Member's data -------------------------------------------------------------
    def member_data(self, cycle_id: int, member: str) -> MemberData:
        cache = self._fresh()
        key = (cycle_id, member)
        data = cache.member_data.get(key)
        if data is None:
            answers = {
                r["data_point"]: Answer(r["value"], r["by_user"], r["at"], r["source"])
                for r in self._db.rows("SELECT * FROM answers WHERE cycle_id = ? AND member = ?", (cycle_id, member))
            }
            states = {
                r["kpi"]: _kpi_status(r)
                for r in self._db.rows("SELECT * FROM kpi_status WHERE cycle_id = ? AND member = ?", (cycle_id, member))
            }
            row = self._db.one("SELECT * FROM submissions WHERE cycle_id = ? AND member = ?", (cycle_id, member))
            amending = amending_kpis(self._db.conn, cycle_id, member) if row and row["submitted_at"] else frozenset()
            data = cache.member_data[key] = MemberData(answers, states, _submission(row) if row else None, amending)
        return data

    def submitted_members(self, cycle_id: int) -> set[str]:
        """The Members whose answers for the cycle are submitted (and locked)."""
        rows = self._db.rows(
            "SELECT member FROM submissions WHERE cycle_id = ? AND submitted_at IS NOT NULL", (cycle_id,)
        )
        return {r["member"] for r in rows}

    def answers(self, cycle_id: int, member: str) -> Mapping[str, Answer]:
        return self.member_data(cycle_id, member).answers

    def kpi_states(self, cycle_id: int, member: str) -> Mapping[str, KpiStatus]:
        return self.member_data(cycle_id, member).states

    def submission(self, cycle_id: int, member: str) -> Submission | None:
        return self.member_data(cycle_id, member).submission

    # ---- writes ------------------------------------------------------------------------
    def apply(
        self,
        changes: ChangeSet | None,
        *,
        key: str | None = None,
        conversation: tuple[int, str] | None = None,
        expect_screen: int | None = None,
        close_upload: tuple[int, str] | None = None,
        messages: Sequence[OutMessage] = (),
    ) -> Outcome:
        """Writes one action in one transaction: its change set (with its audit rows), the
        user's new conversation state (user id, state JSON), the upload it closes (id, new
        state) and the messages it queues — after claiming `key` and checking that the
        conversation is still at `expect_screen` and the upload still pending. The outcome says
        whether it happened; a refused write leaves no trace, its key included."""
        now = self.now()
        new_data: MemberData | None = None
        screen: int | None = None
        try:
            with self._db.tx() as conn:
                seen = self._check().version  # what the cache holds, checked under the write lock
                if key is not None and not _claim(conn, key, now):
                    return Outcome.DUPLICATE
                stale = (
                    conversation is not None
                    and expect_screen is not None
                    and _screen(conn, conversation[0]) != expect_screen
                )
                if stale:
                    raise _Refused(Outcome.STALE)
                if changes is not None:
                    problem = _edit_problem(conn, changes)
                    if problem is not None:
                        raise _Refused(problem)
                    new_data = _write_edit(conn, changes, now, self.member_data(changes.cycle_id, changes.member))
                if close_upload is not None:
                    upload_id, state = close_upload
                    cur = conn.execute(
                        "UPDATE uploads SET state = ? WHERE id = ? AND state = 'pending'", (state, upload_id)
                    )
                    if not cur.rowcount:  # applied or cancelled meanwhile
                        raise _Refused(Outcome.STALE)
                if messages:
                    _enqueue(conn, list(messages), None, now)
                if conversation is not None:
                    screen = _write_conversation(conn, conversation[0], conversation[1], now)
        except _Refused as refused:
            return refused.outcome
        cache = self._cache  # a commit by another process after ours is seen at the next check
        if cache.version != seen:
            return Outcome.APPLIED
        if changes is not None and new_data is not None:
            cache.member_data[(changes.cycle_id, changes.member)] = new_data
        if conversation is not None and screen is not None:
            cache.conversations[conversation[0]] = Conversation(screen, conversation[1])
        return Outcome.APPLIED

    def save_conversation(self, user_id: int, state: str, expect_screen: int | None = None) -> Outcome:
        """Writes the conversation state alone (navigation); the screen number moves on."""
        return self.apply(None, conversation=(user_id, state), expect_screen=expect_screen)


def _edit_problem(conn: Any, edit: ChangeSet) -> Outcome | None:
    """Why the edit may not be written now (one query: the cycle, the NCP, the lock)."""
    row = conn.execute(
        "SELECT (SELECT state FROM cycles WHERE id = ?), "
        "(SELECT role = 'ncp' AND member = ? AND active FROM users WHERE telegram_id = ?), "
        "(SELECT submitted_at IS NOT NULL FROM submissions WHERE cycle_id = ? AND member = ?), "
        "(SELECT c.kpis || ';' || c.can_confirm FROM contributors c JOIN users u ON u.telegram_id = c.telegram_id "
        "AND u.member = c.member AND u.role = 'contributor' AND u.active "
        "WHERE c.telegram_id = ? AND c.member = ? AND c.revoked_at IS NULL)",
        (edit.cycle_id, edit.member, edit.user_id, edit.cycle_id, edit.member, edit.user_id, edit.member),
    ).fetchone()
    cycle_state, bound_ncp, locked, scope = row
    if cycle_state != CycleState.OPEN.value:
        return Outcome.CLOSED
    if not edit.by_secretariat and not bound_ncp and (scope is None or not _within(edit, scope)):
        return Outcome.NOT_ALLOWED
    if edit.reopen:  # only a submitted Member's answers can be reopened
        return None if locked else Outcome.STALE
    if locked and not amendment_allows(conn, edit.cycle_id, edit.member, touch_of(edit)):
        return Outcome.LOCKED  # (a KPI opened by an approved request to change it may change)
    return None


def _within(edit: ChangeSet, scope: str) -> bool:
    """True if a contributor with `scope` ("KPI,KPI;can_confirm") may write the edit: no
    submission, no reopening; a confirmation or a blank only for their KPIs and only if the
    NCP let them confirm (a KPI a changed figure reopens may be anyone's)."""
    kpis_text, _, can_confirm = scope.rpartition(";")
    kpis = set(kpis_text.split(","))
    if edit.submit or edit.reopen or (edit.flags and can_confirm != "1"):
        return False
    if not set(edit.started) <= kpis or (edit.comment is not None and edit.comment[0] not in kpis):
        return False
    decided = {k for k, c in edit.kpis.items() if c.status in (KpiState.CONFIRMED, KpiState.BLANK)}
    return not decided or (can_confirm == "1" and decided <= kpis)


def _write_edit(conn: Any, edit: ChangeSet, now: str, before: MemberData) -> MemberData:
    """Applies the edit inside the open transaction; the Member's data after it."""
    c, m, who = edit.cycle_id, edit.member, edit.user_id
    answers = dict(before.answers)
    changed: list[tuple[str, str | None, str]] = []
    for dp, value in edit.answers.items():
        old = answers.get(dp)
        if old is not None and old.value == value:
            continue
        changed.append((dp, old.value if old else None, value))
        conn.execute(
            "INSERT INTO answers (cycle_id, member, data_point, value, by_user, at, source) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (cycle_id, member, data_point) DO UPDATE SET value = excluded.value, "
            "by_user = excluded.by_user, at = excluded.at, source = excluded.source",
            (c, m, dp, value, who, now, edit.source),
        )
        _audit(conn, now, who, c, m, "answer", dp, old.value if old else None, value, edit.source)
        answers[dp] = Answer(value, who, now, edit.source)
    record_figure_changes(conn, _audit, now, c, m, changed, who, edit.by_secretariat)  # questions on those figures
    states = dict(before.states)
    for kpi in edit.started:
        if kpi not in states:
            conn.execute(
                "INSERT INTO kpi_status (cycle_id, member, kpi, status, by_user, at) VALUES (?, ?, ?, 'in_progress', ?, ?)",
                (c, m, kpi, who, now),
            )
            states[kpi] = KpiStatus(KpiState.IN_PROGRESS, None, None, who, now)
    for kpi, change in edit.kpis.items():
        old_state = states.get(kpi)
        old_text = _state_text(old_state.status, old_state.reason) if old_state else None
        if change.status is None:
            conn.execute("DELETE FROM kpi_status WHERE cycle_id = ? AND member = ? AND kpi = ?", (c, m, kpi))
            states.pop(kpi, None)
            new_text = None
        else:
            conn.execute(
                "INSERT INTO kpi_status (cycle_id, member, kpi, status, reason, comment, by_user, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cycle_id, member, kpi) DO UPDATE SET "
                "status = excluded.status, reason = excluded.reason, comment = excluded.comment, "
                "by_user = excluded.by_user, at = excluded.at",
                (c, m, kpi, change.status.value, change.reason, change.comment, who, now),
            )
            states[kpi] = KpiStatus(change.status, change.reason, change.comment, who, now)
            new_text = _state_text(change.status, change.reason)
        if old_text != new_text:
            _audit(conn, now, who, c, m, "kpi", kpi, old_text, new_text, edit.source)
    if edit.comment is not None:
        kpi, comment = edit.comment
        cur = conn.execute(
            "UPDATE kpi_status SET comment = ? WHERE cycle_id = ? AND member = ? AND kpi = ? AND status = 'blank'",
            (comment, c, m, kpi),
        )
        if not cur.rowcount:  # the KPI is no longer blank: nothing to comment on
            raise _Refused(Outcome.STALE)
        _audit(conn, now, who, c, m, "kpi.comment", kpi, None, comment, edit.source)
        state = states[kpi]
        states[kpi] = KpiStatus(state.status, state.reason, comment, state.by_user, state.at)
    for flag in edit.flags:
        _upsert_flag(conn, c, m, flag, now, who)
    submission = before.submission
    if edit.reopen:
        conn.execute(
            "UPDATE submissions SET submitted_at = NULL, reopened_at = ?, reopened_by = ? "
            "WHERE cycle_id = ? AND member = ? AND submitted_at IS NOT NULL",
            (now, who, c, m),
        )
        _audit(conn, now, who, c, m, "reopen", m, None, now)
        submission = Submission(None, submission.submitted_by if submission else None, now)
    if edit.submit:
        conn.execute(
            "INSERT INTO submissions (cycle_id, member, submitted_at, submitted_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (cycle_id, member) DO UPDATE SET submitted_at = excluded.submitted_at, "
            "submitted_by = excluded.submitted_by, amended_at = NULL",
            (c, m, now, who),
        )
        _audit(conn, now, who, c, m, "submit", m, None, now, edit.source)
        submission = Submission(now, who, submission.reopened_at if submission else None)
    return MemberData(answers, states, submission, before.amending)
