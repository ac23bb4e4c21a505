"""A fault-injecting reverse proxy on 127.0.0.1 in front of a real CalDAV server.

For a configurable share of the requests (`rate`) it answers with one of these faults
instead of the server's answer. A seeded random generator decides which requests are
faulted; the kind is dealt from a shuffled deck of all the kinds (refilled when no card
fits the request; a card that fits fewer methods is dealt first), so that even a low
rate exercises every kind. The same seed and the same sequence of
requests give the same faults.

=========  ===========================================================  ================
kind       what the client gets                                         server applied?
=========  ===========================================================  ================
500        500 Internal Server Error                                    no
503        503 Service Unavailable with ``Retry-After: <retry_after>``  no
412        412 Precondition Failed (a spurious one)                     no
drop       nothing: the connection is closed without an answer          yes
hang       nothing for `hang_seconds` (past the client's timeout),      yes
           then the connection is closed
truncate   the status and headers, half the body, then the connection   yes
           is closed (GET, PROPFIND and REPORT: the answers with a body)
garbage    the server's status with a malformed XML body                yes
           (PROPFIND and REPORT: the answers that are XML)
=========  ===========================================================  ================

"Applied" faults forward the request first: the server has done the write when the
client learns nothing (or nonsense) about it, which is how a lost response looks.

It extends caldav_fixtures.NoSyncProxy (its request parsing, replies and upstream
client), with sync-collection allowed. Counters: `requests` (method, path) of every
request, `faulted` (kind -> count), `log` (number, method, path, kind or None).
A client that goes away mid-answer (killed, or timed out) is not an error of the proxy.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

import httpx
from caldav_fixtures import NoSyncProxy

if TYPE_CHECKING:
    from bench.peers import Server

__all__ = ["APPLIED", "FAULT_KINDS", "FaultProxy"]

FAULT_KINDS = ("500", "503", "412", "drop", "hang", "truncate", "garbage")
APPLIED = frozenset({"drop", "hang", "truncate", "garbage"})  # forwarded before the fault
_WITH_BODY = frozenset({"GET", "PROPFIND", "REPORT"})
_WITH_XML = frozenset({"PROPFIND", "REPORT"})
_RARITY = {k: 0 if k == "garbage" else 1 if k == "truncate" else 2 for k in FAULT_KINDS}
# Hop-by-hop headers, and the ones the proxy sets itself.
_NOT_FORWARDED = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                            "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                            "host", "content-length", "accept-encoding"})  # fmt: skip


def applicable(method: str, kinds: Iterable[str]) -> list[str]:
    """The kinds that make sense for a request of `method` (a body to truncate, XML to break)."""
    return [k for k in kinds if (k != "truncate" or method in _WITH_BODY)
            and (k != "garbage" or method in _WITH_XML)]  # fmt: skip


class FaultProxy(NoSyncProxy):
    """Reverse proxy to `upstream` faulting a share `rate` of the requests (see the module).

    `rate` and `kinds` may be changed while it runs; `quiet()` turns the random faults off
    for a block; `plan(kind, method)` faults one chosen request. Every request draws one
    number from the seeded generator whatever the rate, so a run's faults depend only on
    the seed and the order of the requests."""

    def __init__(self, upstream: str | Server, *, rate: float = 0.0, kinds: Iterable[str] = FAULT_KINDS,
                 seed: int = 0, hang_seconds: float = 3.0, retry_after: int = 1) -> None:  # fmt: skip
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.seed = seed
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self.faulted: Counter[str] = Counter()
        self.log: list[tuple[int, str, str, str | None]] = []
        self.on_request: Callable[[int, str, str], None] | None = None  # called as each one arrives
        self._random = random.Random(seed)
        self._deck: list[str] = []
        self._planned: list[tuple[str | None, str]] = []  # (method or None, kind), see plan()
        self._lock = threading.Lock()
        self._closing = threading.Event()  # ends hangs at close
        super().__init__(upstream, refuse_sync=False)

    @property
    def total(self) -> int:
        """Requests received so far."""
        return len(self.log)

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """No fault inside the block (the generator still advances)."""
        rate, self.rate = self.rate, 0.0
        try:
            yield
        finally:
            self.rate = rate

    def plan(self, kind: str, method: str | None = None) -> None:
        """Fault the next request of `method` (any, when None) with `kind`, whatever the
        rate: for tests of one precise fault. Planned faults are taken in order."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind: {kind}")
        with self._lock:
            self._planned.append((method, kind))

    def decide(self, method: str, path: str) -> str | None:
        """The fault for the next request, or None; counted and logged."""
        with self._lock:
            kind = self._deal(method) if self._random.random() < self.rate else None
            planned = next((p for p in self._planned if p[0] in (None, method)), None)
            if planned is not None:
                self._planned.remove(planned)
                kind = planned[1]
            self.log.append((len(self.log) + 1, method, path, kind))
            self.requests.append((method, path))
            if kind is not None:
                self.faulted[kind] += 1
            return kind

    def close(self) -> None:
        self._closing.set()
        super().close()

    def __enter__(self) -> FaultProxy:
        return self

    def reseed(self, seed: int) -> None:
        """Start the generator and the deck again: what follows depends only on `seed`."""
        with self._lock:
            self.seed = seed
            self._random = random.Random(seed)
            self._deck.clear()

    def _deal(self, method: str) -> str | None:
        """The next kind from the deck that applies to `method` (called with the lock held)."""
        kinds = applicable(method, self.kinds)
        if not kinds:
            return None
        if not any(k in kinds for k in self._deck):
            fresh = list(self.kinds)
            self._random.shuffle(fresh)
            self._deck += fresh
        # The card that fits the fewest methods first: a body to break is rarer than a request.
        kind = min((k for k in self._deck if k in kinds), key=_RARITY.__getitem__)
        self._deck.remove(kind)
        return kind

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        base = super()._handler_class()

        class Handler(base):  # type: ignore[valid-type, misc]  # a class made at run time
            def handle(self) -> None:
                # The client may be gone (killed, or it timed out): not the proxy's error.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def _forward(self) -> None:
                method, path = self.command, self.path
                kind = proxy.decide(method, path)
                if proxy.on_request is not None:
                    proxy.on_request(proxy.total, method, path)
                body = self._read_body()
                if kind == "500":
                    self._reply(500, [("Content-Type", "text/plain")], b"injected fault: 500")
                    return
                if kind == "503":
                    retry = ("Retry-After", str(proxy.retry_after))
                    self._reply(503, [("Content-Type", "text/plain"), retry], b"injected fault: 503")
                    return
                if kind == "412":
                    self._reply(412, [("Content-Type", "text/plain")], b"injected fault: 412")
                    return
                try:
                    status, headers, raw = proxy.upstream_answer(method, path, self.headers.items(), body)
                except httpx.HTTPError as e:
                    self._reply(502, [("Content-Type", "text/plain")], f"proxy error: {e}".encode())
                    return
                if kind in ("drop", "hang"):
                    if kind == "hang":
                        proxy._closing.wait(proxy.hang_seconds)
                    self.close_connection = True  # the server did it; the client hears nothing
                    return
                if kind == "truncate":
                    self.send_response_only(status)
                    for k, v in headers:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw[: len(raw) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if kind == "garbage":
                    # Well-formed HTTP, broken XML: half a document ending inside a tag.
                    raw = raw[: len(raw) // 2] + b"<d:response><d:href"
                self._reply(status, headers, raw)

        return Handler

    def upstream_answer(self, method: str, path: str, headers: Iterable[tuple[str, str]],
                        body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:  # fmt: skip
        """The server's answer: status, end-to-end headers, body. Bodies are asked for
        uncompressed, so that truncating or breaking them is about the bytes the client parses."""
        send = [(k, v) for k, v in headers if k.lower() not in _NOT_FORWARDED]
        send.append(("Accept-Encoding", "identity"))
        resp = self._client.request(method, path, headers=send, content=body)
        out = [(k, v) for k, v in resp.headers.multi_items()
               if k.lower() not in _NOT_FORWARDED and k.lower() != "content-encoding"]  # fmt: skip
        return resp.status_code, out, resp.content
