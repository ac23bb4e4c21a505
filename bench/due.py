"""`syncnet due --json` wall time: on a large store against a small store with the
same contacts, and against `python -c pass` (the interpreter's own start-up)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from syncnet import Network, init_store

from .synthetic import TODAY, network


def build_store(events: int, contacts: int) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"syncnet-bench-{events}-"))
    init_store(home)
    with Network.open(home, home / "config.toml", today=TODAY) as net:
        net.record_many(network(events, contacts))
        net.refresh()  # views caught up, as after any read command
    return home


def run_due(home: Path) -> float:
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "syncnet", "--home", str(home), "due", "--json",
         "--today", TODAY.isoformat()],
        check=True, stdout=subprocess.DEVNULL, env={**os.environ, "SYNCNET_PASSPHRASE": ""},
    )  # fmt: skip
    return time.perf_counter() - t


def run_pass() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t
