"""Group statistics, thresholds and suppression by the rules of the report on the first cycle,
recomputed independently from the raw figures of the hand-made fixture (tests/analysis_fixture.py)."""

from __future__ import annotations

import functools
import math
from datetime import date
from decimal import Decimal
from fractions import Fraction
from statistics import median

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import DEFAULT_CSV, Member, read_members
from pmm_core.catalog.members.groupings import REGIONS, Grouping, group_order
from pmm_core.catalog.models import Disclosure, DisclosurePolicy
from pmm_core.domain.analysis import (
    Basis,
    Measure,
    Options,
    analyse,
    analyse_kpi,
    blanks_by_region,
    confirmed_results,
    dimension_rates,
    is_qualitative,
    member_blanks,
    member_values,
    most_and_least_answered,
    participants,
    required_responses,
    response_rates,
    year_on_year,
)
from pmm_core.domain.disclosure import Audience, may_see_unnamed
from pmm_core.domain.records import Cycle, CycleData, CycleState, KpiState, Submission
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.labels import count_of
from pmm_core.samples.synthetic import synthetic_cycle
from tests import analysis_fixture as fx

COLUMN = {Grouping.REGION: 1, Grouping.INCOME: 2, Grouping.GEOGRAPHY: 3, Grouping.ADMINISTRATION: 4}
SECRETARIAT = Options(audience=Audience.secretariat())


@pytest.fixture(scope="module")
def data():
    return fx.build()


def close(value: Decimal | None, expected: Fraction | float) -> bool:
    assert value is not None and isinstance(expected, Fraction)  # sums of Fractions stay exact
    return abs(Fraction(value) - expected) < Fraction(1, 10**20)


def shares(table: dict[str, tuple[int, int]], members=fx.SUBMITTED) -> dict[str, Fraction]:
    """Member → A/B*100 as an exact fraction, for the given Members."""
    return {code: Fraction(a, b) * 100 for code, (a, b) in table.items() if code in members}


def by_group(results: dict[str, Fraction], grouping: Grouping) -> dict[str, list[Fraction]]:
    rows = {row[0]: row for row in fx.MEMBERS}
    out: dict[str, list[Fraction]] = {}
    for code, value in results.items():
        out.setdefault(rows[code][COLUMN[grouping]], []).append(value)
    return out


# ---- threshold -----------------------------------------------------------------------------


def test_threshold_of_the_report():
    # Seed 002 §52: 57 responses, 95 % confidence, 10 % margin of error → at least 37.
    assert required_responses(57) == 37
    # By hand: n0 = 1.96² × 0.25 / e²; n = n0 / (1 + (n0 − 1) / N), rounded up.
    assert required_responses(57, margin=0.05) == 50  # 384.15 / (1 + 383.15 / 57) = 49.75
    assert required_responses(62) == 38  # 96.04 / (1 + 95.04 / 62) = 37.92
    assert required_responses(62, margin=0.05) == 54  # 53.50
    assert required_responses(1000) == 88  # 87.7
    assert required_responses(1_000_000) == 97  # the infinite-population 96.04, rounded up
    assert (required_responses(1), required_responses(0)) == (1, 0)


@given(st.integers(1, 100_000), st.sampled_from([0.01, 0.05, 0.1, 0.2, 0.5]))
def test_threshold_is_a_sample_of_the_population(population, margin):
    needed = required_responses(population, margin)
    assert 1 <= needed <= population
    assert required_responses(population + 1, margin) >= needed
    assert required_responses(population, margin / 2) >= needed


# ---- who counts ----------------------------------------------------------------------------


def test_participants_submitted_or_started(data):
    submitted = participants(data)
    assert len(submitted) == 57 and {m.iso2 for m in submitted} == set(fx.SUBMITTED)
    assert [m.region for m in submitted][:1] == ["esa"] and submitted[-1].region == "wca"
    started = {m.iso2 for m in participants(data, Basis.STARTED)}
    assert started == set(fx.SUBMITTED) | {fx.IN_PROGRESS}  # EG (no data) and LR do not count


def test_qualitative_kpis_are_the_yes_no_and_scale_ones(catalog):
    qualitative = {k.id for k in catalog.kpis if is_qualitative(catalog, k)}
    # The binary questionnaires of PMM v.1 and the two WCO tools KPIs (scale answers).
    assert qualitative == {"TF-01", "ES-02", "OD-01", "OD-03", "OD-07", "OD-10", "WT-01", "WT-02"}


