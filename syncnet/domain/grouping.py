"""At most `max_items` items in a calendar target, however large the network. Pure.

docs/rules.md, "Calendar size": below the cap a target holds one item per reminder,
exactly as without a cap. Above it, the follow-ups and promises stay single (each
asks for one particular act) and the season and cadence reminders (each "touch this
contact") are grouped: one item per ISO week of their due day ("Touch 37 contacts
this week"), its description listing each of them with the name, the due day and the
way back (`syncnet history <short id>`). When the weekly groups and the single items
still exceed the cap, the grouping is coarser: per month, then per year, then one item
for them all. Only when the follow-ups and promises alone reach the cap does a target
hold more: every one of them, and the season and cadence reminders in a single item.
`syncnet due` and the feed still list every reminder on its own.

A group's UID derives from the grouping and its period (`group:week:2026-W48`), never
from its members: a member done or a new one due changes the group's content (so its
hash and stamp), not its identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from syncnet.domain.reminders import CalendarItem, uid_for
from syncnet.domain.rules import RuleKind

GROUPED = frozenset({RuleKind.SEASON, RuleKind.CADENCE})  # "touch this contact"; the rest stays single
GROUP_RULE = "group"
LEVELS = ("week", "month", "year", "all")  # from the finest grouping to the coarsest
WHEN = {"week": " this week", "month": " this month", "year": " this year", "all": ""}


def period_of(day: date, level: str) -> str:
    """The period of `level` that `day` falls in: 2026-W48, 2026-11, 2026, all."""
    if level == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if level == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if level == "year":
        return f"{day.year:04d}"
    return "all"


def group_key(level: str, period: str) -> str:
    """A group's key, from which its UID derives: never from its members."""
    return f"{GROUP_RULE}:{level}:{period}"


def group_item(level: str, period: str, members: Sequence[CalendarItem]) -> CalendarItem:
    """One calendar item for season and cadence reminders due in one period: due when the
    first of them is, open when the first opens, each listed in the description."""
    members = sorted(members, key=lambda m: (m.due, m.summary, m.uid))
    contacts = len({m.contact_id or m.uid for m in members})
    summary = f"Touch {contacts} contact{'' if contacts == 1 else 's'}{WHEN[level]}"
    lines = [f"{summary} (season and cadence reminders, grouped to keep this calendar small; "
             "each one on its own: syncnet due):"]  # fmt: skip
    lines += ["- " + m.due.isoformat() + ": " + m.description.replace("\n", " ") for m in members]
    key = group_key(level, period)
    return CalendarItem(uid_for(key), key, GROUP_RULE, "", min(m.opens for m in members),
                        members[0].due, summary, "\n".join(lines))  # fmt: skip


def grouped(items: Iterable[CalendarItem], level: str) -> list[CalendarItem]:
    """The items grouped by the period of `level` their due day falls in, in order."""
    periods: dict[str, list[CalendarItem]] = {}
    for item in items:
        periods.setdefault(period_of(item.due, level), []).append(item)
    return sorted((group_item(level, p, m) for p, m in periods.items()), key=lambda g: (g.due, g.uid))


def capped(items: Iterable[CalendarItem], max_items: int) -> list[CalendarItem]:
    """At most `max_items` items (see the module's docstring): the items themselves when
    they fit; else the follow-ups and promises single and the season and cadence
    reminders grouped by the finest period that fits (week, month, year, all). When
    the single items alone reach the cap they all stay, with one group for the rest."""
    items = list(items)
    if len(items) <= max_items:
        return items
    single = [i for i in items if i.rule not in GROUPED]
    touch = [i for i in items if i.rule in GROUPED]
    room = max_items - len(single)
    groups: list[CalendarItem] = []
    for level in LEVELS:
        groups = grouped(touch, level)
        if len(groups) <= room:
            break
    # A stable sort by due day: on the same day, the single items keep the agenda's order.
    return sorted(single + groups, key=lambda i: i.due)
