"""End-to-end tests: the CLI driven as a user would, in a temp home. Every command runs
in this process (`run`, tests/support.py); the entry points themselves, `python -m
syncnet` and the `syncnet` console script, run as real processes (`run_process`)."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import click
import pytest
from support import T

from syncnet.entrypoints.cli import cli, main


def by_name(rows: list[dict], name: str) -> dict:
    found = [r for r in rows if r["contact"]["name"] == name]
    assert len(found) == 1, (name, rows)
    return found[0]


# ---------------------------------------------------------------- help
def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
    return paths


def test_help_for_the_group_and_every_command(run_process, capsys):
    # through the real entry points: `python -m syncnet` and the console script
    top = run_process.ok("--help").stdout
    assert "Usage: syncnet" in top and "init" in top and "demo" in top
    assert "No such command" in run_process.fails("frobnicate")  # exit 2 from the process
    script = Path(sys.executable).parent / "syncnet"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    give = subprocess.run([script, "give", "--help"], env=run_process.env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)  # fmt: skip
    assert give.returncode == 0 and give.stderr == "", give.stderr
    assert "Usage: syncnet give [OPTIONS] CONTACT" in give.stdout and "--kind" in give.stdout

    paths = _command_paths(cli)
    assert {("meet",), ("due",), ("goal", "add"), ("history",)} <= set(paths)
    for path in paths:  # in process: one subprocess per command would cost seconds
        assert main([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert f"Usage: syncnet {' '.join(path)}" in out, path
        # every command says what it does, in the help and in the group's listing
        command = cli
        for part in path:
            command = command.commands[part]  # type: ignore[attr-defined]
        assert command.get_short_help_str().strip(), f"{path} has no help text"


def test_usage_errors_are_one_line_with_exit_2(run):
    assert "No such command" in run.fails("frobnicate")
    assert "Missing argument" in run.fails("meet")
    line = run.fails("touch", "Ada", "--by", "nobody")
    assert "--by" in line and "--help" in line


# ---------------------------------------------------------------- the harness
def test_a_call_in_process_answers_as_a_process_does(run, run_process):
    """`run` (in this process) and `run_process` (a new interpreter) on the same home:
    the same exit codes, and the same bytes on stdout and on stderr, kept apart."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--where", "Café Zoë", *T)
    for args in [("contacts", "--json", *T), ("due", "--today", "2026-11-24"),
                 ("touch", "Nobody", *T), ("meet", "ada lovelace", "--json", *T)]:  # fmt: skip
        mine, theirs = run(*args), run_process(*args)
        outcome = (mine.returncode, mine.stdout, mine.stderr)
        assert outcome == (theirs.returncode, theirs.stdout, theirs.stderr), args
        assert mine.stdout or mine.stderr


def test_a_call_in_process_sees_only_its_own_environment_and_leaves_this_one(run, home, monkeypatch):
    monkeypatch.setenv("SYNCNET_PASSPHRASE", "from the environment pytest runs in")
    monkeypatch.setenv("SYNCNET_HOME", str(run.base / "elsewhere"))
    before = (dict(os.environ), os.getcwd(), tempfile.gettempdir(), sys.stdin, sys.stdout, sys.stderr)
    run.ok("init")
    assert json.loads((home / "store.json").read_text())["key"] == "file"  # no passphrase leaked in
    assert not (run.base / "elsewhere").exists()
    run.fails("touch", "Nobody", *T)
    assert (dict(os.environ), os.getcwd(), tempfile.gettempdir(), sys.stdin, sys.stdout, sys.stderr) == before


