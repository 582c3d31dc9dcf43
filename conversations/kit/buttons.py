"""Every inline button of the bot, as a small frozen type packed into callback data.

A button type declares a short prefix and typed fields (``str``, ``int`` or ``bool``);
:func:`pack` writes ``prefix:field:field`` and checks Telegram's 64-byte limit at once,
:func:`unpack` reads it back into the typed value or returns None for anything malformed
or forged. Buttons that change data are *bound*: they also carry the cycle and the screen
number they were shown on (``@cycle.screen``), and a press whose screen is no longer the
user's current one is refused by the chat layer. Nothing else in the code splits callback
data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar, get_type_hints

MAX_BYTES = 64  # Telegram's limit for callback_data
_SAFE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_REGISTRY: dict[str, type[Button]] = {}
_FIELDS: dict[type[Button], tuple[tuple[str, type], ...]] = {}  # (name, type) of each field, in order


class ButtonTooLong(ValueError):
    """The packed data would exceed Telegram's 64 bytes: a programming error."""


@dataclass(frozen=True)
class Stamp:
    """The screen a bound button was shown on: the open cycle and the user's screen number."""

    cycle: int
    screen: int


@dataclass(frozen=True)
class Button:
    prefix: ClassVar[str] = ""
    bound: ClassVar[bool] = False


B = TypeVar("B", bound=type[Button])


def button(prefix: str, *, bound: bool = False) -> Callable[[B], B]:
    """Registers a button type under `prefix` (unique)."""

    def register(cls: B) -> B:
        if prefix in _REGISTRY or not _SAFE.match(prefix):
            raise ValueError(f"button prefix {prefix!r} is taken or malformed")
        cls.prefix = prefix
        cls.bound = bound
        hints = get_type_hints(cls)
        typed = tuple((f.name, hints[f.name]) for f in fields(cls))
        for name, kind in typed:
            if kind not in (str, int, bool):
                raise TypeError(f"{cls.__name__}.{name}: only str, int and bool fields")
        _REGISTRY[prefix] = cls
        _FIELDS[cls] = typed
        return cls

    return register


def pack(value: Button, stamp: Stamp | None = None) -> str:
    """The callback data of a button; bound buttons need the stamp of their screen."""
    if value.bound and stamp is None:
        raise ValueError(f"{type(value).__name__} is bound to a screen: pack it with a Stamp")
    parts = [value.prefix]
    for f in fields(value):
        item = getattr(value, f.name)
        if isinstance(item, bool):
            parts.append("1" if item else "0")
        elif isinstance(item, int):
            parts.append(str(item))
        else:
            if not _SAFE.match(item):
                raise ValueError(f"{type(value).__name__}.{f.name}: {item!r} cannot go into callback data")
            parts.append(item)
    data = ":".join(parts)
    if value.bound and stamp is not None:
        data += f"@{stamp.cycle}.{stamp.screen}"
    if len(data.encode()) > MAX_BYTES:
        raise ButtonTooLong(f"{data!r} is {len(data.encode())} bytes; Telegram allows {MAX_BYTES}")
    return data


@dataclass(frozen=True)
class Pressed:
    button: Button
    stamp: Stamp | None


def unpack(data: str | None) -> Pressed | None:
    """The typed button of callback data, or None if it is malformed or unknown."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    body, _, stamp_text = data.partition("@")
    prefix, *raw = body.split(":")
    cls = _REGISTRY.get(prefix)
    if cls is None:
        return None
    typed = _FIELDS[cls]
    if len(raw) != len(typed):
        return None
    values: dict[str, Any] = {}
    for (name, kind), text in zip(typed, raw, strict=True):
        if kind is bool:
            if text not in ("0", "1"):
                return None
            values[name] = text == "1"
        elif kind is int:
            if not _digits(text) or len(text) > 12:
                return None
            values[name] = int(text)
        elif not _SAFE.match(text):
            return None
        else:
            values[name] = text
    stamp = _stamp(stamp_text) if cls.bound else None
    if (cls.bound and stamp is None) or (not cls.bound and stamp_text):
        return None
    return Pressed(cls(**values), stamp)


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²" and other scripts' digits, which
    int() then refuses or reads."""
    return text.isascii() and text.isdigit()


def _stamp(text: str) -> Stamp | None:
    cycle, _, screen = text.partition(".")
    if not (_digits(cycle) and _digits(screen) and len(cycle) <= 9 and len(screen) <= 12):
        return None
    return Stamp(int(cycle), int(screen))
