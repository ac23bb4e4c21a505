"""A store written before syncnet had layers still reads: its facts carry the topic
`syncnet.events:<Class>` (the module the fact classes lived in), which the fact log
resolves as an alias of today's `syncnet.domain.events`."""

from __future__ import annotations

import base64
import json
import sqlite3
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.errors import WrongKey
from syncnet.storage import keys
from syncnet.storage.library import LEGACY, TYPE_FIELD
from syncnet.storage.store import init_store, rekey_store

TODAY = date(2026, 11, 20)


def as_before_the_seal(conn: sqlite3.Connection, home: Path) -> None:
    """Make the store one from before the seal of the log (chain.py): no chain, and the
    store key wrapped for the old subject (a key-file store)."""
    kek = base64.b64decode((home / "key").read_text())
    (wrapped,) = conn.execute("SELECT wrapped FROM syncnet_keys WHERE subject = 'store'").fetchone()
    store_key = keys.unwrap(kek, keys.SEALED_STORE, wrapped)
    conn.execute("UPDATE syncnet_keys SET wrapped = ? WHERE subject = 'store'",
                 (keys.wrap(kek, keys.STORE_SUBJECT, store_key),))  # fmt: skip
    conn.execute("DELETE FROM syncnet_chain")


def with_type_as_topic(conn: sqlite3.Connection, home: Path, rename: Callable[[str], str]) -> None:
    """Store every fact as syncnet did before its type was sealed inside its state: the
    type (as `rename` makes it) as the topic, the state without it."""
    kek = base64.b64decode((home / "key").read_text())
    (wrapped,) = conn.execute("SELECT wrapped FROM syncnet_keys WHERE subject = 'store'").fetchone()
    try:
        store_key = keys.unwrap(kek, keys.SEALED_STORE, wrapped)
    except WrongKey:
        store_key = keys.unwrap(kek, keys.STORE_SUBJECT, wrapped)
    cipher = AESCipher(Environment("test", {"CIPHER_KEY": base64.b64encode(store_key).decode()}))
    for rowid, blob in conn.execute("SELECT rowid, state FROM stored_events").fetchall():
        state = json.loads(zlib.decompress(cipher.decrypt(blob)))
        topic = rename(state.pop(TYPE_FIELD))
        blob = cipher.encrypt(zlib.compress(json.dumps(state).encode()))
        conn.execute("UPDATE stored_events SET topic = ?, state = ? WHERE rowid = ?", (topic, blob, rowid))


def as_before_the_layers(home: Path) -> None:
    """Give every stored fact its old topic and drop the views, so all is folded again
    (a store that old has no seal of its log either)."""
    conn = sqlite3.connect(home / "store.db")
    with conn:
        as_before_the_seal(conn, home)
        with_type_as_topic(conn, home, lambda topic: topic.replace("syncnet.domain.events:", f"{LEGACY}:"))
        for table in ("syncnet_views", "syncnet_view_index", "syncnet_view_tracking"):
            conn.execute(f"DELETE FROM {table}")
    topics = {t for (t,) in conn.execute("SELECT DISTINCT topic FROM stored_events")}
    conn.close()
    assert topics and all(t.startswith("syncnet.events:") for t in topics), topics


def test_facts_recorded_before_the_layers_are_read_folded_and_seen_by_the_daemon(tmp_path: Path) -> None:
    home = tmp_path / "store"
    init_store(home)
    with Network.open(home, today=TODAY) as net:
        net.record_many([
            cmd.Meet("Ada Lovelace", where="PyCon", on=date(2026, 11, 18)),
            cmd.Promise("Ada", "send the slides", date(2026, 12, 1), on=TODAY),
        ])  # fmt: skip
        before = [(i.reminder.key, i.summary) for i in net.agenda()]
    as_before_the_layers(home)

    with Network.open(home, today=TODAY) as net:
        assert net.refresh() == 2  # folded again from the old topics
        assert [(i.reminder.key, i.summary) for i in net.agenda()] == before
        _, entries = net.history("ada")
        assert [e.kind for e in entries] == ["met", "promise"]
        assert entries[0].details["where"] == "PyCon"
        # reading by type (the daemon's poll) finds facts under either topic
        found = net.store.log.after(0, 10, types=ev.AGENDA_FACTS)
        assert [type(f).__name__ for _, f in found] == ["ContactMet", "PromiseMade"]
        assert net.store.log.after(0, 10, types=ev.PUSH_RECORDS) == []


def test_facts_stored_with_their_type_in_the_clear_read_beside_sealed_ones_until_a_rekey(
    tmp_path: Path,
) -> None:
    """A store from before the types were sealed (their type as the topic) reads as it
    did; new facts get their class; `rekey` seals the old ones' types too."""
    home = tmp_path / "store"
    init_store(home)
    with Network.open(home, today=TODAY) as net:
        net.record_many([cmd.Meet("Ada Lovelace", on=date(2026, 11, 18)),
                         cmd.Promise("Ada", "send the slides", date(2026, 12, 1), on=TODAY)])  # fmt: skip
    conn = sqlite3.connect(home / "store.db")
    with conn:
        with_type_as_topic(conn, home, lambda topic: topic)
        conn.execute("DELETE FROM syncnet_chain")  # sealed again below, as an old store is on opening
        for table in ("syncnet_views", "syncnet_view_index", "syncnet_view_tracking"):
            conn.execute(f"DELETE FROM {table}")
        as_before_the_seal(conn, home)
    conn.close()
    with Network.open(home, today=TODAY) as net:
        net.record(cmd.Touch("Ada", by="me", on=TODAY))
        found = net.store.log.after(0, 10, types=ev.AGENDA_FACTS)
        assert [type(f).__name__ for _, f in found] == ["ContactMet", "PromiseMade", "Touched"]
        before = [(i.reminder.key, i.summary) for i in net.agenda()], repr(net.balances())
    assert topics(home) == ["syncnet.domain.events:ContactMet", "syncnet.domain.events:PromiseMade",
                            "syncnet:fact"]  # fmt: skip

    rekey_store(home, None, None)
    assert topics(home) == ["syncnet:met", "syncnet:fact", "syncnet:fact"]
    with Network.open(home, today=TODAY) as net:
        assert net.refresh() == 3
        assert ([(i.reminder.key, i.summary) for i in net.agenda()], repr(net.balances())) == before
        read = [type(f).__name__ for _, f in net.store.log.after(0, 10)]
        assert read == ["ContactMet", "PromiseMade", "Touched"]
        assert not net.store.log.verify()


def topics(home: Path) -> list[str]:
    conn = sqlite3.connect(home / "store.db")
    try:
        return [t for (t,) in conn.execute("SELECT topic FROM stored_events ORDER BY rowid")]
    finally:
        conn.close()