# ---------------------------------------------------------------- init and keys
def test_init_key_file_never_destroys_the_store(run, home, state):
    out = run.ok("init").stdout
    assert "Created" in out and str(home) in out
    assert {p.name for p in home.iterdir()} == {"store.db", "store.json", "key"}
    key = home / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(base64.b64decode(key.read_text().strip(), validate=True)) == 32
    meta = json.loads((home / "store.json").read_text())
    assert meta["key"] == "file" and "kdf" not in meta

    run.ok("meet", "Ada Lovelace", *T)
    key_before, before = key.read_bytes(), state(home)
    assert before[0] == 1

    again = run.ok("init")
    assert "already exists" in again.stdout
    again = run.ok("init", passphrase="now-with-a-passphrase")  # must not switch modes either
    assert "already exists" in again.stdout
    assert key.read_bytes() == key_before
    assert state(home) == before
    names = [c["name"] for c in run.json("contacts", *T)["contacts"]]
    assert names == ["Ada Lovelace"]


def test_init_with_passphrase_uses_scrypt_and_checks_it(run, home, state):
    pw = "correct horse battery staple"
    assert "passphrase" in run.ok("init", passphrase=pw).stdout
    assert not (home / "key").exists()
    meta = json.loads((home / "store.json").read_text())
    assert meta["key"] == "passphrase"
    assert meta["kdf"]["name"] == "scrypt" and len(base64.b64decode(meta["kdf"]["salt"])) >= 16
    assert meta["kdf"]["n"] >= 2**15 and meta["kdf"]["r"] >= 8  # a work factor worth its name
    run.ok("meet", "Ada Lovelace", *T, passphrase=pw)
    before = state(home)

    wrong = run.fails("contacts", passphrase="wrong horse")
    assert "wrong key or passphrase" in wrong
    assert "SYNCNET_PASSPHRASE" in run.fails("contacts")  # none set: says which variable to set
    assert "wrong" in run.fails("touch", "Ada Lovelace", *T, passphrase="wrong horse")
    assert state(home) == before

    run.ok("init", passphrase="another one")  # a second init keeps the first passphrase
    assert "wrong" in run.fails("contacts", passphrase="another one")
    assert [c["name"] for c in run.json("contacts", *T, passphrase=pw)["contacts"]] == ["Ada Lovelace"]


def test_wrong_or_corrupt_key_file_is_never_an_empty_store(run, home, state):
    run.ok("init")
    key = home / "key"
    good = key.read_bytes()
    other = base64.b64encode(bytes(range(32))).decode() + "\n"

    key.write_text(other)  # a valid key, but not this store's: even an empty store says so
    assert "wrong key or passphrase" in run.fails("contacts")
    assert "wrong key" in run.fails("due", *T)
    assert "wrong key" in run.fails("meet", "Ada Lovelace", *T)
    key.write_bytes(good)
    assert state(home) == (0, 1)

    run.ok("meet", "Ada Lovelace", *T)
    for corrupt in (b"garbage\n", b"", good[:20] + b"\n", b"\xff\xfe\x00"):
        key.write_bytes(corrupt)
        assert "is not a syncnet key" in run.fails("contacts"), corrupt
    key.unlink()
    assert "missing" in run.fails("contacts")
    key.write_bytes(good)
    key.chmod(0o600)  # restored as a key is kept: readable by its owner only
    assert state(home) == (1, 2)
    assert [c["name"] for c in run.json("contacts", *T)["contacts"]] == ["Ada Lovelace"]


def test_commands_before_init_say_so(run, home):
    assert "syncnet init" in run.fails("contacts")
    assert "syncnet init" in run.fails("meet", "Ada", *T)
    assert not (home / "store.db").exists()


