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
- With a hub (docs/hub.md), it pushes the facts recorded here as they come, and pulls
  the hub's within moments of their arrival (LISTEN/NOTIFY; a pull every `hub.poll`
  seconds besides). A CalDAV target is pushed to by one daemon of the hub at a time: the
  one holding its lease (a PostgreSQL advisory lock, freed when its holder stops or dies).
- `verbose` adds "debug:" lines: each poll that sees new facts, each sync started and
  finished, each remote check, each backoff, each day change.

Log lines carry counts, positions, durations, target names and URLs without their
credentials or query string only: never a contact's name, a note, a key or a secret.
Debug lines name the class of an error, never its text (the normal line has that).
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
from typing import Any, TextIO

from syncnet.app.calendars import Outcome, target_state
from syncnet.app.network import Network
from syncnet.app.sync import COUNTED, OURS
from syncnet.bootstrap import sync_target
from syncnet.domain.config import Target, without_userinfo
from syncnet.domain.events import AGENDA_FACTS
from syncnet.entrypoints.terminal import printable
from syncnet.errors import BadInput

MAX_POLL = 3600.0  # seconds; `--poll` is checked at input (0.1 to this)

# Why a target is due, for the debug lines. A remote check is the cheapest reason: any
# other one (a full sync also reads the server's changes) takes its place.
AT_START, NEW_FACTS, NEW_DAY, PERIODIC, REMOTE_CHECK = (
    "start", "new facts", "day change", "periodic re-evaluation", "remote check")  # fmt: skip


