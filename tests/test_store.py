"""The store through the Python API: atomic commands, the key hierarchy, reopening; on
SQLite and on PostgreSQL (`backend`, tests/pg_fixtures.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from pg_fixtures import sql_rows

from syncnet.app.network import ME, Network
from syncnet.domain import commands as c
from syncnet.errors import BadInput, NotFound, StoreError, WrongKey
from syncnet.storage.store import init_store, open_store

TODAY = date(2026, 11, 20)


@pytest.fixture
def store_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str | None) -> Path:
    for name in ("SYNCNET_HOME", "SYNCNET_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    assert init_store(home, database=backend) == (True, "file")
    return home


@pytest.fixture
def net(store_home: Path) -> Iterator[Network]:
    with Network.open(store_home, today=TODAY) as network:
        yield network


def rows(home: Path, sql: str) -> list[tuple]:
    return sql_rows(home, sql)


def max_id(home: Path) -> int:
    return rows(home, "SELECT MAX(rowid) FROM stored_events")[0][0] or 0


def raw_store(home: Path) -> bytes:
    """Every byte the store's database holds: its files, or every row of every table."""
    if (home / "store.db").exists():
        return b"".join(p.read_bytes() for p in home.iterdir() if p.name.startswith("store.db"))
    tables = [r[0] for r in rows(home, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert "stored_events" in tables and "syncnet_keys" in tables
    every = [v for t in tables for r in rows(home, f"SELECT * FROM {t}") for v in r]
    return b"".join(bytes(v) if isinstance(v, bytes) else str(v).encode() for v in every)


GOOD = [
    c.GoalAdd("Lead a data team"),
    c.Meet("Ada Lovelace", "conference", goals=("lead a data team",), on=date(2026, 11, 1)),
    c.Touch("ada lovelace", "me", on=date(2026, 11, 2)),  # names a contact met in the same call
    c.Promise("Ada Lovelace", "Send the paper", date(2026, 12, 1)),
]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (c.Touch("Charles Babbage"), NotFound),
        (c.Meet("Grace Hopper", on=date(2026, 11, 21)), BadInput),  # in the future
        (c.Give("Ada Lovelace", "bribe"), BadInput),
        (c.Touch("Ada Lovelace", minutes=-5), BadInput),
        (c.Meet("ADA LOVELACE"), BadInput),  # met earlier in the same call
        (c.Kept("deadbeef"), NotFound),
    ],
)
def test_record_many_writes_all_or_nothing(net, store_home, bad, error):
    keys_before = rows(store_home, "SELECT subject FROM syncnet_keys")
    with pytest.raises(error, match="command 5"):
        net.record_many([*GOOD, bad, c.Touch("Ada Lovelace")])
    assert max_id(store_home) == 0 and net.position() == 0
    assert rows(store_home, "SELECT subject FROM syncnet_keys") == keys_before  # only the store key
    assert net.store.keyring.pending == []
    assert net.contacts() == [] and net.goals() == []

    # the same network records the good commands afterwards, in one transaction
    done = net.record_many(GOOD)
    assert [r.kind for r in done] == ["goaladd", "meet", "touch", "promise"]
    assert max_id(store_home) == 4
    ((ref, view, goals),) = net.contacts()
    assert (ref.name, view.last_interaction, goals) == ("Ada Lovelace", "2026-11-02", ["Lead a data team"])
    assert [i.promise for i in net.agenda(until=date(2026, 12, 1)) if i.reminder.rule == "promise"] == [
        "Send the paper"
    ]


def test_one_bad_command_records_nothing(net, store_home):
    with pytest.raises(BadInput, match=r"unknown channel 'telepathy'"):
        net.record(c.Meet("Grace Hopper", channel="telepathy"))
    assert max_id(store_home) == 0
    assert rows(store_home, "SELECT kind FROM syncnet_keys") == [("store",)]


