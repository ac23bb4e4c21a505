"""The sync engine: make a calendar target hold exactly the desired reminders.

It compares what should be there (stamped calendar items) with what it last
wrote there (per UID: href, ETag, content hash) and sends only the difference.
Change detection is incremental (a sync token or ctag), so a sync with nothing
to do costs one request: when the agenda is unchanged the engine tells the port a
change is unlikely, and a CalDAV port then asks only for the collection's ctag.

Conflict policy (docs/sync.md): the user's calendar wins. A reminder edited on the
server is left as the user made it for that occurrence (syncnet stops updating and
deleting it); one deleted on the server is not re-created. Both are recorded.
syncnet never deletes an item it did not create, and refuses to empty a calendar
because the agenda came out empty unless forced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from syncnet.errors import Conflict, Refused

if TYPE_CHECKING:
    from syncnet.domain.reminders import StampedItem

OURS, USER_CHANGED, USER_DELETED = "ours", "user-changed", "user-deleted"


@dataclass
class RemoteChanges:
    """What changed on the target since a cursor. `full`: `changed` lists every item."""

    changed: dict[str, str | None] = field(default_factory=dict)  # href -> etag
    deleted: set[str] = field(default_factory=set)
    cursor: str | None = None
    full: bool = False


class CalendarPort(Protocol):
    """A calendar target as the engine sees it (adapters implement it)."""

    # True when the target can change behind syncnet's back (a CalDAV server): with
    # the agenda unchanged, a sync then asks only for its changes. False for a file
    # that syncnet rewrites whole (`finish`).
    edited_elsewhere: bool
    requests: int  # requests sent so far (0 for a file)

    def changes_since(self, cursor: str | None, *, likely_unchanged: bool = False) -> RemoteChanges:
        """What changed since `cursor`. `likely_unchanged`: the caller expects nothing
        (a no-op sync), so the cheapest confirmation is worth an extra request when wrong."""
        ...

    def href_for(self, uid: str) -> str: ...
    def create(self, href: str, item: StampedItem) -> str | None: ...
    def update(self, href: str, etag: str | None, item: StampedItem) -> str | None: ...
    def delete(self, href: str, etag: str | None) -> None: ...

    def finish(self, items: Sequence[StampedItem]) -> dict[str, Any]:
        """After a complete sync that computed the items: write what is written whole
        (a file); returns details for the report (e.g. the path)."""
        ...

    def close(self) -> None: ...


@dataclass
class ItemState:
    href: str
    etag: str | None
    content_hash: str
    status: str = OURS
    contact_id: str | None = None
    render: int = 1  # the render version that wrote it (states from before versions: 1)


@dataclass
class TargetState:
    cursor: str | None = None
    items: dict[str, ItemState] = field(default_factory=dict)
    collection: str | None = None  # the discovered collection URL, so a sync need not rediscover
    agenda_key: str | None = None  # the agenda the last complete sync wrote (see calendars.py)

    def to_json(self) -> dict[str, object]:
        # Copies of the items, not views of them: the service compares a snapshot taken
        # before the sync with one taken after, to know whether to save.
        return {"cursor": self.cursor, "collection": self.collection, "agenda_key": self.agenda_key,
                "items": {u: dict(vars(s)) for u, s in self.items.items()}}  # fmt: skip

    @staticmethod
    def from_json(data: dict[str, object] | None) -> TargetState:
        if not data:
            return TargetState()
        items = data.get("items") or {}
        assert isinstance(items, dict)
        cursor, collection, key = data.get("cursor"), data.get("collection"), data.get("agenda_key")
        return TargetState(
            cursor if isinstance(cursor, str) else None,
            {u: ItemState(**s) for u, s in items.items()},
            collection if isinstance(collection, str) else None,
            key if isinstance(key, str) else None,
        )


def stale(st: ItemState, s: StampedItem, render_version: int) -> bool:
    """An item of ours whose content, or the version of the rendering that wrote it,
    is not what syncnet writes now."""
    return st.status == OURS and (st.content_hash != s.stamp.content_hash or st.render != render_version)


def pending(desired: Sequence[StampedItem], state: TargetState, render_version: int) -> dict[str, int]:
    """What a sync would send, judged from the local state alone (no request)."""
    wanted = {s.item.uid: s for s in desired}
    out = {"create": 0, "update": 0, "delete": 0}
    for uid, s in wanted.items():
        st = state.items.get(uid)
        if st is None:
            out["create"] += 1
        elif stale(st, s, render_version):
            out["update"] += 1
    out["delete"] = sum(1 for u, st in state.items.items() if u not in wanted and st.status == OURS)
    return out


@dataclass(frozen=True)
class Action:
    action: str  # created | updated | deleted | user-changed | user-deleted | gone
    uid: str
    contact_id: str | None
    summary: str | None
    result: str = "ok"


@dataclass
class Report:
    target: str
    actions: list[Action] = field(default_factory=list)
    dry_run: bool = False

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.action == action)


def _apply_remote(state: TargetState, changes: RemoteChanges, ours: set[str], report: Report) -> None:
    """Fold server-side changes into the state: the user's edits win."""
    by_href = {s.href: uid for uid, s in state.items.items()}
    gone = set(changes.deleted)
    if changes.full:
        gone |= {s.href for s in state.items.values() if s.href not in changes.changed}
    for href, etag in changes.changed.items():
        uid = by_href.get(href)
        if uid is None:
            continue
        s = state.items[uid]
        if href in ours or s.etag is None:
            s.etag = etag or s.etag  # our own write, seen again (or its ETag was not returned)
        elif etag != s.etag and s.status == OURS:
            s.status, s.etag = USER_CHANGED, etag
            report.actions.append(Action(USER_CHANGED, uid, s.contact_id, None, "kept the server's version"))
    for href in gone:
        uid = by_href.get(href)
        if uid is not None and state.items[uid].status != USER_DELETED:
            s = state.items[uid]
            s.status = USER_DELETED
            report.actions.append(Action(USER_DELETED, uid, s.contact_id, None, "not re-created"))


