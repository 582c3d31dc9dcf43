"""Short texts that are not answers: greetings and requests for help, in en/fr/es."""

from __future__ import annotations

import re

from pmm_core.domain.answers import fold

_GREETINGS = frozenset(
    [
        "hello",
        "hi",
        "hey",
        "hallo",
        "good",
        "morning",
        "afternoon",
        "evening",
        "greetings",
        "bonjour",
        "bonsoir",
        "salut",
        "coucou",
        "allo",
        "hola",
        "buenos",
        "buenas",
        "dias",
        "tardes",
        "noches",
        "saludos",
    ]
)
_HELP = frozenset(["help", "aide", "aidez-moi", "ayuda", "ayudame", "menu"])
_POLITE = frozenset(["me", "please", "svp", "plait", "por", "favor", "moi"])
_WORDS = re.compile(r"[a-z0-9-]+")


def _words(text: str) -> list[str]:
    return _WORDS.findall(fold(text))


def is_greeting(text: str) -> bool:
    """ "hello", "Bonjour !", "¡Hola!", "good morning": greeting words only."""
    found = _words(text)
    return bool(found) and len(found) <= 4 and all(w in _GREETINGS for w in found)


def is_help(text: str) -> bool:
    """ "help", "aide", "ayuda por favor": a request for help, nothing more."""
    found = _words(text)
    return bool(found) and len(found) <= 4 and found[0] in _HELP and all(w in _HELP | _POLITE for w in found)
