"""Scale figures: each command on a large network against the same command on a small one.

The dimension that grows in real use is the network, not only its history: the large
store holds LARGE = 5,000 contacts and 100,000 facts over ten years (quick: 5,000 and
30,000), the small one SMALL = 500 contacts and 1,000 facts. Both are built by
bench/synthetic.py with the same seed and the same `--today`.

- scale_<command>: `syncnet <command>` as a new process (what a user or a script runs),
  median wall time on the large store against the small one, measured alternately.
  Target <= 1.5: a command costs O(what it touches), not O(contacts). The reads that
  list the whole network (due, contacts, balance, warnings) print ten times as many
  rows on the large store; their figure shows how small the cost per contact is.
- scale_listing_floor: the least any read of the whole network does (open the store,
  decrypt every contact row, unseal every name, write it), large against small: the
  bound under the figures of the reads that list every contact.
- touch_vs_import_floor: `syncnet touch NAME` on the large store against a Python
  process that imports exactly the modules that touch imports (found by running it once)
  and does nothing. Target <= 2.5: the floor is the cost of the stack itself.

Recording commands add a fact at every run (a dozen in all): nothing that the figures
depend on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncnet import Network, init_store
from syncnet.domain import commands as c

from .__main__ import alternate, figure
from .synthetic import TODAY, network

SMALL = (1_000, 500)
LARGE = (100_000, 5_000)
LARGE_QUICK = (30_000, 5_000)
YEARS = 10
ENV = {**os.environ, "SYNCNET_PASSPHRASE": ""}
DAY = ("--today", TODAY.isoformat())
ON = ("--on", TODAY.isoformat())


class Store:
    """A synthetic store and the names and ids its commands use."""

    def __init__(self, events: int, contacts: int) -> None:
        self.home = Path(tempfile.mkdtemp(prefix=f"syncnet-bench-scale-{contacts}-"))
        init_store(self.home)
        commands = network(events, contacts, years=YEARS)
        meets = [m for m in commands if isinstance(m, c.Meet)]
        # Contacts from the middle of the list: neither the first row nor the last.
        self.name = meets[len(meets) // 2].name
        self.other = meets[len(meets) // 3].name
        contact_id = meets[len(meets) // 4].contact_id
        assert contact_id is not None
        self.short = contact_id.hex[:8]
        with Network.open(self.home, self.home / "config.toml", today=TODAY) as net:
            net.record_many(commands)
            net.refresh()

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "syncnet", "--home", str(self.home), *args]

    def run(self, *args: str) -> str:
        done = subprocess.run(self.argv(*args), env=ENV, check=True, capture_output=True, text=True)
        return done.stdout

    def timed(self, *args: str) -> float:
        t = time.perf_counter()
        subprocess.run(self.argv(*args), env=ENV, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t

    def open_promise(self) -> str:
        """A new open promise to keep (recorded outside the timing)."""
        out = self.run("promise", self.other, "send the slides", "--due", "2026-12-20", *ON, *DAY, "--json")
        return str(json.loads(out)["recorded"]["promise_id"])

    def timed_kept(self) -> float:
        promise = self.open_promise()
        return self.timed("kept", promise, *ON, *DAY)


def commands(s: Store) -> dict[str, Callable[[], float]]:
    return {
        "touch_by_name": lambda: s.timed("touch", s.name, *ON, *DAY),
        "touch_by_short_id": lambda: s.timed("touch", s.short, *ON, *DAY),
        "give": lambda: s.timed("give", s.name, "--kind", "advice", *ON, *DAY),
        "promise": lambda: s.timed("promise", s.name, "call back", "--due", "2026-12-01", *ON, *DAY),
        "kept": s.timed_kept,
        "due_json": lambda: s.timed("due", "--json", *DAY),
        "contacts": lambda: s.timed("contacts", *DAY),
        "balance": lambda: s.timed("balance", *DAY),
        "warnings": lambda: s.timed("warnings", *DAY),
        "history": lambda: s.timed("history", s.name, *DAY),
    }


def imported_by(s: Store, *args: str) -> list[str]:
    """The modules a command imports, in the order they were first imported."""
    probe = (
        "import atexit, json, os, runpy, sys\n"
        "before = set(sys.modules)\n"
        "atexit.register(lambda: open(os.environ['PROBE_OUT'], 'w').write(json.dumps("
        "[m for m in sys.modules if m not in before])))\n"
        "sys.argv = ['syncnet', *sys.argv[1:]]\n"
        "runpy.run_module('syncnet', run_name='__main__')\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "modules.json"
        argv = [sys.executable, "-c", probe, "--home", str(s.home), *args]
        subprocess.run(argv, env={**ENV, "PROBE_OUT": str(out)}, check=True, stdout=subprocess.DEVNULL)
        return [m for m in json.loads(out.read_text()) if not m.startswith(("__main__", "syncnet.__main__"))]


def floor(modules: list[str]) -> float:
    t = time.perf_counter()
    # A few entries of sys.modules are not importable by their own name (extension
    # modules registered by their parent, e.g. cryptography's _openssl): their parent
    # imports them.
    code = (
        f"import importlib\nfor m in {modules!r}:\n"
        "    try:\n        importlib.import_module(m)\n    except ImportError:\n        pass\n"
    )
    subprocess.run([sys.executable, "-c", code], env=ENV, check=True)
    return time.perf_counter() - t


# The least a read of the whole network does, in a process with the CLI's imports: open
# the store, decrypt every contact row, unseal every name (each with its own contact key:
# the erasure promise), write the names. Its own large/small ratio bounds the figures of
# due, contacts, balance and warnings from below.
LISTING_FLOOR = """
import sys
from pathlib import Path
from syncnet import Network
from syncnet.entrypoints.cli import main
home = Path(sys.argv[1])
with Network.open(home, home / "config.toml") as net:
    unseal = net.store.keyring.unseal_text
    sys.stdout.write("\\n".join(unseal(c.name) for c in net.views.load_all("contact")))
"""


def listing_floor(s: Store) -> float:
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", LISTING_FLOOR, str(s.home)], env=ENV, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - t


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    large_size = LARGE_QUICK if quick else LARGE
    small, large = Store(*SMALL), Store(*large_size)
    rows: list[dict[str, Any]] = []
    try:
        small_runs, large_runs = commands(small), commands(large)
        for name in small_runs:
            mine, anchor = alternate(large_runs[name], small_runs[name], repeat)
            label = f"scale_{name}_{large_size[1]}c_{large_size[0]}f_vs_{SMALL[1]}c_{SMALL[0]}f"
            rows.append(figure(label, mine, anchor, 1.5))
        mine, anchor = alternate(lambda: listing_floor(large), lambda: listing_floor(small), repeat)
        label = f"scale_listing_floor_{large_size[1]}c_{large_size[0]}f_vs_{SMALL[1]}c_{SMALL[0]}f"
        rows.append(figure(label, mine, anchor, 1.5))
        modules = imported_by(large, "touch", large.name, *ON, *DAY)
        mine, anchor = alternate(large_runs["touch_by_name"], lambda: floor(modules), repeat)
        rows.append(figure(f"touch_{large_size[1]}c_vs_import_floor", mine, anchor, 2.5))
    finally:
        shutil.rmtree(small.home, ignore_errors=True)
        shutil.rmtree(large.home, ignore_errors=True)
    return rows
