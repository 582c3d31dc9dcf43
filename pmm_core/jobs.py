"""Heavy work, as top-level functions a worker process can run: each opens the database
read-only, builds what was asked and returns it (bytes, or what to write).

The bot runs these through ``bot.worker`` so that its event loop keeps answering NCPs;
the CLI calls them directly. The heavy libraries (openpyxl, matplotlib) are imported inside
the functions: the bot imports this module at start-up, the worker does the rest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pmm_core.catalog import load_catalog
from pmm_core.checks import current_figure, find_issues
from pmm_core.flag_lifecycle import reconcile
from pmm_core.i18n import lang
from pmm_core.store import Store

if TYPE_CHECKING:
    from pmm_core.flag_lifecycle import Reconciliation


def check_cycle(db_path: Path, cycle_id: int) -> Reconciliation:
    """Runs the data checks on a cycle (against the previous one) and reconciles them with
    the stored flags: what to create, update and close."""
    store = Store.open_readonly(db_path)
    try:
        catalog = load_catalog()
        data = store.cycle_data(cycle_id)
        before = store.previous_cycle(data.cycle)
        previous = store.cycle_data(before.id) if before is not None else None
        findings = find_issues(catalog, data, previous)
        return reconcile(data.flags, findings, lambda m, f: current_figure(catalog, data, m, f))
    finally:
        store.close()


# ---- spreadsheets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """What Apply will write from a file (kept with the upload until Apply or Cancel)."""

    writes: dict[str, str]
    blanks: tuple[tuple[str, str, str], ...]  # (KPI, reason, comment)
    reopened: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps({"writes": self.writes, "blanks": self.blanks, "reopened": self.reopened})

    @classmethod
    def from_json(cls, text: str) -> Pending:
        raw = json.loads(text)
        return cls(raw["writes"], tuple(tuple(b) for b in raw["blanks"]), tuple(raw["reopened"]))  # type: ignore[misc]


@dataclass(frozen=True)
class UploadRead:
    text: str  # the summary (or why the file is refused), plain text in the reader's language
    pending: Pending | None  # None: nothing to apply


def template_file(db_path: Path, cycle_id: int, member: str, language: str) -> bytes:
    """The spreadsheet to fill offline, for the Member and the cycle, in `language`."""
    from pmm_core.spreadsheet import build_template

    store = Store.open_readonly(db_path)
    try:
        cycle, found = store.cycle(cycle_id), store.member(member)
        assert cycle is not None and found is not None
        data = store.member_data(cycle_id, member)
        values = {dp: a.value for dp, a in data.answers.items()}
        return build_template(load_catalog(), found, cycle, values, data.states, lang(language))
    finally:
        store.close()


def read_file(db_path: Path, cycle_id: int, member: str, data: bytes, language: str) -> UploadRead:
    """A file sent in chat, read as the Member's figures for the cycle: its summary, and
    what Apply would write (nothing is written here)."""
    from pmm_core.spreadsheet import BadFile, read_upload, render_bad_file, render_summary

    store = Store.open_readonly(db_path)
    L = lang(language)
    catalog = load_catalog()
    try:
        cycle = store.cycle(cycle_id)
        assert cycle is not None
        current = store.member_data(cycle_id, member)
        try:
            summary = read_upload(
                catalog,
                data,
                member=member,
                cycle_year=cycle.year,
                current_values={dp: a.value for dp, a in current.answers.items()},
                current_states=current.states,
                lang=language,
            )
        except BadFile as bad:
            return UploadRead(render_bad_file(bad, L), None)
        pending = None
        if summary.has_changes:
            blanks = tuple((b.kpi, b.reason, b.comment or "") for b in summary.blanks)
            pending = Pending(summary.writes, blanks, tuple(summary.reopened))
        return UploadRead(render_summary(summary, catalog, L), pending)
    finally:
        store.close()


def receipt_file(db_path: Path, cycle_id: int, member: str, language: str) -> tuple[bytes, str]:
    """The read-only receipt of a submission, and the digest of the submitted data."""
    from pmm_core.spreadsheet import build_receipt, submission_digest

    store = Store.open_readonly(db_path)
    try:
        cycle, found = store.cycle(cycle_id), store.member(member)
        data = store.member_data(cycle_id, member)
        assert cycle is not None and found is not None and data.submission is not None
        values = {dp: a.value for dp, a in data.answers.items()}
        submitted = data.submission.submitted_at or ""
        workbook = build_receipt(load_catalog(), found, cycle, values, data.states, submitted, lang(language))
        return workbook, submission_digest(values, data.states)
    finally:
        store.close()