# ---------------------------------------------------------------- the follow-up
def test_followup_becomes_due_then_overdue_then_done(run):
    run.ok("init")
    met = run.json("meet", "Ada Lovelace", "--on", "2026-11-20", *T)["recorded"]
    assert met["kind"] == "meet"
    ada = met["contact"]
    assert ada["name"] == "Ada Lovelace" and ada["short"] == ada["id"][:8] and len(ada["id"]) == 32
    grace = run.ok("meet", "Grace Hopper", *T).stdout  # names the contact, not "[forgotten]"
    assert grace.startswith("Recorded meet: Grace Hopper (")

    def followups(today: str) -> dict[str, dict]:
        doc = run.json("due", "--today", today)
        assert doc["today"] == today
        return {i["contact"]["name"]: i for i in doc["agenda"] if i["rule"] == "followup"}

    early = followups("2026-11-22")
    assert early["Ada Lovelace"]["state"] == "upcoming"
    on_time = followups("2026-11-23")["Ada Lovelace"]
    assert on_time["state"] == "today"
    assert on_time["due"] == "2026-11-23" and on_time["opens"] == "2026-11-20"
    assert on_time["contact"]["id"] == ada["id"] and on_time["promise"] is None
    assert on_time["key"] == f"{ada['id']}:followup:2026-11-20"
    assert followups("2026-11-24")["Ada Lovelace"]["state"] == "overdue"
    table = run.ok("due", "--today", "2026-11-24").stdout
    assert "overdue" in table and "Follow up with Ada Lovelace" in table

    run.ok("touch", "ada lovelace", "--by", "them", "--today", "2026-11-24")
    assert "Ada Lovelace" in followups("2026-11-24")  # their touch is not my follow-up
    run.ok("touch", "ADA LOVELACE", "--by", "me", "--today", "2026-11-24")
    after = followups("2026-11-24")
    assert "Ada Lovelace" not in after
    assert after["Grace Hopper"]["state"] == "overdue"  # the other contact is unaffected


def test_due_as_of_an_earlier_day_ignores_contacts_met_later(run):
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-10", *T)
    run.ok("meet", "Grace Hopper", "--on", "2026-11-20", *T)
    agenda = run.json("due", "--today", "2026-11-12")["agenda"]
    assert [i["contact"]["name"] for i in agenda] == ["Ada Lovelace"]


# ---------------------------------------------------------------- names
def test_names_resolve_case_insensitively_or_by_short_id(run, home, state):
    run.ok("init")
    ada = run.json("meet", "Ada Lovelace", *T)["recorded"]["contact"]
    assert run.json("touch", "  ada LOVELACE ", *T)["recorded"]["contact"]["id"] == ada["id"]
    assert run.json("touch", ada["short"], *T)["recorded"]["contact"]["id"] == ada["id"]
    assert run.json("touch", ada["short"].upper()[:6], *T)["recorded"]["contact"]["id"] == ada["id"]
    before = state(home)

    unknown = run.fails("touch", "Charles Babbage", *T)
    assert "unknown contact" in unknown and "Charles Babbage" in unknown
    # a unique start of the name or of one of its words is enough
    assert run.json("touch", "ada", *T)["recorded"]["contact"]["id"] == ada["id"]
    assert run.json("touch", "lovel", *T)["recorded"]["contact"]["id"] == ada["id"]
    before = state(home)
    assert "Ada Lovelace" in run.fails("touch", "ovelace", *T)  # a hint, not a guess
    again = run.fails("meet", "ada lovelace", *T)
    assert "touch" in again and "--new" in again and ada["short"] in again
    assert state(home) == before

    first = run.json("meet", "Ada", *T)["recorded"]["contact"]
    second = run.json("meet", "ADA", "--new", *T)["recorded"]["contact"]
    assert first["id"] != second["id"]
    ambiguous = run.fails("touch", "ada", *T)
    assert "ambiguous" in ambiguous
    assert first["short"] in ambiguous and second["short"] in ambiguous
    assert run.json("touch", second["short"], *T)["recorded"]["contact"]["id"] == second["id"]
    listed = run.json("contacts", *T)["contacts"]
    assert sorted(c["name"] for c in listed) == ["ADA", "Ada", "Ada Lovelace"]


