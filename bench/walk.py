"""An NCP walking the KPIs as a person would, one action at a time, from the bot's last
message: press an answer button, type a figure, confirm, keep figures the bot warned about,
decline the optional breakdowns. Shared by ``bench.load`` and the tests."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.emulator import Sent
from conversations.collect import buttons as btn
from conversations.kit.buttons import unpack

# what to press, most wanted first, when the screen offers it
_PREFERRED = (btn.Confirm, btn.KeepFigures, btn.Number, btn.NoComment)


@dataclass(frozen=True)
class Action:
    kind: str  # "press" or "say"
    value: str  # callback data, or the text typed


def next_action(message: Sent | None, rng: random.Random) -> Action:
    """The action a walking NCP takes after `message` (the bot's last one to them)."""
    if message is None:
        return Action("say", "/next")
    pressed = [(data, unpack(data)) for data in message.button_data()]
    typed = [(data, p.button) for data, p in pressed if p is not None]
    choices = [data for data, b in typed if isinstance(b, btn.Choice)]
    if choices:
        return Action("press", rng.choice(choices))
    for kind in _PREFERRED:
        for data, b in typed:
            if isinstance(b, kind):
                return Action("press", data)
    if "Question" in message.text:
        return Action("say", str(rng.randint(1, 5000)))
    declines = [data for data, b in typed if isinstance(b, btn.NextKpi)]
    if declines:  # the optional breakdowns: no thanks
        return Action("press", declines[-1])
    return Action("say", "/next")
