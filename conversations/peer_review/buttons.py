"""The buttons of the peer review flow (prefixes ``r…``).

A reviewer's verdict buttons are bound to the reviewer's screen (and so to the open cycle) and
carry the review and the KPI, which the handler checks against the reviewer's step: a press for
another Member's review, an older screen or another cycle changes nothing. The Secretariat's
and the NCP's buttons act on a review by id; the handler checks its state."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("rq")
@dataclass(frozen=True)
class RequestReview(Button):
    """The NCP asks for a peer review of their submitted data (on the receipt, /peerreview)."""


@button("ra")
@dataclass(frozen=True)
class AcceptRequest(Button):
    review: int


@button("rd")
@dataclass(frozen=True)
class DeclineRequest(Button):
    review: int


@button("rx")
@dataclass(frozen=True)
class RemoveReviewer(Button):
    review: int
    user: int


@button("rc")
@dataclass(frozen=True)
class CloseReview(Button):
    review: int


@button("ro")
@dataclass(frozen=True)
class OpenReview(Button):
    """A reviewer opens a review they take part in (the role menu, /peer)."""

    review: int


@button("rk", bound=True)
@dataclass(frozen=True)
class AcceptKpi(Button):
    review: int
    kpi: str


@button("ri", bound=True)
@dataclass(frozen=True)
class RaiseIssue(Button):
    review: int
    kpi: str


@button("rm", bound=True)
@dataclass(frozen=True)
class CommentKpi(Button):
    review: int
    kpi: str


@button("rs", bound=True)
@dataclass(frozen=True)
class SkipKpi(Button):
    review: int
    kpi: str


@button("rr", bound=True)
@dataclass(frozen=True)
class ReplyIssue(Button):
    review: int
    kpi: str
    thread: int


@button("rf", bound=True)
@dataclass(frozen=True)
class Conclude(Button):
    review: int


@button("rn", bound=True)
@dataclass(frozen=True)
class CancelWriting(Button):
    review: int
    kpi: str
