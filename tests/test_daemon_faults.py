"""The daemon through faults (issue 10): it keeps running, every failure is visible in
`status`, and once the faults stop the calendar equals the agenda.

1. An hour of faults in a few seconds: the Daemon loop runs in a thread over a real
   store, its CalDAV target served by a MemoryCalendar over httpx.MockTransport
   (test_caldav_faults.DavServer) behind a layer that answers a share of requests with
   a 500, a 503 with Retry-After, a timeout (before or after the server applied it),
   malformed XML, or loses the response after the server applied it. The daemon runs
   in lockstep with the test: its pause between two turns (`stop.wait`) hands control
   back, and the test moves the fake clock on by STEP seconds per turn, records facts,
   and checks the thread, `status` and the backoff after every turn.
2. The one-contact case end to end: a real `syncnet daemon` against real Radicale; the
   touch that completes the last due reminder empties the agenda, and the daemon
   deletes the reminder from the calendar instead of refusing to (the old wipe guard).

A separate test covers what the hour leaves out: a spurious 412 on a create.
"""

from __future__ import annotations

import io
import random
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from caldav_fixtures import Calendar, read_back, read_back_uids
from icalendar import Calendar as ICalendar
from memory_calendar import MemoryCalendar
from support import Runner, caldav_target, wait_for, write_config
from syncnet_adapters.caldav import CalDAVClient, CalDAVPort
from test_caldav_faults import DavServer

from syncnet import bootstrap
from syncnet.app import calendars
from syncnet.app.network import Network
from syncnet.app.sync import OURS, USER_CHANGED, USER_DELETED, CalendarPort, TargetState
from syncnet.domain import commands as cmd
from syncnet.domain.config import Target
from syncnet.domain.reminders import uid_for
from syncnet.entrypoints import daemon as daemon_module
from syncnet.entrypoints.daemon import Backoff, Daemon
from syncnet.storage.store import init_store

URL = "http://dav.test/cal/"
TODAY = date(2026, 11, 20)
STEP = 10.0  # fake seconds per turn of the daemon's loop
HOUR = 3600.0
FACT_EVERY = 3  # turns (30 fake seconds) between two facts recorded by the "CLI"
MIDNIGHT = 180  # the turn at which the day changes (half-way through the hour)
RATE = 0.15  # the share of requests that meet a fault during the hour
RETRY_AFTER = (30, 120, 600)  # seconds, in the 503s
BACKOFF = Backoff()  # the daemon's defaults: base and cap
APPLIED = ("lost", "timeout-after")  # faults that let the server apply the request
SURNAMES = ("Quimby", "Vexley", "Wombourne", "Yarrowby", "Zellweger-Oakes")


# ---------------------------------------------------------------- the fault layer
@dataclass(frozen=True)
class Fired:
    kind: str
    method: str
    retry_after: float | None = None


