"""Secretariat analytics: Member progress, response and blank rates, reasons, friction, charts."""

from __future__ import annotations

import struct
from datetime import date, timedelta

from pmm_core.analytics import (
    REGION_NAMES,
    KpiStats,
    friction,
    kpi_stats,
    member_statuses,
    participating_members,
    reasons_by_region,
)
from pmm_core.charts import blank_reasons_chart, regions_chart
from pmm_core.members import REGIONS, Member
from pmm_core.store import KpiState, KpiStatus

T0 = "2026-01-15T09:00:00+00:00"


async def _ncp(store, telegram_id: int, member: str) -> None:
    store.touch_user(telegram_id, f"NCP {telegram_id}", "en")
    assert store.redeem_invite(store.create_invite(member, timedelta(days=1)), telegram_id) == member


async def _scenario(store, clock):
    """BE (NCP 11) confirms TF-02, leaves TF-03 blank and submits; FR (NCP 12) leaves TF-02 and
    TF-03 blank and corrects a figure of TF-05/TF-06; KE has no NCP but the Secretariat marked
    TF-02 blank for it; JP (NCP 14) has not started; SN has neither NCP nor data."""
    store.import_members([Member("JP", "ap"), Member("SN", "wca")])
    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    for telegram_id, member in ((11, "BE"), (12, "FR"), (14, "JP")):
        await _ncp(store, telegram_id, member)
    clock.now += timedelta(hours=1)  # 10:00
    store.save_answer(cycle.id, "BE", "tf_aeo_valid", "120", 11, kpi="TF-02")
    store.save_answer(cycle.id, "BE", "tf_aeo_valid_prev", "100", 11, kpi="TF-02")
    store.set_kpi_state(cycle.id, "BE", "TF-02", KpiState.CONFIRMED, 11)
    store.set_kpi_state(cycle.id, "BE", "TF-03", KpiState.BLANK, 11, reason="no_detail")
    clock.now += timedelta(minutes=30)  # 10:30
    assert store.submit(cycle.id, "BE", 11)
    store.set_kpi_state(cycle.id, "FR", "TF-02", KpiState.BLANK, 12, reason="no_detail")
    store.set_kpi_state(cycle.id, "FR", "TF-03", KpiState.BLANK, 12, reason="no_detail")
    store.save_answer(cycle.id, "FR", "tf_export_declarations_measured", "10", 12, kpi="TF-05")
    clock.now += timedelta(minutes=30)  # 11:00
    store.save_answer(cycle.id, "FR", "tf_export_declarations_measured", "12", 12, kpi="TF-05")
    store.save_answer(cycle.id, "FR", "tf_export_declarations_measured", "12", 12, kpi="TF-05")  # no change
    store.set_kpi_state(cycle.id, "KE", "TF-02", KpiState.BLANK, 99, reason="db_planned")
    for kpi in ("TF-02", "TF-02", "TF-05"):
        store.record_event(12, "FR", "explain", kpi)
    return cycle


async def test_participating_members_have_an_ncp_or_data_sorted_by_region(store, clock):
    cycle = await _scenario(store, clock)
    members = await participating_members(store, cycle)
    # Official region order esa, eur, ap, …; SN (no NCP, no data) does not take part.
    assert [m.iso2 for m in members] == ["KE", "BE", "FR", "JP"]


async def test_member_statuses(store, clock, catalog):
    cycle = await _scenario(store, clock)
    statuses = {s.member.iso2: s for s in await member_statuses(store, catalog, cycle)}
    assert list(statuses) == ["KE", "BE", "FR", "JP"]
    be, fr, ke, jp = statuses["BE"], statuses["FR"], statuses["KE"], statuses["JP"]
    assert (be.state, be.done, be.blank, be.open, be.ncps) == ("submitted", 1, 1, 49, 1)
    # TF-05 is in progress for FR: counted as open.
    assert (fr.state, fr.done, fr.blank, fr.open, fr.ncps) == ("in_progress", 0, 2, 49, 1)
    assert (ke.state, ke.blank, ke.ncps) == ("in_progress", 1, 0)
    assert (jp.state, jp.done, jp.blank, jp.open, jp.ncps) == ("not_started", 0, 0, 51, 1)
    assert be.last_activity == "2026-01-15T10:00:00+00:00"  # its last answer and KPI state
    assert fr.last_activity == "2026-01-15T11:00:00+00:00"
    assert jp.last_activity == T0  # only the NCP's last visit


async def test_member_statuses_filters(store, clock, catalog):
    cycle = await _scenario(store, clock)
    eur = await member_statuses(store, catalog, cycle, region="eur")
    assert [s.member.iso2 for s in eur] == ["BE", "FR"]
    assert [s.member.iso2 for s in await member_statuses(store, catalog, cycle, state="not_started")] == ["JP"]
    both = await member_statuses(store, catalog, cycle, region="eur", state="submitted")
    assert [s.member.iso2 for s in both] == ["BE"]
    assert await member_statuses(store, catalog, cycle, region="wca") == []


