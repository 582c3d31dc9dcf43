"""The disclosure policy (seed 002 §25): who may see a Member's figure, a group statistic, extremes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmm_core.catalog import Disclosure
from pmm_core.disclosure import (
    Audience,
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
