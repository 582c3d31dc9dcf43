"""Secretariat monitoring over a cycle's records: Member progress, NCP coverage, response and
blank rates, reasons by region, friction. Data built in memory."""

from __future__ import annotations

from datetime import date

from pmm_core.catalog.members import REGIONS, Member
from pmm_core.domain.analytics import (
    REGION_NAMES,
    KpiStats,
    friction,
    kpi_stats,
    member_statuses,
    ncp_coverage,
    participating_members,
    reasons_by_region,
)
from pmm_core.domain.records import (
    Answer,
    AuditRow,
    Cycle,
    CycleData,
    CycleState,
    KpiState,
    KpiStatus,
    MemberState,
    Submission,
)

T0 = "2026-01-15T09:00:00+00:00"
MEMBERS = {
    m.iso2: m
    for m in (Member("BE", "eur"), Member("FR", "eur"), Member("KE", "esa"), Member("JP", "ap"), Member("SN", "wca"))
}


def _state(status: KpiState, at: str = T0, reason: str | None = None) -> KpiStatus:
    return KpiStatus(status, reason, None, 1, at)


def _blank(reason: str, at: str = T0) -> KpiStatus:
    return _state(KpiState.BLANK, at, reason)


def scenario() -> CycleData:
    """BE (1 NCP) confirms TF-02, leaves TF-03 blank and submits; FR (2 NCPs) leaves TF-02 and
    TF-03 blank and has TF-05 in progress; KE has no NCP but the Secretariat marked TF-02 blank
    for it; JP (1 NCP) has not started; SN has neither NCP nor data."""
    return CycleData(
        cycle=Cycle(1, 2025, date(2026, 1, 1), date(2026, 3, 31), CycleState.CLOSED),
        members=MEMBERS,
        answers={
            "BE": {
                "tf_aeo_valid": Answer("120", 11, "2026-01-15T10:00:00+00:00"),
                "tf_aeo_valid_prev": Answer("100", 11, "2026-01-15T10:00:00+00:00"),
            },
            "FR": {"tf_export_declarations_measured": Answer("12", 12, "2026-01-15T11:00:00+00:00")},
        },
        states={
            "BE": {
                "TF-02": _state(KpiState.CONFIRMED, "2026-01-15T10:00:00+00:00"),
                "TF-03": _blank("no_detail", "2026-01-15T10:00:00+00:00"),
            },
            "FR": {
                "TF-02": _blank("no_detail"),
                "TF-03": _blank("no_detail"),
                "TF-05": _state(KpiState.IN_PROGRESS, "2026-01-15T10:00:00+00:00"),
            },
            "KE": {"TF-02": _blank("db_planned")},
        },
        submissions={"BE": Submission("2026-01-15T10:30:00+00:00", 11, None)},
        ncps={"BE": 1, "FR": 2, "JP": 1},
    )


def test_participating_members_have_an_ncp_or_data_sorted_by_region():
    # Official region order esa, eur, ap, …; SN (no NCP, no data) does not take part.
    assert [m.iso2 for m in participating_members(scenario())] == ["KE", "BE", "FR", "JP"]


def test_member_statuses(catalog):
    statuses = {s.member.iso2: s for s in member_statuses(catalog, scenario(), last_seen={"JP": T0})}
    assert list(statuses) == ["KE", "BE", "FR", "JP"]
    be, fr, ke, jp = statuses["BE"], statuses["FR"], statuses["KE"], statuses["JP"]
    assert (be.state, be.done, be.blank, be.open, be.ncps) == (MemberState.SUBMITTED, 1, 1, 49, 1)
    # TF-05 is in progress for FR: counted as open.
    assert (fr.state, fr.done, fr.blank, fr.open, fr.ncps) == (MemberState.IN_PROGRESS, 0, 2, 49, 2)
    assert (ke.state, ke.blank, ke.ncps) == (MemberState.IN_PROGRESS, 1, 0)
    assert (jp.state, jp.done, jp.blank, jp.open, jp.ncps) == (MemberState.NOT_STARTED, 0, 0, 51, 1)
    assert be.last_activity == "2026-01-15T10:30:00+00:00"  # its submission
    assert fr.last_activity == "2026-01-15T11:00:00+00:00"  # its last answer
    assert jp.last_activity == T0  # only the NCP's last visit
    assert statuses["KE"].last_activity == T0


def test_member_statuses_filters(catalog):
    data = scenario()
    assert [s.member.iso2 for s in member_statuses(catalog, data, region="eur")] == ["BE", "FR"]
    not_started = member_statuses(catalog, data, state=MemberState.NOT_STARTED)
    assert [s.member.iso2 for s in not_started] == ["JP"]
    both = member_statuses(catalog, data, region="eur", state=MemberState.SUBMITTED)
    assert [s.member.iso2 for s in both] == ["BE"]
    assert member_statuses(catalog, data, region="wca") == []


