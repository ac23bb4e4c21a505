"""`syncnet import carddav URL`: an address book on a CardDAV server, imported
incrementally (docs/imports.md, "CardDAV").

The first run lists the whole address book (sync-collection, RFC 6578) and reads every
card (addressbook-multiget, RFC 6352); what it saw is kept in the state store (scope
"carddav", key: the URL without credentials): the collection's URL, the sync token and
every card's href -> ETag. A later run asks only for what changed since the token and
reads only the cards whose ETag differs from the one kept. A server that refuses the
token (or has no sync-collection) is listed whole, and the ETags still spare the cards
that did not change. Each card read goes through the import of syncnet.app.imports
(matched by e-mail, profile URL, or name at the same organisation), so a changed card
updates its contact with the details it lacks.

A card deleted on the server deletes nothing here: its contact stays, and the summary
counts it. Nothing is kept after a dry run, nor when the run fails: every request is made
before anything is recorded, and the state is kept after the facts (a run that dies in
between reads the same cards again next time, which adds nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from syncnet.app.address_book import AddressBook
from syncnet.app.imports import ImportReport, import_cards
from syncnet.domain.cards import MalformedFile, Parsed, Skipped
from syncnet.domain.config import without_userinfo

if TYPE_CHECKING:
    from syncnet.app.network import Network

SCOPE = "carddav"


@dataclass
class CardDAVReport:
    report: ImportReport
    collection: str
    hrefs: dict[int, str]  # a card's `line` (its place in this run) -> its href
    fetched: int  # cards read (new or changed)
    removed: int  # cards gone from the address book since the last run (their contacts stay)
    full: bool
    note: str | None
    requests: int

    def where(self, line: int) -> str:
        """A card in messages: its href (cards from a server have no file lines)."""
        return f"card {self.hrefs.get(line, '?')}"

    def to_json(self) -> dict[str, Any]:
        doc = self.report.to_json()
        for key in ("possible_duplicates", "skipped", "left_out", "cards"):
            for entry in doc[key]:
                entry["href"] = self.hrefs.get(entry.pop("line"))
        doc.update(collection=without_userinfo(self.collection), fetched=self.fetched,
                   removed=self.removed, full_listing=self.full)  # fmt: skip
        return doc


def state_key(url: str) -> str:
    """Where an address book's state is kept: its URL without credentials, query or fragment
    (a token in the query must not split one address book's state in two, nor be stored)."""
    return without_userinfo(url.split("#", 1)[0].split("?", 1)[0])


def _kept(value: Any) -> dict[str, Any]:
    """The state of an earlier run, or an empty one when there is none (or it is not
    what this module writes: then the next run is a full listing, nothing worse)."""
    if not isinstance(value, dict) or not isinstance(value.get("etags"), dict):
        return {}
    etags = {h: e for h, e in value["etags"].items() if isinstance(h, str) and isinstance(e, str)}
    token = value.get("token") if isinstance(value.get("token"), str) else None
    collection = value.get("collection") if isinstance(value.get("collection"), str) else None
    return {"collection": collection, "token": token, "etags": etags}


def import_address_book(net: Network, book: AddressBook, parse: Callable[[bytes], Parsed], *,
                        dry_run: bool = False, progress: Callable[[int], None] | None = None
                        ) -> CardDAVReport:  # fmt: skip
    """Import what changed in `book` since the last run (everything, the first time).
    `parse` reads one card's vCard (adapters/vcards.py), raising MalformedFile."""
    key = state_key(book.url)
    kept = _kept(net.state.get(SCOPE, key))
    collection = book.open(kept.get("collection"))
    if collection != kept.get("collection"):
        kept = {}  # another address book behind the same URL: start over
    known: dict[str, str] = kept.get("etags", {})
    listing = book.changes(kept.get("token"))
    removed = set(known) - set(listing.present) if listing.full else listing.deleted & set(known)
    wanted = sorted(h for h, etag in listing.present.items() if known.get(h) != etag)
    fetched = book.fetch(wanted) if wanted else {}

    etags = {h: e for h, e in known.items() if h not in removed}
    parsed = Parsed()
    hrefs: dict[int, str] = {}
    for href in wanted:
        if href not in fetched:  # the adapter reads each one; should one be missing, its
            continue  # old ETag (or none) is kept, so that a full listing reads it again
        got = fetched[href]
        if got is None:  # deleted between the listing and the read
            if etags.pop(href, None) is not None:
                removed.add(href)
            continue
        body, etag = got
        etags[href] = etag or listing.present[href]
        line = len(hrefs) + 1  # Card.line: the card's place in this run, for messages (`where`)
        hrefs[line] = href
        try:
            cards = parse(body)
        except MalformedFile as e:  # one bad card is skipped, not the address book
            parsed.skipped.append(Skipped(line, f"not a readable vCard ({e.reason})"))
            continue
        parsed.cards += [replace(c, line=line, source_id=href) for c in cards.cards]
        parsed.skipped += [Skipped(line, s.reason) for s in cards.skipped]

    report = import_cards(net, parsed, "carddav", dry_run=dry_run, progress=progress)
    if not dry_run:
        net.state.put(SCOPE, key, {"collection": collection, "token": listing.token, "etags": etags})
    return CardDAVReport(report, collection, hrefs, len(hrefs), len(removed), listing.full, listing.note,
                         book.requests)  # fmt: skip
