"""The application service: record commands as facts, read projections.

`Network` is what the CLI, the daemon and scripts use. It is the one place that
resolves names, checks input, seals personal fields and appends facts; reads
first bring the tracked views up to date, then run the pure projections.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from syncnet.domain.config import Config, load_config
from syncnet.domain.rows import ContactView, GoalView, LedgerView, PromiseView
from syncnet.domain.sealed import Sealed
from syncnet.errors import BadInput, NotFound, SyncnetError
from syncnet.storage.paths import config_path, data_dir
from syncnet.storage.store import OpenStore, open_store
from syncnet.storage.viewstore import ViewStore

if TYPE_CHECKING:  # imported where used, so that reads stay light
    from syncnet.domain import commands as cmd
    from syncnet.domain import projections as pj
    from syncnet.domain.reminders import StampedItem
    from syncnet.storage.statestore import StateStore

ME = UUID(int=1)  # the data-key subject for facts about myself (self-presentations)
SHORT = 8
BATCH = 1000


def short(hex_id: str) -> str:
    return hex_id[:SHORT]


@dataclass(frozen=True)
class Recorded:
    """What one command appended."""

    kind: str
    fact_id: str
    contact_id: str | None = None
    promise_id: str | None = None
    goal_id: str | None = None


@dataclass(frozen=True)
class ContactRef:
    id: str
    name: str | None  # None when the contact's data key was forgotten

    @property
    def short(self) -> str:
        return short(self.id)

    def label(self) -> str:
        return f"{self.name or '[forgotten]'} ({self.short})"


@dataclass(frozen=True)
class AgendaItem:
    reminder: pj.Reminder
    contact: ContactRef
    state: str
    summary: str
    promise: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    on: date
    recorded: datetime
    kind: str
    fact_id: str
    details: dict[str, Any] = field(default_factory=dict)


def _today_in(timezone: str) -> date:
    if not timezone:
        return date.today()
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone)).date()


class _Directory:
    """Contacts by id and by lower-cased name, names unsealed on demand."""

    def __init__(self, views: Sequence[ContactView], unseal: Callable[[str], str | None]) -> None:
        self.by_id = {c.id: c for c in views}
        self._unseal = unseal
        self._names: dict[str, str | None] = {}
        self._by_name: dict[str, list[str]] | None = None

    def name(self, contact_id: str) -> str | None:
        if contact_id not in self._names:
            c = self.by_id.get(contact_id)
            self._names[contact_id] = None if c is None else self._unseal(c.name)
        return self._names[contact_id]

    def ref(self, contact_id: str) -> ContactRef:
        return ContactRef(contact_id, self.name(contact_id))

    def by_name(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for cid in self.by_id:
                name = self.name(cid)
                if name is not None:
                    self._by_name.setdefault(name.casefold(), []).append(cid)
        return self._by_name

    def add(self, view: ContactView, name: str) -> None:
        self.by_id[view.id] = view
        self._names[view.id] = name
        self.by_name().setdefault(name.casefold(), []).append(view.id)

    def _partial(self, ref: str) -> list[str]:
        """Contacts whose name, or a word of it, starts with `ref` ("ada" -> "Ada Lovelace")."""
        words = ref.split()
        found = []
        for name, ids in self.by_name().items():
            parts = name.split()
            if name.startswith(ref) or (len(words) == 1 and any(part.startswith(ref) for part in parts)):
                found.extend(ids)
        return found

    def resolve(self, ref: str, what: str = "contact") -> str:
        ref = ref.strip()
        if not ref:
            raise BadInput(f"empty {what} name")
        if len(ref) == 32 and ref in self.by_id:  # a full id: the importers' path, O(1)
            return ref
        matches = list(self.by_name().get(ref.casefold(), []))
        if not matches:
            matches = self._partial(ref.casefold())
        if not matches:
            matches = _id_matches(ref, self.by_id)
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(self.ref(m).label() for m in sorted(matches))
            raise NotFound(f"{what} {ref!r} is ambiguous: {listed}; use the short id")
        near = sorted(cid for cid in self.by_id if ref.casefold() in (self.name(cid) or "").casefold())[:5]
        hint = f" (did you mean: {', '.join(self.ref(c).label() for c in near)}?)" if near else ""
        raise NotFound(f"unknown {what} {ref!r}{hint}")


def _id_matches(ref: str, ids: Iterable[str]) -> list[str]:
    token = ref.lower().replace("-", "")
    if len(token) < 4 or not re.fullmatch(r"[0-9a-f]+", token):
        return []
    return [i for i in ids if i.startswith(token)]


class Network:
    """A user's network: an open store, its configuration and its views."""

    def __init__(self, store: OpenStore, config: Config, today: date | None = None) -> None:
        self.store = store
        self.config = config
        self.fixed_today = today  # --today, or a test's clock: time is injected
        self.views = ViewStore(store.db_path, store.store_key, config.minutes)
        self._state: StateStore | None = None

    @classmethod
    def open(
        cls,
        home: str | Path | None = None,
        config: str | Path | None = None,
        passphrase: str | None = None,
        today: date | None = None,
    ) -> Network:
        """Open the store in `home` (default: SYNCNET_HOME or the XDG data dir)."""
        cfg = load_config(config_path(home, config))
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
        return self.views.catch_up(self.store.log.after, progress=progress)

    def position(self) -> int:
        """The notification position of the last recorded fact (0 when empty)."""
        return self.store.max_position()

    def directory(self) -> _Directory:
        return _Directory(self.views.load_all("contact"), self.unseal_text)

    def unseal_text(self, text: str | None) -> str | None:
        return None if text is None else self.store.keyring.unseal(Sealed.from_text(text))

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
        from syncnet.app.recording import Translator
        from syncnet.domain import events as ev

        self.refresh()
        directory = self.directory()
        promises = {p.id: p for p in self.views.load_all("promise", only_open=True)}
        goals = {g.id: g for g in self.views.load_all("goal")}
        translator = Translator(self, directory, promises, goals)
        facts: list[ev.Fact] = []
        results: list[Recorded] = []
        try:
            for i, command in enumerate(commands):
                try:
                    fact = translator.translate(command)
                except SyncnetError as e:
                    if i:
                        raise type(e)(f"command {i + 1}: {e}") from None
                    raise
                facts.append(fact)
                results.append(translator.result(command, fact))
            written = 0
            for start in range(0, len(facts), batch_size):
                chunk = facts[start : start + batch_size]
                chunk_ids = {c.contact_id.hex for c in chunk if isinstance(c, ev.ContactMet)}
                chunk_ids |= {c.originator_id.hex for c in chunk if isinstance(c, ev.GoalSet)}
                chunk_ids.add(ME.hex)
                keyring = self.store.keyring
                keys = [k for k in keyring.pending if k[0] in chunk_ids]
                self.store.log.append(chunk, wrapped_keys=keys)
                keyring.pending = [k for k in keyring.pending if k[0] not in chunk_ids]
                written += len(chunk)
                if progress:
                    progress(written)
        finally:
            self.store.keyring.discard_pending()
        return results

    # calendars --------------------------------------------------------------
    @property
    def state(self) -> StateStore:
        if self._state is None:
            from syncnet.storage.statestore import StateStore

            self._state = StateStore(self.store.db_path, self.store.store_key)
        return self._state

    def calendar_items(self, horizon_days: int, today: date | None = None) -> list[StampedItem]:
        """The reminders a calendar should hold (overdue and due within the horizon),
        stamped with when their content last changed (kept in the state store)."""
        from syncnet.domain import reminders

        today = today or self.today()
        agenda = self.agenda(today, until=today + timedelta(days=horizon_days))
        items = reminders.calendar_items(agenda, today, horizon_days)
        # One row holds every stamp: one decryption instead of one per reminder.
        register: dict[str, list[Any]] = self.state.get("stamps", "all") or {}
        known = {u: reminders.Stamp(h, seq, datetime.fromisoformat(t)) for u, (h, seq, t) in register.items()}
        stamped, changed = reminders.stamp(items, known, datetime.now(UTC))
        if changed:
            for u, st in changed.items():
                register[u] = [st.content_hash, st.sequence, st.changed.isoformat()]
            self.state.put("stamps", "all", register)
        return stamped

    def record_pushes(self, target: str, actions: Sequence[Any], today: date | None = None) -> None:
        """Record what a sync did to a target, as facts (summaries sealed)."""
        from syncnet.domain import events as ev

        keyring = self.store.keyring
        on = today or self.today()
        facts = []
        for a in actions:
            contact = UUID(a.contact_id) if a.contact_id else None
            summary = None
            if contact is not None and a.summary:
                summary = keyring.seal(contact, a.summary)
            facts.append(ev.ReminderPushed(
                originator_id=uuid4(), originator_version=1, timestamp=ev.Fact.create_timestamp(),
                on=on, note=None, target=target, uid=a.uid, action=a.action, result=a.result,
                contact_id=contact, summary=summary))  # fmt: skip
        if facts:
            self.store.log.append(facts)

    # reading ----------------------------------------------------------------
    def agenda(self, today: date | None = None, until: date | None = None) -> list[AgendaItem]:
        from syncnet.domain import projections as pj

        self.refresh()
        today = today or self.today()
        contacts = self.views.load_all("contact")
        promises = self.views.load_all("promise", only_open=True)
        reminders = pj.agenda(contacts, promises, today, self.config, until)
        directory = _Directory(contacts, self.unseal_text)
        by_promise = {p.id: p for p in promises}
        items = []
        for r in reminders:
            contact = directory.ref(r.contact_id)
            what = self.unseal_text(by_promise[r.promise_id].what) if r.promise_id else None
            view = directory.by_id.get(r.contact_id)
            where = self.unseal_text(view.where) if view and r.rule == "followup" else None
            items.append(
                AgendaItem(r, contact, r.state(today), _summary(r, contact, view, what, where), what)
            )
        return items

    def balances(
        self, contact: str | None = None, as_of: date | None = None
    ) -> tuple[list[tuple[ContactRef, pj.Balance]], tuple[int, int, float | None]]:
        from syncnet.domain import projections as pj

        self.refresh()
        as_of = as_of or self.today()
        directory = self.directory()
        ledgers: list[LedgerView] = self.views.load_all("ledger")
        promises: list[PromiseView] = self.views.load_all("promise")
        found = pj.balances(ledgers, promises, as_of)
        overall = pj.credibility(found.values())
        wanted = [directory.resolve(contact)] if contact else sorted(directory.by_id)
        rows = []
        for cid in wanted:
            if contact is None and directory.by_id[cid].met_on > as_of.isoformat():
                continue
            rows.append((directory.ref(cid), found.get(cid) or pj.Balance(cid)))
        rows.sort(key=lambda r: (r[1].balance, (r[0].name or "").casefold()))
        return rows, overall

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
            self.views.load_all("ledger"),
            self.views.load_days(),
            today or self.today(),
            self.config,
        )
        return [(w, directory.ref(w.contact_id) if w.contact_id else None) for w in found]

    def contacts(self, goal: str | None = None) -> list[tuple[ContactRef, ContactView, list[str]]]:
        self.refresh()
        directory = self.directory()
        goals = {g.id: g for g in self.views.load_all("goal")}
        goal_id = _resolve_goal(goal, goals, self.unseal_text) if goal else None
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
        self.refresh()
        directory = self.directory()
        cid = directory.resolve(contact)
        log = self.store.log
        promise_whats: dict[str, str | None] = {}
        entries = []
        for position in self.views.positions_of(UUID(cid)):
            fact = log.at(position)
            if fact is not None:
                entries.append(self._entry(fact, directory, promise_whats))
        entries.sort(key=lambda e: (e.on, e.recorded))
        return directory.ref(cid), entries

    def _entry(self, event: Any, directory: _Directory, promise_whats: dict[str, str | None]) -> HistoryEntry:
        from syncnet.domain import events as ev

        unseal = self.store.keyring.unseal
        details: dict[str, Any] = {}
        for name in ("channel", "why", "by", "kind", "minutes", "keep", "days", "target", "action",
                     "result"):  # fmt: skip
            if hasattr(event, name):
                details[name] = getattr(event, name)
        for name in ("name", "where", "what", "summary"):
            if hasattr(event, name) and getattr(event, name) is not None:
                details[name] = unseal(getattr(event, name))
        if event.note is not None:
            details["note"] = unseal(event.note)
        if isinstance(event, ev.PromiseMade):
            details["promise"] = short(event.originator_id.hex)
            details["due"] = event.due.isoformat()
            promise_whats[event.originator_id.hex] = details.get("what")
        if isinstance(event, ev.PromiseKept | ev.PromiseDropped):
            details["promise"] = short(event.promise_id.hex)
        for name in ("introduced", "contact_id"):
            other = getattr(event, name, None)
            if other is not None:
                details[name] = directory.ref(other.hex).label()
        kind = _KIND_WORDS.get(type(event).__name__, type(event).__name__)
        return HistoryEntry(event.on, event.timestamp, kind, event.originator_id.hex, details)


