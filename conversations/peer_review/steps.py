"""Where a peer reviewer stands: on a KPI of a review, or writing an issue, a comment, a
reply or the conclusion."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class ReviewingKpi(Step):
    kind: Literal["pr_kpi"] = "pr_kpi"
    review: int
    kpi: str
    skipped: tuple[str, ...] = ()  # KPIs skipped for now, offered again at the end


class WritingReview(Step):
    """A typed text is awaited: an issue on the KPI, a comment, a reply on a thread (`thread`)."""

    kind: Literal["pr_write"] = "pr_write"
    review: int
    kpi: str
    purpose: Literal["issue", "comment", "reply"]
    thread: int = 0
    skipped: tuple[str, ...] = ()


class Concluding(Step):
    kind: Literal["pr_conclude"] = "pr_conclude"
    review: int
    kpi: str = ""