def test_key_hierarchy_one_wrapped_key_per_contact_and_goal(net, store_home):
    done = net.record_many([
        c.Meet("Ada Lovelace"), c.Meet("Grace Hopper"), c.Meet("Ada Lovelace", new=True),
        c.GoalAdd("Lead a data team"), c.GoalAdd("Write a book", "private"),
        c.Touch("Grace Hopper"), c.Pitch(None, note="a talk"), c.Pitch(None, note="another"),
    ])  # fmt: skip
    contacts = {r.contact_id for r in done if r.kind == "meet"}
    goals = {r.goal_id for r in done if r.kind == "goaladd"}
    assert len(contacts) == 3 and len(goals) == 2
    by_kind: dict[str, set[str]] = {}
    for subject, kind, wrapped in rows(store_home, "SELECT subject, kind, wrapped FROM syncnet_keys"):
        by_kind.setdefault(kind, set()).add(subject)
        assert len(wrapped) == 12 + 32 + 16  # nonce, AES-GCM of a 256-bit key, tag
    assert by_kind == {"store": {"store"}, "contact": contacts, "goal": goals, "self": {ME.hex}}

    # no key in plain form anywhere in the database files
    raw = raw_store(store_home)
    kek = base64.b64decode((store_home / "key").read_text().strip())
    plain_keys = [kek, net.store.store_key]
    plain_keys += [net.store.keyring._key(UUID(s)) for s in contacts | goals | {ME.hex}]
    assert all(k is not None and len(k) == 32 for k in plain_keys)
    assert len(set(plain_keys)) == len(plain_keys)  # every subject has its own key
    for key in plain_keys:
        assert key not in raw
        assert base64.b64encode(key) not in raw and key.hex().encode() not in raw


def test_wrong_key_never_opens_even_an_empty_store(store_home):
    good = (store_home / "key").read_text()
    (store_home / "key").write_text(base64.b64encode(b"\x01" * 32).decode())
    with pytest.raises(WrongKey, match="wrong key or passphrase"):
        open_store(store_home)
    (store_home / "key").write_text(good)
    open_store(store_home).close()

    pw_home = store_home.parent / "pw"
    assert init_store(pw_home, "s3cret") == (True, "passphrase")
    with pytest.raises(WrongKey, match="wrong key or passphrase"):
        open_store(pw_home, "S3cret")
    with pytest.raises(WrongKey, match="SYNCNET_PASSPHRASE"):
        open_store(pw_home, None)
    open_store(pw_home, "s3cret").close()


def test_init_never_replaces_and_reuses_a_key_left_by_an_interrupted_init(store_home, tmp_path, backend):
    key = (store_home / "key").read_bytes()
    db = raw_store(store_home)
    assert init_store(store_home) == (False, "file")
    assert init_store(store_home, "a passphrase") == (False, "file")
    assert (store_home / "key").read_bytes() == key and raw_store(store_home) == db
    if backend is not None:  # the database holds a store: another home cannot take it over
        with pytest.raises(StoreError, match="holds a syncnet store already"):
            init_store(tmp_path / "other", database=backend)
        assert not (tmp_path / "other" / "key").exists() and raw_store(store_home) == db
        return

    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    (interrupted / "key").write_bytes(key)  # the key was written, the database was not
    (interrupted / "key").chmod(0o600)  # as init writes it
    assert init_store(interrupted) == (True, "file")
    assert (interrupted / "key").read_bytes() == key
    open_store(interrupted).close()


def test_views_persist_across_opens_and_fold_each_fact_once(store_home):
    with Network.open(store_home, today=TODAY) as net:
        net.record_many([c.Meet("Ada Lovelace"), c.Touch("Ada Lovelace"), c.Give("Ada Lovelace", "advice")])
        assert net.refresh() == 3
        assert net.refresh() == 0
    with Network.open(store_home, today=TODAY) as net:
        assert net.refresh() == 0  # tracked position survived the restart
        assert net.position() == 3
        net.record(c.Receive("Ada Lovelace", "advice", minutes=5))
        assert net.refresh() == 1
        ((ref, b),) = net.balances()[0]
        assert (ref.name, b.given, b.received, b.received_minutes) == ("Ada Lovelace", 1, 1, 5)
    tracked = rows(store_home, "SELECT name, position FROM syncnet_view_tracking ORDER BY name")
    assert tracked == [("syncnet-agenda", 4), ("syncnet-views", 4)]  # the last fact can change the agenda
