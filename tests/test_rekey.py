"""`syncnet rekey` (issue 14, guarantee 4): the whole store under a new key, atomically.

On real SQLite files and real processes: every read equal before and after; afterwards the
old key opens nothing (not one fact, view row, state value or wrapped key, even with the
old store key taken from a copy of the old database); the switch between a key file and
a passphrase; a rekey killed at each step of its switch, and by SIGKILL at random moments,
leaves a store that opens with the old key or, once the switch was committed, the new;
a damaged store and a store in use are refused, and left as they were.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment
from support import Runner, record
from test_backup import build, reads

from syncnet.domain import commands as cmd
from syncnet.errors import WrongKey
from syncnet.storage import keys
from syncnet.storage.store import open_store
from syncnet.storage.viewstore import _aad

T = ("--today", "2026-11-20")
NEW = "a new passphrase"


def store_key_of(db: Path, kek: bytes) -> bytes:
    conn = sqlite3.connect(db)
    try:
        (wrapped,) = conn.execute("SELECT wrapped FROM syncnet_keys WHERE subject = 'store'").fetchone()
    finally:
        conn.close()
    return keys.unwrap(kek, keys.SEALED_STORE, bytes(wrapped))


def fact_cipher(store_key: bytes) -> AESCipher:
    """The library's cipher of stored facts, with `store_key`."""
    return AESCipher(Environment("test", {"CIPHER_KEY": base64.b64encode(store_key).decode()}))


def kek_of(home: Path) -> bytes:
    return base64.b64decode((home / "key").read_text())


def failure(run: Runner, *args: str) -> str:
    """Run, insist on exit 1 (a failure of the store, not bad input: nothing was written),
    empty stdout and one line on stderr; return it."""
    proc = run(*args)
    assert proc.returncode == 1 and proc.stdout == "", (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("syncnet: error: "), proc.stderr
    return lines[0]


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if ".rekey" in p.name or p.name == "rekey.lock")


def test_every_read_is_the_same_after_a_rekey_and_the_old_key_opens_nothing(
    run: Runner, tmp_path: Path
) -> None:
    build(run)
    run.ok("meet", "Linus Torvalds", "--note", "kernel", *T)
    run.ok("forget", "Linus", "--yes")  # a tombstone among the keys
    before = reads(run)
    feed = run.ok("feed", "url").stdout  # the feed secret, a state value
    old_kek = kek_of(run.home)
    old_db = tmp_path / "old.db"
    old_db.write_bytes((run.home / "store.db").read_bytes())
    old_store_key = store_key_of(old_db, old_kek)

    done = run.json("rekey")
    assert done["key"] == "file" and done["key_file"] == str(run.home / "key")
    assert done["facts"] == before[("verify",)]["facts"] > 0
    assert done["keys"] >= 2 and done["state"] >= 1 and done["state_dropped"] == []
    assert leftovers(run.home) == []
    assert os.stat(run.home / "key").st_mode & 0o777 == 0o600
    assert reads(run) == before
    assert run.ok("feed", "url").stdout == feed

    new_kek = kek_of(run.home)
    assert new_kek != old_kek
    with pytest.raises(WrongKey):  # the old key file no longer opens the store
        (run.home / "key").write_text(base64.b64encode(old_kek).decode() + "\n")
        open_store(run.home)
    (run.home / "key").write_text(base64.b64encode(new_kek).decode() + "\n")
    new_store_key = store_key_of(run.home / "store.db", new_kek)
    assert new_store_key != old_store_key

    # Everything the new database holds, tried with the old keys: nothing opens.
    conn = sqlite3.connect(run.home / "store.db")
    states = [bytes(s) for (s,) in conn.execute("SELECT state FROM stored_events")]
    views = [(k, key, o, bytes(d)) for k, key, o, d in conn.execute("SELECT * FROM syncnet_views")]
    state = [(s, k, bytes(d)) for s, k, d in conn.execute("SELECT scope, key, data FROM syncnet_state")]
    wrapped = [(s, bytes(w)) for s, w in conn.execute("SELECT subject, wrapped FROM syncnet_keys") if w]
    conn.close()
    assert states and views and state and len(wrapped) >= 2
    for blob in states:
        with pytest.raises((InvalidTag, ValueError)):
            fact_cipher(old_store_key).decrypt(blob)
        fact_cipher(new_store_key).decrypt(blob)  # the new key opens each
    sealed = [(_aad(k, key, o), d) for k, key, o, d in views]
    sealed += [(f"{s}:{k}".encode(), d) for s, k, d in state]
    for aad, blob in sealed:
        keys.decrypt(new_store_key, blob, aad)  # what it is sealed to: the new key opens it
        with pytest.raises(InvalidTag):
            keys.decrypt(old_store_key, blob, aad)
    for subject, blob in wrapped:
        for kek, aad in ((old_kek, subject), (old_kek, keys.SEALED_STORE)):
            with pytest.raises(WrongKey):
                keys.unwrap(kek, aad, blob)


