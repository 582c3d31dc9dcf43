"""Shared fixtures: a fresh store on a temporary file, the real catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime

import pytest

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog
from pmm_core.domain.records import Cycle
from pmm_core.storage.store import Store
from tests.chat import Chat, start_chat

SECRETARIAT = 9001


class Clock:
    """A controllable clock for the store and the scheduler."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def store(tmp_path, clock) -> Iterator[Store]:
    store = Store.open(tmp_path / "pmm.sqlite3", clock=clock)
    store.import_members([Member("BE", "eur"), Member("FR", "eur"), Member("KE", "esa")])
    yield store
    store.close()


@pytest.fixture
def cycle(store) -> Cycle:
    return store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))


@pytest.fixture
async def chat(store, catalog, cycle) -> AsyncIterator[Chat]:
    """The bot on `store` with the 2025 cycle open; user 9001 is a Secretariat user."""
    chat = await start_chat(store, catalog, secretariat_ids=frozenset({SECRETARIAT}))
    chat.cycle = cycle
    yield chat
    await chat.app.shutdown()
