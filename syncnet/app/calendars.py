"""The calendars service: one sync of one target, in one place.

    prepare    the items the target should hold (the agenda within the horizon,
               stamped with when each item's content last changed)
    reconcile  the sync engine (sync.py) against the target's port
    record     the target's state, its health and the record of the pushes

An erasure (`syncnet forget`) reaches every target at its next sync: the service tells
the engine which contacts of the items it holds were forgotten (`forgotten_among`), and
every item of theirs leaves, the user's versions too (sync.py, `erased`).

Ports are made by the composition root (`syncnet.bootstrap`), one factory per
target type, so this module never imports an adapter.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from syncnet.app.sync import (
    COMPLETED,
    COUNTED,
    NOT_TAKEN_IN,
    Action,
    CalendarPort,
    ItemState,
    Report,
    TargetState,
    pending,
    reconcile,
)
from syncnet.domain.config import Target, without_userinfo
from syncnet.domain.reminders import CalendarItem, uid_for
from syncnet.errors import MissingKey, SyncnetError

if TYPE_CHECKING:
    from syncnet.app.agenda import AgendaItem
    from syncnet.app.network import Network
    from syncnet.domain.reminders import StampedItem

HEALTH = "health"
FEED = "feed"
# The version of how syncnet writes an item (its iCalendar form). Bump it when that
# form changes for the same content: every item an older version wrote is then
# rewritten at the next sync, unless the user edited it. A change of the texts needs
# no bump: each item's content hash tells it. Items saved before versions existed count
# as version 1. The version is part of the agenda key, so a state left by a release
# without it (which wrote "[forgotten]" for contacts met while the daemon or the feed
# server ran) never takes the "nothing changed" shortcut: its wrong items differ by hash.
RENDER_VERSION = 1

OpenPort = Callable[[Target, TargetState], CalendarPort]


def calendar_items(net: Network, horizon_days: int, today: date | None = None,
                   max_items: int | None = None) -> list[StampedItem]:  # fmt: skip
    """The items a calendar should hold (overdue and due within the horizon), stamped
    with when their content last changed (kept in the state store). With `max_items`
    (a target's), at most that many: season and cadence reminders grouped beyond it
    (syncnet.domain.grouping); without it (the feed), one item per reminder."""
    from syncnet.domain import grouping, reminders

    today = today or net.today()
    agenda = net.agenda(today, until=today + timedelta(days=horizon_days))
    items = agenda_to_items(agenda, today, horizon_days)
    if max_items is not None:
        items = grouping.capped(items, max_items)
    # One row holds every stamp: one decryption instead of one per reminder.
    register: dict[str, list[Any]] = net.state.get("stamps", "all") or {}
    known = {u: reminders.Stamp(h, seq, datetime.fromisoformat(t)) for u, (h, seq, t) in register.items()}
    stamped, changed = reminders.stamp(items, known, datetime.now(UTC))
    if changed:
        for u, st in changed.items():
            register[u] = [st.content_hash, st.sequence, st.changed.isoformat()]
        net.state.put("stamps", "all", register)
    return stamped


# A completion's fact has an id derived from the reminder's UID and the moment the client
# says it was completed: recording it twice (two syncs, two targets showing the same
# reminder, two daemons, a crash before the sync state was saved) is refused by the
# store's primary key, so it is recorded exactly once (docs/sync.md, "Completions").
COMPLETION_IDS = uuid.UUID("0b7e4f8a-5c1d-4e2b-9a36-7d0c8e1f2a43")


def completion_fact_id(uid: str, completed: str) -> uuid.UUID:
    return uuid.uuid5(COMPLETION_IDS, f"{uid}|{completed}")


def completion_day(completed: str, timezone: str, today: date) -> date:
    """The day a client says a reminder was done, in the user's time zone; the sync day
    when it gives none (and never after today)."""
    if not completed:
        return today
    moment = datetime.fromisoformat(completed)
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        if timezone:
            from zoneinfo import ZoneInfo

            moment = moment.astimezone(ZoneInfo(timezone))
        else:
            moment = moment.astimezone()
    return min(moment.date(), today)


def forgotten_among(net: Network, contact_ids: Iterable[str]) -> set[str]:
    """Which of these contacts were forgotten (`syncnet forget`); each bucket of contact
    rows is decrypted once."""
    from syncnet.domain.rows import decode_row

    buckets: dict[tuple[str, str], dict[str, Any]] = {}
    found = set()
    for cid in set(contact_ids):
        data = net.views.load("contact", cid, buckets)
        if data is not None and decode_row("contact", data).forgotten:
            found.add(cid)
    return found


def drop_stamps(net: Network, uids: Iterable[str]) -> None:
    """Take items out of the register of stamps: for a forgotten contact's, whose content
    hash (of a text that named them) is to be kept nowhere once they left the targets."""
    gone = set(uids)
    register: dict[str, list[Any]] | None = net.state.get("stamps", "all")
    if register and not gone.isdisjoint(register):
        net.state.put("stamps", "all", {u: v for u, v in register.items() if u not in gone})


def take_in_completions(net: Network, target: Target, report: Report, desired: list[StampedItem] | None,
                        today: date, state: TargetState,
                        save: Callable[[TargetState], None] | None = None) -> None:  # fmt: skip
    """Record the fact each reminder ticked off on the target asked for: a follow-up,
    season, cadence or birthday reminder becomes a touch initiated by me (channel
    "other"), a promise becomes kept; unticked again after that, the fact is retracted.

    A completion with no fact to record (an item that is not one reminder, a reminder
    not due now, a fact the store refuses) is reported as `not-taken-in` by the sync
    that sees it, and stays in the state: whenever the agenda is computed again and the
    reminder is due (its contact kept again), it is taken in then. `completed_on` marks
    a completion taken in.

    Crash safety, with the store's primary key on the fact's id: a fact is retracted
    before the state forgets the completion it came from (`retract`), and a completion is
    saved in the state (`save`, with the agenda marked unknown) before its fact is
    recorded, so whichever step a crash cuts short is done again by the next sync, and
    done once."""
    from syncnet.domain import commands as cmd

    log = net.store.log
    for uid, unticked in state.items.items():
        if unticked.retract is not None:
            fact_id = completion_fact_id(uid, unticked.retract)
            if log.positions_of_ids(fact_id.hex):
                with contextlib.suppress(SyncnetError):  # retracted already (by hand, or before a crash)
                    net.record(cmd.Retract(fact_id.hex, reason=f"reopened in {target.name}"))
            unticked.retract = None
    seen_now = {a.uid for a in report.actions if a.action == COMPLETED}
    # (uid, completion, contact, its state: None when the sync removed the item already);
    # earlier completions not taken in are tried again when the agenda is computed anyway
    todo: list[tuple[str, str, str | None, ItemState | None]] = [
        (a.uid, a.result, a.contact_id, None)
        for a in report.actions if a.action == COMPLETED and a.uid not in state.items]  # fmt: skip
    todo += [(u, i.completed, i.contact_id, i) for u, i in state.items.items()
             if i.completed is not None and i.completed_on is None
             and (desired is not None or u in seen_now)]  # fmt: skip
    if not todo:
        return
    if desired is None:  # the agenda was not computed (nothing changed in the store)
        desired = calendar_items(net, target.horizon_days, today, target.max_items)
    state.agenda_key = None  # until the sync completes: cut short, the next one computes the agenda
    if save is not None:
        save(state)
    by_uid = {s.item.uid: s.item for s in desired}
    for uid, completed, contact_id, st in todo:
        fact_id = completion_fact_id(uid, completed)
        day = min(completion_day(completed, net.config.timezone, today), net.clock())
        item = by_uid.get(uid)
        why: str | None = None
        if log.positions_of_ids(fact_id.hex):
            # Recorded before: by another target, another process, or before a crash. If
            # a reopening retracted it since, ticked off again restores it.
            retraction = _standing_retraction(net, fact_id)
            if retraction is not None:
                with contextlib.suppress(SyncnetError):
                    net.record(cmd.Retract(retraction, reason=f"ticked off again in {target.name}"))
        elif item is None or item.rule not in TAKEN_IN:
            why = "not due now" if item is None else "not one reminder"
        else:
            note = f"ticked off in {target.name}"
            command: cmd.Command
            if item.rule == "promise":
                command = cmd.Kept(item.key.rsplit(":", 1)[1], on=day, note=note, fact_id=fact_id)
            else:
                channel = target.completion_channel
                command = cmd.Touch(item.contact_id, "me", channel, on=day, note=note, fact_id=fact_id)
            try:
                net.record(command)
            except SyncnetError as e:
                if not log.positions_of_ids(fact_id.hex):  # not recorded meanwhile by another process
                    why = " ".join(str(e).split())
        if why is None:
            if st is not None:
                st.completed_on = day.isoformat()  # taken in; the day from which it may go (`completed`)
        elif uid in seen_now:
            report.actions.append(Action(NOT_TAKEN_IN, uid, contact_id, None, why))


TAKEN_IN = ("followup", "season", "cadence", "birthday", "promise", "meeting")


def _standing_retraction(net: Network, fact_id: uuid.UUID) -> str | None:
    """The id of the retraction that stands against a fact, if one does."""
    from syncnet.domain.corrections import Corrections

    corrections = Corrections.in_log(net.store.log.after)
    retraction = corrections.retraction(fact_id.hex)
    return None if retraction is None else retraction.originator_id.hex


def agenda_to_items(agenda: Iterable[AgendaItem], today: date, horizon_days: int) -> list[CalendarItem]:
    """The items a calendar should hold: overdue, and due within the horizon."""
    last = today + timedelta(days=horizon_days)
    out = []
    for a in agenda:
        r = a.reminder
        if r.due > last:
            continue
        # Who and why, then the way back: short, since feeds carry thousands of these.
        link = f"syncnet history {a.contact.short}"
        if r.promise_id:
            link += f"; done: syncnet kept {r.promise_id[:8]}"
        description = f"{a.summary}.\n{link}"
        out.append(CalendarItem(uid_for(r.key), r.key, r.rule, r.contact_id, r.opens, r.due,
                                a.summary, description))  # fmt: skip
    return out


def record_pushes(net: Network, target: str, actions: Sequence[Action], today: date | None = None) -> None:
    """Record what a sync did to a target: one fact for the whole sync (`TargetSynced`,
    each change's summary sealed with its contact's key), none when it did nothing. The
    log grows with syncs, not with the items pushed."""
    from syncnet.domain import events as ev

    if not actions:
        return
    keyring = net.store.keyring
    changes = []
    for a in actions:
        contact = UUID(a.contact_id) if a.contact_id else None
        try:
            summary = keyring.seal(contact, a.summary) if contact is not None and a.summary else None
        except MissingKey:  # a forgotten contact's item leaving the calendar: nothing to seal it with
            summary = None
        changes.append(ev.Push(a.uid, a.action, a.result, contact, summary))
    net.store.log.append([ev.TargetSynced(
        originator_id=uuid4(), originator_version=1, timestamp=ev.Fact.create_timestamp(),
        on=today or net.today(), note=None, target=target, changes=tuple(changes))])  # fmt: skip


@dataclass
class Outcome:
    target: str
    report: Report | None = None
    error: str | None = None
    retry_after: float | None = None
    requests: int = 0
    cause: Exception | None = None  # the error, for the caller to map (exit codes)
    extra: dict[str, Any] = field(default_factory=dict)


def agenda_key(net: Network, target: Target, today: date) -> str:
    """Identifies the agenda a target should hold: the last fact that can change it,
    the day, every setting that shapes the items, and the render version. Equal keys,
    equal items."""
    c = net.config
    settings = (c.timezone, c.followup_days, c.seasons, c.birthdays, c.birthday_notice_days,
                target.horizon_days, target.style, target.alarms, target.max_items,
                RENDER_VERSION)  # fmt: skip
    raw = f"{net.views.agenda_position()}|{today.isoformat()}|{settings!r}"
    return hashlib.sha256(raw.encode()).hexdigest()


def store_id(net: Network) -> str:
    """An opaque id of this store, kept in its state: the same store, the same id, also
    after `syncnet rekey` changed its key. First derived from the key, as before it was
    kept, so that calendars synced then still know their store."""
    found = net.state.get("store", "id")
    if not isinstance(found, str):
        found = hashlib.sha256(b"syncnet-store-id\0" + net.store.store_key).hexdigest()[:16]
        net.state.put("store", "id", found)
    return found


def wrong_store(net: Network, state: TargetState) -> str | None:
    """Why the store looks wrong for this target, if it does: the guard against wiping a
    calendar because syncnet runs on another or an older copy of the store."""
    if state.store is not None and state.store != store_id(net):
        return "this calendar was last synced from another store"
    if state.facts > net.position():
        return (f"the store holds fewer facts ({net.position()}) than at the last sync of this "
                f"calendar ({state.facts}): is it an older copy?")  # fmt: skip
    return None


def target_state(net: Network, target: Target) -> tuple[TargetState, list[str]]:
    """What syncnet last wrote to the target, and where the target points. When its
    url, calendar or path changed, the old state (collection, items) is not for there."""
    scope = f"target:{target.name}"
    where = [target.type, target.url, target.calendar, target.path]
    if net.state.get(scope, "where") not in (None, where):
        return TargetState(), where
    return TargetState.from_json(net.state.get(scope, "state")), where


def sync_target(net: Network, target: Target, open_port: OpenPort, *, dry_run: bool = False,
                force: bool = False, today: date | None = None,
                progress: Callable[[int], None] | None = None, retract: bool = False) -> Outcome:  # fmt: skip
    """One sync of one target; failures are returned, not raised, so others go on.

    `retract`: make the target hold no reminder of syncnet's (the demo's clean-up);
    items the user made or changed stay, as in every sync."""
    scope = f"target:{target.name}"
    net.refresh()  # the agenda key below must see every fact recorded so far
    state, where = target_state(net, target)
    saved = state.to_json()
    key = agenda_key(net, target, today or net.today())
    outcome = Outcome(target.name)
    port: CalendarPort | None = None
    erasing: set[str] = set()  # the UIDs of the items of forgotten contacts in the state
    started = datetime.now(UTC)
    try:
        port = open_port(target, state)
        desired: list[StampedItem] | None
        if retract:
            desired, force = [], True
            key = "retracted"
        elif port.edited_elsewhere and state.agenda_key == key and not force:
            # The agenda is the one the last complete sync wrote: only the server's
            # changes can matter, so the agenda is not even computed (one request).
            desired = None
        else:
            desired = calendar_items(net, target.horizon_days, today, target.max_items)
            state.agenda_key = None  # until this sync completes
        report = outcome.report = Report(target.name, dry_run=dry_run)
        # The items of forgotten contacts leave: looked for among the items that left the
        # agenda, when it is computed (the fact of an erasure moves the agenda key).
        erased: set[str] = set()
        if desired is not None:
            wanted = {s.item.uid for s in desired}
            erased = forgotten_among(net, (s.contact_id for u, s in state.items.items()
                                           if s.contact_id and u not in wanted))  # fmt: skip
        erasing = {u for u, s in state.items.items() if s.contact_id in erased}

        def save(now: TargetState) -> None:  # intent before effect: durable before the writes
            net.state.put_many(scope, {"state": now.to_json(), "where": where})

        day = today or net.today()

        def drop_completed(st: ItemState) -> bool:
            if target.completed == "remove" or st.completed is None:
                return True
            done = st.completed_on or completion_day(st.completed, net.config.timezone, day).isoformat()
            return done < (day - timedelta(days=target.horizon_days)).isoformat()

        reconcile(target.name, port, desired, state, force=force, dry_run=dry_run, on_progress=progress,
                  render_version=RENDER_VERSION, save=save, refuse_deletes=wrong_store(net, state),
                  report=report, drop_completed=drop_completed, erased=erased)  # fmt: skip
        if not dry_run:
            take_in_completions(net, target, report, desired, today or net.today(), state, save=save)
        if not dry_run:
            if desired is not None:
                outcome.extra.update(port.finish(desired))
            if not any(s.contact_id in erased for s in state.items.values()):
                # else an item of a forgotten contact is still there (changed again while
                # it was being deleted): the next sync computes the agenda and tries again
                state.agenda_key = key
            state.store, state.facts = store_id(net), net.position()
    except BaseException as e:
        # Whatever failed (HTTP, XML, TLS, the file system, the engine) fails this target
        # only, in one line without user:password@; the other targets still sync. An
        # interruption (KeyboardInterrupt) is recorded as a failure too, then goes on up.
        text = " ".join(without_userinfo(str(e)).split())
        if not isinstance(e, SyncnetError):  # not meant for the user: say what it is
            text = f"{type(e).__name__}: {text[:300]}" if text else type(e).__name__
        outcome.error = text if text.startswith("target ") else f"target {target.name}: {text}"
        outcome.retry_after = getattr(e, "retry_after", None)
        if port is not None and not port.edited_elsewhere:
            # A file is written whole by `finish`, the last step: nothing reached it, so
            # nothing was pushed and it holds what the state before this sync says
            # (saved again: an intent recorded during the sync does not hold for it).
            state = TargetState.from_json(saved)
            outcome.report = None
            if not dry_run:
                net.state.put_many(scope, {"state": saved, "where": where})
        if outcome.report is not None and not outcome.report.actions:
            outcome.report = None  # nothing done: the failure is the whole story
        if not isinstance(e, Exception):
            raise
        outcome.cause = e
    finally:
        if port is not None:
            outcome.requests = port.requests
            port.close()
        if not dry_run:
            # What was written stays recorded even when the sync failed half-way.
            now = state.to_json()
            if now != saved or net.state.get(scope, "where") != where:
                net.state.put_many(scope, {"state": now, "where": where})
            if erasing:
                drop_stamps(net, erasing - set(state.items))
            record_health(net, target.name, outcome, started)
            if outcome.report and outcome.report.actions:
                record_pushes(net, target.name, outcome.report.actions, today)
    return outcome


def record_health(net: Network, name: str, outcome: Outcome, started: datetime) -> None:
    health = net.state.get(HEALTH, name) or {}
    health["last_attempt"] = started.isoformat(timespec="seconds")
    health["last_requests"] = outcome.requests
    if outcome.error is None:
        health["last_success"] = started.isoformat(timespec="seconds")
        health["failures"] = 0
        if outcome.report is not None:
            health["last_result"] = {a: outcome.report.count(a) for a in COUNTED}
    else:
        health["last_error"] = outcome.error
        health["last_error_at"] = started.isoformat(timespec="seconds")
        health["failures"] = int(health.get("failures", 0)) + 1
    net.state.put(HEALTH, name, health)


def status(net: Network, today: date | None = None) -> list[dict[str, Any]]:
    """Per target: last success, last error, and what a sync would send now."""
    rows = []
    for t in net.config.targets:
        desired = calendar_items(net, t.horizon_days, today, t.max_items)
        state, _ = target_state(net, t)
        health = net.state.get(HEALTH, t.name) or {}
        rows.append({
            "target": t.name, "type": t.type, "where": t.path if t.type == "ics" else without_userinfo(t.url),
            "last_attempt": health.get("last_attempt"), "last_success": health.get("last_success"),
            "last_error": health.get("last_error"), "last_error_at": health.get("last_error_at"),
            "failures": health.get("failures", 0), "last_result": health.get("last_result"),
            "pending": pending(desired, state, RENDER_VERSION), "holds": len(state.items),
        })  # fmt: skip
    return rows


def feed_secret(net: Network, rotate: bool = False) -> str:
    """The secret in the feed's URL: created once, replaced by `rotate`."""
    current = None if rotate else net.state.get(FEED, "secret")  # rotate: a damaged one too
    if current:
        return str(current)
    secret = secrets.token_urlsafe(32)
    net.state.put(FEED, "secret", secret)
    return secret


def feed_version(net: Network) -> str:
    """Changes whenever the feed's body may change: a new fact, a new day, a setting."""
    f = net.config.feed
    settings = f"{f.style}|{f.alarms}|{f.horizon_days}|{f.name}|{RENDER_VERSION}"
    raw = f"{net.position()}|{net.today().isoformat()}|{settings}"
    return hashlib.sha256(raw.encode()).hexdigest()


def remember_feed_address(net: Network, bind: str, port: int) -> None:
    """Where `syncnet serve` listens, so that `syncnet feed url` prints that address."""
    if net.state.get(FEED, "address") != [bind, port]:
        net.state.put(FEED, "address", [bind, port])


def feed_address(net: Network) -> tuple[str, int]:
    """The address `syncnet serve` last listened on, else the configured one."""
    served = net.state.get(FEED, "address")
    if isinstance(served, list) and len(served) == 2:
        return str(served[0]), int(served[1])
    return net.config.feed.bind, net.config.feed.port
