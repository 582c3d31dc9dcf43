"""Exports of a cycle's data for the WCO Secretariat: an Excel workbook and a CSV file.

Pure functions over a cycle's records (any cycle, open or closed). Everything is in the
user's language: headers, sheet titles, statuses, units, regions and groupings, blank reasons,
disclosure levels, yes/no answers and scale choices; every sheet names the Members. Figures
are numbers (a count an integer, other figures floats), times are real date cells in UTC.

KPI results are given only for KPIs the NCP confirmed; a figure of a KPI not yet confirmed is
marked as such, and so is any figure or result under a data-check flag not resolved. The
workbook carries each KPI's disclosure level: it is for the Secretariat, which decides what may
be passed on (:mod:`pmm_core.domain.disclosure`). Text typed by users is neutralised against formula
injection (:mod:`pmm_core.outputs.sheets`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import GROUPING_NAMES, Grouping, group_label
from pmm_core.catalog.models import Catalog, DataPoint, DataType, Kpi
from pmm_core.domain.analysis import year_on_year
from pmm_core.domain.analytics import member_state, participating_members
from pmm_core.domain.disclosure import LEVEL_NAMES, kpi_level
from pmm_core.domain.peer_review import KPI_REVIEW_NAMES, REVIEW_STATE_NAMES, KpiReview, PeerReview
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.records import AuditRow, CycleData, CycleState, Flag, FlagState, KpiState, MemberState
from pmm_core.domain.results import Computed, NotComputable, compute
from pmm_core.domain.text import N_
from pmm_core.domain.threads import (
    AuthorRole,
    ChangeRequest,
    ChangeState,
    MessageKind,
    Thread,
    ThreadMessage,
    ThreadState,
)
from pmm_core.outputs.audit_labels import AuditWords
from pmm_core.outputs.check_messages import describe_flag, kind_label, state_label
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import (
    KPI_STATUS_NAMES,
    MEMBER_STATE_NAMES,
    NOT_COMPUTABLE_NAMES,
    UNIT_NAMES,
    data_point_unit,
)
from pmm_core.outputs.sheets import PERCENT, Cell, Sheet, csv_bytes, utc_time, workbook_bytes

CYCLE_STATE_NAMES = {CycleState.OPEN: N_("open"), CycleState.CLOSED: N_("closed")}


def build_workbook(
    catalog: Catalog,
    data: CycleData,
    L: Lang,
    *,
    previous: CycleData | None = None,
    audit: Sequence[AuditRow] = (),
    people: Mapping[int, str] | None = None,
    exported_at: datetime | None = None,
    questions: Sequence[Question] | None = None,
    peer_reviews: Sequence[ReviewRow] | None = None,
) -> bytes:
    """The cycle as XLSX bytes: overview, Members, data points, KPI results, blank reasons, flags,
    and, when given, the questions on figures, year on year against `previous` and the audit log.

    `people`: Telegram id → name, shown instead of the id in "By" and "User" columns.
    """
    ctx = _Context(catalog, data, L, people or {})
    sheets = [
        _overview(ctx, exported_at),
        _members(ctx),
        _data_points(ctx),
        _kpi_results(ctx),
        _blank_reasons(ctx),
        _flags(ctx),
    ]
    if questions is not None:
        sheets.append(_questions(ctx, questions))
    if peer_reviews:
        sheets.append(_peer_reviews(ctx, peer_reviews))
    if previous is not None:
        sheets.append(_year_on_year(ctx, previous))
    if audit:
        sheets.append(_audit(ctx, audit))
    return workbook_bytes(sheets)


def build_csv(catalog: Catalog, data: CycleData, L: Lang, people: Mapping[int, str] | None = None) -> bytes:
    """The "Data points" sheet as CSV for the user's Excel (see :func:`pmm_core.outputs.sheets.csv_bytes`)."""
    return csv_bytes(_data_points(_Context(catalog, data, L, people or {})), L.tag)


