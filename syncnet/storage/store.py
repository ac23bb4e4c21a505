"""Storage: one SQLite file holding the encrypted event log, the wrapped keys
and the views, plus (beside it) the key file or the passphrase's KDF salt.

`init_store` creates a store; `open_store` opens one and checks the key.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncnet.errors import StoreError, StoreMissing, SyncnetError, WrongKey
from syncnet.storage import keys
from syncnet.storage import rekey as rekeys
from syncnet.storage.db import LOCK_TIMEOUT_S, Location, PgConnection, database_errors
from syncnet.storage.paths import write_private

if TYPE_CHECKING:
    from syncnet.storage.factlog import FactLog

DB_NAME = "store.db"
KEY_FILE = "key"
META_FILE = "store.json"
FORMAT = 1


@dataclass
class OpenStore:
    home: Path
    db_path: Path  # the SQLite file (home/store.db); not there for a store on PostgreSQL
    keyring: keys.KeyRing
    store_key: bytes
    key_mode: str
    _log: FactLog | None = field(default=None, repr=False)
    url: str | None = None  # the PostgreSQL database of a store there (store.json's "database")
    reads: PgConnection | None = field(default=None, repr=False)  # its connection, for our queries

    @property
    def database(self) -> Location:
        """Where the facts, keys, views and state are: the SQLite file or the PostgreSQL URL."""
        return self.url if self.url is not None else self.db_path

    @property
    def log(self) -> FactLog:
        """The fact log, opened on first use (see factlog.py)."""
        if self._log is None:
            from syncnet.storage.factlog import FactLog

            self._log = FactLog(self.database, self.store_key, reads=self.reads)
        return self._log

    def max_position(self) -> int:
        """The notification position of the last stored fact (0 when empty), without the library."""
        from syncnet.storage.factlog import last_position

        return last_position(self.database, self.reads)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
        if self.reads is not None:
            self.reads.close()


@contextmanager
def _connect(db_path: Location) -> Iterator[Any]:
    if isinstance(db_path, str):  # a store on PostgreSQL
        pg = PgConnection(db_path, LOCK_TIMEOUT_S)
        try:
            yield pg
        finally:
            pg.close()
        return
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def _reading(database: Location, reads: PgConnection | None) -> Iterator[Any]:
    """The store's PostgreSQL connection when it has one, else a read-only one for now."""
    if reads is not None:
        yield reads
        return
    with _connect(database) as conn:
        yield conn


def _files(home: Path) -> rekeys.Files:
    return rekeys.Files(db=home / DB_NAME, meta=home / META_FILE, key=home / KEY_FILE)


