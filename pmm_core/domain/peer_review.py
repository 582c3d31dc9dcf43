"""The peer review stage (seed 002 §13-§14): a submitted Member's data reviewed by peers.

A Member's NCP requests a review after submitting; the Secretariat accepts it and invites one to
three peer reviewers (an NCP of another Member, or an expert of none). Each reviewer goes KPI by
KPI in catalog order and gives each a state::

    to review ──(Raise an issue)──▶ has issues ──(Accept)──▶ accepted
    accepted | has issues ──(the KPI changed: confirmed again)──▶ to review

A changed figure sends the KPI back (DHIS2's rule: approved data is not changed silently). A
reviewer concludes, with a summary, once every KPI is accepted; the Secretariat closes the
review. Pure rules only; ``pmm_core.storage.peer_reviews`` keeps them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from pmm_core.domain.disclosure import Audience
from pmm_core.domain.text import N_

MAX_REVIEWERS = 3
MAX_SUMMARY = 2000


class ReviewState(StrEnum):
    REQUESTED = "requested"  # the Member asked; the Secretariat has not decided
    ACTIVE = "active"  # accepted: reviewers are invited and review
    CLOSED = "closed"  # the Secretariat closed it (after the conclusions)
    DECLINED = "declined"


LIVE = (ReviewState.REQUESTED, ReviewState.ACTIVE)


class KpiReview(StrEnum):
    TO_REVIEW = "to_review"
    HAS_ISSUES = "has_issues"
    ACCEPTED = "accepted"


KPI_REVIEW_NAMES: dict[KpiReview, str] = {
    KpiReview.TO_REVIEW: N_("to review"),
    KpiReview.HAS_ISSUES: N_("has issues"),
    KpiReview.ACCEPTED: N_("accepted"),
}
KPI_REVIEW_ICON: dict[KpiReview, str] = {
    KpiReview.TO_REVIEW: "⬜",
    KpiReview.HAS_ISSUES: "❗",
    KpiReview.ACCEPTED: "✅",
}
REVIEW_STATE_NAMES: dict[ReviewState, str] = {
    ReviewState.REQUESTED: N_("requested"),
    ReviewState.ACTIVE: N_("under review"),
    ReviewState.CLOSED: N_("closed"),
    ReviewState.DECLINED: N_("declined"),
}


@dataclass(frozen=True)
class PeerReview:
    id: int
    cycle_id: int
    member: str
    state: ReviewState
    requested_by: int
    requested_at: str
    decided_by: int | None = None
    decided_at: str | None = None
    closed_at: str | None = None
    deadline: str | None = None

    @property
    def live(self) -> bool:
        return self.state in LIVE


@dataclass(frozen=True)
class Reviewer:
    review_id: int
    user_id: int
    joined_at: str
    active: bool = True
    conclusion: str | None = None
    concluded_at: str | None = None

    @property
    def concluded(self) -> bool:
        return self.concluded_at is not None


@dataclass(frozen=True)
class ReviewComment:
    review_id: int
    user_id: int
    kpi: str
    at: str
    text: str


class ReviewProblem(StrEnum):
    """Why a step of a review is not taken (the chat words it)."""

    NOT_SUBMITTED = "not_submitted"
    ALREADY = "already"  # a live review exists
    FULL = "full"  # three reviewers already
    OWN_MEMBER = "own_member"  # an NCP of the reviewed Member may not review it
    NOT_ACTIVE = "not_active"
    NOT_ALL_ACCEPTED = "not_all_accepted"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


def state_of(states: Mapping[str, KpiReview], kpi: str) -> KpiReview:
    return states.get(kpi, KpiReview.TO_REVIEW)


def next_kpi(order: Iterable[str], states: Mapping[str, KpiReview], skipped: Collection[str] = ()) -> str | None:
    """The next KPI to review, in catalog order: the first not accepted and not skipped for
    now, else the first skipped one; None when every KPI is accepted."""
    left = [k for k in order if state_of(states, k) is not KpiReview.ACCEPTED]
    return next((k for k in left if k not in skipped), left[0] if left else None)


def after(order: Iterable[str], kpi: str) -> list[str]:
    """The KPIs after `kpi` in catalog order, then those before it (to go on from here)."""
    kpis = list(order)
    i = kpis.index(kpi) + 1 if kpi in kpis else 0
    return kpis[i:] + kpis[:i]


def may_conclude(order: Iterable[str], states: Mapping[str, KpiReview]) -> bool:
    return all(state_of(states, k) is KpiReview.ACCEPTED for k in order)


def member_state(per_reviewer: Iterable[Mapping[str, KpiReview]], kpi: str) -> KpiReview:
    """A KPI's state for the Member: has issues if a reviewer found some, accepted if every
    reviewer accepted it, otherwise to review."""
    found = [state_of(states, kpi) for states in per_reviewer]
    if not found:
        return KpiReview.TO_REVIEW
    if KpiReview.HAS_ISSUES in found:
        return KpiReview.HAS_ISSUES
    return KpiReview.ACCEPTED if all(s is KpiReview.ACCEPTED for s in found) else KpiReview.TO_REVIEW


def counts(order: Iterable[str], states: Mapping[str, KpiReview]) -> dict[KpiReview, int]:
    out = dict.fromkeys(KpiReview, 0)
    for k in order:
        out[state_of(states, k)] += 1
    return out


def reviewer_audience(member: str, union: Collection[str] = ()) -> Audience:
    """What a peer reviewer of `member` reads (§25): every level of that Member's figures;
    of the others, what the NCPs and peer reviewers of all Members (WCO level) or of the
    Members of its union (Union level) may read."""
    return Audience.reviewer(member, union)
