"""History: every fact about a contact, in the words a person reads.

`history_entry` turns one fact into an entry: its kind by a table of words, its
plain fields, its sealed fields unsealed, and the contacts it names as labels.
`history_entries` gives a contact's entries of one fact: one, except for the record of
a sync (`TargetSynced`), which gives one "pushed" entry per change of that contact, in
the shape of the older per-item record (`ReminderPushed`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from syncnet.app.directory import ContactRef, Refs, short
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.domain.rules import YEAR_UNKNOWN
from syncnet.domain.sealed import Sealed

if TYPE_CHECKING:
    from syncnet.domain.corrections import Corrections
    from syncnet.domain.rows import ContactView


@dataclass(frozen=True)
class HistoryEntry:
    on: date
    recorded: datetime
    kind: str
    fact_id: str
    details: dict[str, Any] = field(default_factory=dict)
    # A fact a standing retraction names: {"by": short id, "recorded": ..., "reason": ...}
    retracted: dict[str, Any] | None = None
    # The standing amendments of the fact, in the order recorded: {"by", "recorded", "changes"}
    amended: list[dict[str, Any]] = field(default_factory=list)


KIND_WORDS: dict[type[ev.Fact], str] = {
    ev.ContactMet: "met", ev.Touched: "touch", ev.HelpGiven: "gave", ev.HelpReceived: "received",
    ev.RequestMade: "asked them", ev.RequestReceived: "they asked", ev.Presented: "pitch",
    ev.PromiseMade: "promise", ev.PromiseKept: "kept", ev.PromiseDropped: "dropped",
    ev.Pocketed: "pocket", ev.CadenceSet: "cadence", ev.GoalSet: "GoalSet",
    ev.GoalAchieved: "GoalAchieved", ev.GoalLinked: "goal link", ev.ReminderPushed: "pushed",
    ev.DetailsSet: "details", ev.Renamed: "renamed", ev.ReasonSet: "reason", ev.Retracted: "retraction",
    ev.Amended: "amendment", ev.ContactForgotten: "forgotten", ev.ContactImported: "imported",
    ev.ContactsMerged: "merged", ev.BirthdaySet: "birthday", ev.EventPlanned: "event",
    ev.EventLinked: "event link", ev.MeetingPlanned: "next meeting",
}  # fmt: skip
PLAIN = ("channel", "why", "by", "kind", "minutes", "keep", "days", "target", "action", "result", "source",
         "new_on", "new_minutes", "new_kind", "new_channel", "met", "planned_for", "held_on")  # fmt: skip
SEALED = ("name", "where", "what", "summary", "reason", "birthday")
CONTACTS = ("introduced", "contact_id", "via", "merged_id")


Unseal = Callable[[Sealed | None], str | None]


def history_entry(fact: ev.Fact, directory: Refs, unseal: Unseal) -> HistoryEntry:
    details: dict[str, Any] = {}
    for name in PLAIN:
        if hasattr(fact, name):
            value = getattr(fact, name)
            details[name] = value.isoformat() if isinstance(value, date) else value
    sealed_details = getattr(fact, "details", None)  # a DetailsSet, or a first meeting's
    if isinstance(sealed_details, Sealed):
        details.update(details_of(unseal(sealed_details)))
    for name in ("new_on", "new_minutes", "new_kind", "new_channel"):  # an amendment: what it sets
        if details.get(name, 0) is None:
            del details[name]
    fact_id = getattr(fact, "fact_id", None)
    if fact_id is not None:  # a correction: the fact it names
        details["fact"] = short(fact_id.hex)
    for name in SEALED:
        if getattr(fact, name, None) is not None:
            details[name] = unseal(getattr(fact, name))
    if str(details.get("birthday", "")).startswith(f"{YEAR_UNKNOWN:04d}-"):  # as vCard writes it
        details["birthday"] = "--" + str(details["birthday"])[5:]
    if fact.note is not None:
        details["note"] = unseal(fact.note)
    if isinstance(fact, ev.PromiseMade):
        details["promise"] = short(fact.originator_id.hex)
        details["due"] = fact.due.isoformat()
    event_id = getattr(fact, "event_id", None)
    if event_id is not None:
        details["event"] = short(event_id.hex)
    promise_id = getattr(fact, "promise_id", None)
    if promise_id is not None:
        details["promise"] = short(promise_id.hex)
    for name in CONTACTS:
        other = getattr(fact, name, None)
        if other is not None:
            details[name] = directory.ref(other.hex).label()
    kind = KIND_WORDS.get(type(fact), type(fact).__name__)
    return HistoryEntry(fact.on, fact.timestamp, kind, fact.originator_id.hex, details)


class MetNames:
    """Refs that name a contact merged into this one by its own first meeting (in this
    history), where the directory, which has no row of it, cannot."""

    def __init__(self, directory: Refs, facts: list[ev.Fact], unseal: Unseal) -> None:
        self._directory = directory
        self._met = {f.contact_id.hex: f.name for f in facts if isinstance(f, ev.ContactMet)}
        self._unseal = unseal

    def ref(self, contact_id: str) -> ContactRef:
        found = self._directory.ref(contact_id)
        if found.name is None and found.absent and contact_id in self._met:
            return dataclasses.replace(found, name=self._unseal(self._met[contact_id]))
        return found


def history_entries(fact: ev.Fact, contact_id: UUID, directory: Refs, unseal: Unseal) -> list[HistoryEntry]:
    """The entries of one fact in the history of one contact."""
    if not isinstance(fact, ev.TargetSynced):
        return [history_entry(fact, directory, unseal)]
    label = directory.ref(contact_id.hex).label()
    kind = KIND_WORDS[ev.ReminderPushed]
    entries = []
    for push in fact.pushes():
        if push.contact_id != contact_id:
            continue  # another contact's change: neither shown nor unsealed
        details: dict[str, Any] = {"target": fact.target, "action": push.action, "result": push.result}
        if push.summary is not None:
            details["summary"] = unseal(push.summary)
        details["contact_id"] = label
        entries.append(HistoryEntry(fact.on, fact.timestamp, kind, fact.originator_id.hex, details))
    return entries


def details_of(text: str | None) -> dict[str, Any]:
    """The fields of a sealed DetailsSet ({} when erased, or unreadable: its key
    destroyed by `forget`, or damaged, the text is a placeholder, not JSON)."""
    import json

    if text is None or not text.startswith("{"):
        return {}
    found: dict[str, Any] = json.loads(text)
    return found


def corrected(entry: HistoryEntry, corrections: Corrections, unseal: Unseal) -> HistoryEntry:
    """The entry with what the standing corrections say of its fact."""
    import dataclasses

    from syncnet.domain.corrections import corrected_fields

    retraction = corrections.retraction(entry.fact_id)
    retracted = None
    if retraction is not None:
        retracted = {"by": short(retraction.originator_id.hex), "recorded": retraction.timestamp,
                     "reason": unseal(retraction.reason)}  # fmt: skip
    amended = []
    for a in corrections.standing_amendments(entry.fact_id):
        fields = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in corrected_fields(a).items()}
        if "note" in fields:
            fields["note"] = unseal(a.note)
        amended.append({"by": short(a.originator_id.hex), "recorded": a.timestamp, "changes": fields})
    return dataclasses.replace(entry, retracted=retracted, amended=amended)


def merged_details(view: ContactView, unseal: Callable[[str], str | None]) -> dict[str, Any]:
    """A contact's details in force: per field, the latest DetailsSet that gave it (the
    first meeting's among them); an erased contact has none. What a merge brought
    (`adds`: only what the kept contact lacked) adds to the lists and fills empty texts,
    so that retracting one of two merges takes back its own details only."""
    out: dict[str, Any] = {}
    for _, sealed in sorted(view.details):
        given = details_of(unseal(sealed))
        if not given.pop(cmd.ADDS, False):
            out.update(given)
            continue
        for key, value in given.items():
            if isinstance(value, list):
                known = out.get(key, [])
                out[key] = known + [v for v in value if v not in known]
            elif not out.get(key):
                out[key] = value
    return out
