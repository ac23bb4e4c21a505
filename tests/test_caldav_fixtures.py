"""Smoke tests for tests/caldav_fixtures.py: the real CalDAV peers start, calendars are
fresh, read_back sees what was written, auth is enforced, the proxy hides sync-collection."""

from __future__ import annotations

import uuid

import httpx
import pytest
from caldav_fixtures import Calendar, NoSyncProxy, Server, make_calendar, read_back, read_back_uids

SYNC_COLLECTION = b"""<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:">
  <D:sync-token/>
  <D:sync-level>1</D:sync-level>
  <D:prop><D:getetag/></D:prop>
</D:sync-collection>
"""

PROPFIND_ETAGS = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>
"""


def vtodo(uid: str, summary: str = "Call Ada", status: str = "NEEDS-ACTION") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//syncnet//tests//EN\r\n"
        "BEGIN:VTODO\r\n"
        f"UID:{uid}\r\n"
        "DTSTAMP:20261120T090000Z\r\n"
        f"SUMMARY:{summary}\r\n"
        "DUE:20261125T170000Z\r\n"
        f"STATUS:{status}\r\n"
        "END:VTODO\r\n"
        "END:VCALENDAR\r\n"
    ).encode()


def vevent(uid: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//syncnet//tests//EN\r\n"
        "BEGIN:VEVENT\r\n"
        f"UID:{uid}\r\n"
        "DTSTAMP:20261120T090000Z\r\n"
        "DTSTART:20261125T100000Z\r\n"
        "DTEND:20261125T110000Z\r\n"
        "SUMMARY:Lunch with Grace\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()


def put_new(url: str, body: bytes, auth: tuple[str, str] | None = None) -> httpx.Response:
    return httpx.put(
        url,
        content=body,
        headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
        auth=auth,
    )


def test_any_calendar_put_and_read_back(any_calendar: Calendar) -> None:
    cal = any_calendar
    assert cal.url.endswith("/") and cal.url.startswith(cal.server.home_url)
    assert read_back(cal) == []
    uid = f"todo-{uuid.uuid4()}"
    r = put_new(f"{cal.url}{uid}.ics", vtodo(uid))
    assert r.status_code == 201, r.text
    assert r.headers.get("etag")
    [comp] = read_back(cal.url)
    assert comp.name == "VTODO"
    assert str(comp["UID"]) == uid
    assert str(comp["SUMMARY"]) == "Call Ada"
    # the same UID again with If-None-Match: * is refused by both servers
    assert put_new(f"{cal.url}{uid}.ics", vtodo(uid)).status_code == 412


def test_read_back_includes_events_and_completed_todos(any_calendar: Calendar) -> None:
    cal = any_calendar
    ids = {"ev": f"ev-{uuid.uuid4()}", "done": f"done-{uuid.uuid4()}", "open": f"open-{uuid.uuid4()}"}
    assert put_new(f"{cal.url}{ids['ev']}.ics", vevent(ids["ev"])).status_code == 201
    assert put_new(f"{cal.url}{ids['done']}.ics", vtodo(ids["done"], status="COMPLETED")).status_code == 201
    assert put_new(f"{cal.url}{ids['open']}.ics", vtodo(ids["open"])).status_code == 201
    assert read_back_uids(cal) == sorted(ids.values())
    names = sorted(str(c.name) for c in read_back(cal))
    assert names == ["VEVENT", "VTODO", "VTODO"]


@pytest.mark.parametrize("server_fixture", ["radicale_server", "xandikos_server"])
def test_calendars_are_distinct_and_empty(request: pytest.FixtureRequest, server_fixture: str) -> None:
    server: Server = request.getfixturevalue(server_fixture)
    a, b = make_calendar(server), make_calendar(server)
    assert a.url != b.url
    uid = f"todo-{uuid.uuid4()}"
    assert put_new(f"{a.url}{uid}.ics", vtodo(uid)).status_code == 201
    assert read_back_uids(a) == [uid]
    assert read_back_uids(b) == []


def test_fixture_calendars_differ(radicale_calendar: Calendar, xandikos_calendar: Calendar) -> None:
    assert radicale_calendar.server.name == "radicale"
    assert xandikos_calendar.server.name == "xandikos"
    assert radicale_calendar.server.base_url != xandikos_calendar.server.base_url
    assert read_back(radicale_calendar) == [] and read_back(xandikos_calendar) == []


def test_radicale_auth(radicale_auth_calendar: Calendar) -> None:
    cal = radicale_auth_calendar
    assert cal.server.auth == ("alice", "s3cret")
    assert cal.url.startswith(cal.server.base_url + "/alice/")
    uid = f"todo-{uuid.uuid4()}"
    url = f"{cal.url}{uid}.ics"
    assert put_new(url, vtodo(uid), auth=("alice", "wrong")).status_code == 401
    assert put_new(url, vtodo(uid)).status_code == 401
    assert put_new(url, vtodo(uid), auth=cal.server.auth).status_code == 201
    assert httpx.get(url, auth=("alice", "wrong")).status_code == 401
    assert read_back_uids(cal) == [uid]  # the Calendar carries the server's auth
    assert read_back_uids(cal.url, cal.server.auth) == [uid]


def test_proxy_refuses_sync_collection_and_forwards_the_rest(
    no_sync_proxy: NoSyncProxy, radicale_calendar: Calendar
) -> None:
    proxy = no_sync_proxy
    upstream = radicale_calendar.url
    url = proxy.url_for(upstream)
    path = url[len(proxy.base_url) :]
    assert proxy.home_url == proxy.base_url + "/test/"

    with httpx.Client() as client:
        # sync-collection: refused with a DAV error, never reaches Radicale
        r = client.request("REPORT", url, content=SYNC_COLLECTION, headers={"Depth": "1"})
        assert r.status_code == 403
        assert b"supported-report" in r.content and b"DAV:" in r.content
        # ...while Radicale itself answers it
        direct = client.request("REPORT", upstream, content=SYNC_COLLECTION, headers={"Depth": "1"})
        assert direct.status_code == 207

        uid = f"todo-{uuid.uuid4()}"
        item = f"{url}{uid}.ics"
        r = client.put(
            item, content=vtodo(uid), headers={"Content-Type": "text/calendar", "If-None-Match": "*"}
        )
        assert r.status_code == 201, r.text
        etag = r.headers["etag"]
        # conditional headers are forwarded
        assert client.put(item, content=vtodo(uid), headers={"If-None-Match": "*"}).status_code == 412
        assert client.put(item, content=vtodo(uid, "x"), headers={"If-Match": '"nope"'}).status_code == 412
        r = client.put(item, content=vtodo(uid, "Call Ada again"), headers={"If-Match": etag})
        assert r.status_code in (201, 204), r.text
        new_etag = r.headers["etag"]
        assert new_etag != etag

        r = client.request("PROPFIND", url, content=PROPFIND_ETAGS, headers={"Depth": "1"})
        assert r.status_code == 207
        assert f"{uid}.ics".encode() in r.content
        depth0 = client.request("PROPFIND", url, content=PROPFIND_ETAGS, headers={"Depth": "0"})
        assert f"{uid}.ics".encode() not in depth0.content  # Depth reached Radicale

        r = client.get(item)
        assert r.status_code == 200 and b"Call Ada again" in r.content
        assert r.headers["etag"] == new_etag  # response headers come back
        assert r.headers["content-type"].startswith("text/calendar")

    assert proxy.refused == [("REPORT", path)]
    assert proxy.requests == [
        ("REPORT", path),
        ("PUT", f"{path}{uid}.ics"),
        ("PUT", f"{path}{uid}.ics"),
        ("PUT", f"{path}{uid}.ics"),
        ("PUT", f"{path}{uid}.ics"),
        ("PROPFIND", path),
        ("PROPFIND", path),
        ("GET", f"{path}{uid}.ics"),
    ]
    assert proxy.count("put") == 4
    assert read_back_uids(upstream) == [uid]
    # caldav through the proxy: a full read-back works without sync-collection
    proxy.reset()
    assert read_back_uids(url) == [uid]
    assert proxy.refused == [] and proxy.count("REPORT") >= 1
