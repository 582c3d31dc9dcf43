"""Deterministic synthetic cycles for the demo and the benchmarks (never real data).

:func:`synthetic_cycle` draws, from a seed, a cycle of a sample of Members: some submitted,
some in progress, some not started (an NCP but no data). Every stored value passes the
answer checks of :func:`pmm_core.domain.answers.check_number` and the results are plausible: each
KPI's result is aimed at a range typical of the first PMM cycle (:data:`PLAUSIBLE`), parts
never exceed their totals (the catalog's part/total rules, ``checks.toml``), a figure of the year before equals
the figure given in the previous cycle, and a Member's results move little from one cycle to
the next. About one KPI in five is left blank, more often by lower-income Members and for the
KPIs the first cycle found hard, with one of the five reasons and sometimes a comment.

The same seed, catalog and Members always give the same records; each Member's data depend
only on the seed, the year and the Member, so adding Members does not change the others'.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import REGIONS
from pmm_core.catalog.models import Catalog, DataPoint, DataType, ExpressionCalc, Kpi, ToolScoreCalc
from pmm_core.domain.answers import Valid, check_number
from pmm_core.domain.records import Answer, Cycle, CycleData, CycleState, KpiState, KpiStatus, Submission
from pmm_core.domain.results import Computed, compute

# KPI → the range its result usually falls in (result unit), and the typical size of its base
# figure for a mid-sized administration.
PLAUSIBLE: dict[str, tuple[float, float, float]] = {
    "TF-02": (-10, 30, 400),
    "TF-03": (10, 70, 2e10),
    "TF-04": (60, 4000, 2e5),
    "TF-05": (30, 3000, 1e5),
    "TF-06": (60, 5000, 1e5),
    "TF-07": (0.5, 8, 2e6),
    "TF-08": (2, 25, 1),
    "TF-09": (60, 99, 150),
    "TF-10": (70, 100, 4e5),
    "TF-11": (20, 100, 8),
    "TF-12": (40, 95, 1e6),
    "TF-13": (10, 600, 5e5),
    "TF-14": (1, 40, 3e6),
    "RC-01": (0.01, 1, 2e5),
    "RC-02": (0.05, 3, 5e5),
    "RC-03": (1, 20, 1e4),
    "RC-04": (0.1, 5, 2e5),
    "RC-05": (0.5, 8, 3e9),
    "RC-06": (20, 80, 600),
    "ES-01": (40, 95, 3e4),
    "OD-02": (5, 40, 2000),
    "OD-04": (30, 90, 4000),
    "OD-05": (30, 110, 2500),
    "OD-06": (-15, 25, 5e4),
    "OD-08": (0.1, 3, 4000),
    "OD-09": (20, 90, 80),
}
SEIZURE_VARIATION = (-30.0, 40.0, 300.0)  # ES variations in the number of seizures
SEIZURE_EFFECTIVENESS = (0.5, 30.0, 2e4)  # ES seizures per 100 physical inspections

# How much more (or less) often than average a KPI is left blank (the first cycle's Figures 30–31).
DIFFICULTY: dict[str, float] = {
    "TF-01": 0.2,
    "ES-02": 0.4,
    "OD-01": 0.4,
    "OD-03": 0.5,
    "OD-07": 0.3,
    "OD-10": 0.4,
    "OD-05": 0.3,
    "TF-10": 0.6,
    "OD-02": 3.0,
    "TF-13": 2.4,
    "TF-04": 1.6,
    "TF-05": 1.6,
    "TF-06": 1.8,
    "RC-03": 1.8,
}
BLANK_TENDENCY = {"low": 0.32, "lower_middle": 0.26, "upper_middle": 0.2, "high": 0.14}
REASON_WEIGHTS = {"db_collecting": 2, "db_planned": 2, "db_not_planned": 1, "no_detail": 4, "unit_difficult": 1}
COMMENTS = (
    "The figures are kept by another agency.",
    "Only sea cargo is recorded separately.",
    "The new system goes live next year.",
    "Données disponibles uniquement pour le fret aérien.",
    "Los datos se publican en el informe anual.",
)
NCP_BASE = 700_000  # synthetic NCPs' Telegram ids: NCP_BASE + position of the Member


@dataclass(frozen=True)
class Shares:
    """How the sampled Members stand: the rest have an NCP and no data."""

    submitted: float = 0.6
    in_progress: float = 0.25


def synthetic_cycle(
    catalog: Catalog,
    members: Sequence[Member],
    year: int,
    seed: int,
    *,
    participants: int = 30,
    previous: CycleData | None = None,
    state: CycleState = CycleState.OPEN,
    shares: Shares = Shares(),
) -> CycleData:
    """A cycle of `participants` Members drawn from `members` (every WCO region represented),
    reference year `year`; with `previous`, most of its Members take part again and their figures
    continue from it. `members` all stay known Members of the cycle."""
    rng = random.Random(f"{seed}:{year}:sample")
    sample = _sample(rng, members, participants, previous)
    rng.shuffle(sample)
    n_submitted = round(len(sample) * shares.submitted)
    n_progress = round(len(sample) * shares.in_progress)
    opens = date(year + 1, 1, 15)
    cycle = Cycle(
        id=year, year=year, opens=opens, deadline=date(year + 1, 3, 31), state=state, reminder_days=(14, 7, 3, 1)
    )
    position = {m.iso2: i for i, m in enumerate(members)}
    answers: dict[str, dict[str, Answer]] = {}
    states: dict[str, dict[str, KpiStatus]] = {}
    submissions: dict[str, Submission] = {}
    for i, member in enumerate(sample):
        if i >= n_submitted + n_progress:
            continue  # not started
        user = NCP_BASE + position[member.iso2]
        writer = _MemberWriter(catalog, member, year, seed, user, opens, previous)
        done = 1.0 if i < n_submitted else writer.rng.uniform(0.2, 0.8)
        writer.fill(done)
        answers[member.iso2], states[member.iso2] = writer.answers, writer.states
        if i < n_submitted:
            submissions[member.iso2] = Submission(writer.stamp(60), user, None)
    return CycleData(
        cycle=cycle,
        members={m.iso2: m for m in members},
        answers=answers,
        states=states,
        submissions=submissions,
        ncps={m.iso2: 1 + (position[m.iso2] % 7 == 0) for m in sample},
    )


def synthetic_cycles(
    catalog: Catalog, members: Sequence[Member], years: Sequence[int], seed: int, participants: int = 30
) -> list[CycleData]:
    """Consecutive cycles, the last one open, each continuing the previous one."""
    out: list[CycleData] = []
    for i, year in enumerate(years):
        state = CycleState.OPEN if i == len(years) - 1 else CycleState.CLOSED
        shares = Shares() if state is CycleState.OPEN else Shares(submitted=0.85, in_progress=0.1)
        out.append(
            synthetic_cycle(
                catalog,
                members,
                year,
                seed,
                participants=participants,
                previous=out[-1] if out else None,
                state=state,
                shares=shares,
            )
        )
    return out


def _sample(rng: random.Random, members: Sequence[Member], size: int, previous: CycleData | None) -> list[Member]:
    """`size` Members, at least one per WCO region present; ~90 % of the previous cycle's again."""
    size = min(size, len(members))
    chosen: dict[str, Member] = {}
    if previous is not None:
        earlier = [m for m in members if m.iso2 in previous.ncps]
        for member in rng.sample(earlier, min(len(earlier), round(size * 0.9))):
            chosen[member.iso2] = member
    for region in REGIONS:
        if len(chosen) < size and not any(m.region == region for m in chosen.values()):
            pool = [m for m in members if m.region == region]
            if pool:
                member = rng.choice(pool)
                chosen[member.iso2] = member
    rest = [m for m in members if m.iso2 not in chosen]
    for member in rng.sample(rest, size - len(chosen)):
        chosen[member.iso2] = member
    return sorted(chosen.values(), key=lambda m: m.iso2)


