"""CalDAV figures: syncnet against real Radicale and Xandikos servers started here.

- first_sync_N_{radicale,xandikos}_vs_httpx_put_loop: the first sync of N reminders to a
  fresh calendar (in-process `sync_target`, as the daemon does it) against a plain
  httpx.Client loop PUTting the same N pre-rendered items (If-None-Match: *) into another
  fresh calendar. Targets: <= 1.15 (Radicale), <= 1.1 (Xandikos). N = 1,000 (quick: 200).
- changed_10_of_N_requests: 10 reminders completed among N, then a sync: requests / 12.
- completions_100_of_1000_requests: 100 reminders of a 1,000-item calendar ticked off by a
  client (GET, then PUT with If-Match: STATUS:COMPLETED and COMPLETED), then one sync:
  requests / (the sync-collection REPORT + one GET per changed item + syncnet's writes),
  the bound the issue sets. syncnet reads the changed items back with calendar-multiget,
  so it sends the ctag probe, the REPORT and one multiget.
- noop_sync_{cli,inprocess}_N_vs_vdirsyncer: a sync with nothing to do on a calendar
  holding N reminders, as `syncnet sync` (CLI) and in-process, against `vdirsyncer sync`
  (a vdir and a caldav storage on the same calendar). Target <= 0.3, N = 1,000 and 5,000
  (quick: 1,000); and noop_sync_requests_N: requests / 2.
- noop_floor_cli_N_vs_vdirsyncer: what bounds the CLI figure, measured in the same
  rounds: a Python process that only imports what any command on this stack must
  (click, httpx, cryptography, sqlite3, tomllib) and sends the one request a no-op
  sync sends (PROPFIND getctag). It does no syncnet work, so no CLI can beat it.

Radicale's PUT slows down as a calendar grows (it checks UID uniqueness by scanning), so
every first-sync run gets a fresh calendar. The 5,000-item calendar is seeded by writing
the .ics files into Radicale's storage folder, and syncnet is given the state it would
have after pushing them (seeding through PUTs would take minutes).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import httpx

from syncnet import Network, init_store
from syncnet.app.sync import OURS, ItemState, TargetState
from syncnet.bootstrap import sync_target, target_by_name
from syncnet.domain import commands as c
from syncnet.domain.config import Target
from syncnet.domain.reminders import StampedItem

from .__main__ import alternate, figure
from .peers import Server, make_calendar, radicale, xandikos
from .synthetic import TODAY, followups

USER, PASSWORD = "test", "bench"  # Radicale runs with [auth] type = none: any password
STYLE, ALARMS, HORIZON = "todo", ("PT9H",), 60  # what a caldav target uses by default
SEED_BY_PUT_MAX = 1_000  # larger calendars are seeded through Radicale's storage folder
BIN = Path(sys.executable).parent


def _script(name: str) -> list[str]:
    """A console script of this venv (as a user runs it), else `python -m name`."""
    exe = BIN / name
    return [str(exe)] if exe.exists() else [sys.executable, "-m", name]


def reminder_store(n: int, config: str = "") -> Path:
    """A fresh store whose calendar holds exactly `n` follow-up reminders (stamped)."""
    home = Path(tempfile.mkdtemp(prefix=f"syncnet-bench-caldav-{n}-"))
    init_store(home)
    (home / "config.toml").write_text(config, encoding="utf-8")
    with Network.open(home, home / "config.toml", today=TODAY) as net:
        net.record_many(followups(n))
        items = net.calendar_items(HORIZON)  # stamps them once, as a first sync would
    assert len(items) == n and {s.item.rule for s in items} == {"followup"}, len(items)
    return home


def _bodies(items: Sequence[StampedItem]) -> list[tuple[str, bytes]]:
    """(file name, body) per item, rendered as syncnet's caldav target renders them."""
    from syncnet_adapters.ics import parse_offset, render_one

    offsets = [parse_offset(a) for a in ALARMS]
    return [(s.item.uid.split("@")[0] + ".ics", render_one(s, STYLE, offsets)) for s in items]


