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

import hmac
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast
from uuid import UUID

from cryptography.exceptions import InvalidTag

from syncnet.errors import StoreError
from syncnet.storage import chain
from syncnet.storage.db import LOCK_TIMEOUT_S

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    from syncnet.domain import events as ev


WrappedKey = tuple[str, str, bytes]  # (subject hex, kind, wrapped key)


def topics_of(types: Iterable[type[ev.Fact]]) -> list[str]:
    """The stored topics of these fact types: their classes (library.py), and the types
    themselves, as facts stored before the classes carry them (today's and the legacy
    names). Only whole classes can be asked for: a class holds other types too."""
    from eventsourcing.utils import get_topic

    from syncnet.domain import events
    from syncnet.storage.library import LEGACY, topic_class

    wanted = set(types)
    classes = {topic_class(t) for t in wanted}
    every = [cls for cls in events.Fact.__subclasses__() if topic_class(cls) in classes]
    if not wanted.issuperset(every):
        raise ValueError(f"facts of {sorted(classes)} can only be read by class")
    out = sorted(classes)
    for t in wanted:
        out += [get_topic(t), f"{LEGACY}:{t.__qualname__}"]
    return out


def last_position_in(conn: sqlite3.Connection) -> int:
    """The last position as a connection's current transaction sees it (a backup's)."""
    row = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    return int(row[0] or 0)


