"""The backup file: a consistent copy of the store's database and its store.json, in
one file, never with the key.

The copy is taken with SQLite's online backup API inside one read transaction: one
snapshot of the database however many steps the copy takes, while other processes go
on reading and writing it (WAL mode: the copy blocks no writer). The facts, the chain
that seals them, the views and the state are whatever one committed transaction left,
never half of a later one. A copy of the file itself could be torn by a checkpoint, and
would miss what is still in the WAL.

Format 1, all integers big-endian:

    MAGIC                  16 bytes, b"\\x89SYNCNET-BACKUP\\n"
    format                 4 bytes (1)
    manifest length        4 bytes, then the manifest: UTF-8 JSON
                           {"format", "created", "syncnet", "key", "facts",
                            "members": [{"name", "size"}, ...]}
    members                their bytes, in the manifest's order: store.json, store.db
                           (the database in rollback-journal mode: one self-contained file)
    checksum               32 bytes, SHA-256 of everything before it

Every byte is under the checksum, so a truncated or altered file is refused as a whole
before anything is read from it. Every later format keeps MAGIC, the format field and
the trailing SHA-256, so that an old syncnet can tell "newer format" from "damaged".
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from syncnet.errors import BadInput, Refused, StoreError
from syncnet.storage.db import LOCK_TIMEOUT_S
from syncnet.storage.factlog import EVENTS as EVENTS_TABLE
from syncnet.storage.factlog import check_tables, last_position_in
from syncnet.storage.paths import fsync_dir
from syncnet.storage.store import DB_NAME, KEY_FILE, META_FILE, key_mode

MAGIC = b"\x89SYNCNET-BACKUP\n"
FORMAT = 1
MEMBERS = (META_FILE, DB_NAME)
CHECKSUM_BYTES = 32
STEP_PAGES = 1024  # pages copied per step of the backup API (4 MiB with 4 KiB pages)
CHUNK = 1 << 20
# What the home may hold before a restore: the key the user put there, their config.
RESTORE_KEEPS = frozenset({KEY_FILE, "config.toml"})


@dataclass(frozen=True)
class Manifest:
    format: int
    created: str
    key: str  # "file" or "passphrase"
    facts: int  # the position of the last fact in the copy
    members: tuple[tuple[str, int], ...]  # (name, size) in file order

    def to_json(self) -> dict[str, Any]:
        from syncnet import __version__

        members = [{"name": n, "size": s} for n, s in self.members]
        return {"format": self.format, "created": self.created, "syncnet": __version__, "key": self.key,
                "facts": self.facts, "members": members}  # fmt: skip


# ---------------------------------------------------------------- writing
def snapshot(db_path: Path, copy: Path, progress: Callable[[int], None] | None = None) -> int:
    """Copy the database at `db_path` (in use by other processes) to the new file `copy`,
    created 0600; returns the position of the last fact in the copy. `progress` gets the
    bytes copied so far after each step."""
    os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # never open to others
    try:
        src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None,
                              timeout=LOCK_TIMEOUT_S)  # fmt: skip
    except sqlite3.Error as e:
        raise StoreError(f"cannot read {db_path} to back it up: {e}") from None
    dst = sqlite3.connect(copy, isolation_level=None)
    try:
        # One read transaction around every step: a step sees the snapshot the first one
        # saw, whatever other processes commit meanwhile (without it, each commit by
        # another process would restart the copy, and a busy store might never finish).
        src.execute("BEGIN")
        facts = last_position_in(src)
        (page_size,) = src.execute("PRAGMA page_size").fetchone()

        def step(status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress((total - remaining) * page_size)

        src.backup(dst, pages=STEP_PAGES, progress=step)
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one file, with no WAL beside it
        problems = [str(r[0]) for r in dst.execute("PRAGMA integrity_check(3)")]
    except sqlite3.Error as e:
        raise StoreError(f"cannot back up {db_path}: {e}") from None
    finally:
        src.close()
        dst.close()
    if problems != ["ok"]:
        first = " ".join(problems[0].replace("*** in database main ***", "").split())  # one line
        raise StoreError(f"{db_path} fails SQLite's integrity check ({first}): no backup written; "
                         "restore an earlier backup")  # fmt: skip
    return int(facts or 0)


INSERT_FACT = (f"INSERT INTO {EVENTS_TABLE} (rowid, originator_id, originator_version, topic, state) "
               "VALUES (?, ?, ?, ?, ?)")  # fmt: skip


def snapshot_postgres(url: str, copy: Path, progress: Callable[[int], None] | None = None) -> int:
    """A copy, in the new SQLite file `copy` (created 0600), of the store kept in the
    PostgreSQL database at `url`: its facts at their positions, its keys, the seal of its
    log and its state, read in one snapshot (a repeatable-read transaction) while other
    processes write; the views are rebuilt by the store restored from it. Returns the
    position of the last fact. `progress` gets the bytes copied so far."""
    import psycopg

    from syncnet.storage.factlog import FactLog
    from syncnet.storage.keys import random_key
    from syncnet.storage.statestore import RECORDED_BY
    from syncnet.storage.statestore import SCHEMA as STATE

    os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # never open to others
    FactLog(copy, random_key(), create=True).close()  # the tables of a store in SQLite, empty
    dst = sqlite3.connect(copy)
    last, copied = 0, 0
    try:
        dst.execute(STATE)
        dst.execute(RECORDED_BY)
        with psycopg.connect(url, connect_timeout=int(LOCK_TIMEOUT_S)) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            with conn.cursor(name="syncnet_backup") as facts:  # streamed from the server
                sql = ("SELECT notification_id, originator_id, originator_version, topic, state "
                       f"FROM {EVENTS_TABLE} ORDER BY notification_id")  # fmt: skip
                facts.execute(sql)
                while rows := facts.fetchmany(5000):
                    dst.executemany(INSERT_FACT, [(n, oid.hex, v, t, bytes(b)) for n, oid, v, t, b in rows])
                    last = int(rows[-1][0])
                    copied += sum(len(r[4]) for r in rows)
                    if progress is not None:
                        progress(copied)
            for table, columns in (("syncnet_keys", 3), ("syncnet_chain", 2), ("syncnet_state", 3),
                                   ("syncnet_recorded_by", 2)):  # fmt: skip
                found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
                if found is None or found[0] is None:
                    continue  # a store that never wrote any (no sync, no hub)
                rows = [tuple(bytes(v) if isinstance(v, (bytes, memoryview)) else v for v in r)
                        for r in conn.execute(f"SELECT * FROM {table}").fetchall()]  # fmt: skip
                dst.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * columns)})", rows)
        dst.commit()
        dst.execute("PRAGMA journal_mode=DELETE")
    except psycopg.Error as e:
        reason = " ".join(str(e).split())[:200]
        raise StoreError(f"cannot back up the store's PostgreSQL database: {reason}") from None
    finally:
        dst.close()
    return last


class _Hashing:
    """A binary file that hashes what is written to it."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.f.write(data)


