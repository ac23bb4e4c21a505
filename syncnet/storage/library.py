"""The eventsourcing library underneath the fact log (used by factlog.py only).

An `Application` that ignores os.environ, registers the transcodings of syncnet's
values, and a recorder that writes wrapped keys in the same transaction as the
events that need them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import Environment, EnvType

from syncnet.errors import ContactsMoved, StoreError
from syncnet.storage import chain
from syncnet.storage.db import LOCK_TIMEOUT_S
from syncnet.storage.transcodings import DateAsISO, SealedAsText


class SyncnetRecorder(SQLiteApplicationRecorder):
    """The library's recorder, plus a table of wrapped keys written in the same
    transaction as the events that need them (`save(..., wrapped_keys=[...])`), and the
    seal of the log (chain.py), extended in that transaction too."""

    store_key: bytes | None = None  # set by FactLog; without it nothing can be appended

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS syncnet_keys ("
            "subject TEXT PRIMARY KEY, kind TEXT NOT NULL, wrapped BLOB NOT NULL) WITHOUT ROWID",
            chain.SCHEMA,
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.store_key is None:
            raise StoreError("the log is open without its key: nothing can be appended")
        wrapped_keys = kwargs.get("wrapped_keys")
        if wrapped_keys:
            c.executemany("INSERT INTO syncnet_keys VALUES (?, ?, ?)", wrapped_keys)
        erase = kwargs.get("erase_keys")
        if erase:
            # Forgotten: the wrapped key is deleted with its bytes zeroed (secure_delete),
            # and an empty tombstone says the subject was erased, not lost (keys.KeyRing).
            c.execute("PRAGMA secure_delete = ON")
            c.executemany("DELETE FROM syncnet_keys WHERE subject = ?", [(s,) for s in erase])
            c.executemany("INSERT INTO syncnet_keys VALUES (?, 'erased', X'')", [(s,) for s in erase])
        ids = super()._insert_events(c, stored_events, **kwargs)
        guard = kwargs.get("no_contacts_after")
        if guard is not None and ids:
            # After the writes, which took the lock: this read sees every commit (a read
            # first would pin a snapshot, and the write after it fail as "locked").
            position, topics = guard
            marks = ",".join("?" * len(topics))
            table = self.events_table_name
            sql = f"SELECT 1 FROM {table} WHERE rowid > ? AND rowid < ? AND topic IN ({marks}) LIMIT 1"
            c.execute(sql, (position, ids[0], *topics))
            if c.fetchone() is not None:
                raise ContactsMoved("another process met a contact meanwhile")
        if ids:
            self._seal(c, list(ids), stored_events)
        return ids

    def _seal(self, c: SQLiteCursor, ids: list[int], events: Sequence[StoredEvent]) -> None:
        """Extend the seal over the facts just inserted (the write lock is held: the
        head read here is the latest)."""
        assert self.store_key is not None
        c.execute(f"SELECT link FROM {chain.TABLE} WHERE position = ?", (chain.HEAD,))
        row = c.fetchone()
        try:
            head = chain.Head(0, b"") if row is None else chain.open_head(self.store_key, bytes(row[0]))
        except (InvalidTag, ValueError):
            raise StoreError("the seal of the log is damaged: run 'syncnet verify'") from None
        if head.position != ids[0] - 1:
            raise StoreError(f"the log is damaged: its seal ends at position {head.position}, the log at "
                             f"{ids[0] - 1}; nothing was recorded (run 'syncnet verify')")  # fmt: skip
        rows = [(i, e.originator_id.hex if isinstance(e.originator_id, UUID) else str(e.originator_id),
                 e.originator_version, e.topic, e.state)
                for i, e in zip(ids, events, strict=True)]  # fmt: skip
        chain.extend(c, chain.chain_key(self.store_key), self.store_key, head, rows)


class LibraryApp(Application[UUID]):
    """The eventsourcing application underneath: facts are saved as events, never
    loaded as aggregates (each fact is a stream of one event)."""

    name = "syncnet"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Unlike the library default, ignore os.environ: a stray CIPHER_KEY or
        # SQLITE_DBNAME in the user's shell must not change where or how we store.
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(SealedAsText())


def library_env(db_path: Path, store_key: bytes) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(db_path),
        "SQLITE_LOCK_TIMEOUT": str(LOCK_TIMEOUT_S),
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:SyncnetRecorder",
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": base64.b64encode(store_key).decode("ascii"),
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    }
