"""Heavy work, as top-level functions a worker process can run: each opens the database
read-only, builds what was asked and returns it (bytes, or what to write).

The bot runs these through ``bot.worker`` so that its event loop keeps answering NCPs;
the CLI calls them directly. The heavy libraries (openpyxl, matplotlib) are imported inside
the functions: the bot imports this module at start-up, the worker does the rest.

Each job names its :class:`Lane` (``@runs_in``): the worker gives every lane its own
process and limits, so that a template never waits behind a file or an export."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pmm_core.catalog.loader import load_catalog
from pmm_core.domain.analytics import Friction, MemberStatus, NcpCoverage, friction, member_statuses, ncp_coverage
from pmm_core.domain.checks import current_figure, find_issues
from pmm_core.domain.flag_lifecycle import reconcile
from pmm_core.domain.records import CycleData, MemberState
from pmm_core.outputs import utf16
from pmm_core.outputs.i18n import Lang, lang
from pmm_core.storage.store import Store

if TYPE_CHECKING:
    from pmm_core.domain.flag_lifecycle import Reconciliation
    from pmm_core.outputs.export import Question, ReviewRow
    from pmm_core.publishing import Built, GateItem

F = TypeVar("F", bound=Callable[..., Any])
READ_SECONDS = 60.0  # the spreadsheet reader's own time limit for one file (the worker's is longer)


class Lane(StrEnum):
    """Which worker process runs a job."""

    QUICK = "quick"  # someone waits: a template, a receipt, /status, /friction (a second or less)
    FILES = "files"  # a file someone sent: untrusted, bounded by the reader and by the OS
    REPORTS = "reports"  # the Secretariat's exports, reports, statistics, checks: long


class JobFailed(RuntimeError):
    """The worker stopped a job: past its time ("time") or CPU ("cpu") limit, out of memory
    ("memory"), or its process died ("died")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def runs_in(lane: Lane) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        fn.lane = lane  # type: ignore[attr-defined]
        return fn

    return mark


def lane_of(fn: Callable[..., Any]) -> Lane:
    """The job's lane; a function without one runs with the reports."""
    return Lane(getattr(fn, "lane", Lane.REPORTS))


def check_cycle(db_path: Path, cycle_id: int) -> Reconciliation:
    """Runs the data checks on a cycle (against the previous one) and reconciles them with
    the stored flags: what to create, update and close."""
    store = Store.open_readonly(db_path)
    try:
        catalog = load_catalog()
        data = store.cycle_data(cycle_id)
        before = store.previous_cycle(data.cycle)
        previous = store.cycle_data(before.id) if before is not None else None
        findings = find_issues(catalog, data, previous)
        return reconcile(data.flags, findings, lambda m, f: current_figure(catalog, data, m, f))
    finally:
        store.close()


# ---- spreadsheets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """What Apply will write from a file (kept with the upload until Apply or Cancel)."""

    writes: dict[str, str]
    blanks: tuple[tuple[str, str, str], ...]  # (KPI, reason, comment)
    reopened: tuple[str, ...]
    revision: str  # of the Member's data the file was compared with (MemberData.revision)

    def to_json(self) -> str:
        return json.dumps(
            {"writes": self.writes, "blanks": self.blanks, "reopened": self.reopened, "revision": self.revision}
        )

    @classmethod
    def from_json(cls, text: str) -> Pending:
        raw = json.loads(text)
        blanks = tuple((str(k), str(r), str(c)) for k, r, c in raw["blanks"])
        return cls(dict(raw["writes"]), blanks, tuple(raw["reopened"]), str(raw.get("revision", "")))


@dataclass(frozen=True)
class UploadRead:
    text: str  # the summary (or why the file is refused), plain text in the reader's language
    pending: Pending | None  # None: nothing to apply


