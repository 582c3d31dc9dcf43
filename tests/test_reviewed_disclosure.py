"""The cycle report marks the peer-reviewed Members (seed 002 §14) and, where the Secretariat
asks, counts their data separately: each KPI's statistic over the peer-reviewed Members alone.

That statistic is another published sum: with the one over all Members it gives, by subtraction,
the sum over the Members not reviewed. The exact checker decides: the subset is suppressed when it
(or its complement) would give a Member's figure away — 4 Members, 3 reviewed: the fourth's figure
is the difference — and nothing follows from any sequence of publications carrying it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import load_workbook

from pmm_core.catalog.members import read_members
from pmm_core.catalog.members.groupings import Grouping
from pmm_core.catalog.models import Disclosure
from pmm_core.domain.analysis import ALL, REVIEWED, Measure, Options, analyse, shown_cells
from pmm_core.domain.disclosure import Audience
from pmm_core.domain.records import CycleData
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.report import ReportOptions, build_report
from pmm_core.publishing import CellStatus, Decision, PubAudience, Stage, storage
from pmm_core.publishing.build import Ledger, build_publication, group_key
from pmm_core.storage.store import Store
from tests.test_publication import CATALOG, DAY, PUBLIC, SECRETARIAT, WCO, assert_nothing_derivable, cycles, put

A, B, C, D = "AA", "BB", "CC", "DD"


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    """Every WCO Member (the synthetic cycles use them)."""
    store = Store.open(tmp_path / "pmm.sqlite3")
    store.import_members(read_members())
    yield store
    store.close()


def region(code: str):
    return (Grouping.REGION, code)


@pytest.mark.parametrize(
    ("reviewed", "shown"),
    [
        ({A, B, C}, False),  # the complement is D alone: all less reviewed = D's figure
        ({A}, False),  # one Member's figure itself
        ({A, C}, True),  # two and two, across the regions: nothing single follows
        ({A, B, C, D}, True),  # every Member: the overall figure again
    ],
)
def test_the_reviewed_subset_is_hidden_when_it_or_its_complement_gives_a_figure(reviewed, shown):
    cells = {
        ALL: {A, B, C, D},
        region("x"): {A, B},
        region("y"): {C, D},
        REVIEWED: reviewed,
    }
    # each audience, with a level that hides the four figures from it
    for audience, level in (
        (Audience.public(), Disclosure.WCO),
        (Audience.wco(), Disclosure.UNION),
        (Audience.ncp("ZZ"), Disclosure.COUNTRY),
    ):
        visible = shown_cells(cells, Measure.MEAN, level, audience)
        assert (REVIEWED in visible) is shown, audience
        assert {ALL, region("x"), region("y")} <= visible  # the extra goes first, not a group
    # the Secretariat sees everything, and a Public KPI is anyone's
    assert REVIEWED in shown_cells(cells, Measure.MEAN, Disclosure.COUNTRY, Audience.secretariat())
    assert REVIEWED in shown_cells(cells, Measure.MEAN, Disclosure.PUBLIC, Audience.public())


def four_members(reviewed: int, level: Disclosure = Disclosure.COUNTRY) -> tuple[CycleData, str, list[str]]:
    """A cycle of four submitted Members that all confirmed one KPI of `level` (hidden from the
    NCPs at Country level, from the public at WCO level), `reviewed` of them peer-reviewed; (data,
    the KPI, the four)."""
    data = cycles(62)[2]
    counted = analyse(CATALOG, data)
    kpi = next(a.kpi for a in counted if a.level is level and a.n >= 4 and a.measure is Measure.MEAN)
    four = sorted(m for m, s in data.states.items() if s.get(kpi.id) and m in data.submissions)[:4]
    small = replace(
        data,
        submissions={m: data.submissions[m] for m in four},
        reviewed=frozenset(four[:reviewed]),
    )
    return small, kpi.id, four


def reviewed_cell(pub, kpi: str):
    return next(c for c in pub.cells if c.key == group_key(pub.year, kpi, None, "reviewed"))


@pytest.mark.parametrize(
    ("audience", "level"),
    [
        (PubAudience.WCO, Disclosure.COUNTRY),
        (PubAudience.PUBLIC, Disclosure.COUNTRY),
        (PubAudience.PUBLIC, Disclosure.WCO),
    ],
)
def test_four_members_three_reviewed_the_subset_is_suppressed(audience, level):
    data, kpi, four = four_members(3, level)
    pub = build_publication(
        CATALOG, data, None, audience, Stage.FINAL, Ledger(), DAY, Decision.INCLUDE, reviewed_apart=True
    )
    cell = reviewed_cell(pub, kpi)
    assert cell.members == frozenset(four[:3]) and cell.status is not CellStatus.SHOWN and cell.value is None
    overall = next(c for c in pub.cells if c.key == group_key(pub.year, kpi, None, ""))
    assert overall.status is CellStatus.SHOWN  # the overall figure stays; the extra is dropped
    [analysis] = [a for a in pub.analyses if a.kpi.id == kpi]
    assert analysis.reviewed is not None and analysis.reviewed.value is None
    # the same data for the Secretariat alone: everything is shown
    internal = build_publication(
        CATALOG, data, None, PubAudience.SECRETARIAT, Stage.FINAL, Ledger(), DAY, Decision.INCLUDE, reviewed_apart=True
    )
    assert reviewed_cell(internal, kpi).status is CellStatus.SHOWN


def test_four_members_two_reviewed_the_subset_may_be_shown():
    data, kpi, four = four_members(2)
    pub = build_publication(
        CATALOG, data, None, PubAudience.WCO, Stage.FINAL, Ledger(), DAY, Decision.INCLUDE, reviewed_apart=True
    )
    shown = reviewed_cell(pub, kpi).status is CellStatus.SHOWN
    groups = {c.members for c in pub.cells if c.status is CellStatus.SHOWN and f"|{kpi}|" in c.key}
    # shown unless the groups shown beside it pin one of the four down
    assert shown or any(len(g ^ frozenset(four[:2])) == 1 for g in groups)


def mark_reviewed(store, cycle_id: int, members) -> None:
    with store.database.tx() as conn:
        conn.executemany(
            "INSERT INTO peer_reviews (cycle_id, member, state, requested_by, requested_at, closed_at) "
            "VALUES (?, ?, 'closed', 1, '2026-01-20', '2026-02-20')",
            [(cycle_id, m) for m in members],
        )


@pytest.mark.parametrize("left_out", [1, 20])
def test_publications_with_the_reviewed_apart_leave_nothing_derivable(store, left_out):
    data = cycles(62)[2]
    cycle_id = store.import_cycle(data).id
    participants = sorted(data.submissions)
    mark_reviewed(store, cycle_id, participants[left_out:])
    assert store.cycle_data(cycle_id).reviewed == frozenset(participants[left_out:])
    put(store, cycle_id, PUBLIC, Stage.PROVISIONAL, reviewed_apart=True)
    wco = put(store, cycle_id, WCO, reviewed_apart=True)
    put(store, cycle_id, PUBLIC, reviewed_apart=True)
    put(store, cycle_id, SECRETARIAT, reviewed_apart=True)
    assert_nothing_derivable(store)
    cells = storage.cells(store, wco)
    subset = {k: c for k, c in cells.items() if k.endswith("|all|reviewed")}
    assert subset  # the statistics were asked for and weighed
    levels = {k.id: k.disclosure.kpi for k in CATALOG.kpis}
    pinned = 0
    for key, c in subset.items():
        kpi = key.split("|")[2]
        if left_out == 1 and levels[kpi] in (Disclosure.UNION, Disclosure.COUNTRY) and c.n >= 2:  # hidden from NCPs
            whole = cells[group_key(data.cycle.year, kpi, None, "")]
            if whole.status is CellStatus.SHOWN and whole.n == c.n + 1:
                assert c.status is not CellStatus.SHOWN, key  # all − reviewed = the one left out
                pinned += 1
    assert pinned or left_out != 1
    if left_out == 20:
        assert any(c.status is CellStatus.SHOWN for c in subset.values())  # not everything is held back


def test_the_report_marks_the_peer_reviewed_members(store):
    data = cycles(62)[2]
    participants = sorted(m for m, sub in data.submissions.items() if sub.locked)
    marked = replace(data, reviewed=frozenset(participants[:2]))
    L = lang("en")
    internal = build_report(
        CATALOG, marked, None, L, ReportOptions(Options(reviewed_apart=True), as_of=date(2026, 5, 4))
    )
    page = internal.html.decode()
    total = len(participants)
    assert f"Peer-reviewed Members (review closed): 2 of {total}." in page
    names = [marked.members[m].name("en") for m in participants[:2]]
    assert all(f"{n} ({m})" in page for n, m in zip(names, participants[:2], strict=True))  # named: internal
    assert "Peer-reviewed Members" in page and "Each KPI also gives its result over the peer-reviewed Members" in page
    plain = build_report(CATALOG, marked, None, L, ReportOptions(as_of=date(2026, 5, 4))).html.decode()
    assert f"Peer-reviewed Members (review closed): 2 of {total}." in plain
    assert "<th>Peer-reviewed Members</th>" not in plain  # the subset only when asked
    fr = build_report(CATALOG, marked, None, lang("fr"), ReportOptions(Options(reviewed_apart=True))).html.decode()
    assert "Membres examinés par les pairs (examen clos)\u202f: 2" in fr
    # the workbook carries the subset row too
    book = load_workbook(io.BytesIO(internal.xlsx))
    rows = [[c.value for c in r] for r in book[L._("KPI results")].iter_rows()]
    assert any(r[4] == "Peer-reviewed Members" for r in rows)
