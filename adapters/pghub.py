"""A hub on PostgreSQL (the app's `HubStore` port, syncnet/app/hub.py), through
eventsourcing.postgres: the library's recorder holds the facts, in its table, ordered by
its gap-free notification ids, and NOTIFYs on each insert; two small tables beside it hold
the wrapped data keys and the check value. This module sees bytes only: ids, envelopes and
wrapped keys that devices sealed with a key the hub never has (docs/hub.md).

Tables (in the database of the URL, schema public):
- syncnet_hub_facts: originator_id (uuid), originator_version (1), topic (always the
  same), state (the envelope), notification_id: the library's table;
- syncnet_hub_keys: slot (a keyed hash), wrapped key (or, erased, a tombstone that names
  the subject, sealed, without the key), seq (the order of changes, for a device to pull
  only what changed);
- syncnet_hub_meta: the check value.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.conninfo import conninfo_to_dict

from syncnet.errors import FactOnHub, HubError

FACTS_TABLE = "syncnet_hub_facts"
KEYS_TABLE = "syncnet_hub_keys"
META_TABLE = "syncnet_hub_meta"
TOPIC = "syncnet:sealed"


def where(url: str) -> str:
    """The hub's address for messages: host, port and database, never the user or password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the hub"
    return f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}/{info.get('dbname') or ''}"


