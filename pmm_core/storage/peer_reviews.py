"""The peer review stage: requests, reviewers and their single-use invitations (stored hashed),
each reviewer's state per KPI, comments, conclusions and the notices of KPIs sent back to
review. One transaction per action, with the update's idempotency key and the screen check
where a user's screen is involved, and an audit row for every step."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, timedelta
from typing import Any

from pmm_core.domain.peer_review import (
    LIVE,
    MAX_REVIEWERS,
    KpiReview,
    PeerReview,
    ReviewComment,
    Reviewer,
    ReviewProblem,
    ReviewState,
    member_state,
)
from pmm_core.domain.records import OutMessage
from pmm_core.storage.base import Outcome, StoreBase, _audit, _claim, _Refused, _screen, _write_conversation
from pmm_core.storage.db import sha256_hex
from pmm_core.storage.outbox import _enqueue

Audit = Any
Tell = Callable[[PeerReview], Sequence[OutMessage]]
"""The messages an action sends to others, rendered inside its transaction (reads on the
store see the action's own writes) and queued with it: the action and its messages commit
together, or neither does."""


def _tell(conn: Any, tell: Tell | None, review_id: int, now: str) -> None:
    if tell is None:
        return
    row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (review_id,)).fetchone()
    _enqueue(conn, list(tell(_review(row))), None, now)


class PeerReviewsStore(StoreBase):
    # ---- reads -------------------------------------------------------------------------
    def peer_review(self, review_id: int) -> PeerReview | None:
        row = self._db.one("SELECT * FROM peer_reviews WHERE id = ?", (review_id,))
        return _review(row) if row else None

    def peer_reviews(
        self, cycle_id: int, states: Iterable[ReviewState] | None = None, member: str | None = None
    ) -> list[PeerReview]:
        sql, params = "SELECT * FROM peer_reviews WHERE cycle_id = ?", list[object]([cycle_id])
        if states is not None:
            wanted = [s.value for s in states]
            sql, params = sql + f" AND state IN ({', '.join('?' * len(wanted))})", [*params, *wanted]
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        return [_review(r) for r in self._db.rows(sql + " ORDER BY id", params)]

    def live_review(self, cycle_id: int, member: str) -> PeerReview | None:
        found = self.peer_reviews(cycle_id, LIVE, member)
        return found[0] if found else None

    def reviewers(self, review_id: int, *, active_only: bool = True) -> list[Reviewer]:
        sql = "SELECT * FROM peer_reviewers WHERE review_id = ?" + (" AND active = 1" if active_only else "")
        return [_reviewer(r) for r in self._db.rows(sql + " ORDER BY joined_at, user_id", (review_id,))]

    def reviewer(self, review_id: int, user_id: int) -> Reviewer | None:
        row = self._db.one("SELECT * FROM peer_reviewers WHERE review_id = ? AND user_id = ?", (review_id, user_id))
        return _reviewer(row) if row else None

    def reviews_of(self, user_id: int, cycle_id: int) -> list[PeerReview]:
        """The reviews of the cycle in which the user is an active reviewer."""
        rows = self._db.rows(
            "SELECT r.* FROM peer_reviews r JOIN peer_reviewers p ON p.review_id = r.id "
            "WHERE p.user_id = ? AND p.active = 1 AND r.cycle_id = ? ORDER BY r.id",
            (user_id, cycle_id),
        )
        return [_review(r) for r in rows]

    def review_states(self, review_id: int, user_id: int) -> dict[str, KpiReview]:
        rows = self._db.rows(
            "SELECT kpi, state FROM peer_review_kpis WHERE review_id = ? AND user_id = ?", (review_id, user_id)
        )
        return {r["kpi"]: KpiReview(r["state"]) for r in rows}

    def effective_review_states(self, review_id: int, user_id: int) -> dict[str, KpiReview]:
        """The reviewer's state per KPI: as stored, except that an issue of theirs still waiting
        for the NCPs makes it *has issues*, and an issue the NCPs answered puts it back *to review*."""
        states = self.review_states(review_id, user_id)
        threads: dict[str, set[str]] = {}
        for r in self._db.rows(
            "SELECT kpi, state FROM threads WHERE review_id = ? AND opened_by = ?", (review_id, user_id)
        ):
            threads.setdefault(r["kpi"], set()).add(r["state"])
        for kpi, found in threads.items():
            if states.get(kpi) is KpiReview.ACCEPTED:
                continue
            if found & {"open", "reopened"}:
                states[kpi] = KpiReview.HAS_ISSUES
            elif "answered" in found and states.get(kpi) is KpiReview.HAS_ISSUES:
                states[kpi] = KpiReview.TO_REVIEW
        return states

    def member_review_states(self, review_id: int, kpis: Iterable[str]) -> dict[str, KpiReview]:
        """The Member's state per KPI over its active reviewers (see ``member_state``)."""
        per = [self.effective_review_states(review_id, r.user_id) for r in self.reviewers(review_id)]
        return {k: member_state(per, k) for k in kpis}

    def review_comments(self, review_id: int) -> list[ReviewComment]:
        rows = self._db.rows("SELECT * FROM peer_review_comments WHERE review_id = ? ORDER BY id", (review_id,))
        return [ReviewComment(r["review_id"], r["user_id"], r["kpi"], r["at"], r["text"]) for r in rows]

    def review_audit(self, cycle_id: int, member: str) -> list[Any]:
        """The audit rows of the Member's reviews and figures (for the report)."""
        return self._db.rows(
            "SELECT * FROM audit WHERE cycle_id = ? AND member = ? AND (action LIKE 'review.%' OR action = 'answer') "
            "ORDER BY id",
            (cycle_id, member),
        )

    # ---- request and decision ----------------------------------------------------------
    def request_review(
        self, cycle_id: int, member: str, by: int, key: str | None = None, tell: Tell | None = None
    ) -> PeerReview | ReviewProblem:
        """The NCP asks for a peer review of the submitted Member (the Secretariat is told)."""
        now = self.now()
        with self._db.tx() as conn:
            sub = conn.execute(
                "SELECT 1 FROM submissions WHERE cycle_id = ? AND member = ?", (cycle_id, member)
            ).fetchone()
            if sub is None:
                return ReviewProblem.NOT_SUBMITTED
            live = conn.execute(
                "SELECT id FROM peer_reviews WHERE cycle_id = ? AND member = ? AND state IN ('requested', 'active')",
                (cycle_id, member),
            ).fetchone()
            if live is not None:
                return ReviewProblem.ALREADY
            if key is not None and not _claim(conn, key, now):
                return ReviewProblem.ALREADY
            cur = conn.execute(
                "INSERT INTO peer_reviews (cycle_id, member, state, requested_by, requested_at) VALUES (?, ?, ?, ?, ?)",
                (cycle_id, member, ReviewState.REQUESTED.value, by, now),
            )
            review_id = int(cur.lastrowid or 0)
            _audit(conn, now, by, cycle_id, member, "review.request", str(review_id), None, "requested")
            _tell(conn, tell, review_id, now)
        review = self.peer_review(review_id)
        assert review is not None
        return review

    def decide_review(
        self, review_id: int, accept: bool, by: int, key: str | None = None, tell: Tell | None = None
    ) -> Outcome:
        now = self.now()
        new = ReviewState.ACTIVE if accept else ReviewState.DECLINED
        with self._db.tx() as conn:
            if key is not None and not _claim(conn, key, now):
                return Outcome.DUPLICATE
            row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None or row["state"] != ReviewState.REQUESTED.value:
                return Outcome.STALE
            conn.execute(
                "UPDATE peer_reviews SET state = ?, decided_by = ?, decided_at = ? WHERE id = ?",
                (new.value, by, now, review_id),
            )
            _audit(conn, now, by, row["cycle_id"], row["member"], "review.decide", str(review_id), row["state"], new)
            _tell(conn, tell, review_id, now)
        return Outcome.APPLIED

    def set_review_deadline(
        self, review_id: int, deadline: str, by: int, key: str | None = None, tell: Tell | None = None
    ) -> Outcome:
        """Sets (or moves) the deadline of a live review (ISO date), audited; the people told of
        it are queued in the same transaction."""
        now = self.now()
        with self._db.tx() as conn:
            if key is not None and not _claim(conn, key, now):
                return Outcome.DUPLICATE
            row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None or row["state"] not in ("requested", "active"):
                return Outcome.STALE
            conn.execute("UPDATE peer_reviews SET deadline = ? WHERE id = ?", (deadline, review_id))
            _audit(
                conn,
                now,
                by,
                row["cycle_id"],
                row["member"],
                "review.deadline",
                str(review_id),
                row["deadline"],
                deadline,
            )
            _tell(conn, tell, review_id, now)
        return Outcome.APPLIED

    def review_deadline_set_at(self, review_id: int) -> str | None:
        """When the review's deadline was last set (its audit row), if ever."""
        review = self.peer_review(review_id)
        if review is None:
            return None
        row = self._db.one(
            "SELECT at FROM audit WHERE cycle_id = ? AND member = ? AND action = 'review.deadline' AND subject = ? "
            "ORDER BY id DESC LIMIT 1",
            (review.cycle_id, review.member, str(review_id)),
        )
        return str(row["at"]) if row else None

    def close_review(self, review_id: int, by: int, key: str | None = None, tell: Tell | None = None) -> Outcome:
        now = self.now()
        with self._db.tx() as conn:
            if key is not None and not _claim(conn, key, now):
                return Outcome.DUPLICATE
            row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None or row["state"] != ReviewState.ACTIVE.value:
                return Outcome.STALE
            conn.execute("UPDATE peer_reviews SET state = 'closed', closed_at = ? WHERE id = ?", (now, review_id))
            _audit(conn, now, by, row["cycle_id"], row["member"], "review.close", str(review_id), "active", "closed")
            _tell(conn, tell, review_id, now)
        return Outcome.APPLIED

    # ---- reviewers -----------------------------------------------------------------------
    def create_reviewer_invite(self, review_id: int, valid_for: timedelta, created_by: int) -> str | ReviewProblem:
        """A single-use invitation for a reviewer of an active review: shown once, kept hashed."""
        code = "r" + secrets.token_urlsafe(12)
        now = self.now()
        expires = (self.clock() + valid_for).astimezone(UTC).isoformat(timespec="seconds")
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None or row["state"] != ReviewState.ACTIVE.value:
                return ReviewProblem.NOT_ACTIVE
            n = conn.execute(
                "SELECT COUNT(*) FROM peer_reviewers WHERE review_id = ? AND active = 1", (review_id,)
            ).fetchone()[0]
            if n >= MAX_REVIEWERS:
                return ReviewProblem.FULL
            conn.execute(
                "INSERT INTO reviewer_invites (code_hash, review_id, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sha256_hex(code), review_id, created_by, now, expires),
            )
            _audit(
                conn, now, created_by, row["cycle_id"], row["member"], "review.invite", str(review_id), None, expires
            )
        return code

    def redeem_reviewer_invite(self, code: str, user_id: int, tell: Tell | None = None) -> PeerReview | ReviewProblem:
        """Makes the user a reviewer of the invitation's review (their NCP role, if any, stays);
        the Member's NCPs and the other reviewers are told (`tell`)."""
        now = self.now()
        with self._db.tx() as conn:
            inv = conn.execute("SELECT * FROM reviewer_invites WHERE code_hash = ?", (sha256_hex(code),)).fetchone()
            if inv is None:
                return ReviewProblem.UNKNOWN
            if inv["used_by"] is not None:
                return ReviewProblem.USED
            if inv["expires_at"] <= now:
                return ReviewProblem.EXPIRED
            row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (inv["review_id"],)).fetchone()
            if row is None or row["state"] != ReviewState.ACTIVE.value:
                return ReviewProblem.NOT_ACTIVE
            user = conn.execute("SELECT role, member FROM users WHERE telegram_id = ?", (user_id,)).fetchone()
            if user is not None and user["role"] == "ncp" and user["member"] == row["member"]:
                return ReviewProblem.OWN_MEMBER
            n = conn.execute(
                "SELECT COUNT(*) FROM peer_reviewers WHERE review_id = ? AND active = 1 AND user_id <> ?",
                (row["id"], user_id),
            ).fetchone()[0]
            if n >= MAX_REVIEWERS:
                return ReviewProblem.FULL
            conn.execute(
                "UPDATE reviewer_invites SET used_by = ?, used_at = ? WHERE code_hash = ?",
                (user_id, now, inv["code_hash"]),
            )
            conn.execute(
                "INSERT INTO peer_reviewers (review_id, user_id, joined_at) VALUES (?, ?, ?) "
                "ON CONFLICT (review_id, user_id) DO UPDATE SET active = 1",
                (row["id"], user_id, now),
            )
            _audit(
                conn, now, user_id, row["cycle_id"], row["member"], "review.join", str(row["id"]), None, str(user_id)
            )
            _tell(conn, tell, row["id"], now)
        return _review(row)

    def remove_reviewer(self, review_id: int, user_id: int, by: int, tell: Tell | None = None) -> Outcome:
        now = self.now()
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (review_id,)).fetchone()
            cur = conn.execute(
                "UPDATE peer_reviewers SET active = 0 WHERE review_id = ? AND user_id = ? AND active = 1",
                (review_id, user_id),
            )
            if row is None or not cur.rowcount:
                return Outcome.STALE
            _write_conversation(conn, user_id, "", now)  # their review screens are gone
            _audit(conn, now, by, row["cycle_id"], row["member"], "review.remove", str(review_id), str(user_id), None)
            _tell(conn, tell, review_id, now)
        self._fresh().conversations.pop(user_id, None)
        return Outcome.APPLIED

    # ---- a reviewer's steps -------------------------------------------------------------
    def review_step(
        self,
        review_id: int,
        user_id: int,
        kpi: str,
        *,
        state: KpiReview | None = None,
        comment: str | None = None,
        conclusion: str | None = None,
        key: str | None = None,
        conversation: str | None = None,
        expect_screen: int | None = None,
        tell: Tell | None = None,
    ) -> Outcome:
        """One step of a reviewer, in one transaction: a KPI's new state, a comment, or the
        conclusion; only on an active review the user still reviews and has not concluded.
        (A verdict that also writes to threads — Accept, Raise an issue — goes through
        ``ThreadStore``, which calls :func:`reviewer_step` inside its own transaction.)"""
        now = self.now()
        try:
            with self._db.tx() as conn:
                if key is not None and not _claim(conn, key, now):
                    raise _Refused(Outcome.DUPLICATE)
                if conversation is not None and expect_screen is not None and _screen(conn, user_id) != expect_screen:
                    raise _Refused(Outcome.STALE)
                reviewer_step(conn, now, review_id, user_id, kpi, state=state, comment=comment, conclusion=conclusion)
                _tell(conn, tell, review_id, now)
                if conversation is not None:
                    _write_conversation(conn, user_id, conversation, now)
        except _Refused as refused:
            return refused.outcome
        self._fresh().conversations.pop(user_id, None)
        return Outcome.APPLIED

    # ---- notices of KPIs sent back to review --------------------------------------------
    def review_notices(self) -> list[tuple[int, int, str]]:
        """(notice id, review id, KPI) not yet told to the reviewers."""
        rows = self._db.rows("SELECT id, review_id, kpi FROM peer_review_notices WHERE delivered = 0 ORDER BY id")
        return [(r["id"], r["review_id"], r["kpi"]) for r in rows]

    def has_review_notices(self) -> bool:
        return self._db.one("SELECT 1 FROM peer_review_notices WHERE delivered = 0 LIMIT 1") is not None

    def deliver_review_notices(self, ids: Iterable[int], outbox: list[Any]) -> None:
        from pmm_core.storage.outbox import _enqueue

        with self._db.tx() as conn:
            _enqueue(conn, outbox, None, self.now())
            conn.executemany("UPDATE peer_review_notices SET delivered = 1 WHERE id = ?", [(i,) for i in ids])


