"""The whole store under a new key (`syncnet rekey`), and the way back from a killed one.

What changes: a new key-encryption key (a new key file, or a passphrase with a new salt)
and a new store key. Every fact's encrypted state is decrypted and encrypted again and
the log sealed again (chain.py); every data key is wrapped with the new key-encryption
key (the data keys stay: what they seal sits inside facts and rows that the new store
key encrypts); every sync state value is encrypted again. The views are not copied:
they are derived, and the next open rebuilds them from the log. Afterwards the old key
opens nothing in the store: not its store key, not one data key.

The new database is built beside the old one (store.db.rekey), with the new key file
(key.rekey) and store.json.rekey. The switch is one SQLite commit in the old database,
which marks its store key "rekeyed": before it, the old store is the store; after it,
the new one is, and the files are renamed in. `recover`, run before any store is read,
finishes a switch that was committed and removes what an uncommitted one left.

The rekey holds the store to itself: it starts only when no other connection has the
database open (leaving WAL mode needs that), then holds an exclusive lock; commands
started meanwhile are told a rekey is running.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag

from syncnet.errors import StoreError, WrongKey
from syncnet.storage import chain, keys
from syncnet.storage.library import EVENTS_TABLE, restorer
from syncnet.storage.paths import fsync_dir, write_private

SUFFIX = ".rekey"
LOCK = "rekey.lock"  # held (flock) while a rekey or a recovery runs
RETIRED = "rekeyed"  # the kind of the old database's store key once the switch is committed
PAGE = 2000
STORE_KEY_SQL = "SELECT {} FROM syncnet_keys WHERE subject = ?"


@dataclass(frozen=True)
class Files:
    db: Path
    meta: Path
    key: Path  # the key file (absent in a passphrase store)

    def new(self, path: Path) -> Path:
        return path.with_name(path.name + SUFFIX)

    def leftovers(self) -> list[Path]:
        """The files a rekey writes beside the store, store.json.rekey first: it is what says
        a switch was prepared, so it goes first when they are removed (recover)."""
        return [p for p in (self.new(self.meta), self.new(self.db), self.new(self.key),
                            Path(str(self.new(self.db)) + "-journal")) if _exists(p)]  # fmt: skip


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system: no such file was ever written
        return False


@dataclass(frozen=True)
class Rekeyed:
    facts: int
    keys: int  # data keys wrapped again (tombstones of forgotten contacts stay as they are)
    state: int  # sync state values encrypted again
    state_dropped: list[tuple[str, str]]  # (scope, key) of values that no longer opened


@contextmanager
def _locked(home: Path, wait: bool) -> Iterator[None]:
    """The rekey lock (a flock on LOCK), removed by its holder when done. A lock taken on a
    file removed meanwhile is no lock: taken again on the file now there."""
    path = home / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            raise StoreError("the store is being rekeyed by another process: run the command again "
                             "when it has finished") from None  # fmt: skip
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # while it is held: nobody holds a lock on a removed file
        os.close(fd)


def recover(files: Files) -> None:
    """Finish a committed rekey, or remove what an uncommitted one left; nothing when no
    rekey was interrupted (one stat per file)."""
    if not files.leftovers():
        return
    try:
        with _locked(files.db.parent, wait=False):
            _recover(files)
    except OSError as e:
        raise StoreError(f"an interrupted rekey could not be finished in {files.db.parent}: "
                         f"{e.strerror or e}") from None  # fmt: skip


def _recover(files: Files) -> None:
    new_db, new_meta, new_key = files.new(files.db), files.new(files.meta), files.new(files.key)
    if new_db.exists() and not _retired(files.db):
        for path in files.leftovers():  # never committed: the old store is the store
            path.unlink()
        return
    if new_meta.exists():  # committed: the new files take the old ones' places
        if new_db.exists():
            os.replace(new_db, files.db)
        if new_key.exists():
            os.replace(new_key, files.key)
        elif _key_mode(new_meta) == "passphrase":
            files.key.unlink(missing_ok=True)  # the old key file opens nothing any more
        os.replace(new_meta, files.meta)
        fsync_dir(files.db.parent)
    for path in files.leftovers():  # a key.rekey without the rest: a rekey killed early
        path.unlink()


def _key_mode(meta: Path) -> str | None:
    import json

    try:
        return str(json.loads(meta.read_text(encoding="utf-8")).get("key"))
    except (OSError, ValueError, AttributeError):
        return None


def _retired(db: Path) -> bool:
    """Whether the old database's switch was committed (its store key marked retired).
    Opening it read-write lets SQLite roll back a transaction the kill left in its journal."""
    if not db.exists():
        return False
    conn = sqlite3.connect(db, timeout=5)
    try:
        row = conn.execute(STORE_KEY_SQL.format("kind"), (keys.STORE_SUBJECT,)).fetchone()
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):  # held by a rekey: never taken for undone
            raise StoreError("the store is busy (a rekey may be switching it): run the command "
                             "again") from None  # fmt: skip
        return False
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    return row is not None and row[0] == RETIRED


def _alone(db: Path) -> sqlite3.Connection:
    """A connection that holds the database to itself: out of WAL mode (refused by SQLite
    while another connection has it open) and inside an exclusive transaction."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=2)
    try:
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise sqlite3.OperationalError("database is locked")
        conn.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as e:
        conn.close()
        if "locked" in str(e) or "busy" in str(e):
            raise StoreError("another process has the store open (the daemon, the feed server, a "
                             "command): stop it and run 'syncnet rekey' again") from None  # fmt: skip
        raise StoreError(f"{db} cannot be rekeyed: {e}") from None
    return conn


