"""What an import means to the rules, through the CLI with explicit dates (issue 15, as
found by a user's walk): an imported card is how a contact came in, not a meeting.

- it takes none of my time (the 70-20-10 split) and is no interaction;
- it is unsorted from the day it is dated, so a read of an earlier `--today` does not
  show it kept with overdue follow-ups;
- a card with no date (vCard, Google, CardDAV) gets no follow-up once kept: the day of
  the import is a day nobody met;
- merged into a contact met for real, it leaves that contact's pocket and follow-up as
  they were; retracting one of two merges takes back that merge's details only;
- an address book's groups (vCard CATEGORIES, Google's labels) are kept, shown and
  exported.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import vobject
from support import Runner

# An import is dated on the real today (it takes no --today): the other dates follow it.
DAY = date.today()
TODAY = DAY.isoformat()
T = ("--today", TODAY)
YESTERDAY = DAY - timedelta(days=1)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

LINKEDIN = (
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    "Ken,Thompson,,,Bell Labs,Researcher,15 Mar 2024\r\n"
    f"Rob,Pike,,,Bell Labs,Researcher,{YESTERDAY.day:02d} {MONTHS[YESTERDAY.month - 1]} {YESTERDAY.year}\r\n"
)
CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\n{extra}END:VCARD\r\n"


def card(name: str, extra: str = "") -> str:
    return CARD.format(name=name, extra=extra)


def imported(run: Runner, tmp_path: Path, kind: str, text: str) -> dict[str, Any]:
    path = tmp_path / f"file.{kind}"
    path.write_text(text, encoding="utf-8")
    doc: dict[str, Any] = run.json("import", kind, path)
    return doc


def contact(run: Runner, name: str, *args: str) -> dict[str, Any]:
    doc: dict[str, Any] = run.json("show", name, *args)
    return doc


def rules_due(run: Runner, *args: str) -> list[tuple[str, str]]:
    return [(i["rule"], i["summary"].split(" — ")[0]) for i in run.json("due", *args)["agenda"]]


def test_an_import_takes_none_of_my_time_and_is_no_interaction(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    imported(run, tmp_path, "linkedin", LINKEDIN)
    imported(run, tmp_path, "vcard", card("Cat Person") + card("Dan Person"))
    for today in (TODAY, "2024-12-31"):  # a year of imported connections, and the one of the import
        split = run.json("split", "--today", today)
        assert split["total_minutes"] == 0, split
    assert contact(run, "Ken Thompson", *T)["last_interaction"] is None
    run.ok("pocket", "Ken Thompson", "keep", *T)
    run.ok("meet", "Ada Lovelace", "--minutes", "45", "--on", str(DAY - timedelta(days=5)), *T)  # my time
    split = run.json("split", *T)
    assert {part: p["minutes"] for part, p in split["parts"].items()} == {"give": 45, "self": 0, "ask": 0}


def test_imported_contacts_are_unsorted_on_any_earlier_day(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    imported(run, tmp_path, "linkedin", LINKEDIN)
    for today in (YESTERDAY.isoformat(), "2025-01-01", TODAY):
        pockets = {c["name"]: c["pocket"] for c in run.json("contacts", "--today", today)["contacts"]}
        expected = {"Ken Thompson": "unsorted", "Rob Pike": "unsorted"} if today != "2025-01-01" else {
            "Ken Thompson": "unsorted"}  # fmt: skip
        assert pockets == expected, today
        assert run.json("due", "--today", today)["agenda"] == [], today


def test_a_kept_card_without_a_date_gets_no_follow_up(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    imported(run, tmp_path, "linkedin", LINKEDIN)
    imported(run, tmp_path, "vcard", card("Cat Person"))
    for name in ("Ken Thompson", "Rob Pike", "Cat Person"):
        run.ok("pocket", name, "keep", *T)
    # Rob connected yesterday (a LinkedIn date): a follow-up; Ken in 2024 and Cat (no date,
    # dated on the import) none
    assert rules_due(run, *T) == [("followup", "Follow up with Rob Pike")]
    (rob,) = run.json("due", *T)["agenda"]
    assert rob["summary"] == (f"Follow up with Rob Pike — met on {YESTERDAY.isoformat()} "
                              "(professional-network); plan the next meeting")


def test_merging_an_imported_duplicate_keeps_the_met_contacts_pocket_and_follow_up(
    run: Runner, tmp_path: Path
) -> None:
    run.ok("init")
    met = (DAY - timedelta(days=2)).isoformat()
    ada = run.json("meet", "Ada Lovelace", "--channel", "conference", "--on", met, *T)
    ada_id = ada["recorded"]["contact"]["id"]
    before = rules_due(run, *T)
    assert before == [("followup", "Follow up with Ada Lovelace")]
    details = "ORG:Babbage Co\r\nEMAIL:ada@babbage.example\r\n"
    report = imported(run, tmp_path, "vcard", card("Ada Lovelace", details))
    (other,) = [c["contact_id"] for c in report["cards"] if c["action"] == "added"]
    run.ok("merge", ada_id[:8], other[:8])
    shown = contact(run, ada_id[:8], *T)
    assert shown["pocket"] == "keep" and shown["last_interaction"] == met
    assert shown["details"]["emails"] == ["ada@babbage.example"] and shown["details"]["org"] == "Babbage Co"
    assert rules_due(run, *T) == before  # the follow-up is still to do
    assert run.json("split", *T)["total_minutes"] == 30  # the one meeting


def test_retracting_one_of_two_merges_takes_back_its_details_only(run: Runner) -> None:
    run.ok("init")
    for name, email in (("Jon Smith", "jon@acme.example"), ("John Smith", "jsmith@globex.example"),
                        ("Smith Jon", "sj@initech.example")):  # fmt: skip
        run.ok("meet", name, "--on", str(DAY - timedelta(days=5)), "--new", *T)
        run.ok("set", name, "--email", email, *T)  # a DetailsSet of its own: the merged one's must not win
    first = run.json("merge", "Jon Smith", "John Smith")["fact_id"]
    run.ok("merge", "Jon Smith", "Smith Jon")
    assert contact(run, "Jon Smith", *T)["details"]["emails"] == [
        "jon@acme.example", "jsmith@globex.example", "sj@initech.example"]  # fmt: skip
    run.ok("retract", first[:8])
    assert contact(run, "Jon Smith", *T)["details"]["emails"] == ["jon@acme.example", "sj@initech.example"]
    assert contact(run, "John Smith", *T)["details"]["emails"] == ["jsmith@globex.example"]
    pairs = run.json("duplicates")["duplicates"]
    assert pairs and all("same e-mail" not in p["why"] for p in pairs), pairs


def test_an_address_books_groups_are_kept_shown_and_exported(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    imported(run, tmp_path, "vcard", card("Cat Person", "CATEGORIES:mentors,climbing\r\n"))
    google = ("First Name,Last Name,E-mail 1 - Value,Labels\r\n"
              "Dan,Person,dan@example.org,* myContacts ::: Friends ::: Work\r\n")  # fmt: skip
    imported(run, tmp_path, "google", google)
    assert contact(run, "Cat Person", *T)["details"]["categories"] == ["mentors", "climbing"]
    assert contact(run, "Dan Person", *T)["details"]["categories"] == ["Friends", "Work"]
    assert "categories:       mentors, climbing" in run.ok("show", "Cat Person", *T).stdout
    # the same card again adds its new group to the contact, and nothing else
    again = imported(run, tmp_path, "vcard", card("Cat Person", "CATEGORIES:mentors,ice\r\n"))
    assert (again["added"], again["updated"]) == (0, 1)
    assert contact(run, "Cat Person", *T)["details"]["categories"] == ["mentors", "climbing", "ice"]
    run.ok("export", tmp_path / "out")
    cards = {c.fn.value: c for c in vobject.readComponents((tmp_path / "out" / "contacts.vcf").read_text())}
    assert cards["Cat Person"].categories.value == ["mentors", "climbing", "ice"]
    assert cards["Dan Person"].categories.value == ["Friends", "Work"]


def test_a_merged_contact_is_named_in_history_and_a_retracted_one_not_called_forgotten(run: Runner) -> None:
    run.ok("init")
    for name in ("Anna Berg", "Anna Bergh"):
        run.ok("meet", name, "--channel", "conference", *T)
    merged = run.json("merge", "Anna Berg", "Anna Bergh")
    history = run.json("history", "Anna Berg", *T)["events"]
    (merge,) = [e for e in history if e["kind"] == "merged"]
    assert merge["details"]["merged_id"] == f"Anna Bergh ({merged['merged'][:8]})"
    assert {e["details"]["contact_id"] for e in history if e["kind"] == "met"} == {
        f"Anna Berg ({merged['into'][:8]})", f"Anna Bergh ({merged['merged'][:8]})"}  # fmt: skip
    assert "[forgotten]" not in run.ok("history", "Anna Berg", *T).stdout
    run.ok("meet", "Test Person", *T)
    undone = run.ok("undo", "--yes").stdout
    assert "[merged or retracted]" in undone and "[forgotten]" not in undone, undone
