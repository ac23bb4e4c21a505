"""Small mutable state beside the log, encrypted with the store key: the stamps
of calendar items and the sync state and health of each target.

Unlike facts, this state may change in place; losing it costs one full listing
of each target, never data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncnet.storage.db import connect, immediate
from syncnet.storage.keys import open_json, seal_json

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS syncnet_state ("
    " scope TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (scope, key)) WITHOUT ROWID"
)


class StateStore:
    def __init__(self, db_path: Path, store_key: bytes, timeout: float = 30) -> None:
        self._key = store_key
        self._conn = connect(db_path, timeout)
        self._conn.execute(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def get(self, scope: str, key: str) -> Any:
        row = self._conn.execute(
            "SELECT data FROM syncnet_state WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return None if row is None else open_json(self._key, row[0], f"{scope}:{key}")

    def put_many(self, scope: str, values: dict[str, Any]) -> None:
        """Write several keys of a scope in one transaction."""
        params = [(scope, k, seal_json(self._key, v, f"{scope}:{k}")) for k, v in values.items()]
        with immediate(self._conn) as conn:
            conn.executemany(
                "INSERT INTO syncnet_state VALUES (?, ?, ?) "
                "ON CONFLICT (scope, key) DO UPDATE SET data = excluded.data",
                params,
            )

    def put(self, scope: str, key: str, value: Any) -> None:
        self.put_many(scope, {key: value})
