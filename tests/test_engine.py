"""The sync engine (`syncnet.app.sync.reconcile`) against an in-memory calendar.

Examples first: create, update and delete; a sync with nothing to do sends nothing; the
user's edits, completions and deletions win; the user's own items are never touched; an
empty agenda does not empty the calendar unless forced; a failed sync is finished by
the next one.

Then a hypothesis state machine (after vdirsyncer's SyncMachine): facts recorded into a
real Network, days passing, the user editing, completing, unticking, deleting and adding
items, the server expiring its sync tokens, a new render version, and syncs (run by the
calendars service, as `syncnet sync` does) plain, forced, dry, failing half-way or killed
(at a request, or right after recording a completion's fact), interleaved. Invariants:
never two items with one UID; every reminder ticked off while due is one fact in force,
every item unticked has none; syncnet never overwrites or
deletes a version the user wrote (nor an item the user made); an item the user deleted
is not re-created; the report names each of the user's changes and never calls
syncnet's own work the user's; a sync with nothing to do is one request; after a sync
without a fault the calendar is the agenda within the horizon, written by the current
rendering, plus the user's own and changed items.

What is not kept yet (a write whose answer is lost, a server without ETags, two failures
in a row, the record of a sync that failed half-way) is pinned by the xfail tests at the
end, each a minimal counterexample found by the machine (issue 10).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from memory_calendar import SYNCNET, USER, WRITES, MemoryCalendar, MemoryPort, stamped

from syncnet.app import calendars
from syncnet.app.network import Network
from syncnet.app.sync import OURS, USER_CHANGED, USER_DELETED, Report, TargetState, reconcile
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.domain.config import Target
from syncnet.domain.corrections import Corrections
from syncnet.domain.reminders import StampedItem
from syncnet.errors import Refused, TargetDown
from syncnet.storage.store import init_store

TODAY = date(2026, 11, 20)  # autumn (north): the season ends 2026-11-30
HORIZON = 60

A = stamped("c1:promise:a", "Send Ada the slides", date(2026, 11, 25))
B = stamped("c2:promise:b", "Introduce Grace to Linus", date(2026, 12, 1))
C = stamped("c3:followup:2026-11-18", "Follow up with Chloé", date(2026, 11, 21))
A2 = stamped("c1:promise:a", "Send Ada the slides and the notes", date(2026, 11, 26), sequence=1)


def sync(port: MemoryPort, desired: Sequence[StampedItem] | None, state: TargetState,
         **kw: Any) -> tuple[Report, TargetState]:  # fmt: skip
    """One sync, with the state through JSON before and after as the real code keeps it."""
    state = TargetState.from_json(state.to_json())
    report = reconcile("memory", port, desired, state, **kw)
    return report, TargetState.from_json(state.to_json())


def ours(cal: MemoryCalendar) -> dict[str, Any]:
    """UID -> content of what the calendar holds."""
    return {e.uid: e.content for e in cal.entries.values()}


def actions(report: Report) -> set[tuple[str, str]]:
    return {(a.action, a.uid) for a in report.actions}


@pytest.fixture
def cal() -> MemoryCalendar:
    return MemoryCalendar()


@pytest.fixture
def port(cal: MemoryCalendar) -> MemoryPort:
    return MemoryPort(cal)


# ---------------------------------------------------------------- examples
def test_creates_updates_and_deletes_to_hold_exactly_the_agenda(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    report, state = sync(port, [A, B], TargetState())
    assert actions(report) == {("created", A.item.uid), ("created", B.item.uid)}
    assert ours(cal) == {A.item.uid: A, B.item.uid: B}
    assert {u: (s.href, s.etag, s.status) for u, s in state.items.items()} == {
        u: (href, e.etag, OURS) for href, e in cal.entries.items() for u in [e.uid]}  # fmt: skip
    assert state.cursor == cal.token  # caught up with its own writes

    report, state = sync(port, [A2, C], state)
    assert actions(report) == {("updated", A.item.uid), ("created", C.item.uid), ("deleted", B.item.uid)}
    assert ours(cal) == {A.item.uid: A2, C.item.uid: C}
    assert set(state.items) == {A.item.uid, C.item.uid}
    assert state.items[A.item.uid].content_hash == A2.stamp.content_hash


def test_a_sync_with_nothing_to_do_sends_nothing(cal: MemoryCalendar, port: MemoryPort) -> None:
    _, state = sync(port, [A, B], TargetState())
    for desired in ([A, B], None):  # the agenda recomputed, or known to be the last one written
        del cal.calls[:]
        report, state = sync(port, desired, state)
        assert report.actions == []
        assert cal.calls == [("REPORT", "/cal/")]  # one listing, no write
    assert ours(cal) == {A.item.uid: A, B.item.uid: B}


def test_the_users_edit_and_completion_are_kept(cal: MemoryCalendar, port: MemoryPort) -> None:
    _, state = sync(port, [A, B, C], TargetState())
    href_a, href_b = port.href_for(A.item.uid), port.href_for(B.item.uid)
    etag_a = cal.user_edit(href_a, "Slides: by Friday")
    etag_b = cal.user_complete(href_b)
    del cal.calls[:]

    # the agenda changes A and drops B: neither is written
    report, state = sync(port, [A2, C], state)
    assert actions(report) == {
        (USER_CHANGED, A.item.uid), (USER_CHANGED, B.item.uid), ("completed", B.item.uid)}  # fmt: skip
    assert cal.writes() == []
    assert (cal.entries[href_a].etag, cal.entries[href_a].item.summary) == (etag_a, "Slides: by Friday")  # type: ignore[union-attr]
    assert (cal.entries[href_b].etag, cal.entries[href_b].completed) == (etag_b, True)
    assert state.items[A.item.uid].status == state.items[B.item.uid].status == USER_CHANGED

    # and later syncs leave them alone too, without reporting them again
    report, state = sync(port, [stamped("c1:promise:a", "Third text", date(2026, 11, 27)), C], state)
    assert report.actions == [] and cal.entries[href_a].etag == etag_a and not cal.clobbered


def test_an_edit_racing_the_write_is_kept_through_if_match(cal: MemoryCalendar, port: MemoryPort) -> None:
    """The user's edit lands after the listing, before the update: If-Match fails."""
    _, state = sync(port, [A, B], TargetState())
    stale = TargetState.from_json(state.to_json())
    href = port.href_for(A.item.uid)
    etag = cal.user_edit(href)
    stale.cursor = cal.token  # the listing did not show the edit
    report, _ = sync(port, [A2], stale)
    assert (USER_CHANGED, A.item.uid) in actions(report)
    assert cal.entries[href].etag == etag and not cal.clobbered
    assert B.item.uid not in ours(cal)


