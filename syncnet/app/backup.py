"""`syncnet backup` and `syncnet restore`: a store copied out whole, and back in only
once it is known to be whole.

backup   a consistent copy of the store (one snapshot of the database, SQLite's online
         backup API) and its store.json, in one file created 0600 (storage/backup.py);
         never the key: a backup without its key is useless to a thief
restore  into an empty or new data directory only; the backup is checked (a syncnet
         backup of a known format, its checksum, SQLite's integrity check), opened with
         the key and verified whole (integrity.verify) in a directory beside the home,
         which is then renamed into place: a failed or killed restore leaves the home
         as it was. A lock beside the home is held throughout: a second restore into
         it is refused meanwhile, and the next one clears what a killed one left

Both remove their temporary files when they fail or are interrupted (Ctrl-C); what a
SIGKILL leaves, the next backup to the same file, or restore into the same home,
removes: it is told from a live run's by its lock (storage/backup.py, `exclusive`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncnet.errors import BadInput, StoreError, WrongKey
from syncnet.storage import backup as files
from syncnet.storage.store import KEY_FILE

if TYPE_CHECKING:
    from syncnet.app.network import Network


@dataclass(frozen=True)
class Done:
    """A backup written or a restore done."""

    path: Path  # the backup file
    home: Path  # the store's data directory
    facts: int
    key: str  # "file" or "passphrase"
    size: int = 0  # of the backup file (bytes)
    created: str = ""  # when the backup was taken (UTC)

    @property
    def key_file(self) -> Path | None:
        return self.home / KEY_FILE if self.key == "file" else None

    def to_json(self) -> dict[str, Any]:
        key_file = str(self.key_file) if self.key_file else None
        return {"path": os.path.abspath(self.path), "home": os.path.abspath(self.home),
                "bytes": self.size, "facts": self.facts, "key": self.key, "key_file": key_file,
                "created": self.created}  # fmt: skip


def backup(net: Network, dest: Path, *, force: bool = False,
           progress: Callable[[int], None] | None = None) -> Done:  # fmt: skip
    """Back up the store `net` has open (its key checked by opening it) to `dest`."""
    store = net.store
    manifest, size = files.write_backup(store.home, store.db_path, dest, force=force, progress=progress,
                                        url=store.url)  # fmt: skip
    return Done(dest, store.home, manifest.facts, manifest.key, size, manifest.created)


def restore(file: Path, home: Path, *, key_file: Path | None = None,
            passphrase: Callable[[], str | None] = lambda: None,
            progress: Callable[[int], None] | None = None) -> Done:  # fmt: skip
    """Restore the backup `file` into `home` (missing, empty, or holding only the key and
    the config). `passphrase` is asked only for a passphrase store."""
    target = home.resolve()  # a home that is a symbolic link: build beside where it points
    with files.restoring(target), files.staging(target) as tmp:
        held = files.check_restorable(home)
        manifest = files.read_backup(file, tmp)
        _place_key(manifest.key, file, home, held, key_file, tmp)
        files.copy_kept(home, held, tmp)
        facts = _verify(tmp, file, home, manifest.key, passphrase() if manifest.key == "passphrase" else None,
                        key_file or home / KEY_FILE, progress)  # fmt: skip
        files.commit(tmp, target, held)
    return Done(file, home, facts, manifest.key, file.stat().st_size, manifest.created)


def _place_key(mode: str, file: Path, home: Path, held: list[str], key_file: Path | None, tmp: Path) -> None:
    """The key file into the store being built, 0600: from --key-file, or the one the
    user put in the home."""
    if mode == "passphrase":
        if key_file is not None:
            raise BadInput(f"{file} is a backup of a store protected by a passphrase: --key-file does not "
                           "apply (set SYNCNET_PASSPHRASE)")  # fmt: skip
        return
    if key_file is not None and KEY_FILE in held and _read(home / KEY_FILE) != _read(key_file):
        raise BadInput(f"{home / KEY_FILE} is another key than {key_file}: remove one of them")
    source = key_file or home / KEY_FILE
    if key_file is None and KEY_FILE not in held:
        raise WrongKey(f"{file} needs the key file of its store: put it in {source} or give --key-file PATH")
    files.place_key(source, tmp / KEY_FILE)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read the key file {path}: {e.strerror}") from None


def _verify(tmp: Path, file: Path, home: Path, mode: str, passphrase: str | None, key_path: Path,
            progress: Callable[[int], None] | None) -> int:  # fmt: skip
    """Open the store built in `tmp` with its key and verify it whole; returns its facts."""
    from syncnet.app import integrity
    from syncnet.app.network import Network
    from syncnet.domain.config import Config
    from syncnet.storage.store import open_store

    try:
        store = open_store(tmp, passphrase)
    except StoreError:  # its message names the directory being built
        raise BadInput(f"{file}: the store in it cannot be opened; nothing was restored") from None
    except WrongKey:  # its message names the directory being built: say it of what the user gave
        if mode == "passphrase":
            if not passphrase:
                raise WrongKey(f"{file} is a backup of a store protected by a passphrase: "
                               "set SYNCNET_PASSPHRASE or the config's passphrase_cmd") from None  # fmt: skip
            raise WrongKey(f"the passphrase does not open {file}: nothing was restored") from None
        raise WrongKey(f"the key file {key_path} does not open {file}: nothing was restored") from None
    net = Network(store, Config())
    try:
        report = integrity.verify(net, progress)
    finally:
        net.close()
    if not report.whole:
        problems = report.problems()
        raise BadInput(f"{file}: the store in it does not verify whole ({len(problems)} problem(s), the "
                       f"first: {problems[0]}); nothing was restored")  # fmt: skip
    return report.facts
