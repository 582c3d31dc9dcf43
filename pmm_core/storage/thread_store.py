"""Storage of the questions on a figure: threads, their messages, requests to change a
submitted KPI, and the Secretariat's notices — beside :class:`pmm_core.store.Store`, on its
database and in its style: one transaction per user action, with the update's idempotency key,
the check that the screen is still current, the user's next conversation state and the audit
rows; a refused action leaves no trace.

``ThreadStore(store)`` is a view over the store; it keeps nothing of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pmm_core.domain.peer_review import KpiReview
from pmm_core.domain.records import AuditRow, OutMessage
from pmm_core.domain.threads import (
    SIDE_OF,
    AuthorRole,
    ChangeRequest,
    ChangeState,
    MessageKind,
    NotifyMode,
    Refusal,
    Side,
    Thread,
    ThreadMessage,
    ThreadState,
    next_state,
)
from pmm_core.storage.base import Outcome, _audit, _claim, _Refused, _screen, _write_conversation
from pmm_core.storage.outbox import _enqueue
from pmm_core.storage.peer_reviews import reviewer_step
from pmm_core.storage.store import Store

AUDIT_TEXT = 300  # characters of a message kept in its audit row (the message keeps it all)


Render = Callable[[Thread, ThreadMessage], list[OutMessage]]


@dataclass(frozen=True)
class Act:
    """Who acts and with which update: the idempotency key of the update, where the user then
    stands (their next conversation state, written in the same transaction, if the screen is
    still `expect_screen`), and how the other side reads a message of this action (`render`:
    the outbox messages, queued in the same transaction, so that the action, its messages and
    their delivery commit together)."""

    user_id: int
    role: AuthorRole
    language: str
    key: str | None = None
    conversation: str | None = None
    expect_screen: int | None = None
    render: Render | None = None


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    thread: Thread | None = None
    refusal: Refusal | None = None  # why a step the thread does not allow was refused
    request: ChangeRequest | None = None

    @property
    def applied(self) -> bool:
        return self.outcome is Outcome.APPLIED


class _Refusal(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


class ThreadStore:
    """Threads and change requests over `store`'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._db = store._db
        self._inserted: list[int] = []  # the messages of the action being written

    # ---- reads -------------------------------------------------------------------------
    def thread(self, thread_id: int) -> Thread | None:
        row = self._db.one("SELECT * FROM threads WHERE id = ?", (thread_id,))
        return _thread(row) if row else None

    def threads(
        self,
        cycle_id: int,
        member: str | None = None,
        kpi: str | None = None,
        states: Iterable[ThreadState] | None = None,
        review_id: int | None = None,
    ) -> list[Thread]:
        """Threads, newest activity first."""
        sql, params = "SELECT * FROM threads WHERE cycle_id = ?", list[object]([cycle_id])
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        if kpi is not None:
            sql, params = sql + " AND kpi = ?", [*params, kpi]
        if states is not None:
            wanted = [st.value for st in states]
            sql, params = sql + f" AND state IN ({', '.join('?' * len(wanted))})", [*params, *wanted]
        if review_id is not None:
            sql, params = sql + " AND review_id = ?", [*params, review_id]
        return [_thread(r) for r in self._db.rows(sql + " ORDER BY updated_at DESC, id DESC", params)]

    def messages(self, thread_id: int) -> list[ThreadMessage]:
        return [
            _message(r)
            for r in self._db.rows("SELECT * FROM thread_messages WHERE thread_id = ? ORDER BY id", (thread_id,))
        ]

    def all_messages(self, cycle_id: int) -> dict[int, list[ThreadMessage]]:
        """Every message of the cycle's threads, by thread (for the export)."""
        out: dict[int, list[ThreadMessage]] = {}
        rows = self._db.rows(
            "SELECT m.* FROM thread_messages m JOIN threads t ON t.id = m.thread_id WHERE t.cycle_id = ? "
            "ORDER BY m.thread_id, m.id",
            (cycle_id,),
        )
        for r in rows:
            out.setdefault(r["thread_id"], []).append(_message(r))
        return out

    def counts(self, cycle_id: int) -> dict[ThreadState, int]:
        rows = self._db.rows("SELECT state, COUNT(*) AS n FROM threads WHERE cycle_id = ? GROUP BY state", (cycle_id,))
        found = {r["state"]: r["n"] for r in rows}
        return {st: found.get(st.value, 0) for st in ThreadState}

    def change_request(self, request_id: int) -> ChangeRequest | None:
        row = self._db.one("SELECT * FROM change_requests WHERE id = ?", (request_id,))
        return _request(row) if row else None

    def change_requests(
        self, cycle_id: int, member: str | None = None, states: Iterable[ChangeState] | None = None
    ) -> list[ChangeRequest]:
        sql, params = "SELECT * FROM change_requests WHERE cycle_id = ?", list[object]([cycle_id])
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        if states is not None:
            wanted = [st.value for st in states]
            sql, params = sql + f" AND state IN ({', '.join('?' * len(wanted))})", [*params, *wanted]
        return [_request(r) for r in self._db.rows(sql + " ORDER BY id", params)]

    def request_of_thread(self, thread_id: int) -> ChangeRequest | None:
        """The thread's latest change request, if any."""
        row = self._db.one("SELECT * FROM change_requests WHERE thread_id = ? ORDER BY id DESC LIMIT 1", (thread_id,))
        return _request(row) if row else None

    def undelivered(self, limit: int = 100) -> list[tuple[Thread, ThreadMessage]]:
        """Messages not yet queued for the other side, oldest first."""
        rows = self._db.rows("SELECT m.* FROM thread_messages m WHERE m.delivered = 0 ORDER BY m.id LIMIT ?", (limit,))
        out = []
        for r in rows:
            thread = self.thread(r["thread_id"])
            if thread is not None:
                out.append((thread, _message(r)))
        return out

    def has_undelivered(self) -> bool:
        return self._db.one("SELECT 1 FROM thread_messages WHERE delivered = 0 LIMIT 1") is not None

    # ---- a thread's life -----------------------------------------------------------------
    def open_thread(
        self,
        act: Act,
        *,
        cycle_id: int,
        member: str,
        kpi: str,
        data_point: str,
        points: Iterable[str],
        text: str,
        figure: str,
        flag_id: int | None = None,
        review_id: int | None = None,
        verdict: KpiReview | None = None,
    ) -> Result:
        """Opens a thread with the asker's question; a flag it is tied to becomes *asked*; a
        peer reviewer's issue (`review_id`) records the reviewer's `verdict` on the KPI in the
        same transaction (refused unless they still review it)."""
        now = self.store.now()
        try:
            with self._action(act, now) as conn:
                if review_id is not None and act.role is AuthorRole.REVIEWER:
                    reviewer_step(conn, now, review_id, act.user_id, kpi, state=verdict)
                thread_id = _insert_thread(
                    conn, now, act, cycle_id, member, kpi, data_point, points, figure, flag_id, review_id
                )
                self._insert_message(conn, now, act, thread_id, MessageKind.QUESTION, text, figure)
                _audit(
                    conn,
                    now,
                    act.user_id,
                    cycle_id,
                    member,
                    "thread.open",
                    f"{thread_id}:{kpi}:{data_point}",
                    None,
                    text[:AUDIT_TEXT],
                )
                if flag_id is not None:
                    _flag_asked(conn, now, act.user_id, flag_id)
        except _Refused as refused:
            return Result(refused.outcome)
        self._after(act)
        return Result(Outcome.APPLIED, self.thread(thread_id))

    def post(
        self,
        act: Act,
        thread_id: int,
        kind: MessageKind,
        text: str = "",
        figure: str = "",
        *,
        version: int | None = None,
    ) -> Result:
        """Adds a message to a thread and moves it on; with `version`, only if the thread is
        still as the user saw it."""
        now = self.store.now()
        try:
            with self._action(act, now) as conn:
                row = conn.execute("SELECT * FROM threads WHERE id = ?", (thread_id,)).fetchone()
                if row is None or (version is not None and row["version"] != version):
                    raise _Refused(Outcome.STALE)
                thread = _thread(row)
                self._step(conn, now, act, thread, kind, text, figure)
        except _Refused as refused:
            return Result(refused.outcome, self.thread(thread_id))
        except _Refusal as said:
            return Result(Outcome.STALE, self.thread(thread_id), said.refusal)
        self._after(act)
        return Result(Outcome.APPLIED, self.thread(thread_id))

    def review_verdict(self, act: Act, review_id: int, kpi: str, state: KpiReview) -> Result:
        """A peer reviewer's verdict on a KPI; *accepted* also resolves the reviewer's issues
        on it still open (the NCPs are told) — one transaction, refused unless the reviewer
        still reviews it (and, with `act.expect_screen`, from the screen they were on)."""
        now = self.store.now()
        try:
            with self._action(act, now) as conn:
                reviewer_step(conn, now, review_id, act.user_id, kpi, state=state)
                if state is KpiReview.ACCEPTED:
                    for row in conn.execute(
                        "SELECT * FROM threads WHERE review_id = ? AND opened_by = ? AND kpi = ? AND state <> ? "
                        "ORDER BY id",
                        (review_id, act.user_id, kpi, ThreadState.RESOLVED.value),
                    ).fetchall():
                        self._step(conn, now, act, _thread(row), MessageKind.RESOLVED, "", "")
        except _Refused as refused:
            return Result(refused.outcome)
        self._after(act)
        return Result(Outcome.APPLIED)

    def request_change(
        self,
        act: Act,
        *,
        cycle_id: int,
        member: str,
        kpi: str,
        thread_id: int | None,
        points: Iterable[str],
        text: str,
        figure: str,
    ) -> Result:
        """The NCP asks to change a submitted KPI: in the thread given (unless it is settled or
        about another KPI), else in a new thread on the KPI, waiting for the Secretariat."""
        now = self.store.now()
        try:
            with self._action(act, now) as conn:
                pending = conn.execute(
                    "SELECT 1 FROM change_requests WHERE cycle_id = ? AND member = ? AND kpi = ? AND state IN (?, ?)",
                    (cycle_id, member, kpi, ChangeState.REQUESTED.value, ChangeState.APPROVED.value),
                ).fetchone()
                if pending is not None:
                    raise _Refusal(Refusal.CHANGE_PENDING)
                row = (
                    conn.execute("SELECT * FROM threads WHERE id = ?", (thread_id,)).fetchone()
                    if thread_id is not None
                    else None
                )
                thread = _thread(row) if row is not None else None
                if (
                    thread is None
                    or thread.settled
                    or (thread.cycle_id, thread.member, thread.kpi) != (cycle_id, member, kpi)
                ):
                    new_id = _insert_thread(conn, now, act, cycle_id, member, kpi, "", points, figure, None, None)
                    thread = _thread(conn.execute("SELECT * FROM threads WHERE id = ?", (new_id,)).fetchone())
                self._step(conn, now, act, thread, MessageKind.CHANGE_REQUESTED, text, figure)
                cur = conn.execute(
                    "INSERT INTO change_requests (cycle_id, member, kpi, thread_id, state, requested_by, requested_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (cycle_id, member, kpi, thread.id, ChangeState.REQUESTED.value, act.user_id, now),
                )
                request_id = int(cur.lastrowid or 0)
                _audit(
                    conn,
                    now,
                    act.user_id,
                    cycle_id,
                    member,
                    "change.request",
                    f"{request_id}:{kpi}",
                    None,
                    text[:AUDIT_TEXT],
                )
        except _Refused as refused:
            return Result(refused.outcome)
        except _Refusal as said:
            return Result(Outcome.STALE, None, said.refusal)
        self._after(act)
        return Result(Outcome.APPLIED, self.thread(thread.id), request=self.change_request(request_id))

    def decide_change(
        self,
        act: Act,
        request_id: int,
        *,
        approve: bool,
        version: int,
        kpis: Iterable[str] = (),
        points: Iterable[str] = (),
        text: str = "",
    ) -> Result:
        """The Secretariat approves (the KPI is open for change and must be confirmed again;
        the submission stays) or declines a request, if its thread is still at `version`."""
        now = self.store.now()
        request = self.change_request(request_id)
        try:
            with self._action(act, now) as conn:
                row = conn.execute("SELECT * FROM change_requests WHERE id = ?", (request_id,)).fetchone()
                if row is None or row["state"] != ChangeState.REQUESTED.value:
                    raise _Refused(Outcome.STALE)
                request = _request(row)
                thread_row = conn.execute("SELECT * FROM threads WHERE id = ?", (request.thread_id,)).fetchone()
                if thread_row is None or thread_row["version"] != version:
                    raise _Refused(Outcome.STALE)
                kind = MessageKind.CHANGE_APPROVED if approve else MessageKind.CHANGE_DECLINED
                self._step(conn, now, act, _thread(thread_row), kind, text, "")
                state = ChangeState.APPROVED if approve else ChangeState.DECLINED
                conn.execute(
                    "UPDATE change_requests SET state = ?, decided_by = ?, decided_at = ?, kpis = ?, points = ? WHERE id = ?",
                    (state.value, act.user_id, now, ",".join(sorted(kpis)), ",".join(sorted(points)), request_id),
                )
                c, m = request.cycle_id, request.member
                if approve:  # that KPI goes back in progress, to be confirmed again
                    old = conn.execute(
                        "SELECT status, reason FROM kpi_status WHERE cycle_id = ? AND member = ? AND kpi = ?",
                        (c, m, request.kpi),
                    ).fetchone()
                    conn.execute(
                        "INSERT INTO kpi_status (cycle_id, member, kpi, status, by_user, at) "
                        "VALUES (?, ?, ?, 'in_progress', ?, ?) ON CONFLICT (cycle_id, member, kpi) DO UPDATE SET "
                        "status = 'in_progress', reason = NULL, comment = NULL, by_user = excluded.by_user, at = excluded.at",
                        (c, m, request.kpi, act.user_id, now),
                    )
                    was = (f"{old['status']}:{old['reason']}" if old["reason"] else old["status"]) if old else None
                    if was != "in_progress":
                        _audit(conn, now, act.user_id, c, m, "kpi", request.kpi, was, "in_progress", "amendment")
                action = "change.approve" if approve else "change.decline"
                _audit(
                    conn,
                    now,
                    act.user_id,
                    c,
                    m,
                    action,
                    f"{request_id}:{request.kpi}",
                    ChangeState.REQUESTED.value,
                    state.value,
                )
        except _Refused as refused:
            return Result(refused.outcome, request=request)
        except _Refusal as said:
            return Result(Outcome.STALE, None, said.refusal, request)
        self._after(act, (request.cycle_id, request.member))
        return Result(Outcome.APPLIED, self.thread(request.thread_id), request=self.change_request(request_id))

    def finish_amendment(
        self,
        request_id: int,
        digest: str,
        by: int,
        language: str,
        render: Render | None = None,
        *,
        role: AuthorRole = AuthorRole.NCP,
        messages: Iterable[OutMessage] = (),
    ) -> ChangeRequest | None:
        """Marks an approved change done once the KPI is confirmed again: the submission is
        marked amended, the thread records the new digest (by the NCP, or the contributor who
        confirmed), `messages` are queued with it. None if it was not approved (or was
        finished already)."""
        now = self.store.now()
        act = Act(by, role, language, render=render)
        self._inserted = []
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE change_requests SET state = ?, digest = ? WHERE id = ? AND state = ?",
                (ChangeState.AMENDED.value, digest, request_id, ChangeState.APPROVED.value),
            )
            if not cur.rowcount:
                return None
            request = _request(conn.execute("SELECT * FROM change_requests WHERE id = ?", (request_id,)).fetchone())
            conn.execute(
                "UPDATE submissions SET amended_at = ? WHERE cycle_id = ? AND member = ?",
                (now, request.cycle_id, request.member),
            )
            thread = _thread(conn.execute("SELECT * FROM threads WHERE id = ?", (request.thread_id,)).fetchone())
            with contextlib.suppress(_Refusal):
                self._step(conn, now, act, thread, MessageKind.AMENDED, digest, "")
            _audit(conn, now, by, request.cycle_id, request.member, "amend.done", request.kpi, None, digest)
            _enqueue(conn, list(messages), None, now)
            self._deliver_inside(conn, act, now)
        self._after(act, (request.cycle_id, request.member))
        return request

    # ---- delivery to the other side --------------------------------------------------------
    def deliver(self, message_ids: Iterable[int], outbox: list[OutMessage]) -> int:
        """Queues the messages that carry thread messages to their readers and marks those
        delivered, in one transaction; returns how many were queued."""
        ids = list(message_ids)
        with self._db.tx() as conn:
            queued = _enqueue(conn, outbox, None, self.store.now())
            conn.executemany("UPDATE thread_messages SET delivered = 1 WHERE id = ?", [(i,) for i in ids])
        return queued

    # ---- the Secretariat's notices ------------------------------------------------------------
    def notify_mode(self, user_id: int) -> NotifyMode | None:
        row = self._db.one("SELECT mode FROM notify_prefs WHERE user_id = ?", (user_id,))
        return NotifyMode(row[0]) if row else None

    def set_notify_mode(self, user_id: int, mode: NotifyMode) -> None:
        """Sets an officer's choice. The first officer to turn notices on starts from now: what
        happened before is in the digest, not sent again one by one."""
        with self._db.tx() as conn:
            old = conn.execute("SELECT mode FROM notify_prefs WHERE user_id = ?", (user_id,)).fetchone()
            others_on = conn.execute(
                "SELECT 1 FROM notify_prefs WHERE mode = ? AND user_id <> ?", (NotifyMode.ON.value, user_id)
            ).fetchone()
            if mode is NotifyMode.ON and others_on is None:
                conn.execute(
                    "UPDATE notify_marks SET audit_id = (SELECT COALESCE(MAX(id), 0) FROM audit) WHERE name = 'immediate'"
                )
            conn.execute(
                "INSERT INTO notify_prefs (user_id, mode) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode",
                (user_id, mode.value),
            )
            _audit(
                conn, self.store.now(), user_id, None, None, "notify", str(user_id), old[0] if old else None, mode.value
            )

    def notices_after(self, audit_id: int, actions: Iterable[str], limit: int = 1000) -> list[tuple[int, AuditRow]]:
        wanted = list(actions)
        rows = self._db.rows(
            f"SELECT * FROM audit WHERE id > ? AND action IN ({', '.join('?' * len(wanted))}) ORDER BY id LIMIT ?",
            (audit_id, *wanted, limit),
        )
        return [
            (
                r["id"],
                AuditRow(
                    r["at"],
                    r["user_id"],
                    r["cycle_id"],
                    r["member"],
                    r["action"],
                    r["subject"],
                    r["old_value"],
                    r["new_value"],
                    r["source"],
                ),
            )
            for r in rows
        ]

    def mark(self, name: str) -> tuple[int, str]:
        """(audit id, time) up to which the notices of `name` were sent."""
        row = self._db.one("SELECT audit_id, at FROM notify_marks WHERE name = ?", (name,))
        return (int(row[0]), str(row[1])) if row else (0, "")

    def advance(self, name: str, seen: int, upto: int, at: str, messages: list[OutMessage]) -> int:
        """Queues notices and moves the mark from `seen` to `upto`, in one transaction; 0 and
        nothing queued if another pass moved it first."""
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE notify_marks SET audit_id = ?, at = ? WHERE name = ? AND audit_id = ?", (upto, at, name, seen)
            )
            if not cur.rowcount:
                return 0
            return _enqueue(conn, messages, None, self.store.now())

    # ---- steps inside a transaction ---------------------------------------------------------
    @contextlib.contextmanager
    def _action(self, act: Act, now: str) -> Iterator[Any]:
        self._inserted = []
        with self._db.tx() as conn:
            if act.key is not None and not _claim(conn, act.key, now):
                raise _Refused(Outcome.DUPLICATE)
            if (
                act.conversation is not None
                and act.expect_screen is not None
                and _screen(conn, act.user_id) != act.expect_screen
            ):
                raise _Refused(Outcome.STALE)
            yield conn
            self._deliver_inside(conn, act, now)
            if act.conversation is not None:
                _write_conversation(conn, act.user_id, act.conversation, now)

    def _deliver_inside(self, conn: Any, act: Act, now: str) -> None:
        """Queues this action's messages for the other side and marks them delivered, inside
        the action's transaction (reads on this connection see the action's own writes)."""
        if act.render is None or not self._inserted:
            return
        outbox: list[OutMessage] = []
        for message_id in self._inserted:
            msg = _message(conn.execute("SELECT * FROM thread_messages WHERE id = ?", (message_id,)).fetchone())
            thread = _thread(conn.execute("SELECT * FROM threads WHERE id = ?", (msg.thread_id,)).fetchone())
            outbox += act.render(thread, msg)
        _enqueue(conn, outbox, None, now)
        conn.executemany("UPDATE thread_messages SET delivered = 1 WHERE id = ?", [(i,) for i in self._inserted])

    def _after(self, act: Act, member: tuple[int, str] | None = None) -> None:
        """What the store's read cache must forget after a commit of this module."""
        cache = self.store._fresh()
        cache.conversations.pop(act.user_id, None)
        if member is not None:
            cache.member_data.pop(member, None)

    def _step(self, conn: Any, now: str, act: Act, thread: Thread, kind: MessageKind, text: str, figure: str) -> None:
        side = SIDE_OF.get(act.role, Side.NCP)
        moved = next_state(thread.state, kind, side)
        if isinstance(moved, Refusal):
            raise _Refusal(moved)
        self._insert_message(conn, now, act, thread.id, kind, text, figure)
        conn.execute(
            "UPDATE threads SET state = ?, version = version + 1, updated_at = ? WHERE id = ?",
            (moved.value, now, thread.id),
        )
        _audit(
            conn,
            now,
            act.user_id,
            thread.cycle_id,
            thread.member,
            f"thread.{kind.value}",
            str(thread.id),
            thread.state.value,
            moved.value if not text else f"{moved.value}: {text[:AUDIT_TEXT]}",
        )
        if thread.flag_id is not None:
            _flag_follows(conn, now, act.user_id, thread, kind, text, side)

    def _insert_message(
        self, conn: Any, now: str, act: Act, thread_id: int, kind: MessageKind, text: str, figure: str
    ) -> int:
        cur = conn.execute(
            "INSERT INTO thread_messages (thread_id, at, author, role, kind, text, language, figure) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (thread_id, now, act.user_id, act.role.value, kind.value, text, act.language, figure),
        )
        message_id = int(cur.lastrowid or 0)
        self._inserted.append(message_id)
        return message_id


