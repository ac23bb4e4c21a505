"""The port of a CardDAV address book (adapters/carddav.py implements it), apart from
the import (syncnet.app.carddav_import) so that the adapter imports nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Listing:
    """What an address book holds, or what changed in it since a sync token.
    `full`: `present` is every card, and a kept card missing from it was removed."""

    present: dict[str, str] = field(default_factory=dict)  # href -> ETag
    deleted: set[str] = field(default_factory=set)
    token: str | None = None
    full: bool = False
    note: str | None = None  # why a later run listed everything (a refused token), for the summary


class AddressBook(Protocol):
    """A CardDAV address book (adapters/carddav.py)."""

    url: str  # as the user gave it (never with credentials: refused before)

    @property
    def requests(self) -> int: ...

    def open(self, collection: str | None) -> str:
        """Use `collection` (kept from an earlier run), else find the address book from
        the URL; return the collection's URL."""
        ...

    def changes(self, token: str | None) -> Listing: ...

    def fetch(self, hrefs: Sequence[str]) -> dict[str, tuple[bytes, str | None] | None]:
        """href -> (the card's vCard, its ETag), None for a card no longer there."""
        ...

    def close(self) -> None: ...
