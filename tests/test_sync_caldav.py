"""CalDAV sync end to end: the CLI (`syncnet sync`, `status`, `history`) against real
Radicale and Xandikos servers started by tests/caldav_fixtures.py, read back with the
independent `caldav` library.

What is checked: the server holds exactly the agenda through changes, completions and
passing days; the items say who and why, are all-day and carry an alarm; the user's
calendar wins (edits and deletions are kept, foreign items never touched, an empty agenda
refuses to empty a calendar unless forced); request counts stay small; a server without
sync-collection works through a ctag; credentials; failures are one line and leave the
store usable; pushes are recorded as sealed facts; a dry run writes nothing.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from caldav_fixtures import Calendar, make_calendar, read_back, read_back_uids
from icalendar import Calendar as ICalendar
from support import (
    TODAY,
    agenda_items,
    caldav_target,
    horizon_end,
    next_second,
    record,
    write_config,
)
from syncnet_adapters.caldav import CalDAVClient, CalDAVPort

from syncnet.app.network import Network
from syncnet.app.sync import RemoteChanges, TargetState, reconcile
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.domain.reminders import CalendarItem, Stamp, StampedItem, uid_for
from syncnet.storage.store import init_store

T0 = TODAY  # 2026-11-20, autumn (north): the season ends 2026-11-30
HORIZON = 60


# ---------------------------------------------------------------- helpers
def init_with(run: Any, home: Path, **targets: dict[str, Any]) -> None:
    init_store(home)  # what `syncnet init` does (tested in test_cli.py), without a command
    write_config(home, **targets)


def agenda(run: Any, today: str) -> list[dict[str, Any]]:
    """What a calendar should hold on `today`, from `syncnet due --json`: every
    reminder open by today + 60 days and due by then."""
    return list(agenda_items(run, horizon_end(today, HORIZON), "--today", today).values())


def uids(items: list[dict[str, Any]]) -> list[str]:
    return sorted(uid_for(i["key"]) for i in items)


def agenda_uids(run: Any, today: str) -> list[str]:
    return uids(agenda(run, today))


def server_uids(cal: Calendar | str, auth: tuple[str, str] | None = None) -> list[str]:
    """The UIDs on the server; asserts there is no duplicate."""
    uids = read_back_uids(cal, auth)
    assert len(uids) == len(set(uids)), f"duplicate UIDs on the server: {uids}"
    return uids


def assert_holds_agenda(run: Any, cal: Calendar | str, today: str,
                        auth: tuple[str, str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The server holds exactly the agenda's UIDs, each once; returns the agenda."""
    items = agenda(run, today)
    assert server_uids(cal, auth) == uids(items)
    return items


