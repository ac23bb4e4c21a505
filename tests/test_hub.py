"""The hub on a real PostgreSQL (tests/pg_fixtures.py): devices set it up, join it and
exchange facts through the CLI, read back what the other recorded, forget on one and
find it forgotten on the other; the hub's tables, read directly with psycopg, hold no
plain text; bad keys, URLs and servers are one line each.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support import Runner

from syncnet.storage.hubcodec import HubCodec

T = ("--today", "2026-11-30")


def device(tmp_path: Path, name: str, hub_url: str, member: str | None = None) -> Runner:
    """A device: its own home and store, with [hub] in its config."""
    base = tmp_path / name
    base.mkdir()
    runner = Runner(base / "home", base)
    runner.home.mkdir()
    lines = ["[hub]", f'url = "{hub_url}"'] + ([f'member = "{member}"'] if member else [])
    (runner.home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner.ok("init")
    return runner


def two_devices(tmp_path: Path, hub_url: str) -> tuple[Runner, Runner]:
    a, b = device(tmp_path, "laptop", hub_url, "ada-laptop"), device(tmp_path, "desktop", hub_url, "ada-desk")
    a.ok("hub", "init")
    key = tmp_path / "team.key"
    a.ok("hub", "key", key)
    assert key.stat().st_mode & 0o777 == 0o600
    b.ok("hub", "join", key)
    return a, b


def hub_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the hub's database."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        return {t: list(conn.execute(f'SELECT * FROM "{t}"')) for t in tables}


def fact_count(run: Runner) -> int:
    return int(run.json("verify")["facts"])


def test_two_devices_read_what_the_other_recorded(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20", "--note", "met at the analytical engine talk")
    a.ok("give", "Ada Lovelace", "--kind", "advice", "--on", "2026-11-21")
    b.ok("meet", "Grace Hopper", "--on", "2026-11-22", "--note", "compilers, nanoseconds")
    b.ok("promise", "Grace Hopper", "send the COBOL paper", "--due", "2026-12-03", "--on", "2026-11-22")
    first = a.json("hub", "sync")
    assert (first["pulled"], first["pushed"]) == (0, 2)
    second = b.json("hub", "sync")
    assert (second["pulled"], second["pushed"]) == (2, 2)
    assert second["pulled_by_member"] == {"ada-laptop": 2}
    assert a.json("hub", "sync")["pulled"] == 2
    # every read equal on both devices, with the other's names, notes and promises in it
    for args in (
        ("contacts", *T),
        ("due", *T),
        ("balance", *T),
        ("split", *T),
        ("history", "Ada", *T),
        ("history", "Grace", *T),
        ("show", "Grace", *T),
    ):
        assert a.json(*args) == b.json(*args), args
    assert "met at the analytical engine talk" in json.dumps(b.json("history", "Ada", *T))
    # each fact says which member's device recorded it, on every device
    for run in (a, b):
        for name, member in (("Ada", "ada-laptop"), ("Grace", "ada-desk")):
            events = run.json("history", name, *T)["events"]
            assert [e["recorded_by"] for e in events] == [member] * len(events), (name, events)
    assert "by ada-desk]" in a.ok("history", "Grace", *T).stdout
    assert "send the COBOL paper" in json.dumps(a.json("due", *T))
    assert fact_count(a) == fact_count(b) == 4
    # again and again: nothing more moves
    for run in (a, b, a):
        again = run.json("hub", "sync")
        assert (again["pulled"], again["pushed"]) == (0, 0)
    assert len(hub_rows(hub_url)["syncnet_hub_facts"]) == 4
    assert a.json("hub", "status")["up_to_date"] and b.json("hub", "status")["up_to_date"]


def test_facts_recorded_offline_on_both_sides_merge_by_union(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20")
    a.ok("hub", "sync")
    b.ok("hub", "sync")
    # both record about the same contact while apart
    a.ok("touch", "Ada", "--by", "me", "--on", "2026-11-24")
    b.ok("touch", "Ada", "--by", "them", "--on", "2026-11-25")
    b.ok("set", "Ada", "--org", "Analytical Engines", "--on", "2026-11-25")
    a.ok("set", "Ada", "--org", "Difference Engines", "--on", "2026-11-26")  # the later one wins
    a.ok("hub", "push")
    b.ok("hub", "pull")
    b.ok("hub", "push")
    a.ok("hub", "pull")
    assert fact_count(a) == fact_count(b) == 5
    for args in (("contacts", *T), ("show", "Ada", *T), ("history", "Ada", *T), ("balance", *T)):
        assert a.json(*args) == b.json(*args), args
    assert "Difference Engines" in json.dumps(b.json("show", "Ada", *T))


def test_texts_about_me_from_each_device_are_readable_on_the_other(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("pitch", "--note", "my talk on engines", "--on", "2026-11-20")
    b.ok("pitch", "--note", "my post on compilers", "--on", "2026-11-21")
    a.ok("hub", "sync")
    b.ok("hub", "sync")
    a.ok("hub", "sync")
    assert fact_count(a) == fact_count(b) == 2
    exported = []
    for run in (a, b):
        out = run.base / "export.jsonl"
        run.ok("export", "--facts", out)
        exported.append(out.read_text(encoding="utf-8"))
    for text in exported:  # each device reads both notes (an unreadable one exports as such)
        assert "my talk on engines" in text and "my post on compilers" in text, text


def test_forgetting_on_one_device_forgets_everywhere(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20", "--note", "a secret about Ada")
    a.ok("meet", "Grace Hopper", "--on", "2026-11-20")
    a.ok("hub", "sync")
    b.ok("hub", "sync")
    ada = b.json("show", "Ada", *T)["contact"]["id"]
    a.ok("forget", "Ada", "--yes")
    a.ok("hub", "sync")
    done = b.json("hub", "sync")
    assert done["erased_contacts"] == 1
    assert b.fails("show", "Ada", *T)
    assert [c["name"] for c in b.json("contacts", *T)["contacts"]] == ["Grace Hopper"]
    assert "a secret about Ada" not in json.dumps(b.json("history", "Grace", *T))
    # B's key of Ada is destroyed (a tombstone), and so is the hub's
    with sqlite3.connect(b.home / "store.db") as conn:
        rows = conn.execute(
            "SELECT wrapped FROM syncnet_keys WHERE subject = ?", (ada.replace("-", ""),)
        ).fetchall()
    assert rows == [(b"",)]
    key = HubCodec(base64.b64decode((tmp_path / "team.key").read_text()))
    slot = key.slot(ada.replace("-", ""))
    with psycopg.connect(hub_url) as conn:
        rows = conn.execute("SELECT slot, wrapped, erased FROM syncnet_hub_keys")
        keys = {bytes(r[0]): (bytes(r[1]), r[2]) for r in rows}
    wrapped, erased = keys[slot]
    assert erased and key.open_key(slot, wrapped) == (ada.replace("-", ""), "erased", None)  # no key in it
    assert sum(1 for _, gone in keys.values() if not gone) >= 2  # Grace's key and the devices' own stay


def test_the_hub_holds_no_plain_text(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    secrets = [
        "Ada Lovelace",
        "Analytical Engines",
        "ada@example.org",
        "a secret note",
        "send the paper",
        "Grace Hopper",
        "ada-laptop",
        "ada-desk",
        "my talk",
    ]
    a.ok(
        "meet",
        "Ada Lovelace",
        "--on",
        "2026-11-20",
        "--note",
        "a secret note",
        "--org",
        "Analytical Engines",
        "--email",
        "ada@example.org",
    )
    a.ok("promise", "Ada", "send the paper", "--due", "2026-12-01", "--on", "2026-11-20")
    a.ok("pitch", "--note", "my talk", "--on", "2026-11-21")
    b.ok("meet", "Grace Hopper", "--on", "2026-11-22")
    for run in (a, b, a):
        run.ok("hub", "sync")
    rows = hub_rows(hub_url)
    assert set(rows) == {"syncnet_hub_facts", "syncnet_hub_keys", "syncnet_hub_meta"}
    assert len(rows["syncnet_hub_facts"]) == 4
    raw = b"".join(
        bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode()
        for t in rows.values()
        for r in t
        for v in r
    )
    type_names = [
        "ContactMet",
        "PromiseMade",
        "Presented",
        "syncnet.domain",
        "syncnet:met",
        "syncnet:fact",
        "contact",
        "self",
        "goal",
    ]
    for text in secrets + type_names:
        assert text.encode() not in raw, text
        assert text.encode("utf-16-le") not in raw, text
    with psycopg.connect(hub_url) as conn:
        topics = {r[0] for r in conn.execute("SELECT DISTINCT topic FROM syncnet_hub_facts")}
    assert topics == {"syncnet:sealed"}
    # the control: the same scan finds what is there in the clear
    assert b"syncnet:sealed" in raw


def test_a_wrong_team_key_a_missing_hub_and_an_unreachable_one_are_one_line(
    tmp_path: Path, hub_url: str
) -> None:
    a = device(tmp_path, "laptop", hub_url)
    out = a("hub", "sync")
    assert out.returncode == 2 and "joined no hub" in out.stderr and len(out.stderr.splitlines()) == 1
    b = device(tmp_path, "desktop", hub_url)
    wrong = tmp_path / "wrong.key"
    wrong.write_text(base64.b64encode(b"k" * 32).decode() + "\n")
    out = b("hub", "join", wrong)
    assert out.returncode == 2 and "no hub" in out.stderr  # not set up yet
    a.ok("hub", "init")
    out = b("hub", "join", wrong)
    assert out.returncode == 2 and "does not open the hub" in out.stderr, out.stderr
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key\n")
    out = b("hub", "join", garbage)
    assert out.returncode == 2 and "not a syncnet team key" in out.stderr
    out = b("hub", "init")  # a second init of a hub set up with another key
    assert out.returncode == 2 and "set up already" in out.stderr
    # nothing listens on port 1: one line, exit 1, no traceback
    out = a("hub", "sync", "--hub", "postgresql://postgres@127.0.0.1:1/none")
    assert out.returncode == 1, out.stderr
    assert len(out.stderr.splitlines()) == 1 and "127.0.0.1:1/none" in out.stderr, out.stderr
    # a password in the URL is refused and never shown
    out = a("hub", "sync", "--hub", "postgresql://postgres:hunter2@127.0.0.1/x")
    assert out.returncode == 2 and "PGPASSWORD" in out.stderr and "hunter2" not in out.stderr + out.stdout
    out = a("hub", "sync", "--hub", "postgresql://postgres@127.0.0.1/x?password=hunter2")  # in the query too
    assert (
        out.returncode in (1, 2) and "PGPASSWORD" in out.stderr and "hunter2" not in out.stderr + out.stdout
    )
    assert not (a.home / "store.db-journal").exists()


@pytest.mark.parametrize("broken", ["envelope", "moved"])
def test_a_damaged_envelope_on_the_hub_is_refused_and_nothing_is_pulled(
    tmp_path: Path, hub_url: str, broken: str
) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20")
    a.ok("meet", "Grace Hopper", "--on", "2026-11-20")
    a.ok("hub", "push")
    with psycopg.connect(hub_url) as conn:
        ids = [
            r[0] for r in conn.execute("SELECT originator_id FROM syncnet_hub_facts ORDER BY notification_id")
        ]
        if broken == "envelope":
            conn.execute(
                "UPDATE syncnet_hub_facts SET state = overlay(state placing '\\x00'::bytea from 20 for 1) "
                "WHERE originator_id = %s",
                (ids[1],),
            )
        else:  # one fact's envelope under the other's id
            conn.execute(
                "UPDATE syncnet_hub_facts SET state = (SELECT state FROM syncnet_hub_facts WHERE "
                "originator_id = %s) WHERE originator_id = %s",
                (ids[0], ids[1]),
            )
    out = b("hub", "pull")
    assert out.returncode == 1 and "does not open with the team key" in out.stderr, out.stderr
    assert fact_count(b) == 0  # the batch is refused whole


def test_a_team_moves_to_a_new_key_that_the_old_one_does_not_open(
    tmp_path: Path, hub_url: str, pg_admin: str
) -> None:
    from pg_fixtures import new_database

    a, b = two_devices(tmp_path, hub_url)
    c = device(tmp_path, "leaver", hub_url, "leaver")
    c.ok("hub", "join", tmp_path / "team.key")
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20", "--note", "kept in the team")
    for run in (a, b, c):
        run.ok("hub", "sync")
    with new_database(pg_admin) as new_url:
        out = a.json("hub", "init", "--new-key", "--hub", new_url)
        assert out["created"]
        assert a.json("hub", "sync", "--hub", new_url)["pushed"] == 1
        a.ok("hub", "key", tmp_path / "new.key")
        assert (tmp_path / "new.key").read_text() != (tmp_path / "team.key").read_text()
        # the member who left holds the old key only: it does not open the new hub
        out = c("hub", "join", tmp_path / "team.key", "--hub", new_url)
        assert out.returncode == 2 and "does not open the hub" in out.stderr
        # the others join with the new key, leaving the old hub; their facts stay
        b.ok("hub", "join", tmp_path / "new.key", "--hub", new_url)
        b.ok("meet", "Grace Hopper", "--on", "2026-11-21")
        done = b.json("hub", "sync", "--hub", new_url)
        assert (done["pulled"], done["pushed"]) == (0, 1)  # A's facts were pulled from the old hub already
        a.ok("hub", "sync", "--hub", new_url)
        assert a.json("contacts", *T) == b.json("contacts", *T)
        assert "kept in the team" in json.dumps(b.json("history", "Ada", *T))
        # init --new-key refuses a database that holds a hub
        out = b("hub", "init", "--new-key", "--hub", new_url)
        assert out.returncode == 2 and "set up already" in out.stderr


def test_status_counts_what_each_side_lacks(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20")
    a.ok("meet", "Grace Hopper", "--on", "2026-11-20")
    assert a.json("hub", "status")["to_push"] == 2
    a.ok("hub", "push")
    status = b.json("hub", "status")
    assert (status["to_pull"], status["to_push"], status["up_to_date"]) == (2, 0, False)
    b.ok("hub", "pull")
    status = b.json("hub", "status")  # what B pulled is on the hub: nothing to push
    assert (status["to_pull"], status["to_push"], status["up_to_date"]) == (0, 0, True)
    assert "up to date" in b.ok("hub", "status").stdout


def test_without_the_hub_the_daemon_starts_and_other_targets_sync(tmp_path: Path, hub_url: str) -> None:
    a, _ = two_devices(tmp_path, hub_url)
    ics = tmp_path / "agenda.ics"
    (a.home / "config.toml").write_text(
        '[hub]\nurl = "postgresql://postgres@127.0.0.1:1/gone"\n\n'
        f'[targets.file]\ntype = "ics"\npath = "{ics}"\n\n'
        '[targets.cal]\ntype = "caldav"\nurl = "http://127.0.0.1:1/cal/"\n',
        encoding="utf-8",
    )
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20")
    out = a("sync", "--today", "2026-11-21")
    assert out.returncode == 1  # the calendar's lease cannot be asked for: that target fails
    assert ics.exists() and b"Ada Lovelace" in ics.read_bytes()  # the file is this device's own
    assert "lease cannot be asked for" in out.stderr and "file" not in out.stderr.split("error:")[-1][:20]
    daemon = a.popen("daemon", "--poll", "0.2")
    from support import wait_for

    wait_for(lambda: "hub: failed" in daemon.stderr(), 20, "the daemon to say the hub failed")
    assert daemon.alive(), daemon.stderr()
    assert daemon.stop() == 0


def test_who_of_us_knows_someone_at_acme(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20", "--org", "ACME Engines")
    a.ok("meet", "Charles Babbage", "--on", "2026-11-20", "--org", "Difference Ltd")
    b.ok("meet", "Grace Hopper", "--on", "2026-11-21", "--org", "Acme Navy")
    for run in (a, b, a):
        run.ok("hub", "sync")
    for run in (a, b):
        found = {c["name"]: c["met_by"] for c in run.json("contacts", "--org", "acme", *T)["contacts"]}
        assert found == {"Ada Lovelace": "ada-laptop", "Grace Hopper": "ada-desk"}
        table = run.ok("contacts", "--org", "acme", *T).stdout
        assert "met by" in table and "ada-desk" in table
    # the path to someone across the team: through the contacts either member met
    a.ok("meet", "Katherine Johnson", "--on", "2026-11-22", "--via", "Grace Hopper")
    path = a.json("path", "Katherine", *T)
    assert [step["contact"]["name"] for step in path["path"]] == ["Grace Hopper", "Katherine Johnson"], path


def test_a_private_note_stays_on_the_device_that_wrote_it(tmp_path: Path, hub_url: str) -> None:
    a, b = two_devices(tmp_path, hub_url)
    a.ok("meet", "Ada Lovelace", "--on", "2026-11-20", "--note", "shared with the team")
    a.ok("touch", "Ada", "--by", "me", "--on", "2026-11-21", "--note", "she is moving to Paris", "--private")
    b.ok("pitch", "--note", "my own secret plan", "--private", "--on", "2026-11-22")
    for run in (a, b, a):
        run.ok("hub", "sync")
    mine, theirs = json.dumps(a.json("history", "Ada", *T)), json.dumps(b.json("history", "Ada", *T))
    assert "she is moving to Paris" in mine and "shared with the team" in mine
    assert (
        "shared with the team" in theirs and "she is moving to Paris" not in theirs and "[private]" in theirs
    )
    assert b.json("verify")["whole"] and a.json("verify")["whole"]
    out = tmp_path / "a.jsonl"
    a.ok("export", "--facts", out)
    text = out.read_text()
    assert "my own secret plan" not in text and "she is moving to Paris" in text
    # not a byte of it on the hub either: the key of private notes never leaves the device
    raw = b"".join(bytes(r[3]) for r in hub_rows(hub_url)["syncnet_hub_facts"])
    assert b"Paris" not in raw
    out = a("touch", "Ada", "--private", "--on", "2026-11-22")
    assert out.returncode == 2 and "give the note" in out.stderr
