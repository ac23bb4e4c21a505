"""Backup and restore (issue 14, guarantee 5), through the CLI on real SQLite files.

`syncnet backup FILE` writes one file (0600) holding a consistent copy of the store's
database and its store.json, never the key, while other processes go on writing; a
`syncnet restore FILE` lands in the data directory only once the backup is known whole
(its checksum, SQLite's integrity check, the store opened with its key and verified).
What the restored store reads equals what the original read; a backup taken during
writes restores to a prefix of the log; a refused restore leaves the home as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from support import Background, Runner, record, store_state, toml_value, wait_for
from test_passphrase_sources import keyring_calls, stub_keyring, write_top

from syncnet.domain import commands as cmd
from syncnet.storage import backup as files

T = ("--today", "2026-11-20")
SECRETS = ["Ada Lovelace", "Grace Hopper", "Analytical Engines", "met at the salon", "Navy Yard",
           "on the engine's notes", "send the slides", "review the paper", "Find a compiler job"]  # fmt: skip
READS = [
    ("due", *T),
    ("contacts", *T),
    ("balance", *T),
    ("split", *T),
    ("warnings", *T),
    ("history", "Ada", *T),
    ("history", "Grace", *T),
    ("show", "Ada", *T),
    ("show", "Grace", *T),
    ("goal", "list", *T),
    ("status", *T),
    ("verify",),
]


def build(run: Runner, **kw: Any) -> None:
    """A store with facts of most kinds, a goal, and a sync to an .ics target."""
    run.ok("init", **kw)
    run.ok("meet", "Ada Lovelace", "--why", "role-model", "--org", "Analytical Engines", "--on", "2026-11-02",
           "--note", "met at the salon", *T, **kw)  # fmt: skip
    run.ok("meet", "Grace Hopper", "--why", "complement", "--where", "Navy Yard", "--on", "2026-11-03",
           *T, **kw)  # fmt: skip
    run.ok("goal", "add", "Find a compiler job", "--on", "2026-11-01", *T, **kw)
    run.ok("goal", "link", "Grace", "Find a compiler job", "--on", "2026-11-04", *T, **kw)
    run.ok("give", "Ada", "--kind", "advice", "--minutes", "30", "--on", "2026-11-04",
           "--note", "on the engine's notes", *T, **kw)  # fmt: skip
    run.ok("promise", "Ada", "send the slides", "--due", "2026-11-30", "--on", "2026-11-05", *T, **kw)
    run.ok("touch", "Grace", "--by", "them", "--on", "2026-11-06", *T, **kw)
    run.ok("receive", "Grace", "--kind", "advice", "--on", "2026-11-07", *T, **kw)
    run.ok("promise", "Grace", "review the paper", "--due", "2026-12-10", "--on", "2026-11-08", *T, **kw)
    ics = run.base / "reminders.ics"
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{ics}"\n')
    run.ok("sync", *T, **kw)


def big_store(run: Runner, n: int = 1500) -> None:
    """A store of `n` contacts with incompressible notes (about 7 MB): a copy takes many steps."""
    run.ok("init")
    note = lambda: base64.b64encode(os.urandom(3000)).decode()  # noqa: E731
    record(run.home, *(cmd.Meet(f"P{i:04d} Lovelace", on=date(2026, 11, 1), note=note()) for i in range(n)))


def reads(run: Runner, **kw: Any) -> dict[tuple[str, ...], Any]:
    return {args: run.json(*args, **kw) for args in READS}


def tree(home: Path) -> dict[str, tuple[int, bytes]] | None:
    """Every file under `home`: (mode, bytes); None when there is no home."""
    if not home.exists():
        return None
    return {str(p.relative_to(home)): (p.stat().st_mode, p.read_bytes()) for p in sorted(home.rglob("*"))}


def facts(db: Path, up_to: int | None = None) -> list[tuple[Any, ...]]:
    """The stored facts, as rows, in position order."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        sql = "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
        rows = conn.execute(f"{sql} WHERE rowid <= ? ORDER BY rowid", (up_to or 2**62,)).fetchall()
    finally:
        conn.close()
    return rows