class FaultLayer:
    """An httpx handler in front of `server`: a share `rate` of the requests (drawn from
    `rng`) meet a fault, the kinds taking turns. "lost" and "timeout-after": the server
    applies the request, the answer never comes."""

    KINDS = ("500", "503", "timeout", "timeout-after", "lost", "malformed")

    def __init__(self, server: DavServer, rng: random.Random) -> None:
        self.server = server
        self.rng = rng
        self.rate = 0.0
        self.fired: list[Fired] = []
        self.requests = 0
        self._next = 0  # the kinds take turns, so that each gets its share

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.rng.random() >= self.rate:
            return self.server(request)
        kind = self.KINDS[self._next % len(self.KINDS)]
        if kind == "malformed" and request.method not in ("REPORT", "PROPFIND"):
            kind = "lost"  # an answer without XML cannot be malformed XML: its turn comes again
        else:
            self._next += 1
        retry_after = float(self.rng.choice(RETRY_AFTER)) if kind == "503" else None
        self.fired.append(Fired(kind, request.method, retry_after))
        if kind == "500":
            return httpx.Response(500, text="<html>Internal Server Error</html>")
        if kind == "503":
            return httpx.Response(503, headers={"Retry-After": f"{retry_after:.0f}"})
        if kind == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if kind == "malformed":  # a proxy cutting the multistatus short
            self.server(request)
            return httpx.Response(207, content=b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:resp')
        self.server(request)  # applied: only the answer is lost
        if kind == "timeout-after":
            raise httpx.ReadTimeout("timed out", request=request)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def port_over(handler: Callable[[httpx.Request], httpx.Response]) -> calendars.OpenPort:
    """An open_port for the composition root whose CalDAV targets talk to `handler`."""
    real = bootstrap.open_port

    def open_port(target: Target, state: TargetState) -> CalendarPort:
        if target.type != "caldav":
            return real(target, state)
        client = CalDAVClient(target.url, None, target.timeout, {}, transport=httpx.MockTransport(handler))
        client.collection = state.collection = client.url  # as bootstrap does once discovered
        port: CalendarPort = CalDAVPort(client, target.style, target.alarms)
        return port

    return open_port


def server_items(cal: MemoryCalendar) -> dict[str, list[Any]]:
    """UID -> the VTODOs the server holds under it, parsed with icalendar."""
    out: dict[str, list[Any]] = {}
    for entry in cal.entries.values():
        for todo in ICalendar.from_ical(entry.content).walk("VTODO"):
            out.setdefault(str(todo["UID"]), []).append(todo)
    return out


# ---------------------------------------------------------------- the daemon, in lockstep
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lockstep(threading.Event):
    """The daemon's stop event. Its `wait` (the pause between two turns of the loop)
    tells the test the turn is over and returns when the test starts the next one, so
    the test moves the clock and records facts while the daemon stands still."""

    def __init__(self) -> None:
        super().__init__()
        self._idle = threading.Semaphore(0)
        self._go = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self._idle.release()
        self._go.acquire(timeout=60)  # a bound, should the test die without stopping it
        return self.is_set()

    def idle(self) -> None:
        """Let the test go on (the daemon's turn is over, or the daemon has ended)."""
        self._idle.release()

    def turn(self, timeout: float = 30.0) -> None:
        """Wait for the end of the current turn; the first call waits for the first."""
        assert self._idle.acquire(timeout=timeout), "the daemon did not finish its turn"

    def step(self) -> None:
        self._go.release()
        self.turn()

    def set(self) -> None:
        super().set()
        self._go.release()


@dataclass
class Sync:
    """One sync of the daemon, as its sync_target returned it."""

    turn: int
    at: float  # the daemon's clock
    error: str | None
    retry_after: float | None
    faults: list[Fired]
    actions: list[str]


@dataclass
class World:
    """The facts recorded by the test (the CLI's part), drawn from `rng`."""

    net: Network
    rng: random.Random
    contacts: list[str] = field(default_factory=list)  # ids (hex)
    promises: list[str] = field(default_factory=list)  # open ones (hex)
    recorded: Counter[str] = field(default_factory=Counter)

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128))

    def record_one(self) -> None:
        today, rng = self.net.today(), self.rng
        kinds = ["meet"] + (["touch", "promise", "cadence"] if self.contacts else []) + (
            ["kept"] if self.promises else [])  # fmt: skip
        kind = rng.choice(kinds)
        if kind == "meet":
            cid = self.uuid()
            name = f"Contact{len(self.contacts)} {rng.choice(SURNAMES)}"
            self.net.record(cmd.Meet(name, channel="conference", on=today, contact_id=cid))
            self.contacts.append(cid.hex)
        elif kind == "touch":  # completes the contact's follow-up: an item to delete
            self.net.record(cmd.Touch(rng.choice(self.contacts), by="me", on=today))
        elif kind == "promise":
            due = today + timedelta(days=rng.randint(0, 90))  # some beyond the horizon
            pid = self.uuid()
            self.net.record(cmd.Promise(rng.choice(self.contacts), f"Send the notes {pid.hex[:4]}", due,
                                        on=today, promise_id=pid))  # fmt: skip
            self.promises.append(pid.hex)
        elif kind == "kept":
            pid = self.promises.pop(rng.randrange(len(self.promises)))
            self.net.record(cmd.Kept(pid, on=today))
        else:  # a new cadence moves the contact's cadence reminder: delete one, create one
            self.net.record(cmd.Cadence(rng.choice(self.contacts), rng.choice([7, 14, 30]), on=today))
        self.recorded[kind] += 1


