"""From the agenda to calendar items: what a target should hold. Pure.

A calendar holds what matters: overdue reminders and those due within a horizon
(default 60 days), not every future seasonal touch. Each item has a stable UID
derived from its reminder key (contact id, rule, period: never a name), and the
DTSTAMP/SEQUENCE of when its content last changed (see `stamp`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

UID_DOMAIN = "syncnet"


def uid_for(key: str) -> str:
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@{UID_DOMAIN}"


@dataclass(frozen=True)
class CalendarItem:
    uid: str
    key: str
    rule: str
    contact_id: str
    opens: date
    due: date
    summary: str
    description: str

    @property
    def content_hash(self) -> str:
        text = "\x1f".join((self.rule, self.opens.isoformat(), self.due.isoformat(), self.summary,
                            self.description))  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Stamp:
    """When an item's content last changed, and how many times it has."""

    content_hash: str
    sequence: int
    changed: datetime


@dataclass(frozen=True)
class StampedItem:
    item: CalendarItem
    stamp: Stamp


def stamp(
    items: Iterable[CalendarItem], known: Mapping[str, Stamp], now: datetime
) -> tuple[list[StampedItem], dict[str, Stamp]]:
    """Stamp items from the register of known stamps; returns the items and the changed stamps.

    An item seen before with the same content keeps its stamp, so unchanged output
    is byte-identical; new or changed content is stamped `now` (sequence + 1).
    """
    out, changed = [], {}
    for item in items:
        old = known.get(item.uid)
        h = item.content_hash
        if old is not None and old.content_hash == h:
            s = old
        else:
            s = Stamp(h, 0 if old is None else old.sequence + 1, now.replace(microsecond=0))
            changed[item.uid] = s
        out.append(StampedItem(item, s))
    return out, changed
