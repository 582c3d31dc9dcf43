"""English, French and Spanish throughout: complete catalogs, compiled .mo files in step
with the .po files, every catalog text translated, locale-aware numbers and dates."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

from pmm_core.catalog.loader import load_catalog
from pmm_core.outputs.i18n import DOMAIN, LOCALES_DIR, CatalogMissing, lang, load_languages

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{\w+\}")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}

# Catalog texts allowed to read the same in French or Spanish as in English: proper names
# and acronyms only, listed one by one. None is needed today: every text is translated.
SAME_AS_ENGLISH: frozenset[str] = frozenset({"Public", "Union"})  # disclosure levels, also French words


def po(language: str):
    with open(LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as handle:
        return read_po(handle, locale=language)


def source_msgids() -> set[str]:
    found = set()
    for folder in ("pmm_core", "conversations", "bot"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_source_string_is_in_the_catalogs():
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in po("fr") if m.id}
    missing = sorted(source_msgids() - known)
    assert not missing, f"run scripts/i18n.sh all; not in the catalogs: {missing[:10]}"


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_msgid_translated_with_the_same_placeholders(language):
    problems = []
    for message in po(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for text in strings:
            if not text or set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(ids[0])
    assert not problems, f"{language}: untranslated or placeholders differ: {problems}"


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_compiled_catalogs_are_not_stale(language):
    compiled = Translations.load(str(LOCALES_DIR), [language], DOMAIN)
    for message in po(language):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or not all(strings):
            continue
        if isinstance(message.id, tuple):
            assert compiled.ngettext(message.id[0], message.id[1], 5) == message.string[1], (
                "run scripts/i18n.sh compile"
            )
        else:
            assert compiled.gettext(message.id) == message.string, f"run scripts/i18n.sh compile ({message.id[:40]})"


def test_every_catalog_text_in_three_languages():
    problems = []
    for path, text in load_catalog().texts():
        for language in ("fr", "es"):
            value = getattr(text, language)
            if not value:
                problems.append(f"{path}: no {language}")
            elif value == text.en and text.en not in SAME_AS_ENGLISH:
                problems.append(f"{path}: {language} is the English text")
    assert not problems, problems[:20]


@pytest.mark.parametrize(
    ("language", "number", "percent", "deadline"),
    [
        ("en", "12,400", "98.1%", "March 31, 2026"),
        ("fr", "12\u202f400", "98,1\u00a0%", "31 mars 2026"),
        ("es", "12.400", "98,1\u00a0%", "31 de marzo de 2026"),
    ],
)
def test_numbers_percentages_and_dates_follow_the_language(language, number, percent, deadline):
    L = lang(language)
    assert L.number(Decimal(12400)) == number
    assert L.percent(Decimal("98.1")) == percent
    assert L.date(date(2026, 3, 31)) == deadline


def test_plural_forms():
    assert lang("en").ngettext("{n} open", "{n} open", 1)
    fr = lang("fr")
    assert fr.ngettext("{n} figure to give for {year}.", "{n} figures to give for {year}.", 1) != fr.ngettext(
        "{n} figure to give for {year}.", "{n} figures to give for {year}.", 3
    )


def test_no_translated_call_inside_an_f_string():
    """pybabel cannot see _("…") inside an f-string (Python 3.11), so it would stay English."""
    pattern = re.compile(r"""f(["']).*?\{[^}]*\b_\(\s*["']""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("pmm_core", "conversations", "bot")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_start_up_fails_fast_without_a_compiled_catalog(tmp_path):
    for code in ("en", "fr"):  # Spanish is missing
        folder = tmp_path / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / f"{DOMAIN}.mo").write_bytes((LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes())
    with pytest.raises(CatalogMissing, match="es interface catalog is not compiled"):
        load_languages(tmp_path)