class _Context:
    """What every sheet needs: the data, the language, and lookups built once."""

    def __init__(self, catalog: Catalog, data: CycleData, L: Lang, people: Mapping[int, str]) -> None:
        self.catalog, self.data, self.L, self.people = catalog, data, L, people
        self.members = participating_members(data)
        self._snapshots: dict[str, Snapshot] = {}
        self.flags_by_point: dict[tuple[str, str], list[Flag]] = {}
        self.flags_by_kpi: dict[tuple[str, str], list[Flag]] = {}
        for flag in data.flags:
            if flag.state is not FlagState.RESOLVED:
                self.flags_by_kpi.setdefault((flag.member, flag.kpi), []).append(flag)
                if flag.data_point:
                    self.flags_by_point.setdefault((flag.member, flag.data_point), []).append(flag)

    def snapshot(self, member: Member) -> Snapshot:
        """The Member's answers and KPI states (built once, for every sheet)."""
        if member.iso2 not in self._snapshots:
            answers, states = self.data.answers.get(member.iso2, {}), self.data.states.get(member.iso2, {})
            self._snapshots[member.iso2] = Snapshot(self.catalog, answers, states)
        return self._snapshots[member.iso2]

    def member(self, code: str) -> Member:
        return self.data.members.get(code) or Member(code, "")

    def name(self, member: Member) -> str:
        return member.name(self.L.code)

    def group(self, member: Member, grouping: Grouping) -> str:
        return _group_text(self.L, grouping, member.group(grouping))

    def groups(self, member: Member) -> list[Cell]:
        return [self.group(member, g) for g in Grouping]

    def group_headers(self) -> list[str]:
        return [self.L._(GROUPING_NAMES[g]) for g in Grouping]

    def person(self, user: int | None) -> Cell:
        if user is None:
            return None
        return self.people.get(user, user)

    def kpi_name(self, kpi_id: str) -> str:
        kpi = self.catalog.kpi_by_id.get(kpi_id)
        return kpi.name.get(self.L.code) if kpi else kpi_id

    def flag_text(self, flags: Iterable[Flag]) -> str | None:
        """ "outlier against other Members (to review); …", or None without flags."""
        parts = [f"{self.kinds(flag)} ({state_label(flag.state, self.L)})" for flag in flags]
        return "; ".join(parts) or None

    def kinds(self, flag: Flag) -> str:
        return ", ".join(kind_label(k, self.L) for k in flag.kinds)


# ---- sheets --------------------------------------------------------------------------------


def _overview(ctx: _Context, exported_at: datetime | None) -> Sheet:
    L, data = ctx.L, ctx.data
    states = [member_state(data, m.iso2) for m in ctx.members]
    kpi_states = [s.status for by_kpi in data.states.values() for s in by_kpi.values()]
    rows = [
        _item(L._("PMM cycle (reference year)"), data.cycle.year),
        _item(L._("Cycle state"), L._(CYCLE_STATE_NAMES[data.cycle.state])),
        _item(L._("Opens"), data.cycle.opens),
        _item(L._("Deadline"), data.cycle.deadline),
        _item(L._("Exported at (UTC)"), utc_time(exported_at.isoformat()) if exported_at else None),
        _item(L._("Known Members"), len(data.members)),
        _item(L._("Members with an NCP"), sum(1 for n in data.ncps.values() if n)),
        _item(L._("Participating Members (an NCP or data)"), len(ctx.members)),
        *[_item(L._(MEMBER_STATE_NAMES[s]), states.count(s)) for s in MemberState],
        _item(L._("KPIs confirmed"), kpi_states.count(KpiState.CONFIRMED)),
        _item(L._("KPIs left blank"), kpi_states.count(KpiState.BLANK)),
        _item(L._("KPIs in progress"), kpi_states.count(KpiState.IN_PROGRESS)),
        _item(L._("Flags not resolved"), sum(1 for f in data.flags if f.state is not FlagState.RESOLVED)),
        _item(L._("Results are given only for KPIs the NCP confirmed."), None),
        _item(L._("Each KPI's disclosure level says who may see its results outside the Secretariat."), None),
    ]
    return Sheet(L._("Overview"), [L._("Item"), L._("Value")], rows)


