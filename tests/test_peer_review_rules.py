"""The peer review's rules: the audience *peer reviewer of Member X* against each disclosure
level (seed 002 §25), and the order and states of a review."""

from __future__ import annotations

import pytest

from pmm_core.catalog.models import Disclosure
from pmm_core.domain.disclosure import (
    Audience,
    may_see_extremes,
    may_see_figure,
    may_see_statistic,
    may_see_unnamed,
)
from pmm_core.domain.peer_review import KpiReview, after, may_conclude, member_state, next_kpi, reviewer_audience

EUR = {"BE", "FR", "DE"}
REVIEWER_OF_BE = reviewer_audience("BE", EUR)

# level → (the reviewed Member, a Member of its union, a Member outside it): may the reviewer see it?
EXPECTED = {
    Disclosure.PUBLIC: (True, True, True),  # anyone
    Disclosure.WCO: (True, True, True),  # "all NCPs and peer reviewers of all WCO Members"
    Disclosure.UNION: (True, True, False),  # "NCPs and peer reviewers of Members of the Union"
    Disclosure.COUNTRY: (True, False, False),  # "NCPs and peer reviewers of the Member to be reviewed"
}


@pytest.mark.parametrize("level", list(Disclosure))
def test_a_reviewer_of_be_reads_what_each_level_allows(level):
    reviewed, in_union, outside = EXPECTED[level]
    assert may_see_unnamed(level, REVIEWER_OF_BE, "BE") is reviewed
    assert may_see_unnamed(level, REVIEWER_OF_BE, "FR") is in_union
    assert may_see_unnamed(level, REVIEWER_OF_BE, "KE") is outside
    # a group of the reviewed Member and one hidden other: the other's figure would follow
    assert may_see_statistic(level, REVIEWER_OF_BE, {"BE", "KE"}) is outside
    assert may_see_extremes(level, REVIEWER_OF_BE, {"BE", "FR"}) is in_union


def test_named_figures_a_reviewer_reads_are_the_reviewed_members_only():
    assert may_see_figure(REVIEWER_OF_BE, "BE")
    assert not may_see_figure(REVIEWER_OF_BE, "FR")  # an NCP of FR reviewing BE reads FR as its NCP, not as reviewer
    assert not may_see_figure(REVIEWER_OF_BE, "KE")
    # the reviewer audience is no NCP audience: the NCPs of BE and its reviewers read alike,
    # the reviewer of BE is not an NCP of another Member
    assert REVIEWER_OF_BE.own("BE") and not REVIEWER_OF_BE.own("FR")
    assert not Audience.ncp("FR", EUR).own("BE")


def test_review_order_skip_and_states():
    order = ["A", "B", "C", "D"]
    states = {"A": KpiReview.ACCEPTED}
    assert next_kpi(order, states) == "B"
    assert next_kpi(order, states, skipped={"B"}) == "C"
    assert next_kpi(order, states, skipped={"B", "C", "D"}) == "B"  # the skipped come back at the end
    assert next_kpi(after(order, "C"), states) == "D"
    assert next_kpi(order, dict.fromkeys(order, KpiReview.ACCEPTED)) is None
    assert not may_conclude(order, states) and may_conclude(order, dict.fromkeys(order, KpiReview.ACCEPTED))
    accepted, issues = {"A": KpiReview.ACCEPTED}, {"A": KpiReview.HAS_ISSUES}
    assert member_state([accepted, accepted], "A") is KpiReview.ACCEPTED
    assert member_state([accepted, issues], "A") is KpiReview.HAS_ISSUES
    assert member_state([accepted, {}], "A") is KpiReview.TO_REVIEW
