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

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import Environment, EnvType

from syncnet.storage.db import LOCK_TIMEOUT_S
from syncnet.storage.transcodings import DateAsISO, SealedAsText


class SyncnetRecorder(SQLiteApplicationRecorder):
    """The library's recorder, plus a table of wrapped keys written in the same
    transaction as the events that need them (`save(..., wrapped_keys=[...])`)."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS syncnet_keys ("
            "subject TEXT PRIMARY KEY, kind TEXT NOT NULL, wrapped BLOB NOT NULL) WITHOUT ROWID",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        wrapped_keys = kwargs.get("wrapped_keys")
        if wrapped_keys:
            c.executemany("INSERT INTO syncnet_keys VALUES (?, ?, ?)", wrapped_keys)
        return super()._insert_events(c, stored_events, **kwargs)


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