class HubRecorder(PostgresApplicationRecorder):
    """The library's recorder, plus the data keys written in the transaction of the facts."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(datastore, events_table_name=FACTS_TABLE)
        from psycopg.sql import SQL, Composed

        statements = [
            f"CREATE SEQUENCE IF NOT EXISTS {KEYS_TABLE}_seq",
            f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (slot bytea PRIMARY KEY, wrapped bytea NOT NULL, "
            "erased boolean NOT NULL DEFAULT false, "
            f"seq bigint NOT NULL DEFAULT nextval('{KEYS_TABLE}_seq'))",
            f"CREATE INDEX IF NOT EXISTS {KEYS_TABLE}_by_seq ON {KEYS_TABLE} (seq)",
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name text PRIMARY KEY, value bytea NOT NULL)",
        ]
        self.sql_create_statements += [Composed([SQL(text)]) for text in statements]

    def lock_and_write_keys(self, curs: Any, keys: Sequence[tuple[bytes, bytes, bool]]) -> None:
        """In the transaction that puts facts: the library's lock of the facts' table and its
        NOTIFY, then the keys. The lock first, for the keys too: keys then commit in the
        order of their seq, so a device that pulls keys after a seq never passes one
        committed late; and facts in the order of their positions."""
        self._lock_table(curs)
        self._notify_channel(curs)
        live = [(slot, wrapped) for slot, wrapped, erased in keys if not erased]
        gone = [(slot, wrapped) for slot, wrapped, erased in keys if erased]
        if live:  # a subject's key never changes: one already there stays (or stays erased)
            curs.executemany(f"INSERT INTO {KEYS_TABLE} (slot, wrapped) VALUES (%s, %s) "
                             "ON CONFLICT (slot) DO NOTHING", live)  # fmt: skip
        if gone:  # the key replaced by its tombstone (which names the subject, sealed, no key)
            sql = (f"INSERT INTO {KEYS_TABLE} (slot, wrapped, erased) VALUES (%s, %s, true) "
                   "ON CONFLICT (slot) DO UPDATE SET wrapped = excluded.wrapped, erased = true, "
                   f"seq = nextval('{KEYS_TABLE}_seq') WHERE NOT {KEYS_TABLE}.erased")  # fmt: skip
            curs.executemany(sql, gone)


class PostgresHub:
    """The `HubStore` port on one PostgreSQL database. Nothing is asked of the server
    before a method needs it: a daemon starts, and a sync of the other targets goes on,
    while the hub cannot be reached."""

    def __init__(self, url: str, connect_timeout: float = 5.0) -> None:
        self.where = where(url)
        try:
            info = conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise HubError(
                "the hub URL is not a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)"
            ) from None
        if info.get("password"):
            raise HubError("the hub URL holds a password: use the PGPASSWORD variable or ~/.pgpass")
        self._conninfo = url
        self._timeout = connect_timeout
        self._datastore = PostgresDatastore(
            dbname=str(info.get("dbname") or info.get("user") or "postgres"),
            host=str(info.get("host") or "localhost"),
            port=str(info.get("port") or 5432),
            user=str(info.get("user") or "postgres"),
            # libpq reads PGPASSWORD and ~/.pgpass only when no password is given: the
            # pool's empty one would hide both
            password=os.environ.get("PGPASSWORD", ""),
            connect_timeout=connect_timeout,
            pool_open_timeout=connect_timeout,
            lock_timeout=30,
        )
        self._made: HubRecorder | None = None
        self._listener: psycopg.Connection[Any] | None = None
        self._leases: psycopg.Connection[Any] | None = None
        self._held: set[int] = set()

    @property
    def _recorder(self) -> HubRecorder:
        """The library's recorder, made at first use."""
        if self._made is None:
            # One plain connection first: its error says why (refused, no such database, a
            # password asked for) where the pool's only says it timed out.
            self._connection().close()
            with self._errors("be reached"):
                self._made = HubRecorder(self._datastore)
        return self._made

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except HubError:
            raise
        except IntegrityError:  # the unique id: a fact of the batch is there already
            raise FactOnHub(f"the hub at {self.where} holds a fact of the batch already") from None
        except (PersistenceError, psycopg.Error) as e:
            text = " ".join(str(e).split())[:200] or type(e).__name__
            raise HubError(f"the hub at {self.where} could not {doing}: {text}") from None

    def _query(self, doing: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        recorder = self._recorder
        with self._errors(doing), recorder.datastore.transaction() as curs:
            curs.execute(sql, params)
            return list(curs.fetchall())

    def create(self, check: bytes) -> bytes:
        """Create the tables (when missing) and keep `check` unless one is there: the
        check value in force."""
        recorder = self._recorder
        with self._errors("be set up"):
            recorder.create_table()
            with self._datastore.transaction(commit=True) as curs:
                curs.execute(
                    f"INSERT INTO {META_TABLE} VALUES ('check', %s) ON CONFLICT DO NOTHING", (check,)
                )
        rows = self._query("be read", f"SELECT value FROM {META_TABLE} WHERE name = 'check'")
        return bytes(rows[0]["value"])

    def check(self) -> bytes | None:
        """The check value; None when the hub has no tables yet."""
        if self._query("be read", "SELECT to_regclass(%s) AS t", (META_TABLE,))[0]["t"] is None:
            return None
        rows = self._query("be read", f"SELECT value FROM {META_TABLE} WHERE name = 'check'")
        return bytes(rows[0]["value"]) if rows else None

    def known(self, ids: Sequence[UUID]) -> set[UUID]:
        if not ids:
            return set()
        # a join on the ids, not "= ANY": the planner then walks the primary key instead of
        # reading the whole table for every batch (measured: 12 ms per 1,000 at 100,000 facts)
        sql = (f"SELECT f.originator_id FROM unnest(%s::uuid[]) AS u(id) JOIN {FACTS_TABLE} f "
               "ON f.originator_id = u.id AND f.originator_version = 1")  # fmt: skip
        return {UUID(str(r["originator_id"])) for r in self._query("be read", sql, (list(ids),))}

    def put(self, facts: Sequence[tuple[UUID, bytes]], keys: Sequence[tuple[bytes, bytes, bool]]) -> None:
        """Facts (id, envelope) and keys (slot, wrapped, erased: a tombstone) in one
        transaction. FactOnHub, nothing written, when a fact is there already."""
        recorder = self._recorder
        with self._errors("be written"), self._datastore.get_connection() as conn, conn.transaction():
            with conn.cursor() as curs:
                recorder.lock_and_write_keys(curs, keys)  # the library's lock and NOTIFY, then the keys
            # COPY, not the library's INSERT of an array of composite values, which psycopg
            # turns into text row by row (70% of a push's time in the hub); positions still
            # come from the table's sequence, in order, under the lock
            with (
                conn.cursor() as curs,
                curs.copy(
                    f"COPY {FACTS_TABLE} (originator_id, originator_version, topic, state) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for fact_id, blob in facts:
                    copy.write_row((fact_id, 1, TOPIC, blob))

    def after(self, position: int, limit: int) -> list[tuple[int, UUID, bytes]]:
        recorder = self._recorder
        with self._errors("be read"):
            notes = recorder.select_notifications(start=position, limit=limit, inclusive_of_start=False)
        return [(n.id, UUID(str(n.originator_id)), n.state) for n in notes]

    def last(self) -> int:
        recorder = self._recorder
        with self._errors("be read"):
            return recorder.max_notification_id() or 0

    def keys_after(self, seq: int) -> list[tuple[int, bytes, bytes, bool]]:
        """(seq, slot, wrapped, erased) of the keys added or erased after `seq`, in order."""
        sql = f"SELECT seq, slot, wrapped, erased FROM {KEYS_TABLE} WHERE seq > %s ORDER BY seq"
        return [(int(r["seq"]), bytes(r["slot"]), bytes(r["wrapped"]), bool(r["erased"]))
                for r in self._query("be read", sql, (seq,))]  # fmt: skip

    def slots(self) -> dict[bytes, bool]:
        """Every slot: True when its key is there, False when erased."""
        rows = self._query("be read", f"SELECT slot, NOT erased AS live FROM {KEYS_TABLE}")
        return {bytes(r["slot"]): bool(r["live"]) for r in rows}

    def scrub(self) -> None:
        """Rewrite the keys' table, so that an erased key's old row version leaves the
        table's pages (PostgreSQL keeps it until a vacuum; docs/hub.md says what stays)."""
        with self._errors("be cleaned"), self._datastore.get_connection() as conn:
            conn.execute(f"VACUUM FULL {KEYS_TABLE}")

    def _connection(self) -> psycopg.Connection[Any]:
        with self._errors("be reached"):
            return psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=max(1, int(self._timeout))
            )

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a fact to be put on the hub (LISTEN/NOTIFY);
        True when one was. The first call starts listening."""
        try:
            if self._listener is None:
                self._listener = self._connection()
                self._listener.execute(f"LISTEN {FACTS_TABLE}")
            return any(True for _ in self._listener.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error as e:
            if self._listener is not None:
                self._listener.close()
            self._listener = None
            raise HubError(f"the hub at {self.where} stopped answering: {type(e).__name__}") from None

    def lease(self, number: int) -> bool:
        """Hold the lease `number` from now until `release` or the end of this process (a
        session advisory lock: it ends with the connection, so a killed holder frees it).
        False when another process holds it. Checked each time it is asked for: a cut
        connection lost its locks (another process may hold the lease since)."""
        try:
            if self._leases is None:
                self._leases, self._held = self._connection(), set()
            if number in self._held:
                self._leases.execute("SELECT 1").fetchone()  # a cut connection fails here
                return True
            row = self._leases.execute("SELECT pg_try_advisory_lock(%s)", (number,)).fetchone()
        except psycopg.Error as e:
            if self._leases is not None:
                self._leases.close()
            self._leases, self._held = None, set()
            raise HubError(f"the hub at {self.where} stopped answering: {type(e).__name__}") from None
        if row and row[0]:
            self._held.add(number)
            return True
        return False

    def release(self, number: int) -> None:
        if number in self._held and self._leases is not None:
            self._held.discard(number)
            with contextlib.suppress(psycopg.Error):  # a cut connection released it already
                self._leases.execute("SELECT pg_advisory_unlock(%s)", (number,))

    def close(self) -> None:
        for conn in (self._listener, self._leases):
            if conn is not None:
                conn.close()
        self._listener = self._leases = None
        self._held = set()
        self._datastore.close()
