"""No dead ends, through the real PTB stack: a breakdown figure is reachable and correctable
after its KPI is confirmed from /kpis, from Change a figure and from a Secretariat question's
Open button; the end of a pass brings skipped figures back; Skip this KPI leaves any KPI in
one press; onboarding ends with Start and /next."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect import buttons as btn
from conversations.collect.moves import SkipKpi
from conversations.kit.buttons import pack, unpack
from conversations.onboarding.buttons import Profile
from conversations.review.buttons import Dimension, OpenKpi
from pmm_core.domain.actions import ChangeSet, KpiChange, NewFlag
from pmm_core.domain.records import FlagState, KpiState
from tests.chat import kinds, texts

NCP = 1001
EXPORTERS = "tf_aeo_exporters"


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


def value(chat, dp: str) -> str | None:
    answer = chat.store.answers(chat.cycle.id, "BE").get(dp)
    return answer.value if answer else None


def tf02_state(chat) -> KpiState:
    return chat.store.kpi_states(chat.cycle.id, "BE")["TF-02"].status


async def confirm_tf02_with_an_exporters_breakdown(chat) -> None:
    await chat.press(NCP, pack(btn.Go("TF-02")))
    await chat.say(NCP, "1300")
    await chat.say(NCP, "1000")
    sent = await chat.tap(NCP, btn.Confirm, kpi="TF-02")
    assert "AddBreakdown" in kinds(sent)  # the first cycle offers the breakdowns
    sent = await chat.tap(NCP, btn.AddBreakdown, kpi="TF-02", group=0)
    assert "AEOs: exporters" in sent[-1].text or "exporters" in sent[-1].text
    await chat.say(NCP, "200")
    await chat.tap(NCP, btn.NextKpi, kpi="TF-02")  # Stop the breakdown
    assert value(chat, EXPORTERS) == "200" and tf02_state(chat) is KpiState.CONFIRMED


def index_of(chat, dp: str) -> int:
    kpi = chat.catalog.kpi("TF-02")
    return chat.catalog.asked_data_points(kpi).index(chat.catalog.data_points[dp])


async def correct_the_breakdown(chat, new: str) -> None:
    """The breakdown question is on screen: a new figure, saved; back to the confirmed result."""
    question = chat.api.last_to(NCP).text
    assert "By type of operator" in question and "Current answer: <b>" in question
    sent = await chat.say(NCP, new)
    assert f"Saved: AEOs: exporters = <b>{new}</b>" in sent[0].text
    assert "Status: done" in sent[-1].text and {"ChangeList", "NextKpi"} <= set(kinds(sent[-1:]))
    assert value(chat, EXPORTERS) == new and tf02_state(chat) is KpiState.CONFIRMED  # still confirmed


async def test_a_breakdown_corrected_after_confirmation_from_kpis(chat):
    await confirm_tf02_with_an_exporters_breakdown(chat)
    await chat.say(NCP, "/kpis")
    await chat.tap(NCP, Dimension, dimension="TF")
    sent = await chat.tap(NCP, OpenKpi, kpi="TF-02")
    assert "Status: done" in sent[-1].text
    sent = await chat.tap(NCP, btn.ChangeList, kpi="TF-02")
    labels = sent[-1].button_labels()
    assert "AEOs: exporters: 200" in labels and "AEOs: importers: —" in labels  # every breakdown figure
    assert len(labels) == 2 + 8 and "then come the breakdowns" in sent[-1].text
    await chat.tap(NCP, btn.Edit, kpi="TF-02", dp=index_of(chat, EXPORTERS))
    await correct_the_breakdown(chat, "210")


async def test_a_breakdown_corrected_after_confirmation_from_change_a_figure(chat):
    await confirm_tf02_with_an_exporters_breakdown(chat)
    await chat.press(NCP, pack(btn.Go("TF-02")))  # the confirmed result
    await chat.tap(NCP, btn.ChangeList, kpi="TF-02")
    await chat.tap(NCP, btn.Edit, kpi="TF-02", dp=index_of(chat, EXPORTERS))
    await correct_the_breakdown(chat, "220")
    # and a breakdown figure never given is reachable the same way after confirmation
    await chat.tap(NCP, btn.ChangeList, kpi="TF-02")
    await chat.tap(NCP, btn.Edit, kpi="TF-02", dp=index_of(chat, "tf_aeo_importers"))
    await chat.say(NCP, "300")
    assert value(chat, "tf_aeo_importers") == "300" and tf02_state(chat) is KpiState.CONFIRMED


async def test_a_breakdown_corrected_after_confirmation_from_a_secretariat_question(chat, store):
    await confirm_tf02_with_an_exporters_breakdown(chat)
    store.save_flags(chat.cycle.id, create=[("BE", NewFlag("TF-02", EXPORTERS, ("outlier",), "detail"))])
    flag = store.flags(chat.cycle.id)[0]
    store.set_flag_state(flag.id, FlagState.ASKED, 9001)
    sent = await chat.say(NCP, "/next")
    opened = [(p.button, d) for d in sent[0].button_data() if (p := unpack(d)) and isinstance(p.button, btn.OpenFigure)]
    assert [(b.kpi, b.dp) for b, _ in opened] == [("TF-02", index_of(chat, EXPORTERS))]  # exactly the breakdown
    await chat.press(NCP, opened[0][1])
    await correct_the_breakdown(chat, "230")


async def test_a_breakdown_is_reachable_before_confirmation_too(chat):
    sent = await chat.press(NCP, pack(btn.Go("TF-02")))
    assert "ChangeList" in kinds(sent[:1])  # on the KPI's card
    sent = await chat.tap(NCP, btn.ChangeList, kpi="TF-02")
    assert len(sent[-1].buttons) == 10
    await chat.tap(NCP, btn.Edit, kpi="TF-02", dp=index_of(chat, EXPORTERS))
    sent = await chat.say(NCP, "40")
    assert value(chat, EXPORTERS) == "40"


async def test_the_end_of_a_pass_brings_the_skipped_figures_back(chat, store):
    blank = {k.id: KpiChange(KpiState.BLANK, "no_detail") for k in chat.catalog.kpis if k.id not in ("TF-02", "TF-03")}
    store.apply(ChangeSet(NCP, chat.cycle.id, "BE", kpis=blank))
    await chat.say(NCP, "/next")
    sent = await chat.tap(NCP, btn.Skip, kpi="TF-02", dp=0)  # one figure skipped
    await chat.say(NCP, "1000")  # the other given
    sent = await chat.press(NCP, chat.find(NCP, SkipKpi, kpi="TF-03"))  # a whole KPI skipped
    end = texts(sent)
    assert "You have been through every KPI. Skipped for now: TF-02, TF-03 (3 figures)." in end
    assert "They come next: press Continue or type /next." in end
    assert "Every KPI has an answer or a reason" not in end
    sent = await chat.say(NCP, "/next")  # the skipped figures come back
    assert "TF-02" in sent[-1].text and "Question 1 of 2" in sent[-1].text
    await chat.say(NCP, "1300")
    sent = await chat.tap(NCP, btn.Confirm, kpi="TF-02")
    await chat.tap(NCP, btn.NextKpi, kpi="TF-02")
    sent = chat.api.messages_to(NCP)[-2:]
    assert "TF-03" in texts(sent)  # then the whole KPI skipped


@pytest.mark.parametrize(("kpi", "figures"), [("TF-01", 9), ("WT-01", 41)])
async def test_skip_this_kpi_on_every_question_moves_on_in_one_press(chat, kpi, figures):
    sent = await chat.press(NCP, pack(btn.Go(kpi)))
    assert f"Question 1 of {figures}" in sent[-1].text and "Skip this KPI" in sent[-1].button_labels()
    before = len(chat.store.audit_log())
    sent = await chat.tap(NCP, SkipKpi, kpi=kpi)
    assert f"Skipped for now: {kpi}." in sent[0].text
    next_screen = sent[-1].text.split("\n", 1)[1] if len(sent) == 1 else sent[-1].text  # one message per action
    assert kpi not in next_screen and "Question 1 of" in next_screen  # already on the next KPI
    assert len(chat.store.audit_log()) == before  # nothing stored


async def test_onboarding_ends_with_start_and_next(chat, store):
    other = 1002
    sent = await chat.say(other, f"/start {store.create_invite('FR', timedelta(days=3))}")
    assert "Profile" in kinds(sent)
    await chat.tap(other, Profile, field="type", code="customs_agency")
    sent = await chat.tap(other, Profile, field="geo", code="island")
    last = sent[-1]
    assert "/next" in last.text and "Start ▸" in last.button_labels()
    sent = await chat.press_label(other, "Start ▸")
    assert "TF-01" in texts(sent) and "Question 1 of 9" in sent[-1].text
    # "Later" ends the same way
    third = 1003
    sent = await chat.say(third, f"/start {store.create_invite('KE', timedelta(days=3))}")
    sent = await chat.tap(third, Profile, field="type", code="later")
    assert "Start ▸" in sent[-1].button_labels() and "/next" in sent[-1].text
