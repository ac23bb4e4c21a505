"""What a user can record: one small frozen dataclass per command.

A command names contacts, promises and goals the way a user does (a name,
matched case-insensitively, or a short id); `Network.record` resolves, checks
and turns it into facts. `on` defaults to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID


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


@dataclass(frozen=True)
class Touch:
    contact: str
    by: str = "me"
    channel: str | None = None
    minutes: int | None = None
    on: date | None = None
    note: str | None = None


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


Command = (
    Meet | Touch | Give | Receive | Ask | Asked | Pitch | Promise | Kept | Dropped
    | Pocket | Cadence | GoalAdd | GoalAchieved | Link
)  # fmt: skip
