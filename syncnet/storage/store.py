"""Storage: one SQLite file holding the encrypted event log, the wrapped keys
and the views, plus (beside it) the key file or the passphrase's KDF salt.

`init_store` creates a store; `open_store` opens one and checks the key.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncnet.errors import StoreError, StoreMissing, SyncnetError, WrongKey
from syncnet.storage import keys
from syncnet.storage.db import LOCK_TIMEOUT_S

if TYPE_CHECKING:
    from syncnet.storage.factlog import FactLog

DB_NAME = "store.db"
KEY_FILE = "key"
META_FILE = "store.json"
FORMAT = 1


@dataclass
class OpenStore:
    home: Path
    db_path: Path
    keyring: keys.KeyRing
    store_key: bytes
    key_mode: str
    _log: FactLog | None = field(default=None, repr=False)

    @property
    def log(self) -> FactLog:
        """The fact log, opened on first use (see factlog.py)."""
        if self._log is None:
            from syncnet.storage.factlog import FactLog

            self._log = FactLog(self.db_path, self.store_key)
        return self._log

    def max_position(self) -> int:
        """The notification position of the last stored fact (0 when empty), without the library."""
        from syncnet.storage.factlog import last_position

        return last_position(self.db_path)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()


@contextmanager
def _connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        yield conn
    finally:
        conn.close()


def _read_meta(home: Path) -> dict[str, Any]:
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
    from syncnet.storage.factlog import FactLog

    FactLog(tmp, store_key).close()  # creates the library's tables and syncnet_keys
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
    try:
        with _connect(db_path) as conn:
            row = conn.execute(
                "SELECT wrapped FROM syncnet_keys WHERE subject = ?", (keys.STORE_SUBJECT,)
            ).fetchone()
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{db_path} is not a readable syncnet store: {e}") from None
    if row is None:
        raise StoreError(f"{db_path} has no store key: the store is damaged")
    store_key = keys.unwrap(kek, keys.STORE_SUBJECT, row[0])  # raises WrongKey

    def load_wrapped() -> dict[str, bytes]:
        with _connect(db_path) as conn:
            rows = conn.execute("SELECT subject, wrapped FROM syncnet_keys WHERE kind != 'store'")
            return {subject: bytes(wrapped) for subject, wrapped in rows}

    return OpenStore(
        home=home,
        db_path=db_path,
        keyring=keys.KeyRing(kek, load_wrapped),
        store_key=store_key,
        key_mode=str(meta["key"]),
    )