# ---- steps ---------------------------------------------------------------------------------


def _insert_thread(
    conn: Any,
    now: str,
    act: Act,
    cycle_id: int,
    member: str,
    kpi: str,
    data_point: str,
    points: Iterable[str],
    figure: str,
    flag_id: int | None,
    review_id: int | None,
) -> int:
    cur = conn.execute(
        "INSERT INTO threads (cycle_id, member, kpi, data_point, flag_id, review_id, opened_by, opened_role, state, "
        "version, figure, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
        (
            cycle_id,
            member,
            kpi,
            data_point,
            flag_id,
            review_id,
            act.user_id,
            # a contributor's request opens a thread of the NCP side (threads.opened_role has no 'contributor')
            (AuthorRole.NCP if act.role is AuthorRole.CONTRIBUTOR else act.role).value,
            ThreadState.OPEN.value,
            figure,
            now,
            now,
        ),
    )
    thread_id = int(cur.lastrowid or 0)
    conn.executemany(
        "INSERT OR IGNORE INTO thread_points (thread_id, data_point) VALUES (?, ?)",
        [(thread_id, dp) for dp in dict.fromkeys(points)],
    )
    return thread_id


def _flag_asked(conn: Any, now: str, by: int, flag_id: int) -> None:
    row = conn.execute("SELECT * FROM flags WHERE id = ?", (flag_id,)).fetchone()
    if row is None or row["state"] in ("asked", "resolved"):
        return
    conn.execute("UPDATE flags SET state = 'asked', updated_by = ?, updated_at = ? WHERE id = ?", (by, now, flag_id))
    _audit(
        conn,
        now,
        by,
        row["cycle_id"],
        row["member"],
        "flag",
        f"{row['kpi']}:{row['data_point']}",
        row["state"],
        "asked",
    )


