"""Finds KPIs from a few words typed in English, French or Spanish ("what is AEO involvement?").

A KPI id (``TF-03``) matches directly. Otherwise each KPI is scored on its names in the
three languages (the user's own weighs most): the share of the query's meaningful words
found in the name (prefixes count, so "seizure" finds "seizures"), plus a fuzzy ratio of the
whole query against the name (rapidfuzz's normalised Indel similarity, the measure of
:mod:`difflib`'s ``ratio`` computed in C++: a long query costs microseconds, not seconds),
so typos still land. Only the first 120 characters of a query are read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from pmm_core.catalog.models import Catalog, Kpi

_ID = re.compile(r"\b(tf|rc|es|od|wt)[\s-]?(\d{1,2})\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "what",
        "is",
        "the",
        "of",
        "a",
        "an",
        "in",
        "on",
        "to",
        "for",
        "and",
        "or",
        "how",
        "does",
        "do",
        "explain",
        "mean",
        "means",
        "meaning",
        "kpi",
        "indicator",
        "about",
        "tell",
        "me",
        "que",
        "quoi",
        "qu",
        "est",
        "ce",
        "le",
        "la",
        "les",
        "de",
        "des",
        "du",
        "un",
        "une",
        "et",
        "ou",
        "comment",
        "signifie",
        "expliquer",
        "explique",
        "sur",
        "indicateur",
        "el",
        "los",
        "las",
        "del",
        "y",
        "o",
        "como",
        "significa",
        "explicar",
        "explica",
        "sobre",
        "indicador",
        "cual",
        "es",
        "por",
        "favor",
        "please",
    ]
)
THRESHOLD = 0.45


@dataclass(frozen=True)
class Match:
    kpi: Kpi
    score: float


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if w not in _STOP and (len(w) > 1 or w.isdigit())]


MAX_QUERY = 120  # characters of a query that are read: a KPI name is shorter
MAX_TERMS = 12

_Entry = tuple[Kpi, dict[str, tuple[str, list[str]]]]
_INDEXES: dict[int, list[_Entry]] = {}


def _index(catalog: Catalog) -> list[_Entry]:
    """The folded names of every KPI and their words, built once per catalog."""
    key = id(catalog)
    if key not in _INDEXES:
        _INDEXES[key] = [
            (kpi, {lang: (fold(kpi.name.get(lang)), words(kpi.name.get(lang))) for lang in ("en", "fr", "es")})
            for kpi in catalog.kpis
        ]
    return _INDEXES[key]


def search(catalog: Catalog, query: str, lang: str = "en", limit: int = 5) -> list[Match]:
    """The best matching KPIs, best first; empty when nothing is close enough."""
    query = query[:MAX_QUERY]
    direct = _ID.search(query)
    if direct:
        kpi = catalog.kpi_by_id.get(f"{direct.group(1).upper()}-{int(direct.group(2)):02d}")
        if kpi is not None:
            return [Match(kpi, 1.0)]
    terms = words(query)[:MAX_TERMS]
    if not terms:
        return []
    phrase = " ".join(terms)
    scored: list[Match] = []
    for kpi, names in _index(catalog):
        best = 0.0
        for name_lang, (name, name_words) in names.items():
            hits = sum(
                1 for t in terms if any(w.startswith(t) or t.startswith(w) for w in name_words if len(w) > 2 or w == t)
            )
            coverage = hits / len(terms)
            precision = hits / max(len(name_words), 1)
            fuzzy = fuzz.ratio(phrase, name) / 100
            score = 0.6 * coverage + 0.15 * precision + 0.25 * fuzzy
            if name_lang != lang:
                score *= 0.95
            best = max(best, score)
        if best >= THRESHOLD:
            scored.append(Match(kpi, best))
    scored.sort(key=lambda m: m.score, reverse=True)
    return scored[:limit]
