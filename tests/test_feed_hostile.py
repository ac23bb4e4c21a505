"""The feed server against hostile clients (issue 14, guarantee 7): a real `syncnet serve`
on 127.0.0.1, spoken to in raw TCP so that what a hostile client sends is exactly what
arrives. Two servers for the module: the store of tests/test_feed.py (three reminders),
and one of 400 reminders (a 220 KiB feed).

- It keeps answering a burst of concurrent GETs while hundreds of connections are held
  idle or half-sent against it, and idle connections cannot lock new clients out.
- Idle and slow (slowloris) connections are closed within a bound; one request per
  connection, so that clients pipelining GETs they never read cannot hold the workers.
- Oversized requests are refused, and the server serves on.
- Nothing but the exact feed path is served (hypothesis fuzzing of paths and headers),
  never a 500, never a traceback, in the answer or in the server's stderr.

The figures (burst times, latencies, fuzzed inputs) are printed: `pytest -s` shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import resource
import select
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Background, Runner, ics_items, record
from syncnet_adapters.feed import (
    DROP_WITHIN,
    FD_TARGET,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    REQUEST_TIMEOUT,
    connection_limit,
)
from test_feed import build_network, expected_items, feed_url, today_of

from syncnet.domain import commands as cmd

HOST = "127.0.0.1"
SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # token_urlsafe
FUZZED: dict[str, Counter[int]] = {"paths": Counter(), "headers": Counter()}  # answers by status


def _raise_fd_limit(want: int) -> None:
    """This process holds over a thousand sockets in some tests."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


# ---------------------------------------------------------------- the server
class Feed:
    """The running server and what it should serve (a plain class: hypothesis prints its repr)."""

    def __init__(self, bg: Background, port: int, path: str, body: bytes, etag: str, uids: set[str]) -> None:
        self.bg = bg
        self.port = port
        self.path = path  # /feed/<secret>.ics
        self.secret = path.removeprefix("/feed/").removesuffix(".ics")
        self.body = body
        self.etag = etag
        self.uids = uids

    def __repr__(self) -> str:  # short, in hypothesis's reports
        return f"Feed(port={self.port})"

    def quiet_stderr(self) -> None:
        """The server is alive and has said nothing but its one line on starting."""
        assert self.bg.alive(), self.bg.stderr()
        err = self.bg.stderr()
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Serving the feed on"), err
        assert self.secret not in err


def start_feed(run: Runner, today: date, reminders: int) -> Feed:
    """`syncnet serve` started with the soft limit on open files many systems give
    (1024), which it has to raise itself; its feed read once, holding `reminders`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 1024), hard))
    try:
        bg, port = run.serve()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    _raise_fd_limit(FD_TARGET)
    path = feed_url(run, port).removeprefix(f"http://{HOST}:{port}")
    uids = set(expected_items(run, today))
    r = exchange(port, get(path))
    assert r.status == 200, r
    assert set(ics_items(r.body)) == uids and len(uids) == reminders
    return Feed(bg, port, path, r.body, r.headers["etag"], uids)


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feed]:
    """The store of tests/test_feed.py: a feed of three reminders, some 1.5 KiB."""
    base = tmp_path_factory.mktemp("hostile")
    run = Runner(base / "home", base)
    try:
        yield start_feed(run, build_network(run), 3)
    finally:
        for b in run.background:
            b.stop(timeout=2.0)


@pytest.fixture(scope="module")
def big_feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feed]:
    """A feed of 400 reminders, some 240 KiB."""
    base = tmp_path_factory.mktemp("hostile-big")
    run = Runner(base / "home", base)
    try:
        run.ok("init")
        today = today_of(run)
        days = [today - timedelta(days=i % 9) for i in range(400)]  # follow-ups due within the horizon
        meetings = [
            cmd.Meet(f"Contact {i} With A Longish Name", "conference", on=d) for i, d in enumerate(days)
        ]
        record(base / "home", *meetings, today=today)
        yield start_feed(run, today, 400)
    finally:
        for b in run.background:
            b.stop(timeout=2.0)


# ---------------------------------------------------------------- raw HTTP
@dataclass
class Response:
    status: int  # 0: closed without an answer
    headers: dict[str, str]
    body: bytes
    raw: bytes


def get(path: str, method: str = "GET", headers: str = "", version: str = "HTTP/1.1") -> bytes:
    return f"{method} {path} {version}\r\nHost: {HOST}\r\n{headers}Connection: close\r\n\r\n".encode()


def post(path: str, length: int | None, method: str = "POST") -> bytes:
    """The head of a request with a body of `length` bytes (None: chunked)."""
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{framing}\r\nConnection: close\r\n\r\n".encode()


def parse(raw: bytes) -> Response:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.fullmatch(r"HTTP/1\.[01] (\d{3}) .*", lines[0])
    if not m:
        assert raw == b"", raw[:200]
        return Response(0, {}, b"", raw)
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Response(int(m.group(1)), headers, body, raw)


def read_all(s: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:  # the server closed with our surplus unread: what it sent first stays
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(port: int, raw: bytes, timeout: float = 5.0) -> Response:
    """Send `raw` on a new connection and read the answer up to the server's close."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before the end
            s.sendall(raw)  # its answer is read all the same
        return parse(read_all(s))