def sync(run: Any, today: str = T0, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`sync --json` on one target, insisting on success; returns that target's document."""
    doc = run.json("sync", "--today", today, *args, env=env)
    assert len(doc["targets"]) == 1, doc
    t = doc["targets"][0]
    assert t["ok"] and t["error"] is None, t
    return t


def uid_of(items: list[dict[str, Any]], rule: str, name: str) -> str:
    found = [i for i in items if i["rule"] == rule and i["contact"]["name"] == name]
    assert len(found) == 1, (rule, name, items)
    return uid_for(found[0]["key"])


def actions(t: dict[str, Any], kind: str) -> set[str]:
    return {a["uid"] for a in t["actions"] if a["action"] == kind}


def href(cal: Calendar, uid: str) -> str:
    """Where syncnet puts an item: <collection>/<uid before the @>.ics."""
    return f"{cal.url}{uid.split('@')[0]}.ics"


def by_uid(cal: Calendar | str, auth: tuple[str, str] | None = None) -> dict[str, Any]:
    return {str(c["UID"]): c for c in read_back(cal, auth)}


def foreign_vtodo(uid: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone else//EN\r\n"
        f"BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261101T090000Z\r\n"
        "SUMMARY:Dentist\r\nDUE;VALUE=DATE:20261125\r\nSTATUS:NEEDS-ACTION\r\n"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    ).encode()


def small_network(home: Path) -> None:
    """Ada met recently (follow-up upcoming) with an open promise; Grace met in spring
    (follow-up overdue, autumn touch missing)."""
    record(
        home,
        cmd.Meet("Ada Lovelace", why="role-model", where="PyCon Berlin", on=date(2026, 11, 18)),
        cmd.Meet("Grace Hopper", channel="conference", on=date(2026, 5, 10)),
        cmd.Promise("Ada", "send the compiler paper", date(2026, 12, 5), on=date(2026, 11, 19)),
    )


def promise_short(items: list[dict[str, Any]]) -> str:
    (p,) = [i for i in items if i["rule"] == "promise"]
    return str(p["promise"]["short"])


# ---------------------------------------------------------------- the server holds the agenda
def test_server_holds_exactly_the_agenda_through_changes_and_days(run, home, any_calendar):
    cal = any_calendar
    init_with(run, home, cal=caldav_target(cal.url))
    small_network(home)

    # first sync: everything created, nothing twice
    t = sync(run)
    items = assert_holds_agenda(run, cal, T0)
    assert sorted((i["rule"], i["contact"]["name"]) for i in items) == [
        ("followup", "Ada Lovelace"), ("followup", "Grace Hopper"), ("promise", "Ada Lovelace"),
        ("season", "Grace Hopper")]  # fmt: skip
    assert actions(t, "created") == set(uids(items))
    assert t["counts"] == {"created": 4, "updated": 0, "deleted": 0, "user-changed": 0, "user-deleted": 0,
                           "completed": 0, "reopened": 0, "not-taken-in": 0}  # fmt: skip

    # a new contact: a new follow-up, nothing else sent
    run.ok("meet", "Linus Torvalds", "--today", T0)
    t = sync(run)
    items = assert_holds_agenda(run, cal, T0)
    linus = uid_of(items, "followup", "Linus Torvalds")
    assert actions(t, "created") == {linus} and len(t["actions"]) == 1

    # done: a touch by me completes Ada's follow-up, a kept promise its reminder
    ada_followup = uid_of(items, "followup", "Ada Lovelace")
    promise = uid_of(items, "promise", "Ada Lovelace")
    autumn = uid_of(items, "season", "Grace Hopper")
    run.ok("touch", "Ada", "--by", "me", "--today", T0)
    run.ok("kept", promise_short(items), "--today", T0)
    t = sync(run)
    assert actions(t, "deleted") == {ada_followup, promise} and len(t["actions"]) == 2
    left = uids(assert_holds_agenda(run, cal, T0))
    assert ada_followup not in left and promise not in left and autumn in left

    # days pass: the autumn touch leaves with its season, spring touches arrive
    later = "2027-04-05"
    t = sync(run, later)
    items = assert_holds_agenda(run, cal, later)
    spring = {uid_of(items, "season", n) for n in ("Ada Lovelace", "Grace Hopper", "Linus Torvalds")}
    assert autumn not in uids(items)
    assert actions(t, "deleted") == {autumn} and actions(t, "created") == spring and len(t["actions"]) == 4

    # nothing changed: no action, the server byte for byte unchanged; the first no-op
    # learns the collection's ctag (2 requests), from then on the ctag alone answers
    before = {u: c.to_ical() for u, c in by_uid(cal).items()}
    t = sync(run, later)
    assert t["actions"] == [] and t["requests"] == 2
    t = sync(run, later)
    assert t["actions"] == [] and t["requests"] == 1
    assert {u: c.to_ical() for u, c in by_uid(cal).items()} == before


# ---------------------------------------------------------------- the items themselves
def test_items_say_who_and_why_are_all_day_with_an_alarm(run, home, radicale_calendar, xandikos_calendar):
    todo_cal, event_cal = radicale_calendar, xandikos_calendar
    init_with(run, home, todos=caldav_target(todo_cal.url, style="todo"),
              events=caldav_target(event_cal.url, style="event", alarms=["PT9H", "-P1D"]))  # fmt: skip
    record(home, cmd.Meet("Ada Lovelace", where="PyCon Berlin", on=date(2026, 11, 18)))
    doc = run.json("sync", "--today", T0)
    assert [t["ok"] for t in doc["targets"]] == [True, True], doc
    uid = uid_of(agenda(run, T0), "followup", "Ada Lovelace")

    todo = by_uid(todo_cal)[uid]
    assert todo.name == "VTODO"
    assert str(todo["SUMMARY"]) == ("Follow up with Ada Lovelace — met at PyCon Berlin on 2026-11-18; "
                                    "plan the next meeting")  # fmt: skip
    assert "syncnet history" in str(todo["DESCRIPTION"])
    due = todo.decoded("DUE")
    assert type(due) is date and due == date(2026, 11, 21)  # a DATE value, not a date-time
    assert todo["DUE"].params.get("VALUE", "DATE") == "DATE" and "TZID" not in todo["DUE"].params
    alarms = [c for c in todo.subcomponents if c.name == "VALARM"]
    assert len(alarms) == 1 and str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0].decoded("TRIGGER") == timedelta(hours=9)

    event = by_uid(event_cal)[uid]
    assert event.name == "VEVENT"
    assert str(event["SUMMARY"]) == str(todo["SUMMARY"])
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert type(start) is date and type(end) is date
    assert start == date(2026, 11, 21) and end == date(2026, 11, 22)
    triggers = sorted(a.decoded("TRIGGER") for a in event.subcomponents if a.name == "VALARM")
    assert triggers == [timedelta(days=-1), timedelta(hours=9)]

    # DTSTAMP and SEQUENCE stay when the item's content does not change, even when
    # other items do and days pass
    stamps = {n: {u: (c.decoded("DTSTAMP"), int(c.get("SEQUENCE", 0))) for u, c in by_uid(cal).items()}
              for n, cal in (("todo", todo_cal), ("event", event_cal))}  # fmt: skip
    next_second()  # a new stamp now would differ
    record(home, cmd.Meet("Grace Hopper", on=date(2026, 11, 19)), today="2026-11-21")
    doc = run.json("sync", "--today", "2026-11-21")
    assert [t["counts"]["created"] for t in doc["targets"]] == [1, 1]
    assert [len(t["actions"]) for t in doc["targets"]] == [1, 1]  # nothing else rewritten
    for n, cal in (("todo", todo_cal), ("event", event_cal)):
        again = {u: (c.decoded("DTSTAMP"), int(c.get("SEQUENCE", 0))) for u, c in by_uid(cal).items()}
        assert again[uid] == stamps[n][uid], n
        assert len(again) == 2


