"""prep figures: the briefing before an event on a network of 5,000 contacts and 100 events.

The store: bench/synthetic.py's network (5,000 contacts, 100,000 facts over ten years;
quick: 30,000), each contact with an organisation (one of 100, so some 50 a company),
and 100 events, each naming one organisation, expecting 20 contacts and with 10
contacts met there: some 80 people a briefing, each with a history to read notes from.

- prep_vs_due: `syncnet prep EVENT --json` against `syncnet due --json` on the same
  store, both new processes (what a user runs): target <= 1.5.
- prep_seconds_vs_budget: the same prep's median wall time against the 0.5 s the issue
  allows (ratio <= 1.0 passes).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from syncnet import Network, init_store
from syncnet.domain import commands as c

from .__main__ import alternate, figure
from .synthetic import TODAY, network

CONTACTS = 5_000
FACTS, FACTS_QUICK = 100_000, 30_000
EVENTS = 100
ORGS = 100
EXPECTED, MET_THERE = 20, 10
BUDGET = 0.5  # seconds: the bound for one briefing
ENV_DAY = ("--today", TODAY.isoformat())
ENV = {**os.environ, "SYNCNET_PASSPHRASE": ""}


def build(facts: int) -> tuple[Path, str]:
    """A store as the module doc says, and the name of the event in the middle of the list."""
    home = Path(tempfile.mkdtemp(prefix="syncnet-bench-prep-"))
    init_store(home)
    rng = random.Random(17)
    commands = network(facts, CONTACTS, years=10)
    meets = [m for m in commands if isinstance(m, c.Meet)]
    ids = [m.contact_id.hex for m in meets if m.contact_id is not None]
    commands += [c.SetDetails(cid, c.Details(org=f"Company {n % ORGS:03d} GmbH"), TODAY)
                 for n, cid in enumerate(ids)]  # fmt: skip
    for e in range(EVENTS):
        name = f"Conference {e:03d}"
        commands.append(c.EventAdd(name, TODAY + timedelta(days=1 + e), f"City {e % 7}",
                                   offer="a talk on event sourcing", orgs=(f"company {e:03d}",),
                                   on=TODAY - timedelta(days=20)))  # fmt: skip
        for cid in rng.sample(ids, EXPECTED + MET_THERE):
            commands.append(c.EventLink(name, cid, False, TODAY))
    with Network.open(home, home / "config.toml", today=TODAY) as net:
        net.record_many(commands)
        net.refresh()
    return home, f"Conference {EVENTS // 2:03d}"


def timed(home: Path, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "syncnet", "--home", str(home), *args, *ENV_DAY],
                   env=ENV, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    home, event = build(FACTS_QUICK if quick else FACTS)
    try:
        people = subprocess.run(
            [sys.executable, "-m", "syncnet", "--home", str(home), "prep", event, "--json", *ENV_DAY],
            env=ENV, check=True, capture_output=True, text=True,
        ).stdout.count('"links"')  # fmt: skip
        print(f"# prep {event}: {people} people in the briefing", file=sys.stderr)
        mine, anchor = alternate(lambda: timed(home, "prep", event, "--json"),
                                 lambda: timed(home, "due", "--json"), repeat)  # fmt: skip
        facts = FACTS_QUICK if quick else FACTS
        rows = [figure(f"prep_{CONTACTS}c_{EVENTS}ev_{facts}f_vs_due", mine, anchor, 1.5)]
        rows.append(figure(f"prep_{CONTACTS}c_{EVENTS}ev_{facts}f_seconds_vs_0.5s", mine, BUDGET, 1.0))
        return rows
    finally:
        shutil.rmtree(home, ignore_errors=True)