def _members(ctx: _Context) -> Sheet:
    L, data, catalog = ctx.L, ctx.data, ctx.catalog
    header = [
        L._("ISO code"),
        L._("Member"),
        *ctx.group_headers(),
        L._("State"),
        L._("NCPs"),
        L._("Submitted at (UTC)"),
        L._("Peer-reviewed (review closed)"),
        L._("KPIs done"),
        L._("KPIs left blank"),
        L._("KPIs open"),
        L._("Share of KPIs left blank"),
    ]
    rows: list[list[Cell]] = []
    for member in ctx.members:
        counts = ctx.snapshot(member).counts()
        submission = data.submissions.get(member.iso2)
        rows.append(
            [
                member.iso2,
                ctx.name(member),
                *ctx.groups(member),
                L._(MEMBER_STATE_NAMES[member_state(data, member.iso2)]),
                data.ncps.get(member.iso2, 0),
                utc_time(submission.submitted_at) if submission and submission.locked else None,
                L._("Yes") if member.iso2 in data.reviewed else None,
                counts[Status.DONE],
                counts[Status.BLANK],
                counts[Status.OPEN] + counts[Status.IN_PROGRESS],
                counts[Status.BLANK] / len(catalog.kpis),
            ]
        )
    return Sheet(L._("Members"), header, rows, {len(header) - 1: PERCENT})


@functools.cache
def _group_text(L: Lang, grouping: Grouping, code: str) -> str:
    return L._(group_label(grouping, code))


def _data_points(ctx: _Context) -> Sheet:
    L, data, catalog = ctx.L, ctx.data, ctx.catalog
    header = [
        L._("ISO code"),
        L._("Member"),
        L._("WCO region"),
        L._("KPI"),
        L._("KPI name"),
        L._("Data point"),
        L._("Label"),
        L._("Value"),
        L._("Unit"),
        L._("KPI confirmed"),
        L._("Flag"),
        L._("By"),
        L._("At (UTC)"),
        L._("Source"),
    ]
    kpis_of = _kpis_of_data_points(catalog)
    position = {dp_id: i for i, dp_id in enumerate(kpis_of)}
    yes, no = L._("Yes"), L._("No, not confirmed")
    per_point: dict[str, tuple[DataPoint | None, list[Kpi], str, str, str | None, Cell]] = {}
    rows: list[list[Cell]] = []
    for member in ctx.members:
        mine = data.answers.get(member.iso2, {})
        states = data.states.get(member.iso2, {})
        name, region = ctx.name(member), ctx.group(member, Grouping.REGION)
        for dp_id in sorted(mine, key=lambda i: (position.get(i, len(position)), i)):
            known = per_point.get(dp_id)
            if known is None:  # what does not depend on the Member, once per data point
                dp, kpis = catalog.data_points.get(dp_id), kpis_of.get(dp_id, [])
                known = per_point[dp_id] = (
                    dp,
                    kpis,
                    ", ".join(k.id for k in kpis),
                    "; ".join(k.name.get(L.code) for k in kpis),
                    dp.label.get(L.code) if dp else None,
                    data_point_unit(dp, L),
                )
            dp, kpis, kpi_ids, kpi_names, label, unit = known
            answer = mine[dp_id]
            confirmed = any((s := states.get(k.id)) and s.status is KpiState.CONFIRMED for k in kpis)
            rows.append(
                [
                    member.iso2,
                    name,
                    region,
                    kpi_ids,
                    kpi_names,
                    dp_id,
                    label,
                    _cell_value(dp, answer.value, L),
                    unit,
                    yes if confirmed else no,
                    ctx.flag_text(ctx.flags_by_point.get((member.iso2, dp_id), ())),
                    ctx.person(answer.by_user),
                    utc_time(answer.at),
                    answer.source,
                ]
            )
    return Sheet(L._("Data points"), header, rows)


def _kpi_results(ctx: _Context) -> Sheet:
    L, catalog = ctx.L, ctx.catalog
    header = [
        L._("ISO code"),
        L._("Member"),
        *ctx.group_headers(),
        L._("Dimension"),
        L._("KPI"),
        L._("KPI name"),
        L._("Disclosure"),
        L._("Status"),
        L._("Result"),
        L._("Unit"),
        L._("Note"),
        L._("Flag"),
    ]
    rows: list[list[Cell]] = []
    for member in ctx.members:
        snap = ctx.snapshot(member)
        values = snap.values
        for kpi in catalog.kpis:
            status = snap.status(kpi)
            number, note = _result(catalog, kpi, values, snap.blank_reason(kpi), status, L)
            rows.append(
                [
                    member.iso2,
                    ctx.name(member),
                    *ctx.groups(member),
                    catalog.dimension_by_id[kpi.dimension].name.get(L.code),
                    kpi.id,
                    kpi.name.get(L.code),
                    L._(LEVEL_NAMES[kpi_level(kpi)]),
                    L._(KPI_STATUS_NAMES[status]),
                    number,
                    L._(UNIT_NAMES[kpi.result.unit]),
                    note,
                    ctx.flag_text(ctx.flags_by_kpi.get((member.iso2, kpi.id), ())),
                ]
            )
    return Sheet(L._("KPI results"), header, rows)


