"""`syncnet daemon`: a real process keeping a Radicale calendar and an .ics file in step.

The daemon evaluates the agenda on the real date, so facts here are recorded
without --today and the expected UIDs come from `due --json` on the same day.
"""

from __future__ import annotations

import io
import random
import re
import signal
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from caldav_fixtures import read_back_uids
from support import caldav_target, free_port, ics_items, ics_target, wait_for, write_config

from syncnet.app.network import Network
from syncnet.app.sync import Action
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.domain.config import without_userinfo
from syncnet.domain.events import AGENDA_FACTS
from syncnet.domain.reminders import uid_for
from syncnet.entrypoints import daemon as daemon_module
from syncnet.entrypoints.daemon import Backoff, Daemon
from syncnet.storage.store import init_store

NAMES = ("Ada Lovelace", "Grace Hopper")


def uids_of(run: Any, name: str | None = None) -> set[str]:
    agenda = run.json("due")["agenda"]
    return {uid_for(a["key"]) for a in agenda if name is None or a["contact"]["name"] == name}


def ics_uids(path: Path) -> set[str]:
    try:
        return set(ics_items(path.read_bytes()))
    except FileNotFoundError:
        return set()


def targets(home: Path, caldav_url: str, ics_path: Path, user: str = "test") -> None:
    """A CalDAV target "cal" (as `user`, if any) and an .ics file target "file"."""
    cal = caldav_target(caldav_url, **({"user": user} if user else {}))
    write_config(home, cal=cal, file=ics_target(ics_path))


def test_daemon_pushes_new_facts_settles_and_stops_on_sigterm(run, home, tmp_path, radicale_calendar, state):
    ics_path = tmp_path / "out" / "reminders.ics"
    targets(home, radicale_calendar.url, ics_path)
    run.ok("init")
    run.ok("meet", NAMES[0], "--channel", "conference")
    first = uids_of(run)
    assert len(first) == 1

    bg = run.popen("daemon", "--poll", "0.1", env={"SYNCNET_CAL_PASSWORD": "x"})
    try:
        # the first sync, at start
        wait_for(lambda: set(read_back_uids(radicale_calendar)) == first, 10, "the first push to Radicale")
        wait_for(lambda: ics_uids(ics_path) == first, 5, "the first .ics write")
        assert bg.alive(), bg.stderr()

        # a new contact, recorded by the CLI while the daemon runs, reaches the calendar
        run.ok("meet", NAMES[1], "--channel", "workshop")
        grace = uids_of(run, NAMES[1])
        assert len(grace) == 1
        started = time.monotonic()
        wait_for(lambda: set(read_back_uids(radicale_calendar)) == first | grace, 10, "the new follow-up")
        assert time.monotonic() - started < 10
        wait_for(lambda: ics_uids(ics_path) == first | grace, 5, "the .ics file to follow")

        # it settles: its own push records do not trigger another sync
        wait_for(lambda: run.json("status")["targets"][0]["pending"]["create"] == 0, 5, "status to settle")
        time.sleep(0.3)  # a few polls after the last push
        settled, log_lines = state(home)[0], len(bg.stderr().splitlines())
        time.sleep(1.0)  # ten polls
        assert state(home)[0] == settled, "the daemon keeps appending facts on its own"
        assert len(bg.stderr().splitlines()) == log_lines, bg.stderr()
        assert bg.alive()

        pushed = [e for e in run.json("history", NAMES[1])["events"] if e["kind"] == "pushed"]
        assert sorted(e["details"]["target"] for e in pushed) == ["cal", "file"], pushed
        assert {e["details"]["action"] for e in pushed} == {"created"}

        rows = {r["target"]: r for r in run.json("status")["targets"]}
        assert rows["cal"]["last_error"] is None and rows["cal"]["holds"] == 2
        assert rows["file"]["last_error"] is None and rows["file"]["holds"] == 2
    finally:
        stopped_at = time.monotonic()
        code = bg.stop(signal.SIGTERM, timeout=5.0)
    assert code == 0, bg.stderr()
    assert time.monotonic() - stopped_at < 5
    log = bg.stderr()
    assert "daemon started" in log and "daemon stopped" in log
    assert "cal: 1 created" in log and "file: 1 created" in log
    for name in NAMES:
        for part in name.split():
            assert part not in log, f"{part!r} in the daemon's log:\n{log}"
    assert bg.stdout() == ""