def _blank(reason: str) -> KpiStatus:
    return KpiStatus(KpiState.BLANK, reason, None, 1, T0)


def test_kpi_stats_by_hand(catalog):
    members = [Member("BE", "eur"), Member("FR", "eur"), Member("KE", "esa")]
    states = {
        "BE": {"TF-02": KpiStatus(KpiState.CONFIRMED, None, None, 1, T0), "TF-01": _blank("unit_difficult")},
        "FR": {"TF-02": _blank("no_detail"), "TF-01": KpiStatus(KpiState.IN_PROGRESS, None, None, 1, T0)},
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
    # In progress is neither answered nor blank.
    tf01 = by_id["TF-01"]
    assert (tf01.answered, tf01.blank, tf01.blank_rate, tf01.reasons) == (0, 1, 33.33, {"unit_difficult": 1})
    assert (by_id["ES-01"].response_rate, by_id["ES-01"].blank_rate, by_id["ES-01"].reasons) == (0.0, 0.0, {})


def test_kpi_stats_without_members_are_zero(catalog):
    stats = kpi_stats(catalog, [], {})
    assert len(stats) == len(catalog.kpis) == 51
    assert all(s.members == 0 and s.response_rate == 0 and s.blank_rate == 0 for s in stats)


async def test_stats_and_regions_from_the_store(store, clock, catalog):
    cycle = await _scenario(store, clock)
    members = await participating_members(store, cycle)
    states = store.cycle_states(cycle.id)
    tf02 = next(s for s in kpi_stats(catalog, members, states) if s.kpi_id == "TF-02")
    # 4 participating Members: BE confirmed, FR and KE blank, JP open.
    assert (tf02.members, tf02.answered, tf02.blank) == (4, 1, 2)
    assert (tf02.response_rate, tf02.blank_rate) == (25.0, 50.0)
    assert tf02.reasons == {"db_planned": 1, "no_detail": 1}
    by_region = reasons_by_region(catalog, members, states)
    assert by_region == {"esa": {"db_planned": 1}, "eur": {"no_detail": 3}, "ap": {}}
    assert list(by_region) == ["esa", "eur", "ap"]


async def test_friction_counts_and_order(store, clock, catalog):
    cycle = await _scenario(store, clock)
    rows = await friction(store, catalog, cycle)
    assert len(rows) == len(catalog.kpis)
    top = [(f.kpi_id, f.explains, f.figure_changes, f.blanks) for f in rows[:4]]
    # The corrected figure is shared by TF-05 and TF-06; unchanged re-saves and first answers do not count.
    assert top == [
        ("TF-02", 2, 0, 2),
        ("TF-03", 0, 0, 2),
        ("TF-05", 1, 1, 0),
        ("TF-06", 0, 1, 0),
    ]
    assert all(f.explains + f.figure_changes + f.blanks == 0 for f in rows[4:])


def test_region_names_cover_the_six_regions():
    assert set(REGION_NAMES) == set(REGIONS)
    assert REGION_NAMES["ap"] == "Far East, South and South East Asia, Australasia and the Pacific Islands"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def _stats(catalog, blanks: dict[str, int]) -> list[KpiStats]:
    return [
        KpiStats(k.id, 10, 0, blanks.get(k.id, 0), 0.0, blanks.get(k.id, 0) * 10.0, {"no_detail": blanks.get(k.id, 0)})
        for k in catalog.kpis
    ]


def test_blank_reasons_chart_is_a_png_of_the_top_kpis(catalog):
    import matplotlib.pyplot as plt

    asked: list[str] = []

    def translate(s: str) -> str:
        asked.append(s)
        return s

    stats = _stats(catalog, {"TF-02": 6, "TF-03": 4, "ES-01": 2})
    one = blank_reasons_chart(catalog, stats, translate, "fr", top=1)
    three = blank_reasons_chart(catalog, stats, translate, "fr", top=3)
    assert _png_size(one)[1] < _png_size(three)[1]  # one bar is drawn less tall than three
    # KPIs without blanks get no bar: top=15 draws the same three bars as top=3.
    assert _png_size(blank_reasons_chart(catalog, stats, translate, "fr"))[1] == _png_size(three)[1]
    assert "Blank answers by reason" in asked
    assert plt.get_fignums() == []  # no figure left open


def test_blank_reasons_chart_without_blanks(catalog):
    asked: list[str] = []
    data = blank_reasons_chart(catalog, _stats(catalog, {}), lambda s: asked.append(s) or s, "es")
    assert _png_size(data)[0] > 0
    assert "No blank answers" in asked


def test_regions_chart(catalog):
    asked: list[str] = []
    data = regions_chart(
        catalog, {"esa": {"db_planned": 1}, "eur": {"no_detail": 3}, "ap": {}}, lambda s: asked.append(s) or s, "en"
    )
    assert _png_size(data)[1] > 0
    assert {REGION_NAMES["esa"], REGION_NAMES["eur"], REGION_NAMES["ap"]} <= set(asked)
    assert REGION_NAMES["wca"] not in asked