def _result(
    catalog: Catalog, kpi: Kpi, values: Mapping[str, str], blank: str | None, status: Status, L: Lang
) -> tuple[float | None, str | None]:
    """The result to show (confirmed KPIs only) and a note on why there is none."""
    try:
        result = compute(catalog, kpi, values, blank)
    except (KeyError, ArithmeticError):  # a stored value the catalog no longer accepts
        return None, L._("a stored figure is no longer valid")
    if isinstance(result, NotComputable):
        return None, L._(NOT_COMPUTABLE_NAMES[result.reason])
    if status is not Status.DONE:
        return None, L._("not confirmed by the NCP")
    assert isinstance(result, Computed)
    return float(result.display_value), None


def _blank_reasons(ctx: _Context) -> Sheet:
    L, data, catalog = ctx.L, ctx.data, ctx.catalog
    header = [
        L._("ISO code"),
        L._("Member"),
        L._("WCO region"),
        L._("KPI"),
        L._("KPI name"),
        L._("Reason"),
        L._("Comment"),
        L._("At (UTC)"),
    ]
    texts = {r.code: r.text.get(L.code) for r in catalog.blank_reasons}
    rows: list[list[Cell]] = []
    for member in ctx.members:
        states = data.states.get(member.iso2, {})
        for kpi in catalog.kpis:
            state = states.get(kpi.id)
            if state is not None and state.status is KpiState.BLANK:
                rows.append(
                    [
                        member.iso2,
                        ctx.name(member),
                        ctx.group(member, Grouping.REGION),
                        kpi.id,
                        kpi.name.get(L.code),
                        texts.get(state.reason or "", state.reason),
                        state.comment,
                        utc_time(state.at),
                    ]
                )
    return Sheet(L._("Blank reasons"), header, rows)


def _flags(ctx: _Context) -> Sheet:
    L, catalog = ctx.L, ctx.catalog
    header = [
        L._("ID"),
        L._("ISO code"),
        L._("Member"),
        L._("KPI"),
        L._("KPI name"),
        L._("Data point"),
        L._("Kind"),
        L._("Detail"),
        L._("State"),
        L._("Note"),
        L._("The NCP's justification"),
    ]
    rows: list[list[Cell]] = []
    for flag in ctx.data.flags:
        dp = catalog.data_points.get(flag.data_point)
        rows.append(
            [
                flag.id,
                flag.member,
                ctx.name(ctx.member(flag.member)),
                flag.kpi,
                ctx.kpi_name(flag.kpi),
                dp.label.get(L.code) if dp else flag.data_point or None,
                ctx.kinds(flag),
                describe_flag(flag, catalog, L),
                state_label(flag.state, L),
                flag.note or None,
                flag.justification or None,
            ]
        )
    return Sheet(L._("Flags"), header, rows)


@dataclass(frozen=True)
class Question:
    """A thread on a figure with its messages and its latest change request, for the export."""

    thread: Thread
    messages: Sequence[ThreadMessage]
    change: ChangeRequest | None = None


