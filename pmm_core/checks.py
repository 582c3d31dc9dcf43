"""Automated data checks of a cycle's answers, for the WCO Secretariat's review.

The first PMM cycle's data were reviewed by the Secretariat for "outliers, missing data and
data that appeared incorrect" (seed 002 §38; e.g. §88: Post-clearance control performance
results above 100 %). These rules find such figures; each finding becomes a flag the
Secretariat can ask the Member about (``Store.add_flags``). A flag is a question, not a
verdict: every rule is meant to catch figures worth a second look, never to reject one.

Rules (``find_issues``):

1. ``range`` — a value outside its plausible range:
   - a percent KPI result outside 0–100. This applies to every percent KPI that is not a
     year-on-year variation ``((A-B)/B)*100`` (variations legitimately exceed 100 or fall
     below 0), except the ratios in :data:`UNBOUNDED_PERCENT` (e.g. female staff per 100
     male staff), which may legitimately exceed 100, and the shares in :data:`SHARES`,
     whose only way above 100 (numerator > denominator) is reported by rule 4 instead, so
     that one wrong figure makes one flag;
   - a minutes KPI result (an average time) of 0 or less;
   - a stored numeric answer above its data point's ``upper_bound`` or below its
     ``lower_bound``, or not a number at all (imported data skip the chat's validation).
     The flag names the data point and is filed under the first KPI that asks it.
2. ``outlier`` — for each KPI, among the Members with a computable result (at least
   ``min_values`` of them, default 5), a result whose robust z-score
   ``|x - median| / (1.4826 · MAD)`` exceeds ``k`` (default 3.5; Iglewicz and Hoaglin's
   usual cut-off). MAD is the median of the absolute deviations from the median; 1.4826
   makes it comparable with a standard deviation for normal data. When MAD is 0 (at least
   half of the Members share one value) the KPI is skipped rather than flagging every other
   value.
3. ``jump`` — the same Member's KPI result against the previous cycle's: flagged when both
   are non-zero and the larger is more than ``jump_factor`` times (default 3) the smaller,
   whichever way it moved. Variation KPIs are excluded: they are changes already and
   legitimately swing and change sign from one year to the next.
4. ``part_exceeds_total`` — a part larger than its total, from the explicit table
   :data:`PARTS` (total data point → groups of parts that cannot add up to more than the
   total). It holds (a) the share KPIs' numerator and denominator (:data:`SHARES`: the
   numerator counts a subset of the denominator) and (b) the disaggregations whose data
   points are parts of a main figure, read from the catalog's questions and help texts.
   Only pairs that are certainly part and total are listed. Parts a Member did not give
   count as absent: since every part is ≥ 0, the parts given already exceeding the total
   is conclusive. The flag names the total and is filed under the first KPI that asks the
   total and all the parts of the group.

A KPI left blank by the Member (``blank``) has no result to check; its data points are still
checked by the data-point rules (1, third item; 4).

Details are short English facts (``"result 180.00 > 100"``,
``"value 95.00, median 12.50, MAD 2.10, robust z 26.5 > 3.5"``) that the chat layer shows
as they are. ``run_checks`` applies the rules to a stored cycle and records the flags.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from statistics import median

from pmm_core.catalog import Catalog, ExpressionCalc, Kpi, ResultUnit
from pmm_core.results import Computed, compute, rounded
from pmm_core.store import Cycle, KpiState, Store

MAD_SCALE = Decimal("1.4826")  # MAD × 1.4826 estimates the standard deviation of normal data


class FlagKind(StrEnum):
    RANGE = "range"
    OUTLIER = "outlier"
    JUMP = "jump"
    PART_EXCEEDS_TOTAL = "part_exceeds_total"


@dataclass(frozen=True)
class Finding:
    member: str
    kpi: str  # KPI id
    data_point: str  # data point id, or "" when the finding is about the KPI result
    kind: FlagKind
    detail: str  # short English facts, shown as they are


# ---- reviewed tables ------------------------------------------------------------------

# Share KPIs: KPI id → (numerator, denominator), where the numerator counts a subset of what
# the denominator counts (same population, timeframe and point of measurement).
SHARES: dict[str, tuple[str, str]] = {
    "TF-03": ("tf_aeo_trade_value", "tf_trade_value"),  # trade by AEOs ⊂ all trade
    "TF-07": ("tf_air_passengers_inspected", "tf_air_passengers"),  # same airport and timeframe
    "TF-09": ("tf_services_within_standard", "tf_services_under_standard"),
    "TF-10": ("tf_declarations_electronic", "tf_declarations"),
    "TF-11": ("tf_declaration_types_standardized", "tf_declaration_types"),
    "TF-12": ("tf_ecom_released_immediately", "tf_ecom_shipments"),
    "TF-14": ("tf_ecom_shipments", "tf_shipments"),
    "RC-06": ("rc_pcc_with_findings", "rc_pcc_controls"),  # "of the controls performed"
}
# Not listed, as the numerator is not certainly a subset of the denominator: RC-03
# (importers charged interest in the year may have lodged no declaration that year), OD-04
# and OD-08 (people trained / disciplined during the year vs the staff on its last day). Their
# results are still checked against 0–100 by rule 1.

# Percent KPIs that are ratios, not shares, and may legitimately exceed 100 (no 0–100 check).
UNBOUNDED_PERCENT: frozenset[str] = frozenset(
    {
        "RC-01",  # binding rulings (valid, including earlier years' rulings) per 100 import declarations
        "RC-02",  # classification violations per 100 declarations: a declaration may have several
        "RC-04",  # fine cases per 100 import declarations: cases are not declarations
        # Seizures per 100 physical inspections: not every seizure follows a recorded physical
        # inspection (the catalog notes that passenger inspections are not all documented).
        "ES-05",
        "ES-06",
        "ES-07",
        "ES-09",
        "ES-11",
        "ES-13",
        "ES-15",
        "ES-17",
        "OD-05",  # female staff per 100 male staff: above 100 when women outnumber men
        "OD-09",  # investigations per 100 reports: one report may start several measures
    }
)

# Total data point id → groups of parts; each group's sum can never exceed the total. Built
# from the catalog files (questions and help texts, e.g. "Part of the total given above; the
# parts should add up to that total"); only certain part/total relations are listed. Parts
# and total are always of the same type and year (checked by the tests).
#
# Deliberately left out:
# - TF-02 AEOs by type of operator: one authorization may cover several roles, so the types
#   may add up to more than the number of AEOs;
# - OD-04/OD-08 staff trained or disciplined per sex or grade vs staff at the end of the year
#   (flow vs stock), OD-09 investigations vs reports (not a subset);
# - ES-01 inspections vs ES-05…ES-17 physical inspections (the ES-01 inspections are not
#   said to be physical ones), tf_declarations vs rc_customs_declarations (cargo
#   declarations may not be Customs declarations of a procedure).
PARTS: dict[str, tuple[tuple[str, ...], ...]] = {
    # TF-03 AEO involvement in trade (share and breakdown by direction)
    "tf_trade_value": (
        ("tf_aeo_trade_value",),
        ("tf_trade_value_import", "tf_trade_value_export"),
    ),
    "tf_aeo_trade_value": (("tf_aeo_trade_value_import", "tf_aeo_trade_value_export"),),
    "tf_trade_value_import": (("tf_aeo_trade_value_import",),),
    "tf_trade_value_export": (("tf_aeo_trade_value_export",),),
    # TF-04 import release time: actors "should add up to the total"; modes split the same T_i and N
    "tf_import_release_minutes": (
        (
            "tf_import_release_minutes_business",
            "tf_import_release_minutes_oga",
            "tf_import_release_minutes_customs",
        ),
        (
            "tf_import_release_minutes_air",
            "tf_import_release_minutes_sea",
            "tf_import_release_minutes_land",
            "tf_import_release_minutes_rail",
        ),
    ),
    "tf_import_release_declarations": (
        (
            "tf_import_release_declarations_air",
            "tf_import_release_declarations_sea",
            "tf_import_release_declarations_land",
            "tf_import_release_declarations_rail",
        ),
    ),
    # TF-05 export release time from lodging
    "tf_export_lodging_minutes": (
        (
            "tf_export_lodging_minutes_business",
            "tf_export_lodging_minutes_oga",
            "tf_export_lodging_minutes_customs",
        ),
        (
            "tf_export_lodging_minutes_air",
            "tf_export_lodging_minutes_sea",
            "tf_export_lodging_minutes_land",
            "tf_export_lodging_minutes_rail",
        ),
    ),
    # TF-05/TF-06 export declarations measured ("Part of N")
    "tf_export_declarations_measured": (
        (
            "tf_export_declarations_air",
            "tf_export_declarations_sea",
            "tf_export_declarations_land",
            "tf_export_declarations_rail",
        ),
    ),
    # TF-06 export release time from arrival
    "tf_export_arrival_minutes": (
        (
            "tf_export_arrival_minutes_business",
            "tf_export_arrival_minutes_oga",
            "tf_export_arrival_minutes_customs",
        ),
        (
            "tf_export_arrival_minutes_air",
            "tf_export_arrival_minutes_sea",
            "tf_export_arrival_minutes_land",
            "tf_export_arrival_minutes_rail",
        ),
    ),
    # TF-07, TF-09, TF-11 shares
    "tf_air_passengers": (("tf_air_passengers_inspected",),),
    "tf_services_under_standard": (("tf_services_within_standard",),),
    "tf_declaration_types": (("tf_declaration_types_standardized",),),
    # TF-10 electronic declarations: the total also counts cargo declarations, hence "≤"
    "tf_declarations": (
        ("tf_declarations_electronic",),
        ("rc_import_declarations", "tf_declarations_export", "tf_declarations_transit"),
    ),
    "tf_declarations_electronic": (
        (
            "tf_declarations_electronic_import",
            "tf_declarations_electronic_export",
            "tf_declarations_electronic_transit",
        ),
    ),
    "rc_import_declarations": (("tf_declarations_electronic_import",),),
    "tf_declarations_export": (("tf_declarations_electronic_export",),),
    "tf_declarations_transit": (("tf_declarations_electronic_transit",),),
    # RC-02: "all Customs declarations ... whatever the procedure (import, export, transit or other)"
    "rc_customs_declarations": (("rc_import_declarations", "tf_declarations_export", "tf_declarations_transit"),),
    # TF-12 immediate release of e-commerce shipments
    "tf_ecom_shipments": (
        ("tf_ecom_released_immediately",),
        ("tf_ecom_shipments_import", "tf_ecom_shipments_export"),
    ),
    "tf_ecom_released_immediately": (("tf_ecom_released_immediately_import", "tf_ecom_released_immediately_export"),),
    "tf_ecom_shipments_import": (("tf_ecom_released_immediately_import",),),
    "tf_ecom_shipments_export": (("tf_ecom_released_immediately_export",),),
    # TF-14 share of e-commerce shipments
    "tf_shipments": (
        ("tf_ecom_shipments",),
        ("tf_shipments_import", "tf_shipments_export"),
    ),
    "tf_shipments_import": (("tf_ecom_shipments_import",),),
    "tf_shipments_export": (("tf_ecom_shipments_export",),),
    # RC-05 post-clearance duties: AEO/non-AEO and PCA/other each "should equal the main figure"
    "rc_pcc_duties_adjusted": (
        ("rc_pcc_duties_adjusted_aeo", "rc_pcc_duties_adjusted_non_aeo"),
        ("rc_pcc_duties_adjusted_pca", "rc_pcc_duties_adjusted_other"),
    ),
    # RC-06 post-clearance controls and those with findings, per regime, AEO status, control type
    "rc_pcc_controls": (
        ("rc_pcc_with_findings",),
        ("rc_pcc_controls_import", "rc_pcc_controls_export"),
        ("rc_pcc_controls_aeo", "rc_pcc_controls_non_aeo"),
        ("rc_pcc_controls_pca", "rc_pcc_controls_other"),
    ),
    "rc_pcc_with_findings": (
        ("rc_pcc_with_findings_import", "rc_pcc_with_findings_export"),
        ("rc_pcc_with_findings_aeo", "rc_pcc_with_findings_non_aeo"),
        ("rc_pcc_with_findings_pca", "rc_pcc_with_findings_other"),
    ),
    "rc_pcc_controls_import": (("rc_pcc_with_findings_import",),),
    "rc_pcc_controls_export": (("rc_pcc_with_findings_export",),),
    "rc_pcc_controls_aeo": (("rc_pcc_with_findings_aeo",),),
    "rc_pcc_controls_non_aeo": (("rc_pcc_with_findings_non_aeo",),),
    "rc_pcc_controls_pca": (("rc_pcc_with_findings_pca",),),
    "rc_pcc_controls_other": (("rc_pcc_with_findings_other",),),
    # ES-01 inspections by direction of trade and by mode of transport
    "es_inspections_risk_profiles": (
        (
            "es_inspections_risk_profiles_import",
            "es_inspections_risk_profiles_export",
            "es_inspections_risk_profiles_transit",
        ),
        ("es_inspections_risk_profiles_sea", "es_inspections_risk_profiles_land", "es_inspections_risk_profiles_air"),
    ),
    "es_inspections_manual": (
        ("es_inspections_manual_import", "es_inspections_manual_export", "es_inspections_manual_transit"),
        ("es_inspections_manual_sea", "es_inspections_manual_land", "es_inspections_manual_air"),
    ),
    # ES-05…ES-17 physical inspections (the common denominator)
    "es_physical_inspections": (
        (
            "es_physical_inspections_sea",
            "es_physical_inspections_air",
            "es_physical_inspections_rail",
            "es_physical_inspections_land",
        ),
        ("es_physical_inspections_goods", "es_physical_inspections_passengers"),
    ),
    # ES seizures, reference year and year before: by mode of transport; by goods or passengers
    "es_alcohol_seizures": (
        ("es_alcohol_seizures_sea", "es_alcohol_seizures_air", "es_alcohol_seizures_rail", "es_alcohol_seizures_land"),
        ("es_alcohol_seizures_goods", "es_alcohol_seizures_passengers"),
    ),
    "es_alcohol_seizures_prev": (
        (
            "es_alcohol_seizures_prev_sea",
            "es_alcohol_seizures_prev_air",
            "es_alcohol_seizures_prev_rail",
            "es_alcohol_seizures_prev_land",
        ),
    ),
    "es_cigarettes_seizures": (
        (
            "es_cigarettes_seizures_sea",
            "es_cigarettes_seizures_air",
            "es_cigarettes_seizures_rail",
            "es_cigarettes_seizures_land",
        ),
        ("es_cigarettes_seizures_goods", "es_cigarettes_seizures_passengers"),
    ),
    "es_cigarettes_seizures_prev": (
        (
            "es_cigarettes_seizures_prev_sea",
            "es_cigarettes_seizures_prev_air",
            "es_cigarettes_seizures_prev_rail",
            "es_cigarettes_seizures_prev_land",
        ),
    ),
    "es_cultural_goods_seizures": (
        (
            "es_cultural_goods_seizures_sea",
            "es_cultural_goods_seizures_air",
            "es_cultural_goods_seizures_rail",
            "es_cultural_goods_seizures_land",
        ),
        ("es_cultural_goods_seizures_goods", "es_cultural_goods_seizures_passengers"),
    ),
    "es_cultural_goods_seizures_prev": (
        (
            "es_cultural_goods_seizures_prev_sea",
            "es_cultural_goods_seizures_prev_air",
            "es_cultural_goods_seizures_prev_rail",
            "es_cultural_goods_seizures_prev_land",
        ),
        ("es_cultural_goods_seizures_prev_goods", "es_cultural_goods_seizures_prev_passengers"),
    ),
    "es_foodstuffs_seizures": (
        (
            "es_foodstuffs_seizures_sea",
            "es_foodstuffs_seizures_air",
            "es_foodstuffs_seizures_rail",
            "es_foodstuffs_seizures_land",
        ),
        ("es_foodstuffs_seizures_goods", "es_foodstuffs_seizures_passengers"),
    ),
    "es_foodstuffs_seizures_prev": (
        (
            "es_foodstuffs_seizures_prev_sea",
            "es_foodstuffs_seizures_prev_air",
            "es_foodstuffs_seizures_prev_rail",
            "es_foodstuffs_seizures_prev_land",
        ),
        ("es_foodstuffs_seizures_prev_goods", "es_foodstuffs_seizures_prev_passengers"),
    ),
    "es_ipr_seizures": (
        ("es_ipr_seizures_sea", "es_ipr_seizures_air", "es_ipr_seizures_rail", "es_ipr_seizures_land"),
        ("es_ipr_seizures_goods", "es_ipr_seizures_passengers"),
    ),
    "es_ipr_seizures_prev": (
        (
            "es_ipr_seizures_prev_sea",
            "es_ipr_seizures_prev_air",
            "es_ipr_seizures_prev_rail",
            "es_ipr_seizures_prev_land",
        ),
        ("es_ipr_seizures_prev_goods", "es_ipr_seizures_prev_passengers"),
    ),
    "es_drugs_seizures": (
        ("es_drugs_seizures_sea", "es_drugs_seizures_air", "es_drugs_seizures_rail", "es_drugs_seizures_land"),
        ("es_drugs_seizures_goods", "es_drugs_seizures_passengers"),
    ),
    "es_drugs_seizures_prev": (
        (
            "es_drugs_seizures_prev_sea",
            "es_drugs_seizures_prev_air",
            "es_drugs_seizures_prev_rail",
            "es_drugs_seizures_prev_land",
        ),
        ("es_drugs_seizures_prev_goods", "es_drugs_seizures_prev_passengers"),
    ),
    "es_environmental_seizures": (
        (
            "es_environmental_seizures_sea",
            "es_environmental_seizures_air",
            "es_environmental_seizures_rail",
            "es_environmental_seizures_land",
        ),
        ("es_environmental_seizures_goods", "es_environmental_seizures_passengers"),
    ),
    "es_environmental_seizures_prev": (
        (
            "es_environmental_seizures_prev_sea",
            "es_environmental_seizures_prev_air",
            "es_environmental_seizures_prev_rail",
            "es_environmental_seizures_prev_land",
        ),
        ("es_environmental_seizures_prev_goods", "es_environmental_seizures_prev_passengers"),
    ),
    "es_firearms_seizures": (
        (
            "es_firearms_seizures_sea",
            "es_firearms_seizures_air",
            "es_firearms_seizures_rail",
            "es_firearms_seizures_land",
        ),
        ("es_firearms_seizures_goods", "es_firearms_seizures_passengers"),
    ),
    "es_firearms_seizures_prev": (
        (
            "es_firearms_seizures_prev_sea",
            "es_firearms_seizures_prev_air",
            "es_firearms_seizures_prev_rail",
            "es_firearms_seizures_prev_land",
        ),
        ("es_firearms_seizures_prev_goods", "es_firearms_seizures_prev_passengers"),
    ),
    "es_financial_instruments_seizures": (
        (
            "es_financial_instruments_seizures_sea",
            "es_financial_instruments_seizures_air",
            "es_financial_instruments_seizures_rail",
            "es_financial_instruments_seizures_land",
        ),
    ),
    "es_financial_instruments_seizures_prev": (
        (
            "es_financial_instruments_seizures_prev_sea",
            "es_financial_instruments_seizures_prev_air",
            "es_financial_instruments_seizures_prev_rail",
            "es_financial_instruments_seizures_prev_land",
        ),
    ),
    # OD-04/OD-05/OD-08 staff: by sex and by job grade ("at all job grades"; other sexes or
    # grades may exist, hence "≤"); the trained employees of OD-04 by sex and by grade
    "od_staff_total": (("od_staff_female", "od_staff_male"),),
    "od_staff_female": (("od_staff_female_senior", "od_staff_female_middle", "od_staff_female_officer"),),
    "od_staff_male": (("od_staff_male_senior", "od_staff_male_middle", "od_staff_male_officer"),),
    "od_staff_trained": (
        ("od_staff_trained_female", "od_staff_trained_male"),
        ("od_staff_trained_senior", "od_staff_trained_middle", "od_staff_trained_officer"),
    ),
    # OD-06 requests for information by channel, both years ("other" = all other channels)
    "od_info_requests": (
        (
            "od_info_requests_call_centre",
            "od_info_requests_service_desk",
            "od_info_requests_info_centre",
            "od_info_requests_other",
        ),
    ),
    "od_info_requests_prev": (
        (
            "od_info_requests_call_centre_prev",
            "od_info_requests_service_desk_prev",
            "od_info_requests_info_centre_prev",
            "od_info_requests_other_prev",
        ),
    ),
    # OD-08 disciplined officials by grade and by detection source
    "od_disciplined_officials": (
        ("od_disciplined_senior", "od_disciplined_middle", "od_disciplined_officer"),
        ("od_disciplined_internal", "od_disciplined_external"),
    ),
    # OD-09 investigations and reports by grade of the person reported and by source
    "od_integrity_investigations": (
        (
            "od_integrity_investigations_senior",
            "od_integrity_investigations_middle",
            "od_integrity_investigations_officer",
        ),
        ("od_integrity_investigations_internal", "od_integrity_investigations_external"),
    ),
    "od_integrity_reports": (
        ("od_integrity_reports_senior", "od_integrity_reports_middle", "od_integrity_reports_officer"),
        ("od_integrity_reports_internal", "od_integrity_reports_external"),
    ),
}


# ---- catalog helpers ------------------------------------------------------------------


def is_variation(kpi: Kpi) -> bool:
    """True for a year-on-year variation ``((A-B)/B)*100``."""
    calc = kpi.calculation
    if not isinstance(calc, ExpressionCalc):
        return False
    node = calc.parsed.tree.body
    match node:
        case ast.BinOp(
            op=ast.Mult(),
            left=ast.BinOp(
                op=ast.Div(),
                left=ast.BinOp(op=ast.Sub(), left=ast.Name(id=new), right=ast.Name(id=old)),
                right=ast.Name(id=base),
            ),
            right=ast.Constant(value=100),
        ):
            return old == base and new != old
    return False


def bounded_percent(kpi: Kpi) -> bool:
    """True if the KPI's result must lie within 0–100 (rule 1)."""
    return (
        kpi.result.unit is ResultUnit.PERCENT
        and not is_variation(kpi)
        and kpi.id not in UNBOUNDED_PERCENT
        and kpi.id not in SHARES
    )