def rekey(files: Files, old_kek: bytes, new_kek: bytes, new_meta: str, new_key_file: str | None,
          progress: Callable[[int], None] | None = None) -> Rekeyed:  # fmt: skip
    """Re-encrypt the store of `files` from `old_kek` to `new_kek`; `new_meta` is the new
    store.json, `new_key_file` the new key file's text (None: a passphrase store)."""
    home = files.db.parent
    with _locked(home, wait=False):
        _recover(files)
        old = _alone(files.db)
        try:
            new_db = files.new(files.db)
            try:
                done = _build(old, new_db, old_kek, new_kek, progress)
                if new_key_file is not None:
                    _write_private(files.new(files.key), new_key_file)
                _write_private(files.new(files.meta), new_meta)
                fsync_dir(home)
            except BaseException:
                for path in files.leftovers():
                    path.unlink()
                raise
            # The switch: from this commit on, the new files are the store (see recover).
            old.execute("UPDATE syncnet_keys SET kind = ? WHERE subject = ?", (RETIRED, keys.STORE_SUBJECT))
            old.execute("COMMIT")
        finally:
            old.close()
        try:
            _recover(files)
        except OSError as e:
            raise StoreError(f"the store was rekeyed, but its new files could not all be renamed in "
                             f"({e.strerror or e}): the next command finishes it") from None  # fmt: skip
    return done


def _write_private(path: Path, data: str) -> None:
    path.unlink(missing_ok=True)  # what a killed rekey left: written anew
    write_private(path, data)


def _build(old: sqlite3.Connection, path: Path, old_kek: bytes, new_kek: bytes,
           progress: Callable[[int], None] | None) -> Rekeyed:  # fmt: skip
    """The new database at `path`, from `old` (in its exclusive transaction)."""
    store_row = old.execute(STORE_KEY_SQL.format("wrapped"), (keys.STORE_SUBJECT,)).fetchone()
    if store_row is None:
        raise StoreError("the store has no store key: it is damaged")
    old_key = keys.unwrap(old_kek, keys.SEALED_STORE, bytes(store_row[0]))
    new_key = keys.random_key()
    for leftover in (path, Path(str(path) + "-journal")):
        leftover.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # 0600 before SQLite opens it
    new = sqlite3.connect(path, isolation_level=None)
    try:
        new.execute("BEGIN")
        schema = old.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                             "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'").fetchall()  # fmt: skip
        for (sql,) in schema:
            new.execute(sql)
        facts = _copy_facts(old, new, old_key, new_key, progress)
        wrapped = _copy_keys(old, new, old_kek, new_kek, new_key)
        state, dropped = _copy_state(old, new, old_key, new_key)
        new.execute("COMMIT")
    finally:
        new.close()
    return Rekeyed(facts, wrapped, state, dropped)