# ---- group statistics ----------------------------------------------------------------------


@pytest.mark.parametrize(("kpi_id", "table"), [("TF-10", fx.TF10), ("RC-02", fx.RC02), ("TF-07", fx.TF07)])
def test_averages_recomputed_for_every_group(catalog, data, kpi_id, table):
    analysis = analyse_kpi(catalog, data, catalog.kpi(kpi_id), SECRETARIAT)
    results = shares(table)
    assert analysis.measure is Measure.MEAN
    assert analysis.n == len(results) and analysis.participants == 57
    assert close(analysis.overall.value, sum(results.values()) / len(results))
    assert close(analysis.overall.minimum, min(results.values()))
    assert close(analysis.overall.maximum, max(results.values()))
    for grouping in Grouping:
        expected = by_group(results, grouping)
        got = {s.code: s for s in analysis.groups[grouping]}
        assert set(got) == set(expected)
        for code, values in expected.items():
            assert got[code].n == len(values)
            assert close(got[code].value, sum(values) / len(values))
            assert close(got[code].minimum, min(values)) and close(got[code].maximum, max(values))


def test_qualitative_kpi_uses_the_median(catalog, data):
    analysis = analyse_kpi(catalog, data, catalog.kpi("TF-01"), SECRETARIAT)
    results = {code: Fraction(yes, 9) * 100 for code, yes in fx.TF01.items()}
    assert analysis.measure is Measure.MEDIAN
    assert close(analysis.overall.value, median(results.values()))
    for code, values in by_group(results, Grouping.INCOME).items():
        stat = next(s for s in analysis.groups[Grouping.INCOME] if s.code == code)
        assert close(stat.value, median(values))


def test_hand_computed_values(catalog, data):
    # TF-10 in MENA: MA alone, (510 + 8 × its position) / 1000.
    index = fx.SUBMITTED.index("MA")
    tf10 = analyse_kpi(catalog, data, catalog.kpi("TF-10"))
    mena = next(s for s in tf10.groups[Grouping.REGION] if s.code == "mena")
    assert (mena.n, mena.value) == (1, Decimal(510 + 8 * index) / 10)
    # RC-02 in MENA: QA alone, 40 / 1000 → 4 %.
    rc02 = analyse_kpi(catalog, data, catalog.kpi("RC-02"), SECRETARIAT)
    assert [(s.n, s.value) for s in rc02.groups[Grouping.REGION] if s.code == "mena"] == [(1, Decimal(4))]


def test_only_confirmed_results_of_participants_count(catalog, data):
    tf10 = analyse_kpi(catalog, data, catalog.kpi("TF-10"), SECRETARIAT)
    # BE gave both figures (1 %) without confirming; JO confirmed 5 % without submitting.
    assert tf10.overall.minimum is not None
    assert tf10.n == len(shares(fx.TF10)) and tf10.overall.minimum > Decimal(50)
    started = analyse_kpi(catalog, data, catalog.kpi("TF-10"), Options(Basis.STARTED, audience=Audience.secretariat()))
    assert started.n == tf10.n + 1 and started.overall.minimum == Decimal(5)
    # Blank KPIs give no result.
    assert analyse_kpi(catalog, data, catalog.kpi("ES-07")).n == 0


# ---- disclosure ----------------------------------------------------------------------------


def _group(analysis, grouping, code):
    return next(s for s in analysis.groups[grouping] if s.code == code)