def _auth(server: Server) -> tuple[str, str] | None:
    return (USER, PASSWORD) if server.name.startswith("radicale") else None


def _target(name: str, url: str, server: Server) -> Target:
    target = Target(name, "caldav", url=url, user=USER if _auth(server) else "", style=STYLE,
                    alarms=ALARMS, horizon_days=HORIZON)  # fmt: skip
    if target.user:
        os.environ[f"{target.env_prefix}_PASSWORD"] = PASSWORD
    return target


def _check(outcome: Any, **counts: int) -> None:
    if outcome.error is not None:
        raise RuntimeError(f"sync failed: {outcome.error}")
    for action, expected in counts.items():
        got = outcome.report.count(action)
        if got != expected:
            raise RuntimeError(f"sync {action} {got} reminders, expected {expected}")


def rotate(fns: Sequence[Callable[[], float]], repeat: int) -> list[float]:
    """Median of each, measured in turn (round robin) after one warm-up of each."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, ts in zip(fns, times, strict=True):
            ts.append(fn())
    return [statistics.median(ts) for ts in times]


# ------------------------------------------------------------------ first sync
def first_sync(
    net: Network, server: Server, n: int, repeat: int, target: float
) -> tuple[dict[str, Any], Target]:
    """syncnet's first sync of `n` reminders vs a plain httpx PUT loop, fresh calendars."""
    bodies = _bodies(net.calendar_items(HORIZON))
    assert len(bodies) == n
    counter = itertools.count()
    last: list[Target] = []

    def mine() -> float:
        tgt = _target(f"first_{server.name}_{next(counter)}", make_calendar(server).url, server)
        t = time.perf_counter()
        outcome = sync_target(net, tgt)
        elapsed = time.perf_counter() - t
        _check(outcome, created=n)
        last[:] = [tgt]
        return elapsed

    def anchor() -> float:
        url = make_calendar(server).url
        headers = {"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"}
        t = time.perf_counter()
        with httpx.Client(auth=_auth(server), timeout=60) as client:
            for name, body in bodies:
                r = client.put(url + name, content=body, headers=headers)
                if r.status_code != 201:
                    raise RuntimeError(f"PUT {name}: HTTP {r.status_code}")
        return time.perf_counter() - t

    a, b = alternate(mine, anchor, repeat)
    return figure(f"first_sync_{n}_{server.name}_vs_httpx_put_loop", a, b, target), last[0]


def changed(net: Network, target: Target, n: int, k: int = 10) -> dict[str, Any]:
    """Complete `k` follow-ups (a touch by me) among `n` synced reminders, then sync."""
    contacts = [cmd.contact_id.hex for cmd in followups(n)[:k] if isinstance(cmd, c.Meet) and cmd.contact_id]
    net.record_many([c.Touch(cid, "me", "email", on=TODAY) for cid in contacts])
    outcome = sync_target(net, target)
    _check(outcome, deleted=k, created=0, updated=0)
    return figure(f"changed_{k}_of_{n}_requests", outcome.requests, 12, 1.0, unit="requests")


def _tick_off(server: Server, url: str, names: Sequence[str]) -> None:
    """Complete items as a client does: GET, set STATUS and COMPLETED, PUT with If-Match."""
    from icalendar import Calendar

    done = datetime.combine(TODAY, dtime(12), UTC)  # the bench's day, not the machine's
    with httpx.Client(auth=_auth(server), timeout=60) as client:
        for name in names:
            r = client.get(url + name)
            r.raise_for_status()
            cal = Calendar.from_ical(r.content)
            for todo in cal.walk("VTODO"):
                todo.pop("STATUS", None)
                todo.add("STATUS", "COMPLETED")
                todo.add("COMPLETED", done)
            headers = {"If-Match": r.headers["ETag"], "Content-Type": "text/calendar; charset=utf-8"}
            put = client.put(url + name, content=cal.to_ical(), headers=headers)
            if put.status_code not in (200, 201, 204):
                raise RuntimeError(f"PUT {name}: HTTP {put.status_code}")


