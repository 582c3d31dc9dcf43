"""Data-check flags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pmm_core.domain.actions import NewFlag
from pmm_core.domain.records import (
    Flag,
    FlagState,
)
from pmm_core.storage.base import (
    StoreBase,
    _audit,
    _flag,
)


class FlagsStore(StoreBase):
    # ---- data-check flags ----------------------------------------------------------------
    def flags(self, cycle_id: int, state: FlagState | None = None, member: str | None = None) -> list[Flag]:
        sql, params = "SELECT * FROM flags WHERE cycle_id = ?", list[object]([cycle_id])
        if state is not None:
            sql, params = sql + " AND state = ?", [*params, state.value]
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        return [_flag(r) for r in self._db.rows(sql + " ORDER BY member, kpi, data_point", params)]

    def flag(self, flag_id: int) -> Flag | None:
        row = self._db.one("SELECT * FROM flags WHERE id = ?", (flag_id,))
        return _flag(row) if row else None

    def save_flags(
        self,
        cycle_id: int,
        create: Iterable[tuple[str, NewFlag]] = (),
        update: Iterable[tuple[int, NewFlag, bool]] = (),
        close: Iterable[tuple[int, str]] = (),
    ) -> None:
        """Applies a run of the checks in one transaction: new flags (Member, flag), updated
        ones (id, new problems, reopen?), and flags closed as resolved (id, detail)."""
        now = self.now()
        with self._db.tx() as conn:
            for member, flag in create:
                _upsert_flag(conn, cycle_id, member, flag, now, None)
            for flag_id, flag, reopen in update:
                conn.execute(
                    "UPDATE flags SET kinds = ?, detail = ?, updated_at = ?, "
                    "state = CASE WHEN ? THEN 'open' ELSE state END WHERE id = ?",
                    (",".join(flag.kinds), flag.detail, now, int(reopen), flag_id),
                )
            for flag_id, detail in close:
                row = conn.execute("SELECT * FROM flags WHERE id = ?", (flag_id,)).fetchone()
                if row is None:
                    continue
                conn.execute(
                    "UPDATE flags SET state = 'resolved', detail = ?, updated_at = ? WHERE id = ?",
                    (detail, now, flag_id),
                )
                _audit(
                    conn,
                    now,
                    None,
                    cycle_id,
                    row["member"],
                    "flag",
                    f"{row['kpi']}:{row['data_point']}",
                    row["state"],
                    "resolved",
                )

    def set_flag_state(self, flag_id: int, state: FlagState, by: int, note: str = "") -> Flag | None:
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM flags WHERE id = ?", (flag_id,)).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE flags SET state = ?, note = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                (state.value, note or row["note"], by, self.now(), flag_id),
            )
            _audit(
                conn,
                self.now(),
                by,
                row["cycle_id"],
                row["member"],
                "flag",
                f"{row['kpi']}:{row['data_point']}",
                row["state"],
                state.value,
            )
        return self.flag(flag_id)


def _upsert_flag(conn: Any, cycle_id: int, member: str, flag: NewFlag, now: str, by: int | None) -> None:
    """One flag per figure: a new one opens, a known one takes the new problems and the
    NCP's new justification, which is also its note unless the NCP gave none."""
    conn.execute(
        "INSERT INTO flags (cycle_id, member, kpi, data_point, kinds, detail, state, note, justification, "
        "created_at, updated_by, updated_at) VALUES (:cycle, :member, :kpi, :dp, :kinds, :detail, 'open', :why, "
        ":why, :now, :by, :now) ON CONFLICT (cycle_id, member, kpi, data_point) DO UPDATE SET "
        "kinds = excluded.kinds, detail = excluded.detail, state = 'open', "
        # the note: the new justification, else the Secretariat's note, never the NCP's old line
        "note = CASE WHEN excluded.note <> '' THEN excluded.note WHEN note = justification THEN '' ELSE note END, "
        "justification = excluded.justification, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        {
            "cycle": cycle_id,
            "member": member,
            "kpi": flag.kpi,
            "dp": flag.data_point,
            "kinds": ",".join(flag.kinds),
            "detail": flag.detail,
            "why": flag.justification,
            "now": now,
            "by": by,
        },
    )
    _audit(conn, now, by, cycle_id, member, "flag", f"{flag.kpi}:{flag.data_point}", None, ",".join(flag.kinds))