def _asked(catalog: Catalog, kpi: Kpi) -> set[str]:
    return {dp.id for dp in catalog.main_data_points(kpi)} | {dp.id for dp in catalog.breakdown_data_points(kpi)}


def owner_kpi(catalog: Catalog, total: str, parts: Iterable[str] = ()) -> str:
    """The KPI a data-point finding is filed under: the first (in catalog order) asking the
    total and all the parts, else the first asking the total as a main figure, else any."""
    wanted = {total, *parts}
    for candidates in (
        (k for k in catalog.kpis if wanted <= _asked(catalog, k)),
        (k for k in catalog.kpis if total in k.data_point_ids),
        (k for k in catalog.kpis if total in _asked(catalog, k)),
    ):
        found = next(candidates, None)
        if found is not None:
            return found.id
    raise KeyError(f"no KPI asks {total}")


# ---- the rules --------------------------------------------------------------------------


def find_issues(
    catalog: Catalog,
    answers: Mapping[str, Mapping[str, str]],
    previous: Mapping[str, Mapping[str, str]] | None = None,
    *,
    k: float = 3.5,
    min_values: int = 5,
    jump_factor: float = 3.0,
    blank: Mapping[str, Collection[str]] | None = None,
    previous_blank: Mapping[str, Collection[str]] | None = None,
) -> list[Finding]:
    """The findings of all rules for one cycle's answers (Member → data point id → stored
    value), optionally against the previous cycle's. `blank` and `previous_blank` give the
    KPIs each Member left blank; their results are not checked."""
    blank = blank or {}
    previous_blank = previous_blank or {}
    results = _results(catalog, answers, blank)
    findings: list[Finding] = []
    findings += _range_results(catalog, results)
    findings += _range_answers(catalog, answers)
    findings += _outliers(catalog, results, Decimal(str(k)), min_values, k)
    if previous:
        old = _results(catalog, previous, previous_blank)
        findings += _jumps(catalog, results, old, Decimal(str(jump_factor)), jump_factor)
    findings += _parts(catalog, answers)
    return _merged(catalog, findings)


