"""Interface languages: gettext catalogs (managed with Babel) and locale-aware formatting.

Catalogs are loaded once, at start-up, from ``locales/<lang>/LC_MESSAGES/pmm_bot.mo``;
a missing or uncompiled catalog stops start-up with a clear message (run
``scripts/i18n.sh compile``). Numbers, percentages and dates go through Babel, in the
language as written in the user's country (:mod:`pmm_core.domain.number_format`): a French NCP
reads ``12 400`` and ``98,1 %``, a Spanish one ``12.400`` and ``31 de marzo de 2026``, a
Mexican one ``12,400`` and ``98.1%``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol

from babel.dates import format_date, parse_date
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from pmm_core.catalog.models import DataPoint, DataType, ResultUnit
from pmm_core.domain.number_format import NumberFormat, NumberStyle, from_tag, number_format, split_tag, style_of
from pmm_core.domain.results import Computed, rounded

LANGUAGES = ("en", "fr", "es")
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}
DOMAIN = "pmm_bot"
LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"


class CatalogMissing(RuntimeError):
    """A language's compiled gettext catalog (.mo) is missing."""


@dataclass(frozen=True)
class Lang:
    """One interface language: its gettext functions, and its number and date formats in the
    user's country (`territory`, an ISO 3166 code) or in the style they chose."""

    code: str
    translations: NullTranslations
    territory: str | None = None
    style: NumberStyle | None = None

    @cached_property
    def numbers(self) -> NumberFormat:
        """How this user writes numbers (what a typed figure is read with)."""
        return number_format(self.code, self.territory, self.style)

    @cached_property
    def tag(self) -> str:
        """The language and number format as one short string ("es-MX"), for the worker's
        jobs: ``lang(tag)`` gives this Lang back."""
        return self.numbers.tag

    @cached_property
    def _translated(self) -> dict[str, str]:
        return {}

    def _(self, message: str) -> str:
        # an export asks for the same few labels 200,000 times: a dict, not gettext's chain
        text = self._translated.get(message)
        if text is None:
            text = self._translated[message] = self.translations.gettext(message)
        return text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def number(self, value: Decimal | int, decimals: int | None = None) -> str:
        """12 400 (fr), 12.400 (es), 12,400 (en, es-MX); `decimals` fixes the decimals shown."""
        return _number(self.tag, value, decimals)

    def percent(self, value: Decimal, decimals: int = 2) -> str:
        """98.1% (en), 98,1 % (fr, es): `value` is in percent points (98.1, not 0.981)."""
        return _percent(self.tag, rounded(value, decimals))

    def date(self, value: date) -> str:
        """March 31, 2026 / 31 mars 2026 / 31 de marzo de 2026; French writes the first of
        the month as an ordinal: 1er mars 2026."""
        text = format_date(value, format="long", locale=self.numbers.locale_id)
        if self.code == "fr" and value.day == 1 and text.startswith("1 "):
            text = "1er" + text[1:]
        return text

    def parse_date(self, text: str) -> dt.date | None:
        """A typed date: ISO (2027-03-31), or in this user's short date format (31/03/2027 in
        French, 3/31/2027 in US English); None if it does not read as a real date."""
        text = text.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        if not re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", text):
            return None
        try:
            found = parse_date(re.sub(r"[.-]", "/", text), locale=self.numbers.locale_id, format="short")
        except (ValueError, IndexError):
            return None
        return found if found.year >= 2000 else None

    def value(self, dp: DataPoint, stored: str) -> str:
        """A stored answer as the user reads it."""
        if dp.type is DataType.YES_NO:
            return self._("Yes") if stored == "yes" else self._("No")
        if dp.type is DataType.SCALE:
            choice = dp.choice(stored)
            return choice.label.get(self.code) if choice else stored
        number = self.number(Decimal(stored))
        if dp.type is DataType.PERCENT:
            return self.percent(Decimal(stored))
        if dp.type is DataType.AMOUNT:
            return f"{number} {dp.currency}"
        if dp.type is DataType.MINUTES:
            return self._("{n} min").format(n=number)
        return number

    def result(self, result: Computed) -> str:
        if result.unit is ResultUnit.PERCENT:
            return self.percent(result.value, result.decimals)
        shown = self.number(result.display_value, result.decimals)
        if result.unit is ResultUnit.MINUTES:
            return self._("{n} min").format(n=shown)
        if result.unit is ResultUnit.PER_100:
            return self._("{n} per 100").format(n=shown)
        return shown

    def example(self, dp: DataPoint) -> str:
        """An example of a valid typed answer, in this language's number format."""
        samples = {
            DataType.COUNT: Decimal(12400),
            DataType.AMOUNT: Decimal("1250000.50"),
            DataType.MINUTES: Decimal("1234.5"),
            DataType.PERCENT: Decimal("98.1"),
            DataType.NUMBER: Decimal("1234.5"),
        }
        return self.number(samples.get(dp.type, Decimal(1)))


