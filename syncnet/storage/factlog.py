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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from cryptography.exceptions import InvalidTag

from syncnet.errors import StoredMeanwhile, StoreError
from syncnet.storage import chain
from syncnet.storage.db import LOCK_TIMEOUT_S, Location, PgConnection, is_postgres

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    from syncnet.domain import events as ev


WrappedKey = tuple[str, str, bytes]  # (subject hex, kind, wrapped key)
EVENTS = "stored_events"  # the library's table of facts, on either engine


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


def last_position(db_path: Location, reads: PgConnection | None = None) -> int:
    """The notification position of the last stored fact (0 when empty), without the library
    (`reads`: on PostgreSQL, the store's connection)."""
    if is_postgres(db_path):
        pg = reads or PgConnection(str(db_path), LOCK_TIMEOUT_S)
        try:
            row = pg.execute("SELECT MAX(notification_id) FROM stored_events").fetchone()
        finally:
            if reads is None:
                pg.close()
        return int(row[0] or 0)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        row = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    finally:
        conn.close()
    return int(row[0] or 0)


def _links_of(rows: Iterable[Any]) -> Iterator[tuple[int, bytes]]:
    """(position, link) of the seal's rows; a link that is not bytes (edited into text or
    a number) is left out: its fact then has no seal, and is named as damaged."""
    for position, link in rows:
        if isinstance(link, bytes | memoryview):
            yield int(position), bytes(link)


def _row(n: Notification) -> chain.Row:
    return (n.id, n.originator_id.hex, n.originator_version, n.topic, n.state)  # type: ignore[union-attr]