# ---------------------------------------------------------------- the container, taken apart
def members(data: bytes) -> dict[str, bytes]:
    (length,) = struct.unpack(">I", data[20:24])
    manifest = json.loads(data[24 : 24 + length])
    out, at = {}, 24 + length
    for m in manifest["members"]:
        out[m["name"]] = data[at : at + m["size"]]
        at += m["size"]
    assert at == len(data) - 32
    return out


def container(parts: dict[str, bytes], facts_in: int, key: str = "file") -> bytes:
    """A backup with these members and a matching checksum: what a bug, or someone
    writing the format by hand, could produce."""
    manifest = {"format": 1, "created": "2026-11-20T00:00:00Z", "key": key, "facts": facts_in,
                "members": [{"name": n, "size": len(b)} for n, b in parts.items()]}  # fmt: skip
    doc = json.dumps(manifest).encode()
    body = files.MAGIC + struct.pack(">II", 1, len(doc)) + doc + b"".join(parts.values())
    return body + hashlib.sha256(body).digest()


def with_db(data: bytes, tmp_path: Path, change: str) -> bytes:
    """The backup `data` with `change` (SQL) applied to its database, checksum matching."""
    parts = members(data)
    db = tmp_path / "edited.db"
    db.write_bytes(parts["store.db"])
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(change)
    conn.close()
    parts["store.db"] = db.read_bytes()
    db.unlink()
    return container(parts, 10)


# ---------------------------------------------------------------- 1. a round trip
def test_a_restored_store_reads_as_the_original(run: Runner, tmp_path: Path) -> None:
    build(run)
    before = reads(run)
    backup = tmp_path / "net.backup"
    doc = run.json("backup", backup)
    n = store_state(run.home)[0]
    assert doc["facts"] == n >= 9
    assert doc["bytes"] == backup.stat().st_size and doc["key"] == "file"
    assert doc["path"] == str(backup) and doc["key_file"] == str(run.home / "key")

    # The user puts the key (and the config) in the new home, then restores into it.
    restored = Runner(tmp_path / "restored", tmp_path)
    restored.home.mkdir(mode=0o700)
    for name in ("key", "config.toml"):
        (restored.home / name).write_bytes((run.home / name).read_bytes())
    (restored.home / "key").chmod(0o600)
    out = restored.ok("restore", backup).stdout
    assert f"Restored {n} facts" in out and "verifies whole" in out
    assert sorted(p.name for p in restored.home.iterdir()) == ["config.toml", "key", "store.db", "store.json"]
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name or ".before-restore-" in p.name]

    assert reads(restored) == before  # every read, the sync state and verify's counts included
    assert restored.json("verify")["whole"] is True
    assert facts(restored.home / "store.db") == facts(run.home / "store.db")
    # The restored store goes on: a new fact is recorded and sealed after the old ones.
    restored.ok("touch", "Ada", "--on", "2026-11-20", *T)
    assert restored.json("verify")["facts"] == n + 1

    # Into a new home with --key-file: the key copied in with mode 0600.
    other = Runner(tmp_path / "deeper" / "other", tmp_path)
    (tmp_path / "key.copy").write_bytes((run.home / "key").read_bytes())
    (tmp_path / "key.copy").chmod(0o644)  # as on a USB stick: copied in private anyway
    assert other.json("restore", backup, "--key-file", tmp_path / "key.copy")["facts"] == n
    assert (other.home / "key").stat().st_mode & 0o777 == 0o600
    assert other.home.stat().st_mode & 0o777 == 0o700
    assert {args: other.json(*args) for args in READS if args[0] != "status"} == {
        args: doc for args, doc in before.items() if args[0] != "status"
    }


# ---------------------------------------------------------------- 2. during writes
WRITER = """
import base64, os, sys
from datetime import date
from pathlib import Path
from syncnet.app.network import Network
from syncnet.domain import commands as cmd

i = 0
with Network.open(Path(sys.argv[1]), today=date(2026, 11, 20)) as net:
    while True:  # one fact per transaction, until killed
        note = base64.b64encode(os.urandom(1500)).decode()
        net.record(cmd.Touch(f"P{i % 50:04d} Lovelace", on=date(2026, 11, 10), note=note))
        i += 1
"""


