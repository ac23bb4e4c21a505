"""The ICS subscription feed: `syncnet serve` over real HTTP, and FeedApp as plain WSGI.

`serve` evaluates the agenda on the real date (it has no --today), so the facts
here are dated relative to the day `due --json` reports, and the expected items
come from `due --json --until` on that same day.
"""

from __future__ import annotations

import io
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from support import agenda_items, free_port, ics_items, next_second
from syncnet_adapters.feed import FeedApp

from syncnet.app.network import Network
from syncnet.bootstrap import feed_app, feed_secret
from syncnet.domain import commands as cmd
from syncnet.domain.reminders import uid_for
from syncnet.storage.store import init_store

HORIZON = 60


def feed_url(run: Any, port: int) -> str:
    """`feed url` names the address `serve --port` listens on."""
    url = run.ok("feed", "url").stdout.strip()
    assert url.startswith(f"http://127.0.0.1:{port}/feed/") and url.endswith(".ics"), url
    return url


def today_of(run: Any) -> date:
    return date.fromisoformat(run.json("due")["today"])


def expected_items(run: Any, today: date, horizon: int = HORIZON) -> dict[str, dict[str, Any]]:
    """UID -> agenda item, for the items due within `horizon` days (overdue included)."""
    return agenda_items(run, today + timedelta(days=horizon))


def build_network(run: Any) -> date:
    run.ok("init")
    today = today_of(run)
    run.ok("meet", "Ada Lovelace", "--channel", "conference")  # follow-up due in 3 days
    run.ok("meet", "Bob Smith", "--on", (today - timedelta(days=10)).isoformat())  # overdue follow-up
    run.ok("promise", "Ada", "Send the paper", "--due", (today + timedelta(days=5)).isoformat())
    # due beyond the horizon: in the agenda, not in the feed
    run.ok("promise", "Bob", "Review the book", "--due", (today + timedelta(days=HORIZON + 30)).isoformat())
    return today


# ---------------------------------------------------------------- over HTTP
def test_feed_serves_the_agenda_within_the_horizon_as_all_day_events(run):
    today = build_network(run)
    bg, port = run.serve()
    url = feed_url(run, port)

    r = httpx.get(url, timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0].strip() == "text/calendar"
    assert r.headers["etag"]

    expected = expected_items(run, today)
    assert len(expected) == 3, expected  # the far promise is left out
    far = run.json("due", "--until", (today + timedelta(days=HORIZON + 30)).isoformat())["agenda"]
    assert any(a["rule"] == "promise" and uid_for(a["key"]) not in expected for a in far)

    events = ics_items(r.content)
    assert set(events) == set(expected)
    assert not Calendar.from_ical(r.content).walk("VTODO")
    for uid, ev in events.items():
        item = expected[uid]
        due = date.fromisoformat(item["due"])
        start, end = ev["DTSTART"].dt, ev["DTEND"].dt
        assert type(start) is date and type(end) is date, (start, end)  # DATE, not DATE-TIME
        assert start == due and end == due + timedelta(days=1)
        assert str(ev["SUMMARY"]) == item["summary"]
        description = str(ev["DESCRIPTION"])
        assert item["summary"] in description  # who and why
        assert f"syncnet history {item['contact']['short']}" in description  # the way back

    # HEAD: the headers without the body
    head = httpx.head(url, timeout=10)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == r.headers["etag"]
    assert bg.alive()


