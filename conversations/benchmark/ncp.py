"""/benchmark and /myreport: an NCP's results beside the figures published for all NCPs.

/benchmark gives the publication it reads, a summary (KPIs above and below the figure of all
Members) and the dimensions; a dimension lists its KPIs, one line each; a KPI gives its chart (the
NCP's own point highlighted, captions in the NCP's language) and the same as text, for screen
readers. /myreport sends the report for the administration (HTML and XLSX, built in the worker).
Everything is the NCP's own Member's: a button carries only the publication's number, and one that
is not a publication for all NCPs shows nothing."""

from __future__ import annotations

from html import escape

from telegram import Update

from conversations.benchmark import buttons as b
from conversations.benchmark.routes import router
from conversations.kit.context import Context
from conversations.kit.roles import Who
from conversations.kit.send import Row, send, send_document, send_photo
from conversations.kit.session import Session, session
from conversations.kit.text import esc, short
from pmm_core import jobs
from pmm_core.domain.analysis import MEASURE_NAMES
from pmm_core.domain.disclosure import LEVEL_NAMES
from pmm_core.publishing import storage
from pmm_core.publishing.benchmark import Benchmark, KpiBenchmark, benchmark
from pmm_core.publishing.benchmark_chart import benchmark_chart, caption
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
from pmm_core.publishing.model import PubAudience


async def _ncp(s: Session) -> str | None:
    if s.user.is_ncp and s.user.member:
        return s.user.member
    await send(
        s,
        s.lang._("Benchmarks are for National Contact Points: they compare your administration with the others."),
    )
    return None


async def _benchmark(s: Session, member: str, pub: int | None = None) -> Benchmark | None:
    bench = benchmark(s.store, s.catalog, member, publication=pub)
    if bench is None:
        await send(
            s,
            s.lang._("No benchmarks yet: they come once the WCO Secretariat publishes a cycle's results for all NCPs."),
        )
    return bench


@router.command("benchmark")
async def on_benchmark(update: Update, context: Context) -> None:
    """/benchmark [KPI]: your results beside the published figures."""
    s = session(update, context)
    member = await _ncp(s)
    if member is None or (bench := await _benchmark(s, member)) is None:
        return
    args = [a.upper() for a in context.args or []]
    if args:
        found = next((k for k in bench.kpis if k.kpi.id == args[0]), None)
        if found is None:
            await send(s, esc(s.lang._("Usage: /benchmark [a KPI, e.g. {example}]").format(example="TF-10")))
            return
        await send_kpi(s, bench, found)
        return
    await send_overview(s, bench)


@router.command("myreport")
async def on_myreport(update: Update, context: Context) -> None:
    """/myreport: the report for your administration (HTML and XLSX)."""
    s = session(update, context)
    member = await _ncp(s)
    if member is None or (bench := await _benchmark(s, member)) is None:
        return
    await send_my_report(s, member, bench.publication)


async def send_my_report(s: Session, member: str, pub: int) -> None:
    await send(s, s.lang._("Preparing the report for your administration…"))
    files = await s.bot.worker.run(jobs.member_report, s.store.path, member, s.lang.code, pub)
    for name, data in files.files:
        await send_document(s, data, name, s.lang._("PMM: your administration's results and benchmarks."))


async def send_overview(s: Session, bench: Benchmark) -> None:
    L = s.lang
    mine, above, below, without = summary_counts(bench)
    lines = [
        "<b>" + esc(L._("Your benchmarks · PMM {year}").format(year=bench.year)) + "</b>",
        esc(publication_line(L, bench)),
        "",
        esc(
            L._(
                "{member}: a result on {mine} KPIs; above the figure of all Members on {above}, below on {below}; "
                "{without} without a result."
            ).format(member=bench.member.name(L.code), mine=mine, above=above, below=below, without=without)
        ),
    ]
    if not bench.counted:
        lines.append(
            esc(
                L._(
                    "Your administration had not submitted when this was published: its results are not counted in these figures."
                )
            )
        )
    lines.append("")
    lines.append(esc(L._("Choose a dimension:")))
    rows: list[Row] = [
        [(short(d.name.get(L.code)), b.BenchDimension(bench.publication, d.id))] for d in s.catalog.dimensions
    ]
    rows.append([(L._("Report for your administration"), b.MyReport(bench.publication))])
    await send(s, "\n".join(lines), rows)


def kpi_line(s: Session, bench: Benchmark, k: KpiBenchmark) -> str:
    L = s.lang
    head = f"<b>{esc(k.kpi.id)}</b> {esc(k.kpi.name.get(L.code))}"
    if k.own is None:
        return head + "\n" + esc(L._("You: {value}").format(value=blank_text(L, s.catalog, k)))
    measure = L._(MEASURE_NAMES[k.measure]).lower()
    text = L._("You: {own} · all Members ({measure}): {overall}").format(
        own=own_value(L, k.kpi, k.own), measure=measure, overall=statistic(L, k, k.overall.value)
    )
    position = position_text(L, k)
    return head + "\n" + esc(text) + (f"\n<i>{esc(position)}</i>" if position else "")


async def send_dimension(s: Session, bench: Benchmark, dim: str) -> None:
    L = s.lang
    dimension = s.catalog.dimension_by_id.get(dim)
    if dimension is None:
        return
    kpis = [k for k in bench.kpis if k.kpi.dimension == dim]
    lines = ["<b>" + esc(dimension.name.get(L.code)) + "</b>", ""]
    lines += [kpi_line(s, bench, k) + "\n" for k in kpis]
    with_result = [k for k in kpis if k.own is not None or k.overall.value is not None]
    rows = [
        [(k.kpi.id, b.BenchKpi(bench.publication, k.kpi.id)) for k in with_result[i : i + 4]]
        for i in range(0, len(with_result), 4)
    ]
    await send(s, "\n".join(lines), rows)


