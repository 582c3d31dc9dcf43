"""Validation of a typed answer, as people type numbers in English, French and Spanish.

A number may come with the grouping and decimal marks of any of the three languages
(``1,234.5``; ``1 234,5`` with any kind of space or an apostrophe; ``1.234,5``; India's
``12,34,567``), in any script's digits (``١٢٣``), with zero-width or control characters
pasted along, with a unit where one makes sense (``50%`` for a share, ``150 min``, ``2h30``
or ``1:30`` for minutes, ``USD 1,200`` for an amount). A mark is read as a decimal mark or
as a thousands separator from its place; where the place cannot tell — one mark followed by
exactly three digits (``1.000``, ``250,000``) — the user's number format decides
(:mod:`pmm_core.domain.number_format`: the language in the Member's country, or the style the user
chose): their own thousands separator groups (``250,000`` is 250000 in Mexico). Any other
such mark is never silently read as a thousands separator where the decimal reading is not
valid: a figure is never reinterpreted.

- Both readings valid: :class:`Ambiguous`, the chat asks which one was meant.
- Only the decimal reading valid: taken (``1.500`` for a share is 1.5).
- Only the grouped reading valid: for a count (a whole number), refused with the reason
  (``5.123`` in English, ``5,123`` in French read as decimals; ``5.123`` in French could be
  either); for other figures, refused too when the mark is the user's own decimal mark (with
  that reading's error, e.g. too many decimals), taken when it is a foreign mark (``5.123`` USD
  in French).

A valid answer is returned in its stored, canonical form (:class:`Valid`): a plain decimal
string (``"1234.5"``, never ``"-0"``), ``"yes"``/``"no"``, or a choice code. Errors are
:class:`AnswerError` values: a stable :class:`ErrorCode` plus parameters; each code's
message template is marked for translation here and rendered by the chat layer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pmm_core.catalog.models import DataPoint, DataType
from pmm_core.domain.number_format import NumberFormat, from_tag
from pmm_core.domain.text import N_


class ErrorCode(StrEnum):
    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    BAD_FORMAT = "bad_format"
    NEGATIVE = "negative"
    NOT_WHOLE = "not_whole"
    TOO_MANY_DECIMALS = "too_many_decimals"
    PERCENT_OVER_100 = "percent_over_100"
    TOO_LARGE = "too_large"
    TOO_SMALL = "too_small"
    NOT_YES_NO = "not_yes_no"
    NOT_A_CHOICE = "not_a_choice"
    READS_AS_DECIMAL = "reads_as_decimal"  # a count typed with the user's decimal mark: 5.123 in English
    MARK_UNCLEAR = "mark_unclear"  # a count typed with a mark that is neither of the user's: 5.123 in French
    BAD_MINUTES = "bad_minutes"  # 2h99: minutes past the hours are 0–59


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.EMPTY: N_("The answer is empty. Please type a number, for example {example}."),
    ErrorCode.NOT_A_NUMBER: N_("“{text}” is not a number. Please type digits only, for example {example}."),
    ErrorCode.BAD_FORMAT: N_(
        "I could not read “{text}” as a number. Please write it like this: {example} (no letters, separators as shown)."
    ),
    ErrorCode.NEGATIVE: N_("This figure cannot be negative. Please type a number of 0 or more, for example {example}."),
    ErrorCode.NOT_WHOLE: N_("This is a count, so it must be a whole number, without decimals, for example {example}."),
    ErrorCode.TOO_MANY_DECIMALS: N_("Please use at most 2 decimals, for example {example}."),
    ErrorCode.PERCENT_OVER_100: N_(
        "A percentage cannot be more than 100. Please type a value from 0 to 100, for example {example}."
    ),
    ErrorCode.TOO_LARGE: N_("This is larger than the maximum plausible value ({limit}). Please check the figure."),
    ErrorCode.TOO_SMALL: N_("This is smaller than the minimum allowed value ({limit}). Please check the figure."),
    ErrorCode.NOT_YES_NO: N_("Please answer yes or no (you can use the buttons)."),
    ErrorCode.NOT_A_CHOICE: N_("Please pick one of the options with the buttons."),
    ErrorCode.READS_AS_DECIMAL: N_(
        "In your number format, “{text}” has decimals ({mark} is the decimal mark), but this figure is a count, "
        "a whole number. If you meant {whole}, type {plain}. (/language changes the number format.)"
    ),
    ErrorCode.MARK_UNCLEAR: N_(
        "“{text}” could be {whole} or {decimal}, and this figure is a count, a whole number. "
        "So that it is not misread, type it without the mark: {plain} for {whole}."
    ),
    ErrorCode.BAD_MINUTES: N_(
        "In “{text}” the minutes must be from 0 to 59. Please type the time again, for example 2h30 or 150 min."
    ),
}

# Parameters of the messages above that are numbers (canonical form), to be shown in the
# reader's number format; "plain" is a canonical number shown as it is (digits only).
NUMBER_PARAMS = ("whole", "decimal")


@dataclass(frozen=True)
class AnswerError:
    code: ErrorCode
    params: dict[str, str] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return MESSAGES[self.code]


@dataclass(frozen=True)
class Valid:
    value: str  # canonical stored form


@dataclass(frozen=True)
class Ambiguous:
    """Two valid readings of one typed number: with the mark as a thousands separator,
    and as a decimal mark (canonical values, in that order)."""

    grouped: str
    decimal: str


Verdict = Valid | AnswerError | Ambiguous

_YES = {"yes", "y", "oui", "o", "si", "s", "true", "1", "vrai", "verdadero"}
_NO = {"no", "n", "non", "false", "0", "faux", "falso"}
MAX_DECIMALS = 2
MAX_DIGITS = 20  # more digits than any plausible figure: refused before any arithmetic
MAX_TEXT = 200  # longer inputs are not read as numbers at all

_MINUS = "-−‐‑‒–﹣－"
_PLUS = "+＋"
_APOSTROPHES = "'’‘ʼ"
_MARKS = {"٫": ".", "٬": ",", "．": ".", "，": ",", "、": ","}
_BODY = re.compile(r"^([+-]?)(\d[\d., ]*\d|\d|[.,]\d+)$")
_HOURS = re.compile(
    r"^(\d{1,6})\s*(?:h|hr|hrs|hours?|heures?|horas?)\s*(?:(\d{1,2}(?:[.,]\d{1,2})?)\s*(?:min|mn|m|minutes?|minutos?)?)?$"
)
_CLOCK = re.compile(r"^(\d{1,6}):(\d\d)$")
_MINUTES = re.compile(r"^(.+?)\s*(?:min|mn|minutes?|minutos?|')$")
_PERCENT = re.compile(r"^(.+?)\s*(?:%|％|pour\s*cent|por\s*ciento|percent|per\s*cent)$")


def clean(text: str) -> str:
    """The text with any script's digits as ASCII digits, every space as a plain space,
    invisible and control characters removed, minus and plus signs, apostrophes and the
    Arabic decimal marks normalised; lower case, trimmed."""
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        elif category in ("Cf", "Cc") and ch not in "\t\n\r":
            continue
        elif category.startswith("Z") or ch in "\t\n\r" or ch in _APOSTROPHES:
            out.append(" ")
        elif ch in _MINUS:
            out.append("-")
        elif ch in _PLUS:
            out.append("+")
        else:
            out.append(_MARKS.get(ch, ch))
    return re.sub(r" +", " ", "".join(out)).strip().lower()


def fold(text: str) -> str:
    """A typed word for matching: cleaned (see clean), lower case, without accents and a
    final "." or "!": "Sí." → "si"."""
    decomposed = unicodedata.normalize("NFKD", clean(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(".!")


def parse_yes_no(text: str) -> bool | None:
    """True/False for yes/no words of the three languages, whatever the user's language."""
    folded = fold(text)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None


