"""Every failure is a failure (issue 10, point 3).

Any exception of a target (HTTP, XML, TLS, the file system, a bug) fails that target's
sync in one line without a secret; the other targets still sync, `sync` exits 1,
`status` shows the error and what is still pending, and the daemon backs off and keeps
running. An .ics file is written whole or the target fails.

The garbage comes from a real HTTP server on 127.0.0.1 (`DavServer`: canned answers per
method) where a socket matters (TLS, header checks, the CLI); httpx.MockTransport plays
the server for the client's answers one request at a time.
"""

from __future__ import annotations

import errno
import io
import json
import random
import re
import resource
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import TODAY, T, agenda_items, ics_items, ics_target, wait_for, write_config
from syncnet_adapters import caldav
from syncnet_adapters.caldav import BadAnswer, CalDAVClient, CalDAVError, CalDAVPort, Unavailable
from syncnet_adapters.ics import write_atomically

from syncnet.app import calendars
from syncnet.app.network import Network
from syncnet.app.sync import RemoteChanges
from syncnet.domain import commands as cmd
from syncnet.domain.config import Target
from syncnet.entrypoints import daemon as daemon_module
from syncnet.entrypoints.cli.exits import exit_code_for
from syncnet.entrypoints.daemon import Daemon
from syncnet.errors import BadInput, TargetDown
from syncnet.storage.store import init_store

USER, PASSWORD, TOKEN = "alice", "s3cret-Pässwort-42", "tok-9f8e7d6c5b4a"

CALENDAR = (b'<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" '
            b'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/cal/</d:href><d:propstat>'
            b"<d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop>"
            b"<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>")  # fmt: skip
TRUNCATED = b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/a.i'
HTML = b"<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>"
BINARY = b"\x00\xff\xfe garbage \x1b[31m"
GARBAGE = {"truncated": TRUNCATED, "html": HTML, "binary": BINARY}