@runs_in(Lane.QUICK)
def template_file(db_path: Path, cycle_id: int, member: str, language: str) -> bytes:
    """The spreadsheet to fill offline, for the Member and the cycle, in `language`."""
    from pmm_core.outputs.spreadsheet import build_template

    store = Store.open_readonly(db_path)
    try:
        cycle, found = store.cycle(cycle_id), store.member(member)
        assert cycle is not None and found is not None
        data = store.member_data(cycle_id, member)
        values = {dp: a.value for dp, a in data.answers.items()}
        last = store.last_cycle(cycle, member)
        return build_template(load_catalog(), found, cycle, values, data.states, lang(language), last)
    finally:
        store.close()


@runs_in(Lane.FILES)
def read_file(db_path: Path, cycle_id: int, member: str, data: bytes, language: str) -> UploadRead:
    """A file sent in chat, read as the Member's figures for the cycle: its summary, and
    what Apply would write (nothing is written here)."""
    from pmm_core.outputs.spreadsheet import BadFile, read_upload, render_bad_file, render_summary

    store = Store.open_readonly(db_path)
    L = lang(language)
    catalog = load_catalog()
    try:
        cycle = store.cycle(cycle_id)
        assert cycle is not None
        current = store.member_data(cycle_id, member)
        try:
            summary = read_upload(
                catalog,
                data,
                member=member,
                cycle_year=cycle.year,
                current_values={dp: a.value for dp, a in current.answers.items()},
                current_states=current.states,
                lang=language,
                seconds=READ_SECONDS,
            )
        except BadFile as bad:
            return UploadRead(render_bad_file(bad, L), None)
        pending = None
        if summary.has_changes:
            blanks = tuple((b.kpi, b.reason, b.comment or "") for b in summary.blanks)
            pending = Pending(summary.writes, blanks, tuple(summary.reopened), current.revision())
        return UploadRead(render_summary(summary, catalog, L), pending)
    finally:
        store.close()


def too_heavy(L: Lang) -> str:
    """Why a file the worker had to stop is refused, in L's language."""
    from pmm_core.outputs.spreadsheet import BadFile, FileProblem, render_bad_file

    return render_bad_file(BadFile(FileProblem.TOO_HEAVY), L)


@runs_in(Lane.QUICK)
def receipt_file(db_path: Path, cycle_id: int, member: str, language: str) -> tuple[bytes, str]:
    """The read-only receipt of a submission, and the digest of the submitted data."""
    from pmm_core.outputs.spreadsheet import build_receipt, submission_digest

    store = Store.open_readonly(db_path)
    try:
        cycle, found = store.cycle(cycle_id), store.member(member)
        data = store.member_data(cycle_id, member)
        assert cycle is not None and found is not None and data.submission is not None
        values = {dp: a.value for dp, a in data.answers.items()}
        submitted = data.submission.submitted_at or ""
        workbook = build_receipt(load_catalog(), found, cycle, values, data.states, submitted, lang(language))
        return workbook, submission_digest(values, data.states)
    finally:
        store.close()


# ---- the Secretariat's reports --------------------------------------------------------------


@dataclass(frozen=True)
class Files:
    """What a Secretariat command sends: a text (HTML-safe) and files (name, bytes)."""

    text: str
    files: tuple[tuple[str, bytes], ...] = ()
    captions: dict[str, str] = field(default_factory=dict)  # file name → caption (HTML-safe, ≤ 1,024 characters)


@dataclass(frozen=True)
class CycleStatus:
    """/status: where each Member stands, and which have no NCP."""

    rows: list[MemberStatus]
    coverage: NcpCoverage
    amended: frozenset[str]  # Members whose submitted answers were amended since