def test_daemon_keeps_running_when_a_target_is_unreachable(run, home, tmp_path):
    ics_path = tmp_path / "reminders.ics"
    dead = f"http://127.0.0.1:{free_port()}/cal/"  # nothing listens there
    targets(home, dead, ics_path, user="")
    run.ok("init")
    run.ok("meet", NAMES[0])

    bg = run.popen("daemon", "--poll", "0.2")
    try:
        wait_for(lambda: ics_uids(ics_path) == uids_of(run), 10, "the .ics target to be synced")
        wait_for(lambda: "cal: failed" in bg.stderr(), 5, "the failure in the log")
        rows = {r["target"]: r for r in run.json("status")["targets"]}
        assert rows["cal"]["last_error"] and "cal" in rows["cal"]["last_error"], rows["cal"]
        assert rows["cal"]["failures"] >= 1 and rows["cal"]["last_success"] is None
        assert rows["file"]["last_error"] is None and rows["file"]["last_success"]

        # a new fact still reaches the healthy target while the other one backs off
        run.ok("meet", NAMES[1])
        wait_for(lambda: ics_uids(ics_path) == uids_of(run) and len(uids_of(run)) == 2, 10, "the new item")
        assert bg.alive(), bg.stderr()
        # backoff: not a retry on every poll (the first delay is 2.5 s or more)
        assert bg.stderr().count("cal: failed") <= 2, bg.stderr()
    finally:
        code = bg.stop(signal.SIGTERM, timeout=5.0)
    assert code == 0, bg.stderr()
    assert "retry in" in bg.stderr()
    assert not any(part in bg.stderr() for name in NAMES for part in name.split())


def test_daemon_without_targets_exits_2(run):
    run.ok("init")
    bg = run.popen("daemon", "--poll", "0.2")
    assert bg.proc.wait(timeout=10) == 2
    assert "no targets configured" in bg.stderr()