def test_one_member_groups_shown_to_the_public_only_for_public_kpis(catalog, data):
    tf10 = analyse_kpi(catalog, data, catalog.kpi("TF-10"))  # Public
    rc02 = analyse_kpi(catalog, data, catalog.kpi("RC-02"))  # WCO level
    assert _group(tf10, Grouping.REGION, "mena").shown
    mena = _group(rc02, Grouping.REGION, "mena")
    assert (mena.n, mena.value, mena.minimum, mena.maximum) == (1, None, None, None)
    # The global value is shown. Suppressed groups are exactly the one-Member ones and, in a
    # grouping where one is hidden, the next-smallest group (the first in the grouping's order
    # on a tie): else the global value times its count less the other groups' would be that
    # Member's figure. Every other group is shown.
    assert rc02.overall.shown
    expected = set()
    for grouping in Grouping:
        sizes = {code: len(values) for code, values in by_group(shares(fx.RC02), grouping).items()}
        singles = [code for code, n in sizes.items() if n == 1]
        expected |= {(grouping, code) for code in singles}
        if len(singles) == 1:
            others = [c for c in sizes if c not in singles]
            expected.add((grouping, min(others, key=lambda c: (sizes[c], group_order(grouping, c)))))
    assert {(g, s.code) for g in Grouping for s in rc02.groups[g] if not s.shown} == expected
    assert expected == {
        (Grouping.REGION, "mena"),  # QA alone
        (Grouping.REGION, "esa"),  # 5 Members, as ap and wca: esa comes first
        (Grouping.ADMINISTRATION, "border_protection_service"),  # 1 Member
        (Grouping.ADMINISTRATION, "ministry_department"),  # 7 Members
    }
    assert {(g, s.code) for g in Grouping for s in rc02.groups[g] if s.complement} == {
        (Grouping.REGION, "esa"),
        (Grouping.ADMINISTRATION, "ministry_department"),
    }


def test_the_wco_audience_sees_wco_level_single_figures_but_not_country_ones(catalog, data):
    wco = Options(audience=Audience.wco())
    assert _group(analyse_kpi(catalog, data, catalog.kpi("RC-02"), wco), Grouping.REGION, "mena").shown
    tf07 = analyse_kpi(catalog, data, catalog.kpi("TF-07"), wco)  # Country level
    assert tf07.overall.shown and tf07.overall.minimum is None and tf07.overall.maximum is None
    assert all(not s.shown for g in Grouping for s in tf07.groups[g] if s.n == 1)


def test_min_and_max_only_where_the_level_allows(catalog, data):
    public = {a.kpi.id: a for a in analyse(catalog, data)}
    assert public["TF-10"].overall.minimum is not None  # Public
    assert public["RC-02"].overall.minimum is None  # WCO level: not to the public
    assert public["TF-07"].overall.maximum is None  # Country level
    secretariat = analyse_kpi(catalog, data, catalog.kpi("TF-07"), SECRETARIAT)
    assert secretariat.overall.maximum is not None


def test_an_ncp_never_gets_a_statistic_of_one_other_member(catalog, data):
    # An NCP of QA asking for the MENA RC-02 figure gets it: QA's own figure only.
    own = analyse_kpi(catalog, data, catalog.kpi("RC-02"), Options(audience=Audience.ncp("QA")))
    assert _group(own, Grouping.REGION, "mena").shown
    # TF-07 (Country level) in a group of the NCP's Member and one other: hidden.
    pairs = [
        s for g in Grouping for s in analyse_kpi(catalog, data, catalog.kpi("TF-07"), SECRETARIAT).groups[g] if s.n == 2
    ]
    assert pairs, "the fixture has two-Member TF-07 groups"
    rows = {row[0]: row for row in fx.MEMBERS}
    for pair in pairs:
        assert pair.grouping is not None
        members = [c for c in fx.TF07 if rows[c][COLUMN[pair.grouping]] == pair.code]
        for me in members:
            seen = analyse_kpi(catalog, data, catalog.kpi("TF-07"), Options(audience=Audience.ncp(me)))
            assert not next(s for s in seen.groups[pair.grouping] if s.code == pair.code).shown


# ---- disaggregated data --------------------------------------------------------------------


def test_breakdown_threshold_57_responses_37_needed(catalog, data):
    od05 = analyse_kpi(catalog, data, catalog.kpi("OD-05"))
    [grades] = od05.breakdowns
    assert (grades.population, grades.responses, grades.required, grades.qualifies) == (57, 37, 37, True)
    # Each data point's average over the 37 Members that gave the breakdown, recomputed.
    index = {code: i for i, code in enumerate(fx.SUBMITTED)}
    for k, point in enumerate(grades.points):
        assert point.data_point.id == fx.GRADES[k] and point.n == 37
        expected = Fraction(sum(10 + index[c] + k for c in fx.OD05_GRADES), 37)
        assert close(point.value, expected)
    # With a 5 % margin of error, 50 are needed: not analysed.
    strict = analyse_kpi(catalog, data, catalog.kpi("OD-05"), Options(margin=0.05))
    assert (strict.breakdowns[0].required, strict.breakdowns[0].qualifies, strict.breakdowns[0].points) == (
        50,
        False,
        (),
    )