@dataclass(frozen=True)
class _Readings:
    """One or two readings of a typed number (two when a mark's role is ambiguous)."""

    first: Decimal
    second: Decimal | None = None  # the decimal-mark reading, when ambiguous
    native: bool = False  # with a second reading: the mark is the user's own decimal mark
    mark: str = ""  # with a second reading: the mark


def parse_number(text: str, lang: str | NumberFormat) -> _Readings | AnswerError:
    """The number(s) a text can mean, in the number format `lang` (a NumberFormat, or a
    tag such as "en", "es-MX": see :mod:`pmm_core.domain.number_format`)."""
    raw = clean(text)
    if not raw:
        return AnswerError(ErrorCode.EMPTY)
    if len(raw) > MAX_TEXT or not any(ch.isdigit() for ch in raw):
        return AnswerError(ErrorCode.NOT_A_NUMBER, {"text": text.strip()})
    return _read(raw, from_tag(lang), text.strip())


def _read(raw: str, fmt: NumberFormat, original: str) -> _Readings | AnswerError:
    match = _BODY.match(raw)
    if not match:
        has_letters = any(ch.isalpha() for ch in raw)
        code = ErrorCode.NOT_A_NUMBER if has_letters and not raw[0].isdigit() else ErrorCode.BAD_FORMAT
        return AnswerError(code, {"text": original})
    sign, body = match.groups()
    if sum(ch.isdigit() for ch in body) > MAX_DIGITS:
        return AnswerError(ErrorCode.TOO_LARGE)
    readings = _split_marks(body, fmt)
    if readings is None:
        return AnswerError(ErrorCode.BAD_FORMAT, {"text": original})
    numbers = [_decimal(sign, integer, fraction) for integer, fraction in readings]
    if len(numbers) == 1:
        return _Readings(numbers[0])
    mark = next(ch for ch in body if ch in ".,")
    return _Readings(numbers[0], numbers[1], native=mark == fmt.decimal, mark=mark)