def _flag_follows(conn: Any, now: str, by: int, thread: Thread, kind: MessageKind, text: str, side: Side) -> None:
    """A flag tied to a thread follows it: the NCP's explanation becomes its justification; a
    resolved thread explains the flag (unless the checks closed it); a reopened or asked-again
    thread asks it again."""
    row = conn.execute("SELECT * FROM flags WHERE id = ?", (thread.flag_id,)).fetchone()
    if row is None:
        return
    state = row["state"]
    new_state = state
    if kind is MessageKind.CORRECT:
        conn.execute(
            "UPDATE flags SET justification = ?, note = CASE WHEN note = '' OR note = justification THEN ? ELSE note END, "
            "updated_by = ?, updated_at = ? WHERE id = ?",
            (text[:500], text[:500], by, now, row["id"]),
        )
    elif kind is MessageKind.RESOLVED and state in ("open", "asked"):
        new_state = "explained"
    elif (kind is MessageKind.REOPENED and state == "explained") or (
        side is Side.ASKER and kind is MessageKind.REPLY and state == "open"
    ):
        new_state = "asked"
    if new_state != state:
        conn.execute(
            "UPDATE flags SET state = ?, updated_by = ?, updated_at = ? WHERE id = ?", (new_state, by, now, row["id"])
        )
        _audit(
            conn, now, by, row["cycle_id"], row["member"], "flag", f"{row['kpi']}:{row['data_point']}", state, new_state
        )


