"""The disclosure policy (seed 002 §25): who may see a Member's figure, a group statistic, extremes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmm_core.catalog.models import Disclosure
from pmm_core.domain.disclosure import (
    Audience,
    disclosed_by_sums,
    kpi_level,
    may_see_extremes,
    may_see_figure,
    may_see_statistic,
    may_see_unnamed,
)

LEVELS = list(Disclosure)
CODES = ["BE", "FR", "DE", "NL", "KE"]
audiences = st.one_of(
    st.just(Audience.secretariat()),
    st.just(Audience.wco()),
    st.just(Audience.public()),
    st.builds(Audience.ncp, st.sampled_from(CODES), st.sets(st.sampled_from(CODES))),
)


def test_named_figures_go_to_the_secretariat_and_the_members_own_ncps_only():
    assert may_see_figure(Audience.secretariat(), "BE")
    assert may_see_figure(Audience.ncp("BE"), "BE")
    assert not may_see_figure(Audience.ncp("FR", union={"BE"}), "BE")
    assert not may_see_figure(Audience.wco(), "BE")
    assert not may_see_figure(Audience.public(), "BE")


@pytest.mark.parametrize(
    ("level", "public", "wco", "ncp_other", "ncp_union"),
    [
        # §25: Public → public site; WCO → all NCPs; Union → NCPs of the Union; Country → the Member's NCPs.
        (Disclosure.PUBLIC, True, True, True, True),
        (Disclosure.WCO, False, True, True, True),
        (Disclosure.UNION, False, False, False, True),
        (Disclosure.COUNTRY, False, False, False, False),
    ],
)
def test_one_members_figure_unnamed_follows_the_level(level, public, wco, ncp_other, ncp_union):
    assert may_see_unnamed(level, Audience.public(), "BE") is public
    assert may_see_unnamed(level, Audience.wco(), "BE") is wco
    assert may_see_unnamed(level, Audience.ncp("FR"), "BE") is ncp_other
    assert may_see_unnamed(level, Audience.ncp("FR", union={"BE"}), "BE") is ncp_union
    assert may_see_unnamed(level, Audience.secretariat(), "BE")
    assert may_see_unnamed(level, Audience.ncp("BE"), "BE")  # its own figure


def test_group_statistics():
    # A group of one Member is that Member's figure: shown to the public only for a Public KPI.
    assert may_see_statistic(Disclosure.PUBLIC, Audience.public(), ["BE"])
    assert not may_see_statistic(Disclosure.WCO, Audience.public(), ["BE"])
    # Two Members or more: an aggregate, at any level (as the report shows Country-level KPIs by region).
    assert may_see_statistic(Disclosure.COUNTRY, Audience.public(), ["BE", "FR"])
    # The /checks case: a Country-level median sent to an NCP, computed from one other Member.
    assert not may_see_statistic(Disclosure.COUNTRY, Audience.ncp("BE"), ["FR"])
    assert not may_see_statistic(Disclosure.COUNTRY, Audience.ncp("BE"), ["BE", "FR"])  # own + one other
    assert may_see_statistic(Disclosure.COUNTRY, Audience.ncp("BE"), ["BE", "FR", "DE"])
    assert may_see_statistic(Disclosure.COUNTRY, Audience.ncp("BE"), ["BE"])
    assert may_see_statistic(Disclosure.UNION, Audience.ncp("BE", union={"FR"}), ["BE", "FR"])
    assert not may_see_statistic(Disclosure.PUBLIC, Audience.secretariat(), [])  # nothing to show


def test_extremes_are_single_figures():
    assert may_see_extremes(Disclosure.PUBLIC, Audience.public(), ["BE", "FR"])
    assert not may_see_extremes(Disclosure.WCO, Audience.public(), ["BE", "FR", "DE"])
    assert may_see_extremes(Disclosure.WCO, Audience.wco(), ["BE", "FR", "DE"])
    assert not may_see_extremes(Disclosure.UNION, Audience.ncp("BE", union={"FR"}), ["BE", "FR", "DE"])
    assert may_see_extremes(Disclosure.COUNTRY, Audience.secretariat(), ["BE", "FR"])


def test_breakdown_level_falls_back_to_the_kpi_level(catalog):
    assert kpi_level(catalog.kpi("RC-05")) is Disclosure.PUBLIC
    assert kpi_level(catalog.kpi("RC-05"), breakdown=True) is Disclosure.COUNTRY
    assert kpi_level(catalog.kpi("TF-10"), breakdown=True) is Disclosure.PUBLIC  # no level of its own


@given(st.sampled_from(LEVELS), audiences, st.sets(st.sampled_from(CODES), max_size=5))
def test_no_statistic_reveals_one_hidden_figure(level, audience, members):
    """Whatever the audience, a statistic it may see is over no one else, over at least two others,
    or over one other whose figure the level lets it see."""
    if not may_see_statistic(level, audience, members):
        return
    others = {m for m in members if not audience.own(m)}
    assert len(others) != 1 or may_see_unnamed(level, audience, next(iter(others)))


@given(st.sampled_from(LEVELS), st.sampled_from(CODES), st.sampled_from(CODES), st.sets(st.sampled_from(CODES)))
def test_an_ncp_never_sees_another_members_named_figure(level, mine, other, union):
    if mine != other:
        assert not may_see_figure(Audience.ncp(mine, union), other)


def test_a_statistic_over_one_hidden_figure_and_figures_the_audience_may_see_is_hidden():
    # An NCP of BE may see FR's Union-level figure: an average over FR and DE would give DE's.
    union = Audience.ncp("BE", union={"FR"})
    assert not may_see_statistic(Disclosure.UNION, union, ["FR", "DE"])
    assert not may_see_statistic(Disclosure.UNION, union, ["BE", "FR", "DE"])
    assert may_see_statistic(Disclosure.UNION, union, ["FR", "DE", "NL"])
    assert may_see_statistic(Disclosure.UNION, union, ["BE", "FR"])


@given(st.sampled_from(LEVELS), audiences, st.sets(st.sampled_from(CODES), max_size=5))
def test_a_statistic_shown_is_over_no_hidden_figure_or_over_two_at_least(level, audience, members):
    if may_see_statistic(level, audience, members):
        assert sum(1 for m in members if not may_see_unnamed(level, audience, m)) != 1


# ---- rule 4: figures that follow from several sums -----------------------------------------


def test_the_overall_sum_less_the_groups_shown_gives_the_one_hidden():
    # Overall BE+FR+DE+NL+KE; groups {BE, FR}, {DE, NL} shown, {KE} hidden: KE = all − both.
    sums = [{"BE", "FR"}, {"DE", "NL"}, set(CODES)]
    [derivation] = disclosed_by_sums(sums, CODES)
    assert (derivation.member, derivation.uses, derivation.needs) == ("KE", frozenset({0, 1, 2}), frozenset({0, 1, 2}))
    # Hiding {DE, NL} with it: two hidden together, nothing follows.
    assert disclosed_by_sums([{"BE", "FR"}, set(CODES)], CODES) == []
    # A figure the audience may see (KE, e.g. its own) does not count as hidden.
    assert disclosed_by_sums(sums, ["BE", "FR", "DE", "NL"]) == []


def test_two_statistics_one_member_apart_give_that_members_figure():
    # A region {BE, FR, DE} and an income group {BE, FR}: DE follows, from both sums.
    [derivation] = disclosed_by_sums([{"BE", "FR", "DE"}, {"BE", "FR"}], CODES)
    assert (derivation.member, derivation.uses, derivation.needs) == ("DE", frozenset({0, 1}), frozenset({0, 1}))
    # A Member known to the audience (here NL) is as good as absent: {BE, FR, NL} gives it too.
    assert [d.member for d in disclosed_by_sums([{"BE", "FR", "DE"}, {"BE", "FR", "NL"}], ["BE", "FR", "DE"])] == ["DE"]
    # Two groupings of the same Members, each with a group of one shown: every figure follows in
    # more than one way (BE from its group or from all less {FR, DE}), so no one sum is needed.
    sums = [{"BE"}, {"FR", "DE"}, {"BE", "FR"}, {"DE"}, {"BE", "FR", "DE"}]
    needed = {d.member: d.needs for d in disclosed_by_sums(sums, ["BE", "FR", "DE"])}
    assert needed == {"BE": set(), "FR": set(), "DE": set()}


def _rank(rows):
    rows, done = [list(r) for r in rows], 0
    for col in range(len(rows[0]) if rows else 0):
        pivot = next((i for i in range(done, len(rows)) if rows[i][col]), None)
        if pivot is not None:
            rows[done], rows[pivot] = rows[pivot], rows[done]
            for i in range(done + 1, len(rows)):
                factor = Fraction(rows[i][col], rows[done][col])
                rows[i] = [x - factor * y for x, y in zip(rows[i], rows[done], strict=True)]
            done += 1
    return done


def _follows(sums, hidden, member) -> bool:
    """By rank: the member's unit vector adds nothing to the sums' vectors (over `hidden`)."""
    matrix = [[int(m in s) for m in hidden] for s in sums]
    unit = [int(m == member) for m in hidden]
    return _rank([*matrix, unit]) == _rank(matrix)


@given(
    st.lists(st.sets(st.sampled_from(CODES), min_size=1), max_size=8),
    st.sets(st.sampled_from(CODES), min_size=1),
)
def test_disclosed_by_sums_is_exactly_what_follows(sums, hidden):
    """Compared with a rank test over the rationals; every sum it says is needed is: without it
    the figure no longer follows; the sums it says are used give the figure on their own."""
    hidden = sorted(hidden)
    derived = {d.member: d for d in disclosed_by_sums(sums, hidden)}
    assert set(derived) == {m for m in hidden if _follows(sums, hidden, m)}
    for member, d in derived.items():
        assert d.needs <= d.uses and _follows([sums[k] for k in sorted(d.uses)], hidden, member)
        for k in d.needs:
            assert not _follows([s for i, s in enumerate(sums) if i != k], hidden, member)
        for k in d.uses - d.needs:
            assert _follows([s for i, s in enumerate(sums) if i != k], hidden, member)
