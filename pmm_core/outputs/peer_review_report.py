"""The peer review report (issue 19 §4): per KPI its state, the issues raised with their
dialogue, the figures changed (before → after, who, when) and the comments; the reviewers, the
dates and their conclusions. HTML (printable) and XLSX, in one language (the Member's, and
English). Built from records the caller reads; it reads nothing itself."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pmm_core.catalog.models import Catalog
from pmm_core.domain.peer_review import KPI_REVIEW_NAMES, KpiReview, PeerReview
from pmm_core.domain.threads import AuthorRole, MessageKind, Thread, ThreadMessage
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import labelled
from pmm_core.outputs.sheets import Sheet, workbook_bytes


@dataclass(frozen=True)
class ReviewerLine:
    name: str
    joined_at: str
    conclusion: str
    concluded_at: str


@dataclass(frozen=True)
class FigureChange:
    kpi: str
    data_point: str
    old: str
    new: str
    who: str
    at: str


@dataclass(frozen=True)
class Comment:
    kpi: str
    who: str
    at: str
    text: str


@dataclass(frozen=True)
class ReviewRecord:
    review: PeerReview
    member_name: str
    year: int
    reviewers: Sequence[ReviewerLine]
    states: Mapping[str, KpiReview]  # the Member's state per KPI
    threads: Sequence[tuple[Thread, Sequence[ThreadMessage]]]
    changes: Sequence[FigureChange]
    comments: Sequence[Comment]
    people: Mapping[int, str] = field(default_factory=dict)


def _who(L: Lang, msg: ThreadMessage, rec: ReviewRecord) -> str:
    """Who wrote a message, as the report's readers (the Member's NCPs among them) read it:
    the institution for the Secretariat (no staff names, as in chat), the person otherwise."""
    name = rec.people.get(msg.author or 0, "")
    ncp = L._("NCP of {member}").format(member=rec.member_name)
    if msg.role is AuthorRole.SECRETARIAT:
        return L._("WCO Secretariat")
    if msg.role is AuthorRole.CONTRIBUTOR:
        return ncp + " · " + L._("{name} (contributor)").format(name=name or L._("a colleague"))
    role = {AuthorRole.REVIEWER: L._("Peer reviewer"), AuthorRole.NCP: ncp}.get(msg.role, "pmm-bot")
    return f"{role} · {name}" if name else role


def figure_label(L: Lang, catalog: Catalog, dp_id: str) -> str:
    dp = catalog.data_points.get(dp_id)
    return dp.label.get(L.code) if dp else dp_id


def shown_value(L: Lang, catalog: Catalog, dp_id: str, stored: str | None) -> str:
    """A stored figure as the reader reads it: their number format and the data point's
    unit (12 400 min, 12.400 EUR); "—" for none."""
    dp = catalog.data_points.get(dp_id)
    if not stored:
        return "—"
    if dp is None:
        return stored
    try:
        return L.value(dp, stored)
    except (ArithmeticError, ValueError):
        return stored


def _said(L: Lang, catalog: Catalog, msg: ThreadMessage) -> str:
    if msg.kind is MessageKind.FIGURE:
        return L._("changed {figure} from {old} to {new}").format(
            figure=figure_label(L, catalog, msg.data_point),
            old=shown_value(L, catalog, msg.data_point, msg.old_value),
            new=shown_value(L, catalog, msg.data_point, msg.new_value),
        )
    said = {
        MessageKind.RESOLVED: L._("resolved"),
        MessageKind.CORRECT: L._("The figure is correct:"),
        MessageKind.CHANGE_REQUESTED: L._("Asks to change this KPI:"),
        MessageKind.CHANGE_APPROVED: L._("Change approved."),
        MessageKind.CHANGE_DECLINED: L._("Change declined."),
        MessageKind.AMENDED: L._("KPI confirmed again."),
        MessageKind.REOPENED: L._("reopened"),
    }.get(msg.kind, "")
    if msg.kind is MessageKind.AMENDED:
        return said
    return f"{said} {msg.text}".strip()


def _head(cells: Sequence[str], widths: Sequence[int] = ()) -> str:
    """The header row (repeated on each printed page), with the columns' widths in %."""
    cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>" if widths else ""
    return cols + "<thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr></thead>"


