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


def of_types(*types: type[Button]) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern accepting the data of these button types."""

    def check(data: object) -> bool:
        pressed = unpack(data) if isinstance(data, str) else None
        return pressed is not None and isinstance(pressed.button, types)

    return check


# ---- the walk-through (conversations.collect) -------------------------------------------
@button("n")
@dataclass(frozen=True)
class Next(Button):
    """Continue where you stand (from reminders, welcome and progress messages)."""


@button("go")
@dataclass(frozen=True)
class Go(Button):
    kpi: str


@button("nk")
@dataclass(frozen=True)
class NextKpi(Button):
    """Leave this KPI (a breakdown, a confirmed result) for the next one that needs the NCP."""

    kpi: str


@button("a", bound=True)
@dataclass(frozen=True)
class Choice(Button):
    """A yes/no (1/0) or scale (its index) answer to figure `dp` of the KPI."""

    kpi: str
    dp: int
    choice: int


@button("bk", bound=True)
@dataclass(frozen=True)
class Back(Button):
    kpi: str
    dp: int


@button("s", bound=True)
@dataclass(frozen=True)
class Skip(Button):
    kpi: str
    dp: int


@button("e")
@dataclass(frozen=True)
class Edit(Button):
    """Ask figure `dp` of the KPI again (navigation; answering it is what changes data)."""

    kpi: str
    dp: int


@button("ch")
@dataclass(frozen=True)
class ChangeList(Button):
    kpi: str


@button("c", bound=True)
@dataclass(frozen=True)
class Confirm(Button):
    kpi: str
    rev: str  # the KPI's figures and state as shown (collect.kpi_rev)


@button("b")
@dataclass(frozen=True)
class Blank(Button):
    kpi: str


@button("br", bound=True)
@dataclass(frozen=True)
class Reason(Button):
    kpi: str
    reason: int
    rev: str


@button("nc", bound=True)
@dataclass(frozen=True)
class NoComment(Button):
    kpi: str


@button("dg")
@dataclass(frozen=True)
class AddBreakdown(Button):
    kpi: str
    group: int


@button("nm", bound=True)
@dataclass(frozen=True)
class Number(Button):
    """One reading of an ambiguous number ("1.000": one thousand or one)."""

    kpi: str
    dp: int
    option: int


@button("kp", bound=True)
@dataclass(frozen=True)
class KeepFigures(Button):
    """Keep figures the bot warned about (they are right), before confirming."""

    kpi: str
    rev: str


# ---- explanations (conversations.explain) -----------------------------------------------
@button("x")
@dataclass(frozen=True)
class Explain(Button):
    kpi: str


@button("xm")
@dataclass(frozen=True)
class More(Button):
    kpi: str
    page: int


@button("xd")
@dataclass(frozen=True)
class ExplainDimension(Button):
    dimension: str


# ---- browsing, review, submission (conversations.review) --------------------------------
@button("d")
@dataclass(frozen=True)
class Dimension(Button):
    dimension: str


@button("k")
@dataclass(frozen=True)
class OpenKpi(Button):
    kpi: str


@button("p")
@dataclass(frozen=True)
class ProgressByDimension(Button):
    pass


@button("sub", bound=True)
@dataclass(frozen=True)
class SubmitNow(Button):
    pass


@button("subx")
@dataclass(frozen=True)
class SubmitCancel(Button):
    pass


# ---- onboarding (conversations.onboarding) ---------------------------------------------
@button("l")
@dataclass(frozen=True)
class Language(Button):
    code: str


@button("mv", bound=True)
@dataclass(frozen=True)
class Move(Button):
    """Confirm (or not) moving to the Member of the invitation just opened."""

    yes: bool


@button("ap")
@dataclass(frozen=True)
class AskProfile(Button):
    """Open the questions about the administration's groupings."""


@button("pf", bound=True)
@dataclass(frozen=True)
class Profile(Button):
    """The NCP's answer about their administration: `field` is "type" or "geo"."""

    field: str
    code: str


# ---- the Secretariat (conversations.broadcast, conversations.reports) --------------------
@button("bcl", bound=True)
@dataclass(frozen=True)
class BroadcastLanguage(Button):
    code: str


@button("bca", bound=True)
@dataclass(frozen=True)
class BroadcastAudience(Button):
    pass


@button("bcu")
@dataclass(frozen=True)
class BroadcastTo(Button):
    """The audience: ``all`` or a region code, and/or ``pending`` (not submitted). Not bound
    to a screen: one may pick another audience from the same list; Send is bound."""

    region: str
    pending: bool


@button("bcs", bound=True)
@dataclass(frozen=True)
class BroadcastSend(Button):
    pass


@button("bcx")
@dataclass(frozen=True)
class BroadcastCancel(Button):
    pass


@button("fa")
@dataclass(frozen=True)
class FlagAsk(Button):
    """Bound to the flag's revision rather than a screen: a flag changed since is refused."""

    flag: int
    rev: str


@button("fe")
@dataclass(frozen=True)
class FlagExplained(Button):
    flag: int
    rev: str


@button("fl")
@dataclass(frozen=True)
class FlagPage(Button):
    """A page of the flag list, filtered by Member, KPI, kind and state ("-": any)."""

    member: str
    kpi: str
    kind: str
    state: str
    page: int


@button("op")
@dataclass(frozen=True)
class OpenFigure(Button):
    """From a Secretariat question: open exactly the flagged figure (main or breakdown)."""

    kpi: str
    dp: int


@button("tn", bound=True)
@dataclass(frozen=True)
class TellDeadline(Button):
    """After a deadline change: tell the NCPs (or not)."""

    yes: bool


# ---- spreadsheets (conversations.upload) -------------------------------------------------
@button("ua", bound=True)
@dataclass(frozen=True)
class ApplyUpload(Button):
    upload: int


@button("ux", bound=True)
@dataclass(frozen=True)
class CancelUpload(Button):
    upload: int