def test_a_backup_taken_during_writes_restores_a_prefix_of_the_log(
    run: Runner, run_process: Runner, tmp_path: Path
) -> None:
    big_store(run)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(run.home)], env=run.env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    taken = []
    try:
        wait_for(lambda: store_state(run.home)[0] > 1520, 30, "the writer to record facts")
        for n in range(3):
            before = store_state(run.home)[0]
            backup = tmp_path / f"during-{n}.backup"
            in_it = json.loads(run_process.ok("backup", backup, "--json").stdout)["facts"]
            after = store_state(run.home)[0]
            taken.append((backup, before, in_it, after))
        assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
    finally:
        writer.kill()
        writer.wait()
    original = facts(run.home / "store.db")
    # Facts were recorded while each backup process ran, and after its snapshot.
    assert all(before < after for _, before, _, after in taken)
    assert any(in_it < after for _, _, in_it, after in taken)
    for n, (backup, before, in_it, after) in enumerate(taken):
        assert before <= in_it <= after  # everything recorded before it started, at least
        restored = Runner(tmp_path / f"restored-{n}", tmp_path)
        assert restored.json("restore", backup, "--key-file", run.home / "key")["facts"] == in_it
        got = facts(restored.home / "store.db")
        assert [row[0] for row in got] == list(range(1, in_it + 1))  # no gap
        assert got == original[:in_it]  # the facts themselves, byte for byte
        assert restored.json("verify")["whole"] is True


# ---------------------------------------------------------------- 3. what the file holds
def test_the_backup_holds_no_key_and_no_plaintext_and_is_private(run: Runner, tmp_path: Path) -> None:
    build(run)
    backup = tmp_path / "net.backup"
    old = os.umask(0)  # the mode is the file's own, whatever the umask
    try:
        out = run.ok("backup", backup).stdout
    finally:
        os.umask(old)
    assert backup.stat().st_mode & 0o777 == 0o600
    assert str(run.home / "key") in out and "keep a copy of the key file" in out
    beside = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("net.", ".net.")))
    assert beside == ["net.backup"]  # no FILE.tmp, no scratch copy left
    raw = backup.read_bytes()
    key_text = (run.home / "key").read_text().strip()
    for secret in [*SECRETS, key_text]:
        for form in {secret.encode(), secret.encode("utf-16-le"), secret.lower().encode()}:
            assert form not in raw, secret
    assert base64.b64decode(key_text) not in raw
    assert set(members(raw)) == {"store.json", "store.db"}

    # An existing file is never replaced without --force, and is left as it was.
    assert "--force" in run.fails("backup", backup)
    backup.write_bytes(b"precious")
    assert "exists" in run.fails("backup", backup)
    assert backup.read_bytes() == b"precious"
    run.ok("backup", backup, "--force")
    assert backup.read_bytes()[:16] == files.MAGIC and backup.stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------- 4. refusals
@pytest.fixture
def made(run: Runner, tmp_path: Path) -> tuple[Runner, Path]:
    build(run)
    backup = tmp_path / "net.backup"
    run.ok("backup", backup)
    return run, backup


