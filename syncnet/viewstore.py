"""Tracked views on disk: rows encrypted with the store key, and the position of
the last fact folded in, written in the same transaction as the rows.

Catch-up polls the notification log from that position in pages (the SQLite
recorder has no subscription), folds each page with views.apply and commits the
changed rows with the new position under BEGIN IMMEDIATE, so two processes never
fold the same page twice and a crash repeats or skips nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .config import Minutes
from .keys import open_json, seal_json
from .views import KINDS, Views, apply, encode_row, fingerprint

PAGE = 1000
NAME = "syncnet-views"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS syncnet_views ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, open INTEGER, data BLOB NOT NULL,"
    " PRIMARY KEY (kind, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS syncnet_view_tracking ("
    " name TEXT PRIMARY KEY, position INTEGER NOT NULL, fingerprint TEXT NOT NULL) WITHOUT ROWID",
)

# fetch(after_position, limit) -> [(position, domain event)]
Fetch = Callable[[int, int], Sequence[tuple[int, Any]]]


class ViewStore:
    def __init__(self, db_path: Path, store_key: bytes, minutes: Minutes, timeout: float = 30) -> None:
        self._key = store_key
        self.minutes = minutes
        self._fingerprint = fingerprint(minutes)
        # check_same_thread=False: the feed server uses the store from a worker thread, one at a time
        self._conn = sqlite3.connect(db_path, isolation_level=None, timeout=timeout, check_same_thread=False)
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

    # tracking ---------------------------------------------------------------
    def position(self) -> int:
        row = self._conn.execute(
            "SELECT position, fingerprint FROM syncnet_view_tracking WHERE name = ?", (NAME,)
        ).fetchone()
        if row is None or row[1] != self._fingerprint:
            return 0
        return int(row[0])

    def catch_up(self, fetch: Fetch, page: int = PAGE, progress: Callable[[int], None] | None = None) -> int:
        """Fold every fact after the tracked position; returns how many were folded."""
        done = 0
        while True:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT position, fingerprint FROM syncnet_view_tracking WHERE name = ?", (NAME,)
                ).fetchone()
                if row is not None and row[1] != self._fingerprint:
                    # The views were folded with other settings: rebuild them from the start.
                    self._conn.execute("DELETE FROM syncnet_views")
                    row = None
                position = 0 if row is None else int(row[0])
                batch = fetch(position, page)
                if not batch:
                    self._conn.execute("COMMIT")
                    return done
                views = Views(self.minutes, loader=self.load)
                for _, event in batch:
                    apply(views, event)
                self._write(views)
                self._conn.execute(
                    "INSERT INTO syncnet_view_tracking VALUES (?, ?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET position = excluded.position, fingerprint = excluded.fingerprint",
                    (NAME, batch[-1][0], self._fingerprint),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            done += len(batch)
            if progress:
                progress(done)

    def _write(self, views: Views) -> None:
        params = []
        for kind, key in views.dirty:
            row = views.rows[(kind, key)]
            is_open = 1 if kind == "promise" and row.status == "open" else None
            params.append((kind, key, is_open, self._seal(kind, key, row)))
        self._conn.executemany(
            "INSERT INTO syncnet_views VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) "
            "DO UPDATE SET open = excluded.open, data = excluded.data",
            params,
        )
