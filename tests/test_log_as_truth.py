"""The log as the truth: reads of a day see the facts dated by then (valid time), reads
--known-at a moment see the facts recorded by then (transaction time), and mistakes are
corrected by facts (retract, amend, undo) that history shows beside the originals.
Richer contacts: details, reasons, renames, who introduced whom, `show`."""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Runner, answer_on_terminal, ics_items, ics_target, write_config

from syncnet.app.network import Network
from syncnet.domain import commands as c
from syncnet.domain import projections as pj
from syncnet.domain.config import parse_config
from syncnet.domain.fold import replay
from syncnet.storage.store import init_store

JAN16 = ("--today", "2026-01-16")
NOW = ("--today", "2026-11-20")


def due_rules(run: Runner, *args: str) -> list[tuple[str, str, str]]:
    return sorted((i["rule"], i["contact"]["name"], i["period"]) for i in run.json("due", *args)["agenda"])


def history(run: Runner, name: str, *args: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = run.json("history", name, *args)["events"]
    return events


# ---------------------------------------------------------------- valid time
def test_a_read_of_a_day_counts_only_the_facts_dated_by_then(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--why", "commonality", "--on", "2026-01-10", *NOW)
    run.ok("meet", "Bob Smith", "--on", "2026-01-10", *NOW)
    run.ok("touch", "Ada", "--on", "2026-01-20", *NOW)  # after the day read below
    run.ok("pocket", "Bob", "drop", "--on", "2026-03-01", *NOW)  # so is this
    run.ok("give", "Ada", "--kind", "advice", "--on", "2026-02-01", *NOW)
    run.ok("ask", "Ada", "--on", "2026-01-25", *NOW)  # before the gift: a warning, from 25 January
    # On 16 January both follow-ups were overdue: the touch and the pocket came later.
    assert due_rules(run, *JAN16) == [
        ("followup", "Ada Lovelace", "2026-01-10"), ("followup", "Bob Smith", "2026-01-10"),
    ]  # fmt: skip
    contacts = {r["name"]: r for r in run.json("contacts", *JAN16)["contacts"]}
    assert contacts["Ada Lovelace"]["last_interaction"] == "2026-01-10"
    assert contacts["Bob Smith"]["pocket"] == "keep"
    # balance --today and --as-of of one day agree, and neither counts February's gift
    by_today = run.json("balance", "Ada", *JAN16)["contacts"][0]
    by_as_of = run.json("balance", "Ada", "--as-of", "2026-01-16", *NOW)["contacts"][0]
    assert by_today == by_as_of and by_today["given"] == 0
    assert run.json("balance", "Ada", *NOW)["contacts"][0]["given"] == 1
    # history of that day: the meeting only
    assert [e["kind"] for e in history(run, "Ada", *JAN16)] == ["met"]
    # today: everything
    assert due_rules(run, *NOW) == [("season", "Ada Lovelace", "autumn-2026")]  # Bob let go
    asked = "asked-before-giving"
    assert asked not in {w["kind"] for w in run.json("warnings", *JAN16)["warnings"]}
    assert asked in {w["kind"] for w in run.json("warnings", *NOW)["warnings"]}


def test_a_contact_met_later_is_not_there_yet(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-01-10", *NOW)
    run.ok("meet", "Cy Young", "--on", "2026-02-10", *NOW)
    assert [r["name"] for r in run.json("contacts", *JAN16)["contacts"]] == ["Ada Lovelace"]
    assert [r["contact"]["name"] for r in run.json("balance", *JAN16)["contacts"]] == ["Ada Lovelace"]
    run.ok("goal", "add", "Find a mentor", "--on", "2026-03-01", *NOW)
    assert run.json("goal", "list", *JAN16)["goals"] == []
    assert len(run.json("goal", "list", *NOW)["goals"]) == 1


KINDS = st.sampled_from(["touch", "touch_them", "give", "ask", "drop", "keep", "cadence", "promise", "kept"])
DAY = st.integers(0, 200).map(lambda n: date(2026, 1, 1) + timedelta(days=n))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          database=None)  # fmt: skip
@given(
    meetings=st.lists(DAY, min_size=1, max_size=3),
    later=st.lists(st.tuples(KINDS, st.integers(0, 2), DAY), max_size=12),
    day=DAY,
)
def test_the_agenda_of_a_day_equals_the_facts_of_that_day_folded_from_scratch(
    tmp_path_factory: Any, meetings: list[date], later: list[tuple[str, int, date]], day: date
) -> None:
    home = tmp_path_factory.mktemp("valid")
    init_store(home)
    config = parse_config({})
    with Network.open(home, today=date(2026, 11, 20)) as net:
        ids = [net.record(c.Meet(f"Person {i}", on=on)).contact_id for i, on in enumerate(meetings)]
        promises: list[tuple[str, date]] = []
        for kind, who, on in later:
            cid = ids[who % len(ids)]
            assert cid is not None
            on = max(on, meetings[who % len(ids)])  # nothing before the first meeting
            command: Any = {
                "touch": c.Touch(cid, on=on), "touch_them": c.Touch(cid, by="them", on=on),
                "give": c.Give(cid, "advice", on=on), "ask": c.Ask(cid, on=on),
                "drop": c.Pocket(cid, False, on=on), "keep": c.Pocket(cid, True, on=on),
                "cadence": c.Cadence(cid, 30, on=on),
                "promise": c.Promise(cid, "call", on + timedelta(days=10), on=on),
            }.get(kind)  # fmt: skip
            if kind == "kept":
                if not promises:
                    continue
                pid, made = promises.pop(0)
                command = c.Kept(pid[:8], on=max(on, made))
            result = net.record(command)
            if kind == "promise" and result.promise_id:
                promises.append((result.promise_id, on))
        seen = net.agenda(day)
        facts = [f for _, f in net.store.log.after(0, 10**6)]
    views = replay([f for f in facts if f.on <= day])
    open_promises = [p for p in views.all("promise") if p.status == "open"]
    expected = pj.agenda(views.all("contact"), open_promises, day, config)
    assert [(i.reminder.key, i.reminder.due) for i in seen] == [(r.key, r.due) for r in expected]


# ---------------------------------------------------------------- transaction time
def test_known_at_shows_what_the_agenda_said_before_a_touch_was_back_dated(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *NOW)
    before = datetime.now(UTC)
    time.sleep(0.05)
    run.ok("touch", "Ada", "--on", "2026-11-03", *NOW)  # recorded later, dated back
    stamp = before.isoformat()
    assert due_rules(run, *NOW) == []
    assert due_rules(run, *NOW, "--known-at", stamp) == [("followup", "Ada Lovelace", "2026-11-01")]
    assert [e["kind"] for e in history(run, "Ada", *NOW, "--known-at", stamp)] == ["met"]
    # a day means the end of that day; a malformed moment is refused
    assert due_rules(run, *NOW, "--known-at", "2099-01-01") == []
    assert due_rules(run, *NOW, "--known-at", "2020-01-01") == []  # nothing was known then
    assert "malformed --known-at" in run.fails("due", *NOW, "--known-at", "yesterday-ish")


def test_known_at_sees_corrections_only_from_when_they_were_recorded(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *NOW)
    touch = history(run, "Ada", *NOW)
    run.ok("touch", "Ada", "--on", "2026-11-03", *NOW)
    touch = history(run, "Ada", *NOW)[-1]
    time.sleep(0.05)
    before_retraction = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    run.ok("retract", touch["short"], "--reason", "it was Bob")
    assert due_rules(run, *NOW) == [("followup", "Ada Lovelace", "2026-11-01")]
    assert due_rules(run, *NOW, "--known-at", before_retraction) == []
    then = history(run, "Ada", *NOW, "--known-at", before_retraction)
    assert [e["retracted"] for e in then] == [None, None]


# ---------------------------------------------------------------- corrections
def test_retract_amend_and_undo_are_facts_that_history_shows(run: Runner, tmp_path: Path) -> None:
    feed = tmp_path / "agenda.ics"
    write_config(run.home, phone=ics_target(feed, style="event"))
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *NOW)
    run.ok("touch", "Ada", "--on", "2026-11-03", "--minutes", "20", *NOW)
    touch = history(run, "Ada", *NOW)[-1]
    assert touch["kind"] == "touch" and len(touch["short"]) == 8
    run.ok("sync", *NOW)
    assert not any("Follow up" in str(e["SUMMARY"]) for e in ics_items(feed.read_bytes()).values())

    run.ok("retract", touch["short"], "--reason", "it was Bob", *NOW[:0])
    # every read and the calendars ignore it from now on
    assert due_rules(run, *NOW) == [("followup", "Ada Lovelace", "2026-11-01")]
    run.ok("sync", *NOW)
    assert any("Follow up with Ada" in str(e["SUMMARY"]) for e in ics_items(feed.read_bytes()).values())
    # history still shows it, marked, with when and why
    entries = history(run, "Ada", *NOW)
    marked = next(e for e in entries if e["fact_id"] == touch["fact_id"])
    assert marked["retracted"]["reason"] == "it was Bob"
    text = run.ok("history", "Ada", *NOW).stdout
    assert f"{touch['short']}  2026-11-03" in text and "RETRACTED by" in text and "it was Bob" in text
    # retracting it again is refused; retracting the retraction restores it
    assert "retracted already" in run.fails("retract", touch["short"])
    retraction = marked["retracted"]["by"]
    run.ok("retract", retraction)
    assert due_rules(run, *NOW) == []

    # amend: the corrected minutes count in the split; history shows both
    split = run.json("split", *NOW)["parts"]["give"]["minutes"]
    run.ok("amend", touch["short"], "--minutes", "50")
    assert run.json("split", *NOW)["parts"]["give"]["minutes"] == split + 30
    amended = next(e for e in history(run, "Ada", *NOW) if e["fact_id"] == touch["fact_id"])
    assert amended["details"]["minutes"] == 20 and amended["amended"][0]["changes"] == {"minutes": 50}
    # amending its day moves it: as of 11-03 it has not happened yet
    run.ok("amend", touch["short"], "--on", "2026-11-10")
    assert due_rules(run, "--today", "2026-11-05") == [("followup", "Ada Lovelace", "2026-11-01")]

    # undo retracts the last fact recorded (here the amendment of the day), after showing it
    out = run.ok("undo", "--yes").stdout
    assert "Last fact:" in out and "amendment" in out
    assert due_rules(run, "--today", "2026-11-05") == []


def test_corrections_refuse_what_cannot_be_meant(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *NOW)
    run.ok("touch", "Ada", "--on", "2026-11-03", *NOW)
    touch = history(run, "Ada", *NOW)[-1]["short"]
    before = run.ok("history", "Ada", *NOW).stdout
    assert "no fact" in run.fails("retract", "abcdef12")
    assert "not a fact id" in run.fails("retract", "abc")
    assert "no kind" in run.fails("amend", touch, "--kind", "advice")
    assert "nothing to amend" in run.fails("amend", touch)
    assert "before the first meeting" in run.fails("amend", touch, "--on", "2026-10-01")
    assert "pass --yes" in run.fails("undo")  # not a terminal: never without --yes
    assert run.ok("history", "Ada", *NOW).stdout == before  # nothing written


def test_a_retraction_survives_a_rebuild_and_the_python_api_agrees(tmp_path: Path) -> None:
    init_store(tmp_path)
    with Network.open(tmp_path, today=date(2026, 11, 20)) as net:
        net.record(c.Meet("Ada Lovelace", on=date(2026, 11, 1)))
        touch = net.record(c.Touch("Ada", on=date(2026, 11, 3)))
        assert net.agenda() == []
        net.record(c.Retract(touch.fact_id, reason="wrong"))
        assert [i.reminder.rule for i in net.agenda()] == ["followup"]
        net.views._conn.execute("DELETE FROM syncnet_view_tracking")  # a rebuild from the log
        assert [i.reminder.rule for i in net.agenda()] == ["followup"]


# ---------------------------------------------------------------- richer contacts
def test_details_reasons_renames_and_who_introduced_whom(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--org", "Analytical Engines Ltd", "--role", "CTO",
           "--email", "ada@example.org", "--url", "https://www.linkedin.com/in/ada", "--on", "2026-11-01",
           *NOW)  # fmt: skip
    run.ok("meet", "Bob Smith", "--via", "Ada", "--how-met", "at her talk", "--on", "2026-11-02", *NOW)
    run.ok("set", "Ada", "--role", "CEO", "--phone", "+44 20 7946 0000", *NOW)
    run.ok("why", "Bob", "role-model", *NOW)
    ada = run.json("show", "Ada", *NOW)
    assert ada["details"] == {
        "org": "Analytical Engines Ltd", "role": "CEO", "emails": ["ada@example.org"],
        "urls": ["https://www.linkedin.com/in/ada"], "phones": ["+44 20 7946 0000"],
    }  # fmt: skip
    assert [r["name"] for r in ada["introduced"]] == ["Bob Smith"]
    bob = run.json("show", "Bob", *NOW)
    assert bob["via"]["name"] == "Ada Lovelace" and bob["why"] == "role-model"
    assert bob["details"] == {"how_met": "at her talk"}
    text = run.ok("show", "Ada", *NOW).stdout
    assert "CEO" in text and "introduced me to: Bob Smith" in text
    # contacts by organisation
    at_org = run.json("contacts", "--org", "analytical", *NOW)["contacts"]
    assert [r["name"] for r in at_org] == ["Ada Lovelace"]
    # a rename: the new name finds her, history keeps the old one
    run.ok("rename", "Ada", "Ada King", *NOW)
    assert run.json("show", "Ada King", *NOW)["contact"]["name"] == "Ada King"
    assert "unknown contact" in run.fails("show", "Lovelace", *NOW)
    kinds = [(e["kind"], e["details"].get("name")) for e in history(run, "Ada King", *NOW)]
    assert ("met", "Ada Lovelace") in kinds and ("renamed", "Ada King") in kinds
    # bad details are refused, nothing written
    assert "malformed e-mail" in run.fails("set", "Bob", "--email", "not-an-address", *NOW)
    assert "malformed profile URL" in run.fails("set", "Bob", "--url", "linkedin.com/in/bob", *NOW)
    assert "nothing to set" in run.fails("set", "Bob", *NOW)
    assert "unknown contact" in run.fails("meet", "Cy", "--via", "Nobody", *NOW)


def test_details_are_sealed_like_every_personal_field(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--org", "Zyxwvut Corp", "--email", "qqq@zyxwvut.example", *NOW)
    run.ok("retract", history(run, "Ada", *NOW)[0]["short"], "--reason", "Plughxyzzy reason")
    raw = b"".join(p.read_bytes() for p in run.home.iterdir() if p.is_file())
    for secret in (b"Zyxwvut", b"qqq@", b"Plughxyzzy"):
        assert secret not in raw


def test_a_retracted_first_meeting_takes_the_contact_and_its_facts_out_of_every_read(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *NOW)
    run.ok("meet", "Zed Mistake", "--on", "2026-11-01", *NOW)
    run.ok("ask", "Zed", "--on", "2026-11-02", "--minutes", "40", *NOW)  # asked before giving
    run.ok("promise", "Zed", "a call", "--due", "2026-11-30", "--on", "2026-11-02", *NOW)
    split = run.json("split", *NOW)["parts"]["ask"]["minutes"]
    assert split == 40
    met = history(run, "Zed", *NOW)[0]
    run.ok("retract", met["short"], "--reason", "never met")
    assert [r["name"] for r in run.json("contacts", *NOW)["contacts"]] == ["Ada Lovelace"]
    assert [r["contact"]["name"] for r in run.json("balance", *NOW)["contacts"]] == ["Ada Lovelace"]
    assert {i["contact"]["name"] for i in run.json("due", *NOW)["agenda"]} == {"Ada Lovelace"}
    assert all(w.get("contact") is None or w["contact"]["name"] == "Ada Lovelace"
               for w in run.json("warnings", *NOW)["warnings"])  # fmt: skip
    assert run.json("split", *NOW)["parts"]["ask"]["minutes"] == 0
    # restored by retracting the retraction
    run.ok("undo", "--yes")
    assert [r["name"] for r in run.json("contacts", *NOW)["contacts"]] == ["Ada Lovelace", "Zed Mistake"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drives a pseudo-terminal")
@pytest.mark.parametrize("answer", ["n", "y"])
def test_undo_on_a_terminal_shows_the_fact_and_asks(run_process: Runner, answer: str) -> None:
    run_process.ok("init")
    run_process.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *NOW)
    run_process.ok("touch", "Ada", "--on", "2026-11-03", *NOW)
    argv = [sys.executable, "-m", "syncnet", "undo"]
    asked, shown, code = answer_on_terminal(argv, run_process.env(), b"Retract it? [y/N]: ", answer)
    assert code == 0, shown
    assert "Last fact: 2026-11-03  touch" in asked
    due = {i["rule"] for i in run_process.json("due", *NOW)["agenda"]}
    if answer == "n":
        assert "Nothing retracted." in shown and "followup" not in due
    else:
        assert "Recorded retraction" in shown and "followup" in due


def test_a_rebuild_in_many_chunks_with_corrections_ends_and_equals_a_replay(tmp_path: Path) -> None:
    import signal

    init_store(tmp_path)
    with Network.open(tmp_path, today=date(2026, 11, 20)) as net:
        for i in range(6):
            net.record(c.Meet(f"Person {i}", on=date(2026, 11, 1)))
        gift = net.record(c.Give("Person 1", "advice", on=date(2026, 11, 2)))
        touch = net.record(c.Touch("Person 2", on=date(2026, 11, 3)))
        net.record(c.Retract(touch.fact_id))
        net.record(c.Amend(gift.fact_id, minutes=50))
        net.views._conn.execute("DELETE FROM syncnet_view_tracking")
        def endless(*_: Any) -> None:
            raise TimeoutError("the rebuild starts again at every chunk")

        previous = signal.signal(signal.SIGALRM, endless)
        signal.alarm(60)
        try:
            net.views.catch_up(net.store.log.after, chunk=3, page=2, name_of=net._name_of)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        full = replay([f for _, f in net.store.log.after(0, 10**6)])
        for kind in ("contact", "tally", "ledger"):
            stored = sorted((vars(r) for r in net.views.load_all(kind)), key=lambda r: r["id"])
            assert stored == sorted((vars(r) for r in full.all(kind)), key=lambda r: r["id"]), kind
        assert net.views.load_days() == full.get("global", "days")


def test_a_long_chain_of_undos_is_settled_without_recursion() -> None:
    from helpers_rules import Facts

    from syncnet.domain.corrections import Corrections

    f = Facts()
    cid = f.met(date(2026, 1, 1))
    f.touch(cid, date(2026, 1, 2))
    touch = target = f.events[-1]
    for _ in range(5001):  # retract the touch, then each retraction: an odd number of links
        target = f.retract(target, date(2026, 1, 3), cid)
    corrections = Corrections(f.events[2:])
    assert not corrections.in_force(touch.originator_id.hex)
    assert corrections.effective(touch) is None


def test_known_at_before_an_undo_of_the_only_fact_still_sees_it(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Eve Online", "--on", "2026-11-01", *NOW)
    time.sleep(0.05)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    run.ok("undo", "--yes")
    assert run.json("contacts", *NOW)["contacts"] == []
    assert [r["name"] for r in run.json("contacts", *NOW, "--known-at", moment)["contacts"]] == ["Eve Online"]


def test_amend_keeps_the_rules_of_recording(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--org", "Old Co", "--on", "2026-11-01", *NOW)
    run.ok("meet", "Bob Smith", "--on", "2026-11-01", *NOW)
    run.ok("touch", "Ada", "--on", "2026-11-03", *NOW)
    run.ok("set", "Ada", "--org", "New Co", "--on", "2026-11-05", *NOW)
    run.ok("rename", "Ada", "Ada King", "--on", "2026-11-05", *NOW)
    run.ok("promise", "Ada", "a call", "--due", "2026-11-20", "--on", "2026-11-04", *NOW)
    run.ok("give", "Ada", "--kind", "advice", "--on", "2026-11-06", *NOW)
    ids = {e["kind"]: e["short"] for e in history(run, "Ada King", *NOW)}
    assert "after later facts" in run.fails("amend", ids["met"], "--on", "2026-11-10")
    assert "cannot be made on" in run.fails("amend", ids["promise"], "--on", "2026-11-21")
    assert "record it anew with --to" in run.fails("amend", ids["gave"], "--kind", "introduction")
    # a meeting moved earlier keeps the later rename and details
    run.ok("amend", ids["met"], "--on", "2026-10-30")
    card = run.json("show", "Ada King", *NOW)
    assert card["contact"]["name"] == "Ada King" and card["details"]["org"] == "New Co"
    assert card["met_on"] == "2026-10-30"


def test_the_history_of_an_introduced_contact_shows_the_corrections_of_the_introduction(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *NOW)
    run.ok("meet", "Bob Smith", "--on", "2026-11-01", *NOW)
    run.ok("give", "Ada", "--kind", "introduction", "--to", "Bob", "--on", "2026-11-02", *NOW)
    gift = next(e for e in history(run, "Bob", *NOW) if e["kind"] == "gave")
    run.ok("retract", gift["short"], "--reason", "never happened")
    seen = next(e for e in history(run, "Bob", *NOW) if e["kind"] == "gave")
    assert seen["retracted"] is not None and seen["retracted"]["reason"] == "never happened"


def test_known_at_out_of_range_or_in_another_shape_is_refused(run: Runner) -> None:
    run.ok("init")
    for bad in ("0001-01-01", "9999-12-31T23:59:59-23:59", "20261206", "2026-W49-7", "tomorrow"):
        assert "--known-at" in run.fails("due", *NOW, "--known-at", bad)
    run.ok("due", *NOW, "--known-at", "2026-12-01T10:00Z")
