"""Views: what the projections need, folded from facts. Pure: no I/O here.

`apply(views, event)` folds one fact into the views. The fold keeps per contact
only what the rules need (dates of the first meeting, the follow-up, the last
interaction, the months touched), so reading the agenda costs what is due, not
what happened. Dates are ISO strings (they sort as dates); personal fields stay
sealed (their `Sealed.to_text()`), so no view holds a name or note in clear.

The `Views` container loads missing rows through a loader (the view store) and
records which rows changed, so the same fold serves a full replay in memory and
incremental catch-up on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import events as ev
from .config import Minutes

# Per-contact daily ledger columns.
GIVEN, GIVEN_MIN, RECEIVED, RECEIVED_MIN, REQ_MADE, REQ_RECEIVED, TOUCH_ME, TOUCH_THEM = range(8)
LEDGER_WIDTH = 8
# Global daily columns (my time in minutes, then counts).
GIVE_MIN, SELF_MIN, ASK_MIN, G_TOUCH_ME, G_TOUCH_THEM, NEW_CONTACTS, INTERACTIONS_COL = range(7)
GLOBAL_WIDTH = 7

# Interactions (DOMAIN.md): count for seasons, cadence and "last interaction".
INTERACTIONS = (
    ev.ContactMet, ev.Touched, ev.HelpGiven, ev.HelpReceived,
    ev.RequestMade, ev.RequestReceived, ev.PromiseKept,
)  # fmt: skip


def fingerprint(minutes: Minutes) -> str:
    """What the stored views depend on besides the facts: a change rebuilds them."""
    return f"views-v3;minutes={sorted(asdict(minutes).items())}"


@dataclass
class ContactView:
    id: str
    name: str  # sealed
    met_on: str
    channel: str
    why: str | None
    goals: list[str] = field(default_factory=list)
    where: str | None = None  # sealed
    keep: bool = True
    keep_at: str = ""  # (on, recorded) of the pocket fact in force: last writer wins
    cadence_days: int | None = None
    cadence_at: str = ""
    last_interaction: str = ""
    followed_up_on: str | None = None  # first interaction by me on or after met_on
    first_later: str | None = None  # first interaction after the meeting, by anyone
    months: list[str] = field(default_factory=list)  # "YYYY-MM" with an interaction


@dataclass
class LedgerView:
    id: str
    days: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class PromiseView:
    id: str
    contact_id: str
    what: str  # sealed
    made_on: str
    due: str
    status: str = "open"  # open | kept | dropped
    closed_on: str | None = None


@dataclass
class GoalView:
    id: str
    name: str  # sealed
    kind: str
    set_on: str
    achieved_on: str | None = None


KINDS: dict[str, type[Any]] = {
    "contact": ContactView,
    "ledger": LedgerView,
    "promise": PromiseView,
    "goal": GoalView,
}
GLOBAL_KEY = "days"

Loader = Callable[[str, str], dict[str, Any] | None]


class Views:
    """Rows by (kind, key), loaded on first use, with a set of changed rows."""

    def __init__(self, minutes: Minutes, loader: Loader | None = None) -> None:
        self.minutes = minutes
        self._loader = loader
        self.rows: dict[tuple[str, str], Any] = {}
        self.dirty: set[tuple[str, str]] = set()

    def get(self, kind: str, key: str) -> Any:
        k = (kind, key)
        if k not in self.rows:
            data = self._loader(kind, key) if self._loader else None
            if data is None:
                self.rows[k] = None
            elif kind == "global":
                self.rows[k] = data
            else:
                self.rows[k] = KINDS[kind](**data)
        return self.rows[k]

    def put(self, kind: str, key: str, row: Any) -> None:
        self.rows[(kind, key)] = row
        self.dirty.add((kind, key))

    def touch(self, kind: str, key: str) -> None:
        self.dirty.add((kind, key))

    def all(self, kind: str) -> list[Any]:
        return [row for (k, _), row in self.rows.items() if k == kind and row is not None]

    def ledger(self, contact_id: str) -> LedgerView:
        row: LedgerView | None = self.get("ledger", contact_id)
        if row is None:
            row = LedgerView(contact_id)
            self.put("ledger", contact_id, row)
        else:
            self.touch("ledger", contact_id)
        return row

    def days(self) -> dict[str, list[int]]:
        row: dict[str, list[int]] | None = self.get("global", GLOBAL_KEY)
        if row is None:
            row = {}
            self.put("global", GLOBAL_KEY, row)
        else:
            self.touch("global", GLOBAL_KEY)
        return row


def encode_row(row: Any) -> dict[str, Any]:
    # Rows hold JSON-native values only, so a shallow view of the fields is enough
    # (dataclasses.asdict deep-copies every list: a third of a rebuild's time).
    return row if isinstance(row, dict) else vars(row)


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
        _bump(
            views.ledger(contact_id).days, day, LEDGER_WIDTH, REQ_MADE if made else REQ_RECEIVED, 1
        )
        if made:
            _bump(days, day, GLOBAL_WIDTH, ASK_MIN, _minutes(event.minutes, m.request))
    elif isinstance(event, ev.Presented):
        _bump(days, day, GLOBAL_WIDTH, SELF_MIN, _minutes(event.minutes, m.pitch))
    elif isinstance(event, ev.PromiseMade):
        pid = event.originator_id.hex
        views.put(
            "promise",
            pid,
            PromiseView(
                pid, event.contact_id.hex, event.what.to_text(), day, event.due.isoformat()
            ),
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
