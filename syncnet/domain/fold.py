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

from typing import Any

from syncnet.domain import events as ev
from syncnet.domain.config import Minutes
from syncnet.domain.rows import (  # re-exported for callers of the fold
    ASK_MIN,
    G_TOUCH_ME,
    G_TOUCH_THEM,
    GIVE_MIN,
    GIVEN,
    GIVEN_MIN,
    GLOBAL_WIDTH,
    INTERACTIONS_COL,
    KINDS,
    LEDGER_WIDTH,
    NEW_CONTACTS,
    RECEIVED,
    RECEIVED_MIN,
    REQ_MADE,
    REQ_RECEIVED,
    SELF_MIN,
    TOUCH_ME,
    TOUCH_THEM,
    ContactView,
    GoalView,
    LedgerView,
    Loader,
    PromiseView,
    Views,
    encode_row,
    fingerprint,
)  # fmt: skip

__all__ = [
    "KINDS", "ContactView", "GoalView", "LedgerView", "Loader", "PromiseView", "Views",
    "apply", "encode_row", "fingerprint", "replay",
]  # fmt: skip

# Interactions (DOMAIN.md): count for seasons, cadence and "last interaction".
INTERACTIONS = (
    ev.ContactMet, ev.Touched, ev.HelpGiven, ev.HelpReceived,
    ev.RequestMade, ev.RequestReceived, ev.PromiseKept,
)  # fmt: skip


def _bump(table: dict[str, list[int]], day: str, width: int, col: int, by: int) -> None:
    counts = table.get(day)
    if counts is None:
        counts = table[day] = [0] * width
    counts[col] += by


def _interaction(c: ContactView, day: str, mine: bool, is_meeting: bool) -> None:
    if day > c.last_interaction:
        c.last_interaction = day
    month = day[:7]
    if month not in c.months:
        c.months.append(month)
        c.months.sort()
    if is_meeting or day < c.met_on:
        return
    if c.first_later is None or day < c.first_later:
        c.first_later = day
    if mine and (c.followed_up_on is None or day < c.followed_up_on):
        c.followed_up_on = day


def _minutes(value: int | None, default: int) -> int:
    return default if value is None else value


def apply(views: Views, event: Any) -> None:
    """Fold one fact into the views."""
    if isinstance(event, ev.ReminderPushed):
        return  # a record for history only: a push changes nothing the rules look at
    day = event.on.isoformat()
    stamp = f"{day}|{event.timestamp.isoformat()}"
    m = views.minutes
    days = views.days()
    contact_id: str | None = event.contact_id.hex if getattr(event, "contact_id", None) else None

    contact: ContactView | None = None
    if contact_id is not None:
        contact = views.get("contact", contact_id)
        if contact is not None:
            views.touch("contact", contact_id)

    if isinstance(event, ev.ContactMet):
        contact = ContactView(
            id=contact_id or "",
            name=event.name.to_text(),
            met_on=day,
            channel=event.channel,
            why=event.why,
            goals=[g.hex for g in event.goals],
            where=None if event.where is None else event.where.to_text(),
        )
        views.put("contact", contact.id, contact)
        views.ledger(contact.id)  # every contact has a ledger, if only an empty one
        _bump(days, day, GLOBAL_WIDTH, NEW_CONTACTS, 1)
        _bump(days, day, GLOBAL_WIDTH, GIVE_MIN, _minutes(event.minutes, m.meeting))
    elif isinstance(event, ev.Touched):
        mine = event.by == "me"
        assert contact_id is not None
        ledger = views.ledger(contact_id)
        _bump(ledger.days, day, LEDGER_WIDTH, TOUCH_ME if mine else TOUCH_THEM, 1)
        _bump(days, day, GLOBAL_WIDTH, G_TOUCH_ME if mine else G_TOUCH_THEM, 1)
        _bump(days, day, GLOBAL_WIDTH, GIVE_MIN, _minutes(event.minutes, m.touch))
    elif isinstance(event, ev.HelpGiven | ev.HelpReceived):
        given = isinstance(event, ev.HelpGiven)
        minutes = _minutes(event.minutes, m.help)
        assert contact_id is not None
        ledger = views.ledger(contact_id)
        _bump(ledger.days, day, LEDGER_WIDTH, GIVEN if given else RECEIVED, 1)
        _bump(ledger.days, day, LEDGER_WIDTH, GIVEN_MIN if given else RECEIVED_MIN, minutes)
        if given:
            _bump(days, day, GLOBAL_WIDTH, GIVE_MIN, minutes)
    elif isinstance(event, ev.RequestMade | ev.RequestReceived):
        made = isinstance(event, ev.RequestMade)
        assert contact_id is not None
        _bump(views.ledger(contact_id).days, day, LEDGER_WIDTH, REQ_MADE if made else REQ_RECEIVED, 1)
        if made:
            _bump(days, day, GLOBAL_WIDTH, ASK_MIN, _minutes(event.minutes, m.request))
    elif isinstance(event, ev.Presented):
        _bump(days, day, GLOBAL_WIDTH, SELF_MIN, _minutes(event.minutes, m.pitch))
    elif isinstance(event, ev.PromiseMade):
        pid = event.originator_id.hex
        views.put(
            "promise",
            pid,
            PromiseView(pid, event.contact_id.hex, event.what.to_text(), day, event.due.isoformat()),
        )
    elif isinstance(event, ev.PromiseKept | ev.PromiseDropped):
        promise: PromiseView | None = views.get("promise", event.promise_id.hex)
        if promise is not None and promise.status == "open":
            promise.status = "kept" if isinstance(event, ev.PromiseKept) else "dropped"
            promise.closed_on = day
            views.touch("promise", promise.id)
    elif isinstance(event, ev.Pocketed):
        if contact is not None and stamp >= contact.keep_at:
            contact.keep, contact.keep_at = event.keep, stamp
    elif isinstance(event, ev.CadenceSet):
        if contact is not None and stamp >= contact.cadence_at:
            contact.cadence_days, contact.cadence_at = event.days, stamp
    elif isinstance(event, ev.GoalSet):
        gid = event.originator_id.hex
        views.put("goal", gid, GoalView(gid, event.name.to_text(), event.kind, day))
    elif isinstance(event, ev.GoalAchieved):
        goal: GoalView | None = views.get("goal", event.goal_id.hex)
        if goal is not None and (goal.achieved_on is None or day < goal.achieved_on):
            goal.achieved_on = day
            views.touch("goal", goal.id)
    elif isinstance(event, ev.GoalLinked):
        if contact is not None and event.goal_id.hex not in contact.goals:
            contact.goals.append(event.goal_id.hex)

    if isinstance(event, INTERACTIONS):
        _bump(days, day, GLOBAL_WIDTH, INTERACTIONS_COL, 1)
        if contact is not None:
            mine = isinstance(event, ev.HelpGiven | ev.PromiseKept) or (
                isinstance(event, ev.Touched) and event.by == "me"
            )
            _interaction(contact, day, mine, isinstance(event, ev.ContactMet))


def replay(all_events: list[Any], minutes: Minutes) -> Views:
    """Every view built from scratch, in memory: the reference for tests."""
    views = Views(minutes)
    for event in all_events:
        apply(views, event)
    return views
