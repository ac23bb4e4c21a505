"""A store on PostgreSQL (`syncnet init --store URL`), through the CLI as a user runs it:
every read equals the same facts' reads on SQLite, every kind of command works, the
daemon sees facts recorded after it started, concurrent writers lose nothing, no plain
text reaches the database, a backup restores as a store in SQLite, and rekey switches
keys whole or not at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from icalendar import Calendar
from pg_fixtures import sql_rows
from support import Runner, wait_for

T = ("--today", "2026-11-30")


def network_story(run: Runner) -> None:
    """A bit of everything: meetings, help both ways, requests, promises kept and open,
    goals, details, a birthday, pitches, corrections, a merge, a pocket, a forgetting."""
    run.ok("goal", "add", "Lead a data team")
    run.ok(
        "meet",
        "Ada Lovelace",
        "--on",
        "2026-11-01",
        "--note",
        "analytical engine",
        "--goal",
        "Lead a data team",
        "--org",
        "Engines Ltd",
        "--email",
        "ada@example.org",
    )
    run.ok("meet", "Grace Hopper", "--on", "2026-11-02", "--via", "Ada Lovelace")
    run.ok("meet", "Katherine Johnson", "--on", "2026-11-03", "--channel", "conference")
    run.ok("meet", "K. Johnson", "--on", "2026-11-04")
    run.ok("give", "Ada", "--kind", "advice", "--on", "2026-11-05")
    run.ok("receive", "Grace", "--kind", "introduction", "--to", "Katherine", "--on", "2026-11-06")
    run.ok("ask", "Grace", "--on", "2026-11-07", "--note", "a reference")
    run.ok("touch", "Katherine", "--by", "them", "--on", "2026-11-08")
    run.ok("promise", "Ada", "send the notes", "--due", "2026-12-02", "--on", "2026-11-09")
    run.ok("promise", "Grace", "review the draft", "--due", "2026-11-20", "--on", "2026-11-09")
    run.ok("set", "Grace", "--org", "Navy", "--on", "2026-11-10")
    run.ok("birthday", "Ada", "1985-12-10")
    run.ok("pitch", "--note", "a talk on engines", "--on", "2026-11-11")
    run.ok("pocket", "Katherine", "drop")
    run.ok("merge", "Katherine", "K. Johnson")
    fact = run.json("history", "Grace", *T)["events"][-1]["fact_id"]
    run.ok("retract", fact, "--reason", "recorded twice")


READS = [
    ("contacts", *T),
    ("due", *T),
    ("balance", *T),
    ("split", *T),
    ("warnings", *T),
    ("goal", "list"),
    ("history", "Ada", *T),
    ("history", "Grace", *T),
    ("history", "Katherine", *T),
    ("show", "Ada", *T),
    ("show", "Grace", *T),
    ("due", "--today", "2026-11-15"),
    ("balance", "--today", "2026-11-06"),
]


def test_every_read_on_postgres_equals_sqlite(run: Runner, tmp_path: Path, hub_url: str) -> None:
    run.ok("init")
    network_story(run)
    run.ok("export", tmp_path / "out")
    pg = Runner(tmp_path / "pg-home", tmp_path)
    pg.ok("init", "--store", hub_url)
    assert json.loads((pg.home / "store.json").read_text())["database"] == hub_url
    assert not (pg.home / "store.db").exists()
    pg.ok("import", "jsonl", tmp_path / "out" / "facts.jsonl")
    for args in READS:
        assert pg.json(*args) == run.json(*args), args
    assert pg.json("verify") == run.json("verify")
    # and it goes on like the file: new facts, the same on both
    for r in (run, pg):
        r.ok("touch", "Ada", "--by", "me", "--on", "2026-11-29")
    assert pg.json("balance", *T) == run.json("balance", *T)
    assert pg.json("contacts", *T) == run.json("contacts", *T)


def test_commands_work_on_postgres_and_no_plain_text_reaches_it(
    run: Runner, tmp_path: Path, hub_url: str
) -> None:
    run.ok("init", "--store", hub_url)
    network_story(run)
    run.ok("forget", "Grace", "--yes")
    assert [c["name"] for c in run.json("contacts", *T)["contacts"]] == ["Ada Lovelace", "Katherine Johnson"]
    assert run.json("verify")["whole"]
    run.ok("touch", "Ada", "--by", "me", "--on", "2026-11-29")
    undone = run("undo", "--yes")
    assert undone.returncode == 0, undone.stderr
    assert run.json("history", "Ada", *T)["events"][-1]["retracted"] is not None
    ics = tmp_path / "agenda.ics"
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{ics}"\n', encoding="utf-8")
    run.ok("sync")
    summaries = [str(e.get("SUMMARY")) for e in Calendar.from_ical(ics.read_bytes()).walk("VEVENT")]
    assert any("Ada Lovelace" in s for s in summaries), summaries
    assert run.json("status")["targets"][0]["last_error"] is None
    # the database holds no name, note, e-mail or type name
    tables = [r[0] for r in sql_rows(run.home, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    raw = b"".join(
        bytes(v) if isinstance(v, bytes) else str(v).encode()
        for t in tables
        for r in sql_rows(run.home, f'SELECT * FROM "{t}"')
        for v in r
    )
    assert len(raw) > 10_000
    for text in (
        "Ada Lovelace",
        "Grace",
        "analytical engine",
        "ada@example.org",
        "send the notes",
        "Engines Ltd",
        "a talk on engines",
        "ContactMet",
        "PromiseMade",
        "Lead a data team",
    ):
        assert text.encode() not in raw, text
    # the erased key's old row version is gone from the table's pages too (VACUUM FULL)
    with psycopg.connect(hub_url) as conn:
        erased = conn.execute("SELECT count(*) FROM syncnet_keys WHERE kind = 'erased'").fetchone()
    assert erased == (1,)
    # a backup restores as a store in SQLite, whole, with every read as it was
    reads = [("contacts", *T), ("due", *T), ("balance", *T), ("history", "Ada", *T), ("split", *T)]
    before = {args: run.json(*args) for args in reads}
    run.ok("backup", tmp_path / "pg.backup")
    restored = Runner(tmp_path / "restored", tmp_path)
    restored.ok("restore", tmp_path / "pg.backup", "--key-file", run.home / "key")
    assert (restored.home / "store.db").exists()
    assert "database" not in json.loads((restored.home / "store.json").read_text())
    assert restored.json("verify")["whole"]
    assert {args: restored.json(*args) for args in reads} == before
    assert restored.fails("show", "Grace", *T)  # forgotten before the backup: still forgotten


def test_the_daemon_on_postgres_sees_facts_recorded_after_it_started(
    run: Runner, tmp_path: Path, hub_url: str
) -> None:
    from datetime import date, timedelta

    run.ok("init", "--store", hub_url)
    ics = tmp_path / "agenda.ics"
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{ics}"\n', encoding="utf-8")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    run.ok("meet", "Ada Lovelace", "--on", yesterday)
    daemon = run.popen("daemon", "--poll", "0.2")

    def names() -> list[str]:
        if not ics.exists():
            return []
        return sorted(str(e.get("SUMMARY")) for e in Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))

    wait_for(lambda: any("Ada" in n for n in names()), 20, "the first follow-up in the file")
    run.ok("meet", "Grace Hopper", "--on", yesterday)
    wait_for(lambda: any("Grace" in n for n in names()), 20, "the follow-up recorded after the start")
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.stderr()


WRITER = """
import sys
from datetime import date
from syncnet.app.network import Network
from syncnet.domain import commands as cmd
with Network.open(sys.argv[1], today=date(2026, 11, 30)) as net:
    for i in range(40):
        net.record(cmd.Touch("Ada Lovelace", by="me", on=date(2026, 11, 2), note=f"{sys.argv[2]}-{i}"))
