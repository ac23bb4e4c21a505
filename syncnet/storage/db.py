"""Connections for syncnet's own tables (keys, views, state) beside the event log: a
SQLite file (the default) or a PostgreSQL database (`store = "postgresql://..."`).

The SQL is written once, in SQLite's words, kept to what both engines share (upserts
with ON CONFLICT, `?` parameters); `PgConnection` says it in PostgreSQL's: `%s`
parameters, BYTEA for BLOB, no WITHOUT ROWID, no PRAGMA (each PRAGMA's job is done
another way there: see `pragma`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_TIMEOUT_S = 30  # how long a write waits for another process's lock
# The one advisory lock every writer of syncnet's own tables takes on PostgreSQL, as
# SQLite's BEGIN IMMEDIATE takes the database's write lock: one writer at a time.
WRITE_LOCK = 0x73796E636E6574  # "syncnet"

Location = Path | str  # a SQLite file, or a PostgreSQL URL


def is_postgres(location: Location) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


_PARAM = re.compile(r"\?")


def in_postgres(sql: str) -> str:
    """A statement of syncnet's (SQLite's words) in PostgreSQL's."""
    sql = sql.replace(" BLOB", " BYTEA").replace(" WITHOUT ROWID", "").replace("BEGIN IMMEDIATE", "BEGIN")
    sql = sql.replace("X''", "''::bytea")
    return _PARAM.sub("%s", sql)


class PgConnection:
    """A psycopg connection in autocommit mode (transactions explicit, see `immediate`)
    that takes syncnet's SQL."""

    postgres = True

    def __init__(self, url: str, timeout: float) -> None:
        import psycopg

        from syncnet.errors import StoreError

        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)))
        except psycopg.Error as e:
            reason = " ".join(str(e).split())[:200]
            raise StoreError(f"the store's database cannot be reached: {reason}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(in_postgres(sql), list(params))

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> Any:
        cur = self._conn.cursor()
        cur.executemany(in_postgres(sql), [list(p) for p in params])
        return cur

    def close(self) -> None:
        self._conn.close()


def connect(location: Location, timeout: float) -> Any:
    """A connection to syncnet's tables at `location` (sqlite3's, or PgConnection)."""
    if is_postgres(location):
        return PgConnection(str(location), timeout)
    # Autocommit mode: transactions are explicit (see `immediate`). check_same_thread=False:
    # the feed server uses the store from a worker thread, one request at a time.
    return sqlite3.connect(location, isolation_level=None, timeout=timeout, check_same_thread=False)


def postgres(conn: Any) -> bool:
    return bool(getattr(conn, "postgres", False))


def pragma(conn: Any, statement: str) -> Any:
    """A SQLite PRAGMA; nothing on PostgreSQL, where secure_delete's job is done by a
    VACUUM FULL of the table after an erasure (FactLog.scrub, ViewStore._flush) and there
    is no WAL file of syncnet's to fold."""
    if postgres(conn):
        return None
    return conn.execute(f"PRAGMA {statement}")


@contextmanager
def immediate(conn: Any) -> Iterator[Any]:
    """A write transaction that takes the lock first (BEGIN IMMEDIATE on SQLite, an
    advisory lock on PostgreSQL): a transaction that reads and then writes cannot fail
    half-way on another process's lock, nor interleave with another writer."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if postgres(conn):
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def database_errors() -> tuple[type[BaseException], ...]:
    """The errors of either engine (psycopg's only once it is loaded: a SQLite store never
    imports it)."""
    import sys

    pg = sys.modules.get("psycopg")
    return (sqlite3.DatabaseError, pg.Error) if pg is not None else (sqlite3.DatabaseError,)
