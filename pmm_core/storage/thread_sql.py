"""The two places where the questions on a figure reach into a Member's data, as SQL steps the
store runs inside its own transactions (so that they commit with the data or not at all):

- a figure that changes is recorded in every unsettled thread about it, old → new, and moves
  the thread to *answered* (:func:`record_figure_changes`, from ``Store.apply``);
- a submitted Member's data may change only where an approved request opened it
  (:func:`amendment_allows`, :func:`amending_kpis`).

This module imports nothing of the store (the store imports it); the store passes its audit
step in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from pmm_core.domain.threads import (
    AuthorRole,
    ChangeState,
    MessageKind,
    Side,
    ThreadState,
    Touch,
    next_state,
    within_amendment,
)

Audit = Callable[..., object]  # store._audit(conn, now, user_id, cycle_id, member, action, subject, old, new, source)


class _KeptFlag(Protocol):
    @property
    def kpi(self) -> str: ...


class EditLike(Protocol):
    """What the amendment rule reads of ``pmm_core.store.Edit``."""

    @property
    def answers(self) -> Mapping[str, str]: ...
    @property
    def kpis(self) -> Mapping[str, object]: ...
    @property
    def started(self) -> tuple[str, ...]: ...
    @property
    def comment(self) -> tuple[str, str] | None: ...
    @property
    def flags(self) -> tuple[Any, ...]: ...
    @property
    def submit(self) -> bool: ...


def touch_of(edit: EditLike) -> Touch:
    kpis = set(edit.kpis) | set(edit.started) | {f.kpi for f in edit.flags}
    if edit.comment is not None:
        kpis.add(edit.comment[0])
    return Touch(points=frozenset(edit.answers), kpis=frozenset(kpis), submit=edit.submit)


def _split(text: str) -> frozenset[str]:
    return frozenset(part for part in text.split(",") if part)


def amending_kpis(conn: Any, cycle_id: int, member: str) -> frozenset[str]:
    """The KPIs of a submitted Member whose state may change now (approved requests)."""
    rows = conn.execute(
        "SELECT kpis FROM change_requests WHERE cycle_id = ? AND member = ? AND state = ?",
        (cycle_id, member, ChangeState.APPROVED.value),
    ).fetchall()
    out: frozenset[str] = frozenset()
    for row in rows:
        out |= _split(row[0])
    return out


def amendment_allows(conn: Any, cycle_id: int, member: str, touch: Touch) -> bool:
    """True if an edit of a submitted Member stays within what approved requests opened."""
    rows = conn.execute(
        "SELECT kpis, points FROM change_requests WHERE cycle_id = ? AND member = ? AND state = ?",
        (cycle_id, member, ChangeState.APPROVED.value),
    ).fetchall()
    kpis: set[str] = set()
    points: set[str] = set()
    for row in rows:
        kpis |= _split(row[0])
        points |= _split(row[1])
    return within_amendment(touch, kpis, points)


def record_figure_changes(
    conn: Any,
    audit: Audit,
    now: str,
    cycle_id: int,
    member: str,
    changes: Iterable[tuple[str, str | None, str]],
    who: int,
    by_secretariat: bool,
) -> None:
    """Records each changed figure (data point, old value, new value) in the unsettled threads
    about it; an NCP's change answers the thread, one made for the Member by the Secretariat
    is recorded without moving it."""
    role = AuthorRole.SECRETARIAT if by_secretariat else AuthorRole.NCP
    language_row = conn.execute("SELECT language FROM users WHERE telegram_id = ?", (who,)).fetchone()
    language = (language_row[0] if language_row else "") or ""
    for dp, old, new in changes:
        threads = conn.execute(
            "SELECT t.id, t.state, t.data_point FROM threads t JOIN thread_points p ON p.thread_id = t.id "
            "WHERE t.cycle_id = ? AND t.member = ? AND p.data_point = ? AND t.state <> ? ORDER BY t.id",
            (cycle_id, member, dp, ThreadState.RESOLVED.value),
        ).fetchall()
        for thread_id, state_text, thread_dp in threads:
            state = ThreadState(state_text)
            moved = next_state(state, MessageKind.FIGURE, Side.NCP) if role is AuthorRole.NCP else state
            new_state = moved if isinstance(moved, ThreadState) else state
            conn.execute(
                "INSERT INTO thread_messages (thread_id, at, author, role, kind, text, language, figure, "
                "data_point, old_value, new_value) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
                (
                    thread_id,
                    now,
                    who,
                    role.value,
                    MessageKind.FIGURE.value,
                    language,
                    new if thread_dp == dp else "",
                    dp,
                    old,
                    new,
                ),
            )
            conn.execute(
                "UPDATE threads SET state = ?, version = version + 1, updated_at = ? WHERE id = ?",
                (new_state.value, now, thread_id),
            )
            audit(conn, now, who, cycle_id, member, "thread.figure", f"{thread_id}:{dp}", old, new)
