"""Birthdays (issue 15): a fact of their own (BirthdaySet, sealed with the contact's key),
from `syncnet birthday` or an import, and a yearly reminder for kept contacts
(docs/rules.md, "birthday"): the rule on folded facts, the CLI, imports, an ICS file read
back with icalendar, and a reminder ticked off on Radicale that becomes a touch."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from helpers_rules import Facts, d
from icalendar import Calendar
from support import TODAY, T, agenda_items, caldav_target, horizon_end, ics_target, record, write_config

from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.domain import projections as pj
from syncnet.domain.config import Config, parse_config
from syncnet.domain.rules import RuleKind
from syncnet.errors import ConfigError

ADA_BORN = (11, 25)  # due 2026-11-25, opens 2026-11-18 with the default notice of 7 days


# ------------------------------------------------------------------ the rule (pure)
def birthdays(f: Facts, today: str, born: dict[UUID, tuple[int, int]], config: Config | None = None,
              until: str | None = None) -> list[pj.Reminder]:  # fmt: skip
    """The birthday reminders of the agenda, (month, day) given as the app unseals them."""
    v = f.views()
    found = pj.agenda(v.all("contact"), v.all("promise"), d(today), config or Config(),
                      d(until) if until else None, {c.hex: md for c, md in born.items()})  # fmt: skip
    return [r for r in found if r.rule == RuleKind.BIRTHDAY]


def kept() -> tuple[Facts, UUID]:
    f = Facts()
    ada = f.met(d("2026-01-05"))
    f.touch(ada, d("2026-01-06"))  # followed up
    return f, ada


def test_a_birthday_opens_seven_days_before_is_due_on_the_day_and_leaves_after_it():
    f, ada = kept()
    born = {ada: ADA_BORN}
    assert birthdays(f, "2026-11-17", born) == []  # not open yet
    (r,) = birthdays(f, "2026-11-18", born)
    assert (r.opens, r.due, r.period, r.key) == (d("2026-11-18"), d("2026-11-25"), "2026",
                                                  f"{ada.hex}:birthday:2026")  # fmt: skip
    assert r.state(d("2026-11-18")) == "upcoming"
    (r,) = birthdays(f, "2026-11-25", born)
    assert r.state(d("2026-11-25")) == "today"
    assert birthdays(f, "2026-11-26", born) == []  # a missed birthday is never overdue
    # looking ahead: next year's opens by --until too, with its own period
    ahead = birthdays(f, "2026-11-26", born, until="2027-11-18")
    assert [(r.period, r.due) for r in ahead] == [("2027", d("2027-11-25"))]
    # the order on one day: promise, follow-up, birthday, cadence, season
    order = pj.RULE_ORDER
    assert order[RuleKind.FOLLOWUP] < order[RuleKind.BIRTHDAY] < order[RuleKind.CADENCE]


def test_an_interaction_initiated_by_me_since_it_opened_completes_it():
    f, ada = kept()
    born = {ada: ADA_BORN}
    f.touch(ada, d("2026-11-17"))  # the day before it opens: not for this birthday
    f.touch(ada, d("2026-11-19"), by="them")  # they called: not my wishes
    assert len(birthdays(f, "2026-11-20", born)) == 1
    f.touch(ada, d("2026-11-18"))  # on the day it opens
    assert birthdays(f, "2026-11-20", born) == []
    g, bob = kept()
    g.give(bob, d("2026-11-20"))  # help given is initiated by me too
    assert birthdays(g, "2026-11-20", {bob: ADA_BORN}) == []
    # and next year's is open again in its own window
    assert [r.period for r in birthdays(f, "2027-11-20", born)] == ["2027"]


def test_let_go_unsorted_and_forgotten_contacts_get_none():
    f, ada = kept()
    f.pocket(ada, d("2026-03-01"), keep=False)
    assert birthdays(f, "2026-11-20", {ada: ADA_BORN}) == []
    f.pocket(ada, d("2026-04-01"), keep=True)  # kept again: reminded again
    assert len(birthdays(f, "2026-11-20", {ada: ADA_BORN})) == 1
    g, bob = kept()
    g._add(ev.ContactImported(**g._meta(d("2026-01-05")), contact_id=bob, source="vcard"))
    assert birthdays(g, "2026-11-20", {bob: ADA_BORN}) == []
    h, cy = kept()
    h.forgotten(cy, d("2026-02-01"))
    assert birthdays(h, "2026-11-20", {cy: ADA_BORN}) == []


def test_29_february_is_28_february_in_other_years():
    f, ada = kept()
    born = {ada: (2, 29)}
    (r,) = birthdays(f, "2027-02-25", born)
    assert (r.opens, r.due, r.period) == (d("2027-02-21"), d("2027-02-28"), "2027")
    assert birthdays(f, "2027-03-01", born) == []
    (r,) = birthdays(f, "2028-02-28", born)
    assert (r.opens, r.due) == (d("2028-02-22"), d("2028-02-29"))


def test_the_configuration_turns_it_off_and_sets_the_notice():
    f, ada = kept()
    born = {ada: ADA_BORN}
    off = parse_config({"rules": {"birthdays": False}})
    assert birthdays(f, "2026-11-20", born, off) == []
    three = parse_config({"rules": {"birthday_notice_days": 3}})
    assert birthdays(f, "2026-11-21", born, three) == []
    (r,) = birthdays(f, "2026-11-22", born, three)
    assert (r.opens, r.due) == (d("2026-11-22"), d("2026-11-25"))
    same_day = parse_config({"rules": {"birthday_notice_days": 0}})
    assert [r.opens for r in birthdays(f, "2026-11-25", born, same_day)] == [d("2026-11-25")]
    # a meeting inside the notice: it opens on the meeting day
    g = Facts()
    bob = g.met(d("2026-11-22"))
    (r,) = birthdays(g, "2026-11-22", {bob: ADA_BORN})
    assert r.opens == d("2026-11-22")


@pytest.mark.parametrize(("rules", "message"), [
    ({"birthdays": 1}, "rules.birthdays must be true or false, got 1"),
    ({"birthdays": "yes"}, "rules.birthdays must be true or false"),
    ({"birthday_notice_days": True}, "rules.birthday_notice_days must be a whole number, got True"),
    ({"birthday_notice_days": 7.0}, "rules.birthday_notice_days must be a whole number"),
    ({"birthday_notice_days": -1}, "rules.birthday_notice_days = -1 is out of range: 0 .. 180"),
    ({"birthday_notice_days": 181}, "rules.birthday_notice_days = 181 is out of range: 0 .. 180"),
    ({"birthday": True}, "unknown option rules.birthday"),
])  # fmt: skip
def test_wrong_birthday_options_are_refused(rules: dict[str, Any], message: str):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config({"rules": rules})


def test_the_defaults():
    config = parse_config({})
    assert config.birthdays is True and config.birthday_notice_days == 7


# ------------------------------------------------------------------ the command line
def due(run: Any, today: str, *args: str) -> list[dict[str, Any]]:
    return [i for i in run.json("due", "--today", today, *args)["agenda"] if i["rule"] == "birthday"]


@pytest.fixture
def ada(run: Any) -> str:
    """Ada, kept and followed up, her birthday (25 November 1990) recorded on 1 November."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-01-05", *T)
    run.ok("touch", "ada", "--on", "2026-01-06", *T)
    out = run.json("birthday", "ada", "1990-11-25", "--on", "2026-11-01", *T)
    assert out["recorded"]["kind"] == "setbirthday"
    return str(out["recorded"]["contact"]["id"])


