"""Logging that never shows the bot token nor an invite code.

PTB and httpx log request URLs, which carry the token (``/bot123:ABC/getUpdates``), at
DEBUG, and exceptions may quote them at any level. At DEBUG, PTB also logs every update
and every request's parameters: a ``/start <code>`` message, an invitation link
(``?start=<code>``), the figures NCPs type. Every record is redacted after formatting,
exception text included: the token itself and anything shaped like a token; an invite
code after ``/start`` or ``start=``, and anything shaped like one wherever it is: a run of
exactly 16 URL-safe base64 characters (a rare 16-letter word goes too). Typed figures appear
only at DEBUG (PTB's own lines), never at INFO or above.
"""

from __future__ import annotations

import logging
import re

_TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|bot\d+:[A-Za-z0-9_-]+")
# an invite code after /start (a message, possibly /start@bot) or start= (a t.me link)
_AFTER_START = re.compile(r"(/start(?:@\w+)?(?:\s|\\n|%20|\+)+|[?&]start=)[^\s'\"\\,;}&<>]+")
# a code on its own: secrets.token_urlsafe(12) is 16 URL-safe characters
_CODE_SHAPE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{16}(?![A-Za-z0-9_-])")


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(fmt)
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "<token>")
    text = _TOKEN_SHAPE.sub("<token>", text)
    text = _AFTER_START.sub(lambda m: m.group(1) + "<invite>", text)
    return _CODE_SHAPE.sub("<invite>", text)


def setup_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Logs to stderr at `level`, redacted; httpx's per-request lines only at DEBUG."""
    logging.basicConfig(level=level, force=True)
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    if level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
