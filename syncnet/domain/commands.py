"""What a user can record: one small frozen dataclass per command.

A command names contacts, promises and goals the way a user does (a name,
matched case-insensitively, or a short id); `Network.record` resolves, checks
and turns it into facts. `on` defaults to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID


class PrivateText(str):
    """A note to keep to the device it is written on (`--private`): sealed with a key that
    never leaves it, so that in a team's hub the others see that a note is there, never
    what it says (docs/hub.md)."""

    __slots__ = ()


@dataclass(frozen=True)
class Meet:
    name: str
    channel: str = "other"
    why: str | None = None
    where: str | None = None
    goals: tuple[str, ...] = ()
    minutes: int | None = None
    on: date | None = None
    note: str | None = None
    new: bool = False  # a different person who has the name of an existing contact
    contact_id: UUID | None = None  # importers may fix the id; normally random
    details: Details | None = None
    via: str | None = None  # the contact who introduced us
    imported: str | None = None  # the import's source (app/imports.py); None: met


ADDS = "adds"  # the key of Details.adds in the sealed JSON


@dataclass(frozen=True)
class Details:
    """What a person keeps about a contact, sealed with its data key. None: not given
    (keeps what an earlier DetailsSet said); a list replaces the earlier list, unless
    `adds`: then its lists add to the earlier ones and its texts fill only empty fields
    (what a merge brought: retracting the merge takes back just that)."""

    org: str | None = None
    role: str | None = None
    emails: tuple[str, ...] | None = None
    phones: tuple[str, ...] | None = None
    urls: tuple[str, ...] | None = None
    how_met: str | None = None
    birthday: str | None = None  # YYYY-MM-DD; a year of 1604 means the year is unknown (vCard's --MM-DD)
    categories: tuple[str, ...] | None = None  # an address book's groups (vCard CATEGORIES, Google's labels)
    adds: bool = False

    def given(self) -> dict[str, str | list[str] | bool]:
        """The fields given, as stored (JSON)."""
        out: dict[str, str | list[str] | bool] = {}
        for name, value in vars(self).items():
            if isinstance(value, bool):
                if value:
                    out[name] = True
            elif isinstance(value, tuple):
                out[name] = [v.strip() for v in value if v.strip()]
            elif value is not None:
                out[name] = value.strip()
        return out


@dataclass(frozen=True)
class Touch:
    contact: str
    by: str = "me"
    channel: str | None = None
    minutes: int | None = None
    on: date | None = None
    note: str | None = None
    fact_id: UUID | None = None  # fixed by a calendar completion (exactly once); normally random


@dataclass(frozen=True)
class Give:
    contact: str
    kind: str
    to: str | None = None  # the contact introduced, for kind="introduction"
    minutes: int | None = None
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Receive:
    contact: str
    kind: str
    to: str | None = None
    minutes: int | None = None
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Ask:
    """A request I made to the contact."""

    contact: str
    what: str | None = None
    minutes: int | None = None
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Asked:
    """A request the contact made to me."""

    contact: str
    what: str | None = None
    minutes: int | None = None
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Pitch:
    contact: str | None = None
    minutes: int | None = None
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Promise:
    contact: str
    what: str
    due: date
    on: date | None = None
    note: str | None = None
    promise_id: UUID | None = None  # importers may fix the id; normally random


@dataclass(frozen=True)
class Kept:
    promise: str
    on: date | None = None
    note: str | None = None
    fact_id: UUID | None = None  # fixed by a calendar completion (exactly once); normally random


@dataclass(frozen=True)
class Dropped:
    promise: str
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Pocket:
    contact: str
    keep: bool
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Cadence:
    contact: str
    days: int | None  # None clears the cadence
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class GoalAdd:
    name: str
    kind: str = "career"
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class GoalAchieved:
    goal: str
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Link:
    contact: str
    goal: str
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class SetDetails:
    contact: str
    details: Details
    on: date | None = None
    note: str | None = None
    fact_id: UUID | None = None  # fixed by a merge (corrections.merged_details_id); normally random


@dataclass(frozen=True)
class Rename:
    contact: str
    name: str
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Why:
    """Give or change the reason a contact is in the network."""

    contact: str
    why: str
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class SetBirthday:
    """Give or change a contact's birthday: "YYYY-MM-DD", or without its year "--MM-DD"
    or "MM-DD" (29 February included); None clears it. Stored sealed."""

    contact: str
    birthday: str | None
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class EventAdd:
    """An event I mean to go to, held on `held_on` (any day, past or future)."""

    name: str
    held_on: date
    where: str | None = None
    goals: tuple[str, ...] = ()
    offer: str | None = None  # what I can offer there
    orgs: tuple[str, ...] = ()  # organisations whose people will probably be there
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class EventLink:
    """Link a contact to an event: met there (`met`), or expected there."""

    event: str
    contact: str
    met: bool = False
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class PlanMeeting:
    """The next meeting with a contact, planned for `planned_for` (today or later)."""

    contact: str
    planned_for: date
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Imported:
    """Mark a contact just met by an import as imported from `source` (unsorted)."""

    contact: str
    source: str
    on: date | None = None


@dataclass(frozen=True)
class Merge:
    """`other` is the same person as `contact`: its facts count for `contact` from now on."""

    contact: str
    other: str
    on: date | None = None
    note: str | None = None
    fact_id: UUID | None = None  # the merge's id, fixed by the details recorded with it


@dataclass(frozen=True)
class Forget:
    """Erase a contact for good (see events.ContactForgotten)."""

    contact: str
    on: date | None = None


@dataclass(frozen=True)
class Retract:
    """A recorded fact was a mistake (`fact`: its id or a prefix of at least 6 hex digits)."""

    fact: str
    reason: str | None = None
    on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Amend:
    """A correction of some fields of a recorded fact; None leaves a field as it was."""

    fact: str
    new_on: date | None = None
    minutes: int | None = None
    kind: str | None = None
    channel: str | None = None
    note: str | None = None  # the corrected note
    on: date | None = None  # when the correction is recorded (default today)


Command = (
    Meet | Touch | Give | Receive | Ask | Asked | Pitch | Promise | Kept | Dropped
    | Pocket | Cadence | GoalAdd | GoalAchieved | Link | SetDetails | Rename | Why | Retract | Amend
    | Forget | Imported | Merge | SetBirthday | EventAdd | EventLink | PlanMeeting
)  # fmt: skip