def test_breakdown_below_the_threshold_is_not_analysed(catalog, data):
    od04 = analyse_kpi(catalog, data, catalog.kpi("OD-04"))
    gender = next(b for b in od04.breakdowns if b.disaggregation.id == "by_gender")
    assert (gender.responses, gender.required, gender.qualifies, gender.points) == (36, 37, False, ())
    grades = next(b for b in od04.breakdowns if b.disaggregation.id == "by_job_grade")
    assert (grades.responses, grades.qualifies) == (0, False)


# ---- response rates ------------------------------------------------------------------------


def test_response_rates_over_the_members_that_submitted(catalog, data):
    stats = {s.kpi_id: s for s in response_rates(catalog, data)}
    tf10 = stats["TF-10"]
    # BE is in progress and JO did not submit: neither is answered.
    assert (tf10.members, tf10.answered, tf10.blank) == (57, len(shares(fx.TF10)), 0)
    es07 = stats["ES-07"]
    assert (es07.answered, es07.blank, es07.reasons) == (0, 30, dict.fromkeys(fx.REASONS, 6))
    assert count_of(lang("en"), 41, 62) == "41 of 62, 66%"
    # One group: the high-income Members that submitted.
    high = [row[0] for row in fx.MEMBERS if row[2] == "high" and row[0] in fx.SUBMITTED]
    tf10_high = next(s for s in response_rates(catalog, data, group=(Grouping.INCOME, "high")) if s.kpi_id == "TF-10")
    assert (tf10_high.members, tf10_high.answered) == (len(high), sum(1 for c in high if c in fx.TF10))


def test_dimension_rates_recomputed(catalog, data):
    answered = {"TF": 0, "RC": 0, "ES": 0, "OD": 0, "WT": 0}
    for table, dim in (
        (fx.TF10, "TF"),
        (fx.RC02, "RC"),
        (fx.TF07, "TF"),
        (fx.TF01, "TF"),
        (fx.OD05, "OD"),
        (fx.OD04, "OD"),
    ):
        answered[dim] += sum(1 for c in table if c in fx.SUBMITTED)
    rates = {r.dimension: r for r in dimension_rates(catalog, data)}
    for dim, count in answered.items():
        kpis = len(catalog.kpis_of(dim))
        assert (rates[dim].answered, rates[dim].possible) == (count, 57 * kpis)
    assert rates["ES"].blank == 30 and rates["TF"].blank == sum(1 for b in fx.BLANKS.values() if "TF-13" in b)
    by_region = [r for r in dimension_rates(catalog, data, grouping=Grouping.REGION) if r.dimension == "RC"]
    assert [(r.code, r.members) for r in by_region] == [
        ("esa", 10),
        ("eur", 14),
        ("ap", 10),
        ("mena", 2),
        ("ams", 12),
        ("wca", 9),
    ]
    assert sum(r.answered for r in by_region) == answered["RC"]


def test_blank_share_per_member_by_region(catalog, data):
    rows = {r.region: r for r in blanks_by_region(catalog, data)}
    region = {row[0]: row[1] for row in fx.MEMBERS}
    for code in ("esa", "eur", "ap", "mena", "ams", "wca"):
        members = [c for c in fx.SUBMITTED if region[c] == code]
        blanks = [len(fx.BLANKS.get(c, {})) for c in members]
        assert rows[code].members == len(members) and rows[code].blanks == sum(blanks)
        expected = Fraction(sum(Fraction(100 * b, 51) for b in blanks), len(members))
        assert close(rows[code].mean_share, expected)
    assert {m.member.iso2: m.blanks for m in member_blanks(catalog, data)}["KE"] == 2  # ES-07 and TF-13


def test_most_and_least_answered(catalog, data):
    most, least = most_and_least_answered(response_rates(catalog, data), k=3)
    assert [s.kpi_id for s in most] == ["OD-04", "OD-05", "TF-01"]  # 57, 57, then TF-01's count
    assert [s.answered for s in most][:2] == [57, 57]
    assert all(s.answered == 0 for s in least) and [s.kpi_id for s in least] == ["TF-02", "TF-03", "TF-04"]


# ---- year on year --------------------------------------------------------------------------


