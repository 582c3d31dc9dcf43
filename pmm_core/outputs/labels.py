"""Labels (English gettext msgids) of the codes that exports, reports and charts show to people,
and the small helpers that put them into words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmm_core.catalog.models import DataPoint, DataType, ResultUnit
from pmm_core.domain.analysis import percent
from pmm_core.domain.progress import Status
from pmm_core.domain.records import FlagState, MemberState
from pmm_core.domain.results import Reason
from pmm_core.domain.text import N_

if TYPE_CHECKING:
    from pmm_core.outputs.i18n import Lang

KPI_STATUS_NAMES: dict[Status, str] = {
    Status.DONE: N_("done"),
    Status.BLANK: N_("left blank"),
    Status.IN_PROGRESS: N_("in progress"),
    Status.OPEN: N_("open"),
}

MEMBER_STATE_NAMES: dict[MemberState, str] = {
    MemberState.SUBMITTED: N_("submitted"),
    MemberState.IN_PROGRESS: N_("in progress"),
    MemberState.NOT_STARTED: N_("not started"),
}

UNIT_NAMES: dict[ResultUnit, str] = {
    ResultUnit.PERCENT: N_("percentage"),
    ResultUnit.MINUTES: N_("minutes"),
    ResultUnit.RATIO: N_("ratio"),
    ResultUnit.SCORE: N_("score"),
    ResultUnit.COUNT: N_("number"),
    ResultUnit.PER_100: N_("per 100"),
}

NOT_COMPUTABLE_NAMES: dict[Reason, str] = {
    Reason.MISSING: N_("figures missing"),
    Reason.BLANK: N_("left blank"),
    Reason.DIVISION_BY_ZERO: N_("division by zero"),
}

FLAG_STATE_NAMES: dict[FlagState, str] = {
    FlagState.OPEN: N_("to review"),
    FlagState.ASKED: N_("asked the NCP"),
    FlagState.EXPLAINED: N_("explained"),
    FlagState.RESOLVED: N_("resolved"),
}

FLAG_KIND_NAMES: dict[str, str] = {
    "range": N_("outside the valid range"),
    "outlier": N_("outlier against other Members"),
    "jump": N_("jump against the previous cycle"),
    "part_exceeds_total": N_("a part is larger than its total"),
}


def labelled(L: Lang, label: str, value: str) -> str:
    """ "Label: value", with the language's own spacing (French puts a narrow no-break space
    before the colon)."""
    return L._("{label}: {value}").format(label=label, value=value)


def after_colon(text: str) -> str:
    """A sentence shown after a colon: its first letter in lower case ("The database…" →
    "the database…"), unless the first word is an acronym ("NCP")."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def data_point_unit(dp: DataPoint | None, L: Lang) -> str | None:
    """The unit a data point's figure is given in: its currency, "%", "minutes", or None."""
    if dp is None:
        return None
    if dp.type is DataType.AMOUNT:
        return dp.currency
    if dp.type is DataType.PERCENT:
        return "%"
    if dp.type is DataType.MINUTES:
        return L._(UNIT_NAMES[ResultUnit.MINUTES])
    return None


def count_of(L: Lang, count: int, total: int) -> str:
    """ "41 of 62, 66 %": a count, its total and the rounded percentage."""
    return L._("{n} of {total}, {percent}").format(
        n=L.number(count), total=L.number(total), percent=L.percent(percent(count, total), 0)
    )
