"""Tracked views on disk: rows encrypted with the store key, and the position of
the last fact folded in, written in the same transaction as the rows.

Catch-up reads the notification log from that position in pages (the SQLite
recorder has no subscription) and folds them in memory with syncnet.domain.fold.apply; every
`chunk` facts it writes the changed rows, the history index and the new
position in one BEGIN IMMEDIATE transaction. Folding happens outside the lock:
if another process moved the position meanwhile, the chunk is thrown away and
folded again from there (optimistic concurrency), so no fact is folded twice or
skipped, and a crash only loses the chunk in progress.

The history index maps a keyed hash of a contact id to the positions of its
facts: it shows how many facts belong together, never to whom.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from syncnet.domain.config import Minutes
from syncnet.domain.rows import KINDS, Views, encode_row, fingerprint
from syncnet.storage.db import connect, immediate
from syncnet.storage.keys import open_json, seal_json

PAGE = 1000
CHUNK = 50_000  # facts folded in memory between two writes: bounds memory and lock time
NAME = "syncnet-views"
AGENDA = "syncnet-agenda"  # position of the last fact that can change the agenda (not a push record)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS syncnet_views ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, open INTEGER, data BLOB NOT NULL,"
    " PRIMARY KEY (kind, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS syncnet_view_index ("
    " contact BLOB NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (contact, position)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS syncnet_view_tracking ("
    " name TEXT PRIMARY KEY, position INTEGER NOT NULL, fingerprint TEXT NOT NULL) WITHOUT ROWID",
)

# fetch(after_position, limit) -> [(position, domain event)]
Fetch = Callable[[int, int], Sequence[tuple[int, Any]]]


class ViewStore:
    def __init__(self, db_path: Path, store_key: bytes, minutes: Minutes, timeout: float = 30) -> None:
        self._key = store_key
        self._index_key = hmac.new(store_key, b"syncnet-history-index", hashlib.sha256).digest()
        self.minutes = minutes
        self._fingerprint = fingerprint(minutes)
        self._conn = connect(db_path, timeout)
        self._conn.execute("PRAGMA secure_delete = ON")
        for statement in SCHEMA:
            self._conn.execute(statement)

    def close(self) -> None:
        self._conn.close()

    # rows -------------------------------------------------------------------
    def _seal(self, kind: str, key: str, row: Any) -> bytes:
        return seal_json(self._key, encode_row(row), f"{kind}:{key}")

    def _open(self, kind: str, key: str, blob: bytes) -> dict[str, Any]:
        data: dict[str, Any] = open_json(self._key, blob, f"{kind}:{key}")
        return data

    def load(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT data FROM syncnet_views WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return None if row is None else self._open(kind, key, row[0])

    def load_all(self, kind: str, only_open: bool = False) -> list[Any]:
        sql = "SELECT key, data FROM syncnet_views WHERE kind = ?"
        if only_open:
            sql += " AND open = 1"
        rows = self._conn.execute(sql, (kind,)).fetchall()
        cls = KINDS[kind]
        return [cls(**self._open(kind, key, blob)) for key, blob in rows]

    def load_days(self) -> dict[str, list[int]]:
        return self.load("global", "days") or {}

    # history index ----------------------------------------------------------
    def _index_id(self, contact_id: UUID) -> bytes:
        return hmac.new(self._index_key, contact_id.bytes, hashlib.sha256).digest()[:16]

    def positions_of(self, contact_id: UUID) -> list[int]:
        """The log positions of every fact of a contact, in recording order."""
        rows = self._conn.execute(
            "SELECT position FROM syncnet_view_index WHERE contact = ? ORDER BY position",
            (self._index_id(contact_id),),
        )
        return [r[0] for r in rows]

    # tracking ---------------------------------------------------------------
    def _tracked(self) -> int:
        row = self._conn.execute(
            "SELECT position, fingerprint FROM syncnet_view_tracking WHERE name = ?", (NAME,)
        ).fetchone()
        if row is None or row[1] != self._fingerprint:
            return 0  # never folded, or folded with other settings: start again
        return int(row[0])

    def position(self) -> int:
        return self._tracked()

    def agenda_position(self) -> int:
        """The position of the last folded fact that can change the agenda (0: none)."""
        row = self._conn.execute(
            "SELECT position FROM syncnet_view_tracking WHERE name = ? AND fingerprint = ?",
            (AGENDA, self._fingerprint),
        ).fetchone()
        return 0 if row is None else int(row[0])

    def catch_up(self, fetch: Fetch, page: int = PAGE, progress: Callable[[int], None] | None = None,
                 chunk: int = CHUNK) -> int:  # fmt: skip
        """Fold every fact after the tracked position; returns how many were folded."""
        # The fold and the event classes are imported only when there is something to fold:
        # a read on up-to-date views (e.g. `syncnet due`) never loads them.
        from syncnet.domain.events import can_change_agenda, contact_ids_of
        from syncnet.domain.fold import apply

        done = 0
        while True:
            start = self._tracked()
            # From position 0 every row is rebuilt: never read rows folded with other settings.
            views = Views(self.minutes, loader=self.load if start else None)
            index: list[tuple[bytes, int]] = []
            position, folded, agenda = start, 0, 0
            while folded < chunk:
                batch = fetch(position, page)
                if not batch:
                    break
                for pos, event in batch:
                    apply(views, event)
                    index += [(self._index_id(c), pos) for c in contact_ids_of(event)]
                    if can_change_agenda(event):
                        agenda = pos
                position = batch[-1][0]
                folded += len(batch)
                if progress:
                    progress(done + folded)
            if not folded:
                if done >= chunk:
                    # After a large catch-up, fold the WAL back into the database, so the
                    # next process does not read (and map) a large WAL when it opens it.
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                return done
            if self._flush(start, position, views, index, agenda):
                done += folded

    def _flush(
        self, start: int, position: int, views: Views, index: list[tuple[bytes, int]], agenda: int
    ) -> bool:
        """Write one folded chunk, unless another process moved the position meanwhile."""
        with immediate(self._conn) as conn:
            if self._tracked() != start:
                return False  # folded by someone else: this chunk is discarded
            if start == 0:
                conn.execute("DELETE FROM syncnet_views")
                conn.execute("DELETE FROM syncnet_view_index")
            params = []
            for kind, key in views.dirty:
                row = views.rows[(kind, key)]
                is_open = 1 if kind == "promise" and row.status == "open" else None
                params.append((kind, key, is_open, self._seal(kind, key, row)))
            conn.executemany(
                "INSERT INTO syncnet_views VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) "
                "DO UPDATE SET open = excluded.open, data = excluded.data",
                params,
            )
            conn.executemany("INSERT OR IGNORE INTO syncnet_view_index VALUES (?, ?)", index)
            track = [(NAME, position, self._fingerprint)]
            if agenda:
                track.append((AGENDA, agenda, self._fingerprint))
            conn.executemany(
                "INSERT INTO syncnet_view_tracking VALUES (?, ?, ?) ON CONFLICT (name) "
                "DO UPDATE SET position = excluded.position, fingerprint = excluded.fingerprint",
                track,
            )
        return True