def mark_due(due: dict[str, str], names: list[str], reason: str) -> None:
    for name in names:
        if reason != REMOTE_CHECK or name not in due:
            due[name] = reason


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
    verbose: bool = False  # the "debug:" lines
    exchange: Any = None  # app.hub.Exchange, when a hub is configured
    hub_poll: float = 30.0

    def __post_init__(self) -> None:
        self._holding: dict[str, bool] = {}
        self._hub_backoff = Backoff()
        # NaN passes every comparison (a wait of NaN returns at once: a busy loop), and
        # an infinite wait overflows: refuse both, whoever builds the daemon.
        if not (math.isfinite(self.poll) and 0 < self.poll <= MAX_POLL):
            raise BadInput(f"the poll interval must be above 0 and at most {MAX_POLL:g} seconds, "
                           f"not {self.poll}")  # fmt: skip

    def log(self, message: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        print(f"{stamp} {printable(message)}", file=self.out, flush=True)  # errors quote servers and paths

    def debug(self, message: str) -> None:
        if self.verbose:
            self.log(f"debug: {message}")

    def _where(self, target: Target) -> str:
        return target.path if target.type == "ics" else without_userinfo(target.url)

    def _networking_facts_since(self, position: int) -> bool:
        return bool(self.net.store.log.after(position, 1, types=AGENDA_FACTS))

    def _leased(self, target: Target) -> bool:
        """Whether this daemon may push to `target`: always without a hub or for a file;
        with a hub, a CalDAV target only while this daemon holds its lease."""
        if self.exchange is None or target.type != "caldav":
            return True
        try:
            held = bool(self.exchange.may_push(target))
        except Exception as e:  # the hub unreachable: another device may hold it, so wait
            self.log(f"{target.name}: its lease cannot be asked for ({type(e).__name__}): not pushed to now")
            self._holding.pop(target.name, None)
            return False
        if held != self._holding.get(target.name):
            self._holding[target.name] = held
            waits = "another process of the hub (a daemon here or elsewhere) pushes to it; this one waits"
            self.log(f"{target.name}: this device pushes to it now" if held else f"{target.name}: {waits}")
        return held

    def _hub_step(self, pull: bool, push: bool) -> bool:
        """Pull and/or push, each failure one line and a backoff (the calendars go on).
        True when it ran and succeeded."""
        if self.exchange is None or self._hub_backoff.next_at > self.clock():
            return False
        try:
            if pull:
                done = self.exchange.pull()
                if done.pulled:
                    self.log(f"hub: {done.pulled} fact(s) pulled" +
                             (f", {done.erased} contact(s) forgotten" if done.erased else ""))  # fmt: skip
            if push:
                done = self.exchange.push()
                if done.pushed:
                    self.log(f"hub: {done.pushed} fact(s) pushed")
            self._hub_backoff.succeeded()
            return True
        except Exception as e:
            delay = self._hub_backoff.failed(self.clock(), None, self.rng)
            reason = " ".join(without_userinfo(str(e)).split())[:300]
            self.log(f"hub: failed ({type(e).__name__}: {reason}); retry in {delay:.0f} s")
            return False

    def _sync(self, target: Target, backoff: Backoff, why: str) -> None:
        retry = f", retry {backoff.failures}" if backoff.failures else ""
        self.debug(f"sync {target.name} started ({why}{retry})")
        started = time.monotonic()  # a duration, whatever clock schedules the loop
        try:
            outcome: Outcome = sync_target(self.net, target)
        except Exception as e:
            # sync_target returns a target's failures; what escapes it (the store, a bug)
            # still must not end the daemon: the target is retried like any failure.
            reason = " ".join(without_userinfo(str(e)).split())[:300]
            error = f"{type(e).__name__}: {reason}" if reason else type(e).__name__
            outcome = Outcome(target.name, error=error, cause=e)
        if self.verbose:
            self._debug_outcome(target, outcome, time.monotonic() - started, why)
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
            # the class of the error, not its text: that is in the line above, filtered
            kind = type(outcome.cause).__name__ if outcome.cause is not None else "error"
            after = f", Retry-After {outcome.retry_after:g} s" if outcome.retry_after is not None else ""
            self.debug(f"backoff {target.name}: next try in {delay:.1f} s ({kind}, failure "
                       f"{backoff.failures}{after})")  # fmt: skip

    def _debug_outcome(self, target: Target, outcome: Outcome, took: float, why: str) -> None:
        r = outcome.report
        requests = f"{outcome.requests} request{'' if outcome.requests == 1 else 's'}"
        if outcome.error is not None:
            done = f" after {len(r.actions)} change(s)" if r is not None else ""
            self.debug(f"sync {target.name} failed in {took:.2f} s{done} ({requests})")
            return
        counts = {a: 0 if r is None else r.count(a) for a in COUNTED}
        # after the sync, the items of syncnet's the target holds and this sync did not write
        try:
            ours = sum(1 for st in target_state(self.net, target)[0].items.values() if st.status == OURS)
            unchanged = str(max(0, ours - counts["created"] - counts["updated"]))
        except Exception:  # a debug line must not stop the daemon
            unchanged = "?"
        rest = "".join(f", {n} {kind}" for kind, n in counts.items()
                       if n and kind not in ("created", "updated", "deleted"))  # fmt: skip
        self.debug(f"sync {target.name} finished in {took:.2f} s: {counts['created']} created, "
                   f"{counts['updated']} updated, {counts['deleted']} deleted, {unchanged} unchanged"
                   f"{rest} ({requests})")  # fmt: skip
        if why == REMOTE_CHECK:
            changed = "changed" if r is not None and r.actions else "unchanged"
            self.debug(f"remote check {target.name}: {changed}")

    def run(self) -> int:
        targets = list(self.net.config.targets)
        if not targets and self.exchange is None:
            self.log("no targets configured: nothing to keep in step")
            return 2
        backoffs = {t.name: Backoff() for t in targets}
        names = [t.name for t in targets]
        due = dict.fromkeys(names, AT_START)  # sync everything once at start
        position = self.net.position()
        day: date = self.net.today()
        last_full = last_remote = self.clock()
        self.log(f"daemon started: {len(targets)} target(s), position {position}" +
                 (f", hub {self.exchange.hub.where}" if self.exchange is not None else ""))  # fmt: skip
        self._hub_step(pull=True, push=True)
        last_pull, pushed_at = self.clock(), self.net.position()
        self.debug(f"poll every {self.poll:g} s, remote check every {self.remote_every:g} s, "
                   f"full re-evaluation every {self.full_every:g} s, day {day.isoformat()}")  # fmt: skip
        for t in targets:
            self.debug(f"target {t.name}: {t.type} {self._where(t)}")
        while not self.stop.is_set():
            now = self.clock()
            if self.exchange is not None:
                pull = self._notified or now - last_pull >= self.hub_poll
                push = self.net.position() > pushed_at
                self._notified = False
                if pull or push:
                    mark = self.net.position()  # what a push now sends; later facts, the next one
                    if self._hub_step(pull=pull, push=push):
                        last_pull = now if pull else last_pull
                        pushed_at = mark
            latest = self.net.position()
            if latest > position:
                networking = self._networking_facts_since(position)
                if networking:
                    mark_due(due, names, NEW_FACTS)
                self.debug(f"poll: {latest - position} new fact(s), position {position} -> {latest}: "
                           f"{'networking facts, sync due' if networking else 'push records only, no sync'}")
                position = latest
            today = self.net.today()
            if today != day or now - last_full >= self.full_every:
                if today != day:
                    self.debug(f"day change {day.isoformat()} -> {today.isoformat()}: "
                               f"re-evaluating {len(targets)} target(s)")  # fmt: skip
                else:
                    self.debug(f"periodic re-evaluation after {now - last_full:.0f} s: "
                               f"{len(targets)} target(s)")  # fmt: skip
                mark_due(due, names, NEW_DAY if today != day else PERIODIC)
                day, last_full = today, now
            if now - last_remote >= self.remote_every:  # completions on the servers
                last_remote = now
                mark_due(due, [t.name for t in targets if t.type == "caldav"], REMOTE_CHECK)
            for t in targets:
                if self.stop.is_set():
                    break
                if t.name in due and backoffs[t.name].next_at <= now:
                    if not self._leased(t):
                        del due[t.name]  # another device pushes to it: asked again when due again
                        continue
                    self._sync(t, backoffs[t.name], due[t.name])
                    if backoffs[t.name].failures == 0:
                        del due[t.name]
            self._pause()
        self.log("daemon stopped")
        return 0


    def _pause(self) -> None:
        """Wait a poll interval; with a hub, wake up as soon as it has new facts."""
        if self.exchange is None or self._hub_backoff.failures:
            self.stop.wait(self.poll)
            return
        try:
            if self.exchange.hub.wait(self.poll):
                self._notified = True
        except Exception as e:
            self._hub_backoff.failed(self.clock(), None, self.rng)
            self.log(f"hub: failed ({type(e).__name__}); listening again after a backoff")

    _notified = False


def run_daemon(net: Network, poll: float = 1.0, verbose: bool = False, exchange: Any = None,
               hub_poll: float = 30.0) -> int:  # fmt: skip
    daemon = Daemon(net, poll=poll, verbose=verbose, exchange=exchange, hub_poll=hub_poll)

    def handle(signum: int, frame: FrameType | None) -> None:
        daemon.stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return daemon.run()