def test_the_loop_syncs_once_per_new_fact_not_on_its_own_push_records(tmp_path, monkeypatch):
    """The Daemon loop in a thread (its own Network), the CLI's part played by a second
    Network on the same store: every sync is counted."""
    home = tmp_path / "store"
    init_store(home)
    out = tmp_path / "reminders.ics"
    (home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{out}"\n')
    calls: list[str] = []
    real = daemon_module.sync_target

    def counting(net: Network, target: Any, **kw: Any) -> Any:
        calls.append(target.name)
        return real(net, target, **kw)

    monkeypatch.setattr(daemon_module, "sync_target", counting)
    poll = 0.02  # seconds
    today = date(2026, 11, 20)
    with Network.open(home, home / "config.toml", today=today) as writer:
        writer.record(cmd.Meet("Ada Lovelace", on=today))
        started = threading.Event()
        box: dict[str, Any] = {}

        def serve() -> None:
            with Network.open(home, home / "config.toml", today=today) as net:
                box["daemon"] = Daemon(net, poll=poll, out=io.StringIO())
                started.set()
                box["code"] = box["daemon"].run()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            assert started.wait(10)
            wait_for(lambda: ics_uids(out), 10, "the first sync")
            time.sleep(10 * poll)  # ten polls: its push records are in the log by now
            assert calls == ["file"]

            writer.record(cmd.Meet("Grace Hopper", on=today))
            wait_for(lambda: len(ics_uids(out)) == 2, 10, "the second sync")
            time.sleep(10 * poll)
            assert calls == ["file", "file"]

            writer.record(cmd.Pitch(None, 5, on=today))  # a networking fact, even if nothing changes
            wait_for(lambda: len(calls) == 3, 10, "a sync on a networking fact")
            time.sleep(10 * poll)
            assert calls == ["file"] * 3
        finally:
            box["daemon"].stop.set()
            thread.join(10)
    assert not thread.is_alive() and box["code"] == 0
    log = box["daemon"].out.getvalue()
    assert "file: 1 created" in log and "Ada" not in log and "Grace" not in log


STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"


def after(lines: list[str], first: str, *then: str) -> None:
    """The line matching `first` (a regex), then lines matching `then`, in that order
    (other lines may come between them)."""
    i = next((n for n, line in enumerate(lines) if re.search(first, line)), None)
    text = "\n".join(lines)
    assert i is not None, f"no line matches {first!r} in:\n{text}"
    for pattern in then:
        i = next((n for n in range(i + 1, len(lines)) if re.search(pattern, lines[n])), None)
        assert i is not None, f"no line matches {pattern!r} after the one before in:\n{text}"


def test_verbose_logs_debug_lines_a_new_fact_as_a_poll_then_a_sync(run, home, tmp_path, state):
    ics_path = tmp_path / "reminders.ics"
    write_config(home, file=ics_target(ics_path))
    run.ok("init")
    run.ok("meet", NAMES[0])

    bg = run.popen("daemon", "--verbose", "--poll", "0.1")
    try:
        # its own push record seen (no sync for it): the next fact is alone in its poll
        wait_for(lambda: "push records only, no sync" in bg.stderr(), 10, "the first sync's push record")
        run.ok("meet", NAMES[1])
        recorded = state(home)[0]
        wait_for(lambda: len(ics_uids(ics_path)) == 2, 10, "the new item in the file")
        assert ics_uids(ics_path) == uids_of(run)
        wait_for(lambda: "1 unchanged" in bg.stderr(), 5, "the debug line of the second sync")
    finally:
        assert bg.stop() == 0, bg.stderr()
    log = bg.stderr()
    lines = log.splitlines()
    assert all(re.match(f"{STAMP} ", line) for line in lines), log  # one format, debug or not
    assert f"debug: target file: ics {ics_path}" in log
    after(lines, r" daemon started: 1 target\(s\), position 1$",
          r" debug: sync file started \(start\)$",
          r" debug: sync file finished in \d+\.\d\d s: 1 created, 0 updated, 0 deleted, 0 unchanged "
          r"\(0 requests\)$",
          r" file: 1 created, 0 updated, 0 deleted \(0 requests\)$",
          r" debug: poll: 1 new fact\(s\), position 1 -> 2: push records only, no sync$",
          rf" debug: poll: 1 new fact\(s\), position {recorded - 1} -> {recorded}: "
          r"networking facts, sync due$",
          r" debug: sync file started \(new facts\)$",
          r" debug: sync file finished in \d+\.\d\d s: 1 created, 0 updated, 0 deleted, 1 unchanged "
          r"\(0 requests\)$",
          r" daemon stopped$")  # fmt: skip
    for name in NAMES:
        for part in name.split():
            assert part not in log, f"{part!r} in the daemon's log:\n{log}"

    # without --verbose: the same work, the normal lines, no debug line
    quiet = run.popen("daemon", "--poll", "0.1")
    try:
        wait_for(lambda: "daemon started" in quiet.stderr(), 10, "the quiet daemon")
        run.ok("meet", "Katherine Johnson")
        wait_for(lambda: len(ics_uids(ics_path)) == 3, 10, "the third item in the file")
        wait_for(lambda: "file: 1 created" in quiet.stderr(), 5, "the quiet daemon's sync line")
    finally:
        assert quiet.stop() == 0, quiet.stderr()
    assert "debug" not in quiet.stderr(), quiet.stderr()
    assert [line.split(" ", 1)[1] for line in quiet.stderr().splitlines()] == [
        "daemon started: 1 target(s), position 4",
        "file: 1 created, 0 updated, 0 deleted (0 requests)",
        "daemon stopped",
    ]


def test_verbose_logs_remote_checks_and_the_day_change(tmp_path, radicale_calendar):
    """The Daemon loop in a thread: a remote check every 0.3 s finds nothing, then an item
    deleted with the caldav library; then midnight (the daemon's day moved on)."""
    home = tmp_path / "store"
    init_store(home)
    out = tmp_path / "reminders.ics"
    write_config(home, cal=caldav_target(radicale_calendar.url + "?token=s3cr3t"), file=ics_target(out))
    today = date(2026, 11, 20)
    with Network.open(home, home / "config.toml", today=today) as writer:
        writer.record(cmd.Meet("Ada Lovelace", on=today))
    started = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        with Network.open(home, home / "config.toml", today=today) as net:
            box["net"] = net
            box["daemon"] = Daemon(net, poll=0.05, remote_every=0.3, out=io.StringIO(), verbose=True)
            started.set()
            box["code"] = box["daemon"].run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        log = box["daemon"].out.getvalue
        wait_for(lambda: "debug: remote check cal: unchanged" in log(), 10, "a remote check")
        assert "debug: remote check file" not in log()  # a file has no changes of its own

        # another client deletes the item: the next remote check sees it
        (uid,) = read_back_uids(radicale_calendar)
        from caldav.davclient import DAVClient

        with DAVClient(url=radicale_calendar.url, require_tls=False, enable_rfc6764=False) as client:
            client.calendar(url=radicale_calendar.url).object_by_uid(uid).delete()
        assert read_back_uids(radicale_calendar) == []
        wait_for(lambda: "debug: remote check cal: changed" in log(), 10, "the remote change")

        box["net"].fixed_today = today + timedelta(days=1)  # midnight, for the daemon
        wait_for(lambda: "debug: day change" in log(), 10, "the day change")
        wait_for(lambda: "sync file finished" in log().rpartition("day change")[2], 10, "the day's syncs")
    finally:
        box["daemon"].stop.set()
        thread.join(10)
    assert not thread.is_alive() and box["code"] == 0
    text = box["daemon"].out.getvalue()
    lines = text.splitlines()
    # a check costs 1 or 2 requests (2 right after a change: docs/sync.md)
    after(lines, r" debug: sync cal started \(remote check\)$",
          r" debug: sync cal finished in \d+\.\d\d s: 0 created, 0 updated, 0 deleted, 1 unchanged "
          r"\([12] requests?\)$",
          r" debug: remote check cal: unchanged$",
          r" debug: sync cal started \(remote check\)$",
          r" debug: sync cal finished in \d+\.\d\d s: 0 created, 0 updated, 0 deleted, 0 unchanged, "
          r"1 user-deleted \([12] requests?\)$",
          r" debug: remote check cal: changed$")  # fmt: skip
    after(lines, r" debug: day change 2026-11-20 -> 2026-11-21: re-evaluating 2 target\(s\)$",
          r" debug: sync cal started \(day change\)$",
          r" debug: sync file started \(day change\)$")  # fmt: skip
    # the URL without its query string (where a token may be)
    assert f"debug: target cal: caldav {without_userinfo(radicale_calendar.url + '?token=s3cr3t')}" in text
    for word in ("s3cr3t", "Ada", "Lovelace"):
        assert word not in text, f"{word!r} in the daemon's log:\n{text}"


# ---------------------------------------------------------------- units
class Extreme(random.Random):
    """A rng whose uniform() returns the low or the high end."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def test_backoff_grows_exponentially_within_the_jitter_bounds():
    for high in (False, True):
        b = Backoff(base=5.0, cap=3600.0)
        factor = 1.5 if high else 0.5
        for n in range(1, 8):
            delay = b.failed(100.0, None, Extreme(high))
            assert delay == pytest.approx(5.0 * 2 ** (n - 1) * factor)
            assert b.failures == n and b.next_at == pytest.approx(100.0 + delay)

    rng = random.Random(42)
    b = Backoff(base=2.0, cap=60.0)
    for n in range(1, 12):
        nominal = 2.0 * 2 ** (n - 1)
        delay = b.failed(0.0, None, rng)
        assert min(60.0, 0.5 * nominal) <= delay <= min(60.0, 1.5 * nominal), (n, delay)
    # the cap bounds the delay after the jitter: never longer than the cap
    assert all(b.failed(0.0, None, rng) <= 60.0 for _ in range(50))
    # and the jitter really varies
    delays = {round(Backoff(base=10.0).failed(0.0, None, random.Random(s)), 6) for s in range(20)}
    assert len(delays) > 10


def test_backoff_honours_retry_after_and_resets_on_success():
    b = Backoff(base=5.0)
    assert b.failed(10.0, 120.0, Extreme(True)) == 120.0  # longer than the backoff: honoured
    assert b.next_at == 130.0
    assert b.failed(10.0, 1.0, Extreme(False)) == 5.0  # shorter: the backoff wins
    b.failed(10.0, None, Extreme(False))
    assert b.failures == 3

    b.succeeded()
    assert (b.failures, b.next_at) == (0, 0.0)
    assert b.failed(50.0, None, Extreme(False)) == 2.5  # back to the first step
    assert b.failures == 1


def test_agenda_facts_are_the_networking_facts_not_push_records():
    assert ev.ReminderPushed not in AGENDA_FACTS and ev.TargetSynced not in AGENDA_FACTS
    for cls in (ev.ContactMet, ev.Touched, ev.HelpGiven, ev.HelpReceived, ev.RequestMade, ev.RequestReceived,
                ev.Presented, ev.PromiseMade, ev.PromiseKept, ev.PromiseDropped, ev.Pocketed, ev.CadenceSet,
                ev.GoalSet, ev.GoalAchieved, ev.GoalLinked):  # fmt: skip
        assert cls in AGENDA_FACTS, cls
    assert len(AGENDA_FACTS) == len(set(AGENDA_FACTS))


def test_the_daemon_sees_networking_facts_and_ignores_push_records(tmp_path):
    """Against a real store: the topics match what the recorder stores."""
    home = tmp_path / "store"
    init_store(home)
    today = date(2026, 11, 20)
    with Network.open(home, home / "config.toml", today=today) as net:
        daemon = Daemon(net)
        net.record(cmd.Meet("Ada Lovelace", on=today))
        net.refresh()
        position = net.position()
        assert not daemon._networking_facts_since(position)

        (item,) = net.calendar_items(60)
        action = Action("created", item.item.uid, item.item.contact_id, item.item.summary)
        net.record_pushes("cal", [action])
        assert net.position() > position
        assert not daemon._networking_facts_since(position)  # only a push record since

        net.record(cmd.Pitch(None, 5, on=today))
        assert daemon._networking_facts_since(position)
