"""The report for a Member's administration (/myreport): its PMM results beside the benchmarks of
the publication for all NCPs, its blanks and their reasons, its year on year and the caveats — an
HTML page to forward to the Director General (self-contained, printable on A4) and a workbook.

It holds the administration's own figures, so it is for the administration: the stamp says so on
every page and sheet. Everything else in it comes from the stored publication (see
:mod:`pmm_core.publishing.benchmark`)."""

from __future__ import annotations

import base64
from html import escape

from pmm_core.catalog.models import Catalog
from pmm_core.domain.analysis import MEASURE_NAMES
from pmm_core.domain.disclosure import LEVEL_NAMES
from pmm_core.domain.results import rounded
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.sheets import Sheet, workbook_bytes
from pmm_core.publishing.benchmark import Benchmark, KpiBenchmark
from pmm_core.publishing.benchmark_chart import benchmark_chart
from pmm_core.publishing.benchmark_text import (
    blank_text,
    change_text,
    figure_text,
    own_value,
    position_text,
    publication_line,
    statistic,
    summary_counts,
)

CSS = """
:root { --ink: #1a1a1a; --muted: #5f6b76; --line: #d0d7de; --accent: #1f4e79; --own: #d9480f; }
* { box-sizing: border-box; }
body { font: 14px/1.5 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink); margin: 0 auto;
       max-width: 980px; padding: 0 32px 48px; }
header { background: var(--accent); color: white; margin: 0 -32px 20px; padding: 22px 32px 18px; }
header .org { font-size: 12px; letter-spacing: .08em; text-transform: uppercase; opacity: .85; }
header h1 { font-size: 26px; margin: 6px 0 4px; }
header p { margin: 0; opacity: .9; }
.stamp { background: #eef3f8; border-left: 4px solid var(--accent); padding: 6px 10px; font-size: 12px; }
.provisional { background: #fff4d6; border-left: 4px solid #b7791f; padding: 6px 10px; font-weight: bold; }
.tiles { display: flex; gap: 12px; margin: 18px 0; }
.tile { flex: 1; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.tile b { display: block; font-size: 26px; color: var(--accent); }
h2 { color: var(--accent); border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 36px; }
h3 { margin: 26px 0 6px; font-size: 15px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 8px 0 14px; table-layout: fixed; }
table.glance col.kpi { width: 40%; } table.glance col.fig { width: 14%; } table.glance col.arrow { width: 4%; }
td.blank { color: var(--muted); font-size: 11.5px; white-space: normal; text-align: left; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 6px; text-align: left; vertical-align: top; }
th { background: #eef3f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
td.own { color: var(--own); font-weight: bold; }
.up { color: #2b7a3d; } .down { color: #a23b1f; }
figure { margin: 10px 0 4px; } figure img { width: 100%; height: auto; border: 1px solid var(--line); }
.kpi { break-inside: avoid; border-top: 1px solid var(--line); padding-top: 6px; }
.kpi ul { margin: 4px 0; padding-left: 18px; font-size: 13px; }
.note { color: var(--muted); font-size: 12.5px; }
@page { size: A4; margin: 14mm 14mm 20mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  header { margin: 0 0 12px; }
  h2 { break-before: page; }
  .stamp { position: fixed; bottom: -12mm; left: 0; right: 0; font-size: 8px; }
}
"""


def stamp_text(L: Lang, bench: Benchmark) -> str:
    return L._(
        "PMM {year} · For the administration of {member}: contains its own figures · Benchmarks from the "
        "publication for all NCPs no. {number} of {date}"
    ).format(year=bench.year, member=bench.member.name(L.code), number=bench.publication, date=L.date(bench.published))


def short_blank(L: Lang, kb: KpiBenchmark) -> str:
    """In the table: blank or no result, the reason in the section on KPIs without a result."""
    return L._("left blank") if kb.blank_reason is not None else L._("no result")


def _arrow(kb: KpiBenchmark) -> str:
    if not kb.comparable:
        return ""
    return {1: "▲", -1: "▼", 0: "="}[kb.position()]


def build_member_report(catalog: Catalog, bench: Benchmark, L: Lang) -> tuple[bytes, bytes]:
    """(HTML, XLSX) of the Member's report in `L`'s language."""
    return _html(catalog, bench, L).encode("utf-8"), _xlsx(catalog, bench, L)


