"""The application service: record commands as facts, read projections.

`Network` is what the CLI, the daemon and scripts use. It is the one place that
resolves names, checks input, seals personal fields and appends facts; reads
first bring the tracked views up to date, then run the pure projections.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from uuid import UUID

from syncnet.app.directory import ContactRef, Directory, Finder, resolve_goal
from syncnet.app.directory import short as short
from syncnet.app.recorded import ME as ME
from syncnet.app.recorded import Recorded as Recorded
from syncnet.domain.config import Config
from syncnet.domain.rows import ContactView, GoalView, LedgerView, TallyView
from syncnet.storage.configfile import load_config
from syncnet.storage.paths import config_path, data_dir
from syncnet.storage.store import OpenStore, open_store
from syncnet.storage.viewstore import ViewStore

if TYPE_CHECKING:  # imported where used, so that reads stay light
    from syncnet.app.agenda import AgendaItem
    from syncnet.app.history import HistoryEntry
    from syncnet.app.sync import Action
    from syncnet.domain import commands as cmd
    from syncnet.domain import projections as pj
    from syncnet.domain.reminders import StampedItem
    from syncnet.storage.statestore import StateStore

BATCH = 1000


def _today_in(timezone: str) -> date:
    if not timezone:
        return date.today()
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone)).date()


class Network:
    """A user's network: an open store, its configuration and its views."""

    def __init__(self, store: OpenStore, config: Config, today: date | None = None) -> None:
        self.store = store
        self.config = config
        self.fixed_today = today  # --today, or a test's clock: time is injected
        self.views = ViewStore(store.db_path, store.store_key)
        self._state: StateStore | None = None

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
        return cls(open_store(data_dir(home), passphrase), cfg, today)

    def close(self) -> None:
        self.views.close()
        if self._state is not None:
            self._state.close()
        self.store.close()

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
        return self.views.catch_up(self.store.log.after, progress=progress, name_of=self._name_of)

    def _name_of(self, view: ContactView) -> str | None:
        return self.unseal_text(view.name)

    def position(self) -> int:
        """The notification position of the last recorded fact (0 when empty)."""
        return self.store.max_position()

    def directory(self) -> Directory:
        """Every contact (the reads that list the network)."""
        return Directory(self.views.load_all("contact"), self.unseal_text)

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

            self._state = StateStore(self.store.db_path, self.store.store_key)
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
    def agenda(self, today: date | None = None, until: date | None = None) -> list[AgendaItem]:
        """The due reminders, overdue first (see syncnet.app.agenda)."""
        from syncnet.app.agenda import agenda_items

        self.refresh()
        contacts = self.views.load_all("contact")
        promises = self.views.load_all("promise", only_open=True)
        return agenda_items(contacts, promises, self.config, today or self.today(), until, self.unseal_text)

    def balances(
        self, contact: str | None = None, as_of: date | None = None
    ) -> tuple[list[tuple[ContactRef, pj.Balance]], tuple[int, int, float | None]]:
        from syncnet.domain import projections as pj

        self.refresh()
        as_of = as_of or self.today()
        directory = self.directory()
        tallies: list[TallyView] = self.views.load_all("tally")
        # None: the promises are read from the tallies, not from a row each
        found = pj.balances(tallies, None, as_of, self.config.minutes, self._ledger)
        overall = pj.credibility(found.values())
        wanted = [directory.resolve(contact)] if contact else sorted(directory.by_id)
        rows = []
        for cid in wanted:
            if contact is None and directory.by_id[cid].met_on > as_of.isoformat():
                continue
            rows.append((directory.ref(cid), found.get(cid) or pj.Balance(cid)))
        rows.sort(key=lambda r: (r[1].balance, (r[0].name or "").casefold()))
        return rows, overall

    def _ledger(self, contact_id: str) -> LedgerView:
        """A contact's day-by-day ledger: for a read as of a day before its tally's last."""
        row: LedgerView | None = self.views.row("ledger", contact_id)
        return row or LedgerView(contact_id)

    def time_split(self, today: date | None = None) -> pj.TimeSplit:
        from syncnet.domain import projections as pj

        self.refresh()
        return pj.time_split(self.views.load_days(), today or self.today(), self.config)

    def warnings(self, today: date | None = None) -> list[tuple[pj.Warning, ContactRef | None]]:
        from syncnet.domain import projections as pj

        self.refresh()
        directory = self.directory()
        found = pj.warnings(
            directory.by_id.values(),
            self.views.load_all("tally"),
            self.views.load_days(),
            today or self.today(),
            self.config,
            self._ledger,
        )
        return [(w, directory.ref(w.contact_id) if w.contact_id else None) for w in found]

    def contacts(self, goal: str | None = None) -> list[tuple[ContactRef, ContactView, list[str]]]:
        self.refresh()
        directory = self.directory()
        goals = {g.id: g for g in self.views.load_all("goal")}
        goal_id = resolve_goal(goal, goals, self.unseal_text) if goal else None
        rows = []
        for cid, view in directory.by_id.items():
            if goal_id and goal_id not in view.goals:
                continue
            names = [self.unseal_text(goals[g].name) or "[forgotten]" for g in view.goals if g in goals]
            rows.append((directory.ref(cid), view, names))
        rows.sort(key=lambda r: ((r[0].name or "").casefold(), r[0].id))
        return rows

    def goals(self) -> list[tuple[GoalView, str | None]]:
        self.refresh()
        rows = [(g, self.unseal_text(g.name)) for g in self.views.load_all("goal")]
        rows.sort(key=lambda r: (r[0].set_on, r[0].id))
        return rows

    def history(self, contact: str) -> tuple[ContactRef, list[HistoryEntry]]:
        """Every fact about a contact, by the day it happened (see syncnet.app.history)."""
        from syncnet.app.history import history_entries

        self.refresh()
        directory = self.finder()
        cid = directory.resolve(contact)
        log = self.store.log
        entries = []
        for position in self.views.positions_of(UUID(cid)):
            fact = log.at(position)
            if fact is not None:
                entries += history_entries(fact, UUID(cid), directory, self.store.keyring.unseal)
        entries.sort(key=lambda e: (e.on, e.recorded))
        return directory.ref(cid), entries