# ---------------------------------------------------------------- a server that answers garbage
class DavServer(ThreadingHTTPServer):
    """Answers each method with a canned (status, body); 405 for the others."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Canned)
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/cal/"


class _Canned(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DavServer

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(self.command)
        status, body = self.server.answers.get(self.command, (405, b""))
        self.send_response(status)
        self.send_header("Content-Type", 'application/xml; charset="utf-8"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PROPFIND = do_REPORT = do_PUT = do_GET = do_DELETE = do_MKCALENDAR = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def dav() -> Iterator[DavServer]:
    server = DavServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def one_line_without_secrets(text: str, *secrets: str) -> str:
    assert text and "\n" not in text and "\r" not in text, repr(text)
    for secret in (PASSWORD, TOKEN, *secrets):
        assert secret not in text, text
    return text


def mock_client(handler: Callable[[httpx.Request], httpx.Response], url: str = "http://dav.test/cal/",
                token: bool = False) -> CalDAVClient:  # fmt: skip
    auth, headers = caldav.auth_for(USER, None if token else PASSWORD, TOKEN if token else None)
    client = CalDAVClient(url, auth, 5.0, headers, transport=httpx.MockTransport(handler))
    client.collection = client.url
    return client


# ---------------------------------------------------------------- the client: answers it cannot read
@pytest.mark.parametrize("kind", sorted(GARBAGE))
@pytest.mark.parametrize("call", ["sync_collection", "ctag", "list_etags", "is_calendar"])
def test_an_unreadable_207_answer_is_a_bad_answer_in_one_line(kind: str, call: str) -> None:
    client = mock_client(lambda request: httpx.Response(207, content=GARBAGE[kind]))
    calls: dict[str, Callable[[], Any]] = {
        "sync_collection": lambda: client.sync_collection("tok-1"), "ctag": client.ctag,
        "list_etags": client.list_etags, "is_calendar": lambda: client.is_calendar(client.url),
    }  # fmt: skip
    with pytest.raises(BadAnswer) as caught:
        calls[call]()
    assert isinstance(caught.value, Unavailable) and isinstance(caught.value, TargetDown)  # retried later
    text = one_line_without_secrets(str(caught.value))
    method = "REPORT" if call == "sync_collection" else "PROPFIND"
    assert text.startswith(f"{method} /cal/: HTTP 207 with ")
    assert ("malformed XML" in text) if kind != "html" else ("instead of a DAV multistatus" in text)


def test_a_first_listing_that_cannot_be_read_deletes_nothing() -> None:
    """Read as an empty listing, a well-formed error page would pass every item for
    deleted by the user; it raises instead."""
    port = CalDAVPort(mock_client(lambda request: httpx.Response(207, content=HTML)), "event", ())
    with pytest.raises(BadAnswer):
        port.changes_since(None)
    with pytest.raises(BadAnswer):
        port.changes_since("ctag:abc")


@pytest.mark.parametrize("error", [
    ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed:\nself-signed certificate"),
    OSError(errno.ENETUNREACH, "Network is unreachable"),
    ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
])  # fmt: skip
def test_a_transport_error_httpx_does_not_map_is_target_down(error: OSError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client = mock_client(handler, url=f"https://{USER}:{PASSWORD}@dav.test/cal/")
    with pytest.raises(Unavailable) as caught:
        client.put(client.url + "a.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    text = one_line_without_secrets(str(caught.value))
    assert text.startswith("PUT https://dav.test/cal/a.ics: ") and type(error).__name__ in text


def test_tls_to_a_plain_http_server_fails_in_one_line(dav: DavServer) -> None:
    url = dav.url.replace("http://", f"https://{USER}:{PASSWORD}@")
    auth, headers = caldav.auth_for(USER, PASSWORD, None)
    client = CalDAVClient(url, auth, 5.0, headers)
    client.collection = client.url
    try:
        with pytest.raises(Unavailable) as caught:
            client.sync_collection(None)
    finally:
        client.close()
    text = one_line_without_secrets(str(caught.value))
    assert text.startswith(f"REPORT https://127.0.0.1:{dav.server_address[1]}/cal/: ConnectError: "), text
    assert "SSL" in text


@pytest.mark.parametrize("token", [f"{TOKEN}\r\nX-Leak: {TOKEN}", f"{TOKEN}-ünïcode"])
def test_credentials_http_cannot_carry_are_reported_without_them(dav: DavServer, token: str) -> None:
    """h11 quotes an illegal header in its message, and the header is the credentials."""
    dav.answers["REPORT"] = (207, CALENDAR)
    auth, headers = caldav.auth_for(None, None, token)
    with pytest.raises(CalDAVError) as caught:  # httpx checks some headers early, h11 the others
        client = CalDAVClient(dav.url, auth, 5.0, headers)
        client.collection = client.url
        try:
            client.sync_collection(None)
        finally:
            client.close()
    text = one_line_without_secrets(str(caught.value), token, "ünïcode", "X-Leak")
    assert "cannot be sent" in text and "token" in text
    assert dav.seen == []  # nothing went out


# ---------------------------------------------------------------- the command line
@pytest.fixture
def network(run: Any) -> dict[str, Any]:
    """Three reminders within 60 days; returns what a calendar should hold."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--channel", "conference", "--on", "2026-11-19", *T)
    run.ok("meet", "Bob Smith", "--on", "2026-11-01", *T)
    run.ok("promise", "Ada", "Send the paper", "--due", "2026-11-25", *T)
    want = agenda_items(run, date.fromisoformat(TODAY) + timedelta(days=60), *T)
    assert len(want) == 3
    return want


def pushes(run: Any, contact: str) -> list[dict[str, Any]]:
    return [e["details"] for e in run.json("history", contact, *T)["events"] if e["kind"] == "pushed"]


@pytest.mark.parametrize(("method", "kind"), [("REPORT", "truncated"), ("REPORT", "binary"),
                                              ("PROPFIND", "html")])  # fmt: skip