def _html(catalog: Catalog, bench: Benchmark, L: Lang) -> str:
    name = bench.member.name(L.code)
    T = {  # texts used inside f-strings below (gettext's extractor does not read f-strings)
        "org": L._("World Customs Organization · Performance Measurement Mechanism"),
        "beside": L._("Your administration beside the results of all participating Members"),
        "provisional": L._(
            "Provisional: the cycle is still open and these figures may change before the final publication."
        ),
        "not_counted": L._(
            "Your administration had not submitted when this was published: its results are not counted in these "
            "figures."
        ),
        "glance": L._("At a glance"),
        "arrows": L._("▲ above, ▼ below the figure of all Members; in brackets, the Members it is taken over."),
        "by_kpi": L._("KPI by KPI"),
        "without": L._("KPIs without a result"),
        "why": L._("Why"),
        "care": L._("Read with care"),
        "kpi": L._("KPI"),
    }
    title = L._("{member}: results of the PMM {year}").format(member=name, year=bench.year)
    parts = [
        "<header>",
        f'<div class="org">{escape(T["org"])}</div>',
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(T['beside'])}</p>",
        "</header>",
        f'<p class="stamp" role="note">{escape(stamp_text(L, bench))}</p>',
    ]
    if bench.stage.value == "provisional":
        parts.append(f'<p class="provisional">{escape(T["provisional"])}</p>')
    parts.append(f"<p>{escape(publication_line(L, bench))}</p>")
    mine, above, below, without = summary_counts(bench)
    tiles = [
        (mine, L.ngettext("KPI with a result", "KPIs with a result", mine)),
        (above, L.ngettext("KPI above all Members", "KPIs above all Members", above)),
        (below, L.ngettext("KPI below all Members", "KPIs below all Members", below)),
        (without, L.ngettext("KPI without a result", "KPIs without a result", without)),
    ]
    parts.append(
        '<div class="tiles">'
        + "".join(f'<div class="tile"><b>{L.number(n)}</b>{escape(t)}</div>' for n, t in tiles)
        + "</div>"
    )
    if not bench.counted:
        parts.append(f'<p class="provisional">{escape(T["not_counted"])}</p>')
    parts.append(f"<h2>{escape(T['glance'])}</h2>")
    for dimension in catalog.dimensions:
        rows = [k for k in bench.kpis if k.kpi.dimension == dimension.id]
        parts.append(f"<h3>{escape(dimension.name.get(L.code))}</h3>")
        head = [L._("KPI"), L._("Your result"), L._("All Members"), L._("Your WCO region"), "", L._("Last year")]
        cells = []
        for k in rows:
            region = k.groups[0]
            own = own_value(L, k.kpi, k.own) if k.own is not None else short_blank(L, k)
            own_class = "num own" if k.own is not None else "blank"
            overall = f"{statistic(L, k, k.overall.value)} ({L.number(k.overall.n)})"
            regional = f"{statistic(L, k, region.value)} ({L.number(region.n)})" if region.n else "—"
            arrow = _arrow(k)
            cls = {"▲": "up", "▼": "down"}.get(arrow, "")
            before = own_value(L, k.kpi, k.previous_own) if k.previous_own is not None else "—"
            cells.append(
                f"<tr><td>{escape(k.kpi.id)} · {escape(k.kpi.name.get(L.code))}</td>"
                f'<td class="{own_class}">{escape(own)}</td><td class="num">{escape(overall)}</td>'
                f'<td class="num">{escape(regional)}</td><td class="{cls}">{arrow}</td>'
                f'<td class="num">{escape(before)}</td></tr>'
            )
        parts.append(
            '<table class="glance"><colgroup><col class="kpi"><col class="fig"><col class="fig"><col class="fig">'
            '<col class="arrow"><col class="fig"></colgroup><thead><tr>'
            + "".join(f"<th>{escape(h)}</th>" for h in head)
            + "</tr></thead><tbody>"
            + "".join(cells)
            + "</tbody></table>"
        )
    parts.append(f'<p class="note">{escape(T["arrows"])}</p>')
    parts.append(f"<h2>{escape(T['by_kpi'])}</h2>")
    for k in bench.kpis:
        if k.own is None or k.overall.value is None:
            continue
        png = benchmark_chart(bench, k, L)
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        items = [figure_text(L, k, f) for f in (k.overall, *k.groups)]
        position = position_text(L, k)
        change = change_text(L, k, bench.year)
        result_line = L._("Your result: {value}").format(value=own_value(L, k.kpi, k.own))
        change_line = L._("Year on year: {change}").format(change=change)
        note = L._("{measure} · disclosure: {level}").format(
            measure=L._(MEASURE_NAMES[k.measure]), level=L._(LEVEL_NAMES[k.level])
        )
        parts.append(
            '<section class="kpi">'
            f"<h3>{escape(k.kpi.id)} · {escape(k.kpi.name.get(L.code))}</h3>"
            f"<p>{escape(result_line)}"
            + (f" — {escape(position)}" if position else "")
            + (f"<br>{escape(change_line)}" if change else "")
            + "</p>"
            f'<figure><img src="{src}" alt="{escape(k.kpi.name.get(L.code))}"></figure>'
            "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
            f'<p class="note">{escape(note)}</p>'
            "</section>"
        )
    blanks = [k for k in bench.kpis if k.own is None]
    parts.append(f"<h2>{escape(T['without'])}</h2>")
    parts.append(
        "<table><thead><tr>"
        + f"<th>{escape(T['kpi'])}</th><th>{escape(T['why'])}</th>"
        + "</tr></thead><tbody>"
        + "".join(
            f"<tr><td>{escape(k.kpi.id)} · {escape(k.kpi.name.get(L.code))}</td><td>{escape(blank_text(L, catalog, k))}</td></tr>"
            for k in blanks
        )
        + "</tbody></table>"
    )
    parts.append(f"<h2>{escape(T['care'])}</h2>")
    caveats = [
        L._(
            "The PMM does not rate or rank administrations: these figures are for your own analysis and "
            "planning. A result above or below the others is not in itself better or worse; it depends on "
            "what the KPI measures and on national circumstances."
        ),
        L._(
            "Quantitative KPIs are compared with the average of the Members that confirmed them, qualitative "
            "ones (yes/no or scale answers) with their median."
        ),
        L._(
            "Group figures are those published for all NCPs. Some are not shown, so that no single Member's "
            "figure can be worked out; a figure marked † is the one published earlier, kept unchanged."
        ),
        L._(
            "Where a KPI's disclosure policy lets every NCP see the Members' results (Public or WCO level), "
            "the charts show every result, unnamed; for Union- and Country-level KPIs only the averages."
        ),
        L._("Figures still under review by the Secretariat when this was published may have been left out."),
    ]
    parts.append("<ul>" + "".join(f"<li>{escape(c)}</li>" for c in caveats) + "</ul>")
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html>\n<html lang="{L.code}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{escape(title)}</title>\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _number(kb: KpiBenchmark, value: object) -> float | None:
    from decimal import Decimal

    return float(rounded(value, 4)) if isinstance(value, Decimal) else None


