"""The rules of docs/rules.md, each in a function named after it. Pure: no I/O.

Here: the kinds of rules and warnings, the seasons and windows, and the six
reminder rules (follow-up, season, promise, cadence, birthday, next meeting). The warnings are in
warnings.py; what counts as an interaction, as initiated by me and which bucket of
the time split a fact falls into are next to the facts (events.py), so that reading
the agenda never loads the event classes.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from syncnet.domain.config import CADENCE_DAYS, Config
from syncnet.domain.rows import ContactView, PromiseView


class RuleKind(StrEnum):
    """The six reminder rules. A StrEnum: its value is what JSON output, reminder keys
    (hence calendar UIDs) and calendar items have always carried."""

    FOLLOWUP = "followup"
    SEASON = "season"
    PROMISE = "promise"
    CADENCE = "cadence"
    BIRTHDAY = "birthday"
    MEETING = "meeting"  # the next meeting, planned (touch --next)


class WarningKind(StrEnum):
    """The warnings of `syncnet warnings`, by the names they are reported under."""

    ASKED_BEFORE_GIVING = "asked-before-giving"
    ONLY_REACTING = "only-reacting"
    COLLECTING = "collecting"
    NOT_NETWORKING = "not-networking"
    TAKING = "taking"
    WANTING_TO_IMPRESS = "wanting-to-impress"
    SPLIT_OFF_TARGET = "split-off-target"
    SELLING_AFTER_FOLLOW_UP = "selling-after-follow-up"


class Bucket(StrEnum):
    """The three parts of my time in the time split."""

    GIVE = "give"
    SELF = "self"
    ASK = "ask"


# Same due day: promises first, then planned meetings, follow-ups, birthdays (each on its day),
# cadence, seasons.
RULE_ORDER = {RuleKind.PROMISE: 0, RuleKind.MEETING: 1, RuleKind.FOLLOWUP: 2, RuleKind.BIRTHDAY: 3,
              RuleKind.CADENCE: 4, RuleKind.SEASON: 5}  # fmt: skip


@dataclass(frozen=True)
class Reminder:
    rule: RuleKind
    contact_id: str
    period: str  # what makes it unique for the contact and rule
    opens: date
    due: date
    promise_id: str | None = None

    @property
    def key(self) -> str:
        """Stable identity: contact, rule and period; never a name. Calendar UIDs derive from it."""
        return f"{self.contact_id}:{self.rule}:{self.period}"

    def state(self, today: date) -> str:
        if self.due < today:
            return "overdue"
        return "today" if self.due == today else "upcoming"


# --------------------------------------------------------------------------- seasons


@dataclass(frozen=True)
class Season:
    name: str
    start: date
    end: date

    @property
    def id(self) -> str:
        """A season is named by the year in which it starts: summer-2026 (southern) ends in 2027."""
        return f"{self.name}-{self.start.year}"

    @functools.cached_property  # asked once per contact by season_reminders
    def months(self) -> tuple[str, ...]:
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return tuple(out)


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def season_starting(name: str, first: int, last: int, year: int) -> Season:
    end_year = year if first <= last else year + 1
    return Season(name, date(year, first, 1), _last_day(end_year, last))


def season_of(day: date, seasons: dict[str, tuple[int, int]]) -> Season | None:
    """The season containing `day`, or None in winter."""
    for name, (first, last) in seasons.items():
        for year in (day.year - 1, day.year):
            s = season_starting(name, first, last, year)
            if s.start <= day <= s.end:
                return s
    return None


def seasons_overlapping(start: date, end: date, seasons: dict[str, tuple[int, int]]) -> list[Season]:
    """Every season that has at least one day in [start, end], in order."""
    found = []
    for year in range(start.year - 1, end.year + 1):
        for name, (first, last) in seasons.items():
            s = season_starting(name, first, last, year)
            if s.start <= end and s.end >= start:
                found.append(s)
    return sorted(found, key=lambda s: s.start)


def window(today: date, days: int) -> tuple[date, date]:
    """The last `days` days, today included: [today - (days - 1), today]."""
    return today - timedelta(days=days - 1), today


# --------------------------------------------------------------------------- reminders
# The import sources that give the day you connected (LinkedIn's "Connected On"); the
# others date their first meetings on the day of the import, a day nobody met.
DATED_SOURCES = frozenset({"linkedin"})



def followup_reminder(contact: ContactView, config: Config) -> Reminder | None:
    """docs/rules.md, follow-up: "opens: the first meeting; due: meeting + 3 days; done by:
    an interaction initiated by me dated on or after the meeting day (not the meeting
    itself); who: keep pocket". It stays overdue until it is done.

    The fold keeps `followed_up_on` (see `syncnet.domain.events.initiated_by_me`). An
    imported contact met longer before its import than the follow-up window gets none:
    a connection of last year is not a meeting to follow up; nor does one from a source
    without the day you connected (an address book: docs/imports.md).
    """
    if not contact.keep or contact.followed_up_on is not None:
        return None
    if contact.imported_from and contact.imported_from not in DATED_SOURCES:
        return None  # dated on the day of the import: nobody met that day
    met = date.fromisoformat(contact.met_on)
    due = met + timedelta(days=config.followup_days)
    if contact.imported_on and due.isoformat() < contact.imported_on:
        return None
    return Reminder(RuleKind.FOLLOWUP, contact.id, contact.met_on, met, due)


def season_reminders(contact: ContactView, seasons: Iterable[Season], horizon: date) -> list[Reminder]:
    """docs/rules.md, season (3x1): "opens: first day of the season, or the meeting if later;
    due: last day of the season; done by: any interaction dated in the season; who: keep
    pocket".

    `seasons` are those that still last (a season that is over leaves the agenda);
    a reminder is listed once it opens by `horizon`.
    """
    if not contact.keep:
        return []
    met = date.fromisoformat(contact.met_on)
    out = []
    for s in seasons:
        opens = max(s.start, met)
        if opens > s.end or opens > horizon:
            continue
        if not any(m in contact.months for m in s.months):
            out.append(Reminder(RuleKind.SEASON, contact.id, s.id, opens, s.end))
    return out


def promise_reminder(promise: PromiseView) -> Reminder | None:
    """docs/rules.md, promise: "opens: the day it was made; due: its due date; done by: kept
    or dropped; who: every contact" (every promise must be kept, whatever the pocket)."""
    if promise.status != "open":
        return None
    opens = date.fromisoformat(promise.made_on)
    return Reminder(
        RuleKind.PROMISE, promise.contact_id, promise.id, opens, date.fromisoformat(promise.due), promise.id
    )


