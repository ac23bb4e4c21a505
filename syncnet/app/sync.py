"""The sync engine: make a calendar target hold exactly the desired reminders.

It compares what should be there (stamped calendar items) with what it last
wrote there (per UID: href, ETag, content hash) and sends only the difference.
Change detection is incremental (a sync token or ctag), so a sync with nothing
to do costs one request: when the agenda is unchanged the engine tells the port a
change is unlikely, and a CalDAV port then asks only for the collection's ctag.

Conflict policy (docs/sync.md): the user's calendar wins. A reminder edited on the
server is left as the user made it for that occurrence (syncnet stops updating and
deleting it); one deleted on the server is not re-created. Both are recorded.
One thing outranks the user's version: an erasure. Every item of a contact the user
forgot (`syncnet forget`) leaves the target, edited or ticked off, reported as deleted
with the result "forgotten". syncnet never deletes an item it did not create, and
refuses to empty a calendar because the agenda came out empty unless forced.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from syncnet.errors import Conflict, Refused, TargetDown, TargetError

if TYPE_CHECKING:
    from syncnet.domain.reminders import StampedItem

OURS, USER_CHANGED, USER_DELETED = "ours", "user-changed", "user-deleted"
COMPLETED, REOPENED = "completed", "reopened"  # a client ticked a reminder off, or unticked it
NOT_TAKEN_IN = "not-taken-in"  # a completion that records no fact (calendars.take_in_completions)
FORGOTTEN = "forgotten"  # the result of a deletion because its contact was forgotten (`erased`)
# what reports count
COUNTED = ("created", "updated", "deleted", USER_CHANGED, USER_DELETED, COMPLETED, REOPENED, NOT_TAKEN_IN)


@dataclass
class RemoteChanges:
    """What changed on the target since a cursor. `full`: `changed` lists every item."""

    changed: dict[str, str | None] = field(default_factory=dict)  # href -> etag
    deleted: set[str] = field(default_factory=set)
    cursor: str | None = None
    full: bool = False


@dataclass(frozen=True)
class Seen:
    """An item as read back from the target: its ETag, the fingerprint of its content, and
    whether a client marked it done (`completed`: the moment as the client says it, "" for
    done without a date, None for not done; adapters/ics.py `completion`)."""

    etag: str | None
    fingerprint: str
    completed: str | None = None


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

    def read(self, href: str) -> Seen | None:
        """The item at `href` as the target holds it now; None when there is none."""
        ...

    def read_many(self, hrefs: Sequence[str]) -> dict[str, Seen | None]:
        """`read` for each of `hrefs`, in as few requests as the target allows."""
        ...

    def fingerprint(self, item: StampedItem) -> str:
        """The fingerprint `read` gives for the item as this port writes it."""
        ...

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
    pending: str | None = None  # "create" | "update" | "delete": written, outcome not yet known
    expect: str | None = None  # the fingerprint of what the pending write puts there
    written: str | None = None  # the fingerprint of what syncnet last wrote there (known to be)
    completed: str | None = None  # a client's completion, taken in (see `_took_in`)
    completed_on: str | None = None  # the day the fact it became is dated (calendars.py)
    retract: str | None = None  # a completion unticked since, whose fact is still to be retracted


@dataclass
class TargetState:
    cursor: str | None = None
    items: dict[str, ItemState] = field(default_factory=dict)
    collection: str | None = None  # the discovered collection URL, so a sync need not rediscover
    agenda_key: str | None = None  # the agenda the last complete sync wrote (see calendars.py)
    store: str | None = None  # which store the last complete sync was made from (an opaque id)
    facts: int = 0  # how many facts that store held then

    def to_json(self) -> dict[str, object]:
        # Copies of the items, not views of them: the service compares a snapshot taken
        # before the sync with one taken after, to know whether to save.
        return {"cursor": self.cursor, "collection": self.collection, "agenda_key": self.agenda_key,
                "store": self.store, "facts": self.facts,
                "items": {u: dict(vars(s)) for u, s in self.items.items()}}  # fmt: skip

    @staticmethod
    def from_json(data: dict[str, object] | None) -> TargetState:
        if not data:
            return TargetState()
        items = data.get("items") or {}
        assert isinstance(items, dict)
        cursor, collection, key = data.get("cursor"), data.get("collection"), data.get("agenda_key")
        store, facts = data.get("store"), data.get("facts")
        return TargetState(
            cursor if isinstance(cursor, str) else None,
            {u: ItemState(**s) for u, s in items.items()},
            collection if isinstance(collection, str) else None,
            key if isinstance(key, str) else None,
            store if isinstance(store, str) else None,
            facts if isinstance(facts, int) else 0,
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


def _resolve(st: ItemState, seen: Seen | None) -> str:
    """What a read-back says about an item of ours whose last write has an unknown outcome
    (or whose ETag moved): "ours" (it holds what syncnet wrote or meant to write),
    "not-applied" (a pending write did not arrive: it holds what syncnet wrote before),
    "gone", or "user" (anything else). The content decides, never the ETag alone."""
    if seen is None:
        return "gone"
    if st.pending == "update" and st.expect == st.written == seen.fingerprint:
        # A rewrite of the same content (a new render version): whether it arrived cannot
        # be told, and writing it again is harmless, so it counts as not arrived.
        return "not-applied"
    if st.expect is not None and seen.fingerprint == st.expect:
        return "ours"
    if st.written is not None and seen.fingerprint == st.written:
        return "not-applied" if st.pending else "ours"
    return "user"


def _settle(uid: str, st: ItemState, verdict: str, seen: Seen | None, state: TargetState,
            report: Report) -> None:  # fmt: skip
    """Bring an item's state in line with a verdict of `_resolve` (or "never-sent": the
    server did not change at that href since the write was planned)."""
    pending, st.pending = st.pending, None
    if seen is not None:
        st.etag = seen.etag
    if verdict == "ours":
        if st.expect is not None and seen is not None and seen.fingerprint == st.expect:
            st.written = st.expect
        st.expect = None
    elif verdict in ("not-applied", "never-sent"):
        st.expect = None
        if pending == "create":
            del state.items[uid]  # never created: created again if still due
        elif pending == "update":
            st.content_hash = ""  # planned again
    elif verdict == "gone":
        st.expect = None
        if pending in ("delete", "create"):
            # our delete went through, or our create never arrived (created again if due)
            del state.items[uid]
        else:
            st.status = USER_DELETED
            report.actions.append(Action(USER_DELETED, uid, st.contact_id, None, "not re-created"))
    else:
        st.expect = None
        st.status = USER_CHANGED
        report.actions.append(Action(USER_CHANGED, uid, st.contact_id, None, "kept the server's version"))
    if uid in state.items:  # whatever the verdict, a client may have ticked it off
        _took_in(uid, st, seen, report)


def _took_in(uid: str, st: ItemState, seen: Seen | None, report: Report) -> None:
    """A reminder of ours that a client ticked off (or unticked): reported, for the
    calendars service to record the fact the reminder asked for (or retract it). The
    item is the user's from then on: syncnet neither rewrites nor deletes it."""
    if seen is None or st.status == USER_DELETED:
        return
    if seen.completed is not None and st.completed is None:
        # syncnet never writes a completed reminder: a client did, even when what it
        # changed is not part of the fingerprint (PERCENT-COMPLETE alone)
        st.status, st.completed = USER_CHANGED, seen.completed
        report.actions.append(Action(COMPLETED, uid, st.contact_id, None, seen.completed))
    elif seen.completed is None and st.completed is not None:
        report.actions.append(Action(REOPENED, uid, st.contact_id, None, st.completed))
        # kept until its fact is retracted, so that a crash before that does not lose it
        st.retract, st.completed, st.completed_on = st.completed, None, None


