"""Faults of the HTTP layer, through `httpx.MockTransport`: what CalDAVClient and
CalDAVPort make of a 5xx, a 503 with Retry-After, a 412, a timeout, a refused
connection and a 401, and a whole sync through the port whose PUT fails half-way.

Real servers (Radicale, Xandikos) stay for the adapter's behaviour when all goes well
(tests/test_sync_caldav.py); these are the answers a real server gives only on a bad
day. The mock server here serves a MemoryCalendar (tests/memory_calendar.py) over the
part of CalDAV that syncnet speaks: sync-collection REPORT, PUT, GET and DELETE with
If-Match / If-None-Match.

Every message is one line and never holds the password or the token used.
"""

from __future__ import annotations

import base64
import email.utils
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date
from xml.sax.saxutils import escape

import httpx
import pytest
from icalendar import Calendar as ICalendar
from memory_calendar import MemoryCalendar, stamped
from syncnet_adapters import caldav
from syncnet_adapters.caldav import AuthFailed, CalDAVClient, CalDAVPort, PreconditionFailed, Unavailable

from syncnet.app.sync import OURS, USER_CHANGED, USER_DELETED, TargetState, reconcile
from syncnet.errors import Conflict, TargetDown, TargetError

URL = "http://dav.test/cal/"
USER, PASSWORD, TOKEN = "alice", "s3cret-Pässwort-42", "tok-9f8e7d6c5b4a"
SECRETS = (PASSWORD, TOKEN, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
Handler = Callable[[httpx.Request], httpx.Response]

ITEMS = [
    stamped("c1:promise:a", "Send Ada the slides", date(2026, 11, 25)),
    stamped("c2:promise:b", "Introduce Grace to Linus", date(2026, 12, 1)),
    stamped("c3:followup:2026-11-18", "Follow up with Chloé at Café Müller", date(2026, 11, 21)),
]


def client_over(handler: Handler, monkeypatch: pytest.MonkeyPatch, *, timeout: float = 30.0,
                token: bool = False, url: str = URL) -> CalDAVClient:  # fmt: skip
    """A CalDAVClient whose requests go to `handler`, with a password (or a token)."""
    auth, headers = caldav.auth_for(USER, None if token else PASSWORD, TOKEN if token else None)
    client = CalDAVClient(url, auth, timeout, headers, transport=httpx.MockTransport(handler))
    client.collection = client.url  # as bootstrap does once the collection is known
    return client


def assert_clean_message(e: BaseException) -> str:
    """One line, no secret; returns the message."""
    text = str(e)
    assert text and "\n" not in text and "\r" not in text, repr(text)
    for secret in SECRETS:
        assert secret not in text and secret not in repr(e.args)
    return text


def answer(status: int, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, text="<html>Internal error: stack trace…</html>")

    return handler


def body(i: int = 0) -> bytes:
    uid = ITEMS[i].item.uid
    return f"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:{uid}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n".encode()


# ---------------------------------------------------------------- answers, one request each
@pytest.mark.parametrize("status", [500, 502, 504, 429])
def test_a_server_error_is_target_down_in_one_line(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_over(answer(status), monkeypatch)
    with pytest.raises(Unavailable) as caught:
        client.put(URL + "a.ics", body())
    assert isinstance(caught.value, TargetDown)  # the engine's "retry later"
    assert assert_clean_message(caught.value) == f"PUT /cal/a.ics: HTTP {status}"
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("120", 120.0), (" 7 ", 7.0), ("in a while", None), ("", None)],
)
def test_503_with_retry_after_in_seconds(retry_after: str, expected: float | None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    client = client_over(answer(503, {"Retry-After": retry_after}), monkeypatch)
    with pytest.raises(Unavailable) as caught:
        client.sync_collection("tok-1")
    assert assert_clean_message(caught.value) == "REPORT /cal/: HTTP 503"
    assert caught.value.retry_after == expected


@pytest.mark.parametrize(("offset", "low", "high"), [(90, 85, 91), (-3600, 0, 0)])
def test_503_with_retry_after_as_an_http_date(offset: int, low: float, high: float,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """An HTTP-date, relative to the clock that reads it (a date in the past: now)."""
    when = email.utils.formatdate(time.time() + offset, usegmt=True)
    client = client_over(answer(503, {"Retry-After": when}), monkeypatch)
    with pytest.raises(Unavailable) as caught:
        client.delete(URL + "a.ics", '"e1"')
    assert caught.value.retry_after is not None and low <= caught.value.retry_after <= high


def test_412_on_a_put_with_if_match_is_a_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            412 if request.headers.get("If-Match") == '"e1"' else 204, headers={"ETag": '"e9"'}
        )

    client = client_over(handler, monkeypatch)
    with pytest.raises(PreconditionFailed) as caught:
        client.put(URL + "a.ics", body(), '"e1"')
    assert isinstance(caught.value, Conflict) and not isinstance(caught.value, TargetDown)
    assert assert_clean_message(caught.value) == "PUT /cal/a.ics: HTTP 412"
    assert "If-None-Match" not in seen[0].headers and seen[0].content == body()
    # and through the port: an update that meets the user's version is a Conflict for the engine
    port = CalDAVPort(client, "todo", ["PT9H"])
    with pytest.raises(Conflict):
        port.update(URL + "a.ics", '"e1"', ITEMS[0])
    assert port.update(URL + "a.ics", '"e2"', ITEMS[0]) == '"e9"'


@pytest.mark.parametrize(
    "fault", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.WriteTimeout, httpx.PoolTimeout]
)
def test_a_timeout_is_target_down_naming_the_timeout_setting(
    fault: type[httpx.TimeoutException], monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise fault(f"timed out talking to {request.url}", request=request)

    client = client_over(handler, monkeypatch, timeout=7)
    with pytest.raises(Unavailable) as caught:
        client.sync_collection(None)
    text = assert_clean_message(caught.value)
    assert re.fullmatch(r"REPORT \S*/cal/: timed out after 7 s \(the target's `timeout` setting\)", text), (
        text
    )


def test_a_refused_connection_is_target_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = client_over(handler, monkeypatch)
    with pytest.raises(Unavailable) as caught:
        client.get(URL + "a.ics")
    text = assert_clean_message(caught.value)
    assert re.fullmatch(r"GET \S*/cal/a\.ics: ConnectError: \[Errno 111\] Connection refused", text), text


def test_a_password_in_the_url_stays_out_of_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = client_over(handler, monkeypatch, url=f"http://{USER}:{PASSWORD}@dav.test/cal/")
    with pytest.raises(Unavailable) as caught:
        client.sync_collection(None)
    assert_clean_message(caught.value)


@pytest.mark.parametrize("token", [False, True])
@pytest.mark.parametrize(
    ("method", "status"), [("PUT", 401), ("DELETE", 401), ("PUT", 403), ("PROPFIND", 401)]
)
def test_401_and_403_are_auth_failed_without_the_secret(method: str, status: int, token: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("Authorization", ""))
        return httpx.Response(status, headers={"WWW-Authenticate": 'Basic realm="dav"'})

    client = client_over(handler, monkeypatch, token=token)
    calls: dict[str, Callable[[], object]] = {
        "PUT": lambda: client.put(URL + "a.ics", body()),
        "DELETE": lambda: client.delete(URL + "a.ics", '"e1"'),
        "PROPFIND": lambda: client.ctag(),
    }
    with pytest.raises(AuthFailed) as caught:
        calls[method]()
    path = "/cal/" if method == "PROPFIND" else "/cal/a.ics"
    hint = "check the user and password of this target"
    assert assert_clean_message(caught.value) == f"{method} {path}: HTTP {status}: {hint}"
    assert any(s in sent[0] for s in SECRETS)  # the secret was sent, and is not in the message
    assert not isinstance(caught.value, TargetDown)  # not worth retrying


def test_401_on_the_first_request_of_a_sync_is_auth_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_over(answer(401), monkeypatch)
    with pytest.raises(AuthFailed):
        CalDAVPort(client, "todo", ["PT9H"]).changes_since("sync:tok-1")


# ---------------------------------------------------------------- a whole sync over HTTP
def multistatus(responses: list[str], token: str | None = None) -> bytes:
    sync_token = f"<d:sync-token>{escape(token)}</d:sync-token>" if token else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:">{"".join(responses)}'
            f"{sync_token}</d:multistatus>").encode()  # fmt: skip