def test_a_changed_reminder_is_updated_in_place_with_a_new_sequence(run, home, radicale_calendar):
    cal = radicale_calendar
    init_with(run, home, cal=caldav_target(cal.url))
    record(home, cmd.Meet("Ada Lovelace", on=date(2026, 11, 18)))
    (created,) = actions(sync(run), "created")
    old = by_uid(cal)[created]
    assert old.decoded("DUE") == date(2026, 11, 21)

    # the same reminder (contact, rule, period) gets a new due date
    write_config(home, rules={"followup_days": 5}, cal=caldav_target(cal.url))
    next_second()
    run.json("status", "--today", T0)  # looking at the items must not bump their sequence
    t = sync(run)
    assert actions(t, "updated") == {created} and len(t["actions"]) == 1
    (item,) = assert_holds_agenda(run, cal, T0)
    assert item["due"] == "2026-11-23"
    new = by_uid(cal)[created]
    assert new.decoded("DUE") == date(2026, 11, 23)
    assert int(new["SEQUENCE"]) == int(old.get("SEQUENCE", 0)) + 1
    assert new.decoded("DTSTAMP") > old.decoded("DTSTAMP")
    assert sync(run)["actions"] == []


# ---------------------------------------------------------------- conflict policy
def edit_on_server(cal: Calendar, uid: str, summary: str) -> None:
    """Another client edits an item: GET, change, PUT with If-Match."""
    r = httpx.get(href(cal, uid), auth=cal.auth, timeout=10)
    r.raise_for_status()
    ical = ICalendar.from_ical(r.content)
    for c in ical.walk():
        if c.name in ("VTODO", "VEVENT"):
            c["SUMMARY"] = summary
    headers = {"If-Match": r.headers["ETag"], "Content-Type": "text/calendar; charset=utf-8"}
    put = httpx.put(href(cal, uid), content=ical.to_ical(), auth=cal.auth, timeout=10, headers=headers)
    assert put.status_code in (201, 204), put.text


def test_the_users_calendar_wins(run, home, any_calendar):
    cal = any_calendar
    init_with(run, home, cal=caldav_target(cal.url))
    small_network(home)
    foreign = "dentist-2026@example.org"
    r = httpx.put(f"{cal.url}dentist.ics", content=foreign_vtodo(foreign), timeout=10,
                  headers={"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"})  # fmt: skip
    assert r.status_code == 201, r.text

    sync(run)
    items = agenda(run, T0)
    ada = uid_of(items, "followup", "Ada Lovelace")
    grace = uid_of(items, "followup", "Grace Hopper")
    assert sorted([foreign, *agenda_uids(run, T0)]) == server_uids(cal)

    # another client edits Ada's follow-up and deletes Grace's
    edit_on_server(cal, ada, "Call Ada on Monday")
    d = httpx.delete(href(cal, grace), timeout=10)
    assert d.status_code in (200, 204)

    t = sync(run)
    assert actions(t, "user-changed") == {ada} and actions(t, "user-deleted") == {grace}
    assert not actions(t, "created") and not actions(t, "updated") and not actions(t, "deleted")
    on_server = by_uid(cal)
    assert str(on_server[ada]["SUMMARY"]) == "Call Ada on Monday"  # not overwritten
    assert grace not in on_server  # not re-created
    assert foreign in on_server

    # once recorded, they stay the user's: later syncs neither report nor touch them
    t = sync(run)
    assert t["actions"] == [] and t["requests"] <= 2
    record(home, cmd.Touch("Ada", "me"))  # Ada's follow-up is done ...
    t = sync(run)
    assert not t["actions"]  # ... but the edited item is the user's now: not deleted
    assert str(by_uid(cal)[ada]["SUMMARY"]) == "Call Ada on Monday"
    assert grace not in by_uid(cal)

    # an agenda the facts leave empty empties syncnet's part of the calendar like any change
    record(home, cmd.Pocket("Ada", False), cmd.Pocket("Grace", False), cmd.Dropped(promise_short(items)))
    assert agenda_uids(run, T0) == []
    t = sync(run, T0)
    assert t["counts"]["deleted"] == 2  # the promise and Grace's autumn touch: all syncnet's items left
    assert server_uids(cal) == sorted([ada, foreign])  # the user's edit and the foreign item stay
    t = sync(run, T0)
    assert t["actions"] == [] and server_uids(cal) == sorted([ada, foreign])


def stamped(key: str, summary: str, due: date) -> StampedItem:
    item = CalendarItem(uid_for(key), key, "promise", "c" * 32, date(2026, 11, 1), due, summary,
                        f"{summary}\nsyncnet history cccccccc")  # fmt: skip
    return StampedItem(item, Stamp(item.content_hash, 0, datetime(2026, 11, 20, 9, tzinfo=UTC)))


@contextmanager
def in_process(
    cal: Calendar,
) -> Iterator[tuple[CalDAVClient, CalDAVPort, StampedItem, StampedItem, TargetState]]:
    """Engine and adapter in this process on `cal`: a client on the collection, its port,
    two promise reminders and an empty sync state."""
    a, b = stamped("k:promise:a", "Send Ada the slides", date(2026, 12, 1)), stamped(
        "k:promise:b", "Send Grace the paper", date(2026, 12, 2))  # fmt: skip
    client = CalDAVClient(cal.url, timeout=10)
    try:
        client.discover(None, False)
        yield client, CalDAVPort(client, "todo", ["PT9H"]), a, b, TargetState()
    finally:
        client.close()


