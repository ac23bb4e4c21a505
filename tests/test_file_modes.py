"""File modes (issue 14, A): whatever the umask, every file syncnet creates in its home
is the owner's only (0600) and the home too (0700); a key file that its group or others
may use is refused by every command, in one line that names the file and the fix.

Through the CLI as a user runs it: `init` and the commands in real processes where the
umask is the point (a process inherits it), the refusals in this process (`run`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Runner, T, free_port, ics_target, wait_for, write_config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(home: Path) -> dict[str, int]:
    """Every entry of the home (the home itself as ".") and its permission bits."""
    return {".": mode(home), **{p.name: mode(p) for p in home.iterdir()}}


def snapshot(home: Path) -> dict[str, tuple[str, int]]:
    """What a write would change: each file's bytes (a digest) and mode."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), mode(p)) for p in sorted(home.iterdir())}


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """This process's umask, which the syncnet processes it starts inherit."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


# ---------------------------------------------------------------- what syncnet creates
def test_every_file_syncnet_creates_in_its_home_is_the_owners_only(
    run_process: Runner, home: Path, tmp_path: Path, umask: int
) -> None:
    run_process.ok("init")
    assert modes(home) == {".": 0o700, "key": 0o600, "store.db": 0o600, "store.json": 0o600}
    run_process.ok("meet", "Ada Lovelace", *T)
    # While a long-running command holds the store open, with a write in between, the
    # database's -wal and -shm files exist: SQLite gives them the database's mode.
    serving, _ = run_process.serve()
    run_process.ok("touch", "Ada Lovelace", *T)
    open_files = modes(home)
    assert {"store.db-wal", "store.db-shm"} <= set(open_files), open_files
    assert open_files == {".": 0o700, **{name: 0o600 for name in open_files if name != "."}}
    assert serving.stop() == 0
    after = modes(home)
    assert after == {".": 0o700, **{name: 0o600 for name in after if name != "."}}


@pytest.mark.parametrize("loose", [0o755, 0o750, 0o777])
def test_init_in_an_existing_home_open_to_others_tightens_it(
    run_process: Runner, home: Path, loose: int, umask: int
) -> None:
    home.mkdir()
    os.chmod(home, loose)  # as `mkdir` with a umask of 022 (or none) left it
    run_process.ok("init")
    assert modes(home) == {".": 0o700, "key": 0o600, "store.db": 0o600, "store.json": 0o600}


def test_a_store_json_left_by_an_interrupted_init_is_written_again_owner_only(
    run: Runner, home: Path
) -> None:
    home.mkdir(mode=0o700)
    left = home / "store.json.init"
    left.write_text("{half a document")
    os.chmod(left, 0o666)  # open to everyone: O_CREAT on it would keep that mode
    run.ok("init")
    assert modes(home) == {".": 0o700, "key": 0o600, "store.db": 0o600, "store.json": 0o600}
    assert run.json("contacts", *T)["contacts"] == []


# ---------------------------------------------------------------- a key file open to others
READ_COMMANDS = [
    ("due", *T), ("due", "--json", *T), ("contacts", *T), ("balance", *T), ("split", *T),
    ("warnings", *T), ("history", "Ada Lovelace", *T), ("show", "Ada Lovelace", *T),
    ("goal", "list", *T), ("status", *T), ("status", "--json", *T), ("feed", "url"),
]  # fmt: skip
WRITE_COMMANDS = [
    ("meet", "Grace Hopper", *T), ("touch", "Ada Lovelace", *T),
    ("give", "Ada Lovelace", "--kind", "advice", *T),
    ("promise", "Ada Lovelace", "a call", "--due", "2026-12-01", *T),
    ("goal", "add", "Write a book", *T), ("rename", "Ada Lovelace", "Ada King", *T), ("undo", "--yes"),
    ("sync", *T), ("sync", "--json", *T), ("feed", "rotate"), ("init",),
]  # fmt: skip
WHY = {0o644: "readable by group and others", 0o640: "readable by group",
       0o666: "readable and writable by group and others", 0o604: "readable by others",
       0o620: "writable by group"}  # fmt: skip


@pytest.fixture
def store(run: Runner, home: Path, tmp_path: Path) -> Path:
    """A store with a contact, and an .ics target that a sync would write."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", *T)
    write_config(home, cal=ics_target(tmp_path / "cal.ics"))
    return home


@pytest.mark.parametrize("loose", list(WHY), ids=[f"{m:04o}" for m in WHY])
def test_a_key_file_open_to_others_is_refused_by_every_command(
    run: Runner, store: Path, tmp_path: Path, loose: int
) -> None:
    key = store / "key"
    os.chmod(key, loose)
    before = snapshot(store)
    line = (f"syncnet: error: key file {key} is {WHY[loose]} (mode {loose:04o}): "
            f"run 'chmod 600 {key}'")  # fmt: skip
    for args in [*READ_COMMANDS, *WRITE_COMMANDS]:
        assert run.fails(*args) == line, args  # exit 2, nothing on stdout, this one line
    # The long-running commands refuse before they start.
    for args in [("daemon", "--poll", "0.1"), ("serve", "--port", free_port())]:
        bg = run.popen(*args)
        code = wait_for(lambda bg=bg: bg.proc.poll() is not None, 30, f"{args[0]} to exit")
        assert (bg.proc.returncode, bg.stdout(), bg.stderr()) == (2, "", line + "\n"), code
    assert snapshot(store) == before  # nothing written, the key's mode not changed behind the user's back
    assert not (tmp_path / "cal.ics").exists()

    os.chmod(key, 0o600)  # the fix the line gives
    run.ok("touch", "Ada Lovelace", *T)
    assert [c["name"] for c in run.json("contacts", *T)["contacts"]] == ["Ada Lovelace"]
    run.ok("sync", *T)
    assert (tmp_path / "cal.ics").exists()


def test_a_key_the_owner_alone_may_use_is_accepted_whatever_else_its_mode_says(
    run: Runner, store: Path
) -> None:
    for fine in (0o400, 0o600, 0o700):
        os.chmod(store / "key", fine)
        run.ok("due", *T)


def test_the_fix_is_quoted_for_a_shell_when_the_path_needs_it(run: Runner, tmp_path: Path) -> None:
    home = tmp_path / "my data"
    run.ok("--home", home, "init")
    os.chmod(home / "key", 0o644)
    line = run.fails("--home", home, "due", *T)
    assert line.endswith(f"run 'chmod 600 '{home}/key''"), line
