"""A hand-made cycle of 60 Members in the six WCO regions, built in memory (no store, no randomness).

The raw figures are kept in plain tables (:data:`TF10`, :data:`RC02`, …) so that the tests can
recompute every expected value from them by another road than :mod:`pmm_core.domain.analysis`.

Who stands where (2025):
- 57 Members submitted; JO is in progress (a confirmed TF-10 of 5 %, not submitted); EG has an
  NCP and no data; LR has neither.
- MENA's participants are QA and MA only: MA alone answered TF-10 (Public) and QA alone RC-02
  (WCO level), one-Member groups that a public audience may see for TF-10 only.
- BE gave every TF-10 figure but never confirmed it; FR's TF-10 is under an open flag.
- OD-05 (Gender balance) was confirmed by all 57; 37 gave the breakdown by job grade (the
  report's 57 → 37). OD-04 was confirmed by all 57; 36 gave the breakdown by gender.
- Blank KPIs: ES-07 for the first 30 submitted Members (reasons in turn), TF-13 for every fourth.
"""

from __future__ import annotations

from datetime import date

from pmm_core.catalog.members import Member
from pmm_core.domain.records import (
    Answer,
    Cycle,
    CycleData,
    CycleState,
    Flag,
    FlagState,
    KpiState,
    KpiStatus,
    Submission,
)

T0 = "2026-01-15T09:00:00+00:00"
T_SUBMIT = "2026-02-01T10:30:00+01:00"  # 09:30 UTC

# iso2, region, income group, geographic type, administration type (hand-made, not the shipped list)
MEMBERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("KE", "esa", "lower_middle", "other", "revenue_authority"),
    ("UG", "esa", "low", "landlocked", "revenue_authority"),
    ("RW", "esa", "low", "landlocked", "revenue_authority"),
    ("TZ", "esa", "lower_middle", "other", "revenue_authority"),
    ("ZA", "esa", "upper_middle", "other", "revenue_authority"),
    ("NA", "esa", "upper_middle", "other", "revenue_authority"),
    ("BW", "esa", "upper_middle", "landlocked", "revenue_authority"),
    ("MU", "esa", "upper_middle", "island", "revenue_authority"),
    ("MG", "esa", "low", "island", "ministry_department"),
    ("ZM", "esa", "lower_middle", "landlocked", "revenue_authority"),
    ("BE", "eur", "high", "other", "ministry_department"),
    ("FR", "eur", "high", "other", "ministry_department"),
    ("DE", "eur", "high", "other", "customs_agency"),
    ("NL", "eur", "high", "other", "revenue_authority"),
    ("ES", "eur", "high", "other", "revenue_authority"),
    ("IT", "eur", "high", "other", "customs_agency"),
    ("PL", "eur", "high", "other", "revenue_authority"),
    ("CH", "eur", "high", "landlocked", "border_protection_service"),
    ("AT", "eur", "high", "landlocked", "ministry_department"),
    ("NO", "eur", "high", "other", "customs_agency"),
    ("GB", "eur", "high", "island", "revenue_authority"),
    ("IE", "eur", "high", "island", "revenue_authority"),
    ("UA", "eur", "upper_middle", "other", "customs_agency"),
    ("GE", "eur", "upper_middle", "other", "revenue_authority"),
    ("CN", "ap", "upper_middle", "other", "customs_agency"),
    ("JP", "ap", "high", "island", "ministry_department"),
    ("KR", "ap", "high", "other", "customs_agency"),
    ("IN", "ap", "lower_middle", "other", "ministry_department"),
    ("ID", "ap", "upper_middle", "island", "ministry_department"),
    ("AU", "ap", "high", "other", "border_protection_service"),
    ("NZ", "ap", "high", "island", "customs_agency"),
    ("SG", "ap", "high", "island", "customs_agency"),
    ("FJ", "ap", "upper_middle", "island", "revenue_authority"),
    ("LK", "ap", "lower_middle", "island", "ministry_department"),
    ("JO", "mena", "upper_middle", "other", "customs_agency"),
    ("QA", "mena", "high", "other", "customs_agency"),
    ("MA", "mena", "lower_middle", "other", "customs_agency"),
    ("EG", "mena", "lower_middle", "other", "customs_agency"),
    ("AR", "ams", "upper_middle", "other", "revenue_authority"),
    ("BR", "ams", "upper_middle", "other", "revenue_authority"),
    ("CA", "ams", "high", "other", "border_protection_service"),
    ("MX", "ams", "upper_middle", "other", "customs_agency"),
    ("PE", "ams", "upper_middle", "other", "revenue_authority"),
    ("UY", "ams", "high", "other", "ministry_department"),
    ("JM", "ams", "upper_middle", "island", "customs_agency"),
    ("DO", "ams", "upper_middle", "island", "customs_agency"),
    ("GT", "ams", "upper_middle", "other", "revenue_authority"),
    ("CR", "ams", "upper_middle", "other", "ministry_department"),
    ("CL", "ams", "high", "other", "customs_agency"),
    ("BO", "ams", "lower_middle", "landlocked", "customs_agency"),
    ("SN", "wca", "lower_middle", "other", "ministry_department"),
    ("CI", "wca", "lower_middle", "other", "ministry_department"),
    ("NG", "wca", "lower_middle", "other", "customs_agency"),
    ("GH", "wca", "lower_middle", "other", "revenue_authority"),
    ("TG", "wca", "low", "other", "revenue_authority"),
    ("BF", "wca", "low", "landlocked", "ministry_department"),
    ("ML", "wca", "low", "landlocked", "ministry_department"),
    ("NE", "wca", "low", "landlocked", "ministry_department"),
    ("CM", "wca", "lower_middle", "other", "ministry_department"),
    ("LR", "wca", "low", "other", "revenue_authority"),
)
MEMBER_OBJECTS = {row[0]: Member(*row) for row in MEMBERS}
IN_PROGRESS, NOT_STARTED, NO_NCP = "JO", "EG", "LR"
SUBMITTED = tuple(row[0] for row in MEMBERS if row[0] not in (IN_PROGRESS, NOT_STARTED, NO_NCP))
assert len(SUBMITTED) == 57

