"""Two-way calendars: a reminder ticked off in a client becomes the fact it asked for
(docs/sync.md, "Completions"), exactly once, on real Radicale and Xandikos, read back with
the `caldav` library and `icalendar`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
from caldav_fixtures import Calendar, read_back
from icalendar import Calendar as ICalendar
from support import TODAY, T, agenda_items, caldav_target, horizon_end, record, write_config

from syncnet.domain import commands as cmd
from syncnet.domain.reminders import uid_for
from syncnet.storage.store import init_store

NOW = T  # 2026-11-20


def setup(home: Path, cal: Calendar, run: Any) -> dict[str, str]:
    """Ada met on 18 November (follow-up due on the 21st) with an open promise; synced
    as VTODOs. Returns the UIDs by rule."""
    init_store(home)
    write_config(home, phone=caldav_target(cal.url, style="todo"))
    record(
        home,
        cmd.Meet("Ada Lovelace", why="role-model", on=date(2026, 11, 18)),
        cmd.Promise("Ada", "send the compiler paper", date(2026, 12, 5), on=date(2026, 11, 19)),
    )
    sync(run)
    items = agenda_items(run, horizon_end(TODAY, 60), *NOW)
    return {i["rule"]: uid_for(i["key"]) for i in items.values()}


def sync(run: Any) -> dict[str, Any]:
    doc = run.json("sync", *NOW)
    (t,) = doc["targets"]
    assert t["ok"], t
    return dict(t)


def complete_with_caldav(cal: Calendar, uid: str) -> None:
    """Tick a reminder off as a client would, with the `caldav` library's `todo.complete()`."""
    from caldav.davclient import DAVClient

    user, password = cal.auth if cal.auth else (None, None)
    with DAVClient(url=cal.url, username=user, password=password, require_tls=False,
                   enable_rfc6764=False, timeout=30) as client:  # fmt: skip
        found = [t for t in cast(Any, client).calendar(url=cal.url).todos(include_completed=True)
                 if str(t.icalendar_component["UID"]) == uid]  # fmt: skip
        assert len(found) == 1, uid
        found[0].complete()


def todo_of(cal: Calendar, uid: str) -> Any:
    (found,) = [c for c in read_back(cal) if str(c["UID"]) == uid]
    return found


def put_variant(cal: Calendar, uid: str, edit: Any) -> None:
    """What another client writes: the item as stored, changed by `edit`, PUT with If-Match."""
    url = f"{cal.url}{uid.split('@')[0]}.ics"
    r = httpx.get(url, auth=cal.auth, timeout=10)
    r.raise_for_status()
    ical = ICalendar.from_ical(r.content)
    for c in ical.walk("VTODO"):
        edit(c)
    headers = {"If-Match": r.headers["ETag"], "Content-Type": "text/calendar; charset=utf-8"}
    put = httpx.put(url, content=ical.to_ical(), auth=cal.auth, timeout=10, headers=headers)
    assert put.status_code in (201, 204), put.text


def facts(run: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in run.json("history", "Ada", *NOW)["events"] if e["kind"] == kind]


def test_a_follow_up_ticked_off_in_a_client_becomes_a_touch_exactly_once(run, home, any_calendar):
    cal = any_calendar
    uids = setup(home, cal, run)
    complete_with_caldav(cal, uids["followup"])
    t = sync(run)
    assert [a["uid"] for a in t["actions"] if a["action"] == "completed"] == [uids["followup"]]
    (touch,) = facts(run, "touch")
    assert touch["details"]["by"] == "me" and touch["details"]["channel"] == "other"
    assert touch["details"]["note"] == "ticked off in phone"
    assert touch["on"] == TODAY  # completed today (real time), never after --today
    due = {i["rule"] for i in run.json("due", *NOW)["agenda"]}
    assert "followup" not in due
    # the item stays on the server, completed, as the client shows it
    assert todo_of(cal, uids["followup"])["STATUS"] == "COMPLETED"
    # again, and again: nothing more is recorded
    assert [a for a in sync(run)["actions"] if a["action"] == "completed"] == []
    sync(run)
    assert len(facts(run, "touch")) == 1


