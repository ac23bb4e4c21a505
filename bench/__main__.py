"""python -m bench [--quick]: print one JSON line per figure (syncnet vs its anchor).

Groups (`--only NAME`, repeatable; default: all):
- due: `syncnet due --json` on a store of N events vs 1,000 events, same 500 contacts
  (time ratio, target <= 2.0); on 1,000 events vs `python -c pass` (target <= 8)
- scale (bench/scale.py): every recording command and read on 5,000 contacts and 100,000
  facts vs 500 contacts and 1,000 facts (target <= 1.5), and touch vs its import floor
- caldav (bench/caldav.py): first sync vs a plain httpx PUT loop (Radicale, Xandikos),
  requests for 10 changed reminders, no-op sync vs vdirsyncer
- feed (bench/feed.py): the ICS feed rendered from the store vs icalendar from plain data;
  an unchanged feed answered 304 without rendering
- store (bench/store.py, when present)
- imports (bench/imports.py): `syncnet import linkedin` of 10,000 rows vs record_many of the
  same facts (target <= 1.5); `duplicates` on 10,000 contacts (target < 2 s)
- hub (bench/hub.py): push of 100,000 facts to a new PostgreSQL hub, then pull into a new
  store, vs record_many of the same facts, without and with the fold (target <= 2.0)
- pgstore (bench/pgstore.py): record_many into a store on PostgreSQL vs the bare
  eventsourcing.postgres event store (target: at least 0.8x its throughput); `syncnet due`
  on a PostgreSQL store vs the same facts on SQLite (target <= 1.5)
- prep (bench/prep.py): `syncnet prep EVENT` on 5,000 contacts and 100 events vs `syncnet
  due` on the same store (target <= 1.5), and its seconds vs the 0.5 s budget
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GROUPS = ("due", "scale", "caldav", "feed", "store", "imports", "hub", "pgstore", "prep")
BEGIN, END = "<!-- bench results: begin -->", "<!-- bench results: end -->"


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


def compile_bytecode() -> None:
    """Compile syncnet's modules, as `pip install .` does at install time.

    The test venv installs syncnet editable, so nothing compiles it; with
    PYTHONDONTWRITEBYTECODE set (it is, on the CI machines) every `syncnet` command
    would compile its sources again (about 25 ms of a no-op sync), while the anchors
    (vdirsyncer) run from the .pyc files pip wrote. Existing .pyc files are read
    whatever that variable says.
    """
    import compileall

    import syncnet_adapters

    import syncnet

    for package in (syncnet, syncnet_adapters):
        compileall.compile_dir(str(Path(package.__file__).parent), quiet=1)


def _available(group: str) -> bool:
    return group == "due" or importlib.util.find_spec(f"{__package__ or 'bench'}.{group}") is not None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (each group says which)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--large", type=int, help="events in the large store (overrides the mode)")
    parser.add_argument("--only", action="append", choices=GROUPS, metavar="NAME",
                        help=f"run only this group of figures ({', '.join(GROUPS)}); repeatable")  # fmt: skip
    parser.add_argument("--write", metavar="FILE", nargs="?", const="docs/benchmarks.md",
                        help="also write the results into FILE (default docs/benchmarks.md)")  # fmt: skip
    args = parser.parse_args()
    groups = list(dict.fromkeys(args.only or [g for g in GROUPS if _available(g)]))
    for group in groups:
        if not _available(group):
            parser.error(f"no figures group {group!r} (bench/{group}.py does not exist)")
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    compile_bytecode()
    for group in groups:
        if group == "due":
            rows += run_due_group(args.quick, args.repeat, args.large)
        else:
            module = importlib.import_module(f"{__package__ or 'bench'}.{group}")
            rows += module.run(args.quick, args.repeat)
        if args.write:  # after every group: a later group's failure keeps what was measured
            write_markdown(Path(args.write), rows, " ".join(["python -m bench", *sys.argv[1:]]),
                           time.perf_counter() - started)  # fmt: skip


def machine() -> str:
    import platform
    import sqlite3
    from importlib.metadata import version

    packages = ", ".join(f"{p} {version(p)}" for p in ("eventsourcing", "icalendar", "httpx", "radicale",
                                                          "xandikos", "vdirsyncer"))  # fmt: skip
    return (f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {packages}")  # fmt: skip


def _commit(written: Path) -> str:
    """The commit measured (with + when the tree had uncommitted changes other than the
    results file itself, which --write changes after every group)."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()

    dirty = git("status", "--porcelain", "-uno", "--", ".", f":(exclude){written.as_posix()}")
    return (git("rev-parse", "--short", "HEAD") or "?") + ("+" if dirty else "")


def write_markdown(path: Path, rows: list[dict[str, Any]], command: str, seconds: float) -> None:
    """The results as a section of docs/benchmarks.md. Rows of figures not run this time
    are kept (a partial run, `--only`, updates its own rows only)."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    kept: dict[str, str] = {}
    if BEGIN in old and END in old:
        for line in old[old.index(BEGIN) : old.index(END)].splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("| ") and len(cells) == 8 and cells[0] not in ("figure", "---"):
                kept[cells[0]] = line
    commit = _commit(path)
    for r in rows:
        verdict = "yes" if r["pass"] else "**no**"
        kept[r["name"]] = (f"| {r['name']} | {r['syncnet']} | {r['anchor']} | {r['unit']} "
                           f"| {r['ratio']} | {r['target']} | {verdict} | {commit} |")  # fmt: skip
    block = "\n".join([
        BEGIN,
        f"Last command: `{command}` ({seconds / 60:.1f} min)  ",
        f"Machine: {machine()}",
        "",
        "| figure | syncnet | anchor | unit | ratio | target | pass | code |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *kept.values(),
        END,
    ])  # fmt: skip
    if BEGIN in old and END in old:
        text = old[: old.index(BEGIN)] + block + old[old.index(END) + len(END) :]
    else:
        text = old.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
