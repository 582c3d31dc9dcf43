"""A simulated PMM cycle of 37 Members, in memory, with planted problems (issue 12).

Every Member answers every data point of every KPI with plausible, self-consistent figures
(parts never above their totals, results within narrow, realistic ranges, the previous
cycle within ±10 %), except the problems planted on purpose, listed in :data:`PLANTED`.
Deterministic (a seeded RNG).
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

from pmm_core.catalog.members import Member, read_members
from pmm_core.catalog.models import Catalog
from pmm_core.domain.records import Answer, Cycle, CycleData, CycleState, KpiState, KpiStatus

MEMBERS = (
    "AR", "AU", "BE", "BR", "CA", "CI", "CL", "CM", "CN", "DE", "EG", "ES", "FR", "GH", "ID", "IN", "JP", "KE",
    "KR", "MA", "MX", "NG", "NL", "NZ", "PE", "PH", "PL", "RW", "SA", "SE", "SN", "TH", "TN", "US", "UY", "VN",
    "ZA",
)  # fmt: skip
MODES = ("sea", "air", "rail", "land")
SEIZURES = ("alcohol", "cigarettes", "cultural_goods", "foodstuffs", "ipr", "drugs", "environmental", "firearms")
GRADES = ("senior", "middle", "officer")

# Member → what was planted. "new" rules are the ones the catalog rules add; "legit" figures
# are plausible and should raise nothing.
PLANTED = {
    "KE": "TF-10 electronic declarations above all declarations (117 %); RC-03 = 130 % (13 % last cycle)",
    "BR": "TF-03 = 200,000 % (AEO trade value typed in dollars, total in thousands)",
    "IN": "TF-11 = 310,000 % (3,100 standardized declaration types out of 1)",
    "DE": "physical inspections by mode above the total (sea typed with an extra digit)",
    "FR": "total staff typed 1,234 instead of 12,340 (parts by sex above it; OD-04 and OD-08 move)",
    "MX": "TF-04 release times typed in seconds (×60 against the last cycle)",
    "JP": "RC-05 = 150 % (report on the first PMM cycle §88)",
    "US": "new rule: 5,000 AEO importers out of 500 valid AEOs",
    "GH": "legit: TF-01 from 1 to 4 yes of 9 since the last cycle",
    "SE": "legit: OD-09 reports and investigations by grade add up to more than their totals (one report, several persons)",
    "ZA": "legit: OD-07 left blank (so 36 OD-07 results, an even count)",
}


def _split(total: int, n: int, rng: random.Random) -> list[int]:
    """`n` whole parts adding up to at most `total` (floors of random shares)."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
    return [int(total * w / sum(weights)) for w in weights]


def _around(rng: random.Random, low: float, high: float) -> float:
    """A normal draw centred in [low, high], clipped to it at 2 standard deviations: realistic
    figures without accidental robust outliers (|z| ≤ 2, well under 3.5)."""
    return min(high, max(low, rng.gauss((low + high) / 2, (high - low) / 4)))


def _minutes(x: float) -> str:
    return str(Decimal(x).quantize(Decimal("0.01")))