def test_clients_mark_done_in_different_ways(run, home, radicale_calendar):
    cal = radicale_calendar
    uids = setup(home, cal, run)

    def percent_only(c: Any) -> None:
        c["PERCENT-COMPLETE"] = 100
        c["X-CLIENT-FLAG"] = "kept by syncnet"

    put_variant(cal, uids["promise"], percent_only)
    put_variant(cal, uids["followup"], lambda c: c.add("COMPLETED", __import__("datetime").datetime(
        2026, 11, 19, 23, 30, tzinfo=__import__("zoneinfo").ZoneInfo("America/New_York"))))  # fmt: skip
    t = sync(run)
    assert sorted(a["uid"] for a in t["actions"] if a["action"] == "completed") == sorted(
        [uids["promise"], uids["followup"]]
    ), t["actions"]
    (kept,) = facts(run, "kept")
    assert kept["details"]["note"] == "ticked off in phone"
    (touch,) = facts(run, "touch")
    # 23:30 in New York on the 19th is the 20th in UTC, the machine's zone here
    assert touch["on"] in ("2026-11-19", "2026-11-20")
    assert {i["rule"] for i in run.json("due", *NOW)["agenda"]} == set()
    # the client's own property stays on the item
    assert "X-CLIENT-FLAG" in todo_of(cal, uids["promise"])


def test_unticked_after_the_sync_the_fact_is_retracted(run, home, radicale_calendar):
    cal = radicale_calendar
    uids = setup(home, cal, run)
    put_variant(cal, uids["followup"], lambda c: c.__setitem__("STATUS", "COMPLETED"))
    sync(run)
    assert len(facts(run, "touch")) == 1

    def reopen(c: Any) -> None:
        c["STATUS"] = "NEEDS-ACTION"

    put_variant(cal, uids["followup"], reopen)
    t = sync(run)
    assert [a["uid"] for a in t["actions"] if a["action"] == "reopened"] == [uids["followup"]]
    (touch,) = facts(run, "touch")
    assert touch["retracted"] is not None and "reopened in phone" in touch["retracted"]["reason"]
    assert "followup" in {i["rule"] for i in run.json("due", *NOW)["agenda"]}


def test_a_completion_with_nothing_left_to_record_is_reported_once(run, home, radicale_calendar):
    """The follow-up was done by a touch recorded by hand before the phone's tick reached
    syncnet: no second touch, and the sync says why, once."""
    cal = radicale_calendar
    uids = setup(home, cal, run)
    record(home, cmd.Touch("Ada", "me", "email", on=date(2026, 11, 20)))
    complete_with_caldav(cal, uids["followup"])
    t = sync(run)
    assert [(a["action"], a["result"]) for a in t["actions"]
            if a["action"] in ("completed", "not-taken-in")] == [
        ("completed", todo_of(cal, uids["followup"])["COMPLETED"].dt.isoformat()),
        ("not-taken-in", "not due now")]  # fmt: skip
    assert t["counts"]["not-taken-in"] == 1
    assert [f["details"]["channel"] for f in facts(run, "touch")] == ["email"]
    assert sync(run)["actions"] == []
    assert todo_of(cal, uids["followup"])["STATUS"] == "COMPLETED"  # still shown as done


def test_the_daemon_takes_in_a_completion_within_seconds(run, home, radicale_calendar):
    import io
    import threading

    from support import wait_for

    from syncnet.app.network import Network
    from syncnet.entrypoints.daemon import Daemon

    cal = radicale_calendar
    uids = setup(home, cal, run)
    box: dict[str, Any] = {}
    started = threading.Event()

    def serve() -> None:
        with Network.open(home, home / "config.toml", today=date.fromisoformat(TODAY)) as net:
            box["daemon"] = Daemon(net, poll=0.05, remote_every=0.3, out=io.StringIO())
            started.set()
            box["code"] = box["daemon"].run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        complete_with_caldav(cal, uids["promise"])  # no fact recorded: only the timer can see it
        wait_for(lambda: len(facts(run, "kept")) == 1, 20, "the completion taken in")
    finally:
        box["daemon"].stop.set()
        thread.join(10)
    assert box["code"] == 0 and "1 completed" in box["daemon"].out.getvalue()