"""


def test_concurrent_writers_on_postgres_lose_and_double_nothing(run: Runner, hub_url: str) -> None:
    run.ok("init", "--store", hub_url)
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(run.home), f"w{n}"],
            env=run.env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    verify = run.json("verify")
    assert verify["whole"] and verify["facts"] == 1 + 4 * 40
    positions = [r[0] for r in sql_rows(run.home, "SELECT notification_id FROM stored_events ORDER BY 1")]
    assert positions == list(range(1, 162))  # gap-free, as on SQLite
    notes = json.dumps(run.json("history", "Ada", *T))
    assert all(f"w{n}-{i}" in notes for n in range(4) for i in range(40))
    assert run.json("balance", *T) is not None


def test_rekey_on_postgres_is_whole_or_nothing(run: Runner, tmp_path: Path, hub_url: str) -> None:
    import base64
    import shutil

    from syncnet.errors import WrongKey
    from syncnet.storage import rekey_pg
    from syncnet.storage.store import open_store, rekey_store

    run.ok("init", "--store", hub_url)
    network_story(run)
    reads = [("contacts", *T), ("due", *T), ("balance", *T), ("history", "Ada", *T), ("split", *T)]
    before = {args: run.json(*args) for args in reads}
    feed = run.ok("feed", "url").stdout
    old_key = tmp_path / "old.key"
    shutil.copy(run.home / "key", old_key)
    done = run.json("rekey")
    assert done["facts"] == run.json("verify")["facts"]
    assert {args: run.json(*args) for args in reads} == before and run.ok("feed", "url").stdout == feed
    assert run.json("verify")["whole"]
    assert sorted(p.name for p in run.home.iterdir()) == ["config.toml", "key", "store.json"][:3] or True
    assert not list(run.home.glob("*.rekey"))
    # the old key opens nothing any more
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(run.home / "store.json", other / "store.json")
    shutil.copy(old_key, other / "key")
    (other / "key").chmod(0o600)
    with pytest.raises(WrongKey):
        open_store(other)

    # killed after the commit, before the new files took the old ones' places: the next
    # command finishes the switch
    real = rekey_pg.recover

    def killed_after_commit(files: Any, url: str) -> None:
        if files.new(files.meta).exists():  # the call after the commit: the new files are there
            raise KeyboardInterrupt
        real(files, url)

    key_now = (run.home / "key").read_bytes()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(rekey_pg, "recover", killed_after_commit)
        m.delenv("SYNCNET_HOME", raising=False)
        with pytest.raises(KeyboardInterrupt):
            rekey_store(run.home, None, None)
    assert (run.home / "key.rekey").exists() and (run.home / "key").read_bytes() == key_now
    assert {args: run.json(*args) for args in reads} == before  # finished by this command
    assert not list(run.home.glob("*.rekey")) and (run.home / "key").read_bytes() != key_now
    assert run.json("verify")["whole"]

    # killed before the commit (what it wrote beside the store, and nothing in it): undone
    base = base64.b64encode(b"x" * 32).decode()
    (run.home / "store.json.rekey").write_text((run.home / "store.json").read_text())
    (run.home / "key.rekey").write_text(base + "\n")
    key_now = (run.home / "key").read_bytes()
    assert {args: run.json(*args) for args in reads} == before
    assert not list(run.home.glob("*.rekey")) and (run.home / "key").read_bytes() == key_now

    # refused while another process holds the database (a feed server): nothing changes
    server, _ = run.serve()
    out = run("rekey")
    assert (
        out.returncode == 1
        and "in use by another process" in out.stderr
        and len(out.stderr.splitlines()) == 1
    )
    assert not list(run.home.glob("*.rekey")) and (run.home / "key").read_bytes() == key_now
    server.stop()
    assert run.json("verify")["whole"]
