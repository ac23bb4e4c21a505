"""The agenda as a calendar subscription over HTTP: /feed/<secret>.ics.

A plain WSGI application served by waitress (a well-kept production WSGI
server). Anything but the exact feed path is 404, the secret is compared in
constant time, and an unchanged feed is answered 304 without rendering: the
rendered body is cached under a cheap key (log position, day, settings) that
changes whenever the agenda can have changed.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]


class FeedApp:
    def __init__(
        self,
        secret: Callable[[], str],
        cache_key: Callable[[], str],
        render: Callable[[], bytes],
    ) -> None:
        self._secret = secret
        self._cache_key = cache_key
        self._render = render
        self._lock = threading.Lock()  # the store's connections are used by one thread at a time
        self._cached: tuple[str, bytes, str] | None = None  # (cache key, body, etag)
        self.renders = 0

    def _current(self) -> tuple[bytes, str]:
        key = self._cache_key()
        if self._cached is None or self._cached[0] != key:
            body = self._render()
            self.renders += 1
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            self._cached = (key, body, etag)
        return self._cached[1], self._cached[2]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        with self._lock:
            expected = f"/feed/{self._secret()}.ics"
            if not hmac.compare_digest(path.encode(), expected.encode()):
                return _plain(start_response, "404 Not Found", b"not found\n")
            if method not in ("GET", "HEAD"):
                return _plain(
                    start_response, "405 Method Not Allowed", b"GET only\n", [("Allow", "GET, HEAD")]
                )
            body, etag = self._current()
        headers = [("ETag", etag), ("Cache-Control", "private, no-cache")]
        wanted = _etags(environ.get("HTTP_IF_NONE_MATCH", ""))
        if etag in wanted or "*" in wanted:  # "*" matches any current representation (RFC 9110)
            start_response("304 Not Modified", headers)
            return [b""]
        headers += [("Content-Type", "text/calendar; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [b"" if method == "HEAD" else body]


def _etags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def _plain(start_response: StartResponse, status: str, body: bytes,
           extra: list[tuple[str, str]] | None = None) -> list[bytes]:  # fmt: skip
    start_response(
        status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *(extra or [])]
    )
    return [body]


def serve(app: FeedApp, host: str, port: int, on_listening: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly (waitress's loop ends on
    KeyboardInterrupt, so SIGTERM is turned into one). `on_listening` runs once the
    socket is bound, so nothing is announced for an address that was taken."""
    import signal

    import waitress

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    server = waitress.create_server(app, host=host, port=port, threads=2, ident="syncnet")
    if on_listening is not None:
        on_listening()
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
