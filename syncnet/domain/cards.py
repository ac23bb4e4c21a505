"""Contact cards as importers read them: one person from an address book, a LinkedIn export,
a Google CSV or a CardDAV server, before syncnet decides whether they are new.

A parser (adapters/linkedin.py, google_contacts.py, vcards.py) turns a file's bytes into
`Card`s and `Skipped` rows, or raises MalformedFile; the import use case (syncnet.app.imports)
matches each card against the network (docs/imports.md) and records a first meeting for a new
person, or the details a known one lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Card:
    name: str  # the display name, as the source spells it
    line: int  # where the card starts in its file (1-based), for messages; 0 when none
    organisation: str | None = None
    role: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    birthday: date | None = None  # a birthday without its year is stored in year 1604 (vCard's --MMDD)
    note: str | None = None
    categories: tuple[str, ...] = ()
    met_on: date | None = None  # when you connected (LinkedIn's "Connected On"); None: unknown
    channel: str | None = None  # a channel of the vocabulary ("professional-network"), or None
    source_id: str | None = None  # the source's own id of the card (a vCard UID, a CardDAV href)


@dataclass(frozen=True)
class Skipped:
    line: int
    reason: str  # one line, the source's text never quoted whole


@dataclass
class Parsed:
    cards: list[Card] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class MalformedFile(ValueError):
    """The file as a whole cannot be read (not the format, a broken encoding or quoting):
    nothing is imported. `line` is where it went wrong (0 when unknown)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason
