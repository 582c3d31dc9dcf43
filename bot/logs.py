"""Logging that never shows the bot token.

PTB and httpx log request URLs, which carry the token (``/bot123:ABC/getUpdates``), at
DEBUG, and exceptions may quote them at any level. Every record is redacted after
formatting, exception text included: the token itself and anything shaped like a token.
"""

from __future__ import annotations

import logging
import re

_TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|bot\d+:[A-Za-z0-9_-]+")


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(fmt)
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "<token>")
    return _TOKEN_SHAPE.sub("<token>", text)


def setup_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Logs to stderr at `level`, redacted; httpx's per-request lines only at DEBUG."""
    logging.basicConfig(level=level, force=True)
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    if level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