def _message(L: Lang, catalog: Catalog, rec: ReviewRecord, msg: ThreadMessage) -> str:
    """One message of a dialogue: who, when (smaller), what they said."""
    e = html.escape
    return (
        f'<div class="msg"><b>{e(_who(L, msg, rec))}</b> <span class="when">{e(_day(L, msg.at))}</span><br>'
        f"{e(_said(L, catalog, msg))}</div>"
    )


def _day(L: Lang, at: str) -> str:
    """A stored moment as the reader reads it: the date in their language and format, the time
    as HH:MM UTC — "15 janvier 2026 à 09:00 UTC"; "" for none."""
    if not at:
        return ""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at[:16].replace("T", " ")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return L._("{date} at {time} UTC").format(date=L.date(moment.date()), time=moment.strftime("%H:%M"))


def html_report(L: Lang, catalog: Catalog, rec: ReviewRecord) -> str:
    e = html.escape
    title = L._("Peer review of {member} — PMM {year}").format(member=rec.member_name, year=rec.year)
    out = [
        "<!doctype html>",
        f'<html lang="{L.code}"><head><meta charset="utf-8"><title>{e(title)}</title><style>',
        "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:80em;padding:0 1.5em;color:#222;"
        "line-height:1.35}h1{font-size:1.5em;border-bottom:2px solid #1d4e89;padding-bottom:.2em}"
        "h2{font-size:1.15em;color:#1d4e89;margin-top:1.5em}table{border-collapse:collapse;width:100%;margin:.5em 0;table-layout:fixed}"
        "td,th{border:1px solid #bbb;padding:.35em .5em;text-align:left;vertical-align:top;font-size:.9em;overflow-wrap:anywhere}"
        "th{background:#e8eef6}.accepted{color:#17663a}.has_issues{color:#a33;font-weight:bold}.to_review{color:#666}"
        ".msg{margin:0 0 .45em}.msg:last-child{margin-bottom:0}.when{color:#666;font-size:.85em}"
        ".counts{font-size:1.05em}.quiet td{padding-top:.15em;padding-bottom:.15em}"
        "thead{display:table-header-group}"
        "@media print{@page{margin:1.5cm}body{margin:0;padding:0;max-width:none;font-size:10pt}"
        "h2{page-break-after:avoid}tr{page-break-inside:avoid}th{font-size:.8em;hyphens:auto}}",
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        "<p>"
        + e(L._("Requested {requested}; accepted {accepted}; closed {closed}.")).format(
            requested=e(_day(L, rec.review.requested_at)),
            accepted=e(_day(L, rec.review.decided_at or "")) or "—",
            closed=e(_day(L, rec.review.closed_at or "")) or "—",
        )
        + "</p>",
        "<h2>" + e(L._("Reviewers and conclusions")) + "</h2><table>",
        _head([L._("Reviewer"), L._("Joined"), L._("Conclusion"), L._("Concluded")], (22, 20, 38, 20)),
    ]
    for r in rec.reviewers:
        out.append(
            f"<tr><td>{e(r.name)}</td><td>{e(_day(L, r.joined_at))}</td><td>{e(r.conclusion)}</td>"
            f"<td>{e(_day(L, r.concluded_at))}</td></tr>"
        )
    out.append("</table>")
    counts = {s: sum(1 for k in catalog.kpis if rec.states.get(k.id, KpiReview.TO_REVIEW) is s) for s in KpiReview}
    now = " · ".join(labelled(L, L._(KPI_REVIEW_NAMES[s]), L.number(n)) for s, n in counts.items())
    over = (  # the states say where the KPIs stand; these say what happened on the way
        (L._("Issues raised"), len(rec.threads)),
        (L._("Figures changed"), len(rec.changes)),
        (L._("Comments"), len(rec.comments)),
    )
    out.append(
        '<p class="counts">'
        + e(L._("The KPIs now") + " — " + now)
        + "<br>"
        + e(L._("During the review") + " — " + " · ".join(labelled(L, t, L.number(n)) for t, n in over))
        + "</p>"
    )
    spoken = _spoken_of(L, catalog, rec)
    if spoken:  # a reader looks for what the review found first; the 51 rows follow
        out.append("<h2>" + e(L._("What the review raised")) + "</h2><ul>" + "".join(spoken) + "</ul>")
    out.append(
        "<h2>"
        + e(L._("KPI by KPI"))
        + "</h2><table>"
        + _head(
            ["KPI", L._("State"), L._("Issues and dialogue"), L._("Figures changed"), L._("Comments")],
            (21, 9, 38, 17, 15),
        )
    )
    for kpi in catalog.kpis:
        state = rec.states.get(kpi.id, KpiReview.TO_REVIEW)
        dialogue = []
        for thread, messages in rec.threads:
            if thread.kpi == kpi.id:
                dialogue.append("".join(_message(L, catalog, rec, m) for m in messages))
        changes = [
            '<div class="msg">'
            + labelled(L, e(figure_label(L, catalog, c.data_point)), f"{e(c.old)} → <b>{e(c.new)}</b>")
            + f' <span class="when">({e(c.who)}, {e(_day(L, c.at))})</span></div>'
            for c in rec.changes
            if c.kpi == kpi.id
        ]
        notes = [
            f'<div class="msg"><b>{e(c.who)}</b> <span class="when">{e(_day(L, c.at))}</span><br>{e(c.text)}</div>'
            for c in rec.comments
            if c.kpi == kpi.id
        ]
        quiet = "" if dialogue or changes or notes else ' class="quiet"'
        out.append(
            f'<tr{quiet} id="{e(kpi.id)}"><td><b>{e(kpi.id)}</b> {e(kpi.name.get(L.code))}</td>'
            f'<td class="{state.value}">{e(L._(KPI_REVIEW_NAMES[state]))}</td>'
            f"<td>{'<hr>'.join(dialogue)}</td><td>{''.join(changes)}</td><td>{''.join(notes)}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out)


def _spoken_of(L: Lang, catalog: Catalog, rec: ReviewRecord) -> list[str]:
    """One line per KPI the review said something about, linked to its row: how many issues,
    figures changed and comments, in catalog order."""
    lines = []
    for kpi in catalog.kpis:
        issues = sum(1 for t, _ in rec.threads if t.kpi == kpi.id)
        changed = sum(1 for c in rec.changes if c.kpi == kpi.id)
        noted = sum(1 for c in rec.comments if c.kpi == kpi.id)
        said = [
            text.format(n=L.number(n))
            for n, text in (
                (issues, L.ngettext("{n} issue", "{n} issues", issues)),
                (changed, L.ngettext("{n} figure changed", "{n} figures changed", changed)),
                (noted, L.ngettext("{n} comment", "{n} comments", noted)),
            )
            if n
        ]
        if said:
            lines.append(
                f'<li><a href="#{html.escape(kpi.id)}"><b>{html.escape(kpi.id)}</b> '
                f"{html.escape(kpi.name.get(L.code))}</a> — {html.escape(', '.join(said))}</li>"
            )
    return lines


def xlsx_report(L: Lang, catalog: Catalog, rec: ReviewRecord) -> bytes:
    kpis = Sheet(
        L._("Peer review"),
        ["KPI", L._("Name"), L._("State"), L._("Issues and dialogue"), L._("Figures changed"), L._("Comments")],
        [
            [
                kpi.id,
                kpi.name.get(L.code),
                L._(KPI_REVIEW_NAMES[rec.states.get(kpi.id, KpiReview.TO_REVIEW)]),
                "\n".join(
                    labelled(L, f"{_who(L, m, rec)} ({_day(L, m.at)})", _said(L, catalog, m))
                    for thread, messages in rec.threads
                    if thread.kpi == kpi.id
                    for m in messages
                ),
                "\n".join(
                    labelled(L, figure_label(L, catalog, c.data_point), f"{c.old} → {c.new}")
                    + f" ({c.who}, {_day(L, c.at)})"
                    for c in rec.changes
                    if c.kpi == kpi.id
                ),
                "\n".join(labelled(L, f"{c.who} ({_day(L, c.at)})", c.text) for c in rec.comments if c.kpi == kpi.id),
            ]
            for kpi in catalog.kpis
        ],
    )
    reviewers = Sheet(
        L._("Reviewers"),
        [L._("Reviewer"), L._("Joined"), L._("Conclusion"), L._("Concluded")],
        [[r.name, _day(L, r.joined_at), r.conclusion, _day(L, r.concluded_at)] for r in rec.reviewers],
    )
    return workbook_bytes([kpis, reviewers])
