"""Publications as records (issue 22): a report for one audience, built after a quality gate,
with nothing derivable from it and everything the audience already received, stamped, stored,
and the source of the NCPs' benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from pmm_core.catalog.models import Catalog
from pmm_core.domain.analysis import Basis, Options
from pmm_core.domain.records import CycleData
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.report import ReportOptions, build_report
from pmm_core.publishing.build import ANALYSIS_AUDIENCE, Ledger, PopulationRefused, Publication, build_publication
from pmm_core.publishing.model import (
    AUDIENCE_WORDS,
    DEFAULT_DECISION,
    Cell,
    CellStatus,
    Decision,
    GateItem,
    GateKind,
    PubAudience,
    Stage,
)
from pmm_core.publishing.storage import Outdated, PubInfo, last_id, ledger, save
from pmm_core.storage.store import Store

__all__ = [
    "AUDIENCE_WORDS",
    "DEFAULT_DECISION",
    "Built",
    "Cell",
    "CellStatus",
    "Decision",
    "GateItem",
    "GateKind",
    "Ledger",
    "Outdated",
    "PopulationRefused",
    "PubAudience",
    "PubInfo",
    "Publication",
    "Stage",
    "build",
    "build_publication",
    "publish",
    "render",
]

LANGUAGES = ("en", "fr", "es")


@dataclass(frozen=True)
class Built:
    """A publication built on a read-only connection, ready to be saved (lean: no analyses)."""

    publication: Publication
    files: dict[str, list[tuple[str, bytes]]]  # language → (name, bytes)
    built_after: int  # the latest publication it took into account


def file_stem(pub: Publication, number: int) -> str:
    return f"pmm-{pub.year}-{pub.audience.value}-{pub.stage.value}-{number}"


def render(
    catalog: Catalog,
    data: CycleData,
    previous: CycleData | None,
    pub: Publication,
    number: int,
    languages: Sequence[str] = LANGUAGES,
) -> dict[str, list[tuple[str, bytes]]]:
    """The publication's report (HTML and XLSX) in each language, stamped."""
    options = ReportOptions(
        Options(basis=pub.basis, audience=ANALYSIS_AUDIENCE[pub.audience]),
        as_of=pub.published,
        prepared=pub.prepared(number),
    )
    out = {}
    stem = file_stem(pub, number)
    for code in languages:
        files = build_report(catalog, data, previous, lang(code), options)
        out[code] = [(f"{stem}-{code}.html", files.html), (f"{stem}-{code}.xlsx", files.xlsx)]
    return out


def build(
    store: Store,
    catalog: Catalog,
    cycle_id: int,
    audience: PubAudience,
    stage: Stage,
    decision: Decision,
    today: date,
    basis: Basis = Basis.SUBMITTED,
    languages: Sequence[str] = LANGUAGES,
    reviewed_apart: bool = False,
) -> Built:
    """Builds (does not save) the publication of a cycle for `audience` against what is stored."""
    data = store.cycle_data(cycle_id)
    before = store.previous_cycle(data.cycle)
    previous = store.cycle_data(before.id) if before is not None else None
    built_after = last_id(store)
    pub = build_publication(
        catalog,
        data,
        previous,
        audience,
        stage,
        ledger(store, audience),
        today,
        decision,
        basis,
        reviewed_apart=reviewed_apart,
    )
    files = render(catalog, data, previous, pub, built_after + 1, languages)
    return Built(replace(pub, analyses=(), changes=(), annex=()), files, built_after)


def publish(
    store: Store,
    catalog: Catalog,
    cycle_id: int,
    audience: PubAudience,
    stage: Stage,
    today: date,
    decision: Decision | None = None,
    by: int | None = None,
    basis: Basis = Basis.SUBMITTED,
    languages: Sequence[str] = LANGUAGES,
    reviewed_apart: bool = False,
) -> tuple[int, Built]:
    """Builds and saves a publication in this process (the CLI, tests); built again if another
    publication was saved meanwhile."""
    chosen = decision or DEFAULT_DECISION[audience]
    for _ in range(3):
        built = build(store, catalog, cycle_id, audience, stage, chosen, today, basis, languages, reviewed_apart)
        try:
            return save(store, cycle_id, built.publication, by, built.files, built.built_after), built
        except Outdated:
            continue
    raise Outdated("other publications keep being saved; try again")
