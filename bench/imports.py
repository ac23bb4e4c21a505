"""Import figures (issue 15).

- import_linkedin_10000_vs_record_many: `syncnet import linkedin` of a Connections.csv of
  10,000 rows (parsing, matching against the network, recording), in process, against
  recording the same facts with `record_many` (the same Meet and Imported commands, built
  beforehand), each into a new store. Target <= 1.5.
- duplicates_10000_contacts: `likely_duplicates` over a network of 10,000 contacts (the
  contacts read and unsealed, the blocks compared), in seconds. Target < 2 s; the anchor
  is reading the same contacts' names and details alone (what any listing pays).
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from syncnet_adapters.linkedin import parse_linkedin

from syncnet import Network, init_store
from syncnet.app.imports import People, import_cards, likely_duplicates, plan

from .__main__ import alternate

TODAY = date(2026, 11, 20)
FIRST = ["Ada", "Grace", "Linus", "Barbara", "Alan", "Edsger", "Donald", "Margaret", "Ken", "Frances"]
LAST = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Turing", "Dijkstra", "Knuth", "Hamilton", "Thompson",
        "Allen", "Ritchie", "Kay", "Wirth", "Backus", "Iverson"]  # fmt: skip
COMPANIES = ["Analytical Engines", "Navy", "Acme", "Initech", "Globex", "Umbrella", "Hooli", "Stark"]


def linkedin_csv(rows: int, seed: int = 15) -> bytes:
    """A Connections.csv as LinkedIn writes it: the notes preamble, the header, mostly empty
    e-mails, a profile URL per row, dates like 15 Mar 2024."""
    rng = random.Random(seed)
    lines = ['Notes:',
             '"When exporting your connection data, you may notice that some of the email addresses are '
             'missing. You will only see email addresses for connections who have allowed their '
             'connections to see or download their email address using this setting."', '',
             'First Name,Last Name,URL,Email Address,Company,Position,Connected On']  # fmt: skip
    for i in range(rows):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{i}"
        day = date(2018, 1, 1) + timedelta(days=rng.randrange(3000))
        email = f"{first.lower()}.{last.lower()}@example.org" if rng.random() < 0.1 else ""
        lines.append(f"{first},{last},https://www.linkedin.com/in/{first.lower()}-{last.lower()},{email},"
                     f"{rng.choice(COMPANIES)},Engineer,{day.strftime('%d %b %Y')}")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def _home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="syncnet-bench-imports-"))
    init_store(home)
    return home


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def figure(name: str, mine: float, anchor: float, target: str, ok: bool) -> dict[str, Any]:
    row = {"name": name, "syncnet": round(mine, 4), "anchor": round(anchor, 4), "unit": "s",
           "ratio": round(mine / anchor, 3), "target": target, "pass": ok}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    rows_in = 2_000 if quick else 10_000
    data = linkedin_csv(rows_in)
    homes: list[Path] = []

    def importing() -> float:
        home = _home()
        homes.append(home)
        with Network.open(home, today=TODAY) as net:
            return timed(lambda: import_cards(net, parse_linkedin(data), "linkedin"))

    def recording() -> float:
        home = _home()
        homes.append(home)
        with Network.open(home, today=TODAY) as net:
            commands, _ = plan(net, parse_linkedin(data), "linkedin", TODAY)  # built before the clock starts
            return timed(lambda: net.record_many(commands))

    out = []
    try:
        mine, anchor = alternate(importing, recording, max(1, repeat // 2))
        name = f"import_linkedin_{rows_in}_vs_record_many"
        out.append(figure(name, mine, anchor, "<= 1.5", mine / anchor <= 1.5))

        net_home = homes[0]  # a network of rows_in imported contacts
        with Network.open(net_home, today=TODAY) as net:
            net.refresh()

            def listing() -> float:
                return timed(lambda: People.of(net))

            def finding() -> float:
                return timed(lambda: likely_duplicates(People.of(net)))

            mine, anchor = alternate(finding, listing, repeat)
            out.append(figure(f"duplicates_{rows_in}_contacts", mine, anchor, "< 2 s", mine < 2.0))
    finally:
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    return out
