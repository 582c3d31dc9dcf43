"""Typed answers, as NCPs type them in English, French and Spanish."""

from decimal import Decimal

import pytest

from pmm_core.catalog.models import Choice, DataPoint, DataType
from pmm_core.domain.answers import Ambiguous, AnswerError, ErrorCode, Valid, parse_number, validate
from pmm_core.domain.text import Text

T = Text(en="x")


def dp(type_: DataType, **kw) -> DataPoint:
    extra = {"currency": "USD"} if type_ is DataType.AMOUNT else {}
    return DataPoint(id="d", type=type_, label=T, question=T, help=T, **extra, **kw)


COUNT, MINUTES, PERCENT, AMOUNT = (dp(t) for t in (DataType.COUNT, DataType.MINUTES, DataType.PERCENT, DataType.AMOUNT))
YES_NO = dp(DataType.YES_NO)
SCALE = dp(
    DataType.SCALE,
    choices=(Choice(code="low", label=Text(en="Low", fr="Bas", es="Bajo")), Choice(code="high", label=Text(en="High"))),
)


@pytest.mark.parametrize(
    ("lang", "typed", "expected"),
    [
        ("en", "1,234.5", "1234.5"),
        ("en", "1234.5", "1234.5"),
        ("en", "12,400", "12400"),
        ("en", "1 234.5", "1234.5"),
        ("en", " 98.1 ", "98.1"),
        ("fr", "1 234,5", "1234.5"),
        ("fr", "1\u00a0234,5", "1234.5"),
        ("fr", "1\u202f234,5", "1234.5"),
        ("fr", "1234,5", "1234.5"),
        ("fr", "12 400", "12400"),
        ("es", "1.234,5", "1234.5"),
        ("es", "1234,5", "1234.5"),
        ("es", "12.400", "12400"),
        ("es", "1 234,5", "1234.5"),
        ("en", "0", "0"),
        ("en", "1,234,567.25", "1234567.25"),
    ],
)
def test_numbers_in_each_language(lang, typed, expected):
    assert validate(MINUTES, typed, lang) == Valid(expected)


@pytest.mark.parametrize(
    ("data_point", "lang", "typed", "code"),
    [
        (COUNT, "en", "", ErrorCode.EMPTY),
        (COUNT, "en", "   ", ErrorCode.EMPTY),
        (COUNT, "en", "abc", ErrorCode.NOT_A_NUMBER),
        (COUNT, "en", "twelve", ErrorCode.NOT_A_NUMBER),
        (COUNT, "fr", "douze", ErrorCode.NOT_A_NUMBER),
        (COUNT, "en", "-", ErrorCode.NOT_A_NUMBER),
        (COUNT, "en", "12abc", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "1e5", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "1.234,5", ErrorCode.NOT_WHOLE),
        (COUNT, "en", "12,40", ErrorCode.NOT_WHOLE),
        (COUNT, "en", "1,2345", ErrorCode.NOT_WHOLE),
        (COUNT, "fr", "1.234,5", ErrorCode.NOT_WHOLE),
        (COUNT, "fr", "12 40", ErrorCode.BAD_FORMAT),
        (COUNT, "es", "12.40", ErrorCode.NOT_WHOLE),
        (COUNT, "es", "1.23.4", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "12..5", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "1/2", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "(12)", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "12 400 000 00", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "0x1F", ErrorCode.BAD_FORMAT),
        (COUNT, "en", "-5", ErrorCode.NEGATIVE),
        (COUNT, "fr", "-1 000", ErrorCode.NEGATIVE),
        (COUNT, "en", "12.5", ErrorCode.NOT_WHOLE),
        (COUNT, "fr", "1,2", ErrorCode.NOT_WHOLE),
        (COUNT, "es", "3,5", ErrorCode.NOT_WHOLE),
        (MINUTES, "en", "1.2345", ErrorCode.TOO_MANY_DECIMALS),
        (MINUTES, "fr", "12,3456", ErrorCode.TOO_MANY_DECIMALS),
        (MINUTES, "en", "-0.5", ErrorCode.NEGATIVE),
        (PERCENT, "en", "100.01", ErrorCode.PERCENT_OVER_100),
        (PERCENT, "fr", "150 %", ErrorCode.PERCENT_OVER_100),
        (PERCENT, "es", "101%", ErrorCode.PERCENT_OVER_100),
        (COUNT, "en", "10,000,000,000,000", ErrorCode.TOO_LARGE),
        (AMOUNT, "en", "USD 99,999,999,999,999,999", ErrorCode.TOO_LARGE),
        (COUNT, "en", "9" * 26, ErrorCode.TOO_LARGE),
        (COUNT, "en", "NaN", ErrorCode.NOT_A_NUMBER),
        (COUNT, "en", "-inf", ErrorCode.NOT_A_NUMBER),
        (COUNT, "en", "Infinity", ErrorCode.NOT_A_NUMBER),
        (COUNT, "en", "1" * 300, ErrorCode.NOT_A_NUMBER),
        (YES_NO, "en", "maybe", ErrorCode.NOT_YES_NO),
        (YES_NO, "fr", "peut-être", ErrorCode.NOT_YES_NO),
        (YES_NO, "en", "", ErrorCode.NOT_YES_NO),
        (SCALE, "en", "medium", ErrorCode.NOT_A_CHOICE),
        (SCALE, "en", "3", ErrorCode.NOT_A_CHOICE),
    ],
)
def test_bad_answers_get_a_specific_error(data_point, lang, typed, code):
    result = validate(data_point, typed, lang)
    assert isinstance(result, AnswerError), result
    assert result.code is code