@runs_in(Lane.QUICK)  # a Secretariat user waits for it: never behind an export
def member_status(
    db_path: Path, cycle_id: int, region: str | None, state: MemberState | None, now: datetime
) -> CycleStatus:
    """Every participating Member's progress (filtered), and the Members without an NCP:
    it reads the whole cycle, so it runs in the worker."""
    store = Store.open_readonly(db_path, clock=lambda: now)
    try:
        data = store.cycle_data(cycle_id)
        last_seen: dict[str, str] = {}
        for user in store.users():
            if user.member and user.last_seen > last_seen.get(user.member, ""):
                last_seen[user.member] = user.last_seen
        rows = member_statuses(load_catalog(), data, region=region, state=state, last_seen=last_seen)
        amended = frozenset(m for m, sub in data.submissions.items() if sub.locked and sub.amended_at)
        return CycleStatus(rows, ncp_coverage(data, store.open_invites()), amended)
    finally:
        store.close()


@runs_in(Lane.QUICK)
def friction_rows(db_path: Path, cycle_id: int) -> list[Friction]:
    """/friction: the KPIs NCPs struggle with, highest first (reads the cycle's audit log)."""
    store = Store.open_readonly(db_path)
    try:
        data = store.cycle_data(cycle_id)
        return friction(load_catalog(), data, store.event_counts("explain"), store.audit_log(cycle_id))
    finally:
        store.close()


def _cycle_and_previous(store: Store, cycle_id: int) -> tuple[CycleData, CycleData | None]:
    data = store.cycle_data(cycle_id)
    before = store.previous_cycle(data.cycle)
    return data, (store.cycle_data(before.id) if before is not None else None)


def _questions(store: Store, cycle_id: int) -> list[Question]:
    """The cycle's questions on figures with their messages, newest first (export)."""
    from pmm_core.outputs.export import Question
    from pmm_core.storage.thread_store import ThreadStore

    threads = ThreadStore(store)
    messages = threads.all_messages(cycle_id)
    changes = {r.thread_id: r for r in threads.change_requests(cycle_id)}
    return [Question(t, messages.get(t.id, []), changes.get(t.id)) for t in threads.threads(cycle_id)]


def _peer_reviews(store: Store, cycle_id: int) -> list[ReviewRow]:
    from pmm_core.outputs.export import ReviewRow
    from pmm_core.storage.thread_store import ThreadStore

    kpis = [k.id for k in load_catalog().kpis]
    out = []
    for review in store.peer_reviews(cycle_id):
        states = store.member_review_states(review.id, kpis)
        threads = ThreadStore(store).threads(cycle_id, member=review.member, review_id=review.id)
        comments = store.review_comments(review.id)
        for kpi in kpis:
            issues = sum(1 for t in threads if t.kpi == kpi)
            noted = sum(1 for c in comments if c.kpi == kpi)
            out.append(ReviewRow(review, kpi, states[kpi], issues, noted))
    return out


def export_xlsx(db_path: Path, cycle_id: int, language: str, now: datetime) -> bytes:
    """The cycle's workbook for the Secretariat (labels in `language`, year on year, audit)."""
    from pmm_core.outputs.export import build_workbook

    store = Store.open_readonly(db_path)
    try:
        data, previous = _cycle_and_previous(store, cycle_id)
        people = {u.telegram_id: u.name for u in store.users()}
        label = lang(language)
        for user in store.contributor_ids():  # what a contributor gave says so (NCPs are named alone)
            people[user] = label._("{name} (contributor)").format(name=people.get(user, user))
        return build_workbook(
            load_catalog(),
            data,
            lang(language),
            previous=previous,
            audit=store.audit_log(cycle_id),
            people=people,
            exported_at=now,
            questions=_questions(store, cycle_id),
            peer_reviews=_peer_reviews(store, cycle_id),
        )
    finally:
        store.close()


def export_csv(db_path: Path, cycle_id: int, language: str) -> bytes:
    """The cycle's figures as CSV for the user's Excel (";" in French and Spanish)."""
    from pmm_core.outputs.export import build_csv

    store = Store.open_readonly(db_path)
    try:
        people = {u.telegram_id: u.name for u in store.users()}
        return build_csv(load_catalog(), store.cycle_data(cycle_id), lang(language), people)
    finally:
        store.close()