def _results(
    catalog: Catalog, answers: Mapping[str, Mapping[str, str]], blank: Mapping[str, Collection[str]]
) -> dict[str, dict[str, Computed]]:
    """KPI id → Member → computed result, for the results that can be computed."""
    out: dict[str, dict[str, Computed]] = {}
    for member, values in answers.items():
        for kpi in catalog.kpis:
            if kpi.id in blank.get(member, ()):
                continue
            try:
                result = compute(catalog, kpi, values)
            except (ArithmeticError, KeyError, ValueError):
                continue  # an unreadable answer: reported by the data-point range rule
            if isinstance(result, Computed):
                out.setdefault(kpi.id, {})[member] = result
    return out


def _fmt(value: Decimal, decimals: int) -> str:
    return str(rounded(value, decimals))


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _range_results(catalog: Catalog, results: Mapping[str, Mapping[str, Computed]]) -> list[Finding]:
    out: list[Finding] = []
    for kpi in catalog.kpis:
        by_member = results.get(kpi.id, {})
        for member, result in by_member.items():
            shown = _fmt(result.value, result.decimals)
            detail = None
            if bounded_percent(kpi):
                if result.value > 100:
                    detail = f"result {shown} > 100"
                elif result.value < 0:
                    detail = f"result {shown} < 0"
            elif kpi.result.unit is ResultUnit.MINUTES and result.value <= 0:
                detail = f"result {shown} ≤ 0"
            if detail:
                out.append(Finding(member, kpi.id, "", FlagKind.RANGE, detail))
    return out