_KIND_WORDS = {
    "ContactMet": "met", "Touched": "touch", "HelpGiven": "gave", "HelpReceived": "received",
    "RequestMade": "asked them", "RequestReceived": "they asked", "Presented": "pitch",
    "PromiseMade": "promise", "PromiseKept": "kept", "PromiseDropped": "dropped",
    "Pocketed": "pocket", "CadenceSet": "cadence", "GoalLinked": "goal link",
    "ReminderPushed": "pushed",
}  # fmt: skip


def _summary(
    r: pj.Reminder, contact: ContactRef, view: ContactView | None, what: str | None, where: str | None
) -> str:
    name = contact.name or "[forgotten]"
    if r.rule == "followup":
        place = where or (view.channel if view and view.channel != "other" else None)
        return f"Follow up with {name} — met{f' at {place}' if place else ''} on {r.period}"
    if r.rule == "season":
        season, year = r.period.rsplit("-", 1)
        return f"Touch {name} this {season} ({season} {year}, 3×1 rule)"
    if r.rule == "promise":
        return f"Keep your promise to {name}: {what or '[forgotten]'}"
    last = view.last_interaction if view else "?"
    return f"Time to touch {name} again (cadence; last interaction {last})"


def _resolve_goal(ref: str, goals: dict[str, GoalView], unseal: Callable[[str], str | None]) -> str:
    matches = [g for g in goals if (unseal(goals[g].name) or "").casefold() == ref.strip().casefold()]
    if not matches:
        matches = _id_matches(ref, goals)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotFound(f"goal {ref!r} is ambiguous: {', '.join(short(m) for m in matches)}")
    raise NotFound(f"unknown goal {ref!r}")