def test_syncnet_birthday_shows_and_reminds(run, ada):
    assert due(run, "2026-11-17") == []
    (item,) = due(run, "2026-11-18")
    assert item["summary"] == "Wish Ada Lovelace a happy birthday (25 November)"
    assert (item["opens"], item["due"], item["state"], item["period"]) == ("2026-11-18", "2026-11-25",
                                                                           "upcoming", "2026")  # fmt: skip
    assert item["key"] == f"{ada}:birthday:2026"
    assert [i["state"] for i in due(run, "2026-11-25")] == ["today"]
    assert due(run, "2026-11-26") == []
    assert "birthday  " in run.ok("due", *T).stdout  # the rule's name in the table
    shown = run.ok("show", "ada", *T).stdout
    assert "birthday:         1990-11-25" in shown
    assert run.json("show", "ada", *T)["details"]["birthday"] == "1990-11-25"
    # changed, without the year: the latest is in force, the year unknown
    run.ok("birthday", "ada", "11-27", "--on", "2026-11-02", *T)
    assert [i["due"] for i in due(run, TODAY)] == ["2026-11-27"]
    assert "birthday:         --11-27 (year unknown)" in run.ok("show", "ada", *T).stdout
    assert run.json("show", "ada", *T)["details"]["birthday"] == "--11-27"
    # cleared: no reminder, nothing shown
    run.ok("birthday", "ada", "--clear", "--on", "2026-11-03", *T)
    assert due(run, TODAY) == []
    assert "birthday" not in run.json("show", "ada", *T)["details"]