def _read_meta(home: Path) -> dict[str, Any]:
    # a rekey killed half way: finished, or undone (rekey.py, rekey_pg.py)
    url = database_of(home)
    if url:
        from syncnet.storage import rekey_pg

        rekey_pg.recover(_files(home), url)
    else:
        rekeys.recover(_files(home))
    try:
        meta = json.loads((home / META_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreMissing(f"no syncnet store in {home}: run 'syncnet init' first") from None
    except (OSError, ValueError) as e:
        raise StoreError(f"cannot read {home / META_FILE}: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise StoreError(f"{home / META_FILE}: unknown store format")
    return meta


def key_mode(home: Path) -> str | None:
    """ "file" or "passphrase"; None when there is no readable store."""
    try:
        return str(_read_meta(home).get("key"))
    except SyncnetError:
        return None


def _kek(home: Path, meta: dict[str, Any], passphrase: str | None) -> bytes:
    if meta.get("key") == "passphrase":
        if not passphrase:
            raise WrongKey("this store is protected by a passphrase: set SYNCNET_PASSPHRASE")
        return keys.derive_kek(passphrase, *_kdf_params(home, meta))
    path = home / KEY_FILE
    try:
        kek = base64.b64decode(_read_key_file(path).strip(), validate=True)
    except FileNotFoundError:
        raise WrongKey(f"key file {path} is missing: this store cannot be opened") from None
    except (OSError, ValueError):
        raise WrongKey(f"key file {path} is not a syncnet key") from None
    if len(kek) != keys.KEY_BYTES:
        raise WrongKey(f"key file {path} is not a syncnet key")
    return kek


# What scrypt's parameters may be in a store.json: syncnet writes n = 2**15, r = 8, p = 1.
# Bounded before scrypt runs: an edited file must not make it take minutes or all memory.
KDF_LIMITS = {"n": (2**10, 2**20), "r": (1, 32), "p": (1, 16)}
KDF_MEMORY = 2**28  # bytes scrypt may take (128 * n * r): syncnet's own take 32 MiB


def _kdf_params(home: Path, meta: dict[str, Any]) -> tuple[bytes, int, int, int]:
    """(salt, n, r, p) of a passphrase store, checked; StoreError when store.json's are
    missing or out of range (the file was edited or damaged)."""
    damaged = StoreError(f"{home / META_FILE} is damaged: its key-derivation parameters are missing or "
                         "out of range (restore it from a backup)")  # fmt: skip
    kdf = meta.get("kdf")
    if not isinstance(kdf, dict) or not isinstance(kdf.get("salt"), str):
        raise damaged
    try:
        salt = base64.b64decode(kdf["salt"], validate=True)
    except ValueError:
        raise damaged from None
    values: list[int] = []
    for name, (low, high) in KDF_LIMITS.items():
        value = kdf.get(name)
        if type(value) is not int or not low <= value <= high:
            raise damaged
        values.append(value)
    n, r, p = values
    if n & (n - 1) or len(salt) < 8 or 128 * n * r > KDF_MEMORY:  # n: a power of two
        raise damaged
    return salt, n, r, p


def _open_to(mode: int) -> str:
    """Who else may use a file of this mode, in words ("readable by group and others")."""
    can = [verb for verb, bits in (("readable", 0o044), ("writable", 0o022), ("executable", 0o011))
           if mode & bits]  # fmt: skip
    who = [name for name, bits in (("group", 0o070), ("others", 0o007)) if mode & bits]
    return f"{' and '.join(can)} by {' and '.join(who)}"


def _read_key_file(path: Path) -> str:
    """The key file's text, refused (like ssh refuses a private key) when its group or
    others may use it: a key others could read is no longer a secret, and one they could
    write could be swapped. The mode is read from the open file, so it is the mode of
    what is read."""
    fd = os.open(path, os.O_RDONLY)
    with os.fdopen(fd, "r", encoding="ascii") as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode) and mode & 0o077:
            raise WrongKey(f"key file {path} is {_open_to(mode)} (mode {stat.S_IMODE(mode):04o}): "
                           f"run 'chmod 600 {shlex.quote(str(path))}'")  # fmt: skip
        return f.read()


def _tighten_home(home: Path) -> None:
    """The data directory accessible to its owner only (0700): it was made so when
    created; an existing one, with its group or others allowed in, is tightened."""
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        os.chmod(home, mode & 0o700)


def store_exists(home: Path) -> bool:
    if not (home / META_FILE).exists():
        return False
    return (home / DB_NAME).exists() or bool(database_of(home))


def database_of(home: Path) -> str | None:
    """The PostgreSQL URL of the store in `home`, None when it is on SQLite (or missing)."""
    try:
        meta = json.loads((home / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = meta.get("database") if isinstance(meta, dict) else None
    return found if isinstance(found, str) and found else None


def init_store(home: Path, passphrase: str | None = None, database: str | None = None) -> tuple[bool, str]:
    """Create a store; returns (created, key mode). Never touches an existing one.
    `database`: a PostgreSQL URL to keep the store in, instead of home/store.db (the
    key file or the passphrase's salt stay in `home`: the server sees ciphertext only)."""
    if (home / META_FILE).exists() and not store_exists(home):  # store.json is written last: not a new home
        raise StoreError(f"{home} holds a store whose database {home / DB_NAME} is missing: 'syncnet init' "
                         "would make another under its key; restore the store from a backup instead")
    if store_exists(home):
        mode = str(_read_meta(home).get("key"))
        if mode == "file":
            with suppress(OSError):  # missing or unreadable: the commands that open the store say so
                _read_key_file(home / KEY_FILE)  # a key open to others is refused here too
        return False, mode
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:  # a file where the directory should be, a name too long
        raise StoreError(f"cannot create the data directory {home}: {e.strerror or e}") from None
    _tighten_home(home)  # before anything is written in it
    meta: dict[str, Any] = {"format": FORMAT}
    key_existed = True
    if passphrase:
        salt = os.urandom(16)
        meta["key"] = "passphrase"
        meta["kdf"] = {
            "name": "scrypt",
            "salt": base64.b64encode(salt).decode(),
            **keys.SCRYPT_PARAMS,
        }
        kek = keys.derive_kek(passphrase, salt, **keys.SCRYPT_PARAMS)
    else:
        meta["key"] = "file"
        key_path = home / KEY_FILE
        key_existed = key_path.exists()
        if key_path.exists():  # left by an interrupted init: key material is never replaced
            kek = _kek(home, meta, None)
        else:
            kek = keys.random_key()
            write_private(key_path, base64.b64encode(kek).decode("ascii") + "\n")
    if database:
        try:
            _init_postgres(database, kek)
        except BaseException:
            if meta["key"] == "file" and not key_existed:
                (home / KEY_FILE).unlink(missing_ok=True)  # made for this store, which was not made
            raise
        meta["database"] = database
        meta_tmp = home / (META_FILE + ".init")
        meta_tmp.unlink(missing_ok=True)
        write_private(meta_tmp, json.dumps(meta, indent=2) + "\n")
        os.replace(meta_tmp, home / META_FILE)
        return True, meta["key"]
    # Build the database under a temporary name, then rename: a crash leaves no half store.
    tmp = home / (DB_NAME + ".init")
    for leftover in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        leftover.unlink(missing_ok=True)
    store_key = keys.random_key()
    from syncnet.storage.factlog import FactLog

    # Created 0600 before SQLite opens it (an empty file is an empty database), so that it
    # is never open to others, whatever the umask; SQLite gives the -wal and -shm files
    # the database's mode.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    FactLog(tmp, store_key).close()  # creates the library's tables and syncnet_keys
    conn = sqlite3.connect(tmp)
    with conn:
        conn.execute(
            "INSERT INTO syncnet_keys VALUES (?, ?, ?)",
            (keys.STORE_SUBJECT, "store", keys.wrap(kek, keys.SEALED_STORE, store_key)),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")  # fold the WAL in before the rename
    conn.close()
    meta_tmp = home / (META_FILE + ".init")
    meta_tmp.unlink(missing_ok=True)  # left by an interrupted init, with whatever mode
    write_private(meta_tmp, json.dumps(meta, indent=2) + "\n")  # 0600, whatever the umask
    os.replace(tmp, home / DB_NAME)
    os.replace(meta_tmp, home / META_FILE)
    return True, meta["key"]


def _init_postgres(url: str, kek: bytes) -> None:
    """The tables of a store in the PostgreSQL database at `url` and its store key, unless
    the database holds a store already (refused: its key is another home's)."""
    from syncnet.storage.factlog import FactLog

    store_key = keys.random_key()
    FactLog(url, store_key, create=True).close()  # the library's tables, syncnet_keys and the seal's
    with _connect(url) as conn:
        row = conn.execute(
            "INSERT INTO syncnet_keys VALUES (?, 'store', ?) ON CONFLICT DO NOTHING RETURNING subject",
            (keys.STORE_SUBJECT, keys.wrap(kek, keys.SEALED_STORE, store_key)),
        ).fetchone()
    if row is None:
        raise StoreError("that PostgreSQL database holds a syncnet store already: use the home that "
                         "created it (its store.json and key file), or another database")  # fmt: skip


def _seal_legacy(db_path: Path, kek: bytes, store_key: bytes) -> None:
    """Seal the log of a store from before the seal, once, and wrap its store key for
    the sealed subject, in one transaction (chain.py)."""
    from syncnet.storage import chain
    from syncnet.storage.db import connect, immediate

    conn = connect(db_path, LOCK_TIMEOUT_S)
    try:
        with immediate(conn):
            wrapped = conn.execute(
                "SELECT wrapped FROM syncnet_keys WHERE subject = ?", (keys.STORE_SUBJECT,)
            ).fetchone()[0]
            try:
                keys.unwrap(kek, keys.SEALED_STORE, wrapped)
                return  # sealed meanwhile by another process
            except WrongKey:
                pass
            chain.seal_legacy(conn, store_key)
            conn.execute("UPDATE syncnet_keys SET wrapped = ? WHERE subject = ?",
                         (keys.wrap(kek, keys.SEALED_STORE, store_key), keys.STORE_SUBJECT))  # fmt: skip
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{db_path} could not be upgraded (the seal of its log): {e}") from None
    finally:
        conn.close()


def open_store(home: Path, passphrase: str | None = None) -> OpenStore:
    meta = _read_meta(home)
    db_path = home / DB_NAME
    url = meta.get("database") or None
    if url is None and not db_path.exists():  # its key and store.json are here: not a new home
        raise StoreError(f"the store's database {db_path} is missing (its key and store.json are there): "
                         "restore it from a backup ('syncnet restore FILE' into a new data directory)")
    database: Location = str(url) if url else db_path
    kek = _kek(home, meta, passphrase)
    reads = PgConnection(str(url), LOCK_TIMEOUT_S) if url else None  # one connection for our reads
    try:
        with _reading(database, reads) as conn:
            row = conn.execute(
                "SELECT wrapped, kind FROM syncnet_keys WHERE subject = ?", (keys.STORE_SUBJECT,)
            ).fetchone()
    except database_errors() as e:
        where = "the store's PostgreSQL database" if url else db_path
        reason = " ".join(str(e).split())[:200]
        raise StoreError(f"{where} is not a readable syncnet store: {reason}") from None
    if row is None:
        raise StoreError(f"{db_path} has no store key: the store is damaged")
    if row[1] == rekeys.RETIRED:  # opened while a rekey switched the files
        raise StoreError("the store was rekeyed while this command started: run it again")
    try:
        store_key = keys.unwrap(kek, keys.SEALED_STORE, row[0])
    except WrongKey:  # a store from before the seal of the log, or a wrong key
        store_key = keys.unwrap(kek, keys.STORE_SUBJECT, row[0])  # raises WrongKey
        if url:
            raise
        _seal_legacy(db_path, kek, store_key)

    def load_wrapped() -> dict[str, bytes]:
        with _reading(database, reads) as conn:
            rows = conn.execute("SELECT subject, wrapped FROM syncnet_keys WHERE kind != 'store'")
            # a value that is not bytes (edited in as text) is a key that does not open
            return {s: bytes(w) if isinstance(w, bytes | memoryview) else b"\x00damaged" for s, w in rows}

    return OpenStore(
        home=home,
        db_path=db_path,
        keyring=keys.KeyRing(kek, load_wrapped),
        store_key=store_key,
        key_mode=str(meta["key"]),
        url=str(url) if url else None,
        reads=reads,
    )


def rekey_store(home: Path, passphrase: str | None, new_passphrase: str | None,
                progress: Callable[[int], None] | None = None) -> tuple[rekeys.Rekeyed, str]:  # fmt: skip
    """Re-encrypt the store in `home` under a new key (rekey.py): a new passphrase when
    `new_passphrase` is given, else a new random key file. Returns what was re-encrypted
    and the new key mode. The store must open with `passphrase` (or its key file)."""
    open_store(home, passphrase).close()  # the old key opens it (and an old log is sealed)
    meta = _read_meta(home)
    old_kek = _kek(home, meta, passphrase)
    new_meta = {k: v for k, v in meta.items() if k not in ("key", "kdf")}
    new_key_file = None
    if new_passphrase:
        salt = os.urandom(16)
        new_meta["key"] = "passphrase"
        new_meta["kdf"] = {"name": "scrypt", "salt": base64.b64encode(salt).decode(), **keys.SCRYPT_PARAMS}
        new_kek = keys.derive_kek(new_passphrase, salt, **keys.SCRYPT_PARAMS)
    else:
        new_meta["key"] = "file"
        new_kek = keys.random_key()
        new_key_file = base64.b64encode(new_kek).decode("ascii") + "\n"
    url = database_of(home)
    if url:
        from syncnet.storage import rekey_pg

        done = rekey_pg.rekey(_files(home), url, old_kek, new_kek, json.dumps(new_meta, indent=2) + "\n",
                              new_key_file, progress)  # fmt: skip
        return done, str(new_meta["key"])
    done = rekeys.rekey(_files(home), old_kek, new_kek, json.dumps(new_meta, indent=2) + "\n", new_key_file,
                        progress)  # fmt: skip
    return done, str(new_meta["key"])