def reviewer_step(
    conn: Any,
    now: str,
    review_id: int,
    user_id: int,
    kpi: str,
    *,
    state: KpiReview | None = None,
    comment: str | None = None,
    conclusion: str | None = None,
) -> None:
    """Inside a transaction: a reviewer's verdict on a KPI, a comment or the conclusion, with
    their audit rows; raises ``_Refused(STALE)`` unless the review is active and the user an
    active reviewer who has not concluded."""
    row = conn.execute("SELECT * FROM peer_reviews WHERE id = ?", (review_id,)).fetchone()
    me = conn.execute(
        "SELECT * FROM peer_reviewers WHERE review_id = ? AND user_id = ? AND active = 1", (review_id, user_id)
    ).fetchone()
    if row is None or me is None or row["state"] != ReviewState.ACTIVE.value or me["concluded_at"]:
        raise _Refused(Outcome.STALE)
    c, m = row["cycle_id"], row["member"]
    if state is not None:
        old = conn.execute(
            "SELECT state FROM peer_review_kpis WHERE review_id = ? AND user_id = ? AND kpi = ?",
            (review_id, user_id, kpi),
        ).fetchone()
        conn.execute(
            "INSERT INTO peer_review_kpis (review_id, user_id, kpi, state, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (review_id, user_id, kpi) DO UPDATE SET state = excluded.state, at = excluded.at",
            (review_id, user_id, kpi, state.value, now),
        )
        _audit(conn, now, user_id, c, m, "review.kpi", kpi, old["state"] if old else "to_review", state.value)
    if comment is not None:
        conn.execute(
            "INSERT INTO peer_review_comments (review_id, user_id, kpi, at, text) VALUES (?, ?, ?, ?, ?)",
            (review_id, user_id, kpi, now, comment),
        )
        _audit(conn, now, user_id, c, m, "review.comment", kpi, None, comment[:300])
    if conclusion is not None:
        conn.execute(
            "UPDATE peer_reviewers SET conclusion = ?, concluded_at = ? WHERE review_id = ? AND user_id = ?",
            (conclusion, now, review_id, user_id),
        )
        _audit(conn, now, user_id, c, m, "review.conclude", str(review_id), None, conclusion[:300])