class FactLog:
    """The ordered, encrypted log of facts (positions 1, 2, 3, ... without gaps)."""

    def __init__(self, db_path: Location, store_key: bytes, *, create: bool = False,
                 reads: PgConnection | None = None) -> None:  # fmt: skip
        """`create`: make the tables (a new store; on SQLite they are made anyway);
        `reads`: on PostgreSQL, the store's connection for the queries of ours (else one
        of its own)."""
        from eventsourcing.utils import register_topic

        from syncnet.domain import events
        from syncnet.storage.library import LEGACY, LibraryApp, library_env

        register_topic(LEGACY, events)  # idempotent: the same module each time
        # On PostgreSQL, the queries the library's API has no call for go through a
        # connection of ours (db.py), and positions are the library's notification ids.
        self._own_pg = reads is None and is_postgres(db_path)
        self._pg = reads if reads is not None else None
        if self._own_pg:
            self._pg = PgConnection(str(db_path), LOCK_TIMEOUT_S)
        self._position = "notification_id" if self._pg is not None else "rowid"
        self._app = LibraryApp(env=library_env(db_path, store_key, create))
        self._db_path = db_path
        recorder: Any = self._app.recorder
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
        if self._pg is not None:  # the erased rows' old versions leave the table's pages
            self._pg.execute("VACUUM FULL syncnet_keys")
            return True
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
        notes = self._notes(start=position + 1, limit=limit, topics=topics)
        return self._checked(notes, position + 1 if types is None else None)

    def _notes(self, start: int, limit: int, **kw: Any) -> Sequence[Notification]:
        """The library's rows from `start`; a row it cannot read (a NULL or text id or
        version, edited in by hand) is one line that says where, not a Python error."""
        try:
            return self._app.recorder.select_notifications(start=start, limit=limit, **kw)
        except (TypeError, ValueError, AttributeError):
            raise StoreError(f"the log is damaged: a fact at position {start} or after holds a value of "
                             "the wrong kind (run 'syncnet verify'; restore the store from a backup)"
                             ) from None

    def _damage(self, notes: Sequence[Notification], first: int | None) -> dict[int, str]:
        """{position: what is wrong} of the notes whose rows do not match their seal
        (chain.py). `first`: the position the notes should start at, when they are every
        fact from there (no type filter): a gap is a missing fact."""
        bad = chain.check(self._chain_key, (_row(n) for n in notes), self._links(notes))
        if first is not None:
            expected = first
            for n in notes:
                bad.update(dict.fromkeys(range(expected, n.id), "it is missing from the log"))
                expected = n.id + 1
        return bad

    def encoded_after(self, position: int, limit: int) -> list[tuple[int, UUID, str, bytes]]:
        """(position, id, class, bytes) of up to `limit` facts after `position`: checked
        against the seal and decrypted, not decoded; the bytes as library.PlainFacts makes
        them (compressed, the type inside). What a hub's envelope carries: a push need not
        decode a fact to send it (damaged facts are noted in `damaged` and left out)."""
        notes = self._notes(start=position + 1, limit=limit)
        if not notes:
            return []
        bad = self._damage(notes, position + 1)
        self.damaged.update(bad)
        cipher = self._app.mapper.cipher
        assert cipher is not None
        out = []
        for n in notes:
            if n.id in bad:
                continue
            try:
                plain = cipher.decrypt(n.state)
            except Exception as e:  # sealed, yet unreadable: written with another key, say
                self.damaged[n.id] = f"it cannot be decrypted ({type(e).__name__})"
                continue
            oid = n.originator_id
            out.append((n.id, oid if isinstance(oid, UUID) else UUID(str(oid)), n.topic, plain))
        return out

    def append_encoded(
        self, facts: Sequence[tuple[UUID, str, bytes]], erase_keys: Sequence[str] = ()
    ) -> None:
        """Facts given as `encoded_after` gives them (id, class, bytes), encrypted with the
        store key and appended in one transaction, with the destruction of the data keys
        of `erase_keys` (as `append`): a pull need not decode a fact to store it."""
        from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

        cipher = self._app.mapper.cipher
        assert cipher is not None
        stored = [StoredEvent(originator_id=i, originator_version=1, topic=t, state=cipher.encrypt(b))
                  for i, t, b in facts]  # fmt: skip
        try:
            self._app.recorder.insert_events(stored, wrapped_keys=[], erase_keys=list(erase_keys))
        except IntegrityError:
            raise StoredMeanwhile("another process stored some of these facts meanwhile") from None
        except PersistenceError as e:
            raise StoreError(f"could not write to the store: {e}") from None
        if erase_keys:
            self.scrub()

    def _checked(self, notes: Sequence[Notification], first: int | None) -> list[tuple[int, ev.Fact]]:
        """The facts of `notes` whose rows match their seal (chain.py), decrypted; the others
        are noted in `damaged` and left out (see `_damage`)."""
        if not notes:
            return []
        bad = self._damage(notes, first)
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

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a query the library's API has no call for (SQLite's words: db.py)."""
        if self._pg is not None:
            return list(self._pg.execute(sql, params).fetchall())
        with self._sqlite().datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def _links(self, notes: Sequence[Notification]) -> dict[int, bytes]:
        """The seal's links of these facts and of the ones just before them."""
        ids = sorted({n.id for n in notes} | {n.id - 1 for n in notes})
        links: dict[int, bytes] = {}
        if ids[-1] - ids[0] < 2 * len(ids):  # (nearly) contiguous: one range
            sql = f"SELECT position, link FROM {chain.TABLE} WHERE position BETWEEN ? AND ?"
            links.update(_links_of(self._rows(sql, (max(ids[0], 1), ids[-1]))))
        else:
            for start in range(0, len(ids), 500):
                part = [i for i in ids[start : start + 500] if i > 0]
                marks = ",".join("?" * len(part))
                sql = f"SELECT position, link FROM {chain.TABLE} WHERE position IN ({marks})"
                links.update(_links_of(self._rows(sql, part)))
        return links

    def head(self) -> chain.Head | None:
        """The sealed end of the log; None when the head is missing or damaged."""
        rows = self._rows(f"SELECT link FROM {chain.TABLE} WHERE position = ?", (chain.HEAD,))
        row = rows[0] if rows else None
        if row is None:
            return None
        try:
            return chain.open_head(self._store_key, bytes(row[0]))
        except (InvalidTag, ValueError, TypeError):
            return None

    def verify(self, progress: Callable[[int], None] | None = None) -> dict[int, str]:
        """Every fact against the seal: {position: what is wrong}, empty when the log is whole."""
        self.damaged = {}
        position, last = 0, 0
        while True:
            notes = self._notes(start=position + 1, limit=1000)
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
        rows = self._rows(f"SELECT link FROM {chain.TABLE} WHERE position = ?", (position,))
        return b"" if not rows else bytes(rows[0][0])

    def _sqlite(self) -> SQLiteApplicationRecorder:
        """The library's SQLite recorder, for the queries its API has no call for."""
        from eventsourcing.sqlite import SQLiteApplicationRecorder

        recorder = self._app.recorder
        assert isinstance(recorder, SQLiteApplicationRecorder)
        return recorder

    def _id_range(self, prefix: str) -> tuple[str, tuple[Any, ...]]:
        """The condition (and its parameters) on the ids that start with `prefix` (hex): a
        range of the primary key (text on SQLite, uuid on PostgreSQL)."""
        if self._pg is not None:
            if len(prefix) > 32:
                return "1 = 0", ()  # longer than any id: no fact
            low, high = UUID(prefix.ljust(32, "0")), UUID(prefix.ljust(32, "f"))
            return "originator_id BETWEEN ? AND ?", (low, high)
        return "originator_id >= ? AND originator_id < ?", (prefix, prefix + "g")  # "g" after every hex digit

    def positions_of_ids(self, prefix: str) -> list[int]:
        """The positions of the facts whose id (32 hex digits, as the library stores it)
        starts with `prefix`: a range of the primary key, no fact decrypted."""
        where, params = self._id_range(prefix)
        sql = f"SELECT {self._position} FROM {EVENTS} WHERE {where} ORDER BY {self._position}"
        return [int(r[0]) for r in self._rows(sql, params)]

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """The ids (32 hex digits) of the facts whose id starts with `prefix`: a range of the
        primary key, no fact decrypted."""
        where, params = self._id_range(prefix)
        rows = self._rows(f"SELECT originator_id FROM {EVENTS} WHERE {where}", params)
        return [str(r[0]).replace("-", "") for r in rows]

    def present(self, ids: Sequence[UUID]) -> set[UUID]:
        """Which of these fact ids the log holds (a hub's facts pulled before, say)."""
        found = set[UUID]()
        for start in range(0, len(ids), 500):
            part: list[Any] = [i if self._pg is not None else i.hex for i in ids[start : start + 500]]
            marks = ",".join("?" * len(part))
            rows = self._rows(f"SELECT originator_id FROM {EVENTS} WHERE originator_id IN ({marks})", part)
            found.update(UUID(str(r[0])) for r in rows)
        return found

    def add_keys(self, wrapped_keys: Sequence[WrappedKey]) -> None:
        """Data keys, in one transaction, without facts: those a hub holds for facts this
        log is about to receive. A subject that has a key (or a tombstone) keeps it."""
        if not wrapped_keys:
            return
        sql = "INSERT INTO syncnet_keys VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        if self._pg is not None:
            self._pg.executemany(sql, wrapped_keys)  # a row at a time: each key stands alone
            return
        with self._sqlite().datastore.transaction(commit=True) as cursor:
            cursor.executemany(sql, list(wrapped_keys))

    def key_rows(self) -> list[WrappedKey]:
        """(subject, kind, wrapped) of every data key and tombstone (wrapped b"")."""
        sql = "SELECT subject, kind, wrapped FROM syncnet_keys WHERE kind NOT IN ('store', 'rekeyed')"
        return [(str(r[0]), str(r[1]), bytes(r[2])) for r in self._rows(sql)]

    def last_position(self, types: Iterable[type[ev.Fact]]) -> int | None:
        """The position of the latest fact of these types, or None."""
        topics = topics_of(types)
        marks = ", ".join("?" for _ in topics)
        rows = self._rows(f"SELECT MAX({self._position}) FROM {EVENTS} WHERE topic IN ({marks})", topics)
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def at(self, position: int) -> ev.Fact | None:
        """The fact at `position`; None when there is none, or it is damaged (see `damaged`)."""
        notes = self._notes(start=position, stop=position, limit=1)
        if not notes and position > 0:
            head = self.head()
            if self._links_at(position) or head is None or position <= head.position:  # it was there
                self.damaged[position] = "it is missing from the log"
        found = self._checked(notes, None)
        return found[0][1] if found else None

    def at_many(self, positions: Iterable[int]) -> list[tuple[int, ev.Fact]]:
        """(position, fact) at these positions, in order, read in a query per 500: a contact's
        facts (the history index) lie scattered over the log, and one query each costs a
        briefing of 80 people a third of a second. Missing or damaged ones are left out and
        noted in `damaged`, as `at` does."""
        from eventsourcing.persistence import Notification

        wanted = sorted(set(positions))
        notes: list[Notification] = []
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            sql = (f"SELECT {self._position}, originator_id, originator_version, topic, state "
                   f"FROM {EVENTS} WHERE {self._position} IN ({','.join('?' * len(part))}) "
                   f"ORDER BY {self._position}")  # fmt: skip
            for r in self._rows(sql, part):
                try:
                    oid = r[1] if isinstance(r[1], UUID) else UUID(str(r[1]))
                    if not isinstance(r[4], bytes | memoryview):
                        raise TypeError(r[4])
                    notes.append(Notification(id=int(r[0]), originator_id=oid, originator_version=int(r[2]),
                                              topic=str(r[3]), state=bytes(r[4])))  # fmt: skip
                except (TypeError, ValueError):  # a value of the wrong kind, edited in: damaged
                    self.damaged[int(r[0])] = "it holds a value of the wrong kind (edited)"
        missing = set(wanted) - {n.id for n in notes}
        if missing:
            head = self.head()
            for position in sorted(missing):
                if position > 0 and (self._links_at(position) or head is None or position <= head.position):
                    self.damaged[position] = "it is missing from the log"
        return self._checked(notes, None)

    def close(self) -> None:
        self._app.close()
        if self._pg is not None and self._own_pg:
            self._pg.close()