def test_a_refused_sync_token_falls_back_to_a_full_listing(any_calendar):
    """Radicale answers an unknown sync token with 403, Xandikos with 412: both mean
    "list everything again", which must neither duplicate nor lose anything."""
    cal = any_calendar
    with in_process(cal) as (client, port, a, b, state):
        reconcile("t", port, [a, b], state)
        assert state.cursor and state.cursor.startswith("sync:")
        assert httpx.delete(href(cal, b.item.uid), timeout=10).status_code in (200, 204)

        state.cursor = "sync:http://example.invalid/sync/42"
        client.requests = 0
        report = reconcile("t", port, [a, b], state)
        assert [(x.action, x.uid) for x in report.actions] == [("user-deleted", b.item.uid)]
        assert client.requests == 2  # the refused token, then one full listing
        assert state.cursor.startswith("sync:") and state.cursor != "sync:http://example.invalid/sync/42"
        assert server_uids(cal) == [a.item.uid]
        client.requests = 0
        assert reconcile("t", port, [a, b], state).actions == [] and client.requests == 1


def test_a_no_op_check_asks_only_the_ctag_and_still_sees_the_users_changes(any_calendar):
    """With the agenda unchanged (desired None) the port asks the collection's ctag
    first: learned on the first such sync, it is the whole sync while nothing moves,
    and an edit or a deletion by another client moves it (then one listing)."""
    cal = any_calendar
    with in_process(cal) as (client, port, a, b, state):
        reconcile("t", port, [a, b], state)
        assert "\nctag:" not in (state.cursor or "")  # our writes: the ctag is unknown

        client.requests = 0
        assert reconcile("t", port, None, state).actions == [] and client.requests == 2
        assert state.cursor and "\nctag:" in state.cursor and not state.cursor.endswith("\nctag:")
        client.requests = 0
        assert reconcile("t", port, None, state).actions == [] and client.requests == 1

        edit_on_server(cal, a.item.uid, "Slides: by Friday")
        assert httpx.delete(href(cal, b.item.uid), auth=cal.auth, timeout=10).status_code in (200, 204)
        client.requests = 0
        report = reconcile("t", port, None, state)
        assert {(x.action, x.uid) for x in report.actions} == {
            ("user-changed", a.item.uid), ("user-deleted", b.item.uid)}  # fmt: skip
        assert client.requests == 3  # the ctag moved: the changes since the token; the edit read back
        client.requests = 0
        assert reconcile("t", port, None, state).actions == [] and client.requests == 1


def complete_on_server(cal: Calendar, uid: str, when: str) -> None:
    """Another client ticks an item off: GET, COMPLETED and STATUS set, PUT with If-Match."""
    r = httpx.get(href(cal, uid), auth=cal.auth, timeout=10)
    ical = ICalendar.from_ical(r.content)
    for c in ical.walk("VTODO"):
        c["STATUS"] = "COMPLETED"
        c.add("COMPLETED", datetime.fromisoformat(when))
    headers = {"If-Match": r.headers["ETag"], "Content-Type": "text/calendar; charset=utf-8"}
    put = httpx.put(href(cal, uid), content=ical.to_ical(), auth=cal.auth, timeout=10, headers=headers)
    assert put.status_code in (201, 204), put.text


