"""Where a user stands in the conversation: one typed value, kept in the store.

Each step is a small pydantic model with a ``kind``, declared by its flow (``collect/steps.py``,
``upload/steps.py``…) as a subclass of :class:`Step`; subclassing registers it, so the state
below reads every flow's steps without naming them. :class:`ConversationState` holds the
step, the figures skipped for now, and the cycle it belongs to. It is saved in the same
transaction as the data an action changes, and read back after a restart, so nothing
about a conversation lives only in memory. Every save moves the user's screen number on;
buttons carry the number of the screen they were shown on (see ``kit.buttons``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, SerializeAsAny, TypeAdapter, field_validator

_STEPS: dict[str, type[Step]] = {}


class Step(BaseModel):
    """A step of a flow. A subclass declares ``kind: Literal["…"] = "…"``, unique across flows
    (it is what the store keeps)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    # True for a step that any other Secretariat command or button leaves (an optional note).
    left_by_other_actions: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if not isinstance(kind, str) or kind in _STEPS:
            raise TypeError(f"{cls.__name__}: the step kind {kind!r} is missing or taken")
        _STEPS[kind] = cls


class Idle(Step):
    kind: Literal["idle"] = "idle"


class ConversationState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    step: SerializeAsAny[Step] = Idle()
    skipped: frozenset[str] = frozenset()  # figures skipped for now, asked again later
    cycle: int | None = None  # the cycle the step belongs to

    @field_validator("step", mode="before")
    @classmethod
    def _typed_step(cls, value: object) -> object:
        """A stored step becomes the flow's own type, chosen by its kind."""
        if isinstance(value, dict):
            model = _STEPS.get(str(value.get("kind")))
            if model is None:
                raise ValueError(f"unknown step kind {value.get('kind')!r}")
            return model.model_validate(value)
        if isinstance(value, Step) and type(value) is not Step:
            return value
        raise ValueError("not a step")

    def to_json(self) -> str:
        return _ADAPTER.dump_json(self).decode()

    def but(self, step: Step | None = None, **changes: object) -> ConversationState:
        """A copy with another step and/or other fields."""
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
