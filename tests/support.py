"""Helpers shared by the test modules: `from support import ...` (pytest puts tests/ on
sys.path, as it does for caldav_fixtures). The fixtures built on them are in conftest.py.

The CLI
- Runner: drives the CLI as a user would, in a temporary home with a scrubbed
  environment; in this process by default, in a subprocess with ``process=True``.
  ``.ok``, ``.json`` and ``.fails`` insist on exit codes and on what stdout and stderr
  hold; ``.popen`` starts a long-running command (serve, daemon) in the background.
  ``.serve`` starts `syncnet serve` on a free port and waits until it answers.
- Background: such a command, its output readable while it runs.
- store_state(home): (max notification id, number of wrapped keys), what a write changes.

Time and ports: TODAY and T (the injected date), free_port(), wait_for(), next_second().
Configuration: toml_value(), write_config(), caldav_target(), ics_target().
The store: record(home, *commands) records setup facts in this process.
Calendars: ics_items(body) parses an iCalendar body by UID; agenda_items(run, last) is
what a calendar whose horizon ends on `last` (horizon_end()) should hold, from
`syncnet due --json`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from click import formatting
from click.testing import CliRunner

from bench.peers import free_port
from syncnet.app.network import Network
from syncnet.domain.reminders import uid_for
from syncnet.entrypoints.cli import main

__all__ = [
    "TODAY",
    "Background",
    "Runner",
    "T",
    "agenda_items",
    "answer_on_terminal",
    "caldav_target",
    "free_port",
    "horizon_end",
    "ics_items",
    "ics_target",
    "next_second",
    "read_until",
    "record",
    "store_state",
    "toml_value",
    "wait_for",
    "write_config",
]

TODAY = "2026-11-20"  # every test injects its dates; none depends on the real date
T = ("--today", TODAY)

# Warnings a plain `python` prints to stderr; the others are ignored by its default filters.
_SILENT_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


# ---------------------------------------------------------------- the CLI
class Background:
    """A long-running CLI command (serve, daemon) started by Runner.popen; its
    stdout and stderr go to files, readable while it runs."""

    def __init__(self, proc: subprocess.Popen[bytes], out: Path, err: Path) -> None:
        self.proc = proc
        self.out = out
        self.err = err

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int | None:
        """Send `sig` and wait up to `timeout` s; returns the exit code, or None when it
        had to be killed (SIGKILL) because it did not stop in time."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
            return None


