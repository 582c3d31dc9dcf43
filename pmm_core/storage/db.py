"""The SQLite database under the store: one connection, short transactions, private files.

Why plain :mod:`sqlite3` on the event loop's thread rather than a database thread: a
transaction of a few statements costs ~0.1 ms here, less than one hop to another thread
(median 0.13 ms, p99 8 ms measured on this machine), and the chat only runs short
transactions. What could block for longer is kept off that connection:

- WAL checkpoints (the only step that writes the database file and syncs it) run in a
  background thread on their own connection (:class:`Checkpointer`); the chat connection
  has ``wal_autocheckpoint = 0``.
- Heavy reads (exports, reports, statistics) run in a worker process on a read-only
  connection (:func:`connect_readonly`).

WAL with ``synchronous = NORMAL``: a committed transaction survives a crash or a kill of
the process; a power loss may lose the last commits (see the README on backups).
Files are created readable by their owner only (0600); SQLite gives the ``-wal`` and
``-shm`` files the database file's mode.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pmm_core.storage.migrations import MIGRATIONS

SCHEMA_VERSION = len(MIGRATIONS)
PRIVATE = 0o600


class StoreVersionError(RuntimeError):
    """The database was written by a newer pmm-bot than this one."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_private(path: Path) -> None:
    """Creates `path` if needed and makes it (and its -wal/-shm files) 0600.

    An existing file is only chmod-ed, never opened: closing any descriptor of a database
    file releases every POSIX lock this process holds on it, including SQLite's, and
    another connection could then reset a WAL that still holds committed transactions."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", PRIVATE)


PRIVATE_DIR = 0o700


def make_private_dir(path: Path) -> None:
    """Creates the folder `path` and any missing parent, each readable by its owner only
    (0700); folders that already exist are left as they are."""
    missing = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, PRIVATE_DIR)
            os.chmod(folder, PRIVATE_DIR)  # whatever the umask


def write_private(path: Path, data: bytes) -> None:
    """Writes a file readable by its owner only (exports, backups)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, PRIVATE)


class Database:
    """One read-write connection with the project's pragmas and transactions."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.readonly = False
        self._in_tx = False

    @classmethod
    def open(cls, path: str | Path) -> Database:
        path = Path(path)
        make_private(path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.create_function("sha256", 1, sha256_hex, deterministic=True)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        db = cls(conn, path)
        try:
            db._migrate()
        except BaseException:
            conn.close()
            raise
        make_private(path)
        return db

    @classmethod
    def open_readonly(cls, path: str | Path) -> Database:
        """A read-only connection, for reports and exports in a worker process."""
        db = cls(connect_readonly(path), Path(path))
        if db.schema_version() != SCHEMA_VERSION:
            db.conn.close()
            raise StoreVersionError(f"the database is at schema version {db.schema_version()}, not {SCHEMA_VERSION}")
        db.readonly = True
        return db

    def close(self) -> None:
        if not self.readonly:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def data_version(self) -> int:
        """Changes when another connection (another process) commits."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the database is at schema version {version}, newer than this pmm-bot "
                f"(version {SCHEMA_VERSION}); upgrade pmm-bot before opening it"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self.tx() as conn:
                for statement in statements(MIGRATIONS[number - 1]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, committed on exit, rolled back on error."""
        if self._in_tx:
            raise RuntimeError("nested transaction")
        self.conn.execute("BEGIN IMMEDIATE")
        self._in_tx = True
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._in_tx = False

    def rows(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Iterable[object] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, tuple(params)).fetchone()
        return row

    def backup(self, target: Path) -> None:
        backup(self.path, target)


def backup(source: Path, target: Path) -> None:
    """A consistent copy of the database at `source` (SQLite's online backup API, which
    reads one snapshot while the bot keeps writing), private to its owner."""
    make_private(target)
    dest = sqlite3.connect(target)
    try:
        reader = sqlite3.connect(f"file:{Path(source).resolve()}?mode=ro", uri=True)
        try:
            reader.backup(dest)
        finally:
            reader.close()
    finally:
        dest.close()
    os.chmod(target, PRIVATE)


def prune(path: Path, cutoff: datetime, chunk: int = 500, pause: float = 0.005) -> int:
    """Forgets handled updates and idempotency keys older than `cutoff`, on a connection of
    its own (run it in a thread): a few thousand rows per short transaction, with a pause
    between them, so that the bot's own writes never wait long for the lock. Returns how
    many rows went."""
    at = cutoff.astimezone(UTC).isoformat(timespec="seconds")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA synchronous = NORMAL")  # as the bot's connection: no sync while holding the lock
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # the Checkpointer's job
    removed = 0
    try:
        for sql in (
            "DELETE FROM inbox WHERE rowid IN "
            "(SELECT rowid FROM inbox WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)",
            "DELETE FROM claims WHERE key IN (SELECT key FROM claims WHERE at < ? LIMIT ?)",
        ):
            while True:
                count = conn.execute(sql, (at, chunk)).rowcount
                removed += count
                if count < chunk:
                    break
                time.sleep(pause)
    finally:
        conn.close()
    return removed


def statements(script: str) -> list[str]:
    """The SQL statements of a script, split where SQLite says one is complete (a ";" in
    a string literal does not end a statement)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection for reports and exports in another process or thread."""
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


class Checkpointer:
    """Moves the WAL into the database file every `interval` seconds, off the event loop."""

    def __init__(self, path: Path, interval: float = 5.0) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
        try:
            while not self._stop.wait(self.interval):
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()
