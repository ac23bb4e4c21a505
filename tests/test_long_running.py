"""Long-running processes see every fact recorded after they started (issue 9, fix 1).

`syncnet daemon` and `syncnet serve` are started on an empty store and left running
while the CLI, in processes of its own, records new contacts (each with a new data
key), their meetings, a promise and a goal. What reaches Radicale, the feed and the
push records must carry the real texts: a process that kept the data keys it saw at
start renders "Follow up with [forgotten]" instead. One contact is recorded and seen
in both places first: a key ring is read on first use, so a process that has not yet
used it would read all the keys late and hide the fault.

Both processes evaluate the agenda on the real date (neither has --today), so the
facts are recorded on the real date too and the expected items come from `due --json`.

SYNCNET_TEST_PYTHON=/path/to/python runs the CLI of the syncnet installed for that
interpreter instead of this checkout's, to show the test fails on an older version.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest
import support
from caldav_fixtures import read_back
from icalendar import Calendar as ICalendar

from syncnet.domain.reminders import uid_for

if TYPE_CHECKING:
    from caldav_fixtures import Calendar
    from conftest import Runner

# name -> where we met: non-ASCII in every script the store has to carry
PEOPLE = {
    "Ængus Ó Súilleabháin": "Áras an Uachtaráin, Baile Átha Cliath",
    "Zoë Ødegård": "Café Ørsted, Århus",
    "Jürgen Weiß": "Brauhaus Früh am Dom, Köln",
    "Łucja Żółć": "Kawiarnia Więź, Łódź",
    "Søren Kierkegård": "Nyhavn 17, København",
}
PROMISED_TO = "Łucja Żółć"
PROMISE = "Send the Ölüdeniz field notes — rev. Δ, «signed»"
GOAL = "Förderung für das Ørsted-Projekt"
GOAL_CONTACT = "Jürgen Weiß"
FORGOTTEN = "[forgotten]"
WAIT = 20.0  # seconds; both processes poll every 0.2 s, so this is normally well under 2


@pytest.fixture
def cli(run_process: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """The CLI in processes of its own (the point here: facts recorded by other processes),
    or another interpreter's syncnet (SYNCNET_TEST_PYTHON)."""
    other = os.environ.get("SYNCNET_TEST_PYTHON")
    if other:
        monkeypatch.setattr(sys, "executable", other)  # Runner runs [sys.executable, "-m", "syncnet"]
        monkeypatch.chdir(tmp_path)  # `-m` puts the cwd first: keep the checkout out of the path
    return run_process


def wait_for(check: Callable[[], Any], what: str) -> Any:
    return support.wait_for(check, WAIT, what, interval=0.1)


def feed_url(run: Runner, port: int) -> str:
    """The feed's URL on the port `serve` listens on. Only the path of what `feed url`
    prints is taken, so that the test also runs against the release whose `feed url`
    ignored `serve --port` (SYNCNET_TEST_PYTHON); test_small_fixes.py checks the port."""
    path = urlsplit(run.ok("feed", "url").stdout.strip()).path
    assert path.startswith("/feed/") and path.endswith(".ics"), path
    return f"http://127.0.0.1:{port}{path}"


def by_uid(components: list[Any]) -> dict[str, tuple[str, str]]:
    """UID -> (SUMMARY, DESCRIPTION); a duplicate UID fails."""
    found = {str(c["UID"]): (str(c["SUMMARY"]), str(c["DESCRIPTION"])) for c in components}
    assert len(found) == len(components), "duplicate UIDs"
    return found


def feed_items(url: str) -> dict[str, tuple[str, str]]:
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200, r.status_code
    assert FORGOTTEN.encode() not in r.content, r.content.decode()
    return by_uid(ICalendar.from_ical(r.content).walk("VEVENT"))


def agenda(run: Runner) -> dict[str, dict[str, Any]]:
    """UID -> agenda item, as a fresh process computes it (`due --json`)."""
    return {uid_for(a["key"]): a for a in run.json("due")["agenda"]}


