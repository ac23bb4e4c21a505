"""Small mutable state beside the log, encrypted with the store key: the stamps
of calendar items and the sync state and health of each target.

Unlike facts, this state may change in place; losing it costs one full listing
of each target, never data. So a value that no longer opens (damaged on disk) reads as
missing, and is said (`notices`), except the feed secret: a new one would change the
feed's address behind its subscribers' backs.
"""

from __future__ import annotations

import zlib
from typing import Any

from cryptography.exceptions import InvalidTag

from syncnet.errors import StoreError
from syncnet.storage.db import Location, connect, immediate
from syncnet.storage.keys import open_json, seal_json

UNREADABLE = (InvalidTag, ValueError, TypeError, zlib.error)  # a value damaged on disk, or sealed elsewhere

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS syncnet_state ("
    " scope TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (scope, key)) WITHOUT ROWID"
)


# Who recorded each fact that crossed a hub: the fact's id (visible in the log already) and
# the number of its member in a sealed list (the state's "hub"/"members"): a row per fact,
# written by the thousand as facts are pulled, too many for a sealed value each.
RECORDED_BY = (
    "CREATE TABLE IF NOT EXISTS syncnet_recorded_by ("
    " fact TEXT PRIMARY KEY, member INTEGER NOT NULL) WITHOUT ROWID"
)
MEMBERS = ("hub", "members")


class StateStore:
    def __init__(self, db_path: Location, store_key: bytes, timeout: float = 30) -> None:
        self._key = store_key
        self._conn = connect(db_path, timeout)
        self._conn.execute(SCHEMA)
        self._conn.execute(RECORDED_BY)
        self.notices: list[str] = []  # damaged values read as missing, for the caller to say

    def close(self) -> None:
        self._conn.close()

    def get(self, scope: str, key: str) -> Any:
        row = self._conn.execute(
            "SELECT data FROM syncnet_state WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        if row is None:
            return None
        try:
            return open_json(self._key, row[0], f"{scope}:{key}")
        except UNREADABLE:
            if (scope, key) == ("feed", "secret"):
                raise StoreError("the feed secret is damaged: run 'syncnet feed rotate' for a new one "
                                 "(subscribers then need the new URL)") from None  # fmt: skip
            note = f"the stored {scope.replace(':', ' ')} ({key}) was damaged: it is rebuilt"
            if note not in self.notices:
                self.notices.append(note)
            return None

    def set_recorded_by(self, facts: dict[str, str]) -> None:
        """Fact id (hex) -> member, for facts that crossed a hub; a fact's first stays."""
        if not facts:
            return
        scope, key = MEMBERS
        with immediate(self._conn) as conn:  # the list read and written under the write lock
            names = list(self.get(scope, key) or [])
            index = {name: i for i, name in enumerate(names)}
            for name in sorted(set(facts.values()) - set(index)):
                index[name] = len(names)
                names.append(name)
            if len(names) > len(self.get(scope, key) or []):
                conn.execute("INSERT INTO syncnet_state VALUES (?, ?, ?) ON CONFLICT (scope, key) "
                             "DO UPDATE SET data = excluded.data",
                             (scope, key, seal_json(self._key, names, f"{scope}:{key}")))  # fmt: skip
            conn.executemany("INSERT INTO syncnet_recorded_by VALUES (?, ?) ON CONFLICT DO NOTHING",
                             [(fact, index[name]) for fact, name in facts.items()])  # fmt: skip

    def recorded_by(self, facts: list[str]) -> dict[str, str]:
        """Fact id (hex) -> the member who recorded it, for those of `facts` known."""
        names = list(self.get(*MEMBERS) or [])
        out: dict[str, str] = {}
        for start in range(0, len(facts), 500):
            part = facts[start : start + 500]
            marks = ",".join("?" * len(part))
            sql = f"SELECT fact, member FROM syncnet_recorded_by WHERE fact IN ({marks})"
            for fact, number in self._conn.execute(sql, part).fetchall():
                if 0 <= int(number) < len(names):
                    out[str(fact)] = str(names[int(number)])
        return out

    def scope(self, scope: str) -> dict[str, Any]:
        """Every value of a scope, in one query (values that no longer open are left out)."""
        rows = self._conn.execute("SELECT key, data FROM syncnet_state WHERE scope = ?", (scope,)).fetchall()
        out = {}
        for key, blob in rows:
            try:
                out[str(key)] = open_json(self._key, bytes(blob), f"{scope}:{key}")
            except UNREADABLE:
                continue
        return out

    def damaged(self) -> list[tuple[str, str]]:
        """(scope, key) of every value that no longer opens (syncnet verify, repair)."""
        out = []
        for scope, key, blob in self._conn.execute("SELECT scope, key, data FROM syncnet_state").fetchall():
            try:
                open_json(self._key, blob, f"{scope}:{key}")
            except UNREADABLE:
                out.append((str(scope), str(key)))
        return out

    def drop(self, items: list[tuple[str, str]]) -> None:
        with immediate(self._conn) as conn:
            conn.executemany("DELETE FROM syncnet_state WHERE scope = ? AND key = ?", items)

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
