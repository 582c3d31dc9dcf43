"""Publications in the store: each one as sent (its files), its statistics with the Members they
were taken over (the ledger of what each audience holds), and each Member's result as counted.
One short transaction to save one; the files and cells are never changed afterwards."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pmm_core.domain.derivation import Row
from pmm_core.publishing.build import Ledger, PriorCell, Publication
from pmm_core.publishing.model import HOLDS, READ_BY_NCPS, CellStatus, PubAudience, Stage
from pmm_core.storage.store import Store


class Outdated(RuntimeError):
    """Another publication was saved since this one was built: build it again."""


@dataclass(frozen=True)
class PubInfo:
    id: int
    cycle_id: int
    year: int
    audience: PubAudience
    stage: Stage
    basis: str
    population: tuple[str, ...]
    published: date
    published_by: int | None
    summary: dict[str, object]


@dataclass(frozen=True)
class StoredCell:
    key: str
    n: int
    value: Decimal | None
    value2: Decimal | None
    status: CellStatus


def _equations(rows: Sequence[Row]) -> str:
    return json.dumps([[r.variable[0], r.variable[1], r.variable[2], sorted(r.members)] for r in rows])


def _rows(text: str) -> list[Row]:
    return [Row((kind, ident, int(year)), frozenset(members)) for kind, ident, year, members in json.loads(text)]


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def last_id(store: Store) -> int:
    row = store.database.one("SELECT COALESCE(MAX(id), 0) AS id FROM publications")
    return int(row["id"]) if row else 0


def summary_of(pub: Publication) -> dict[str, object]:
    counts: dict[str, int] = {}
    for cell in pub.cells:
        counts[cell.status.value] = counts.get(cell.status.value, 0) + 1
    return {
        "cells": counts,
        "gate": {"items": len(pub.gate), "decision": pub.decision.value, "excluded": pub.excluded},
        "marked": pub.marked,
        "population": {"basis": pub.basis.value, "members": len(pub.population)},
        "residual": len(pub.residual),
    }


def save(
    store: Store,
    cycle_id: int,
    pub: Publication,
    by: int | None,
    files: Mapping[str, Sequence[tuple[str, bytes]]],
    built_after: int,
) -> int:
    """Stores `pub` and its files (language → (name, bytes)); refuses (:class:`Outdated`) when a
    publication was saved after the one numbered `built_after`, which `pub` did not take into account."""
    with store.database.tx() as conn:
        latest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM publications").fetchone()[0]
        if latest != built_after:
            raise Outdated(f"publication {latest} saved since {built_after}")
        cur = conn.execute(
            "INSERT INTO publications (cycle_id, audience, stage, basis, population, published_on, published_at, "
            "published_by, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cycle_id,
                pub.audience.value,
                pub.stage.value,
                pub.basis.value,
                ",".join(pub.population),
                pub.published.isoformat(),
                store.now(),
                by,
                json.dumps(summary_of(pub)),
            ),
        )
        pub_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO publication_cells (publication_id, key, equations, members, n, value, value2, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    pub_id,
                    c.key,
                    _equations(c.rows) if c.status is CellStatus.SHOWN else "[]",
                    ",".join(sorted(c.members)),
                    c.n,
                    None if c.value is None else str(c.value),
                    None if c.value2 is None else str(c.value2),
                    c.status.value,
                )
                for c in pub.cells
            ],
        )
        conn.executemany(
            "INSERT INTO publication_results (publication_id, kpi, member, value) VALUES (?, ?, ?, ?)",
            [(pub_id, kpi, m, str(v)) for kpi, by_member in pub.results.items() for m, v in by_member.items()],
        )
        conn.executemany(
            "INSERT INTO publication_files (publication_id, language, name, data) VALUES (?, ?, ?, ?)",
            [(pub_id, language, name, data) for language, named in files.items() for name, data in named],
        )
        conn.execute(
            "INSERT INTO audit (at, user_id, cycle_id, member, action, subject, old_value, new_value, source) "
            "VALUES (?, ?, ?, NULL, 'publish', ?, NULL, ?, '')",
            (store.now(), by, cycle_id, f"{pub.audience.value}:{pub.stage.value}", str(pub_id)),
        )
    return pub_id


def ledger(store: Store, audience: PubAudience) -> Ledger:
    """Everything the readers of a new publication for `audience` already hold."""
    db = store.database
    public: list[Row] = []
    ncps: list[Row] = []
    cells: dict[str, PriorCell] = {}
    rows = db.rows(
        "SELECT p.id, p.audience, p.published_on, c.key, c.equations, c.n, c.value, c.value2, c.status "
        "FROM publication_cells c JOIN publications p ON p.id = c.publication_id "
        "WHERE p.audience IN ('public', 'wco') AND c.status IN ('shown', 'kept') ORDER BY p.id"
    )
    held = {a.value for a in HOLDS[audience]}
    for r in rows:
        if r["status"] == "shown":
            equations = _rows(r["equations"])
            if r["audience"] == PubAudience.PUBLIC.value:
                public += equations
            if r["audience"] in {a.value for a in READ_BY_NCPS}:
                ncps += equations
        if r["audience"] in held and r["value"] is not None:
            cells[r["key"]] = PriorCell(
                r["key"],
                Decimal(r["value"]),
                _decimal(r["value2"]),
                r["n"],
                date.fromisoformat(r["published_on"]),
                r["id"],
            )
    return Ledger(tuple(public), tuple(ncps), cells)


def _info(r: object) -> PubInfo:
    row: Mapping[str, object] = r  # type: ignore[assignment]
    return PubInfo(
        id=int(row["id"]),  # type: ignore[call-overload]
        cycle_id=int(row["cycle_id"]),  # type: ignore[call-overload]
        year=int(row["year"]),  # type: ignore[call-overload]
        audience=PubAudience(str(row["audience"])),
        stage=Stage(str(row["stage"])),
        basis=str(row["basis"]),
        population=tuple(m for m in str(row["population"]).split(",") if m),
        published=date.fromisoformat(str(row["published_on"])),
        published_by=row["published_by"],  # type: ignore[arg-type]
        summary=json.loads(str(row["summary"])),
    )


_SELECT = "SELECT p.*, y.year AS year FROM publications p JOIN cycles y ON y.id = p.cycle_id "


def publications(store: Store, cycle_id: int | None = None) -> list[PubInfo]:
    if cycle_id is None:
        return [_info(r) for r in store.database.rows(_SELECT + "ORDER BY p.id")]
    return [_info(r) for r in store.database.rows(_SELECT + "WHERE p.cycle_id = ? ORDER BY p.id", (cycle_id,))]


def publication(store: Store, pub_id: int) -> PubInfo | None:
    row = store.database.one(_SELECT + "WHERE p.id = ?", (pub_id,))
    return _info(row) if row is not None else None


def latest(store: Store, audience: PubAudience, cycle_id: int | None = None) -> PubInfo | None:
    """The latest publication for `audience` (of a cycle, or of any)."""
    found = [p for p in publications(store, cycle_id) if p.audience is audience]
    return found[-1] if found else None


def files(store: Store, pub_id: int, language: str) -> list[tuple[str, bytes]]:
    rows = store.database.rows(
        "SELECT name, data FROM publication_files WHERE publication_id = ? AND language = ? ORDER BY name",
        (pub_id, language),
    )
    return [(r["name"], bytes(r["data"])) for r in rows]


def cells(store: Store, pub_id: int) -> dict[str, StoredCell]:
    rows = store.database.rows(
        "SELECT key, n, value, value2, status FROM publication_cells WHERE publication_id = ?", (pub_id,)
    )
    return {
        r["key"]: StoredCell(r["key"], r["n"], _decimal(r["value"]), _decimal(r["value2"]), CellStatus(r["status"]))
        for r in rows
    }


def equations(store: Store, pub_id: int) -> list[Row]:
    """The equations a publication gave (its cells shown), for the checks."""
    rows = store.database.rows(
        "SELECT equations FROM publication_cells WHERE publication_id = ? AND status = 'shown'", (pub_id,)
    )
    return [row for r in rows for row in _rows(r["equations"])]


def results(store: Store, pub_id: int, kpi: str | None = None) -> dict[str, dict[str, Decimal]]:
    """KPI → Member → result as the publication counted it."""
    sql, params = "SELECT kpi, member, value FROM publication_results WHERE publication_id = ?", [pub_id]
    if kpi is not None:
        sql, params = sql + " AND kpi = ?", [pub_id, kpi]  # type: ignore[list-item]
    out: dict[str, dict[str, Decimal]] = {}
    for r in store.database.rows(sql, params):
        out.setdefault(r["kpi"], {})[r["member"]] = Decimal(r["value"])
    return out
