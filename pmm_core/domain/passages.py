"""The sentences of a few texts that answer a question best, by the words they share with it.

Used to answer a question typed at a prompt ("what does biannual mean here?") from the texts
of the figure asked and of its KPI: the question's meaningful words (prefixes count, so
"inspected" finds "inspection") are looked for in each sentence; the sentences that hold
the most of them come first. No sentence shares a word: no passage (the caller then shows
the definition alone)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pmm_core.domain.search import words

# Words of a question that say nothing about its subject ("what counts as … here?").
_QUESTION_WORDS = frozenset(
    [
        "here",
        "ici",
        "aqui",
        "count",
        "counts",
        "counted",
        "compte",
        "comptent",
        "cuenta",
        "cuentan",
        "mean",
        "means",
        "veut",
        "dire",
        "quiere",
        "decir",
        "qui",
        "quien",
        "this",
        "ce",
        "cette",
        "esta",
        "este",
        "figure",
        "chiffre",
        "cifra",
        "dato",
        "question",
        "pregunta",
    ]
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÖØ-Þ¿¡(«\"0-9])")
_STEM = 5  # characters two words must share to count as the same word
MAX_QUESTION = 300  # characters of a question that are read (a pasted page is not a question)


def terms(question: str) -> list[str]:
    return [w for w in words(question[:MAX_QUESTION]) if w not in _QUESTION_WORDS and len(w) > 2][:20]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    n = min(len(a), len(b))
    return n >= 4 and a[: min(n, _STEM)] == b[: min(n, _STEM)]


def score(question_terms: Sequence[str], text: str) -> int:
    """How many of the question's terms the text holds."""
    found = words(text)
    return sum(1 for t in question_terms if any(_same(t, w) for w in found))


def best(question: str, texts: Sequence[str], limit: int = 2) -> list[tuple[int, str]]:
    """The best sentences of `texts` for the question, as (index of the text, sentence), best
    first, at most `limit`; only sentences sharing at least one term."""
    wanted = terms(question)
    if not wanted:
        return []
    scored: list[tuple[int, int, int, str]] = []
    order = 0
    for i, text in enumerate(texts):
        for sentence in sentences(text):
            hits = score(wanted, sentence)
            if hits:
                scored.append((-hits, order, i, sentence))
            order += 1
    scored.sort()
    return [(i, sentence) for _, _, i, sentence in scored[:limit]]
