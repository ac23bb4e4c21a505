"""History: every fact about a contact, in the words a person reads.

`history_entry` turns one fact into an entry: its kind by a table of words, its
plain fields, its sealed fields unsealed, and the contacts it names as labels.
`history_entries` gives a contact's entries of one fact: one, except for the record of
a sync (`TargetSynced`), which gives one "pushed" entry per change of that contact, in
the shape of the older per-item record (`ReminderPushed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from syncnet.app.directory import Refs, short
from syncnet.domain import events as ev
from syncnet.domain.sealed import Sealed


@dataclass(frozen=True)
class HistoryEntry:
    on: date
    recorded: datetime
    kind: str
    fact_id: str
    details: dict[str, Any] = field(default_factory=dict)


KIND_WORDS: dict[type[ev.Fact], str] = {
    ev.ContactMet: "met", ev.Touched: "touch", ev.HelpGiven: "gave", ev.HelpReceived: "received",
    ev.RequestMade: "asked them", ev.RequestReceived: "they asked", ev.Presented: "pitch",
    ev.PromiseMade: "promise", ev.PromiseKept: "kept", ev.PromiseDropped: "dropped",
    ev.Pocketed: "pocket", ev.CadenceSet: "cadence", ev.GoalSet: "GoalSet",
    ev.GoalAchieved: "GoalAchieved", ev.GoalLinked: "goal link", ev.ReminderPushed: "pushed",
}  # fmt: skip
PLAIN = ("channel", "why", "by", "kind", "minutes", "keep", "days", "target", "action", "result")
SEALED = ("name", "where", "what", "summary")
CONTACTS = ("introduced", "contact_id")


Unseal = Callable[[Sealed | None], str | None]


def history_entry(fact: ev.Fact, directory: Refs, unseal: Unseal) -> HistoryEntry:
    details: dict[str, Any] = {}
    for name in PLAIN:
        if hasattr(fact, name):
            details[name] = getattr(fact, name)
    for name in SEALED:
        if getattr(fact, name, None) is not None:
            details[name] = unseal(getattr(fact, name))
    if fact.note is not None:
        details["note"] = unseal(fact.note)
    if isinstance(fact, ev.PromiseMade):
        details["promise"] = short(fact.originator_id.hex)
        details["due"] = fact.due.isoformat()
    promise_id = getattr(fact, "promise_id", None)
    if promise_id is not None:
        details["promise"] = short(promise_id.hex)
    for name in CONTACTS:
        other = getattr(fact, name, None)
        if other is not None:
            details[name] = directory.ref(other.hex).label()
    kind = KIND_WORDS.get(type(fact), type(fact).__name__)
    return HistoryEntry(fact.on, fact.timestamp, kind, fact.originator_id.hex, details)


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
