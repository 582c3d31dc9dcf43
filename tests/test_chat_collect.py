"""The NCP's KPI walk-through, driven through the real PTB stack against the fake Bot API."""

from datetime import timedelta

import pytest

from conversations.collect.buttons import (
    AddBreakdown,
    Back,
    Blank,
    ChangeList,
    Choice,
    Confirm,
    Edit,
    Go,
    NextKpi,
    Reason,
    Skip,
)
from conversations.explain.buttons import Explain, More
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Language
from conversations.review.buttons import OpenKpi, SubmitNow
from pmm_core.domain.records import KpiState
from tests.chat import buttons, kinds, texts

NCP, NCP2, OTHER = 1001, 1002, 2001


@pytest.fixture
async def chat(chat, store):
    """Two NCPs of Belgium and one of France. Belgium's NCPs read English with Belgium's
    number format (Babel's en_BE: 1.234,5 and 98,1%)."""
    for user, member in ((NCP, "BE"), (NCP2, "BE"), (OTHER, "FR")):
        await chat.say(user, f"/start {store.create_invite(member, timedelta(days=3))}")
    return chat


async def answers(chat, member="BE"):
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, member).items()}


async def states(chat, member="BE"):
    return {k: (s.status, s.reason) for k, s in chat.store.kpi_states(chat.cycle.id, member).items()}


def go(kpi):
    return pack(Go(kpi))


async def test_ratio_kpi_from_card_to_confirm(chat):
    sent = await chat.press(NCP, go("TF-03"))
    assert len(sent) == 1  # the card and the first question: one message
    assert "AEO involvement in trade" in sent[0].text
    assert "2 figures to give for 2025" in sent[0].text
    assert "Question 1 of 2" in sent[0].text and "Year: 2025" in sent[0].text
    assert {"Explain", "Blank", "Back", "Skip"} <= set(kinds(sent))
    await chat.say(NCP, "250,000,000")
    sent = await chat.say(NCP, "1,000,000,000")
    # A = 250 000 000 USD, B = 1 000 000 000 USD: 250e6 / 1e9 * 100 = 25 %
    assert "25%" in texts(sent)
    assert "250.000.000 / 1.000.000.000 × 100" in texts(sent)
    assert {"Confirm", "ChangeList"} <= set(kinds(sent))
    assert await answers(chat) == {"tf_aeo_trade_value": "250000000", "tf_trade_value": "1000000000"}
    sent = await chat.tap(NCP, Confirm, kpi="TF-03")
    assert (await states(chat))["TF-03"] == (KpiState.CONFIRMED, None)
    assert "1 of 51 KPI" in texts(sent)


async def test_bad_input_is_explained_and_asked_again(chat):
    await chat.press(NCP, go("ES-05"))
    sent = await chat.say(NCP, "twelve")
    assert "is not a number" in sent[0].text and "12.400" in sent[0].text
    assert "Question 1 of 2" in sent[0].text
    sent = await chat.say(NCP, "12.5")
    assert "whole number" in sent[0].text
    sent = await chat.say(NCP, "-3")
    assert "cannot be negative" in sent[0].text
    assert await answers(chat) == {}


async def test_variation_with_zero_base_is_not_computable(chat):
    await chat.press(NCP, go("ES-03"))
    await chat.say(NCP, "40")
    sent = await chat.say(NCP, "0")
    assert "divide by zero" in texts(sent)
    assert "Confirm" not in kinds(sent)
    assert {"ChangeList", "Blank"} <= set(kinds(sent))


async def test_shared_figure_is_not_asked_twice(chat):
    await chat.press(NCP, go("ES-03"))
    await chat.say(NCP, "40")  # alcohol seizures in 2025, shared with ES-05
    await chat.say(NCP, "32")
    await chat.tap(NCP, Confirm, kpi="ES-03")
    sent = await chat.press(NCP, go("ES-05"))
    assert "You told us earlier" in sent[0].text and "<b>40</b>" in sent[0].text
    assert len(sent) == 1 and "Question 2 of 2" in sent[0].text  # goes straight to the inspections
    sent = await chat.say(NCP, "400")
    # 40 seizures / 400 physical inspections * 100 = 10 %
    assert "10%" in texts(sent)


