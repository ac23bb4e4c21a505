"""A forgotten contact leaves every calendar (issue 14: "the copies syncnet pushed out are
removed too"): at the next sync every item of theirs leaves the CalDAV calendar, the
ones the user edited or ticked off on the server too (an erasure outranks "your
calendar wins", docs/sync.md), an item the user deleted leaves the sync state, the
sync state and the register of stamps keep nothing of theirs, the report says
`deleted` with the result `forgotten`, and the other contacts' items are not touched.
The calendar file and the feed no longer hold the name either.

On real Radicale and Xandikos, read back with the `caldav` library (the raw iCalendar
text of every item); the crash and race cases of the engine on the in-memory calendar.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from caldav_fixtures import Calendar
from memory_calendar import USER, MemoryCalendar, MemoryPort, stamped
from support import (
    TODAY,
    Runner,
    T,
    agenda_items,
    caldav_target,
    horizon_end,
    ics_target,
    record,
    write_config,
)

from syncnet.app.network import Network
from syncnet.app.sync import FORGOTTEN, OURS, USER_CHANGED, USER_DELETED, TargetState, reconcile
from syncnet.domain import commands as cmd
from syncnet.errors import TargetDown
from syncnet.storage.store import init_store

# What must not be left anywhere once Ada is forgotten (case-sensitive: "ada" alone is
# a run of hex digits, and UIDs are hex).
HERS = ("Ada Lovelace", "Lovelace", "Ada ", "Bernoulli", "lathe")


# ---------------------------------------------------------------- the caldav library
@contextmanager
def dav(cal: Calendar) -> Iterator[Any]:
    from caldav.davclient import DAVClient

    user, password = cal.auth if cal.auth else (None, None)
    with DAVClient(url=cal.url, username=user, password=password, require_tls=False,
                   enable_rfc6764=False, timeout=30) as client:  # fmt: skip
        yield cast(Any, client).calendar(url=cal.url)


def objects(calendar: Any) -> list[Any]:
    return [*calendar.events(), *calendar.todos(include_completed=True)]


def raw_items(cal: Calendar) -> dict[str, str]:
    """UID -> the raw iCalendar text of each item the server holds."""
    with dav(cal) as calendar:
        found = {str(o.icalendar_component["UID"]): str(o.data) for o in objects(calendar)}
    return found


def on_server(cal: Calendar, uid: str, change: str) -> None:
    """What the user does on a phone: edit the text, tick it off, or delete it."""
    with dav(cal) as calendar:
        (obj,) = [o for o in objects(calendar) if str(o.icalendar_component["UID"]) == uid]
        if change == "edit":
            todo = obj.icalendar_component
            todo["SUMMARY"] = "Call Ada Lovelace about the lathe"
            todo["DESCRIPTION"] = "Ada Lovelace: bring the Bernoulli notes, and ask about the lathe"
            obj.save()
        elif change == "complete":
            obj.complete()
        else:
            obj.delete()


def holding_hers(items: dict[str, str]) -> dict[str, list[str]]:
    found = {uid: [s for s in HERS if s in text] for uid, text in items.items()}
    return {uid: hers for uid, hers in found.items() if hers}


# ---------------------------------------------------------------- the store
def sync(run: Runner, *args: str) -> dict[str, Any]:
    (t,) = run.json("sync", *args, *T)["targets"]
    assert t["ok"], t
    return dict(t)


def target_state(home: Path, name: str = "phone") -> TargetState:
    with Network.open(home, today=date.fromisoformat(TODAY)) as net:
        return TargetState.from_json(net.state.get(f"target:{name}", "state"))


def stamped_uids(home: Path) -> set[str]:
    with Network.open(home, today=date.fromisoformat(TODAY)) as net:
        return set(net.state.get("stamps", "all") or {})


def contact_id(run: Runner, name: str, *args: str) -> str:
    return str(run.json("history", name, *args)["contact"]["id"])


def test_every_item_of_a_forgotten_contact_leaves_the_caldav_calendar_edited_or_ticked_off_too(
    run: Runner, home: Path, any_calendar: Calendar
) -> None:
    cal = any_calendar
    init_store(home)
    write_config(home, phone=caldav_target(cal.url, style="todo"))
    record(home,
           cmd.Meet("Ada Lovelace", why="role-model", on=date(2026, 11, 18)),
           cmd.Promise("Ada", "send the Bernoulli notes", date(2026, 12, 5), on=date(2026, 11, 19)),
           cmd.Promise("Ada", "lend Ada the lathe", date(2026, 12, 8), on=date(2026, 11, 19)),
           cmd.Meet("Grace Hopper", why="complement", on=date(2026, 11, 17)),
           cmd.Promise("Grace", "review the paper", date(2026, 12, 10), on=date(2026, 11, 19)))  # fmt: skip
    ada, grace = contact_id(run, "Ada", *T), contact_id(run, "Grace", *T)
    items = agenda_items(run, horizon_end(TODAY), *T)
    by_whom: dict[str, list[str]] = {}
    for uid, i in items.items():
        by_whom.setdefault(i["contact"]["id"], []).append(uid)
    assert sync(run)["counts"]["created"] == 5
    followup, notes, lathe = (next(u for u in by_whom[ada] if what in items[u]["summary"])
                              for what in ("Follow up", "Bernoulli", "lathe"))  # fmt: skip

    # On the phone: her follow-up edited, one promise ticked off, the other deleted.
    on_server(cal, followup, "edit")
    on_server(cal, notes, "complete")
    on_server(cal, lathe, "delete")
    seen = {(a["action"], a["uid"]) for a in sync(run)["actions"]}
    assert {(USER_CHANGED, followup), ("completed", notes), (USER_DELETED, lathe)} <= seen
    assert sync(run)["actions"] == []  # the user's calendar wins: her items stay as the user left them
    assert "Call Ada Lovelace about the lathe" in raw_items(cal)[followup]
    held = target_state(home).items
    assert {u: held[u].status for u in (followup, notes, lathe)} == {
        followup: USER_CHANGED, notes: USER_CHANGED, lathe: USER_DELETED}  # fmt: skip
    assert held[notes].completed is not None
    grace_before = {u: t for u, t in raw_items(cal).items() if u in by_whom[grace]}
    assert len(grace_before) == 2

    run.ok("forget", "Ada", "--yes")

    # A dry run says what the sync will do, and does nothing.
    dry = sync(run, "--dry-run")
    assert sorted((a["action"], a["uid"], a["result"]) for a in dry["actions"]) == sorted(
        [("deleted", followup, FORGOTTEN), ("deleted", notes, FORGOTTEN)])  # fmt: skip
    text = run.ok("sync", "--dry-run", *T).stdout
    assert text.count("(forgotten)") == 2 and "2 deleted" in text, text
    assert set(raw_items(cal)) == {followup, notes, *by_whom[grace]}

    t = sync(run)
    assert sorted((a["action"], a["uid"], a["result"]) for a in t["actions"]) == sorted(
        [("deleted", followup, FORGOTTEN), ("deleted", notes, FORGOTTEN)]), t["actions"]  # fmt: skip
    assert t["counts"]["deleted"] == 2 and t["counts"][USER_CHANGED] == 0

    # The server: nothing of hers, in any item's text; Grace's items as they were.
    after = raw_items(cal)
    assert holding_hers(after) == {}
    assert set(after) == set(by_whom[grace])
    assert after == grace_before

    # The state: no item of hers (the one the user deleted included), no stamp of hers.
    state = target_state(home)
    assert [u for u, s in state.items.items() if s.contact_id == ada or u in by_whom[ada]] == []
    assert set(by_whom[ada]).isdisjoint(stamped_uids(home))
    assert not any(s in json.dumps(state.to_json()) for s in HERS)

    # Done for good: the agenda is known to be the one written, so the next syncs take
    # the shortcut (the first learns the ctag), then cost one request.
    assert state.agenda_key is not None
    assert [(t["actions"], t["requests"]) for t in (sync(run), sync(run))] == [([], 2), ([], 1)]
    assert raw_items(cal) == grace_before


def test_the_calendar_file_and_the_feed_no_longer_hold_the_name(
    run: Runner, home: Path, tmp_path: Path
) -> None:
    # `serve` reads the real today: the facts are dated from it.
    today = date.today()
    ics = tmp_path / "reminders.ics"
    init_store(home)
    write_config(home, file=ics_target(ics))
    record(home,
           cmd.Meet("Ada Lovelace", why="role-model", on=today - timedelta(days=1)),
           cmd.Promise("Ada", "send the Bernoulli notes", today + timedelta(days=5), on=today),
           cmd.Meet("Grace Hopper", why="complement", on=today - timedelta(days=1)),
           today=today)  # fmt: skip
    run.ok("sync")
    assert "Ada Lovelace" in ics.read_text() and "Grace Hopper" in ics.read_text()
    run.serve()
    url = run.ok("feed", "url").stdout.strip()
    feed = httpx.get(url, timeout=10)
    assert feed.status_code == 200 and "Ada Lovelace" in feed.text and "Bernoulli" in feed.text

    run.ok("forget", "Ada", "--yes")
    (t,) = run.json("sync")["targets"]
    assert sorted((a["action"], a["result"]) for a in t["actions"]) == [("deleted", FORGOTTEN)] * 2
    for where, body in (("file", ics.read_text()), ("feed", httpx.get(url, timeout=10).text)):
        assert [s for s in HERS if s in body] == [], where
        assert "Grace Hopper" in body, where


# ---------------------------------------------------------------- the engine: crashes and races
ADA_ID = "c-ada"
HER = stamped("c-ada:followup:2026-11-18", "Follow up with Ada Lovelace", date(2026, 11, 21),
              contact_id=ADA_ID)  # fmt: skip
OTHER = stamped("c-grace:promise:p", "Review Grace's paper", date(2026, 12, 1), contact_id="c-grace")


class RacingPort(MemoryPort):
    """The user edits the item again just before each of the next `races` deletes."""

    def __init__(self, calendar: MemoryCalendar, races: int) -> None:
        super().__init__(calendar)
        self.races = races

    def delete(self, href: str, etag: str | None) -> None:
        if self.races:
            self.races -= 1
            self.calendar.user_edit(href, "Ada Lovelace, moved again")
        super().delete(href, etag)


def synced(port: MemoryPort, *, edited: bool) -> TargetState:
    """Both items written, and hers edited by the user (seen by a sync) when `edited`."""
    state = TargetState()
    reconcile("phone", port, [HER, OTHER], state)
    if edited:
        port.calendar.user_edit(port.href_for(HER.item.uid), "Call Ada Lovelace")
        reconcile("phone", port, [HER, OTHER], state)
        assert state.items[HER.item.uid].status == USER_CHANGED
    return state


@pytest.mark.parametrize("lost", [True, False], ids=["answer-lost", "never-arrived"])
def test_an_erasure_cut_short_is_recorded_first_and_finished_by_the_next_sync(lost: bool) -> None:
    cal = MemoryCalendar()
    port = MemoryPort(cal)
    state = synced(port, edited=True)
    saved: list[dict[str, Any]] = []
    cal.fail(1, lost_response=lost)  # the listing passes, the DELETE fails
    with pytest.raises(TargetDown):
        reconcile("phone", port, [OTHER], state, erased={ADA_ID}, save=lambda s: saved.append(s.to_json()))
    # intent before effect: the delete was durable before it was sent
    assert saved and saved[0]["items"][HER.item.uid]["pending"] == "delete"
    assert (port.href_for(HER.item.uid) in cal.entries) is not lost
    state = TargetState.from_json(saved[-1])  # killed: what was saved is all there is
    report = reconcile("phone", port, [OTHER], state, erased={ADA_ID})
    assert [(a.action, a.uid, a.result) for a in report.actions] == [("deleted", HER.item.uid, FORGOTTEN)]
    assert [e.uid for e in cal.entries.values()] == [OTHER.item.uid] and list(state.items) == [OTHER.item.uid]


@pytest.mark.parametrize("edited", [True, False], ids=["user-changed", "ours"])
def test_an_edit_racing_the_erasure_goes_too_and_one_racing_twice_at_the_next_sync(edited: bool) -> None:
    cal = MemoryCalendar()
    state = synced(MemoryPort(cal), edited=edited)
    assert state.items[HER.item.uid].status == (USER_CHANGED if edited else OURS)
    port = RacingPort(cal, races=1)  # edited again between the listing and the DELETE: 412
    report = reconcile("phone", port, [OTHER], state, erased={ADA_ID})
    assert [(a.action, a.result) for a in report.actions] == [("deleted", FORGOTTEN)]
    assert HER.item.uid not in state.items and port.href_for(HER.item.uid) not in cal.entries

    cal = MemoryCalendar()
    state = synced(MemoryPort(cal), edited=edited)
    # and again after each read-back (ours: one 412 more, the first one tells it is the user's)
    port = RacingPort(cal, races=2 if edited else 3)  # left for the next sync
    reconcile("phone", port, [OTHER], state, erased={ADA_ID})
    assert cal.entries[port.href_for(HER.item.uid)].by == USER
    assert state.items[HER.item.uid].status == USER_CHANGED and state.items[HER.item.uid].pending is None
    report = reconcile("phone", port, [OTHER], state, erased={ADA_ID})
    assert [(a.action, a.result) for a in report.actions] == [("deleted", FORGOTTEN)]
    assert [e.uid for e in cal.entries.values()] == [OTHER.item.uid]


def test_an_item_left_by_a_race_is_deleted_by_the_next_sync_of_the_service(tmp_path: Path) -> None:
    """Through the calendars service, as `syncnet sync` runs it: an erasure not finished
    (the user's edit raced it twice) leaves the agenda marked unknown, so the next sync
    does not take the "nothing changed" shortcut and deletes the item then."""
    from syncnet.app import calendars
    from syncnet.domain.config import Target

    home, today = tmp_path / "store", date.fromisoformat(TODAY)
    init_store(home)
    target = Target("phone", "caldav")
    cal = MemoryCalendar()
    with Network.open(home, today=today) as net:
        net.record(cmd.Meet("Ada Lovelace", on=today - timedelta(days=1)))
        net.record(cmd.Meet("Grace Hopper", on=today - timedelta(days=1)))
        ada = net.directory().named("Ada Lovelace")[0]

        def sync_with(port: MemoryPort) -> calendars.Outcome:
            outcome = calendars.sync_target(net, target, lambda t, s: port, today=today)
            assert outcome.cause is None, outcome.error
            return outcome

        sync_with(MemoryPort(cal))
        (href,) = [h for h, e in cal.entries.items() if e.item is not None and e.item.contact_id == ada]
        cal.user_edit(href, "Call Ada Lovelace")
        sync_with(MemoryPort(cal))
        net.record(cmd.Forget(ada))
        sync_with(RacingPort(cal, races=2))
        assert cal.entries[href].by == USER  # still there, edited again twice meanwhile
        outcome = sync_with(MemoryPort(cal))
        assert outcome.report is not None
        assert [(a.action, a.result) for a in outcome.report.actions] == [("deleted", FORGOTTEN)]
        assert href not in cal.entries and len(cal.entries) == 1
        before = len(cal.calls)
        sync_with(MemoryPort(cal))
        assert cal.calls[before:] == [("REPORT", "/cal/")]  # then the shortcut again: one request
