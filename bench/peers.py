"""Real CalDAV peers (Radicale, Xandikos) as throwaway local servers, for the tests
(tests/caldav_fixtures.py wraps them in pytest fixtures) and the benchmarks (bench/caldav.py).

- ``radicale(workdir, auth=False)``, ``xandikos(workdir)``: context managers that start a
  server and yield its :class:`Server` ``(name, base_url, home_url, auth)``; the server is
  always stopped (SIGTERM, then SIGKILL after 5 s), even when the startup fails.
- ``make_calendar(server, name=None)`` -> :class:`Calendar` ``(url, server)``: a fresh,
  empty calendar collection created with MKCALENDAR; ``url`` ends with "/".
- ``free_port()``: a local port nothing listens on.

Both are configured to answer at once: no delay after a failed login or an error, no
web interface; readiness is polled with OPTIONS. The module lives here, not under
tests/, so that the benchmarks stand without the test suite.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = [
    "HOST",
    "RADICALE_PASSWORD",
    "RADICALE_USER",
    "Calendar",
    "Server",
    "free_port",
    "make_calendar",
    "radicale",
    "xandikos",
]

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 20.0  # seconds; both servers are normally ready in well under one
STOP_TIMEOUT = 5.0

RADICALE_USER = "alice"
RADICALE_PASSWORD = "s3cret"


@dataclass(frozen=True)
class Server:
    name: str  # "radicale", "xandikos" or "radicale_auth"
    base_url: str  # "http://127.0.0.1:PORT" (no trailing slash)
    home_url: str  # collection under which test calendars are created, ends with "/"
    auth: tuple[str, str] | None  # (user, password) for HTTP Basic, or None


@dataclass(frozen=True)
class Calendar:
    url: str  # absolute URL of the calendar collection, ends with "/"
    server: Server

    @property
    def auth(self) -> tuple[str, str] | None:
        return self.server.auth


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    """A port on HOST that nothing listens on (bound and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _log_tail(log: Path, n: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "<no log>"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, name: str) -> None:
    """Poll `url` with OPTIONS until the server answers anything at all."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=1.0) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} during startup:\n{_log_tail(log)}")
            try:
                client.options(url)
                return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {STARTUP_TIMEOUT}s:\n{_log_tail(log)}")
            time.sleep(0.02)


@contextlib.contextmanager
def _serve(name: str, argv_for_port: Callable[[int], list[str]], workdir: Path) -> Iterator[str]:
    """Start a server (argv_for_port(port) -> argv), yield its base URL, always stop it.

    Retries on a new port if the process dies at startup (port grabbed in between)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RADICALE_", "XDG_"))}
    env["XDG_DATA_HOME"] = str(workdir / "xdg-data")
    env["XDG_CONFIG_HOME"] = str(workdir / "xdg-config")
    env["PYTHONUNBUFFERED"] = "1"
    last_error: Exception | None = None
    for attempt in range(3):
        port = free_port()
        log = workdir / f"{name}-{attempt}.log"
        with log.open("wb") as logf:
            proc = subprocess.Popen(
                argv_for_port(port),
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=env,
            )
        try:
            base_url = f"http://{HOST}:{port}"
            try:
                _wait_ready(proc, base_url + "/", log, name)
            except RuntimeError as e:
                last_error = e
                continue
            yield base_url
            return
        finally:
            _stop(proc)
    raise RuntimeError(f"could not start {name}") from last_error


def _radicale_argv(workdir: Path, auth: bool) -> Callable[[int], list[str]]:
    storage = workdir / "collections"
    storage.mkdir(exist_ok=True)
    if auth:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(f"{RADICALE_USER}:{RADICALE_PASSWORD}\n")
        auth_section = (
            "[auth]\ntype = htpasswd\n"
            f"htpasswd_filename = {htpasswd}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n\n"
            "[rights]\ntype = owner_only\n"
        )
    else:
        auth_section = "[auth]\ntype = none\n\n[rights]\ntype = authenticated\n"

    def argv(port: int) -> list[str]:
        cfg = workdir / "radicale.conf"
        cfg.write_text(
            "[server]\n"
            f"hosts = {HOST}:{port}\n"
            "delay_on_error = 0\n\n"
            f"{auth_section}\n"
            "[storage]\n"
            f"filesystem_folder = {storage}\n\n"
            "[web]\ntype = none\n\n"
            "[logging]\nlevel = warning\n"
        )
        return [sys.executable, "-m", "radicale", "-C", str(cfg)]

    return argv


def _xandikos_argv(workdir: Path) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return [
            sys.executable, "-m", "xandikos", "serve",
            "-d", str(workdir / "dav"),
            "-l", HOST,
            "-p", str(port),
            "--no-detect-systemd",
            "--state-dir", str(workdir / "state"),
            "--defaults",
        ]  # fmt: skip

    return argv


def _mkcol_home(url: str, auth: tuple[str, str] | None) -> None:
    r = httpx.request("MKCOL", url, auth=auth, timeout=10)
    # 201 created; 405 when it exists already (Radicale auto-creates a logged-in user's home)
    if r.status_code not in (201, 405):
        raise RuntimeError(f"MKCOL {url} -> {r.status_code}: {r.text}")


@contextlib.contextmanager
def radicale(workdir: Path, auth: bool = False) -> Iterator[Server]:
    """Start a throwaway Radicale in `workdir`, yield its Server (home created), always stop it.

    Its filesystem storage is ``workdir / "collections"`` (collections under
    ``collection-root/<user>/``), which bench/caldav.py seeds directly."""
    if auth:
        name, user, creds = "radicale_auth", RADICALE_USER, (RADICALE_USER, RADICALE_PASSWORD)
    else:
        name, user, creds = "radicale", "test", None
    with _serve(name, _radicale_argv(workdir, auth=auth), workdir) as base_url:
        server = Server(name, base_url, f"{base_url}/{user}/", creds)
        _mkcol_home(server.home_url, creds)
        yield server


@contextlib.contextmanager
def xandikos(workdir: Path) -> Iterator[Server]:
    """Start a throwaway Xandikos in `workdir`, yield its Server, always stop it."""
    with _serve("xandikos", _xandikos_argv(workdir), workdir) as base_url:
        yield Server("xandikos", base_url, f"{base_url}/user/calendars/", None)


# --------------------------------------------------------------------------- calendars

_MKCALENDAR_BODY = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>{name}</D:displayname></D:prop></D:set>
</C:mkcalendar>
"""


def make_calendar(server: Server, name: str | None = None) -> Calendar:
    """Create a fresh calendar collection under server.home_url with MKCALENDAR."""
    name = name or f"test-{uuid.uuid4().hex[:12]}"
    url = f"{server.home_url}{name}/"
    r = httpx.request(
        "MKCALENDAR",
        url,
        content=_MKCALENDAR_BODY.format(name=name).encode(),
        headers={"Content-Type": "application/xml; charset=utf-8"},
        auth=server.auth,
        timeout=10,
    )
    if r.status_code != 201:
        raise RuntimeError(f"MKCALENDAR {url} on {server.name} -> {r.status_code}: {r.text}")
    return Calendar(url, server)
