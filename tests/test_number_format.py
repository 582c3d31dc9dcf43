"""Numbers the Member's way, and never reinterpreted.

Every number format the bot accepts is a language (en, fr, es) in a Member's country (Babel's
``{language}_{territory}``, else the language's own), or one of the three styles a user may
choose in /language: 3 languages × (187 Members + none) × (country's + 3 styles) = 2,256
combinations, 588 distinct formats, 27 distinct in how they write numbers (marks, grouping,
patterns). Properties, for every format:

1. a number the bot writes for the user (an echo, a result, an example) reads back as the
   same value in that format;
2. a number with one mark followed by three digits ("5.123") is never read as a value other
   than its two readings; never as the thousands reading where the mark is the user's own
   decimal mark, nor for a count unless the mark is the user's own thousands separator.

The hypothesis tests run on the 27 distinct formats (``EXAMPLES`` examples each); the
exhaustive tests check fixed values on all 588.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmm_core.catalog.members import read_members
from pmm_core.catalog.models import DataPoint, DataType
from pmm_core.domain.answers import Ambiguous, AnswerError, ErrorCode, Valid, canonical, parse_number, validate
from pmm_core.domain.number_format import LANGUAGES, NumberFormat, NumberStyle, from_tag, number_format
from pmm_core.domain.text import Text
from pmm_core.outputs.i18n import Lang, lang

T = Text(en="x")
EXAMPLES = 200  # per distinct format and property


def dp(type_: DataType) -> DataPoint:
    extra = {"currency": "USD"} if type_ is DataType.AMOUNT else {}
    return DataPoint(id="d", type=type_, label=T, question=T, help=T, **extra)


COUNT, AMOUNT, MINUTES, PERCENT, NUMBER = (
    dp(t) for t in (DataType.COUNT, DataType.AMOUNT, DataType.MINUTES, DataType.PERCENT, DataType.NUMBER)
)
NUMERIC = (COUNT, AMOUNT, MINUTES, PERCENT, NUMBER)

MEMBERS = [m.iso2 for m in read_members()]
COMBINATIONS = [(language, t, s) for language in LANGUAGES for t in (None, *MEMBERS) for s in (None, *NumberStyle)]
ALL_FORMATS = sorted({number_format(*c) for c in COMBINATIONS}, key=lambda f: f.tag)


def _signature(f: NumberFormat) -> tuple[object, ...]:
    """What decides how a format writes and reads numbers."""
    locale = f.babel_locale()
    symbols = locale.number_symbols["latn"]
    return (
        f.language,
        f.group,
        f.decimal,
        f.grouping,
        locale.decimal_formats[None].pattern,
        locale.percent_formats[None].pattern,
        symbols["minusSign"],
        symbols["percentSign"],
    )


def _distinct(formats: list[NumberFormat]) -> list[NumberFormat]:
    """One format per signature: the plainest (a language, then a country, then a style)."""
    plainest = sorted(formats, key=lambda f: (f.style is not None, f.territory is not None, f.tag))
    chosen: dict[tuple[object, ...], NumberFormat] = {}
    for f in plainest:
        chosen.setdefault(_signature(f), f)
    return list(chosen.values())


DISTINCT = _distinct(ALL_FORMATS)


def test_the_universe_of_formats():
    """The counts the module docstring and the report give."""
    assert (len(COMBINATIONS), len(ALL_FORMATS), len(DISTINCT)) == (2256, 588, 27)
    assert {(f.group, f.decimal) for f in DISTINCT} >= {(",", "."), (".", ","), ("\u202f", ","), ("'", ".")}
    assert any(f.grouping == (3, 2) for f in DISTINCT)  # India


def _lang(f: NumberFormat) -> Lang:
    L = lang(f.tag)
    assert L.numbers == f
    return L


def _valid_for(data_point: DataPoint, value: Decimal) -> bool:
    upper = data_point.upper_bound
    if value < data_point.lower_bound or (upper is not None and value > upper):
        return False
    if data_point.type is DataType.COUNT:
        return value == value.to_integral_value()
    return data_point.type is not DataType.PERCENT or value <= 100


def _round_trip(L: Lang, value: Decimal) -> None:
    fmt = L.numbers
    for shown in (L.number(value), L.number(value, 2), L.number(value, 0 if value == int(value) else 2)):
        readings = parse_number(shown, fmt)
        assert not isinstance(readings, AnswerError), (fmt.tag, shown)
        assert readings.second is None and readings.first == value, (fmt.tag, shown, readings)
    for data_point in NUMERIC:
        if _valid_for(data_point, value):
            stored = canonical(value)
            shown = L.value(data_point, stored)
            assert validate(data_point, shown, fmt) == Valid(stored), (fmt.tag, data_point.type, shown)


# Figures as stored: at most 2 decimals, up to 10^15 (more than any PMM figure).
figures = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=2, allow_nan=False).map(
    lambda d: Decimal(canonical(d))
)


@pytest.mark.parametrize("fmt", DISTINCT, ids=lambda f: f.tag)
@settings(max_examples=EXAMPLES, deadline=None)
@given(value=figures)
def test_what_the_bot_writes_reads_back_the_same(fmt, value):
    _round_trip(_lang(fmt), value)


def _ambiguous_verdicts(fmt: NumberFormat, integer: int, fraction: int, mark: str) -> None:
    text = f"{integer}{mark}{fraction:03d}"
    grouped, decimal = canonical(Decimal(integer * 1000 + fraction)), canonical(Decimal(f"{integer}.{fraction:03d}"))
    own_group, own_decimal = mark == fmt.group_mark, mark == fmt.decimal
    for data_point in NUMERIC:
        for typed in _dressed(data_point, text):
            verdict = validate(data_point, typed, fmt)
            where = (fmt.tag, data_point.type, typed, verdict)
            if isinstance(verdict, Valid):
                assert verdict.value in (grouped, decimal), where  # never a third value
                if verdict.value == grouped and grouped != decimal:
                    assert not own_decimal, where  # the user's decimal mark is never a thousands separator
                    if data_point.type is DataType.COUNT:
                        assert own_group, where  # a count: only with the user's own thousands separator
                if own_group:
                    assert verdict.value == grouped, where
            elif isinstance(verdict, Ambiguous):
                assert not own_group and (verdict.grouped, verdict.decimal) == (grouped, decimal), where
            else:
                assert isinstance(verdict, AnswerError), where
                if data_point.type is DataType.COUNT and not own_group and Decimal(grouped) >= 0 and fraction:
                    expected = ErrorCode.READS_AS_DECIMAL if own_decimal else ErrorCode.MARK_UNCLEAR
                    assert verdict.code is expected, where


def _dressed(data_point: DataPoint, text: str) -> list[str]:
    """The number alone, and with the unit the data point accepts."""
    extra = {
        DataType.AMOUNT: [f"{text} USD", f"USD {text}"],
        DataType.PERCENT: [f"{text}%", f"{text} %"],
        DataType.MINUTES: [f"{text} min"],
    }
    return [text, *extra.get(data_point.type, [])]


@pytest.mark.parametrize("fmt", DISTINCT, ids=lambda f: f.tag)
@settings(max_examples=EXAMPLES, deadline=None)
@given(integer=st.integers(1, 999), fraction=st.integers(0, 999), mark=st.sampled_from(".,"))
def test_a_mark_before_three_digits_is_never_reinterpreted(fmt, integer, fraction, mark):
    _ambiguous_verdicts(fmt, integer, fraction, mark)


# ---- every format, fixed values -----------------------------------------------------------------

FIXED = [Decimal(v) for v in ("0", "1", "7.5", "12.25", "999", "1000", "1234.5", "12400", "250000", "1234567.89")]
FIXED_MARKS = [(5, 123, "."), (5, 123, ","), (27, 333, ","), (1, 0, "."), (250, 0, ","), (1, 500, ".")]


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=lambda f: f.tag)
def test_every_format_with_fixed_values(fmt):
    L = _lang(fmt)
    for value in FIXED:
        _round_trip(L, value)
        _round_trip(L, -value)
    for integer, fraction, mark in FIXED_MARKS:
        _ambiguous_verdicts(fmt, integer, fraction, mark)


# ---- hours and minutes --------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    hours=st.integers(0, 999),
    minutes=st.integers(0, 99),
    form=st.sampled_from(["{h}h{m:02d}", "{h} h {m} min", "{h}:{m:02d}", "{h} heures {m}", "{h} horas {m:02d}"]),
    tag=st.sampled_from([f.tag for f in DISTINCT]),
)
def test_minutes_after_the_hours_are_0_to_59(hours, minutes, form, tag):
    typed = form.format(h=hours, m=minutes)
    verdict = validate(MINUTES, typed, tag)
    if minutes < 60:
        assert verdict == Valid(str(hours * 60 + minutes)), typed
    else:
        assert isinstance(verdict, AnswerError) and verdict.code is ErrorCode.BAD_MINUTES, (typed, verdict)


@pytest.mark.parametrize("typed", ["2h99", "2h60", "2 h 75 min", "1:75", "0:60"])
def test_2h99_is_refused_not_219_minutes(typed):
    verdict = validate(MINUTES, typed, "en")
    assert isinstance(verdict, AnswerError) and verdict.code is ErrorCode.BAD_MINUTES
    assert verdict.params["text"] == typed


# ---- hostile text -------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("0123456789.,  '’%-+hmin:USD\u202f\u00a0"), max_size=24))
def test_any_text_in_any_format_gets_a_verdict(text):
    for fmt in DISTINCT:
        for data_point in NUMERIC:
            verdict = validate(data_point, text, fmt)
            if isinstance(verdict, Valid):
                assert Decimal(verdict.value) == Decimal(canonical(Decimal(verdict.value)))


# ---- the formats themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "number", "percent", "date"),
    [
        ("en", "1,234,567.5", "98.1%", "March 1, 2026"),
        ("en-KE", "1,234,567.5", "98.1%", "1 March 2026"),
        ("en-IN", "12,34,567.5", "98.1%", "1 March 2026"),
        ("en-BE", "1.234.567,5", "98,1%", "1 March 2026"),
        ("es", "1.234.567,5", "98,1\u00a0%", "1 de marzo de 2026"),
        ("es-ES", "1.234.567,5", "98,1\u00a0%", "1 de marzo de 2026"),
        ("es-MX", "1,234,567.5", "98.1%", "1 de marzo de 2026"),
        ("es-AR", "1.234.567,5", "98,1%", "1 de marzo de 2026"),
        ("fr", "1\u202f234\u202f567,5", "98,1\u00a0%", "1er mars 2026"),
        ("fr-SN", "1\u202f234\u202f567,5", "98,1\u00a0%", "1er mars 2026"),
        ("fr-CA", "1\u00a0234\u00a0567,5", "98,1\u00a0%", "1er mars 2026"),
        ("fr-CH", "1'234'567,5", "98,1%", "1er mars 2026"),  # Babel alone drops the apostrophes of millions
        ("fr-MX", "1\u202f234\u202f567,5", "98,1\u00a0%", "1er mars 2026"),  # no French of Mexico: French's
        ("es-MX+dot_comma", "1.234.567,5", "98,1%", "1 de marzo de 2026"),
        ("fr+comma_dot", "1,234,567.5", "98.1\u00a0%", "1er mars 2026"),
        ("en+space_comma", "1\u202f234\u202f567,5", "98,1%", "March 1, 2026"),
    ],
)
def test_lang_formats_numbers_percents_and_dates_the_members_way(tag, number, percent, date):
    from datetime import date as day

    L = lang(tag)
    assert L.number(Decimal("1234567.5")) == number
    assert L.percent(Decimal("98.1")) == percent
    assert L.date(day(2026, 3, 1)) == date
    assert lang(L.tag).numbers == L.numbers  # the tag travels to the worker and back


def test_lang_keeps_its_api_and_adds_the_territory():
    L = lang("es", territory="MX")
    assert (L.code, L.territory, L.tag, L._("Yes")) == ("es", "MX", "es-MX", "Sí")
    assert lang("es", territory="MX", style="dot_comma").tag == "es-MX+dot_comma"
    assert lang("es", territory="ZZ").tag == "es"  # an unknown country: the language's own format
    assert lang("es", style="nonsense").tag == "es"
    assert from_tag("<script>").tag == "en"


def test_the_mexican_way_and_the_spanish_way():
    mx, es = from_tag("es-MX"), from_tag("es-ES")
    assert validate(AMOUNT, "250,000", mx) == Valid("250000")  # no question in Mexico
    assert validate(AMOUNT, "250,000", es) == Ambiguous(grouped="250000", decimal="250")  # Spain: "," is decimal
    assert validate(COUNT, "12.400", es) == Valid("12400")
    assert validate(COUNT, "1,500", mx) == Valid("1500")
    assert validate(COUNT, "1.000", mx) == Ambiguous(grouped="1000", decimal="1")  # both whole: asked
    verdict = validate(COUNT, "1.500", mx)  # 1.5 in Mexico: no count, and never 1500 silently
    assert isinstance(verdict, AnswerError) and verdict.code is ErrorCode.READS_AS_DECIMAL


@pytest.mark.parametrize(
    ("tag", "typed", "code"),
    [
        ("en", "5.123", ErrorCode.READS_AS_DECIMAL),
        ("fr", "5,123", ErrorCode.READS_AS_DECIMAL),
        ("es", "5,123", ErrorCode.READS_AS_DECIMAL),
        ("fr", "27,333", ErrorCode.READS_AS_DECIMAL),
        ("es", "27,333", ErrorCode.READS_AS_DECIMAL),
        ("fr", "5.123", ErrorCode.MARK_UNCLEAR),  # neither of French's marks: 5 123 or 5,123
        ("fr-CH", "5.123", ErrorCode.MARK_UNCLEAR),
    ],
)
def test_a_count_that_reads_as_a_decimal_is_refused_with_the_reason(tag, typed, code):
    verdict = validate(COUNT, typed, tag)
    assert isinstance(verdict, AnswerError) and verdict.code is code
    integer, fraction = typed.replace(",", ".").split(".")
    assert verdict.params["whole"] == verdict.params["plain"] == str(int(integer) * 1000 + int(fraction))
    assert verdict.params["decimal"] == canonical(Decimal(f"{integer}.{fraction}"))


@pytest.mark.parametrize(
    ("tag", "typed", "expected"),
    [
        ("en", "5,123", "5123"),  # each format's own thousands separator
        ("es", "5.123", "5123"),
        ("es-MX", "5,123", "5123"),
        ("en-BE", "5.123", "5123"),
        ("fr", "5 123", "5123"),
        ("fr-CH", "5'123", "5123"),
        ("en-IN", "12,34,567", "1234567"),  # India's grouping
        ("en-IN", "1,234,567", "1234567"),
    ],
)
def test_the_users_own_thousands_separator_groups(tag, typed, expected):
    assert validate(COUNT, typed, tag) == Valid(expected)


def test_a_foreign_mark_on_an_amount_is_the_only_valid_reading():
    """French "5.123" USD: 5.123 has too many decimals for an amount, so 5123 (shown back)."""
    assert validate(AMOUNT, "5.123", "fr") == Valid("5123")
    too_many = validate(AMOUNT, "5,123", "fr")  # French's own decimal mark: 5.123, refused
    assert isinstance(too_many, AnswerError) and too_many.code is ErrorCode.TOO_MANY_DECIMALS
