"""The facts a user records, as immutable domain events.

Every fact is its own stream: a new aggregate id (random UUID) at version 1.
Two devices recording offline therefore never append to the same stream, and
their logs merge by union. Personal fields (names, notes, the text of requests,
promises and goals) are `Sealed` with the data key of the contact (or goal) they
belong to, so deleting that key erases them while dates and counts remain.

Event classes are part of the stored format: rename nothing; add fields only with
a class_version and an upcast method.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple, dataclass_transform
from uuid import UUID

from eventsourcing.domain import DomainEvent, MetaDomainEvent

from syncnet.domain.config import Minutes
from syncnet.domain.rules import Bucket

# Re-exported: the sealed value belongs to the stored format (its transcoding is storage's).
from syncnet.domain.sealed import Sealed as Sealed

# Re-exported: the words of the domain (docs/rules.md) that facts use.
from syncnet.domain.vocabulary import CHANNELS as CHANNELS
from syncnet.domain.vocabulary import GOAL_KINDS as GOAL_KINDS
from syncnet.domain.vocabulary import HELP_KINDS as HELP_KINDS
from syncnet.domain.vocabulary import REASONS as REASONS


@dataclass_transform(frozen_default=True)
class _FactType(MetaDomainEvent):
    """The library's metaclass makes every event a frozen dataclass; this tells type checkers."""


class Fact(DomainEvent, metaclass=_FactType):
    """A fact: `on` is the day it happened, `timestamp` when it was recorded."""

    on: date
    note: Sealed | None