def report_files(
    db_path: Path, cycle_id: int, language: str, margin: float, started: bool, today: date, reviewed_apart: bool = False
) -> Files:
    """The report on the cycle: report.html (self-contained) and report.xlsx; with
    `reviewed_apart`, each KPI's result over the peer-reviewed Members too."""
    from pmm_core.domain.analysis import Basis, Options
    from pmm_core.outputs.report import ReportOptions, build_report

    store = Store.open_readonly(db_path)
    try:
        data, previous = _cycle_and_previous(store, cycle_id)
        options = ReportOptions(
            Options(basis=Basis.STARTED if started else Basis.SUBMITTED, margin=margin, reviewed_apart=reviewed_apart),
            as_of=today,
        )
        files = build_report(load_catalog(), data, previous, lang(language), options)
        year = data.cycle.year
        return Files("", ((f"pmm-{year}-report.html", files.html), (f"pmm-{year}-report.xlsx", files.xlsx)))
    finally:
        store.close()


def stats(db_path: Path, cycle_id: int, language: str, group: tuple[str, str] | None) -> Files:
    """Response and blank rates of the cycle (over the Members that submitted, or of one
    group), by KPI and by dimension, the most and least answered KPIs, with the charts."""
    from pmm_core.catalog.members.groupings import GROUPING_NAMES, Grouping, group_label
    from pmm_core.domain.analysis import (
        Basis,
        blanks_by_region,
        dimension_rates,
        participants,
        required_responses,
        response_rates,
    )
    from pmm_core.domain.analytics import reasons_by_region
    from pmm_core.outputs import charts
    from pmm_core.outputs.labels import count_of, labelled

    store = Store.open_readonly(db_path)
    L = lang(language)
    catalog = load_catalog()
    try:
        data = store.cycle_data(cycle_id)
        year = data.cycle.year
        chosen = (Grouping(group[0]), group[1]) if group else None
        rows = response_rates(catalog, data, Basis.SUBMITTED, chosen)
        submitted = rows[0].members if rows else 0  # the Members that submitted (of the group)
        if chosen is None:
            heading = L.ngettext(
                "PMM {year}: response rates over {n} Member that submitted",
                "PMM {year}: response rates over {n} Members that submitted",
                submitted,
            ).format(year=year, n=submitted)
            scope = L.ngettext(
                "PMM {year} · {n} Member that submitted", "PMM {year} · {n} Members that submitted", submitted
            ).format(year=year, n=submitted)
        else:
            names = {"group": L._(group_label(*chosen)), "grouping": L._(GROUPING_NAMES[chosen[0]])}
            heading = L.ngettext(
                "PMM {year}, {group} ({grouping}): response rates over {n} Member that submitted",
                "PMM {year}, {group} ({grouping}): response rates over {n} Members that submitted",
                submitted,
            ).format(year=year, n=submitted, **names)
            scope = L.ngettext(
                "PMM {year} · {group} ({grouping}) · {n} Member that submitted",
                "PMM {year} · {group} ({grouping}) · {n} Members that submitted",
                submitted,
            ).format(year=year, n=submitted, **names)
        lines = ["<b>" + escape(heading) + "</b>"]
        for rate in dimension_rates(catalog, data, Basis.SUBMITTED, chosen[0] if chosen else None):
            if chosen is None or rate.code == chosen[1]:
                name = catalog.dimension_by_id[rate.dimension].short.get(L.code)
                lines.append(labelled(L, escape(name, quote=False), count_of(L, rate.answered, rate.possible)))
        lines.append("")
        shorts = {r.code: r.short.get(L.code) for r in catalog.blank_reasons}
        for row in rows:
            reasons = " · ".join(
                labelled(L, escape(shorts.get(code) or L._("reason not given"), quote=False), L.number(n))
                for code, n in row.reasons.items()
                if n
            )
            name = catalog.kpi(row.kpi_id).name.get(L.code)
            # "TF-02 Variation in the number of AEOs — answered …": a dash, since the French
            # "répondu : …" has a colon of its own.
            lines.append(
                f"<b>{row.kpi_id}</b> {escape(name, quote=False)} — "
                + L._("answered {answered}, blank {blank}").format(
                    answered=count_of(L, row.answered, row.members), blank=L.number(row.blank)
                )
                + (f" ({reasons})" if reasons else "")
            )
        charts_made: list[tuple[str, str, bytes]] = []  # (file name, title, PNG)
        if submitted:
            charts_made.append(
                (
                    "responses.png",
                    L._("Responses per KPI, by dimension"),
                    charts.responses_chart(catalog, rows, year, L, required_responses(submitted)),
                )
            )
            if any(row.blank for row in rows):  # no chart of "the 0 KPIs left blank most often"
                charts_made.append(
                    (
                        "blank-reasons.png",
                        L._("Reasons for the KPIs left blank most often"),
                        charts.blank_reasons_chart(catalog, rows, year, L),
                    )
                )
            if chosen is None:
                members = participants(data, Basis.SUBMITTED)
                by_region = reasons_by_region(catalog, members, data.states)
                charts_made.append(
                    (
                        "blank-reasons-by-region.png",
                        L._("Reasons for blank answers by WCO region"),
                        charts.regions_chart(catalog, by_region, submitted, year, L),
                    )
                )
                charts_made.append(
                    (
                        "blanks-per-member-by-region.png",
                        L._("Blank answers by WCO region"),
                        charts.region_blanks_chart(blanks_by_region(catalog, data), year, L),
                    )
                )
        return Files(
            "\n".join(lines),
            tuple((name, png) for name, _, png in charts_made),
            {name: escape(utf16.cut(f"{title}\n{scope}", 1024)) for name, title, _ in charts_made},
        )
    finally:
        store.close()