async def test_yes_no_questionnaire_with_buttons_and_words(chat):
    sent = await chat.press(NCP, go("OD-07"))
    assert kinds(sent)[:2] == ["Choice", "Choice"]
    await chat.tap(NCP, Choice, kpi="OD-07", dp=0, choice=1)
    await chat.say(NCP, "no")
    sent = await chat.tap(NCP, Choice, kpi="OD-07", dp=2, choice=1)
    # (1 + 0 + 1) / 3 * 100 = 66.666… → 66.67 %
    assert "66,67%" in texts(sent)


async def test_back_and_skip(chat):
    await chat.press(NCP, go("TF-02"))
    await chat.say(NCP, "1300")
    sent = await chat.tap(NCP, Back, kpi="TF-02", dp=1)
    assert "Question 1 of 2" in sent[0].text and "Current answer: <b>1.300</b>" in sent[0].text
    sent = await chat.tap(NCP, Skip, kpi="TF-02", dp=0)
    assert "Skipped for now" in sent[0].text and "Question 2 of 2" in sent[0].text
    sent = await chat.tap(NCP, Skip, kpi="TF-02", dp=1)
    assert "still to come" in texts(sent)
    assert "TF-01" in texts(sent)  # moved on to the next KPI that needs the NCP


async def test_back_on_a_first_figure_goes_to_the_previous_kpi(chat):
    sent = await chat.press(NCP, go("TF-01"))
    sent = await chat.tap(NCP, Back, kpi="TF-01", dp=0)
    assert "first figure of the first KPI" in sent[0].text and "Question 1 of 9" in sent[0].text
    await chat.press(NCP, go("TF-03"))
    sent = await chat.tap(NCP, Back, kpi="TF-03", dp=0)
    assert "TF-02" in sent[0].text and "Question 2 of 2" in sent[0].text  # TF-02's last figure


async def test_breakdown_questions_have_back_and_skip_with_an_acknowledgement(chat):
    await chat.press(NCP, go("TF-03"))
    await chat.say(NCP, "250")
    await chat.say(NCP, "1000")
    await chat.tap(NCP, Confirm, kpi="TF-03")
    sent = await chat.tap(NCP, AddBreakdown, kpi="TF-03", group=0)
    assert {"Back", "Skip", "NextKpi"} <= set(kinds(sent))
    await chat.say(NCP, "100")
    sent = await chat.tap(NCP, Skip, kpi="TF-03")
    assert "Skipped for now" in sent[0].text and "Question 3 of 4" in sent[0].text
    sent = await chat.tap(NCP, Back, kpi="TF-03")
    assert "Question 2 of 4" in sent[0].text


async def test_blank_with_reason_and_comment_then_answer_later(chat):
    await chat.press(NCP, go("ES-15"))
    sent = await chat.tap(NCP, Blank, kpi="ES-15")
    assert kinds(sent)[:5] == ["Reason"] * 5
    sent = await chat.tap(NCP, Reason, kpi="ES-15", reason=3)
    assert "does not provide this level of detail" in texts(sent)
    await chat.say(NCP, "Seizures are not split by type of goods.")
    state = chat.store.kpi_states(chat.cycle.id, "BE")["ES-15"]
    assert (state.status, state.reason, state.comment) == (
        KpiState.BLANK,
        "no_detail",
        "Seizures are not split by type of goods.",
    )
    assert await answers(chat) == {}  # blank is a reason, never a 0
    await chat.press(NCP, go("ES-15"))  # opening it changes nothing…
    assert (await states(chat))["ES-15"][0] is KpiState.BLANK
    await chat.say(NCP, "12")  # …answering a figure does
    assert (await states(chat))["ES-15"][0] is KpiState.IN_PROGRESS


async def test_explain_from_a_question_and_from_free_text(chat):
    await chat.press(NCP, go("TF-03"))
    sent = await chat.tap(NCP, Explain, kpi="TF-03")
    assert "Definition" in sent[0].text and "A/B*100" in sent[0].text
    sent = await chat.say(OTHER, "what is aeo involvement?")
    assert "AEO involvement in trade" in sent[0].text
    sent = await chat.say(9999, "/explain gender balance")
    assert "Gender Balance Ratio" in sent[0].text  # anyone, even unbound