def test_an_item_the_user_deleted_is_not_re_created(cal: MemoryCalendar, port: MemoryPort) -> None:
    _, state = sync(port, [A, B], TargetState())
    cal.user_delete(port.href_for(A.item.uid))
    report, state = sync(port, [A2, B], state)
    assert actions(report) == {(USER_DELETED, A.item.uid)}
    assert set(ours(cal)) == {B.item.uid}
    report, state = sync(port, [A2, B], state)
    assert report.actions == [] and set(ours(cal)) == {B.item.uid}
    assert state.items[A.item.uid].status == USER_DELETED


def test_the_users_own_items_are_never_touched_even_when_forced(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    own = cal.user_add("Dentist")
    _, state = sync(port, [A, B], TargetState())
    edited = port.href_for(B.item.uid)
    cal.user_edit(edited)
    report, state = sync(port, [], state, force=True)
    assert actions(report) == {("deleted", A.item.uid), (USER_CHANGED, B.item.uid)}
    assert set(cal.entries) == {own, edited}
    assert cal.entries[own].by == cal.entries[edited].by == USER and not cal.clobbered


def test_an_empty_agenda_empties_the_calendar_unless_the_store_looks_wrong(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    _, state = sync(port, [A, B], TargetState())
    own = cal.user_add("Dentist")
    del cal.calls[:]
    why = "this calendar was last synced from another store"
    with pytest.raises(Refused, match=rf"target memory: {why}; .* 2 reminders .*--force"):
        reconcile("memory", port, [], state, refuse_deletes=why)
    assert cal.writes() == [] and set(ours(cal)) == {A.item.uid, B.item.uid, cal.entries[own].uid}
    report, _ = sync(port, [], state)  # the facts say nothing is due: that is no reason to refuse
    assert report.count("deleted") == 2 and list(cal.entries) == [own]


def test_a_dry_run_reports_and_writes_nothing(cal: MemoryCalendar, port: MemoryPort) -> None:
    _, state = sync(port, [A, B], TargetState())
    del cal.calls[:]
    report, after = sync(port, [A2, C], state, dry_run=True)
    assert actions(report) == {("updated", A.item.uid), ("created", C.item.uid), ("deleted", B.item.uid)}
    assert cal.writes() == [] and ours(cal) == {A.item.uid: A, B.item.uid: B}
    assert after.items == state.items


def test_an_expired_sync_token_falls_back_to_a_full_listing(cal: MemoryCalendar, port: MemoryPort) -> None:
    _, state = sync(port, [A, B, C], TargetState())
    cal.user_delete(port.href_for(B.item.uid))
    etag = cal.user_edit(port.href_for(C.item.uid))
    cal.invalidate_tokens()
    report, state = sync(port, [A2, B, C], state)
    assert actions(report) == {
        ("updated", A.item.uid),
        (USER_DELETED, B.item.uid),
        (USER_CHANGED, C.item.uid),
    }
    assert ours(cal)[A.item.uid] == A2 and B.item.uid not in ours(cal)
    assert cal.entries[port.href_for(C.item.uid)].etag == etag


def test_items_an_older_rendering_wrote_are_rewritten_unless_the_user_changed_them(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    _, state = sync(port, [A, B, C], TargetState(), render_version=1)
    etag_b = cal.user_edit(port.href_for(B.item.uid))
    # a state saved before render versions existed reads as version 1
    saved = state.to_json()
    del saved["items"][C.item.uid]["render"]  # type: ignore[index]
    state = TargetState.from_json(saved)
    assert state.items[C.item.uid].render == 1
    del cal.calls[:]
    report, state = sync(port, [A, B, C], state, render_version=1)
    assert cal.writes() == []  # same content, same version: nothing is written again
    assert actions(report) == {(USER_CHANGED, B.item.uid)}
    del cal.calls[:]

    report, state = sync(port, [A, B, C], state, render_version=2)
    assert actions(report) == {("updated", A.item.uid), ("updated", C.item.uid)}
    assert sorted(cal.writes()) == sorted(("PUT", port.href_for(s.item.uid)) for s in (A, C))
    assert cal.entries[port.href_for(B.item.uid)].etag == etag_b
    assert {u: s.render for u, s in state.items.items() if s.status == OURS} == {A.item.uid: 2, C.item.uid: 2}
    report, _ = sync(port, [A, B, C], state, render_version=2)
    assert report.actions == []


@pytest.mark.parametrize("after", range(5))
def test_a_sync_failing_half_way_is_finished_by_the_next(
    cal: MemoryCalendar, port: MemoryPort, after: int
) -> None:
    """The server goes down at the n-th call of a sync (listing, PUTs, DELETE, catch-up):
    what was written is in the state, and the next sync writes only the rest."""
    _, state = sync(port, [A, B], TargetState())
    before = len(cal.calls)
    cal.fail(after)
    state = TargetState.from_json(state.to_json())
    with pytest.raises(TargetDown):
        reconcile("memory", port, [A2, C], state)  # listing, PUT C, PUT A, DELETE B, listing
    done = [c for c in cal.calls[before : before + after] if c[0] in WRITES]  # before the fault
    state = TargetState.from_json(state.to_json())  # saved although the sync failed
    for uid, s in state.items.items():
        if s.href in cal.entries:
            assert s.etag == cal.entries[s.href].etag, uid  # nothing written is unknown to the state
    del cal.calls[:]
    report, state = sync(port, [A2, C], state)
    assert ours(cal) == {A.item.uid: A2, C.item.uid: C}
    assert report.count(USER_CHANGED) == report.count(USER_DELETED) == 0
    assert not set(cal.writes()) & set(done)  # nothing sent twice
    assert {u: s.status for u, s in state.items.items()} == {A.item.uid: OURS, C.item.uid: OURS}


# ---------------------------------------------------------------- the state machine
NAMES = ("Ada Lovelace", "Björn Borg", "Chloé Zhao", "Đorđe Balašević", "Eun-ji Park")
TARGET = Target("phone", "caldav", horizon_days=HORIZON)
# SQLite's commits wait for the disk; in memory they do not, and the machine runs
# about a thousand steps.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None
_template: Path | None = None


def fresh_store(where: Path) -> Path:
    """A new store: a copy of one made and opened once (keys and view tables exist)."""
    global _template
    if _template is None:
        scratch = tempfile.mkdtemp(prefix="syncnet-engine-", dir=SCRATCH)
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        _template = Path(scratch) / "store"
        init_store(_template)
        Network.open(_template, today=TODAY).close()
    shutil.copytree(_template, where)
    return where


class SyncMachine(RuleBasedStateMachine):
    """A user's network, their phone's calendar, and the syncs between them, each run by
    the calendars service (`sync_target`) as `syncnet sync` runs it: the state read from
    and saved to the store, the agenda skipped when it is the one last written.

    Hypothesis runs each example with a random subset of the rules (swarm testing) and
    draws rules with fewer arguments more often: the plain `sync` and the user's edits
    take none (the user picks items by turns), so that they interleave densely.
    """

    def __init__(self) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory(dir=SCRATCH)
        self.today = TODAY
        self.net = Network.open(fresh_store(Path(self._tmp.name) / "store"), today=TODAY)
        self.net.clock = lambda: self.today  # the real today moves with the days that pass
        self.cal = MemoryCalendar()
        self.port = MemoryPort(self.cal)
        self.met: list[str] = []
        self.open_promises: list[UUID] = []
        self.promises_made = 0
        self.turn = 0  # which item the user picks next
        # what the user did, which the engine must respect
        self.user_left: dict[str, str] = {}  # href -> ETag of the version the user left there
        self.user_deleted: set[str] = set()  # UIDs of syncnet's items the user deleted
        self.maybe_forgotten: set[str] = set()  # of those, ones a failed sync may have let go
        self.touched: set[str] = set()  # UIDs the user ever changed or deleted
        self.unreported: dict[str, str] = {}  # UID -> the user's change the next report must name
        self.completed: set[str] = set()  # UIDs of syncnet's items the user ticked off
        # ticked off since the last sync that saved anything: uid -> (who owned the item
        # before, the change the report then owed), for an untick that undoes it all
        self.ticked_unseen: dict[str, tuple[str, str | None]] = {}
        self.ticked_seen: set[str] = set()  # ticked off, and a complete sync has seen it so
        self.taken_on: dict[str, date] = {}  # uid -> the earliest day its completion may be dated
        self.quiet = False  # nothing happened since the last complete sync
        self.render = self.port.render = calendars.RENDER_VERSION  # of the syncnet installed

    def teardown(self) -> None:
        self.net.close()
        self._tmp.cleanup()

    @initialize(etags=st.booleans(), contacts=st.integers(1, 3), promise_in=st.integers(0, 30))
    def start(self, etags: bool, contacts: int, promise_in: int) -> None:
        """A few contacts, a promise and a first sync: the calendar holds something to
        edit from the first step (swarm testing turns rules off, so a machine that had
        to meet people and sync first would rarely get to the user's edits).
        Some servers answer a PUT without an ETag."""
        self.port.etags = etags
        for _ in range(contacts):
            self.meet(days_ago=1)
        self.promise(who=0, due_in=promise_in)
        self.run_sync()

    # the network -------------------------------------------------------------------
    def record(self, command: Any) -> None:
        self.net.record(command)
        self.quiet = False

    def contact(self, who: int) -> str:
        return self.met[who % len(self.met)]

    @precondition(lambda self: len(self.met) < len(NAMES))
    @rule(days_ago=st.integers(0, 4))
    def meet(self, days_ago: int) -> None:
        name = NAMES[len(self.met)]
        # fixed ids: UIDs and hrefs derive from them, and hypothesis must see a run twice
        who = UUID(int=len(self.met) + 1)
        self.record(cmd.Meet(name, where="Café Müller", on=self.today - timedelta(days=days_ago),
                             contact_id=who))  # fmt: skip
        self.met.append(name)

    @precondition(lambda self: self.met)
    @rule(who=st.integers(0, 4), by=st.sampled_from(["me", "them"]))
    def touch(self, who: int, by: str) -> None:
        self.record(cmd.Touch(self.contact(who), by=by, on=self.today))

    @precondition(lambda self: self.met)
    @rule(who=st.integers(0, 4), due_in=st.integers(0, 40))
    def promise(self, who: int, due_in: int) -> None:
        self.promises_made += 1
        pid = UUID(int=1000 + self.promises_made)
        what, due = f"send the slides, take {self.promises_made}", self.today + timedelta(days=due_in)
        self.record(cmd.Promise(self.contact(who), what, due, on=self.today, promise_id=pid))
        self.open_promises.append(pid)

    @precondition(lambda self: self.open_promises)
    @rule(which=st.integers(0, 4), kept=st.booleans())
    def close_promise(self, which: int, kept: bool) -> None:
        pid = self.open_promises.pop(which % len(self.open_promises)).hex
        if self.still_open(pid):
            self.record(cmd.Kept(pid, on=self.today) if kept else cmd.Dropped(pid, on=self.today))

    def still_open(self, pid: str) -> bool:
        """False for a promise kept already: ticked off on the phone (a completion taken in)."""
        self.net.refresh()
        return bool(self.net.views.row("promise", pid).status == "open")

    @precondition(lambda self: self.met)
    @rule(who=st.integers(0, 4), keep=st.booleans())
    def pocket(self, who: int, keep: bool) -> None:
        self.record(cmd.Pocket(self.contact(who), keep, on=self.today))

    @precondition(lambda self: self.met)
    @rule(who=st.integers(0, 4), days=st.sampled_from([None, 14, 42]))
    def cadence(self, who: int, days: int | None) -> None:
        self.record(cmd.Cadence(self.contact(who), days, on=self.today))

    @precondition(lambda self: self.met)
    @rule(also_promises=st.booleans())
    def let_go_of_everyone(self, also_promises: bool) -> None:
        """Every contact to the left pocket (and every promise dropped): the agenda may
        come out empty, and a sync must then refuse to empty the calendar unless forced."""
        for name in self.met:
            self.record(cmd.Pocket(name, False, on=self.today))
        while also_promises and self.open_promises:
            pid = self.open_promises.pop().hex
            if self.still_open(pid):
                self.record(cmd.Dropped(pid, on=self.today))

    @rule(days=st.integers(1, 40))
    def days_pass(self, days: int) -> None:
        self.today += timedelta(days=days)
        self.net.fixed_today = self.today
        self.quiet = False

    def desired(self) -> list[StampedItem]:
        return calendars.calendar_items(self.net, HORIZON, self.today)

    # the user's phone ---------------------------------------------------------------
    def pick(self, syncnet_only: bool) -> str:
        hrefs = sorted(
            h for h, e in self.cal.entries.items() if not syncnet_only or e.uid.endswith("@syncnet")
        )
        self.turn += 1
        self.quiet = False
        return hrefs[self.turn % len(hrefs)]

    def has_syncnet_items(self) -> bool:
        return any(e.uid.endswith("@syncnet") for e in self.cal.entries.values())

    def user_changes(self, href: str, etag: str) -> None:
        uid = self.cal.entries[href].uid
        if href not in self.user_left:  # the first change; later ones are not news
            self.unreported[uid] = USER_CHANGED
        self.user_left[href] = etag
        self.touched.add(uid)

    @precondition(has_syncnet_items)
    @rule()
    def user_edits_an_item(self) -> None:
        href = self.pick(syncnet_only=True)
        uid = self.cal.entries[href].uid
        if uid in self.ticked_unseen:  # unticked later, it is the user's version still
            self.ticked_unseen[uid] = (USER, None)
        self.user_changes(href, self.cal.user_edit(href))

    @precondition(has_syncnet_items)
    @rule()
    def user_completes_an_item(self) -> None:
        href = self.pick(syncnet_only=True)
        entry = self.cal.entries[href]
        if not entry.completed:
            self.ticked_unseen[entry.uid] = (entry.by, self.unreported.get(entry.uid))
        self.completed.add(entry.uid)
        self.user_changes(href, self.cal.user_complete(href))

    def reopenable(self) -> list[str]:
        """Ticked-off items whose completion no sync has seen, or a complete sync has: not
        those a failed sync may or may not have seen."""
        seen = self.ticked_seen | set(self.ticked_unseen)
        return sorted(h for h, e in self.cal.entries.items() if e.completed and e.uid in seen)

    @precondition(reopenable)
    @rule()
    def user_reopens_an_item(self) -> None:
        """The user unticks an item: before a sync saw it ticked, nothing is recorded (and
        an item only ticked off is syncnet's again); after, the fact is retracted."""
        hrefs = self.reopenable()
        self.turn += 1
        self.quiet = False
        href = hrefs[self.turn % len(hrefs)]
        uid = self.cal.entries[href].uid
        self.completed.discard(uid)
        self.ticked_seen.discard(uid)
        before = self.ticked_unseen.pop(uid, None)
        if before is not None and before[0] == SYNCNET:
            self.cal.user_reopen(href, as_written=True)
            self.user_left.pop(href, None)
            if before[1] is None:
                self.unreported.pop(uid, None)
            else:
                self.unreported[uid] = before[1]
        else:
            self.user_changes(href, self.cal.user_reopen(href, as_written=False))

    @precondition(lambda self: self.cal.entries)
    @rule()
    def user_deletes_an_item(self) -> None:
        href = self.pick(syncnet_only=False)
        uid = self.cal.entries[href].uid
        self.completed.discard(uid)  # gone before syncnet saw it ticked off
        self.ticked_unseen.pop(uid, None)
        self.ticked_seen.discard(uid)
        self.cal.user_delete(href)
        self.user_left.pop(href, None)
        if uid.endswith("@syncnet"):
            self.user_deleted.add(uid)
            self.maybe_forgotten.discard(uid)
            self.touched.add(uid)
            self.unreported[uid] = USER_DELETED

    @rule(summary=st.sampled_from(["Dentist", "Zahnarzt 🦷"]))
    def user_adds_an_item(self, summary: str) -> None:
        href = self.cal.user_add(summary)
        self.user_left[href] = self.cal.entries[href].etag
        self.quiet = False

    @rule()
    def tokens_expire(self) -> None:
        """The server forgets the sync tokens it gave out: the next listing is a full one."""
        self.cal.invalidate_tokens()
        self.quiet = False

    @rule()
    def upgrade(self) -> None:
        """A new syncnet writes the same facts differently (RENDER_VERSION moved): every
        item of ours is rewritten at the next sync, none the user changed."""
        self.render = self.port.render = self.render + 1
        self.quiet = False

    # syncs ----------------------------------------------------------------------------
    @rule()
    def sync(self) -> None:
        self.run_sync()

    @rule(force=st.booleans(), dry_run=st.booleans())
    def sync_with(self, force: bool, dry_run: bool) -> None:
        self.run_sync(force=force, dry_run=dry_run)

    @rule(after=st.integers(0, 8), lost=st.booleans())
    def sync_fails(self, after: int, lost: bool) -> None:
        """The server goes down at the `after`-th request of the sync (if it gets there);
        `lost`: a write it was sending is applied, only the answer is lost."""
        self.run_sync(fault_after=after, lost=lost)

    @rule()
    def sync_killed_after_recording(self) -> None:
        """The process dies after the sync recorded the facts of the completions it took
        in, before it saved the state: the next sync finds the state saved before them."""
        self.run_sync(killed_after_recording=True)

    @rule(after=st.integers(0, 8))
    def sync_meets_a_spurious_412(self, after: int) -> None:
        """A write is answered 412 though nothing stands in its way (a proxy, a replica)."""
        self.run_sync(fault_after=after, spurious_412=True)

    @rule(after=st.integers(0, 8), lost=st.booleans())
    def sync_killed(self, after: int, lost: bool) -> None:
        """The process dies at the `after`-th request: nothing after it is saved, so the
        state is the last one the engine saved itself (its intents), or the one before."""
        self.run_sync(fault_after=after, lost=lost, killed=True)

    def run_sync(self, *, force: bool = False, dry_run: bool = False, fault_after: int | None = None,
                 lost: bool = False, killed: bool = False, spurious_412: bool = False,
                 killed_after_recording: bool = False) -> None:  # fmt: skip
        was_quiet, start, listings = self.quiet, len(self.cal.calls), len(self.port.listings)
        entries_before = dict(self.cal.entries)
        state_before = self.net.state.get(f"target:{TARGET.name}", "state")
        desired = self.desired()
        if fault_after is not None:
            self.cal.fail(fault_after, lost_response=lost, spurious_412=spurious_412)
        installed, calendars.RENDER_VERSION = calendars.RENDER_VERSION, self.render
        saved: list[object] = []  # what the engine and the service made durable, in order
        first_fact: list[int] = []  # how many saves there were when the sync recorded its first fact
        engine, take_in = calendars.reconcile, calendars.take_in_completions
        position = self.net.position()

        def spying(function: Any) -> Any:
            def spy(*args: Any, save: Any = None, **kw: Any) -> Any:
                def keep(state: TargetState) -> None:
                    saved.append(state.to_json())
                    save(state)

                def recording(command: Any) -> Any:
                    first_fact.append(len(saved))
                    return Network.record(self.net, command)

                self.net.record = recording  # type: ignore[method-assign]
                try:
                    return function(*args, save=keep if save is not None else None, **kw)
                finally:
                    del self.net.record

            return spy

        calendars.reconcile, calendars.take_in_completions = spying(engine), spying(take_in)
        try:
            outcome = calendars.sync_target(self.net, TARGET, lambda target, state: self.port, force=force,
                                            dry_run=dry_run, today=self.today)  # fmt: skip
        finally:
            calendars.RENDER_VERSION = installed
            calendars.reconcile, calendars.take_in_completions = engine, take_in
        if killed and outcome.cause is not None:
            # SIGKILL: the saves after the failure never happen
            self.net.state.put(f"target:{TARGET.name}", "state", saved[-1] if saved else state_before)
        if killed_after_recording and first_fact:
            # SIGKILL right after the first fact: the state is the last one saved before it
            self.net.state.put(f"target:{TARGET.name}", "state",
                               saved[first_fact[0] - 1] if first_fact[0] else state_before)  # fmt: skip
        if not dry_run:
            # the completions this sync could see are no longer undone by an untick; a
            # complete sync saw every one on the calendar (a failed one: maybe)
            self.ticked_unseen.clear()
            if outcome.cause is None:
                for uid in {e.uid for e in self.cal.entries.values() if e.completed}:
                    self.ticked_seen.add(uid)
                    self.taken_on.setdefault(uid, self.today)
        shortcut = self.port.listings[listings]  # the agenda was known to be the one last written
        for href in self.cal.completed_removed:  # ticked-off items syncnet may remove (horizon)
            self.user_left.pop(href, None)
        self.quiet = False
        fired = not self.cal.cancel_fault() and fault_after is not None
        if outcome.error is not None:
            assert len(outcome.error.splitlines()) == 1 and outcome.error.startswith("target phone: ")
        if not dry_run and outcome.cause is not None:
            self.unreported.clear()  # a sync that raised returns no report (see issue 10 below)
        if isinstance(outcome.cause, TargetDown):
            assert fired
            if not shortcut:
                # a deletion loop cut short may or may not have let go of an item the user
                # deleted that had left the agenda
                self.maybe_forgotten |= self.user_deleted - {s.item.uid for s in desired}
            return
        # One store throughout: the guard against a wrong store never fires, and an agenda
        # that the facts leave empty empties the calendar like any other change.
        assert outcome.cause is None and outcome.report is not None, outcome.error
        self.check_report(outcome.report, {s.item.uid for s in desired})
        if dry_run:
            writes = [m for m, _ in self.cal.calls[start:] if m in WRITES]
            assert writes == [] and self.cal.entries == entries_before
            assert self.net.state.get(f"target:{TARGET.name}", "state") == state_before
            return
        if was_quiet:
            # nothing happened since the last complete sync: one request, the agenda not
            # even computed (the push records of that sync do not count as a change)
            assert outcome.report.actions == [] and self.cal.calls[start:] == [("REPORT", "/cal/")]
            assert shortcut or force
        self.check_complete(desired, shortcut)
        self.check_completions(desired)
        # a completion taken in (or unticked) changed the facts since this sync began;
        # a killed sync leaves a state behind that the next sync must finish
        facts = self.net.store.log.after(position, 10**6)
        reverted = killed_after_recording and first_fact
        self.quiet = not reverted and all(isinstance(f, ev.TargetSynced) for _, f in facts)

    # checks ----------------------------------------------------------------------------
    def check_report(self, report: Report, wanted: set[str]) -> None:
        """The user's changes are recorded, once; syncnet's own work is never called theirs.
        (A user's deletion of an item syncnet was deleting anyway may go unreported: the
        outcome is the one both wanted, and a read-back cannot tell whose delete it was.)"""
        for a in report.actions:
            if a.action in (USER_CHANGED, USER_DELETED):
                assert a.uid in self.touched, f"{a.action} reported for {a.uid}, which the user never touched"
            if a.action == "completed":
                assert a.uid in self.completed, f"completed reported for {a.uid}, never ticked off"
            if a.action == "deleted" and a.result == "completed":
                # a ticked-off item syncnet removed, older than the horizon
                assert self.port.href_for(a.uid) in self.cal.completed_removed, a
                assert self.taken_on[a.uid] < self.today - timedelta(days=HORIZON), (a, self.taken_on[a.uid])
        if not report.dry_run:
            noticed = {(a.action, a.uid) for a in report.actions}
            missed = {(kind, uid) for uid, kind in self.unreported.items()} - noticed
            missed -= {(USER_DELETED, uid) for uid in self.unreported if uid not in wanted}
            assert not missed, f"the user's changes not reported: {missed}"
            self.unreported.clear()

    def check_completions(self, desired: list[StampedItem]) -> None:
        """Every reminder ticked off while due is a fact in force, with the id of its
        completion (recorded once: the store refuses a second fact with that id, after a
        killed sync too); every item unticked again has none in force."""
        corrections = Corrections.in_log(self.net.store.log.after)
        due = {s.item.uid for s in desired if s.item.rule in calendars.TAKEN_IN}

        def in_force(uid: str) -> bool:
            fact = calendars.completion_fact_id(uid, "").hex
            return bool(self.net.store.log.positions_of_ids(fact)) and corrections.in_force(fact)

        for uid in sorted(self.completed & due):
            assert in_force(uid), f"{uid}: ticked off while due, and no fact stands"
        for entry in self.cal.entries.values():
            if entry.uid.endswith("@syncnet") and not entry.completed:
                assert not in_force(entry.uid), f"{entry.uid}: not ticked off, and its fact stands"

    def check_complete(self, desired: list[StampedItem], shortcut: bool) -> None:
        """After a sync without a fault the calendar is the agenda, plus the user's items."""
        wanted = {s.item.uid: s for s in desired}
        for uid in sorted(self.maybe_forgotten):
            if self.port.href_for(uid) in self.cal.entries or (uid not in wanted and not shortcut):
                self.user_deleted.discard(uid)  # the engine let go of the deletion
        self.maybe_forgotten.clear()
        expected: dict[str, object] = {href: (USER, etag) for href, etag in self.user_left.items()}
        for uid, s in wanted.items():
            href = self.port.href_for(uid)
            if href not in self.user_left and uid not in self.user_deleted:
                expected[href] = (SYNCNET, s)
        if not shortcut:
            # the deletion of an item that left the agenda is forgotten: it may come back
            self.user_deleted &= set(wanted)
        actual = {h: (e.by, e.etag if e.by == USER else e.content) for h, e in self.cal.entries.items()}
        assert actual == expected
        old = {
            e.uid: e.render for e in self.cal.entries.values() if e.by == SYNCNET and e.render != self.render
        }
        assert not old, f"written by an older rendering: {old}"

    @invariant()
    def one_item_per_uid(self) -> None:
        twice = {u: len(es) for u, es in self.cal.by_uid().items() if len(es) > 1}
        assert not twice, twice

    @invariant()
    def the_users_versions_are_never_overwritten_or_deleted(self) -> None:
        assert self.cal.clobbered == []
        for href, etag in self.user_left.items():
            assert href in self.cal.entries and self.cal.entries[href].etag == etag, href

    @invariant()
    def items_the_user_deleted_stay_deleted(self) -> None:
        back = {e.uid for e in self.cal.entries.values()} & (self.user_deleted - self.maybe_forgotten)
        assert not back, back


def test_a_completion_survives_a_crash_right_after_its_fact_then_an_untick() -> None:
    """Steps the machine rarely strings together by chance: the sync records the fact of
    a completion and dies before saving its state; the user unticks the item before the
    next sync, which must still retract the fact."""
    machine = SyncMachine()
    try:
        machine.start(etags=True, contacts=1, promise_in=3)
        machine.user_completes_an_item()
        machine.sync_killed_after_recording()
        machine.user_reopens_an_item()
        machine.sync()
        machine.sync()
    finally:
        machine.teardown()


def test_an_untick_survives_a_sync_killed_before_the_retraction() -> None:
    """The sync that sees the untick saves its intents (with the completion forgotten)
    and is killed at its first write, before it retracts the fact: the next sync does."""
    machine = SyncMachine()
    try:
        machine.start(etags=True, contacts=1, promise_in=3)
        machine.user_completes_an_item()
        machine.sync()
        machine.user_reopens_an_item()
        machine.meet(days_ago=0)  # something to write
        machine.sync_killed(after=2, lost=False)
        machine.sync()
        machine.sync()
    finally:
        machine.teardown()


SyncMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip
test_the_engine_keeps_its_promises_through_any_interleaving = SyncMachine.TestCase


# ---------------------------------------------------------------- issue 10: what is not kept yet
# Each a minimal counterexample found by the machine above (with lost responses, a server
# without ETags, or two failures in a row); strict, so a fix shows as XPASS and the mark
# goes. The promise to reach: a calendar write follows intent before effect, and an
# unknown outcome (timeout, lost response) is resolved by reading the item back before
# anything is called the user's change.
A3 = stamped("c1:promise:a", "Send Ada the slides, the notes and the video", date(2026, 11, 27), sequence=2)


def failing(port: MemoryPort, desired: list[StampedItem], state: TargetState, after: int, *,
            lost: bool = False) -> TargetState:  # fmt: skip
    """A sync that fails at the server's `after`-th call; the state as it is saved then."""
    port.calendar.fail(after, lost_response=lost)
    with pytest.raises(TargetDown):
        reconcile("memory", port, desired, state)
    assert port.calendar.faults_fired and not port.calendar.cancel_fault()
    return TargetState.from_json(state.to_json())


def test_a_lost_answer_to_an_update_is_not_taken_for_the_users_edit(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    _, state = sync(port, [A, B], TargetState())
    state = failing(port, [A2, B], state, 1, lost=True)  # PUT A applied, its answer lost
    report, state = sync(port, [A2, B], state)
    assert report.count(USER_CHANGED) == 0  # today: user-changed, and A is frozen
    sync(port, [A3, B], state)
    assert ours(cal)[A.item.uid] == A3


def test_a_lost_answer_to_a_create_does_not_overwrite_the_users_edit(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    state = failing(port, [A], TargetState(), 1, lost=True)  # PUT A applied, its answer lost
    href = port.href_for(A.item.uid)
    etag = cal.user_edit(href, "Slides: by Friday")
    sync(port, [A], state)  # today: If-None-Match fails, and the port replaces the user's version
    assert cal.entries[href].etag == etag and cal.clobbered == []


def test_a_lost_answer_to_a_create_does_not_undo_the_users_deletion(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    state = failing(port, [A], TargetState(), 1, lost=True)
    cal.user_delete(port.href_for(A.item.uid))
    sync(port, [A], state)
    assert A.item.uid not in ours(cal)


def test_a_lost_answer_to_a_delete_is_not_recorded_as_the_users(
    cal: MemoryCalendar, port: MemoryPort
) -> None:
    _, state = sync(port, [A, B], TargetState())
    state = failing(port, [A], state, 1, lost=True)  # DELETE B applied, its answer lost
    report, _ = sync(port, [A], state)
    assert report.count(USER_DELETED) == 0


def test_without_etags_the_users_edit_after_a_failed_sync_is_kept(cal: MemoryCalendar) -> None:
    port = MemoryPort(cal, etags=False)
    state = failing(port, [A, B], TargetState(), 3)  # both PUTs done, the catch-up listing fails
    href = port.href_for(A.item.uid)
    etag = cal.user_edit(href, "Slides: by Friday")
    report, _ = sync(port, [B], state)  # A left the agenda: today it is deleted, the edit with it
    assert cal.entries.get(href) is not None and cal.entries[href].etag == etag
    assert (USER_CHANGED, A.item.uid) in actions(report)


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    with Network.open(fresh_store(tmp_path / "store"), today=TODAY) as n:
        n.record(cmd.Meet("Ada Lovelace", where="Café Müller", on=TODAY - timedelta(days=1)))
        n.record(cmd.Promise("Ada Lovelace", "send the slides", TODAY + timedelta(days=5), on=TODAY))
        yield n


def service_sync(net: Network, port: MemoryPort, fault_after: int | None = None) -> calendars.Outcome:
    if fault_after is not None:
        port.calendar.fail(fault_after)
    outcome = calendars.sync_target(net, TARGET, lambda target, state: port, today=TODAY)
    assert (outcome.cause is None) == (fault_after is None), outcome.error
    return outcome


def test_the_state_of_a_failed_sync_is_saved_even_after_another_failure(
    net: Network, cal: MemoryCalendar, port: MemoryPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    service_sync(net, port)
    monkeypatch.setattr(calendars, "RENDER_VERSION", calendars.RENDER_VERSION + 1)  # every item is rewritten
    service_sync(net, port, fault_after=0)  # the listing fails: the agenda key is saved as None
    service_sync(net, port, fault_after=2)  # the first PUT is done, the second fails
    state = TargetState.from_json(net.state.get(f"target:{TARGET.name}", "state"))
    assert {s.href: s.etag for s in state.items.values()} == {h: e.etag for h, e in cal.entries.items()}
    assert service_sync(net, port).report.count(USER_CHANGED) == 0  # type: ignore[union-attr]


def test_what_a_failed_sync_wrote_is_recorded(net: Network, cal: MemoryCalendar, port: MemoryPort) -> None:
    outcome = service_sync(net, port, fault_after=2)  # listing, the first PUT, then the server is down
    assert len(cal.entries) == 1 and outcome.error is not None
    _, entries = net.history("Ada Lovelace")
    pushed = [(e.details.get("action"), e.details.get("summary")) for e in entries if e.kind == "pushed"]
    assert pushed == [("created", next(iter(cal.entries.values())).item.summary)]  # type: ignore[union-attr]