def failed_streak(syncs: list[Sync]) -> int:
    """How many syncs at the end of `syncs` failed in a row."""
    n = 0
    for s in reversed(syncs):
        if s.error is None:
            break
        n += 1
    return n


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_daemon_keeps_running_through_an_hour_of_faults_and_ends_equal_to_the_agenda(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started_at = time.monotonic()
    home = tmp_path / "store"
    init_store(home)
    write_config(home, phone=caldav_target(URL, timeout=5))
    server = DavServer(MemoryCalendar())
    layer = FaultLayer(server, random.Random(seed))
    monkeypatch.setattr(bootstrap, "open_port", port_over(layer))

    clock, gate = Clock(), Lockstep()
    syncs: list[Sync] = []
    turn = 0
    real_sync = daemon_module.sync_target

    def observed(net: Network, target: Target, **kw: Any) -> calendars.Outcome:
        before = len(layer.fired)
        outcome = real_sync(net, target, **kw)
        actions = [a.action for a in outcome.report.actions] if outcome.report else []
        syncs.append(Sync(turn, clock.now, outcome.error, outcome.retry_after, layer.fired[before:], actions))
        return outcome

    monkeypatch.setattr(daemon_module, "sync_target", observed)
    box: dict[str, Any] = {}

    def serve() -> None:
        try:
            with Network.open(home, home / "config.toml", today=TODAY) as net:
                # remote_every: no sync on a timer here (this test checks which trigger
                # starts each sync); tests/test_completions.py checks the timer
                box["daemon"] = Daemon(net, poll=1.0, out=io.StringIO(), clock=clock, rng=random.Random(seed),
                                       stop=gate, remote_every=float("inf"))  # fmt: skip
                box["code"] = box["daemon"].run()
        except BaseException as e:
            box["error"] = e
            raise
        finally:
            gate.idle()

    with Network.open(home, home / "config.toml", today=TODAY) as writer:
        cli = Runner(home, tmp_path)
        world = World(writer, random.Random(seed + 1))
        for _ in range(3):  # something to sync from the start
            world.record_one()
        layer.rate = RATE
        thread = threading.Thread(target=serve, daemon=True)
        triggers = {0}  # turns that make a sync due: the start, new facts, a new day
        cli_checks = 0
        try:
            thread.start()
            gate.turn()

            def check_turn() -> None:
                """The daemon lives; its last sync of the target is what `status` shows."""
                nonlocal cli_checks
                assert thread.is_alive() and "error" not in box, box.get("error")
                if not syncs:
                    return
                last = syncs[-1]
                (row,) = calendars.status(writer, writer.today())
                if last.error is None:
                    assert row["failures"] == 0 and row["last_success"] == row["last_attempt"], row
                    return
                assert row["last_error"] == last.error, row
                assert row["failures"] == failed_streak(syncs), (row, failed_streak(syncs))
                assert row["last_error_at"] == row["last_attempt"] and row["last_error_at"], row
                if last.turn == turn and cli_checks < 5:  # the command itself says so too
                    cli_checks += 1
                    (shown,) = cli.json("status", "--today", writer.today().isoformat())["targets"]
                    assert (shown["last_error"], shown["failures"]) == (row["last_error"], row["failures"])

            check_turn()
            start = clock.now
            while clock.now - start < HOUR:
                turn += 1
                clock.now += STEP
                if turn == MIDNIGHT:  # both clocks of the day move on
                    writer.fixed_today = box["daemon"].net.fixed_today = TODAY + timedelta(days=1)
                    triggers.add(turn)
                if turn % FACT_EVERY == 0:
                    world.record_one()
                    triggers.add(turn)
                gate.step()
                check_turn()

            # the faults stop; past the longest backoff the daemon retries and recovers
            layer.rate = 0.0
            hour_end = turn
            turn += 1
            clock.now += BACKOFF.cap + STEP
            gate.step()
            check_turn()
            for _ in range(3):  # and then it rests
                turn += 1
                clock.now += STEP
                gate.step()
                check_turn()
        finally:
            gate.set()
            thread.join(10)
        assert not thread.is_alive() and box.get("code") == 0, box

        # ---- the faults happened, and were felt
        kinds = Counter(f.kind for f in layer.fired)
        failed = [s for s in syncs if s.error is not None]
        lost_writes = sum(1 for f in layer.fired if f.method in ("PUT", "DELETE") and f.kind in APPLIED)
        figures = (f"{len(syncs)} syncs, {len(failed)} failed, {layer.requests} requests, "
                   f"faults {dict(kinds)} ({lost_writes} writes applied without an answer), "
                   f"facts {dict(world.recorded)}")  # fmt: skip
        assert set(kinds) == set(FaultLayer.KINDS) and min(kinds.values()) >= 2, figures
        assert len(failed) >= 10 and len(syncs) - len(failed) >= 15 and lost_writes >= 1, figures
        assert sum(world.recorded.values()) >= 40 and len(world.recorded) == 5, figures

        # ---- every fault fails its sync, and nothing but a fault does
        for s in syncs:
            assert (s.error is not None) == bool(s.faults), s
            assert USER_CHANGED not in s.actions and USER_DELETED not in s.actions, s  # the user did nothing
            if s.error is not None:
                assert s.error.startswith("target phone: "), s
                # the fault that ended the sync: the first one (after a write whose answer
                # was lost, the read-back and the listing that follow may meet more)
                assert s.retry_after == s.faults[0].retry_after, s

        # ---- when it syncs: at once on a trigger when not backing off; after a failure,
        # when the backoff (at least the Retry-After) is over; never on its own push records
        log: str = box["daemon"].out.getvalue()
        retries = [float(d) for d in re.findall(r"^\S+ phone: failed \(.+\); retry in (\d+) s$", log, re.M)]
        assert len(retries) == len(failed) and log.count("failed") == len(failed), log
        streak = 0
        for s, following in zip(syncs, [*syncs[1:], None], strict=True):
            if s.error is None:
                streak = 0
                due = [t for t in triggers if s.turn < t <= turn]
                assert (following.turn if following else None) == (min(due) if due else None), (s, following)
                continue
            streak += 1
            nominal = BACKOFF.base * 2 ** (streak - 1)
            low = max(s.retry_after or 0.0, min(BACKOFF.cap, 0.5 * nominal))
            high = max(s.retry_after or 0.0, min(BACKOFF.cap, 1.5 * nominal))
            logged = retries.pop(0)
            assert low - 0.5 <= logged <= high + 0.5, (s, logged, low, high)
            assert following is not None, "a failed sync was never retried"
            gap = following.at - s.at
            if following.turn <= hour_end:  # (the recovery jumps past every backoff at once)
                assert max(low, logged - 0.5) <= gap < min(high, logged + 0.5) + STEP, (s, following, logged)
            else:
                assert gap >= max(low, logged - 0.5)
        assert syncs[-1].error is None and syncs[-1].turn == hour_end + 1, syncs[-1]

        # ---- after the faults: the calendar is the agenda, no duplicate, nothing stale or missing
        want = {s.item.uid: s.item for s in calendars.calendar_items(writer, 60)}
        held = server_items(server.cal)
        assert len(want) >= 5, figures
        assert {u: len(c) for u, c in held.items() if len(c) > 1} == {}, "duplicates"
        assert sorted(set(want) - set(held)) == [], "missing"
        assert sorted(set(held) - set(want)) == [], "stale: no longer due"
        for uid, item in want.items():
            (todo,) = held[uid]
            assert (str(todo["SUMMARY"]), todo["DUE"].dt) == (item.summary, item.due), uid
            assert "COMPLETED" not in todo and str(todo.get("STATUS", "NEEDS-ACTION")) == "NEEDS-ACTION"
        assert server.cal.clobbered == []
        (row,) = calendars.status(writer, writer.today())
        assert row["pending"] == {"create": 0, "update": 0, "delete": 0} and row["holds"] == len(want), row
        assert row["failures"] == 0 and row["last_success"] == row["last_attempt"], row
        state = TargetState.from_json(writer.state.get("target:phone", "state"))
        assert {(s.status, s.pending) for s in state.items.values()} == {(OURS, None)}

    # the log: one line per failed sync, never a contact's name
    assert not any(name in log for name in SURNAMES), log
    assert time.monotonic() - started_at < 60, "an hour of faults should take seconds"


# ---------------------------------------------------------------- a spurious 412

def test_a_create_answered_412_with_nothing_there_is_created_by_a_later_sync(tmp_path: Path) -> None:
    """A proxy (or a replicated server) answers a create's If-None-Match PUT with 412
    though nothing is at the href. The read-back finds nothing, so the item is dropped
    from the state to be created again; but the sync completes and records the agenda
    as written, and every later sync takes the "nothing changed" shortcut."""
    home = tmp_path / "store"
    init_store(home)
    write_config(home, phone=caldav_target(URL))
    server = DavServer(MemoryCalendar())
    first_put = iter([httpx.Response(412)])
    server.fault = lambda request: next(first_put, None) if request.method == "PUT" else None
    with Network.open(home, home / "config.toml", today=TODAY) as net:
        net.record(cmd.Meet("Ada Lovelace", on=TODAY))
        (target,) = net.config.targets
        for _ in range(3):
            outcome = calendars.sync_target(net, target, port_over(server))
            assert outcome.error is None
        (row,) = calendars.status(net, TODAY)
        (item,) = net.calendar_items(60)
        assert set(server_items(server.cal)) == {item.item.uid}, row
        assert row["pending"]["create"] == 0


# ---------------------------------------------------------------- one contact, end to end
def test_one_contact_touch_empties_the_agenda_and_the_daemon_deletes_the_reminder(
    run_process: Runner, home: Path, radicale_calendar: Calendar
) -> None:
    """Before the wipe guard was fixed, the daemon failed every few seconds with "the
    agenda is empty ... refusing to delete them all (use --force)" and the done
    reminder stayed on the phone. The daemon evaluates the agenda on the real date, so
    the facts are recorded on it too."""
    run = run_process
    write_config(home, cal=caldav_target(radicale_calendar.url, user="test"))
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--channel", "conference")
    (followup,) = run.json("due")["agenda"]
    assert followup["rule"] == "followup"
    uid = uid_for(followup["key"])

    bg = run.popen("daemon", "--poll", "0.2", env={"SYNCNET_CAL_PASSWORD": "x"})
    try:
        wait_for(lambda: read_back_uids(radicale_calendar) == [uid], 20, "the follow-up on the server")
        (todo,) = read_back(radicale_calendar)
        assert str(todo["SUMMARY"]) == followup["summary"]

        run.ok("touch", "Ada", "--by", "me")
        touched = time.monotonic()
        assert run.json("due")["agenda"] == []
        wait_for(lambda: read_back_uids(radicale_calendar) == [], 10, "the done reminder to leave the server")
        assert time.monotonic() - touched < 5, "not within a few seconds"

        time.sleep(1.0)  # five polls: a refusal would be logged and recorded by now
        (row,) = run.json("status")["targets"]
        assert row["last_error"] is None and row["failures"] == 0, row
        assert row["last_result"]["deleted"] == 1 and row["holds"] == 0, row
        assert row["pending"] == {"create": 0, "update": 0, "delete": 0}, row
        assert read_back_uids(radicale_calendar) == []
        assert bg.alive(), bg.stderr()
    finally:
        code = bg.stop(signal.SIGTERM, timeout=5.0)
    log = bg.stderr()
    assert code == 0, log
    assert "cal: 1 created" in log and "cal: 0 created, 0 updated, 1 deleted" in log, log
    assert "failed" not in log and "refusing" not in log and "Ada" not in log, log