def test_sync_fails_a_target_answering_garbage_and_still_syncs_the_next(
    run: Any, home: Path, tmp_path: Path, network: dict[str, Any], dav: DavServer, method: str, kind: str
) -> None:
    dav.answers = {"PROPFIND": (207, CALENDAR), "REPORT": (207, CALENDAR)}
    dav.answers[method] = (207, GARBAGE[kind])
    out = tmp_path / "reminders.ics"
    write_config(home, bad={"type": "caldav", "url": dav.url}, file=ics_target(out))  # bad first

    for attempt in (1, 2):
        proc = run("sync", *T)
        assert proc.returncode == 1, proc.stderr
        (line,) = proc.stderr.splitlines()  # one line per failed target
        assert line.startswith(f"syncnet: error: target bad: {method} /cal/: HTTP 207 with "), line
        one_line_without_secrets(line)
        expected = "file: synced: 3 created" if attempt == 1 else "file: synced: 0 created"
        assert proc.stdout.startswith(expected) and "bad" not in proc.stdout, proc.stdout
        assert set(ics_items(out.read_bytes())) == set(network)  # the second target was synced

        rows = {r["target"]: r for r in run.json("status", *T)["targets"]}
        bad, good = rows["bad"], rows["file"]
        assert bad["last_error"] == line.removeprefix("syncnet: error: ")
        assert bad["failures"] == attempt and bad["last_success"] is None and bad["last_error_at"]
        assert bad["pending"]["create"] == 3 and bad["holds"] == 0
        assert good["last_error"] is None and good["failures"] == 0 and good["last_success"]
        assert good["pending"] == {"create": 0, "update": 0, "delete": 0}

    doc = run("sync", "--json", *T)
    assert doc.returncode == 1
    results = {t["target"]: t for t in json.loads(doc.stdout)["targets"]}
    assert results["bad"]["ok"] is False and results["bad"]["error"].startswith(f"target bad: {method} ")
    assert results["file"]["ok"] is True
    assert {p["target"] for p in pushes(run, "Ada")} == {"file"}  # nothing recorded as pushed to bad


def test_an_ics_file_that_cannot_be_written_fails_and_stays_pending(
    run: Any, home: Path, tmp_path: Path, network: dict[str, Any]
) -> None:
    """Tests run as root, which ignores permissions: the target's directory cannot be
    made because a file is where it should be."""
    blocker = tmp_path / "calendars"
    blocker.write_text("not a directory")
    out = blocker / "reminders.ics"
    write_config(home, file=ics_target(out))

    proc = run("sync", *T)
    assert proc.returncode == 1
    assert proc.stdout == ""  # no "synced: 3 created" for a file that was not written
    assert proc.stderr.splitlines() == [f"syncnet: error: target file: cannot write {out}: Not a directory"]
    doc = run("sync", "--json", *T)
    assert doc.returncode == 1
    (result,) = json.loads(doc.stdout)["targets"]
    assert result["ok"] is False and result["actions"] == [] and "Not a directory" in result["error"]

    (row,) = run.json("status", *T)["targets"]
    assert row["last_error"] == f"target file: cannot write {out}: Not a directory"
    assert row["failures"] == 2 and row["last_success"] is None
    assert row["pending"] == {"create": 3, "update": 0, "delete": 0} and row["holds"] == 0
    assert pushes(run, "Ada") == [] and pushes(run, "Bob") == []

    # once it can be written, the next sync writes all of it and records it
    blocker.unlink()
    blocker.mkdir()
    assert run.ok("sync", *T).stdout.startswith("file: synced: 3 created")
    assert set(ics_items(out.read_bytes())) == set(network)
    (row,) = run.json("status", *T)["targets"]
    assert row["failures"] == 0 and row["holds"] == 3 and row["pending"]["create"] == 0
    assert sorted((p["action"], p["result"]) for p in pushes(run, "Ada")) == [("created", "ok")] * 2


