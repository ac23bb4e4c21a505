"""Events and the briefing before one (`syncnet event`, `syncnet prep`; docs/rules.md,
"Preparing for an event").

An event links contacts four ways: met there (`meet --at`), expected there (`event
expect`), met at an earlier edition or at a place of its name, or working at one of the
organisations named with the event (`event add --org`). The briefing gathers, for each
of them, what the views hold (reason, pocket, balance, open promises, last interaction)
and what the last notes said (read from the facts of that contact only, through the
history index), plus openers (domain/openers.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from syncnet.app.agenda import PLACEHOLDERS
from syncnet.app.directory import ContactRef, resolve_event
from syncnet.domain import projections as pj
from syncnet.domain.corrections import Corrections
from syncnet.domain.openers import openers
from syncnet.domain.rows import ContactView, EventView, GoalView, LedgerView, TallyView
from syncnet.storage.viewstore import fold_name

if TYPE_CHECKING:
    from syncnet.app.network import Network

NOTES_SHOWN = 2  # the latest notes of interactions a briefing shows per person


@dataclass(frozen=True)
class Event:
    view: EventView
    name: str
    where: str | None
    offer: str | None
    orgs: list[str]
    goals: list[tuple[GoalView, str]]  # the goals linked to it, with their names


@dataclass
class Person:
    contact: ContactRef
    why: str | None
    pocket: str  # keep | drop | unsorted (as `contacts` says)
    org: str | None
    role: str | None
    links: list[str]  # met there | expected | works at ORG
    balance: pj.Balance
    last_interaction: str
    open_promises: list[tuple[str, str | None, str]]  # (id, what, due), by due day
    talked_about: list[tuple[str, str]] = field(default_factory=list)  # (day, note), latest first
    openers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Briefing:
    today: date
    event: Event
    looking_for: list[tuple[str, str]]  # (goal name, kind): the event's goals, else my open goals
    people: list[Person]
    openers: list[str]  # for the people I do not know yet


def _event(net: Network, view: EventView, goals: dict[str, GoalView]) -> Event:
    unseal = net.unseal_text
    orgs_text = unseal(view.orgs) if view.orgs else None
    orgs = json.loads(orgs_text) if orgs_text and orgs_text.startswith("[") else []
    linked = [(goals[g], unseal(goals[g].name) or "[forgotten]") for g in view.goals if g in goals]
    return Event(view, unseal(view.name) or "[unreadable]", unseal(view.where) if view.where else None,
                 unseal(view.offer) if view.offer else None, [str(o) for o in orgs], linked)  # fmt: skip


def events(net: Network, day: date | None = None) -> list[Event]:
    """Every event recorded by `day` (default today), by the day it is held; its links
    without forgotten contacts."""
    reads = net.reads(day)
    goals = {g.id: g for g in reads.load_all("goal")}
    rows: list[EventView] = reads.load_all("event")
    linked = {c for v in rows for c in (*v.met, *v.expected)}
    gone = {c for c in linked if (row := reads.row("contact", c)) is None or row.forgotten}
    # copies: the rows read stay as the views hold them
    rows = [replace(v, met=[c for c in v.met if c not in gone],
                    expected=[c for c in v.expected if c not in gone]) for v in rows]  # fmt: skip
    found = [_event(net, v, goals) for v in rows]
    found.sort(key=lambda e: (e.view.held_on, e.name.casefold(), e.view.id))
    return found


def event_id(net: Network, ref: str) -> str:
    """The id of the event named `ref` (name, any case, or id prefix; of several with
    one name, the next to come, else the latest held)."""
    rows = {e.id: e for e in net.reads().load_all("event")}
    return resolve_event(ref, rows, net.unseal_text, net.today().isoformat())


def event_at(net: Network, place: str | None, day: date) -> str | None:
    """The event a first meeting on `day` names with its `--where`: one of exactly that
    name held by then (the latest), if any."""
    if not place or not place.strip():
        return None
    wanted, by = fold_name(place), day.isoformat()
    rows = net.reads().load_all("event")
    named = [v for v in rows if v.held_on <= by and fold_name(net.unseal_text(v.name) or "") == wanted]
    return max(named, key=lambda v: (v.held_on, v.id)).id if named else None


def met_at(net: Network, ref: str) -> tuple[Event, list[tuple[ContactRef, ContactView]]]:
    """The event and the contacts met there (`pocket --event`), by name."""
    reads = net.reads()
    eid = event_id(net, ref)
    view: EventView = reads.row("event", eid)
    directory = net.directory(reads)
    people = [(directory.ref(c), directory.by_id[c]) for c in view.met
              if c in directory.by_id and not directory.by_id[c].forgotten]  # fmt: skip
    people.sort(key=lambda p: ((p[0].name or "").casefold(), p[0].id))
    goals = {g.id: g for g in reads.load_all("goal")}
    return _event(net, view, goals), people


def briefing(net: Network, ref: str) -> Briefing:
    """The one page to read before going to the event `ref` (see the module doc)."""
    from syncnet.app.history import merged_details

    day = net.today()
    reads = net.reads(day)
    rows: dict[str, EventView] = {e.id: e for e in reads.load_all("event")}  # read once: few, not per contact
    eid = resolve_event(ref, rows, net.unseal_text, day.isoformat())
    goals = {g.id: g for g in reads.load_all("goal")}
    event = _event(net, rows[eid], goals)
    directory = net.directory(reads)
    links: dict[str, list[str]] = {}
    for cid in event.view.met:
        links.setdefault(cid, []).append("met there")
    for cid in event.view.expected:
        links.setdefault(cid, []).append("expected")
    # Who was met at an earlier edition (an event of the same name), or at a place named
    # like it (a first meeting's --where, "PyCon DE", from before the event was added).
    name = fold_name(event.name)
    for other in rows.values():
        if (
            other.id != eid
            and other.held_on < event.view.held_on
            and fold_name(net.unseal_text(other.name) or "") == name
        ):
            for cid in other.met:
                links.setdefault(cid, []).append(f"met at {event.name} on {other.held_on}")
    wanted = [fold_name(o) for o in event.orgs]
    details: dict[str, dict[str, Any]] = {}
    for cid, view in directory.by_id.items():
        if view.forgotten:
            continue
        if (
            view.where is not None
            and cid not in links
            and view.met_on <= event.view.held_on  # a later meeting there is a later edition's
            and fold_name(net.unseal_text(view.where) or "") == name
        ):
            links.setdefault(cid, []).append(f"met at {event.name} on {view.met_on}")
        if wanted or cid in links:  # only these are unsealed: a network of thousands costs little
            details[cid] = merged_details(view, net.unseal_text)
        org = str(details.get(cid, {}).get("org") or "")
        if wanted and org and any(_has_words(fold_name(org), w) for w in wanted):
            links.setdefault(cid, []).append(f"works at {org}")
    people_ids = [c for c in links if c in directory.by_id and not directory.by_id[c].forgotten]
    today = day.isoformat()
    tallies: list[TallyView] = [t for c in people_ids if (t := reads.row("tally", c)) is not None]

    def ledger(contact_id: str) -> LedgerView:
        row: LedgerView | None = reads.row("ledger", contact_id)
        return row or LedgerView(contact_id)

    balances = pj.balances(tallies, None, day, net.config.minutes, ledger)
    promises: dict[str, list[tuple[str, str | None, str]]] = {}
    for p in reads.load_all("promise", only_open=True):
        if p.contact_id in links and p.made_on <= today:
            promises.setdefault(p.contact_id, []).append((p.id, net.unseal_text(p.what), p.due))
    corrections = Corrections.in_log(net.store.log.after, net.known_at)
    # every person's facts, through the history index, read together (a query per 500)
    indexed = {cid: net.views.positions_of(UUID(cid)) for cid in people_ids}
    facts = dict(net.store.log.at_many(p for positions in indexed.values() for p in positions))
    people = []
    for cid in people_ids:
        view = directory.by_id[cid]
        info = details.get(cid, {})
        person = Person(
            directory.ref(cid), view.why, "unsorted" if view.unsorted else "keep" if view.keep else "drop",
            info.get("org"), info.get("role"), links[cid], balances.get(cid) or pj.Balance(cid),
            view.last_interaction, sorted(promises.get(cid, []), key=lambda p: (p[2], p[0])),
        )  # fmt: skip
        person.talked_about = _notes(net, [facts[p] for p in indexed[cid] if p in facts], day, corrections)
        last = person.talked_about[0][1] if person.talked_about else None
        person.openers = openers(f"{eid}:{cid}", last)
        people.append(person)
    # Open promises first (keep every promise), then whom I know best: the latest met.
    people.sort(key=lambda p: (not p.open_promises, -_ordinal(p.last_interaction),
                               (p.contact.name or "").casefold(), p.contact.id))  # fmt: skip
    looking = event.goals or [(g, net.unseal_text(g.name) or "[forgotten]") for g in goals.values()
                              if g.achieved_on is None or g.achieved_on > today]  # fmt: skip
    return Briefing(day, event, [(name, g.kind) for g, name in looking], people, openers(eid, None))


def _has_words(text: str, words: str) -> bool:
    """Whether `words` stand in `text` as whole words ("acme" in "acme corp", never "ai"
    in "daimler"); both folded (any case, any accent)."""
    return bool(words) and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def _ordinal(day: str) -> int:
    return date.fromisoformat(day).toordinal() if day else 0


def _notes(net: Network, facts: list[Any], day: date, corrections: Corrections) -> list[tuple[str, str]]:
    """The latest notes of interactions among a contact's `facts`, dated by `day`: what we
    talked about."""
    from syncnet.domain.events import is_interaction

    found: list[tuple[str, str, str]] = []
    for fact in facts:
        if net.known_at is not None and fact.timestamp > net.known_at:
            continue
        effective = corrections.effective(fact)
        if effective is None or effective.on > day or effective.note is None or not is_interaction(effective):
            continue
        text = net.store.keyring.unseal(effective.note)
        if text and text.strip() and text not in PLACEHOLDERS:  # never "[private]" as a topic
            found.append((effective.on.isoformat(), effective.timestamp.isoformat(), text.strip()))
    found.sort(reverse=True)
    return [(on, text) for on, _, text in found[:NOTES_SHOWN]]
