"""/publish, /benchmark and /myreport through the real PTB stack against the fake Bot API: the
Secretariat publishes after the quality gate, NCPs get their benchmarks, and for each disclosure
level an NCP is shown exactly what the level allows."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from conversations.benchmark import buttons as bb
from conversations.benchmark import publish as publishing_chat
from conversations.kit.buttons import pack
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.catalog.models import Catalog, Disclosure
from pmm_core.domain.actions import NewFlag
from pmm_core.domain.analysis import confirmed_results, member_values, participants
from pmm_core.domain.records import CycleState, Role
from pmm_core.outputs.i18n import lang
from pmm_core.publishing import PubAudience, Stage, publish, storage
from pmm_core.publishing.benchmark_text import own_value, statistic
from pmm_core.samples.synthetic import synthetic_cycles
from pmm_core.storage.store import Store
from tests.chat import Chat, start_chat, texts

SEC, NCP, OTHER = 9001, 7001, 7002
DAY = date(2026, 5, 4)


def union_catalog() -> Catalog:
    """The catalog with OD-02 at Union level (no KPI of PMM v.1 has it)."""
    base = load_catalog()
    kpis = tuple(
        k.model_copy(update={"disclosure": k.disclosure.model_copy(update={"kpi": Disclosure.UNION})})
        if k.id == "OD-02"
        else k
        for k in base.kpis
    )
    return Catalog.model_construct(**{**{f: getattr(base, f) for f in Catalog.model_fields}, "kpis": kpis})


CATALOG = union_catalog()
LEVELS = {"TF-10": Disclosure.PUBLIC, "RC-02": Disclosure.WCO, "OD-02": Disclosure.UNION, "TF-07": Disclosure.COUNTRY}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, str]:
    """Two closed cycles of 62 Members, each published for all NCPs; the Member whose NCP reads."""
    path = tmp_path_factory.mktemp("bench") / "pmm.sqlite3"
    store = Store.open(path)
    store.import_members(read_members())
    first, second = synthetic_cycles(CATALOG, read_members(), [2024, 2025], seed=2025, participants=62)
    for data in (first, second):
        cycle = store.import_cycle(data).id
        publish(store, CATALOG, cycle, PubAudience.WCO, Stage.FINAL, DAY, languages=())
    members = participants(second)
    values = member_values(second, members)
    having = [set(confirmed_results(CATALOG, second, CATALOG.kpi(k), members, values)) for k in LEVELS]
    member = sorted(set.intersection(*having))[0]
    store.close()
    return path, member


@pytest.fixture
async def chat(published, tmp_path) -> AsyncIterator[Chat]:
    path, member = published
    shutil.copy(path, tmp_path / "pmm.sqlite3")
    store = Store.open(tmp_path / "pmm.sqlite3")
    chat = await start_chat(store, CATALOG, secretariat_ids=frozenset({SEC}))
    await chat.say(NCP, f"/start {store.create_invite(member, timedelta(days=3))}")
    yield chat
    await chat.app.shutdown()
    store.close()


def _member(chat: Chat) -> str:
    user = chat.store.user(NCP)
    assert user is not None and user.member
    return user.member


def _others(chat: Chat, kpi: str) -> dict[str, Decimal]:
    pub = storage.latest(chat.store, PubAudience.WCO)
    assert pub is not None
    return {m: v for m, v in storage.results(chat.store, pub.id)[kpi].items() if m != _member(chat)}


@pytest.mark.parametrize("kpi", ["TF-10", "RC-02"])
async def test_public_and_wco_levels_show_every_result_unnamed_with_the_own_point(chat, kpi):
    sent = await chat.say(NCP, f"/benchmark {kpi}")
    photo, text = sent[0], texts(sent[1:])
    assert photo.method == "sendPhoto" and photo.params["photo"]["data"].startswith(b"\x89PNG")
    assert "PMM 2025" in photo.text  # the caption
    assert "Every result, unnamed" in text and "Your result:" in text
    assert "quarter of the results" in text  # where it stands, without a rank
    for name in chat.store.members().values():  # no other Member is named
        if name.iso2 != _member(chat):
            assert name.name("en") not in text


@pytest.mark.parametrize("kpi", ["OD-02", "TF-07"])
async def test_union_and_country_levels_show_only_the_published_aggregates(chat, kpi):
    L = lang("en")
    sent = await chat.say(NCP, f"/benchmark {kpi}")
    text = texts(sent)
    level = {"OD-02": "Union", "TF-07": "Country"}[kpi]
    assert f"Disclosure {level}: the Members' results are not shared" in text
    assert "Every result" not in text and "quarter" not in text
    pub = storage.latest(chat.store, PubAudience.WCO)
    assert pub is not None
    cells = storage.cells(chat.store, pub.id)
    from pmm_core.publishing.benchmark import benchmark

    bench = benchmark(chat.store, CATALOG, _member(chat))
    assert bench is not None
    kb = next(k for k in bench.kpis if k.kpi.id == kpi)
    published = {statistic(L, kb, c.value) for k, c in cells.items() if f"|kpi|{kpi}|" in k and c.value is not None}
    own = own_value(L, kb.kpi, kb.own)
    for member, value in _others(chat, kpi).items():
        shown = own_value(L, kb.kpi, value)
        assert shown not in text or shown in published or shown == own, (member, shown)


async def test_the_benchmark_overview_dimensions_and_kpi_buttons(chat):
    sent = await chat.say(NCP, "/benchmark")
    text = texts(sent)
    assert "Your benchmarks · PMM 2025" in text and "Final publication for all NCPs" in text
    sent = await chat.tap(NCP, bb.BenchDimension, dim="TF")
    assert "TF-10" in texts(sent)
    sent = await chat.tap(NCP, bb.BenchKpi, kpi="TF-10")
    assert sent[0].method == "sendPhoto"


async def test_forged_and_foreign_buttons_show_nothing_of_anyone(chat):
    public = publish(
        chat.store, CATALOG, chat.store.latest_cycle().id, PubAudience.PUBLIC, Stage.FINAL, DAY, languages=()
    )[0]
    sent = await chat.press(NCP, pack(bb.BenchOpen(public)))  # a public publication is no benchmark
    assert "No benchmarks yet" in texts(sent)
    sent = await chat.press(NCP, pack(bb.BenchKpi(99999, "TF-10")))
    assert "No benchmarks yet" in texts(sent)
    sent = await chat.say(OTHER, "/benchmark")  # not an NCP
    assert "for National Contact Points" in texts(sent)
    sent = await chat.press(OTHER, pack(bb.BenchOpen(public)))
    assert "for National Contact Points" in texts(sent)


async def test_myreport_is_html_and_xlsx_in_the_ncps_language(chat):
    await chat.say(NCP, "/language")
    chat.store.set_language(NCP, "fr")
    sent = await chat.say(NCP, "/myreport", language_code="fr")
    documents = [m.params["document"] for m in sent if m.method == "sendDocument"]
    assert [d["filename"].rsplit(".", 1)[1] for d in documents] == ["html", "xlsx"]
    html = documents[0]["data"].decode("utf-8")
    member = chat.store.member(_member(chat))
    assert member is not None and member.name("fr") in html and '<html lang="fr">' in html
    workbook = openpyxl.load_workbook(io.BytesIO(documents[1]["data"]))
    assert workbook.sheetnames[0] == "Vos résultats" and workbook.worksheets[0]["A1"].value.startswith("MMP 2025")


@pytest.fixture
async def small(tmp_path) -> AsyncIterator[Chat]:
    """A cycle of 12 Members (the report is built in three languages: kept small), an NCP."""
    store = Store.open(tmp_path / "small.sqlite3")
    store.import_members(read_members())
    [data] = synthetic_cycles(CATALOG, read_members(), [2025], seed=7, participants=12)
    store.import_cycle(replace(data, cycle=replace(data.cycle, state=CycleState.CLOSED)))
    chat = await start_chat(store, CATALOG, secretariat_ids=frozenset({SEC}))
    await chat.say(NCP, f"/start {store.create_invite(sorted(data.submissions)[0], timedelta(days=3))}")
    yield chat
    await chat.app.shutdown()
    store.close()


async def test_publish_through_chat_with_the_quality_gate(small, monkeypatch):
    monkeypatch.setattr(publishing_chat, "LANGUAGES", ("en",))  # one report built, not three
    chat = small
    store = chat.store
    cycle = store.latest_cycle()
    assert cycle is not None
    store.save_flags(cycle.id, create=[(_member(chat), NewFlag("TF-04", "", ("outlier",), "robust z 78.8"))])
    sent = await chat.say(SEC, f"/publish {cycle.year} wco")
    text = texts(sent)
    assert "1 figure is still under review" in text and "TF-04" in text
    assert "Default for this audience: exclude them." in text
    stale = chat.find(SEC, bb.PublishGo, decision="exclude")
    before = len(storage.publications(store))
    sent = await chat.press(SEC, stale)
    assert "Publication no." in texts(sent)
    assert len(storage.publications(store)) == before + 1
    info = storage.latest(store, PubAudience.WCO)
    assert info is not None and info.summary["gate"]["excluded"] == {"unresolved": 1}  # type: ignore[index]
    assert [m.params["document"]["filename"] for m in sent if m.method == "sendDocument"][-1].endswith(".xlsx")
    sent = await chat.press(SEC, stale)  # the same button again: nothing more is published
    assert "earlier screen" in texts(sent) and len(storage.publications(store)) == before + 1
    await chat.drain()
    announced = chat.api.messages_to(NCP)[-1]
    assert "published for all NCPs" in announced.text and "/benchmark" in announced.text


async def test_publish_is_for_the_secretariat_and_started_stays_internal(chat):
    sent = await chat.say(NCP, "/publish 2025 public")
    assert "Secretariat only" in texts(sent)
    sent = await chat.say(SEC, "/publish 2025 public started")
    assert "for the Secretariat only" in texts(sent)
    sent = await chat.say(SEC, "/publish 2025")
    assert "Usage: /publish" in texts(sent)
    assert chat.store.user(NCP).role is Role.NCP
