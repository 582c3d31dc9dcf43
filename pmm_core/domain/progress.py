"""Where a Member stands in a cycle, derived from the store (never kept only in memory)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from pmm_core.catalog.models import Catalog, DataPoint, Kpi
from pmm_core.domain.records import Answer, KpiState, KpiStatus


class Status(StrEnum):
    OPEN = "open"  # nothing given yet
    IN_PROGRESS = "in_progress"  # started, not confirmed
    DONE = "done"  # result confirmed by the NCP
    BLANK = "blank"  # left blank with a reason


_STATUS_OF = {KpiState.CONFIRMED: Status.DONE, KpiState.BLANK: Status.BLANK, KpiState.IN_PROGRESS: Status.IN_PROGRESS}


def status_of(state: KpiStatus | None) -> Status:
    """A KPI's status from its stored state (None: nothing stored, the KPI is open)."""
    return Status.OPEN if state is None else _STATUS_OF[state.status]


@dataclass(frozen=True)
class Snapshot:
    """A Member's answers and KPI states for one cycle, with the derived views."""

    catalog: Catalog
    answers: Mapping[str, Answer]
    states: Mapping[str, KpiStatus]
    # A contributor's view: only the KPIs of their scope (None: every KPI, an NCP), and whether
    # they confirm results (else a KPI with every figure given waits for the NCP, not for them).
    scope: frozenset[str] | None = None
    can_confirm: bool = True

    @property
    def kpis(self) -> list[Kpi]:
        """The KPIs this view is about, in catalog order."""
        if self.scope is None:
            return list(self.catalog.kpis)
        return [k for k in self.catalog.kpis if k.id in self.scope]

    def in_scope(self, kpi_id: str) -> bool:
        return self.scope is None or kpi_id in self.scope

    @property
    def values(self) -> dict[str, str]:
        return {dp: a.value for dp, a in self.answers.items()}

    def status(self, kpi: Kpi) -> Status:
        return status_of(self.states.get(kpi.id))

    def blank_reason(self, kpi: Kpi) -> str | None:
        state = self.states.get(kpi.id)
        return state.reason if state and state.status is KpiState.BLANK else None

    def unanswered(self, kpi: Kpi) -> list[DataPoint]:
        return [dp for dp in self.catalog.main_data_points(kpi) if dp.id not in self.answers]

    def next_data_point(self, kpi: Kpi, skipped: Collection[str] = (), after: str | None = None) -> DataPoint | None:
        """The first unanswered, not skipped data point of the KPI (after `after`, if given)."""
        points = list(self.catalog.main_data_points(kpi))
        if after is not None:
            ids = [dp.id for dp in points]
            points = points[ids.index(after) + 1 :] if after in ids else points
        return next((dp for dp in points if dp.id not in self.answers and dp.id not in skipped), None)

    def pending(self, kpi: Kpi, skipped: Collection[str] = ()) -> bool:
        """True if the KPI still needs the NCP: open or in progress, with a question not
        skipped in this session, or with every figure given but the result not confirmed;
        a KPI whose id is in `skipped` was skipped whole."""
        if self.status(kpi) in (Status.DONE, Status.BLANK) or kpi.id in skipped:
            return False
        unanswered = self.unanswered(kpi)
        if not unanswered:
            return self.can_confirm
        return any(dp.id not in skipped for dp in unanswered)

    def next_kpi(self, skipped: Collection[str] = ()) -> Kpi | None:
        """The KPI to continue with: the first pending one in progress, else the first open."""
        for wanted in (Status.IN_PROGRESS, Status.OPEN):
            for kpi in self.kpis:
                if self.status(kpi) is wanted and self.pending(kpi, skipped):
                    return kpi
        return None

    def still_open(self) -> list[Kpi]:
        """The KPIs of this view that still need its user: not confirmed nor left blank and,
        for a contributor who does not confirm, with a figure still to give."""
        return [
            k
            for k in self.kpis
            if self.status(k) not in (Status.DONE, Status.BLANK) and (self.can_confirm or self.unanswered(k))
        ]

    def counts(self, kpis: Collection[Kpi] | None = None) -> dict[Status, int]:
        kpis = self.kpis if kpis is None else kpis
        out = dict.fromkeys(Status, 0)
        for kpi in kpis:
            out[self.status(kpi)] += 1
        return out