# Babel formats a number in ~50 µs; the same figures come back on every screen of a KPI.
@lru_cache(maxsize=8192)
def _number(tag: str, value: Decimal | int, decimals: int | None) -> str:
    numbers = from_tag(tag)
    locale = numbers.babel_locale()
    if decimals is None:
        return numbers.finish(format_decimal(value, locale=locale, decimal_quantization=False))
    pattern = locale.decimal_formats[None].pattern.split(".")[0].split(";")[0]  # "#,##0", India "#,##,##0"
    pattern += "." + "0" * decimals if decimals else ""
    return numbers.finish(format_decimal(value, format=pattern, locale=locale))


@lru_cache(maxsize=4096)
def _percent(tag: str, points: Decimal) -> str:
    numbers = from_tag(tag)
    return numbers.finish(format_percent(points / 100, locale=numbers.babel_locale(), decimal_quantization=False))


_LOADED: dict[Path, dict[str, Lang]] = {}


def load_languages(locales_dir: Path = LOCALES_DIR) -> dict[str, Lang]:
    """Loads every language's compiled catalog once; fails fast if one is missing."""
    if locales_dir not in _LOADED:
        languages = {}
        for code in LANGUAGES:
            mo = locales_dir / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if not mo.is_file():
                raise CatalogMissing(
                    f"the {code} interface catalog is not compiled ({mo} is missing): run scripts/i18n.sh compile"
                )
            languages[code] = Lang(code, Translations.load(str(locales_dir), [code], DOMAIN))
        _LOADED[locales_dir] = languages
    return _LOADED[locales_dir]


def lang(code: str | None, default: str = "en", *, territory: str | None = None, style: str | None = None) -> Lang:
    """The language `code` (or a tag such as "es-MX+comma_dot", see :attr:`Lang.tag`) with
    the number format of `territory` (an ISO 3166 code), or the chosen `style`."""
    languages = load_languages()
    language, tag_territory, tag_style = split_tag(code or default)
    base = languages.get(language) or languages.get(default) or languages["en"]
    chosen = style_of(style or tag_style)
    where = territory or tag_territory
    if where is None and chosen is None:
        return base
    return _with_format(base, where, chosen)


@lru_cache(maxsize=1024)
def _with_format(base: Lang, territory: str | None, style: NumberStyle | None) -> Lang:
    return replace(base, territory=territory, style=style)


class _Person(Protocol):
    @property
    def language(self) -> str: ...
    @property
    def member(self) -> str | None: ...
    @property
    def number_format(self) -> str | None: ...


def user_lang(user: _Person | None, default: str = "en") -> Lang:
    """A user's language, with the number format of their Member's country or the one they chose."""
    if user is None:
        return lang(None, default)
    return lang(user.language, default, territory=user.member, style=user.number_format)


def pick_language(telegram_code: str | None, default: str) -> str:
    """The interface language for a new user, from Telegram's language_code ("fr-CA" → fr)."""
    base = (telegram_code or "").split("-")[0].lower()
    return base if base in LANGUAGES else default


def warm_up(people: Iterable[_Person]) -> int:
    """Loads, before the first update, what each language and number format loads on first
    use (Babel's locale data, ~2–10 ms each): the first NCP of a country must not wait for
    it, nor hold up everyone else on the event loop. Returns how many formats were loaded."""
    sample = (Decimal("12345.5"), date(2026, 3, 1))
    tags = {lang(code).tag for code in LANGUAGES} | {user_lang(person).tag for person in people}
    for tag in tags:
        shown = lang(tag)
        shown.number(sample[0])
        shown.number(sample[0], 2)
        shown.percent(sample[0])
        shown.date(sample[1])
    return len(tags)
