"""The defects found with issue 9's review, each checked as a user meets it."""

from __future__ import annotations

import re
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
from caldav_fixtures import Calendar, make_calendar, read_back_uids
from support import free_port, wait_for
from syncnet_adapters.feed import FeedApp

from syncnet.entrypoints.cli import cli

REPO = Path(__file__).resolve().parent.parent
T = ("--today", "2026-11-20")


# ---------------------------------------------------------------- a missing key is an error
def test_a_data_key_missing_without_an_erasure_is_an_error_naming_the_contact(run, home):
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--where", "PyCon", *T)
    contact = run.json("contacts", *T)["contacts"][0]
    conn = sqlite3.connect(home / "store.db")
    with conn:
        deleted = conn.execute("DELETE FROM syncnet_keys WHERE subject = ?", (contact["id"],)).rowcount
    conn.close()
    assert deleted == 1
    for args in (("due", *T), ("contacts",), ("history", contact["short"])):
        proc = run(*args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and contact["short"] in lines[0], proc.stderr
        assert "[forgotten]" not in proc.stdout + proc.stderr


# ---------------------------------------------------------------- --help names real files
def all_commands() -> list[list[str]]:
    out: list[list[str]] = [[]]
    for name, command in cli.commands.items():  # type: ignore[attr-defined]
        out.append([name])
        for sub in getattr(command, "commands", {}):
            out.append([name, sub])
    return out


def test_every_file_that_help_names_exists():
    from click.testing import CliRunner

    named = set()
    for path in all_commands():
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        named |= set(re.findall(r"(?:docs/[\w.-]+\.md|config\.example\.toml)", result.output))
    assert "docs/sync.md" in named
    for name in named:
        assert (REPO / name).is_file(), name


# ---------------------------------------------------------------- the feed
def test_feed_url_follows_the_port_serve_listens_on(run, tmp_path):
    run.ok("init")
    assert ":8765/feed/" in run.ok("feed", "url").stdout  # the configured default
    port = free_port()
    serve = run.popen("serve", "--port", port)
    wait_for(lambda: _get(f"http://127.0.0.1:{port}/"), 15, "serve to listen")
    url = run.ok("feed", "url").stdout.strip()
    assert url.startswith(f"http://127.0.0.1:{port}/feed/"), url
    answer = _get(url)
    assert answer is not None
    assert answer.status_code == 200 and answer.text.startswith("BEGIN:VCALENDAR")
    assert run.ok("feed", "url", "--port", "9999").stdout.startswith("http://127.0.0.1:9999/feed/")
    assert serve.stop(timeout=10) == 0


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2)
    except httpx.TransportError:
        return None


def call(app: FeedApp, path: str, **headers: str) -> tuple[str, bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    body = b"".join(app(environ, start_response))
    return seen["status"], body


def test_if_none_match_star_is_not_modified():
    app = FeedApp(lambda: "s3cret", lambda: "v1", lambda: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    status, body = call(app, "/feed/s3cret.ics")
    assert status == "200 OK" and body.startswith(b"BEGIN:VCALENDAR")
    assert call(app, "/feed/s3cret.ics", if_none_match="*") == ("304 Not Modified", b"")
    assert call(app, "/feed/s3cret.ics", if_none_match='"other"')[0] == "200 OK"
    assert call(app, "/feed/wrong.ics", if_none_match="*")[0] == "404 Not Found"


# ---------------------------------------------------------------- sync's words
def test_a_no_op_sync_says_one_request(run, home, radicale_calendar: Calendar):
    run.ok("init")
    (home / "config.toml").write_text(f'[targets.cal]\ntype = "caldav"\nurl = "{radicale_calendar.url}"\n')
    run.ok("meet", "Ada Lovelace", *T)
    run.ok("sync", *T)
    run.ok("sync", *T)  # learns the ctag
    out = run.ok("sync", *T).stdout
    assert "0 created, 0 updated, 0 deleted (1 request)" in out, out


# ---------------------------------------------------------------- --config
def test_a_config_file_named_but_missing_is_bad_input_and_nothing_is_created(run, home, tmp_path):
    missing = tmp_path / "nope.toml"
    line = run.fails("--config", missing, "init")
    assert str(missing) in line and "does not exist" in line
    assert not home.exists()
    run.ok("init")
    line = run.fails("--config", missing, "due")
    assert str(missing) in line


# ---------------------------------------------------------------- the demo
def test_the_demo_run_twice_leaves_one_home_and_one_set_of_reminders(run, radicale_calendar: Calendar):
    first = run.json("demo", "--caldav-url", radicale_calendar.url, *T)
    assert first["caldav"]["ok"] and first["caldav"]["created"] > 0
    demo_cal = radicale_calendar.url.rstrip("/") + "/"
    before = read_back_uids(demo_cal)
    assert len(before) == first["caldav"]["created"]
    time.sleep(0.01)
    second = run.json("demo", "--caldav-url", radicale_calendar.url, *T)
    after = read_back_uids(demo_cal)
    assert len(after) == second["caldav"]["created"] == len(before)
    assert not set(before) & set(after)  # the first demo's reminders were removed
    assert second["home"] == first["home"] and Path(second["home"], "store.db").exists()
    assert not any((run.base / "tmp").iterdir())  # nothing left behind in the temp dir

    # A run without a calendar still removes what the previous one pushed ...
    third = run.json("demo", *T)
    assert third["caldav"] is None and read_back_uids(demo_cal) == []
    # ... and one to another calendar leaves the first calendar empty as well.
    run.json("demo", "--caldav-url", radicale_calendar.url, *T)
    other = make_calendar(radicale_calendar.server)
    fifth = run.json("demo", "--caldav-url", other.url, *T)
    assert read_back_uids(demo_cal) == [] and len(read_back_uids(other)) == fifth["caldav"]["created"]


def test_serve_on_a_taken_port_fails_and_feed_url_keeps_the_last_good_address(run):
    run.ok("init")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run("serve", "--port", port)
    assert proc.returncode == 1 and "Address already in use" in proc.stderr, proc.stderr
    assert ":8765/feed/" in run.ok("feed", "url").stdout
