"""The fact log: the one module that touches eventsourcing's application, recorder,
mapper and tables. Everything else appends and reads facts through `FactLog`.

- `append(facts, wrapped_keys)`: facts and the wrapped data keys they need, one transaction;
- `after(position, limit, types)`: facts after a position, in order, optionally of some types;
- `at(position)`: the fact at one position;
- `last_position()`: the position of the last fact (0 when empty).

Facts are encrypted (AES-256-GCM) and compressed by the library. Topics are the
library's (`eventsourcing.utils.get_topic`); facts recorded before the code was
layered carry the topic `syncnet.events:<Class>`, which still resolves (see `LEGACY`).

Imported only when facts are read or written: a command whose views are current
(e.g. `syncnet due`, a no-op `syncnet sync`) never loads the library's application.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import Environment, EnvType, get_topic, register_topic

from syncnet.domain import events as ev
from syncnet.errors import StoreError
from syncnet.storage.db import LOCK_TIMEOUT_S
from syncnet.storage.transcodings import DateAsISO, SealedAsText

# Where the fact classes lived before syncnet had layers: stored topics name it.
LEGACY = "syncnet.events"
register_topic(LEGACY, ev)

WrappedKey = tuple[str, str, bytes]  # (subject hex, kind, wrapped key)


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


def topics_of(types: Iterable[type[ev.Fact]]) -> list[str]:
    """The stored topics of these fact types, today's and the legacy ones."""
    out = []
    for t in types:
        out += [get_topic(t), f"{LEGACY}:{t.__qualname__}"]
    return out


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


class FactLog:
    """The ordered, encrypted log of facts (positions 1, 2, 3, ... without gaps)."""

    def __init__(self, db_path: Path, store_key: bytes) -> None:
        self._app = LibraryApp(env=library_env(db_path, store_key))

    def append(self, facts: Sequence[ev.Fact], wrapped_keys: Sequence[WrappedKey] = ()) -> None:
        """Append facts, and the wrapped keys they need, in one transaction."""
        try:
            # The event store directly: Application.save checks each event against a
            # runtime Protocol (slow isinstance), and facts need neither snapshots nor hooks.
            self._app.events.put(list(facts), wrapped_keys=list(wrapped_keys))
        except PersistenceError as e:
            raise StoreError(f"could not write to the store: {e}") from None

    def after(
        self, position: int, limit: int, types: Iterable[type[ev.Fact]] | None = None
    ) -> list[tuple[int, ev.Fact]]:
        """Up to `limit` facts after `position`, in order, optionally of these types only."""
        topics = topics_of(types) if types is not None else ()
        notes = self._app.recorder.select_notifications(start=position + 1, limit=limit, topics=topics)
        return [(n.id, cast(ev.Fact, self._app.mapper.to_domain_event(n))) for n in notes]

    def at(self, position: int) -> ev.Fact | None:
        notes = self._app.recorder.select_notifications(start=position, stop=position, limit=1)
        return cast(ev.Fact, self._app.mapper.to_domain_event(notes[0])) if notes else None

    def last_position(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def close(self) -> None:
        self._app.close()