def test_a_touch_in_the_window_completes_it_and_let_go_or_forgotten_get_none(run, ada):
    run.ok("meet", "Bob Smith", "--on", "2026-01-05", *T)
    run.ok("touch", "bob", "--on", "2026-01-06", *T)
    run.ok("birthday", "bob", "--on", "2026-11-01", *T, "--", "--11-24")  # vCard's form, after --
    assert {i["contact"]["name"] for i in due(run, TODAY)} == {"Ada Lovelace", "Bob Smith"}
    run.ok("touch", "ada", "--by", "them", "--on", "2026-11-19", *T)
    assert len(due(run, TODAY)) == 2
    run.ok("touch", "ada", "--on", "2026-11-19", *T)  # my wishes
    assert [i["contact"]["name"] for i in due(run, TODAY)] == ["Bob Smith"]
    run.ok("pocket", "bob", "drop", "--on", "2026-11-19", *T)
    assert due(run, TODAY) == []
    run.ok("pocket", "bob", "keep", "--on", "2026-11-20", *T)
    assert len(due(run, TODAY)) == 1
    run.ok("forget", "bob", "--yes")  # gone from every read, of any day
    assert due(run, TODAY) == []


def test_a_config_without_birthdays_or_with_another_notice(run, home, ada):
    write_config(home, rules={"birthdays": False})
    assert due(run, TODAY) == []
    write_config(home, rules={"birthday_notice_days": 3})
    assert due(run, "2026-11-21") == []
    assert [i["opens"] for i in due(run, "2026-11-22")] == ["2026-11-22"]
    write_config(home, rules={"birthday_notice_days": True})
    assert "rules.birthday_notice_days must be a whole number, got True" in run.fails("due", *T)


def test_29_february_through_the_cli(run, ada):
    run.ok("meet", "Leap Day", "--on", "2026-01-05", *T)
    run.ok("touch", "leap", "--on", "2026-01-06", *T)
    run.ok("birthday", "leap", "02-29", "--on", "2026-01-07", *T)
    run.ok("birthday", "leap", "2000-02-29", "--on", "2026-01-08", *T)  # a leap year: a date
    (item,) = due(run, "2027-02-25")
    assert (item["due"], item["summary"]) == ("2027-02-28", "Wish Leap Day a happy birthday (29 February)")
    assert run.json("show", "leap", *T)["details"]["birthday"] == "2000-02-29"


@pytest.mark.parametrize(("args", "message"), [
    (["2026-13-01"], "malformed birthday '2026-13-01'"),
    (["2001-02-29"], "malformed birthday '2001-02-29'"),  # not a leap year
    (["25.11.1990"], "malformed birthday '25.11.1990'"),
    (["١٩٩٠-11-25"], "malformed birthday"),  # ASCII digits only
    ([""], "malformed birthday ''"),
    (["1850-11-25"], "birthday '1850-11-25' is out of range: 1900 .. "),
    (["2099-01-01"], "birthday '2099-01-01' is out of range"),
    ([], "give the birthday as YYYY-MM-DD or MM-DD, or --clear"),
    (["11-25", "--clear"], "give the birthday as YYYY-MM-DD or MM-DD, or --clear"),
])  # fmt: skip
def test_a_wrong_birthday_is_refused_and_nothing_is_written(run, home, ada, state, args, message):
    before = state(home)
    assert message in run.fails("birthday", "ada", *args, *T)
    assert state(home) == before


def test_a_birthday_fact_cannot_be_amended_but_can_be_retracted(run, ada):
    history = run.json("history", "ada", *T)["events"]
    (fact,) = [e for e in history if e["kind"] in ("birthday", "BirthdaySet")]
    assert "cannot be amended" in run.fails("amend", fact["short"], "--on", "2026-11-02")
    run.ok("retract", fact["short"])
    assert due(run, TODAY) == []
    assert "birthday" not in run.json("show", "ada")["details"]


