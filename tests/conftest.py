"""Shared fixtures: a temporary home and a `run` helper that drives the CLI as a
user would, in a subprocess ([sys.executable, "-m", "syncnet", ...]).

The environment is scrubbed of every SYNCNET_* variable and points HOME, the XDG
dirs and TMPDIR into the test's own temporary directory, so no test can touch the
real user's store or leave files outside tmp_path.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["caldav_fixtures"]  # CalDAV test peers: tests/caldav_fixtures.py

TODAY = "2026-11-20"  # every test injects its dates; none depends on the real date


class Runner:
    """Calls the CLI in a subprocess with SYNCNET_HOME=<home>."""

    def __init__(self, home: Path, base: Path) -> None:
        self.home = home
        self.base = base
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
def run(home: Path, tmp_path: Path) -> Runner:
    return Runner(home, tmp_path)


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
