"""Preparing for an event (docs/rules.md, "Preparing for an event"): `event add/expect/list`,
`meet --at`, `prep` (text, --json, --html), `pocket --event` (lines and keystrokes), and the
first follow-up done right ("First follow-up": the topics in the follow-up's text, `touch
--next` as a reminder). Black-box through the CLI with explicit dates, plus the rules at
their edges."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from icalendar import Calendar
from support import Runner, read_until

from syncnet.app.directory import resolve_event
from syncnet.domain import rules
from syncnet.domain.openers import ABOUT_THEM, SUPPORT, openers
from syncnet.domain.rows import ContactView, EventView
from syncnet.domain.rules import Reminder, RuleKind

DAY = "2026-11-25"


def d(text: str) -> date:
    return date.fromisoformat(text)


def network(run: Runner) -> None:
    """A goal, an event with an organisation, and contacts linked to it every way (and not)."""
    run.ok("init")
    run.ok("goal", "add", "Find a Rust job", "--on", "2026-01-10", "--today", "2026-01-10")
    run.ok("goal", "add", "Old goal", "--kind", "private", "--on", "2026-01-10", "--today", "2026-01-10")
    run.ok("goal", "achieved", "Old goal", "--on", "2026-02-01", "--today", "2026-02-01")
    run.ok(
        "meet",
        "Ada Lovelace",
        "--org",
        "ACME",
        "--role",
        "CTO",
        "--why",
        "role-model",
        "--note",
        "Rust in fintech; her team is hiring",
        "--on",
        "2026-05-01",
        "--today",
        "2026-05-01",
    )
    run.ok("meet", "Bob Stone", "--org", "Acme Corp", "--on", "2026-05-02", "--today", "2026-05-02")
    run.ok("meet", "Cleo Park", "--on", "2026-05-03", "--today", "2026-05-03")
    run.ok("meet", "Eve Other", "--org", "Initech", "--on", "2026-05-03", "--today", "2026-05-03")
    run.ok("meet", "Fay Gone", "--org", "ACME", "--on", "2026-05-03", "--today", "2026-05-03")
    run.ok("give", "Ada", "--kind", "advice", "--on", "2026-06-01", "--today", "2026-06-01")
    run.ok(
        "touch",
        "Ada",
        "--note",
        "asked about her Kubernetes migration",
        "--on",
        "2026-07-01",
        "--today",
        "2026-07-01",
    )
    run.ok("promise", "Ada", "send the Rust paper", "--due", "2026-12-01", "--today", "2026-11-01")
    run.ok(
        "event",
        "add",
        "PyCon DE",
        "--on",
        "2027-04-20",
        "--where",
        "Darmstadt",
        "--goal",
        "Find a Rust job",
        "--offer",
        "an intro to my Rust meetup",
        "--org",
        "acme",
        "--today",
        "2026-11-20",
    )
    run.ok("event", "expect", "pycon de", "Cleo", "--today", "2026-11-20")
    run.ok("forget", "Fay", "--yes")


def people(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["contact"]["name"]: p for p in doc["people"]}


def test_prep_lists_who_will_be_there_with_what_we_know(run: Runner) -> None:
    network(run)
    doc = run.json("prep", "PyCon DE", "--today", DAY)
    assert doc["event"]["name"] == "PyCon DE" and doc["event"]["on"] == "2027-04-20"
    assert doc["event"]["where"] == "Darmstadt" and doc["event"]["orgs"] == ["acme"]
    assert doc["looking_for"] == [{"goal": "Find a Rust job", "kind": "career"}]
    assert doc["offer"] == "an intro to my Rust meetup"
    found = people(doc)
    # ACME and Acme Corp by organisation, Cleo expected; Eve (Initech) not; Fay forgotten.
    assert set(found) == {"Ada Lovelace", "Bob Stone", "Cleo Park"}
    assert doc["people"][0]["contact"]["name"] == "Ada Lovelace"  # an open promise first
    ada = found["Ada Lovelace"]
    assert ada["links"] == ["works at ACME"] and ada["why"] == "role-model" and ada["role"] == "CTO"
    assert ada["balance"]["given"] == 1 and ada["balance"]["received"] == 0
    assert ada["last_interaction"] == "2026-07-01"
    assert [(p["what"], p["due"]) for p in ada["open_promises"]] == [("send the Rust paper", "2026-12-01")]
    assert ada["talked_about"] == [
        {"on": "2026-07-01", "note": "asked about her Kubernetes migration"},
        {"on": "2026-05-01", "note": "Rust in fintech; her team is hiring"},
    ]
    assert len(ada["openers"]) == 3 and "Kubernetes migration" in ada["openers"][0]
    assert ada["openers"][2] == SUPPORT and ada["openers"][1] in ABOUT_THEM
    assert found["Cleo Park"]["links"] == ["expected"] and found["Cleo Park"]["talked_about"] == []
    assert found["Bob Stone"]["links"] == ["works at Acme Corp"]
    assert len(doc["openers"]) == 3 and doc["openers"][-1] == SUPPORT
    text = run.ok("prep", "PyCon DE", "--today", DAY).stdout
    assert text.startswith("Briefing: PyCon DE — 2027-04-20 (in 146 days), Darmstadt\n")
    assert "promise due 2026-12-01: send the Rust paper" in text
    assert "talked about (2026-07-01): asked about her Kubernetes migration" in text
    assert "Eve Other" not in text and "Fay" not in text


def test_prep_as_of_an_earlier_day_and_the_open_goals(run: Runner) -> None:
    network(run)
    run.ok("event", "add", "Rust Meetup", "--on", "2026-12-10", "--today", "2026-06-01")
    run.ok("event", "expect", "Rust Meetup", "Ada", "--today", "2026-06-01")
    # as of a day before it was recorded, syncnet knew no such event
    assert "unknown event" in run.fails("prep", "Rust Meetup", "--today", "2026-05-31")
    doc = run.json("prep", "Rust Meetup", "--today", "2026-06-15")
    # no goal linked: every goal not achieved by then; what was said by then only
    assert doc["looking_for"] == [{"goal": "Find a Rust job", "kind": "career"}]
    assert doc["offer"] is None
    ada = people(doc)["Ada Lovelace"]
    assert [t["on"] for t in ada["talked_about"]] == ["2026-05-01"]
    assert ada["open_promises"] == [] and ada["last_interaction"] == "2026-06-01"


def test_meeting_at_an_event_links_them_to_it(run: Runner) -> None:
    network(run)
    run.ok("event", "add", "Meetup", "--on", "2026-11-20", "--where", "Berlin", "--today", "2026-11-20")
    met = run.json("meet", "Dan", "--at", "meetup", "--note", "sailing and Kotlin", "--on", "2026-11-20",
                   "--today", "2026-11-20")  # fmt: skip
    assert [a["kind"] for a in met["also"]] == ["eventlink"]
    run.ok("meet", "Gil", "--where", "MEETUP", "--on", "2026-11-20", "--today", "2026-11-20")
    run.ok("meet", "Hal", "--where", "Meetup Berlin", "--on", "2026-11-20", "--today", "2026-11-20")
    events = {e["name"]: e for e in run.json("event", "list", "--today", DAY)["events"]}
    ids = {c["name"]: c["id"] for c in run.json("contacts", "--today", DAY)["contacts"]}
    assert events["Meetup"]["met"] == sorted([ids["Dan"], ids["Gil"]])  # Hal's place is not its name
    assert events["PyCon DE"]["expected"] == [ids["Cleo Park"]]
    found = people(run.json("prep", "Meetup", "--today", DAY))
    assert set(found) == {"Dan", "Gil"} and found["Dan"]["links"] == ["met there"]
    show = run.json("show", "Dan", "--today", DAY)
    assert show["where"] == "Meetup"  # --at gives the place when --where does not
    # an unknown event: one line, and no contact half-recorded
    assert "unknown event 'Nope'" in run.fails("meet", "Ivy", "--at", "Nope", "--today", DAY)
    assert "Ivy" not in {c["name"] for c in run.json("contacts", "--today", DAY)["contacts"]}


def test_met_at_an_event_held_by_the_meeting_day_only(run: Runner) -> None:
    network(run)  # PyCon DE is held on 2027-04-20
    error = run.fails("meet", "Kim", "--at", "PyCon DE", "--on", "2026-11-25", "--today", DAY)
    assert "that event is held on 2027-04-20, after 2026-11-25" in error
    # a --where that names an event to come links nothing; the briefing finds the place
    run.ok("meet", "Lou", "--where", "PyCon DE", "--on", "2026-11-25", "--today", DAY)
    assert run.json("event", "list", "--today", DAY)["events"][0]["met"] == []
    assert people(run.json("prep", "PyCon DE", "--today", DAY))["Lou"]["links"] == [
        "met at PyCon DE on 2026-11-25"
    ]
    # one name, two years: --at is the one held by the meeting's day, prep the one to come
    run.ok("event", "add", "PyCon DE", "--on", "2026-04-20", "--today", DAY)
    run.ok("meet", "Max", "--at", "pycon de", "--on", "2026-11-25", "--today", DAY)
    events = {e["on"]: e for e in run.json("event", "list", "--today", DAY)["events"]}
    [max_id] = [c["id"] for c in run.json("contacts", "--today", DAY)["contacts"] if c["name"] == "Max"]
    assert events["2026-04-20"]["met"] == [max_id] and events["2027-04-20"]["met"] == []
    doc = run.json("prep", "PyCon DE", "--today", DAY)
    assert doc["event"]["on"] == "2027-04-20"
    # met at the earlier edition: probably there again
    assert people(doc)["Max"]["links"] == ["met at PyCon DE on 2026-04-20"]
    # the earlier edition's briefing (named by id): who was met there; the later one adds none
    earlier = people(run.json("prep", events["2026-04-20"]["id"][:8], "--today", DAY))
    assert earlier["Max"]["links"] == ["met there"] and "Cleo Park" not in earlier


def test_a_retracted_link_leaves_the_briefing(run: Runner) -> None:
    network(run)
    expected = run.json("event", "expect", "PyCon DE", "Eve", "--today", DAY)
    assert set(people(run.json("prep", "PyCon DE", "--today", DAY))) >= {"Eve Other"}
    run.ok("retract", expected["fact_ids"][0])
    assert "Eve Other" not in people(run.json("prep", "PyCon DE", "--today", DAY))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_prep_html_is_a_printable_page_with_every_text_escaped(run: Runner) -> None:
    network(run)
    run.ok(
        "meet", "<script>alert(1)</script>", "--org", "ACME", "--on", "2026-11-20", "--today", "2026-11-20"
    )
    page = run.ok("prep", "PyCon DE", "--html", "--today", DAY).stdout
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    parsed = _Page()
    parsed.feed(page)
    text = " ".join(parsed.text)
    assert "script" not in parsed.tags and "<script>alert(1)</script>" in text
    assert (
        "send the Rust paper" in text and "What I can offer" in text and "an intro to my Rust meetup" in text
    )
    assert run.fails("prep", "PyCon DE", "--html", "--json", "--today", DAY).startswith("syncnet: error:")


def test_event_errors_are_one_line_and_record_nothing(run: Runner) -> None:
    network(run)
    before = run.json("event", "list", "--today", DAY)["events"]
    assert "unknown event 'Nowhere'" in run.fails("prep", "Nowhere", "--today", DAY)
    assert "malformed" in run.fails("event", "add", "X", "--on", "2027-13-01", "--today", DAY).lower()
    assert "an event needs a name" in run.fails("event", "add", " ", "--on", "2027-01-01", "--today", DAY)
    assert "unknown goal" in run.fails(
        "event", "add", "X", "--on", "2027-01-01", "--goal", "nope", "--today", DAY
    )
    assert "unknown contact" in run.fails("event", "expect", "PyCon DE", "Cleo", "Nobody", "--today", DAY)
    assert run.json("event", "list", "--today", DAY)["events"] == before
    assert people(run.json("prep", "PyCon DE", "--today", DAY))["Cleo Park"]["links"] == ["expected"]


def test_one_name_many_years_the_next_to_come_else_the_latest() -> None:
    events = {
        "a" * 32: EventView("a" * 32, "PyCon", "2025-04-20", "2025-01-01"),
        "b" * 32: EventView("b" * 32, "PyCon", "2026-04-20", "2025-01-01"),
        "c" * 32: EventView("c" * 32, "PyCon", "2027-04-20", "2025-01-01"),
    }
    name = str  # the rows' names are plain here
    assert resolve_event("pycon", events, name, "2026-04-19") == "b" * 32
    assert resolve_event("pycon", events, name, "2026-04-20") == "b" * 32  # held today: still to come
    assert resolve_event("pycon", events, name, "2026-04-21") == "c" * 32
    assert resolve_event("pycon", events, name, "2028-01-01") == "c" * 32  # all held: the latest
    assert resolve_event("aaaaaa", events, name, "2026-01-01") == "a" * 32  # an id prefix


def test_openers_follow_up_on_the_last_topic_and_always_ask_how_to_support() -> None:
    first = openers("event:contact", None)
    assert first == openers("event:contact", None)  # the same briefing each time
    assert len(first) == 3 and first[2] == SUPPORT and first[0] != first[1]
    assert {first[0], first[1]} <= set(ABOUT_THEM)
    topic = openers("event:contact", "x" * 100)
    assert topic[0].startswith("Last time we talked about “" + "x" * 59 + "…”")
    assert topic[1] == first[0] and topic[2] == SUPPORT
    assert {tuple(openers(f"e:{n}", None)) for n in range(40)} != {tuple(first)}  # chosen, not fixed


# ---------------------------------------------------------------- the next meeting


def contact(**changes: Any) -> ContactView:
    row = ContactView("c" * 32, "sealed", "2026-08-10", "other", None, last_interaction="2026-09-01",
                      next_meeting="2026-10-01", next_planned_on="2026-09-01")  # fmt: skip
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def test_meeting_reminder_at_its_edges() -> None:
    r = rules.meeting_reminder(contact(), d("2026-09-01"))
    assert r == Reminder(RuleKind.MEETING, "c" * 32, "2026-10-01", d("2026-09-01"), d("2026-10-01"))
    assert rules.meeting_reminder(contact(), d("2026-08-31")) is None  # opens after the horizon
    # an interaction on the day it was planned is not that meeting; the day after is
    assert rules.meeting_reminder(contact(last_interaction="2026-09-01"), d("2026-12-01")) is not None
    assert rules.meeting_reminder(contact(last_interaction="2026-09-02"), d("2026-12-01")) is None
    assert rules.meeting_reminder(contact(keep=False), d("2026-12-01")) is not None  # whatever the pocket
    assert rules.meeting_reminder(contact(forgotten="2026-09-05"), d("2026-12-01")) is None
    assert rules.meeting_reminder(contact(next_meeting=""), d("2026-12-01")) is None


def meetings(run: Runner, today: str) -> list[tuple[str, str, str]]:
    agenda = run.json("due", "--today", today)["agenda"]
    return [(a["contact"]["name"], a["due"], a["state"]) for a in agenda if a["rule"] == "meeting"]


def test_touch_next_plans_a_meeting_that_reminds_until_it_happens(run: Runner) -> None:
    run.ok("init")
    run.ok(
        "meet",
        "Ada",
        "--note",
        "her  startup's\nfunding round",
        "--on",
        "2026-11-01",
        "--today",
        "2026-11-01",
    )
    followup = [a for a in run.json("due", "--today", "2026-11-04")["agenda"] if a["rule"] == "followup"]
    assert followup[0]["summary"] == (
        "Follow up with Ada — met on 2026-11-01; pick up: her startup's funding round; plan the next meeting"
    )
    out = run.ok("touch", "Ada", "--next", "2026-12-10", "--on", "2026-11-03", "--today", "2026-11-03").stdout
    assert "Next meeting planned" in out
    assert meetings(run, "2026-11-03") == [("Ada", "2026-12-10", "upcoming")]
    assert meetings(run, "2026-12-10") == [("Ada", "2026-12-10", "today")]
    assert meetings(run, "2026-12-11") == [("Ada", "2026-12-10", "overdue")]
    assert meetings(run, "2026-11-02") == []  # as of before it was planned
    # a touch on the day it was planned is not the meeting; one after it is
    run.ok("touch", "Ada", "--by", "them", "--on", "2026-11-03", "--today", "2026-11-03")
    assert meetings(run, "2026-11-05") == [("Ada", "2026-12-10", "upcoming")]
    run.ok("touch", "Ada", "--on", "2026-11-04", "--today", "2026-11-04")
    assert meetings(run, "2026-11-05") == []
    # a later plan replaces it; retracting that plan leaves no meeting planned after the touch
    plan = run.json("touch", "Ada", "--next", "2027-01-15", "--on", "2026-11-05", "--today", "2026-11-05")
    assert meetings(run, "2026-11-06") == [("Ada", "2027-01-15", "upcoming")]
    run.ok("retract", plan["also"][0]["fact_id"])
    assert meetings(run, "2026-11-06") == []
    history = run.json("history", "Ada", "--today", "2026-11-06")["events"]
    assert [e["details"].get("planned_for") for e in history if e["kind"] == "next meeting"] == [
        "2026-12-10", "2027-01-15"]  # fmt: skip
    error = run.fails("touch", "Ada", "--next", "2026-11-01", "--on", "2026-11-05", "--today", "2026-11-05")
    assert "--next 2026-11-01 is before the day it is planned on, 2026-11-05" in error
    assert "malformed" in run.fails("touch", "Ada", "--next", "soon", "--today", "2026-11-05").lower()


# ---------------------------------------------------------------- pocket --event


def met_at_meetup(run: Runner) -> dict[str, str]:
    run.ok("init")
    run.ok("event", "add", "Meetup", "--on", "2026-11-20", "--today", "2026-11-20")
    for name in ("Ann", "Ben", "Cat"):
        run.ok("meet", name, "--at", "Meetup", "--on", "2026-11-20", "--today", "2026-11-20")
    run.ok("meet", "Dee", "--on", "2026-11-20", "--today", "2026-11-20")
    return pockets(run)


def pockets(run: Runner) -> dict[str, str]:
    return {c["name"]: c["pocket"] for c in run.json("contacts", "--today", DAY)["contacts"]}


def test_pocket_event_from_lines_on_standard_input(run: Runner) -> None:
    assert set(met_at_meetup(run).values()) == {"keep"}
    walk = [sys.executable, "-m", "syncnet", "pocket", "--event", "meetup", "--today", DAY]
    proc = subprocess.run(walk, input="l\ns\n", env=run.env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "0 kept, 1 let go, 2 left as they were." in proc.stdout
    assert pockets(run) == {"Ann": "drop", "Ben": "keep", "Cat": "keep", "Dee": "keep"}
    walk = [*walk, "--json"]
    proc = subprocess.run(walk, input="k\nq\nl\n", env=run.env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [s["contact"]["name"] for s in __import__("json").loads(proc.stdout)["sorted"]] == ["Ann"]
    assert pockets(run)["Ann"] == "keep" and pockets(run)["Ben"] == "keep"
    assert "CONTACT CHOICE or --event" in run.fails(
        "pocket", "Ann", "keep", "--event", "Meetup", "--today", DAY
    )


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_pocket_event_one_keystroke_each_on_a_terminal(run: Runner) -> None:
    import fcntl
    import termios

    met_at_meetup(run)
    master, terminal = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncnet", "pocket", "--event", "Meetup", "--today", DAY],
        stdin=terminal, stdout=terminal, stderr=terminal, env=run.env(), start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    os.close(terminal)
    try:
        for key in "lkq":  # one key, no Enter
            read_until(master, b"]? ")
            os.write(master, key.encode())
        shown = read_until(master, None).decode()
        assert proc.wait(timeout=30) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert "1 kept, 1 let go, 1 left as they were." in shown
    assert pockets(run) == {"Ann": "drop", "Ben": "keep", "Cat": "keep", "Dee": "keep"}


# ---------------------------------------------------------------- what the review of this change found


def test_a_private_or_unreadable_note_is_never_a_topic_of_a_reminder(run: Runner) -> None:
    run.ok("init")
    (run.home / "config.toml").write_text(
        f'[targets.file]\ntype = "ics"\npath = "{run.home / "out.ics"}"\n', encoding="utf-8"
    )
    run.ok(
        "meet", "Quinn", "--private", "--note", "salary 95k", "--on", "2026-11-01", "--today", "2026-11-01"
    )
    run.ok("meet", "Rae", "--note", "hiking in the Alps", "--on", "2026-11-01", "--today", "2026-11-01")
    summaries = {
        a["contact"]["name"]: a["summary"] for a in run.json("due", "--today", "2026-11-04")["agenda"]
    }
    assert summaries["Quinn"] == "Follow up with Quinn — met on 2026-11-01; plan the next meeting"
    assert "pick up: hiking in the Alps" in summaries["Rae"]
    run.ok("sync", "--today", "2026-11-04")
    texts = [str(c.get(k, "")) for c in Calendar.from_ical((run.home / "out.ics").read_bytes()).walk()
             for k in ("SUMMARY", "DESCRIPTION")]  # fmt: skip
    assert not any("salary" in t for t in texts) and any("pick up: hiking in the Alps" in t for t in texts)
    assert "salary" not in (run.home / "out.ics").read_text(encoding="utf-8")


def test_undo_takes_back_the_whole_command(run: Runner) -> None:
    run.ok("init")
    run.ok("event", "add", "Conf", "--on", "2025-03-10", "--today", "2025-03-01")
    run.ok("meet", "Eve", "--at", "Conf", "--on", "2025-03-10", "--today", "2025-03-10")
    out = run.ok("undo", "--yes").stdout
    assert "Last fact:" in out and "  met  " in out and "With it:" in out and "event link" in out
    assert run.json("contacts", "--today", DAY)["contacts"] == []
    assert run.json("event", "list", "--today", DAY)["events"][0]["met"] == []
    run.ok("meet", "Fay", "--on", "2025-03-10", "--today", "2025-03-10")
    run.ok("touch", "Fay", "--next", "2027-01-01")
    undone = run.json("undo", "--yes")
    assert undone["recorded"]["kind"] == "retract" and [a["kind"] for a in undone["also"]] == ["retract"]
    retracted = [e for e in run.json("history", "Fay")["events"] if e.get("retracted")]
    assert sorted(e["kind"] for e in retracted) == ["next meeting", "touch"]
    run.ok("touch", "Fay")  # a touch alone: undo takes back that one fact
    assert "With it:" not in run.ok("undo", "--yes").stdout


def test_hostile_text_and_whole_words(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Hans", "--org", "Daimler", "--on", "2026-11-01", "--today", "2026-11-01")
    run.ok(
        "meet", "Ina", "--org", "AI Lab", "--note", "x" * 5000, "--on", "2026-11-01", "--today", "2026-11-01"
    )
    hostile = ("Evil\x1b[2JConf", "--on", "2027-01-01", "--offer", "\x1b]0;title\x07", "--org", "ai")
    run.ok("event", "add", *hostile, "--today", DAY)
    page = run.ok("prep", "evil\x1b[2jconf", "--html", "--today", DAY).stdout
    assert "\x1b" not in page and "\x07" not in page and "Evil\\x1b[2JConf" in page
    found = people(run.json("prep", "evil\x1b[2jconf", "--today", DAY))
    assert set(found) == {"Ina"}  # "ai" is a word of "AI Lab", not of "Daimler"
    assert found["Ina"]["talked_about"][0]["note"] == "x" * 5000  # whole in JSON
    text = run.ok("prep", "evil\x1b[2jconf", "--today", DAY).stdout
    assert "talked about (2026-11-01): " + "x" * 159 + "…" in text and "x" * 161 not in text


def test_small_edges_of_events(run: Runner) -> None:
    network(run)
    # one person named twice is expected once; forgotten contacts are not listed
    done = run.json("event", "expect", "PyCon DE", "Bob", "bob stone", "--today", DAY)
    assert len(done["fact_ids"]) == 1
    [pycon] = run.json("event", "list", "--today", DAY)["events"]
    assert len(pycon["expected"]) == 2  # Cleo, Bob
    run.ok("event", "add", "Empty", "--on", "2026-11-01", "--today", DAY)
    assert run.ok("pocket", "--event", "Empty", "--today", DAY).stdout.startswith("Nobody was met at Empty")
    # one command typed: its error says nothing of the facts it records
    error = run.fails("meet", "Kim", "--at", "PyCon DE", "--today", DAY)
    assert error.startswith("syncnet: error: that event is held on 2027-04-20")
    # a plan from a touch dated before a later interaction would be done at once: refused
    error = run.fails("touch", "Ada", "--on", "2026-06-15", "--next", "2027-01-01", "--today", DAY)
    assert "a later interaction (2026-07-01) is recorded already" in error
    assert "(2026-07-01)" in error and not error.startswith("syncnet: error: command")


def test_a_plan_checks_the_interactions_earlier_in_its_batch(run: Runner) -> None:
    from syncnet.app.network import Network
    from syncnet.domain import commands as cmd
    from syncnet.errors import BadInput

    run.ok("init")
    run.ok("meet", "Ada", "--on", "2026-11-01", "--today", "2026-11-01")
    with Network.open(run.home, today=d("2026-11-25")) as net:
        batch = [
            cmd.Touch("Ada", on=d("2026-11-20")),
            cmd.PlanMeeting("Ada", d("2026-11-30"), on=d("2026-11-10")),
        ]
        with pytest.raises(BadInput, match=r"a later interaction \(2026-11-20\) is recorded already"):
            net.record_many(batch)
        net.record_many([batch[0], cmd.PlanMeeting("Ada", d("2026-11-30"), on=d("2026-11-20"))])
    assert meetings(run, "2026-11-25") == [("Ada", "2026-11-30", "upcoming")]
