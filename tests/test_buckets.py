"""The per-contact rows stored in buckets (viewstore.BUCKETED): folding facts into some
rows of a bucket keeps the others, a chunk folded meanwhile by another process is thrown
away with the buckets it read, and the store holds buckets, not one row per contact.

Each test runs with one bucket for everything (every fact lands in a bucket that holds
other contacts), with 16, and with the shipped size."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench.synthetic import network
from syncnet.app.network import Network
from syncnet.domain import commands as c
from syncnet.domain.fold import replay
from syncnet.storage import viewstore
from syncnet.storage.store import init_store

TODAY = date(2026, 11, 25)
CONTACTS = 40


@pytest.fixture(params=[0, 1, viewstore.BUCKET_CHARS], ids=lambda n: f"{16**n}-buckets")
def bucket_chars(request: pytest.FixtureRequest) -> Iterator[int]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(viewstore, "BUCKET_CHARS", request.param)
        yield request.param


def rows(net: Network, kind: str) -> list[dict[str, Any]]:
    return sorted((asdict(r) for r in net.views.load_all(kind)), key=lambda r: r["id"])


def replayed(net: Network, kind: str) -> list[dict[str, Any]]:
    full = replay([fact for _, fact in net.store.log.after(0, 10**6)])
    return sorted((asdict(r) for r in full.all(kind)), key=lambda r: r["id"])


def test_facts_folded_in_many_small_catch_ups_equal_a_full_replay(tmp_path: Path, bucket_chars: int) -> None:
    init_store(tmp_path)
    commands = network(CONTACTS * 5, CONTACTS, years=2)
    with Network.open(tmp_path, today=TODAY) as net:
        for start in range(0, len(commands), 37):  # each catch-up changes a few rows of a bucket
            net.record_many(commands[start : start + 37])
            net.views.catch_up(net.store.log.after, page=7, name_of=net._name_of)
        for kind in viewstore.BUCKETED:
            assert rows(net, kind) == replayed(net, kind), kind
        assert len(rows(net, "contact")) == CONTACTS
        # Every contact can still be read alone and found by a short id.
        for row in net.views.load_all("contact"):
            assert net.views.row("contact", row.id) == row
            assert net.views.keys_with_prefix("contact", row.id[:8]) == [row.id]


def test_the_store_holds_buckets_not_a_row_per_contact(tmp_path: Path, bucket_chars: int) -> None:
    init_store(tmp_path)
    with Network.open(tmp_path, today=TODAY) as net:
        net.record_many(network(CONTACTS * 2, CONTACTS, years=1))
        net.refresh()
    conn = sqlite3.connect(tmp_path / "store.db")
    try:
        for kind in viewstore.BUCKETED:
            keys = [k for (k,) in conn.execute("SELECT key FROM syncnet_views WHERE kind = ?", (kind,))]
            assert keys and all(len(k) == bucket_chars for k in keys), (kind, keys[:3])
            assert len(keys) <= min(16**bucket_chars, CONTACTS)
    finally:
        conn.close()


def test_a_chunk_another_process_folded_first_is_discarded_with_the_buckets_it_read(
    tmp_path: Path, bucket_chars: int
) -> None:
    init_store(tmp_path)
    commands = network(CONTACTS * 3, CONTACTS, years=1)
    meets = [m for m in commands if isinstance(m, c.Meet)]
    with Network.open(tmp_path, today=TODAY) as first, Network.open(tmp_path, today=TODAY) as second:
        first.record_many(commands)
        first.refresh()
        # Both see the same new facts; the second process folds them and writes first,
        # while the first has already read (stale) buckets for its own fold.
        ids = [m.contact_id.hex for m in meets[:10] if m.contact_id is not None]
        # Gifts, not touches: folded twice, they would count twice (a touch would not show).
        first.record_many([c.Give(cid, "advice", on=TODAY) for cid in ids])
        fetch = first.store.log.after
        calls: list[int] = []
        raced: list[int] = []

        def fetch_while_the_other_folds(after: int, limit: int, types: Any = None) -> Any:
            calls.append(after)
            if len(calls) == 2:  # the first page is folded: its buckets are read
                raced.append(second.refresh())
            return fetch(after, limit, types)

        first.views.catch_up(fetch_while_the_other_folds, page=3, name_of=first._name_of)
        assert raced == [10]  # the other process folded the ten touches first
        for kind in viewstore.BUCKETED:
            assert rows(first, kind) == replayed(first, kind), kind
        tallies = {r["id"]: r for r in rows(first, "tally")}
        assert all(tallies[cid]["first_given"] is not None for cid in ids)
        touched = {r["id"]: r for r in rows(first, "contact")}
        assert [touched[cid]["last_interaction"] for cid in ids] == [TODAY.isoformat()] * 10