# ---- raw figures (2025) --------------------------------------------------------------------
# TF-10 Rate of electronic declarations (Public): (electronic, all declarations). MENA: MA only.
TF10: dict[str, tuple[int, int]] = {
    code: (510 + 8 * i, 1000) for i, code in enumerate(SUBMITTED) if code not in ("QA", "BE") and i % 3 != 1
}
TF10["JO"] = (50, 1000)  # confirmed, but JO has not submitted
TF10_UNCONFIRMED = {"BE": (10, 1000)}  # every figure given, never confirmed
# RC-02 Degree of non-compliance with classification rules (WCO level): (violations, declarations).
RC02: dict[str, tuple[int, int]] = {
    code: (5 + i, 1000) for i, code in enumerate(SUBMITTED) if i % 2 == 0 and code != "MA"
}
RC02["QA"] = (40, 1000)  # the one MENA answer
# TF-07 Passengers travelling by air undergoing physical inspection (Country level); MENA: QA and MA.
TF07: dict[str, tuple[int, int]] = {
    code: (i + 1, 200) for i, code in enumerate(SUBMITTED) if i % 3 == 0 or code in ("QA", "MA")
}
# TF-01 Private sector engagement (WCO level, 9 yes/no): number of "yes".
TF01: dict[str, int] = {code: (i * 4) % 10 for i, code in enumerate(SUBMITTED) if i % 5}
# OD-05 Gender balance ratio (Public): (female, male) for all; job-grade breakdown for the first 37.
OD05: dict[str, tuple[int, int]] = {code: (300 + 11 * i, 600) for i, code in enumerate(SUBMITTED)}
OD05_GRADES = SUBMITTED[:37]
# OD-04 Rate of access to training (Public): (trained, staff); by gender for the first 36.
OD04: dict[str, tuple[int, int]] = {code: (100 + 9 * i, 1000) for i, code in enumerate(SUBMITTED)}
OD04_GENDER = SUBMITTED[:36]

REASONS = ("db_collecting", "db_planned", "db_not_planned", "no_detail", "unit_difficult")
BLANKS: dict[str, dict[str, str]] = {}
for _i, _code in enumerate(SUBMITTED):
    if _i < 30:
        BLANKS.setdefault(_code, {})["ES-07"] = REASONS[_i % 5]
    if _i % 4 == 0:
        BLANKS.setdefault(_code, {})["TF-13"] = "no_detail"

TF01_POINTS = (
    "tf_pse_mechanism",
    "tf_pse_meets_timeframes",
    "tf_pse_meets_as_needed",
    "tf_pse_specific_topics",
    "tf_pse_terms_of_reference",
    "tf_pse_industry_representative",
    "tf_pse_pga_representative",
    "tf_pse_transparency",
    "tf_pse_follow_up",
)
GRADES = (
    "od_staff_female_senior",
    "od_staff_male_senior",
    "od_staff_female_middle",
    "od_staff_male_middle",
    "od_staff_female_officer",
    "od_staff_male_officer",
)
GENDER = ("od_staff_trained_female", "od_staff_trained_male", "od_staff_female", "od_staff_male")


def _answer(value: object, user: int = 1) -> Answer:
    return Answer(str(value), user, T0)


def _state(status: KpiState, reason: str | None = None, comment: str | None = None) -> KpiStatus:
    return KpiStatus(status, reason, comment, 1, T0)