def _copy_facts(old: sqlite3.Connection, new: sqlite3.Connection, old_key: bytes, new_key: bytes,
                progress: Callable[[int], None] | None) -> int:  # fmt: skip
    """Every fact, checked against the old seal (a damaged store is refused: a new seal
    over it would hide the damage) and sealed again under the new key."""
    old_chain, new_chain = chain.chain_key(old_key), chain.chain_key(new_key)
    restore = restorer(old_key, new_key)
    head = chain.Head(0, b"")
    previous, position, count = b"", 0, 0
    while True:
        rows = old.execute(
            f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, c.link "
            f"FROM {EVENTS_TABLE} e LEFT JOIN {chain.TABLE} c ON c.position = e.rowid "
            "WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?", (position, PAGE)).fetchall()  # fmt: skip
        if not rows:
            break
        copied = []
        for rowid, originator_id, version, topic, state, link in rows:
            expected = chain.link(old_chain, previous, rowid, originator_id, version, topic, bytes(state))
            if link is None or bytes(link) != expected:
                raise StoreError(f"the fact at position {rowid} does not match the seal of the log: rekey "
                                 "refuses to seal damage over (run 'syncnet verify')")  # fmt: skip
            try:
                new_topic, new_state = restore(originator_id, version, topic, bytes(state))
            except Exception as e:  # sealed, yet unreadable (decryption, decompression, decoding)
                why = type(e).__name__
                raise StoreError(f"the fact at position {rowid} cannot be decrypted or decoded ({why}): "
                                 "rekey refuses (run 'syncnet verify')") from None  # fmt: skip
            previous = expected
            copied.append((rowid, originator_id, version, new_topic, new_state))
        new.executemany(f"INSERT INTO {EVENTS_TABLE} (rowid, originator_id, originator_version, topic, "
                        "state) VALUES (?, ?, ?, ?, ?)", copied)  # fmt: skip
        head = chain.extend(new, new_chain, new_key, head, copied)
        position = rows[-1][0]
        count += len(rows)
        if progress:
            progress(count)
    _check_head(old, old_key, position, previous)
    return count


def _check_head(old: sqlite3.Connection, old_key: bytes, last: int, link: bytes) -> None:
    row = old.execute(f"SELECT link FROM {chain.TABLE} WHERE position = ?", (chain.HEAD,)).fetchone()
    if row is None and last == 0:
        return  # no fact yet
    try:
        head = None if row is None else chain.open_head(old_key, bytes(row[0]))
    except (InvalidTag, ValueError):
        head = None
    if head is None or head.position != last or head.link != link:
        raise StoreError("the log does not end where its seal says: rekey refuses to seal damage over "
                         "(run 'syncnet verify')")  # fmt: skip


def _copy_keys(old: sqlite3.Connection, new: sqlite3.Connection, old_kek: bytes, new_kek: bytes,
               new_store_key: bytes) -> int:  # fmt: skip
    rows = []
    for subject, kind, wrapped in old.execute("SELECT subject, kind, wrapped FROM syncnet_keys"):
        if subject == keys.STORE_SUBJECT:
            rows.append((subject, "store", keys.wrap(new_kek, keys.SEALED_STORE, new_store_key)))
        elif not wrapped or bytes(wrapped) == keys.PRIVATE_MARK:  # a forgotten contact's tombstone,
            rows.append((subject, kind, bytes(wrapped)))  # or another device's private notes: no key
        else:
            try:
                key = keys.unwrap(old_kek, subject, bytes(wrapped))
            except WrongKey:
                raise StoreError(f"the data key of {subject[:8]} is damaged: rekey refuses "
                                 "(run 'syncnet verify')") from None  # fmt: skip
            rows.append((subject, kind, keys.wrap(new_kek, subject, key)))
    new.executemany("INSERT INTO syncnet_keys VALUES (?, ?, ?)", rows)
    return sum(1 for _, kind, wrapped in rows if kind != "store" and wrapped)


def _copy_state(old: sqlite3.Connection, new: sqlite3.Connection, old_key: bytes,
                new_key: bytes) -> tuple[int, list[tuple[str, str]]]:  # fmt: skip
    """Each sync state value encrypted again; one that no longer opens is dropped (a sync
    rebuilds it), as `syncnet repair` would."""
    if not old.execute("SELECT 1 FROM sqlite_master WHERE name = 'syncnet_state'").fetchone():
        return 0, []
    rows, dropped = [], []
    for scope, key, blob in old.execute("SELECT scope, key, data FROM syncnet_state"):
        aad = f"{scope}:{key}".encode()
        try:
            plain = keys.decrypt(old_key, bytes(blob), aad)
        except (InvalidTag, ValueError):
            dropped.append((str(scope), str(key)))
            continue
        rows.append((scope, key, keys.encrypt(new_key, plain, aad)))
    new.executemany("INSERT INTO syncnet_state VALUES (?, ?, ?)", rows)
    if old.execute("SELECT 1 FROM sqlite_master WHERE name = 'syncnet_recorded_by'").fetchone():
        from syncnet.storage.statestore import RECORDED_BY

        new.execute(RECORDED_BY)  # who recorded which fact: no secret in it, copied as it is
        new.executemany("INSERT INTO syncnet_recorded_by VALUES (?, ?)",
                        old.execute("SELECT fact, member FROM syncnet_recorded_by").fetchall())  # fmt: skip
    return len(rows), dropped