def _settle_pending(state: TargetState, changes: RemoteChanges, report: Report, port: CalendarPort) -> None:
    """Writes planned by an interrupted sync: the listing since the cursor saved with the
    intent says which hrefs changed; only those are read back."""
    for uid, st in list(state.items.items()):
        if st.pending == "delete" and st.status == USER_CHANGED:
            # An erasure's delete (reconcile, `erased`): gone since, it arrived (or the user
            # deleted it too, the same outcome); still there, it is deleted again.
            st.pending = None
            if st.href in changes.deleted or (changes.full and st.href not in changes.changed):
                del state.items[uid]
                report.actions.append(Action("deleted", uid, st.contact_id, None, FORGOTTEN))
            continue
        if not st.pending or st.status != OURS:
            continue
        if st.href in changes.changed:
            seen = port.read(st.href)
            verdict = _resolve(st, seen)
            if verdict == "gone" and st.pending == "create" and st.href in changes.deleted:
                verdict = "user-deleted"  # it arrived, and the user deleted it since
        elif changes.full or st.href in changes.deleted:
            seen, verdict = None, "gone"
            if st.pending == "create" and st.href in changes.deleted:
                seen, verdict = None, "user-deleted"
        else:
            seen, verdict = None, "never-sent"
        if verdict == "user-deleted":
            st.pending, st.expect, st.status = None, None, USER_DELETED
            report.actions.append(Action(USER_DELETED, uid, st.contact_id, None, "not re-created"))
            continue
        _settle(uid, st, verdict, seen, state, report)


