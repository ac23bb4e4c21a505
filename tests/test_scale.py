"""Commands cost O(what they touch), not O(contacts): counted, not timed.

The store is instrumented (view rows, or buckets of rows, decrypted: viewstore.STATS; personal fields
unsealed: keys.STATS). Each recording command and `history NAME` runs on a network of
SMALL and of LARGE contacts; what it decrypts and unseals must be the same on both and
a handful, whatever the size. bench/scale.py measures the time.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from helpers_rules import Facts
from hypothesis import given, settings
from hypothesis import strategies as st
from support import Runner, record

from bench.synthetic import network
from syncnet.domain import commands as c
from syncnet.domain import projections as pj
from syncnet.domain.config import parse_config
from syncnet.storage import keys, viewstore

SMALL, LARGE = 30, 600
T = ("--today", "2026-11-25")
ON = ("--on", "2026-11-25")


def build(run: Runner, contacts: int) -> list[c.Meet]:
    run.ok("init")
    commands = network(contacts * 4, contacts, years=3)
    record(run.home, *commands, today="2026-11-25")
    run.ok("due", *T)  # views caught up, as after any read
    return [m for m in commands if isinstance(m, c.Meet)]


def counted(run: Runner, *args: str) -> tuple[int, int]:
    """(view rows decrypted, fields unsealed) by one CLI command run in this process."""
    rows, unsealed = viewstore.STATS["rows"], keys.STATS["unsealed"]
    run.ok(*args)
    return viewstore.STATS["rows"] - rows, keys.STATS["unsealed"] - unsealed


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Runner, list[c.Meet]]]:
    built = {}
    for size in (SMALL, LARGE):
        base = tmp_path_factory.mktemp(f"scale{size}")
        runner = Runner(base / "home", base, process=False)
        built[size] = (runner, build(runner, size))
    return built


def open_promise(run: Runner, name: str) -> str:
    out = run.json("promise", name, "send the slides", "--due", "2026-12-20", *ON, *T)
    return str(out["recorded"]["promise_id"])


def costs(run: Runner, meets: list[c.Meet]) -> dict[str, tuple[int, int]]:
    ada, bo = meets[len(meets) // 2], meets[len(meets) // 3]
    assert ada.contact_id is not None
    first_word = ada.name.split()[0]
    last_word = ada.name.split()[-1]
    assert first_word and last_word
    promise = open_promise(run, bo.name)
    return {
        "touch by name": counted(run, "touch", ada.name, *ON, *T),
        "touch by short id": counted(run, "touch", ada.contact_id.hex[:8], *ON, *T),
        "touch by full id": counted(run, "touch", ada.contact_id.hex, *ON, *T),
        "touch by a prefix of the name": counted(run, "touch", ada.name[:-1], *ON, *T),
        "give": counted(run, "give", ada.name, "--kind", "advice", *ON, *T),
        "promise": counted(run, "promise", ada.name, "call back", "--due", "2026-12-01", *ON, *T),
        "kept by short id": counted(run, "kept", promise[:8], *ON, *T),
        "meet a new name": counted(run, "meet", f"Someone New {len(meets)}", *ON, *T),
        "history": counted(run, "history", ada.name, *T),
    }


def test_recording_and_history_touch_the_same_rows_on_a_small_and_a_large_network(stores):
    small = costs(*stores[SMALL])
    large = costs(*stores[LARGE])
    history_small, history_large = small.pop("history"), large.pop("history")
    (meet_rows_small, meet_small), (meet_rows_large, meet_large) = (
        small.pop("meet a new name"),
        large["meet a new name"],
    )
    # A new contact's rows go into the buckets of its id (viewstore.BUCKETED, and the
    # sealed history counts, viewstore.HIST): on the larger network those three buckets
    # usually exist already and are read to be written back whole.
    assert meet_small == meet_large and meet_rows_small <= meet_rows_large <= meet_rows_small + 3
    small["meet a new name"] = large["meet a new name"]
    assert large == small  # twenty times the contacts, not one row more
    for command, (rows, unsealed) in large.items():
        # the row of the contact (or promise) named, and the rows the fold of the new
        # fact changes (the contact, its ledger and tally, the daily totals, the latest
        # day and recording, the contact's sealed history count); its name
        assert rows <= 8 and unsealed <= 3, (command, rows, unsealed)
    # history: two rows (the contact, its sealed history count), then the facts of that contact only
    assert history_small[0] == history_large[0] == 2
    assert history_large[1] <= 12


def test_a_name_that_matches_nothing_is_still_found_by_a_word_and_errors_list_the_candidates(stores):
    run, meets = stores[SMALL]
    ada = meets[0]
    assert ada.contact_id is not None
    word = ada.name.split()[0].lower()  # "contact": every name starts with it
    assert "is ambiguous" in run.fails("touch", word, *ON, *T)
    assert "unknown contact 'Nobody At All'" in run.fails("touch", "Nobody At All", *ON, *T)
    # a word in the middle of the name, and the name in another case, as Directory finds them
    for ref in (ada.name.split()[1], ada.name.upper(), ada.name[:-1].lower()):
        assert run.json("touch", ref, *ON, *T)["recorded"]["contact"]["id"] == ada.contact_id.hex


def test_names_resolve_without_the_name_index_and_a_store_of_the_previous_release_gets_one(tmp_path: Path):
    run = Runner(tmp_path / "home", tmp_path, process=False)
    meets = build(run, 20)
    ada = meets[5]
    conn = sqlite3.connect(tmp_path / "home" / "store.db")
    with conn:
        conn.execute("DELETE FROM syncnet_name_index")  # lost: seen (its rows are counted), rebuilt
    touched = run("touch", ada.name, *ON, *T, "--json")
    assert touched.returncode == 0 and json.loads(touched.stdout)["recorded"]["contact"]["name"] == ada.name
    assert touched.stderr == "syncnet: warning: the views were altered (their position or rows): they are " \
        "rebuilt from the log\n", touched.stderr
    assert "already a contact" in run.fails("meet", ada.name, *ON, *T)  # the index is whole again
    with conn:  # views of the previous release (no name index): rebuilt, index included
        conn.execute("UPDATE syncnet_view_tracking SET fingerprint = 'views-v3;minutes=[]'")
    conn.close()
    run.ok("due", *T)
    assert "already a contact" in run.fails("meet", ada.name, *ON, *T)
    assert counted(run, "touch", ada.name, *ON, *T)[0] <= 6


# ------------------------------------------------------------- tallies vs the ledger
LEDGER_OPS = ["give", "receive", "ask", "asked", "promise", "kept", "dropped"]
OPS = st.lists(
    st.tuples(st.sampled_from(LEDGER_OPS), st.integers(0, 2),
              st.dates(date(2025, 1, 1), date(2026, 11, 25)), st.none() | st.integers(0, 90)),
    max_size=30,
)  # fmt: skip


@settings(max_examples=80, deadline=None, database=None)
@given(OPS, st.dates(date(2024, 12, 1), date(2026, 12, 31)))
def test_tallies_give_the_balances_and_warnings_of_the_day_by_day_ledger_on_any_day(ops, day):
    """Reads of today use a tally per contact (its ledger summed, its promises listed),
    falling back to the ledger for a day before the tally's last: the same balances and
    warnings as the ledger and the promise rows, whatever the facts and the day, with
    facts recorded out of order."""
    f = Facts()
    contacts = [f.met(date(2025, 1, 1)) for _ in range(3)]
    promises: list[tuple[UUID, UUID]] = []
    for op, who, on, minutes in ops:
        if op == "promise":  # due some days after it is made (minutes: the number of days)
            promises.append((f.promise(contacts[who], on, on + timedelta(days=minutes or 0)), contacts[who]))
        elif op in ("kept", "dropped"):  # the oldest promise still open, if any
            if promises:
                pid, cid = promises.pop(0)
                getattr(f, op)(pid, cid, on)
        else:
            getattr(f, op)(contacts[who], on, minutes=minutes)
    views = f.views()
    # in key order, as the view store lists them
    ledgers = {row.id: row for row in sorted(views.all("ledger"), key=lambda r: r.id)}
    tallies = sorted(views.all("tally"), key=lambda r: r.id)
    config = parse_config({})
    # The promises: their rows with the ledgers, their entries in the tallies.
    from_days = pj.balances(ledgers.values(), views.all("promise"), day, config.minutes)
    from_tallies = pj.balances(tallies, None, day, config.minutes, ledgers.__getitem__)
    nonzero = {k: v for k, v in from_days.items() if v != pj.Balance(k)}
    assert {k: v for k, v in from_tallies.items() if v != pj.Balance(k)} == nonzero
    contact_rows = views.all("contact")
    days = views.get("global", "days") or {}
    assert pj.warnings(contact_rows, tallies, days, day, config, ledgers.__getitem__) == pj.warnings(
        contact_rows, ledgers.values(), days, day, config
    )