def _number(stored: str) -> Decimal | None:
    try:
        value = Decimal(stored)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return value if value.is_finite() else None


def _range_answers(catalog: Catalog, answers: Mapping[str, Mapping[str, str]]) -> list[Finding]:
    out: list[Finding] = []
    owners: dict[str, str] = {}
    for member, values in answers.items():
        for dp_id, stored in values.items():
            dp = catalog.data_points.get(dp_id)
            if dp is None or not dp.is_numeric:
                continue
            value = _number(stored)
            upper, lower = dp.upper_bound, dp.lower_bound
            if value is None:
                detail = f"value {stored!r} is not a number"
            elif upper is not None and value > upper:
                detail = f"value {stored} > max {_plain(upper)}"
            elif value < lower:
                detail = f"value {stored} < min {_plain(lower)}"
            else:
                continue
            if dp_id not in owners:
                owners[dp_id] = owner_kpi(catalog, dp_id)
            out.append(Finding(member, owners[dp_id], dp_id, FlagKind.RANGE, detail))
    return out


def _outliers(
    catalog: Catalog, results: Mapping[str, Mapping[str, Computed]], k: Decimal, min_values: int, k_shown: float
) -> list[Finding]:
    out: list[Finding] = []
    for kpi in catalog.kpis:
        by_member = results.get(kpi.id, {})
        if len(by_member) < max(min_values, 1):
            continue
        values = [r.value for r in by_member.values()]
        med = median(values)
        mad = median([abs(v - med) for v in values])
        if mad == 0:
            continue
        scale = MAD_SCALE * mad
        for member, result in by_member.items():
            z = abs(result.value - med) / scale
            if z > k:
                d = result.decimals
                detail = (
                    f"value {_fmt(result.value, d)}, median {_fmt(med, d)}, MAD {_fmt(mad, d)}, "
                    f"robust z {z:.1f} > {k_shown:g}"
                )
                out.append(Finding(member, kpi.id, "", FlagKind.OUTLIER, detail))
    return out