def _member_values(catalog: Catalog, rng: random.Random, size: float) -> dict[str, str]:
    v: dict[str, Any] = {}  # figures, and minutes as text
    group: tuple[str, ...]
    u = lambda low, high: _around(rng, low, high)  # noqa: E731
    n = lambda low, high: int(size * u(low, high))  # noqa: E731
    # yes/no questionnaires and the tools scale: a Member-wide propensity to answer yes
    p = u(0.5, 0.9)
    for dp in catalog.data_points.values():
        if dp.type.value == "yes_no":
            v[dp.id] = "yes" if rng.random() < p else "no"
    scale = [s.code for s in catalog.tool_scale]
    for tool in catalog.tools:
        v[catalog.tool_data_point_id(tool)] = rng.choice(scale[1:])
    # TF-02 AEOs and their types (one authorization may cover several roles)
    v["tf_aeo_valid"] = n(200, 300)
    v["tf_aeo_valid_prev"] = int(v["tf_aeo_valid"] * u(0.9, 1.1))
    for role in ("exporters", "importers", "warehouse_operators", "customs_brokers", "logistics_operators",
                 "carriers", "port_operators", "manufacturers"):  # fmt: skip
        v[f"tf_aeo_{role}"] = int(v["tf_aeo_valid"] * u(0.1, 0.6))
    # TF-03 trade value (USD), AEO share 40–60 %
    imp, exp = n(4e8, 6e8), n(4e8, 6e8)
    share = u(0.4, 0.6)
    v |= {"tf_trade_value_import": imp, "tf_trade_value_export": exp, "tf_trade_value": imp + exp}
    v |= {"tf_aeo_trade_value_import": int(imp * share), "tf_aeo_trade_value_export": int(exp * share)}
    v["tf_aeo_trade_value"] = v["tf_aeo_trade_value_import"] + v["tf_aeo_trade_value_export"]
    # TF-04/05/06 release times: N declarations, average 1,500–2,500 minutes, split by actor and mode
    for total_id, count_id, modes_of in (
        ("tf_import_release_minutes", "tf_import_release_declarations", "tf_import_release_declarations"),
        ("tf_export_lodging_minutes", "tf_export_declarations_measured", "tf_export_declarations"),
        ("tf_export_arrival_minutes", "tf_export_declarations_measured", "tf_export_declarations"),
    ):
        if count_id not in v:
            v[count_id] = int(u(800, 1200))
            for mode, part in zip(("air", "sea", "land", "rail"), _split(int(v[count_id]), 4, rng), strict=True):
                v[f"{modes_of}_{mode}"] = part
        total = int(v[count_id]) * u(1500, 2500)
        v[total_id] = _minutes(total)
        for actor, part in zip(("business", "oga", "customs"), _split(int(total), 3, rng), strict=True):
            v[f"{total_id}_{actor}"] = part
        for mode, part in zip(("air", "sea", "land", "rail"), _split(int(total), 4, rng), strict=True):
            v[f"{total_id}_{mode}"] = part
    v["tf_air_passengers"] = n(80_000, 120_000)
    v["tf_air_passengers_inspected"] = int(v["tf_air_passengers"] * u(0.03, 0.05))
    v["tf_service_commitments"] = int(u(15, 25))
    v["tf_services_under_standard"] = n(4000, 6000)
    v["tf_services_within_standard"] = int(v["tf_services_under_standard"] * u(0.8, 0.95))
    # TF-10 declarations: import, export, transit and cargo; 80–95 % electronic
    e = u(0.8, 0.95)
    for direction, (low, high) in (("import", (4e5, 6e5)), ("export", (3e5, 5e5)), ("transit", (1e5, 2e5))):
        total_id = "rc_import_declarations" if direction == "import" else f"tf_declarations_{direction}"
        v[total_id] = n(low, high)
        v[f"tf_declarations_electronic_{direction}"] = int(v[total_id] * e)
    cargo = n(1e5, 2e5)
    directions = v["rc_import_declarations"] + v["tf_declarations_export"] + v["tf_declarations_transit"]
    v["tf_declarations"] = directions + cargo
    v["tf_declarations_electronic"] = int(v["tf_declarations"] * e)
    v["tf_declaration_types"] = 4
    v["tf_declaration_types_standardized"] = rng.choice((2, 3, 4))
    # TF-12/TF-14 shipments, 20–30 % e-commerce, 60–80 % of which released immediately
    ecom, released = u(0.2, 0.3), u(0.6, 0.8)
    for direction in ("import", "export"):
        v[f"tf_shipments_{direction}"] = n(4e5, 6e5)
        v[f"tf_ecom_shipments_{direction}"] = int(v[f"tf_shipments_{direction}"] * ecom)
        v[f"tf_ecom_released_immediately_{direction}"] = int(v[f"tf_ecom_shipments_{direction}"] * released)
    for total_id in ("tf_shipments", "tf_ecom_shipments", "tf_ecom_released_immediately"):
        v[total_id] = v[f"{total_id}_import"] + v[f"{total_id}_export"]
    v["tf_ecom_lowrisk_declarations"] = int(u(800, 1200))
    v["tf_ecom_lowrisk_clearance_minutes"] = _minutes(int(v["tf_ecom_lowrisk_declarations"]) * u(100, 200))
    # RC
    imports = int(v["rc_import_declarations"])
    v["rc_binding_rulings_valid"] = int(imports * u(0.004, 0.006))
    v["rc_customs_declarations"] = directions + n(1e4, 2e4)
    v["rc_classification_violations"] = int(int(v["rc_customs_declarations"]) * u(0.008, 0.012))
    v["rc_importers"] = n(8000, 12000)
    v["rc_importers_owing_interest"] = int(v["rc_importers"] * u(0.04, 0.06))
    v["rc_fine_cases"] = int(imports * u(0.004, 0.006))
    v["rc_duties_assessed_avg_3y"] = n(8e7, 1.2e8)
    adjusted = int(int(v["rc_duties_assessed_avg_3y"]) * u(0.02, 0.03))
    v["rc_pcc_duties_adjusted"] = adjusted
    for a, b in (("aeo", "non_aeo"), ("pca", "other")):
        v[f"rc_pcc_duties_adjusted_{a}"], v[f"rc_pcc_duties_adjusted_{b}"] = _split(adjusted, 2, rng)
    controls, hit = n(800, 1200), u(0.3, 0.5)
    v["rc_pcc_controls"], v["rc_pcc_with_findings"] = controls, int(controls * hit)
    for a, b in (("import", "export"), ("aeo", "non_aeo"), ("pca", "other")):
        for name, part in zip((a, b), _split(controls, 2, rng), strict=True):
            v[f"rc_pcc_controls_{name}"], v[f"rc_pcc_with_findings_{name}"] = part, int(part * hit)
    # ES-01 inspections, ES-05…ES-19 physical inspections and seizures
    for kind in ("risk_profiles", "manual"):
        total = n(8000, 12000)
        v[f"es_inspections_{kind}"] = total
        for group in (("import", "export", "transit"), ("sea", "land", "air")):
            for name, part in zip(group, _split(total, 3, rng), strict=True):
                v[f"es_inspections_{kind}_{name}"] = part
    physical = n(40_000, 60_000)
    v["es_physical_inspections"] = physical
    for group in (MODES, ("goods", "passengers")):
        for name, part in zip(group, _split(physical, len(group), rng), strict=True):
            v[f"es_physical_inspections_{name}"] = part
    for kind in (*SEIZURES, "financial_instruments"):
        seized = physical * u(0.015, 0.025)
        for suffix, factor in (("", 1.0), ("_prev", u(0.9, 1.1))):
            total = int(seized * factor)
            base = f"es_{kind}_seizures{suffix}"
            v[base] = total
            for group in (MODES, ("goods", "passengers")):
                for name, part in zip(group, _split(total, len(group), rng), strict=True):
                    v[f"{base}_{name}"] = part
    # OD
    officers = n(400, 600)
    v["od_cd_frontline_officers"], v["od_cd_competencies_per_officer"] = officers, 27
    v["od_cd_competency_gaps"] = int(officers * 27 * u(0.1, 0.2))
    female_share = u(0.35, 0.5)
    for sex in ("female", "male"):
        for grade, (low, high) in zip(GRADES, ((20, 40), (400, 600), (4000, 6000)), strict=True):
            weight = female_share if sex == "female" else 1 - female_share
            v[f"od_staff_{sex}_{grade}"] = int(size * u(low, high) * weight * 2)
        v[f"od_staff_{sex}"] = sum(int(v[f"od_staff_{sex}_{g}"]) for g in GRADES) + int(u(0, 10))
    v["od_staff_total"] = int(v["od_staff_female"]) + int(v["od_staff_male"])
    trained = int(int(v["od_staff_total"]) * u(0.4, 0.6))
    v["od_staff_trained"] = trained
    for group in (("female", "male"), GRADES):
        for name, part in zip(group, _split(trained, len(group), rng), strict=True):
            v[f"od_staff_trained_{name}"] = part
    disciplined = int(int(v["od_staff_total"]) * u(0.004, 0.006))
    v["od_disciplined_officials"] = disciplined
    for group in (GRADES, ("internal", "external")):
        for name, part in zip(group, _split(disciplined, len(group), rng), strict=True):
            v[f"od_disciplined_{name}"] = part
    requests = n(40_000, 60_000)
    for suffix, factor in (("", 1.0), ("_prev", u(0.9, 1.1))):
        total = int(requests * factor)
        v[f"od_info_requests{suffix}"] = total
        for channel, part in zip(
            ("call_centre", "service_desk", "info_centre", "other"), _split(total, 4, rng), strict=True
        ):
            v[f"od_info_requests_{channel}{suffix}"] = part
    reports = n(80, 120)
    v["od_integrity_reports"], v["od_integrity_investigations"] = reports, int(reports * u(0.5, 0.7))
    for what in ("reports", "investigations"):
        total = int(v[f"od_integrity_{what}"])
        for group in (GRADES, ("internal", "external")):
            for name, part in zip(group, _split(total, len(group), rng), strict=True):
                v[f"od_integrity_{what}_{name}"] = part
    return {k: str(x) for k, x in v.items() if k in catalog.data_points}  # some breakdowns exist for some kinds only


