"""Tampering (issue 14, guarantee 4): a store edited without its key, byte by byte and row
by row, as an attacker holding the files but not the key would. Each kind of damage must
be detected: `syncnet verify` names it (exit 1), and every command either prints what the
untouched store printed, or says on stderr what is damaged (a warning when it goes on
without it, one error line when it cannot), never a traceback, never silently other
output. Derived data (views, history index, sync state) is rebuilt by `syncnet repair`
after which the reads equal the untouched store's; a damaged fact stays left out, and
says so. The store stays usable: a fact can still be recorded, except after the log was
cut short (its seal says where it ended)."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import Runner

T = ("--today", "2026-11-20")
READS = [
    ("due", "--json", *T),
    ("contacts", "--json", *T),
    ("balance", "--json", *T),
    ("split", "--json", *T),
    ("history", "Ada", "--json", *T),
    ("history", "Grace", "--json", *T),
    ("show", "Ada", "--json", *T),
    ("warnings", "--json", *T),
]


def build(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--why", "role-model", "--org", "Analytical Engines", "--on", "2026-11-02",
           "--note", "met at the salon", *T)  # fmt: skip
    run.ok("meet", "Grace Hopper", "--why", "complement", "--on", "2026-11-03", *T)
    run.ok("give", "Ada", "--kind", "advice", "--minutes", "30", "--on", "2026-11-04", *T)
    run.ok("promise", "Ada", "send the slides", "--due", "2026-11-30", "--on", "2026-11-05", *T)
    run.ok("touch", "Grace", "--by", "them", "--on", "2026-11-06", *T)
    run.ok("receive", "Grace", "--kind", "advice", "--on", "2026-11-07", *T)
    run.ok("promise", "Grace", "review the paper", "--due", "2026-12-10", "--on", "2026-11-08", *T)
    ics = run.home.parent / "reminders.ics"
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{ics}"\n')
    run.ok("sync", *T)
    for args in READS:
        run.ok(*args)


def sql(home: Path, statement: str, *params: Any) -> None:
    conn = sqlite3.connect(home / "store.db")
    with conn:
        conn.execute(statement, params)
    conn.close()


def one(home: Path, statement: str, *params: Any) -> Any:
    conn = sqlite3.connect(home / "store.db")
    try:
        return conn.execute(statement, params).fetchone()
    finally:
        conn.close()


def flip(blob: bytes, at: int = -5) -> bytes:
    b = bytearray(blob)
    b[at] ^= 0x01
    return bytes(b)


def flip_event(home: Path, position: int = 3) -> None:
    (state,) = one(home, "SELECT state FROM stored_events WHERE rowid = ?", position)
    sql(home, "UPDATE stored_events SET state = ? WHERE rowid = ?", flip(state), position)


def swap_states(home: Path) -> None:
    (a,), (b,) = one(home, "SELECT state FROM stored_events WHERE rowid = 3"), one(
        home, "SELECT state FROM stored_events WHERE rowid = 5")  # fmt: skip
    sql(home, "UPDATE stored_events SET state = ? WHERE rowid = 3", b)
    sql(home, "UPDATE stored_events SET state = ? WHERE rowid = 5", a)


def change_topic(home: Path) -> None:
    # The help given at 3 passed off as a record of a sync (its class; its type is sealed
    # inside its state), which the agenda would not count.
    (topic,) = one(home, "SELECT topic FROM stored_events WHERE rowid = 3")
    assert topic == "syncnet:fact"
    sql(home, "UPDATE stored_events SET topic = 'syncnet:push' WHERE rowid = 3")


def delete_event(home: Path) -> None:
    sql(home, "DELETE FROM stored_events WHERE rowid = 3")


def cut_log(home: Path) -> None:
    (last,) = one(home, "SELECT MAX(rowid) FROM stored_events")
    sql(home, "DELETE FROM stored_events WHERE rowid = ?", last)
    sql(home, "DELETE FROM syncnet_chain WHERE position = ?", last)


def drop_head(home: Path) -> None:
    sql(home, "DELETE FROM syncnet_chain WHERE position = 0")


def empty_chain(home: Path) -> None:
    """Passing the store off as one from before the seal, after editing a fact."""
    change_topic(home)
    sql(home, "DELETE FROM syncnet_chain")


def lower_tracking(home: Path) -> None:
    sql(home, "UPDATE syncnet_view_tracking SET position = position - 3 WHERE name = 'syncnet-views'")


def flip_promise_open(home: Path) -> None:
    sql(home, "UPDATE syncnet_views SET open = NULL WHERE kind = 'promise' AND open = 1")


def flip_view_row(home: Path) -> None:
    key, data = one(home, "SELECT key, data FROM syncnet_views WHERE kind = 'tally' LIMIT 1")
    sql(home, "UPDATE syncnet_views SET data = ? WHERE kind = 'tally' AND key = ?", flip(data), key)


def move_index_entry(home: Path) -> None:
    """One of Ada's facts listed in Grace's history."""
    rows = sqlite3.connect(home / "store.db").execute(
        "SELECT contact, position FROM syncnet_view_index ORDER BY position").fetchall()  # fmt: skip
    ada, grace = rows[0][0], next(c for c, _ in rows if c != rows[0][0])
    ada_fact = next(p for c, p in rows if c == ada and p > 1)
    sql(
        home,
        "UPDATE syncnet_view_index SET contact = ? WHERE contact = ? AND position = ?",
        grace,
        ada,
        ada_fact,
    )


def delete_tallies(home: Path) -> None:
    """Rows deleted, not edited: each is sealed alone, so only their count can tell."""
    sql(home, "DELETE FROM syncnet_views WHERE kind = 'tally'")


def delete_views(home: Path) -> None:
    sql(home, "DELETE FROM syncnet_views")


def delete_name_index(home: Path) -> None:
    """Without it, a first meeting of a name already met would not be refused."""
    sql(home, "DELETE FROM syncnet_name_index")


def delete_contact_key(home: Path) -> None:
    (subject,) = one(home, "SELECT subject FROM syncnet_keys WHERE kind = 'contact' LIMIT 1")
    sql(home, "DELETE FROM syncnet_keys WHERE subject = ?", subject)


def flip_state(home: Path) -> None:
    scope, key, data = one(home, "SELECT scope, key, data FROM syncnet_state WHERE key = 'state' LIMIT 1")
    sql(home, "UPDATE syncnet_state SET data = ? WHERE scope = ? AND key = ?", flip(data), scope, key)


def flip_contact_key(home: Path) -> None:
    subject, wrapped = one(home, "SELECT subject, wrapped FROM syncnet_keys WHERE kind = 'contact' LIMIT 1")
    sql(home, "UPDATE syncnet_keys SET wrapped = ? WHERE subject = ?", flip(wrapped), subject)


def break_store_json(home: Path) -> None:
    meta = json.loads((home / "store.json").read_text())
    meta["format"] = 99
    (home / "store.json").write_text(json.dumps(meta))


def truncate_db(home: Path) -> None:
    data = (home / "store.db").read_bytes()
    (home / "store.db").write_bytes(data[: len(data) // 2])


def flip_key_file(home: Path) -> None:
    key = bytearray(base64.b64decode((home / "key").read_text()))
    key[0] ^= 1
    (home / "key").write_text(base64.b64encode(bytes(key)).decode() + "\n")


Tamper = Callable[[Path], None]
# (tamper, what `verify` must name, derived: repaired to the untouched output, writable after it)
CASES: dict[str, tuple[Tamper, str, bool, bool]] = {
    "a fact's state edited": (flip_event, "fact at position 3", False, True),
    "two facts' states swapped": (swap_states, "fact at position 3", False, True),
    "a fact's topic changed": (change_topic, "fact at position 3", False, True),
    "a fact deleted": (delete_event, "fact at position 3: it is missing", False, True),
    "the log cut short": (cut_log, "cut short", False, False),
    "the seal's head deleted": (drop_head, "head", False, False),
    "the seal emptied after an edit": (empty_chain, "fact at position", False, False),
    "the views' position lowered": (lower_tracking, "views", True, True),
    "a promise's open flag flipped": (flip_promise_open, "views: the view row promise", True, True),
    "a view row edited": (flip_view_row, "views: the view row tally", True, True),
    "view rows deleted": (delete_tallies, "views: the views' position or rows", True, True),
    "every view row deleted": (delete_views, "views: the views' position or rows", True, True),
    "the name index emptied": (delete_name_index, "views: the views' position or rows", True, True),
    "a contact's data key deleted": (delete_contact_key, "it is missing, and no fact erased it", False, True),
    "the history index edited": (move_index_entry, "history index", True, True),
    "a sync state edited": (flip_state, "state target", True, True),
    "a contact's wrapped key edited": (flip_contact_key, "data key", False, True),
}


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, ...], str]]:
    base = tmp_path_factory.mktemp("untouched")
    run = Runner(base / "home", base)
    build(run)
    return run.home, {args: run.ok(*args).stdout for args in READS}


def copy_of(untouched_home: Path, tmp_path: Path) -> Runner:
    home = tmp_path / "home"
    shutil.copytree(untouched_home, home)
    ics = untouched_home.parent / "reminders.ics"
    (home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{tmp_path / ics.name}"\n')
    shutil.copy(ics, tmp_path / ics.name)
    return Runner(home, tmp_path)


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


def judged(result: Any, expected: str, warned: str | None = None) -> str:
    """'same', 'warned' (other output, and stderr says why) or 'error' (one line); never
    other output in silence."""
    no_traceback(result)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("syncnet: error:")]
        assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
        return "error"
    if result.stdout == expected:
        return "same"
    assert "syncnet: warning:" in result.stderr, f"silently other output:\n{result.stdout}\n{expected}"
    return "warned"


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_is_detected_named_and_never_silent(untouched, tmp_path, case):
    untouched_home, expected = untouched
    tamper, named, derived, writable = CASES[case]
    run = copy_of(untouched_home, tmp_path)
    tamper(run.home)

    verdict = run("verify")
    no_traceback(verdict)
    assert verdict.returncode == 1 and named in verdict.stdout, verdict.stdout + verdict.stderr

    outcomes = {args[0] + " " + args[1]: judged(run(*args), expected[args]) for args in READS}
    if derived:
        repaired = run("repair")
        assert repaired.returncode == 0, repaired.stderr
        after = run("verify")
        assert after.returncode == 0, after.stdout
        for args in READS:
            result = run(*args)
            assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
            assert result.stdout == expected[args], args
    elif case != "the seal's head deleted":  # every fact still matches its own seal
        assert any(o != "same" for o in outcomes.values()), outcomes

    sync = run("sync", *T)
    no_traceback(sync)
    written = run("meet", "Linus Torvalds", "--why", "complement", "--on", "2026-11-19", *T)
    no_traceback(written)
    assert (written.returncode == 0) == writable, written.stderr
    if not writable:  # one error line (after the warnings), which says what to do
        lines = written.stderr.strip().splitlines()
        assert [x for x in lines if x.startswith("syncnet: error:")] == lines[-1:] and "verify" in lines[-1]


@pytest.mark.parametrize("tamper", [break_store_json, truncate_db, flip_key_file])
def test_a_store_that_cannot_open_says_so_in_one_line(untouched, tmp_path, tamper):
    run = copy_of(untouched[0], tmp_path)
    tamper(run.home)
    for args in [("verify",), *READS, ("touch", "Grace", *T)]:
        result = run(*args)
        no_traceback(result)
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("syncnet: error:")


def test_a_new_store_verifies_whole(run):
    run.ok("init")
    assert run.ok("verify").stdout.startswith("The store is whole: 0 facts")


def test_an_untouched_store_verifies_whole(untouched, tmp_path):
    run = copy_of(untouched[0], tmp_path)
    result = run("verify", "--json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["whole"] and doc["facts"] == 8 and doc["damaged_facts"] == []


# A value of the wrong SQL kind (text or NULL where bytes or numbers are stored), as
# sqlite3 lets anyone write: damage like a flipped byte, never a Python error's name.
WRONG_KINDS = {
    "a fact's state as text": ("UPDATE stored_events SET state = 'sometext' WHERE rowid = 3", "position 3"),
    "a fact's state NULL": ("UPDATE stored_events SET state = NULL WHERE rowid = 3", "position 3"),
    # the library cannot make a fact of that row: the log is read no further (where: roughly)
    "a fact's id NULL": ("UPDATE stored_events SET originator_id = NULL WHERE rowid = 3",
                         "the log is damaged"),
    "a seal's link as text": ("UPDATE syncnet_chain SET link = 't' WHERE position = 3", "position 3"),
    "a wrapped key as text": ("UPDATE syncnet_keys SET wrapped = 't' WHERE kind = 'contact'", "data key"),
    "a view row as text": ("UPDATE syncnet_views SET data = 't' WHERE kind = 'tally'", "views"),
    "a sync state as text": ("UPDATE syncnet_state SET data = 't' WHERE key = 'state'", "state"),
    "the views' position as text": ("UPDATE syncnet_view_tracking SET position = 't'", "views"),
}
PYTHON_ERRORS = ("TypeError", "ValueError", "AttributeError", "KeyError", "SYNCNET_DEBUG", "Traceback")


@pytest.mark.parametrize("case", sorted(WRONG_KINDS))
def test_a_value_of_the_wrong_kind_is_damage_named_in_one_line(untouched, tmp_path, case):
    statement, named = WRONG_KINDS[case]
    run = copy_of(untouched[0], tmp_path)
    sql(run.home, statement)
    verdict = run("verify")
    said = verdict.stdout + verdict.stderr
    assert verdict.returncode == 1 and named in said, said
    for args in [("verify",), *READS, ("sync", *T), ("touch", "Grace", *T)]:
        result = run(*args)
        shown = result.stdout + result.stderr
        assert not [e for e in PYTHON_ERRORS if e in shown], (args, result.stderr)
        if result.returncode and args[0] != "verify":  # verify lists the problems, exit 1
            assert len([x for x in result.stderr.splitlines() if x.startswith("syncnet: error:")]) == 1, args


KDF_EDITS = [{"n": -1}, {"n": 3}, {"n": "x"}, {"n": 2**40}, {"n": 2**24}, {"r": 0}, {"p": 10**6},
             {"salt": "%%"}, {"n": 2**20, "r": 32}]  # the last: 4 GiB


@pytest.mark.parametrize("edit", KDF_EDITS, ids=[str(e) for e in KDF_EDITS])
def test_key_derivation_parameters_out_of_range_are_refused_before_scrypt_runs(run, edit):
    """An edited store.json must not make scrypt fail with its own words, nor run for
    minutes or take all memory (n = 2**24 took over a minute)."""
    run.ok("init", passphrase="correct horse")
    meta = json.loads((run.home / "store.json").read_text())
    meta["kdf"].update(edit)
    (run.home / "store.json").write_text(json.dumps(meta))
    result = run("contacts", passphrase="correct horse")
    assert result.returncode != 0 and result.stderr.count("\n") == 1, result.stderr
    assert "key-derivation parameters are missing or out of range" in result.stderr, result.stderr


def test_a_missing_database_is_named_and_init_will_not_make_another_under_its_key(run):
    run.ok("init")
    run.ok("meet", "Ada Lovelace", *T)
    key = (run.home / "key").read_bytes()
    (run.home / "store.db").unlink()
    read = run("contacts")
    assert read.returncode != 0 and "database" in read.stderr and "is missing" in read.stderr, read.stderr
    assert "restore it from a backup" in read.stderr and read.stderr.count("\n") == 1
    init = run("init")
    assert init.returncode != 0 and "would make another under its key" in init.stderr, init.stderr
    assert not (run.home / "store.db").exists() and (run.home / "key").read_bytes() == key


def test_a_fact_damaged_after_it_was_folded_leaves_the_views_at_the_next_command(untouched, tmp_path):
    """The gift at position 3 was folded whole, then edited: the views count it until a
    read of the log finds it damaged; from the next command on they are rebuilt without
    it, and stay so (the damaged facts' row is sealed in their row counts too)."""
    run = copy_of(untouched[0], tmp_path)
    flip_event(run.home)
    run("history", "Ada", *T)  # reads the log: finds position 3 damaged
    balance = [run("balance", "--json", *T) for _ in range(2)]
    ada = [c for c in json.loads(balance[0].stdout)["contacts"] if c["contact"]["name"] == "Ada Lovelace"]
    assert ada[0]["given"] == 0, ada  # the gift is left out, as the warning says
    assert balance[0].stdout == balance[1].stdout
    for result in balance:
        assert "position 3 is damaged" in result.stderr and "views were altered" not in result.stderr
    verdict = run("verify")
    assert verdict.returncode == 1 and "views:" not in verdict.stdout, verdict.stdout