def _apply_remote(state: TargetState, changes: RemoteChanges, ours: set[str], report: Report,
                  port: CalendarPort) -> None:  # fmt: skip
    """Fold server-side changes into the state: the user's edits win. An item of ours
    whose ETag moved, or whose last write had an unknown outcome, is read back and
    judged by its content: syncnet's own write is never taken for the user's."""
    _settle_pending(state, changes, report, port)
    by_href = {s.href: uid for uid, s in state.items.items()}
    gone = set(changes.deleted)
    if changes.full:
        gone |= {s.href for s in state.items.values() if s.href not in changes.changed}
    # Items of ours that moved are read back, all at once (one multiget on CalDAV): a
    # phone that ticked off a hundred reminders costs one request, not a hundred.
    moved = [href for href, etag in changes.changed.items()
             if href not in ours and (s := state.items.get(by_href.get(href, ""))) is not None
             and ((s.status == OURS and s.written is not None and (s.etag is None or etag != s.etag))
                  or (s.status == USER_CHANGED and etag != s.etag))]  # fmt: skip
    read = port.read_many(moved) if moved else {}
    for href, etag in changes.changed.items():
        uid = by_href.get(href)
        if uid is None:
            continue
        s = state.items[uid]
        if href in ours:
            s.etag = etag or s.etag  # our own write, seen again
        elif s.status == OURS and (s.etag is None or etag != s.etag):
            if s.written is None and s.etag is None:
                s.etag = etag  # a state from before read-backs: its ETag was not returned
            elif s.written is None:
                s.status, s.etag = USER_CHANGED, etag
                report.actions.append(Action(USER_CHANGED, uid, s.contact_id, None,
                                             "kept the server's version"))  # fmt: skip
            else:
                seen = read[href]
                _settle(uid, s, _resolve(s, seen), seen, state, report)
        elif s.status == USER_CHANGED and etag != s.etag:
            # The user's item changed again: ticked off, or unticked, since.
            seen = read[href]
            if seen is not None:
                s.etag = seen.etag
                _took_in(uid, s, seen, report)
    for href in gone:
        uid = by_href.get(href)
        if uid is not None and uid in state.items and state.items[uid].status != USER_DELETED:
            s = state.items[uid]
            s.status = USER_DELETED
            report.actions.append(Action(USER_DELETED, uid, s.contact_id, None, "not re-created"))