def test_switching_between_a_key_file_and_a_passphrase(run: Runner) -> None:
    build(run)
    before = reads(run)
    old_kek = kek_of(run.home)
    run.ok("rekey", "--passphrase", env={"SYNCNET_NEW_PASSPHRASE": NEW})
    assert not (run.home / "key").exists()  # the key file is gone with the key mode
    assert "wrong key" in run.fails("due", passphrase="not it")
    assert reads(run, passphrase=NEW) == before
    with pytest.raises(WrongKey):
        keys.unwrap(old_kek, keys.SEALED_STORE, _wrapped_store_key(run.home))

    # passphrase -> passphrase: the old passphrase opens nothing afterwards
    run.ok("rekey", passphrase=NEW, env={"SYNCNET_NEW_PASSPHRASE": "another one"})
    assert "wrong key" in run.fails("due", passphrase=NEW)
    assert reads(run, passphrase="another one") == before
    same = run.fails("rekey", passphrase="another one", env={"SYNCNET_NEW_PASSPHRASE": "another one"})
    assert "the new passphrase is the old one" in same
    missing = run.fails("rekey", "--passphrase", passphrase="another one")
    assert "SYNCNET_NEW_PASSPHRASE" in missing

    # passphrase -> key file
    run.ok("rekey", "--key-file", passphrase="another one")
    assert os.stat(run.home / "key").st_mode & 0o777 == 0o600
    assert reads(run) == before
    assert "exclude each other" in run.fails("rekey", "--key-file", "--passphrase")
    assert leftovers(run.home) == []


def _wrapped_store_key(home: Path) -> bytes:
    conn = sqlite3.connect(home / "store.db")
    try:
        return bytes(conn.execute("SELECT wrapped FROM syncnet_keys WHERE subject = 'store'").fetchone()[0])
    finally:
        conn.close()


# ---------------------------------------------------------------- killed at each step
CRASH = """
import os, sys
from pathlib import Path
from syncnet.storage import rekey, store
point, home, to = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
calls = {}
def dies_at(name, n, real):
    def wrapper(*args, **kw):
        calls[name] = calls.get(name, 0) + 1
        if calls[name] == n:
            os._exit(9)  # like SIGKILL: no cleanup runs
        return real(*args, **kw)
    return wrapper
what, n = point.split(":")
if what == "replace":
    rekey.os.replace = dies_at(what, int(n), os.replace)
else:
    setattr(rekey, what, dies_at(what, int(n), getattr(rekey, what)))
store.rekey_store(home, None, "a new passphrase" if to == "passphrase" else None)
"""
# (the call the process dies at, whether the switch was committed by then)
POINTS = [
    ("_write_private:1", False),  # the new database built; key.rekey not written (file) / store.json.rekey
    ("_write_private:2", False),  # key.rekey written, store.json.rekey not (file mode only)
    ("fsync_dir:1", False),  # every new file written, the switch not committed
    ("replace:1", True),  # committed, nothing renamed yet
    ("replace:2", True),  # the database renamed in
    ("replace:3", True),  # the database and the key renamed in, store.json not (file mode only)
]


