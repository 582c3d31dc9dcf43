"""The one place for what an action changes (pmm_core.domain.actions), as a spec: the Member's
data before, an intent, the change set. Above all the rule that changing a figure reopens the
KPIs that use it, which the chat, a file's summary and its Apply share; and in the chat, a
breakdown figure that another KPI asks as its own reopens that KPI too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Confirm, Edit, Go
from conversations.kit.buttons import pack
from pmm_core.catalog.models import Catalog
from pmm_core.domain import actions
from pmm_core.domain.actions import ChangeSet, KpiChange
from pmm_core.domain.progress import Snapshot
from pmm_core.domain.records import Answer, KpiState, KpiStatus
from tests.chat import Chat, texts

BY = ChangeSet(user_id=7, cycle_id=1, member="BE")
IN_PROGRESS = KpiChange(KpiState.IN_PROGRESS)


def snap(catalog: Catalog, figures: dict[str, str], **states: KpiState) -> Snapshot:
    answers = {dp: Answer(value, 7, "t") for dp, value in figures.items()}
    return Snapshot(
        catalog, answers, {k.replace("_", "-"): KpiStatus(s, None, None, 7, "t") for k, s in states.items()}
    )


# (figures before, states before, the KPI answered, figure, value) → KPIs reopened
CASES = [
    # a confirmed KPI's own figure changes: it and every confirmed KPI using it reopen
    (
        {"es_alcohol_seizures": "5"},
        {"ES_03": KpiState.CONFIRMED, "ES_05": KpiState.CONFIRMED},
        "ES-05",
        "es_alcohol_seizures",
        "6",
        {"ES-03", "ES-05"},
    ),
    # the same value again changes nothing
    (
        {"es_alcohol_seizures": "5"},
        {"ES_03": KpiState.CONFIRMED, "ES_05": KpiState.CONFIRMED},
        "ES-05",
        "es_alcohol_seizures",
        "5",
        set(),
    ),
    # a KPI left blank whose own figure is answered reopens, even with the value it had
    ({"es_alcohol_seizures": "5"}, {"ES_05": KpiState.BLANK}, "ES-05", "es_alcohol_seizures", "5", {"ES-05"}),
    # ...but another KPI left blank that uses the figure stays blank
    ({}, {"ES_03": KpiState.BLANK}, "ES-05", "es_alcohol_seizures", "5", set()),
    # a breakdown figure of TF-10 that RC-01 and RC-04 ask as their own: the confirmed ones reopen
    (
        {"rc_import_declarations": "10"},
        {"RC_01": KpiState.CONFIRMED, "TF_10": KpiState.CONFIRMED},
        "TF-10",
        "rc_import_declarations",
        "12",
        {"RC-01"},
    ),
]


@pytest.mark.parametrize(("figures", "states", "kpi", "dp", "value", "reopened"), CASES)
def test_answering_a_figure(catalog, figures, states, kpi, dp, value, reopened):
    changes = actions.answer(snap(catalog, figures, **states), BY, catalog.kpi(kpi), catalog.data_points[dp], value)
    assert changes.answers == {dp: value} and changes.started == (kpi,)
    assert changes.kpis == dict.fromkeys(sorted(reopened), IN_PROGRESS)


def test_a_file_reopens_like_the_chat_and_leaves_blank_what_it_says(catalog):
    before = snap(
        catalog,
        {"es_alcohol_seizures": "5"},
        ES_03=KpiState.CONFIRMED,
        ES_05=KpiState.BLANK,
        ES_06=KpiState.BLANK,
    )
    writes = {"es_alcohol_seizures": "6", "es_cigarettes_seizures": "4"}
    changes = actions.apply_upload(before, BY, writes, [("ES-06", "no_detail", "")], given_for=["ES-05", "ES-06"])
    assert changes.kpis == {
        "ES-03": IN_PROGRESS,  # confirmed, its figure changes
        "ES-05": IN_PROGRESS,  # left blank, its figures given
        "ES-06": KpiChange(KpiState.BLANK, reason="no_detail"),  # blank again, as the file says
    }
    assert "ES-04" in changes.started and "ES-03" not in changes.started


def test_the_data_after_a_change_set(catalog):
    before = snap(catalog, {"es_alcohol_seizures": "5"}, ES_05=KpiState.CONFIRMED)
    changes = actions.answer(before, BY, catalog.kpi("ES-05"), catalog.data_points["es_alcohol_seizures"], "6")
    after = actions.after(before, changes)
    assert after.values == {"es_alcohol_seizures": "6"}
    assert after.states["ES-05"].status is KpiState.IN_PROGRESS


NCP = 1001


async def test_in_the_chat_a_breakdown_figure_reopens_the_kpi_that_asks_it_as_its_own(chat: Chat, store) -> None:
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=1))}")
    await chat.press(NCP, pack(Go("RC-01")))
    rc01 = [dp.id for dp in chat.catalog.main_data_points(chat.catalog.kpi("RC-01"))]
    assert "rc_import_declarations" in rc01
    for _ in rc01:
        await chat.say(NCP, "100")
    await chat.tap(NCP, Confirm, kpi="RC-01")
    assert chat.cycle is not None
    assert store.kpi_states(chat.cycle.id, "BE")["RC-01"].status is KpiState.CONFIRMED
    await chat.press(NCP, pack(Go("TF-10")))
    await chat.say(NCP, "50")
    await chat.say(NCP, "100")
    await chat.tap(NCP, Confirm, kpi="TF-10")
    tf10 = chat.catalog.kpi("TF-10")
    shared = chat.catalog.asked_data_points(tf10).index(chat.catalog.data_points["rc_import_declarations"])
    await chat.press(NCP, pack(Edit("TF-10", shared)))  # the breakdown figure, asked on its own
    sent = await chat.say(NCP, "90")  # RC-01 had 100
    assert store.answers(chat.cycle.id, "BE")["rc_import_declarations"].value == "90"
    assert store.kpi_states(chat.cycle.id, "BE")["RC-01"].status is KpiState.IN_PROGRESS
    assert "RC-01" in texts(sent)  # "This figure is also used by RC-01: confirm their results again"