# ---------------------------------------------------------------- bad input
BAD_INPUT = [
    (("meet", "Bob", "--on", "2026-02-30"), "malformed date"),
    (("meet", "Bob", "--on", "2026-11-21"), "future"),
    (("touch", "Ada Lovelace", "--on", "yesterday-ish"), "malformed date"),
    (("give", "Ada Lovelace", "--kind", "bribe"), "unknown kind"),
    (("give", "Ada Lovelace", "--kind", "introduction"), "--to"),
    (("give", "Ada Lovelace", "--kind", "introduction", "--to", "ada lovelace"), "different"),
    (("give", "Ada Lovelace", "--kind", "advice", "--to", "Grace Hopper"), "introduction"),
    (("touch", "Ada Lovelace", "--minutes", "-5"), "--minutes"),
    (("ask", "Ada Lovelace", "a favour", "--minutes", "ten"), "--minutes"),
    (("touch", "Charles Babbage"), "unknown contact"),
    (("touch", "Ada Lovelace", "--channel", "telepathy"), "unknown channel"),
    (("meet", "Bob", "--why", "money"), "unknown reason"),
    (("meet", "Bob", "--goal", "No such goal"), "unknown goal"),
    (("meet", "   "), "needs a name"),
    (("promise", "Ada Lovelace", "send it", "--due", "2026-11-01"), "before"),
    (("promise", "Ada Lovelace", " ", "--due", "2026-12-01"), "promise"),
    (("kept", "deadbeef"), "no open promise"),
    (("cadence", "Ada Lovelace", "0x"), "malformed cadence"),
    (("pocket", "Ada Lovelace", "maybe"), "maybe"),
    (("goal", "add", "  "), "needs a name"),
    (("goal", "add", "Win", "--kind", "evil"), "--kind"),
    (("goal", "link", "Ada Lovelace", "No such goal"), "unknown goal"),
    (("due", "--today", "2026-02-30"), "malformed date"),
    (("balance", "Charles Babbage"), "unknown contact"),
    (("history", "Charles Babbage"), "unknown contact"),
    (("contacts", "--goal", "No such goal"), "unknown goal"),
]
BAD_CONFIG = [
    ("rules = [\n", "not valid TOML"),
    ('[rules]\nfollowup_days = "x"\n', "followup_days"),
    ("[rules]\nfollowup_days = -1\n", "followup_days"),
    ("[split]\ngive = 80\n", "add up to 100"),
    ("[minutes]\ntouch = 1.5\n", "minutes.touch"),
    ('[general]\ntimezone = "Mars/Olympus_Mons"\n', "time zone"),
    ("[nonsense]\n", "unknown section"),
]


def test_bad_input_exits_2_with_one_line_and_writes_nothing(run, home, state):
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-10", *T)
    run.ok("meet", "Grace Hopper", *T)
    before = state(home)
    assert before == (2, 3)

    for n, (args, expected) in enumerate(BAD_INPUT):
        today = () if "--today" in args else T
        json_too = ("--json",) if n % 4 == 0 else ()  # errors stay one line on stderr with --json
        line = run.fails(*args, *today, *json_too)
        assert expected in line, (args, line)
        assert state(home) == before, args

    config = home / "config.toml"
    for text, expected in BAD_CONFIG:
        config.write_text(text, encoding="utf-8")
        assert expected in run.fails("meet", "Bob", *T), text
        assert state(home) == before, text
    config.write_bytes(b"\xff\xfe[rules]\n")
    assert "cannot read" in run.fails("meet", "Bob", *T)
    config.unlink()
    config.mkdir()  # a directory where the file should be: unreadable
    assert "config" in run.fails("meet", "Bob", *T)
    config.rmdir()
    assert state(home) == before

    # --config points elsewhere and overrides <home>/config.toml
    elsewhere = run.base / "other.toml"
    elsewhere.write_text('[rules]\nfollowup_days = "x"\n')
    assert "followup_days" in run.fails("--config", elsewhere, "due", *T)
    assert "followup_days" in run.fails("--config", elsewhere, "balance", *T, "--json")
    elsewhere.write_text("[rules]\nfollowup_days = 1\n")
    doc = json.loads(run.ok("--config", elsewhere, "due", "--json", "--today", "2026-11-12").stdout)
    ada = [(i["rule"], i["due"]) for i in doc["agenda"] if i["contact"]["name"] == "Ada Lovelace"]
    assert ada == [("followup", "2026-11-11")]  # met on 11-10, followup_days = 1

    # the same command with good input does write: the comparison above can fail
    run.ok("meet", "Bob", *T)
    assert state(home) == (before[0] + 1, before[1] + 1)


