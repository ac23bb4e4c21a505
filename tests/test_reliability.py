"""Calendars survive interruption (issue 10): real Radicale and Xandikos behind a
fault-injecting proxy (tests/fault_proxy.py), a first upload of 200 reminders SIGKILLed
20 times, then 30 syncs through faults while the agenda changes and the user edits and
deletes items on the server, then clean syncs. The calendar read back with `caldav`
must hold exactly the agenda within the horizon plus the user's own items: no
duplicate, nothing missing, nothing stale, the user's edits and deletions kept, and no
"user-changed" or "user-deleted" that the user did not cause.

Then one fault at a time, on three reminders: a create or an update whose answer is lost
(dropped, or hung past the timeout) followed by the user's deletion, edit, a completion
or nothing; a delete whose answer is lost or refused; a fault on the listing; a spurious
412.

docs/reliability.md describes the run and its figures. RELIABILITY_SEED=N runs another
seed, RELIABILITY_RATE=0.2 another fault rate; RELIABILITY_FIGURES=FILE appends each
server's figures to FILE as a JSON line (they are printed too: `-s` shows them).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from caldav_fixtures import Calendar, read_back
from fault_proxy import APPLIED, FAULT_KINDS, FaultProxy
from icalendar import Calendar as ICalendar
from support import (
    Background,
    Runner,
    agenda_items,
    caldav_target,
    horizon_end,
    record,
    wait_for,
    write_config,
)

from syncnet.app.network import Network
from syncnet.app.sync import OURS, USER_CHANGED, USER_DELETED, TargetState
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.storage.store import init_store

SEED = int(os.environ.get("RELIABILITY_SEED", "10"))
DAY = date(2026, 11, 20)
T = DAY.isoformat()
CONTACTS = 200  # met in the last three days: one follow-up each, due within the horizon
KILLS = 20
SYNCS = 30  # with faults
FAULT_RATE = float(os.environ.get("RELIABILITY_RATE", "0.06"))  # of the requests in phase 2
TIMEOUT = 2.0  # the target's `timeout`; a hang lasts past it
TARGET = "cal"
FOREIGN = "dentist-2026@example.org"  # the user's own item, never syncnet's


@dataclass
class Figures:
    server: str
    seed: int = SEED
    rate: float = FAULT_RATE
    reminders: int = 0  # on the agenda before the first upload
    requests: int = 0  # through the proxy
    faulted: dict[str, int] = field(default_factory=dict)  # kind -> requests
    lost_writes: int = 0  # PUTs and DELETEs the server applied whose answer was lost or broken
    kills: int = 0
    puts_before_kills: list[int] = field(default_factory=list)  # PUTs through the proxy at each kill
    after_kills: dict[str, int] = field(default_factory=dict)  # duplicates, missing, stale then
    syncs: int = 0  # completed or failed, not killed
    failed_syncs: int = 0
    user_edits: int = 0
    user_deletions: int = 0
    duplicates: int = 0
    missing: int = 0
    stale: int = 0
    false_user_changed: int = 0
    false_user_deleted: int = 0
    final_items: int = 0  # on the server at the end, the foreign one included
    wall_s: float = 0.0


@dataclass
class User:
    """What the test itself did on the server, behind syncnet's back."""

    edited: dict[str, str] = field(default_factory=dict)  # uid -> the SUMMARY the user wrote
    deleted: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # their contacts: never touched, so still due


def name(i: int) -> str:
    return f"Contact {i:03d}"


# ---------------------------------------------------------------- the server, directly
def href(cal: Calendar, uid: str) -> str:
    return f"{cal.url}{uid.split('@')[0]}.ics"


def put_foreign(cal: Calendar) -> None:
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//another client//EN\r\nBEGIN:VTODO\r\n"
            f"UID:{FOREIGN}\r\nDTSTAMP:20261101T090000Z\r\nSUMMARY:Dentist\r\n"
            "DUE;VALUE=DATE:20261125\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")  # fmt: skip
    r = httpx.put(f"{cal.url}dentist.ics", content=body.encode(), auth=cal.auth, timeout=10,
                  headers={"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"})  # fmt: skip
    assert r.status_code == 201, r.text


