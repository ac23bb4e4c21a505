"""Recording: commands checked against the current views and turned into facts.

Imported only by commands that record, so reads never load the event classes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from syncnet.app.directory import Finder as _Finder
from syncnet.app.directory import id_token as _id_token
from syncnet.app.directory import resolve_event, short
from syncnet.app.directory import resolve_goal as _resolve_goal
from syncnet.app.recorded import ME, PRIVATE, Recorded
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.domain.config import CADENCE_DAYS, FIRST_DAY, MINUTES, out_of_range, shown
from syncnet.domain.corrections import AMENDABLE, Corrections
from syncnet.domain.dates import check_date
from syncnet.domain.rows import ContactView, EventView, GoalView, PromiseView
from syncnet.domain.rules import YEAR_UNKNOWN
from syncnet.errors import BadInput, ContactsMoved, NotFound, StoreError, SyncnetError

if TYPE_CHECKING:
    from syncnet.app.network import Network
    from syncnet.storage.viewstore import ViewStore


class Promises:
    """The promises a batch of commands names, loaded one by one, and those it makes."""

    def __init__(self, views: ViewStore, fact_ids: Callable[[str], list[str]]) -> None:
        self._views = views
        self._fact_ids = fact_ids  # the ids of facts by prefix (a promise's id is its fact's)
        self._rows: dict[str, PromiseView | None] = {}
        self.closed: set[str] = set()  # closed by an earlier command of this batch

    def get(self, pid: str) -> PromiseView | None:
        if pid not in self._rows:
            self._rows[pid] = self._views.row("promise", pid)
        return self._rows[pid]

    def add(self, view: PromiseView) -> None:
        self._rows[view.id] = view

    def open_matching(self, ref: str) -> list[str]:
        """Open promises whose id is `ref` or starts with it (at least four hex digits)."""
        token = _id_token(ref)
        if token is None:
            return []
        if len(token) == 32:  # a full id (scripts, imports): one row, however many promises
            found = self.get(token)
            return (
                [token] if found is not None and found.status == "open" and token not in self.closed else []
            )
        stored = [p for p in self._fact_ids(token) if (v := self.get(p)) is not None and v.status == "open"]
        made = [
            p for p, v in self._rows.items() if v is not None and v.status == "open" and p.startswith(token)
        ]
        return sorted(p for p in {*stored, *made} if p not in self.closed)


class Translator:
    """Checks commands against the current views and turns them into facts."""

    def __init__(
        self,
        network: Network,
        directory: _Finder,
        promises: Promises,
        goals: dict[str, GoalView],
    ) -> None:
        self.net = network
        self.dir = directory
        self.promises = promises
        self.goals = goals
        self.keyring = network.store.keyring
        self.today = network.today()
        self.real_today = network.clock()  # --today may be later: no fact is dated after this
        self._ids: dict[str, UUID] = {}
        self._known_corrections: Corrections | None = None  # loaded by the first correction
        self._event_rows: dict[str, EventView] | None = None  # loaded by the first event command
        self._interacted: dict[str, str] = {}  # contact -> its latest interaction in this batch

    def result(self, command: cmd.Command, fact: ev.Fact) -> Recorded:
        kind = type(command).__name__.lower()
        contact = getattr(fact, "contact_id", None)
        promise = getattr(fact, "promise_id", None)
        if isinstance(fact, ev.PromiseMade):
            promise = fact.originator_id
        goal = fact.originator_id if isinstance(fact, ev.GoalSet) else getattr(fact, "goal_id", None)
        return Recorded(kind, fact.originator_id, contact, promise, goal)

    # checks -----------------------------------------------------------------
    def _on(self, on: date | None) -> date:
        if on is None:
            return self._not_future(check_date(self.today, "today"), "--today")
        if on > self.today:
            raise BadInput(f"date {on.isoformat()} is in the future (today is {self.today.isoformat()})")
        return self._not_future(check_date(on, "date"), "--on")

    def _not_future(self, day: date, what: str) -> date:
        """`day`, unless it is after the real today: --today evaluates reads as of another
        day, but what happened cannot have happened yet."""
        real = self.real_today
        if day > real:
            raise BadInput(f"{what} {day.isoformat()} is in the future (today is {real.isoformat()})")
        return day

    def _after_meeting(self, contact: UUID | None, on: date) -> None:
        """Nothing happens with a contact before the first meeting (the row of a contact met
        earlier in this batch is the Finder's already)."""
        view = None if contact is None else self.dir.view(contact.hex)
        if view is not None and view.forgotten:
            raise BadInput(f"contact {view.id[:8]} was forgotten on {view.forgotten}: nothing more "
                           "is recorded about them")  # fmt: skip
        if view is not None and on.isoformat() < view.met_on:
            who = self.dir.ref(view.id).label()
            raise BadInput(f"{on.isoformat()} is before the first meeting with {who}, on {view.met_on}")

    @staticmethod
    def _minutes(minutes: int | None) -> int | None:
        if minutes is None:
            return None
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            raise BadInput(f"minutes must be a whole number, got {minutes!r}")
        if not MINUTES[0] <= minutes <= MINUTES[1]:
            raise BadInput(f"minutes {out_of_range(minutes, *MINUTES)}")
        return minutes

    @staticmethod
    def _choice(value: str, allowed: Sequence[str], what: str) -> str:
        if value not in allowed:
            raise BadInput(f"unknown {what} {value!r}: choose one of {', '.join(allowed)}")
        return value

    def _contact(self, ref: str) -> UUID:
        found = self._ids.get(ref)  # an import names the same contacts by id again and again
        if found is None:
            found = UUID(self.dir.resolve(ref))
            if len(ref) == 32 and ref == found.hex:  # a full id never becomes ambiguous
                self._ids[ref] = found
        return found

    def _seal(self, subject: UUID, text: str | None) -> ev.Sealed | None:
        if text is None or not text.strip():
            return None
        if isinstance(text, cmd.PrivateText):  # kept to this device: its own key, never sent
            queued = any(k[0] == PRIVATE.hex for k in self.keyring.pending)
            if not queued and not self.keyring.has_key(PRIVATE):
                self.keyring.new_key(PRIVATE, "private")
            subject = PRIVATE
        return self.keyring.seal(subject, text.strip())

    def _meta(self, on: date | None, *contacts: UUID | None, fact_id: UUID | None = None) -> dict[str, Any]:
        """The fields every fact has; dated on or after the first meeting with `contacts`."""
        day = self._on(on)
        for contact in contacts:
            self._after_meeting(contact, day)
        return {
            "originator_id": fact_id or uuid4(),
            "originator_version": 1,
            "timestamp": ev.Fact.create_timestamp(),
            "on": day,
        }

    # translation: one method per command type, found in TRANSLATIONS ----------
    def translate(self, c: cmd.Command) -> ev.Fact:
        """The fact that records command `c`, checked against the current views."""
        translation = TRANSLATIONS.get(type(c))
        if translation is None:
            raise BadInput(f"not a command: {c!r}")
        fact = translation(self, c)
        contact = getattr(fact, "contact_id", None)
        if contact is not None and ev.is_interaction(fact):  # what a plan later in the batch checks
            day = fact.on.isoformat()
            self._interacted[contact.hex] = max(day, self._interacted.get(contact.hex, day))
        return fact

    def _touch(self, c: cmd.Touch) -> ev.Fact:
        contact = self._contact(c.contact)
        return ev.Touched(
            **self._meta(c.on, contact, fact_id=c.fact_id), note=self._seal(contact, c.note),
            contact_id=contact,
            by=self._choice(c.by, ("me", "them"), "initiator"),
            channel=None if c.channel is None else self._choice(c.channel, ev.CHANNELS, "channel"),
            minutes=self._minutes(c.minutes),
        )  # fmt: skip

    def _give(self, c: cmd.Give) -> ev.Fact:
        return self._help(c, ev.HelpGiven)

    def _receive(self, c: cmd.Receive) -> ev.Fact:
        return self._help(c, ev.HelpReceived)

    def _help(self, c: cmd.Give | cmd.Receive, cls: type[ev.HelpGiven | ev.HelpReceived]) -> ev.Fact:
        contact = self._contact(c.contact)
        kind = self._choice(c.kind, ev.HELP_KINDS, "kind of help")
        introduced = None
        if kind == "introduction":
            if not c.to:
                raise BadInput("an introduction needs --to: the contact introduced")
            introduced = self._contact(c.to)
            if introduced == contact:
                raise BadInput("an introduction links two different contacts")
        elif c.to:
            raise BadInput("--to is only for --kind introduction")
        return cls(
            **self._meta(c.on, contact, introduced), note=self._seal(contact, c.note), contact_id=contact,
            kind=kind, minutes=self._minutes(c.minutes), introduced=introduced,
        )  # fmt: skip

    def _ask(self, c: cmd.Ask) -> ev.Fact:
        return self._request(c, ev.RequestMade)

    def _asked(self, c: cmd.Asked) -> ev.Fact:
        return self._request(c, ev.RequestReceived)

    def _request(self, c: cmd.Ask | cmd.Asked, cls: type[ev.RequestMade | ev.RequestReceived]) -> ev.Fact:
        contact = self._contact(c.contact)
        return cls(
            **self._meta(c.on, contact), note=self._seal(contact, c.note), contact_id=contact,
            what=self._seal(contact, c.what), minutes=self._minutes(c.minutes),
        )  # fmt: skip

    def _pitch(self, c: cmd.Pitch) -> ev.Fact:
        pitched = self._contact(c.contact) if c.contact else None
        subject = pitched or self._self_subject()
        return ev.Presented(
            **self._meta(c.on, pitched), note=self._seal(subject, c.note), contact_id=pitched,
            minutes=self._minutes(c.minutes),
        )  # fmt: skip

    def _promise_made(self, c: cmd.Promise) -> ev.Fact:
        contact = self._contact(c.contact)
        meta = self._meta(c.on, contact)
        if c.promise_id is not None:
            if self.promises.get(c.promise_id.hex) is not None:
                raise BadInput(f"promise id {c.promise_id.hex} exists already")
            meta["originator_id"] = c.promise_id
        if not c.what.strip():
            raise BadInput("a promise needs a text: what did you promise?")
        if c.due < meta["on"]:
            raise BadInput(f"due date {c.due.isoformat()} is before the promise was made")
        check_date(c.due, "due date")
        what = self._seal(contact, c.what)
        assert what is not None
        fact = ev.PromiseMade(
            **meta, note=self._seal(contact, c.note), contact_id=contact, what=what, due=c.due
        )
        self.promises.add(PromiseView(
            fact.originator_id.hex, contact.hex, "", meta["on"].isoformat(), c.due.isoformat()
        ))  # fmt: skip
        return fact

    def _kept(self, c: cmd.Kept) -> ev.Fact:
        return self._close(c, ev.PromiseKept)

    def _dropped(self, c: cmd.Dropped) -> ev.Fact:
        return self._close(c, ev.PromiseDropped)

    def _close(self, c: cmd.Kept | cmd.Dropped, cls: type[ev.PromiseKept | ev.PromiseDropped]) -> ev.Fact:
        pid = self._promise(c.promise)
        promise = self.promises.get(pid)
        assert promise is not None
        self.promises.closed.add(pid)
        contact = UUID(promise.contact_id)
        meta = self._meta(c.on, fact_id=getattr(c, "fact_id", None))
        if meta["on"].isoformat() < promise.made_on:
            raise BadInput("a promise cannot be closed before it was made")  # so not before meeting
        return cls(**meta, note=self._seal(contact, c.note), promise_id=UUID(pid), contact_id=contact)

    def _pocket(self, c: cmd.Pocket) -> ev.Fact:
        contact = self._contact(c.contact)
        return ev.Pocketed(
            **self._meta(c.on), note=self._seal(contact, c.note), contact_id=contact, keep=c.keep
        )

    def _cadence(self, c: cmd.Cadence) -> ev.Fact:
        contact = self._contact(c.contact)
        if c.days is not None:
            if not isinstance(c.days, int) or isinstance(c.days, bool):
                raise BadInput(f"a cadence must be a whole number of days, got {c.days!r}")
            if not CADENCE_DAYS[0] <= c.days <= CADENCE_DAYS[1]:
                raise BadInput(f"cadence {out_of_range(c.days, *CADENCE_DAYS)} days")
        return ev.CadenceSet(
            **self._meta(c.on), note=self._seal(contact, c.note), contact_id=contact, days=c.days
        )

    def _goal_add(self, c: cmd.GoalAdd) -> ev.Fact:
        if not c.name.strip():
            raise BadInput("a goal needs a name")
        meta = self._meta(c.on)
        gid = meta["originator_id"]
        self.keyring.new_key(gid, "goal")
        name = self._seal(gid, c.name)
        assert name is not None
        kind = self._choice(c.kind, ev.GOAL_KINDS, "goal kind")
        self.goals[gid.hex] = GoalView(gid.hex, name.to_text(), kind, meta["on"].isoformat())
        return ev.GoalSet(**meta, note=self._seal(gid, c.note), name=name, kind=kind)

    def _goal_achieved(self, c: cmd.GoalAchieved) -> ev.Fact:
        gid = UUID(_resolve_goal(c.goal, self.goals, self.net.unseal_text))
        return ev.GoalAchieved(**self._meta(c.on), note=self._seal(gid, c.note), goal_id=gid)

    def _link(self, c: cmd.Link) -> ev.Fact:
        contact = self._contact(c.contact)
        gid = UUID(_resolve_goal(c.goal, self.goals, self.net.unseal_text))
        return ev.GoalLinked(
            **self._meta(c.on), note=self._seal(contact, c.note), contact_id=contact, goal_id=gid
        )

    def _meet(self, c: cmd.Meet) -> ev.Fact:
        name = c.name.strip()
        if not name:
            raise BadInput("a contact needs a name")
        existing = self.dir.named(name)
        if existing and not c.new:
            listed = ", ".join(self.dir.ref(e).label() for e in existing)
            raise BadInput(
                f"{listed} is already a contact: record a 'touch', or pass --new for another person"
            )
        channel = self._choice(c.channel, ev.CHANNELS, "channel")
        why = None if c.why is None else self._choice(c.why, ev.REASONS, "reason")
        goals = tuple(UUID(_resolve_goal(g, self.goals, self.net.unseal_text)) for g in c.goals)
        via = None if c.via is None else self._contact(c.via)
        meta = self._meta(c.on, via)
        contact = c.contact_id or uuid4()
        if self.dir.exists(contact.hex):
            raise BadInput(f"contact id {contact.hex} exists already")
        self.keyring.new_key(contact, "contact")
        sealed_name = self.keyring.seal(contact, name)
        fact = ev.ContactMet(
            **meta, note=self._seal(contact, c.note), contact_id=contact, name=sealed_name,
            channel=channel, where=self._seal(contact, c.where), why=why, goals=goals,
            minutes=self._minutes(c.minutes), via=via, details=self._details(contact, c.details),
            imported=c.imported,
        )  # fmt: skip
        self.dir.add(
            ContactView(contact.hex, sealed_name.to_text(), meta["on"].isoformat(), channel, why),
            name,
        )
        return fact

    def _details(self, contact: UUID, details: cmd.Details | None) -> ev.Sealed | None:
        """The details given, checked, as one sealed JSON object (None when none given)."""
        given = {} if details is None else details.given()

        def listed(key: str) -> list[str]:
            value = given.get(key)
            return value if isinstance(value, list) else []

        for email in listed("emails"):
            if not _EMAIL.match(email):
                raise BadInput(f"malformed e-mail address {email!r}")
        for phone in listed("phones"):
            if not _PHONE.match(phone):
                raise BadInput(f"malformed phone number {phone!r}: digits, spaces and + - ( ) / . only")
        for url in listed("urls"):
            if not _URL.match(url):
                raise BadInput(f"malformed profile URL {url!r}: give it with http:// or https://")
        if "birthday" in given:
            try:
                date.fromisoformat(str(given["birthday"]))
            except ValueError:
                raise BadInput(f"malformed birthday {given['birthday']!r}: YYYY-MM-DD") from None
        if not given:
            return None
        return self.keyring.seal(contact, json.dumps(given, ensure_ascii=False, sort_keys=True))

    def _set_details(self, c: cmd.SetDetails) -> ev.Fact:
        contact = self._contact(c.contact)
        details = self._details(contact, c.details)
        if details is None:
            raise BadInput("nothing to set: give --org, --role, --email, --phone, --url or --how-met")
        return ev.DetailsSet(**self._meta(c.on, contact, fact_id=c.fact_id), note=self._seal(contact, c.note),
                             contact_id=contact, details=details)  # fmt: skip

    def _set_birthday(self, c: cmd.SetBirthday) -> ev.Fact:
        contact = self._contact(c.contact)
        birthday = None if c.birthday is None else self.keyring.seal(contact, self._birthday(c.birthday))
        return ev.BirthdaySet(**self._meta(c.on, contact), note=self._seal(contact, c.note),
                              contact_id=contact, birthday=birthday)  # fmt: skip

    def _birthday(self, text: str) -> str:
        """A birthday as stored: "YYYY-MM-DD", the year YEAR_UNKNOWN for one given without
        (--MM-DD or MM-DD); a real date, from FIRST_DAY's year to the real today."""
        given = text.strip()
        m = _BIRTHDAY.match(given)
        year = YEAR_UNKNOWN if m is None or m.group(1) is None else int(m.group(1))
        try:
            if m is None:
                raise ValueError
            day = date(year, int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise BadInput(f"malformed birthday {shown(text)}: use YYYY-MM-DD, "
                           "or MM-DD without the year") from None  # fmt: skip
        if year != YEAR_UNKNOWN and not FIRST_DAY.year <= year <= self.real_today.year:
            raise BadInput(f"birthday {out_of_range(given, FIRST_DAY.year, self.real_today.year)} (the year)")
        if day > self.real_today:
            raise BadInput(f"birthday {given} is in the future (today is {self.real_today.isoformat()})")
        return day.isoformat()

    def _rename(self, c: cmd.Rename) -> ev.Fact:
        contact = self._contact(c.contact)
        name = c.name.strip()
        if not name:
            raise BadInput("a contact needs a name")
        others = [e for e in self.dir.named(name) if e != contact.hex]
        if others:
            listed = ", ".join(self.dir.ref(e).label() for e in others)
            raise BadInput(f"{listed} is already called {name!r}")
        return ev.Renamed(
            **self._meta(c.on, contact), note=self._seal(contact, c.note), contact_id=contact,
            name=self.keyring.seal(contact, name),
        )  # fmt: skip

    def _imported(self, c: cmd.Imported) -> ev.Fact:
        contact = self._contact(c.contact)
        return ev.ContactImported(**self._meta(c.on, contact), note=None, contact_id=contact, source=c.source)

    def _merge(self, c: cmd.Merge) -> ev.Fact:
        contact, other = self._contact(c.contact), self._contact(c.other)
        if contact == other:
            raise BadInput("a contact cannot be merged into itself")
        # The facts of OTHER count for CONTACT from where CONTACT's row exists in the log: its
        # first meeting must come first, or OTHER's earlier facts would count for no one.
        first, second = (min(self.net.views.positions_of(x), default=math.inf) for x in (contact, other))
        if first > second:
            names = [self.dir.ref(x.hex).label() for x in (contact, other)]
            raise BadInput(f"{names[1]} was recorded before {names[0]}: keep the one recorded first "
                           f"('syncnet merge {other.hex[:8]} {contact.hex[:8]}'; rename it after, "
                           "if you like)")  # fmt: skip
        fact = ev.ContactsMerged(**self._meta(c.on, contact, other, fact_id=c.fact_id),
                                 note=self._seal(contact, c.note),
                                 contact_id=contact, merged_id=other)  # fmt: skip
        self._corrections().add(fact)
        return fact

    def _forget(self, c: cmd.Forget) -> ev.Fact:
        contact = self._contact(c.contact)
        return ev.ContactForgotten(**self._meta(c.on, contact), note=None, contact_id=contact)

    def _why(self, c: cmd.Why) -> ev.Fact:
        contact = self._contact(c.contact)
        why = self._choice(c.why, ev.REASONS, "reason")
        meta = self._meta(c.on, contact)
        return ev.ReasonSet(**meta, note=self._seal(contact, c.note), contact_id=contact, why=why)

    def _events(self) -> dict[str, EventView]:
        if self._event_rows is None:  # a few: events are not per contact
            self._event_rows = {e.id: e for e in self.net.views.load_all("event")}
        return self._event_rows

    def _event_add(self, c: cmd.EventAdd) -> ev.Fact:
        if not c.name.strip():
            raise BadInput("an event needs a name")
        held_on = check_date(c.held_on, "event date")
        goals = tuple(UUID(_resolve_goal(g, self.goals, self.net.unseal_text)) for g in c.goals)
        orgs = [o.strip() for o in c.orgs if o.strip()]
        meta = self._meta(c.on)
        eid = meta["originator_id"]
        self.keyring.new_key(eid, "event")
        name = self._seal(eid, c.name)
        assert name is not None
        day = meta["on"].isoformat()
        self._events()[eid.hex] = EventView(eid.hex, name.to_text(), held_on.isoformat(), day)
        return ev.EventPlanned(
            **meta, note=self._seal(eid, c.note), name=name, held_on=held_on, where=self._seal(eid, c.where),
            goals=goals, offer=self._seal(eid, c.offer),
            orgs=self._seal(eid, json.dumps(orgs, ensure_ascii=False)) if orgs else None,
        )  # fmt: skip

    def _event_link(self, c: cmd.EventLink) -> ev.Fact:
        contact = self._contact(c.contact)
        eid = UUID(resolve_event(c.event, self._events(), self.net.unseal_text, self.today.isoformat()))
        meta = self._meta(c.on, contact)
        held_on = self._events()[eid.hex].held_on
        if c.met and held_on > meta["on"].isoformat():
            raise BadInput(f"that event is held on {held_on}, after {meta['on'].isoformat()}: no one "
                           "can have been met there yet ('event expect' says who will be)")  # fmt: skip
        return ev.EventLinked(**meta, note=self._seal(contact, c.note), event_id=eid, contact_id=contact,
                              met=bool(c.met))  # fmt: skip

    def _plan_meeting(self, c: cmd.PlanMeeting) -> ev.Fact:
        contact = self._contact(c.contact)
        meta = self._meta(c.on, contact)
        planned = check_date(c.planned_for, "--next")
        view = self.dir.view(contact.hex)
        last = max(view.last_interaction if view else "", self._interacted.get(contact.hex, ""))
        if last > meta["on"].isoformat():
            raise BadInput(f"a later interaction ({last}) is recorded already: plan "
                           "the next meeting from a touch dated that day or later")  # fmt: skip
        if planned < meta["on"]:
            raise BadInput(f"--next {planned.isoformat()} is before the day it is planned on, "
                           f"{meta['on'].isoformat()}")  # fmt: skip
        return ev.MeetingPlanned(**meta, note=self._seal(contact, c.note), contact_id=contact,
                                 planned_for=planned)  # fmt: skip

    def merged_into(self) -> dict[UUID, UUID]:
        """Each merged contact -> the contact it counts for (events.ContactsMerged)."""
        return self._corrections().into()

    def _corrections(self) -> Corrections:
        if self._known_corrections is None:
            self._known_corrections = Corrections.in_log(self.net.store.log.after)
        return self._known_corrections

    def _target(self, ref: str) -> ev.Fact:
        """The fact `ref` names: its id, or a prefix of at least FACT_PREFIX hex digits."""
        token = ref.strip().lower().replace("-", "")
        if len(token) < FACT_PREFIX or any(ch not in "0123456789abcdef" for ch in token):
            raise BadInput(
                f"{ref!r} is not a fact id: give at least {FACT_PREFIX} hex digits of it "
                "('syncnet history NAME' shows each fact's id)"
            )
        log = self.net.store.log
        positions = log.positions_of_ids(token)
        if len(positions) > 1:
            raise NotFound(f"fact {ref!r} is ambiguous: give more digits of its id")
        fact = log.at(positions[0]) if positions else None
        if fact is None:
            raise NotFound(f"no fact {ref!r}: 'syncnet history NAME' shows each fact's id")
        if not ev.can_change_agenda(fact):
            raise BadInput(f"fact {ref!r} is a record of a calendar push, not a fact about your network")
        return fact

    def _standing(self, fact: ev.Fact) -> None:
        retraction = self._corrections().retraction(fact.originator_id.hex)
        if retraction is not None:
            raise BadInput(
                f"fact {short(fact.originator_id.hex)} is retracted already (by "
                f"{short(retraction.originator_id.hex)}): retract that retraction to restore it"
            )

    def _subject_of(self, fact: ev.Fact) -> tuple[UUID | None, UUID]:
        """The contact a fact (or the fact a correction names) belongs to, and the key
        that seals text about it: the contact's, or mine."""
        contact: UUID | None = getattr(fact, "contact_id", None)
        return contact, contact if contact is not None else self._self_subject()

    def _retract(self, c: cmd.Retract) -> ev.Fact:
        target = self._target(c.fact)
        self._standing(target)
        if isinstance(target, ev.ContactsMerged) and not all(
            self.keyring.has_key(s) for s in (target.contact_id, target.merged_id)
        ):  # parted, the forgotten one would come back as a contact of its own
            raise BadInput("this merge joined a contact that was forgotten since: it cannot be undone")
        contact, subject = self._subject_of(target)
        fact = ev.Retracted(
            **self._meta(c.on), note=self._seal(subject, c.note), fact_id=target.originator_id,
            contact_id=contact, reason=self._seal(subject, c.reason),
        )  # fmt: skip
        self._corrections().add(fact)  # a later command of the batch sees it
        return fact

    def _amend(self, c: cmd.Amend) -> ev.Fact:
        target = self._target(c.fact)
        if isinstance(target, ev.CORRECTIONS):
            raise BadInput("a retraction or an amendment cannot be amended: retract it instead")
        self._standing(target)
        allowed = AMENDABLE.get(type(target))
        if allowed is None:  # e.g. a birthday: recorded anew, or retracted
            raise BadInput(f"facts of type {type(target).__name__} cannot be amended: retract it, or "
                           "record it anew")  # fmt: skip
        kind_word = type(target).__name__
        for name, value in (("minutes", c.minutes), ("kind", c.kind), ("channel", c.channel)):
            if value is not None and name not in allowed:
                raise BadInput(f"a {kind_word} fact has no {name} to amend")
        contact, subject = self._subject_of(target)
        new_on = None
        if c.new_on is not None:
            new_on = self._on(c.new_on)
            self._amended_day(target, contact, new_on)
        if c.kind == "introduction" and getattr(target, "introduced", None) is None:
            raise BadInput(
                "an introduction names whom it introduced: retract this fact and record it anew with --to"
            )
        note = self._seal(subject, c.note)
        changes = (new_on, c.minutes, c.kind, c.channel, note)
        if all(v is None for v in changes):
            raise BadInput("nothing to amend: give --on, --minutes, --kind, --channel or --note")
        fact = ev.Amended(
            **self._meta(c.on), note=note, fact_id=target.originator_id, contact_id=contact,
            new_on=new_on, new_minutes=self._minutes(c.minutes),
            new_kind=None if c.kind is None else self._choice(c.kind, ev.HELP_KINDS, "kind of help"),
            new_channel=None if c.channel is None else self._choice(c.channel, ev.CHANNELS, "channel"),
        )  # fmt: skip
        self._corrections().add(fact)
        return fact

    def _amended_day(self, target: ev.Fact, contact: UUID | None, day: date) -> None:
        """The checks of recording, for a fact moved to `day`: nothing with a contact before
        the first meeting, a meeting not after the contact's first later interaction, a
        promise made by its due day and closed after it was made."""
        if not isinstance(target, ev.ContactMet):
            self._after_meeting(contact, day)
        view = None if contact is None else self.dir.view(contact.hex)
        iso = day.isoformat()
        first_later = None if view is None else view.first_later
        if isinstance(target, ev.ContactMet) and first_later and iso > first_later:
            raise BadInput(f"{iso} is after later facts with this contact (the first on {first_later})")
        if isinstance(target, ev.PromiseMade) and day > target.due:
            raise BadInput(f"a promise due on {target.due.isoformat()} cannot be made on {iso}")
        promise_id = getattr(target, "promise_id", None)
        made = None if promise_id is None else self.promises.get(promise_id.hex)
        if made is not None and iso < made.made_on:
            raise BadInput(f"a promise made on {made.made_on} cannot be closed on {iso}")

    def _self_subject(self) -> UUID:
        if not self.keyring.has_key(ME) and not any(k[0] == ME.hex for k in self.keyring.pending):
            self.keyring.new_key(ME, "self")
        return ME

    def _promise(self, ref: str) -> str:
        matches = self.promises.open_matching(ref.strip().lower())
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFound(f"promise {ref!r} is ambiguous: {', '.join(short(m) for m in matches)}")
        raise NotFound(f"no open promise {ref!r}: 'syncnet due' lists open promises with their ids")


# The translation of each command type: a table, so adding a command is one method and one line.
TRANSLATIONS: dict[type[Any], Callable[[Translator, Any], ev.Fact]] = {
    cmd.Meet: Translator._meet,
    cmd.Touch: Translator._touch,
    cmd.Give: Translator._give,
    cmd.Receive: Translator._receive,
    cmd.Ask: Translator._ask,
    cmd.Asked: Translator._asked,
    cmd.Pitch: Translator._pitch,
    cmd.Promise: Translator._promise_made,
    cmd.Kept: Translator._kept,
    cmd.Dropped: Translator._dropped,
    cmd.Pocket: Translator._pocket,
    cmd.Cadence: Translator._cadence,
    cmd.GoalAdd: Translator._goal_add,
    cmd.GoalAchieved: Translator._goal_achieved,
    cmd.Link: Translator._link,
    cmd.SetDetails: Translator._set_details,
    cmd.Rename: Translator._rename,
    cmd.Why: Translator._why,
    cmd.Retract: Translator._retract,
    cmd.Amend: Translator._amend,
    cmd.Forget: Translator._forget,
    cmd.Imported: Translator._imported,
    cmd.Merge: Translator._merge,
    cmd.SetBirthday: Translator._set_birthday,
    cmd.EventAdd: Translator._event_add,
    cmd.EventLink: Translator._event_link,
    cmd.PlanMeeting: Translator._plan_meeting,
}

FACT_PREFIX = 6  # hex digits of a fact id that name it (history shows 8)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,30}$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_BIRTHDAY = re.compile(r"^(?:([0-9]{4})-|--)?([0-9]{2})-([0-9]{2})$")  # ASCII digits only


def record_commands(
    net: Network, commands: Iterable[cmd.Command], batch_size: int, progress: Callable[[int], None] | None
) -> list[Recorded]:
    """Check every command, then append the facts in transactions of `batch_size`, each
    with the wrapped keys of the contacts and goals it creates.

    Nothing is written when any command is bad. A failure while writing (disk
    full, lock timeout) can leave the earlier batches written, never half a batch.
    """
    commands = list(commands)
    for attempt in range(3):
        try:
            return _record_once(net, commands, batch_size, progress)
        except ContactsMoved:
            if attempt == 2:
                raise StoreError("other processes keep meeting contacts: nothing was recorded; "
                                 "run the command again") from None  # fmt: skip
    raise AssertionError("unreachable")


def _record_once(
    net: Network, commands: Sequence[cmd.Command], batch_size: int, progress: Callable[[int], None] | None
) -> list[Recorded]:
    """One attempt of `record_commands`: ContactsMoved (nothing written) when another
    process met a contact after the checks, which are then made again."""
    net.refresh()
    guard = net.views.position()  # what the checks of a new name saw
    goals = {g.id: g for g in net.views.load_all("goal")}  # a few: goals are not per contact
    translator = Translator(net, net.finder(), Promises(net.views, net.store.log.ids_with_prefix), goals)
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
            chunk_ids |= {c.originator_id.hex for c in chunk if isinstance(c, ev.GoalSet | ev.EventPlanned)}
            chunk_ids |= {ME.hex, PRIVATE.hex}
            keyring = net.store.keyring
            keys = [k for k in keyring.pending if k[0] in chunk_ids]
            # a contact forgotten: its data key is destroyed in the transaction of the fact
            erase = [c.contact_id.hex for c in chunk if isinstance(c, ev.ContactForgotten)]
            if erase:  # and the keys of the contacts merged into it: their texts are its texts
                erase += [b.hex for b, a in translator.merged_into().items() if a.hex in erase]
            # A new contact's name was checked against the contacts the views held: had
            # another process met one since, the check is made again (first chunk only:
            # later ones follow our own writes, and a retry would record earlier ones twice).
            meets = not written and any(isinstance(c, ev.ContactMet) for c in chunk)
            net.store.log.append(chunk, wrapped_keys=keys, erase_keys=erase,
                                 no_contacts_after=guard if meets else None)  # fmt: skip
            keyring.pending = [k for k in keyring.pending if k[0] not in chunk_ids]
            written += len(chunk)
            if progress:
                progress(written)
    finally:
        net.store.keyring.discard_pending()
    return results