def _decimal(sign: str, integer: str, fraction: str) -> Decimal:
    value = Decimal(f"{sign}{integer or '0'}.{fraction or '0'}")
    return Decimal(0) if value == 0 else value


def _split_marks(body: str, fmt: NumberFormat) -> list[tuple[str, str]] | None:
    """(integer digits, fraction digits) for each possible reading of the marks in
    `body`, or None when the marks cannot be a valid number. Two readings (grouped, then
    decimal) only for one mark followed by three digits that is not the user's own
    thousands separator."""
    marks = [ch for ch in body if ch in ".,"]
    spaced = " " in body
    if not marks:
        return [(body.replace(" ", ""), "")] if _grouped(body.split(" "), fmt.grouping) else None
    last = marks[-1]
    if len(set(marks)) == 2 or (spaced and len(marks) == 1):
        # Two kinds of marks (or spaces and one mark): the last is the decimal mark.
        if marks.count(last) != 1:
            return None
        integer, fraction = body.rsplit(last, 1)
        groups = re.split(r"[ .,]", integer)
        return [("".join(groups), fraction)] if _grouped(groups, fmt.grouping) and fraction.isdigit() else None
    if len(marks) > 1:  # one kind of mark, several times: thousands separators
        groups = re.split(r"[ .,]", body)
        return [("".join(groups), "")] if _grouped(groups, fmt.grouping) else None
    integer, fraction = body.split(last)
    if len(fraction) != 3 or integer in ("", "0") or len(integer) > 3:
        return [(integer, fraction)]
    if last == fmt.group_mark:
        return [(integer + fraction, "")]
    return [(integer + fraction, ""), (integer, fraction)]


def _grouped(groups: list[str], sizes: tuple[int, int] = (3, 3)) -> bool:
    """Digit groups of a number written with thousands separators: 1–3 digits, then 3s;
    or in the locale's own sizes (India: 12,34,567)."""
    if len(groups) == 1:
        return groups[0].isdigit()
    if not all(g.isdigit() for g in groups):
        return False
    return any(_fits(groups, primary, secondary) for primary, secondary in {(3, 3), sizes})


def _fits(groups: list[str], primary: int, secondary: int) -> bool:
    first, *middle, last = groups
    top = secondary if middle else primary
    return len(last) == primary and all(len(g) == secondary for g in middle) and 1 <= len(first) <= max(top, 1)


def validate(dp: DataPoint, text: str, lang: str | NumberFormat) -> Verdict:
    """Checks a typed answer against the data point's type and bounds, its numbers read in
    the number format `lang` (a NumberFormat or its tag: "en", "es-MX")."""
    if dp.type is DataType.YES_NO:
        answer = parse_yes_no(text)
        return AnswerError(ErrorCode.NOT_YES_NO) if answer is None else Valid("yes" if answer else "no")
    if dp.type is DataType.SCALE:
        code = _match_choice(dp, text)
        return AnswerError(ErrorCode.NOT_A_CHOICE) if code is None else Valid(code)
    verdict = _number_verdict(dp, text, from_tag(lang))
    if isinstance(verdict, AnswerError) and verdict.code is ErrorCode.TOO_LARGE:
        return AnswerError(ErrorCode.TOO_LARGE, {"limit": str(dp.upper_bound)} if dp.upper_bound else {})
    return verdict


def _number_verdict(dp: DataPoint, text: str, fmt: NumberFormat) -> Verdict:
    if len(text) > MAX_TEXT:
        return AnswerError(ErrorCode.NOT_A_NUMBER, {"text": text.strip()})
    raw = clean(text)
    if dp.type is DataType.MINUTES:
        minutes = _duration(raw, fmt)
        if minutes is not None:
            if isinstance(minutes, AnswerError):
                return (
                    AnswerError(minutes.code, {**minutes.params, "text": text.strip()}) if minutes.params else minutes
                )
            return check_number(dp, minutes)
        raw = _strip(_MINUTES, raw)
    elif dp.type is DataType.PERCENT:
        raw = _strip(_PERCENT, raw)
    elif dp.type is DataType.AMOUNT and dp.currency:
        currency = re.escape(dp.currency.lower())
        raw = re.sub(rf"^{currency}\s*|\s*{currency}$", "", raw).replace("$", "").strip()
    readings = parse_number(raw, fmt)
    if isinstance(readings, AnswerError):
        return AnswerError(readings.code, {"text": text.strip()}) if "text" in readings.params else readings
    first = check_number(dp, readings.first)
    if readings.second is None:
        return first
    return _one_of_two(dp, text.strip(), readings, first, check_number(dp, readings.second))


