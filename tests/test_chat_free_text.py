"""Free text is always answered usefully, in English, French and Spanish, through the real PTB
stack: at a prompt a number is a figure, a question is answered from the figure's definition
and the KPI's explanation, anything else gets the question again with a hint; out of a
prompt greetings and "help" get /help, a near KPI name is explained, anything else gets one
line on what the bot does. Never "I did not find a KPI matching" for any of these."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect import buttons as btn
from conversations.kit.buttons import pack
from conversations.onboarding.buttons import Language
from pmm_core.outputs.i18n import lang
from tests.chat import kinds, texts

NCP = 1001
NOT_FOUND = ("did not find a KPI", "pas trouvé de KPI", "no encontré ningún KPI")

# language → (hello, biannual question, inspected passenger question, help, gibberish, the help's
# first line, the figure's definition seen in the answer)
CASES = {
    "en": {
        "hello": "hello",
        "biannual": "what does biannual mean here?",
        "passenger": "what counts as an inspected passenger?",
        "help": "help",
        "else": "zxqv blorp",
        "biannual_answer": "at least twice a year",
        "passenger_answer": "red channel",
        "hello_reply": "Hello! Here is where we are:",
        "help_line": "/next",
        "else_line": "I collect your administration's PMM figures",
        "breakdown_hint": "first choose the breakdown below",
        "saved_not": "was not saved",
    },
    "fr": {
        "hello": "Bonjour !",
        "biannual": "que veut dire « biannuel » ici ?",
        "passenger": "qu'est-ce qui compte comme voyageur contrôlé ?",
        "help": "aide",
        "else": "zxqv blorp",
        "biannual_answer": "deux fois par an",
        "passenger_answer": "circuit rouge",
        "hello_reply": "Voici où nous en sommes",
        "help_line": "/next",
        "else_line": "Je recueille les chiffres du MMP",
        "breakdown_hint": "choisissez d'abord la ventilation",
        "saved_not": "n'a pas été enregistré",
    },
    "es": {
        "hello": "¡Hola!",
        "biannual": "¿qué significa bianual aquí?",
        "passenger": "¿qué cuenta como pasajero inspeccionado?",
        "help": "ayuda",
        "else": "zxqv blorp",
        "biannual_answer": "dos veces al año",
        "passenger_answer": "canal rojo",
        "hello_reply": "¡Hola! Aquí es donde estamos:",
        "help_line": "/next",
        "else_line": "Recojo las cifras del MMD",
        "breakdown_hint": "elija primero el desglose",
        "saved_not": "no se guardó",
    },
}


@pytest.fixture(params=["en", "fr", "es"])
async def talk(request, chat, store):
    code = request.param
    await chat.say(NCP, f"/start {store.create_invite('BE', timedelta(days=3))}", language_code=code)
    await chat.say(NCP, "/language", language_code=code)
    await chat.tap(NCP, Language, language_code=code, code=code)

    async def say(text: str):
        return await chat.say(NCP, text, language_code=code)

    async def press(data: str):
        return await chat.press(NCP, data, language_code=code)

    return chat, code, CASES[code], say, press


def no_search_miss(sent) -> None:
    assert not any(miss in texts(sent) for miss in NOT_FOUND), texts(sent)


def stored(chat) -> dict[str, str]:
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "BE").items()}


async def test_a_question_at_a_figure_is_answered_from_its_definition(talk):
    chat, code, case, say, press = talk
    await press(pack(btn.Go("TF-01")))
    await chat.tap(NCP, btn.Choice, language_code=code, kpi="TF-01", dp=0, choice=1)  # now at item B
    sent = await say(case["biannual"])
    no_search_miss(sent)
    assert case["biannual_answer"] in sent[0].text  # from the figure's definition…
    assert lang(code)._("Question {i} of {n}").format(i=2, n=9) in sent[-1].text  # …then the question again
    assert "Choice" in kinds(sent[-1:]) and stored(chat) == {"tf_pse_mechanism": "yes"}

    await press(pack(btn.Go("TF-07")))
    sent = await say(case["passenger"])
    no_search_miss(sent)
    assert case["passenger_answer"] in sent[0].text and "TF-07" in sent[-1].text
    assert "tf_air_passengers_inspected" not in stored(chat)
    sent = await say("5000")  # a number is the figure
    assert stored(chat)["tf_air_passengers_inspected"] == "5000"


async def test_hello_and_other_text_at_a_figure_get_the_question_again(talk):
    chat, _, case, say, press = talk
    await press(pack(btn.Go("ES-05")))
    sent = await say(case["hello"])
    no_search_miss(sent)
    assert case["hello_reply"] in sent[-1].text and "ES-05" in sent[-1].text
    sent = await say(case["else"])
    no_search_miss(sent)
    assert "ES-05" in sent[-1].text and "Skip" in kinds(sent[-1:])  # the question again, with a hint
    assert stored(chat) == {}


async def test_a_figure_typed_at_the_breakdown_offer_is_not_lost_silently(talk):
    chat, code, case, say, press = talk
    await press(pack(btn.Go("TF-02")))
    await say("1300")
    await say("1000")
    sent = await chat.tap(NCP, btn.Confirm, language_code=code, kpi="TF-02")
    assert "AddBreakdown" in kinds(sent)
    sent = await say({"en": "12,000", "fr": "12 000", "es": "12000"}[code])
    no_search_miss(sent)
    assert case["saved_not"] in sent[-1].text and case["breakdown_hint"] in sent[-1].text
    assert "AddBreakdown" in kinds(sent[-1:])  # the offer again
    assert set(stored(chat)) == {"tf_aeo_valid", "tf_aeo_valid_prev"}
    sent = await say(case["biannual"])  # a question there is about the KPI, not a search
    no_search_miss(sent)
    assert "TF-02" in sent[0].text and "AddBreakdown" in kinds(sent[-1:])


async def test_out_of_a_prompt(talk):
    _, _, case, say, _ = talk
    await say("/cancel")
    for greeting in (case["hello"], case["help"]):
        sent = await say(greeting)
        no_search_miss(sent)
        assert "/help" in texts(sent) and case["help_line"] in texts(sent) and "/kpis" in texts(sent)
    sent = await say(case["else"])
    no_search_miss(sent)
    assert case["else_line"] in sent[0].text and len(sent) == 1
    sent = await say("aeo involvment")  # a near KPI name, with a typo: explained
    assert "TF-03" in sent[0].text
    sent = await say(case["biannual"])  # no current KPI: one line, not a miss
    no_search_miss(sent)