@pytest.mark.parametrize(
    ("language", "question", "named"),
    [
        ("en", "what is AEO involvement?", "AEO involvement in trade"),
        ("fr", "qu'est-ce que la participation des OEA au commerce ?", "OEA"),
        ("es", "¿qué es la participación de los OEA en el comercio?", "OEA"),
    ],
)
async def test_a_question_typed_during_a_pending_figure_is_explained_then_asked_again(chat, language, question, named):
    await chat.say(NCP, "/language")
    await chat.tap(NCP, Language, code=language)
    await chat.press(NCP, go("ES-05"), language_code=language)
    sent = await chat.say(NCP, question, language_code=language)
    assert named in sent[0].text  # the explanation…
    assert ("1/2" in sent[-1].text or "1 " in sent[-1].text) and "ES-05" in sent[-1].text  # …then the question
    assert kinds(sent[-1:]).count("Skip") == 1
    assert await answers(chat) == {}  # and nothing was taken as an answer


async def test_long_explanation_is_paged_with_more(chat):
    sent = await chat.press(NCP, pack(Explain("WT-01")))
    assert all(len(m.text) <= 4096 for m in sent)
    assert "More" in kinds(sent)
    sent = await chat.tap(NCP, More, kpi="WT-01", page=1)
    assert "Page 2" in sent[0].text


async def test_edit_after_confirm_needs_a_new_confirmation(chat):
    await chat.press(NCP, go("TF-02"))
    await chat.say(NCP, "1300")
    await chat.say(NCP, "1000")
    await chat.tap(NCP, Confirm, kpi="TF-02")
    await chat.press(NCP, pack(ChangeList("TF-02")))
    await chat.tap(NCP, Edit, kpi="TF-02", dp=0)
    sent = await chat.say(NCP, "1100")
    # (1100 - 1000) / 1000 * 100 = 10 %
    assert "10%" in texts(sent)
    assert (await states(chat))["TF-02"][0] is KpiState.IN_PROGRESS
    history = [
        (r.subject, r.old_value, r.new_value) for r in chat.store.audit_log(chat.cycle.id, "BE") if r.action == "answer"
    ]
    assert ("tf_aeo_valid", "1300", "1100") in history


async def test_review_and_submit_lock(chat):
    await chat.press(NCP, go("TF-02"))
    await chat.say(NCP, "1300")
    await chat.say(NCP, "1000")
    await chat.tap(NCP, Confirm, kpi="TF-02")
    sent = await chat.say(NCP, "/review")
    assert "✅ TF-02 Variation in the number of AEOs — <b>30%</b>" in texts(sent)
    assert pack(OpenKpi("TF-02")) in buttons(sent)
    sent = await chat.say(NCP, "/submit")
    assert "50 KPIs have no answer" in texts(sent)
    await chat.tap(NCP, SubmitNow)
    assert chat.store.submission(chat.cycle.id, "BE").locked
    sent = await chat.press(NCP2, go("TF-03"))
    assert "locked" in texts(sent)
    sent = await chat.say(NCP2, "/next")
    assert "locked" in texts(sent)
    sent = await chat.say(NCP2, "/review")  # still readable
    assert "✅ TF-02" in texts(sent) and "locked" in texts(sent)


async def test_an_old_submit_button_needs_a_fresh_look(chat):
    await chat.say(NCP, "/submit")
    old = chat.find(NCP, SubmitNow)
    await chat.press(NCP, go("TF-02"))
    await chat.say(NCP, "1300")
    sent = await chat.press(NCP, old)
    assert "earlier screen" in texts(sent) and "Submit now?" in texts(sent)
    assert chat.store.submission(chat.cycle.id, "BE") is None


async def test_two_ncps_of_one_member_share_answers_and_the_audit_says_who(chat):
    await chat.press(NCP, go("TF-02"))
    await chat.say(NCP, "1300")
    sent = await chat.say(NCP2, "/next")
    assert "TF-01" in texts(sent) or "TF-02" in texts(sent)
    await chat.press(NCP2, go("TF-02"))
    await chat.say(NCP2, "1000")
    assert await answers(chat) == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1000"}
    who = {r.subject: r.user_id for r in chat.store.audit_log(chat.cycle.id, "BE") if r.action == "answer"}
    assert who == {"tf_aeo_valid": NCP, "tf_aeo_valid_prev": NCP2}


