"""An in-memory calendar server and a CalendarPort over it, for testing the sync engine
without HTTP.

`MemoryCalendar` plays the server: hrefs -> entries (UID, ETag, content, who wrote it),
a sync token that moves on every change, If-Match / If-None-Match semantics and a fault
switch. It has two faces:
- the server API (`listing`, `get`, `put`, `remove`), which a port calls and which
  faults hit: the next call, or one a few calls later, raises `TargetDown`, optionally
  after applying a write (a lost response);
- the user API (`user_edit`, `user_complete`, `user_reopen`, `user_replace`, `user_delete`,
  `user_add`),
  what a phone does, never faulted.
Every write through the server API that replaces or removes a version the user wrote is
kept in `clobbered`: the engine must leave that list empty.

`MemoryPort(calendar)` implements `syncnet.app.sync.CalendarPort` over it, the way the
CalDAV port does (a create that finds the href taken replaces what is there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from syncnet.app.sync import RemoteChanges, Seen
from syncnet.domain.reminders import CalendarItem, Stamp, StampedItem, uid_for
from syncnet.errors import Conflict, TargetDown

SYNCNET, USER = "syncnet", "user"
WRITES = ("PUT", "DELETE")
STAMPED_AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """One calendar object. `content`: the StampedItem syncnet wrote, the CalendarItem
    the user left, or bytes (when served over HTTP)."""

    uid: str
    etag: str
    content: Any
    by: str  # SYNCNET (written through the server API) or USER
    completed: bool = False
    render: int = 0  # the version of syncnet's rendering that wrote it

    @property
    def item(self) -> CalendarItem | None:
        if isinstance(self.content, StampedItem):
            return self.content.item
        return self.content if isinstance(self.content, CalendarItem) else None


@dataclass
class Fault:
    after: int  # server calls still to succeed before the failing one
    lost_response: bool  # a failing write is applied first, only its answer is lost
    spurious_412: bool = False  # a failing write is answered 412 without being applied


@dataclass(frozen=True)
class Listing:
    changed: dict[str, str]
    deleted: set[str]
    token: str
    full: bool


class MemoryCalendar:
    def __init__(self, collection: str = "/cal/") -> None:
        self.collection = collection
        self.entries: dict[str, Entry] = {}
        self.calls: list[tuple[str, str]] = []  # server API calls: (method, href)
        self.clobbered: list[tuple[str, str, Entry]] = []  # (method, href, the user's version)
        self.completed_removed: list[str] = []  # hrefs of ticked-off items of the user's deleted
        self.faults_fired = 0
        self._seq = 0  # the sync token's counter: moves on every change
        self._oldest_token = 0  # tokens before this one are no longer valid
        self._changed_at: dict[str, int] = {}  # href -> seq of its last change (deletions too)
        self._etags = 0
        self._own = 0
        self._fault: Fault | None = None

    # inspection ---------------------------------------------------------------
    @property
    def token(self) -> str:
        return f"t{self._seq}"

    def by_uid(self) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for e in self.entries.values():
            out.setdefault(e.uid, []).append(e)
        return out

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in WRITES]

    # faults -------------------------------------------------------------------
    def fail(self, after: int = 0, *, lost_response: bool = False, spurious_412: bool = False) -> None:
        """The server call after `after` more successful ones raises TargetDown; with
        `lost_response` a failing write is applied before it raises; with `spurious_412`
        a failing write raises Conflict (HTTP 412) though nothing stood in its way."""
        self._fault = Fault(after, lost_response, spurious_412)

    def cancel_fault(self) -> bool:
        """Disarm a fault that did not fire; True when one was pending."""
        pending, self._fault = self._fault is not None, None
        return pending

    def invalidate_tokens(self) -> None:
        """Forget every sync token handed out so far (servers expire them)."""
        self._seq += 1
        self._oldest_token = self._seq

    def _call(self, method: str, href: str) -> bool:
        """Count a server call; raise when the fault fires. True: apply, then raise."""
        self.calls.append((method, href))
        f = self._fault
        if f is None:
            return False
        if f.after > 0:
            f.after -= 1
            return False
        self._fault = None
        self.faults_fired += 1
        if f.lost_response and method in WRITES:
            return True
        if f.spurious_412 and method in WRITES:
            raise Conflict(f"{method} {href}: HTTP 412 (spurious)")
        raise TargetDown(f"{method} {href}: the memory calendar is down")

    def _lost(self, method: str, href: str) -> TargetDown:
        return TargetDown(f"{method} {href}: the connection dropped before the answer")

    # writes, shared by both faces ------------------------------------------------
    def _new_etag(self) -> str:
        self._etags += 1
        return f'"e{self._etags}"'

    def _touch(self, href: str) -> None:
        self._seq += 1
        self._changed_at[href] = self._seq

    def _store(self, href: str, uid: str, content: Any, by: str, completed: bool = False,
               render: int = 0) -> str:  # fmt: skip
        old = self.entries.get(href)
        if by == SYNCNET and old is not None and old.by == USER:
            self.clobbered.append(("PUT", href, old))
        etag = self._new_etag()
        self.entries[href] = Entry(uid, etag, content, by, completed, render)
        self._touch(href)
        return etag

    # the server API ---------------------------------------------------------------
    def valid(self, token: str | None) -> bool:
        if not token or not token.startswith("t") or not token[1:].isdigit():
            return False
        return self._oldest_token <= int(token[1:]) <= self._seq

    def listing(self, token: str | None) -> Listing:
        """Changed and deleted hrefs since `token`; everything (full) when it is None or
        no longer valid."""
        self._call("REPORT", self.collection)
        if not self.valid(token):
            return Listing({h: e.etag for h, e in self.entries.items()}, set(), self.token, True)
        assert token is not None
        since = int(token[1:])
        moved = [h for h, seq in self._changed_at.items() if seq > since]
        changed = {h: self.entries[h].etag for h in moved if h in self.entries}
        return Listing(changed, {h for h in moved if h not in self.entries}, self.token, False)

    def get(self, href: str) -> Entry | None:
        self._call("GET", href)
        return self.entries.get(href)

    def put(self, href: str, uid: str, content: Any, *, if_match: str | None = None,
            if_none_match: bool = False, render: int = 0) -> str:  # fmt: skip
        """Create (`if_none_match`) or replace (`if_match`: an ETag or "*"); the new ETag.
        Raises Conflict (HTTP 412) when the precondition fails."""
        lost = self._call("PUT", href)
        old = self.entries.get(href)
        if (if_none_match and old is not None) or (
            if_match is not None and (old is None or if_match not in ("*", old.etag))
        ):
            if lost:  # the 412 itself was lost
                raise self._lost("PUT", href)
            raise Conflict(f"PUT {href}: HTTP 412")
        etag = self._store(href, uid, content, SYNCNET, render=render)
        if lost:
            raise self._lost("PUT", href)
        return etag

    def remove(self, href: str, *, if_match: str | None = None) -> bool:
        """Delete; False when it was already gone. Conflict when `if_match` is stale."""
        lost = self._call("DELETE", href)
        old = self.entries.get(href)
        if old is None:
            if lost:
                raise self._lost("DELETE", href)
            return False
        if if_match is not None and if_match not in ("*", old.etag):
            if lost:
                raise self._lost("DELETE", href)
            raise Conflict(f"DELETE {href}: HTTP 412")
        if old.by == USER and not old.completed:  # a ticked-off item may go (docs/sync.md)
            self.clobbered.append(("DELETE", href, old))
        if old.by == USER and old.completed:
            self.completed_removed.append(href)
        del self.entries[href]
        self._touch(href)
        if lost:
            raise self._lost("DELETE", href)
        return True

    # the user API (a phone) ----------------------------------------------------------
    def user_edit(self, href: str, summary: str | None = None) -> str:
        """The user changes an item's text; returns its new ETag."""
        old = self.entries[href]
        base = old.item
        assert base is not None, "only items, not raw bodies, can be edited here"
        new = dataclasses.replace(base, summary=summary or f"{base.summary} (moved by me)")
        return self._store(href, old.uid, new, USER, old.completed)

    def user_replace(self, href: str, content: Any) -> str:
        """The user's client writes a new version (e.g. raw iCalendar bytes)."""
        old = self.entries[href]
        return self._store(href, old.uid, content, USER, old.completed)

    def user_complete(self, href: str) -> str:
        """The user ticks the item off (a VTODO marked COMPLETED)."""
        old = self.entries[href]
        return self._store(href, old.uid, old.content, USER, completed=True, render=old.render)

    def user_reopen(self, href: str, *, as_written: bool) -> str:
        """The user unticks an item; returns its new ETag. `as_written`: nothing else
        changed since syncnet wrote it, so what is left is syncnet's version again (a
        read-back cannot tell it from what syncnet wrote, and syncnet may rewrite it)."""
        old = self.entries[href]
        assert old.completed, href
        etag = self._new_etag()
        self.entries[href] = dataclasses.replace(old, etag=etag, completed=False,
                                                 by=SYNCNET if as_written else USER)  # fmt: skip
        self._touch(href)
        return etag

    def user_delete(self, href: str) -> None:
        del self.entries[href]
        self._touch(href)

    def user_add(self, summary: str = "Dentist", due: date = date(2026, 12, 3)) -> str:
        """The user adds an item of their own; returns its href."""
        self._own += 1
        uid = f"own-{self._own}@phone"
        item = CalendarItem(uid, f"own:{self._own}", "own", "", due, due, summary, "")
        href = f"{self.collection}own-{self._own}.ics"
        self._store(href, uid, item, USER)
        return href