def test_a_completed_item_goes_when_older_than_the_horizon_or_at_once_if_so_configured(
    run, home, radicale_calendar
):
    cal = radicale_calendar
    uids = setup(home, cal, run)
    put_variant(cal, uids["followup"], lambda c: c.__setitem__("STATUS", "COMPLETED"))
    sync(run)  # taken in: a touch on the 20th
    sync(run)  # no longer due: kept on the server, shown as done
    assert str(todo_of(cal, uids["followup"])["STATUS"]) == "COMPLETED"
    # 61 days after its completion it is older than the 60-day horizon: deleted
    t = run.json("sync", "--today", "2027-01-20")["targets"][0]
    assert t["ok"] and uids["followup"] in {a["uid"] for a in t["actions"] if a["action"] == "deleted"}
    assert uids["followup"] not in {str(c["UID"]) for c in read_back(cal)}
    assert len(facts(run, "touch")) == 1

    # completed = "remove": at the first sync after the fact was recorded
    write_config(home, phone=caldav_target(cal.url, style="todo", completed="remove",
                                           completion_channel="phone"))  # fmt: skip
    put_variant(cal, uids["promise"], lambda c: c.__setitem__("STATUS", "COMPLETED"))  # overdue since Dec 5
    later = ("--today", "2027-01-20")
    run.json("sync", *later)
    assert uids["promise"] in {str(c["UID"]) for c in read_back(cal)}  # taken in, not yet gone
    run.json("sync", *later)
    assert uids["promise"] not in {str(c["UID"]) for c in read_back(cal)}
    assert [e["kind"] for e in run.json("history", "Ada", *later)["events"]].count("kept") == 1


def test_the_completion_settings_are_checked(run, home, radicale_calendar):
    init_store(home)
    write_config(home, phone=caldav_target(radicale_calendar.url, completed="sometimes"))
    assert 'completed must be "keep" or "remove"' in run.fails("sync", *NOW)
    write_config(home, phone=caldav_target(radicale_calendar.url, completion_channel="pigeon"))
    assert "completion_channel must be one of" in run.fails("sync", *NOW)


def test_ticked_off_again_after_a_reopening_the_fact_stands_again(run, home, radicale_calendar):
    cal = radicale_calendar
    uids = setup(home, cal, run)
    for status in ("COMPLETED", "NEEDS-ACTION", "COMPLETED"):  # the same dateless completion twice
        put_variant(cal, uids["followup"], lambda c, s=status: c.__setitem__("STATUS", s))
        sync(run)
    (touch,) = facts(run, "touch")
    assert touch["retracted"] is None  # restored: its retraction retracted
    assert "followup" not in {i["rule"] for i in run.json("due", *NOW)["agenda"]}


def test_two_targets_showing_the_same_reminder_ticked_off_on_both_record_one_fact(
    run, home, radicale_server, xandikos_calendar
):
    from caldav_fixtures import make_calendar

    phone, laptop = make_calendar(radicale_server), xandikos_calendar
    init_store(home)
    write_config(home, phone=caldav_target(phone.url, style="todo"),
                 laptop=caldav_target(laptop.url, style="todo"))  # fmt: skip
    record(home, cmd.Meet("Ada Lovelace", on=date(2026, 11, 18)))
    doc = run.json("sync", *NOW)
    assert all(t["ok"] for t in doc["targets"])
    items = agenda_items(run, horizon_end(TODAY, 60), *NOW)
    (followup,) = [uid_for(i["key"]) for i in items.values() if i["rule"] == "followup"]
    complete_with_caldav(phone, followup)
    put_variant(laptop, followup, lambda c: c.__setitem__("STATUS", "COMPLETED"))  # at another moment
    doc = run.json("sync", *NOW)
    completed = [a for t in doc["targets"] for a in t["actions"] if a["action"] == "completed"]
    assert len(completed) == 2  # both seen ...
    assert len(facts(run, "touch")) == 1  # ... one fact: the second reminder was no longer due
    run.json("sync", *NOW)
    assert len(facts(run, "touch")) == 1