THREAD_STATE_NAMES = {
    ThreadState.OPEN: N_("waiting for the NCP"),
    ThreadState.ANSWERED: N_("answered"),
    ThreadState.RESOLVED: N_("resolved"),
    ThreadState.REOPENED: N_("reopened"),
}
MESSAGE_KIND_NAMES = {
    MessageKind.QUESTION: N_("question"),
    MessageKind.REPLY: N_("reply"),
    MessageKind.FIGURE: N_("figure changed"),
    MessageKind.CORRECT: N_("the figure is correct"),
    MessageKind.RESOLVED: N_("resolved"),
    MessageKind.REOPENED: N_("reopened"),
    MessageKind.CHANGE_REQUESTED: N_("asks to change the KPI"),
    MessageKind.CHANGE_APPROVED: N_("change approved"),
    MessageKind.CHANGE_DECLINED: N_("change declined"),
    MessageKind.AMENDED: N_("KPI confirmed again"),
}
ROLE_NAMES = {
    AuthorRole.SECRETARIAT: N_("WCO Secretariat"),
    AuthorRole.REVIEWER: N_("Peer reviewer"),
    AuthorRole.NCP: N_("NCP"),
    AuthorRole.BOT: N_("pmm-bot"),
}
CHANGE_STATE_NAMES = {
    ChangeState.REQUESTED: N_("requested"),
    ChangeState.APPROVED: N_("approved, to confirm again"),
    ChangeState.DECLINED: N_("declined"),
    ChangeState.AMENDED: N_("amended"),
}
DIALOGUE_LIMIT = 32_000  # characters of a cell (Excel holds 32,767)


def _questions(ctx: _Context, questions: Sequence[Question]) -> Sheet:
    """One row per thread: the figure then and now, who asked and when, the dialogue."""
    L, catalog = ctx.L, ctx.catalog
    header = [
        L._("ID"),
        L._("ISO code"),
        L._("Member"),
        L._("KPI"),
        L._("KPI name"),
        L._("Data point"),
        L._("Figure when asked"),
        L._("Figure now"),
        L._("State"),
        L._("Flag"),
        L._("Change of a submitted KPI"),
        L._("Asked by"),
        L._("Asked at (UTC)"),
        L._("Last message at (UTC)"),
        L._("Messages"),
        L._("Dialogue"),
    ]
    rows: list[list[Cell]] = []
    for q in questions:
        t = q.thread
        dp = catalog.data_points.get(t.data_point) if t.data_point else None
        now = _figure_now(ctx, t)
        rows.append(
            [
                t.id,
                t.member,
                ctx.name(ctx.member(t.member)),
                t.kpi,
                ctx.kpi_name(t.kpi),
                dp.label.get(L.code) if dp else L._("the KPI as a whole"),
                _figure_cell(dp, t.figure, L),
                _figure_cell(dp, now, L),
                L._(THREAD_STATE_NAMES[t.state]),
                t.flag_id,
                L._(CHANGE_STATE_NAMES[q.change.state]) if q.change else None,
                ctx.person(t.opened_by),
                utc_time(t.created_at),
                utc_time(q.messages[-1].at) if q.messages else None,
                len(q.messages),
                _dialogue(ctx, q.messages)[:DIALOGUE_LIMIT],
            ]
        )
    return Sheet(L._("Questions"), header, rows)


@dataclass(frozen=True)
class ReviewRow:
    """One KPI of one Member's peer review, for the export."""

    review: PeerReview
    kpi: str
    state: KpiReview
    issues: int
    comments: int


def _peer_reviews(ctx: _Context, rows: Sequence[ReviewRow]) -> Sheet:
    L = ctx.L
    header = [L._("ISO code"), L._("Member"), L._("Peer review"), L._("KPI"), L._("KPI name"), L._("State")]
    header += [L._("Issues"), L._("Comments")]
    out: list[list[Cell]] = [
        [
            r.review.member,
            ctx.name(ctx.member(r.review.member)),
            L._(REVIEW_STATE_NAMES[r.review.state]),
            r.kpi,
            ctx.kpi_name(r.kpi),
            L._(KPI_REVIEW_NAMES[r.state]),
            r.issues,
            r.comments,
        ]
        for r in rows
    ]
    return Sheet(L._("Peer review"), header, out)


def _figure_now(ctx: _Context, thread: Thread) -> str:
    answers = ctx.data.answers.get(thread.member, {})
    if thread.data_point:
        answer = answers.get(thread.data_point)
        return answer.value if answer else ""
    kpi = ctx.catalog.kpi_by_id.get(thread.kpi)
    if kpi is None:
        return ""
    try:
        result = compute(ctx.catalog, kpi, {dp: a.value for dp, a in answers.items()})
    except (KeyError, ArithmeticError, ValueError):
        return ""
    return str(result.display_value) if isinstance(result, Computed) else ""


def _figure_cell(dp: DataPoint | None, value: str, L: Lang) -> Cell:
    if not value:
        return None
    if dp is not None:
        return _cell_value(dp, value, L)
    try:
        return float(Decimal(value))
    except InvalidOperation:
        return value


