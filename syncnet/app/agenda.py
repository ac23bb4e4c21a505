"""The agenda: the reminders that are due, with the words a person reads.

The rules that make reminders due are in the domain (`syncnet.domain.rules`, see
docs/rules.md); this module only unseals the names, places and promise texts that
the summaries show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from syncnet.app.directory import ContactRef, Directory
from syncnet.domain import projections as pj
from syncnet.domain.config import Config
from syncnet.domain.rows import ContactView, PromiseView
from syncnet.domain.rules import RuleKind

Unseal = Callable[[str | None], str | None]


@dataclass(frozen=True)
class AgendaItem:
    reminder: pj.Reminder
    contact: ContactRef
    state: str
    summary: str
    promise: str | None = None


def agenda_items(
    contacts: Sequence[ContactView],
    promises: Sequence[PromiseView],
    config: Config,
    today: date,
    until: date | None,
    unseal: Unseal,
) -> list[AgendaItem]:
    """Every open reminder open by `until` (default: today), overdue first, with its summary."""
    reminders = pj.agenda(contacts, promises, today, config, until)
    directory = Directory(contacts, unseal)
    by_promise = {p.id: p for p in promises}
    items = []
    for r in reminders:
        contact = directory.ref(r.contact_id)
        what = unseal(by_promise[r.promise_id].what) if r.promise_id else None
        view = directory.by_id.get(r.contact_id)
        where = unseal(view.where) if view and r.rule == RuleKind.FOLLOWUP else None
        summary = reminder_summary(r, contact, view, what, where)
        items.append(AgendaItem(r, contact, r.state(today), summary, what))
    return items


def reminder_summary(
    r: pj.Reminder, contact: ContactRef, view: ContactView | None, what: str | None, where: str | None
) -> str:
    """The one line a calendar shows: who, which rule, and what to do."""
    name = contact.name or "[forgotten]"
    if r.rule == RuleKind.FOLLOWUP:
        place = where or (view.channel if view and view.channel != "other" else None)
        return f"Follow up with {name} — met{f' at {place}' if place else ''} on {r.period}"
    if r.rule == RuleKind.SEASON:
        season, year = r.period.rsplit("-", 1)
        return f"Touch {name} this {season} ({season} {year}, 3×1 rule)"
    if r.rule == RuleKind.PROMISE:
        return f"Keep your promise to {name}: {what or '[forgotten]'}"
    last = view.last_interaction if view else "?"
    return f"Time to touch {name} again (cadence; last interaction {last})"