class ContactMet(Fact):
    """`via`: the contact who introduced us (the small-world edge), if any. Version 2
    added `via` and `details`; facts of version 1 have neither. Version 3 added
    `imported`: the source of an import (docs/imports.md), None for a meeting the user
    recorded. An imported first meeting is how a contact came in, not time spent nor an
    interaction: it leaves the contact unsorted and counts in no time split."""

    class_version = 3

    contact_id: UUID
    name: Sealed
    channel: str
    where: Sealed | None
    why: str | None
    goals: tuple[UUID, ...]
    minutes: int | None
    via: UUID | None
    details: Sealed | None  # as a DetailsSet's, given at the first meeting
    imported: str | None  # the import's source (linkedin, google, vcard, carddav), or None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["via"] = None
        state["details"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["imported"] = None  # a ContactImported fact says it of these (fold._imported)


class Touched(Fact):
    contact_id: UUID
    by: str  # "me" or "them"
    channel: str | None
    minutes: int | None


class HelpGiven(Fact):
    contact_id: UUID
    kind: str
    minutes: int | None
    introduced: UUID | None


class HelpReceived(Fact):
    contact_id: UUID
    kind: str
    minutes: int | None
    introduced: UUID | None


class RequestMade(Fact):
    contact_id: UUID
    what: Sealed | None
    minutes: int | None


class RequestReceived(Fact):
    contact_id: UUID
    what: Sealed | None
    minutes: int | None


class Presented(Fact):
    contact_id: UUID | None
    minutes: int | None


class PromiseMade(Fact):
    """The promise's id is this event's originator_id."""

    contact_id: UUID
    what: Sealed
    due: date


class PromiseKept(Fact):
    promise_id: UUID
    contact_id: UUID


class PromiseDropped(Fact):
    promise_id: UUID
    contact_id: UUID


class Pocketed(Fact):
    contact_id: UUID
    keep: bool


class CadenceSet(Fact):
    contact_id: UUID
    days: int | None


class GoalSet(Fact):
    """The goal's id is this event's originator_id."""

    name: Sealed
    kind: str


class GoalAchieved(Fact):
    goal_id: UUID


class GoalLinked(Fact):
    contact_id: UUID
    goal_id: UUID


class DetailsSet(Fact):
    """Details a person keeps about a contact (organisation, role, e-mails, phones,
    profile URLs, how we met): the fields given, as one JSON object sealed with the
    contact's data key. Per field, the latest recorded wins."""

    contact_id: UUID
    details: Sealed


class Renamed(Fact):
    contact_id: UUID
    name: Sealed


class ReasonSet(Fact):
    """Why a contact is in the network, given or changed after the first meeting."""

    contact_id: UUID
    why: str


class ContactForgotten(Fact):
    """A contact erased for good: recorded with the destruction of the contact's data
    key (in the same transaction), so every field sealed with it (name, notes, details,
    the texts of requests and promises) is unreadable from then on. What stays: dates,
    kinds, minutes, and this fact, which says that and when (never a note)."""

    contact_id: UUID


class ContactImported(Fact):
    """A contact came in from an import (`source`: linkedin, google, vcard, carddav), not
    from a meeting the user recorded: recorded with its first meeting, it leaves the
    contact unsorted, with no reminders, until the user puts it in a pocket
    (docs/imports.md)."""

    contact_id: UUID
    source: str


class BirthdaySet(Fact):
    """A contact's birthday, "YYYY-MM-DD" sealed with the contact's data key (the year
    1604 when it is unknown: vCard's --MM-DD); None clears it. The latest (by day, then
    recording) is in force; a kept contact's birthday is a yearly reminder (docs/rules.md)."""

    contact_id: UUID
    birthday: Sealed | None


class EventPlanned(Fact):
    """An event I mean to go to (`syncnet event add`): the event's id is this fact's
    originator_id; its texts are sealed with its own data key, as a goal's are. `held_on`
    is the day it takes place (`on`: the day it was recorded, never after today);
    `orgs`: a JSON list of organisations whose people will probably be there."""

    name: Sealed
    held_on: date
    where: Sealed | None
    goals: tuple[UUID, ...]
    offer: Sealed | None  # what I can offer there
    orgs: Sealed | None


class EventLinked(Fact):
    """A contact linked to an event: met there (`meet --at`) or expected there (`event
    expect`). `prep` lists them; `pocket --event` walks those met there."""

    event_id: UUID
    contact_id: UUID
    met: bool


class MeetingPlanned(Fact):
    """The next meeting with a contact, planned (`touch --next`): a reminder due on
    `planned_for`, done by any interaction dated after the day it was planned."""

    contact_id: UUID
    planned_for: date


class ContactsMerged(Fact):
    """Two contacts are one person: every fact of `merged_id` counts for `contact_id`
    from now on, its first meeting as an interaction (docs/imports.md, "Merging"). Both
    pasts stay in the log; retracting this fact parts them again."""

    contact_id: UUID
    merged_id: UUID


class Retracted(Fact):
    """A recorded fact was a mistake: every read ignores it from now on (its own
    retraction, retracted in turn, restores it). `contact_id`: the contact of the
    retracted fact, so that the retraction shows in its history."""

    fact_id: UUID
    contact_id: UUID | None
    reason: Sealed | None


class Amended(Fact):
    """A correction of some fields of a recorded fact; None leaves a field as it was.
    Its own `note`, when given, replaces the fact's note (sealed with the same key)."""

    fact_id: UUID
    contact_id: UUID | None
    new_on: date | None
    new_minutes: int | None
    new_kind: str | None
    new_channel: str | None


# Facts about other facts: the fold applies them to the facts they name, never as facts
# of their own (syncnet.domain.corrections).
CORRECTIONS: tuple[type[Fact], ...] = (Retracted, Amended, ContactsMerged)


class ReminderPushed(Fact):
    """A write to a calendar target: what went where, with which result.

    A record, not a networking fact: it never triggers another sync.
    """

    target: str
    uid: str
    action: str  # created | updated | deleted | user-changed | user-deleted
    result: str
    contact_id: UUID | None
    summary: Sealed | None


class Push(NamedTuple):
    """One change a sync made to a target, inside a `TargetSynced` record.

    Stored as a JSON array [uid, action, result, contact_id, summary] (a tuple is an
    array to JSON; the UUID and the sealed summary keep their own transcodings)."""

    uid: str
    action: str  # created | updated | deleted | user-changed | user-deleted | gone
    result: str
    contact_id: UUID | None
    summary: Sealed | None  # sealed with that contact's data key


class TargetSynced(Fact):
    """One sync of one target: every change it made, in one record (what went where,
    with which result). Records grow with syncs, not with the items pushed; a sync
    that changed nothing records nothing. Replaces one `ReminderPushed` per item, which
    older stores still hold and which is still read.

    A record, not a networking fact: it never triggers another sync.
    """

    target: str
    changes: tuple[Push, ...]  # read them through `pushes()`: stored ones come back as lists

    def pushes(self) -> tuple[Push, ...]:
        """The changes as `Push` values, whether built here or read back from the store."""
        return tuple(c if isinstance(c, Push) else Push(*c) for c in self.changes)


# The records of pushes, old and new: audit history only, never a reason to sync.
PUSH_RECORDS: tuple[type[Fact], ...] = (ReminderPushed, TargetSynced)


def contact_ids_of(event: Any) -> tuple[UUID, ...]:
    """The contacts whose history this fact belongs to (for a sync's record: every
    contact one of its changes belongs to)."""
    if isinstance(event, TargetSynced):  # each contact once, in order (a dict: thousands of pushes)
        return tuple(dict.fromkeys(p.contact_id for p in event.pushes() if p.contact_id is not None))
    ids: list[UUID] = []
    contact_id = getattr(event, "contact_id", None)
    if contact_id is not None:
        ids.append(contact_id)
    introduced = getattr(event, "introduced", None)
    if introduced is not None and introduced not in ids:
        ids.append(introduced)
    return tuple(ids)


def can_change_agenda(fact: Fact) -> bool:
    """The one predicate for "this fact can change what is due": every networking fact
    can, a record of a push cannot (so a sync never triggers another sync)."""
    return not isinstance(fact, PUSH_RECORDS)


# The same predicate as a set of types, for reading the log by type (the daemon's poll).
AGENDA_FACTS: tuple[type[Fact], ...] = tuple(cls for cls in Fact.__subclasses__() if cls not in PUSH_RECORDS)


# --------------------------------------------------------------------------- rules on facts
# docs/rules.md, first paragraph and "Time split": what a fact counts as. Here, next to the
# facts, so the fold can use them and reading the agenda never loads the event classes.

_INTERACTIONS = (ContactMet, Touched, HelpGiven, HelpReceived, RequestMade, RequestReceived, PromiseKept)


def is_interaction(fact: Fact) -> bool:
    """docs/rules.md: "**Interactions** with a contact: the first meeting, a touch (either
    direction), help given or received, a request made or received, a promise kept. A
    self-presentation is not an interaction." They count for seasons, cadence, follow-up,
    collecting, not-networking and "last interaction"."""
    return isinstance(fact, _INTERACTIONS)


def initiated_by_me(fact: Fact) -> bool:
    """docs/rules.md: "**Initiated by me**: a touch `--by me`, help given, a promise kept."

    Counts for the follow-up and for only-reacting (there: touches only)."""
    if isinstance(fact, Touched):
        return fact.by == "me"
    return isinstance(fact, HelpGiven | PromiseKept)


_BUCKETS: dict[type[Fact], Bucket] = {
    ContactMet: Bucket.GIVE,
    Touched: Bucket.GIVE,
    HelpGiven: Bucket.GIVE,
    Presented: Bucket.SELF,
    RequestMade: Bucket.ASK,
}


def time_split_bucket(fact: Fact) -> Bucket | None:
    """docs/rules.md, "Time split": "give = help given + touches (either direction: the time
    is mine too) + first meetings; self = self-presentations; ask = requests made. Help
    received and requests received are the other side's time" (None here, as for every
    fact that takes none of my time)."""
    return _BUCKETS.get(type(fact))


# Which default of the configuration an event counts with when recorded without minutes.
_DEFAULT_MINUTES: dict[type[Fact], str] = {
    ContactMet: "meeting",
    Touched: "touch",
    HelpGiven: "help",
    HelpReceived: "help",
    Presented: "pitch",
    RequestMade: "request",
    RequestReceived: "request",
}


def minutes_of(fact: Fact, defaults: Minutes) -> int:
    """docs/rules.md, "Time split": "Without `--minutes` an event counts with the default of
    its kind (touch 15, meeting 30, help 30, self-presentation 10, request 10)." Only for
    facts that carry minutes."""
    recorded: int | None = getattr(fact, "minutes", None)
    if recorded is not None:
        return recorded
    default: int = getattr(defaults, _DEFAULT_MINUTES[type(fact)])
    return default
