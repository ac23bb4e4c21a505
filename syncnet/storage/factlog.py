"""The fact log: the one API over the eventsourcing library, its recorder, its mapper
and its tables. Everything else appends and reads facts through `FactLog`.

- `append(facts, wrapped_keys)`: facts and the wrapped data keys they need, one transaction;
- `after(position, limit, types)`: facts after a position, in order, optionally of some types;
- `at(position)`: the fact at one position;
- `last_position(db_path)`: the position of the last fact (0 when empty), read without
  loading the library, so a command whose views are current never imports it.

Facts are encrypted (AES-256-GCM) and compressed by the library (library.py). Topics
are the library's (`eventsourcing.utils.get_topic`); facts recorded before the code had
layers carry the topic `syncnet.events:<Class>`, which still resolves (see `LEGACY`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from syncnet.errors import StoreError
from syncnet.storage.db import LOCK_TIMEOUT_S

if TYPE_CHECKING:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    from syncnet.domain import events as ev

# Where the fact classes lived before syncnet had layers: stored topics name it.
LEGACY = "syncnet.events"

WrappedKey = tuple[str, str, bytes]  # (subject hex, kind, wrapped key)


def topics_of(types: Iterable[type[ev.Fact]]) -> list[str]:
    """The stored topics of these fact types, today's and the legacy ones."""
    from eventsourcing.utils import get_topic

    out = []
    for t in types:
        out += [get_topic(t), f"{LEGACY}:{t.__qualname__}"]
    return out


def last_position(db_path: Path) -> int:
    """The notification position of the last stored fact (0 when empty), without the library."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        row = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    finally:
        conn.close()
    return int(row[0] or 0)


class FactLog:
    """The ordered, encrypted log of facts (positions 1, 2, 3, ... without gaps)."""

    def __init__(self, db_path: Path, store_key: bytes) -> None:
        from eventsourcing.utils import register_topic

        from syncnet.domain import events
        from syncnet.storage.library import LibraryApp, library_env

        register_topic(LEGACY, events)  # idempotent: the same module each time
        self._app = LibraryApp(env=library_env(db_path, store_key))

    def append(self, facts: Sequence[ev.Fact], wrapped_keys: Sequence[WrappedKey] = ()) -> None:
        """Append facts, and the wrapped keys they need, in one transaction."""
        from eventsourcing.persistence import PersistenceError

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
        return [(n.id, cast("ev.Fact", self._app.mapper.to_domain_event(n))) for n in notes]

    def _sqlite(self) -> SQLiteApplicationRecorder:
        """The library's SQLite recorder, for the queries its API has no call for."""
        from eventsourcing.sqlite import SQLiteApplicationRecorder

        recorder = self._app.recorder
        assert isinstance(recorder, SQLiteApplicationRecorder)
        return recorder

    def positions_of_ids(self, prefix: str) -> list[int]:
        """The positions of the facts whose id (32 hex digits, as the library stores it)
        starts with `prefix`: a range of the primary key, no fact decrypted."""
        recorder = self._sqlite()
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT rowid FROM {recorder.events_table_name} "
                "WHERE originator_id >= ? AND originator_id < ? ORDER BY rowid",
                (prefix, prefix + "g"),  # "g" sorts after every hex digit
            )
            return [int(r[0]) for r in cursor.fetchall()]

    def last_position(self, types: Iterable[type[ev.Fact]]) -> int | None:
        """The position of the latest fact of these types, or None."""
        topics, recorder = topics_of(types), self._sqlite()
        with recorder.datastore.transaction(commit=False) as cursor:
            marks = ", ".join("?" for _ in topics)
            table = recorder.events_table_name
            cursor.execute(f"SELECT MAX(rowid) FROM {table} WHERE topic IN ({marks})", topics)
            row = cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def at(self, position: int) -> ev.Fact | None:
        notes = self._app.recorder.select_notifications(start=position, stop=position, limit=1)
        return cast("ev.Fact", self._app.mapper.to_domain_event(notes[0])) if notes else None

    def close(self) -> None:
        self._app.close()