def test_a_write_cut_short_by_the_file_system_leaves_the_old_file_whole(tmp_path: Path) -> None:
    """A real short write: the child may write 64 KiB per file (RLIMIT_FSIZE, which
    root obeys too), the new calendar is 1 MiB."""
    path = tmp_path / "reminders.ics"
    old = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    write_atomically(path, old)
    child = ("import sys; from pathlib import Path; from syncnet_adapters.ics import write_atomically\n"
             "try:\n    write_atomically(Path(sys.argv[1]), b'X' * (1 << 20))\n"
             "except OSError as e:\n    print(e.errno)\n")  # fmt: skip

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    done = subprocess.run([sys.executable, "-c", child, str(path)], preexec_fn=limit, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(errno.EFBIG)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reminders.ics"]  # no temp file left


# ---------------------------------------------------------------- the service: any exception
class Broken:
    """A port whose listing raises `error` (a bug, an interruption)."""

    edited_elsewhere = True
    requests = 1

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.closed = False

    def changes_since(self, cursor: str | None, *, likely_unchanged: bool = False) -> RemoteChanges:
        raise self.error

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    home = tmp_path / "store"
    init_store(home)
    today = date.fromisoformat(TODAY)
    with Network.open(home, today=today) as n:
        n.record(cmd.Meet("Ada Lovelace", on=today))
        yield n


def test_any_exception_of_a_target_is_its_failure_in_one_line(net: Network) -> None:
    target = Target(name="phone", type="caldav", url="https://dav.test/cal/")
    error = RuntimeError(f"unexpected answer\nfrom https://{USER}:{PASSWORD}@dav.test/cal/\n")
    port = Broken(error)
    outcome = calendars.sync_target(net, target, lambda t, s: port)
    assert outcome.error == "target phone: RuntimeError: unexpected answer from https://dav.test/cal/"
    assert outcome.cause is error and exit_code_for(outcome.cause) == 1
    assert outcome.report is None and port.closed
    health = net.state.get(calendars.HEALTH, "phone")
    assert health["last_error"] == outcome.error and health["failures"] == 1
    assert "last_success" not in health


def test_an_interruption_propagates_and_is_not_recorded_as_a_success(net: Network) -> None:
    target = Target(name="phone", type="caldav", url="https://dav.test/cal/")
    with pytest.raises(KeyboardInterrupt):
        calendars.sync_target(net, target, lambda t, s: Broken(KeyboardInterrupt()))
    health = net.state.get(calendars.HEALTH, "phone")
    assert health["last_error"] == "target phone: KeyboardInterrupt" and health["failures"] == 1
    assert "last_success" not in health


# ---------------------------------------------------------------- the daemon
class Clock:
    """The daemon's monotonic clock, moved by the test (backoff waits in fake time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run_daemon_thread(home: Path, clock: Clock) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}
    started = threading.Event()

    def serve() -> None:
        with Network.open(home, home / "config.toml", today=date.fromisoformat(TODAY)) as n:
            box["daemon"] = Daemon(n, poll=0.01, out=io.StringIO(), clock=clock, rng=random.Random(7))
            started.set()
            box["code"] = box["daemon"].run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    return thread, box


def test_the_daemon_keeps_running_through_garbage_and_a_target_that_recovers(
    tmp_path: Path, dav: DavServer
) -> None:
    dav.answers = {"PROPFIND": (207, CALENDAR), "REPORT": (207, TRUNCATED)}
    home = tmp_path / "store"
    init_store(home)
    blocker = tmp_path / "calendars"
    blocker.write_text("not a directory")
    out = blocker / "reminders.ics"
    write_config(home, bad={"type": "caldav", "url": dav.url}, file=ics_target(out))
    today = date.fromisoformat(TODAY)
    with Network.open(home, home / "config.toml", today=today) as writer:
        writer.record(cmd.Meet("Ada Lovelace", on=today))
        writer.record(cmd.Meet("Bob Smith", on=today - timedelta(days=19)))
        clock = Clock()
        thread, box = run_daemon_thread(home, clock)
        daemon: Daemon = box["daemon"]

        def log() -> str:
            value: str = daemon.out.getvalue()  # type: ignore[attr-defined]
            return value

        def failed(times: int) -> bool:
            return log().count("bad: failed") == log().count("file: failed") == times

        def health(name: str) -> dict[str, Any]:
            return {r["target"]: r for r in calendars.status(writer, today)}[name]

        try:
            wait_for(lambda: failed(1), 10, "both targets to fail once")
            reports = dav.seen.count("REPORT")
            for failures in (2, 3):  # each retry waits for its backoff, in fake time
                clock.now += 1000
                wait_for(lambda f=failures: failed(f), 10, f"failure {failures}")
                assert thread.is_alive()
            assert dav.seen.count("REPORT") == reports + 2  # not on every poll: only when due
            assert health("bad")["failures"] == 3 and "malformed XML" in health("bad")["last_error"]
            assert health("file")["failures"] == 3 and health("file")["pending"]["create"] == 2

            blocker.unlink()  # the file target recovers
            blocker.mkdir()
            clock.now += 1000
            wait_for(lambda: "file: 2 created" in log(), 10, "the file target to recover")
            assert len(ics_items(out.read_bytes())) == 2
            row = health("file")
            assert row["failures"] == 0 and row["last_success"] and row["pending"]["create"] == 0
            clock.now += 1000
            wait_for(lambda: log().count("bad: failed") == 5, 10, "the bad target to be retried still")
            assert thread.is_alive() and "file: failed" not in log().split("file: 2 created")[1]
        finally:
            daemon.stop.set()
            thread.join(10)
    assert not thread.is_alive() and box["code"] == 0
    lines = [line for line in log().splitlines() if "failed" in line]
    assert len(lines) == 5 + 3
    line_format = re.compile(r"\S+ (bad|file): failed \(target \1: .+\); retry in \d+ s")
    assert all(line_format.fullmatch(line) for line in lines), lines
    assert "Ada" not in log() and "Bob" not in log()


def test_the_daemon_survives_an_error_that_escapes_the_sync(tmp_path: Path, monkeypatch: Any) -> None:
    """What sync_target does not catch (a store error, a bug) fails the target like any
    failure: logged, backed off, retried."""
    home = tmp_path / "store"
    init_store(home)
    out = tmp_path / "reminders.ics"
    write_config(home, file=ics_target(out))
    real = daemon_module.sync_target
    calls: list[str] = []

    def flaky(n: Network, target: Target, **kw: Any) -> Any:
        calls.append(target.name)
        if len(calls) == 1:
            raise RuntimeError("database is locked\n(the second line)")
        return real(n, target, **kw)

    monkeypatch.setattr(daemon_module, "sync_target", flaky)
    today = date.fromisoformat(TODAY)
    with Network.open(home, home / "config.toml", today=today) as writer:
        writer.record(cmd.Meet("Ada Lovelace", on=today))
    clock = Clock()
    thread, box = run_daemon_thread(home, clock)
    try:
        wait_for(lambda: "file: failed" in box["daemon"].out.getvalue(), 10, "the failure")
        assert "file: failed (RuntimeError: database is locked (the second line)); retry in" in (
            box["daemon"].out.getvalue())
        assert thread.is_alive() and calls == ["file"]
        clock.now += 1000
        wait_for(lambda: "file: 1 created" in box["daemon"].out.getvalue(), 10, "the retry")
        assert len(ics_items(out.read_bytes())) == 1
    finally:
        box["daemon"].stop.set()
        thread.join(10)
    assert box["code"] == 0


@pytest.mark.parametrize("poll", ["inf", "-inf", "1e400", "0", "0.05", "-1", "3600.5", "many"])
def test_daemon_poll_outside_its_range_is_refused(run: Any, home: Path, tmp_path: Path, poll: str) -> None:
    run.ok("init")
    write_config(home, file=ics_target(tmp_path / "r.ics"))
    line = run.fails("daemon", "--poll", poll)
    assert "'--poll'" in line and ("0.1<=x<=3600" in line or "written with the digits 0-9" in line), line


@pytest.mark.parametrize("poll", ["nan", "-nan", "NaN"])
def test_daemon_poll_nan_is_refused(run_process: Any, home: Path, tmp_path: Path, poll: str) -> None:
    """NaN passes every comparison: a wait of NaN returns at once (a spinning core).
    In a process of its own: were it accepted, the daemon would run."""
    run_process.ok("init")
    write_config(home, file=ics_target(tmp_path / "r.ics"))
    line = run_process.fails("daemon", "--poll", poll)
    assert "'--poll'" in line and f"{poll!r} is not a number written with the digits 0-9" in line, line
    assert not (tmp_path / "r.ics").exists()


def test_a_daemon_refuses_a_poll_interval_it_cannot_wait(net: Network) -> None:
    for poll in (float("nan"), float("inf"), 0.0, -1.0, 3600.001):
        with pytest.raises(BadInput):
            Daemon(net, poll=poll)
    assert Daemon(net, poll=3600.0).poll == 3600.0


@pytest.mark.parametrize("poll", ["0.1", "3600"])
def test_daemon_poll_at_its_edges_runs_and_stops(run: Any, home: Path, tmp_path: Path, poll: str) -> None:
    run.ok("init")
    out = tmp_path / "r.ics"
    write_config(home, file=ics_target(out))
    bg = run.popen("daemon", "--poll", poll)
    wait_for(lambda: "daemon started" in bg.stderr(), 15, "the daemon to start")
    wait_for(out.exists, 10, "the first sync")
    assert bg.stop(signal.SIGTERM, timeout=5.0) == 0, bg.stderr()  # even mid-way through an hour's wait
