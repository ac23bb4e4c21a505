"""Storage: one SQLite file holding the encrypted event log, the wrapped keys
and the views, plus (beside it) the key file or the passphrase's KDF salt.

`init_store` creates a store; `open_store` opens one and checks the key.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import Environment, EnvType

from . import keys
from .errors import StoreMissing, SyncnetError, WrongKey
from .sealed import DateAsISO, SealedAsText

DB_NAME = "store.db"
KEY_FILE = "key"
META_FILE = "store.json"
FORMAT = 1
LOCK_TIMEOUT_S = 30


class SyncnetRecorder(SQLiteApplicationRecorder):
    """The library's recorder, plus a table of wrapped keys written in the same
    transaction as the events that need them (`save(..., wrapped_keys=[...])`)."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS syncnet_keys ("
            "subject TEXT PRIMARY KEY, kind TEXT NOT NULL, wrapped BLOB NOT NULL) WITHOUT ROWID",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        wrapped_keys = kwargs.get("wrapped_keys")
        if wrapped_keys:
            c.executemany("INSERT INTO syncnet_keys VALUES (?, ?, ?)", wrapped_keys)
        return super()._insert_events(c, stored_events, **kwargs)


class FactLog(Application[UUID]):
    """The eventsourcing application: facts are saved as events, never loaded
    as aggregates (each fact is a stream of one event)."""

    name = "syncnet"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Unlike the library default, ignore os.environ: a stray CIPHER_KEY or
        # SQLITE_DBNAME in the user's shell must not change where or how we store.
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(SealedAsText())


def _fact_log(db_path: Path, store_key: bytes) -> FactLog:
    return FactLog(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(db_path),
            "SQLITE_LOCK_TIMEOUT": str(LOCK_TIMEOUT_S),
            "APPLICATION_RECORDER_TOPIC": "syncnet.store:SyncnetRecorder",
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": base64.b64encode(store_key).decode("ascii"),
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    )


@dataclass
class OpenStore:
    home: Path
    db_path: Path
    log: FactLog
    keyring: keys.KeyRing
    store_key: bytes
    key_mode: str

    def close(self) -> None:
        self.log.close()


def _read_meta(home: Path) -> dict[str, Any]:
    try:
        meta = json.loads((home / META_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreMissing(f"no syncnet store in {home}: run 'syncnet init' first") from None
    except (OSError, ValueError) as e:
        raise SyncnetError(f"cannot read {home / META_FILE}: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SyncnetError(f"{home / META_FILE}: unknown store format")
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
        kdf = meta["kdf"]
        salt = base64.b64decode(kdf["salt"])
        return keys.derive_kek(passphrase, salt, int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
    path = home / KEY_FILE
    try:
        kek = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except FileNotFoundError:
        raise WrongKey(f"key file {path} is missing: this store cannot be opened") from None
    except (OSError, ValueError):
        raise WrongKey(f"key file {path} is not a syncnet key") from None
    if len(kek) != keys.KEY_BYTES:
        raise WrongKey(f"key file {path} is not a syncnet key")
    return kek


def _write_private(path: Path, data: str) -> None:
    """Create a file readable by the owner only; never overwrite one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def store_exists(home: Path) -> bool:
    return (home / META_FILE).exists() and (home / DB_NAME).exists()


def init_store(home: Path, passphrase: str | None = None) -> tuple[bool, str]:
    """Create a store; returns (created, key mode). Never touches an existing one."""
    if store_exists(home):
        return False, str(_read_meta(home).get("key"))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    meta: dict[str, Any] = {"format": FORMAT}
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
        if key_path.exists():  # left by an interrupted init: key material is never replaced
            kek = _kek(home, meta, None)
        else:
            kek = keys.random_key()
            _write_private(key_path, base64.b64encode(kek).decode("ascii") + "\n")
    # Build the database under a temporary name, then rename: a crash leaves no half store.
    tmp = home / (DB_NAME + ".init")
    for leftover in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        leftover.unlink(missing_ok=True)
    store_key = keys.random_key()
    log = _fact_log(tmp, store_key)
    log.close()
    os.chmod(tmp, 0o600)  # SQLite gives the -wal and -shm files the same mode
    conn = sqlite3.connect(tmp)
    with conn:
        conn.execute(
            "INSERT INTO syncnet_keys VALUES (?, ?, ?)",
            (keys.STORE_SUBJECT, "store", keys.wrap(kek, keys.STORE_SUBJECT, store_key)),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")  # fold the WAL in before the rename
    conn.close()
    meta_tmp = home / (META_FILE + ".init")
    meta_tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, home / DB_NAME)
    os.replace(meta_tmp, home / META_FILE)
    return True, meta["key"]


def open_store(home: Path, passphrase: str | None = None) -> OpenStore:
    meta = _read_meta(home)
    db_path = home / DB_NAME
    if not db_path.exists():
        raise StoreMissing(f"no syncnet store in {home}: run 'syncnet init' first")
    kek = _kek(home, meta, passphrase)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        row = conn.execute(
            "SELECT wrapped FROM syncnet_keys WHERE subject = ?", (keys.STORE_SUBJECT,)
        ).fetchone()
    except sqlite3.DatabaseError as e:
        raise SyncnetError(f"{db_path} is not a readable syncnet store: {e}") from None
    finally:
        conn.close()
    if row is None:
        raise SyncnetError(f"{db_path} has no store key: the store is damaged")
    store_key = keys.unwrap(kek, keys.STORE_SUBJECT, row[0])  # raises WrongKey
    log = _fact_log(db_path, store_key)

    def load_wrapped() -> dict[str, bytes]:
        with log.factory.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            c.execute("SELECT subject, wrapped FROM syncnet_keys WHERE kind != 'store'")
            return {row[0]: bytes(row[1]) for row in c.fetchall()}

    return OpenStore(
        home=home,
        db_path=db_path,
        log=log,
        keyring=keys.KeyRing(kek, load_wrapped),
        store_key=store_key,
        key_mode=str(meta["key"]),
    )
