"""`syncnet rekey` of a store kept in PostgreSQL (rekey.py does the SQLite file's).

The new key file and store.json are written beside the old ones first (`*.rekey`); then
one PostgreSQL transaction, holding every table of the store exclusively, checks every
fact against the old seal, stores it again under the new store key (its type sealed
inside it, as rekey.py does), seals the log again, wraps every data key again, encrypts
every state value again, empties the views (rebuilt at the next command) and records a
marker: the hash of the new store.json. The commit is the switch. `recover` (run before
any command opens the store) renames the new files into place when the marker matches
them, and removes them when it does not: a rekey killed at any moment leaves the old key
opening the old store, or the new key the new one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag

from syncnet.errors import StoreError, WrongKey
from syncnet.storage import chain, keys
from syncnet.storage.factlog import EVENTS as EVENTS_TABLE
from syncnet.storage.paths import fsync_dir, write_private
from syncnet.storage.rekey import Files, Rekeyed

MARKER = "syncnet_rekey"  # a table of one row: the hash of the store.json being switched to
TABLES = (EVENTS_TABLE, "syncnet_keys", "syncnet_chain", "syncnet_state", "syncnet_recorded_by",
          "syncnet_views", "syncnet_view_index", "syncnet_name_index", "syncnet_view_tracking")  # fmt: skip


def _digest(meta_text: str) -> bytes:
    return hashlib.sha256(meta_text.encode("utf-8")).digest()


def recover(files: Files, url: str) -> None:
    """Finish a committed rekey (the marker in the database names the new store.json), or
    remove what an uncommitted one left."""
    import psycopg

    new_meta, new_key = files.new(files.meta), files.new(files.key)
    if not new_meta.exists() and not new_key.exists():
        return
    committed = False
    if new_meta.exists():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                found = conn.execute("SELECT to_regclass(%s)", (MARKER,)).fetchone()
                if found is not None and found[0] is not None:
                    row = conn.execute(f"SELECT digest FROM {MARKER}").fetchone()
                    committed = row is not None and bytes(row[0]) == _digest(new_meta.read_text("utf-8"))
        except psycopg.Error as e:
            raise StoreError(f"an interrupted rekey cannot be checked: the store's database: {e}") from None
    if committed:
        if new_key.exists():
            os.replace(new_key, files.key)
        else:
            files.key.unlink(missing_ok=True)  # a passphrase now: the old key file opens nothing
        os.replace(new_meta, files.meta)
        fsync_dir(files.meta.parent)
        _drop_marker(url)
        return
    new_meta.unlink(missing_ok=True)  # store.json.rekey first: it says a switch was prepared
    new_key.unlink(missing_ok=True)


def _drop_marker(url: str) -> None:
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {MARKER}")
    except psycopg.Error:
        pass  # left for the next rekey to replace: it names a store.json that is in place


def rekey(files: Files, url: str, old_kek: bytes, new_kek: bytes, new_meta: str, new_key_file: str | None,
          progress: Callable[[int], None] | None = None) -> Rekeyed:  # fmt: skip
    """Re-encrypt the store in the PostgreSQL database at `url` from `old_kek` to
    `new_kek` (module doc). Refused while another process is connected to the database."""
    import psycopg

    from syncnet.storage.library import restorer

    recover(files, url)
    if new_key_file is not None:
        write_private(files.new(files.key), new_key_file)
    write_private(files.new(files.meta), new_meta)
    fsync_dir(files.meta.parent)
    try:
        with psycopg.connect(url) as conn:  # one transaction: the commit is the switch
            others = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND pid <> pg_backend_pid()").fetchone()  # fmt: skip
            if others is not None and others[0]:
                raise StoreError("the store is in use by another process (the daemon, the feed server?): "
                                 "stop it, then run 'syncnet rekey' again")  # fmt: skip
            present = [t for t in TABLES if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0]]  # type: ignore[index]
            conn.execute(f"LOCK TABLE {', '.join(present)} IN ACCESS EXCLUSIVE MODE")
            done = _reencrypt(conn, old_kek, new_kek, restorer, progress)
            conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (digest bytea NOT NULL)")
            conn.execute(f"DELETE FROM {MARKER}")
            conn.execute(f"INSERT INTO {MARKER} VALUES (%s)", (_digest(new_meta),))
    except BaseException:
        for path in (files.new(files.meta), files.new(files.key)):
            path.unlink(missing_ok=True)
        raise
    recover(files, url)
    return done


def _reencrypt(conn: Any, old_kek: bytes, new_kek: bytes, restorer: Callable[..., Any],
               progress: Callable[[int], None] | None) -> Rekeyed:  # fmt: skip
    sql = "SELECT wrapped FROM syncnet_keys WHERE subject = %s"
    row = conn.execute(sql, (keys.STORE_SUBJECT,)).fetchone()
    if row is None:
        raise StoreError("the store has no store key: it is damaged")
    old_key = keys.unwrap(old_kek, keys.SEALED_STORE, bytes(row[0]))
    new_key = keys.random_key()
    facts = [(int(n), oid, int(v), str(t), bytes(s)) for n, oid, v, t, s in conn.execute(
        f"SELECT notification_id, originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
        "ORDER BY notification_id").fetchall()]  # fmt: skip
    # Checked against the old seal first: sealing a damaged log again would hide the damage.
    links = {int(p): bytes(link) for p, link in conn.execute("SELECT position, link FROM syncnet_chain")}
    rows = [(n, oid.hex, v, t, s) for n, oid, v, t, s in facts]
    bad = chain.check(chain.chain_key(old_key), rows, links)
    try:
        head = chain.open_head(old_key, links[chain.HEAD]) if chain.HEAD in links else chain.Head(0, b"")
    except (InvalidTag, ValueError):
        head = None
    last = facts[-1][0] if facts else 0
    if bad or head is None or head.position != last or [f[0] for f in facts] != list(range(1, last + 1)):
        raise StoreError("the store is damaged ('syncnet verify' says where): rekey refuses, as a new seal "
                         "would hide the damage")  # fmt: skip
    restore = restorer(old_key, new_key)
    new_rows = []
    for i, (n, oid, v, t, s) in enumerate(facts, 1):
        topic, state = restore(oid.hex, v, t, s)
        new_rows.append((n, oid, v, topic, state))
        if progress and i % 1000 == 0:
            progress(i)
    conn.execute(f"DELETE FROM {EVENTS_TABLE}")
    with conn.cursor().copy(f"COPY {EVENTS_TABLE} (notification_id, originator_id, originator_version, "
                            "topic, state) FROM STDIN (FORMAT BINARY)") as copy:  # fmt: skip
        copy.set_types(["int8", "uuid", "int8", "text", "bytea"])
        for r in new_rows:
            copy.write_row(r)
    new_links, new_head = chain.linked(chain.chain_key(new_key), chain.Head(0, b""),
                                       [(n, oid.hex, v, t, s) for n, oid, v, t, s in new_rows])  # fmt: skip
    conn.execute("DELETE FROM syncnet_chain")
    with conn.cursor().copy("COPY syncnet_chain (position, link) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "bytea"])
        for p, link in [*new_links, (chain.HEAD, chain.seal_head(new_key, new_head))]:
            copy.write_row((p, link))
    # every data key wrapped again (tombstones and other devices' private rows hold none)
    rewrapped = 0
    for subject, wrapped in conn.execute("SELECT subject, wrapped FROM syncnet_keys").fetchall():
        wrapped = bytes(wrapped)
        if subject == keys.STORE_SUBJECT:
            new = keys.wrap(new_kek, keys.SEALED_STORE, new_key)
        elif not wrapped or wrapped == keys.PRIVATE_MARK:
            continue
        else:
            try:
                new = keys.wrap(new_kek, subject, keys.unwrap(old_kek, subject, wrapped))
            except WrongKey:
                raise StoreError(f"the data key of {subject[:8]} is damaged: rekey refuses "
                                 "(run 'syncnet verify')") from None  # fmt: skip
            rewrapped += 1
        conn.execute("UPDATE syncnet_keys SET wrapped = %s WHERE subject = %s", (new, subject))
    # every state value encrypted again; one that no longer opens is dropped (rebuilt)
    state, dropped = 0, []
    if conn.execute("SELECT to_regclass('syncnet_state')").fetchone()[0]:
        for scope, key, blob in conn.execute("SELECT scope, key, data FROM syncnet_state").fetchall():
            aad = f"{scope}:{key}".encode()
            try:
                plain = keys.decrypt(old_key, bytes(blob), aad)
            except (InvalidTag, ValueError):
                dropped.append((str(scope), str(key)))
                conn.execute("DELETE FROM syncnet_state WHERE scope = %s AND key = %s", (scope, key))
                continue
            conn.execute("UPDATE syncnet_state SET data = %s WHERE scope = %s AND key = %s",
                         (keys.encrypt(new_key, plain, aad), scope, key))  # fmt: skip
            state += 1
    for table in ("syncnet_views", "syncnet_view_index", "syncnet_name_index", "syncnet_view_tracking"):
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
            conn.execute(f"DELETE FROM {table}")  # sealed with the old key: rebuilt from the log
    return Rekeyed(len(facts), rewrapped, state, dropped)
