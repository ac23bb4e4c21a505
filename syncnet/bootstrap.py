"""The composition root: wires the core to the adapters (CalDAV, ICS files).

The core modules never import `syncnet_adapters`; the CLI and the daemon reach
the outside world only through the functions here. Adapters are imported lazily
so that commands which do not sync (e.g. `due`) never load httpx or icalendar.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from syncnet.app.network import Network
from syncnet.app.sync import Report, TargetState, pending, reconcile
from syncnet.domain.config import Target
from syncnet.errors import BadInput, SyncnetError

HEALTH = "health"
FEED = "feed"


def _run_secret_command(command: str, what: str, target: str) -> str:
    try:
        out = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        raise BadInput(f"target {target}: {what} failed to run: {type(e).__name__}") from None
    if out.returncode != 0:
        # Never echo its output: it may hold the secret.
        raise BadInput(f"target {target}: {what} exited with code {out.returncode}")
    return out.stdout.rstrip("\n")


def credentials(target: Target) -> tuple[str | None, str | None]:
    """(password, token) from the environment, a command or the keyring; never the config."""
    token = os.environ.get(f"{target.env_prefix}_TOKEN")
    if token is None and target.token_cmd:
        token = _run_secret_command(target.token_cmd, "token_cmd", target.name)
    password = os.environ.get(f"{target.env_prefix}_PASSWORD")
    if password is None and target.password_cmd:
        password = _run_secret_command(target.password_cmd, "password_cmd", target.name)
    if password is None and target.keyring and target.user:
        try:
            import keyring  # optional: pip install keyring
        except ImportError:
            raise BadInput(f"target {target.name}: keyring = true needs the 'keyring' package") from None
        password = keyring.get_password("syncnet", f"{target.name}:{target.user}")
    if target.user and password is None and token is None:
        raise BadInput(
            f"target {target.name}: no password for user {target.user!r}: set "
            f"{target.env_prefix}_PASSWORD, password_cmd or keyring = true"
        )
    return password, token


def target_by_name(net: Network, name: str) -> Target:
    for t in net.config.targets:
        if t.name == name:
            return t
    known = ", ".join(t.name for t in net.config.targets) or "none configured"
    raise BadInput(f"unknown target {name!r} (targets: {known})")


@dataclass
class Outcome:
    target: str
    report: Report | None = None
    error: str | None = None
    retry_after: float | None = None
    requests: int = 0
    cause: Exception | None = None  # the error, for the caller to map (exit codes)
    extra: dict[str, Any] = field(default_factory=dict)


def _alarms(target_alarms: tuple[str, ...]) -> list[Any]:
    from syncnet_adapters.ics import parse_offset

    return [parse_offset(a) for a in target_alarms]


def _agenda_key(net: Network, target: Target, today: date) -> str:
    """Identifies the agenda a target should hold: the last fact that can change it,
    the day, and every setting that shapes the items. Equal keys, equal items."""
    import hashlib

    c = net.config
    settings = (c.timezone, c.followup_days, c.seasons, c.minutes, target.horizon_days,
                target.style, target.alarms)  # fmt: skip
    raw = f"{net.views.agenda_position()}|{today.isoformat()}|{settings!r}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _target_state(net: Network, target: Target) -> tuple[TargetState, list[str]]:
    """What syncnet last wrote to the target, and where the target points. When its
    url, calendar or path changed, the old state (collection, items) is not for there."""
    scope = f"target:{target.name}"
    where = [target.type, target.url, target.calendar, target.path]
    if net.state.get(scope, "where") not in (None, where):
        return TargetState(), where
    return TargetState.from_json(net.state.get(scope, "state")), where


def sync_target(net: Network, target: Target, *, dry_run: bool = False, force: bool = False,
                today: date | None = None,
                progress: Callable[[int], None] | None = None) -> Outcome:  # fmt: skip
    """One sync of one target; failures are returned, not raised, so others go on."""
    scope = f"target:{target.name}"
    net.refresh()  # the agenda key below must see every fact recorded so far
    state, where = _target_state(net, target)
    saved = state.to_json()
    key = _agenda_key(net, target, today or net.today())
    outcome = Outcome(target.name)
    client = None
    started = datetime.now(UTC)
    try:
        if target.type == "caldav" and state.agenda_key == key and not force:
            # The agenda is the one the last complete sync wrote: only the server's
            # changes can matter, so the agenda is not even computed (one request).
            desired = None
        else:
            desired = net.calendar_items(target.horizon_days, today)
            state.agenda_key = None  # until this sync completes
        if target.type == "ics":
            from syncnet_adapters.ics import IcsFilePort

            assert desired is not None
            path = Path(os.path.expanduser(target.path))
            file_port = IcsFilePort(path, target.style, _alarms(target.alarms), "syncnet")
            outcome.report = reconcile(target.name, file_port, desired, state, force=force, dry_run=dry_run)
            if not dry_run:
                outcome.extra["written"] = file_port.flush(desired)
                outcome.extra["path"] = str(path)
        else:
            from syncnet_adapters.caldav import CalDAVClient, CalDAVPort, auth_for

            password, token = credentials(target)
            auth, headers = auth_for(target.user or None, password, token)
            client = CalDAVClient(state.collection or target.url, auth, target.timeout, headers)
            if state.collection:
                client.collection = state.collection
            else:
                state.collection = client.discover(target.calendar, target.create)
            port = CalDAVPort(client, target.style, target.alarms)
            outcome.report = reconcile(
                target.name, port, desired, state, force=force, dry_run=dry_run, on_progress=progress
            )
        if not dry_run:
            state.agenda_key = key
    except SyncnetError as e:
        outcome.error = str(e) if str(e).startswith("target ") else f"target {target.name}: {e}"
        outcome.cause = e
        outcome.retry_after = getattr(e, "retry_after", None)
    except OSError as e:
        outcome.error = f"{type(e).__name__}: {e}"
        outcome.cause = e
    finally:
        if client is not None:
            outcome.requests = client.requests
            client.close()
        if not dry_run:
            # What was written stays recorded even when the sync failed half-way.
            now = state.to_json()
            if now != saved or net.state.get(scope, "where") != where:
                net.state.put_many(scope, {"state": now, "where": where})
            _record_health(net, target.name, outcome, started)
            if outcome.report and outcome.report.actions:
                net.record_pushes(target.name, outcome.report.actions, today)
    return outcome


def _record_health(net: Network, name: str, outcome: Outcome, started: datetime) -> None:
    health = net.state.get(HEALTH, name) or {}
    health["last_attempt"] = started.isoformat(timespec="seconds")
    health["last_requests"] = outcome.requests
    if outcome.error is None:
        health["last_success"] = started.isoformat(timespec="seconds")
        health["failures"] = 0
        if outcome.report is not None:
            kinds = ("created", "updated", "deleted", "user-changed", "user-deleted")
            health["last_result"] = {a: outcome.report.count(a) for a in kinds}
    else:
        health["last_error"] = outcome.error
        health["last_error_at"] = started.isoformat(timespec="seconds")
        health["failures"] = int(health.get("failures", 0)) + 1
    net.state.put(HEALTH, name, health)


def status(net: Network, today: date | None = None) -> list[dict[str, Any]]:
    """Per target: last success, last error, and what a sync would send now."""
    rows = []
    for t in net.config.targets:
        desired = net.calendar_items(t.horizon_days, today)
        state, _ = _target_state(net, t)
        health = net.state.get(HEALTH, t.name) or {}
        rows.append({
            "target": t.name, "type": t.type, "where": t.path if t.type == "ics" else t.url,
            "last_attempt": health.get("last_attempt"), "last_success": health.get("last_success"),
            "last_error": health.get("last_error"), "last_error_at": health.get("last_error_at"),
            "failures": health.get("failures", 0), "last_result": health.get("last_result"),
            "pending": pending(desired, state), "holds": len(state.items),
        })  # fmt: skip
    return rows


def feed_secret(net: Network, rotate: bool = False) -> str:
    """The secret in the feed's URL: created once, replaced by `rotate`."""
    current = net.state.get(FEED, "secret")
    if current and not rotate:
        return str(current)
    secret = secrets.token_urlsafe(32)
    net.state.put(FEED, "secret", secret)
    return secret


