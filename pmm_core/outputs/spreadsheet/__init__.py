"""The spreadsheet round trip: a template to fill offline, an upload read back into what it
would change, and the read-only receipt of a submission. Pure: bytes in, bytes or values out.

The file format (keys, metadata, lists, digest) is documented in docs/spreadsheet.md.
"""

from pmm_core.outputs.spreadsheet.receipt import build_receipt, canonical_submission, submission_digest
from pmm_core.outputs.spreadsheet.summary import render_bad_file, render_problem, render_summary
from pmm_core.outputs.spreadsheet.template import build_template
from pmm_core.outputs.spreadsheet.upload import (
    BadFile,
    BlankChange,
    CellCode,
    CellProblem,
    FigureChange,
    FileProblem,
    ListChange,
    UploadSummary,
    Where,
    read_upload,
)

__all__ = [
    "BadFile",
    "BlankChange",
    "CellCode",
    "CellProblem",
    "FigureChange",
    "FileProblem",
    "ListChange",
    "UploadSummary",
    "Where",
    "build_receipt",
    "build_template",
    "canonical_submission",
    "read_upload",
    "render_bad_file",
    "render_problem",
    "render_summary",
    "submission_digest",
]
