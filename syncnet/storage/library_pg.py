"""The library's PostgreSQL recorder for a store on PostgreSQL (`store =
"postgresql://..."`), used by factlog.py only, apart from library.py so that a store on
SQLite never loads psycopg.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from syncnet.errors import ContactsMoved, StoreError
from syncnet.storage import chain


class SyncnetPgRecorder(PostgresApplicationRecorder):
    """The same on PostgreSQL (a store at `store = "postgresql://..."`): the wrapped keys,
    the guard and the seal in the transaction of the facts. Positions are given here,
    under the library's table lock, as the last one plus one: the table's sequence would
    leave a gap for every transaction rolled back, and a gap in the log is a missing fact."""

    store_key: bytes | None = None

    def __init__(self, datastore: Any, **_: Any) -> None:
        super().__init__(datastore, events_table_name="stored_events")  # as on SQLite: one name in the SQL
        from psycopg.sql import SQL, Composed

        from syncnet.storage.db import in_postgres

        own = ["CREATE TABLE IF NOT EXISTS syncnet_keys (subject TEXT PRIMARY KEY, kind TEXT NOT NULL, "
               "wrapped BLOB NOT NULL)", chain.SCHEMA]  # fmt: skip
        self.sql_create_statements += [Composed([SQL(in_postgres(text))]) for text in own]
        self._ids: list[int] = []

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        if self.store_key is None:
            raise StoreError("the log is open without its key: nothing can be appended")
        self._lock_table(curs)  # first: the guard, the positions and the seal read what is committed
        guard = kwargs.get("no_contacts_after")
        if guard is not None and stored_events:
            position, topics = guard
            table = self.events_table_name
            sql = f"SELECT 1 FROM {table} WHERE notification_id > %s AND topic = ANY(%s) LIMIT 1"
            curs.execute(sql, (position, list(topics)))
            if curs.fetchone() is not None:
                raise ContactsMoved("another process met a contact meanwhile")
        wrapped_keys = kwargs.get("wrapped_keys")
        if wrapped_keys:
            curs.executemany("INSERT INTO syncnet_keys VALUES (%s, %s, %s)", list(wrapped_keys))
        erase = kwargs.get("erase_keys")
        if erase:  # the rows' old versions leave the table at the VACUUM after (FactLog.scrub)
            curs.executemany("DELETE FROM syncnet_keys WHERE subject = %s", [(s,) for s in erase])
            tombstone = "INSERT INTO syncnet_keys VALUES (%s, 'erased', ''::bytea)"
            curs.executemany(tombstone, [(s,) for s in erase])

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # Every read before the writes: in psycopg's pipeline mode (the library's), a fetch
        # after an executemany on the same cursor can meet the insert's result instead.
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(f"SELECT COALESCE(MAX(notification_id), 0) AS last FROM {self.events_table_name}")
        last = int(curs.fetchone()["last"])
        curs.execute(f"SELECT link FROM {chain.TABLE} WHERE position = %s", (chain.HEAD,))
        row = curs.fetchone()
        self._ids = ids = list(range(last + 1, last + 1 + len(stored_events)))
        if not ids:
            return
        assert self.store_key is not None
        try:
            head = chain.Head(0, b"") if row is None else chain.open_head(self.store_key, bytes(row["link"]))
        except (InvalidTag, ValueError):
            raise StoreError("the seal of the log is damaged: run 'syncnet verify'") from None
        if head.position != last:
            raise StoreError(f"the log is damaged: its seal ends at position {head.position}, the log at "
                             f"{last}; nothing was recorded (run 'syncnet verify')")  # fmt: skip
        # COPY, not INSERT: the facts and their links go in as rows of binary data
        columns = "originator_id, originator_version, topic, state, notification_id"
        with curs.copy(f"COPY {self.events_table_name} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "int8", "text", "bytea", "int8"])
            for e, i in zip(stored_events, ids, strict=True):
                copy.write_row((e.originator_id, e.originator_version, e.topic, e.state, i))
        rows = [(i, e.originator_id.hex if isinstance(e.originator_id, UUID) else str(e.originator_id),
                 e.originator_version, e.topic, e.state)
                for i, e in zip(ids, stored_events, strict=True)]  # fmt: skip
        links, new_head = chain.linked(chain.chain_key(self.store_key), head, rows)
        with curs.copy(f"COPY {chain.TABLE} (position, link) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "bytea"])  # the table is made for both engines: INTEGER
            for position, link in links:
                copy.write_row((position, link))
        curs.execute(f"UPDATE {chain.TABLE} SET link = %s WHERE position = %s",
                     (chain.seal_head(self.store_key, new_head), chain.HEAD))  # fmt: skip
        if curs.rowcount == 0:  # the first facts of the log: no head yet
            curs.execute(f"INSERT INTO {chain.TABLE} VALUES (%s, %s)",
                         (chain.HEAD, chain.seal_head(self.store_key, new_head)))  # fmt: skip

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """One transaction, without the library's pipeline (COPY cannot run in one): the
        lock, the guard and the keys (`_insert_events`), then the facts and their seal."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._ids = []
            if stored_events:
                self._insert_stored_events(curs, stored_events, **kwargs)
        return self._ids

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        return self._ids
