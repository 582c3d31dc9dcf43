"""Carry forward through the real PTB stack: the second cycle starts from the first one's
answers, shown and stored only once the NCP confirms them; every figure shows last cycle's
value; a KPI left blank can be left blank again in one press; a past cycle imported from a
workbook gives the same; and the benchmark's walk through all 51 KPIs takes at most half
the actions of the first cycle."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest

from bench.carry_forward import report
from bench.carry_forward import run as walk_both_cycles
from conversations.collect import buttons as btn
from conversations.collect.moves import BlankAgain, OneByOne, SkipKpi
from conversations.kit.buttons import pack
from conversations.review.buttons import SubmitNow
from pmm_core import jobs
from pmm_core.catalog.loader import load_catalog
from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.records import Answer, Cycle, CycleData, CycleState, KpiState, KpiStatus, Submission
from pmm_core.outputs.cycle_import import read_cycle
from tests.chat import kinds, start_chat, texts
from tests.test_transactions import commits

NCP = 1001
T = "2025-02-01T10:00:00+00:00"
TF01 = [dp.id for dp in load_catalog().main_data_points(load_catalog().kpi("TF-01"))]
LAST = {
    **{dp: ("yes" if i % 3 else "no") for i, dp in enumerate(TF01)},
    "tf_aeo_valid": "1300",
    "tf_aeo_valid_prev": "1200",
    "tf_air_passengers_inspected": "5000",
    "tf_air_passengers": "2000000",
}


def last_cycle(catalog) -> CycleData:
    """Belgium's 2024 cycle: TF-01's nine answers, TF-02 and TF-07 confirmed, TF-08 left blank."""
    states = {
        "TF-01": KpiStatus(KpiState.CONFIRMED, None, None, 7, T),
        "TF-02": KpiStatus(KpiState.CONFIRMED, None, None, 7, T),
        "TF-07": KpiStatus(KpiState.CONFIRMED, None, None, 7, T),
        "TF-08": KpiStatus(KpiState.BLANK, "no_detail", "No register of commitments.", 7, T),
    }
    return CycleData(
        cycle=Cycle(0, 2024, date(2025, 1, 1), date(2025, 3, 31), CycleState.CLOSED),
        members={},
        answers={"BE": {dp: Answer(v, 7, T) for dp, v in LAST.items()}},
        states={"BE": states},
        submissions={"BE": Submission(T, 7, None)},
    )


@pytest.fixture
async def chat(chat, store, catalog):
    store.import_cycle(last_cycle(catalog))
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


def stored(chat) -> dict[str, Answer]:
    return dict(chat.store.answers(chat.cycle.id, "BE"))


def state(chat, kpi: str) -> KpiState | None:
    found = chat.store.kpi_states(chat.cycle.id, "BE").get(kpi)
    return found.status if found else None


async def test_a_checklist_is_the_same_as_last_cycle_in_one_press(chat):
    sent = await chat.press(NCP, pack(btn.Go("TF-01")))
    shown = texts(sent)
    # straight to the result with last cycle's nine answers, nothing asked, nothing stored yet
    assert "Question" not in shown and "From your 2024 answers, kept when you confirm:" in shown
    assert "A. Engagement mechanisms: <b>No</b>" in shown and "B. " in shown
    assert "Same as last cycle" in sent[-1].button_labels()
    assert {"OneByOne", "SkipKpi"} <= set(kinds(sent[-1:]))
    assert stored(chat) == {} and state(chat, "TF-01") is None
    sent = await chat.tap(NCP, btn.Confirm, kpi="TF-01")
    assert "TF-01 confirmed, with your 2024 answers." in texts(sent)
    answers = stored(chat)
    assert {dp: a.value for dp, a in answers.items()} == {dp: LAST[dp] for dp in TF01}
    assert {a.source for a in answers.values()} == {"carried:2024"}
    assert state(chat, "TF-01") is KpiState.CONFIRMED
    audit = [r for r in chat.store.audit_log(chat.cycle.id, "BE") if r.action == "answer"]
    assert len(audit) == 9 and {r.source for r in audit} == {"carried:2024"}


async def test_a_checklist_item_by_item_shows_last_cycles_answer_and_stores_each(chat):
    await chat.press(NCP, pack(btn.Go("TF-01")))
    sent = await chat.tap(NCP, OneByOne, kpi="TF-01")
    assert "Question 1 of 9" in sent[-1].text and "↺ 2024: <b>No</b>" in sent[-1].text
    await chat.tap(NCP, btn.Choice, kpi="TF-01", dp=0, choice=1)  # changed: yes now
    sent = await chat.tap(NCP, btn.Choice, kpi="TF-01", dp=1, choice=1)  # as last cycle
    assert "Question 3 of 9" in sent[-1].text and "↺ 2024: <b>Yes</b>" in sent[-1].text
    assert {dp: a.value for dp, a in stored(chat).items()} == {TF01[0]: "yes", TF01[1]: "yes"}
    # Skip this KPI: the rest waits; the two answers stay, and nothing else was stored
    await chat.tap(NCP, btn.Back, kpi="TF-01", dp=2)
    sent = await chat.press(NCP, pack(btn.Go("TF-01")))
    assert "From your 2024 answers" in texts(sent) and "Confirm" in sent[-1].button_labels()  # 2 changed, 7 carried
    await chat.tap(NCP, btn.Confirm, kpi="TF-01")
    answers = stored(chat)
    assert answers[TF01[0]].value == "yes" and answers[TF01[0]].source == "chat"
    assert answers[TF01[2]].value == LAST[TF01[2]] and answers[TF01[2]].source == "carried:2024"


async def test_every_figure_shows_last_cycles_value_and_the_year_before_is_carried(chat):
    sent = await chat.press(NCP, pack(btn.Go("TF-02")))
    assert "Question 1 of 2" in sent[-1].text and "↺ 2024: <b>1.300</b>" in sent[-1].text
    sent = await chat.say(NCP, "1350")
    # B (AEOs of 2024) is not asked: it is the 2024 figure given last cycle, shown on the result
    result = sent[-1].text
    assert "B = AEOs with a valid status (previous year): 1.300" in result
    assert "↺ From your 2024 answers" in result and "Confirm" in sent[-1].button_labels()
    assert set(stored(chat)) == {"tf_aeo_valid"}
    await chat.tap(NCP, btn.Confirm, kpi="TF-02")
    assert stored(chat)["tf_aeo_valid_prev"].value == "1300" and state(chat, "TF-02") is KpiState.CONFIRMED
    # …and the breakdown, given by nobody in 2024, is not offered again (one press away instead)
    assert "Optional: would you like to add a breakdown" not in texts(chat.api.messages_to(NCP)[-3:])


async def test_a_kpi_left_blank_last_cycle_is_left_blank_again_in_one_press(chat):
    sent = await chat.press(NCP, pack(btn.Go("TF-08")))
    shown = texts(sent)
    assert "In 2024 you left this KPI blank: the database does not provide this level of detail." in shown
    assert "No register of commitments." in shown
    sent = await chat.tap(NCP, BlankAgain, kpi="TF-08")
    assert "TF-08 left blank again, as in 2024" in texts(sent)
    found = chat.store.kpi_states(chat.cycle.id, "BE")["TF-08"]
    assert (found.status, found.reason, found.comment) == (KpiState.BLANK, "no_detail", "No register of commitments.")
    # a forged or stale press changes nothing more
    before = len(chat.store.audit_log())
    await chat.tap(NCP, BlankAgain, kpi="TF-08")
    assert len(chat.store.audit_log()) == before


async def test_proposals_changed_meanwhile_are_not_confirmed_blindly(chat, store):
    sent = await chat.press(NCP, pack(btn.Go("TF-01")))
    old = chat.find(NCP, btn.Confirm, kpi="TF-01")
    # another NCP's file answers item A meanwhile: the screen's Confirm no longer holds
    store.apply(store_edit(chat, {TF01[0]: "yes"}))
    sent = await chat.press(NCP, old)
    assert "was changed meanwhile" in texts(sent) or "earlier screen" in texts(sent)
    assert state(chat, "TF-01") is KpiState.IN_PROGRESS and set(stored(chat)) == {TF01[0]}  # not confirmed


def store_edit(chat, answers):
    return ChangeSet(NCP, chat.cycle.id, "BE", answers=answers, started=("TF-01",), source="file:x.xlsx")


async def test_the_template_carries_last_cycles_values(chat):
    data = jobs.template_file(chat.store.path, chat.cycle.id, "BE", "en")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["TF"]
    keys = {str(c.value): c.column for c in ws[1] if c.value}
    rows = {str(ws.cell(r, keys["id"]).value): r for r in range(3, ws.max_row + 1)}
    assert ws.cell(2, keys["previous"]).value == "Given in the 2024 cycle"
    assert ws.cell(rows["tf_aeo_valid"], keys["previous"]).value == 1300
    assert ws.cell(rows["tf_aeo_valid_prev"], keys["previous"]).value == 1300


async def test_an_imported_past_cycle_gives_carry_forward_and_year_on_year(store, catalog, cycle):
    """The 2024 cycle comes from a workbook (five plain columns); 2025 then starts from it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Member", "Data point", "Value", "KPI", "Status"])
    for dp, value in LAST.items():
        ws.append(["BE", dp, value, None, None])
    for kpi in ("TF-01", "TF-02", "TF-07"):
        ws.append(["BE", None, None, kpi, "done"])
    buffer = io.BytesIO()
    wb.save(buffer)
    store.import_cycle(read_cycle(catalog, store.members(), buffer.getvalue(), 2024, "import:t.xlsx", store.now()))
    chat = await start_chat(store, catalog)
    chat.cycle = cycle
    try:
        await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
        sent = await chat.press(NCP, pack(btn.Go("TF-07")))
        assert "↺ 2024: <b>5.000</b>" in sent[-1].text
        await chat.say(NCP, "5200")
        await chat.say(NCP, "2100000")
        await chat.tap(NCP, btn.Confirm, kpi="TF-07")
        await chat.press(NCP, pack(btn.Go("TF-01")))
        await chat.tap(NCP, btn.Confirm, kpi="TF-01")
        await chat.say(NCP, "/submit")
        await chat.tap(NCP, SubmitNow)
        book = openpyxl.load_workbook(
            io.BytesIO(jobs.export_xlsx(store.path, cycle.id, "en", datetime(2026, 2, 1))), read_only=True
        )
        years = list(book["Year on year"].iter_rows(values_only=True))
        assert {r[3] for r in years[1:] if r[0] == "BE"} >= {"TF-01", "TF-07"}
    finally:
        await chat.app.shutdown()


async def test_cycle_two_takes_at_most_half_the_actions_of_cycle_one():
    one, two = await walk_both_cycles("BE", 2026)
    print(report(one, two, load_catalog()))  # the benchmark's table
    assert two.total <= one.total / 2, (one.total, two.total)
    assert one.actions["WT-01"] >= 41 and two.actions["WT-01"] == 1  # 41 tools: one press
    assert two.actions["TF-01"] == 1


async def test_same_as_last_cycle_and_blank_again_are_one_transaction_each(chat, store):
    await chat.press(NCP, pack(btn.Go("TF-01")))
    assert await commits(store, lambda: chat.tap(NCP, btn.Confirm, kpi="TF-01")) == 1  # 9 answers, state, next KPI
    await chat.press(NCP, pack(btn.Go("TF-08")))
    assert await commits(store, lambda: chat.tap(NCP, BlankAgain, kpi="TF-08")) == 1
    await chat.press(NCP, pack(btn.Go("TF-03")))
    assert await commits(store, lambda: chat.tap(NCP, SkipKpi, kpi="TF-03")) == 1  # navigation: the step
