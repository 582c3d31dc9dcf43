"""Members and their groupings (reference data, with the NCP-confirmed profile)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pmm_core.catalog.members import Member
from pmm_core.storage.base import (
    StoreBase,
    _audit,
)


class MembersStore(StoreBase):
    # ---- members -------------------------------------------------------------------
    def import_members(self, members: Iterable[Member], user_id: int | None = None) -> int:
        """Adds or replaces Members; returns how many rows were written."""
        rows = [(m.iso2, m.region, m.income_group, m.geography, m.administration_type) for m in members]
        with self._db.tx() as conn:
            conn.executemany(
                "INSERT INTO members (iso2, region, income_group, geography, administration_type) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (iso2) DO UPDATE SET region = excluded.region, "
                "income_group = excluded.income_group, geography = CASE WHEN profile_confirmed_by IS NULL "
                "THEN excluded.geography ELSE geography END, administration_type = CASE WHEN "
                "profile_confirmed_by IS NULL THEN excluded.administration_type ELSE administration_type END",
                rows,
            )
            _audit(conn, self.now(), user_id, None, None, "members.import", "", None, str(len(rows)))
        self._fresh().members = None
        return len(rows)

    def members(self) -> dict[str, Member]:
        cache = self._fresh()
        if cache.members is None:
            cache.members = {
                r["iso2"]: Member(r["iso2"], r["region"], r["income_group"], r["geography"], r["administration_type"])
                for r in self._db.rows("SELECT * FROM members ORDER BY iso2")
            }
        return cache.members

    def member(self, iso2: str) -> Member | None:
        return self.members().get(iso2.upper())

    def profile_confirmed(self, iso2: str) -> bool:
        row = self._db.one("SELECT profile_confirmed_by FROM members WHERE iso2 = ?", (iso2,))
        return row is not None and row[0] is not None

    def set_member_profile(self, iso2: str, by: int, values: Mapping[str, str], *, confirm: bool = False) -> Member:
        """Sets a Member's geography and/or administration type (the NCP confirms their own at
        onboarding; the Secretariat may set any Member's)."""
        allowed = {"geography", "administration_type", "income_group", "region"}
        if not values or set(values) - allowed:
            raise ValueError(f"only {', '.join(sorted(allowed))} can be set")
        with self._db.tx() as conn:
            old = conn.execute("SELECT * FROM members WHERE iso2 = ?", (iso2,)).fetchone()
            if old is None:
                raise ValueError(f"unknown Member {iso2}")
            for column, value in values.items():
                conn.execute(f"UPDATE members SET {column} = ? WHERE iso2 = ?", (value, iso2))
                _audit(conn, self.now(), by, None, iso2, f"member.{column}", iso2, old[column], value)
            if confirm:
                conn.execute("UPDATE members SET profile_confirmed_by = ? WHERE iso2 = ?", (by, iso2))
        self._fresh().members = None
        member = self.member(iso2)
        assert member is not None
        return member
