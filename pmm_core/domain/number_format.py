"""How a person writes numbers: the marks and grouping of their language in their country.

An NCP reads and types numbers as their country does in their language: Babel's (CLDR's)
locale ``{language}_{territory}`` when it exists (``es_MX``: 1,234.5; ``es_ES``: 1.234,5;
``en_IN``: 12,34,567.5; ``fr_CA``: 1 234,5), else the language's own (``fr``: 1 234,5).
The territory is the Member's ISO 3166 code. A user may choose one of three styles instead
(``/language``): the style replaces the two marks, while the language's patterns (where the
``%`` goes, the grouping sizes) stay.

A format travels between processes (the worker's jobs) as a short tag: ``"es"``,
``"es-MX"``, ``"es-MX+comma_dot"``; :func:`from_tag` reads any string, falling back to
English for what it does not know.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from babel import Locale, localedata
from babel.core import UnknownLocaleError

LANGUAGES = ("en", "fr", "es")
_PLACEHOLDER = "\ue000"  # Babel strips "'" from a formatted number (it reads it as a pattern quote)
_TAG = re.compile(r"^([a-z]{2})(?:[-_]([A-Z]{2}))?(?:\+([a-z_]+))?$")


class NumberStyle(StrEnum):
    """A number format a user may choose instead of their country's."""

    COMMA_DOT = "comma_dot"  # 1,234.5
    DOT_COMMA = "dot_comma"  # 1.234,5
    SPACE_COMMA = "space_comma"  # 1 234,5

    @property
    def marks(self) -> tuple[str, str]:
        """(group, decimal)"""
        return _STYLE_MARKS[self]

    @property
    def sample(self) -> str:
        """The style as a button shows it: "1,234.5"."""
        group, decimal = self.marks
        return f"1{group}234{decimal}5"


_STYLE_MARKS = {
    NumberStyle.COMMA_DOT: (",", "."),
    NumberStyle.DOT_COMMA: (".", ","),
    NumberStyle.SPACE_COMMA: ("\u202f", ","),
}


def style_of(code: str | None) -> NumberStyle | None:
    """The style a stored or pressed code names; None for "automatic" or anything unknown."""
    try:
        return NumberStyle(code) if code else None
    except ValueError:
        return None


@dataclass(frozen=True)
class NumberFormat:
    """The number format of one language in one territory, possibly restyled."""

    language: str
    territory: str | None  # None: the language's own format (no such locale in CLDR, or no Member)
    style: NumberStyle | None
    group: str  # the thousands separator as written ("," "." "\u202f" "'" …)
    decimal: str  # "." or ","
    grouping: tuple[int, int]  # (primary, secondary) group sizes: (3, 3); India (3, 2)

    @property
    def locale_id(self) -> str:
        """Babel's id of the locale the patterns come from: "es_MX", "fr"."""
        return f"{self.language}_{self.territory}" if self.territory else self.language

    @property
    def tag(self) -> str:
        """The short string a format travels as: "es-MX+comma_dot"."""
        return (
            self.language
            + (f"-{self.territory}" if self.territory else "")
            + (f"+{self.style.value}" if self.style else "")
        )

    @property
    def group_mark(self) -> str | None:
        """The thousands separator if it is "." or ","; None for a space or an apostrophe
        (typed spaces and apostrophes always separate groups)."""
        return self.group if self.group in ".," else None

    @property
    def sample(self) -> str:
        """1,234.5 in this format (the grouping of thousands and the decimal mark)."""
        return f"1{self.group}234{self.decimal}5"

    def babel_locale(self) -> Locale:
        """The Babel locale that formats numbers this way (its marks replaced if restyled,
        and an apostrophe protected from Babel's quote handling)."""
        return _babel_locale(self.locale_id, self.group, self.decimal)

    def finish(self, formatted: str) -> str:
        """A string Babel formatted with :meth:`babel_locale`, with the protected mark put back."""
        return formatted.replace(_PLACEHOLDER, self.group) if _PLACEHOLDER in formatted else formatted


class _Marked(Locale):
    """A Babel locale whose group and decimal symbols (Latin digits) are replaced."""

    def __init__(self, base: Locale, group: str, decimal: str) -> None:
        super().__init__(base.language, territory=base.territory, script=base.script, variant=base.variant)
        self._marks = {"group": group, "decimal": decimal}
        self._symbols: dict[str, Any] | None = None

    @property
    def number_symbols(self) -> Any:
        if self._symbols is None:
            base = super().number_symbols
            self._symbols = {**{str(k): base[k] for k in base}, "latn": {**base["latn"], **self._marks}}
        return self._symbols


@lru_cache(maxsize=256)
def _babel_locale(locale_id: str, group: str, decimal: str) -> Locale:
    base = Locale.parse(locale_id)
    symbols = base.number_symbols["latn"]
    shown_group = _PLACEHOLDER if "'" in group else group
    if symbols.get("group") == shown_group and symbols.get("decimal") == decimal:
        return base
    return _Marked(base, shown_group, decimal)


@lru_cache(maxsize=2048)
def number_format(language: str, territory: str | None = None, style: NumberStyle | str | None = None) -> NumberFormat:
    """The format of `language` (en, fr, es; else English) in `territory` (an ISO 3166
    code, or None), restyled if `style` names a :class:`NumberStyle`."""
    language = language if language in LANGUAGES else "en"
    chosen = style if isinstance(style, NumberStyle) else style_of(style)
    locale, used = Locale.parse(language), None
    # Only a locale CLDR has (Locale.parse would turn "es_ZZ" into es_ES by likely subtags).
    if territory and re.fullmatch(r"[A-Z]{2}", territory) and localedata.exists(f"{language}_{territory}"):
        with contextlib.suppress(UnknownLocaleError, ValueError):
            locale, used = Locale.parse(f"{language}_{territory}"), territory
    symbols = locale.number_symbols["latn"]
    group, decimal = chosen.marks if chosen else (symbols["group"], symbols["decimal"])
    grouping = locale.decimal_formats[None].grouping
    return NumberFormat(language, used, chosen, group, decimal, (int(grouping[0]), int(grouping[1])))


def from_tag(tag: str | NumberFormat) -> NumberFormat:
    """The format a tag names ("es-MX+comma_dot", "fr", "es_AR"); English for an unknown tag."""
    if isinstance(tag, NumberFormat):
        return tag
    match = _TAG.match(tag or "")
    if match is None:
        return number_format("en")
    language, territory, style = match.groups()
    return number_format(language, territory, style)


def split_tag(tag: str) -> tuple[str, str | None, str | None]:
    """(language, territory, style) of a tag, each as written ("" parts as None)."""
    match = _TAG.match(tag or "")
    if match is None:
        return tag, None, None
    language, territory, style = match.groups()
    return language, territory, style