def test_conditional_get_new_facts_wrong_paths_and_rotation(run):
    today = build_network(run)
    bg, port = run.serve()
    url = feed_url(run, port)
    base = f"http://127.0.0.1:{port}"

    with httpx.Client(timeout=10) as http:
        first = http.get(url)
        assert first.status_code == 200
        etag = first.headers["etag"]

        again = http.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        assert http.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

        # a new fact that changes the agenda: a new body, a new ETag, the new item
        run.ok("meet", "Carol Shaw")
        carol = [uid for uid, a in expected_items(run, today).items() if a["contact"]["name"] == "Carol Shaw"]
        assert len(carol) == 1
        changed = http.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        events = ics_items(changed.content)
        assert carol[0] in events
        assert set(events) == set(expected_items(run, today))
        # the items that did not change keep their bytes, DTSTAMP included
        before = ics_items(first.content)
        for uid, ev in before.items():
            assert events[uid].to_ical() == ev.to_ical(), uid

        # anything but the exact feed path is 404, whatever the method
        secret = url.rsplit("/", 1)[1].removesuffix(".ics")
        wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
        for path in (f"/feed/{wrong}.ics", "/", "/feed/", f"/feed/{secret}", f"/feed/{secret}.ics/x",
                     f"/feed/{secret}.ICS", f"/{secret}.ics", "/favicon.ico"):  # fmt: skip
            assert http.get(base + path).status_code == 404, path
        assert http.post(url, content=b"x").status_code == 405
        assert http.put(url, content=b"x").status_code == 405
        assert http.delete(url).status_code == 405
        assert http.post(f"{base}/feed/{wrong}.ics", content=b"x").status_code == 404
        assert http.get(url).status_code == 200  # still served after all that

        # rotation: the old URL is dead at once, the new one works
        run.ok("feed", "rotate")
        new_url = feed_url(run, port)
        assert new_url != url
        assert http.get(url).status_code == 404
        rotated = http.get(new_url)
        assert rotated.status_code == 200
        assert set(ics_items(rotated.content)) == set(events)
    assert bg.alive()


def test_unchanged_feed_is_byte_identical_even_after_unrelated_facts(run):
    """DTSTAMP comes from when a reminder last changed, never from the render time."""
    build_network(run)
    _, port = run.serve()
    url = feed_url(run, port)
    first = httpx.get(url, timeout=10)
    assert first.status_code == 200
    next_second()  # a render-time DTSTAMP (second resolution) would now differ
    run.ok("pitch", "--minutes", "5")  # a new fact (new log position) that changes no reminder
    second = httpx.get(url, timeout=10)
    assert second.status_code == 200
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert httpx.get(url, headers={"If-None-Match": first.headers["etag"]}, timeout=10).status_code == 304


def test_serve_binds_loopback_by_default_and_the_config_sets_the_port(run, home):
    run.ok("init")
    port = free_port()
    (home / "config.toml").write_text(f'[feed]\nport = {port}\nname = "My network"\n')
    url = run.ok("feed", "url").stdout.strip()
    assert url.startswith(f"http://127.0.0.1:{port}/feed/"), url

    bg = run.popen("serve")  # bind and port from the config's defaults
    deadline = time.monotonic() + 15
    while True:
        assert bg.alive(), bg.stderr()
        try:
            r = httpx.get(url, timeout=0.5)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "serve never answered"
            time.sleep(0.05)
    assert r.status_code == 200
    cal = Calendar.from_ical(r.content)
    assert str(cal["X-WR-CALNAME"]) == "My network"
    assert cal.walk("VEVENT") == []  # an empty store: an empty, valid calendar
    assert f"http://127.0.0.1:{port}/" in bg.stderr()
    assert url.rsplit("/", 1)[1] not in bg.stderr()  # the secret is never logged

    # bound to 127.0.0.1 only: another loopback address (or any other) is refused
    with pytest.raises(httpx.ConnectError):
        httpx.get(url.replace("127.0.0.1", "127.0.0.2"), timeout=2)


# ---------------------------------------------------------------- WSGI, no server
def call(app: Any, path: str, method: str = "GET", **headers: str) -> tuple[str, dict[str, str], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, hdrs: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = status, dict(hdrs)

    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "wsgi.input": io.BytesIO(b""),
               **{"HTTP_" + k.upper(): v for k, v in headers.items()}}  # fmt: skip
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


