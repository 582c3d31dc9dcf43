"""Routers and the dispatcher: which handler takes a command, a button press or a typed text.

Each flow declares ``router = Router()`` and registers its handlers on it; ``bot.app``
composes every flow's router into one :class:`Dispatcher`, which gives PTB one handler per
command, ONE handler for every button press and one for every typed text.

A press (``@router.press(ButtonType, who=..., step=StepType, same=("kpi",))``) is unpacked
once; data that is malformed or that no flow knows is refused with a short notice. Then the
dispatcher checks who presses (:class:`~conversations.kit.roles.Who`), and, for a bound
button, that its stamp is the user's current screen in the open cycle; with ``step``, that
the user stands on a step of that type whose ``same`` fields equal the button's. Only then is
the handler called, with the typed button (and the typed step). Anything else gets the one
stale-screen reply and where the user is now. A handler that finds more it cannot do raises
:class:`Stale`, :class:`Invalid` or :class:`Refused` (after a write the store refused), and
the dispatcher answers.

A typed text is routed by the type of the user's step (``@router.text(StepType, who=...,
when=...)``; ``who`` is a filter here, not a refusal), else by the flows' ordered fallbacks
(``@router.fallback``: a figure after submission, then the KPI search).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext import filters as tg_filters

from conversations.kit.buttons import Button, Pressed, unpack
from conversations.kit.context import Context
from conversations.kit.roles import Who, admits, locked_text, require_ncp
from conversations.kit.send import answer_query, send
from conversations.kit.session import Session, session, update_key
from conversations.kit.state import Step
from pmm_core.storage.base import Outcome

B = TypeVar("B", bound=Button)
S = TypeVar("S", bound=Step)
S2 = TypeVar("S2", bound=Step)
Screen = Callable[[Session], Awaitable[None]]
Where = Callable[[Session, str], Awaitable[None]]  # where the user is, after a note: one message
Command = Callable[[Update, Context], Coroutine[Any, Any, None]]
Fallback = Callable[[Session, str], Awaitable[bool]]
Condition = Callable[[Session, str], bool]


class Refused(Exception):
    """The store refused the write of this action (or it was a stale press): nothing changed."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


class Stale(Refused):
    """The press belongs to another screen than the user's current one."""

    def __init__(self) -> None:
        super().__init__(Outcome.STALE)


class Invalid(Exception):
    """The button names something that does not exist (any more)."""


@dataclass(frozen=True)
class _Press:
    handler: Callable[..., Awaitable[None]]
    who: Who
    step: type[Step] | tuple[type[Step], ...] | None
    same: tuple[str, ...]
    again: Screen | None  # what a stale press shows, if not where the user is

    def on_screen(self, s: Session, pressed: Pressed) -> bool:
        if pressed.button.bound and pressed.stamp != s.stamp:
            return False
        if self.step is None:
            return True
        step = s.state.step
        return isinstance(step, self.step) and all(getattr(step, f) == getattr(pressed.button, f) for f in self.same)


@dataclass(frozen=True)
class _Text:
    handler: Callable[[Session, str, Any], Awaitable[None]]
    who: Who
    when: Condition | None

    def takes(self, s: Session, text: str) -> bool:
        if self.who is Who.SECRETARIAT and not s.is_secretariat:
            return False
        if self.who in (Who.NCP, Who.NCP_READING) and not s.user.is_ncp:
            return False
        if self.who in (Who.COLLECTOR, Who.COLLECTOR_READING) and not s.user.collects:
            return False
        return self.when is None or self.when(s, text)