@pytest.mark.parametrize("batch", [200, 4])
def test_items_ticked_off_elsewhere_are_read_back_in_one_multiget(any_calendar, monkeypatch, batch):
    """Ten of thirty items completed by another client: the changes since the token, then
    one calendar-multiget (one per batch of items) reads them back, each with its own
    completion and ETag; nothing is fetched one by one."""
    import syncnet_adapters.caldav as caldav

    monkeypatch.setattr(caldav, "MULTIGET_BATCH", batch)
    cal = any_calendar
    items = [stamped(f"k{n:02}:promise:p", f"Send the paper, take {n}", date(2026, 12, 1) + timedelta(days=n))
             for n in range(30)]  # fmt: skip
    with in_process(cal) as (client, port, _, _, state):
        reconcile("t", port, items, state)
        reconcile("t", port, None, state)  # learns the ctag
        ticked = {s.item.uid: f"2026-11-{10 + n:02}T08:30:00+00:00" for n, s in enumerate(items[::3])}
        for uid, when in ticked.items():
            complete_on_server(cal, uid, when)
        client.requests = 0
        report = reconcile("t", port, None, state)
        assert {(a.uid, a.result) for a in report.actions if a.action == "completed"} == set(ticked.items())
        assert client.requests == 2 + -(-len(ticked) // batch)  # the ctag, the changes, the multigets
        etags = {uid: httpx.get(href(cal, uid), auth=cal.auth, timeout=10).headers["ETag"] for uid in ticked}
        assert {uid: state.items[uid].etag for uid in ticked} == etags
        client.requests = 0
        assert reconcile("t", port, None, state).actions == [] and client.requests == 1


def test_without_multiget_items_are_read_back_one_by_one(radicale_calendar, monkeypatch):
    cal = radicale_calendar
    with in_process(cal) as (client, port, a, b, state):
        reconcile("t", port, [a, b], state)
        complete_on_server(cal, a.item.uid, "2026-11-19T10:00:00+00:00")
        edit_on_server(cal, b.item.uid, "Paper: ask Grace first")
        monkeypatch.setattr(client, "request", refusing_multiget(client))
        client.requests = 0
        report = reconcile("t", port, [a, b], state)
        assert {(x.action, x.uid, x.result) for x in report.actions} == {
            ("user-changed", a.item.uid, "kept the server's version"),
            ("completed", a.item.uid, "2026-11-19T10:00:00+00:00"),
            ("user-changed", b.item.uid, "kept the server's version")}  # fmt: skip
        assert client.requests == 4  # the changes, the multiget refused, two GETs


def refusing_multiget(client: CalDAVClient) -> Any:
    """A server that answers calendar-multiget with 501, as one without it would."""
    request = client.request

    def send(method: str, url: str, **kw: Any) -> httpx.Response:
        if method == "REPORT" and "calendar-multiget" in str(kw.get("body")):
            client.requests += 1
            return httpx.Response(501, request=httpx.Request(method, url))
        return request(method, url, **kw)

    return send


class EditLandsAfterTheListing(CalDAVPort):
    """The other client's edit arrives between syncnet's listing and its writes."""

    def changes_since(self, cursor: str | None, *, likely_unchanged: bool = False) -> RemoteChanges:
        return RemoteChanges(cursor=cursor)


def test_an_edit_racing_a_write_is_kept(radicale_calendar):
    """Engine and adapter in process: a conditional PUT or DELETE that meets the user's
    edit (HTTP 412) leaves the user's version and reports user-changed."""
    cal = radicale_calendar
    with in_process(cal) as (client, port, a, b, state):
        assert reconcile("t", port, [a, b], state).count("created") == 2
        edit_on_server(cal, a.item.uid, "Slides: by Friday")
        edit_on_server(cal, b.item.uid, "Paper: ask Grace first")

        changed_a = stamped("k:promise:a", "Send Ada the slides and the notes", date(2026, 12, 1))
        blind = EditLandsAfterTheListing(client, "todo", ["PT9H"])
        report = reconcile("t", blind, [changed_a], state)  # wants to update a and delete b
        assert {(x.action, x.uid) for x in report.actions} == {
            ("user-changed", a.item.uid), ("user-changed", b.item.uid)}  # fmt: skip
        assert {u: s.status for u, s in state.items.items()} == {
            a.item.uid: "user-changed", b.item.uid: "user-changed"}  # fmt: skip
        on_server = by_uid(cal)
        assert str(on_server[a.item.uid]["SUMMARY"]) == "Slides: by Friday"
        assert str(on_server[b.item.uid]["SUMMARY"]) == "Paper: ask Grace first"

        # the next real sync sees the edits as already known: nothing to report, nothing written
        client.requests = 0
        report = reconcile("t", port, [changed_a], state)
        assert report.actions == [] and client.requests == 1
        assert str(by_uid(cal)[a.item.uid]["SUMMARY"]) == "Slides: by Friday"


def test_force_never_deletes_items_syncnet_did_not_create(run, home, radicale_calendar):
    cal = radicale_calendar
    init_with(run, home, cal=caldav_target(cal.url))
    foreign = "team-offsite@example.org"
    r = httpx.put(f"{cal.url}offsite.ics", content=foreign_vtodo(foreign), timeout=10,
                  headers={"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"})  # fmt: skip
    assert r.status_code == 201
    # an empty agenda from the start, synced plainly and forced: the foreign item stays
    t = sync(run)
    assert t["actions"] == []
    t = sync(run, T0, "--force")
    assert t["actions"] == []
    assert server_uids(cal) == [foreign]
    # with its state lost, syncnet adopts its own items by their href (no duplicate) and
    # still leaves the foreign one alone
    record(home, cmd.Meet("Ada Lovelace"))
    (ada,) = actions(sync(run), "created")
    with Network.open(home) as net:
        net.state.put("target:cal", "state", {})
    t = sync(run)
    assert not actions(t, "created") and not actions(t, "deleted")
    assert server_uids(cal) == sorted([ada, foreign])
    record(home, cmd.Pocket("Ada", False))
    t = sync(run, T0, "--force")
    assert actions(t, "deleted") == {ada} and len(t["actions"]) == 1
    assert server_uids(cal) == [foreign]


def test_a_target_pointed_at_another_calendar_syncs_there(run, home, radicale_calendar, radicale_server):
    """Changing a target's url starts afresh on the new calendar (the state of the old
    one, its collection URL included, is not reused) and leaves the old one alone."""
    old = radicale_calendar
    init_with(run, home, cal=caldav_target(old.url))
    record(home, cmd.Meet("Ada Lovelace"))
    sync(run)
    before = server_uids(old)
    new = make_calendar(radicale_server)
    write_config(home, cal=caldav_target(new.url))
    record(home, cmd.Meet("Grace Hopper"))
    t = sync(run)
    assert t["counts"]["created"] == 2
    assert_holds_agenda(run, new, T0)
    assert server_uids(old) == before
    assert sync(run)["actions"] == []


# ---------------------------------------------------------------- request counts
def test_requests_grow_with_changes_not_with_the_calendar(run, home, radicale_calendar):
    cal = radicale_calendar
    init_with(run, home, cal=caldav_target(cal.url))
    names = [f"Contact {i:02d}" for i in range(30)]
    record(home, *[cmd.Meet(n, on=date(2026, 11, 10)) for n in names])
    t = sync(run)
    assert t["counts"]["created"] == 30
    assert_holds_agenda(run, cal, T0)

    t = sync(run)
    assert t["actions"] == [] and t["requests"] == 2  # a no-op, learning the ctag
    t = sync(run)
    assert t["actions"] == [] and t["requests"] == 1  # the ctag did not move

    record(home, *[cmd.Touch(n, "me", on=date(2026, 11, 19)) for n in names[:10]])
    t = sync(run)
    assert t["counts"]["deleted"] == 10 and len(t["actions"]) == 10
    assert t["requests"] <= 12, t["requests"]
    assert len(assert_holds_agenda(run, cal, T0)) == 20


# ---------------------------------------------------------------- servers without sync-collection
def test_without_sync_collection_a_ctag_keeps_the_no_op_cheap(run, home, radicale_calendar, no_sync_proxy):
    proxy = no_sync_proxy
    init_with(run, home, cal=caldav_target(proxy.url_for(radicale_calendar.url)))
    small_network(home)

    t = sync(run)
    assert proxy.refused, "sync-collection was never tried"
    assert all(m == "REPORT" for m, _ in proxy.refused)
    assert t["counts"]["created"] == 4
    assert_holds_agenda(run, radicale_calendar, T0)

    record(home, cmd.Meet("Linus Torvalds"), cmd.Touch("Ada", "me"))
    t = sync(run)
    assert t["counts"]["created"] == 1 and t["counts"]["deleted"] == 1
    assert_holds_agenda(run, radicale_calendar, T0)

    proxy.reset()
    t = sync(run)
    assert t["actions"] == [] and t["requests"] <= 2 and proxy.count() <= 2
    assert t["requests"] == proxy.count()
    assert proxy.count("PROPFIND") == 1  # the ctag did not move: no listing
    assert proxy.count("PUT") == proxy.count("DELETE") == 0
    assert_holds_agenda(run, radicale_calendar, T0)

    # a deletion by another client is still noticed (the ctag moved: one listing)
    grace = uid_of(agenda(run, T0), "followup", "Grace Hopper")
    assert httpx.delete(href(radicale_calendar, grace), timeout=10).status_code in (200, 204)
    t = sync(run)
    assert actions(t, "user-deleted") == {grace} and not actions(t, "created")


def test_without_a_ctag_a_no_op_is_the_sync_collection_report_alone(
    run, home, radicale_server, radicale_calendar
):
    from caldav_fixtures import NoSyncProxy

    with NoSyncProxy(radicale_server, refuse_sync=False, strip_ctag=True) as proxy:
        init_with(run, home, cal=caldav_target(proxy.url_for(radicale_calendar.url)))
        small_network(home)
        assert sync(run)["counts"]["created"] == 4

        proxy.reset()
        t = sync(run)  # the first no-op asks for the ctag, finds none, lists the changes
        assert t["actions"] == [] and t["requests"] == proxy.count() == 2
        assert proxy.count("PROPFIND") == proxy.count("REPORT") == 1 and proxy.stripped >= 1

        proxy.reset()
        t = sync(run)  # remembered: no ctag to ask for, the REPORT alone
        assert t["actions"] == [] and t["requests"] == proxy.count("REPORT") == proxy.count() == 1

        # the one REPORT still sees another client's deletion
        grace = uid_of(agenda(run, T0), "followup", "Grace Hopper")
        assert httpx.delete(href(radicale_calendar, grace), timeout=10).status_code in (200, 204)
        t = sync(run)
        assert actions(t, "user-deleted") == {grace} and not actions(t, "created")
        assert proxy.count("PUT") == proxy.count("DELETE") == 0


# ---------------------------------------------------------------- credentials
def test_password_from_the_environment_or_a_command(run, home, radicale_auth_calendar):
    cal = radicale_auth_calendar
    init_with(run, home, cal=caldav_target(cal.url, user="alice"))
    record(home, cmd.Meet("Ada Lovelace"))
    sync(run, env={"SYNCNET_CAL_PASSWORD": "s3cret"})
    assert_holds_agenda(run, cal, T0, cal.auth)

    # a password command (run without a shell), and discovery: the server's root URL,
    # the user's calendar home, a calendar created there by name
    server = cal.server
    write_config(home, cal=caldav_target(server.base_url + "/", user="alice", password_cmd="echo s3cret",
                                         calendar="syncnet-found", create=True))  # fmt: skip
    record(home, cmd.Meet("Grace Hopper"))
    t = sync(run)
    assert t["counts"]["created"] == 2  # another calendar: everything goes there
    assert_holds_agenda(run, f"{server.home_url}syncnet-found/", T0, cal.auth)
    assert len(server_uids(cal)) == 1  # the first calendar is left as it was
    assert sync(run)["requests"] <= 2  # the discovered collection is remembered
    assert sync(run)["requests"] == 1


def test_a_wrong_password_fails_in_one_line_without_the_password(run, home, radicale_auth_calendar):
    cal = radicale_auth_calendar
    init_with(run, home, cal=caldav_target(cal.url, user="alice"))
    record(home, cmd.Meet("Ada Lovelace"))
    wrong = "hunter2-not-the-password"
    proc = run("sync", "--today", T0, env={"SYNCNET_CAL_PASSWORD": wrong})
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("syncnet: error: target cal"), proc.stderr
    basic = base64.b64encode(f"alice:{wrong}".encode()).decode()
    for secret in (wrong, basic, basic[:16]):
        assert secret not in proc.stderr and secret not in proc.stdout
    assert "401" in lines[0] or "password" in lines[0]
    assert read_back_uids(cal) == []
    (row,) = run.json("status", "--today", T0)["targets"]
    assert row["failures"] == 1 and wrong not in json.dumps(row)

    # a password command that fails: exit 2, and its output never shown
    write_config(home, cal=caldav_target(cal.url, user="alice", password_cmd=f"sh -c 'echo {wrong}; exit 3'"))
    line = run.fails("sync", "--today", T0)
    assert "password_cmd" in line and wrong not in line


def test_a_user_without_a_password_is_bad_input(run, home, radicale_auth_calendar):
    init_with(run, home, cal=caldav_target(radicale_auth_calendar.url, user="alice"))
    record(home, cmd.Meet("Ada Lovelace"))
    line = run.fails("sync", "--today", T0)
    assert "alice" in line and "SYNCNET_CAL_PASSWORD" in line
    assert read_back_uids(radicale_auth_calendar) == []


# ---------------------------------------------------------------- failures
class _Bad(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 0.0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.delay:
            time.sleep(self.delay)
        body = b"internal error"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def bad_servers() -> Iterator[tuple[str, str]]:
    """(url of a server answering 500 to everything, url of one answering after 3 s)."""
    slow_handler = type("Slow", (_Bad,), {"delay": 3.0})
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), h) for h in (_Bad, slow_handler)]
    threads = []
    for s in servers:
        s.daemon_threads = True
        th = threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True)
        th.start()
        threads.append(th)
    try:
        yield tuple(f"http://127.0.0.1:{s.server_address[1]}/cal/" for s in servers)  # type: ignore[misc]
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def test_failing_targets_fail_alone_in_one_line_each(run, home, tmp_path, bad_servers, radicale_calendar):
    broken, slow = bad_servers
    ics = tmp_path / "out" / "reminders.ics"
    targets = {
        "broken": caldav_target(broken),
        "slow": caldav_target(slow, timeout=1),
        "file": {"type": "ics", "path": str(ics)},
    }
    init_with(run, home, **targets)
    small_network(home)

    started = time.monotonic()
    proc = run("sync", "--today", T0)
    assert time.monotonic() - started < 10  # the timeout held
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith("syncnet: error: target broken") and "500" in lines[0]
    assert lines[1].startswith("syncnet: error: target slow") and "timed out after 1 s" in lines[1]
    assert "file" in proc.stdout  # the ics target reported its sync
    # the other target synced all the same
    body = ICalendar.from_ical(ics.read_bytes())
    assert sorted(str(c["UID"]) for c in body.walk("VEVENT")) == agenda_uids(run, T0)

    rows = {r["target"]: r for r in run.json("status", "--today", T0)["targets"]}
    for name in ("broken", "slow"):
        assert rows[name]["failures"] == 1 and rows[name]["last_error"].startswith(f"target {name}")
        assert rows[name]["last_success"] is None and rows[name]["pending"]["create"] == 4
    assert rows["file"]["failures"] == 0 and rows["file"]["last_success"]
    assert rows["file"]["last_error"] is None

    doc = json.loads(run("sync", "--today", T0, "--json").stdout)
    assert [t["ok"] for t in doc["targets"]] == [False, False, True]
    rows = {r["target"]: r for r in run.json("status", "--today", T0)["targets"]}
    assert rows["broken"]["failures"] == 2 and rows["slow"]["failures"] == 2

    # nothing half-written: the store still works, and a good server gets everything
    record(home, cmd.Meet("Linus Torvalds"))
    targets["broken"] = caldav_target(radicale_calendar.url)
    del targets["slow"]
    write_config(home, **targets)
    doc = run.json("sync", "--today", T0)
    assert [t["ok"] for t in doc["targets"]] == [True, True]
    assert doc["targets"][0]["counts"]["created"] == 5
    assert_holds_agenda(run, radicale_calendar, T0)
    rows = {r["target"]: r for r in run.json("status", "--today", T0)["targets"]}
    assert rows["broken"]["failures"] == 0 and rows["broken"]["last_success"]
    assert rows["broken"]["pending"] == {"create": 0, "update": 0, "delete": 0}