def still_open(s: socket.socket) -> bool:
    """The server has not closed this connection (nor answered on it)."""
    poller = select.poll()  # not select(): these file descriptors go beyond 1023
    poller.register(s, select.POLLIN)
    if not poller.poll(0):
        return True
    try:
        return s.recv(1, socket.MSG_PEEK) == b"X"  # never: a held connection is never answered
    except OSError:
        return False


def check_feed(feed: Feed, r: Response, method: str = "GET") -> None:
    """A 200 carries the feed (parsed: the expected reminders), a 304 nothing."""
    assert r.status in (200, 304), r.raw[:300]
    assert r.headers["etag"] == feed.etag
    if r.status == 304 or method == "HEAD":
        assert r.body == b""
    else:
        assert r.body == feed.body
        assert set(ics_items(r.body)) == feed.uids


# ---------------------------------------------------------------- held connections
HALF_SENT = (
    b"",  # nothing at all
    b"GET /feed/",  # a request line cut short
    b"GET / HTTP/1.1\r\nHost: x\r\n",  # headers without their end
    b"GET / HTTP/1.1\r\nX-Slow: ",  # slowloris: fed a byte at a time, for ever
)


class Held:
    """`n` connections held open against the server, a quarter of each kind of HALF_SENT;
    the slowloris ones get one more header byte every `every` s from a thread."""

    def __init__(self, port: int, n: int, every: float = 0.5) -> None:
        self.socks: list[socket.socket] = []
        for i in range(n):
            s = socket.create_connection((HOST, port), timeout=5)
            if HALF_SENT[i % 4]:
                s.sendall(HALF_SENT[i % 4])
            self.socks.append(s)
        self.slow = self.socks[3::4]
        self.every = every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.done.wait(self.every):
            for s in self.slow:
                with contextlib.suppress(OSError):  # closed by the server
                    s.send(b"a", socket.MSG_DONTWAIT)

    def open_count(self) -> int:
        return sum(still_open(s) for s in self.socks)

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        for s in self.socks:
            s.close()


# ---------------------------------------------------------------- 1. a burst while held
async def _fetch(port: int, raw: bytes) -> tuple[float, bytes]:
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(raw)
    await writer.drain()
    data = await reader.read()  # up to the server's close (Connection: close)
    writer.close()
    return time.perf_counter() - start, data


