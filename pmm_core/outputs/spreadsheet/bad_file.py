"""Why a file is refused as a whole (:class:`BadFile`): nothing in it counts."""

from __future__ import annotations

from enum import StrEnum


class FileProblem(StrEnum):
    TOO_LARGE = "too_large"
    ENCRYPTED = "encrypted"
    OLD_EXCEL = "old_excel"
    NOT_XLSX = "not_xlsx"
    ZIP_BOMB = "zip_bomb"
    NOT_A_TEMPLATE = "not_a_template"
    TEMPLATE_VERSION = "template_version"
    WRONG_MEMBER = "wrong_member"
    WRONG_CYCLE = "wrong_cycle"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_CELLS = "too_many_cells"
    TOO_MANY_TEXTS = "too_many_texts"  # shared strings
    TOO_MUCH_TEXT = "too_much_text"  # characters of text, or one piece of text too long
    TOO_SLOW = "too_slow"  # reading took longer than the reader's own time limit
    TOO_HEAVY = "too_heavy"  # the worker stopped the job: its memory or time limit
    MERGED_CELLS = "merged_cells"
    UNKNOWN_IDS = "unknown_ids"


class BadFile(ValueError):
    """The file is refused as a whole; nothing in it counts."""

    def __init__(self, problem: FileProblem, **params: str) -> None:
        super().__init__(f"{problem}: {params}" if params else str(problem))
        self.problem = problem
        self.params = params
