"""Numbers the Member's way, through the real chat: a Mexican NCP types 250,000 USD and is
not asked which was meant, and reads 12,400 back; a Spanish NCP keeps 12.400; a count that
reads as a decimal in the user's format is refused with the reason (never ×1,000); 2h99 is
refused; an average release time under a minute gets the warning; /language changes the
number format, stored per user."""

from __future__ import annotations

from datetime import timedelta

import openpyxl
import pytest

from conversations.collect.buttons import Edit, Go
from conversations.kit.buttons import pack
from conversations.onboarding.number_style import NumberStyleChoice
from conversations.upload.buttons import ApplyUpload
from pmm_core.catalog.members import Member
from pmm_core.domain.records import KpiState
from tests.chat import Chat, kinds, texts

NCP = 1001
MEMBERS = {"MX": "ams", "ES": "eur", "SN": "wca", "KE": "esa"}
COUNT = ("TF-02", 0)  # AEOs with a valid status, a count
AMOUNT = ("TF-03", 0)  # trade value by AEOs, USD
MINUTES = ("TF-04", 0)  # the total of the individual release times


@pytest.fixture
async def chat(chat, store):
    store.import_members([Member(iso2, region) for iso2, region in MEMBERS.items()])
    return chat


async def ncp_of(chat: Chat, member: str, language: str) -> None:
    await chat.say(NCP, f"/start {chat.store.create_invite(member, timedelta(days=3))}", language_code=language)


async def ask(chat: Chat, figure: tuple[str, int], language: str) -> None:
    await chat.press(NCP, pack(Edit(*figure)), language_code=language)


def answers(chat: Chat, member: str) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, member).items()}


# ---- Mexico and Spain ----------------------------------------------------------------------------


async def test_a_mexican_ncp_types_and_reads_numbers_the_mexican_way(chat):
    await ncp_of(chat, "MX", "es")
    await ask(chat, AMOUNT, "es")
    sent = await chat.say(NCP, "250,000", language_code="es")
    said = texts(sent)
    assert "¿Se refiere" not in said and "Number" not in kinds(sent)  # no question
    assert "Guardado: Valor del comercio de los OEA = <b>250,000 USD</b>" in said
    assert "por ejemplo 1,250,000.5" in said  # the next question's example, Mexico's way
    sent = await chat.say(NCP, "1,000,000", language_code="es")
    assert "<code>250,000 / 1,000,000 × 100</code> = <b>25%</b>" in texts(sent)
    assert answers(chat, "MX") == {"tf_aeo_trade_value": "250000", "tf_trade_value": "1000000"}
    await ask(chat, COUNT, "es")
    sent = await chat.say(NCP, "12,400", language_code="es")
    assert "<b>12,400</b>" in texts(sent)
    assert answers(chat, "MX")["tf_aeo_valid"] == "12400"


async def test_a_spanish_ncp_keeps_spains_format_and_is_asked_when_a_mark_reads_both_ways(chat):
    await ncp_of(chat, "ES", "es")
    await ask(chat, COUNT, "es")
    sent = await chat.say(NCP, "12.400", language_code="es")
    assert "<b>12.400</b>" in texts(sent)
    assert answers(chat, "ES") == {"tf_aeo_valid": "12400"}
    await ask(chat, AMOUNT, "es")
    sent = await chat.say(NCP, "250,000", language_code="es")  # in Spain "," is the decimal mark
    assert "¿Se refiere a <b>250.000 USD</b> o a <b>250 USD</b>?" in texts(sent)
    assert kinds(sent[-1:]).count("Number") == 2
    assert "tf_aeo_trade_value" not in answers(chat, "ES")


# ---- a count that reads as a decimal ---------------------------------------------------------------