def user_edit(cal: Calendar, uid: str, summary: str) -> bool:
    """Another client renames the item (GET, PUT with If-Match); False when it is not there."""
    r = httpx.get(href(cal, uid), auth=cal.auth, timeout=10)
    if r.status_code == 404:
        return False
    r.raise_for_status()
    ical = ICalendar.from_ical(r.content)
    for c in ical.walk("VTODO"):
        c["SUMMARY"] = summary
    headers = {"If-Match": r.headers["ETag"], "Content-Type": "text/calendar; charset=utf-8"}
    put = httpx.put(href(cal, uid), content=ical.to_ical(), auth=cal.auth, timeout=10, headers=headers)
    assert put.status_code in (201, 204), put.text
    return True


def user_delete(cal: Calendar, uid: str) -> bool:
    r = httpx.delete(href(cal, uid), auth=cal.auth, timeout=10)
    assert r.status_code in (200, 204, 404), r.text
    return r.status_code != 404


# ---------------------------------------------------------------- what syncnet knows
def agenda(run: Runner) -> dict[str, dict[str, Any]]:
    """UID -> agenda item, for what the calendar should hold (60-day horizon)."""
    return agenda_items(run, horizon_end(DAY), "--today", T)


def recorded(home: Path) -> list[tuple[str, str]]:
    """(action, uid) of every push recorded (one TargetSynced fact per sync, or one
    ReminderPushed fact per item in older stores): the durable record of every sync."""
    with Network.open(home, today=DAY) as net:
        facts = net.store.log.after(0, 1_000_000, ev.PUSH_RECORDS)
    out = []
    for _, f in facts:
        if isinstance(f, ev.TargetSynced):
            out += [(p.action, p.uid) for p in f.pushes()]
        elif isinstance(f, ev.ReminderPushed):
            out.append((f.action, f.uid))
    return out


def target_state(home: Path) -> TargetState:
    with Network.open(home, today=DAY) as net:
        return TargetState.from_json(net.state.get(f"target:{TARGET}", "state"))