class Runner:
    """Runs `syncnet ARGS` with SYNCNET_HOME=<home>, HOME, the XDG dirs and TMPDIR inside
    `base`, and no other SYNCNET_* or XDG_* variable, so that no test can touch the real
    user's store or leave files outside its own directory.

    In process (the default), `main(argv)` runs inside click's CliRunner isolation: the
    environment above replaces os.environ for the call, stdin is empty and not a
    terminal, stdout and stderr are captured apart, and the exit code is what `main`
    returns, as the console script's would be. Warnings and log records that a fresh
    interpreter would print land on the captured stderr too, so "a quiet stderr" means
    the same thing in both modes. With ``process=True`` every call is a new interpreter,
    [sys.executable, "-m", "syncnet", ...]: for what only a process shows (the entry
    point itself, another interpreter's syncnet)."""

    def __init__(self, home: Path, base: Path, *, process: bool = False) -> None:
        self.home = home
        self.base = base
        self.process = process
        self.background: list[Background] = []
        (base / "tmp").mkdir(exist_ok=True)
        (base / "user").mkdir(exist_ok=True)

    def env(self, passphrase: str | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCNET_", "XDG_"))}
        env.update(
            SYNCNET_HOME=str(self.home),
            HOME=str(self.base / "user"),
            XDG_DATA_HOME=str(self.base / "user" / "data"),
            XDG_CONFIG_HOME=str(self.base / "user" / "config"),
            TMPDIR=str(self.base / "tmp"),
            PYTHONIOENCODING="utf-8",
        )
        if passphrase is not None:
            env["SYNCNET_PASSPHRASE"] = passphrase
        env.update(extra)
        return env

    def __call__(
        self, *args: object, passphrase: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(a) for a in args]
        environment = self.env(passphrase, **(env or {}))
        if self.process:
            return subprocess.run(
                [sys.executable, "-m", "syncnet", *argv],
                env=environment,
                stdin=subprocess.DEVNULL,  # never a terminal: no passphrase prompt can hang a test
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=60,
            )
        return _in_process(argv, environment)

    def popen(
        self, *args: object, passphrase: str | None = None, env: dict[str, str] | None = None
    ) -> Background:
        """Start a long-running command in a process of its own; the `run` fixture stops
        it at teardown (SIGTERM, then SIGKILL) if the test has not."""
        n = len(self.background)
        out, err = self.base / f"bg{n}.stdout", self.base / f"bg{n}.stderr"
        with out.open("wb") as o, err.open("wb") as e:
            proc = subprocess.Popen(
                [sys.executable, "-m", "syncnet", *(str(a) for a in args)],
                env=self.env(passphrase, **(env or {})),
                stdin=subprocess.DEVNULL,
                stdout=o,
                stderr=e,
            )
        bg = Background(proc, out, err)
        self.background.append(bg)
        return bg

    def ok(self, *args: object, **kw: Any) -> subprocess.CompletedProcess[str]:
        """Run and insist on exit 0 and a quiet stderr."""
        proc = self(*args, **kw)
        assert proc.returncode == 0, f"syncnet {args} -> {proc.returncode}: {proc.stderr}"
        assert proc.stderr == "", proc.stderr
        return proc

    def json(self, *args: object, **kw: Any) -> Any:
        """Run with --json, insist on success, parse the one document printed."""
        doc = json.loads(self.ok(*args, "--json", **kw).stdout)
        assert doc["schema_version"] == 2
        return doc

    def serve(self, *args: object) -> tuple[Background, int]:
        """`syncnet serve --port P ARGS` on a free port P, once it answers HTTP; another
        port is tried if that one was taken in between. Returns (background, port)."""
        for _ in range(3):
            port = free_port()
            bg = self.popen("serve", "--port", port, *args)
            deadline = time.monotonic() + 15
            while bg.alive() and time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
                    return bg, port
                except httpx.TransportError:
                    time.sleep(0.05)
            bg.stop()  # the port was taken in between, or it never came up
        raise AssertionError(f"syncnet serve did not start: {bg.stderr()}")

    def fails(self, *args: object, **kw: Any) -> str:
        """Run, insist on exit 2, empty stdout and exactly one line on stderr; return it."""
        proc = self(*args, **kw)
        assert proc.returncode == 2, f"syncnet {args} -> {proc.returncode}: {proc.stdout}{proc.stderr}"
        assert proc.stdout == "", proc.stdout
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {proc.stderr!r}"
        assert lines[0].startswith("syncnet: error: "), lines[0]
        return lines[0]


def _in_process(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`main(argv)` with exactly `env` as the environment; what a process would print."""
    overrides: dict[str, str | None] = {k: None for k in os.environ if k not in env}  # None unsets
    overrides.update(env)
    saved_tempdir, cwd = tempfile.tempdir, os.getcwd()
    root = logging.getLogger()
    isolation = CliRunner().isolation(env=overrides)
    with isolation as (out, err, _), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        formatting.FORCED_WIDTH = None  # as in a process: the help's width from the terminal size
        tempfile.tempdir = None  # tempfile caches the temporary directory: read TMPDIR again
        to_stderr = logging.StreamHandler(sys.stderr)  # logging's last resort in a process
        to_stderr.setLevel(logging.WARNING)
        root.addHandler(to_stderr)
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            root.removeHandler(to_stderr)
            tempfile.tempdir = saved_tempdir
            os.chdir(cwd)
        for w in caught:
            if not issubclass(w.category, _SILENT_WARNINGS):
                sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = _text(out.getvalue()), _text(err.getvalue())
    return subprocess.CompletedProcess(["syncnet", *argv], code, stdout, stderr)


def _text(raw: bytes) -> str:
    """Decoded as subprocess.run(text=True) does: UTF-8, universal newlines."""
    return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline=None).read()


def store_state(home: Path) -> tuple[int, int]:
    """(max notification id, number of wrapped keys): what a write would change."""
    conn = sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True)
    try:
        (max_id,) = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
        (keys,) = conn.execute("SELECT COUNT(*) FROM syncnet_keys").fetchone()
    finally:
        conn.close()
    return (max_id or 0, keys)


# ---------------------------------------------------------------- time
def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something true, and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def next_second() -> None:
    """Sleep into the next whole second: a stamp taken after this differs from one before."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


# ---------------------------------------------------------------- configuration
def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, str | os.PathLike):
        return json.dumps(os.fspath(v))  # a JSON string is a valid TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def write_config(home: Path, rules: dict[str, Any] | None = None, **targets: dict[str, Any]) -> None:
    """<home>/config.toml with [rules] and one [targets.NAME] table per keyword (a target
    NAME reads its password from SYNCNET_<NAME>_PASSWORD); replaces the file."""
    lines = []
    if rules:
        lines += ["[rules]", *(f"{k} = {toml_value(v)}" for k, v in rules.items()), ""]
    for name, opts in targets.items():
        lines.append(f"[targets.{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in opts.items()]
        lines.append("")
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("\n".join(lines), encoding="utf-8")


def caldav_target(url: str, **opts: Any) -> dict[str, Any]:
    return {"type": "caldav", "url": url, **opts}


def ics_target(path: Path, **opts: Any) -> dict[str, Any]:
    return {"type": "ics", "path": path, **opts}


# ---------------------------------------------------------------- the store
def record(home: Path, *commands: Any, today: str | date = TODAY) -> None:
    """Record setup facts in this process, in one transaction, for tests whose subject
    is what reads or syncs them."""
    on = today if isinstance(today, date) else date.fromisoformat(today)
    with Network.open(home, today=on) as net:
        net.record_many(commands)


# ---------------------------------------------------------------- calendars
def ics_items(body: bytes, kind: str = "VEVENT") -> dict[str, Any]:
    """UID -> component of each `kind` in an iCalendar body; a duplicate UID fails."""
    from icalendar import Calendar  # imported lazily: most helpers' users never parse one

    found = Calendar.from_ical(body).walk(kind)
    by_uid = {str(c["UID"]): c for c in found}
    assert len(by_uid) == len(found), f"duplicate UIDs: {sorted(str(c['UID']) for c in found)}"
    return by_uid


def agenda_items(run: Runner, last: date, *args: str) -> dict[str, dict[str, Any]]:
    """UID -> item of `syncnet due --json --until LAST ARGS`, for the reminders due by
    `last` (overdue ones included): what a calendar with that horizon should hold.
    Each reminder must be listed once."""
    agenda = run.json("due", "--until", last.isoformat(), *args)["agenda"]
    items = [i for i in agenda if date.fromisoformat(i["due"]) <= last]
    keys = [i["key"] for i in items]
    assert len(keys) == len(set(keys)), f"the agenda lists a reminder twice: {keys}"
    return {uid_for(i["key"]): i for i in items}


def horizon_end(today: str | date, days: int = 60) -> date:
    """The last day a calendar target with a horizon of `days` holds."""
    start = today if isinstance(today, date) else date.fromisoformat(today)
    return start + timedelta(days=days)


# ---------------------------------------------------------------- terminals
def read_until(fd: int, end: bytes | None, timeout: float = 30.0) -> bytes:
    """What the terminal's master side shows, up to `end` (None: until the child is gone)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while end is None or end not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"timed out; the terminal shows {seen!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every process holding the terminal has exited
            chunk = b""
        if not chunk:
            assert end is None, f"the terminal closed; it shows {seen!r}"
            break
        seen += chunk
    return seen


def answer_on_terminal(
    argv: list[str], env: Mapping[str, str], prompt: bytes, reply: str
) -> tuple[str, str, int]:
    """Run `argv` with a pseudo-terminal as its controlling terminal (what getpass and
    click.confirm need), type `reply` once `prompt` shows; returns (what the terminal
    showed up to the prompt, what it showed after, the exit code)."""
    import fcntl
    import termios

    master, terminal = os.openpty()
    proc = subprocess.Popen(
        argv, stdin=terminal, stdout=terminal, stderr=terminal, env=dict(env),
        start_new_session=True,  # then make the terminal its controlling one
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    os.close(terminal)
    try:
        asked = read_until(master, prompt).decode()
        os.write(master, reply.encode() + b"\n")  # typed only once asked: getpass flushes earlier input
        shown = read_until(master, None).decode()
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return asked, shown, code
