"""Hub figures (issue 16): facts exchanged between a device and the hub, against
recording the same facts with record_many on the receiving side.

Device A holds N facts (the synthetic network: 1,000 contacts met, then touches, gifts,
requests and promises; N = 100,000, 20,000 with --quick), recorded before the clock
starts. One exchange is A's `Exchange.push()` of all of them to a new, empty hub (a new
PostgreSQL database), then `Exchange.pull()` of all of them into a new store B; the
anchor is `record_many` of the same commands into a new store. Neither pull nor
record_many folds the facts it writes into the views (record_many folds only what the
store held before, nothing in a new store), so:

- hub_exchange_N_facts_push_pull_vs_record_many: push + pull against record_many, both
  without folding. Target <= 2.0 (the issue: at least 0.5x the rate of record_many).
- hub_exchange_N_facts_push_pull_fold_vs_record_many_fold: the same, each followed by
  the fold of the receiving store's views (`net.refresh()`, what `syncnet hub pull`
  runs after pulling). Target <= 2.0.

Each row also gives the push, pull and fold times and the rates (facts/s). Setting the
hub up (init_hub, join_hub) and opening the connections are outside the clock.

The PostgreSQL server: SYNCNET_BENCH_PG (an admin URL), else the one of the tests,
postgresql://postgres@127.0.0.1:5432/postgres; a database is created for each exchange
and dropped after it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from syncnet_adapters.pghub import PostgresHub

from syncnet import Network
from syncnet.app.hub import Exchange, init_hub, join_hub, parse_team_key, team_key_text

from .__main__ import alternate
from .store import fresh_home, timed
from .synthetic import TODAY, network

ADMIN_URL = os.environ.get("SYNCNET_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
CONTACTS = 1_000


@contextmanager
def new_database(admin: str = ADMIN_URL) -> Iterator[str]:
    """The URL of a new, empty database on the server of `admin`, dropped afterwards."""
    name = f"syncnet_bench_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def figure(name: str, mine: float, anchor: float, target: float, **extra: Any) -> dict[str, Any]:
    ratio = mine / anchor
    row = {"name": name, "syncnet": round(mine, 4), "anchor": round(anchor, 4), "unit": "s",
           "ratio": round(ratio, 3), "target": f"<= {target}", "pass": ratio <= target, **extra}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def exchange_once(device: Path, facts: int) -> dict[str, float]:
    """Push every fact of `device` to a new hub, then pull them into a new store; seconds
    of the push, the pull and the new store's fold."""
    receiver = fresh_home()
    try:
        with new_database() as url:
            hub_a, hub_b = PostgresHub(url), PostgresHub(url)  # two devices, two connections
            try:
                with Network.open(device, today=TODAY) as a:
                    init_hub(a, hub_a)  # a new hub: the watermarks start over
                    pushing = Exchange(a, hub_a, "device-a")
                    pushing.check()
                    push = timed(lambda: pushing.push())
                    key = parse_team_key(team_key_text(a))
                with Network.open(receiver, today=TODAY) as b:
                    join_hub(b, hub_b, key)
                    pulling = Exchange(b, hub_b, "device-b")
                    pulling.check()
                    done = None

                    def pull_all() -> None:
                        nonlocal done
                        done = pulling.pull()

                    pull = timed(pull_all)
                    fold = timed(b.refresh)
                    assert done is not None and done.pulled == facts, (done, facts)
                    assert b.position() == facts
            finally:
                hub_a.close()
                hub_b.close()
    finally:
        shutil.rmtree(receiver, ignore_errors=True)
    return {"push": push, "pull": pull, "fold": fold}


def record_once(commands: list[Any], facts: int) -> dict[str, float]:
    """record_many of `commands` into a new store, then its fold."""
    home = fresh_home()
    try:
        with Network.open(home, today=TODAY) as net:
            record = timed(lambda: net.record_many(commands))
            fold = timed(net.refresh)
            assert net.position() == facts
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {"record": record, "fold": fold}


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    facts = 20_000 if quick else 100_000
    commands = network(facts, CONTACTS)
    device = fresh_home()
    exchanges: list[dict[str, float]] = []
    recordings: list[dict[str, float]] = []

    def exchanging() -> float:
        t = exchange_once(device, facts)
        exchanges.append(t)
        return t["push"] + t["pull"]

    def recording() -> float:
        t = record_once(commands, facts)
        recordings.append(t)
        return t["record"]

    try:
        with Network.open(device, today=TODAY) as net:
            net.record_many(commands)
        alternate(exchanging, recording, max(1, repeat // 2))
    finally:
        shutil.rmtree(device, ignore_errors=True)
    ex, rec = exchanges[1:], recordings[1:]  # without the warm-up of each

    def median(rows: list[dict[str, float]], *parts: str) -> float:
        return statistics.median(sum(r[p] for p in parts) for r in rows)

    push, pull, fold = median(ex, "push"), median(ex, "pull"), median(ex, "fold")
    record, record_fold = median(rec, "record"), median(rec, "fold")
    both, anchor = median(ex, "push", "pull"), median(rec, "record")
    out = [figure(f"hub_exchange_{facts}_facts_push_pull_vs_record_many", both, anchor, 2.0,
                  push_s=round(push, 4), pull_s=round(pull, 4), exchange_facts_per_s=round(facts / both),
                  record_many_facts_per_s=round(facts / anchor))]  # fmt: skip
    both, anchor = median(ex, "push", "pull", "fold"), median(rec, "record", "fold")
    out.append(figure(f"hub_exchange_{facts}_facts_push_pull_fold_vs_record_many_fold", both, anchor, 2.0,
                      push_s=round(push, 4), pull_s=round(pull, 4), fold_s=round(fold, 4),
                      record_many_s=round(record, 4), record_many_fold_s=round(record_fold, 4),
                      exchange_facts_per_s=round(facts / both),
                      record_many_facts_per_s=round(facts / anchor)))  # fmt: skip
    return out