def sync_doc(stdout: str, stderr: str) -> dict[str, Any]:
    """The one target's part of `sync --json`'s document (printed even when it fails)."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        raise AssertionError(f"sync printed no report: {stderr.strip()[-2000:]}") from None
    (t,) = doc["targets"]
    return dict(t)


# ---------------------------------------------------------------- the checks
@dataclass
class Check:
    duplicates: list[str]
    missing: list[str]  # due, not the user's, and absent or with another SUMMARY
    stale: list[str]  # syncnet's, on the server, no longer due
    edits_lost: list[str]  # the user's edit overwritten or deleted
    recreated: list[str]  # deleted by the user, back on the server
    foreign_kept: bool
    items: int

    def counts(self) -> dict[str, int]:
        return {"duplicates": len(self.duplicates), "missing": len(self.missing), "stale": len(self.stale)}

    def clean(self) -> bool:
        return not (self.duplicates or self.missing or self.stale or self.edits_lost or self.recreated) \
            and self.foreign_kept  # fmt: skip


def check_calendar(run: Runner, cal: Calendar, user: User) -> Check:
    due = agenda(run)
    found = read_back(cal)
    uids = Counter(str(c["UID"]) for c in found)
    by_uid = {str(c["UID"]): c for c in found}
    summary = {u: str(c.get("SUMMARY", "")) for u, c in by_uid.items()}
    mine = set(user.edited) | user.deleted
    return Check(
        duplicates=sorted(u for u, n in uids.items() if n > 1),
        missing=sorted(u for u, item in due.items() if u not in mine and summary.get(u) != item["summary"]),
        stale=sorted(u for u in by_uid if u not in due and u not in mine and u != FOREIGN),
        edits_lost=sorted(u for u, s in user.edited.items() if summary.get(u) != s),
        recreated=sorted(u for u in user.deleted if u in by_uid),
        foreign_kept=summary.get(FOREIGN) == "Dentist",
        items=len(found),
    )


def false_user_changes(home: Path, reports: list[dict[str, Any]], user: User) -> tuple[set[str], set[str]]:
    """UIDs syncnet took for the user's edits / deletions that the user did not make: from
    the recorded facts, the sync reports and the final state (a killed sync may have saved
    a verdict it never reported)."""
    said = [(a["action"], a["uid"]) for t in reports for a in t["actions"]] + recorded(home)
    state = target_state(home)
    said += [(s.status, u) for u, s in state.items.items() if s.status != OURS]
    changed = {u for a, u in said if a == USER_CHANGED} - set(user.edited)
    deleted = {u for a, u in said if a == USER_DELETED} - user.deleted
    return changed, deleted


# ---------------------------------------------------------------- the scenario
class Scenario:
    """One run of the test against one server: the store, the proxy, the seeded choices,
    what the user did and what the syncs said."""

    def __init__(self, run: Runner, home: Path, cal: Calendar, proxy: FaultProxy) -> None:
        self.run, self.home, self.cal, self.proxy = run, home, cal, proxy
        self.rng = random.Random(SEED)
        self.figures = Figures(cal.server.name)
        self.user = User()
        self.reports: list[dict[str, Any]] = []
        self.open = [name(i) for i in range(CONTACTS)]  # contacts whose follow-up is due
        self.met = CONTACTS

    def complete(self, names: list[str]) -> None:
        """Touches by me: these contacts' follow-ups are done, their items are to go."""
        record(self.home, *[cmd.Touch(n, "me") for n in names], today=DAY)
        for n in names:
            self.open.remove(n)

    def meet(self, count: int) -> None:
        new = [name(self.met + i) for i in range(count)]
        self.met += count
        record(self.home, *[cmd.Meet(n, on=DAY) for n in new], today=DAY)
        self.open += new

    def anyone(self, count: int) -> list[str]:
        """Contacts with an open follow-up whose items the user has not touched."""
        return self.rng.sample([n for n in self.open if n not in self.user.names], count)

    def sync(self) -> tuple[int, dict[str, Any], str]:
        proc = self.run("sync", "--today", T, "--json")
        t = sync_doc(proc.stdout, proc.stderr)
        self.reports.append(t)
        self.figures.syncs += 1
        return proc.returncode, t, proc.stderr

    # Phase 1 ----------------------------------------------------------------------
    def kill_during_first_upload(self) -> None:
        """Start `syncnet sync` KILLS times and SIGKILL it after a random number of requests
        (1-16) and a random delay (0-30 ms): in the middle of a PUT, of a read-back, of
        saving its state. Between two runs two follow-ups are done (one whose item the
        killed run was writing, when it wrote any) and now and then a contact is met: a
        run that only adopted what it finds at its hrefs would leave the written ones
        behind. Then one run that is let finish."""
        proxy = self.proxy
        for k in range(KILLS):
            after, delay = self.rng.randint(1, 16), self.rng.uniform(0.0, 0.03)
            first, until = proxy.total, proxy.total + after
            bg = self.run.popen("sync", "--today", T, "--json")

            def reached(bg: Background = bg, until: int = until) -> bool:
                return not bg.alive() or proxy.total >= until

            wait_for(reached, 60, "requests of the sync", interval=0.002)
            time.sleep(delay)
            assert bg.alive(), f"the sync ended before it was killed: the upload is too short\n{bg.stderr()}"
            bg.proc.kill()
            bg.proc.wait(timeout=10)
            self.figures.kills += 1
            self.figures.puts_before_kills.append(proxy.count("PUT"))
            put = {path.rsplit("/", 1)[-1] for _, m, path, _ in proxy.log[first:] if m == "PUT"}
            due = {
                i["contact"]["name"] for u, i in agenda(self.run).items() if f"{u.split('@')[0]}.ics" in put
            }
            written = sorted(n for n in due if n in self.open)
            done = self.rng.sample(written, 1) if written else []
            done += self.rng.sample([n for n in self.open if n not in done], 2 - len(done))
            self.complete(done)
            if k % 4 == 3:
                self.meet(1)
        puts = proxy.count("PUT")
        bg = self.run.popen("sync", "--today", T, "--json")
        assert bg.proc.wait(timeout=120) == 0, bg.stderr()
        self.figures.syncs += 1
        t = sync_doc(bg.stdout(), bg.stderr())
        self.reports.append(t)
        assert t["ok"], t
        assert proxy.count("PUT") > puts, "every kill must happen before the upload is complete"

    # Phase 2 ----------------------------------------------------------------------
    def change_the_agenda(self) -> None:
        """Before every sync: a few follow-ups done, a contact or two met."""
        self.complete(self.anyone(self.rng.randint(1, 3)))
        self.meet(self.rng.randint(1, 2))

    def users_turn(self) -> None:
        """The user edits one of syncnet's items and deletes another, on the server directly
        (whatever syncnet believes about them: written, pending, not yet there)."""
        due = agenda(self.run)
        by_name = {i["contact"]["name"]: u for u, i in due.items() if i["rule"] == "followup"}
        candidates = [n for n in self.open if n not in self.user.names and n in by_name]
        self.rng.shuffle(candidates)
        edited = deleted = False
        for n in candidates:
            uid = by_name[n]
            if not edited:
                text = f"Call {n} about the offsite (my note)"
                if user_edit(self.cal, uid, text):
                    self.user.edited[uid], edited = text, True
                    self.user.names.add(n)
            elif not deleted:
                if user_delete(self.cal, uid):
                    self.user.deleted.add(uid)
                    self.user.names.add(n)
                    deleted = True
            else:
                return

    def syncs_through_faults(self) -> None:
        # Phase 2's choices and faults do not depend on how the kills fell.
        self.rng = random.Random(SEED + 1)
        self.proxy.reseed(SEED + 1)
        self.proxy.rate = FAULT_RATE
        for step in range(SYNCS):
            self.change_the_agenda()
            if step % 6 == 3:
                self.users_turn()
            code, t, stderr = self.sync()
            if code != 0:
                # A fault fails the sync with exit 1 and one line; nothing else may.
                assert code == 1 and not t["ok"], (code, t, stderr)
                assert len(stderr.splitlines()) == 1, stderr
                self.figures.failed_syncs += 1
            else:
                assert t["ok"], t
        self.proxy.rate = 0.0

    # Phase 3 ----------------------------------------------------------------------
    def configure(self, timeout: float) -> None:
        write_config(self.home, **{TARGET: caldav_target(self.proxy.url_for(self.cal.url), timeout=timeout)})

    def clean_syncs(self) -> None:
        """The faults have stopped: one sync settles everything, the next has nothing to do.
        (With a timeout long enough that a busy machine cannot fail them.)"""
        self.configure(timeout=30.0)
        for _ in range(2):
            code, t, stderr = self.sync()
            assert code == 0 and t["ok"], (stderr, t)
        assert t["actions"] == [], t

    # the figures ------------------------------------------------------------------
    def measure(self, check: Check) -> tuple[set[str], set[str]]:
        f = self.figures
        changed, deleted = false_user_changes(self.home, self.reports, self.user)
        f.requests = self.proxy.total
        f.faulted = dict(sorted(self.proxy.faulted.items()))
        f.lost_writes = sum(1 for _, m, _, k in self.proxy.log if k in APPLIED and m in ("PUT", "DELETE"))
        f.user_edits, f.user_deletions = len(self.user.edited), len(self.user.deleted)
        f.duplicates, f.missing, f.stale = len(check.duplicates), len(check.missing), len(check.stale)
        f.false_user_changed, f.false_user_deleted = len(changed), len(deleted)
        f.final_items = check.items
        return changed, deleted