# ---------------------------------------------------------------- locks and leftovers
def _names(path: Path, fd: int) -> bool:
    """Whether `path` still names the file open as `fd`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _not_ours(path: Path) -> Refused:
    return Refused(f"{path} exists and is not a file syncnet left: move it away")


def _remove_stale(path: Path, busy: str, head: bytes) -> None:
    """Remove what a dead run left at `path` (see `exclusive`); refuse a live run's, or a
    file syncnet would not have left there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # removed meanwhile
    except OSError:  # a symbolic link, another user's file
        raise _not_ours(path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            raise _not_ours(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if _names(path, fd):
                raise Refused(busy) from None
            return  # the live run ended and removed it meanwhile
        if not _names(path, fd):
            return
        if not head.startswith(os.pread(fd, len(head), 0)):
            raise _not_ours(path)
        # Removed, never written into: a killed backup may have left FILE.tmp as a second
        # name of FILE (between the link and the unlink of `_put`).
        path.unlink()
    finally:
        os.close(fd)


def _take(path: Path, busy: str, head: bytes) -> int:
    """`path` made anew and locked (see `exclusive`); the open file's descriptor."""
    for _ in range(100):  # again only when another run made or removed the file meanwhile
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            _remove_stale(path, busy, head)
            continue
        except OSError as e:
            raise StoreError(f"cannot write in {path.parent}: {e.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _names(path, fd):
                os.fchmod(fd, 0o600)  # whatever the umask
                return fd
        except BlockingIOError:  # another run locked it first, took it for a dead run's, removes it
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # removed between our creating and our locking it: make it again
    raise Refused(busy)


@contextmanager
def exclusive(path: Path, busy: str, head: bytes = b"") -> Iterator[int]:
    """`path` made (0600) and held under an exclusive flock for the block, and removed at
    its end if it is still there. A run that is killed leaves it unlocked (the kernel
    drops the lock with the process): so the next run tells what a dead run left, which
    it removes, from a live run's, refused with `busy`. A file syncnet would not have
    left (not a regular file of this user, or not starting with a prefix of `head`) is
    refused, never removed."""
    fd = _take(path, busy, head)
    try:
        yield fd
    finally:
        try:
            if _names(path, fd):
                path.unlink()
        finally:
            os.close(fd)


def leftovers(parent: Path, prefix: str, private: bool = True) -> list[Path]:
    """The directories in `parent` that `tempfile.mkdtemp(prefix=prefix, dir=parent)` made
    (the prefix, then its eight random characters): this user's, not symbolic links, and
    still 0700 when `private`."""
    made = re.compile(re.escape(prefix) + r"[a-z0-9_]{8}")
    found = []
    with os.scandir(parent) as entries:
        for entry in entries:
            if not made.fullmatch(entry.name):
                continue
            st = entry.stat(follow_symlinks=False)
            if (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
                    and (not private or stat.S_IMODE(st.st_mode) == 0o700)):  # fmt: skip
                found.append(Path(entry.path))
    return sorted(found)


def _create_private(path: Path) -> BinaryIO:
    """A new file open for writing, 0600 whatever the umask; a leftover of an interrupted
    run of the same command is replaced."""
    path.unlink(missing_ok=True)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _put(tmp: Path, dest: Path, force: bool) -> None:
    """Move the finished `tmp` to `dest`; an existing `dest` only with `force`. Without it
    the move is a hard link, which fails rather than replace a file made meanwhile."""
    if force:
        os.replace(tmp, dest)
        return
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise Refused(f"{dest} exists: use --force to replace it") from None
    except OSError:  # a file system without hard links
        if dest.exists():
            raise Refused(f"{dest} exists: use --force to replace it") from None
        os.replace(tmp, dest)
        return
    tmp.unlink()


def write_backup(home: Path, db_path: Path, dest: Path, *, force: bool = False,
                 progress: Callable[[int], None] | None = None, url: str | None = None,
                 ) -> tuple[Manifest, int]:  # fmt: skip
    """Back up the store in `home` to `dest` (written to dest.tmp, then renamed); returns
    the manifest and the size of the file written. `url`: the store is in that PostgreSQL
    database; the backup holds it as a store in SQLite (what `restore` makes of it)."""
    if dest.is_dir():
        raise BadInput(f"{dest} is a directory: name the backup file to write")
    if not dest.parent.is_dir():
        raise BadInput(f"cannot write {dest}: {dest.parent} is not a directory")
    try:
        meta = (home / META_FILE).read_bytes()
    except OSError as e:
        raise StoreError(f"cannot read {home / META_FILE}: {e.strerror}") from None
    if url is not None:  # restored, it is a store in SQLite: its meta without the database
        meta = (json.dumps({k: v for k, v in json.loads(meta).items() if k != "database"}, indent=2)
                + "\n").encode()  # fmt: skip
    mode = key_mode(home)
    if mode not in ("file", "passphrase"):
        raise StoreError(f"{home / META_FILE}: unknown store format")
    tmp = dest.with_name(dest.name + ".tmp")
    busy = f"another syncnet backup is writing {dest} (into {tmp.name}): wait for it to end"
    # FILE.tmp is locked from the start to the rename: what a killed backup left (FILE.tmp,
    # its scratch directory) is unlocked, and removed here; a live backup's is refused.
    with exclusive(tmp, busy, MAGIC) as fd:
        prefix = f".{dest.name}.tmp-"
        for old in leftovers(dest.parent, prefix):
            shutil.rmtree(old, ignore_errors=True)
        if not force and dest.exists():  # refused after the clearing: a dead run's files go all the same
            raise Refused(f"{dest} exists: use --force to replace it")
        try:
            scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=dest.parent))  # 0700
        except OSError as e:
            raise StoreError(f"cannot write in {dest.parent}: {e.strerror}") from None
        try:
            copy = scratch / DB_NAME
            if url is None:
                facts = snapshot(db_path, copy, progress)
            else:
                facts = snapshot_postgres(url, copy, progress)
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            members = ((META_FILE, len(meta)), (DB_NAME, copy.stat().st_size))
            manifest = Manifest(FORMAT, created, mode, facts, members)
            with os.fdopen(os.dup(fd), "wb") as f:  # a copy of the descriptor: the lock stays held
                out = _Hashing(f)
                doc = json.dumps(manifest.to_json(), sort_keys=True).encode()
                out.write(MAGIC + struct.pack(">II", FORMAT, len(doc)) + doc)
                out.write(meta)
                with copy.open("rb") as db:
                    while chunk := db.read(CHUNK):
                        out.write(chunk)
                f.write(out.sha.digest())
                f.flush()
                os.fsync(f.fileno())
            _put(tmp, dest, force)
            fsync_dir(dest.parent)
            return manifest, dest.stat().st_size
        except OSError as e:
            raise StoreError(f"cannot write {dest}: {e.strerror or e}") from None
        finally:  # FILE.tmp itself, unless renamed: by `exclusive`, on any exception (Ctrl-C too)
            shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------- reading
def _damaged(file: Path) -> BadInput:
    return BadInput(f"{file} is damaged (truncated or altered: its checksum does not match); "
                    "nothing was restored")  # fmt: skip


def _check_sum(f: BinaryIO, file: Path, size: int) -> None:
    """The trailing SHA-256 against everything before it."""
    f.seek(0)
    sha, left = hashlib.sha256(), size - CHECKSUM_BYTES
    while left > 0:
        chunk = f.read(min(CHUNK, left))
        if not chunk:
            raise _damaged(file)
        sha.update(chunk)
        left -= len(chunk)
    if f.read(CHECKSUM_BYTES) != sha.digest():
        raise _damaged(file)


def _manifest(raw: bytes, file: Path, body: int) -> Manifest:
    """The manifest, checked: the two known members, once each, filling the file."""
    try:
        doc = json.loads(raw)
        members = tuple((str(m["name"]), int(m["size"])) for m in doc["members"])
        manifest = Manifest(int(doc["format"]), str(doc["created"]), str(doc["key"]), int(doc["facts"]),
                            members)  # fmt: skip
    except (ValueError, KeyError, TypeError):
        raise BadInput(f"{file}: its manifest cannot be read; nothing was restored") from None
    names = sorted(n for n, _ in members)
    if (names != sorted(MEMBERS) or any(s < 0 for _, s in members) or sum(s for _, s in members) != body
            or manifest.key not in ("file", "passphrase")):  # fmt: skip
        raise BadInput(f"{file}: its manifest does not describe a syncnet store; nothing was restored")
    return manifest


def read_backup(file: Path, into: Path) -> Manifest:
    """Check the backup `file` and write its members into the directory `into` (0600
    each): a syncnet backup of a known format, whole (its checksum), with a store.json
    of a known store format and a database that passes SQLite's integrity check."""
    try:
        f = file.open("rb")
    except OSError as e:
        raise BadInput(f"cannot read {file}: {e.strerror}") from None
    with f:
        try:
            size = os.fstat(f.fileno()).st_size
            if f.read(len(MAGIC)) != MAGIC:
                raise BadInput(f"{file} is not a syncnet backup")
            if size < len(MAGIC) + 8 + CHECKSUM_BYTES:
                raise _damaged(file)
            _check_sum(f, file, size)
            f.seek(len(MAGIC))
            version, length = struct.unpack(">II", f.read(8))
            if version != FORMAT:
                raise BadInput(f"{file} is a syncnet backup of an unknown format ({version}): "
                               "a newer syncnet wrote it")  # fmt: skip
            header = len(MAGIC) + 8 + length
            if header > size - CHECKSUM_BYTES:
                raise BadInput(f"{file}: its manifest cannot be read; nothing was restored")
            manifest = _manifest(f.read(length), file, size - CHECKSUM_BYTES - header)
            for name, member_size in manifest.members:
                with _create_private(into / name) as out:
                    left = member_size
                    while left > 0:
                        chunk = f.read(min(CHUNK, left))
                        if not chunk:  # the file shrank since its checksum was read
                            raise _damaged(file)
                        out.write(chunk)
                        left -= len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
        except OSError as e:
            raise StoreError(f"cannot restore from {file}: {e.strerror or e}") from None
    if key_mode(into) != manifest.key:
        raise BadInput(f"{file}: its store.json is not that of a syncnet store it can restore")
    _integrity_check(into / DB_NAME, file)
    return manifest


def _integrity_check(db: Path, file: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(3)")]
            if problems == ["ok"]:
                check_tables(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        problems = [str(e)]
    if problems != ["ok"]:
        first = " ".join(problems[0].replace("*** in database main ***", "").split())  # one line
        raise BadInput(f"{file}: the database in it fails SQLite's integrity check ({first}); "
                       "nothing was restored")  # fmt: skip


# ---------------------------------------------------------------- the home restored into
def check_restorable(home: Path) -> list[str]:
    """What the home holds that a restore keeps (the key, the config); a home holding a
    store, or anything else, is refused: a restore never replaces or mixes with a store."""
    if home.exists() and not home.is_dir():
        raise Refused(f"{home} is not a directory: restore into an empty or new data directory")
    if (home / META_FILE).exists() or (home / DB_NAME).exists():
        raise Refused(f"{home} already holds a syncnet store: restore into an empty or new data directory "
                      "(--home DIR)")  # fmt: skip
    held = sorted(p.name for p in home.iterdir()) if home.exists() else []
    other = [n for n in held if n not in RESTORE_KEEPS]
    if other:
        listed = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
        raise Refused(f"{home} is not empty (it holds {listed}): restore into an empty or new data directory")
    return held


@contextmanager
def restoring(home: Path) -> Iterator[None]:
    """Held for a whole restore into `home` (absolute): the lock file .HOME.restore.lock
    beside it; another restore into the same home is refused meanwhile. Under it, what a
    killed restore into this home left is cleared first: its .HOME.restore-* directories
    (a store half built, a copy of the key) are removed, and a home it had renamed aside
    and not yet replaced is moved back."""
    try:
        home.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot make {home.parent}: {e.strerror}") from None
    lock = home.parent / f".{home.name}.restore.lock"
    with exclusive(lock, f"another syncnet restore into {home} is running: wait for it to end"):
        for old in leftovers(home.parent, f".{home.name}.restore-"):
            shutil.rmtree(old, ignore_errors=True)
        aside = leftovers(home.parent, f".{home.name}.before-restore-", private=False)
        if len(aside) == 1 and not os.path.lexists(home):  # killed between commit's two renames
            os.rename(aside[0], home)
        yield


@contextmanager
def staging(home: Path) -> Iterator[Path]:
    """A new directory (0700) beside `home` to build the restored store in; removed
    unless `commit` has moved it into place."""
    home.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{home.name}.restore-", dir=home.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def place_key(source: Path, dest: Path) -> None:
    """Copy the key file `source` to `dest`, 0600 whatever the source's mode."""
    try:
        data = source.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read the key file {source}: {e.strerror}") from None
    with _create_private(dest) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def copy_kept(home: Path, names: list[str], tmp: Path) -> None:
    """Copy what the home held (its key, its config) into the restored store, mode kept."""
    for name in names:
        if not (tmp / name).exists():
            shutil.copy2(home / name, tmp / name)


def commit(tmp: Path, home: Path, held: list[str]) -> None:
    """Move the built store into place: one rename when the home is missing or empty;
    when it holds a key or a config (copied into `tmp`), the home is renamed aside first,
    then `tmp` into its place, and the old one removed."""
    if check_restorable(home) != held:  # something was written to the home meanwhile
        raise Refused(f"{home} changed during the restore: nothing was restored")
    if not held:
        os.rename(tmp, home)  # replaces an empty directory, or makes the missing one
    else:
        aside = Path(tempfile.mkdtemp(prefix=f".{home.name}.before-restore-", dir=home.parent))
        try:
            os.rename(home, aside)
            os.rename(tmp, home)
        except BaseException:  # Ctrl-C too: the home back as it was
            if not os.path.lexists(home):
                os.rename(aside, home)
            with suppress(OSError):
                aside.rmdir()  # the empty directory made for the name, when the home never moved
            raise
        shutil.rmtree(aside, ignore_errors=True)
    fsync_dir(home.parent)
