"""Heavy Secretariat work, as top-level functions a worker process can run: each opens the
database read-only, builds what was asked and returns it (bytes, or what to write).

The bot runs these through ``bot.worker`` so that its event loop keeps answering NCPs;
the CLI calls them directly."""

from __future__ import annotations

from pathlib import Path

from pmm_core.catalog import load_catalog
from pmm_core.checks import current_figure, find_issues
from pmm_core.flag_lifecycle import Reconciliation, reconcile
from pmm_core.store import Store


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