def test_kills_and_faults_leave_exactly_the_agenda(run: Runner, home: Path, any_calendar: Calendar) -> None:
    cal = any_calendar
    started = time.monotonic()
    with FaultProxy(cal.server, seed=SEED, hang_seconds=TIMEOUT + 1.0) as proxy:
        s = Scenario(run, home, cal, proxy)
        init_store(home)
        s.configure(timeout=TIMEOUT)
        record(home, *[cmd.Meet(name(i), on=DAY - timedelta(days=i % 3)) for i in range(CONTACTS)], today=DAY)
        put_foreign(cal)
        s.figures.reminders = len(agenda(run))
        assert s.figures.reminders == CONTACTS
        try:
            s.kill_during_first_upload()
            after_kills = check_calendar(run, cal, s.user)
            s.figures.after_kills = after_kills.counts()
            assert after_kills.clean(), after_kills
            assert false_user_changes(home, s.reports, s.user) == (set(), set())

            s.syncs_through_faults()
            s.clean_syncs()
        finally:
            final = check_calendar(run, cal, s.user)
            changed, deleted = s.measure(final)
            s.figures.wall_s = round(time.monotonic() - started, 1)
            publish(s.figures)

    assert final.clean(), final
    assert not changed and not deleted, (changed, deleted)
    # the scenario did what it says: every kind of fault, failed syncs, the user's changes
    assert set(s.figures.faulted) == set(FAULT_KINDS), f"seed {SEED} did not deal every kind: {s.figures}"
    assert s.figures.lost_writes > 0, s.figures
    assert s.figures.failed_syncs > 0 and s.user.edited and s.user.deleted
    # and each of the user's changes was seen as such, once
    said = [(a, u) for a, u in recorded(home) if a in (USER_CHANGED, USER_DELETED)]
    assert sorted(said) == sorted([(USER_CHANGED, u) for u in s.user.edited]
                                  + [(USER_DELETED, u) for u in s.user.deleted])  # fmt: skip


