"""Replicas that record apart and exchange through a hub in any order converge
(hypothesis, on a real PostgreSQL): after every replica has pulled everything, every
read is equal on all of them, and every store holds each recorded fact exactly once.

Each example: 2 or 3 devices with their own stores, a new hub database, an event they all
know of, a random mix of recordings (meetings, touches, help, promises, details edited on
several devices, pockets, texts about me, forgetting; events, often of one name on several
devices, people expected or met there, planned next meetings, and retractions of those,
also of what another device recorded) and of pushes, pulls and syncs by random devices,
then two rounds of `hub sync` on every device.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_fixtures import new_database
from test_hub import device

T = ("--today", "2026-11-30")
READS = [
    ("contacts", *T),
    ("due", *T),
    ("balance", *T),
    ("split", *T),
    ("warnings", *T),
    ("due", "--today", "2026-12-09"),
]
RECORDINGS = [
    "meet",
    "touch",
    "give",
    "receive",
    "promise",
    "set",
    "pocket",
    "pitch",
    "forget",
    "kept",
    "dropped",
]
EVENT_RECORDINGS = ["event", "expect", "expect", "meet_at", "meet_at", "next", "retract"]  # links need events
EVENT_READS = ("event", "list")  # recordings that name an event pick one of those the device lists

_record = st.tuples(
    st.just("record"), st.integers(0, 2), st.sampled_from(RECORDINGS), st.integers(0, 5), st.integers(1, 28)
)
_event_record = st.tuples(  # events, links, plans and retractions drawn more often: they need each other
    st.just("record"), st.integers(0, 2), st.sampled_from(EVENT_RECORDINGS), st.integers(0, 5),
    st.integers(1, 28),
)  # fmt: skip
_exchange = st.tuples(st.sampled_from(["push", "pull", "sync"]), st.integers(0, 2))
step = st.one_of(_record, _record, _record, _event_record, _event_record, _exchange, _exchange)


def fact_ids(home: Path) -> list[str]:
    with sqlite3.connect(home / "store.db") as conn:
        return [r[0] for r in conn.execute("SELECT originator_id FROM stored_events")]


def hex_ids(home: Path) -> set[str]:
    return {str(i).replace("-", "") for i in fact_ids(home)}


def new_facts(stdout: str) -> list[str]:
    """The ids of the events, links and planned meetings a recording printed (--json)."""
    doc = json.loads(stdout)
    if "fact_ids" in doc:  # event expect
        return list(doc["fact_ids"])
    if doc["recorded"]["kind"] == "eventadd":
        return [doc["recorded"]["fact_id"]]
    return [a["fact_id"] for a in doc.get("also", [])]  # meet --at, touch --next: the second fact


def recording(
    kind: str, names: list[str], promises: list[str], mine: str, pick: int, day: int,
    events: Sequence[tuple[str, str]] = (), retractable: Sequence[str] = (), met_on: Sequence[str] = (),
) -> list[str]:  # fmt: skip
    """The CLI arguments of one recording (a meeting when the device knows no contact yet,
    a promise when it knows no open promise to close, an event when it knows none to link
    or no event, link or plan to retract). `events`: (id, day held) of those it knows;
    `met_on`: the day each contact of `names` was met."""
    on = ["--on", f"2026-11-{day:02d}"]
    if kind in ("kept", "dropped"):
        if promises:  # closed here while another device may close it the other way
            return [kind, promises[pick % len(promises)], *on]
        kind = "promise"
    if kind == "retract" and retractable:  # perhaps retracted on another device meanwhile
        return ["retract", retractable[pick % len(retractable)]]
    if kind == "retract" or (kind in ("expect", "meet_at") and not events):
        kind = "event"
    if kind == "event":  # a few names, so that several devices add editions of one event
        held = date(2026, 11, day) + timedelta(days=4 * pick - 8)
        extra = ["--where", f"Hall {day}", "--offer", "an intro", "--org", "Org A"] if day % 2 else []
        return ["event", "add", f"Conf {pick % 3}", "--on", held.isoformat(), *extra,
                "--today", f"2026-11-{day:02d}"]  # fmt: skip
    if kind == "meet_at":  # on the day it is held or later (refused when it is still to come)
        event, held_on = events[pick % len(events)]
        day = max(day, date.fromisoformat(held_on).day) if held_on[:7] == "2026-11" else day
        return ["meet", mine, "--at", event, "--on", f"2026-11-{day:02d}"]
    if kind == "meet" or (not names and kind != "pitch"):
        return ["meet", mine, *on, "--note", f"met {mine} on day {day}"]
    if kind == "pitch":
        return ["pitch", "--note", f"a talk on day {day}", *on]
    name = names[pick % len(names)]
    if kind in ("expect", "next") and met_on:  # on or after the meeting: mostly recorded, then
        day = max(day, date.fromisoformat(met_on[pick % len(names)]).day)
        on = ["--on", f"2026-11-{day:02d}"]
    if kind == "expect":
        event = events[pick % len(events)][0]
        return ["event", "expect", event, name, "--today", f"2026-11-{day:02d}"]
    return {
        "touch": ["touch", name, "--by", "me" if day % 2 else "them", *on],
        "give": ["give", name, "--kind", "advice", *on],
        "receive": ["receive", name, "--kind", "advice", *on],
        "promise": ["promise", name, f"the thing of day {day}", "--due", "2026-12-10", *on],
        "set": ["set", name, "--org", f"Org of day {day}", *on],
        "pocket": ["pocket", name, "drop" if day % 3 == 0 else "keep"],
        "forget": ["forget", name, "--yes"],
        "next": ["touch", name, "--by", "me", "--next", f"2026-12-{pick + 1:02d}", *on],
    }[kind]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(replicas=st.integers(2, 3), steps=st.lists(step, min_size=8, max_size=30))
def test_replicas_exchanging_in_any_order_converge(
    tmp_path_factory: Any, pg_admin: str, replicas: int, steps: list[tuple[Any, ...]]
) -> None:
    tmp = tmp_path_factory.mktemp("replicas")
    with new_database(pg_admin) as url:
        devices = [device(tmp, f"r{i}", url, f"member{i}") for i in range(replicas)]
        devices[0].ok("hub", "init")
        devices[0].ok("hub", "key", tmp / "team.key")
        for d in devices[1:]:
            d.ok("hub", "join", tmp / "team.key")
        met = [0] * replicas
        # an event every device knows from the start: links to it from several devices are likely
        shared = devices[0].json("event", "add", "Offsite", "--on", "2026-11-15", "--today", "2026-11-01")
        for run in devices:
            run.ok("hub", "sync")
        recorded = 1
        retractable = [shared["recorded"]["fact_id"]]  # ids of the events, links and plans recorded anywhere
        for s in steps:
            r = s[1] % replicas
            run = devices[r]
            if s[0] != "record":
                run.ok("hub", s[0])
                continue
            _, _, kind, pick, day = s
            known_contacts = run.json("contacts", *T)["contacts"]
            names = [c["name"] for c in known_contacts]
            agenda = run.json("due", "--today", "2026-12-09")["agenda"]
            promises = [i["promise"]["short"] for i in agenda if i["promise"]]
            events = []
            if kind in ("expect", "meet_at"):
                listed = run.json(*EVENT_READS, "--today", "2026-12-09")["events"]
                events = [(e["id"], e["on"]) for e in listed]
            known = hex_ids(run.home)
            args = recording(kind, names, promises, f"R{r} Person{met[r]}", pick, day, events,
                             [f for f in retractable if f in known],
                             [c["met_on"] for c in known_contacts])  # fmt: skip
            new = args[0] == "event" or "--at" in args or "--next" in args  # an event, a link, a plan
            before = len(fact_ids(run.home))
            out = run(*args, *(["--json"] if new or kind == "pocket" else []))
            assert out.returncode in (0, 2), out.stderr  # 2: refused (say, a touch before the meeting)
            assert "Traceback" not in out.stderr
            recorded += len(fact_ids(run.home)) - before
            met[r] += args[0] == "meet" and out.returncode == 0
            if out.returncode == 0 and new:
                retractable += new_facts(out.stdout)
        for _ in range(2):  # everyone pulls what everyone pushed
            for run in devices:
                run.ok("hub", "sync")
        ids = [fact_ids(run.home) for run in devices]
        for got in ids:
            assert len(got) == len(set(got)), "a fact twice in one store"
            assert set(got) == set(ids[0])
        assert len(ids[0]) == recorded  # every fact recorded anywhere, and no other
        contacts = [c["id"] for c in devices[0].json("contacts", *T)["contacts"]]
        # the events as listed on two days, each prepared for (retractions count whatever the day)
        reads = [(*EVENT_READS, "--today", "2026-12-09"), (*EVENT_READS, *T)]
        reads += [("prep", e["id"], *T) for e in devices[0].json(*EVENT_READS, *T)["events"]]
        for c in contacts:
            reads += [("history", c, *T), ("show", c, *T)]
        for read in READS + reads:
            first = devices[0].json(*read)
            for run in devices[1:]:
                assert run.json(*read) == first, read
        for run in devices:
            assert run.json("verify")["whole"]
