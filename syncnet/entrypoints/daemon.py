"""`syncnet daemon`: keep every target in step with the agenda.

- Polls the notification position about once a second (the SQLite recorder has
  no subscription); never re-reads the history. Only networking facts trigger a
  sync: the records of pushes (TargetSynced, and ReminderPushed in older stores) do not.
- Re-evaluates date-driven reminders when the day changes (midnight in the
  configured time zone) and at least every `full_every` seconds.
- Asks each CalDAV target for its changes every `remote_every` seconds (30), so that a
  reminder ticked off in a client becomes a fact within that time.
- A failing target is retried with exponential backoff and jitter, honouring
  Retry-After; the others go on. Failures are visible in `syncnet status`. No
  failure of a target, whatever its kind, stops the daemon: it logs one line and
  backs off.
- SIGTERM or Ctrl-C stops it cleanly between two steps (exit code 0).

Log lines carry counts and target names only, never a contact's name.
"""

from __future__ import annotations

import math
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import FrameType
from typing import TextIO

from syncnet.app.calendars import Outcome
from syncnet.app.network import Network
from syncnet.bootstrap import sync_target
from syncnet.domain.config import Target, without_userinfo
from syncnet.domain.events import AGENDA_FACTS
from syncnet.entrypoints.terminal import printable
from syncnet.errors import BadInput

MAX_POLL = 3600.0  # seconds; `--poll` is checked at input (0.1 to this)


@dataclass
class Backoff:
    base: float = 5.0
    cap: float = 3600.0
    failures: int = 0
    next_at: float = 0.0

    def failed(self, now: float, retry_after: float | None, rng: random.Random) -> float:
        self.failures += 1
        jittered = self.base * 2 ** (self.failures - 1) * rng.uniform(0.5, 1.5)
        delay: float = min(self.cap, jittered)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self.next_at = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures, self.next_at = 0, 0.0


@dataclass
class Daemon:
    net: Network
    poll: float = 1.0
    full_every: float = 24 * 3600.0
    # How often a CalDAV target is asked for its changes when no fact triggers a sync: a
    # reminder ticked off on a phone becomes a fact within this time. Such a check costs
    # one request when nothing changed (docs/sync.md).
    remote_every: float = 30.0
    out: TextIO = sys.stderr
    clock: Callable[[], float] = time.monotonic
    stop: threading.Event = field(default_factory=threading.Event)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        # NaN passes every comparison (a wait of NaN returns at once: a busy loop), and
        # an infinite wait overflows: refuse both, whoever builds the daemon.
        if not (math.isfinite(self.poll) and 0 < self.poll <= MAX_POLL):
            raise BadInput(f"the poll interval must be above 0 and at most {MAX_POLL:g} seconds, "
                           f"not {self.poll}")  # fmt: skip

    def log(self, message: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        print(f"{stamp} {printable(message)}", file=self.out, flush=True)  # errors quote servers and paths

    def _networking_facts_since(self, position: int) -> bool:
        return bool(self.net.store.log.after(position, 1, types=AGENDA_FACTS))

    def _sync(self, target: Target, backoff: Backoff) -> None:
        try:
            outcome: Outcome = sync_target(self.net, target)
        except Exception as e:
            # sync_target returns a target's failures; what escapes it (the store, a bug)
            # still must not end the daemon: the target is retried like any failure.
            reason = " ".join(without_userinfo(str(e)).split())[:300]
            error = f"{type(e).__name__}: {reason}" if reason else type(e).__name__
            outcome = Outcome(target.name, error=error)
        now = self.clock()
        if outcome.error is None:
            backoff.succeeded()
            r = outcome.report
            if r is not None and r.actions:
                done = f", {r.count('completed')} completed" if r.count("completed") else ""
                self.log(f"{target.name}: {r.count('created')} created, {r.count('updated')} updated, "
                         f"{r.count('deleted')} deleted{done} ({outcome.requests} request"
                         f"{'' if outcome.requests == 1 else 's'})")  # fmt: skip
        else:
            delay = backoff.failed(now, outcome.retry_after, self.rng)
            self.log(f"{target.name}: failed ({outcome.error}); retry in {delay:.0f} s")

    def run(self) -> int:
        targets = list(self.net.config.targets)
        if not targets:
            self.log("no targets configured: nothing to keep in step")
            return 2
        backoffs = {t.name: Backoff() for t in targets}
        due = {t.name for t in targets}  # sync everything once at start
        position = self.net.position()
        day: date = self.net.today()
        last_full = last_remote = self.clock()
        self.log(f"daemon started: {len(targets)} target(s), position {position}")
        while not self.stop.is_set():
            now = self.clock()
            latest = self.net.position()
            if latest > position:
                if self._networking_facts_since(position):
                    due = {t.name for t in targets}
                position = latest
            today = self.net.today()
            if today != day or now - last_full >= self.full_every:
                day, last_full = today, now
                due = {t.name for t in targets}
            if now - last_remote >= self.remote_every:  # completions on the servers
                last_remote = now
                due |= {t.name for t in targets if t.type == "caldav"}
            for t in targets:
                if self.stop.is_set():
                    break
                if t.name in due and backoffs[t.name].next_at <= now:
                    self._sync(t, backoffs[t.name])
                    if backoffs[t.name].failures == 0:
                        due.discard(t.name)
            self.stop.wait(self.poll)
        self.log("daemon stopped")
        return 0


def run_daemon(net: Network, poll: float = 1.0) -> int:
    daemon = Daemon(net, poll=poll)

    def handle(signum: int, frame: FrameType | None) -> None:
        daemon.stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return daemon.run()
