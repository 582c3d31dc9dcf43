"""Where a user stands in this flow: its steps, kept in the conversation state (``kit.state``)."""

from __future__ import annotations

from typing import Literal

from conversations.kit.state import Step


class Asking(Step):
    """A figure of the KPI is asked (a main figure or a breakdown figure). With `every`, the
    figures that last cycle's answers propose are asked too, one by one."""

    kind: Literal["figure"] = "figure"
    kpi: str
    dp: str
    every: bool = False


class ShowingResult(Step):
    """The KPI's result is shown, waiting for Confirm (or a change)."""

    kind: Literal["result"] = "result"
    kpi: str


class ChoosingReason(Step):
    kind: Literal["reason"] = "reason"
    kpi: str


class AwaitingComment(Step):
    """The KPI was left blank; an optional comment may be typed."""

    kind: Literal["comment"] = "comment"
    kpi: str


class OfferingBreakdowns(Step):
    kind: Literal["breakdowns"] = "breakdowns"
    kpi: str


class ResolvingNumber(Step):
    """A typed number reads two ways ("1.000"); the user picks one."""

    kind: Literal["number"] = "number"
    kpi: str
    dp: str
    options: tuple[str, str]  # the two canonical values


class Justifying(Step):
    """The NCP keeps figures the bot warned about and may say why, in one line."""

    kind: Literal["justify"] = "justify"
    kpi: str
    rev: str  # the KPI's figures and state when the NCP chose to keep them
    note: str = ""  # the NCP's line, given to the flag when they confirm
