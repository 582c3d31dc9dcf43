"""Text for Telegram's HTML: escaping, quoting a user's input, button labels, one-line notes,
and splitting a long text into messages within Telegram's limit."""

from __future__ import annotations

import html
import re

from pmm_core.domain.answers import clean
from pmm_core.outputs import utf16
from pmm_core.outputs.i18n import Lang

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units after entity parsing


def one_line(L: Lang, text: str, limit: int) -> tuple[str, str]:
    """A typed note on one line and at most `limit` characters long, with the sentence
    that tells the user it was cut ("" if it was not)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line, ""
    told = L._("Your text was longer than {n} characters: only its beginning was kept.").format(n=L.number(limit))
    return line[:limit], "\n" + told


def esc(text: str) -> str:
    """Escapes user or catalog text for HTML parse mode."""
    return html.escape(text, quote=False)


def quote(text: str, limit: int = 60) -> str:
    """A user's input, cut to `limit` characters, for an error message (escaped)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text.strip())
    return esc(cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…")


def short(text: str, limit: int = 60) -> str:
    """A button label: cut on a word boundary with "…" when it is too long to show."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:·-")
    return cut + "…"


_TOKEN = re.compile(r"<(/?)([a-z-]+)[^>]*>|&[#a-zA-Z0-9]+;|.", re.DOTALL)


def _token_units(token: str, name: str | None) -> int:
    """UTF-16 code units a token shows: 0 for a tag, its character's for an entity."""
    if name is not None:
        return 0
    if token.startswith("&") and len(token) > 1:
        return utf16.length(html.unescape(token))
    return utf16.units(token)


def visible_length(text: str) -> int:
    """The length Telegram counts, in UTF-16 code units (📨 is two): the text after its HTML
    tags and entities are parsed."""
    if "<" not in text and "&" not in text:
        return utf16.length(text)
    return sum(_token_units(m.group(0), m.group(2)) for m in _TOKEN.finditer(text))


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Splits an HTML text into messages of at most `limit` UTF-16 code units once parsed,
    as Telegram counts them, cutting at a paragraph break if one is in reach, else a line
    break, else a space, else anywhere but inside a tag, an entity or a character; tags open
    at a cut are closed there and reopened."""
    if utf16.length(text) <= limit or visible_length(text) <= limit:  # tags and entities only add
        return [text]
    tokens = [m.group(0) for m in _TOKEN.finditer(text)]
    names = [m.group(2) for m in _TOKEN.finditer(text)]
    sizes = [_token_units(t, n) for t, n in zip(tokens, names, strict=True)]
    pages: list[str] = []
    start, reopen = 0, ""
    while start < len(tokens):
        end, seen = start, 0
        while end < len(tokens) and seen + sizes[end] <= limit:
            seen += sizes[end]
            end += 1
        if end == start:  # one character wider than the limit (a limit of 1 and 📨)
            end += 1
        if end < len(tokens):
            end = _cut(tokens, names, start, end)
        stack = _open_tags(tokens[start:end], names[start:end], reopen)
        body = reopen + "".join(tokens[start:end])
        closing = "".join(f"</{name}>" for name, _ in reversed(stack))
        if body.strip():
            pages.append(body.rstrip("\n") + closing)
        reopen = "".join(tag for _, tag in stack)
        start = end
        while start < len(tokens) and tokens[start] == "\n":
            start += 1
    return pages


def _cut(tokens: list[str], names: list[str | None], start: int, end: int) -> int:
    """The best place to end a page within tokens[start:end]."""
    window = tokens[start:end]
    for mark in ("\n\n", "\n", " "):
        for i in range(len(window) - 1, len(window) // 2, -1):
            if mark == "\n\n" and window[i] == "\n" and i > 0 and window[i - 1] == "\n":
                return start + i
            if mark != "\n\n" and window[i] == mark:
                return start + i + (mark == " ")
    return end


def _open_tags(tokens: list[str], names: list[str | None], reopened: str) -> list[tuple[str, str]]:
    """The tags still open after `reopened` + tokens, as (name, opening tag)."""
    stack = [(m.group(2), m.group(0)) for m in _TOKEN.finditer(reopened)]
    for token, name in zip(tokens, names, strict=True):
        if name is None:
            continue
        if token.startswith("</"):
            if stack and stack[-1][0] == name:
                stack.pop()
        else:
            stack.append((name, token))
    return stack


_QUESTION = re.compile(
    r"^(what|what's|whats|which|how|why|explain|define|meaning"
    r"|qu['’ ]?est[- ]ce|que\s|quel|quelle|comment|pourquoi|explique|c['’]est quoi|définition|definition"
    r"|qué|que es|cuál|cual|cómo|como se|por qué|explica|significa)\b",
    re.IGNORECASE,
)


def looks_like_question(text: str) -> bool:
    """ "what is…", "qu'est-ce que…", "¿qué es…", anything ending with "?"."""
    stripped = clean(text)
    return stripped.endswith("?") or stripped.startswith("¿") or bool(_QUESTION.match(stripped))


def not_a_question(_s: object, text: str) -> bool:
    """A text route's condition: the text is not a question (a question is explained instead)."""
    return not looks_like_question(text)
