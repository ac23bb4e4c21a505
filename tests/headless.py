"""Headless Chromium, driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
JSON messages ending in NUL on file descriptors 3 and 4), with the standard library only:
no websocket client, no browser download. Used by tests/test_report.py.

`Browser(executable, profile)` starts Debian's `chromium` with the network refused: every
request of a page goes to a proxy on a closed port, host names resolve to nothing, and the
page's network is emulated offline. `open(url)` loads a page and records every request the
page made and every console error (console.error, uncaught exceptions, and the browser's
own log errors, such as a resource that failed or a Content-Security-Policy violation).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT = 30.0


def chromium() -> str | None:
    """Debian's `chromium` on PATH, or None."""
    return shutil.which("chromium")


@dataclass
class Loaded:
    """What loading a page showed: the URLs it requested (the page itself first) and the
    console errors, as text."""

    url: str
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "URL: net::ERR_..."
    errors: list[str] = field(default_factory=list)


class Browser:
    def __init__(self, executable: str, profile: Path, log: Path) -> None:
        to_browser, self._in = os.pipe()  # we write, the browser reads on fd 3
        self._out, from_browser = os.pipe()  # the browser writes on fd 4, we read

        def descriptors() -> None:  # in the child: the pipe's ends as fds 3 and 4
            a, b = os.dup(to_browser), os.dup(from_browser)
            os.dup2(a, 3, inheritable=True)
            os.dup2(b, 4, inheritable=True)

        args = [
            executable,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "--no-sandbox",  # root in CI has no user namespace sandbox; the page is ours
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--metrics-recording-only",
            "--mute-audio",
            # network refused: a proxy on the discard port (closed), for loopback too, and no DNS
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=1200,900",
            "about:blank",
        ]
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            preexec_fn=descriptors,
            close_fds=False,  # fds 3 and 4 must reach the browser
            start_new_session=True,  # its helpers (zygote, renderer) in a group of its own
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    # protocol --------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._next += 1
        n = self._next
        message: dict[str, Any] = {"id": n, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._in, json.dumps(message).encode() + b"\0")
        answer = self._wait(lambda m: m.get("id") == n, f"the answer to {method}")
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def _wait(self, wanted: Any, what: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if wanted(message):
                    return dict(message)
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"chromium: no {what} within {timeout} s")
            ready, _, _ = select.select([self._out], [], [], left)
            if ready:
                chunk = os.read(self._out, 1 << 20)
                if not chunk:
                    raise EOFError(f"chromium closed the pipe while waiting for {what}")
                self._buffer += chunk

    def drain(self, seconds: float) -> None:
        """Read the events that come within `seconds` (late requests, late errors)."""
        with contextlib.suppress(TimeoutError):
            self._wait(lambda m: False, "event", seconds)

    # pages -----------------------------------------------------------------
    def open(self, url: str) -> Loaded:
        """A new tab with `url` loaded (its load event fired, then half a second more)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = s = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=s)
        self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            session=s,
        )
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=s,
        )
        first = len(self.events)
        self.send("Page.navigate", {"url": url}, session=s)
        self._wait(
            lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == s, "load event"
        )
        self.drain(0.5)
        loaded = Loaded(url)
        ids: dict[str, str] = {}
        for e in self.events[first:]:
            if e.get("sessionId") != s:
                continue
            method, p = e["method"], e.get("params", {})
            if method == "Network.requestWillBeSent":
                ids[p["requestId"]] = p["request"]["url"]
                loaded.requests.append(p["request"]["url"])
            elif method == "Network.loadingFailed":
                loaded.failed.append(f"{ids.get(p['requestId'], '?')}: {p.get('errorText')}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                loaded.errors.append(
                    "console: "
                    + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
                )
            elif method == "Runtime.exceptionThrown":
                details = p.get("exceptionDetails", {})
                loaded.errors.append(
                    f"exception: {details.get('exception', {}).get('description') or details}"
                )
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                loaded.errors.append(f"log: {p['entry'].get('text')}")
        return loaded

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the open page (by value: JSON-like)."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def hover(self, x: float, y: float) -> None:
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, session=self.session)

    def screenshot(self) -> bytes:
        """The whole page as PNG."""
        size = self.send("Page.getLayoutMetrics", session=self.session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            session=self.session,
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.send("Browser.close")
                self.process.wait(timeout=10)
        except (OSError, TimeoutError, EOFError, RuntimeError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group this Browser started
                self.process.wait(timeout=10)
            for fd in (self._in, self._out):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._log.close()
