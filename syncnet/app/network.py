"""The application service: record commands as facts, read projections.

`Network` is what the CLI, the daemon and scripts use. It is the one place that
resolves names, checks input, seals personal fields and appends facts; reads
first bring the tracked views up to date, then run the pure projections.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from uuid import UUID

from syncnet.app.directory import ContactRef, Directory, Finder, resolve_goal
from syncnet.app.directory import short as short
from syncnet.app.recorded import ME as ME
from syncnet.app.recorded import Recorded as Recorded
from syncnet.domain.config import Config
from syncnet.domain.rows import ContactView, GoalView, LedgerView, TallyView
from syncnet.errors import BadInput, ConfigError, SyncnetError
from syncnet.storage.configfile import load_config
from syncnet.storage.paths import config_path, data_dir
from syncnet.storage.store import OpenStore, open_store
from syncnet.storage.viewstore import ViewStore

if TYPE_CHECKING:  # imported where used, so that reads stay light
    from syncnet.app.agenda import AgendaItem
    from syncnet.app.asof import Reads, Replayed
    from syncnet.app.goalscope import Goal, GoalCard
    from syncnet.app.history import HistoryEntry
    from syncnet.app.sync import Action
    from syncnet.domain import commands as cmd
    from syncnet.domain import projections as pj
    from syncnet.domain.corrections import Corrections
    from syncnet.domain.reminders import StampedItem
    from syncnet.storage.statestore import StateStore

BATCH = 1000


def _today_in(timezone: str) -> date:
    if not timezone:
        return date.today()
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Card:
    """What `syncnet show` says of a contact."""

    contact: ContactRef
    view: ContactView
    details: dict[str, Any]  # org, role, emails, phones, urls, how_met: the latest of each
    balance: pj.Balance
    open_promises: list[tuple[str, str | None, str]]  # (id, what, due)
    via: ContactRef | None  # who introduced us
    introduced: list[ContactRef]  # whom this contact introduced to me
    where: str | None


class Network:
    """A user's network: an open store, its configuration and its views."""

    def __init__(self, store: OpenStore, config: Config, today: date | None = None) -> None:
        self.store = store
        self.config = config
        self.fixed_today = today  # --today, or a test's clock: time is injected
        # The real today, in the user's time zone, whatever --today says: no fact may be
        # dated after it. A test replaces it to record facts "in the future".
        self.clock: Callable[[], date] = lambda: _today_in(config.timezone)
        self.views = ViewStore(store.database, store.store_key)
        self._state: StateStore | None = None
        # --known-at: reads see only the facts (and corrections) recorded up to then
        self.known_at: datetime | None = None
        self._replayed: tuple[tuple[date, datetime | None, int], Replayed] | None = None
        # A goal scope (`for_goal`): the id of the goal whose contacts' facts alone every
        # read sees, and the replay of them last made (syncnet.app.goalscope)
        self.goal: str | None = None
        self.scoped: tuple[tuple[str, date, datetime | None, int], Replayed] | None = None
        self.changes_nothing = False  # verify: not even the views it finds counting a damaged fact

    @classmethod
    def open(
        cls,
        home: str | Path | None = None,
        config: str | Path | None = None,
        passphrase: str | None = None,
        today: date | None = None,
        *,
        require_config: bool = False,
    ) -> Network:
        """Open the store in `home` (default: SYNCNET_HOME or the XDG data dir).

        A missing config file means the defaults, unless `require_config` (the CLI's
        `--config FILE`: a file the user named must exist)."""
        cfg = load_config(config_path(home, config), required=require_config)
        if passphrase is None:
            passphrase = os.environ.get("SYNCNET_PASSPHRASE") or None
        store = open_store(data_dir(home), passphrase)
        if cfg.store and cfg.store != store.url:
            store.close()
            where = "in SQLite" if store.url is None else "in another PostgreSQL database"
            raise ConfigError(f"config: store names a PostgreSQL database, but the store in {store.home} "
                              f"is {where} (its store.json says where; only 'init' reads store)")  # fmt: skip
        return cls(store, cfg, today)

    def close(self) -> None:
        self._drop_views_counting_damage()
        self.views.close()
        if self._state is not None:
            self._state.close()
        self.store.close()

    def _drop_views_counting_damage(self) -> None:
        """A fact this command found damaged that the views folded while it was whole:
        they count it still. Reset, so that the next command rebuilds them without it
        (and says so), as the warning says: it is left out."""
        if self.changes_nothing or self.store._log is None or not self.store.log.damaged:
            return
        try:
            known, folded = self.views.load_damaged(), self.views.position()
            if any(0 < p <= folded and str(p) not in known for p in self.store.log.damaged):
                self.views.reset()
        except SyncnetError:  # the views damaged too: the next command finds it
            pass

    def __enter__(self) -> Network:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def today(self) -> date:
        return self.fixed_today or _today_in(self.config.timezone)

    # views ------------------------------------------------------------------
    def refresh(self, progress: Callable[[int], None] | None = None) -> int:
        """Fold new facts into the views; returns how many were folded."""
        if self.views.position() >= self.position():
            return 0  # up to date: no write lock, and no need for the library's application
        folded = self.views.catch_up(self.store.log.after, progress=progress, name_of=self._name_of)
        if self.store.log.damaged:
            self.views.note_damaged(self.store.log.damaged)
        return folded

    def notices(self) -> list[str]:
        """What was found damaged and is left out or rebuilt, one line each, for stderr:
        damaged facts (every command says them until they are dealt with), views and
        state rebuilt in this process."""
        lines = list(self.views.notices) + self.store.keyring.notices
        damaged = self.views.load_damaged()
        if self._state is not None:
            lines += self._state.notices
        if self.store._log is not None:  # facts read by this command (history, replays)
            damaged.update({str(p): why for p, why in self.store.log.damaged.items()})
        end, last = self.views.sealed_end(), self.position()
        if end is None and last:
            lines.append("the seal of the log is missing or damaged: nothing can be recorded; "
                         "run 'syncnet verify'")  # fmt: skip
        elif end is not None and end > last:
            lines.append(f"the log was cut short: the facts after position {last} (to {end}) are missing; "
                         "run 'syncnet verify'")  # fmt: skip
        for position, why in sorted(damaged.items(), key=lambda pw: int(pw[0])):
            lines.append(f"the fact at position {position} is damaged ({why}): it is left out; "
                         "run 'syncnet verify'")  # fmt: skip
        return lines

    def _name_of(self, view: ContactView) -> str | None:
        return self.unseal_text(view.name)

    def position(self) -> int:
        """The notification position of the last recorded fact (0 when empty)."""
        return self.store.max_position()

    def directory(self, reads: Reads | None = None) -> Directory:
        """Every contact (the reads that list the network): of the views, or of `reads`."""
        return Directory((reads or self.views).load_all("contact"), self.unseal_text)

    def finder(self) -> Finder:
        """The contacts a command names, loaded one by one (recording, history)."""
        return Finder(self.views, self.unseal_text)

    def unseal_text(self, text: str | None) -> str | None:
        return None if text is None else self.store.keyring.unseal_text(text)

    # recording --------------------------------------------------------------
    def record(self, command: cmd.Command) -> Recorded:
        """Record one command: all of its facts or none."""
        return self.record_many([command])[0]

    def record_many(
        self,
        commands: Iterable[cmd.Command],
        batch_size: int = BATCH,
        progress: Callable[[int], None] | None = None,
    ) -> list[Recorded]:
        """Check every command, then append the facts in transactions of `batch_size`.

        Nothing is written when any command is bad. A failure while writing (disk
        full, lock timeout) can leave the earlier batches written, never half a batch.
        """
        from syncnet.app.recording import record_commands

        return record_commands(self, commands, batch_size, progress)

    # calendars --------------------------------------------------------------
    @property
    def state(self) -> StateStore:
        """Mutable state beside the log: stamps, sync state, health, the feed's secret."""
        if self._state is None:
            from syncnet.storage.statestore import StateStore

            self._state = StateStore(self.store.database, self.store.store_key)
        return self._state

    def calendar_items(self, horizon_days: int, today: date | None = None) -> list[StampedItem]:
        """The reminders a calendar should hold (see syncnet.app.calendars)."""
        from syncnet.app import calendars

        return calendars.calendar_items(self, horizon_days, today)

    def record_pushes(self, target: str, actions: Sequence[Action], today: date | None = None) -> None:
        """Record what a sync did to a target (see syncnet.app.calendars)."""
        from syncnet.app import calendars

        calendars.record_pushes(self, target, actions, today)

    # reading ----------------------------------------------------------------
    def reads(self, day: date | None = None) -> Reads:
        """Where the reads of `day` (default: today), as known at `known_at`, take their
        rows: the tracked views when they hold exactly the facts such a read may see,
        else those facts replayed in memory (syncnet.app.asof); with a goal scope
        (`for_goal`), a replay of the facts of the goal's contacts only."""
        if self.goal is not None:
            from syncnet.app.goalscope import goal_reads

            return goal_reads(self, self.goal, day or self.today())
        return self.all_reads(day)

    def for_goal(self, goal: str) -> Goal:
        """Scope every read from now on to the contacts linked to `goal` (its name or a
        prefix of its id; NotFound when there is none): see syncnet.app.goalscope."""
        from syncnet.app.goalscope import find_goal

        found = find_goal(self, goal)
        self.goal = found.view.id
        return found

    def goal_card(self, goal: str) -> GoalCard:
        """What `goal show` says of a goal (see syncnet.app.goalscope.GoalCard)."""
        from syncnet.app.goalscope import goal_card

        return goal_card(self, goal)

    def all_reads(self, day: date | None = None) -> Reads:
        """The reads of `day` over every fact, whatever the goal scope (see `reads`)."""
        from syncnet.app.asof import views_answer

        self.refresh()
        day = day or self.today()
        if views_answer(self.views.meta(), day, self.known_at):
            return self.views
        key = (day, self.known_at, self.position())  # a long-running process records meanwhile
        if self._replayed is None or self._replayed[0] != key:
            from syncnet.app.asof import Replayed

            self._replayed = (key, Replayed(self.store.log.after, day, self.known_at))
        return self._replayed[1]

    def agenda(self, today: date | None = None, until: date | None = None) -> list[AgendaItem]:
        """The due reminders, overdue first (see syncnet.app.agenda)."""
        from syncnet.app.agenda import agenda_items

        today = today or self.today()
        reads = self.reads(today)
        contacts = reads.load_all("contact")
        promises = reads.load_all("promise", only_open=True)
        return agenda_items(contacts, promises, self.config, today, until, self.unseal_text)

    def balances(
        self, contact: str | None = None, as_of: date | None = None
    ) -> tuple[list[tuple[ContactRef, pj.Balance]], tuple[int, int, float | None]]:
        from syncnet.domain import projections as pj

        as_of = as_of or self.today()
        if contact is not None and self.goal is not None:  # a contact of the network, but of the goal?
            everyone = self.directory(self.all_reads(as_of))
            cid = everyone.resolve(contact)
            if self.goal not in everyone.by_id[cid].goals:
                raise BadInput(f"{everyone.ref(cid).label()} is not linked to that goal "
                               "('syncnet goal link CONTACT GOAL' links them)")  # fmt: skip
        reads = self.reads(as_of)
        directory = self.directory(reads)
        tallies: list[TallyView] = reads.load_all("tally")
        # None: the promises are read from the tallies, not from a row each
        found = pj.balances(tallies, None, as_of, self.config.minutes, self._ledger_in(reads))
        overall = pj.credibility(found.values())
        wanted = [directory.resolve(contact)] if contact else sorted(
            c for c, view in directory.by_id.items() if not view.forgotten)  # fmt: skip
        rows = []
        for cid in wanted:
            if contact is None and directory.by_id[cid].met_on > as_of.isoformat():
                continue
            rows.append((directory.ref(cid), found.get(cid) or pj.Balance(cid)))
        rows.sort(key=lambda r: (r[1].balance, (r[0].name or "").casefold()))
        return rows, overall

    @staticmethod
    def _ledger_in(reads: Reads) -> Callable[[str], LedgerView]:
        """A contact's day-by-day ledger: for a read as of a day before its tally's last."""

        def ledger(contact_id: str) -> LedgerView:
            row: LedgerView | None = reads.row("ledger", contact_id)
            return row or LedgerView(contact_id)

        return ledger

    def time_split(self, today: date | None = None) -> pj.TimeSplit:
        from syncnet.domain import projections as pj

        today = today or self.today()
        return pj.time_split(self.reads(today).load_days(), today, self.config)

    def warnings(self, today: date | None = None) -> list[tuple[pj.Warning, ContactRef | None]]:
        from syncnet.domain import projections as pj

        today = today or self.today()
        reads = self.reads(today)
        directory = self.directory(reads)
        gone = {c.id for c in directory.by_id.values() if c.forgotten}
        found = pj.warnings(
            [c for c in directory.by_id.values() if c.id not in gone],
            [t for t in reads.load_all("tally") if t.id not in gone],
            reads.load_days(),
            today,
            self.config,
            self._ledger_in(reads),
        )
        return [(w, directory.ref(w.contact_id) if w.contact_id else None) for w in found]

    def contacts(
        self, goal: str | None = None, org: str | None = None
    ) -> list[tuple[ContactRef, ContactView, list[str]]]:
        """Every contact met by today, with the names of its goals; `goal`, `org`: only
        those linked to that goal, or whose organisation contains `org` (any case)."""
        from syncnet.app.history import merged_details

        reads = self.reads()
        directory = self.directory(reads)
        goals = {g.id: g for g in reads.load_all("goal")}
        goal_id = resolve_goal(goal, goals, self.unseal_text) if goal else None
        wanted_org = None if org is None else org.strip().casefold()
        rows = []
        for cid, view in directory.by_id.items():
            if view.forgotten or (goal_id and goal_id not in view.goals):
                continue
            if wanted_org is not None:
                found = merged_details(view, self.unseal_text).get("org") or ""
                if wanted_org not in found.casefold():
                    continue
            names = [self.unseal_text(goals[g].name) or "[forgotten]" for g in view.goals if g in goals]
            rows.append((directory.ref(cid), view, names))
        rows.sort(key=lambda r: ((r[0].name or "").casefold(), r[0].id))
        return rows

    def goals(self) -> list[tuple[GoalView, str | None]]:
        rows = [(g, self.unseal_text(g.name)) for g in self.reads().load_all("goal")]
        rows.sort(key=lambda r: (r[0].set_on, r[0].id))
        return rows

    def show(self, contact: str) -> Card:
        """Everything about one contact as of today (see `Card`)."""
        from syncnet.app.history import merged_details
        from syncnet.domain import projections as pj

        day = self.today()
        reads = self.reads(day)
        directory = self.directory(reads)
        cid = directory.resolve(contact)
        view = directory.by_id[cid]
        # This contact's tally only: the reads and rows above serve the balance too.
        tally: TallyView | None = reads.row("tally", cid)
        found = pj.balances([tally] if tally else [], None, day, self.config.minutes, self._ledger_in(reads))
        balance = found.get(cid) or pj.Balance(cid)
        today = day.isoformat()
        promises = [
            (p.id, self.unseal_text(p.what), p.due)
            for p in reads.load_all("promise", only_open=True)
            if p.contact_id == cid and p.made_on <= today
        ]
        introduced = sorted(
            (directory.ref(other) for other, v in directory.by_id.items() if v.via == cid),
            key=lambda r: ((r.name or "").casefold(), r.id),
        )
        return Card(
            directory.ref(cid), view, merged_details(view, self.unseal_text), balance,
            sorted(promises, key=lambda p: (p[2], p[0])),
            None if view.via is None else directory.ref(view.via), introduced,
            None if view.where is None else self.unseal_text(view.where),
        )  # fmt: skip

    def last_fact(self) -> HistoryEntry | None:
        """The last fact recorded in this store (not a record of a calendar push)."""
        found = self.last_command()
        return found[-1] if found else None

    def last_command(self) -> list[HistoryEntry]:
        """The facts of the last command recorded in this store (not a record of a push):
        one, or a meeting and its event link (`meet --at`), a touch and the next meeting it
        planned (`touch --next`), which that command appended together."""
        from syncnet.app.history import history_entry
        from syncnet.domain import events as ev

        log = self.store.log
        position = log.last_position(ev.AGENDA_FACTS)
        fact = None if position is None else log.at(position)
        if fact is None or position is None:
            return []
        facts = [fact]
        first = {ev.EventLinked: ev.ContactMet, ev.MeetingPlanned: ev.Touched}.get(type(fact))
        before = log.at(position - 1) if first is not None and position > 1 else None
        # appended in the same transaction: the position before, the same contact, the same moment
        if (isinstance(before, first or ()) and before.contact_id == fact.contact_id
                and abs((fact.timestamp - before.timestamp).total_seconds()) < 5):  # fmt: skip
            facts.insert(0, before)
        finder, unseal = self.finder(), self.store.keyring.unseal
        return [history_entry(f, finder, unseal) for f in facts]

    def _facts_of(self, contact_id: UUID, corrections: Corrections) -> list[Any]:
        return [fact for _, fact in self.indexed_facts(contact_id, corrections)]

    def indexed_facts(self, contact_id: UUID, corrections: Corrections) -> list[tuple[int, Any]]:
        """(position, fact) of each fact of a contact (and of the contacts merged into it),
        through the history index; an entry that points at a fact of someone else means the
        index was edited: it is rebuilt, never shown."""
        from syncnet.domain.events import contact_ids_of

        facts = []
        # damaged ones are left out, and said (`damaged`)
        for position, fact in self.store.log.at_many(self.views.positions_of(contact_id)):
            if contact_id not in {corrections.contact(c) for c in contact_ids_of(fact)}:
                raise self.views.damaged(f"the history index points at position {position} "
                                         "for another contact")  # fmt: skip
            facts.append((position, fact))
        return facts

    def history(self, contact: str) -> tuple[ContactRef, list[HistoryEntry]]:
        """Every fact about a contact, by the day it happened (see syncnet.app.history)."""
        from syncnet.app.asof import known_by
        from syncnet.app.history import MetNames, corrected, history_entries
        from syncnet.domain.corrections import Corrections

        self.refresh()
        directory = self.finder()
        cid = directory.resolve(contact)
        log = self.store.log
        # Every fact of the contact recorded by --known-at, corrections among them (they
        # carry the contact of the fact they name), dated by --today: as corrected, when
        # it stands.
        # Every correction, not only this contact's: an introduction is in the history of
        # the contact introduced, its corrections only in the other's.
        corrections = Corrections.in_log(log.after, self.known_at)
        facts = known_by(self._facts_of(UUID(cid), Corrections.in_log(log.after)), self.known_at)
        day, unseal = self.today(), self.store.keyring.unseal
        refs = MetNames(directory, facts, unseal)  # the contacts merged in, by their own names
        entries = []
        for fact in facts:
            effective = corrections.effective(fact)
            if (effective or fact).on > day:
                continue
            for entry in history_entries(fact, UUID(cid), refs, unseal):
                entries.append(corrected(entry, corrections, unseal))
        entries.sort(key=lambda e: (e.on, e.recorded))
        return directory.ref(cid), entries