def _one_of_two(
    dp: DataPoint, text: str, readings: _Readings, grouped: Valid | AnswerError, decimal: Valid | AnswerError
) -> Verdict:
    """The verdict on a number that reads two ways ("5.123": 5123 or 5.123): never the
    grouped reading where the decimal one is what the user's format says, or for a count
    unless the user's own thousands separator was typed (see the module's docstring)."""
    if isinstance(grouped, Valid) and isinstance(decimal, Valid):
        return grouped if grouped.value == decimal.value else Ambiguous(grouped=grouped.value, decimal=decimal.value)
    if isinstance(decimal, Valid):
        return decimal
    if isinstance(grouped, Valid):
        if dp.type is DataType.COUNT and decimal.code is ErrorCode.NOT_WHOLE:
            assert readings.second is not None
            params = {
                "text": text,
                "whole": grouped.value,
                "decimal": canonical(readings.second),
                "plain": grouped.value,
            }
            code = ErrorCode.READS_AS_DECIMAL if readings.native else ErrorCode.MARK_UNCLEAR
            return AnswerError(code, {**params, "mark": readings.mark})
        return decimal if readings.native else grouped
    return decimal if readings.native else grouped


def _strip(pattern: re.Pattern[str], raw: str) -> str:
    match = pattern.match(raw)
    return match.group(1).strip() if match else raw


def _duration(raw: str, fmt: NumberFormat) -> Decimal | AnswerError | None:
    """Minutes from "2h30", "2 h 30 min", "1:30"; None if the text is not written so;
    an error for minutes of 60 or more after the hours ("2h99", "1:75")."""
    match = _HOURS.match(raw)
    if match:
        minutes = Decimal(0)
        if match.group(2):
            reading = parse_number(match.group(2), fmt)
            if isinstance(reading, AnswerError):
                return reading
            if reading.second is not None or reading.first >= 60:
                return AnswerError(ErrorCode.BAD_MINUTES, {"text": raw})
            minutes = reading.first
        return Decimal(match.group(1)) * 60 + minutes
    match = _CLOCK.match(raw)
    if match:
        if int(match.group(2)) >= 60:
            return AnswerError(ErrorCode.BAD_MINUTES, {"text": raw})
        return Decimal(match.group(1)) * 60 + Decimal(match.group(2))
    return None


def check_number(dp: DataPoint, number: Decimal) -> Valid | AnswerError:
    """Type and bound checks of a parsed number; the value in canonical form."""
    if not number.is_finite():
        return AnswerError(ErrorCode.NOT_A_NUMBER, {"text": str(number)})
    if number == 0:
        number = Decimal(0)  # never store "-0"
    if number < 0 and dp.lower_bound >= 0:
        return AnswerError(ErrorCode.NEGATIVE)
    if number.adjusted() > MAX_DIGITS:
        return AnswerError(ErrorCode.TOO_LARGE, {"limit": str(dp.upper_bound)} if dp.upper_bound else {})
    exponent = number.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if dp.type is DataType.COUNT and decimals:
        return AnswerError(ErrorCode.NOT_WHOLE)
    if decimals > MAX_DECIMALS:
        return AnswerError(ErrorCode.TOO_MANY_DECIMALS)
    if dp.type is DataType.PERCENT and number > 100:
        return AnswerError(ErrorCode.PERCENT_OVER_100)
    upper = dp.upper_bound
    if upper is not None and number > upper:
        return AnswerError(ErrorCode.TOO_LARGE, {"limit": str(upper)})
    if number < dp.lower_bound:
        return AnswerError(ErrorCode.TOO_SMALL, {"limit": str(dp.lower_bound)})
    return Valid(canonical(number))


def canonical(number: Decimal) -> str:
    """The stored form of a number: plain notation, no trailing zeros ("1234.5", "12")."""
    try:
        normal = number.normalize()
    except InvalidOperation:
        normal = number
    text = format(normal, "f")
    return "0" if text in ("-0", "0") else text


def _match_choice(dp: DataPoint, text: str) -> str | None:
    folded = fold(text)
    for i, choice in enumerate(dp.choices, start=1):
        labels = {fold(choice.code), str(i), *(fold(choice.label.get(lang)) for lang in ("en", "fr", "es"))}
        if folded in labels:
            return choice.code
    return None
