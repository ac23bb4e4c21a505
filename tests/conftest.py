"""Shared fixtures: a temporary home and a `run` helper that drives the CLI as a
user would, in a subprocess ([sys.executable, "-m", "syncnet", ...]).

The environment is scrubbed of every SYNCNET_* variable and points HOME, the XDG
dirs and TMPDIR into the test's own temporary directory, so no test can touch the
real user's store or leave files outside tmp_path.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["caldav_fixtures"]  # CalDAV test peers: tests/caldav_fixtures.py

TODAY = "2026-11-20"  # every test injects its dates; none depends on the real date


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
    """Calls the CLI in a subprocess with SYNCNET_HOME=<home>."""

    def __init__(self, home: Path, base: Path) -> None:
        self.home = home
        self.base = base
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
        return subprocess.run(
            [sys.executable, "-m", "syncnet", *(str(a) for a in args)],
            env=self.env(passphrase, **(env or {})),
            stdin=subprocess.DEVNULL,  # never a terminal: no passphrase prompt can hang a test
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
        )

    def popen(
        self, *args: object, passphrase: str | None = None, env: dict[str, str] | None = None
    ) -> Background:
        """Start a long-running command in the background; the `run` fixture stops it
        at teardown (SIGTERM, then SIGKILL) if the test has not."""
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
        assert doc["schema_version"] == 1
        return doc

    def fails(self, *args: object, **kw: Any) -> str:
        """Run, insist on exit 2, empty stdout and exactly one line on stderr; return it."""
        proc = self(*args, **kw)
        assert proc.returncode == 2, f"syncnet {args} -> {proc.returncode}: {proc.stdout}{proc.stderr}"
        assert proc.stdout == "", proc.stdout
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {proc.stderr!r}"
        assert lines[0].startswith("syncnet: error: "), lines[0]
        return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The data directory (SYNCNET_HOME); not created: `syncnet init` does that."""
    return tmp_path / "home"


@pytest.fixture
def run(home: Path, tmp_path: Path) -> Iterator[Runner]:
    runner = Runner(home, tmp_path)
    try:
        yield runner
    finally:
        for bg in runner.background:
            bg.stop(timeout=2.0)


def store_state(home: Path) -> tuple[int, int]:
    """(max notification id, number of wrapped keys): what a write would change."""
    conn = sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True)
    try:
        (max_id,) = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
        (keys,) = conn.execute("SELECT COUNT(*) FROM syncnet_keys").fetchone()
    finally:
        conn.close()
    return (max_id or 0, keys)


@pytest.fixture
def state() -> Callable[[Path], tuple[int, int]]:
    return store_state
