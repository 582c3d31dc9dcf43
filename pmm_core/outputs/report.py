"""The report on a PMM cycle, laid out like the report on the first cycle: ``report.html`` and
``report.xlsx`` in the user's language.

Contents: how the results are computed; participation by group (Figure 2); response rates per
dimension, per KPI and by dimension and region, with the most and least answered KPIs
(Figures 3–4); the results of every KPI globally and by the four groupings; blank answers
(Figures 30–34); year on year when a previous cycle is given; then one section per KPI with
its chart, its table by group and its disaggregated data when the threshold is met.

Everything follows :mod:`pmm_core.domain.analysis` for the audience of the options (by default the
public: group results only, one-Member groups only for Public KPIs, never a Member's figure).

The HTML file is self-contained (charts inline as SVG images, CSS inline, no script, nothing
fetched) and prints cleanly (A4, a page per section). The workbook has one sheet per table,
values as numbers (rates as fractions formatted as percentages).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from html import escape

from pmm_core.catalog.members.groupings import GROUPING_NAMES, Grouping, group_label, group_order
from pmm_core.catalog.models import Catalog, Disclosure, Kpi
from pmm_core.domain.analysis import (
    MEASURE_NAMES,
    BreakdownAnalysis,
    GroupStat,
    KpiAnalysis,
    Measure,
    Options,
    PointStat,
    YearOnYear,
    analyse,
    blanks_by_region,
    dimension_rates,
    most_and_least_answered,
    participants,
    percent,
    required_responses,
    response_rates,
    statistic_decimals,
    year_on_year,
)
from pmm_core.domain.analytics import KpiStats, reasons_by_region
from pmm_core.domain.disclosure import LEVEL_NAMES
from pmm_core.domain.records import CycleData
from pmm_core.domain.results import Computed, rounded
from pmm_core.domain.text import N_
from pmm_core.outputs import charts
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import UNIT_NAMES, count_of
from pmm_core.outputs.sheets import PERCENT, Cell, Sheet, workbook_bytes


@dataclass(frozen=True)
class Stamp:
    """What a publication is, on every page and sheet: for whom, provisional or final, when, over
    which Members."""

    audience: str  # "public", "wco" or "secretariat" (pmm_core.publishing.PubAudience)
    provisional: bool
    published: date
    population: int  # Members in the population
    basis: str  # "submitted" or "started"
    number: int = 0  # the publication's number in the store (0: not stored)


@dataclass(frozen=True)
class Prepared:
    """The statistics of a publication, computed and suppressed beforehand
    (:mod:`pmm_core.publishing`), and what its quality gate did."""

    analyses: Sequence[KpiAnalysis]
    changes: Sequence[YearOnYear]
    stamp: Stamp
    excluded: Mapping[str, int] = field(default_factory=dict)  # gate kind → figures excluded
    marked: Mapping[str, int] = field(default_factory=dict)  # KPI → figures under review left in, marked
    annex: Sequence[tuple[Kpi, int, Decimal]] = ()  # Members only: (KPI, results, skewness)


@dataclass(frozen=True)
class ReportOptions:
    analysis: Options = field(default_factory=Options)  # participants, margin of error, audience
    chart_format: charts.Format = "svg"
    as_of: date | None = None  # the date the data are reported as of
    ranked: int = 10  # KPIs listed as most and least answered
    prepared: Prepared | None = None  # a publication's statistics (else computed here, unsuppressed)


@dataclass(frozen=True)
class ReportFiles:
    html: bytes
    xlsx: bytes


def build_report(
    catalog: Catalog, data: CycleData, previous: CycleData | None, L: Lang, options: ReportOptions | None = None
) -> ReportFiles:
    """The report on `data`'s cycle (compared with `previous` when given), in `L`'s language."""
    model = _Model(catalog, data, previous, L, options or ReportOptions())
    return ReportFiles(html=_html(model).encode("utf-8"), xlsx=workbook_bytes(_tables(model)))


class _Model:
    """Every figure of the report, computed once for both files."""

    def __init__(
        self, catalog: Catalog, data: CycleData, previous: CycleData | None, L: Lang, options: ReportOptions
    ) -> None:
        self.catalog, self.data, self.previous, self.L, self.options = catalog, data, previous, L, options
        basis = options.analysis.basis
        self.year = data.cycle.year
        self.members = participants(data, basis)
        self.required = required_responses(len(self.members), options.analysis.margin)
        self.stats = response_rates(catalog, data, basis)
        self.dimensions = dimension_rates(catalog, data, basis)
        self.dimensions_by_region = dimension_rates(catalog, data, basis, Grouping.REGION)
        prepared = options.prepared
        self.analyses = list(prepared.analyses) if prepared else analyse(catalog, data, options.analysis)
        self.region_blanks = blanks_by_region(catalog, data, basis)
        self.reasons = reasons_by_region(catalog, self.members, data.states)
        if prepared is not None:
            self.changes = list(prepared.changes)
        else:
            self.changes = year_on_year(catalog, data, previous, options.analysis) if previous else []
        self.most, self.least = most_and_least_answered(self.stats, options.ranked)
        self.reviewed = [member for member in self.members if member.iso2 in data.reviewed]
        self.reviewed_apart = any(a.reviewed is not None for a in self.analyses)

    @property
    def internal(self) -> bool:
        """Read in the Secretariat only: a working document, or a publication for the Secretariat."""
        prepared = self.options.prepared
        return prepared is None or prepared.stamp.audience == "secretariat"

    def kpi_name(self, kpi: Kpi) -> str:
        return kpi.name.get(self.L.code)

    def value(self, kpi: Kpi, value: Decimal | None, measure: Measure | None = None) -> str:
        """A figure of `kpi`; a statistic (`measure` given) with the decimals an average keeps."""
        if value is None:
            return "—"
        decimals = statistic_decimals(kpi, measure) if measure else kpi.result.decimals
        return self.L.result(Computed(value, kpi.result.unit, decimals))

    def chart(self, data: bytes) -> str:
        kind = "svg+xml" if self.options.chart_format == "svg" else "png"
        return f"data:image/{kind};base64,{base64.b64encode(data).decode('ascii')}"


# ---- HTML ----------------------------------------------------------------------------------

CSS = """
:root { --ink: #1a1a1a; --muted: #666; --line: #d0d7de; --accent: #1f4e79; }
* { box-sizing: border-box; }
body { font: 15px/1.5 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink); margin: 0 auto;
       max-width: 1120px; padding: 24px 32px 64px; }