# ---------------------------------------------------------------- records of pushes
def test_pushes_are_recorded_as_sealed_facts(run, home, radicale_calendar):
    init_with(run, home, cal=caldav_target(radicale_calendar.url))
    run.ok("meet", "Zebulon Quixote", "--where", "Xylophone Summit", "--today", T0)
    record(home, cmd.Meet("Grace Hopper"))  # keeps the agenda from going empty below
    t = sync(run)
    (uid,) = [a["uid"] for a in t["actions"] if a["summary"].startswith("Follow up with Zebulon")]

    events = run.json("history", "Zebulon", "--today", T0)["events"]
    pushed = [e for e in events if e["kind"] == "pushed"]
    assert len(pushed) == 1
    d = pushed[0]["details"]
    assert d["target"] == "cal" and d["action"] == "created" and d["result"] == "ok"
    assert d["summary"].startswith("Follow up with Zebulon Quixote")

    record(home, cmd.Touch("Zebulon", "me"))
    t = sync(run)
    assert actions(t, "deleted") == {uid}
    pushed = [e for e in run.json("history", "Zebulon", "--today", T0)["events"] if e["kind"] == "pushed"]
    assert sorted(e["details"]["action"] for e in pushed) == ["created", "deleted"]
    assert {e["details"]["target"] for e in pushed} == {"cal"}

    # recording pushes did not make more work: the next sync is a no-op
    t = sync(run)
    assert t["actions"] == [] and t["requests"] <= 2

    # in the log, each record's summary is sealed with the contact's own data key
    contact_id = run.json("history", "Zebulon", "--today", T0)["contact"]["id"]
    with Network.open(home) as net:
        log = net.store.log
        # one record per sync that changed something (none for the no-op), not one per item
        syncs = [e for _, e in log.after(0, 1000) if isinstance(e, ev.PUSH_RECORDS)]
        assert [type(e) for e in syncs] == [ev.TargetSynced, ev.TargetSynced]
        records = [p for e in syncs if isinstance(e, ev.TargetSynced) for p in e.pushes()]
        mine = [e for e in records if e.contact_id == UUID(contact_id)]
        assert len(mine) == 2 and len(records) == 3  # Zebulon created + deleted, Grace created
        assert all(e.summary is None or isinstance(e.summary, ev.Sealed) for e in records)
        (created,) = [e for e in mine if e.action == "created"]
        assert isinstance(created.summary, ev.Sealed) and created.summary.key_id == UUID(contact_id)
        assert net.store.keyring.unseal(created.summary).startswith("Follow up with Zebulon")

    raw = b"".join(p.read_bytes() for p in home.iterdir() if p.name.startswith("store.db"))
    for secret in ("Zebulon", "Quixote", "Xylophone"):
        assert secret.encode() not in raw and secret.encode("utf-16-le") not in raw, secret