def parts_by_total(catalog: Catalog) -> dict[str, tuple[tuple[str, ...], ...]]:
    """The catalog's part/total rules as total → groups of parts."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for rule in catalog.checks.parts:
        out.setdefault(rule.total, []).append(rule.parts)
    return {total: tuple(groups) for total, groups in out.items()}


class _MemberWriter:
    """Draws one Member's answers and KPI states."""

    def __init__(
        self,
        catalog: Catalog,
        member: Member,
        year: int,
        seed: int,
        user: int,
        opens: date,
        previous: CycleData | None,
    ) -> None:
        self.catalog, self.member, self.user = catalog, member, user
        self.parts = parts_by_total(catalog)
        traits = random.Random(f"{seed}:{member.iso2}")  # the same in every cycle
        self.size = traits.lognormvariate(0, 0.8)
        self.quality = traits.random()  # where in each plausible range this Member's results fall
        self.yes = traits.uniform(0.45, 0.95)
        self.blank = BLANK_TENDENCY.get(member.income_group, 0.22) * traits.uniform(0.5, 1.5)
        self.rng = random.Random(f"{seed}:{year}:{member.iso2}")
        self.start = datetime.combine(opens, datetime.min.time(), UTC) + timedelta(days=self.rng.randint(0, 20))
        self.minutes = 0
        self.previous: Mapping[str, str] = previous.values(member.iso2) if previous else {}
        self.previous_states = previous.states.get(member.iso2, {}) if previous else {}
        self.values: dict[str, Decimal | str] = {}
        self.answers: dict[str, Answer] = {}
        self.states: dict[str, KpiStatus] = {}

    def stamp(self, step: int = 7) -> str:
        self.minutes += self.rng.randint(1, step)
        return (self.start + timedelta(minutes=self.minutes)).isoformat()

    def fill(self, done: float) -> None:
        kpis = list(self.catalog.kpis)
        cut = round(len(kpis) * done)
        for i, kpi in enumerate(kpis[: cut + 1]):
            if i < cut and self.rng.random() < min(0.9, self.blank * DIFFICULTY.get(kpi.id, 1.0)):
                self._leave_blank(kpi)
                continue
            self._main(kpi)
            if i == cut:  # the KPI the NCP is working on: figures given, not confirmed
                self._write()
                self.states[kpi.id] = KpiStatus(KpiState.IN_PROGRESS, None, None, self.user, self.stamp())
                continue
            if self.rng.random() < 0.5:
                for dis in kpi.disaggregations:
                    if self.rng.random() < 0.7:
                        for dp_id in dis.data_points:
                            self._part(self.catalog.data_points[dp_id])
            self._write()
            self.states[kpi.id] = KpiStatus(KpiState.CONFIRMED, None, None, self.user, self.stamp())

    def _write(self) -> None:
        """Stores the values drawn since the last call, as answers given one after the other."""
        for dp_id, value in self.values.items():
            if dp_id not in self.answers:
                dp = self.catalog.data_points[dp_id]
                stored = value if isinstance(value, str) else _canonical(dp, value)
                self.answers[dp_id] = Answer(stored, self.user, self.stamp(3))

    def _leave_blank(self, kpi: Kpi) -> None:
        codes = [c for c in self.catalog.blank_reason_codes if c in REASON_WEIGHTS] or list(
            self.catalog.blank_reason_codes
        )
        reason = self.rng.choices(codes, [REASON_WEIGHTS.get(c, 1) for c in codes])[0]
        comment = self.rng.choice(COMMENTS) if self.rng.random() < 0.3 else None
        self.states[kpi.id] = KpiStatus(KpiState.BLANK, reason, comment, self.user, self.stamp())

    # ---- main figures ----

    def _target(self, kpi: Kpi) -> tuple[float, float]:
        """The result to aim at and the size of the base figure."""
        if kpi.id in PLAUSIBLE:
            low, high, base = PLAUSIBLE[kpi.id]
        elif kpi.id.startswith("ES-"):
            variation = "-B)/B" in kpi.calculation.formula if isinstance(kpi.calculation, ExpressionCalc) else False
            low, high, base = SEIZURE_VARIATION if variation else SEIZURE_EFFECTIVENESS
        else:
            low, high, base = 0.0, 100.0, 1000.0
        position = min(1.0, max(0.0, self.quality + self.rng.gauss(0, 0.15)))
        target = low + (high - low) * position
        earlier = self._previous_result(kpi)
        if earlier is not None and low <= earlier <= high:
            target = earlier + max(abs(earlier), (high - low) / 10) * self.rng.gauss(0, 0.1)
        return target, base * self.size * self.rng.uniform(0.8, 1.25)

    def _base(self, dp: DataPoint, default: float) -> float:
        """A base figure: last cycle's, a little changed, or `default`."""
        earlier = self.previous.get(dp.id)
        return float(earlier) * (1 + self.rng.gauss(0.03, 0.05)) if earlier is not None else default

    def _previous_result(self, kpi: Kpi) -> float | None:
        state = self.previous_states.get(kpi.id)
        if not self.previous or state is None or state.status is not KpiState.CONFIRMED:
            return None
        result = compute(self.catalog, kpi, self.previous)
        return float(result.value) if isinstance(result, Computed) else None

    def _main(self, kpi: Kpi) -> None:
        calc = kpi.calculation
        if isinstance(calc, ToolScoreCalc):
            for tool in self.catalog.tools:
                dp = self.catalog.data_points[self.catalog.tool_data_point_id(tool)]
                if dp.id not in self.values:
                    level = min(len(dp.choices) - 1, max(0, round(self.yes * len(dp.choices) + self.rng.gauss(-1, 1))))
                    self.values[dp.id] = dp.choices[level].code
            return
        dps = {letter: self.catalog.data_points[i] for letter, i in calc.variables.items()}
        if all(dp.type is DataType.YES_NO for dp in dps.values()):
            for dp in dps.values():
                self.values.setdefault(dp.id, "yes" if self.rng.random() < self.yes else "no")
            return
        target, base = self._target(kpi)
        shape = calc.formula.replace(" ", "")
        if shape in ("A/B*100", "(A/B)*100"):
            self._ratio(dps["A"], dps["B"], target / 100, base)
        elif shape == "((A-B)/B)*100":
            if dps["A"].id in self.values and self._from_previous(dps["B"]) is None:
                base = float(self.values[dps["A"].id]) / (1 + target / 100)
            self._set(dps["B"], base)
            self._set(dps["A"], float(self.values[dps["B"].id]) * (1 + target / 100))
        elif shape == "A/B":
            self._ratio(dps["A"], dps["B"], target, base)
        elif shape == "(A/(A+B))*100":
            self._set(dps["A"], self._base(dps["A"], base * target / 100))
            self._set(dps["B"], float(self.values[dps["A"].id]) * (100 - target) / max(target, 1))
        elif shape == "A":
            self._set(dps["A"], target)
        elif shape == "(X/(N*Y))*100":
            self._set(dps["N"], self._base(dps["N"], base))
            self._set(dps["Y"], self.rng.uniform(4, 15))
            self._set(dps["X"], float(self.values[dps["N"].id]) * float(self.values[dps["Y"].id]) * target / 100)
        else:
            raise ValueError(f"{kpi.id}: no synthetic data for the formula {calc.formula}")

    def _ratio(self, numerator: DataPoint, denominator: DataPoint, ratio: float, base: float) -> None:
        if denominator.id not in self.values and numerator.id in self.values:
            self._set(denominator, float(self.values[numerator.id]) / max(ratio, 1e-6))
        self._set(denominator, self._base(denominator, base))
        self._set(numerator, self._base(numerator, float(self.values[denominator.id]) * ratio))

    # ---- values ----

    def _from_previous(self, dp: DataPoint) -> float | None:
        """A figure of the year before as given in the previous cycle ("x_prev" ← "x")."""
        if dp.year.value == "t-1" and self.previous:
            same = dp.id.replace("_prev", "", 1)
            if same in self.previous:
                return float(self.previous[same])
        return None

    def _set(self, dp: DataPoint, wanted: float) -> None:
        if dp.id in self.values:
            return
        earlier = self._from_previous(dp)
        value = earlier if earlier is not None else wanted
        low, high = self._bounds(dp)
        self.values[dp.id] = _number(dp, min(max(value, low), high), high)

    def _part(self, dp: DataPoint) -> None:
        """A breakdown figure: a share of what its totals leave, or a figure of its own."""
        if dp.id in self.values:
            return
        for total, groups in self.parts.items():  # totals first, so that the part fits in them
            if total not in self.values and any(dp.id in group for group in groups):
                self._part(self.catalog.data_points[total])
        shares = [
            self._room(total, group, dp.id) / sum(1 for p in group if p not in self.values)
            for total, groups in self.parts.items()
            if total in self.values
            for group in groups
            if dp.id in group
        ]
        if shares:
            self._set(dp, min(shares) * self.rng.uniform(0.6, 1.0))
        else:
            self._set(dp, self.rng.uniform(10, 1000) * self.size)

    def _room(self, total: str, group: tuple[str, ...], part: str) -> float:
        used = sum(float(self.values[p]) for p in group if p != part and p in self.values)
        return max(0.0, float(self.values[total]) - used)

    def _bounds(self, dp: DataPoint) -> tuple[float, float]:
        """What the answer checks and the parts/totals table allow for `dp` now."""
        low = float(dp.lower_bound)
        high = float(dp.upper_bound) if dp.upper_bound is not None else float("inf")
        for group in self.parts.get(dp.id, ()):
            low = max(low, sum(float(self.values[p]) for p in group if p in self.values))
        for total, groups in self.parts.items():
            if total in self.values:
                for group in groups:
                    if dp.id in group:
                        high = min(high, self._room(total, group, dp.id))
        return low, max(low, high)


def _number(dp: DataPoint, value: float, high: float) -> Decimal:
    """`value` rounded as the data point is typed (a whole count, else 2 decimals), not above `high`."""
    places = 0 if dp.type is DataType.COUNT else 2
    number = Decimal(str(round(value, places)))
    step = Decimal(1).scaleb(-places)
    return number - step if number > Decimal(str(high)) and number >= step else number


def _canonical(dp: DataPoint, value: Decimal) -> str:
    checked = check_number(dp, value)
    if not isinstance(checked, Valid):
        raise ValueError(f"synthetic value {value} of {dp.id} fails the answer checks: {checked}")
    return checked.value
