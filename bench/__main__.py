"""python -m bench [--quick]: print one JSON line per figure (syncnet vs its anchor).

Figures so far (issue 4 adds the rest):
- due_large_vs_small: `syncnet due --json` on a store of N events vs 1,000 events,
  same 500 contacts (time ratio, target <= 2.0)
- due_vs_python: `syncnet due --json` on 1,000 events vs `python -c pass` (target <= 8)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from collections.abc import Callable

from .due import build_store, run_due, run_pass


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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (20,000 events)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--large", type=int, help="events in the large store (overrides the mode)")
    args = parser.parse_args()
    large = args.large or (20_000 if args.quick else 100_000)
    small_home = build_store(1_000, 500)
    large_home = build_store(large, 500)
    try:
        mine, anchor = alternate(lambda: run_due(large_home), lambda: run_due(small_home), args.repeat)
        figure(f"due_{large}_vs_1000_events", mine, anchor, 2.0)
        mine, anchor = alternate(lambda: run_due(small_home), run_pass, args.repeat)
        figure("due_1000_events_vs_python_pass", mine, anchor, 8.0)
    finally:
        shutil.rmtree(small_home, ignore_errors=True)
        shutil.rmtree(large_home, ignore_errors=True)


if __name__ == "__main__":
    main()