# ---------------------------------------------------------------- a whole scenario
def test_every_record_command_and_what_the_reads_make_of_it(run, home):
    run.ok("init")

    def rec(*args: str) -> dict:
        return run.json(*args, *T)["recorded"]

    ada = rec("meet", "Ada Lovelace", "--channel", "conference", "--why", "role-model",
              "--where", "PyCon", "--minutes", "45", "--on", "2026-11-01")["contact"]  # fmt: skip
    grace = rec("meet", "Grace Hopper", "--on", "2026-11-02")["contact"]
    gave = rec("give", grace["short"], "--kind", "introduction", "--to", "ADA LOVELACE",
               "--minutes", "20", "--on", "2026-11-05")  # fmt: skip
    assert gave["kind"] == "give" and gave["contact"]["id"] == grace["id"]
    rec("receive", "grace hopper", "--kind", "advice", "--minutes", "40", "--on", "2026-11-06")
    rec("ask", "ada lovelace", "A referral", "--minutes", "5", "--on", "2026-11-07")
    rec("asked", "Grace Hopper", "A review of her paper", "--on", "2026-11-08")
    pitch = rec("pitch", "--minutes", "12", "--on", "2026-11-09", "--note", "Lightning talk")
    assert pitch["kind"] == "pitch" and pitch["contact"] is None
    p1 = rec("promise", "Ada Lovelace", "Send the paper", "--due", "2026-11-15", "--on", "2026-11-10")
    p2 = rec("promise", "Grace Hopper", "Call back", "--due", "2026-11-30", "--on", "2026-11-10")
    assert p1["kind"] == "promise" and p1["promise_short"] == p1["promise_id"][:8]
    assert p1["contact"]["id"] == ada["id"] and p1["promise_id"] != p2["promise_id"]
    rec("kept", p1["promise_short"], "--on", "2026-11-14")
    rec("dropped", p2["promise_short"], "--on", "2026-11-12")
    assert "no open promise" in run.fails("kept", p1["promise_short"], *T)
    assert "no open promise" in run.fails("kept", p2["promise_short"], *T)
    rec("pocket", "grace hopper", "drop")
    rec("cadence", "Ada Lovelace", "6w")
    goal = rec("goal", "add", "Lead a data team", "--kind", "business", "--on", "2026-10-01")
    assert goal["kind"] == "goaladd" and goal["goal_id"] and goal["contact"] is None
    assert rec("goal", "link", "ada lovelace", "LEAD A DATA TEAM")["goal_id"] == goal["goal_id"]
    rec("goal", "achieved", goal["goal_id"][:8], "--on", "2026-11-19")
    # recorded last, dated early: history orders by date, and says when it was recorded
    late = rec("touch", "Ada Lovelace", "--by", "them", "--on", "2026-11-03")

    # balance
    doc = run.json("balance", *T)
    assert doc["as_of"] == "2026-11-20"
    b_grace, b_ada = by_name(doc["contacts"], "Grace Hopper"), by_name(doc["contacts"], "Ada Lovelace")
    assert (b_grace["given"], b_grace["received"], b_grace["balance"]) == (1, 1, 0)
    minutes = (b_grace["given_minutes"], b_grace["received_minutes"], b_grace["balance_minutes"])
    assert minutes == (20, 40, -20)
    assert (b_grace["requests_made"], b_grace["requests_received"]) == (0, 1)
    assert (b_ada["given"], b_ada["received"], b_ada["requests_made"]) == (0, 0, 1)
    assert b_ada["promises_came_due"] == 1 and b_ada["promises_kept_on_time"] == 1
    assert b_ada["credibility"] == 1.0 and b_ada["open_promises"] == 0
    assert doc["credibility"] == {"kept_on_time": 1, "came_due": 1, "ratio": 1.0}
    early = run.json("balance", "GRACE HOPPER", "--as-of", "2026-11-05", *T)
    assert early["as_of"] == "2026-11-05" and len(early["contacts"]) == 1
    assert (early["contacts"][0]["given"], early["contacts"][0]["received"]) == (1, 0)
    before_all = run.json("balance", "--as-of", "2026-11-01", *T)["contacts"]
    assert [c["contact"]["name"] for c in before_all] == ["Ada Lovelace"]  # Grace not met yet
    assert "Promise credibility as of 2026-11-20: 1/1" in run.ok("balance", *T).stdout

    # split: meetings, touches and help given are "give"; pitches "self"; my requests "ask"
    s = run.json("split", *T)
    assert s["window"]["end"] == "2026-11-20"
    assert {p: s["parts"][p]["minutes"] for p in ("give", "self", "ask")} == {
        "give": 45 + 30 + 20 + 15, "self": 12, "ask": 5,
    }  # fmt: skip
    assert s["total_minutes"] == 127
    assert s["parts"]["self"]["target"] == 0.2
    assert s["parts"]["ask"]["share"] == pytest.approx(5 / 127)

    # warnings: I asked Ada for a referral before ever helping her
    w = run.json("warnings", *T)["warnings"]
    asked_first = [x for x in w if x["kind"] == "asked-before-giving"]
    assert [(x["contact"]["name"], x["on"]) for x in asked_first] == [("Ada Lovelace", "2026-11-07")]

    # contacts, pockets, cadences, goals
    cs = {c["name"]: c for c in run.json("contacts", *T)["contacts"]}
    assert cs["Ada Lovelace"]["cadence_days"] == 42 and cs["Ada Lovelace"]["pocket"] == "keep"
    assert cs["Ada Lovelace"]["goals"] == ["Lead a data team"]
    assert (cs["Ada Lovelace"]["channel"], cs["Ada Lovelace"]["why"]) == ("conference", "role-model")
    assert cs["Ada Lovelace"]["met_on"] == "2026-11-01"
    assert cs["Ada Lovelace"]["last_interaction"] == "2026-11-14"
    assert cs["Grace Hopper"]["pocket"] == "drop" and cs["Grace Hopper"]["goals"] == []
    linked = run.json("contacts", "--goal", "lead a data team", *T)["contacts"]
    assert [c["id"] for c in linked] == [ada["id"]]
    goals = run.json("goal", "list")["goals"]
    assert [(g["name"], g["kind"], g["set_on"], g["achieved_on"]) for g in goals] == [
        ("Lead a data team", "business", "2026-10-01", "2026-11-19")
    ]
    assert "Lead a data team" in run.ok("goal", "list").stdout

    # due: closed promises and the dropped contact are gone; the cadence comes due
    assert run.json("due", *T)["agenda"] == []
    later = run.json("due", "--today", "2026-12-26")["agenda"]
    assert [(i["rule"], i["contact"]["name"], i["due"], i["state"]) for i in later] == [
        ("cadence", "Ada Lovelace", "2026-12-26", "today")
    ]
    ahead = run.json("due", "--today", "2026-12-01", "--until", "2026-12-26")["agenda"]
    assert [(i["rule"], i["state"]) for i in ahead] == [("cadence", "upcoming")]

    # history: every fact of Ada's, in date order, with when it was recorded
    h = run.json("history", "ada lovelace", *T)
    assert h["contact"]["id"] == ada["id"] and h["contact"]["name"] == "Ada Lovelace"
    events = h["events"]
    assert [(e["on"], e["kind"]) for e in events] == [
        ("2026-11-01", "met"),
        ("2026-11-03", "touch"),
        ("2026-11-05", "gave"),  # the introduction of Ada to Grace
        ("2026-11-07", "asked them"),
        ("2026-11-10", "promise"),
        ("2026-11-14", "kept"),
        ("2026-11-20", "cadence"),
        ("2026-11-20", "goal link"),
    ]
    recorded = [datetime.fromisoformat(e["recorded"]) for e in events]
    assert all(r.tzinfo is not None for r in recorded)
    touch = events[1]
    assert touch["fact_id"] == late["fact_id"] and recorded[1] == max(recorded)
    assert recorded[0] < recorded[2] < recorded[3] < recorded[4]
    met = events[0]["details"]
    assert (met["name"], met["where"], met["minutes"]) == ("Ada Lovelace", "PyCon", 45)
    assert met["channel"] == "conference"
    assert events[2]["details"]["kind"] == "introduction"
    assert events[2]["details"]["introduced"] == f"Ada Lovelace ({ada['short']})"
    assert events[4]["details"]["what"] == "Send the paper" and events[4]["details"]["due"] == "2026-11-15"
    assert events[5]["details"]["promise"] == p1["promise_short"]
    assert events[6]["details"]["days"] == 42
    assert [e["kind"] for e in run.json("history", grace["short"], *T)["events"]] == [
        "met", "gave", "received", "they asked", "promise", "dropped", "pocket",
    ]  # fmt: skip
    text = run.ok("history", "Ada Lovelace", *T).stdout
    assert text.startswith(f"History of Ada Lovelace ({ada['short']}):")
    assert "what=Send the paper" in text and "[recorded " in text