def _previous(catalog: Catalog, current: dict[str, str], rng: random.Random) -> dict[str, str]:
    """The same Member a year earlier: every count scaled by one factor (results unchanged up
    to rounding), the same answers to the questionnaires."""
    factor = Decimal(str(round(rng.uniform(0.9, 1.1), 3)))
    out = {}
    for dp_id, value in current.items():
        dp = catalog.data_points[dp_id]
        if dp.type.value in ("count", "amount"):
            out[dp_id] = str(int(Decimal(value) * factor))
        elif dp.type.value == "minutes":
            out[dp_id] = str((Decimal(value) * factor).quantize(Decimal("0.01")))
        else:
            out[dp_id] = value
    return out


def _plant(values: dict[str, dict[str, str]], previous: dict[str, dict[str, str]]) -> None:
    ke = values["KE"]
    ke["tf_declarations_electronic"] = str(int(int(ke["tf_declarations"]) * Decimal("1.17")))
    ke["rc_importers_owing_interest"] = str(int(ke["rc_importers"]) * 13 // 10)
    previous["KE"]["rc_importers_owing_interest"] = str(int(previous["KE"]["rc_importers"]) * 13 // 100)
    br = values["BR"]
    br["tf_trade_value"] = str(int(br["tf_trade_value"]) // 1000)
    br["tf_aeo_trade_value"] = str(int(br["tf_trade_value"]) * 2000)
    for dp in (
        "tf_trade_value_import",
        "tf_trade_value_export",
        "tf_aeo_trade_value_import",
        "tf_aeo_trade_value_export",
    ):
        del br[dp]  # the breakdown was not given
    values["IN"] |= {"tf_declaration_types": "1", "tf_declaration_types_standardized": "3100"}
    values["DE"]["es_physical_inspections_sea"] += "0"
    fr = values["FR"]
    fr["od_staff_total"] = str(int(fr["od_staff_total"]) // 10)
    mx = values["MX"]
    for dp in [k for k in mx if k.startswith("tf_import_release_minutes")]:
        mx[dp] = str(Decimal(mx[dp]) * 60)
    jp = values["JP"]
    jp["rc_pcc_duties_adjusted"] = str(int(jp["rc_duties_assessed_avg_3y"]) * 3 // 2)
    for dp in ("rc_pcc_duties_adjusted_aeo", "rc_pcc_duties_adjusted_non_aeo"):
        jp[dp] = str(int(jp["rc_pcc_duties_adjusted"]) // 2)
    del jp["rc_pcc_duties_adjusted_pca"], jp["rc_pcc_duties_adjusted_other"]
    values["US"] |= {"tf_aeo_valid": "500", "tf_aeo_valid_prev": "480", "tf_aeo_importers": "5000"}
    previous["US"] |= {"tf_aeo_valid": "480", "tf_aeo_valid_prev": "460"}
    gh_items = sorted(k for k in values["GH"] if k.startswith("tf_pse_"))
    for i, dp in enumerate(gh_items):
        values["GH"][dp] = "yes" if i < 4 else "no"
        previous["GH"][dp] = "yes" if i < 1 else "no"
    se = values["SE"]
    se |= {"od_integrity_reports": "100", "od_integrity_investigations": "60"}
    se |= {
        "od_integrity_reports_senior": "10",
        "od_integrity_reports_middle": "40",
        "od_integrity_reports_officer": "70",
    }
    se |= {"od_integrity_reports_internal": "60", "od_integrity_reports_external": "40"}
    se |= {"od_integrity_investigations_senior": "6", "od_integrity_investigations_middle": "24"}
    se |= {"od_integrity_investigations_officer": "42", "od_integrity_investigations_internal": "35"}
    se["od_integrity_investigations_external"] = "25"
    # OD-07: 3 yes/no items; 36 Members (ZA left it blank) at 0, 1/3, 2/3 or 1, mostly 2/3
    answers = ["yes", "yes", "no"] * 20 + ["yes", "yes", "yes"] * 9 + ["yes", "no", "no"] * 5 + ["no", "no", "no"] * 2
    od07 = ("od_perf_report_published", "od_perf_report_regular", "od_perf_report_strategic_plan")
    for i, member in enumerate(m for m in MEMBERS if m != "ZA"):
        for j, dp in enumerate(od07):
            values[member][dp] = answers[3 * i + j]


def build(catalog: Catalog) -> tuple[CycleData, CycleData]:
    """(this cycle, the previous cycle), every KPI confirmed except those left blank."""
    rng = random.Random(2025)
    known = {m.iso2: m for m in read_members()}
    members = {iso: known.get(iso, Member(iso, "eur")) for iso in MEMBERS}
    values = {m: _member_values(catalog, rng, rng.uniform(0.5, 2.0)) for m in MEMBERS}
    previous = {m: _previous(catalog, v, rng) for m, v in values.items()}
    _plant(values, previous)
    blank = {"ZA": {"OD-07"}}
    return (
        _cycle_data(catalog, 2, 2025, members, values, blank),
        _cycle_data(catalog, 1, 2024, members, previous, {}),
    )


def _cycle_data(
    catalog: Catalog,
    cycle_id: int,
    year: int,
    members: dict[str, Member],
    values: dict[str, dict[str, str]],
    blank: dict[str, set[str]],
) -> CycleData:
    cycle = Cycle(cycle_id, year, date(year + 1, 1, 1), date(year + 1, 3, 31), CycleState.OPEN)
    answers = {m: {dp: Answer(value, 1, "2026-01-15T09:00:00") for dp, value in v.items()} for m, v in values.items()}
    states = {
        m: {
            kpi.id: KpiStatus(
                KpiState.BLANK if kpi.id in blank.get(m, ()) else KpiState.CONFIRMED,
                catalog.blank_reason_codes[0] if kpi.id in blank.get(m, ()) else None,
                None,
                1,
                "2026-01-15T09:00:00",
            )
            for kpi in catalog.kpis
        }
        for m in values
    }
    return CycleData(cycle=cycle, members=members, answers=answers, states=states)