def build(year: int = 2025, comments: dict[tuple[str, str], str] | None = None) -> CycleData:
    """The 2025 cycle described above (closed); `comments` adds blank comments (Member, KPI) → text."""
    answers: dict[str, dict[str, Answer]] = {}
    states: dict[str, dict[str, KpiStatus]] = {}

    def put(code: str, dp: str, value: object) -> None:
        answers.setdefault(code, {})[dp] = _answer(value)

    def confirm(code: str, kpi: str) -> None:
        states.setdefault(code, {})[kpi] = _state(KpiState.CONFIRMED)

    for code, (a, b) in TF10.items():
        put(code, "tf_declarations_electronic", a)
        put(code, "tf_declarations", b)
        confirm(code, "TF-10")
    for code, (a, b) in TF10_UNCONFIRMED.items():
        put(code, "tf_declarations_electronic", a)
        put(code, "tf_declarations", b)
        states.setdefault(code, {})["TF-10"] = _state(KpiState.IN_PROGRESS)
    for code, (a, b) in RC02.items():
        put(code, "rc_classification_violations", a)
        put(code, "rc_customs_declarations", b)
        confirm(code, "RC-02")
    for code, (a, b) in TF07.items():
        put(code, "tf_air_passengers_inspected", a)
        put(code, "tf_air_passengers", b)
        confirm(code, "TF-07")
    for code, yes in TF01.items():
        for k, dp in enumerate(TF01_POINTS):
            put(code, dp, "yes" if k < yes else "no")
        confirm(code, "TF-01")
    for i, (code, (female, male)) in enumerate(OD05.items()):
        put(code, "od_staff_female", female)
        put(code, "od_staff_male", male)
        confirm(code, "OD-05")
        if code in OD05_GRADES:
            for k, dp in enumerate(GRADES):
                put(code, dp, 10 + i + k)
    for i, (code, (trained, staff)) in enumerate(OD04.items()):
        put(code, "od_staff_trained", trained)
        put(code, "od_staff_total", staff)
        confirm(code, "OD-04")
        if code in OD04_GENDER:
            put(code, "od_staff_trained_female", 40 + i)
            put(code, "od_staff_trained_male", 50 + i)
    comments = comments or {}
    for code, blanks in BLANKS.items():
        for kpi, reason in blanks.items():
            states.setdefault(code, {})[kpi] = _state(KpiState.BLANK, reason, comments.get((code, kpi)))
    submissions = {code: Submission(T_SUBMIT, 1, None) for code in SUBMITTED}
    submissions[IN_PROGRESS] = Submission(None, None, T0)  # reopened: not submitted
    ncps = {code: 1 for code, *_ in MEMBERS if code != NO_NCP}
    ncps["FR"] = 2
    flags = (
        Flag(1, year, "FR", "TF-10", "tf_declarations_electronic", ("outlier",), "value 849", FlagState.OPEN),
        Flag(2, year, "DE", "TF-10", "", ("range",), "result 101", FlagState.RESOLVED),
    )
    return CycleData(
        cycle=Cycle(year, year, date(year + 1, 1, 1), date(year + 1, 3, 31), CycleState.CLOSED),
        members=dict(MEMBER_OBJECTS),
        answers=answers,
        states=states,
        submissions=submissions,
        ncps=ncps,
        flags=flags,
    )


# ---- the previous cycle (2024) -------------------------------------------------------------
# The first 40 submitted Members and LR submitted in 2024; TF-10 confirmed by the first 30 of
# them (except those without a 2025 TF-10, who then count in neither year).
PREVIOUS_SUBMITTED = (*SUBMITTED[:40], NO_NCP)
TF10_2024: dict[str, tuple[int, int]] = {code: (700 + 5 * i, 1000) for i, code in enumerate(PREVIOUS_SUBMITTED[:30])}
TF10_2024[NO_NCP] = (999, 1000)


def build_previous() -> CycleData:
    answers: dict[str, dict[str, Answer]] = {}
    states: dict[str, dict[str, KpiStatus]] = {}
    for code, (a, b) in TF10_2024.items():
        answers[code] = {"tf_declarations_electronic": _answer(a), "tf_declarations": _answer(b)}
        states[code] = {"TF-10": _state(KpiState.CONFIRMED)}
    return CycleData(
        cycle=Cycle(2024, 2024, date(2025, 1, 1), date(2025, 3, 31), CycleState.CLOSED),
        members=dict(MEMBER_OBJECTS),
        answers=answers,
        states=states,
        submissions={code: Submission(T0, 1, None) for code in PREVIOUS_SUBMITTED},
        ncps={code: 1 for code in PREVIOUS_SUBMITTED},
    )