def test_feed_app_answers_304_without_rendering_again():
    key = ["k1"]
    bodies = iter([b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", b"same\r\n", b"other\r\n"])
    app = FeedApp(lambda: "s3cret", lambda: key[0], lambda: next(bodies))
    path = "/feed/s3cret.ics"

    status, headers, body = call(app, path)
    assert status.startswith("200") and body.startswith(b"BEGIN:VCALENDAR")
    assert headers["Content-Length"] == str(len(body))
    etag = headers["ETag"]
    assert app.renders == 1

    for _ in range(3):
        status, headers, body = call(app, path, if_none_match=etag)
        assert status.startswith("304") and body == b"" and headers["ETag"] == etag
    status, _, body = call(app, path, if_none_match=f'"nope", W/{etag}')  # weak and lists match too
    assert status.startswith("304")
    status, _, body = call(app, path)  # an unconditional GET is served from the cache
    assert status.startswith("200") and body.startswith(b"BEGIN:VCALENDAR")
    assert app.renders == 1

    # wrong paths and methods never render
    assert call(app, "/feed/wrong.ics")[0].startswith("404")
    assert call(app, path, "POST")[0].startswith("405")
    assert app.renders == 1

    key[0] = "k2"  # the agenda may have changed: render again, new ETag
    status, headers, body = call(app, path, if_none_match=etag)
    assert status.startswith("200") and body == b"same\r\n" and headers["ETag"] != etag
    assert app.renders == 2


def test_feed_app_on_a_real_store_renders_only_when_the_log_moves(tmp_path: Path):
    home = tmp_path / "store"
    init_store(home)
    today = date(2026, 11, 20)
    with Network.open(home, home / "config.toml", today=today) as net:
        net.record(cmd.Meet("Ada Lovelace", "conference", on=today - timedelta(days=1)))
        app = feed_app(net)
        path = f"/feed/{feed_secret(net)}.ics"

        status, headers, body = call(app, path)
        assert status.startswith("200") and app.renders == 1
        assert len(Calendar.from_ical(body).walk("VEVENT")) == 1
        etag = headers["ETag"]
        assert call(app, path, if_none_match=etag)[0].startswith("304")
        assert app.renders == 1

        net.record(cmd.Pitch(None, 5, on=today))  # the log moved: render, but the same bytes
        status, headers, _ = call(app, path, if_none_match=etag)
        assert status.startswith("304") and headers["ETag"] == etag
        assert app.renders == 2

        net.record(cmd.Meet("Bob Smith", on=today))
        status, headers, body = call(app, path, if_none_match=etag)
        assert status.startswith("200") and headers["ETag"] != etag
        assert len(Calendar.from_ical(body).walk("VEVENT")) == 2
        assert app.renders == 3

        feed_secret(net, rotate=True)
        assert call(app, path)[0].startswith("404")
        assert call(app, f"/feed/{feed_secret(net)}.ics")[0].startswith("200")
        assert app.renders == 3


def test_render_cache_gives_the_same_bytes_and_renders_only_what_changed():
    """The feed server keeps rendered items: after a change only new or changed items
    go through icalendar, and the body is byte for byte what a full render gives."""
    from datetime import UTC, datetime

    from syncnet_adapters.ics import RenderCache, render

    from syncnet.domain.reminders import CalendarItem, stamp

    def items(n: int, renamed: int | None = None) -> list[CalendarItem]:
        return [
            CalendarItem(f"{i:032x}@syncnet", f"c{i}:followup:2026-11-20", "followup", f"c{i}",
                         date(2026, 11, 20), date(2026, 11, 23) + timedelta(days=i % 5),
                         f"Follow up with Contact {i}{' (renamed)' if i == renamed else ''} — met at a "
                         "conference with a long name that needs folding", "Who and why.\nsyncnet history x")
            for i in range(n)
        ]  # fmt: skip

    alarms = [timedelta(hours=9)]
    cache = RenderCache("event", alarms, "syncnet")
    known: dict = {}
    first, changed = stamp(items(20), known, datetime(2026, 11, 25, 10, tzinfo=UTC))
    known.update(changed)
    assert cache.render(first) == render(first, "event", alarms, "syncnet")
    assert cache.rendered == 20
    second, changed = stamp(items(21, renamed=3), known, datetime(2026, 11, 26, 10, tzinfo=UTC))
    assert set(changed) == {f"{3:032x}@syncnet", f"{20:032x}@syncnet"}  # one changed, one new
    assert cache.render(second) == render(second, "event", alarms, "syncnet")
    assert cache.rendered == 22  # only those two went through icalendar again
