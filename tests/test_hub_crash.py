"""A push or a pull killed with SIGKILL at random moments, then run again until it
finishes: nothing lost, nothing doubled, both stores whole and reading the same
(a real PostgreSQL hub, 20,200 facts, 1,000 per transaction).
"""

from __future__ import annotations

import base64
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from uuid import UUID

import psycopg
from support import Runner, record
from test_hub import two_devices

from syncnet.domain import commands as cmd
from syncnet.storage.hubcodec import HubCodec

T = ("--today", "2026-11-30")


def ids_in(home: Path) -> list[str]:
    with sqlite3.connect(home / "store.db") as conn:
        return [r[0] for r in conn.execute("SELECT originator_id FROM stored_events")]


def hub_ids(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0].hex for r in conn.execute("SELECT originator_id FROM syncnet_hub_facts")]


def killed_until_done(run: Runner, what: str, rng: random.Random) -> tuple[int, int]:
    """Run `syncnet hub WHAT`, killing it at random moments, until a run ends by itself:
    (kills that landed while it ran, runs). A kill comes within 0.25 s after the moment a
    command of the hub gets to work here (its start-up measured first: most land in the
    exchange itself, some in the start-up)."""
    run.ok("hub", "status")  # the first command folds the views: not a start-up
    started = time.monotonic()
    run.ok("hub", "status")
    start_up = time.monotonic() - started
    landed = runs = 0
    while True:
        runs += 1
        proc = subprocess.Popen(
            [sys.executable, "-m", "syncnet", "hub", what],
            env=run.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # at most 8 kills, then let it finish
            _, err = proc.communicate(
                timeout=rng.uniform(0.8 * start_up, start_up + 0.25) if landed < 8 else 120
            )
            assert proc.returncode == 0, err
            return landed, runs
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            landed += 1


def test_pushes_and_pulls_killed_at_random_moments_lose_and_double_nothing(
    tmp_path: Path, hub_url: str
) -> None:
    a, b = two_devices(tmp_path, hub_url)
    names = [f"P{i:03d} Lovelace" for i in range(200)]
    record(a.home, *(cmd.Meet(n, on=date(2026, 11, 1)) for n in names))
    record(a.home, *(cmd.Touch(names[i % 200], by="me", on=date(2026, 11, 2)) for i in range(20_000)))
    mine = ids_in(a.home)
    rng = random.Random(16)
    started = time.monotonic()
    landed, runs = killed_until_done(a, "push", rng)
    assert landed >= 3, f"only {landed} kills landed in {runs} runs of the push"
    kills = [landed]
    on_hub = hub_ids(hub_url)  # a fact's id on the hub is a keyed hash of its own
    codec = HubCodec(base64.b64decode((tmp_path / "team.key").read_text()))
    assert len(on_hub) == len(set(on_hub)) == len(mine)
    assert set(on_hub) == {codec.hub_id(UUID(hex=i)).hex for i in mine}

    landed, runs = killed_until_done(b, "pull", rng)
    assert landed >= 3, f"only {landed} kills landed in {runs} runs of the pull"
    kills.append(landed)
    theirs = ids_in(b.home)
    assert len(theirs) == len(set(theirs)) == len(mine) and set(theirs) == set(mine)
    assert b.json("verify")["whole"]
    for args in (("contacts", *T), ("balance", *T), ("split", *T), ("due", *T), ("history", "P042", *T)):
        assert a.json(*args) == b.json(*args), args
    # nothing more to move either way
    assert (b.json("hub", "sync")["pulled"], a.json("hub", "sync")["pulled"]) == (0, 0)
    print(
        f"push and pull of {len(mine):,} facts killed ({kills[0]} and {kills[1]} times) and resumed in "
        f"{time.monotonic() - started:.1f} s"
    )


def test_two_pulls_at_once_into_one_store_both_succeed(tmp_path: Path, hub_url: str) -> None:
    """The daemon pulls on every notification while the user runs `hub sync`: the one that
    finds facts stored meanwhile asks again, and no fact is there twice."""
    a, b = two_devices(tmp_path, hub_url)
    names = [f"P{i:03d} Lovelace" for i in range(50)]
    record(a.home, *(cmd.Meet(n, on=date(2026, 11, 1)) for n in names))
    record(a.home, *(cmd.Touch(names[i % 50], by="me", on=date(2026, 11, 2)) for i in range(5_000)))
    a.ok("hub", "push")
    b.ok("hub", "status")  # the views folded: both pulls below start at once
    pulls = [
        subprocess.Popen([sys.executable, "-m", "syncnet", "hub", "pull"], env=b.env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    for p in pulls:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    theirs = ids_in(b.home)
    assert len(theirs) == len(set(theirs)) == len(ids_in(a.home))
    assert b.json("verify")["whole"]