def bad_backups(backup: Path, tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    data = backup.read_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    parts = members(data)
    torn = bytearray(parts["store.db"])
    torn[4096 + 100 : 4096 + 400] = os.urandom(300)  # inside a b-tree page
    parts["store.db"] = bytes(torn)
    newer = files.MAGIC + struct.pack(">II", 2, 2) + b"{}" + b"x" * 64
    return {
        "truncated": (data[: len(data) - 1000], "damaged"),
        "cut in its header": (data[:20], "damaged"),
        "a flipped byte": (bytes(flipped), "damaged"),
        "random bytes": (os.urandom(5000), "not a syncnet backup"),
        "an empty file": (b"", "not a syncnet backup"),
        "a newer format": (newer + hashlib.sha256(newer).digest(), "unknown format (2)"),
        "a corrupt database, checksum matching": (container(parts, 9), "integrity check"),
        "a fact edited, checksum matching": (
            with_db(data, tmp_path, "UPDATE stored_events SET topic = topic || 'x' WHERE rowid = 3"),
            "does not verify whole",
        ),
        "its seal emptied, checksum matching": (
            with_db(data, tmp_path, "DELETE FROM syncnet_chain"),
            "does not verify whole",
        ),
    }


def test_a_damaged_backup_is_refused_and_the_home_left_as_it_was(
    made: tuple[Runner, Path], tmp_path: Path
) -> None:
    run, backup = made
    key = run.home / "key"
    for case, (data, says) in bad_backups(backup, tmp_path).items():
        bad = tmp_path / "bad.backup"
        bad.write_bytes(data)
        for with_key_in_home in (False, True):
            target = Runner(tmp_path / "target", tmp_path)
            if with_key_in_home:
                target.home.mkdir(mode=0o700)
                (target.home / "key").write_bytes(key.read_bytes())
                (target.home / "key").chmod(0o600)
            was, around = tree(target.home), sorted(p.name for p in tmp_path.iterdir())
            args = ("restore", bad) if with_key_in_home else ("restore", bad, "--key-file", key)
            line = target.fails(*args)
            assert says in line, (case, line)
            assert tree(target.home) == was, case
            assert sorted(p.name for p in tmp_path.iterdir()) == around, case  # nothing left beside it
            if with_key_in_home:
                (target.home / "key").unlink()
                target.home.rmdir()
    # The good backup restores where the bad ones were refused.
    target = Runner(tmp_path / "target", tmp_path)
    assert target.json("restore", backup, "--key-file", key)["facts"] == store_state(run.home)[0]


def test_restore_refuses_a_home_with_a_store_and_a_wrong_or_missing_key(
    made: tuple[Runner, Path], tmp_path: Path
) -> None:
    run, backup = made
    was = tree(run.home)
    assert "already holds a syncnet store" in run.fails("restore", backup)
    assert tree(run.home) == was

    stranger = Runner(tmp_path / "stranger", tmp_path)
    stranger.ok("init")
    target = Runner(tmp_path / "target", tmp_path)
    line = target.fails("restore", backup, "--key-file", stranger.home / "key")
    assert "does not open" in line and tree(target.home) is None
    assert "needs the key file" in target.fails("restore", backup)
    assert tree(target.home) is None
    target.home.mkdir()
    (target.home / "notes.txt").write_text("mine")
    was = tree(target.home)
    assert "not empty" in target.fails("restore", backup, "--key-file", run.home / "key")
    assert tree(target.home) == was
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name]


