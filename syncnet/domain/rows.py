"""The rows of the views: what the projections read. Plain data, no I/O.

Dates are ISO strings (they sort as dates); personal fields stay sealed (their
`Sealed.to_text()`), so no row holds a name or note in clear. The fold that
builds them from facts is in fold.py.
"""

from __future__ import annotations

import hashlib
from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

# Minutes: the rows hold the minutes recorded with the facts and, apart, how many facts
# were recorded without minutes; the projections add count x the default of the kind
# (config `[minutes]`) when they read them. So no setting is folded into the views: a
# change of the configuration never rebuilds them (`fingerprint`).

# Per-contact daily ledger columns: counts, the minutes recorded with help given and
# received (RECORDED_MIN), the help given and received recorded without minutes (NO_MIN).
# Only what a projection reads (touches are counted in the global row only): a store of a
# million facts holds half a million of these daily lists, and a rebuild holds them all.
(GIVEN, GIVEN_RECORDED_MIN, RECEIVED, RECEIVED_RECORDED_MIN, REQ_MADE, REQ_RECEIVED, GIVEN_NO_MIN,
 RECEIVED_NO_MIN) = range(8)  # fmt: skip
LEDGER_WIDTH = 8
LEDGER_DEFAULT = "help"  # the default (a field of config.Minutes) help without minutes counts with

# Global daily columns: the minutes recorded with my time per part of the time split,
# counts, then per part the facts recorded without minutes by the default they count with.
(GIVE_RECORDED_MIN, SELF_RECORDED_MIN, ASK_RECORDED_MIN, G_TOUCH_ME, G_TOUCH_THEM, NEW_CONTACTS,
 INTERACTIONS_COL, GIVE_NO_MIN_MEETING, GIVE_NO_MIN_TOUCH, GIVE_NO_MIN_HELP, SELF_NO_MIN_PITCH,
 ASK_NO_MIN_REQUEST) = range(12)  # fmt: skip
GLOBAL_WIDTH = 12
# Per part of the time split (rules.Bucket's values): its column of recorded minutes and
# its columns of facts without minutes, each with the default (a field of config.Minutes).
SPLIT_COLUMNS: dict[str, tuple[int, tuple[tuple[int, str], ...]]] = {
    "give": (GIVE_RECORDED_MIN, ((GIVE_NO_MIN_MEETING, "meeting"), (GIVE_NO_MIN_TOUCH, "touch"),
                                 (GIVE_NO_MIN_HELP, "help"))),
    "self": (SELF_RECORDED_MIN, ((SELF_NO_MIN_PITCH, "pitch"),)),
    "ask": (ASK_RECORDED_MIN, ((ASK_NO_MIN_REQUEST, "request"),)),
}  # fmt: skip


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
    via: str | None = None  # the contact who introduced us
    name_at: str = ""  # (on, recorded) of the name in force: a rename, latest wins
    why_at: str = ""  # (on, recorded) of the reason in force
    details: list[list[str]] = field(default_factory=list)  # [(on, recorded), sealed JSON] per DetailsSet
    forgotten: str = ""  # the day the contact was erased (events.ContactForgotten)
    # (on, recorded) of the erasure in force: the earliest of two (two devices each forgot
    # the contact), whatever order a store holds them and the facts about it in
    forgotten_at: str = ""
    unsorted: bool = False  # imported and in no pocket yet (events.ContactImported): no reminders
    imported_on: str = ""  # the day it was imported (events.ContactImported)
    imported_from: str = ""  # the import's source (events.ContactMet.imported, ContactImported)
    birthday: str = ""  # sealed "YYYY-MM-DD" (events.BirthdaySet); "" when none
    birthday_at: str = ""  # (on, recorded) of the birthday in force; "" when none was ever set
    last_by_me: str = ""  # the latest interaction initiated by me (a birthday's wishes)
    met_note: str | None = None  # sealed: the first meeting's note, the topics a follow-up picks up
    next_meeting: str = ""  # the next meeting planned (events.MeetingPlanned), "" when none
    next_planned_on: str = ""  # the day it was planned: an interaction after it is that meeting
    next_at: str = ""  # (on, recorded) of the plan in force: the latest wins


@dataclass
class LedgerView:
    id: str
    days: dict[str, list[int]] = field(default_factory=dict)

    def first_given_and_asks(self, cut: str) -> tuple[str | None, list[str]]:
        """The first day help was given, and the days a request was made, up to `cut`."""
        first = min((d for d, r in self.days.items() if r[GIVEN] and d <= cut), default=None)
        return first, sorted(d for d, r in self.days.items() if r[REQ_MADE] and d <= cut)


@dataclass
class TallyView:
    """A contact's ledger summed over every day: what the reads of today need (balance,
    warnings) without the day-by-day ledger, a row of the size of one day. A read as of
    a day before `last` (`--today` in the past) uses the ledger instead."""

    id: str
    totals: list[int] = field(default_factory=lambda: [0] * LEDGER_WIDTH)
    last: str = ""  # the latest day in the ledger
    first_given: str | None = None  # the first day help was given
    asks: list[str] = field(default_factory=list)  # the days a request was made, sorted
    # Every promise to this contact as [id, made_on, due, status, closed_on]: what balance
    # needs of them, without one row per promise (they grow with history, not contacts).
    promises: list[list[Any]] = field(default_factory=list)

    def first_given_and_asks(self, cut: str) -> tuple[str | None, list[str]]:
        first = self.first_given if self.first_given is not None and self.first_given <= cut else None
        return first, [d for d in self.asks if d <= cut]

    def add(self, day: str, col: int, by: int) -> None:
        """Fold one ledger entry (LedgerView.days[day][col] += by) into the sums."""
        self.totals[col] += by
        self.last = max(self.last, day)
        if col == GIVEN and (self.first_given is None or day < self.first_given):
            self.first_given = day
        if col == REQ_MADE and day not in self.asks:
            insort(self.asks, day)