def present(href: str, etag: str) -> str:
    prop = f"<d:prop><d:getetag>{escape(etag)}</d:getetag></d:prop>"
    ok = f"<d:propstat>{prop}<d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
    return f"<d:response><d:href>{escape(href)}</d:href>{ok}</d:response>"


def gone(href: str) -> str:
    return (
        f"<d:response><d:href>{escape(href)}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>"
    )


class DavServer:
    """A MemoryCalendar served over CalDAV, as far as syncnet uses it. `fault(request)`
    may answer a request instead of the server (e.g. a 500 for the second PUT)."""

    def __init__(self, cal: MemoryCalendar) -> None:
        self.cal = cal
        self.requests: list[tuple[str, str]] = []
        self.fault: Callable[[httpx.Request], httpx.Response | None] = lambda request: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        faulty = self.fault(request)
        if faulty is not None:
            return faulty
        path = request.url.path
        try:
            if request.method == "REPORT":
                return self.report(request)
            if request.method == "PUT":
                uid = re.search(rb"^UID:(.+?)\r?$", request.content, re.M)
                assert uid is not None, request.content
                existed = path in self.cal.entries
                etag = self.cal.put(
                    path, uid.group(1).decode(), request.content, if_match=request.headers.get("If-Match"),
                    if_none_match=request.headers.get("If-None-Match") == "*",
                )  # fmt: skip
                return httpx.Response(204 if existed else 201, headers={"ETag": etag})
            if request.method == "DELETE":
                found = self.cal.remove(path, if_match=request.headers.get("If-Match"))
                return httpx.Response(204 if found else 404)
            if request.method == "GET":
                entry = self.cal.get(path)
                if entry is None:
                    return httpx.Response(404)
                return httpx.Response(200, content=entry.content, headers={"ETag": entry.etag})
        except Conflict:
            return httpx.Response(412)
        return httpx.Response(405)

    def report(self, request: httpx.Request) -> httpx.Response:
        token = (ET.fromstring(request.content).findtext("{DAV:}sync-token") or "").strip() or None
        if token and not self.cal.valid(token):
            return httpx.Response(403, content=b'<d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>')
        listing = self.cal.listing(token)
        responses = [present(h, e) for h, e in listing.changed.items()] + [gone(h) for h in listing.deleted]
        return httpx.Response(207, content=multistatus(responses, listing.token))

    def read_back(self) -> dict[str, str]:
        """UID -> SUMMARY of every item, parsed with icalendar."""
        out = {}
        for entry in self.cal.entries.values():
            for todo in ICalendar.from_ical(entry.content).walk("VTODO"):
                out[str(todo["UID"])] = str(todo["SUMMARY"])
        return out