def write_ics(net: Network, path: Path, horizon_days: int = 60, style: str = "event",
              alarms: tuple[str, ...] = ("PT9H",), today: date | None = None) -> int:  # fmt: skip
    """Write the calendar items to an .ics file (the demo's output); returns the count."""
    from syncnet_adapters.ics import render, write_atomically

    items = net.calendar_items(horizon_days, today)
    write_atomically(path, render(items, style, _alarms(alarms), "syncnet"))
    return len(items)


def feed_app(net: Network) -> Any:
    """The WSGI app of the subscription feed, reading this store."""
    import hashlib

    from syncnet_adapters.feed import FeedApp
    from syncnet_adapters.ics import RenderCache

    f = net.config.feed
    alarms = _alarms(f.alarms)

    def cache_key() -> str:
        settings = f"{f.style}|{f.alarms}|{f.horizon_days}|{f.name}"
        raw = f"{net.position()}|{net.today().isoformat()}|{settings}"
        return hashlib.sha256(raw.encode()).hexdigest()

    cache = RenderCache(f.style, alarms, f.name)  # unchanged items are not rendered again

    def body() -> bytes:
        rendered: bytes = cache.render(net.calendar_items(f.horizon_days))
        return rendered

    return FeedApp(lambda: feed_secret(net), cache_key, body)