def test_ncp_coverage_counts_and_lists_members_without_an_ncp():
    coverage = ncp_coverage(scenario(), invited={"SN", "BE"})
    assert [m.iso2 for m in coverage.with_ncp] == ["BE", "FR", "JP"]
    assert [m.iso2 for m in coverage.invited] == ["SN"]  # BE has an NCP already
    assert [m.iso2 for m in coverage.not_invited] == ["KE"]
    assert [m.iso2 for m in coverage.without_ncp] == ["KE", "SN"]
    assert [m.iso2 for m in ncp_coverage(scenario()).not_invited] == ["KE", "SN"]


def test_kpi_stats_by_hand(catalog):
    members = [Member("BE", "eur"), Member("FR", "eur"), Member("KE", "esa")]
    states = {
        "BE": {"TF-02": _state(KpiState.CONFIRMED), "TF-01": _blank("unit_difficult")},
        "FR": {"TF-02": _blank("no_detail"), "TF-01": _state(KpiState.IN_PROGRESS)},
        "KE": {"TF-02": _blank("db_planned")},
    }
    stats = kpi_stats(catalog, members, states)
    assert [s.kpi_id for s in stats] == [k.id for k in catalog.kpis]
    by_id = {s.kpi_id: s for s in stats}
    assert by_id["TF-02"] == KpiStats(
        kpi_id="TF-02",
        members=3,
        answered=1,
        blank=2,
        response_rate=33.33,
        blank_rate=66.67,
        reasons={"db_planned": 1, "no_detail": 1},
    )
    assert list(by_id["TF-02"].reasons) == ["db_planned", "no_detail"]  # the catalog's order of reasons
    tf01 = by_id["TF-01"]  # in progress is neither answered nor blank
    assert (tf01.answered, tf01.blank, tf01.blank_rate, tf01.reasons) == (0, 1, 33.33, {"unit_difficult": 1})
    assert (by_id["ES-01"].response_rate, by_id["ES-01"].blank_rate, by_id["ES-01"].reasons) == (0.0, 0.0, {})


def test_kpi_stats_without_members_are_zero(catalog):
    stats = kpi_stats(catalog, [], {})
    assert len(stats) == len(catalog.kpis) == 51
    assert all(s.members == 0 and s.response_rate == 0 and s.blank_rate == 0 for s in stats)


def test_stats_and_regions_of_the_participating_members(catalog):
    data = scenario()
    members = participating_members(data)
    tf02 = next(s for s in kpi_stats(catalog, members, data.states) if s.kpi_id == "TF-02")
    # 4 participating Members: BE confirmed, FR and KE blank, JP open.
    assert (tf02.members, tf02.answered, tf02.blank) == (4, 1, 2)
    assert (tf02.response_rate, tf02.blank_rate) == (25.0, 50.0)
    by_region = reasons_by_region(catalog, members, data.states)
    assert by_region == {"esa": {"db_planned": 1}, "eur": {"no_detail": 3}, "ap": {}}
    assert list(by_region) == ["esa", "eur", "ap"]


def test_friction_counts_and_order(catalog):
    data = scenario()
    audit = [
        AuditRow(T0, 12, 1, "FR", "answer", "tf_export_declarations_measured", None, "10"),  # first answer
        AuditRow(T0, 12, 1, "FR", "answer", "tf_export_declarations_measured", "10", "12"),  # a change
        AuditRow(T0, 12, 2, "FR", "answer", "tf_aeo_valid", "1", "2"),  # another cycle
        AuditRow(T0, 12, 1, "FR", "submit", "", None, None),
    ]
    rows = friction(catalog, data, {"TF-02": 2, "TF-05": 1}, audit)
    assert len(rows) == len(catalog.kpis)
    top = [(f.kpi_id, f.explains, f.figure_changes, f.blanks) for f in rows[:4]]
    # The corrected figure is shared by TF-05 and TF-06; first answers and other cycles do not count.
    assert top == [
        ("TF-02", 2, 0, 2),
        ("TF-03", 0, 0, 2),
        ("TF-05", 1, 1, 0),
        ("TF-06", 0, 1, 0),
    ]
    assert all(f.total == 0 for f in rows[4:])


def test_region_names_cover_the_six_regions():
    assert set(REGION_NAMES) == set(REGIONS)
    assert REGION_NAMES["ap"] == "Far East, South and South East Asia, Australasia and the Pacific Islands"
