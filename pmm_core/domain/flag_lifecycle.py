"""A flag's life: the stored flags reconciled with a fresh run of the checks.

A flag is keyed by (Member, KPI, data point), "" for a KPI result: one flag per figure. Run
whenever figures change; :func:`reconcile` tells the store what to do, without doing it:

- a finding without a flag: **create** it (state open);
- a finding with a flag: **update** its kinds and detail when they differ; the flag goes
  back to *open* (``reopen``) when it was *resolved*, or when it was *asked* or *explained*
  and the Member's own figures changed but still trip a rule (the Secretariat looks again);
  an explained figure that did not change stays explained, whatever the group statistics do;
- a flag (not yet resolved) without a finding: **close** it as *resolved*, its detail
  recording which figures changed, from what to what (:class:`~pmm_core.domain.checks.FigureChange`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import ValidationError

from pmm_core.domain.checks import FigureChange, Finding
from pmm_core.domain.records import Flag, FlagState

# (Member, figure) → the figure as it stands now: figure = a KPI id (its result) or a data
# point id; None when there is none. See pmm_core.domain.checks.current_figure
FigureLookup = Callable[[str, str], Decimal | None]


@dataclass(frozen=True)
class FlagUpdate:
    flag: Flag
    finding: Finding  # store finding.kinds and finding.detail
    reopen: bool  # and set the state back to open


@dataclass(frozen=True)
class FlagClosure:
    flag: Flag
    finding: Finding  # the flag's problems with what changed: store finding.detail, state resolved


@dataclass(frozen=True)
class Reconciliation:
    create: tuple[Finding, ...]
    update: tuple[FlagUpdate, ...]
    close: tuple[FlagClosure, ...]


def _stored(flag: Flag) -> Finding | None:
    """The flag's finding, or None for a detail that is not a check's (e.g. an older format)."""
    try:
        return Finding.from_flag(flag)
    except ValidationError:
        return None


def reconcile(existing: Sequence[Flag], findings: Sequence[Finding], now: FigureLookup | None = None) -> Reconciliation:
    """What to create, update and close so that the flags match `findings`; `now` gives the
    current figures of a flag being closed (without it, the closing note cannot say what
    changed)."""
    by_key: dict[tuple[str, str, str], Flag] = {}
    for stored in existing:
        key = (stored.member, stored.kpi, stored.data_point)
        if key in by_key:
            raise ValueError(f"two flags for one figure: {key}")
        by_key[key] = stored
    create: list[Finding] = []
    update: list[FlagUpdate] = []
    for finding in findings:
        flag = by_key.pop(finding.key) if finding.key in by_key else None
        if flag is None:
            create.append(finding)
            continue
        before = _stored(flag)
        figures_changed = before is not None and before.figures != finding.figures
        if flag.state is FlagState.RESOLVED or (
            flag.state in (FlagState.ASKED, FlagState.EXPLAINED) and figures_changed
        ):
            update.append(FlagUpdate(flag, finding, reopen=True))
        elif flag.detail != finding.detail or tuple(flag.kinds) != finding.kinds:
            update.append(FlagUpdate(flag, finding, reopen=False))
    close = [_closure(flag, now) for flag in by_key.values() if flag.state is not FlagState.RESOLVED]
    return Reconciliation(tuple(create), tuple(update), tuple(close))


def _closure(flag: Flag, now: FigureLookup | None) -> FlagClosure:
    before = _stored(flag)
    problems = before.problems if before is not None else ()
    changes: tuple[FigureChange, ...] = ()
    if before is not None and now is not None:
        changes = tuple(
            FigureChange(figure=figure, before=value, now=now(flag.member, figure))
            for figure, value in before.figures.items()
        )
    return FlagClosure(flag, Finding(flag.member, flag.kpi, flag.data_point, problems, resolved=changes))