def test_year_on_year_over_members_in_both_cycles(catalog, data):
    previous = fx.build_previous()
    tf10 = next(y for y in year_on_year(catalog, data, previous, SECRETARIAT) if y.kpi.id == "TF-10")
    both = [c for c in fx.TF10_2024 if c in fx.TF10 and c in fx.SUBMITTED]  # LR took part in 2024 only
    assert sorted(c.member for c in tf10.changes) == sorted(both) and len(both) == 20
    before = [Fraction(*fx.TF10_2024[c]) * 100 for c in both]
    now = [Fraction(*fx.TF10[c]) * 100 for c in both]
    assert close(tf10.previous, sum(before) / len(before)) and close(tf10.current, sum(now) / len(now))
    assert all(y.n == 0 for y in year_on_year(catalog, data, previous) if y.kpi.id != "TF-10")


def test_analysis_of_an_empty_cycle(catalog, data):
    empty = fx.build_previous().__class__(cycle=data.cycle, members=data.members, answers={}, states={})
    assert participants(empty) == [] and all(a.n == 0 and not a.overall.shown for a in analyse(catalog, empty))
    assert math.isclose(float(response_rates(catalog, empty)[0].response_rate), 0.0)


# ---- complementary suppression -------------------------------------------------------------
# Whoever may not see a Member's figure must not be able to work it out from the statistics it
# is shown either: an average times its count is a sum, and sums can be subtracted.

# A KPI of each level with one figure per Member, A/B×100: the KPI → its A and B data points.
RATIOS = {
    "TF-10": ("tf_declarations_electronic", "tf_declarations"),  # Public
    "RC-02": ("rc_classification_violations", "rc_customs_declarations"),  # WCO
    "TF-07": ("tf_air_passengers_inspected", "tf_air_passengers"),  # Country
}
AUDIENCE_KINDS = ("public", "wco", "ncp")


@functools.cache
def shared_catalog():
    """The catalog, once for every example of a property test (not a fixture: not reset)."""
    return load_catalog()


def small_cycle(year: int, members: list[Member], figures: dict[str, int]) -> CycleData:
    """`members` all submitted; those in `figures` confirmed every KPI of RATIOS with A = the
    figure and B = 1000 (a result of figure/10 %)."""
    answers = {
        code: {dp: fx._answer(v) for a, b in RATIOS.values() for dp, v in ((a, value), (b, 1000))}
        for code, value in figures.items()
    }
    states = {code: {kpi: fx._state(KpiState.CONFIRMED) for kpi in RATIOS} for code in figures}
    return CycleData(
        cycle=Cycle(year, year, date(year + 1, 1, 1), date(year + 1, 3, 31), CycleState.CLOSED),
        members={m.iso2: m for m in members},
        answers=answers,
        states=states,
        submissions={m.iso2: Submission(fx.T_SUBMIT, 1, None) for m in members},
        ncps={m.iso2: 1 for m in members},
    )


def rank(rows: list[list[Fraction]]) -> int:
    """The rank of a matrix by Gaussian elimination over the rationals (another road than
    :func:`pmm_core.domain.disclosure.disclosed_by_sums`)."""
    rows = [list(r) for r in rows]
    done = 0
    for col in range(len(rows[0]) if rows else 0):
        pivot = next((i for i in range(done, len(rows)) if rows[i][col]), None)
        if pivot is None:
            continue
        rows[done], rows[pivot] = rows[pivot], rows[done]
        for i in range(done + 1, len(rows)):
            factor = rows[i][col] / rows[done][col]
            rows[i] = [x - factor * y for x, y in zip(rows[i], rows[done], strict=True)]
        done += 1
    return done


def derivable(sums: list[set[str]], unknown: list[str]) -> set[str]:
    """The `unknown` Members whose figure follows exactly from the sums over `sums`, every other
    figure being known: those whose unit vector adds nothing to the rank of the sums' vectors."""
    matrix = [[Fraction(m in members) for m in unknown] for members in sums]
    base = rank(matrix)
    unit = [[Fraction(j == k) for j in range(len(unknown))] for k in range(len(unknown))]
    return {m for k, m in enumerate(unknown) if rank([*matrix, unit[k]]) == base}


def members_of(stat, members: list[Member], with_result) -> set[str]:
    """The Members with a result that `stat` is over: all of them, or those of its group."""
    return {
        m.iso2 for m in members if m.iso2 in with_result and (not stat.grouping or m.group(stat.grouping) == stat.code)
    }