def publish(figures: Figures) -> None:
    print(f"\nreliability figures: {json.dumps(asdict(figures))}")
    out = os.environ.get("RELIABILITY_FIGURES")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(figures)) + "\n")


# ---------------------------------------------------------------- one fault at a time
SMALL = ("Ada Lovelace", "Grace Hopper", "Linus Torvalds")


@dataclass
class Small:
    run: Runner
    home: Path
    cal: Calendar
    proxy: FaultProxy

    def configure(self, **rules: Any) -> None:
        target = caldav_target(self.proxy.url_for(self.cal.url), timeout=1.0)
        write_config(self.home, rules or None, **{TARGET: target})

    def held(self) -> dict[str, tuple[str, str]]:
        """UID -> (SUMMARY, due day) of what the server holds; no UID twice."""
        found = read_back(self.cal)
        assert len(found) == len({str(c["UID"]) for c in found}), "a duplicate UID"
        return {str(c["UID"]): (str(c["SUMMARY"]), c.decoded("DUE").isoformat()) for c in found}

    def due(self) -> dict[str, tuple[str, str]]:
        """UID -> (summary, due day) of the agenda within the horizon."""
        return {u: (i["summary"], i["due"]) for u, i in agenda(self.run).items()}

    def said_by_user(self) -> set[tuple[str, str]]:
        return {(a, u) for a, u in recorded(self.home) if a in (USER_CHANGED, USER_DELETED)}


@pytest.fixture
def small(run: Runner, home: Path, any_calendar: Calendar) -> Iterator[Small]:
    """Three follow-ups due, a target behind a proxy with no random fault (1 s timeout)."""
    with FaultProxy(any_calendar.server, hang_seconds=1.5) as proxy:
        init_store(home)
        s = Small(run, home, any_calendar, proxy)
        s.configure()
        record(home, *[cmd.Meet(n, on=DAY) for n in SMALL], today=DAY)
        yield s