@pytest.fixture
def server() -> DavServer:
    return DavServer(MemoryCalendar())


@pytest.fixture
def port(server: DavServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[CalDAVPort]:
    p = CalDAVPort(client_over(server, monkeypatch), "todo", ["PT9H"])
    yield p
    p.close()


def nth(method: str, n: int, response: httpx.Response) -> Callable[[httpx.Request], httpx.Response | None]:
    """A fault: the n-th request with `method` (counting from 1) gets `response`."""
    count = 0

    def fault(request: httpx.Request) -> httpx.Response | None:
        nonlocal count
        if request.method == method:
            count += 1
            if count == n:
                return response
        return None

    return fault


def test_a_put_failing_half_way_leaves_the_state_of_what_was_written(
    server: DavServer, port: CalDAVPort
) -> None:
    server.fault = nth("PUT", 2, httpx.Response(500, text="boom"))
    state, progress = TargetState(), []
    with pytest.raises(Unavailable) as caught:
        reconcile("phone", port, ITEMS, state, on_progress=progress.append)
    second = port.href_for(ITEMS[1].item.uid)
    assert assert_clean_message(caught.value) == f"PUT {second}: HTTP 500"

    # what was written before the failure: in the state (what the service saves) and on the server
    first = ITEMS[0].item
    state = TargetState.from_json(state.to_json())
    assert progress == [1]
    href = port.href_for(first.uid)
    # (the two it meant to create were recorded before any write, intent before effect;
    # the failed one was read back at once, found not there, and the third never sent)
    assert {u: (s.href, s.etag, s.status, s.pending) for u, s in state.items.items()} == {
        first.uid: (href, server.cal.entries[href].etag, OURS, None),
    }
    assert server.read_back() == {first.uid: first.summary}

    # the next sync writes the rest, and only the rest; nothing is taken for the user's
    server.fault, server.requests = (lambda request: None), []
    report = reconcile("phone", port, ITEMS, TargetState.from_json(state.to_json()))
    assert [(a.action, a.uid) for a in report.actions] == [("created", s.item.uid) for s in ITEMS[1:]]
    assert [m for m, _ in server.requests] == ["REPORT", "PUT", "PUT", "REPORT"]
    assert server.read_back() == {s.item.uid: s.item.summary for s in ITEMS}


def test_a_503_on_the_listing_writes_nothing_and_says_when_to_retry(
    server: DavServer, port: CalDAVPort
) -> None:
    state = TargetState()
    reconcile("phone", port, ITEMS[:1], state)
    saved = state.to_json()
    server.fault = nth("REPORT", 1, httpx.Response(503, headers={"Retry-After": "30"}))
    with pytest.raises(Unavailable) as caught:
        reconcile("phone", port, ITEMS, state)
    assert caught.value.retry_after == 30.0 and assert_clean_message(caught.value) == "REPORT /cal/: HTTP 503"
    assert state.to_json() == saved and len(server.cal.entries) == 1


def test_a_412_mid_sync_keeps_the_users_version(server: DavServer, port: CalDAVPort) -> None:
    """The user's edit lands between the listing and the PUT: If-Match fails, the
    engine keeps the server's version and says so."""
    state = TargetState()
    reconcile("phone", port, ITEMS[:2], state)
    href = port.href_for(ITEMS[0].item.uid)
    users = server.cal.entries[href].content.replace(
        b"SUMMARY:Send Ada the slides", b"SUMMARY:Slides by Friday"
    )

    def edit_before_the_put(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT" and request.url.path == href:
            server.cal.user_replace(href, users)  # the phone's edit: a new ETag
        return None

    server.fault = edit_before_the_put
    changed = stamped("c1:promise:a", "Send Ada the slides and the notes", date(2026, 11, 26), sequence=1)
    report = reconcile("phone", port, [changed, ITEMS[1]], state)
    assert [(a.action, a.uid) for a in report.actions] == [(USER_CHANGED, changed.item.uid)]
    assert state.items[changed.item.uid].status == USER_CHANGED
    assert server.read_back()[changed.item.uid] == "Slides by Friday"
    assert USER_DELETED not in {a.action for a in report.actions}


def test_an_expired_sync_token_falls_back_to_a_full_listing(server: DavServer, port: CalDAVPort) -> None:
    state = TargetState()
    reconcile("phone", port, ITEMS, state)
    server.cal.user_delete(port.href_for(ITEMS[2].item.uid))
    server.cal.invalidate_tokens()
    server.requests = []
    report = reconcile("phone", port, ITEMS[:2], state)
    assert server.requests == [("REPORT", "/cal/")] * 2  # the token refused (403), then everything
    assert [(a.action, a.uid) for a in report.actions] == [(USER_DELETED, ITEMS[2].item.uid)]
    assert set(server.read_back()) == {s.item.uid for s in ITEMS[:2]}


def test_errors_are_target_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything the client raises for a bad answer is a TargetError (the CLI: exit 1)."""
    for status in (400, 404, 405, 500, 401, 412):
        client = client_over(answer(status), monkeypatch)
        with pytest.raises(TargetError) as caught:
            client.put(URL + "a.ics", body())
        assert_clean_message(caught.value)
