"""ICS feed figures.

- feed_render_N_vs_icalendar_plain: the feed body for N reminders rendered from the store,
  through the WSGI FeedApp exactly as `syncnet feed serve` answers a GET (agenda from the
  views, stamps, content lines), against icalendar building and serialising the same N
  reminders from prebuilt plain data (uid, due date, summary, alarm offset) as all-day
  VEVENTs with a VALARM. Target <= 1.5. N = 10,000 (quick: 2,000).
- feed_unchanged_304_renders: a second GET with If-None-Match is answered 304 without
  rendering again (renders / 1, target <= 1.0).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from icalendar import Alarm, Calendar, Event

from syncnet import Network, init_store
from syncnet.bootstrap import feed_app, feed_secret

from .__main__ import alternate, figure
from .synthetic import TODAY, followups

Plain = tuple[str, date, str, timedelta]


def build(n: int) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"syncnet-bench-feed-{n}-"))
    init_store(home)
    with Network.open(home, home / "config.toml", today=TODAY) as net:
        net.record_many(followups(n))
        net.refresh()
    return home


def get(app: Any, secret: str, etag: str | None = None) -> tuple[str, dict[str, str], bytes]:
    """One WSGI request to the feed; returns (status, headers, body)."""
    environ = {"PATH_INFO": f"/feed/{secret}.ics", "REQUEST_METHOD": "GET"}
    if etag:
        environ["HTTP_IF_NONE_MATCH"] = etag
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        got["status"], got["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return got["status"], got["headers"], body


def plain_calendar(rows: list[Plain]) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//bench//plain//EN")
    cal.add("version", "2.0")
    for uid, due, summary, offset in rows:
        ev = Event()
        ev.add("uid", uid)
        ev.add("dtstart", due)
        ev.add("summary", summary)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", offset)
        ev.add_component(alarm)
        cal.add_component(ev)
    body: bytes = cal.to_ical()
    return body


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    n = 2_000 if quick else 10_000
    home = build(n)
    rows: list[dict[str, Any]] = []
    try:
        with Network.open(home, home / "config.toml", today=TODAY) as net:
            f = net.config.feed
            items = net.calendar_items(f.horizon_days)  # stamps once, as the first request would
            assert len(items) == n and f.style == "event", (len(items), f.style)
            plain = [(s.item.uid, s.item.due, s.item.summary, timedelta(hours=9)) for s in items]
            secret = feed_secret(net)

            def mine() -> float:
                app = feed_app(net)  # a fresh app: nothing cached
                t = time.perf_counter()
                status, _, body = get(app, secret)
                elapsed = time.perf_counter() - t
                assert status.startswith("200") and body.count(b"BEGIN:VEVENT") == n
                return elapsed

            def anchor() -> float:
                t = time.perf_counter()
                body = plain_calendar(plain)
                elapsed = time.perf_counter() - t
                assert body.count(b"BEGIN:VEVENT") == n
                return elapsed

            a, b = alternate(mine, anchor, repeat)
            rows.append(figure(f"feed_render_{n}_vs_icalendar_plain", a, b, 1.5))

            app = feed_app(net)
            first, headers, _ = get(app, secret)
            second, _, body = get(app, secret, headers["ETag"])
            if not (first.startswith("200") and second.startswith("304") and body == b""):
                raise RuntimeError(f"feed answered {first}, then {second} with If-None-Match")
            rows.append(figure("feed_unchanged_304_renders", app.renders, 1, 1.0, unit="renders"))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return rows