def pushed_items(calendar: Calendar, expected: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The calendar's items once it holds exactly the expected UIDs, else {} (not yet)."""
    found = by_uid(read_back(calendar))
    return found if found.keys() == expected.keys() else {}


def check_items(found: dict[str, tuple[str, str]], expected: dict[str, dict[str, Any]], where: str) -> None:
    """Each expected item, with the agenda's summary and a description that says who and
    the way back; nothing else."""
    assert set(found) == set(expected), where
    for uid, (summary, description) in found.items():
        item = expected[uid]
        assert summary == item["summary"], (where, summary, item["summary"])
        assert description.startswith(f"{item['summary']}.\n"), (where, description)
        assert f"syncnet history {item['contact']['short']}" in description, (where, description)
        assert FORGOTTEN not in summary + description, (where, summary, description)


def test_daemon_and_feed_carry_the_real_texts_of_facts_recorded_after_they_started(
    radicale_calendar: Calendar, cli: Runner, home: Path
) -> None:
    run = cli
    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        f'[targets.cal]\ntype = "caldav"\nurl = "{radicale_calendar.url}"\n\n[feed]\nname = "Long running"\n',
        encoding="utf-8",
    )
    run.ok("init")  # an empty store: every key below is one the processes have never seen

    daemon = run.popen("daemon", "--poll", "0.2")
    serve, port = run.serve()
    try:
        url = feed_url(run, port)
        # both have opened the store and done their first round before any fact exists
        assert feed_items(url) == {}
        wait_for(lambda: run.json("status")["targets"][0]["last_success"], "the daemon's first sync")
        assert read_back(radicale_calendar) == []

        # one contact first, so that both have used their key ring before the new keys exist
        today = date.fromisoformat(run.json("due")["today"])
        (first, place), *others = PEOPLE.items()
        run.ok("meet", first, "--channel", "club", "--where", place)
        expected = agenda(run)
        check_items(wait_for(lambda: pushed_items(radicale_calendar, expected), "the first push"), expected,
                    "Radicale")  # fmt: skip
        check_items(feed_items(url), expected, "feed")

        for name, place in others:
            run.ok("meet", name, "--channel", "club", "--where", place)
        run.ok("promise", PROMISED_TO, PROMISE, "--due", (today + timedelta(days=7)).isoformat())
        run.ok("goal", "add", GOAL)
        run.ok("goal", "link", GOAL_CONTACT, GOAL)

        # what a fresh process computes: the real texts, each contact's follow-up and the promise
        expected = agenda(run)
        assert len(expected) == len(PEOPLE) + 1, expected
        summaries = [a["summary"] for a in expected.values()]
        for name, place in PEOPLE.items():
            assert sum(name in s and place in s for s in summaries) == 1, (name, summaries)
        assert [s for s in summaries if PROMISE in s and PROMISED_TO in s], summaries
        assert not [s for s in summaries if FORGOTTEN in s], summaries

        # the daemon pushed them to Radicale, read back with the caldav library
        check_items(wait_for(lambda: pushed_items(radicale_calendar, expected), "every push"), expected,
                    "Radicale")  # fmt: skip
        # the feed, served by a process that opened the store before all of this
        check_items(feed_items(url), expected, "feed")

        # the push records keep each item's summary, sealed with its contact's key
        for name in PEOPLE:
            mine = {a["summary"] for a in expected.values() if a["contact"]["name"] == name}

            def pushed(name: str = name, count: int = len(mine)) -> list[dict[str, Any]]:
                events = run.json("history", name)["events"]
                found = [e for e in events if e["kind"] == "pushed"]
                return found if len(found) == count else []

            records = wait_for(pushed, f"the push records of {name}")
            assert {e["details"]["summary"] for e in records} == mine, records
            assert all(name in e["details"]["summary"] for e in records), records
            assert {(e["details"]["target"], e["details"]["action"]) for e in records} == {("cal", "created")}

        assert daemon.alive(), daemon.stderr()
        assert serve.alive(), serve.stderr()
    finally:
        codes = {"daemon": daemon.stop(signal.SIGTERM), "serve": serve.stop(signal.SIGTERM)}
    # their logs carry counts and addresses, never a name, a place or a promise
    for bg in (daemon, serve):
        log = bg.stderr() + bg.stdout()
        for text in (*PEOPLE, *PEOPLE.values(), PROMISE, GOAL):
            assert text not in log, f"{text!r} in a log:\n{log}"
    log = daemon.stderr()
    assert re.search(r"cal: \d+ created", log) and "daemon stopped" in log, log
    assert codes == {"daemon": 0, "serve": 0}, (daemon.stderr(), serve.stderr())