def test_due_unseals_the_birthdays_of_kept_contacts_only(run, home):
    """`due` on a network without birthdays unseals none; with some, only theirs (the
    fold keeps them sealed: the app opens them for the rule)."""
    from syncnet.storage import keys

    run.ok("init")
    met = [cmd.Meet(f"Person {n:02d}", on=date(2025, 1, 1)) for n in range(40)]
    touches = [cmd.Touch(m.name, on=date(2025, 1, 2)) for m in met]  # no follow-up due
    record(home, *met, *touches)
    today = ("--today", "2027-01-10")  # winter: no season reminder names anyone either

    def unsealed(*args: str) -> int:
        run.ok("due", *args)  # the views caught up first (their name index unseals new names)
        before = keys.STATS["unsealed"]
        run.ok("due", *args)
        return int(keys.STATS["unsealed"] - before)

    assert unsealed(*today) == 0
    record(home, cmd.SetBirthday("Person 01", "1980-06-01", on=date(2025, 1, 3)),
           cmd.SetBirthday("Person 02", "06-02", on=date(2025, 1, 3)),
           cmd.SetBirthday("Person 03", "1970-06-03", on=date(2025, 1, 3)),
           cmd.Pocket("Person 03", keep=False, on=date(2025, 1, 3)))  # fmt: skip
    assert unsealed(*today) == 2  # the two kept contacts' birthdays, nothing else
    write_config(home, rules={"birthdays": False})
    assert unsealed(*today) == 0


# ------------------------------------------------------------------ imports
def import_cards(home: Path, cards: list[Any], source: str = "vcard") -> dict[str, Any]:
    from syncnet.app.imports import import_cards as run_import
    from syncnet.app.network import Network
    from syncnet.domain.cards import Parsed

    with Network.open(home, today=date.fromisoformat(TODAY)) as net:
        return run_import(net, Parsed(cards), source).to_json()


def test_an_import_records_the_birthday_as_its_own_fact(run, home, state):
    from syncnet.domain.cards import Card

    run.ok("init")
    run.ok("meet", "Grace Hopper", "--on", "2026-01-05", *T)
    run.ok("set", "grace", "--email", "grace@navy.example", *T)
    run.ok("meet", "Alan Kay", "--on", "2026-01-05", *T)
    run.ok("set", "alan", "--email", "alan@parc.example", *T)
    run.ok("birthday", "alan", "1940-05-17", "--on", "2026-01-06", *T)  # set by hand: an import leaves it
    cards = [
        Card("Ada Lovelace", 1, emails=("ada@engines.example",), birthday=date(1990, 11, 25)),
        Card("Leap Day", 9, birthday=date(1604, 2, 29)),  # --02-29: the year unknown
        Card("Old Timer", 14, birthday=date(1850, 1, 1)),
        Card("Grace Hopper", 20, emails=("grace@navy.example",), birthday=date(1906, 12, 9)),
        Card("Alan Kay", 27, emails=("alan@parc.example",), birthday=date(1940, 5, 18)),
    ]
    report = import_cards(home, cards)
    assert (report["added"], report["updated"], report["unchanged"]) == (3, 1, 1)
    assert report["left_out"] == [{"line": 14, "value": "birthday 1850-01-01 (not from 1900 to today)"}]
    shown = {n: run.json("show", n, *T)["details"] for n in ("ada", "leap", "old", "grace", "alan")}
    assert shown["ada"] == {"emails": ["ada@engines.example"], "birthday": "1990-11-25"}
    assert shown["leap"] == {"birthday": "--02-29"}
    assert shown["old"] == {}
    assert shown["grace"]["birthday"] == "1906-12-09"
    assert shown["alan"]["birthday"] == "1940-05-17"
    assert "birthday:         --02-29 (year unknown)" in run.ok("show", "leap", *T).stdout
    # a fact of its own, not a detail of the first meeting
    events = run.json("history", "ada", *T)["events"]
    # (history names the fact by its class until syncnet.app.history gives it a word)
    assert [e["kind"] for e in events][:2] == ["met", "imported"] and len(events) == 3
    assert events[2]["kind"] in ("birthday", "BirthdaySet")
    assert "birthday" not in events[0]["details"]
    # imported contacts wait unsorted: no birthday reminder until kept
    assert due(run, TODAY) == []
    run.ok("pocket", "ada", "keep", *T)
    assert [i["contact"]["name"] for i in due(run, TODAY)] == ["Ada Lovelace"]
    # the same cards again: nothing more
    before = state(home)
    again = import_cards(home, cards)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert state(home) == before


