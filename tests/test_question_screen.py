"""How a pending question is shown: an explanation asked for with the Explain button is
followed by the same question again, and a scale whose option labels are too long for
a button lists them in full, numbered, so that typing the number picks one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Go, Number, Skip
from conversations.collect.steps import Asking
from conversations.explain.buttons import Explain
from conversations.kit.buttons import pack
from conversations.kit.state import parse_state
from conversations.onboarding.buttons import Language
from pmm_core.catalog.models import Catalog
from tests.chat import Chat, kinds, texts

NCP = 1001


@pytest.fixture
async def chat(chat, store):
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}")
    return chat


def pending(chat: Chat):
    stored = chat.store.conversation(NCP)
    assert stored is not None
    return parse_state(stored.state).step


def answers(chat: Chat) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "BE").items()}


@pytest.mark.parametrize("explained", ["TF-02", "TF-03"])  # the pending KPI, or another one
async def test_explain_while_a_figure_is_pending_then_the_same_question(chat, store, explained):
    await chat.press(NCP, pack(Go("TF-02")))
    await chat.say(NCP, "1300")
    question = chat.api.last_to(NCP)
    assert "Question 2 of 2" in question.text and question.text.startswith("✔️ Saved")
    before = (pending(chat), answers(chat), len(store.audit_log()))
    sent = await chat.press(NCP, pack(Explain(explained)))
    assert len(sent) >= 2
    assert f"<b>{explained} ·" in sent[0].text and "Question" not in sent[0].text  # the explanation
    last = sent[-1]
    assert last.text == question.text.split("\n\n", 1)[1]  # then the pending question again (no "Saved")
    assert kinds([last]) == kinds([question]) == ["Explain", "Blank", "Back", "Skip"]
    step = pending(chat)
    assert isinstance(step, Asking) and (step.kpi, step.dp) == ("TF-02", "tf_aeo_valid_prev")
    assert (pending(chat), answers(chat), len(store.audit_log())) == before
    # the question's buttons are those of the current screen: Skip works
    sent = await chat.tap(NCP, Skip, kpi="TF-02", dp=1)
    assert "Skipped for now" in texts(sent)


async def test_explain_with_nothing_pending_adds_no_question(chat):
    sent = await chat.press(NCP, pack(Explain("TF-03")))
    assert len(sent) == 1 and "<b>TF-03 ·" in sent[0].text
    assert "Question" not in texts(sent)


def scale_labels(catalog: Catalog, kpi: str, language: str) -> list[str]:
    dp = catalog.asked_data_points(catalog.kpi_by_id[kpi])[0]
    return [c.label.get(language) for c in dp.choices]


@pytest.mark.parametrize("kpi", ["WT-01", "WT-02"])
async def test_long_scale_labels_are_listed_in_full_and_picked_by_number(chat, store, catalog, kpi):
    labels = scale_labels(catalog, kpi, "fr")
    assert any(len(label) > 50 for label in labels), "no long label left in the catalog: pick another scale"
    await chat.say(NCP, "/language", language_code="fr")
    await chat.tap(NCP, Language, code="fr", language_code="fr")
    sent = await chat.press(NCP, pack(Go(kpi)), language_code="fr")
    question = sent[-1]
    for n, label in enumerate(labels, 1):
        assert f"{n}. {label}" in question.text  # the whole label, numbered
    assert kinds([question]).count("Choice") == len(labels)
    assert all(label.startswith(f"{n}.") for n, label in enumerate(question.button_labels()[: len(labels)], 1))
    dp = catalog.asked_data_points(catalog.kpi_by_id[kpi])[0]
    sent = await chat.say(NCP, "2", language_code="fr")
    assert labels[1] in sent[0].text
    assert answers(chat) == {dp.id: dp.choices[1].code}


async def test_explain_while_a_number_is_ambiguous_then_the_same_choice(chat, store):
    await chat.press(NCP, pack(Go("ES-05")))
    sent = await chat.say(NCP, "1,000")  # one thousand, or one? (Belgium's English: "," is the decimal mark)
    choice = sent[-1]
    assert kinds([choice]).count("Number") == 2
    before = (chat.store.conversation(NCP).state, answers(chat))
    sent = await chat.press(NCP, pack(Explain("ES-05")))
    assert "<b>ES-05 ·" in sent[0].text
    assert sent[-1].text == choice.text and kinds(sent[-1:]) == kinds([choice])
    assert (chat.store.conversation(NCP).state, answers(chat)) == before
    sent = await chat.tap(NCP, Number, kpi="ES-05", dp=0, option=0)
    assert answers(chat) != {}