# ---------------------------------------------------------------- dry run
def test_dry_run_lists_creates_and_writes_nothing(run, home, radicale_calendar):
    init_with(run, home, cal=caldav_target(radicale_calendar.url))
    small_network(home)
    doc = run.json("sync", "--dry-run", "--today", T0)
    assert doc["dry_run"] is True
    (t,) = doc["targets"]
    assert t["ok"] and actions(t, "created") == set(agenda_uids(run, T0)) and t["counts"]["created"] == 4
    assert all(a["summary"] for a in t["actions"])
    assert read_back_uids(radicale_calendar) == []
    text = run.ok("sync", "--dry-run", "--today", T0).stdout
    assert "would change: 4 created" in text
    assert read_back_uids(radicale_calendar) == []
    events = run.json("history", "Grace", "--today", T0)["events"]
    assert not [e for e in events if e["kind"] == "pushed"]
    (row,) = run.json("status", "--today", T0)["targets"]
    assert row["last_attempt"] is None and row["pending"]["create"] == 4

    # the real sync afterwards still creates everything
    t = sync(run)
    assert t["counts"]["created"] == 4
    assert_holds_agenda(run, radicale_calendar, T0)
    t = run.json("sync", "--dry-run", "--today", T0)["targets"][0]
    assert t["actions"] == []


