"""todoman as a real client, end to end (docs/sync.md, "Completions"): syncnet pushes a
follow-up as a VTODO to Radicale, vdirsyncer copies the calendar into a local vdir,
`todo done` ticks it off there, vdirsyncer pushes that back, and the next `syncnet sync`
records the touch. Skipped where todoman or vdirsyncer is not installed
(`pip install todoman vdirsyncer`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from caldav_fixtures import Calendar, read_back
from support import TODAY, Runner, T, caldav_target, record, write_config

from syncnet.domain import commands as cmd
from syncnet.domain.reminders import uid_for
from syncnet.storage.store import init_store

TIMEOUT = 60  # seconds, for each todoman or vdirsyncer process
TARGET = "phone"


def executable(name: str, package: str) -> str:
    """The console script of this interpreter's environment, else one on PATH; skips the
    test when neither is there (the venv need not be activated)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"`{name}` is not installed (pip install {package})")
    return found


def client_env(run: Runner, base: Path) -> dict[str, str]:
    """The Runner's isolated environment (HOME, XDG dirs, TMPDIR in tmp_path) plus a cache
    of our own, so neither client reads or writes the user's files."""
    return run.env(XDG_CACHE_HOME=str(base / "user" / "cache"))


def client(argv: list[str], env: dict[str, str]) -> str:
    """Run a client non-interactively; fail with its output when it fails."""
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=TIMEOUT)  # fmt: skip
    assert proc.returncode == 0, f"{argv} -> {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def vdirsyncer_config(base: Path, cal: Calendar) -> tuple[Path, Path]:
    """A pair of the calendar (listed explicitly: `collections = null`, so discover asks
    nothing) and a local vdir folder. Returns (config file, the folder of the vdir lists)."""
    lists, status = base / "vdirs", base / "vdirsyncer-status"
    (lists / "syncnet").mkdir(parents=True)
    status.mkdir()
    user, password = cal.auth or ("test", "x")  # Radicale without auth takes any login
    config = base / "vdirsyncer.conf"
    config.write_text(f"""[general]
status_path = "{status}/"

[pair calendar]
a = "calendar_local"
b = "calendar_remote"
collections = null
conflict_resolution = "a wins"

[storage calendar_local]
type = "filesystem"
path = "{lists / "syncnet"}/"
fileext = ".ics"

[storage calendar_remote]
type = "caldav"
url = "{cal.url}"
username = "{user}"
password = "{password}"
""")
    return config, lists


def todoman_config(base: Path, lists: Path) -> Path:
    """todoman's config is Python; the formats it needs to print and parse dates."""
    config = base / "todoman.py"
    config.write_text(f"""path = {str(lists / "*")!r}
cache_path = {str(base / "todoman-cache.sqlite3")!r}
date_format = "%Y-%m-%d"
time_format = "%H:%M"
default_due = 0
humanize = False
color = "never"
""")
    return config


def open_todos(todo: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    todos: list[dict[str, Any]] = json.loads(client([*todo, "--porcelain", "list"], env))
    return todos


def test_todo_done_in_todoman_becomes_a_touch(run: Runner, home: Path, tmp_path: Path,
                                               radicale_calendar: Calendar) -> None:  # fmt: skip
    vdirsyncer = [executable("vdirsyncer", "vdirsyncer")]
    todo = [executable("todo", "todoman")]
    cal = radicale_calendar

    # syncnet: Ada met on the 18th, a follow-up due, pushed as a VTODO
    init_store(home)
    write_config(home, **{TARGET: caldav_target(cal.url, style="todo")})
    record(home, cmd.Meet("Ada Lovelace", why="role-model", on=date(2026, 11, 18)))
    (pushed,) = run.json("sync", *T)["targets"]
    assert pushed["ok"] and pushed["counts"]["created"] == 1, pushed
    (followup,) = [i for i in run.json("due", *T)["agenda"] if i["rule"] == "followup"]

    # vdirsyncer: the calendar copied into a vdir
    env = client_env(run, tmp_path)
    config, lists = vdirsyncer_config(tmp_path, cal)
    vdirsyncer += ["-c", str(config)]
    client([*vdirsyncer, "discover"], env)
    client([*vdirsyncer, "sync"], env)
    assert len(list((lists / "syncnet").glob("*.ics"))) == 1

    # todoman: the follow-up is listed; tick it off
    todo += ["--config", str(todoman_config(tmp_path, lists))]
    listed = client([*todo, "list"], env)
    assert "Ada Lovelace" in listed
    (item,) = open_todos(todo, env)
    assert "Ada Lovelace" in item["summary"] and not item["completed"], item
    done = json.loads(client([*todo, "--porcelain", "done", str(item["id"])], env))
    assert done["completed"], done
    assert open_todos(todo, env) == []

    # vdirsyncer pushes the completion back to the server
    client([*vdirsyncer, "sync"], env)
    (on_server,) = read_back(cal)
    assert on_server["STATUS"] == "COMPLETED"

    # syncnet takes it in: a touch, and the follow-up is no longer due
    (t,) = run.json("sync", *T)["targets"]
    assert t["ok"], t
    assert [a["uid"] for a in t["actions"] if a["action"] == "completed"] == [uid_for(followup["key"])], t
    (touch,) = [e for e in run.json("history", "Ada", *T)["events"] if e["kind"] == "touch"]
    assert touch["details"]["note"] == f"ticked off in {TARGET}"
    assert touch["details"]["by"] == "me" and touch["on"] == TODAY  # done now, never after --today
    assert "followup" not in {i["rule"] for i in run.json("due", *T)["agenda"]}