@dataclass
class Router:
    """One flow's commands, button presses, text routes, fallbacks and "where you are" screen."""

    commands: dict[str, Command] = field(default_factory=dict)
    presses: dict[type[Button], _Press] = field(default_factory=dict)
    texts: dict[type[Step], list[_Text]] = field(default_factory=dict)
    fallbacks: list[Fallback] = field(default_factory=list)
    screens: list[tuple[Callable[[Session], bool], Where]] = field(default_factory=list)

    def command(self, name: str) -> Callable[[Command], Command]:
        """``/name``: the handler takes (update, context) and checks who calls it itself."""

        def register(handler: Command) -> Command:
            self.commands[name] = handler
            return handler

        return register

    @overload
    def press(
        self,
        kind: type[B],
        *,
        who: Who = ...,
        step: None = None,
        same: tuple[str, ...] = (),
        again: Screen | None = ...,
    ) -> Callable[[Callable[[Session, B], Awaitable[None]]], Callable[[Session, B], Awaitable[None]]]: ...

    @overload
    def press(
        self, kind: type[B], *, who: Who = ..., step: type[S], same: tuple[str, ...] = (), again: Screen | None = ...
    ) -> Callable[[Callable[[Session, B, S], Awaitable[None]]], Callable[[Session, B, S], Awaitable[None]]]: ...

    @overload
    def press(
        self,
        kind: type[B],
        *,
        who: Who = ...,
        step: tuple[type[S], type[S2]],
        same: tuple[str, ...] = (),
        again: Screen | None = ...,
    ) -> Callable[
        [Callable[[Session, B, S | S2], Awaitable[None]]], Callable[[Session, B, S | S2], Awaitable[None]]
    ]: ...

    def press(
        self,
        kind: type[Button],
        *,
        who: Who = Who.ANYONE,
        step: type[Step] | tuple[type[Step], ...] | None = None,
        same: tuple[str, ...] = (),
        again: Screen | None = None,
    ) -> Any:
        """A press of `kind`: handler(s, button) or, with `step` (a step type, or two), handler(s, button, step)."""

        def register(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
            if kind in self.presses:
                raise ValueError(f"{kind.__name__} already has a handler")
            self.presses[kind] = _Press(handler, who, step, same, again)
            return handler

        return register

    @overload
    def text(
        self, s1: type[S], /, *, who: Who = ..., when: Condition | None = ...
    ) -> Callable[[Callable[[Session, str, S], Awaitable[None]]], Callable[[Session, str, S], Awaitable[None]]]: ...

    @overload
    def text(
        self, s1: type[S], s2: type[S2], /, *, who: Who = ..., when: Condition | None = ...
    ) -> Callable[
        [Callable[[Session, str, S | S2], Awaitable[None]]], Callable[[Session, str, S | S2], Awaitable[None]]
    ]: ...

    def text(self, *steps: type[Step], who: Who = Who.ANYONE, when: Condition | None = None) -> Any:
        """A text typed on one of `steps`, by `who`, if `when` (say, not a question): handler(s, text, step)."""

        def register(handler: Callable[[Session, str, Any], Awaitable[None]]) -> Any:
            for kind in steps:
                self.texts.setdefault(kind, []).append(_Text(handler, who, when))
            return handler

        return register

    def fallback(self, handler: Fallback) -> Fallback:
        """A text no step route took: handler(s, text) returns True if it answered."""
        self.fallbacks.append(handler)
        return handler

    def screen(self, when: Callable[[Session], bool]) -> Callable[[Where], Where]:
        """Shows where the user is (after a refused press or a replayed update), when `when`."""

        def register(handler: Where) -> Where:
            self.screens.append((when, handler))
            return handler

        return register


class Dispatcher:
    """Every flow's router, composed (in the order given: it is the order of the fallbacks)."""

    def __init__(self, routers: Sequence[Router]) -> None:
        self.commands: dict[str, Command] = {}
        self.presses: dict[type[Button], _Press] = {}
        self.texts: dict[type[Step], list[_Text]] = {}
        self.fallbacks: list[Fallback] = []
        self.screens: list[tuple[Callable[[Session], bool], Where]] = []
        for router in routers:
            for name in router.commands.keys() & self.commands.keys():
                raise ValueError(f"/{name} is declared twice")
            for kind in router.presses.keys() & self.presses.keys():
                raise ValueError(f"{kind.__name__} has two handlers")
            self.commands |= router.commands
            self.presses |= router.presses
            for step, routes in router.texts.items():
                self.texts.setdefault(step, []).extend(routes)
            self.fallbacks += router.fallbacks
            self.screens += router.screens

    def handlers(self, new: tg_filters.BaseFilter) -> list[BaseHandler[Update, Context, None]]:
        """PTB's handlers: the commands (new messages only), every press, every typed text."""
        return [
            *(CommandHandler(name, self._command(handler), filters=new) for name, handler in self.commands.items()),
            CallbackQueryHandler(self.on_press),
            MessageHandler(new & tg_filters.TEXT & ~tg_filters.COMMAND, self.on_text),
        ]

    def _command(self, handler: Command) -> Command:
        async def run(update: Update, context: Context) -> None:
            try:
                await handler(update, context)
            except Refused as refused:
                await self.refused(session(update, context), refused.outcome)

        return run

    async def on_press(self, update: Update, context: Context) -> None:
        """Any button: unpacked once, checked, then given to its flow's handler."""
        s = session(update, context)
        data = update.callback_query.data if update.callback_query else None
        pressed = unpack(data)
        route = self.presses.get(type(pressed.button)) if pressed is not None else None
        if pressed is None or route is None:
            await answer_query(s, s.lang._("This button is no longer valid."))
            return
        try:
            kpi = getattr(pressed.button, "kpi", None)
            if await admits(s, route.who, data or "", kpi if isinstance(kpi, str) else None):
                if not route.on_screen(s, pressed):
                    raise Stale
                if route.step is None:
                    await route.handler(s, pressed.button)
                else:
                    await route.handler(s, pressed.button, s.state.step)
        except Stale:
            await self.stale(s, route.again)
        except Refused as refused:
            await self.refused(s, refused.outcome)
        except Invalid:
            await send(s, s.lang._("This button is no longer valid."))
        await answer_query(s)

    async def on_text(self, update: Update, context: Context) -> None:
        """A typed message, routed by where the user stands, else by the fallbacks."""
        assert update.message is not None and update.message.text is not None
        s = session(update, context)
        text = update.message.text
        step = s.state.step
        try:
            for route in self.texts.get(type(step), ()):
                if route.takes(s, text):
                    await route.handler(s, text, step)
                    return
            for fallback in self.fallbacks:
                if await fallback(s, text):
                    return
        except Refused as refused:
            await self.refused(s, refused.outcome)

    async def on_applied_before_restart(self, update: Update, context: Context) -> None:
        """An update replayed after a stop whose write was committed before it: reading it
        again would apply it to the screen the user has moved on to, so the user is told it
        was saved and shown where they stand, and the update goes no further."""
        bot = context.bot_data
        key = update_key(update)
        if key not in bot.applied_before_restart or update.effective_user is None:
            return
        bot.applied_before_restart.discard(key)
        s = session(update, context)
        await answer_query(s)
        await self.refused(s, Outcome.DUPLICATE)
        raise ApplicationHandlerStop

    async def stale(self, s: Session, again: Screen | None = None) -> None:
        """The one reply to a press from another screen than the current one: nothing changed,
        and here is where the user is (one message, where the flow's screen takes the note)."""
        L = s.lang
        note = L._("That button belongs to an earlier screen, so nothing was changed. Here is where you are:")
        if again is not None:
            await send(s, note)
            await again(s)
            return
        where = self._where(s)
        if where is None:
            await send(s, L._("That button belongs to an earlier screen, so nothing was changed."))
            return
        await where(s, note + "\n\n")

    async def refused(self, s: Session, outcome: Outcome) -> None:
        """Tells the user why nothing was saved, then, where it helps, shows where they stand."""
        L = s.lang
        if outcome is Outcome.STALE:
            await self.stale(s)
        elif outcome is Outcome.LOCKED:
            await send(s, locked_text(s))
        elif outcome is Outcome.CLOSED:
            await send(s, L._("The collection cycle is closed: nothing was changed."))
        elif outcome is Outcome.NOT_ALLOWED:
            await require_ncp(s)
        elif (where := self._where(s)) is not None:
            await where(s, L._("This was already saved.") + "\n\n")
        else:
            await send(s, L._("This was already saved."))

    async def show_where(self, s: Session) -> bool:
        """Shows where the user is, if a flow has a screen for them (False if none has)."""
        where = self._where(s)
        if where is not None:
            await where(s, "")
        return where is not None

    def _where(self, s: Session) -> Where | None:
        return next((screen for when, screen in self.screens if when(s)), None)
