"""Pytest plugin: real CalDAV peers (Radicale, Xandikos) as throwaway test servers.

Register it from tests/conftest.py with ``pytest_plugins = ["caldav_fixtures"]``.

Fixtures
--------
- ``radicale_server``, ``xandikos_server``, ``radicale_auth_server`` (session scope) ->
  :class:`Server` ``(name, base_url, home_url, auth)``. ``base_url`` has no trailing slash,
  ``home_url`` ends with "/" and is where test calendars may be created; ``auth`` is
  ``(user, password)`` or ``None``.
- ``radicale_calendar``, ``xandikos_calendar``, ``radicale_auth_calendar`` (function scope) ->
  :class:`Calendar` ``(url, server)``: a fresh, empty calendar collection created with
  MKCALENDAR; ``url`` ends with "/".
- ``any_calendar``: parametrized over ``["radicale", "xandikos"]``.
- ``no_sync_proxy`` (function scope) -> :class:`NoSyncProxy`: a reverse proxy to
  ``radicale_server`` that refuses ``sync-collection`` REPORTs (403, DAV error body) like a
  server without RFC 6578, and records every request in ``.requests``.

Helpers
-------
- ``radicale(workdir, auth=False)``, ``xandikos(workdir)``, ``make_calendar(server)``,
  :class:`Server`, :class:`Calendar`: from bench/peers.py, which starts the servers for
  the fixtures here and for the benchmarks.
- ``read_back(url_or_calendar, auth=None)`` -> list of icalendar components (VEVENT and
  VTODO, completed todos included), read with the independent ``caldav`` library.
- ``read_back_uids(...)`` -> sorted list of their UIDs.

Servers are started lazily (only when a test asks for them), once per session, and are
always stopped (SIGTERM, then SIGKILL after 5 s) even when a test or the startup fails.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest

from bench.peers import HOST, Calendar, Server, make_calendar, radicale, xandikos

if TYPE_CHECKING:
    from icalendar import Component

__all__ = [
    "Calendar",
    "NoSyncProxy",
    "Server",
    "make_calendar",
    "radicale",
    "read_back",
    "read_back_uids",
    "xandikos",
]

STOP_TIMEOUT = 5.0  # seconds, for the proxy's thread


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with radicale(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest.fixture(scope="session")
def radicale_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with radicale(tmp_path_factory.mktemp("radicale_auth"), auth=True) as server:
        yield server


@pytest.fixture(scope="session")
def xandikos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with xandikos(tmp_path_factory.mktemp("xandikos")) as server:
        yield server


# --------------------------------------------------------------------------- calendars


@pytest.fixture
def radicale_calendar(radicale_server: Server) -> Calendar:
    return make_calendar(radicale_server)


@pytest.fixture
def radicale_auth_calendar(radicale_auth_server: Server) -> Calendar:
    return make_calendar(radicale_auth_server)


@pytest.fixture
def xandikos_calendar(xandikos_server: Server) -> Calendar:
    return make_calendar(xandikos_server)


@pytest.fixture(params=["radicale", "xandikos"])
def any_calendar(request: pytest.FixtureRequest) -> Calendar:
    return cast(Calendar, request.getfixturevalue(f"{request.param}_calendar"))


# --------------------------------------------------------------------------- proxy

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

_NO_SYNC_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:supported-report/></D:error>\n'
)


# A getctag element with any namespace prefix, empty or with a value.
_GETCTAG = re.compile(rb"<([\w-]+:)?getctag\b[^>]*?(/>|>.*?</([\w-]+:)?getctag>)", re.S)


class NoSyncProxy:
    """Reverse proxy on 127.0.0.1 to `upstream` (a base URL): forwards every request
    unchanged, except REPORTs whose body contains "sync-collection", which get 403 with a
    DAV:supported-report error body (what a server without RFC 6578 answers).

    Attributes: base_url (same paths as upstream), home_url and auth (if built from a
    Server), upstream, requests (list of (method, path) for every request received,
    refused ones included), refused (list of (method, path) of the refused ones),
    stripped (how many getctag properties were taken out of PROPFIND answers)."""

    def __init__(
        self,
        upstream: str | Server,
        *,
        refuse_sync: bool = True,
        bearer: str | None = None,
        strip_ctag: bool = False,
    ) -> None:
        # bearer: act as an auth gateway that accepts only "Authorization: Bearer <bearer>"
        # (401 otherwise) and forwards the request upstream as user "test".
        # strip_ctag: take CS:getctag out of every PROPFIND answer (a server without it).
        self.refuse_sync = refuse_sync
        self.bearer = bearer
        self.strip_ctag = strip_ctag
        self.stripped = 0
        if isinstance(upstream, Server):
            self.upstream = upstream.base_url
            self.auth = upstream.auth
            home_path = upstream.home_url[len(upstream.base_url) :]
        else:
            self.upstream = upstream.rstrip("/")
            self.auth = None
            home_path = "/"
        self.requests: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []
        self._client = httpx.Client(base_url=self.upstream, timeout=30.0)
        self._httpd = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.base_url = f"http://{HOST}:{self._httpd.server_address[1]}"
        self.home_url = self.base_url + home_path
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="no-sync-proxy", daemon=True
        )
        self._thread.start()

    def url_for(self, upstream_url: str) -> str:
        """Map an upstream URL (e.g. a Calendar.url) to the same path behind the proxy."""
        if not upstream_url.startswith(self.upstream):
            raise ValueError(f"{upstream_url} is not under {self.upstream}")
        return self.base_url + upstream_url[len(self.upstream) :]

    def count(self, method: str | None = None) -> int:
        return sum(1 for m, _ in self.requests if method is None or m == method.upper())

    def reset(self) -> None:
        self.requests.clear()
        self.refused.clear()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=STOP_TIMEOUT)
        self._client.close()

    def __enter__(self) -> NoSyncProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def __getattr__(self, name: str) -> Callable[[], None]:
                # http.server dispatches to do_<METHOD>; accept every method
                if name.startswith("do_"):
                    return self._forward
                raise AttributeError(name)

            def _read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response_only(status)
                for k, v in headers:
                    self.send_header(k, v)
                no_body = self.command == "HEAD" or status in (204, 304) or status < 200
                if not no_body:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not no_body:
                    self.wfile.write(body)
                self.wfile.flush()

            def _forward(self) -> None:
                method = self.command
                proxy.requests.append((method, self.path))
                body = self._read_body()
                if proxy.bearer is not None:
                    if self.headers.get("Authorization") != f"Bearer {proxy.bearer}":
                        self._reply(401, [("WWW-Authenticate", 'Bearer realm="test"')], b"")
                        return
                    del self.headers["Authorization"]
                    self.headers["Authorization"] = "Basic dGVzdDp4"  # test:x
                if proxy.refuse_sync and method == "REPORT" and b"sync-collection" in body:
                    proxy.refused.append((method, self.path))
                    self._reply(403, [("Content-Type", "application/xml; charset=utf-8")], _NO_SYNC_BODY)
                    return
                headers = [
                    (k, v)
                    for k, v in self.headers.items()
                    if k.lower() not in _HOP_BY_HOP and k.lower() not in ("host", "content-length")
                ]
                strip = proxy.strip_ctag and method == "PROPFIND"
                if strip:  # an uncompressed answer, so that the XML can be edited
                    headers = [(k, v) for k, v in headers if k.lower() != "accept-encoding"]
                    headers.append(("Accept-Encoding", "identity"))
                try:
                    req = proxy._client.build_request(method, self.path, headers=headers, content=body)
                    resp = proxy._client.send(req, stream=True)
                    try:
                        raw = b"".join(resp.iter_raw())  # undecoded: Content-Encoding stays valid
                    finally:
                        resp.close()
                except httpx.HTTPError as e:
                    self._reply(502, [("Content-Type", "text/plain")], f"proxy error: {e}".encode())
                    return
                out = [
                    (k, v)
                    for k, v in resp.headers.multi_items()
                    if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
                ]
                if method == "HEAD" and "content-length" in resp.headers:
                    out.append(("Content-Length", resp.headers["content-length"]))
                if strip:
                    raw, n = _GETCTAG.subn(b"", raw)
                    proxy.stripped += n
                self._reply(resp.status_code, out, raw)

        return Handler


@pytest.fixture
def no_sync_proxy(radicale_server: Server) -> Iterator[NoSyncProxy]:
    with NoSyncProxy(radicale_server) as proxy:
        yield proxy


# --------------------------------------------------------------------------- read-back


def read_back(url: str | Calendar, auth: tuple[str, str] | None = None) -> list[Component]:
    """All VEVENT and VTODO components (completed todos included) of the calendar at
    `url`, fetched with the independent `caldav` client and parsed by icalendar.

    `url` may be a Calendar; its server's auth is then used unless `auth` is given."""
    from caldav.davclient import DAVClient  # imported lazily: only read-back pays for it

    if isinstance(url, Calendar):
        auth = auth if auth is not None else url.auth
        url = url.url
    username, password = auth if auth else (None, None)
    with DAVClient(
        url=url,
        username=username,
        password=password,
        require_tls=False,
        enable_rfc6764=False,
        timeout=30,
    ) as client:
        cal = cast(Any, client).calendar(url=url)  # untyped in caldav 3.6
        objects: list[Any] = [
            *cast("list[Any]", cal.get_events()),
            *cast("list[Any]", cal.get_todos(include_completed=True)),
        ]
        return [obj.icalendar_component for obj in objects]


def read_back_uids(url: str | Calendar, auth: tuple[str, str] | None = None) -> list[str]:
    """Sorted UIDs of read_back(url, auth)."""
    return sorted(str(c["UID"]) for c in read_back(url, auth))
