"""An .ics file as a sync target (`syncnet sync`), and the demo's ICS file and CalDAV push."""

from __future__ import annotations

import os
import stat
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from caldav_fixtures import read_back, read_back_uids
from icalendar import Calendar
from support import T, agenda_items, free_port, ics_items, write_config
from syncnet_adapters import ics

from syncnet.domain.reminders import uid_for

TODAY = date(2026, 11, 20)


def expected(run: Any, horizon: int = 60) -> dict[str, dict[str, Any]]:
    return agenda_items(run, TODAY + timedelta(days=horizon), *T)


def items(path: Path, kind: str = "VEVENT") -> dict[str, Any]:
    return ics_items(path.read_bytes(), kind)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.fixture
def network(run: Any) -> str:
    """A small network; returns the short id of the promise due within the horizon."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--channel", "conference", "--on", "2026-11-19", *T)  # follow-up 11-22
    run.ok("meet", "Bob Smith", "--on", "2026-11-01", *T)  # follow-up overdue since 11-04
    done = run.json("promise", "Ada", "Send the paper", "--due", "2026-11-25", *T)
    run.ok("promise", "Bob", "Review the book", "--due", "2027-03-01", *T)  # beyond 60 days
    return str(done["recorded"]["promise_short"])


def test_sync_writes_the_agenda_to_an_ics_file(run, home, tmp_path, network):
    out = tmp_path / "cal" / "reminders.ics"
    write_config(home, file={"type": "ics", "path": str(out), "alarms": ["PT9H", "-P1D"]})

    doc = run.json("sync", *T)
    assert doc["targets"][0]["ok"] is True and doc["targets"][0]["counts"]["created"] == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert leftovers(out.parent) == []  # no temp file left behind

    want = expected(run)
    assert len(want) == 3
    events = items(out)
    assert set(events) == set(want)
    assert Calendar.from_ical(out.read_bytes()).walk("VTODO") == []
    for uid, ev in events.items():
        a = want[uid]
        due = date.fromisoformat(a["due"])
        assert type(ev["DTSTART"].dt) is date and ev["DTSTART"].dt == due
        assert ev["DTEND"].dt == due + timedelta(days=1)
        assert str(ev["SUMMARY"]) == a["summary"]
        alarms = ev.walk("VALARM")
        assert [al["TRIGGER"].dt for al in alarms] == [timedelta(hours=9), timedelta(days=-1)]
        assert all(str(al["ACTION"]) == "DISPLAY" for al in alarms)

    status = run.json("status", *T)["targets"][0]
    assert status["target"] == "file" and status["last_error"] is None and status["holds"] == 3
    assert status["pending"] == {"create": 0, "update": 0, "delete": 0}


def test_a_second_sync_without_change_leaves_the_file_untouched(run, home, tmp_path, network):
    out = tmp_path / "reminders.ics"
    write_config(home, file={"type": "ics", "path": str(out)})
    run.ok("sync", *T)
    before, st = out.read_bytes(), out.stat()

    doc = run.json("sync", *T)
    assert doc["targets"][0]["actions"] == []
    after = out.stat()
    assert out.read_bytes() == before
    assert (after.st_mtime_ns, after.st_ino) == (st.st_mtime_ns, st.st_ino)

    # a change replaces the file (a new inode: written beside it, then renamed over it)
    run.ok("meet", "Carol Shaw", "--on", "2026-11-20", *T)
    doc = run.json("sync", *T)
    assert doc["targets"][0]["counts"]["created"] == 1
    assert out.stat().st_ino != st.st_ino
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert set(items(out)) == set(expected(run))
    assert leftovers(tmp_path) == []


def test_a_completed_reminder_disappears_from_the_file(run, home, tmp_path, network):
    out = tmp_path / "reminders.ics"
    write_config(home, file={"type": "ics", "path": str(out)})
    run.ok("sync", *T)
    promise_uids = {u for u, a in expected(run).items() if a["rule"] == "promise"}
    assert len(promise_uids) == 1 and promise_uids <= set(items(out))

    before = set(items(out))
    run.ok("kept", network, *T)  # keeping it is also an interaction: Ada's follow-up is done too
    after = expected(run)
    assert promise_uids <= before - set(after)
    doc = run.json("sync", *T)
    actions = doc["targets"][0]["actions"]
    assert {a["action"] for a in actions} == {"deleted"}
    assert {a["uid"] for a in actions} == before - set(after)
    left = items(out)
    assert not promise_uids & set(left)
    assert set(left) == set(after) and len(left) == 1


def test_todo_style_uses_vtodo_with_a_due_date(run, home, tmp_path, network):
    out = tmp_path / "todo.ics"
    write_config(home, tasks={"type": "ics", "path": str(out), "style": "todo", "alarms": ["-PT30M"],
                              "horizon_days": 10})  # fmt: skip
    run.ok("sync", *T)
    cal = Calendar.from_ical(out.read_bytes())
    assert cal.walk("VEVENT") == []
    todos = {str(c["UID"]): c for c in cal.walk("VTODO")}
    want = expected(run, horizon=10)
    assert set(todos) == set(want) and len(want) == 3
    for uid, todo in todos.items():
        due = todo["DUE"]
        assert type(due.dt) is date and due.dt == date.fromisoformat(want[uid]["due"])
        assert due.params.get("VALUE") == "DATE" or b"DUE;VALUE=DATE:" in todo.to_ical()
        assert str(todo["STATUS"]) == "NEEDS-ACTION"
        (alarm,) = todo.walk("VALARM")
        assert alarm["TRIGGER"].dt == timedelta(minutes=-30)
        assert alarm["TRIGGER"].params["RELATED"] == "END"


def test_a_short_horizon_leaves_later_items_out(run, home, tmp_path, network):
    out = tmp_path / "soon.ics"
    write_config(home, soon={"type": "ics", "path": str(out), "horizon_days": 3})
    run.ok("sync", *T)
    want = expected(run, horizon=3)  # the overdue and the 11-22 follow-ups, not the 11-25 promise
    assert {a["due"] for a in want.values()} == {"2026-11-04", "2026-11-22"}
    assert set(items(out)) == set(want)


def test_write_atomically_never_leaves_a_half_written_file(tmp_path, monkeypatch):
    path = tmp_path / "x.ics"
    assert ics.write_atomically(path, b"one") is True
    assert ics.write_atomically(path, b"one") is False  # unchanged: not rewritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        ics.write_atomically(path, b"two, longer than one")
    assert path.read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ics"]  # the temp file is gone


# ---------------------------------------------------------------- the demo
def test_demo_writes_an_ics_file_with_as_many_items_as_it_says(run, tmp_path):
    demo_home = tmp_path / "demo"
    doc = run.json("demo", "--home", demo_home, *T)
    path = Path(doc["ics"])
    assert path == demo_home / "reminders.ics" and path.exists()
    events = items(path)
    assert doc["ics_items"] > 0 and len(events) == doc["ics_items"]
    last = TODAY + timedelta(days=60)
    in_horizon = {uid_for(a["key"]) for a in doc["agenda"] if date.fromisoformat(a["due"]) <= last}
    assert set(events) == in_horizon
    assert doc["caldav"] is None

    text = run.ok("demo", "--home", tmp_path / "demo2", *T).stdout
    assert f"{doc['ics_items']} reminders" in text and str(tmp_path / "demo2" / "reminders.ics") in text


@pytest.mark.parametrize("user", ["test", None])
def test_demo_pushes_to_a_caldav_calendar(run, tmp_path, radicale_calendar, user):
    # The test Radicale runs with auth "none": a user and password (sent as HTTP Basic)
    # work, and so does no user at all (no Authorization header).
    demo_home = tmp_path / "demo"
    env = {"SYNCNET_DEMO_USER": user, "SYNCNET_DEMO_PASSWORD": "x"} if user else {}
    doc = run.json("demo", "--home", demo_home, "--caldav-url", radicale_calendar.url, *T, env=env)
    assert doc["caldav"] == {"ok": True, "error": None, "created": doc["ics_items"]}
    in_file = items(Path(doc["ics"]))
    assert read_back_uids(radicale_calendar) == sorted(in_file)
    summaries = {str(c["SUMMARY"]) for c in read_back(radicale_calendar)}
    assert summaries == {str(c["SUMMARY"]) for c in in_file.values()}


def test_demo_with_a_user_but_no_password_names_the_variable_to_set(run, tmp_path, radicale_calendar):
    env = {"SYNCNET_DEMO_USER": "test"}
    proc = run("demo", "--home", tmp_path / "demo", "--caldav-url", radicale_calendar.url, *T, env=env)
    assert proc.returncode in (1, 2)
    assert "SYNCNET_DEMO_PASSWORD" in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert read_back_uids(radicale_calendar) == []


def test_demo_reports_an_unreachable_caldav_server_with_exit_1(run, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/cal/"  # nothing listens there
    proc = run("demo", "--home", tmp_path / "demo", "--caldav-url", url, *T)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("syncnet: error: target demo"), proc.stderr
    assert (tmp_path / "demo" / "reminders.ics").exists()  # the file is written all the same
