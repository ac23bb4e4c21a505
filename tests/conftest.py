"""Shared fixtures: a temporary home, and `run`, which drives the CLI as a user would
(tests/support.py: Runner), in this process; `run_process` does the same in a new
interpreter per call, for the tests where the process is the point.

The environment of every call is scrubbed of every SYNCNET_* variable and points HOME,
the XDG dirs and TMPDIR into the test's own temporary directory, so no test can touch
the real user's store or leave files outside tmp_path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# bench/peers.py starts the CalDAV servers for the tests and the benchmarks alike; the
# repository's root is on sys.path under `python -m pytest`, and here for a bare `pytest`.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from support import Background, Runner, store_state  # noqa: E402

__all__ = ["Background", "Runner"]  # importable from here too, as test_long_running.py does

pytest_plugins = ["caldav_fixtures", "pg_fixtures"]  # CalDAV peers, PostgreSQL databases


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The data directory (SYNCNET_HOME); not created: `syncnet init` does that."""
    return tmp_path / "home"


def _runner(home: Path, base: Path, process: bool) -> Iterator[Runner]:
    runner = Runner(home, base, process=process)
    try:
        yield runner
    finally:
        for bg in runner.background:
            bg.stop(timeout=2.0)


@pytest.fixture
def run(home: Path, tmp_path: Path) -> Iterator[Runner]:
    """The CLI in this process (long-running commands started with .popen are processes)."""
    yield from _runner(home, tmp_path, process=False)


@pytest.fixture
def run_process(home: Path, tmp_path: Path) -> Iterator[Runner]:
    """The CLI in a new interpreter per call: [sys.executable, "-m", "syncnet", ...]."""
    yield from _runner(home, tmp_path, process=True)


@pytest.fixture
def state() -> Callable[[Path], tuple[int, int]]:
    return store_state