def published_sums(analysis, members: list[Member], figures: dict[str, int]) -> list[set[str]]:
    """The Members of each statistic shown, after checking that its average times its count is
    their sum: what anyone shown the analysis can subtract."""
    out = []
    for stat in (analysis.overall, *(s for g in Grouping for s in analysis.groups[g])):
        who = members_of(stat, members, figures)
        assert stat.n == len(who)
        if stat.shown:
            exact = sum(Fraction(figures[c], 10) for c in who)
            assert abs(Fraction(stat.value) * stat.n - exact) < Fraction(1, 10**20)
            out.append(who)
    return out


@st.composite
def small_cycles(draw):
    """A few WCO regions of 1–4 Members each, crossed at random with the other groupings, each
    Member with a figure; a previous cycle with some of them; and an audience."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    codes = iter(fx.SUBMITTED)
    members = [
        Member(
            next(codes),
            region,
            draw(st.sampled_from(["low", "upper_middle", "high"])),
            draw(st.sampled_from(["island", "other"])),
            draw(st.sampled_from(["customs_agency", "revenue_authority"])),
        )
        for region, size in zip(REGIONS, sizes, strict=False)
        for _ in range(size)
    ]
    iso = [m.iso2 for m in members]
    figures = {code: draw(st.integers(0, 1000)) for code in iso}
    earlier = {code: draw(st.integers(0, 1000)) for code in draw(st.sets(st.sampled_from(iso)))}
    kind = draw(st.sampled_from(AUDIENCE_KINDS))
    if kind == "ncp":
        audience = Audience.ncp(draw(st.sampled_from(iso)), draw(st.sets(st.sampled_from(iso))))
    else:
        audience = Audience.public() if kind == "public" else Audience.wco()
    return members, figures, earlier, audience


def hidden_in_grouping(analysis, members, level, audience) -> dict[Grouping, set[str]]:
    """Per grouping, the Members of its hidden groups whose figure `audience` may not see."""
    return {
        g: {
            m.iso2
            for s in analysis.groups[g]
            if not s.shown
            for m in members
            if m.group(g) == s.code and not may_see_unnamed(level, audience, m.iso2)
        }
        for g in Grouping
    }


@settings(max_examples=150, deadline=None)
@given(small_cycles(), st.sampled_from(list(Disclosure)))
def test_no_hidden_figure_follows_from_the_statistics_shown(cycle, level):
    """Whatever the level and audience (not the Secretariat), no figure it may not see follows
    exactly from the averages and counts it is shown, in all groupings at once; within one
    grouping, such figures are hidden two at least together."""
    catalog = shared_catalog()
    members, figures, _, audience = cycle
    data = small_cycle(2025, members, figures)
    kpi = catalog.kpi("RC-02").model_copy(update={"disclosure": DisclosurePolicy(kpi=level)})
    analysis = analyse_kpi(catalog, data, kpi, Options(audience=audience))
    unknown = [c for c in figures if not may_see_unnamed(level, audience, c)]
    assert derivable(published_sums(analysis, members, figures), unknown) == set()
    assert analysis.overall.shown == (len(unknown) != 1)
    for stat in (analysis.overall, *(s for g in Grouping for s in analysis.groups[g])):
        # Hidden: over exactly one figure the audience may not see (rule 3), or as a complement.
        alone = len([c for c in members_of(stat, members, figures) if c in unknown]) == 1
        assert stat.shown == (not alone and not stat.complement) and not (alone and stat.complement)
    if analysis.overall.shown:
        assert all(len(hidden) != 1 for hidden in hidden_in_grouping(analysis, members, level, audience).values())
    # The Secretariat sees everything.
    everything = analyse_kpi(catalog, data, kpi, SECRETARIAT)
    assert all(s.shown for s in (everything.overall, *(s for g in Grouping for s in everything.groups[g])))


@settings(max_examples=100, deadline=None)
@given(small_cycles())
def test_no_hidden_figure_follows_from_the_year_on_year_averages(cycle):
    """Nor next to the year-on-year averages, over the Members of both cycles, in either cycle."""
    catalog = shared_catalog()
    members, figures, earlier, audience = cycle
    now = small_cycle(2025, members, figures)
    before = small_cycle(2024, members, earlier)
    options = Options(audience=audience)
    changes = {y.kpi.id: y for y in year_on_year(catalog, now, before, options) if y.kpi.id in RATIOS}
    for kpi_id, change in changes.items():
        kpi = catalog.kpi(kpi_id)
        common = {c.member for c in change.changes}
        assert common == figures.keys() & earlier.keys()
        for data, values, average in ((now, figures, change.current), (before, earlier, change.previous)):
            assert (average is None) == (change.current is None)
            sums = published_sums(analyse_kpi(catalog, data, kpi, options), members, values)
            if average is not None:
                assert abs(Fraction(average) * len(common) - sum(Fraction(values[c], 10) for c in common)) < 1e-20
                sums.append(common)
            unknown = [c for c in values if not may_see_unnamed(kpi.disclosure.kpi, audience, c)]
            assert derivable(sums, unknown) == set()
    assert all(y.current is not None for y in year_on_year(catalog, now, before, SECRETARIAT) if y.n)


def test_the_reviewers_subtraction_no_longer_gives_a_members_figure(catalog):
    """The reviewer's case: in a synthetic cycle of 40 Members, CR alone answered TF-03 (WCO
    level) in the Americas; the overall average times its count less the other regions' gave
    CR's figure to the public. The next-smallest region is now hidden with it."""
    data = synthetic_cycle(catalog, read_members(DEFAULT_CSV), 2024, 0, participants=40)
    members = participants(data)
    public = Options(audience=Audience.public())
    for kpi_id in ("TF-03", "TF-07", "RC-02", "ES-01"):  # the four the reviewer derived
        kpi = catalog.kpi(kpi_id)
        analysis = analyse_kpi(catalog, data, kpi, public)
        assert analysis.measure is Measure.MEAN and analysis.overall.shown
        for stats in analysis.groups.values():  # the subtraction gives the hidden groups' total
            assert sum(s.n for s in stats if not s.shown) != 1
        results = confirmed_results(catalog, data, kpi, members, member_values(data, members))
        shown = (s for s in (analysis.overall, *(s for g in Grouping for s in analysis.groups[g])) if s.shown)
        sums = [members_of(stat, members, results) for stat in shown]
        assert derivable(sums, sorted(results)) == set()
    tf03 = analyse_kpi(catalog, data, catalog.kpi("TF-03"), public)
    ams = _group(tf03, Grouping.REGION, "ams")
    assert (ams.n, ams.shown) == (1, False)
    region = {s.code: s for s in tf03.groups[Grouping.REGION]}
    smallest = min((s for s in region.values() if s.code != "ams"), key=lambda s: s.n)
    assert not smallest.shown and [c for c, s in region.items() if not s.shown] == sorted(
        ("ams", smallest.code), key=lambda c: group_order(Grouping.REGION, c)
    )
    # The Secretariat still sees every group.
    assert all(s.shown for s in analyse_kpi(catalog, data, catalog.kpi("TF-03"), SECRETARIAT).groups[Grouping.REGION])


