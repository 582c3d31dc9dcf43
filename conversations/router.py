"""What a typed message means, decided in one place from where the user stands.

- A figure is pending: the message is its answer — unless it reads as a question ("what
  is…", "qu'est-ce que…", "¿qué es…", anything ending with "?"), which is explained, and
  then the figure is asked again.
- A blank KPI waits for its optional comment, or warned figures for a justification: the
  message is that.
- A Secretariat user writing a broadcast: the message is the text in the awaited language.
- A result waits for Confirm and the message is a number: the bot points to the buttons.
- Anything else is a question about a KPI.
"""

from __future__ import annotations

import re

from telegram import Update

from conversations import broadcast, collect, explain, flags
from conversations.context import Context
from conversations.explain import explain_query
from conversations.session import Session, send, session
from conversations.state import Asking as AskingState
from conversations.state import (
    AwaitingComment,
    AwaitingFlagNote,
    DraftingBroadcast,
    Justifying,
    ResolvingNumber,
    ShowingResult,
)
from pmm_core.answers import AnswerError, clean, parse_number

_QUESTION = re.compile(
    r"^(what|what's|whats|which|how|why|explain|define|meaning"
    r"|qu['’ ]?est[- ]ce|que\s|quel|quelle|comment|pourquoi|explique|c['’]est quoi|définition|definition"
    r"|qué|que es|cuál|cual|cómo|como se|por qué|explica|significa)\b",
    re.IGNORECASE,
)


def looks_like_question(text: str) -> bool:
    stripped = clean(text)
    return stripped.endswith("?") or stripped.startswith("¿") or bool(_QUESTION.match(stripped))


async def on_text(update: Update, context: Context) -> None:
    """A typed message, routed by where the user stands."""
    assert update.message is not None and update.message.text is not None
    s = session(update, context)
    text = update.message.text
    step = s.state.step
    if isinstance(step, DraftingBroadcast) and step.typing and s.is_secretariat:
        await broadcast.on_text(s, update.message.text_html)
    elif isinstance(step, AwaitingFlagNote) and s.is_secretariat and not looks_like_question(text):
        await flags.on_note_text(s, text)
    elif isinstance(step, AwaitingComment) and s.user.is_ncp:
        await collect.on_comment_text(s, text)
    elif isinstance(step, Justifying) and s.user.is_ncp and not looks_like_question(text):
        await collect.on_justification_text(s, text)
    elif isinstance(step, AskingState | ResolvingNumber) and s.user.is_ncp:
        if looks_like_question(text):
            await explain_then_resume(s, text)
        else:
            await collect.on_figure_text(s, text)
    elif isinstance(step, ShowingResult) and s.user.is_ncp and _is_number(s, text):
        await collect.show(
            s, "ℹ️ " + s.lang._("To change a figure, press Change a figure; to keep the result, press Confirm.") + "\n\n"
        )
    elif s.user.is_ncp and s.cycle is not None and _is_number(s, text) and s.member_data().locked:
        await send(s, collect.locked_text(s))  # a figure typed after /submit: not a KPI search
    else:
        await explain_query(s, text)


def _is_number(s: Session, text: str) -> bool:
    return not isinstance(parse_number(text, s.lang.numbers), AnswerError)


async def on_explain_button(update: Update, context: Context) -> None:
    """An Explain (or More) button: the explanation, then the pending figure asked again,
    as for a typed question."""
    await explain.on_button(update, context)
    s = session(update, context)
    if isinstance(s.state.step, AskingState | ResolvingNumber) and s.user.is_ncp:
        await collect.show(s)


async def explain_then_resume(s: Session, text: str) -> None:
    """Explains what was asked, then shows the pending question again."""
    await explain_query(s, text)
    await collect.show(s)