def completions(server: Server, n: int = 1_000, k: int = 100) -> dict[str, Any]:
    """`k` of `n` synced reminders ticked off in a client, then one in-process sync: its
    requests against the sync-collection REPORT + one GET per changed item + its writes."""
    url = make_calendar(server, f"completions{n}").url
    home = reminder_store(n, f'[targets.bench]\ntype = "caldav"\nurl = "{url}"\nuser = "{USER}"\n')
    os.environ["SYNCNET_BENCH_PASSWORD"] = PASSWORD
    try:
        with Network.open(home, home / "config.toml", today=TODAY) as net:
            target = target_by_name(net, "bench")
            _check(sync_target(net, target), created=n)
            _check(sync_target(net, target), created=0, updated=0, deleted=0)  # learns the ctag
            items = net.calendar_items(HORIZON)
            _tick_off(server, url, [s.item.uid.split("@")[0] + ".ics" for s in items[:k]])
            before = net.position()
            outcome = sync_target(net, target)
            _check(outcome, completed=k)
            writes = sum(outcome.report.count(a) for a in ("created", "updated", "deleted"))
            net.refresh()
            # k touches, plus the one fact that records what the sync did
            facts = net.position() - before
            if facts != k + 1 or len(net.calendar_items(HORIZON)) != n - k:
                raise RuntimeError(f"{facts} facts recorded for {k} completions")
            # The facts change the agenda; the next sync leaves the user's items alone.
            _check(sync_target(net, target), created=0, updated=0, deleted=0)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return figure(f"completions_{k}_of_{n}_requests", outcome.requests, 1 + k + writes, 1.0, unit="requests")


# ------------------------------------------------------------------ no-op sync
def _seed_files(storage: Path, url: str, items: Sequence[StampedItem]) -> TargetState:
    """Write the items straight into Radicale's folder for the collection at `url`;
    returns the state syncnet would hold after pushing them itself."""
    path = httpx.URL(url).path  # /test/<calendar>/
    folder = storage / "collection-root" / path.strip("/")
    assert (folder / ".Radicale.props").exists(), folder
    state = TargetState(collection=url)
    for (name, body), s in zip(_bodies(items), items, strict=True):
        (folder / name).write_bytes(body)
        state.items[s.item.uid] = ItemState(path + name, None, s.stamp.content_hash, OURS, s.item.contact_id)
    return state


def _vdirsyncer(base: Path, url: str, n: int) -> list[str]:
    """A vdirsyncer pair (a vdir and a caldav storage on `url`), discovered and synced
    once; returns the argv of its sync."""
    (base / "vdir").mkdir(parents=True)
    (base / "status").mkdir()
    cfg = base / "config"
    cfg.write_text(f"""[general]
status_path = "{base / "status"}/"

[pair bench]
a = "bench_vdir"
b = "bench_caldav"
collections = null
conflict_resolution = "b wins"

[storage bench_vdir]
type = "filesystem"
path = "{base / "vdir"}/"
fileext = ".ics"

[storage bench_caldav]
type = "caldav"
url = "{url}"
username = "{USER}"
password = "{PASSWORD}"
""")
    argv = [*_script("vdirsyncer"), "-c", str(cfg)]
    subprocess.run([*argv, "discover"], check=True, stdin=subprocess.DEVNULL, capture_output=True)
    subprocess.run([*argv, "sync"], check=True, stdin=subprocess.DEVNULL, capture_output=True)
    held = len(list((base / "vdir").glob("*.ics")))
    if held != n:
        raise RuntimeError(f"vdirsyncer pulled {held} items, expected {n}")
    return [*argv, "sync"]


FLOOR = """
import sqlite3, sys, tomllib
import click, httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
body = ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" '
        'xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/></d:prop></d:propfind>')
with httpx.Client(auth=(sys.argv[2], sys.argv[3]), verify=False) as client:
    r = client.request("PROPFIND", sys.argv[1], content=body, headers={"Depth": "0"})
    assert r.status_code == 207 and b"getctag" in r.content, r.status_code
"""