def test_cadence_off_and_pocket_keep_undo_their_effects(run):
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *T)
    run.ok("touch", "Ada Lovelace", "--on", "2026-11-02", *T)
    run.ok("cadence", "Ada Lovelace", "2w", *T)
    run.ok("pocket", "Ada Lovelace", "drop", *T)
    assert run.json("due", "--today", "2026-12-31")["agenda"] == []
    run.ok("pocket", "Ada Lovelace", "keep", *T)
    rules = [i["rule"] for i in run.json("due", "--today", "2026-12-31")["agenda"]]
    assert rules == ["cadence"]
    run.ok("cadence", "Ada Lovelace", "off", *T)
    assert run.json("due", "--today", "2026-12-31")["agenda"] == []
    assert run.json("contacts", *T)["contacts"][0]["cadence_days"] is None


# ---------------------------------------------------------------- demo
def test_demo_builds_a_network_in_a_scratch_home_and_prints_an_agenda(run, home):
    out = run.ok("demo", "--today", "2026-06-01").stdout
    assert "Demo network: 20 facts recorded in " in out
    assert "Agenda for 2026-06-01:" in out and "Follow up with" in out
    demo_home = Path(out.split("recorded in ", 1)[1].splitlines()[0])
    # one scratch home in the user's cache directory (HOME/.cache here), nothing else
    assert demo_home == run.base / "user" / ".cache" / "syncnet" / "demo"
    assert (demo_home / "store.db").exists()
    assert not home.exists()  # SYNCNET_HOME is never touched
    assert [p.name for p in (run.base / "user").iterdir()] == [".cache"]  # nor the XDG data or config dirs
    assert list((run.base / "tmp").iterdir()) == []  # and no temporary directory is left behind

    doc = run.json("demo", "--today", "2026-06-01")
    assert doc["facts"] == 20 and Path(doc["home"]) == demo_home  # the same home, replaced
    states = {i["state"] for i in doc["agenda"]}
    assert states <= {"overdue", "today", "upcoming"} and "overdue" in states
    promises = [i for i in doc["agenda"] if i["rule"] == "promise"]
    promise = [i for i in promises if i["contact"]["name"] == "Katherine Johnson"]
    assert len(promise) == 1
    assert promise[0]["promise"]["what"] == "Send the orbital mechanics paper"
    assert promise[0]["due"] == "2026-06-06" and promise[0]["state"] == "upcoming"
    assert "Linus Torvalds" not in {i["contact"]["name"] for i in doc["agenda"]}  # left pocket

    # the printed home is a real store the other commands can read
    contacts = json.loads(run.ok("--home", doc["home"], "contacts", "--json").stdout)["contacts"]
    assert len(contacts) == 7
    used = run.base / "used"
    used.mkdir()
    (used / "store.json").write_text("{}")
    assert "already holds a store" in run.fails("demo", "--home", used)
