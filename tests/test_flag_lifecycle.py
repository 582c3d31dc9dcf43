"""Flags follow their figures: created, updated, reopened and closed automatically."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from pmm_core.domain.checks import FigureChange, Finding, OutOfBounds, current_figure, find_issues
from pmm_core.domain.flag_lifecycle import reconcile
from pmm_core.domain.records import CycleData, Flag, FlagState
from tests import cycle_fixture
from tests.check_data import cycle


def stored(findings: list[Finding], state: FlagState = FlagState.OPEN) -> list[Flag]:
    """The findings as the store would hold them after a first run."""
    return [Flag(i, 2, f.member, f.kpi, f.data_point, f.kinds, f.detail, state) for i, f in enumerate(findings, 1)]


def corrected(data: CycleData, member: str, changes: dict[str, str], catalog) -> CycleData:
    answers = {m: data.values(m) for m in data.answers}
    answers[member] |= changes
    blank = {m: {k for k, s in states.items() if s.status.value == "blank"} for m, states in data.states.items()}
    return cycle(catalog, answers, blank)


def rc03(owing: int) -> dict[str, str]:
    return {"rc_importers_owing_interest": str(owing), "rc_importers": "1000"}


def test_a_run_without_changes_changes_nothing(catalog):
    data, previous = cycle_fixture.build(catalog)
    findings = find_issues(catalog, data, previous)
    plan = reconcile(stored(findings), findings)
    assert (plan.create, plan.update, plan.close) == ((), (), ())
    assert reconcile([], findings).create == tuple(findings)


def test_a_corrected_figure_closes_its_flags(catalog):
    """France types its total staff again, ten times the wrong figure. The three flags it caused
    (its parts by sex above it, OD-04 and OD-08 ten times too large) close, each saying what
    changed; the other flags stay as they are."""
    data, previous = cycle_fixture.build(catalog)
    before = find_issues(catalog, data, previous)
    flags = stored(before, FlagState.ASKED)
    right = str(int(data.values("FR")["od_staff_female"]) + int(data.values("FR")["od_staff_male"]))
    fixed = corrected(data, "FR", {"od_staff_total": right}, catalog)
    plan = reconcile(flags, find_issues(catalog, fixed, previous), lambda m, f: current_figure(catalog, fixed, m, f))
    assert plan.create == ()
    assert {(c.flag.member, c.flag.kpi, c.flag.data_point) for c in plan.close} == {
        ("FR", "OD-04", "od_staff_total"),
        ("FR", "OD-04", ""),
        ("FR", "OD-08", ""),
    }
    staff = next(c for c in plan.close if c.flag.data_point == "od_staff_total")
    wrong = data.values("FR")["od_staff_total"]
    assert FigureChange(figure="od_staff_total", before=D(wrong), now=D(right)) in (staff.finding.resolved or ())
    assert staff.finding.problems == Finding.from_flag(staff.flag).problems  # what it was, kept
    assert Finding.from_flag(
        Flag(0, 2, "FR", "OD-04", "od_staff_total", (), staff.finding.detail, FlagState.RESOLVED)
    ).resolved
    assert plan.update == ()  # the other flags' figures and groups did not change


@pytest.mark.parametrize(
    ("state", "new_owing", "reopen"),
    [
        pytest.param(FlagState.EXPLAINED, 1400, True, id="explained-figure-changed-still-trips"),
        pytest.param(FlagState.ASKED, 1400, True, id="asked-figure-changed-still-trips"),
        pytest.param(FlagState.OPEN, 1400, False, id="open-figure-changed"),
        pytest.param(FlagState.RESOLVED, 1300, True, id="resolved-trips-again"),
    ],
)
def test_a_figure_that_still_trips(catalog, state, new_owing, reopen):
    flags = stored(find_issues(catalog, cycle(catalog, {"KE": rc03(1300)})), state)
    findings = find_issues(catalog, cycle(catalog, {"KE": rc03(new_owing)}))
    [update] = reconcile(flags, findings).update
    assert update.reopen is reopen
    assert update.finding == findings[0]


def test_an_explained_figure_stays_explained_when_only_the_group_moves(catalog):
    """TF-07 = 90 % stays an outlier, and stays explained, when another Member's figure moves the median."""
    members = {
        m: {"tf_air_passengers_inspected": str(v), "tf_air_passengers": "1000"}
        for m, v in zip("ABCDEF", (100, 110, 120, 130, 140, 900), strict=True)
    }
    flags = stored(find_issues(catalog, cycle(catalog, members)), FlagState.EXPLAINED)
    members["A"]["tf_air_passengers_inspected"] = "135"  # median 12.5 → 13.25, MAD 1.5 → 1
    plan = reconcile(flags, find_issues(catalog, cycle(catalog, members)))
    [update] = plan.update
    assert not update.reopen and update.finding.detail != update.flag.detail


def test_an_explained_flag_that_no_longer_trips_closes(catalog):
    flags = stored(find_issues(catalog, cycle(catalog, {"KE": rc03(1300)})), FlagState.EXPLAINED)
    fixed = cycle(catalog, {"KE": rc03(130)})
    [closure] = reconcile(flags, find_issues(catalog, fixed), lambda m, f: current_figure(catalog, fixed, m, f)).close
    assert closure.finding.resolved == (FigureChange(figure="RC-03", before=D(130), now=D(13)),)
    # a resolved flag that no longer trips is left alone
    assert (
        reconcile([Flag(1, 2, "KE", "RC-03", "", ("range",), closure.finding.detail, FlagState.RESOLVED)], []).close
        == ()
    )


def test_flags_of_an_older_format(catalog):
    old = Flag(1, 2, "KE", "RC-03", "", ("range",), "result 130.00 > 100", FlagState.ASKED)
    findings = find_issues(catalog, cycle(catalog, {"KE": rc03(1300)}))
    [update] = reconcile([old], findings).update
    assert not update.reopen  # its figures are unknown: nothing to compare
    [closure] = reconcile([old], []).close
    assert closure.finding.resolved == () and closure.finding.problems == ()


def test_one_flag_per_figure(catalog):
    finding = Finding("KE", "RC-03", "", (OutOfBounds(kpi="RC-03", value=D(130), bound="max", limit=D(100)),))
    with pytest.raises(ValueError, match="two flags for one figure"):
        reconcile(stored([finding, finding]), [])