def check_tables(conn: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError unless the log's tables are there (a restored copy)."""
    conn.execute(f"SELECT 1 FROM stored_events, syncnet_keys, {chain.TABLE} LIMIT 0").fetchall()


def last_position(db_path: Path) -> int:
    """The notification position of the last stored fact (0 when empty), without the library."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        row = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    finally:
        conn.close()
    return int(row[0] or 0)


def _row(n: Notification) -> chain.Row:
    return (n.id, n.originator_id.hex, n.originator_version, n.topic, n.state)  # type: ignore[union-attr]


class FactLog:
    """The ordered, encrypted log of facts (positions 1, 2, 3, ... without gaps)."""

    def __init__(self, db_path: Path, store_key: bytes) -> None:
        from eventsourcing.utils import register_topic

        from syncnet.domain import events
        from syncnet.storage.library import LEGACY, LibraryApp, SyncnetRecorder, library_env

        register_topic(LEGACY, events)  # idempotent: the same module each time
        self._app = LibraryApp(env=library_env(db_path, store_key))
        self._db_path = db_path
        recorder = self._sqlite()
        assert isinstance(recorder, SyncnetRecorder)
        recorder.store_key = store_key
        self._store_key = store_key
        self._chain_key = chain.chain_key(store_key)
        # position -> what is wrong with the fact there: damaged facts met by reads, which
        # leave them out (the rest of the log stays usable; `syncnet verify` lists them)
        self.damaged: dict[int, str] = {}

    def append(self, facts: Sequence[ev.Fact], wrapped_keys: Sequence[WrappedKey] = (),
               erase_keys: Sequence[str] = (), no_contacts_after: int | None = None) -> None:  # fmt: skip
        """Append facts, the wrapped keys they need, and the destruction of the data keys
        of `erase_keys` (subjects), in one transaction; then, when keys were destroyed,
        fold the write-ahead log back into the database and empty it, so that no old
        copy of those keys stays in a file (docs/architecture.md, "Forgetting").
        `no_contacts_after`: refuse (ContactsMoved, nothing written) when a first meeting
        was appended after that position: two processes meeting one name at once."""
        from eventsourcing.persistence import PersistenceError

        from syncnet.domain.events import ContactMet

        try:
            # The event store directly: Application.save checks each event against a
            # runtime Protocol (slow isinstance), and facts need neither snapshots nor hooks.
            guard = None if no_contacts_after is None else (no_contacts_after, topics_of([ContactMet]))
            self._app.events.put(list(facts), wrapped_keys=list(wrapped_keys), erase_keys=list(erase_keys),
                                 no_contacts_after=guard)  # fmt: skip
        except PersistenceError as e:
            raise StoreError(f"could not write to the store: {e}") from None
        if erase_keys:
            self.scrub()

    def scrub(self) -> bool:
        """Checkpoint the WAL into the database and truncate it: erased content (zeroed
        in the database by secure_delete) leaves its old copies in the WAL until then.
        False when another process's read kept part of the WAL (it goes at their next
        checkpoint)."""
        conn = sqlite3.connect(self._db_path, timeout=LOCK_TIMEOUT_S)
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
        return not busy

    def after(
        self, position: int, limit: int, types: Iterable[type[ev.Fact]] | None = None
    ) -> list[tuple[int, ev.Fact]]:
        """Up to `limit` facts after `position`, in order, optionally of these types only."""
        topics = topics_of(types) if types is not None else ()
        notes = self._app.recorder.select_notifications(start=position + 1, limit=limit, topics=topics)
        return self._checked(notes, position + 1 if types is None else None)

    def _checked(self, notes: Sequence[Notification], first: int | None) -> list[tuple[int, ev.Fact]]:
        """The facts of `notes` whose rows match their seal (chain.py), decrypted; the others
        are noted in `damaged` and left out. `first`: the position the notes should start
        at, when they are every fact from there (no type filter): a gap is a missing fact."""
        if not notes:
            return []
        bad = chain.check(self._chain_key, (_row(n) for n in notes), self._links(notes))
        if first is not None:
            expected = first
            for n in notes:
                bad.update(dict.fromkeys(range(expected, n.id), "it is missing from the log"))
                expected = n.id + 1
        out = []
        for n in notes:
            if n.id in bad:
                continue
            try:
                out.append((n.id, cast("ev.Fact", self._app.mapper.to_domain_event(n))))
            except Exception as e:  # sealed, yet unreadable: written with another key, say
                bad[n.id] = f"it cannot be decrypted or decoded ({type(e).__name__})"
        self.damaged.update(bad)
        return out

    def _links(self, notes: Sequence[Notification]) -> dict[int, bytes]:
        """The seal's links of these facts and of the ones just before them."""
        recorder = self._sqlite()
        ids = sorted({n.id for n in notes} | {n.id - 1 for n in notes})
        links: dict[int, bytes] = {}
        with recorder.datastore.transaction(commit=False) as cursor:
            if ids[-1] - ids[0] < 2 * len(ids):  # (nearly) contiguous: one range
                cursor.execute(f"SELECT position, link FROM {chain.TABLE} WHERE position BETWEEN ? AND ?",
                               (max(ids[0], 1), ids[-1]))  # fmt: skip
                links.update((int(r[0]), bytes(r[1])) for r in cursor.fetchall())
            else:
                for start in range(0, len(ids), 500):
                    part = [i for i in ids[start : start + 500] if i > 0]
                    marks = ",".join("?" * len(part))
                    sql = f"SELECT position, link FROM {chain.TABLE} WHERE position IN ({marks})"
                    cursor.execute(sql, part)
                    links.update((int(r[0]), bytes(r[1])) for r in cursor.fetchall())
        return links

    def head(self) -> chain.Head | None:
        """The sealed end of the log; None when the head is missing or damaged."""
        recorder = self._sqlite()
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT link FROM {chain.TABLE} WHERE position = ?", (chain.HEAD,))
            row = cursor.fetchone()
        if row is None:
            return None
        try:
            return chain.open_head(self._store_key, bytes(row[0]))
        except (InvalidTag, ValueError):
            return None

    def verify(self, progress: Callable[[int], None] | None = None) -> dict[int, str]:
        """Every fact against the seal: {position: what is wrong}, empty when the log is whole."""
        self.damaged = {}
        position, last = 0, 0
        while True:
            notes = self._app.recorder.select_notifications(start=position + 1, limit=1000)
            if not notes:
                break
            self._checked(notes, position + 1)
            position = last = notes[-1].id
            if progress:
                progress(position)
        problems = dict(self.damaged)
        head = self.head()
        if head is None and last == 0 and not self._links_at(1):
            pass  # a store with no fact yet: nothing sealed, nothing to seal
        elif head is None:
            problems[0] = "the seal of the log (its head) is missing or damaged"
        elif head.position > last:
            gone = f"{last + 1}" if head.position == last + 1 else f"{last + 1} to {head.position}"
            problems[last + 1] = f"the log was cut short: the facts at positions {gone} are missing"
        elif head.position < last:
            problems[head.position + 1] = f"facts after position {head.position} were added without the key"
        elif last and not hmac.compare_digest(head.link, self._links_at(last)):
            problems[last] = "the last fact does not match the seal of the log"
        return problems

    def _links_at(self, position: int) -> bytes:
        recorder = self._sqlite()
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT link FROM {chain.TABLE} WHERE position = ?", (position,))
            row = cursor.fetchone()
        return b"" if row is None else bytes(row[0])

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

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """The ids (32 hex digits) of the facts whose id starts with `prefix`: a range of the
        primary key, no fact decrypted."""
        recorder = self._sqlite()
        with recorder.datastore.transaction(commit=False) as cursor:
            table = recorder.events_table_name
            sql = f"SELECT originator_id FROM {table} WHERE originator_id >= ? AND originator_id < ?"
            cursor.execute(sql, (prefix, prefix + "g"))
            return [str(r[0]).replace("-", "") for r in cursor.fetchall()]

    def present(self, ids: Sequence[UUID]) -> set[UUID]:
        """Which of these fact ids the log holds (a hub's facts pulled before, say)."""
        recorder, found = self._sqlite(), set[UUID]()
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), 500):
                part = [i.hex for i in ids[start : start + 500]]
                marks = ",".join("?" * len(part))
                cursor.execute(f"SELECT originator_id FROM {recorder.events_table_name} "
                               f"WHERE originator_id IN ({marks})", part)  # fmt: skip
                found.update(UUID(str(r[0])) for r in cursor.fetchall())
        return found

    def add_keys(self, wrapped_keys: Sequence[WrappedKey]) -> None:
        """Data keys, in one transaction, without facts: those a hub holds for facts this
        log is about to receive. A subject that has a key (or a tombstone) keeps it."""
        if not wrapped_keys:
            return
        recorder = self._sqlite()
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.executemany("INSERT OR IGNORE INTO syncnet_keys VALUES (?, ?, ?)", list(wrapped_keys))

    def key_rows(self) -> list[WrappedKey]:
        """(subject, kind, wrapped) of every data key and tombstone (wrapped b"")."""
        recorder = self._sqlite()
        with recorder.datastore.transaction(commit=False) as cursor:
            sql = "SELECT subject, kind, wrapped FROM syncnet_keys WHERE kind NOT IN ('store', 'rekeyed')"
            cursor.execute(sql)
            return [(str(r[0]), str(r[1]), bytes(r[2])) for r in cursor.fetchall()]

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
        """The fact at `position`; None when there is none, or it is damaged (see `damaged`)."""
        notes = self._app.recorder.select_notifications(start=position, stop=position, limit=1)
        if not notes and position > 0:
            head = self.head()
            if self._links_at(position) or head is None or position <= head.position:  # it was there
                self.damaged[position] = "it is missing from the log"
        found = self._checked(notes, None)
        return found[0][1] if found else None

    def close(self) -> None:
        self._app.close()
