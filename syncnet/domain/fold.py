"""The fold: facts into view rows (rows.py). Pure: no I/O here.

`apply(views, event)` folds one fact into the views. The fold keeps per contact
only what the rules need (dates of the first meeting, the follow-up, the last
interaction, the months touched), so reading the agenda costs what is due, not
what happened.

The `Views` container (rows.py) loads missing rows through a loader (the view
store) and records which rows changed, so the same fold serves a full replay in
memory and incremental catch-up on disk.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from syncnet.domain import events as ev
from syncnet.domain.config import Minutes
from syncnet.domain.corrections import Corrections
from syncnet.domain.rows import (  # re-exported for callers of the fold
    G_TOUCH_ME,
    G_TOUCH_THEM,
    GIVEN,
    GIVEN_NO_MIN,
    GIVEN_RECORDED_MIN,
    GLOBAL_WIDTH,
    INTERACTIONS_COL,
    KINDS,
    LEDGER_WIDTH,
    NEW_CONTACTS,
    RECEIVED,
    RECEIVED_NO_MIN,
    RECEIVED_RECORDED_MIN,
    REQ_MADE,
    REQ_RECEIVED,
    SPLIT_COLUMNS,
    ContactView,
    EventView,
    GoalView,
    LedgerView,
    Loader,
    PromiseView,
    Views,
    encode_row,
    fingerprint,
)  # fmt: skip
from syncnet.domain.rules import Bucket

__all__ = [
    "KINDS", "ContactView", "GoalView", "LedgerView", "Loader", "PromiseView", "Views",
    "apply", "encode_row", "fingerprint", "replay",
]  # fmt: skip

Days = dict[str, list[int]]
Row = ContactView | None
# What one fact does to the views beyond the rules every fact shares (see `apply`):
# (views, fact, its day as ISO text, its contact's row if any, the global daily counts).
Handler = Callable[[Views, Any, str, Row, Days], None]

# Minutes are folded without the configuration (rows.py): a fact's recorded minutes, or a
# count of facts without minutes in the column of the default they count with.
# Which default that is, is events.minutes_of's to say: asked with a `Minutes` whose every
# default is its own number, it answers with the number of the field.
_DEFAULT_NAMES = tuple(f.name for f in fields(Minutes))
_PROBE = Minutes(**{name: i for i, name in enumerate(_DEFAULT_NAMES)})
# The global daily columns each part of the time split adds to: (recorded minutes, the
# column of facts without minutes by their default).
_BUCKET_COLUMNS = {
    Bucket(part): (recorded, {default: col for col, default in untimed})
    for part, (recorded, untimed) in SPLIT_COLUMNS.items()
}


def _default_of(event: Any) -> str:
    """The default of config [minutes] a fact recorded without minutes counts with."""
    return _DEFAULT_NAMES[ev.minutes_of(event, _PROBE)]


def _bump(table: dict[str, list[int]], day: str, width: int, col: int, by: int) -> None:
    counts = table.get(day)
    if counts is None:
        counts = table[day] = [0] * width
    counts[col] += by


def _interaction(c: ContactView, day: str, mine: bool, is_meeting: bool) -> None:
    if day > c.last_interaction:
        c.last_interaction = day
    if mine and day > c.last_by_me:
        c.last_by_me = day
    month = day[:7]
    at = bisect_left(c.months, month)  # months stay sorted
    if at == len(c.months) or c.months[at] != month:
        c.months.insert(at, month)
    if is_meeting or day < c.met_on:
        return
    if c.first_later is None or day < c.first_later:
        c.first_later = day
    if mine and (c.followed_up_on is None or day < c.followed_up_on):
        c.followed_up_on = day


def _stamp(event: ev.Fact, day: str) -> str:
    """Order of facts that set a state: the later day wins, then the later recording."""
    return f"{day}|{event.timestamp.isoformat()}"


# handlers, one per fact type ------------------------------------------------
def _met(views: Views, event: ev.ContactMet, day: str, _: Row, days: Days) -> None:
    contact = ContactView(
        id=event.contact_id.hex,
        name=event.name.to_text(),
        met_on=day,
        channel=event.channel,
        why=event.why,
        goals=[g.hex for g in event.goals],
        where=None if event.where is None else event.where.to_text(),
        via=None if event.via is None else event.via.hex,
        # What the meeting says comes first, whatever its day: a rename or a DetailsSet
        # (never dated before the meeting) replaces it even if the meeting is amended later.
        name_at="",
        details=[] if event.details is None else [["", event.details.to_text()]],
        met_note=None if event.note is None else event.note.to_text(),
    )
    if event.imported:  # unsorted from the day it came in as (docs/imports.md)
        contact.keep, contact.keep_at, contact.unsorted = False, _stamp(event, day), True
        contact.imported_from = event.imported
    views.put("contact", contact.id, contact)
    views.ledger(contact.id)  # every contact has a ledger, if only an empty one
    if not event.imported:  # an import is not a person met that day (warnings count those)
        _bump(days, day, GLOBAL_WIDTH, NEW_CONTACTS, 1)


def _touched(views: Views, event: ev.Touched, day: str, _: Row, days: Days) -> None:
    _bump(days, day, GLOBAL_WIDTH, G_TOUCH_ME if ev.initiated_by_me(event) else G_TOUCH_THEM, 1)


def _help(given: bool) -> Handler:
    count, recorded_col, untimed_col = (GIVEN, GIVEN_RECORDED_MIN, GIVEN_NO_MIN) if given else (
        RECEIVED, RECEIVED_RECORDED_MIN, RECEIVED_NO_MIN)  # fmt: skip

    def handle(views: Views, event: Any, day: str, _: Row, days: Days) -> None:
        cid = event.contact_id.hex
        ledger, tally = views.ledger(cid).days, views.tally(cid)
        counts = ledger.get(day)
        if counts is None:
            counts = ledger[day] = [0] * LEDGER_WIDTH
        counts[count] += 1
        tally.add(day, count, 1)
        recorded: int | None = getattr(event, "minutes", None)
        if recorded is None:
            counts[untimed_col] += 1
            tally.add(day, untimed_col, 1)
        else:
            counts[recorded_col] += recorded
            tally.add(day, recorded_col, recorded)

    return handle


def _request(made: bool) -> Handler:
    column = REQ_MADE if made else REQ_RECEIVED

    def handle(views: Views, event: Any, day: str, _: Row, days: Days) -> None:
        cid = event.contact_id.hex
        _bump(views.ledger(cid).days, day, LEDGER_WIDTH, column, 1)
        views.tally(cid).add(day, column, 1)

    return handle


def _promise_made(views: Views, event: ev.PromiseMade, day: str, contact: Row, days: Days) -> None:
    pid, cid, due = event.originator_id.hex, event.contact_id.hex, event.due.isoformat()
    promise = PromiseView(pid, cid, event.what.to_text(), day, due)
    if contact is not None and contact.forgotten:  # made on a device that had not heard of it yet
        promise.status, promise.closed_on = "forgotten", contact.forgotten
        promise.closed_at = contact.forgotten_at
    views.put("promise", pid, promise)
    views.tally(cid).promises.append([pid, day, due, promise.status, promise.closed_on])


def _promise_closed(status: str) -> Handler:
    def handle(views: Views, event: Any, day: str, _: Row, days: Days) -> None:
        promise: PromiseView | None = views.get("promise", event.promise_id.hex)
        stamp = _stamp(event, day)
        # the earliest closing counts, an erasure of its contact being one (_forgotten)
        if promise is not None and (
            promise.status == "open" or (promise.closed_at is not None and stamp < promise.closed_at)
        ):
            promise.status = status
            promise.closed_on, promise.closed_at = day, stamp
            views.touch("promise", promise.id)
            for entry in views.tally(promise.contact_id).promises:
                if entry[0] == promise.id:
                    entry[3:] = [status, day]

    return handle


def _pocketed(views: Views, event: ev.Pocketed, day: str, contact: Row, days: Days) -> None:
    stamp = _stamp(event, day)
    if contact is not None and not contact.forgotten and stamp >= contact.keep_at:
        contact.keep, contact.keep_at, contact.unsorted = event.keep, stamp, False


def _imported(views: Views, event: ev.ContactImported, day: str, contact: Row, days: Days) -> None:
    """An imported contact waits unsorted, out of both pockets, until a pocket fact."""
    stamp = _stamp(event, day)
    if contact is not None:
        contact.imported_on, contact.imported_from = day, event.source
    if contact is not None and stamp >= contact.keep_at:
        contact.keep, contact.keep_at, contact.unsorted = False, stamp, True


def _cadence(views: Views, event: ev.CadenceSet, day: str, contact: Row, days: Days) -> None:
    stamp = _stamp(event, day)
    if contact is not None and stamp >= contact.cadence_at:
        contact.cadence_days, contact.cadence_at = event.days, stamp


def _goal_set(views: Views, event: ev.GoalSet, day: str, _: Row, days: Days) -> None:
    gid = event.originator_id.hex
    views.put("goal", gid, GoalView(gid, event.name.to_text(), event.kind, day))


def _goal_achieved(views: Views, event: ev.GoalAchieved, day: str, _: Row, days: Days) -> None:
    goal: GoalView | None = views.get("goal", event.goal_id.hex)
    if goal is not None and (goal.achieved_on is None or day < goal.achieved_on):
        goal.achieved_on = day
        views.touch("goal", goal.id)


def _goal_linked(views: Views, event: ev.GoalLinked, day: str, contact: Row, days: Days) -> None:
    if contact is not None and event.goal_id.hex not in contact.goals:
        contact.goals.append(event.goal_id.hex)


def _details_set(views: Views, event: ev.DetailsSet, day: str, contact: Row, days: Days) -> None:
    if contact is not None:  # merged per field when read (the fields are sealed)
        contact.details.append([_stamp(event, day), event.details.to_text()])
        contact.details.sort()


def _birthday_set(views: Views, event: ev.BirthdaySet, day: str, contact: Row, days: Days) -> None:
    stamp = _stamp(event, day)
    if contact is not None and stamp >= contact.birthday_at:
        contact.birthday = "" if event.birthday is None else event.birthday.to_text()
        contact.birthday_at = stamp


def _renamed(views: Views, event: ev.Renamed, day: str, contact: Row, days: Days) -> None:
    stamp = _stamp(event, day)
    if contact is not None and stamp >= contact.name_at:
        contact.name, contact.name_at = event.name.to_text(), stamp
        views.renamed.add(contact.id)


def _forgotten(views: Views, event: ev.ContactForgotten, day: str, contact: Row, days: Days) -> None:
    """An erased contact leaves every list and reminder: no pocket, no open promise."""
    if contact is None:
        return
    stamp = _stamp(event, day)
    if contact.forgotten and contact.forgotten_at and contact.forgotten_at <= stamp:
        return  # forgotten earlier already (two devices forgot it)
    contact.forgotten, contact.forgotten_at, contact.keep = day, stamp, False
    views.forgotten.add(contact.id)
    for entry in views.tally(contact.id).promises:
        promise = views.get("promise", entry[0])
        # open, or closed after the erasure (on a device that had not heard of it): the
        # erasure is the earliest closing (_promise_closed)
        if promise is not None and (promise.status == "open" or (promise.closed_at or "") > stamp):
            promise.status, promise.closed_on, promise.closed_at = "forgotten", day, stamp
            views.touch("promise", promise.id)
            entry[3:] = ["forgotten", day]
        elif promise is None and entry[3] == "open":
            entry[3:] = ["forgotten", day]


def erase(views: Views, event: ev.ContactForgotten) -> None:
    """An erasure in a replay of an earlier day or moment (app/asof.py): whatever the
    day read, a forgotten contact is gone from it, since what made it up is."""
    contact = views.get("contact", event.contact_id.hex)
    if contact is not None:
        _forgotten(views, event, event.on.isoformat(), contact, {})


def _reason_set(views: Views, event: ev.ReasonSet, day: str, contact: Row, days: Days) -> None:
    stamp = _stamp(event, day)
    if contact is not None and stamp >= contact.why_at:
        contact.why, contact.why_at = event.why, stamp


def _event_planned(views: Views, event: ev.EventPlanned, day: str, _: Row, days: Days) -> None:
    eid = event.originator_id.hex
    views.put("event", eid, EventView(
        eid, event.name.to_text(), event.held_on.isoformat(), day,
        where=None if event.where is None else event.where.to_text(), goals=[g.hex for g in event.goals],
        offer=None if event.offer is None else event.offer.to_text(),
        orgs=None if event.orgs is None else event.orgs.to_text(),
    ))  # fmt: skip


def _event_linked(views: Views, event: ev.EventLinked, day: str, contact: Row, days: Days) -> None:
    found: EventView | None = views.get("event", event.event_id.hex)
    if found is None or contact is None:
        return
    linked = found.met if event.met else found.expected
    # sorted by id: every replica holds the same list, whatever order the links came in
    at = bisect_left(linked, contact.id)
    if at == len(linked) or linked[at] != contact.id:
        linked.insert(at, contact.id)
        views.touch("event", found.id)


def _meeting_planned(views: Views, event: ev.MeetingPlanned, day: str, contact: Row, days: Days) -> None:
    stamp = _stamp(event, day)
    if contact is not None and stamp >= contact.next_at:
        contact.next_meeting, contact.next_planned_on = event.planned_for.isoformat(), day
        contact.next_at = stamp


def _nothing(views: Views, event: Any, day: str, contact: Row, days: Days) -> None:
    """A self-presentation counts only in the time split, which `apply` does for every fact."""


_HANDLERS: dict[type[ev.Fact], Handler] = {
    ev.ContactMet: _met,
    ev.Touched: _touched,
    ev.HelpGiven: _help(given=True),
    ev.HelpReceived: _help(given=False),
    ev.RequestMade: _request(made=True),
    ev.RequestReceived: _request(made=False),
    ev.Presented: _nothing,
    ev.PromiseMade: _promise_made,
    ev.PromiseKept: _promise_closed("kept"),
    ev.PromiseDropped: _promise_closed("dropped"),
    ev.Pocketed: _pocketed,
    ev.CadenceSet: _cadence,
    ev.GoalSet: _goal_set,
    ev.GoalAchieved: _goal_achieved,
    ev.GoalLinked: _goal_linked,
    ev.DetailsSet: _details_set,
    ev.Renamed: _renamed,
    ev.ReasonSet: _reason_set,
    ev.ContactForgotten: _forgotten,
    ev.ContactImported: _imported,
    ev.BirthdaySet: _birthday_set,
    ev.EventPlanned: _event_planned,
    ev.EventLinked: _event_linked,
    ev.MeetingPlanned: _meeting_planned,
}


# What `apply` does with a fact of a type, found once per type (the rules it asks are
# rules on types, events.py): its handler; its part of the time split, as the columns it
# adds to; whether it is an interaction; whether it is a first meeting.
Plan = tuple[Handler | None, tuple[int, dict[str, int]] | None, bool, bool]
_PLANS: dict[type, Plan] = {}


def _plan(event: Any) -> Plan:
    bucket = ev.time_split_bucket(event)
    plan = _PLANS[type(event)] = (
        _HANDLERS.get(type(event)),
        None if bucket is None else _BUCKET_COLUMNS[bucket],
        ev.is_interaction(event),
        isinstance(event, ev.ContactMet),
    )
    return plan


def apply(views: Views, event: Any) -> None:
    """Fold one fact into the views: its own handler, then the rules every fact shares
    (the time split, and what an interaction does to its contact)."""
    if not ev.can_change_agenda(event) or isinstance(event, ev.CORRECTIONS):
        # A record for history only: a push changes nothing the rules look at. A correction
        # acts through the facts it names (corrections.Corrections.effective).
        return
    handle, split, interaction, meeting = _PLANS.get(type(event)) or _plan(event)
    if meeting and event.imported:  # how a contact came in: no time of mine, no interaction
        split, interaction = None, False
    day = event.on.isoformat()
    if views.last_on is None or event.on > views.last_on:  # dates compare faster than text
        views.last_on = event.on
    days = views.days()
    contact_id: str | None = event.contact_id.hex if getattr(event, "contact_id", None) else None
    contact: ContactView | None = None
    if contact_id is not None:
        contact = views.get("contact", contact_id)
        if contact is not None:
            views.touch("contact", contact_id)
        elif not meeting:
            return  # a contact never met (its first meeting retracted): its facts count nowhere

    if handle is not None:
        handle(views, event, day, contact, days)

    if split is not None:
        recorded_col, untimed = split
        recorded: int | None = getattr(event, "minutes", None)
        if recorded is None:
            _bump(days, day, GLOBAL_WIDTH, untimed[_default_of(event)], 1)
        else:
            _bump(days, day, GLOBAL_WIDTH, recorded_col, recorded)
    if interaction:
        _bump(days, day, GLOBAL_WIDTH, INTERACTIONS_COL, 1)
        if meeting and contact_id is not None:
            contact = views.get("contact", contact_id)  # the first meeting has just made it
        if contact is not None:
            _interaction(contact, day, ev.initiated_by_me(event), meeting)


def replay(all_events: list[Any], corrections: Corrections | None = None) -> Views:
    """Every view built from scratch, in memory, from the effective facts: the reference
    for tests, and the reads of an earlier day or moment. Without `corrections`, those
    among `all_events` apply."""
    if corrections is None:
        corrections = Corrections(e for e in all_events if isinstance(e, ev.CORRECTIONS))
    views = Views()
    for event in all_events:
        effective = corrections.effective(event)
        if effective is not None:
            apply(views, effective)
    return views