def sync_once(run: Runner, ok: bool = True) -> dict[str, Any]:
    proc = run("sync", "--today", T, "--json")
    t = sync_doc(proc.stdout, proc.stderr)
    assert (proc.returncode == 0) is ok and t["ok"] is ok, (proc.returncode, t, proc.stderr)
    return t


def faulted_uid(proxy: FaultProxy, method: str) -> str:
    """The UID whose request of `method` the proxy faulted (hrefs are <uid before @>.ics)."""
    (path,) = [p for _, m, p, k in proxy.log if m == method and k is not None]
    return path.rsplit("/", 1)[-1].removesuffix(".ics") + "@syncnet"


@pytest.mark.parametrize("kind", ["drop", "hang"])
@pytest.mark.parametrize("then", ["deletes", "edits", "completes", "nothing"])
@pytest.mark.parametrize("write", ["create", "update"])
def test_after_a_write_whose_answer_was_lost(
    small: Small, write: str, then: str, kind: str, request: pytest.FixtureRequest
) -> None:
    """The server applied a PUT (a create, or an update: the follow-up moved from 3 to 5
    days) whose answer never came; before the next sync the user deletes or edits that
    item on the phone, or the follow-up is done, or nothing happens. Two syncs later the
    calendar holds the agenda, what the user did is kept, and only that is the user's."""
    run, proxy = small.run, small.proxy
    if write == "update":
        sync_once(run)
        small.configure(followup_days=5)
    proxy.plan(kind, "PUT")
    sync_once(run, ok=False)
    uid = faulted_uid(proxy, "PUT")
    assert uid in small.held()  # the write was applied
    if write == "update":
        assert small.held()[uid] == small.due()[uid]  # the new version is there
    if then == "deletes":
        assert user_delete(small.cal, uid)
    elif then == "edits":
        assert user_edit(small.cal, uid, "Lunch with them on Friday")
    elif then == "completes":
        (who,) = [i["contact"]["name"] for u, i in agenda(run).items() if u == uid]
        record(small.home, cmd.Touch(who, "me"), today=DAY)

    sync_once(run)
    assert sync_once(run)["actions"] == []
    held, due = small.held(), small.due()
    assert {u: v for u, v in held.items() if u != uid} == {u: v for u, v in due.items() if u != uid}
    if then == "deletes":
        assert uid not in held and small.said_by_user() == {(USER_DELETED, uid)}
    elif then == "edits":
        assert held[uid][0] == "Lunch with them on Friday" and small.said_by_user() == {(USER_CHANGED, uid)}
    elif then == "completes":
        assert uid not in held and uid not in due and small.said_by_user() == set()
    else:
        assert held[uid] == due[uid] and small.said_by_user() == set()


@pytest.mark.parametrize("kind", ["drop", "hang", "412", "500"])
def test_a_delete_whose_answer_was_lost_is_not_the_users(small: Small, kind: str) -> None:
    run = small.run
    sync_once(run)
    record(small.home, cmd.Touch("Ada", "me"), today=DAY)  # Ada's follow-up is done: its item goes
    small.proxy.plan(kind, "DELETE")
    sync_once(run, ok=kind == "412")  # a 412 is read back at once: the item is still ours
    sync_once(run)
    assert sync_once(run)["actions"] == []
    assert small.held() == small.due() and len(small.due()) == 2
    assert small.said_by_user() == set()


@pytest.mark.parametrize("kind", ["412", "500", "503", "truncate", "garbage"])
def test_a_fault_on_the_listing_or_a_spurious_412_leaves_nothing_behind(small: Small, kind: str) -> None:
    run = small.run
    small.proxy.plan(kind, "PUT" if kind == "412" else "REPORT")
    proc = run("sync", "--today", T, "--json")
    assert proc.returncode in (0, 1), proc.stderr
    sync_once(run)
    assert sync_once(run)["actions"] == []
    assert small.held() == small.due() and len(small.due()) == 3
    assert small.said_by_user() == set()