def test_a_birthday_an_older_import_put_among_the_details(run, home):
    """Imports before BirthdaySet sealed the birthday inside the details: `show` still
    shows it, a birthday fact replaces it (a cleared one too), and importing the card
    again records the fact, which makes it a reminder."""
    from syncnet.domain.cards import Card

    run.ok("init")
    record(home, cmd.Meet("Ada Lovelace", on=date(2026, 1, 5), details=cmd.Details(
        emails=("ada@engines.example",), birthday="1990-11-25")), cmd.Touch("Ada", on=date(2026, 1, 6)))
    assert run.json("show", "ada", *T)["details"]["birthday"] == "1990-11-25"
    assert due(run, TODAY) == []  # sealed in the details: the rule never sees it
    report = import_cards(home, [Card("Ada Lovelace", 1, emails=("ada@engines.example",),
                                      birthday=date(1990, 11, 25))])  # fmt: skip
    assert report["updated"] == 1
    assert [i["due"] for i in due(run, TODAY)] == ["2026-11-25"]
    run.ok("birthday", "ada", "--clear", *T)
    assert "birthday" not in run.json("show", "ada", *T)["details"]
    assert "birthday" not in run.ok("show", "ada", *T).stdout


# ------------------------------------------------------------------ calendars
def test_an_ics_target_holds_the_birthday(run, home, tmp_path, ada):
    out = tmp_path / "reminders.ics"
    write_config(home, file=ics_target(out))
    assert run.json("sync", *T)["targets"][0]["ok"]
    want = agenda_items(run, horizon_end(TODAY), *T)
    (uid,) = [u for u, i in want.items() if i["rule"] == "birthday"]
    events = {str(c["UID"]): c for c in Calendar.from_ical(out.read_bytes()).walk("VEVENT")}
    assert set(events) == set(want)
    event = events[uid]
    assert str(event["SUMMARY"]) == "Wish Ada Lovelace a happy birthday (25 November)"
    assert event.decoded("DTSTART") == date(2026, 11, 25)
    # wished: the next sync takes it off the file
    run.ok("touch", "ada", *T)
    assert run.json("sync", *T)["targets"][0]["ok"]
    assert uid not in {str(c["UID"]) for c in Calendar.from_ical(out.read_bytes()).walk("VEVENT")}


def test_a_birthday_ticked_off_on_the_phone_becomes_a_touch_by_me(run, home, radicale_calendar):
    from test_completions import complete_with_caldav, sync, todo_of

    from syncnet.domain.reminders import uid_for
    from syncnet.storage.store import init_store

    cal = radicale_calendar
    init_store(home)
    write_config(home, phone=caldav_target(cal.url, style="todo"))
    record(home, cmd.Meet("Ada Lovelace", on=date(2026, 1, 5)), cmd.Touch("Ada", on=date(2026, 1, 6)),
           cmd.SetBirthday("Ada", "1990-11-25", on=date(2026, 11, 1)))  # fmt: skip
    sync(run)
    (item,) = [i for i in agenda_items(run, horizon_end(TODAY), *T).values() if i["rule"] == "birthday"]
    uid = uid_for(item["key"])
    assert str(todo_of(cal, uid)["SUMMARY"]) == "Wish Ada Lovelace a happy birthday (25 November)"
    complete_with_caldav(cal, uid)
    t = sync(run)
    assert [a["uid"] for a in t["actions"] if a["action"] == "completed"] == [uid]
    touches = [e for e in run.json("history", "ada", *T)["events"] if e["kind"] == "touch"]
    assert [(e["on"], e["details"]["by"], e["details"].get("note")) for e in touches] == [
        ("2026-01-06", "me", None), (TODAY, "me", "ticked off in phone")]
    assert due(run, TODAY) == []
    sync(run)  # exactly once
    assert len([e for e in run.json("history", "ada", *T)["events"] if e["kind"] == "touch"]) == 2


def test_turning_birthdays_off_takes_them_off_a_caldav_calendar(run, home, radicale_calendar):
    """The settings of the rule are part of the target's agenda key: a change of them
    alone (no new fact) makes the next sync compute the agenda again."""
    from caldav_fixtures import read_back_uids
    from test_completions import sync

    from syncnet.domain.reminders import uid_for
    from syncnet.storage.store import init_store

    cal = radicale_calendar
    init_store(home)
    write_config(home, phone=caldav_target(cal.url, style="todo"))
    record(home, cmd.Meet("Ada Lovelace", on=date(2026, 1, 5)), cmd.Touch("Ada", on=date(2026, 1, 6)),
           cmd.SetBirthday("Ada", "11-25", on=date(2026, 11, 1)))  # fmt: skip
    sync(run)
    uid = uid_for(f"{run.json('due', *T)['agenda'][0]['contact']['id']}:birthday:2026")
    assert uid in read_back_uids(cal)
    write_config(home, rules={"birthdays": False}, phone=caldav_target(cal.url, style="todo"))
    t = sync(run)
    assert [a["uid"] for a in t["actions"] if a["action"] == "deleted"] == [uid]
    assert uid not in read_back_uids(cal)