def test_a_bearer_token_authenticates_and_a_wrong_one_is_refused(
    run, home, radicale_server, radicale_calendar
):
    """A gateway in front of Radicale accepts only a bearer token: syncnet sends it from
    SYNCNET_<TARGET>_TOKEN (or token_cmd), never from the config."""
    from caldav_fixtures import NoSyncProxy, read_back_uids

    with NoSyncProxy(radicale_server, refuse_sync=False, bearer="t0ken-123") as gateway:
        run.ok("init")
        run.ok("meet", "Ada Lovelace", "--on", "2026-11-20", "--today", "2026-11-20")
        (home / "config.toml").write_text(
            f'[targets.gw]\ntype = "caldav"\nurl = "{gateway.url_for(radicale_calendar.url)}"\n'
        )
        bad = run("sync", "--today", "2026-11-20", env={"SYNCNET_GW_TOKEN": "wrong"})
        assert bad.returncode == 1
        assert len(bad.stderr.strip().splitlines()) == 1 and "401" in bad.stderr
        assert "wrong" not in bad.stderr
        assert read_back_uids(radicale_calendar) == []
        done = run.json("sync", "--today", "2026-11-20", env={"SYNCNET_GW_TOKEN": "t0ken-123"})
        assert done["targets"][0]["ok"] and done["targets"][0]["counts"]["created"] == 1
        assert len(read_back_uids(radicale_calendar)) == 1
        (home / "config.toml").write_text(
            f'[targets.gw]\ntype = "caldav"\nurl = "{gateway.url_for(radicale_calendar.url)}"\n'
            'token_cmd = "echo t0ken-123"\n'
        )
        again = run.json("sync", "--today", "2026-11-20")
        assert again["targets"][0]["ok"] and again["targets"][0]["requests"] <= 2
