"""History: every fact about a contact, in the words a person reads.

`history_entry` turns one fact into an entry: its kind by a table of words, its
plain fields, its sealed fields unsealed, and the contacts it names as labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from syncnet.app.directory import Directory, short
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


def history_entry(fact: ev.Fact, directory: Directory, unseal: Unseal) -> HistoryEntry:
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
