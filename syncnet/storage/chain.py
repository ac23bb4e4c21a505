"""The seal of the log: each fact's row bound to its position, and the log to its end.

Every stored fact gets a link, a keyed hash (BLAKE2b, keyed from the store key) of the
link before it and of what the row holds: its position, id, version, topic and its
encrypted state. The links sit in `syncnet_chain`, written in the transaction that
appends the facts, and the last one is sealed, with its position, in the head (row 0,
AES-GCM with the store key). So without the store key:
- a changed topic, an edited state, or two states swapped fail their own link;
- a deleted or reordered row breaks the link of the fact after it, or the head;
- a log cut short ends before the position the head names.

A store from before the seal is sealed once, when it is opened (`seal_legacy`); from
then on its store key is wrapped with the chained subject, so that emptying the chain
cannot pass the store off as an old one (store.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from syncnet.storage.keys import decrypt, encrypt

TABLE = "syncnet_chain"
SCHEMA = f"CREATE TABLE IF NOT EXISTS {TABLE} (position INTEGER PRIMARY KEY, link BLOB NOT NULL)"
HEAD = 0  # the row that holds the sealed head
HEAD_AAD = b"syncnet-chain-head"


def chain_key(store_key: bytes) -> bytes:
    return hmac.new(store_key, b"syncnet-chain", hashlib.sha256).digest()


def link(key: bytes, previous: bytes, position: int, originator_id: str, version: int, topic: str,
         state: bytes) -> bytes:  # fmt: skip
    h = hashlib.blake2b(key=key, digest_size=32)
    h.update(previous)
    h.update(f"{position}:{originator_id}:{version}:{topic}\0".encode())
    h.update(state)
    return h.digest()


@dataclass(frozen=True)
class Head:
    position: int  # of the last fact sealed (0: none)
    link: bytes  # its link (b"" when none)


def seal_head(store_key: bytes, head: Head) -> bytes:
    plain = json.dumps({"position": head.position, "link": head.link.hex()}).encode()
    return encrypt(store_key, plain, HEAD_AAD)


def open_head(store_key: bytes, blob: bytes) -> Head:
    """Raises cryptography's InvalidTag (or ValueError) when the head is damaged."""
    data = json.loads(decrypt(store_key, blob, HEAD_AAD))
    return Head(int(data["position"]), bytes.fromhex(data["link"]))


Row = tuple[int, str, int, str, bytes]  # (position, originator id hex, version, topic, state)


def extend(
    cur: sqlite3.Cursor | object, key: bytes, store_key: bytes, head: Head, rows: Sequence[Row],
    mark: str = "?",
) -> Head:  # fmt: skip
    """Links for `rows` (in position order, right after `head`), written with the new head
    through `cur` (a cursor inside the appending transaction; `mark`: its parameter
    marker, "%s" for psycopg's)."""
    links, new = linked(key, head, rows)
    execute = getattr(cur, "executemany")  # noqa: B009  # sqlite3 or the library's cursor
    upsert = "ON CONFLICT (position) DO UPDATE SET link = excluded.link"
    sql = f"INSERT INTO {TABLE} VALUES ({mark}, {mark}) {upsert}"
    execute(sql, [*links, (HEAD, seal_head(store_key, new))])
    return new


def linked(key: bytes, head: Head, rows: Sequence[Row]) -> tuple[list[tuple[int, bytes]], Head]:
    """(position, link) for `rows` (in position order, right after `head`), and the new head."""
    previous = head.link
    links = []
    for position, originator_id, version, topic, state in rows:
        previous = link(key, previous, position, originator_id, version, topic, state)
        links.append((position, previous))
    return links, (Head(rows[-1][0], previous) if rows else head)


def _matches(own: bytes, key: bytes, previous: bytes, *row: Any) -> bool:
    try:
        return hmac.compare_digest(own, link(key, previous, *row))
    except TypeError:  # a value of the wrong kind (text where bytes are stored): edited
        return False


def check(key: bytes, rows: Iterable[Row], links: dict[int, bytes]) -> dict[int, str]:
    """Each row against its own link and the link before it: {position: what is wrong}
    for the rows that fail (a row's link needs the one before it; position 1 has none)."""
    bad: dict[int, str] = {}
    for position, originator_id, version, topic, state in rows:
        own = links.get(position)
        previous = b"" if position == 1 else links.get(position - 1)
        if own is None:
            bad[position] = "it has no seal"
        elif previous is None:
            bad[position] = f"the seal of position {position - 1} is missing"
        elif not _matches(own, key, previous, position, originator_id, version, topic, state):
            bad[position] = "it does not match its seal (edited, moved or swapped)"
    return bad


def seal_legacy(conn: sqlite3.Connection, store_key: bytes) -> None:
    """Seal the log of a store from before the seal (every fact it holds, trusted as
    found), inside the caller's write transaction."""
    conn.execute(SCHEMA)
    rows = conn.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    ).fetchall()
    cur = conn.cursor()
    cur.execute(f"DELETE FROM {TABLE}")
    extend(cur, chain_key(store_key), store_key, Head(0, b""),
           [(int(r[0]), str(r[1]), int(r[2]), str(r[3]), bytes(r[4])) for r in rows])  # fmt: skip