def _xlsx(catalog: Catalog, bench: Benchmark, L: Lang) -> bytes:
    stamp = stamp_text(L, bench)
    results = Sheet(
        L._("Your results"),
        [
            L._("KPI"),
            L._("KPI name"),
            L._("Your result"),
            L._("Measure"),
            L._("All Members"),
            L._("Members"),
            L._("Your WCO region"),
            L._("Your income group"),
            L._("Your geographic type"),
            L._("Your administration type"),
            L._("Where you stand"),
            L._("Your result {year}").format(year=bench.year - 1),
            L._("Disclosure"),
        ],
        [
            [
                k.kpi.id,
                k.kpi.name.get(L.code),
                _number(k, k.own),
                L._(MEASURE_NAMES[k.measure]),
                _number(k, k.overall.value),
                k.overall.n,
                *(_number(k, g.value) for g in k.groups),
                position_text(L, k) or (blank_text(L, catalog, k) if k.own is None else ""),
                _number(k, k.previous_own),
                L._(LEVEL_NAMES[k.level]),
            ]
            for k in bench.kpis
        ],
        stamp=stamp,
    )
    groups = Sheet(
        L._("Groups"),
        [L._("KPI"), L._("Group"), L._("Figure")],
        [[k.kpi.id, "", figure_text(L, k, f)] for k in bench.kpis for f in (k.overall, *k.groups)],
        stamp=stamp,
    )
    about = Sheet(
        L._("About"),
        [L._("Item"), L._("Value")],
        [[L._("Publication"), publication_line(L, bench)], [L._("Stamp"), stamp]],
        stamp=stamp,
    )
    return workbook_bytes([results, groups, about])
