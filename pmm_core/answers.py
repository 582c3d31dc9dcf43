"""Validation of a typed answer, as people type numbers in English, French and Spanish.

Numbers are parsed with Babel in the user's language (``1,234.5`` en; ``1 234,5`` fr, with
an ordinary, no-break or narrow no-break space; ``1.234,5`` es). Strict parsing rejects a
misplaced group separator instead of guessing. A valid answer is returned in its stored,
canonical form: a plain decimal string (``"1234.5"``), ``"yes"``/``"no"``, or a choice code.

Errors are :class:`AnswerError` values: a stable :class:`ErrorCode` plus parameters. Each
code's message template is marked for translation here and rendered by the chat layer,
with an example of a valid answer in the user's own number format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from babel.numbers import NumberFormatError, get_group_symbol, parse_decimal

from pmm_core.catalog import DataPoint, DataType


def N_(message: str) -> str:
    """Marks a string for extraction into the gettext catalogs without translating it."""
    return message


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
    ErrorCode.TOO_LARGE: N_("{value} is larger than the maximum plausible value ({limit}). Please check the figure."),
    ErrorCode.TOO_SMALL: N_("{value} is smaller than the minimum allowed value ({limit}). Please check the figure."),
    ErrorCode.NOT_YES_NO: N_("Please answer yes or no (you can use the buttons)."),
    ErrorCode.NOT_A_CHOICE: N_("Please pick one of the options with the buttons."),
}


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


_YES = {"yes", "y", "oui", "o", "si", "sí", "s", "true", "1"}
_NO = {"no", "n", "non", "false", "0"}
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_NUMBER_CHARS = re.compile(r"^[+-]?[0-9][0-9.,\u202f]*$")
MAX_DECIMALS = 2


def _fold(text: str) -> str:
    """Lower case without accents: "Sí" → "si"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(".!")


def parse_yes_no(text: str) -> bool | None:
    """True/False for yes/no words of the three languages, whatever the user's language."""
    folded = _fold(text)
    if folded in {_fold(w) for w in _YES}:
        return True
    if folded in _NO:
        return False
    return None


def parse_number(text: str, lang: str) -> Decimal | AnswerError:
    """A decimal from a number typed in the conventions of `lang` (en, fr or es)."""
    stripped = text.strip()
    if not stripped:
        return AnswerError(ErrorCode.EMPTY)
    if not any(ch.isdigit() for ch in stripped):
        return AnswerError(ErrorCode.NOT_A_NUMBER, {"text": stripped})
    # People type spaces (plain, no-break, thin) and apostrophes for thousands; they become
    # the language's own group symbol so that Babel's strict parser checks their places.
    candidate = _SPACES.sub(get_group_symbol(lang), stripped).replace("−", "-")
    if not _NUMBER_CHARS.match(candidate):
        return AnswerError(ErrorCode.BAD_FORMAT, {"text": stripped})
    try:
        return parse_decimal(candidate, locale=lang, strict=True)
    except NumberFormatError:
        return AnswerError(ErrorCode.BAD_FORMAT, {"text": stripped})


def validate(dp: DataPoint, text: str, lang: str) -> Valid | AnswerError:
    """Checks a typed answer against the data point's type and bounds."""
    if dp.type is DataType.YES_NO:
        answer = parse_yes_no(text)
        return AnswerError(ErrorCode.NOT_YES_NO) if answer is None else Valid("yes" if answer else "no")
    if dp.type is DataType.SCALE:
        code = _match_choice(dp, text)
        return AnswerError(ErrorCode.NOT_A_CHOICE) if code is None else Valid(code)
    raw = text.strip()
    if dp.type is DataType.PERCENT and raw.endswith("%"):
        raw = raw[:-1]
    if dp.type is DataType.AMOUNT and dp.currency:
        raw = re.sub(rf"(?i)^\s*{re.escape(dp.currency)}\s*|\s*{re.escape(dp.currency)}\s*$", "", raw)
        raw = raw.replace("$", "")
    number = parse_number(raw, lang)
    if isinstance(number, AnswerError):
        return number
    return check_number(dp, number)


def check_number(dp: DataPoint, number: Decimal) -> Valid | AnswerError:
    """Type and bound checks of a parsed number; the value in canonical form."""
    if number < 0 and dp.lower_bound >= 0:
        return AnswerError(ErrorCode.NEGATIVE)
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
        return AnswerError(ErrorCode.TOO_LARGE, {"value": str(number), "limit": str(upper)})
    if number < dp.lower_bound:
        return AnswerError(ErrorCode.TOO_SMALL, {"value": str(number), "limit": str(dp.lower_bound)})
    return Valid(canonical(number))


def canonical(number: Decimal) -> str:
    """The stored form of a number: plain notation, no trailing zeros ("1234.5", "12")."""
    return format(number.normalize(), "f")


def _match_choice(dp: DataPoint, text: str) -> str | None:
    folded = _fold(text)
    for i, choice in enumerate(dp.choices, start=1):
        labels = {_fold(choice.code), str(i), *(_fold(choice.label.get(lang)) for lang in ("en", "fr", "es"))}
        if folded in labels:
            return choice.code
    return None
