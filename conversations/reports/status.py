"""/status a page at a time: every Member by name, under its WCO region, with where it
stands; the Members without an NCP, by name, after the last Member.

A page holds at most :data:`PAGE_ROWS` Members, so that even the longest names in French
stay well under Telegram's 4,096 UTF-16 code units (and ``send`` splits a page that would
not). Pages are navigation only: the buttons carry the year, the filters and the page
number, change nothing and are not bound to a screen (``reports/buttons.py``); a page past the end shows the last.
"""

from __future__ import annotations

from datetime import date

from conversations.kit.buttons import Button
from conversations.kit.dispatch import Invalid
from conversations.kit.send import Row, send
from conversations.kit.session import Session
from conversations.kit.text import esc
from conversations.peer_review.flow import status_lines as peer_review_status
from conversations.questions.listing import status_line
from conversations.reports.buttons import StatusPage
from conversations.staff.tools import region_name
from pmm_core import jobs
from pmm_core.catalog.members import REGIONS, Member
from pmm_core.domain.analytics import MemberStatus, region_order
from pmm_core.domain.records import Cycle, MemberState
from pmm_core.domain.search import fold
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import MEMBER_STATE_NAMES, labelled

PAGE_ROWS = 40
ANY = "-"
ICONS = {MemberState.SUBMITTED: "📨", MemberState.IN_PROGRESS: "✏️", MemberState.NOT_STARTED: "▫️"}


def _by_name(L: Lang, rows: list[MemberStatus]) -> list[MemberStatus]:
    """By WCO region (the official order), then by name in the reader's language."""
    return sorted(rows, key=lambda r: (region_order(r.member.region), fold(r.member.name(L.code))))


def _names(L: Lang, members: list[Member]) -> str:
    return ", ".join(sorted((esc(m.name(L.code)) for m in members), key=fold)) or "—"


def _row(L: Lang, row: MemberStatus, amended: bool) -> str:
    last = L.date(date.fromisoformat(row.last_activity[:10])) if row.last_activity else "—"
    note = " (" + esc(L._("a KPI amended since")) + ")" if amended else ""
    return (
        f"{ICONS[row.state]} {esc(row.member.name(L.code))} — {esc(L._(MEMBER_STATE_NAMES[row.state]))}{note} · "
        + L._("{done} done, {blank} blank, {open} open").format(done=row.done, blank=row.blank, open=row.open)
        + f" · {esc(last)}"
    )


async def show_status(s: Session, cycle: Cycle, region: str | None, state: MemberState | None, page: int) -> None:
    """Sends one page of the cycle's status (the counts on every page, the Members without
    an NCP after the last Member)."""
    L = s.lang
    # reads the whole cycle: in the worker, never on the event loop
    found = await s.bot.worker.run(jobs.member_status, s.store.path, cycle.id, region, state, s.store.clock())
    rows, coverage = _by_name(L, found.rows), found.coverage
    counts = {st: sum(1 for r in rows if r.state is st) for st in MemberState}
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(max(page, 0), pages - 1)
    lines = [
        "<b>"
        + L._("PMM {year}: {submitted} submitted, {progress} in progress, {idle} not started").format(
            year=cycle.year,
            submitted=counts[MemberState.SUBMITTED],
            progress=counts[MemberState.IN_PROGRESS],
            idle=counts[MemberState.NOT_STARTED],
        )
        + "</b>",
        L.ngettext(
            "{none} Member has no NCP: {invited} invited, {not_invited} not invited.",
            "{none} Members have no NCP: {invited} invited, {not_invited} not invited.",
            len(coverage.without_ncp),
        ).format(none=len(coverage.without_ncp), invited=len(coverage.invited), not_invited=len(coverage.not_invited)),
    ]
    if questions := status_line(s, cycle):
        lines.append(esc(questions))
    lines += peer_review_status(s, cycle.id)
    if pages > 1:
        lines.append(L._("Page {page} of {pages}").format(page=page + 1, pages=pages))
    current_region = None
    for row in rows[page * PAGE_ROWS : (page + 1) * PAGE_ROWS]:
        if row.member.region != current_region:
            current_region = row.member.region
            lines.append("\n<i>" + esc(region_name(L, current_region)) + "</i>")
        lines.append(_row(L, row, row.member.iso2 in found.amended))
    shown = [m for m in coverage.without_ncp if region is None or m.region == region]
    if shown and state is None and page == pages - 1:
        invited = {m.iso2 for m in coverage.invited}
        lines.append("\n<b>" + esc(L._("Members without an NCP")) + "</b>")
        lines.append(labelled(L, esc(L._("invited")), _names(L, [m for m in shown if m.iso2 in invited])))
        lines.append(labelled(L, esc(L._("not invited")), _names(L, [m for m in shown if m.iso2 not in invited])))
    nav: list[tuple[str, Button]] = []
    filters = (region or ANY, state.value if state else ANY)
    if page > 0:
        nav.append((L._("◂ Previous"), StatusPage(cycle.year, *filters, page - 1)))
    if page + 1 < pages:
        nav.append((L._("Next ▸"), StatusPage(cycle.year, *filters, page + 1)))
    rows_out: list[Row] = [nav] if nav else []
    await send(s, "\n".join(lines), rows_out)


async def on_page(s: Session, b: StatusPage) -> None:
    """Another page of /status (the dispatcher checked the Secretariat role)."""
    cycle = s.store.cycle_of_year(b.year)
    states = {m.value: m for m in MemberState}
    if cycle is None or (b.region != ANY and b.region not in REGIONS) or (b.state != ANY and b.state not in states):
        raise Invalid
    await show_status(
        s, cycle, None if b.region == ANY else b.region, states.get(b.state) if b.state != ANY else None, b.page
    )