def meeting_reminder(contact: ContactView, horizon: date) -> Reminder | None:
    """docs/rules.md, next meeting: "opens: the day it was planned; due: the day planned;
    done by: any interaction dated after the day it was planned; who: every contact not
    forgotten" (a meeting I planned is a meeting I mean to have, whatever the pocket)."""
    if not contact.next_meeting or contact.forgotten or contact.last_interaction > contact.next_planned_on:
        return None
    opens = date.fromisoformat(contact.next_planned_on)
    if opens > horizon:
        return None
    return Reminder(RuleKind.MEETING, contact.id, contact.next_meeting, opens,
                    date.fromisoformat(contact.next_meeting))  # fmt: skip


def cadence_reminder(contact: ContactView, horizon: date) -> Reminder | None:
    """docs/rules.md, cadence: "opens: the due date; due: last interaction + cadence; done
    by: any interaction; who: keep pocket, with a cadence". Listed once due by `horizon`."""
    if not contact.keep or not contact.cadence_days:
        return None
    last = date.fromisoformat(contact.last_interaction or contact.met_on)
    # A store may hold a cadence recorded before the bounds existed: read it within them.
    due = last + timedelta(days=min(contact.cadence_days, CADENCE_DAYS[1]))
    if due > horizon:
        return None
    return Reminder(RuleKind.CADENCE, contact.id, due.isoformat(), due, due)


# --------------------------------------------------------------------------- birthdays
# A birthday is stored (sealed) as "YYYY-MM-DD"; a birthday without its year in year
# YEAR_UNKNOWN (vCard's --MM-DD), a leap year, so that 29 February fits.
YEAR_UNKNOWN = 1604


def birthday_parts(text: str | None) -> tuple[int, int] | None:
    """(month, day) of a stored birthday; None for anything else (an erased field reads
    as a placeholder, not a date)."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day.month, day.day


def birthday_in(year: int, month: int, day: int) -> date:
    """The day a birthday falls on in `year`: 29 February is 28 February in other years."""
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def birthday_reminders(
    contact: ContactView, birthday: tuple[int, int] | None, today: date, horizon: date, config: Config
) -> list[Reminder]:
    """docs/rules.md, birthday: "opens: `birthday_notice_days` before the birthday, or the
    meeting if later; due: the birthday (29 February: 28 February in other years); done by:
    an interaction initiated by me dated on or after the day it opens; who: keep pocket,
    with a birthday, while `birthdays` is on".

    `birthday` is (month, day): the app unseals it (the fold cannot). A birthday leaves
    the agenda after its day: a missed one is not overdue for a year. Listed once it
    opens by `horizon`; one per year, the year is its period.
    """
    if not config.birthdays or birthday is None or not contact.keep or contact.forgotten:
        return []
    met = date.fromisoformat(contact.met_on)
    notice = timedelta(days=config.birthday_notice_days)
    out = []
    for year in range(today.year, horizon.year + 2):  # a due day after horizon + notice never opens by it
        due = birthday_in(year, *birthday)
        opens = max(due - notice, met)
        if due < today:
            continue
        if opens > horizon:
            break
        if contact.last_by_me and contact.last_by_me >= opens.isoformat():
            continue  # wished (or any other interaction of mine) since it opened
        out.append(Reminder(RuleKind.BIRTHDAY, contact.id, f"{year:04d}", opens, due))
    return out