def _jumps(
    catalog: Catalog,
    results: Mapping[str, Mapping[str, Computed]],
    old: Mapping[str, Mapping[str, Computed]],
    factor: Decimal,
    factor_shown: float,
) -> list[Finding]:
    out: list[Finding] = []
    for kpi in catalog.kpis:
        if is_variation(kpi):
            continue
        before = old.get(kpi.id, {})
        for member, result in results.get(kpi.id, {}).items():
            previous = before.get(member)
            if previous is None or result.value == 0 or previous.value == 0:
                continue
            ratio = abs(result.value) / abs(previous.value)
            if ratio > factor or 1 / ratio > factor:
                d = result.decimals
                detail = (
                    f"result {_fmt(result.value, d)}, previous cycle {_fmt(previous.value, d)}, "
                    f"ratio {ratio:.2f} (limit ×{factor_shown:g} either way)"
                )
                out.append(Finding(member, kpi.id, "", FlagKind.JUMP, detail))
    return out


def _parts(catalog: Catalog, answers: Mapping[str, Mapping[str, str]]) -> list[Finding]:
    out: list[Finding] = []
    owners: dict[tuple[str, tuple[str, ...]], str] = {}
    for member, values in answers.items():
        for total_id, groups in PARTS.items():
            total = _number(values[total_id]) if total_id in values else None
            if total is None:
                continue
            for group in groups:
                given = [(p, _number(values[p])) for p in group if p in values]
                given = [(p, v) for p, v in given if v is not None]
                if not given:
                    continue
                parts_sum = sum((v for _, v in given), Decimal(0))
                if parts_sum <= total:
                    continue
                key = (total_id, group)
                if key not in owners:
                    owners[key] = owner_kpi(catalog, total_id, group)
                names = " + ".join(p for p, _ in given)
                detail = f"{names} = {_plain(parts_sum)} > {total_id} = {_plain(total)}"
                out.append(Finding(member, owners[key], total_id, FlagKind.PART_EXCEEDS_TOTAL, detail))
    return out


