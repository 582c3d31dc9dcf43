"""The audit log and usage events."""

from __future__ import annotations

from pmm_core.domain.records import (
    AuditRow,
)
from pmm_core.storage.base import (
    StoreBase,
    _audit,
)


class AuditStore(StoreBase):
    # ---- audit and events ----------------------------------------------------------------
    def audit_log(self, cycle_id: int | None = None, member: str | None = None) -> list[AuditRow]:
        sql, params = "SELECT * FROM audit WHERE 1 = 1", list[object]()
        if cycle_id is not None:
            sql, params = sql + " AND cycle_id = ?", [*params, cycle_id]
        if member is not None:
            sql, params = sql + " AND member = ?", [*params, member]
        return [
            AuditRow(
                at=r["at"],
                user_id=r["user_id"],
                cycle_id=r["cycle_id"],
                member=r["member"],
                action=r["action"],
                subject=r["subject"],
                old_value=r["old_value"],
                new_value=r["new_value"],
                source=r["source"],
            )
            for r in self._db.rows(sql + " ORDER BY id", params)
        ]

    def log_action(self, user_id: int | None, action: str, subject: str = "", member: str | None = None) -> None:
        """Audits an action that changes no data (e.g. an export by the Secretariat)."""
        with self._db.tx() as conn:
            _audit(conn, self.now(), user_id, None, member, action, subject[:300], None, None)

    def record_event(self, user_id: int, member: str | None, kind: str, kpi: str | None) -> None:
        """Records a usage event (e.g. an explanation asked) for the friction analysis."""
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO events (at, user_id, member, kind, kpi) VALUES (?, ?, ?, ?, ?)",
                (self.now(), user_id, member, kind, kpi),
            )

    def event_counts(self, kind: str) -> dict[str, int]:
        """How many events of `kind` (e.g. "explain") each KPI had."""
        rows = self._db.rows("SELECT kpi, COUNT(*) AS n FROM events WHERE kind = ? GROUP BY kpi", (kind,))
        return {r["kpi"]: r["n"] for r in rows if r["kpi"]}