@dataclass
class PromiseView:
    id: str
    contact_id: str
    what: str  # sealed
    made_on: str
    due: str
    status: str = "open"  # open | kept | dropped | forgotten (its contact erased)
    closed_on: str | None = None
    # The stamp (fold._stamp) of the closing in force: of two closings (kept on one device,
    # dropped on another) the earlier counts, whatever order a store holds them in.
    closed_at: str | None = None


@dataclass
class GoalView:
    id: str
    name: str  # sealed
    kind: str
    set_on: str
    achieved_on: str | None = None


@dataclass
class EventView:
    id: str
    name: str  # sealed
    held_on: str
    set_on: str
    where: str | None = None  # sealed
    goals: list[str] = field(default_factory=list)
    offer: str | None = None  # sealed
    orgs: str | None = None  # sealed JSON list
    expected: list[str] = field(default_factory=list)  # contact ids expected there
    met: list[str] = field(default_factory=list)  # contact ids met there


KINDS: dict[str, type[Any]] = {
    "contact": ContactView,
    "ledger": LedgerView,
    "tally": TallyView,
    "promise": PromiseView,
    "goal": GoalView,
    "event": EventView,
}
GLOBAL_KEY = "days"
META_KEY = "meta"

Loader = Callable[[str, str], Any]  # a row as encode_row stored it, or None


class Views:
    """Rows by (kind, key), loaded on first use, with a set of changed rows."""

    def __init__(self, loader: Loader | None = None) -> None:
        self._loader = loader
        self.rows: dict[tuple[str, str], Any] = {}
        self.dirty: set[tuple[str, str]] = set()
        self.created: set[tuple[str, str]] = set()  # put, not only changed: e.g. a contact met
        self._days: dict[str, list[int]] | None = None  # the global row, once it is dirty
        self.renamed: set[str] = set()  # contacts renamed: their new names join the name index
        self.forgotten: set[str] = set()  # contacts erased: their entries leave the name index
        # The latest day among the facts folded here, and the latest recording among the
        # facts seen (the view store sets it, and keeps both as the global "meta" row): a
        # read of an earlier day or moment cannot use the views, and replays instead.
        self.last_on: date | None = None
        self.last_recorded: datetime | None = None

    def get(self, kind: str, key: str) -> Any:
        k = (kind, key)
        if k not in self.rows:
            data = self._loader(kind, key) if self._loader else None
            self.rows[k] = None if data is None else decode_row(kind, data)
        return self.rows[k]

    def put(self, kind: str, key: str, row: Any) -> None:
        """A new row (or one replaced whole)."""
        self.rows[(kind, key)] = row
        self.dirty.add((kind, key))
        self.created.add((kind, key))

    def touch(self, kind: str, key: str) -> None:
        self.dirty.add((kind, key))

    def all(self, kind: str) -> list[Any]:
        return [row for (k, _), row in self.rows.items() if k == kind and row is not None]

    def _changed(self, kind: str, contact_id: str) -> Any:
        """A contact's row of `kind`, created empty if it has none, marked changed."""
        row = self.get(kind, contact_id)
        if row is None:
            row = KINDS[kind](contact_id)
            self.put(kind, contact_id, row)
        else:
            self.touch(kind, contact_id)
        return row

    def ledger(self, contact_id: str) -> LedgerView:
        row: LedgerView = self._changed("ledger", contact_id)
        return row

    def tally(self, contact_id: str) -> TallyView:
        row: TallyView = self._changed("tally", contact_id)
        return row

    def days(self) -> dict[str, list[int]]:
        """The global daily counts, marked changed (nearly every fact changes them)."""
        if self._days is not None:
            return self._days  # loaded and marked changed by an earlier call
        row: dict[str, list[int]] | None = self.get("global", GLOBAL_KEY)
        if row is None:
            row = {}
            self.put("global", GLOBAL_KEY, row)
        else:
            self.touch("global", GLOBAL_KEY)
        self._days = row
        return row


def encode_row(row: Any) -> dict[str, Any] | list[Any]:
    """A row as stored: its field values in declaration order (the global row stays a
    dict). Positional rows decode in half the time of keyed ones and are a third
    smaller; the fingerprint holds the field names, so a changed class rebuilds the views.
    Rows hold JSON-native values only, so a shallow copy is enough (dataclasses.asdict
    deep-copies every list: a third of a rebuild's time)."""
    return row if isinstance(row, dict) else list(vars(row).values())


def decode_row(kind: str, data: Any) -> Any:
    """The row of `kind` from what encode_row stored."""
    return data if kind == "global" else KINDS[kind](*data)


def fingerprint() -> str:
    """The format of the stored views: a change rebuilds them. No setting is part of it
    (minutes, thresholds, seasons, ... are applied when the views are read)."""
    layout = ";".join(f"{kind}:{','.join(f.name for f in fields(cls))}" for kind, cls in KINDS.items())
    return "views-v8:" + hashlib.sha256(layout.encode()).hexdigest()[:16]
