"""The agenda as a calendar subscription over HTTP: /feed/<secret>.ics.

A plain WSGI application served by waitress (a well-kept production WSGI
server). Anything but the exact feed path is 404, the secret is compared in
constant time, and an unchanged feed is answered 304 without rendering: the
rendered body is cached under a cheap key (log position, day, settings) that
changes whenever the agenda can have changed.

Hostile clients (issue 14) meet waitress with tighter limits than its defaults, set in
`serve`: a request must arrive whole within REQUEST_TIMEOUT however slowly it trickles
in, connections are capped but a new client is never locked out (the stalest idle
connection makes room for it), one request per connection, and oversized requests are
refused before they are read. The subclasses below lean on waitress 3's channel and
server internals (requests, total_outbufs_len, last_activity, _map, maintenance).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

# waitress ships no type hints (pyproject's mypy override names the top module only)
from waitress.adjustments import Adjustments  # type: ignore[import-untyped]
from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.server import MultiSocketServer, TcpWSGIServer  # type: ignore[import-untyped]
from waitress.task import ThreadedTaskDispatcher, WSGITask  # type: ignore[import-untyped]

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


# ---------------------------------------------------------------- limits against hostile clients
# A calendar client opens a connection, sends one GET of a few hundred bytes at once and
# reads a small answer; whatever is much slower, bigger or idler than that is cut short.

REQUEST_TIMEOUT = 10.0
"""Seconds a connection has from its opening to send a whole request (head and body), and
an answer being sent has to make progress; past it the connection is closed. Waitress's
own channel_timeout counts from the last byte received, so a slowloris sending a byte
now and then would be kept for ever. A real client's request is one packet: 10 s is
generous on a poor mobile link, and held connections cannot pile up (MAX_CONNECTIONS)."""
SWEEP_INTERVAL = 1.0
"""Seconds between two sweeps for overdue connections (waitress's cleanup_interval)."""
LOOP_TIMEOUT = 1.0
"""Waitress's poll timeout: its loop, and so a due sweep, runs at least this often."""
DROP_WITHIN = REQUEST_TIMEOUT + SWEEP_INTERVAL + LOOP_TIMEOUT
"""An overdue connection is closed at the latest this many seconds after it went quiet."""

MAX_HEADER_BYTES = 8192
"""Request line and headers together (waitress's default is 256 KiB); a calendar client's
GET is some 300 bytes. Beyond it the answer is 431, without reading further."""
MAX_BODY_BYTES = 1024
"""The feed takes no body. A small one is read and the app answers 405 (or 404), a larger
one is refused with 413 on its Content-Length, before a byte of it is read."""

MAX_CONNECTIONS = 1000
"""Open connections at most (waitress's default is 100, which 110 idle connections used up
for everyone). At the cap the connection quiet for longest (idle, half-sent, or not
reading its answer) is closed to make room for the newcomer, so idle connections cannot
lock new clients out; only when every connection is being answered does accepting
wait, as waitress does."""
FD_TARGET = 4096
"""The soft limit on open files `serve` raises itself to (within the hard limit); many
systems start a process with 1024."""
FD_RESERVE = 64
"""Files kept for what is not a connection: the store and its journal, the listening
socket, waitress's wake-up pipe, the standard streams."""
ACCEPT_BATCH = 64
"""Connections accepted per wake-up: waitress takes one per turn of its loop, and a turn
walks every open connection, so a burst of 1000 would cost a million steps."""


def connection_limit(open_files: int) -> int:
    """The connection cap for a soft limit of `open_files`: a connection can hold up to
    three files in waitress (socket, and spooled request and answer), and needs at least
    one; half of what is left after the reserve keeps accept() clear of EMFILE."""
    return max(16, min(MAX_CONNECTIONS, (open_files - FD_RESERVE) // 2))


def raise_fd_limit(target: int = FD_TARGET) -> int:
    """Raise this process's soft limit on open files to `target` (or the hard limit, if
    lower); returns the soft limit then in force."""
    try:
        import resource
    except ImportError:  # not a Unix: leave it, and assume the usual Windows default
        return 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if soft == resource.RLIM_INFINITY:
        return target
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):  # not allowed here: the connection cap follows the old limit
            pass
    return int(soft)


class _Task(WSGITask):  # type: ignore[misc]
    """One request per connection: every answer says Connection: close, and requests
    pipelined behind it are dropped unanswered. A calendar client polls every quarter of
    an hour or so, and gains nothing from keep-alive; while a client that pipelines a
    hundred GETs in one packet and reads nothing would have a worker thread write them
    all, and wait for ever once waitress's 16 MiB output buffer is full (a feed of some
    140 KiB does it): two such clients and the feed stops for everyone."""

    def build_response_header(self) -> bytes:
        self.set_close_on_finish()
        return bytes(super().build_response_header())


class _Channel(HTTPChannel):  # type: ignore[misc]
    """Waitress's connection, which also knows since when it owes a request, and keeps out
    of the poll once closed (the server's sweep closes it in the middle of a loop turn)."""

    task_class = _Task

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.closed = False
        super().__init__(*args, **kwargs)
        self.answered: float = self.creation_time

    def service(self) -> None:  # in a worker thread, once per request
        self.answered = time.time()  # and again when done: the sweep may look between the two
        super().service()
        self.answered = time.time()

    def quiet_since(self) -> float | None:
        """When this connection last did what it is there for: while an answer waits to
        be sent, its last progress sending (even while the worker is still writing it:
        one that waits on a full output buffer is freed when the connection is closed);
        None while a request is being answered or waits for a worker; else its last
        answer or its opening. Bytes of a request being received do not count, or a
        slowloris would never be quiet."""
        if self.total_outbufs_len:
            return float(self.last_activity)
        if self.requests:
            return None
        return self.answered

    def readable(self) -> bool:
        return not self.closed and bool(super().readable())

    def writable(self) -> bool:
        return not self.closed and bool(super().writable())

    def del_channel(self, map: Any = None) -> None:  # every way of closing ends here
        self.closed = True
        super().del_channel(map)


class _Server(TcpWSGIServer):  # type: ignore[misc]
    """Waitress's TCP server with the sweep and the connection cap described above."""

    channel_class = _Channel
    next_channel_cleanup = 0.0

    def _channels(self) -> list[_Channel]:
        return [c for c in list(self._map.values()) if isinstance(c, _Channel) and not c.closed]

    def _stalest(self) -> _Channel | None:
        """The connection quiet for longest, if any is not being answered."""
        quiet = [(since, c) for c in self._channels() if (since := c.quiet_since()) is not None]
        return min(quiet, key=lambda q: q[0])[1] if quiet else None

    def maintenance(self, now: float) -> None:
        cutoff = now - REQUEST_TIMEOUT
        for channel in self._channels():
            since = channel.quiet_since()
            if since is not None and since < cutoff:
                channel.handle_close()  # directly: one that reads nothing would never flush a will_close

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        return len(self._map) < self.adj.connection_limit or self._stalest() is not None

    def handle_accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            before = len(self._map)
            super().handle_accept()
            if len(self._map) == before:  # nobody else waiting, or accept() failed
                return
            if len(self._map) > self.adj.connection_limit:
                stalest = self._stalest()  # the newcomer itself if all others are being answered
                if stalest is None:
                    return
                stalest.handle_close()


def _create_server(app: FeedApp, adj: Any) -> Any:
    """waitress.create_server for TCP, with _Server: one per address the host resolves to."""
    sockets: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [_Server(app, sockets, dispatcher=dispatcher, adj=adj, sockinfo=info) for info in adj.listen]
    if len(servers) == 1:
        return servers[0]
    listen = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(sockets, adj, listen, dispatcher, servers[-1].log_info)


def serve(app: FeedApp, host: str, port: int, on_listening: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly (waitress's loop ends on
    KeyboardInterrupt, so SIGTERM is turned into one). `on_listening` runs once the
    socket is bound, so nothing is announced for an address that was taken."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    adj = Adjustments(
        host=host,
        port=port,
        threads=2,
        ident="syncnet",
        connection_limit=connection_limit(raise_fd_limit()),
        channel_timeout=REQUEST_TIMEOUT,  # what waitress's own sweep would use; ours replaces it
        cleanup_interval=SWEEP_INTERVAL,
        asyncore_loop_timeout=LOOP_TIMEOUT,
        asyncore_use_poll=True,  # select() cannot watch a file descriptor above 1023
        max_request_header_size=MAX_HEADER_BYTES,
        max_request_body_size=MAX_BODY_BYTES,
        expose_tracebacks=False,  # a 500 says nothing of the code
        log_socket_errors=False,  # a client's reset is not the server's failure: no traceback in the log
    )
    # "Task queue depth is N" for every request of a burst: noise an attacker could pour
    # into the log, and nothing to act on.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = _create_server(app, adj)
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