REFUSED = [
    pytest.param(
        "KE",
        "en",
        "5.123",
        "In your number format, “5.123” has decimals (. is the decimal mark), but this figure is a count, "
        "a whole number. If you meant 5,123, type 5123.",
        id="en-5.123",
    ),
    pytest.param(
        "SN",
        "fr",
        "5,123",
        "Dans votre format de nombres, «\u202f5,123\u202f» a des décimales («\u202f,\u202f» est le séparateur "
        "décimal), or cette donnée est un dénombrement, un nombre entier. Si vous vouliez dire 5\u202f123, tapez 5123.",
        id="fr-5,123",
    ),
    pytest.param(
        "SN",
        "fr",
        "27,333",
        "Si vous vouliez dire 27\u202f333, tapez 27333.",
        id="fr-27,333",
    ),
    pytest.param(
        "SN",
        "fr",
        "5.123",
        "«\u202f5.123\u202f» peut se lire 5\u202f123 ou 5,123, or cette donnée est un dénombrement",
        id="fr-5.123",
    ),
    pytest.param(
        "ES",
        "es",
        "27,333",
        "En su formato de números, «27,333» tiene decimales («,» es el separador decimal), pero esta cifra es "
        "un recuento, un número entero. Si quería decir 27.333, escriba 27333.",
        id="es-27,333",
    ),
    pytest.param("MX", "es", "5.123", "Si quería decir 5,123, escriba 5123.", id="es-MX-5.123"),
]
QUESTION_AGAIN = {"en": "TF-02 · Question 1 of 2", "fr": "TF-02 · Question 1 sur 2", "es": "TF-02 · Pregunta 1 de 2"}


@pytest.mark.parametrize(("member", "language", "typed", "reason"), REFUSED)
async def test_a_count_that_reads_as_a_decimal_is_refused_with_the_reason(chat, member, language, typed, reason):
    await ncp_of(chat, member, language)
    await ask(chat, COUNT, language)
    sent = await chat.say(NCP, typed, language_code=language)
    assert sent[0].text.startswith("⚠️ ")
    assert reason in sent[0].text
    assert QUESTION_AGAIN[language] in sent[-1].text  # the same question, asked again
    assert "Number" not in kinds(sent)
    assert answers(chat, member) == {}  # never stored as a thousand times the decimal


# ---- hours and minutes ---------------------------------------------------------------------------

BAD_MINUTES = {
    "en": "In “2h99” the minutes must be from 0 to 59.",
    "fr": "Dans «\u202f2h99\u202f», les minutes vont de 0 à 59.",
    "es": "En «2h99», los minutos van de 0 a 59.",
}


@pytest.mark.parametrize(("member", "language"), [("KE", "en"), ("SN", "fr"), ("ES", "es"), ("MX", "es")])
async def test_2h99_is_refused(chat, member, language):
    await ncp_of(chat, member, language)
    await ask(chat, MINUTES, language)
    sent = await chat.say(NCP, "2h99", language_code=language)
    assert BAD_MINUTES[language] in sent[0].text
    assert answers(chat, member) == {}
    await chat.say(NCP, "2h59", language_code=language)
    assert answers(chat, member) == {"tf_import_release_minutes": "179"}


# ---- an average time under a minute ----------------------------------------------------------------

UNDER_A_MINUTE = {
    "en": "The average time, 0.05 min, is under 1 min: the total time should add up the times of all the "
    "declarations counted, in minutes (not one time, nor an average).",
    "fr": "Le temps moyen, 0,05 min, est inférieur à 1 min\u202f: le temps total doit additionner",
    "es": "El tiempo medio, 0,05 min, es inferior a 1 min: el tiempo total debe sumar",
    "es-MX": "El tiempo medio, 0.05 min, es inferior a 1 min: el tiempo total debe sumar",
}