h1 { color: var(--accent); font-size: 28px; margin: 0 0 4px; }
h2 { color: var(--accent); border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 48px; }
h3 { margin: 32px 0 8px; }
h4 { margin: 20px 0 6px; font-size: 15px; }
p.lead { color: var(--muted); margin-top: 0; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.fact { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 160px; }
.fact b { display: block; font-size: 22px; color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
figure { margin: 12px 0 20px; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
.note { color: var(--muted); font-size: 13px; }
nav ol { columns: 2; }
section.kpi { border-top: 1px solid var(--line); }
.stamp { background: #eef3f8; border-left: 4px solid var(--accent); padding: 6px 10px; font-size: 13px; margin: 8px 0; }
.provisional { background: #fff4d6; border-left: 4px solid #b7791f; padding: 6px 10px; font-weight: bold; }
.kept { color: #8a5a00; }
@page { size: A4; margin: 14mm 14mm 20mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-before: page; }
  section.kpi { break-before: page; border: 0; }
  figure, table, tr { break-inside: avoid; }
  nav { break-after: page; }
  a { color: inherit; text-decoration: none; }
  .stamp { position: fixed; bottom: -12mm; left: 0; right: 0; margin: 0; font-size: 8px; }
}
"""


class _Page:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, html: str) -> None:
        self.parts.append(html)

    def text(self, tag: str, text: str, cls: str = "", id_: str = "") -> None:
        attrs = (f' class="{cls}"' if cls else "") + (f' id="{id_}"' if id_ else "")
        self.add(f"<{tag}{attrs}>{escape(text)}</{tag}>")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> None:
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="num">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
            for row in rows
        )
        self.add(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def figure(self, src: str, alt: str, caption: str = "") -> None:
        cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
        self.add(f'<figure><img src="{src}" alt="{escape(alt)}">{cap}</figure>')


def _html(m: _Model) -> str:
    L = m.L
    page = _Page()
    title = L._("Report on the PMM {year} cycle").format(year=m.year)
    page.text("h1", title)
    stamp = stamp_text(m.L, m.options, m.year)
    page.add(f'<p class="stamp" role="note">{escape(stamp)}</p>')
    prepared = m.options.prepared
    if prepared is not None and prepared.stamp.provisional:
        page.text("p", provisional_text(L), "provisional")
    as_of = L._("Data as of {date}.").format(date=L.date(m.options.as_of)) if m.options.as_of else ""
    page.text("p", " ".join([L._("Reference year {year}.").format(year=m.year), as_of]), "lead")
    _key_facts(m, page)
    sections = [
        ("method", L._("How the results are computed"), _method),
        ("participation", L._("Participation"), _participation),
        ("responses", L._("Response rates"), _responses),
        ("results", L._("KPI results"), _results),
        ("blanks", L._("Blank answers"), _blanks),
    ]
    if m.previous is not None:
        sections.append(("year-on-year", L._("Year on year"), _year_on_year))
    sections.append(("kpis", L._("The KPIs one by one"), _kpis))
    if m.options.prepared is not None and m.options.prepared.annex:
        sections.append(("annex", L._("Annex I. How the results are spread (Members only)"), _annex))
    page.add("<nav><h2>" + escape(L._("Contents")) + "</h2><ol>")
    for anchor, heading, _ in sections:
        page.add(f'<li><a href="#{anchor}">{escape(heading)}</a></li>')
    page.add("</ol></nav>")
    for anchor, heading, render in sections:
        page.text("h2", heading, id_=anchor)
        render(m, page)
    body = "\n".join(page.parts)
    return (
        f'<!DOCTYPE html>\n<html lang="{L.code}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


PUBLICATION_AUDIENCES = {
    "public": N_("For the public"),
    "wco": N_("For the NCPs and peer reviewers of all WCO Members (Members only)"),
    "secretariat": N_("For the WCO Secretariat only (internal)"),
}


def provisional_text(L: Lang) -> str:
    return L._("Provisional: the cycle is still open and these figures may change before the final publication.")


def stamp_text(L: Lang, options: ReportOptions, year: int) -> str:
    """The publication's stamp (audience, provisional or final, date, population), in words; a
    report that is not a stored publication says it is an internal working document."""
    prepared = options.prepared
    if prepared is None:
        return L._("PMM {year} · Internal working document of the WCO Secretariat, not a publication · {when}").format(
            year=year, when=L.date(options.as_of) if options.as_of else "—"
        )
    stamp = prepared.stamp
    if stamp.basis == "started":
        population = L.ngettext(
            "the {n} Member with data, submitted or not",
            "the {n} Members with data, submitted or not",
            stamp.population,
        ).format(n=L.number(stamp.population))
    else:
        population = L.ngettext(
            "the {n} Member that submitted by {date}",
            "the {n} Members that submitted by {date}",
            stamp.population,
        ).format(n=L.number(stamp.population), date=L.date(stamp.published))
    parts = [
        L._("PMM {year}").format(year=year),
        L._("Provisional") if stamp.provisional else L._("Final"),
        L._(PUBLICATION_AUDIENCES[stamp.audience]),
        L._("Published on {date}").format(date=L.date(stamp.published)),
        L._("Population: {population}").format(population=population),
    ]
    if stamp.number:
        parts.append(L._("Publication no. {n}").format(n=stamp.number))
    return " · ".join(parts)


def _key_facts(m: _Model, page: _Page) -> None:
    L = m.L
    answered = sum(r.answered for r in m.dimensions)
    possible = sum(r.possible for r in m.dimensions)
    facts = [
        (
            L.number(len(m.members)),
            L.ngettext("participating Member (submitted)", "participating Members (submitted)", len(m.members)),
        ),
        (L.number(len(m.catalog.kpis)), L._("KPIs")),
        (L.percent(percent(answered, possible), 0), L._("of the KPIs answered")),
        (
            L.number(m.required),
            L.ngettext(
                "response needed per KPI for a {confidence} confidence level",
                "responses needed per KPI for a {confidence} confidence level",
                m.required,
            ).format(confidence=L.percent(Decimal(95), 0)),
        ),
    ]
    if m.reviewed:
        facts.append(
            (
                L.number(len(m.reviewed)),
                L.ngettext("peer-reviewed Member", "peer-reviewed Members", len(m.reviewed)),
            )
        )
    page.add(
        '<div class="facts">'
        + "".join(f'<div class="fact"><b>{escape(v)}</b>{escape(t)}</div>' for v, t in facts)
        + "</div>"
    )


def _method(m: _Model, page: _Page) -> None:
    L = m.L
    margin = L.percent(Decimal(str(m.options.analysis.margin * 100)), 0)
    rules = [
        L.ngettext(
            "Participating Members are the Members that submitted their answers; rates are counted over them "
            "(here {n} Member).",
            "Participating Members are the Members that submitted their answers; rates are counted over them "
            "(here {n} Members).",
            len(m.members),
        ).format(n=len(m.members)),
        L._("Results come only from KPIs whose result the NCP confirmed."),
        L._(
            "Quantitative KPIs are summarised by their average; qualitative KPIs, calculated from yes/no "
            "or scale answers, by their median, as their results are skewed towards higher values."
        ),
        L._(
            "Results are shown for groups of Members (WCO region, income group, geographic type, administration "
            "type), never for a single Member. A group of one Member is shown only when the KPI's disclosure "
            "policy is Public. Where a hidden group's figure could be worked out by subtraction from the others, "
            "another group is hidden as well."
        ),
        L._(
            "Disaggregated data are analysed only when enough Members gave them: the sample size for a {confidence} "
            "confidence level and a {margin} margin of error out of the Members with a result (for example, "
            "37 out of 57)."
        ).format(margin=margin, confidence=L.percent(Decimal(95), 0)),
        L._("With {participants}, a KPI needs at least {responses} for that confidence.").format(
            participants=L.ngettext("{n} participating Member", "{n} participating Members", len(m.members)).format(
                n=len(m.members)
            ),
            responses=L.ngettext("{n} response", "{n} responses", m.required).format(n=m.required),
        ),
    ]
    page.add("<ul>" + "".join(f"<li>{escape(r)}</li>" for r in rules) + "</ul>")
    prepared = m.options.prepared
    if prepared is not None:
        page.text("h3", L._("Before publication"))
        page.text("p", gate_text(L, prepared.excluded))


GATE_NAMES = {
    "unresolved": N_("a flag the Secretariat has not resolved"),
    "kept": N_("a warning the NCP kept without a justification"),
    "question": N_("a figure under an open question to the NCP"),
}


def gate_text(L: Lang, excluded: Mapping[str, int]) -> str:
    """How many figures the quality gate excluded, and why, in one sentence."""
    total = sum(excluded.values())
    if not total:
        return L._("No figure was excluded: none was under review when this was published.")
    reasons = "; ".join(
        L.ngettext("{n} for {reason}", "{n} for {reason}", n).format(n=L.number(n), reason=L._(GATE_NAMES[kind]))
        for kind, n in excluded.items()
        if n
    )
    return L.ngettext(
        "{n} figure was excluded from these statistics before publication: {reasons}.",
        "{n} figures were excluded from these statistics before publication: {reasons}.",
        total,
    ).format(n=L.number(total), reasons=reasons)


def _participation(m: _Model, page: _Page) -> None:
    L = m.L
    with_ncp = sum(1 for n in m.data.ncps.values() if n)
    page.text(
        "p",
        L._("{submitted}, out of {with_ncp} and {known}.").format(
            submitted=L.ngettext(
                "{n} Member submitted its answers", "{n} Members submitted their answers", len(m.members)
            ).format(n=len(m.members)),
            with_ncp=L.ngettext("{n} Member with an NCP", "{n} Members with an NCP", with_ncp).format(n=with_ncp),
            known=L.ngettext("{n} WCO Member", "{n} WCO Members", len(m.data.members)).format(n=len(m.data.members)),
        ),
    )
    if m.reviewed or m.reviewed_apart:
        page.text("p", _reviewed_text(m), "reviewed")
    page.figure(
        m.chart(charts.participation_chart(m.members, m.year, L, m.options.chart_format)),
        L._("Participating Members by group"),
    )
    page.table(
        [L._("Grouping"), L._("Group"), L._("Members"), L._("Share")],
        [
            [L._(GROUPING_NAMES[g]), L._(group_label(g, code)), L.number(n), L.percent(percent(n, len(m.members)), 0)]
            for g, code, n in _participation_rows(m)
        ],
        numeric=(2, 3),
    )


def _reviewed_text(m: _Model) -> str:
    """How many participating Members were peer-reviewed (their review closed; seed 002 §14), named
    in what stays in the Secretariat."""
    L = m.L
    text = L._("Peer-reviewed Members (review closed): {n} of {total}.").format(
        n=L.number(len(m.reviewed)), total=L.number(len(m.members))
    )
    if m.reviewed and m.internal:
        names = ", ".join(f"{member.name(L.code)} ({member.iso2})" for member in m.reviewed)
        text += " " + L._("Peer-reviewed: {members}.").format(members=names)
    if m.reviewed_apart:
        text += " " + L._("Each KPI also gives its result over the peer-reviewed Members alone.")
    return text


def _participation_rows(m: _Model) -> list[tuple[Grouping, str, int]]:
    rows = []
    for grouping in Grouping:
        counts: dict[str, int] = {}
        for member in m.members:
            counts[member.group(grouping)] = counts.get(member.group(grouping), 0) + 1
        rows += [(grouping, c, counts[c]) for c in sorted(counts, key=lambda c: (group_order(grouping, c), c))]
    return rows


def _responses(m: _Model, page: _Page) -> None:
    L, catalog = m.L, m.catalog
    page.text("h3", L._("By dimension"))
    page.table(
        [L._("Dimension"), L._("KPIs"), L._("Answers given"), L._("Left blank")],
        [
            [
                catalog.dimension_by_id[r.dimension].name.get(L.code),
                L.number(r.kpis),
                count_of(L, r.answered, r.possible),
                count_of(L, r.blank, r.possible),
            ]
            for r in m.dimensions
        ],
        numeric=(1, 2, 3),
    )
    page.text("h3", L._("By KPI"))
    page.figure(
        m.chart(charts.responses_chart(catalog, m.stats, m.year, L, m.required, m.options.chart_format)),
        L._("Responses per KPI, by dimension"),
    )
    page.table(
        [L._("KPI"), L._("Answered"), L._("Left blank"), L._("Enough responses")],
        [
            [
                m.kpi_name(catalog.kpi(s.kpi_id)),
                count_of(L, s.answered, s.members),
                count_of(L, s.blank, s.members),
                L._("Yes") if s.answered and s.answered >= m.required else L._("No"),
            ]
            for s in m.stats
        ],
        numeric=(1, 2),
    )
    for heading, ranked in ((L._("Most answered KPIs"), m.most), (L._("Least answered KPIs"), m.least)):
        page.text("h4", heading)
        page.add(
            "<ol>"
            + "".join(
                f"<li>{escape(m.kpi_name(catalog.kpi(s.kpi_id)))}: {escape(count_of(L, s.answered, s.members))}</li>"
                for s in ranked
            )
            + "</ol>"
        )
    page.text("h3", L._("By dimension and WCO region"))
    page.figure(
        m.chart(charts.dimension_rates_chart(catalog, m.dimensions_by_region, m.year, L, m.options.chart_format)),
        L._("Response rate by dimension"),
    )
    page.table(
        [L._("WCO region"), L._("Dimension"), L._("Members"), L._("Answers given")],
        [
            [
                L._(group_label(Grouping.REGION, r.code)),
                catalog.dimension_by_id[r.dimension].name.get(L.code),
                L.number(r.members),
                count_of(L, r.answered, r.possible),
            ]
            for r in m.dimensions_by_region
        ],
        numeric=(2, 3),
    )


def _results(m: _Model, page: _Page) -> None:
    L = m.L
    page.text(
        "p",
        L._("The global result of each KPI over the Members that confirmed it; details by group in the KPI sections."),
    )
    extra = [L._("Peer-reviewed Members")] if m.reviewed_apart else []
    page.table(
        [
            L._("KPI"),
            L._("Measure"),
            L._("Responses"),
            L._("Result"),
            *extra,
            L._("Lowest"),
            L._("Highest"),
            L._("Disclosure"),
        ],
        [
            [
                m.kpi_name(a.kpi),
                L._(MEASURE_NAMES[a.measure]),
                count_of(L, a.n, a.participants),
                m.value(a.kpi, a.overall.value, a.measure) + _kept_mark(a.overall),
                *([_reviewed_cell(m, a)] if m.reviewed_apart else []),
                m.value(a.kpi, a.overall.minimum),
                m.value(a.kpi, a.overall.maximum),
                L._(LEVEL_NAMES[a.level]),
            ]
            for a in m.analyses
        ],
        numeric=(2, 3, 4, 5, 6) if m.reviewed_apart else (2, 3, 4, 5),
    )
    page.text("p", L._("Lowest and highest values are shown only for KPIs whose disclosure policy allows it."), "note")


def _reviewed_cell(m: _Model, a: KpiAnalysis) -> str:
    """The KPI's statistic over the peer-reviewed Members, with their count ("not shown" when it,
    or what it leaves out, would give a Member's figure away)."""
    s = a.reviewed
    if s is None or s.n == 0:
        return "—"
    if not s.shown:
        return m.L._("not shown")
    return f"{m.value(a.kpi, s.value, a.measure)}{_kept_mark(s)} ({m.L.number(s.n)})"


def _blanks(m: _Model, page: _Page) -> None:
    L, catalog, fmt = m.L, m.catalog, m.options.chart_format
    page.figure(
        m.chart(charts.blank_rate_chart(catalog, m.stats, m.year, L, highest=False, top=10, fmt=fmt)),
        L._("KPIs with the lowest rate of blank answers"),
    )
    page.figure(
        m.chart(charts.blank_rate_chart(catalog, m.stats, m.year, L, highest=True, top=15, fmt=fmt)),
        L._("KPIs with the highest rate of blank answers"),
    )
    if any(s.blank for s in m.stats):  # no chart of "the 0 KPIs left blank most often"
        page.figure(
            m.chart(charts.blank_reasons_chart(catalog, m.stats, m.year, L, top=5, fmt=fmt)),
            L._("Reasons for the KPIs left blank most often"),
        )
    page.figure(
        m.chart(charts.region_blanks_chart(m.region_blanks, m.year, L, fmt)), L._("Blank answers by WCO region")
    )
    page.table(
        [L._("WCO region"), L._("Members"), L._("Blank answers"), L._("KPIs left blank per Member, on average")],
        [
            [
                L._(group_label(Grouping.REGION, r.region)),
                L.number(r.members),
                L.number(r.blanks),
                L.percent(r.mean_share, 1),
            ]
            for r in m.region_blanks
        ],
        numeric=(1, 2, 3),
    )
    page.figure(
        m.chart(charts.regions_chart(catalog, m.reasons, len(m.members), m.year, L, fmt)),
        L._("Reasons for blank answers by WCO region"),
    )
    reasons = catalog.blank_reasons
    page.table(
        [L._("WCO region"), *(r.text.get(L.code) for r in reasons)],
        [
            [L._(group_label(Grouping.REGION, region)), *(L.number(counts.get(r.code, 0)) for r in reasons)]
            for region, counts in m.reasons.items()
        ],
        numeric=tuple(range(1, len(reasons) + 1)),
    )


def _year_on_year(m: _Model, page: _Page) -> None:
    L = m.L
    assert m.previous is not None
    page.text(
        "p",
        L._(
            "Each KPI over the Members that took part in both cycles and confirmed it in both, {before} and {now}."
        ).format(before=m.previous.cycle.year, now=m.year),
    )
    page.table(
        [
            L._("KPI"),
            L._("Measure"),
            L._("Members"),
            str(m.previous.cycle.year),
            str(m.year),
            L._("Change"),
        ],
        [
            [
                m.kpi_name(y.kpi),
                L._(MEASURE_NAMES[y.measure]),
                L.number(y.n),
                m.value(y.kpi, y.previous, y.measure) + _kept_mark(y),
                m.value(y.kpi, y.current, y.measure) + _kept_mark(y),
                _change(m, y),
            ]
            for y in m.changes
        ],
        numeric=(2, 3, 4, 5),
    )
    if any(y.complement for y in m.changes):
        page.text(
            "p",
            L._("—: not shown, so that the figure of a single Member cannot be worked out from the other figures."),
            "note",
        )


def _change(m: _Model, item: YearOnYear) -> str:
    if item.previous is None or item.current is None:
        return "—"
    decimals = statistic_decimals(item.kpi, item.measure)
    difference = rounded(item.current - item.previous, decimals) + 0  # + 0: no "-0"
    return ("+" if difference > 0 else "") + m.L.number(difference, decimals)


def _kpis(m: _Model, page: _Page) -> None:
    L = m.L
    for dimension in m.catalog.dimensions:
        page.text("h3", dimension.name.get(L.code))
        for analysis in m.analyses:
            if analysis.kpi.dimension == dimension.id:
                _kpi(m, page, analysis)


def _kpi(m: _Model, page: _Page, a: KpiAnalysis) -> None:
    L, kpi = m.L, a.kpi
    page.add(f'<section class="kpi" id="kpi-{escape(kpi.id)}">')
    page.text("h3", f"{m.kpi_name(kpi)} ({kpi.id})")
    page.text("p", kpi.summary.get(L.code))
    facts = [
        L._("Responses: {count}").format(count=count_of(L, a.n, a.participants)),
        L._("{measure}: {value}").format(
            measure=L._(MEASURE_NAMES[a.measure]),
            value=m.value(kpi, a.overall.value, a.measure) + _kept_mark(a.overall),
        ),
        L._("Unit: {unit}").format(unit=L._(UNIT_NAMES[kpi.result.unit])),
        L._("Disclosure: {level}").format(level=L._(LEVEL_NAMES[a.level])),
    ]
    if a.reviewed is not None:
        facts.insert(2, L._("Peer-reviewed Members: {value}").format(value=_reviewed_cell(m, a)))
    page.text("p", " · ".join(facts))
    if a.reviewed is not None and a.reviewed.n and not a.reviewed.shown:
        page.text("p", _reviewed_note(m), "note")
    if a.n == 0:
        page.text("p", L._("No Member confirmed a result for this KPI."), "note")
        page.add("</section>")
        return
    page.figure(
        m.chart(charts.kpi_chart(a, m.year, L, m.options.chart_format)),
        L._("{kpi} by group").format(kpi=m.kpi_name(kpi)),
    )
    rows = [
        [L._(GROUPING_NAMES[g]), *_group_cells(m, kpi, s, a.measure)] for g in Grouping for s in a.groups.get(g, ())
    ]
    page.table(
        [L._("Grouping"), L._("Group"), L._("Members"), L._(MEASURE_NAMES[a.measure]), L._("Lowest"), L._("Highest")],
        rows,
        numeric=(2, 3, 4, 5),
    )
    groups = [s for g in Grouping for s in a.groups.get(g, ())]
    if any(not s.shown and not s.complement for s in groups):
        page.text("p", _hidden_note(m, a.level), "note")
    if any(s.complement for s in groups):
        page.text("p", _complement_note(m), "note")
    kept = sorted({s.kept for s in (a.overall, *groups) if s.kept})
    if kept:
        page.text("p", _kept_note(m, kept[-1]), "note kept")
    prepared = m.options.prepared
    if prepared is not None and prepared.marked.get(kpi.id):
        count = prepared.marked[kpi.id]
        page.text(
            "p",
            L.ngettext(
                "Includes {n} figure still under review by the Secretariat.",
                "Includes {n} figures still under review by the Secretariat.",
                count,
            ).format(n=count),
            "note provisional",
        )
    for breakdown in a.breakdowns:
        _breakdown(m, page, kpi, breakdown)
    page.add("</section>")


def _group_cells(m: _Model, kpi: Kpi, s: GroupStat, measure: Measure) -> list[str]:
    L = m.L
    label = L._(group_label(s.grouping, s.code)) if s.grouping else L._("All Members")
    shown = m.value(kpi, s.value, measure) + _kept_mark(s) if s.shown else L._("not shown")
    return [label, L.number(s.n), shown, m.value(kpi, s.minimum), m.value(kpi, s.maximum)]


KEPT_MARK = " †"


def _kept_mark(stat: GroupStat | YearOnYear | PointStat) -> str:
    return KEPT_MARK if stat.kept else ""


def _kept_note(m: _Model, when: str) -> str:
    return m.L._(
        "†: as published on {date}, not updated, so that no Member's figure can be worked out from this "
        "publication and the earlier one."
    ).format(date=m.L.date(date.fromisoformat(when)))


def _reviewed_note(m: _Model) -> str:
    return m.L._(
        "The result over the peer-reviewed Members is not shown: with the result over all Members, it would "
        "give away the figure of a Member."
    )


def _hidden_note(m: _Model, level: Disclosure) -> str:
    return m.L._("Groups with only one Member are not shown: the disclosure policy of this KPI is {level}.").format(
        level=m.L._(LEVEL_NAMES[level])
    )


def _complement_note(m: _Model) -> str:
    return m.L._(
        "Some groups of several Members are not shown either, so that the figure of a single Member cannot be "
        "worked out from the other figures."
    )


def _breakdown(m: _Model, page: _Page, kpi: Kpi, b: BreakdownAnalysis) -> None:
    L = m.L
    name = b.disaggregation.label.get(L.code)
    status = L.ngettext(
        "{name}: {responses} of the {population} Member with a result gave it; {required} needed.",
        "{name}: {responses} of the {population} Members with a result gave it; {required} needed.",
        b.population,
    ).format(name=name, responses=b.responses, population=b.population, required=b.required)
    if not b.qualifies:
        page.text("p", status + " " + L._("Not analysed."), "note")
        return
    page.text("h4", name)
    page.text("p", status + " " + L._("Disclosure: {level}").format(level=L._(LEVEL_NAMES[b.level])), "note")
    if all(p.value is None for p in b.points):
        page.text("p", _hidden_note(m, b.level), "note")
        return
    page.table(
        [L._("Data point"), L._("Members"), L._("Average")],
        [
            [
                p.data_point.label.get(L.code),
                L.number(p.n),
                L.number(rounded(p.value, 2)) + _kept_mark(p) if p.value is not None else "—",
            ]
            for p in b.points
        ],
        numeric=(1, 2),
    )


# ---- workbook ------------------------------------------------------------------------------


def _number(kpi: Kpi, value: Decimal | None, measure: Measure | None = None) -> float | None:
    decimals = statistic_decimals(kpi, measure) if measure else kpi.result.decimals
    return None if value is None else float(rounded(value, decimals))


def _tables(m: _Model) -> list[Sheet]:
    L, catalog = m.L, m.catalog
    unit = {k.id: L._(UNIT_NAMES[k.result.unit]) for k in catalog.kpis}
    sheets = [
        Sheet(
            L._("Participation"),
            [L._("Grouping"), L._("Group"), L._("Members"), L._("Share")],
            [
                [L._(GROUPING_NAMES[g]), L._(group_label(g, c)), n, n / len(m.members) if m.members else 0]
                for g, c, n in _participation_rows(m)
            ],
            {3: PERCENT},
        ),
        Sheet(
            L._("Response rates"),
            [
                L._("Dimension"),
                L._("KPI"),
                L._("KPI name"),
                L._("Participating Members"),
                L._("Answered"),
                L._("Left blank"),
                L._("Response rate"),
                L._("Blank rate"),
                L._("Enough responses"),
            ],
            [_rate_row(m, s) for s in m.stats],
            {6: PERCENT, 7: PERCENT},
        ),
        Sheet(
            L._("Dimensions"),
            [
                L._("Dimension"),
                L._("Grouping"),
                L._("Group"),
                L._("Members"),
                L._("KPIs"),
                L._("Answers given"),
                L._("Left blank"),
                L._("Possible answers"),
                L._("Response rate"),
            ],
            [
                [
                    catalog.dimension_by_id[r.dimension].name.get(L.code),
                    L._(GROUPING_NAMES[r.grouping]) if r.grouping else L._("All Members"),
                    L._(group_label(r.grouping, r.code)) if r.grouping else L._("All Members"),
                    r.members,
                    r.kpis,
                    r.answered,
                    r.blank,
                    r.possible,
                    r.answered / r.possible if r.possible else 0,
                ]
                for r in [*m.dimensions, *m.dimensions_by_region]
            ],
            {8: PERCENT},
        ),
        Sheet(
            L._("KPI results"),
            [
                L._("KPI"),
                L._("KPI name"),
                L._("Disclosure"),
                L._("Measure"),
                L._("Grouping"),
                L._("Group"),
                L._("Members"),
                L._("Result"),
                L._("Lowest"),
                L._("Highest"),
                L._("Unit"),
                L._("Note"),
            ],
            [
                [
                    a.kpi.id,
                    m.kpi_name(a.kpi),
                    L._(LEVEL_NAMES[a.level]),
                    L._(MEASURE_NAMES[a.measure]),
                    *_stat_labels(m, s),
                    s.n,
                    _number(a.kpi, s.value, a.measure),
                    _number(a.kpi, s.minimum),
                    _number(a.kpi, s.maximum),
                    unit[a.kpi.id],
                    None
                    if s.shown or s.n == 0
                    else _reviewed_note(m)
                    if s is a.reviewed
                    else _complement_note(m)
                    if s.complement
                    else _hidden_note(m, a.level),
                ]
                for a in m.analyses
                for s in (
                    a.overall,
                    *(s for g in Grouping for s in a.groups.get(g, ())),
                    *([a.reviewed] if a.reviewed is not None else []),
                )
            ],
        ),
        Sheet(
            L._("Disaggregated data"),
            [
                L._("KPI"),
                L._("KPI name"),
                L._("Breakdown"),
                L._("Disclosure"),
                L._("Members with a result"),
                L._("Members that gave it"),
                L._("Needed"),
                L._("Analysed"),
                L._("Data point"),
                L._("Members"),
                L._("Average"),
            ],
            [row for a in m.analyses for b in a.breakdowns for row in _breakdown_rows(m, a.kpi, b)],
        ),
        Sheet(
            L._("Blank reasons"),
            [
                L._("KPI"),
                L._("KPI name"),
                L._("Left blank"),
                L._("Blank rate"),
                *(r.text.get(L.code) for r in catalog.blank_reasons),
            ],
            [
                [
                    s.kpi_id,
                    m.kpi_name(catalog.kpi(s.kpi_id)),
                    s.blank,
                    s.blank / s.members if s.members else 0,
                    *(s.reasons.get(r.code, 0) for r in catalog.blank_reasons),
                ]
                for s in m.stats
            ],
            {3: PERCENT},
        ),
        Sheet(
            L._("Blanks by region"),
            [L._("WCO region"), L._("Members"), L._("Blank answers"), L._("KPIs left blank per Member, on average")],
            [
                [L._(group_label(Grouping.REGION, r.region)), r.members, r.blanks, float(r.mean_share / 100)]
                for r in m.region_blanks
            ],
            {3: PERCENT},
        ),
        Sheet(
            L._("Reasons by region"),
            [L._("WCO region"), *(r.text.get(L.code) for r in catalog.blank_reasons)],
            [
                [L._(group_label(Grouping.REGION, region)), *(counts.get(r.code, 0) for r in catalog.blank_reasons)]
                for region, counts in m.reasons.items()
            ],
        ),
    ]
    if m.previous is not None:
        sheets.append(
            Sheet(
                L._("Year on year"),
                [
                    L._("KPI"),
                    L._("KPI name"),
                    L._("Measure"),
                    L._("Members"),
                    L._("Result {year}").format(year=m.previous.cycle.year),
                    L._("Result {year}").format(year=m.year),
                    L._("Unit"),
                ],
                [
                    [
                        y.kpi.id,
                        m.kpi_name(y.kpi),
                        L._(MEASURE_NAMES[y.measure]),
                        y.n,
                        _number(y.kpi, y.previous, y.measure),
                        _number(y.kpi, y.current, y.measure),
                        unit[y.kpi.id],
                    ]
                    for y in m.changes
                ],
            )
        )
    prepared = m.options.prepared
    if prepared is not None:
        about = Sheet(
            L._("Publication"),
            [L._("Item"), L._("Value")],
            [
                [L._("Publication"), stamp_text(L, m.options, m.year)],
                [L._("Before publication"), gate_text(L, prepared.excluded)],
                *([[L._("Status"), provisional_text(L)]] if prepared.stamp.provisional else []),
            ],
        )
        sheets.insert(0, about)
        if prepared.annex:
            sheets.append(
                Sheet(
                    L._("Annex I (Members only)"),
                    [L._("KPI"), L._("KPI name"), L._("Members"), L._("Skewness"), L._("Distribution")],
                    [[k.id, m.kpi_name(k), n, float(round(v, 2)), _skew_words(L, v)] for k, n, v in prepared.annex],
                )
            )
    stamp = stamp_text(L, m.options, m.year)
    if prepared is None:  # a working document: the stamp printed on every page only
        return [replace(sheet, print_header=stamp) for sheet in sheets]
    return [replace(sheet, stamp=stamp) for sheet in sheets]


def _stat_labels(m: _Model, s: GroupStat) -> tuple[str, str]:
    """The Grouping and Group columns of a statistic."""
    L = m.L
    if s.grouping is not None:
        return L._(GROUPING_NAMES[s.grouping]), L._(group_label(s.grouping, s.code))
    if s.code == "reviewed":
        return L._("Peer-reviewed Members"), L._("Peer-reviewed Members")
    return L._("All Members"), L._("All Members")


def _skew_words(L: Lang, skewness: Decimal) -> str:
    if skewness > Decimal("0.5"):
        return L._("Skewed: most results low, a few much higher")
    if skewness < Decimal("-0.5"):
        return L._("Skewed: most results high, a few much lower")
    return L._("Roughly symmetric")


def _annex(m: _Model, page: _Page) -> None:
    L = m.L
    assert m.options.prepared is not None
    page.text(
        "p",
        L._(
            "For the Members only (report on the first PMM cycle, Annex I): how the results of each KPI are "
            "spread, by their skewness. A KPI whose results should be as high as possible but are skewed towards low values "
            "points to an area for capacity building. Only KPIs whose disclosure policy lets every NCP see "
            "the Members' results are listed."
        ),
    )
    page.table(
        [L._("KPI"), L._("Members"), L._("Skewness"), L._("Distribution")],
        [
            [m.kpi_name(k), L.number(n), L.number(rounded(v, 2), 2), _skew_words(L, v)]
            for k, n, v in m.options.prepared.annex
        ],
        numeric=(1, 2),
    )


def _rate_row(m: _Model, s: KpiStats) -> list[Cell]:
    L, kpi = m.L, m.catalog.kpi(s.kpi_id)
    return [
        m.catalog.dimension_by_id[kpi.dimension].name.get(L.code),
        kpi.id,
        m.kpi_name(kpi),
        s.members,
        s.answered,
        s.blank,
        s.answered / s.members if s.members else 0,
        s.blank / s.members if s.members else 0,
        L._("Yes") if s.answered and s.answered >= m.required else L._("No"),
    ]


def _breakdown_rows(m: _Model, kpi: Kpi, b: BreakdownAnalysis) -> list[list[Cell]]:
    L = m.L
    head: list[Cell] = [
        kpi.id,
        m.kpi_name(kpi),
        b.disaggregation.label.get(L.code),
        L._(LEVEL_NAMES[b.level]),
        b.population,
        b.responses,
        b.required,
        L._("Yes") if b.qualifies else L._("No"),
    ]
    if not b.points:
        return [[*head, None, None, None]]
    return [
        [*head, p.data_point.label.get(L.code), p.n, float(rounded(p.value, 2)) if p.value is not None else None]
        for p in b.points
    ]