def _erase(port: CalendarPort, st: ItemState) -> bool:
    """Delete an item of a forgotten contact, whichever version is there: with If-Match on
    the version last seen, and, answered 412 (changed since), on the version read back
    then. True when it is gone; False when it changed once more in between (`st` then
    knows its ETag, and the next sync tries again)."""
    try:
        port.delete(st.href, st.etag)
        return True
    except Conflict:
        pass
    seen = port.read(st.href)
    if seen is None:
        return True
    try:
        port.delete(st.href, seen.etag)
    except Conflict:
        st.etag, st.pending = seen.etag, None
        return False
    return True


SAVE_EVERY = 25  # writes between two saves of the state during a sync


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
    save: Callable[[TargetState], None] | None = None,
    refuse_deletes: str | None = None,
    report: Report | None = None,
    drop_completed: Callable[[ItemState], bool] | None = None,
    erased: Collection[str] = frozenset(),
) -> Report:
    """One sync of one target. Mutates `state` to what the target now holds.

    `desired` None means: the agenda is the one the last complete sync wrote, so
    only the server's changes are to be taken in (the daemon's common case).
    `render_version`: items of ours written by another version are rewritten.

    Intent before effect: before the first write, every planned write is recorded in
    the state (`pending`, with the content it will write) and `save` makes it durable;
    it is saved again every SAVE_EVERY writes. A write whose outcome is unknown (a lost
    response, a timeout, a 412 right after a write of ours) stays pending and is settled
    by reading the item back, here or at the next sync.

    `refuse_deletes`: a reason to delete nothing of ours (the store looks wrong for this
    target); `force` overrides it. `report`: filled in as the sync goes, so that a caller
    still has what was done when the sync fails half-way.
    `drop_completed`: which reminders a client ticked off (no longer due) syncnet removes
    now (the target's `completed` setting); the others stay, the user's.
    `erased`: the ids of contacts forgotten (`syncnet forget`). Every item of theirs
    that syncnet wrote leaves the target, those the user changed or ticked off too (an
    erasure outranks "the user's calendar wins"), each reported as "deleted" with the
    result FORGOTTEN; one the user deleted leaves the state. Their deletes are recorded
    as intents first, like any other write.
    """
    report = report if report is not None else Report(name, dry_run=dry_run)
    before = state.cursor
    unsettled = any(s.pending for s in state.items.values())
    changes = port.changes_since(before, likely_unchanged=desired is None and not unsettled)
    if desired is None:
        _apply_remote(state, changes, set(), report, port)
        state.cursor = changes.cursor
        return report
    if changes.full:
        # Adopt items at our own hrefs (a lost state, or a sync interrupted mid-way).
        for s_item in desired:
            uid = s_item.item.uid
            href = port.href_for(uid)
            if uid not in state.items and href in changes.changed:
                state.items[uid] = ItemState(href, changes.changed[href], "", OURS, s_item.item.contact_id)
    _apply_remote(state, changes, set(), report, port)
    state.cursor = changes.cursor

    wanted = {s.item.uid: s for s in desired}
    creates = [s for uid, s in wanted.items() if uid not in state.items]
    updates = [s for uid, s in wanted.items()
               if uid in state.items and stale(state.items[uid], s, render_version)]  # fmt: skip
    deletes = [uid for uid, s in state.items.items() if uid not in wanted]
    ours_left = [uid for uid in deletes if state.items[uid].status == OURS]
    # the user's versions of items of forgotten contacts: they go too
    erasing = [uid for uid in deletes if state.items[uid].status == USER_CHANGED
               and state.items[uid].contact_id in erased]  # fmt: skip
    if refuse_deletes and (ours_left or erasing) and not force:
        raise Refused(f"target {name}: {refuse_deletes}; refusing to delete {len(ours_left) + len(erasing)} "
                      "reminders from syncnet (use --force)")  # fmt: skip

    def why(st: ItemState) -> str:
        return FORGOTTEN if st.contact_id in erased else "ok"

    if dry_run:
        report.actions += [Action("created", s.item.uid, s.item.contact_id, s.item.summary) for s in creates]
        report.actions += [Action("updated", s.item.uid, s.item.contact_id, s.item.summary) for s in updates]
        report.actions += [Action("deleted", uid, state.items[uid].contact_id, None, why(state.items[uid]))
                           for uid in ours_left + erasing]  # fmt: skip
        return report

    # Intent before effect: what is about to be written is durable before it is written.
    for s in creates:
        item = s.item
        state.items[item.uid] = ItemState(port.href_for(item.uid), None, s.stamp.content_hash, OURS,
                                          item.contact_id, render_version, "create",
                                          port.fingerprint(s))  # fmt: skip
    for s in updates:
        st = state.items[s.item.uid]
        # Recorded as if done: should the answer be lost and the read-back find the new
        # content, nothing is left to redo; should it find the old one, the hash is cleared.
        st.pending, st.expect = "update", port.fingerprint(s)
        st.content_hash, st.render = s.stamp.content_hash, render_version
    for uid in ours_left + erasing:
        state.items[uid].pending = "delete"
    if save is not None and (creates or updates or ours_left or erasing):
        save(state)

    written: set[str] = set()
    done = 0
    unfinished = 0  # writes answered 412 although nothing of anyone's was in the way

    def wrote(href: str) -> None:
        nonlocal done
        written.add(href)
        done += 1
        if save is not None and done % SAVE_EVERY == 0:
            save(state)

    def catch_up() -> None:
        """The changes since the cursor, our own writes among them, folded in."""
        after = port.changes_since(state.cursor)
        _apply_remote(state, after, written, report, port)
        state.cursor = after.cursor

    def lost(uid: str, st: ItemState, kind: str, summary: str | None, result: str = "ok") -> str | None:
        """A write whose answer never came: read the item back at once, before anyone else
        can have touched it (a later listing may not show an item created and deleted
        since), and settle what it says; the caller then fails the sync (it is retried).
        Returns the verdict, or None when it stays pending for the next sync."""
        try:
            seen = port.read(st.href)
        except TargetError:
            return None  # still unreachable: the next sync settles it
        verdict = _resolve(st, seen)
        if verdict == "user":
            return None  # someone else's already: the next sync judges it from its listing
        _settle(uid, st, verdict, seen, state, report)
        if verdict == "ours" or (verdict == "gone" and kind == "deleted"):
            written.add(st.href)
            report.actions.append(Action(kind, uid, st.contact_id, summary, result))
        # Move the cursor past what is settled, so that a later change shows as one.
        with suppress(TargetError):
            catch_up()
        return verdict

    for n, s in enumerate(creates, 1):
        item = s.item
        st = state.items[item.uid]
        try:
            etag = port.create(st.href, s)
        except TargetDown:
            lost(item.uid, st, "created", item.summary)
            raise
        except Conflict:  # 412: something is there already; is it our earlier write?
            seen = port.read(st.href)
            verdict = _resolve(st, seen)
            if verdict == "gone":  # nothing there after all (a spurious 412): once more
                try:
                    etag = port.create(st.href, s)
                except Conflict:
                    seen = port.read(st.href)
                    verdict = _resolve(st, seen)
                else:
                    verdict, seen = "ours", Seen(etag, st.expect or "")
            unfinished += verdict == "gone"
            _settle(item.uid, st, verdict, seen, state, report)
            if verdict == "ours":
                wrote(st.href)
                report.actions.append(Action("created", item.uid, item.contact_id, item.summary))
            continue
        st.etag, st.pending, st.written, st.expect = etag, None, st.expect, None
        wrote(st.href)
        report.actions.append(Action("created", item.uid, item.contact_id, item.summary))
        if on_progress:
            on_progress(n)
    for s in updates:
        st = state.items[s.item.uid]
        if st.status != OURS:
            continue
        try:
            st.etag = port.update(st.href, st.etag, s)
        except TargetDown:
            if lost(s.item.uid, st, "updated", s.item.summary) == "ours":
                st.content_hash, st.render = s.stamp.content_hash, render_version
            raise
        except Conflict:  # 412: whose version is there, ours (a lost answer) or the user's?
            seen = port.read(st.href)
            verdict = _resolve(st, seen)
            if verdict == "not-applied" and seen is not None:  # ours, only its ETag moved: once more
                try:
                    verdict, seen = "ours", Seen(port.update(st.href, seen.etag, s), st.expect or "")
                except Conflict:
                    seen = port.read(st.href)
                    verdict = _resolve(st, seen)
            unfinished += verdict == "not-applied"
            _settle(s.item.uid, st, verdict, seen, state, report)
            if verdict == "ours":
                st.content_hash, st.render = s.stamp.content_hash, render_version
                wrote(st.href)
                report.actions.append(Action("updated", s.item.uid, s.item.contact_id, s.item.summary))
            continue
        st.content_hash, st.render = s.stamp.content_hash, render_version
        st.pending, st.written, st.expect = None, st.expect, None
        wrote(st.href)
        report.actions.append(Action("updated", s.item.uid, s.item.contact_id, s.item.summary))
    for uid in deletes:
        st = state.items[uid]
        if st.status == USER_CHANGED and st.contact_id in erased:
            # The user asked to forget this person: their version goes too, whatever it is
            # now. Cut short (TargetDown), the intent stays for the next sync to settle.
            if not _erase(port, st):
                continue  # changed again at this very moment: the next sync deletes it
            wrote(st.href)
            report.actions.append(Action("deleted", uid, st.contact_id, None, FORGOTTEN))
            del state.items[uid]
            continue
        if st.status == USER_CHANGED:
            # The user owns this occurrence now; one they ticked off goes when it is old
            # enough, unless they changed it again since (If-Match).
            if st.completed is not None and drop_completed is not None and drop_completed(st):
                try:
                    port.delete(st.href, st.etag)
                except Conflict:
                    continue
                wrote(st.href)
                report.actions.append(Action("deleted", uid, st.contact_id, None, "completed"))
                del state.items[uid]
            continue
        if st.status == OURS:
            try:
                port.delete(st.href, st.etag)
            except TargetDown:
                lost(uid, st, "deleted", None, why(st))
                raise
            except Conflict:
                st.pending = None
                seen = port.read(st.href)
                verdict = _resolve(st, seen)
                if verdict == "ours" and seen is not None:
                    port.delete(st.href, seen.etag)  # only its ETag moved: still ours
                elif verdict == "user" and seen is not None and st.contact_id in erased:
                    # the user's edit, racing the erasure: it goes too
                    st.status, st.etag, st.pending = USER_CHANGED, seen.etag, "delete"
                    if not _erase(port, st):
                        continue
                elif verdict == "user":
                    st.status = USER_CHANGED
                    st.etag = None if seen is None else seen.etag  # the user's version, as known
                    report.actions.append(Action(USER_CHANGED, uid, st.contact_id, None,
                                                 "changed on the server: not deleted"))  # fmt: skip
                    continue
            wrote(st.href)
            report.actions.append(Action("deleted", uid, st.contact_id, None, why(st)))
        del state.items[uid]

    if written:
        # Our own writes moved the cursor: catch up with them so the next sync is a no-op.
        catch_up()
    if unfinished:
        # Not done: fail, so that the sync is retried (and shown in status), not taken as complete.
        raise TargetDown(f"target {name}: {unfinished} write(s) answered 412 with nothing of anyone's "
                         "in the way; retrying later")  # fmt: skip
    return report
