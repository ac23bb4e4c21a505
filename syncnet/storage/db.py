"""SQLite connections for syncnet's own tables (views, state) beside the event log."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_TIMEOUT_S = 30  # how long a write waits for another process's lock


def connect(db_path: Path, timeout: float) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit (see `immediate`). check_same_thread=False:
    # the feed server uses the store from a worker thread, one request at a time.
    return sqlite3.connect(db_path, isolation_level=None, timeout=timeout, check_same_thread=False)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the lock first (BEGIN IMMEDIATE): a transaction
    that reads and then writes cannot fail half-way on another process's lock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