async def test_forged_buttons_change_nothing(chat):
    await chat.press(OTHER, go("TF-02"))
    screen = chat.store.conversation(OTHER).screen
    forged = (
        f"a:TF-02:5:1@1.{screen}",
        f"a:XX-99:0:1@1.{screen}",
        f"br:TF-02:9@1.{screen}",
        "e:TF-02:-1",
        "c:TF-02",
        f"c:TF-02@1.{screen}",
        f"a:TF-01:0:1@1.{screen}",
        "zz:1",
        "a:TF-02:0:1@1.99999999999999",
        "x" * 80,
    )
    for data in forged:
        await chat.press(OTHER, data)
    assert await answers(chat, "FR") == {}
    assert await answers(chat, "BE") == {}
    assert (await states(chat, "FR")) == {}


async def test_tools_scale_questions_use_buttons(chat):
    sent = await chat.press(NCP, go("WT-01"))
    assert kinds(sent).count("Choice") == 4
    for i in range(len(chat.catalog.tools)):
        sent = await chat.tap(NCP, Choice, kpi="WT-01", dp=i, choice=3)
    assert "1,00" in texts(sent)  # aware of every tool: mean awareness score 1 (seed 001 scores 1/0 per tool)


async def test_a_telegram_failure_on_the_reply_loses_no_answer(chat, monkeypatch):
    monkeypatch.setattr("conversations.kit.replies.RETRY_DELAYS", (0.0, 0.0, 0.0))
    await chat.press(NCP, go("TF-02"))
    chat.api.fail("sendMessage", 502, "Bad Gateway", chat_id=NCP)  # the "Saved" reply fails once
    sent = await chat.say(NCP, "1300")
    assert await answers(chat) == {"tf_aeo_valid": "1300"}  # stored before replying
    assert "Saved" in texts(sent) and "something went wrong" not in texts(sent)  # said on the retry
    sent = await chat.say(NCP, "/next")
    assert "Question 2 of 2" in texts(sent)  # and continues where they stand


async def test_a_figure_typed_while_the_result_waits_points_to_the_buttons(chat):
    await chat.press(NCP, go("TF-02"))
    await chat.say(NCP, "1300")
    await chat.say(NCP, "1000")
    sent = await chat.say(NCP, "1200")
    assert "Change a figure" in sent[0].text
    assert "Confirm" in kinds(sent)
    assert await answers(chat) == {"tf_aeo_valid": "1300", "tf_aeo_valid_prev": "1000"}


async def test_optional_breakdown_after_confirm(chat):
    await chat.press(NCP, go("TF-03"))
    await chat.say(NCP, "250")
    await chat.say(NCP, "1000")
    sent = await chat.tap(NCP, Confirm, kpi="TF-03")
    assert {"AddBreakdown", "NextKpi"} <= set(kinds(sent))  # offered, never forced
    sent = await chat.tap(NCP, AddBreakdown, kpi="TF-03", group=0)
    assert "Question 1 of 4" in sent[0].text
    await chat.say(NCP, "100")
    sent = await chat.say(NCP, "abc")
    assert "is not a number" in sent[0].text and "Question 2 of 4" in sent[0].text  # asked again
    sent = await chat.tap(NCP, Skip, kpi="TF-03")  # skip this figure
    assert "Question 3 of 4" in sent[-1].text
    sent = await chat.tap(NCP, NextKpi, kpi="TF-03")  # stop the breakdown: on to the next KPI
    assert "TF-01" in texts(sent)
    stored = await answers(chat)
    assert stored["tf_aeo_trade_value_import"] == "100"
    assert "tf_trade_value_import" not in stored
    assert (await states(chat))["TF-03"][0] is KpiState.CONFIRMED  # the breakdown changes no status


async def test_changing_a_shared_figure_asks_to_confirm_the_results_it_moves(chat):
    await chat.press(NCP, go("ES-05"))
    await chat.say(NCP, "40")
    await chat.say(NCP, "400")
    await chat.tap(NCP, Confirm, kpi="ES-05")  # 40 / 400 = 10 %
    await chat.press(NCP, go("ES-06"))
    await chat.say(NCP, "20")  # cigarettes; the inspections are known
    await chat.tap(NCP, Edit, kpi="ES-06", dp=1)
    sent = await chat.say(NCP, "500")
    assert "also used by ES-05" in sent[0].text
    assert (await states(chat))["ES-05"][0] is KpiState.IN_PROGRESS  # to confirm again
    sent = await chat.say(NCP, "/review")
    assert "ES-05 Effectiveness of controls on alcohol — in progress" in texts(sent)