def burst(feed: Feed, n: int = 200, timeout: float = 30.0) -> tuple[float, list[float]]:
    """`n` concurrent GETs, half of them conditional on the current ETag; each answer is
    checked (bodies parsed). Returns (seconds for all, each one's latency)."""
    raws = [get(feed.path, headers=f"If-None-Match: {feed.etag}\r\n" if i % 2 else "") for i in range(n)]

    async def all_of_them() -> list[tuple[float, bytes]]:
        return await asyncio.wait_for(asyncio.gather(*(_fetch(feed.port, r) for r in raws)), timeout)

    start = time.perf_counter()
    results = asyncio.run(all_of_them())
    total = time.perf_counter() - start
    for i, (_, data) in enumerate(results):
        r = parse(data)
        assert r.status == (304 if i % 2 else 200), data[:300]
        check_feed(feed, r)
    return total, [latency for latency, _ in results]


def figures(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    return (f"median {statistics.median(ms):.0f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.0f} ms, "
            f"max {ms[-1]:.0f} ms")  # fmt: skip


def server_open_files_limit(feed: Feed) -> int:
    """The soft limit on open files `syncnet serve` runs with (/proc/PID/limits)."""
    text = Path(f"/proc/{feed.bg.proc.pid}/limits").read_text()
    m = re.search(r"^Max open files\s+(\d+)\s+(\d+|unlimited)", text, re.M)
    assert m, text
    return int(m.group(1))


def test_200_concurrent_gets_are_answered_while_500_connections_are_held_idle_or_half_sent(feed):
    """The attack of issue 14 (110 idle connections took waitress's 100) five times over,
    with a burst of 200 GETs at once; timed alone first, for comparison."""
    # the server raised its own limit on open files (from 1024) to what the cap needs
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the test's hard limit is the server's too
    limit = server_open_files_limit(feed)
    assert limit == (FD_TARGET if hard == resource.RLIM_INFINITY else min(FD_TARGET, hard)), limit
    assert connection_limit(limit) >= 700  # 500 held + 200 at once: nobody has to be evicted here

    alone, alone_lat = burst(feed)
    held = Held(feed.port, 500)
    try:
        time.sleep(0.5)  # the server has accepted them all
        start = time.monotonic()
        total, latencies = burst(feed)
        assert time.monotonic() - start < REQUEST_TIMEOUT / 2  # well before any held one could be dropped
        # the held connections were all still open, not dropped to make room
        assert held.open_count() == 500
    finally:
        held.close()
    print(f"\n200 concurrent GETs (100 x 200, 100 x 304): {alone:.2f} s alone ({figures(alone_lat)}); "
          f"{total:.2f} s with 500 connections held idle or half-sent ({figures(latencies)})")  # fmt: skip
    assert total < 10.0
    assert max(latencies) < 10.0
    feed.quiet_stderr()


def test_idle_connections_beyond_the_cap_do_not_lock_new_clients_out(feed):
    """With more idle connections than the cap, the stalest are closed to make room: a new
    client is answered at once, not after the idle ones time out."""
    cap = connection_limit(server_open_files_limit(feed))
    n = cap + 100
    socks = []
    try:
        start = time.monotonic()
        for _ in range(n):
            socks.append(socket.create_connection((HOST, feed.port), timeout=5))
        opened = time.monotonic() - start
        start = time.monotonic()
        r = exchange(feed.port, get(feed.path), timeout=REQUEST_TIMEOUT / 2)
        answered = time.monotonic() - start
        check_feed(feed, r)
        assert answered < 3.0, answered  # not the idle timeout making room
        # the oldest made room; the newest are still held
        assert not any(still_open(s) for s in socks[:90])
        assert all(still_open(s) for s in socks[-(cap // 2) :])
        held = sum(still_open(s) for s in socks)
        assert cap - 10 <= held <= cap, (held, cap)
    finally:
        for s in socks:
            s.close()
    print(f"\n{n} idle connections (cap {cap}) opened in {opened:.2f} s; a new client answered in "
          f"{answered * 1000:.0f} ms; {held} held, {n - held} of the oldest closed")  # fmt: skip
    feed.quiet_stderr()


# ---------------------------------------------------------------- 2. idle and slow clients dropped
def test_idle_and_slow_connections_are_closed_within_the_bound(feed):
    """Each kind of quiet connection is closed, without a word, between REQUEST_TIMEOUT and
    DROP_WITHIN after it opened, however it trickles; a real client meanwhile is answered."""
    kinds = {
        "nothing sent": b"",
        "request line cut short": b"GET /feed/",
        "headers without their end": get(feed.path)[:-2],
        "slowloris, a header byte every 0.5 s": b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        "slow body, a byte every 0.5 s": post(feed.path, MAX_BODY_BYTES - 1),
        "empty lines, as many as it likes": b"\r\n",
    }
    trickling = {"slowloris, a header byte every 0.5 s": b"a", "slow body, a byte every 0.5 s": b"a",
                 "empty lines, as many as it likes": b"\r\n"}  # fmt: skip
    socks: dict[str, socket.socket] = {}
    opened: dict[str, float] = {}
    closed: dict[str, float] = {}
    answered: dict[str, bytes] = {}
    try:
        for name, first in kinds.items():
            socks[name] = socket.create_connection((HOST, feed.port), timeout=5)
            opened[name] = time.monotonic()
            if first:
                socks[name].sendall(first)
            socks[name].setblocking(False)
        check_feed(feed, exchange(feed.port, get(feed.path)))  # a real client is answered meanwhile
        next_trickle = time.monotonic() + 0.5
        deadline = time.monotonic() + DROP_WITHIN + 3
        while len(closed) < len(kinds) and time.monotonic() < deadline:
            waiting = [s for n, s in socks.items() if n not in closed]
            ready, _, _ = select.select(waiting, [], [], 0.05)
            for name, s in socks.items():
                if s in ready and name not in closed:
                    try:
                        data = s.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    if data:
                        answered[name] = answered.get(name, b"") + data
                    else:
                        closed[name] = time.monotonic() - opened[name]
            if time.monotonic() >= next_trickle:
                next_trickle += 0.5
                for name, byte in trickling.items():
                    if name not in closed:
                        with contextlib.suppress(OSError):  # closed: seen by recv above
                            socks[name].send(byte)
    finally:
        for s in socks.values():
            s.close()
    print("\nclosed after: " + "; ".join(f"{n}: {closed.get(n, float('nan')):.1f} s" for n in kinds))
    assert set(closed) == set(kinds), f"never closed: {set(kinds) - set(closed)}"
    assert answered == {}  # closed without a word
    for name, after in closed.items():
        assert REQUEST_TIMEOUT - 0.5 <= after <= DROP_WITHIN + 0.5, (name, after)
    feed.quiet_stderr()


def test_one_request_per_connection(feed):
    """Keep-alive is not offered: a request that asks for it, with a second one pipelined
    behind it, gets one answer saying Connection: close, and the connection is closed."""
    one = f"GET {feed.path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    with socket.create_connection((HOST, feed.port), timeout=5) as s:
        s.sendall(one * 2)
        start = time.monotonic()
        raw = read_all(s)
        took = time.monotonic() - start
    assert raw.count(b"HTTP/1.1 ") == 1, raw[:500]
    r = parse(raw)
    check_feed(feed, r)
    assert r.headers["connection"] == "close"
    assert took < 1.0  # closed once answered, not left idle
    feed.quiet_stderr()


def test_pipelined_gets_that_nobody_reads_do_not_hold_the_workers(big_feed):
    """Clients that each pipeline a packet of GETs for a big feed and read nothing: were
    they all answered, the output (over 16 MiB each) would fill waitress's buffer and
    keep its worker threads waiting for ever. The feed keeps answering others."""
    feed = big_feed
    assert len(feed.body) > 200_000
    one = f"GET {feed.path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    packet = one * (8192 // len(one))  # what waitress reads at once
    assert len(feed.body) * (8192 // len(one)) > 16 * 2**20
    attackers = []
    try:
        for _ in range(4):  # twice as many as there are worker threads
            s = socket.create_connection((HOST, feed.port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # reads nothing, takes little
            s.sendall(packet)
            attackers.append(s)
        latencies = []
        for _ in range(10):
            start = time.monotonic()
            r = exchange(feed.port, get(feed.path), timeout=3)
            latencies.append(time.monotonic() - start)
            assert r.status == 200 and r.body == feed.body  # the feed, as parsed by the fixture
            time.sleep(0.2)
        assert max(latencies) < 1.0, latencies
        for s in attackers:  # one answer at most, never the second: the rest were dropped
            s.settimeout(0.3)  # closed with requests unread, the server's socket may reset: what came, came
            raw = b""
            with contextlib.suppress(TimeoutError):
                raw = read_all(s)
            assert raw.count(b"HTTP/1.1 ") <= 1 and len(raw) < len(feed.body) + 1000, raw[:300]
    finally:
        for s in attackers:
            s.close()
    print(f"\n4 clients pipelining {8192 // len(one)} GETs each for a {len(feed.body) // 1024} KiB feed, "
          f"reading nothing: others answered in {figures(latencies)}")  # fmt: skip
    feed.quiet_stderr()


# ---------------------------------------------------------------- 3. oversized requests
def test_oversized_requests_are_refused_and_the_server_serves_on(feed):
    big = 65536  # a calendar client's request is some 300 bytes
    chunks = b"".join(b"400\r\n" + b"f" * 1024 + b"\r\n" for _ in range(64)) + b"0\r\n\r\n"
    refused = {
        "huge request line": (get("/" + "a" * big), 431),
        "huge header": (get(feed.path, headers=f"X-Big: {'b' * big}\r\n"), 431),
        "too many headers": (get(feed.path, headers="".join(f"X-{i}: v\r\n" for i in range(2000))), 431),
        "a megabyte of header that never ends": (b"GET / HTTP/1.1\r\nX: " + b"c" * 1_000_000, 431),
        "a body on the feed": (post(feed.path, big) + b"d" * big, 413),
        "a body just at the limit": (post(feed.path, MAX_BODY_BYTES) + b"d" * MAX_BODY_BYTES, 413),
        "a gigabyte announced": (post(feed.path, 2**30, "PUT") + b"e" * 65536, 413),
        "an absurd Content-Length": (post(feed.path, int("9" * 100)), 413),
        "a chunked body beyond the limit": (post(feed.path, None) + chunks, 413),
    }
    for name, (raw, status) in refused.items():
        start = time.monotonic()
        r = exchange(feed.port, raw)
        took = time.monotonic() - start
        assert r.status == status, (name, r.raw[:300])
        assert b"Traceback" not in r.raw and feed.secret.encode() not in r.raw
        assert took < 2.0, (name, took)
        check_feed(feed, exchange(feed.port, get(feed.path)))  # serving on
    # just within the limits: answered as usual
    many = "".join(f"X-{i}: v\r\n" for i in range(500))  # some 4 KiB
    check_feed(feed, exchange(feed.port, get(feed.path, headers=many)))
    assert exchange(feed.port, post(feed.path, 10) + b"0123456789").status == 405
    feed.quiet_stderr()


# ---------------------------------------------------------------- 4. fuzzing
ALLOWED_REFUSALS = {400, 404, 405, 413, 414, 431, 501}
METHODS = st.sampled_from(["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT", "PROPFIND",
                           "REPORT", "MKCALENDAR", "BREW", "get", "Head"])  # fmt: skip
OTHER_METHODS = {
    "other": METHODS,
    "token": st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}", fullmatch=True),
    "text": st.text(min_size=1, max_size=12),
}
# mostly GET, so that most inputs test the path; then other methods, tokens and any text
ODD_METHODS = st.sampled_from(["GET", "GET", "GET", "GET", "HEAD", *OTHER_METHODS]).flatmap(
    lambda kind: OTHER_METHODS.get(kind, st.just(kind))
)


def percent_encode(text: str, which: list[bool]) -> str:
    """`text` with the characters flagged in `which` written %XX (UTF-8), in either case."""
    out = []
    for ch, flag in zip(text, which + [False] * len(text), strict=False):
        if flag:
            out.append("".join(f"%{b:02X}" if b % 2 else f"%{b:02x}" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def targets(draw: st.DrawFn, secret: str) -> str:
    """Request targets near the feed's path, and far from it."""
    exact = f"/feed/{secret}.ics"
    i = draw(st.integers(0, len(secret) - 1))
    junk = draw(st.text(min_size=1, max_size=20))
    kinds = ["exact", "one char", "prefix", "junk", "encoded", "dots", "unicode", "random"]
    kind = draw(st.sampled_from(kinds))
    if kind == "exact":
        return exact
    if kind == "one char":
        c = draw(st.sampled_from(SECRET_CHARS + "%./\\é\x00").filter(lambda c: c != secret[i]))
        return f"/feed/{secret[:i]}{c}{secret[i + 1 :]}.ics"
    if kind == "prefix":
        return f"/feed/{secret[:i]}" + draw(st.sampled_from(["", ".ics", "/", ".ics/"]))
    if kind == "junk":
        where = draw(st.sampled_from(["after", "before", "inside", "query"]))
        j = percent_encode(junk, [True] * len(junk)) if draw(st.booleans()) else junk
        placed = {"after": exact + j, "before": "/" + j + exact, "query": exact + "?" + j,
                  "inside": f"/feed/{secret[:i]}{j}{secret[i:]}.ics"}  # fmt: skip
        return placed[where]
    if kind == "encoded":  # percent-encoding the exact path names the same resource
        return percent_encode(exact, draw(st.lists(st.booleans(), min_size=len(exact), max_size=len(exact))))
    if kind == "dots":
        forms = ["/feed/../feed/{}.ics", "/feed/./{}.ics", "/x/../feed/{}.ics", "/feed/{}.ics/..",
                 "/../feed/{}.ics", "//feed/{}.ics", "/feed//{}.ics", "/feed/%2e%2e/feed/{}.ics",
                 "/FEED/{}.ics", "/feed/{}.ics/.", "/feed/{}%2Eics", "/feed%2F{}.ics", "/feed/{}.ics%00",
                 "/feed/{}.ics%20", "\\feed\\{}.ics", "%2F/feed/{}.ics", "/feed/{}.ics;x",
                 "/feed/{}.ics#x"]  # fmt: skip
        return draw(st.sampled_from(forms)).format(secret)
    if kind == "unicode":
        uni = draw(st.text(st.characters(min_codepoint=0x80, codec="utf-8"), min_size=1, max_size=8))
        if draw(st.booleans()):  # raw UTF-8 in the request line, or percent-encoded
            uni = percent_encode(uni, [True] * len(uni))
        return f"/feed/{secret[:i]}{uni}{secret[i:]}.ics"
    return "/" + junk


def parsed_by_urllib(target: bytes) -> bool:
    """Waitress takes a target starting with // as it is, and gives any other to
    urllib.parse.urlsplit, which drops tabs and line breaks (as WHATWG says) and refuses
    bytes beyond ASCII."""
    return not target.startswith(b"//")


def served_path(target: bytes) -> bytes:
    """What waitress hands the app as PATH_INFO for an origin-form target: the part before
    # or ?, percent-decoded (bytes, as WSGI's latin-1 string holds them), leading slashes
    made one. Each names the feed only with the whole secret in it."""
    if parsed_by_urllib(target):
        target = target.translate(None, b"\t\r\n")
    path = unquote_to_bytes(target.split(b"#", 1)[0].split(b"?", 1)[0])
    return b"/" + path.lstrip(b"/") if path.startswith(b"/") else path


def expected_statuses(feed: Feed, method: str, target: bytes) -> set[int]:
    """What the server may answer; 200 only for GET and HEAD of the exact path."""
    if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Z]+", method):  # a method is an upper-case token
        return {400}
    if b" " in target:  # splits the request line
        return {400}
    if parsed_by_urllib(target) and any(b >= 0x80 for b in target):
        return {400}
    exact = served_path(target) == feed.path.encode()
    status = (200 if method in ("GET", "HEAD") else 405) if exact else 404
    if b"\r\n" in target:  # a target cut by a line break: what follows is no header
        return {400, status}
    return {400} if b"\r" in target or b"\n" in target else {status}  # a bare CR or LF is refused


def ask(feed: Feed, method: str, target: bytes, headers: bytes = b"") -> Response:
    raw = (method.encode() + b" " + target + b" HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n" + headers
           + b"Connection: close\r\n\r\n")  # fmt: skip
    r = exchange(feed.port, raw)
    assert r.status != 0, "closed without an answer"
    assert not 500 <= r.status <= 599 or r.status == 501, r.raw[:300]
    assert b"Traceback" not in r.raw and b'File "' not in r.raw, r.raw[:300]
    assert feed.secret.encode() not in r.raw[: r.raw.find(b"\r\n\r\n")]  # never echoed in the headers
    return r


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(data=st.data())
def test_fuzzed_paths_and_methods_serve_nothing_but_the_feed(feed, data):
    method = data.draw(ODD_METHODS, label="method")
    target = data.draw(targets(feed.secret), label="target").encode()
    r = ask(feed, method, target)
    FUZZED["paths"][r.status] += 1
    assert r.status in expected_statuses(feed, method, target), (method, target, r.status)
    if r.status == 200:
        check_feed(feed, r, method)


PRINTABLE = st.text(st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\x7f"), max_size=40)
# three in four printable (any control character is refused alike), one in four anything but a line break
HEADER_TEXT = st.one_of(
    PRINTABLE,
    PRINTABLE,
    PRINTABLE,
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=40),
)


@st.composite
def if_none_match(draw: st.DrawFn, etag: str) -> str:
    near = st.sampled_from([etag, "W/" + etag, "*", '"', etag[:-1], etag.strip('"'), etag.upper()])
    parts = draw(st.lists(st.one_of(near, HEADER_TEXT), max_size=6))
    return draw(st.sampled_from([", ", ",", " , ", ";"])).join(parts)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(data=st.data())
def test_fuzzed_headers_never_break_the_feed(feed, data):
    method = data.draw(st.sampled_from(["GET", "HEAD"]), label="method")
    inm = data.draw(if_none_match(feed.etag), label="If-None-Match")
    names = st.sampled_from(["Accept", "User-Agent", "Range", "Cookie", "X-Forwarded-For", "Forwarded",
                             "Authorization", "If-Modified-Since", "Accept-Encoding", "X-Junk"])  # fmt: skip
    others = data.draw(st.lists(st.tuples(names, HEADER_TEXT), max_size=4), label="others")
    sizes = st.sampled_from([0, 0, 0, 100, MAX_HEADER_BYTES // 2, MAX_HEADER_BYTES * 2])
    big = data.draw(sizes, label="padding")
    lines = [("If-None-Match", inm), *others] + ([("X-Pad", "p" * big)] if big else [])
    headers = b"".join(k.encode() + b": " + v.encode() + b"\r\n" for k, v in lines)
    r = ask(feed, method, feed.path.encode(), headers)
    FUZZED["headers"][r.status] += 1
    if big > MAX_HEADER_BYTES:
        assert r.status == 431
        return
    if any((ord(c) < 0x20 and c != "\t") or c == "\x7f" for _, v in lines for c in v):
        assert r.status == 400, r.raw[:300]  # a control character other than a tab
        return
    assert r.status == 200 + 104 * any(t.strip().removeprefix("W/") in (feed.etag, "*")
                                       for t in inm.split(",")), (inm, r.status)  # fmt: skip
    check_feed(feed, r, method)


def test_after_the_fuzzing_the_server_is_quiet_and_serving(feed):
    """Runs after the fuzz tests (file order): no traceback, no warning, still serving."""
    paths, headers = FUZZED["paths"], FUZZED["headers"]
    print(f"\nfuzzed: {paths.total()} paths and methods ({dict(sorted(paths.items()))}), "
          f"{headers.total()} header sets ({dict(sorted(headers.items()))})")  # fmt: skip
    check_feed(feed, exchange(feed.port, get(feed.path)))
    feed.quiet_stderr()
