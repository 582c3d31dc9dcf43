"""Text in the three languages of the PMM (English, French and Spanish), and the gettext marker."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

Language = Literal["en", "fr", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "fr", "es")


def N_(message: str) -> str:
    """Marks a string for extraction into the gettext catalogs without translating it."""
    return message


class Text(BaseModel):
    """A catalog text. English is mandatory; French and Spanish fall back to English."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    en: str
    fr: str = ""
    es: str = ""

    @field_validator("en")
    @classmethod
    def _english_present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the English text is empty")
        return value.strip()

    @field_validator("fr", "es")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    def get(self, lang: str) -> str:
        """The text in `lang`, or in English when that translation is missing."""
        value = getattr(self, lang, "") if lang in LANGUAGES else ""
        return value or self.en

    def missing(self) -> list[str]:
        """The languages without their own translation."""
        return [lang for lang in ("fr", "es") if not getattr(self, lang)]