def kpi_text(s: Session, bench: Benchmark, k: KpiBenchmark) -> str:
    """The chart's content as text (for screen readers, and for whoever prefers words)."""
    L = s.lang
    lines = [f"<b>{esc(k.kpi.id)} · {esc(k.kpi.name.get(L.code))}</b>"]
    if k.own is not None:
        lines.append(esc(L._("Your result: {value}").format(value=own_value(L, k.kpi, k.own))))
        change = change_text(L, k, bench.year)
        if change:
            lines.append(esc(L._("Year on year: {change}").format(change=change)))
        position = position_text(L, k)
        if position:
            lines.append(esc(L._("You are {position}.").format(position=position)))
    else:
        lines.append(esc(L._("Your result: {value}").format(value=blank_text(L, s.catalog, k))))
    lines.append("")
    lines.append(esc(L._("{measure} as published:").format(measure=L._(MEASURE_NAMES[k.measure]))))
    lines += [esc("• " + figure_text(L, k, f)) for f in (k.overall, *k.groups)]
    if any(f.kept for f in (k.overall, *k.groups)):
        lines.append(esc(L._("†: as published earlier, kept unchanged.")))
    if k.distribution:
        values = k.distribution
        lines.append(
            esc(
                L.ngettext(
                    "Every result, unnamed ({n} Member): lowest {low}, median {mid}, highest {high}.",
                    "Every result, unnamed ({n} Members): lowest {low}, median {mid}, highest {high}.",
                    len(values),
                ).format(
                    n=len(values),
                    low=own_value(L, k.kpi, values[0]),
                    mid=own_value(L, k.kpi, values[len(values) // 2]),
                    high=own_value(L, k.kpi, values[-1]),
                )
            )
        )
    else:
        lines.append(
            esc(
                L._(
                    "Disclosure {level}: the Members' results are not shared, only the published figures above."
                ).format(level=L._(LEVEL_NAMES[k.level]))
            )
        )
    return "\n".join(lines)


async def send_kpi(s: Session, bench: Benchmark, k: KpiBenchmark) -> None:
    L = s.lang
    if k.own is not None or k.overall.value is not None:
        png = await s.bot.worker.run(_chart, bench, k, L.code)
        await send_photo(s, png, f"pmm-{bench.year}-{k.kpi.id}.png", escape(caption(bench, k, L))[:1024])
    await send(s, kpi_text(s, bench, k))


def _chart(bench: Benchmark, k: KpiBenchmark, language: str) -> bytes:
    from pmm_core.outputs.i18n import lang

    return benchmark_chart(bench, k, lang(language))


@router.press(b.PublicationFiles, who=Who.ANYONE)
async def on_files(s: Session, button: b.PublicationFiles) -> None:
    """The report of a publication for all NCPs (or the public), in the reader's language."""
    if await _ncp(s) is None:
        return
    info = storage.publication(s.store, button.pub)
    if info is None or info.audience not in (PubAudience.WCO, PubAudience.PUBLIC):
        await send(s, s.lang._("This button is no longer valid."))
        return
    for name, data in storage.files(s.store, button.pub, s.lang.code):
        await send_document(s, data, name, s.lang._("PMM {year} report.").format(year=info.year))


async def _pressed(s: Session, pub: int) -> tuple[str, Benchmark] | None:
    member = await _ncp(s)
    if member is None or (bench := await _benchmark(s, member, pub)) is None:
        return None
    return member, bench


@router.press(b.BenchOpen, who=Who.ANYONE)
async def on_open(s: Session, button: b.BenchOpen) -> None:
    """The overview of a publication's benchmarks."""
    if (found := await _pressed(s, button.pub)) is not None:
        await send_overview(s, found[1])


@router.press(b.BenchDimension, who=Who.ANYONE)
async def on_dimension(s: Session, button: b.BenchDimension) -> None:
    """One dimension's KPIs, a line each."""
    if (found := await _pressed(s, button.pub)) is not None:
        await send_dimension(s, found[1], button.dim)


@router.press(b.BenchKpi, who=Who.ANYONE)
async def on_kpi(s: Session, button: b.BenchKpi) -> None:
    """One KPI: its chart and its text."""
    if (found := await _pressed(s, button.pub)) is not None:
        kb = next((k for k in found[1].kpis if k.kpi.id == button.kpi), None)
        if kb is not None:
            await send_kpi(s, found[1], kb)


@router.press(b.MyReport, who=Who.ANYONE)
async def on_my_report(s: Session, button: b.MyReport) -> None:
    """The report for the administration, from this publication."""
    if (found := await _pressed(s, button.pub)) is not None:
        await send_my_report(s, found[0], button.pub)


async def offer_benchmarks(s: Session) -> None:
    """On the receipt: the benchmarks of the latest publication for all NCPs, if there is one."""
    latest = storage.latest(s.store, PubAudience.WCO)
    if latest is None:
        return
    await send(
        s,
        esc(
            s.lang._("The PMM {year} results are published: see how your administration compares.").format(
                year=latest.year
            )
        ),
        [[(s.lang._("Your benchmarks"), b.BenchOpen(latest.id))]],
    )