def test_year_on_year_hidden_when_one_member_apart_from_the_cycle(catalog):
    """Six Members answered RC-02 (WCO level) this cycle; the year-on-year average over the five
    that took part last cycle too, next to the overall one, would give the sixth's figure."""
    members = [Member(code, "eur", "high", "other", "customs_agency") for code in ("BE", "FR", "DE", "NL", "ES", "IT")]
    figures = {m.iso2: 10 * (k + 1) for k, m in enumerate(members)}
    now = small_cycle(2025, members, figures)
    for missing, shown in ((("IT",), False), (("ES", "IT"), True)):
        before = small_cycle(2024, members, {c: 5 for c in figures if c not in missing})
        rc02 = next(y for y in year_on_year(catalog, now, before) if y.kpi.id == "RC-02")
        assert rc02.n == 6 - len(missing) and (rc02.current is not None, rc02.previous is not None) == (shown, shown)
        assert rc02.complement is not shown
        secretariat = next(y for y in year_on_year(catalog, now, before, SECRETARIAT) if y.kpi.id == "RC-02")
        assert secretariat.current is not None and secretariat.previous is not None
        tf10 = next(y for y in year_on_year(catalog, now, before) if y.kpi.id == "TF-10")  # Public: shown
        assert tf10.current is not None
    # Nor when it is the previous cycle's Members that are one more (PL) than those of both.
    five = {c: v for c, v in figures.items() if c != "IT"}
    pl = Member("PL", "eur", "high", "other", "customs_agency")
    before = small_cycle(2024, [*members, pl], {**five, "PL": 7})
    rc02 = next(y for y in year_on_year(catalog, small_cycle(2025, members, five), before) if y.kpi.id == "RC-02")
    assert rc02.n == 5 and rc02.previous is None and rc02.current is None and rc02.complement