def _merged(catalog: Catalog, findings: list[Finding]) -> list[Finding]:
    """One finding per (Member, KPI, data point, kind), the store's key; details joined."""
    merged: dict[tuple[str, str, str, FlagKind], Finding] = {}
    for f in findings:
        key = (f.member, f.kpi, f.data_point, f.kind)
        if key in merged:
            f = Finding(f.member, f.kpi, f.data_point, f.kind, f"{merged[key].detail}; {f.detail}")
        merged[key] = f
    order = {kpi.id: i for i, kpi in enumerate(catalog.kpis)}
    kinds = list(FlagKind)
    return sorted(
        merged.values(), key=lambda f: (f.member, order.get(f.kpi, len(order)), f.data_point, kinds.index(f.kind))
    )


# ---- on a stored cycle ------------------------------------------------------------------


async def run_checks(store: Store, catalog: Catalog, cycle: Cycle, *, submitted_only: bool = False) -> int:
    """Runs the checks on the cycle's answers (against the previous cycle's, if any) and
    stores the findings as flags; returns how many flags are new. A flag already stored keeps
    its state (its detail is refreshed), so running the checks again adds no duplicate.
    With `submitted_only`, only the Members who have submitted are checked and counted in
    the outlier statistics."""
    stored = await store.cycle_answers(cycle.id)
    answers = {m: {dp: a.value for dp, a in values.items()} for m, values in stored.items()}
    if submitted_only:
        submitted = {m for m, s in (await store.submissions(cycle.id)).items() if s.locked}
        answers = {m: v for m, v in answers.items() if m in submitted}
    blank = await _blank(store, cycle.id)
    previous = previous_blank = None
    before = await store.previous_cycle(cycle)
    if before is not None:
        old = await store.cycle_answers(before.id)
        previous = {m: {dp: a.value for dp, a in values.items()} for m, values in old.items()}
        previous_blank = await _blank(store, before.id)
    findings = find_issues(catalog, answers, previous, blank=blank, previous_blank=previous_blank)
    known = {(f.member, f.kpi, f.data_point, f.kind) for f in await store.flags(cycle.id)}
    if findings:
        await store.add_flags(cycle.id, [(f.member, f.kpi, f.data_point, f.kind.value, f.detail) for f in findings])
    return sum(1 for f in findings if (f.member, f.kpi, f.data_point, f.kind.value) not in known)


async def _blank(store: Store, cycle_id: int) -> dict[str, set[str]]:
    states = await store.cycle_states(cycle_id)
    return {m: {kpi for kpi, s in by_kpi.items() if s.status is KpiState.BLANK} for m, by_kpi in states.items()}