def test_bounds_of_a_data_point_are_enforced():
    bounded = dp(DataType.COUNT, min=Decimal(1), max=Decimal(10))
    for typed, code in (("0", ErrorCode.TOO_SMALL), ("11", ErrorCode.TOO_LARGE)):
        result = validate(bounded, typed, "en")
        assert isinstance(result, AnswerError) and result.code is code
    assert validate(bounded, "10", "en") == Valid("10")


@pytest.mark.parametrize("word", ["yes", "Yes", "oui", "OUI", "sí", "si", "Sí.", "y"])
def test_yes_in_three_languages_whatever_the_chosen_language(word):
    for lang in ("en", "fr", "es"):
        assert validate(YES_NO, word, lang) == Valid("yes")


@pytest.mark.parametrize("word", ["no", "NO", "non", "Non", "n"])
def test_no_in_three_languages(word):
    assert validate(YES_NO, word, "fr") == Valid("no")


def test_scale_by_code_label_or_number():
    assert validate(SCALE, "Bajo", "es") == Valid("low")
    assert validate(SCALE, "bas", "en") == Valid("low")
    assert validate(SCALE, "2", "fr") == Valid("high")


def test_amount_accepts_its_currency_and_percent_its_sign():
    assert validate(AMOUNT, "USD 1,500.25", "en") == Valid("1500.25")
    assert validate(AMOUNT, "1 500,25 USD", "fr") == Valid("1500.25")
    assert validate(PERCENT, "98,1 %", "fr") == Valid("98.1")


def test_canonical_form_has_no_exponent_trailing_zeros_or_minus_zero():
    assert validate(MINUTES, "1,000.50", "en") == Valid("1000.5")
    assert validate(COUNT, "1,000,000", "en") == Valid("1000000")
    read = parse_number("12 400", "fr")
    assert not isinstance(read, AnswerError) and read.first == Decimal(12400)
    assert validate(COUNT, "-0", "en") == Valid("0")
    assert validate(MINUTES, "−0,00", "fr") == Valid("0")


@pytest.mark.parametrize(
    ("data_point", "lang", "typed", "grouped", "decimal"),
    [
        (COUNT, "en", "1.000", "1000", "1"),
        (AMOUNT, "fr", "250,000", "250000", "250"),
        (COUNT, "fr", "250,000", "250000", "250"),
        (COUNT, "es", "1,000", "1000", "1"),
        (MINUTES, "fr", "1.500", "1500", "1.5"),
    ],
)
def test_a_mark_that_reads_both_ways_asks_instead_of_guessing(data_point, lang, typed, grouped, decimal):
    assert validate(data_point, typed, lang) == Ambiguous(grouped=grouped, decimal=decimal)


@pytest.mark.parametrize(
    ("data_point", "lang", "typed", "expected"),
    [
        (COUNT, "en", "1,000", "1000"),  # the language's own thousands separator
        (COUNT, "es", "1.000", "1000"),
        (COUNT, "fr", "1 234", "1234"),  # French groups with spaces ("1,234" is 1.234: see test_number_format)
        (AMOUNT, "fr", "1.234,5", "1234.5"),  # Belgian French: dot grouping, decimal comma
        (AMOUNT, "fr", "0,5", "0.5"),
        (COUNT, "en", "١٢٣٤", "1234"),  # Arabic-Indic digits
        (COUNT, "en", "۱۲۳", "123"),  # Extended Arabic-Indic digits
        (COUNT, "en", "१२३", "123"),  # Devanagari digits
        (COUNT, "en", "１２３", "123"),  # full-width digits
        (COUNT, "fr", "12\u200b400", "12400"),  # a zero-width space pasted along
        (COUNT, "en", "\u202a12 400\u202c", "12400"),  # bidirectional marks
        (COUNT, "en", "12\t400", "12400"),
        (MINUTES, "en", "150 min", "150"),
        (MINUTES, "fr", "150 minutes", "150"),
        (MINUTES, "es", "150 minutos", "150"),
        (MINUTES, "en", "2h30", "150"),
        (MINUTES, "fr", "2 h 30 min", "150"),
        (MINUTES, "es", "2 horas 30", "150"),
        (MINUTES, "en", "1:30", "90"),
        (MINUTES, "fr", "1 h", "60"),
        (MINUTES, "fr", "90,5 min", "90.5"),
        (PERCENT, "en", "50%", "50"),
        (PERCENT, "fr", "50 %", "50"),
        (PERCENT, "es", "50 por ciento", "50"),
    ],
)
def test_numbers_as_people_write_them(data_point, lang, typed, expected):
    assert validate(data_point, typed, lang) == Valid(expected)
