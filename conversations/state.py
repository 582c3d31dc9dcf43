"""Where a user stands in the conversation: one typed value, kept in the store.

Each step is a small pydantic model with a ``kind``; :class:`ConversationState` holds the
step, the figures skipped for now, and the cycle it belongs to. It is saved in the same
transaction as the data an action changes, and read back after a restart, so nothing
about a conversation lives only in memory. Every save moves the user's screen number on;
buttons carry the number of the screen they were shown on (see ``conversations.buttons``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from conversations.questions.steps import ChoosingThread, DraftingQuestion, Writing


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Idle(_Step):
    kind: Literal["idle"] = "idle"


class Asking(_Step):
    """A figure of the KPI is asked (a main figure or a breakdown figure)."""

    kind: Literal["figure"] = "figure"
    kpi: str
    dp: str


class ShowingResult(_Step):
    """The KPI's result is shown, waiting for Confirm (or a change)."""

    kind: Literal["result"] = "result"
    kpi: str


class ChoosingReason(_Step):
    kind: Literal["reason"] = "reason"
    kpi: str


class AwaitingComment(_Step):
    """The KPI was left blank; an optional comment may be typed."""

    kind: Literal["comment"] = "comment"
    kpi: str


class OfferingBreakdowns(_Step):
    kind: Literal["breakdowns"] = "breakdowns"
    kpi: str


class ResolvingNumber(_Step):
    """A typed number reads two ways ("1.000"); the user picks one."""

    kind: Literal["number"] = "number"
    kpi: str
    dp: str
    options: tuple[str, str]  # the two canonical values


class Justifying(_Step):
    """The NCP keeps figures the bot warned about and may say why, in one line."""

    kind: Literal["justify"] = "justify"
    kpi: str
    rev: str  # the KPI's figures and state when the NCP chose to keep them
    note: str = ""  # the NCP's line, given to the flag when they confirm


class ConfirmingSubmit(_Step):
    kind: Literal["submit"] = "submit"


class ConfirmingMove(_Step):
    """A bound NCP opened another Member's invitation (kept as its hash)."""

    kind: Literal["move"] = "move"
    code_hash: str
    current: str
    target: str


class SettingProfile(_Step):
    """The NCP confirms their administration's type, then its geographic type."""

    kind: Literal["profile"] = "profile"
    field: Literal["type", "geo"]


class DraftingBroadcast(_Step):
    """A Secretariat broadcast being written: `typing` is the language awaited, if any."""

    kind: Literal["broadcast"] = "broadcast"
    typing: str | None = None
    texts: dict[str, str] = Field(default_factory=dict)
    region: str = "all"
    pending: bool = False
    audience_chosen: bool = False


class AwaitingUpload(_Step):
    """A Secretariat user is about to send a Member's spreadsheet (``/upload BE``)."""

    kind: Literal["awaiting_upload"] = "awaiting_upload"
    member: str


class ReviewingUpload(_Step):
    kind: Literal["upload"] = "upload"
    upload: int


class AwaitingFlagNote(_Step):
    """A flag was marked explained; an optional note may be typed while the flag stays as
    it was then (`rev`)."""

    kind: Literal["flag_note"] = "flag_note"
    flag: int
    rev: str


class TellingDeadline(_Step):
    """The Secretariat moved the deadline; tell the NCPs?"""

    kind: Literal["deadline"] = "deadline"
    old: str
    new: str


Step = Annotated[
    Idle
    | Asking
    | ShowingResult
    | ChoosingReason
    | AwaitingComment
    | OfferingBreakdowns
    | ResolvingNumber
    | Justifying
    | ConfirmingSubmit
    | ConfirmingMove
    | SettingProfile
    | DraftingBroadcast
    | AwaitingUpload
    | ReviewingUpload
    | AwaitingFlagNote
    | TellingDeadline
    | DraftingQuestion  # the questions flow's steps (conversations.questions.steps)
    | Writing
    | ChoosingThread,
    Field(discriminator="kind"),
]


class ConversationState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    step: Step = Idle()
    skipped: frozenset[str] = frozenset()  # figures skipped for now, asked again later
    cycle: int | None = None  # the cycle the step belongs to

    def to_json(self) -> str:
        return _ADAPTER.dump_json(self).decode()

    def but(self, step: BaseModel | None = None, **changes: object) -> ConversationState:
        """A copy with another step (one of ``Step``) and/or other fields."""
        if step is not None:
            changes["step"] = step
        return self.model_copy(update=changes)


_ADAPTER: TypeAdapter[ConversationState] = TypeAdapter(ConversationState)


def parse_state(text: str | None) -> ConversationState:
    """The stored state, or a fresh one if there is none or it cannot be read (a state
    written by an older version): the user then starts from where the data says."""
    if not text:
        return ConversationState()
    try:
        return _ADAPTER.validate_json(text)
    except ValueError:
        return ConversationState()
