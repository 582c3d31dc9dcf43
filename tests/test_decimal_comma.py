"""A decimal comma is read as a decimal comma: in French or Spanish, "27,333" for a figure
that allows 2 decimals is 27.333 (too many decimals, asked again), never 27,333 read as
twenty-seven thousand; "27,33" is 27.33. A count typed "1,234" in French is refused with the
reason (it reads as 1.234), never silently 1234. The NCP is Kenya's, whose country has no
French or Spanish locale of its own: each language's own format applies (English: Kenya's)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.collect.buttons import Edit
from conversations.kit.buttons import pack
from pmm_core.catalog.models import Catalog
from pmm_core.domain.answers import AnswerError, ErrorCode, Valid, validate
from tests.chat import Chat, kinds, texts

NCP = 1001
DECIMALS = "od_cd_competencies_per_officer"  # a number, up to 2 decimals
COUNT = "od_cd_competency_gaps"  # a whole number
TOO_MANY = {"en": "at most 2 decimals", "fr": "2 décimales au maximum", "es": "2 decimales como máximo"}
QUESTION = {"en": "Question 2 of 3", "fr": "Question 2 sur 3", "es": "Pregunta 2 de 3"}


async def asked(chat: Chat, catalog: Catalog, language: str, dp: str) -> None:
    """The NCP (in `language`) is asked OD-02's figure `dp`."""
    await chat.say(NCP, f"/start {chat.store.create_invite('KE', timedelta(days=3))}", language_code=language)
    points = [d.id for d in catalog.asked_data_points(catalog.kpi_by_id["OD-02"])]
    await chat.press(NCP, pack(Edit("OD-02", points.index(dp))), language_code=language)


def answers(chat: Chat) -> dict[str, str]:
    assert chat.cycle is not None
    return {k: a.value for k, a in chat.store.answers(chat.cycle.id, "KE").items()}


@pytest.mark.parametrize(("language", "typed"), [("fr", "27,333"), ("es", "27,333"), ("en", "27.333")])
async def test_three_decimals_after_the_decimal_mark_are_refused_and_asked_again(chat, catalog, language, typed):
    await asked(chat, catalog, language, DECIMALS)
    sent = await chat.say(NCP, typed, language_code=language)
    assert TOO_MANY[language] in sent[0].text
    assert QUESTION[language] in sent[-1].text  # the same question again
    assert {"Explain", "Skip"} <= set(kinds(sent))
    assert answers(chat) == {}
    assert "Saved" not in texts(sent) and "Enregistré" not in texts(sent) and "Guardado" not in texts(sent)


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_two_decimals_after_a_decimal_comma_are_stored(chat, catalog, language):
    await asked(chat, catalog, language, DECIMALS)
    sent = await chat.say(NCP, "27,33", language_code=language)
    assert "27,33" in sent[0].text
    assert answers(chat) == {DECIMALS: "27.33"}


async def test_a_count_typed_with_a_french_decimal_comma_is_refused_with_the_reason(chat, catalog):
    await asked(chat, catalog, "fr", COUNT)
    sent = await chat.say(NCP, "1,234", language_code="fr")
    assert "«\u202f1,234\u202f» a des décimales" in sent[0].text and "dire 1\u202f234, tapez 1234" in sent[0].text
    assert "Question 3 sur 3" in sent[-1].text  # the same question again
    assert answers(chat) == {}
    await chat.say(NCP, "1 234", language_code="fr")
    assert answers(chat) == {COUNT: "1234"}


@pytest.mark.parametrize(
    ("dp", "typed", "language", "expected"),
    [
        (DECIMALS, "27,333", "fr", ErrorCode.TOO_MANY_DECIMALS),
        (DECIMALS, "27,333", "es", ErrorCode.TOO_MANY_DECIMALS),
        (DECIMALS, "27.333", "en", ErrorCode.TOO_MANY_DECIMALS),
        (DECIMALS, "27,33", "fr", Valid("27.33")),
        (DECIMALS, "27,33", "es", Valid("27.33")),
        (DECIMALS, "27.33", "en", Valid("27.33")),
        (COUNT, "1,234", "fr", ErrorCode.READS_AS_DECIMAL),  # 1.234 in French: never read as 1234
        (COUNT, "1.234", "es", Valid("1234")),
        (COUNT, "1,234", "en", Valid("1234")),
    ],
)
def test_validate_reads_the_languages_decimal_mark(catalog, dp, typed, language, expected):
    verdict = validate(catalog.data_points[dp], typed, language)
    if isinstance(expected, ErrorCode):
        assert isinstance(verdict, AnswerError) and verdict.code is expected
    else:
        assert verdict == expected