@pytest.mark.parametrize("to", ["file", "passphrase"])
def test_a_rekey_killed_at_each_step_leaves_the_old_store_or_the_new(run: Runner, to: str) -> None:
    build(run)
    before = reads(run)
    for point, committed in POINTS:
        if to == "passphrase" and point in ("_write_private:2", "replace:3"):
            continue  # no key file is written in a switch to a passphrase
        old_kek = kek_of(run.home)
        proc = subprocess.run([sys.executable, "-c", CRASH, point, str(run.home), to], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 9, (point, proc.stderr)
        assert leftovers(run.home), point  # the kill left its files
        if committed and to == "passphrase":
            assert reads(run, passphrase=NEW) == before, point  # the next command finishes the switch
            assert "wrong key" in run.fails("due", passphrase="not it")
            assert not (run.home / "key").exists()
            run.ok("rekey", "--key-file", passphrase=NEW)  # back, for the next point
        elif committed:
            assert reads(run) == before, point
            assert kek_of(run.home) != old_kek, point
            with pytest.raises(WrongKey):
                keys.unwrap(old_kek, keys.SEALED_STORE, _wrapped_store_key(run.home))
        else:
            assert reads(run) == before, point  # the old store, with the old key
            assert kek_of(run.home) == old_kek, point
        assert leftovers(run.home) == [], point
        assert run.json("verify")["whole"]


def test_a_rekey_killed_by_sigkill_at_random_moments(run: Runner, tmp_path: Path) -> None:
    """20 kills while rekeying a store of 12,000 facts: after each, the next command opens
    the store with the old key or the new, every fact there and the log whole."""
    run.ok("init")
    names = [f"P{i:03d} Lovelace" for i in range(100)]
    record(run.home, *(cmd.Meet(n, on=date(2026, 11, 1)) for n in names))
    record(run.home, *(cmd.Touch(names[i % 100], by="me", on=date(2026, 11, 2)) for i in range(12_000)))
    big_reads = [("contacts", *T), ("balance", *T), ("due", *T), ("split", *T), ("history", "P042", *T)]
    before = {args: run.json(*args) for args in big_reads}
    facts = run.json("verify")["facts"]
    started = time.monotonic()
    whole = subprocess.run([sys.executable, "-m", "syncnet", "rekey"], env=run.env(), capture_output=True)
    assert whole.returncode == 0, whole.stderr
    whole_run = time.monotonic() - started  # from the start of the interpreter: what a kill can land in
    rng = random.Random(14)
    outcomes = {"old key": 0, "new key": 0}
    landed = tries = 0
    while landed < 20 and tries < 40:  # a kill that comes after the end does not count: try again
        tries += 1
        old_kek = kek_of(run.home)
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "syncnet", "rekey"], env=run.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        try:
            proc.wait(timeout=rng.uniform(0.1, 0.95) * whole_run)
            whole_run = time.monotonic() - started  # it ran faster than measured: draw within this
        except subprocess.TimeoutExpired:
            landed += 1
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        verify = run.json("verify")  # opens (and recovers) the store with the key file now there
        assert verify["whole"] and verify["facts"] == facts
        outcomes["old key" if kek_of(run.home) == old_kek else "new key"] += 1
        assert leftovers(run.home) == []
    assert {args: run.json(*args) for args in big_reads} == before
    assert landed == 20, f"only {landed} of {tries} kills landed while the rekey ran"
    print(f"{tries} runs, {landed} killed while the rekey ran: {outcomes}")


# ---------------------------------------------------------------- refusals
def test_a_damaged_store_is_refused_and_left_as_it_was(run: Runner) -> None:
    build(run)
    conn = sqlite3.connect(run.home / "store.db")
    with conn:
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = 3").fetchone()
        flipped = bytes(state[:-1]) + bytes([state[-1] ^ 1])
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 3", (flipped,))
    conn.close()
    files = {p.name: p.read_bytes() for p in run.home.iterdir() if p.name in ("key", "store.json")}
    line = failure(run, "rekey")
    assert "position 3" in line and "syncnet verify" in line
    assert {p.name: p.read_bytes() for p in run.home.iterdir() if p.name in ("key", "store.json")} == files
    assert leftovers(run.home) == []
    verify = run("verify", "--json")
    assert verify.returncode == 1
    assert [f["position"] for f in json.loads(verify.stdout)["damaged_facts"]] == [3]


def test_a_store_in_use_is_refused(run: Runner) -> None:
    build(run)
    before = reads(run)
    key = (run.home / "key").read_bytes()
    server, _ = run.serve()  # the feed server holds the store open
    line = failure(run, "rekey")
    assert "another process has the store open" in line
    assert (run.home / "key").read_bytes() == key and leftovers(run.home) == []
    server.stop()
    assert reads(run) == before
    run.ok("rekey")
    assert (run.home / "key").read_bytes() != key and reads(run) == before


def test_a_command_during_a_rekey_is_told_so_and_a_dead_ones_files_are_removed(run: Runner) -> None:
    build(run)
    before = reads(run)
    (run.home / "store.db.rekey").write_bytes(b"half a database")  # what a killed rekey may leave
    (run.home / "key.rekey").write_bytes(b"half a key")
    fd = os.open(run.home / "rekey.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running rekey holds it
    try:
        assert "being rekeyed by another process" in failure(run, "due", *T)
    finally:
        os.close(fd)
    assert reads(run) == before  # no rekey runs: its leftovers are removed, the old store opens
    assert leftovers(run.home) == []


def test_calendars_know_their_store_after_a_rekey_and_a_forgotten_contact_leaves_them(run: Runner) -> None:
    """The store's id that calendars are checked against survives the rekey: otherwise
    every sync after it refuses to delete ('synced from another store'), erasures too."""
    run.ok("init")
    ics = run.base / "out.ics"
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{ics}"\n')
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-18", *T)
    run.ok("meet", "Bob Stone", "--on", "2026-11-18", *T)
    run.ok("sync", *T)
    assert b"Bob Stone" in ics.read_bytes()
    run.ok("rekey")
    run.ok("forget", "Bob", "--yes")
    run.ok("sync", *T)
    assert b"Bob Stone" not in ics.read_bytes() and b"Ada Lovelace" in ics.read_bytes()


def test_a_second_rekey_leaves_the_running_ones_lock_alone(run: Runner) -> None:
    build(run)
    fd = os.open(run.home / "rekey.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running rekey holds it
    try:
        assert "being rekeyed by another process" in failure(run, "rekey")
        assert (run.home / "rekey.lock").exists()  # the loser removed nothing
    finally:
        os.close(fd)