# ---- publications (pmm_core.publishing) ----------------------------------------------------


def publication_gate(db_path: Path, cycle_id: int) -> list[GateItem]:
    """The figures under review in a cycle, to list before publishing."""
    from pmm_core.publishing.gate import gate_items

    store = Store.open_readonly(db_path)
    try:
        return gate_items(load_catalog(), store.cycle_data(cycle_id))
    finally:
        store.close()


def publication_build(
    db_path: Path,
    cycle_id: int,
    audience: str,
    stage: str,
    decision: str,
    today: date,
    started: bool,
    languages: tuple[str, ...] = ("en", "fr", "es"),
    reviewed_apart: bool = False,
) -> Built:
    """A publication built against what is stored (saved by the caller, in one transaction)."""
    from pmm_core.domain.analysis import Basis
    from pmm_core.publishing import Decision, PubAudience, Stage, build

    store = Store.open_readonly(db_path)
    try:
        return build(
            store,
            load_catalog(),
            cycle_id,
            PubAudience(audience),
            Stage(stage),
            Decision(decision),
            today,
            Basis.STARTED if started else Basis.SUBMITTED,
            languages,
            reviewed_apart,
        )
    finally:
        store.close()


def member_report(db_path: Path, member: str, language: str, publication: int | None) -> Files:
    """The report for a Member's administration (HTML and XLSX) from a publication for all NCPs."""
    from pmm_core.publishing.benchmark import benchmark
    from pmm_core.publishing.member_report import build_member_report

    store = Store.open_readonly(db_path)
    try:
        catalog = load_catalog()
        bench = benchmark(store, catalog, member, publication=publication)
        if bench is None:
            return Files("")
        html, xlsx = build_member_report(catalog, bench, lang(language))
        stem = f"pmm-{bench.year}-{member}-benchmarks-{language}"
        return Files("", ((f"{stem}.html", html), (f"{stem}.xlsx", xlsx)))
    finally:
        store.close()