# ---- rows → records ------------------------------------------------------------------------


def _thread(row: Any) -> Thread:
    return Thread(
        id=row["id"],
        cycle_id=row["cycle_id"],
        member=row["member"],
        kpi=row["kpi"],
        data_point=row["data_point"],
        state=ThreadState(row["state"]),
        version=row["version"],
        opened_by=row["opened_by"],
        opened_role=AuthorRole(row["opened_role"]),
        figure=row["figure"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        flag_id=row["flag_id"],
        review_id=row["review_id"],
    )


def _message(row: Any) -> ThreadMessage:
    return ThreadMessage(
        id=row["id"],
        thread_id=row["thread_id"],
        at=row["at"],
        author=row["author"],
        role=AuthorRole(row["role"]),
        kind=MessageKind(row["kind"]),
        text=row["text"],
        language=row["language"],
        figure=row["figure"],
        data_point=row["data_point"],
        old_value=row["old_value"],
        new_value=row["new_value"],
    )


def _request(row: Any) -> ChangeRequest:
    return ChangeRequest(
        id=row["id"],
        cycle_id=row["cycle_id"],
        member=row["member"],
        kpi=row["kpi"],
        thread_id=row["thread_id"],
        state=ChangeState(row["state"]),
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        kpis=frozenset(k for k in row["kpis"].split(",") if k),
        points=frozenset(p for p in row["points"].split(",") if p),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        digest=row["digest"],
    )
