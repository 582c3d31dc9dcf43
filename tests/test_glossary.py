"""locales/GLOSSARY.md: its forbidden variants appear in no French or Spanish catalog text or
msgstr, and French texts follow French typography."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from pmm_core.outputs.i18n import LOCALES_DIR

GLOSSARY = LOCALES_DIR / "GLOSSARY.md"
COLUMNS = ["term", "en", "fr", "es", "source", "forbidden variants"]


def glossary_rows() -> list[dict[str, str]]:
    lines = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == COLUMNS
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(COLUMNS), line
        rows.append(dict(zip(COLUMNS, cells, strict=True)))
    return rows


def forbidden_variants() -> list[tuple[str, str, str]]:
    """(language, variant, term) for every forbidden variant: cells like "fr: `ICP`; es: `PMM`"."""
    out = []
    for row in glossary_rows():
        for part in filter(None, (p.strip() for p in row["forbidden variants"].split(";"))):
            language, _, variants = part.partition(":")
            assert language in ("fr", "es"), part
            for variant in re.findall(r"`([^`]+)`", variants):
                out.append((language, variant, row["term"]))
    return out


def pattern(variant: str) -> re.Pattern[str]:
    """Whole words; an acronym in capitals is matched as written, anything else in any case."""
    flags = 0 if variant.isupper() else re.IGNORECASE
    return re.compile(rf"(?<!\w){re.escape(variant)}(?!\w)", flags)


def msgstrs(language: str) -> list[str]:
    with open(LOCALES_DIR / language / "LC_MESSAGES" / "pmm_bot.po", "rb") as f:
        catalog = read_po(f)
    out: list[str] = []
    for message in catalog:
        if message.id:
            strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
            out += [str(s) for s in strings if s]
    return out


def texts_of(catalog, language: str) -> list[tuple[str, str]]:
    texts = [(path, getattr(text, language)) for path, text in catalog.texts() if getattr(text, language)]
    return texts + [(f"{language}.po msgstr", s) for s in msgstrs(language)]


def test_glossary_covers_the_terms_of_issue_14():
    rows = {row["term"]: row for row in glossary_rows()}
    assert rows["KPI"]["fr"].startswith("KPI") and rows["KPI"]["es"] == "KPI"
    assert "(MMP)" in rows["PMM"]["fr"] and "(MMD)" in rows["PMM"]["es"]
    assert rows["expected outcome"]["fr"] == "résultat escompté"
    assert rows["disclosure policy"]["fr"].startswith("politique de divulgation")
    assert rows["post-clearance audit"]["es"] == "auditoría posterior al despacho (APD)"
    assert rows["post-clearance control"]["es"] == "control a posteriori"
    assert rows["Revised Kyoto Convention"]["es"] == "Convenio de Kioto Revisado"
    assert rows["broadcast"]["es"] == "difusión"
    assert rows["period"]["es"] == "periodo"
    assert rows["financial year"]["es"] == "ejercicio fiscal"
    variants = {(language, variant) for language, variant, _ in forbidden_variants()}
    assert {
        ("fr", "ICP"),
        ("fr", "PMM"),
        ("fr", "résultat attendu"),
        ("fr", "ETNM"),
        ("fr", "RPCV"),
        ("es", "ETD"),
        ("es", "Kyoto"),
        ("es", "período"),
        ("es", "Mensaje masivo"),
        ("es", "control posterior al despacho"),
        ("es", "ejercicio financiero"),
        ("es", "alimentos"),
    } <= variants
    assert all(row["source"] for row in rows.values()), "every term needs a source"


@pytest.mark.parametrize("language", ["fr", "es"])
def test_no_forbidden_variant_in_catalog_texts_or_msgstr(catalog, language):
    texts = texts_of(catalog, language)
    assert len(texts) > 1800
    found = [
        (term, variant, path, value[max(0, m.start() - 30) : m.end() + 30])
        for lang, variant, term in forbidden_variants()
        if lang == language
        for path, value in texts
        if (m := pattern(variant).search(value))
    ]
    assert found == []


def test_variant_matching_is_whole_word_and_case_aware():
    assert pattern("ICP").search("Laisser cet ICP en blanc")
    assert not pattern("PMM").search("pmm-bot") and not pattern("PMM").search("PMM_SECRETARIAT_IDS")
    assert pattern("período").search("en el Período de referencia")
    assert not pattern("alimentos").search("productos alimenticios")


def test_french_typography(catalog):
    # A narrow no-break space (U+202F), never a plain or no-break space, before ; : ? ! % and »,
    # and after «.
    bad = [
        (path, value[max(0, m.start() - 25) : m.end() + 25])
        for path, value in texts_of(catalog, "fr")
        if (m := re.search(r"[ \u00a0][;:?!%»]|«[ \u00a0]", value))
    ]
    assert bad == []