def back_to_review(
    conn: Any, audit: Audit, now: str, cycle_id: int, member: str, kpis: Iterable[str], who: int
) -> None:
    """Inside the write that changes a Member's KPIs: each one a reviewer of a live review had
    accepted, or found issues with, goes back to *to review*, and a notice for its reviewers is
    kept (delivered after the update)."""
    wanted = sorted(set(kpis))
    if not wanted:
        return
    row = conn.execute(
        "SELECT id FROM peer_reviews WHERE cycle_id = ? AND member = ? AND state = 'active'", (cycle_id, member)
    ).fetchone()
    if row is None:
        return
    for kpi in wanted:
        cur = conn.execute(
            "UPDATE peer_review_kpis SET state = 'to_review', at = ? WHERE review_id = ? AND kpi = ? "
            "AND state <> 'to_review'",
            (now, row["id"], kpi),
        )
        if cur.rowcount:
            conn.execute("INSERT INTO peer_review_notices (review_id, kpi, at) VALUES (?, ?, ?)", (row["id"], kpi, now))
            audit(conn, now, who, cycle_id, member, "review.kpi_back", kpi, None, "to_review")


def _review(row: Any) -> PeerReview:
    return PeerReview(
        id=row["id"],
        cycle_id=row["cycle_id"],
        member=row["member"],
        state=ReviewState(row["state"]),
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        closed_at=row["closed_at"],
        deadline=row["deadline"],
    )


def _reviewer(row: Any) -> Reviewer:
    return Reviewer(
        review_id=row["review_id"],
        user_id=row["user_id"],
        joined_at=row["joined_at"],
        active=bool(row["active"]),
        conclusion=row["conclusion"],
        concluded_at=row["concluded_at"],
    )