def content_print(entry: Entry) -> str:
    """What an entry says, as the CalDAV port's fingerprint would see it."""
    item = entry.item
    what = item.content_hash if item is not None else f"bytes:{hash(entry.content)}"
    return f"{what}:{'done' if entry.completed else 'open'}"


class MemoryPort:
    """`CalendarPort` over a MemoryCalendar. `etags=False`: a server that answers a PUT
    without an ETag (the engine must then learn it from the next listing). `render`: the
    version of the rendering it writes with (each entry remembers it)."""

    edited_elsewhere = True  # the user's phone edits the same calendar

    def __init__(self, calendar: MemoryCalendar, *, etags: bool = True) -> None:
        self.calendar = calendar
        self.etags = etags
        self.render = 0
        self.listings: list[bool] = []  # per changes_since: was a change unlikely?
        self.closed = 0
        self._requests_base = 0

    @property
    def requests(self) -> int:
        """Server calls so far (the protocol's request count)."""
        return len(self.calendar.calls) - self._requests_base

    @requests.setter
    def requests(self, value: int) -> None:
        self._requests_base = len(self.calendar.calls) - value

    def changes_since(self, cursor: str | None, *, likely_unchanged: bool = False) -> RemoteChanges:
        self.listings.append(likely_unchanged)
        got = self.calendar.listing(cursor)
        return RemoteChanges(dict(got.changed), set(got.deleted), got.token, got.full)

    def href_for(self, uid: str) -> str:
        return f"{self.calendar.collection}{uid.split('@')[0]}.ics"

    def create(self, href: str, item: StampedItem) -> str | None:
        # A 412 (something is there) goes to the engine, as with the CalDAV port.
        etag = self.calendar.put(href, item.item.uid, item, if_none_match=True, render=self.render)
        return etag if self.etags else None

    def update(self, href: str, etag: str | None, item: StampedItem) -> str | None:
        new = self.calendar.put(href, item.item.uid, item, if_match=etag or "*", render=self.render)
        return new if self.etags else None

    def delete(self, href: str, etag: str | None) -> None:
        self.calendar.remove(href, if_match=etag)

    def read(self, href: str) -> Seen | None:
        entry = self.calendar.get(href)
        if entry is None:
            return None
        done = "" if entry.completed else None  # ticked off without a date (the sync day)
        return Seen(entry.etag if self.etags else None, content_print(entry), done)

    def read_many(self, hrefs: Sequence[str]) -> dict[str, Seen | None]:
        return {h: self.read(h) for h in hrefs}  # each a server call: faults hit it as they would

    def fingerprint(self, item: StampedItem) -> str:
        return f"{item.item.content_hash}:open"

    def finish(self, items: Sequence[StampedItem]) -> dict[str, Any]:
        return {}  # nothing is written whole

    def close(self) -> None:
        self.closed += 1


def stamped(key: str, summary: str, due: date, *, sequence: int = 0, rule: str = "promise",
            contact_id: str = "c0") -> StampedItem:  # fmt: skip
    """A stamped calendar item as the agenda would give it (tests build them by hand)."""
    item = CalendarItem(uid_for(key), key, rule, contact_id, due, due, summary, f"{summary}.")
    return StampedItem(item, Stamp(item.content_hash, sequence, STAMPED_AT))
