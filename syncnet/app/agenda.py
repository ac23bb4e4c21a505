"""The agenda: the reminders that are due, with the words a person reads.

The rules that make reminders due are in the domain (`syncnet.domain.rules`, see
docs/rules.md); this module only unseals the names, places and promise texts that
the summaries show, and the birthdays the birthday rule needs (the fold keeps them
sealed): those of kept contacts that have one, and only while the rule is on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from syncnet.app.directory import ContactRef, Directory
from syncnet.app.recorded import PRIVATE
from syncnet.domain import projections as pj
from syncnet.domain.config import Config
from syncnet.domain.rows import ContactView, PromiseView
from syncnet.domain.rules import RuleKind, birthday_parts
from syncnet.storage.keys import FORGOTTEN, PRIVATE_TEXT, UNREADABLE

Unseal = Callable[[str | None], str | None]
PLACEHOLDERS = frozenset((FORGOTTEN, UNREADABLE, PRIVATE_TEXT))  # what an unreadable text reads as


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
    birthdays = birthdays_to_remind(contacts, config, unseal)
    reminders = pj.agenda(contacts, promises, today, config, until, birthdays)
    directory = Directory(contacts, unseal)
    by_promise = {p.id: p for p in promises}
    items = []
    for r in reminders:
        contact = directory.ref(r.contact_id)
        what = unseal(by_promise[r.promise_id].what) if r.promise_id else None
        view = directory.by_id.get(r.contact_id)
        followup = view is not None and r.rule == RuleKind.FOLLOWUP
        where = unseal(view.where) if followup and view else None
        topics = shared_note(view.met_note, unseal) if followup and view else None
        summary = reminder_summary(r, contact, view, what, where, birthdays.get(r.contact_id), topics)
        items.append(AgendaItem(r, contact, r.state(today), summary, what))
    return items


def shared_note(sealed: str | None, unseal: Unseal) -> str | None:
    """A note as a reminder or briefing may quote it: never a note kept to its device
    (`--private`: calendars and feeds leave it), nor the placeholder of one that cannot
    be read (erased, damaged, another device's private note)."""
    if not sealed or sealed.startswith(PRIVATE.hex + ":"):
        return None
    text = unseal(sealed)
    return None if not text or not text.strip() or text in PLACEHOLDERS else text


def birthdays_to_remind(
    contacts: Iterable[ContactView], config: Config, unseal: Unseal
) -> dict[str, tuple[int, int]]:
    """(month, day) of the birthday of each contact the birthday rule asks about: kept,
    not forgotten, with a birthday. Only their rows are unsealed, and none while
    `rules.birthdays` is off: a network of thousands without birthdays costs nothing."""
    if not config.birthdays:
        return {}
    out = {}
    for c in contacts:
        if c.birthday and c.keep and not c.forgotten:
            parts = birthday_parts(unseal(c.birthday))
            if parts is not None:
                out[c.id] = parts
    return out


def birthday_of(view: ContactView, unseal: Unseal) -> str | None:
    """A contact's birthday as stored ("YYYY-MM-DD", year 1604 when unknown), or None."""
    if not view.birthday:
        return None
    text = unseal(view.birthday)
    return text if birthday_parts(text) is not None else None


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip  # not the locale's: calendars are shared


def reminder_summary(
    r: pj.Reminder, contact: ContactRef, view: ContactView | None, what: str | None, where: str | None,
    birthday: tuple[int, int] | None = None, topics: str | None = None,
) -> str:
    """The one line a calendar shows: who, which rule, and what to do. A follow-up names
    the topics noted at the first meeting (its note) and asks to plan the next meeting
    (docs/rules.md, "First follow-up")."""
    name = contact.name or "[forgotten]"
    if r.rule == RuleKind.BIRTHDAY:
        month, day = birthday or (r.due.month, r.due.day)
        return f"Wish {name} a happy birthday ({day} {MONTHS[month - 1]})"
    if r.rule == RuleKind.FOLLOWUP:
        # where we met, else how (a channel is no place: "met on DAY (professional-network)")
        how = f" ({view.channel})" if not where and view and view.channel != "other" else ""
        about = f"; pick up: {_clipped(topics)}" if topics else ""
        return (f"Follow up with {name} — met{f' at {where}' if where else ''} on {r.period}{how}{about}; "
                "plan the next meeting")  # fmt: skip
    if r.rule == RuleKind.MEETING:
        return f"Meet {name} as planned ({r.due.isoformat()})"
    if r.rule == RuleKind.SEASON:
        season, year = r.period.rsplit("-", 1)
        return f"Touch {name} this {season} ({season} {year}, 3×1 rule)"
    if r.rule == RuleKind.PROMISE:
        return f"Keep your promise to {name}: {what or '[forgotten]'}"
    last = view.last_interaction if view else "?"
    return f"Time to touch {name} again (cadence; last interaction {last})"


TOPICS_SHOWN = 80  # characters of the first meeting's note a follow-up's one line shows


def _clipped(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= TOPICS_SHOWN else one_line[: TOPICS_SHOWN - 1].rstrip() + "…"
