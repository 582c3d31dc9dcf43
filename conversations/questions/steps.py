"""Where a user stands in the questions flow: its steps, kept in the conversation state
(``kit.state``). A question or reply being written is left by any other Secretariat command
or button: the next text typed is then not it."""

from __future__ import annotations

from typing import ClassVar, Literal

from conversations.kit.state import Step


class DraftingQuestion(Step):
    """A Secretariat user writes a question to a Member's NCPs: the KPI may still be asked
    for (from a Member's view), then the text (from a flag), then the figure (buttons); with
    `warned`, the text names another Member and waits for Send anyway."""

    kind: Literal["q_draft"] = "q_draft"
    left_by_other_actions: ClassVar[bool] = True
    member: str
    kpi: str = ""
    text: str = ""
    figure: int = -1  # -1: not chosen yet; 0: the KPI as a whole; i: the i-th figure asked
    flag: int = 0  # the flag the question comes from, with its revision then
    flag_rev: str = ""
    warned: bool = False


class Writing(Step):
    """A typed text is awaited for a thread: a reply, the NCP's explanation that the figure
    is correct, or why a submitted KPI must change (`thread` 0: no thread yet)."""

    kind: Literal["q_write"] = "q_write"
    left_by_other_actions: ClassVar[bool] = True
    purpose: Literal["reply", "correct", "change"]
    thread: int
    version: int
    asker: bool = False  # written by the asking side (the Secretariat), else by the NCP
    kpi: str = ""
    text: str = ""  # with `warned`: the reply that names another Member, waiting for Send anyway
    warned: bool = False


class ChoosingThread(Step):
    """An NCP typed a text while several questions wait for them: which one it answers."""

    kind: Literal["q_choose"] = "q_choose"
    text: str
