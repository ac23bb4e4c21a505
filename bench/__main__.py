"""python -m bench [--quick]: print one JSON line per figure (syncnet vs its anchor).

Groups (`--only NAME`, repeatable; default: all):
- due: `syncnet due --json` on a store of N events vs 1,000 events, same 500 contacts
  (time ratio, target <= 2.0); on 1,000 events vs `python -c pass` (target <= 8)
- caldav (bench/caldav.py): first sync vs a plain httpx PUT loop (Radicale, Xandikos),
  requests for 10 changed reminders, no-op sync vs vdirsyncer
- feed (bench/feed.py): the ICS feed rendered from the store vs icalendar from plain data;
  an unchanged feed answered 304 without rendering
- store (bench/store.py, when present)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import shutil
import statistics
from collections.abc import Callable
from typing import Any

GROUPS = ("due", "caldav", "feed", "store")


def alternate(a: Callable[[], float], b: Callable[[], float], repeat: int) -> tuple[float, float]:
    """Median of each, measured alternately after one warm-up of each."""
    a(), b()
    xs, ys = [], []
    for _ in range(repeat):
        xs.append(a())
        ys.append(b())
    return statistics.median(xs), statistics.median(ys)


def figure(name: str, mine: float, anchor: float, target: float, unit: str = "s") -> dict[str, object]:
    ratio = mine / anchor
    row = {"name": name, "syncnet": round(mine, 4), "anchor": round(anchor, 4), "unit": unit,
           "ratio": round(ratio, 3), "target": f"<= {target}", "pass": ratio <= target}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def run_due_group(quick: bool, repeat: int, large: int | None = None) -> list[dict[str, Any]]:
    from .due import build_store, run_due, run_pass

    large = large or (20_000 if quick else 100_000)
    small_home = build_store(1_000, 500)
    large_home = build_store(large, 500)
    try:
        mine, anchor = alternate(lambda: run_due(large_home), lambda: run_due(small_home), repeat)
        rows = [figure(f"due_{large}_vs_1000_events", mine, anchor, 2.0)]
        mine, anchor = alternate(lambda: run_due(small_home), run_pass, repeat)
        rows.append(figure("due_1000_events_vs_python_pass", mine, anchor, 8.0))
    finally:
        shutil.rmtree(small_home, ignore_errors=True)
        shutil.rmtree(large_home, ignore_errors=True)
    return rows


def _available(group: str) -> bool:
    return group == "due" or importlib.util.find_spec(f"{__package__ or 'bench'}.{group}") is not None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (each group says which)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--large", type=int, help="events in the large store (overrides the mode)")
    parser.add_argument("--only", action="append", choices=GROUPS, metavar="NAME",
                        help=f"run only this group of figures ({', '.join(GROUPS)}); repeatable")  # fmt: skip
    args = parser.parse_args()
    groups = list(dict.fromkeys(args.only or [g for g in GROUPS if _available(g)]))
    for group in groups:
        if not _available(group):
            parser.error(f"no figures group {group!r} (bench/{group}.py does not exist)")
    for group in groups:
        if group == "due":
            run_due_group(args.quick, args.repeat, args.large)
        else:
            module = importlib.import_module(f"{__package__ or 'bench'}.{group}")
            module.run(args.quick, args.repeat)


if __name__ == "__main__":
    main()