def noop(server: Server, storage: Path, work: Path, n: int, repeat: int) -> list[dict[str, Any]]:
    url = make_calendar(server, f"noop{n}").url
    # A generous timeout: adopting a seeded calendar makes Radicale parse every item
    # before it answers (over 30 s for 5,000 on a slow machine); that step is not timed.
    config = f'[targets.bench]\ntype = "caldav"\nurl = "{url}"\nuser = "{USER}"\ntimeout = 600\n'
    home = reminder_store(n, config)
    env = {**os.environ, "SYNCNET_PASSPHRASE": "", "SYNCNET_BENCH_PASSWORD": PASSWORD}
    os.environ["SYNCNET_BENCH_PASSWORD"] = PASSWORD
    try:
        with Network.open(home, home / "config.toml", today=TODAY) as net:
            target = target_by_name(net, "bench")
            if n <= SEED_BY_PUT_MAX:
                _check(sync_target(net, target), created=n)
            else:
                state = _seed_files(storage, url, net.calendar_items(HORIZON))
                net.state.put("target:bench", "state", state.to_json())
                adopt = sync_target(net, target)  # one listing: learns the ETags, writes nothing
                _check(adopt, created=0, updated=0, deleted=0)
            vdir_argv = _vdirsyncer(work / f"vdirsyncer-{n}", url, n)
            requests: list[int] = []

            def cli() -> float:
                argv = [*_script("syncnet"), "--home", str(home), "sync", "--target", "bench", "--json",
                        "--today", TODAY.isoformat()]  # fmt: skip
                t = time.perf_counter()
                out = subprocess.run(argv, check=True, env=env, capture_output=True, text=True)
                elapsed = time.perf_counter() - t
                (row,) = json.loads(out.stdout)["targets"]
                if not row["ok"] or any(row["counts"].values()):
                    raise RuntimeError(f"not a no-op: {row}")
                requests.append(row["requests"])
                return elapsed

            def inprocess() -> float:
                t = time.perf_counter()
                outcome = sync_target(net, target)
                elapsed = time.perf_counter() - t
                _check(outcome, created=0, updated=0, deleted=0)
                requests.append(outcome.requests)
                return elapsed

            def floor() -> float:
                argv = [sys.executable, "-c", FLOOR, url, USER, PASSWORD]
                t = time.perf_counter()
                subprocess.run(argv, check=True, env=env, capture_output=True)
                return time.perf_counter() - t

            def vdirsyncer() -> float:
                t = time.perf_counter()
                subprocess.run(vdir_argv, check=True, stdin=subprocess.DEVNULL, capture_output=True)
                return time.perf_counter() - t

            mine_cli, mine_in, bound, anchor = rotate([cli, inprocess, floor, vdirsyncer], repeat)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return [
        figure(f"noop_sync_cli_{n}_vs_vdirsyncer", mine_cli, anchor, 0.3),
        figure(f"noop_sync_inprocess_{n}_vs_vdirsyncer", mine_in, anchor, 0.3),
        figure(f"noop_floor_cli_{n}_vs_vdirsyncer", bound, anchor, 0.3),
        figure(f"noop_sync_requests_{n}", max(requests), 2, 1.0, unit="requests"),
    ]


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    n_first = 200 if quick else 1_000
    sizes = (1_000,) if quick else (1_000, 5_000)
    rows: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="syncnet-bench-caldav-"))
    (work / "radicale").mkdir()
    (work / "xandikos").mkdir()
    home = reminder_store(n_first)
    try:
        with radicale(work / "radicale") as rad, xandikos(work / "xandikos") as xan:
            with Network.open(home, home / "config.toml", today=TODAY) as net:
                row, last = first_sync(net, rad, n_first, min(repeat, 3), 1.15)
                rows.append(row)
                rows.append(first_sync(net, xan, n_first, min(repeat, 3), 1.1)[0])
                rows.append(changed(net, last, n_first))
            rows.append(completions(rad))
            for n in sizes:
                rows += noop(rad, work / "radicale" / "collections", work, n, repeat)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return rows