def reconcile(
    name: str,
    port: CalendarPort,
    desired: Sequence[StampedItem] | None,
    state: TargetState,
    *,
    force: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
    render_version: int = 0,
) -> Report:
    """One sync of one target. Mutates `state` to what the target now holds.

    `desired` None means: the agenda is the one the last complete sync wrote, so
    only the server's changes are to be taken in (the daemon's common case).
    `render_version`: items of ours written by another version are rewritten.
    """
    report = Report(name, dry_run=dry_run)
    before = state.cursor
    changes = port.changes_since(before, likely_unchanged=desired is None)
    if desired is None:
        _apply_remote(state, changes, set(), report)
        state.cursor = changes.cursor
        return report
    if changes.full:
        # Adopt items at our own hrefs (a lost state, or a sync interrupted mid-way).
        for s_item in desired:
            uid = s_item.item.uid
            href = port.href_for(uid)
            if uid not in state.items and href in changes.changed:
                state.items[uid] = ItemState(href, changes.changed[href], "", OURS, s_item.item.contact_id)
    _apply_remote(state, changes, set(), report)
    state.cursor = changes.cursor

    wanted = {s.item.uid: s for s in desired}
    creates = [s for uid, s in wanted.items() if uid not in state.items]
    updates = [s for uid, s in wanted.items()
               if uid in state.items and stale(state.items[uid], s, render_version)]  # fmt: skip
    deletes = [uid for uid, s in state.items.items() if uid not in wanted]
    ours_left = [uid for uid in deletes if state.items[uid].status == OURS]
    if not wanted and ours_left and not force:
        raise Refused(
            f"target {name}: the agenda is empty but the calendar holds {len(ours_left)} "
            "reminders from syncnet; refusing to delete them all (use --force)"
        )
    if dry_run:
        report.actions += [Action("created", s.item.uid, s.item.contact_id, s.item.summary) for s in creates]
        report.actions += [Action("updated", s.item.uid, s.item.contact_id, s.item.summary) for s in updates]
        report.actions += [Action("deleted", uid, state.items[uid].contact_id, None) for uid in ours_left]
        return report

    written: set[str] = set()
    for done, s in enumerate(creates, 1):
        item = s.item
        href = port.href_for(item.uid)
        etag = port.create(href, s)
        state.items[item.uid] = ItemState(href, etag, s.stamp.content_hash, OURS, item.contact_id,
                                          render_version)  # fmt: skip
        written.add(href)
        report.actions.append(Action("created", item.uid, item.contact_id, item.summary))
        if on_progress:
            on_progress(done)
    for s in updates:
        st = state.items[s.item.uid]
        try:
            st.etag = port.update(st.href, st.etag, s)
            st.content_hash, st.render = s.stamp.content_hash, render_version
            written.add(st.href)
            report.actions.append(Action("updated", s.item.uid, s.item.contact_id, s.item.summary))
        except Conflict:
            st.status = USER_CHANGED
            report.actions.append(Action(USER_CHANGED, s.item.uid, st.contact_id, s.item.summary,
                                         "changed on the server: kept the server's version"))  # fmt: skip
    for uid in deletes:
        st = state.items[uid]
        if st.status == USER_CHANGED:
            continue  # the user owns this occurrence now
        if st.status == OURS:
            try:
                port.delete(st.href, st.etag)
                written.add(st.href)
                report.actions.append(Action("deleted", uid, st.contact_id, None))
            except Conflict:
                st.status = USER_CHANGED
                report.actions.append(Action(USER_CHANGED, uid, st.contact_id, None,
                                             "changed on the server: not deleted"))  # fmt: skip
                continue
        del state.items[uid]

    if written:
        # Our own writes moved the cursor: catch up with them so the next sync is a no-op.
        after = port.changes_since(state.cursor)
        _apply_remote(state, after, written, report)
        state.cursor = after.cursor
    return report