def test_the_store_refuses_a_second_fact_for_one_completion_when_the_check_is_raced(
    run, home, radicale_calendar, monkeypatch
):
    """Two daemons, or a crash between the fact and the saved sync state: both sides see
    the completion and find no fact yet; the store's primary key keeps one."""
    import sqlite3

    from syncnet.storage.factlog import FactLog

    cal = radicale_calendar
    uids = setup(home, cal, run)
    complete_with_caldav(cal, uids["followup"])
    with sqlite3.connect(home / "store.db") as db:  # the sync state, as a crash would leave it
        saved = db.execute("SELECT * FROM syncnet_state").fetchall()
    sync(run)
    assert len(facts(run, "touch")) == 1
    with sqlite3.connect(home / "store.db") as db:
        db.execute("DELETE FROM syncnet_state")
        db.executemany(f"INSERT INTO syncnet_state VALUES ({', '.join('?' * len(saved[0]))})", saved)
    monkeypatch.setattr(FactLog, "positions_of_ids", lambda self, prefix: [])  # the check races
    t = sync(run)
    assert [a["uid"] for a in t["actions"] if a["action"] == "completed"] == [uids["followup"]]
    assert len(facts(run, "touch")) == 1


def test_a_client_that_acknowledged_the_alarm_and_added_categories_keeps_them(run, home, xandikos_calendar):
    from icalendar import Alarm

    cal = xandikos_calendar
    uids = setup(home, cal, run)

    def thunderbird_like(c: Any) -> None:
        c["STATUS"] = "COMPLETED"
        c["PERCENT-COMPLETE"] = 100
        c.add("COMPLETED", datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
        c.add("CATEGORIES", ["Networking"])
        for alarm in c.walk("VALARM"):
            alarm["ACKNOWLEDGED"] = "20261120T080000Z"
        if not c.walk("VALARM"):
            extra = Alarm()
            extra.add("ACTION", "DISPLAY")
            extra.add("TRIGGER", timedelta(hours=9))
            extra["ACKNOWLEDGED"] = "20261120T080000Z"
            c.add_component(extra)

    put_variant(cal, uids["followup"], thunderbird_like)
    sync(run)
    (touch,) = facts(run, "touch")
    assert touch["on"] == TODAY
    sync(run)  # the agenda changed: syncnet neither rewrites nor deletes the client's item
    item = todo_of(cal, uids["followup"])
    assert "Networking" in str(item.get("CATEGORIES").to_ical())
    assert all("ACKNOWLEDGED" in a for a in item.walk("VALARM"))


def test_a_planned_meeting_ticked_off_is_the_meeting(run, home, radicale_calendar):
    # touch --next: a reminder of rule "meeting"; ticked off, it is a touch by me dated
    # after the day it was planned, which is that meeting
    cal = radicale_calendar
    init_store(home)
    write_config(home, phone=caldav_target(cal.url, style="todo"))
    record(
        home,
        cmd.Meet("Ada Lovelace", why="role-model", on=date(2026, 11, 1)),
        cmd.Touch("Ada", on=date(2026, 11, 10)),
        cmd.PlanMeeting("Ada", date(2026, 11, 25), on=date(2026, 11, 10)),
    )
    sync(run)
    items = agenda_items(run, horizon_end(TODAY, 60), *NOW)
    (meeting,) = [uid_for(i["key"]) for i in items.values() if i["rule"] == "meeting"]
    assert str(todo_of(cal, meeting)["SUMMARY"]) == "Meet Ada Lovelace as planned (2026-11-25)"
    complete_with_caldav(cal, meeting)
    t = sync(run)
    assert [a["uid"] for a in t["actions"] if a["action"] == "completed"] == [meeting]
    assert [f["details"].get("note") for f in facts(run, "touch")] == [None, "ticked off in phone"]
    assert "meeting" not in {i["rule"] for i in run.json("due", *NOW)["agenda"]}
