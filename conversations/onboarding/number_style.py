"""How a user writes numbers, chosen in /language: their Member's country's way (the default:
``es-MX`` writes 1,234.5, ``es-ES`` 1.234,5) or one of three styles (1,234.5, 1.234,5, 1 234,5).

The choice is stored per user (``users.number_format``) and read by every text, echo and file
the bot makes for them, and by every figure they type (:mod:`pmm_core.domain.number_format`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from conversations.kit.buttons import Button, button
from conversations.kit.dispatch import Invalid
from conversations.kit.send import Row, send
from conversations.kit.session import Session
from conversations.kit.state import Idle
from conversations.kit.text import esc
from pmm_core.catalog.members import Member
from pmm_core.domain.number_format import NumberStyle, number_format, style_of
from pmm_core.outputs.i18n import user_lang

AUTO = "auto"


@button("nf")
@dataclass(frozen=True)
class NumberStyleChoice(Button):
    """A number format for the pressing user: a NumberStyle's value, or "auto" (their
    country's). A preference like the language: not bound to a screen, since pressing it
    again, late, sets exactly what its label says."""

    style: str


def prompt(s: Session) -> str:
    """The line above the number buttons: how the user's numbers look now."""
    L = s.lang
    return L._("Numbers: you type and read them like this: {sample}.").format(sample=esc(L.numbers.sample))


def rows(s: Session) -> list[Row]:
    """The three styles on one row, the country's way (or the language's) on the next; the
    current choice ticked."""
    L, chosen = s.lang, style_of(s.user.number_format)
    own = number_format(L.code, s.user.member)
    if own.territory is not None and s.user.member:
        label = L._("As in {country}: {sample}").format(
            country=Member(s.user.member, "").name(L.code), sample=own.sample
        )
    else:
        label = L._("As usual in my language: {sample}").format(sample=own.sample)

    def tick(text: str, on: bool) -> str:
        return f"✓ {text}" if on else text

    styles: Row = [(tick(style.sample, chosen is style), NumberStyleChoice(style.value)) for style in NumberStyle]
    return [styles, [(tick(label, chosen is None), NumberStyleChoice(AUTO))]]


async def on_number_style(s: Session, b: NumberStyleChoice) -> None:
    """Stores the number format, says how numbers now look, and shows the pending screen again."""
    if b.style != AUTO and style_of(b.style) is None:
        raise Invalid
    s.user = s.store.set_number_format(s.user.telegram_id, None if b.style == AUTO else b.style)
    s.lang = L = user_lang(s.user, s.bot.settings.default_language)
    await send(
        s,
        L._("Numbers are now written like this: {number} and {percent}.").format(
            number=esc(L.number(Decimal("12400.5"))), percent=esc(L.percent(Decimal("98.1")))
        ),
    )
    if s.user.is_ncp and s.cycle is not None and not isinstance(s.state.step, Idle):
        await s.bot.screens.show_where(s)