def _dialogue(ctx: _Context, messages: Sequence[ThreadMessage]) -> str:
    """ "2026-01-15 09:00 · WCO Secretariat (Ana) · question: Does…" one line per message."""
    L, catalog = ctx.L, ctx.catalog
    lines = []
    for m in messages:
        who = L._(ROLE_NAMES[m.role])
        name = ctx.people.get(m.author or 0)
        if name:
            who += f" ({name})"
        what = L._(MESSAGE_KIND_NAMES[m.kind])
        if m.kind is MessageKind.FIGURE:
            dp = catalog.data_points.get(m.data_point)
            label = dp.label.get(L.code) if dp else m.data_point
            old = L.value(dp, m.old_value) if dp and m.old_value else (m.old_value or "—")
            new = L.value(dp, m.new_value) if dp and m.new_value else (m.new_value or "—")
            what += f": {label}: {old} → {new}"
        elif m.text:
            what += f": {m.text}"
        lines.append(f"{m.at[:16].replace('T', ' ')} · {who} · {what}")
    return "\n".join(lines)


def _year_on_year(ctx: _Context, previous: CycleData) -> Sheet:
    L, data, catalog = ctx.L, ctx.data, ctx.catalog
    header = [
        L._("ISO code"),
        L._("Member"),
        L._("WCO region"),
        L._("KPI"),
        L._("KPI name"),
        L._("Disclosure"),
        L._("Unit"),
        L._("Result {year}").format(year=previous.cycle.year),
        L._("Result {year}").format(year=data.cycle.year),
        L._("Change"),
    ]
    rows: list[list[Cell]] = []
    for item in year_on_year(catalog, data, previous):
        decimals = item.kpi.result.decimals
        for change in item.changes:
            member = ctx.member(change.member)
            before, now = _rounded(change.previous, decimals), _rounded(change.current, decimals)
            rows.append(
                [
                    member.iso2,
                    ctx.name(member),
                    ctx.group(member, Grouping.REGION),
                    item.kpi.id,
                    item.kpi.name.get(L.code),
                    L._(LEVEL_NAMES[item.level]),
                    L._(UNIT_NAMES[item.kpi.result.unit]),
                    before,
                    now,
                    round(now - before, decimals),
                ]
            )
    return Sheet(L._("Year on year"), header, rows)


def _audit(ctx: _Context, audit: Sequence[AuditRow]) -> Sheet:
    L = ctx.L
    header = [
        L._("At (UTC)"),
        L._("User"),
        L._("ISO code"),
        L._("Member"),
        L._("Action"),
        L._("Subject"),
        L._("Old value"),
        L._("New value"),
    ]
    words = AuditWords(ctx.catalog, L, ctx.data.members, ctx.person)
    rows: list[list[Cell]] = [
        [
            utc_time(r.at),
            ctx.person(r.user_id),
            r.member,
            ctx.name(ctx.member(r.member)) if r.member else None,
            words.action(r),
            words.subject(r),
            words.value(r, r.old_value),
            words.value(r, r.new_value),
        ]
        for r in audit
    ]
    return Sheet(L._("Audit log"), header, rows)


# ---- helpers -------------------------------------------------------------------------------


def _item(label: str, value: Cell) -> list[Cell]:
    return [label, value]


def _rounded(value: Decimal, decimals: int) -> float:
    return float(round(value, decimals))


def _kpis_of_data_points(catalog: Catalog) -> dict[str, list[Kpi]]:
    """Data point id → the KPIs asking it (main figures or breakdowns), in catalog order."""
    out: dict[str, list[Kpi]] = {}
    for kpi in catalog.kpis:
        for dp in (*catalog.main_data_points(kpi), *catalog.breakdown_data_points(kpi)):
            kpis = out.setdefault(dp.id, [])
            if kpi not in kpis:
                kpis.append(kpi)
    return out


def _cell_value(dp: DataPoint | None, value: str, L: Lang) -> Cell:
    """A figure as a number (an integer for a count); yes/no and choices as their labels."""
    if dp is None:
        return value
    if not dp.is_numeric:
        return L.value(dp, value)
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    return int(number) if dp.type is DataType.COUNT and number == number.to_integral_value() else float(number)