@pytest.mark.parametrize(
    ("member", "language", "key", "declarations"),
    [
        ("KE", "en", "en", "3,000"),
        ("SN", "fr", "fr", "3 000"),
        ("ES", "es", "es", "3.000"),
        ("MX", "es", "es-MX", "3,000"),
    ],
)
async def test_2h30_as_a_total_time_gets_the_warning(chat, member, language, key, declarations):
    """2h30 for the times of 3,000 declarations: an average of 0.05 min, asked about."""
    await ncp_of(chat, member, language)
    await chat.press(NCP, pack(Go("TF-04")), language_code=language)
    await chat.say(NCP, "2h30", language_code=language)
    sent = await chat.say(NCP, declarations, language_code=language)
    assert answers(chat, member) == {"tf_import_release_minutes": "150", "tf_import_release_declarations": "3000"}
    assert UNDER_A_MINUTE[key] in texts(sent)
    assert {"KeepFigures", "ChangeList"} <= set(kinds(sent))
    assert "Confirm" not in kinds(sent)  # kept or changed first
    assert chat.store.kpi_states(chat.cycle.id, member)["TF-04"].status is not KpiState.CONFIRMED


# ---- /language: the number format ----------------------------------------------------------------


async def test_the_number_format_is_chosen_in_language_and_kept_per_user(chat):
    await ncp_of(chat, "MX", "es")
    sent = await chat.say(NCP, "/language", language_code="es")
    said = texts(sent)
    assert "Números: los escribe y los lee así: 1,234.5." in said
    labels = sent[-1].button_labels()
    assert labels[3:] == ["1,234.5", "1.234,5", "1\u202f234,5", "✓ Como en México: 1,234.5"]
    await ask(chat, AMOUNT, "es")
    sent = await chat.tap(NCP, NumberStyleChoice, language_code="es", style="dot_comma")
    assert "Los números se escriben ahora así: 12.400,5 y 98,1%." in sent[0].text
    assert "por ejemplo 1.250.000,5" in sent[-1].text  # the pending question again, in the new format
    assert chat.store.user(NCP).number_format == "dot_comma"
    sent = await chat.say(NCP, "250,000", language_code="es")  # "," is now the decimal mark: asked
    assert "¿Se refiere a <b>250.000 USD</b> o a <b>250 USD</b>?" in texts(sent)
    await chat.say(NCP, "/language", language_code="es")
    assert "✓ 1.234,5" in chat.api.last_to(NCP).button_labels()
    sent = await chat.tap(NCP, NumberStyleChoice, language_code="es", style="auto")
    assert "Los números se escriben ahora así: 12,400.5 y 98.1%." in sent[0].text
    assert chat.store.user(NCP).number_format is None


async def test_a_forged_number_format_changes_nothing(chat):
    await ncp_of(chat, "MX", "es")
    for data in ("nf:evil", "nf:", "nf:comma_dot:x", "nf:" + "a" * 40):
        sent = await chat.press(NCP, data, language_code="es")
        assert chat.store.user(NCP).number_format is None, data
        assert "Guardado" not in texts(sent)


async def test_the_secretariat_without_a_country_gets_the_languages_format(chat):
    sent = await chat.say(9001, "/language", language_code="fr")
    labels = sent[-1].button_labels()
    assert labels[-1] == "✓ Format habituel de ma langue\u202f: 1\u202f234,5"


# ---- files in the Member's format ----------------------------------------------------------------


async def test_a_mexican_template_and_its_summary_use_mexicos_format(chat):
    await ncp_of(chat, "MX", "es")
    await chat.say(NCP, "/template", language_code="es")
    document = chat.api.messages_to(NCP)[-1].params["document"]
    wb = openpyxl.load_workbook(__import__("io").BytesIO(document["data"]))
    first = wb.worksheets[0]
    instructions = " ".join(str(c.value) for row in first.iter_rows() for c in row if c.value)
    assert "1,234.5" in instructions and "1.234,5" not in instructions
    from tests.sheets import fill

    filled = fill(document["data"], {"tf_aeo_trade_value": "250,000", "tf_trade_value": 1000000})
    sent = await chat.replay(chat.api.document(NCP, "cifras.xlsx", filled, language_code="es"))
    summary = texts(sent)
    assert "250,000 USD" in summary and "1,000,000 USD" in summary
    await chat.tap(NCP, ApplyUpload, language_code="es")
    assert answers(chat, "MX") == {"tf_aeo_trade_value": "250000", "tf_trade_value": "1000000"}