def test_a_killed_restore_leaves_the_home_as_it_was(run: Runner, tmp_path: Path) -> None:
    big_store(run)
    backup = tmp_path / "net.backup"
    run.ok("backup", backup)
    key = run.home / "key"
    outcomes, took = [], 0.0
    # The first restore runs to its end, timed from when it starts building the store beside
    # the home; the others are killed at fractions of that time after they start building.
    for n, fraction in enumerate((None, 0.0, 0.1, 0.25, 0.5, 0.75)):
        target = Runner(tmp_path / f"target-{n}", tmp_path)
        args = ["restore", str(backup)]
        if n % 2:  # the key put in the home beforehand: the home exists, and must stay as it was
            target.home.mkdir(mode=0o700)
            (target.home / "key").write_bytes(key.read_bytes())
            (target.home / "key").chmod(0o600)
        else:
            args += ["--key-file", str(key)]
        was = tree(target.home)
        proc = subprocess.Popen([sys.executable, "-m", "syncnet", *args], env=target.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

        def building(p: subprocess.Popen[bytes] = proc, name: str = f".target-{n}.restore-") -> bool:
            return p.poll() is not None or any(c.name.startswith(name) for c in tmp_path.iterdir())

        wait_for(building, 30, "the restore to start building", 0.002)
        started = time.monotonic()
        if fraction is not None:
            time.sleep(fraction * took)
            proc.kill()
        assert proc.wait(timeout=60) in (0, -9)
        took = took or time.monotonic() - started
        if tree(target.home) == was:
            outcomes.append("as it was")
        else:  # or whole
            outcomes.append("whole")
            assert target.json("verify")["whole"] is True and target.json("verify")["facts"] == 1500
    assert outcomes[0] == "whole" and outcomes.count("as it was") >= 3, (outcomes, took)


# ---------------------------------------------------------------- 5. a passphrase store
def test_a_passphrase_store_round_trip(run: Runner, tmp_path: Path) -> None:
    pw = "correct horse battery staple"
    build(run, passphrase=pw)
    assert not (run.home / "key").exists()
    before = reads(run, passphrase=pw)
    backup = tmp_path / "net.backup"
    out = run.ok("backup", backup, passphrase=pw).stdout
    assert "passphrase" in out and "key file" not in out
    raw = backup.read_bytes()
    assert pw.encode() not in raw and not any(s.encode() in raw for s in SECRETS)

    target = Runner(tmp_path / "restored", tmp_path)
    assert "SYNCNET_PASSPHRASE" in target.fails("restore", backup)
    assert "passphrase does not open" in target.fails("restore", backup, passphrase="wrong horse")
    line = target.fails("restore", backup, "--key-file", tmp_path / "nothing", passphrase=pw)
    assert "does not apply" in line
    assert tree(target.home) is None
    doc = target.json("restore", backup, passphrase=pw)
    assert doc["key"] == "passphrase" and doc["key_file"] is None and doc["facts"] == store_state(run.home)[0]
    (target.home / "config.toml").write_bytes((run.home / "config.toml").read_bytes())
    assert reads(target, passphrase=pw) == before


# ---------------------------------------------------------------- 6. after forget
def wrapped_key_in(data: bytes, kek: bytes, subject: str) -> bool:
    """Whether some 60-byte window of `data` opens, with the key file, as the wrapped data
    key of `subject` (nonce, key, tag): the attack of tests/test_forget.py, on a backup."""
    aead, aad, size = AESGCM(kek), b"syncnet-key:" + subject.encode(), 12 + 32 + 16
    for at in range(len(data) - size + 1):
        try:
            aead.decrypt(data[at : at + 12], data[at + 12 : at + size], aad)
            return True
        except InvalidTag:
            continue
    return False


def kind_of_key(home: Path, subject: str) -> str | None:
    conn = sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT kind FROM syncnet_keys WHERE subject = ?", (subject,)).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


def test_a_backup_taken_after_forget_holds_no_copy_of_the_contacts_key(run: Runner, tmp_path: Path) -> None:
    build(run)
    ada = str(run.json("history", "Ada", *T)["contact"]["id"])
    kek = base64.b64decode((run.home / "key").read_text())
    before, after = tmp_path / "before.backup", tmp_path / "after.backup"
    run.ok("backup", before)
    assert wrapped_key_in(before.read_bytes(), kek, ada)  # the attack finds it where it is
    # Another process is in a read (as the daemon or the feed server may be) when Ada is
    # forgotten: the erasure is committed, but cannot be checkpointed into the database
    # file, which still holds the old page, until that read ends. The backup runs then.
    reader = sqlite3.connect(run.home / "store.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM syncnet_keys").fetchall()
        forget = run.popen("forget", "Ada", "--yes")
        wait_for(lambda: kind_of_key(run.home, ada) == "erased", 30, "the erasure to be committed")
        assert wrapped_key_in((run.home / "store.db").read_bytes(), kek, ada)
        run.ok("backup", after)
    finally:
        reader.close()
    assert forget.proc.wait(timeout=60) == 0, forget.stderr()
    leaked = wrapped_key_in(after.read_bytes(), kek, ada)
    assert not leaked, "the backup holds the forgotten contact's key"  # a copy of the store as it is now
    restored = Runner(tmp_path / "restored", tmp_path)
    restored.ok("restore", after, "--key-file", run.home / "key")
    assert [c["name"] for c in restored.json("contacts", *T)["contacts"]] == ["Grace Hopper"]


# ---------------------------------------------------------------- 7. what a killed or interrupted run leaves
def beside(path: Path) -> list[str]:
    """What is beside `path` with its name in it: FILE.tmp, .FILE.tmp-*, .HOME.restore-*, ..."""
    return sorted(p.name for p in path.parent.iterdir() if p.name.lstrip(".").startswith(path.name + "."))


def test_a_killed_backup_leaves_nothing_the_next_one_does_not_remove(run: Runner, tmp_path: Path) -> None:
    big_store(run)
    backup = tmp_path / "net.backup"
    tmp = tmp_path / "net.backup.tmp"
    # Killed while the database is copied (its copy in .FILE.tmp-*), then while FILE.tmp is
    # written or synced, as far as polling catches that moment (the earlier kill otherwise).
    for phase in ("copy", "write"):
        for _ in range(10):
            bg = run.popen("backup", backup)

            def at(p: str = phase, proc: subprocess.Popen[bytes] = bg.proc) -> bool:
                if proc.poll() is not None:
                    return True
                if p == "write":
                    return tmp.exists() and tmp.stat().st_size > 0
                return bool(list(tmp_path.glob(".net.backup.tmp-*/store.db")))

            wait_for(at, 30, f"the backup to {phase}", 0.001)
            bg.proc.kill()
            code = bg.proc.wait(timeout=30)
            if code == 0:  # it finished first: try again
                backup.unlink()
                continue
            left = beside(backup)
            if phase == "write" and not (tmp.exists() and tmp.stat().st_size > 0):
                continue
            assert "net.backup.tmp" in left, left  # what a killed backup leaves
            if phase == "copy":
                assert any(n.startswith(".net.backup.tmp-") for n in left), left
            break
        else:
            pytest.fail(f"no kill landed in the {phase} phase")
        assert not backup.exists()
        doc = run.json("backup", backup)
        assert beside(backup) == [], beside(backup)  # FILE.tmp and the scratch copy removed
        assert backup.stat().st_mode & 0o777 == 0o600
        restored = Runner(tmp_path / f"restored-{phase}", tmp_path)
        assert doc["facts"] == 1500
        assert restored.json("restore", backup, "--key-file", run.home / "key")["facts"] == 1500
        assert restored.json("verify")["whole"] is True
        backup.unlink()

    # Killed between the link of FILE.tmp to FILE and the removal of FILE.tmp (made by hand:
    # too short a window to hit): FILE.tmp is a second name of FILE, removed, never written
    # into, though this backup is refused as FILE exists.
    run.ok("backup", backup)
    was = backup.read_bytes()
    os.link(backup, tmp)
    assert "exists: use --force" in run.fails("backup", backup)
    assert beside(backup) == [] and backup.read_bytes() == was


def test_a_second_backup_to_the_same_file_is_refused_while_the_first_runs(
    run: Runner, tmp_path: Path
) -> None:
    big_store(run)
    backup = tmp_path / "net.backup"
    tmp = tmp_path / "net.backup.tmp"
    first = run.popen("backup", backup)
    wait_for(lambda: list(tmp_path.glob(".net.backup.tmp-*/store.db")) or first.proc.poll() is not None, 30,
             "the first backup to copy", 0.001)  # fmt: skip
    first.proc.send_signal(signal.SIGSTOP)  # held mid-copy: its FILE.tmp locked, and in use
    try:
        assert first.proc.poll() is None, "the first backup ended before it could be held"
        was = {name: (tmp_path / name).stat().st_ino for name in beside(backup)}
        assert "net.backup.tmp" in was
        for args in (("backup", backup), ("backup", backup, "--force")):
            line = run.fails(*args)
            assert "another syncnet backup is writing" in line and "wait for it to end" in line, line
            assert {name: (tmp_path / name).stat().st_ino for name in beside(backup)} == was  # untouched
        assert not backup.exists()
    finally:
        first.proc.send_signal(signal.SIGCONT)
    assert first.proc.wait(timeout=60) == 0, first.stderr()
    assert beside(backup) == [] and backup.exists()
    restored = Runner(tmp_path / "restored", tmp_path)
    assert restored.json("restore", backup, "--key-file", run.home / "key")["facts"] == 1500
    # A FILE.tmp that syncnet did not write is never taken over (nor removed).
    tmp.write_text("the user's own notes")
    assert "is not a file syncnet left" in run.fails("backup", backup, "--force")
    assert tmp.read_text() == "the user's own notes"


def restore_into(target: Runner, backup: Path, key: Path) -> Background:
    """A restore into `target.home`, the key put there beforehand (the home exists)."""
    target.home.mkdir(mode=0o700)
    (target.home / "key").write_bytes(key.read_bytes())
    (target.home / "key").chmod(0o600)
    return target.popen("restore", backup)


def building(target: Runner, proc: subprocess.Popen[bytes]) -> Any:
    """The store being built beside the home, once its database is there (or the end)."""
    return proc.poll() is not None or list(target.base.glob(f".{target.home.name}.restore-*/store.db"))


def test_a_killed_restore_leaves_nothing_the_next_one_does_not_remove(run: Runner, tmp_path: Path) -> None:
    big_store(run)
    backup = tmp_path / "net.backup"
    run.ok("backup", backup)
    target = Runner(tmp_path / "target", tmp_path)
    for _ in range(5):
        bg = restore_into(target, backup, run.home / "key")
        wait_for(lambda p=bg.proc: building(target, p), 30, "the restore to build", 0.001)
        bg.proc.kill()
        if bg.proc.wait(timeout=30) == -9:
            break
        shutil.rmtree(target.home)  # it finished first
    else:
        pytest.fail("no restore was killed")
    left = beside(target.home)
    assert ".target.restore.lock" in left and any(n.startswith(".target.restore-") for n in left), left
    assert sorted(p.name for p in target.home.iterdir()) == ["key"]  # the home as it was

    assert target.json("restore", backup)["facts"] == 1500
    assert beside(target.home) == [], beside(target.home)  # the dead restore's copy of the key removed
    assert target.json("verify")["whole"] is True and target.json("verify")["facts"] == 1500


def test_a_second_restore_into_the_same_home_is_refused_while_the_first_runs(
    run: Runner, tmp_path: Path
) -> None:
    big_store(run)
    backup = tmp_path / "net.backup"
    run.ok("backup", backup)
    target = Runner(tmp_path / "target", tmp_path)
    first = restore_into(target, backup, run.home / "key")
    wait_for(lambda: building(target, first.proc), 30, "the restore to build", 0.002)
    first.proc.send_signal(signal.SIGSTOP)
    try:
        assert first.proc.poll() is None, "the first restore ended before it could be held"
        was = beside(target.home)
        line = target.fails("restore", backup)
        assert "another syncnet restore into" in line and "wait for it to end" in line, line
        assert beside(target.home) == was and sorted(p.name for p in target.home.iterdir()) == ["key"]
    finally:
        first.proc.send_signal(signal.SIGCONT)
    assert first.proc.wait(timeout=60) == 0, first.stderr()
    assert beside(target.home) == []
    assert target.json("verify")["facts"] == 1500


def test_a_restore_killed_between_its_two_renames_is_undone_by_the_next(run: Runner, tmp_path: Path) -> None:
    """The home renamed aside, the new store not yet in its place (made by hand: a kill
    rarely lands in that window): the next restore moves the home back, then restores."""
    build(run)
    backup = tmp_path / "net.backup"
    run.ok("backup", backup)
    target = Runner(tmp_path / "target", tmp_path)
    target.home.mkdir(mode=0o700)
    (target.home / "key").write_bytes((run.home / "key").read_bytes())
    aside = tmp_path / ".target.before-restore-k1ll3d_x"
    target.home.rename(aside)
    assert target.json("restore", backup)["facts"] == store_state(run.home)[0]
    assert beside(target.home) == [] and (target.home / "key").read_bytes() == (run.home / "key").read_bytes()


def test_an_interrupted_backup_or_restore_removes_its_own_files(run: Runner, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT: KeyboardInterrupt, which click turns into "aborted", exit 1) in the
    middle: nothing left beside the file or the home."""
    big_store(run)
    backup = tmp_path / "net.backup"
    run.ok("backup", backup)
    copy = tmp_path / "copy.backup"
    for _ in range(10):
        bg = run.popen("backup", copy)

        def copying(proc: subprocess.Popen[bytes] = bg.proc) -> Any:
            return list(tmp_path.glob(".copy.backup.tmp-*/store.db")) or proc.poll() is not None

        wait_for(copying, 30, "the backup to copy", 0.001)
        bg.proc.send_signal(signal.SIGINT)
        if bg.proc.wait(timeout=30) != 0:
            break
        copy.unlink()  # it finished first
    else:
        pytest.fail("no backup was interrupted")
    assert bg.proc.returncode == 1 and bg.stderr().split() == ["syncnet:", "aborted"], bg.stderr()
    assert beside(copy) == [] and not copy.exists()

    target = Runner(tmp_path / "target", tmp_path)
    for _ in range(5):
        bg = restore_into(target, backup, run.home / "key")
        wait_for(lambda p=bg.proc: building(target, p), 30, "the restore to build", 0.001)
        bg.proc.send_signal(signal.SIGINT)
        if bg.proc.wait(timeout=30) != 0:
            break
        shutil.rmtree(target.home)  # it finished first
    else:
        pytest.fail("no restore was interrupted")
    assert bg.proc.returncode == 1 and bg.stderr().split() == ["syncnet:", "aborted"], bg.stderr()
    assert beside(target.home) == [] and sorted(p.name for p in target.home.iterdir()) == ["key"]


# ---------------------------------------------------------------- 8. the passphrase's other sources
def test_restore_takes_the_passphrase_from_passphrase_cmd_and_the_keyring(
    run: Runner, tmp_path: Path
) -> None:
    pw = "correct horse battery staple"
    build(run, passphrase=pw)
    backup = tmp_path / "net.backup"
    run.ok("backup", backup, passphrase=pw)
    n = store_state(run.home)[0]

    # passphrase_cmd in the home's config.toml (kept by the restore), no SYNCNET_PASSPHRASE.
    script = tmp_path / "print-pass.py"
    script.write_text(f"print({pw!r})\n")
    target = Runner(tmp_path / "target", tmp_path)
    write_top(target.home, passphrase_cmd=[sys.executable, str(script)])
    assert "SYNCNET_PASSPHRASE" not in target.env()
    doc = target.json("restore", backup)
    assert doc["key"] == "passphrase" and doc["facts"] == n
    assert sorted(p.name for p in target.home.iterdir()) == ["config.toml", "store.db", "store.json"]
    assert target.json("verify")["whole"] is True  # the other commands: the same command

    # From the config named by --config; a command printing another passphrase is refused.
    config = tmp_path / "elsewhere.toml"
    other = Runner(tmp_path / "other", tmp_path)
    config.write_text(f"passphrase_cmd = {toml_value([sys.executable, '-c', 'print(1234)'])}\n")
    assert "passphrase does not open" in other.fails("--config", config, "restore", backup)
    assert tree(other.home) is None and beside(other.home) == []
    config.write_text(f"passphrase_cmd = {toml_value([sys.executable, str(script)])}\n")
    assert other.json("--config", config, "restore", backup)["facts"] == n

    # The keyring entry of the home's absolute path (a stand-in `keyring` package).
    third = Runner(tmp_path / "third", tmp_path, process=True)  # `import keyring` finds the stub
    env = stub_keyring(tmp_path, {f"syncnet|{third.home}": pw})
    assert third.json("restore", backup, env=env)["facts"] == n
    assert keyring_calls(tmp_path) == [["syncnet", str(third.home)]]
