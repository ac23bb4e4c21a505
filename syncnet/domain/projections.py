"""Projections: the agenda, reciprocity, the time split and the warnings.

Pure functions of view rows (rows.py), a date and the configuration. The rules are
stated in docs/rules.md; each has a function named after it in rules.py (reminders)
or warnings.py, and this module only gathers their results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from syncnet.domain.config import Config, Minutes
from syncnet.domain.rows import (
    GIVEN,
    GIVEN_NO_MIN,
    GIVEN_RECORDED_MIN,
    GLOBAL_WIDTH,
    LEDGER_DEFAULT,
    RECEIVED,
    RECEIVED_NO_MIN,
    RECEIVED_RECORDED_MIN,
    REQ_MADE,
    REQ_RECEIVED,
    SPLIT_COLUMNS,
    ContactView,
    LedgerView,
    PromiseView,
    TallyView,
)  # fmt: skip
from syncnet.domain.rules import (
    RULE_ORDER,
    Reminder,
    birthday_reminders,
    cadence_reminder,
    followup_reminder,
    meeting_reminder,
    promise_reminder,
    season_reminders,
    seasons_overlapping,
    window,
)
from syncnet.domain.warnings import (
    Warning,
    asked_before_giving,
    collecting,
    not_networking,
    only_reacting,
    selling_after_follow_up,
    split_off_target,
    taking,
    wanting_to_impress,
)

__all__ = [
    "RULE_ORDER", "Balance", "Reminder", "TimeSplit", "Warning",
    "agenda", "balances", "credibility", "time_split", "warnings",
]  # fmt: skip


def agenda(
    contacts: Iterable[ContactView],
    promises: Iterable[PromiseView],
    today: date,
    config: Config,
    until: date | None = None,
    birthdays: Mapping[str, tuple[int, int]] | None = None,
) -> list[Reminder]:
    """Every open reminder that is open by `until` (default: today), overdue first.

    One function per rule (syncnet.domain.rules); here only which contacts and seasons
    they are asked about and the order of the list. `birthdays`: (month, day) by contact
    id, for the contacts whose birthday the caller unsealed (the fold cannot).
    """
    birthdays = birthdays or {}
    horizon = max(today, until or today)
    out: list[Reminder] = []
    # A season that is over leaves the agenda: only those that still last on `today`.
    lasting = [s for s in seasons_overlapping(today, horizon, config.seasons) if s.end >= today]
    not_after = horizon.isoformat()
    for c in contacts:
        if c.met_on > not_after:
            continue  # not met yet on that day
        followup = followup_reminder(c, config)
        if followup is not None:
            out.append(followup)
        out += season_reminders(c, lasting, horizon)
        meeting = meeting_reminder(c, horizon)
        if meeting is not None:
            out.append(meeting)
        cadence = cadence_reminder(c, horizon)
        if cadence is not None:
            out.append(cadence)
        if c.id in birthdays:
            out += birthday_reminders(c, birthdays[c.id], today, horizon, config)
    for p in promises:
        promise = promise_reminder(p)
        if promise is not None and promise.opens <= horizon:
            out.append(promise)
    out.sort(key=lambda r: (r.due, RULE_ORDER[r.rule], r.contact_id, r.period))
    return out


@dataclass
class Balance:
    contact_id: str
    given: int = 0
    received: int = 0
    given_minutes: int = 0
    received_minutes: int = 0
    requests_made: int = 0
    requests_received: int = 0
    open_promises: int = 0
    promises_due: int = 0
    promises_kept_on_time: int = 0

    @property
    def balance(self) -> int:
        return self.given - self.received

    @property
    def balance_minutes(self) -> int:
        return self.given_minutes - self.received_minutes

    @property
    def credibility(self) -> float | None:
        if not self.promises_due:
            return None
        return self.promises_kept_on_time / self.promises_due


def balances(
    ledgers: Iterable[LedgerView | TallyView],
    promises: Iterable[PromiseView] | None,
    as_of: date,
    minutes: Minutes,
    days_of: Callable[[str], LedgerView] | None = None,
) -> dict[str, Balance]:
    """Reciprocity per contact from facts dated on or before `as_of`; help recorded
    without minutes counts with the default of `minutes` (config `[minutes]`).

    From day-by-day ledgers, or from tallies (sums over every day), which hold as of
    any day on or after their last one; for an earlier day the contact's ledger is read
    through `days_of`. Promises come from `promises`, or, when it is None, from the
    tallies, which list their contact's promises."""
    cut = as_of.isoformat()
    default: int = getattr(minutes, LEDGER_DEFAULT)
    out: dict[str, Balance] = {}
    entries: list[tuple[str, str, str, str, str | None]] = []
    for ledger in ledgers:
        b = out.setdefault(ledger.id, Balance(ledger.id))
        if isinstance(ledger, TallyView):
            if promises is None:
                entries += [(ledger.id, *entry[1:]) for entry in ledger.promises]
            if ledger.last <= cut:
                _add(b, ledger.totals, default)
                continue
            if days_of is None:
                raise ValueError(f"a tally ends on {ledger.last}, after {cut}: the ledger is needed")
            ledger = days_of(ledger.id)
        for day, row in ledger.days.items():
            if day <= cut:
                _add(b, row, default)
    if promises is not None:
        entries = [(p.contact_id, p.made_on, p.due, p.status, p.closed_on) for p in promises]
    for contact_id, made_on, due, status, closed_on in entries:
        if made_on > cut:
            continue
        b = out.setdefault(contact_id, Balance(contact_id))
        closed_by_then = closed_on is not None and closed_on <= cut
        if not closed_by_then:
            b.open_promises += 1
        if due <= cut:
            b.promises_due += 1
            if status == "kept" and closed_by_then and closed_on is not None and closed_on <= due:
                b.promises_kept_on_time += 1
    return out


def _add(b: Balance, row: list[int], default: int) -> None:
    """One day of a ledger (or the sum of its days) into a balance."""
    b.given += row[GIVEN]
    b.received += row[RECEIVED]
    b.given_minutes += row[GIVEN_RECORDED_MIN] + row[GIVEN_NO_MIN] * default
    b.received_minutes += row[RECEIVED_RECORDED_MIN] + row[RECEIVED_NO_MIN] * default
    b.requests_made += row[REQ_MADE]
    b.requests_received += row[REQ_RECEIVED]


def credibility(all_balances: Iterable[Balance]) -> tuple[int, int, float | None]:
    kept = due = 0
    for b in all_balances:
        kept += b.promises_kept_on_time
        due += b.promises_due
    return kept, due, (kept / due if due else None)


@dataclass
class TimeSplit:
    start: date
    end: date
    give: int = 0
    self: int = 0
    ask: int = 0
    target: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.give + self.self + self.ask

    def share(self, part: str) -> float | None:
        total = self.total
        return None if not total else getattr(self, part) / total


def time_split(days: dict[str, list[int]], today: date, config: Config) -> TimeSplit:
    """My minutes per part in the window: those recorded, plus each fact recorded without
    minutes at the default of its kind (config `[minutes]`)."""
    start, end = window(today, config.split.window_days)
    lo, hi = start.isoformat(), end.isoformat()
    split = TimeSplit(
        start, end,
        target={"give": config.split.give, "self": config.split.self, "ask": config.split.ask},
    )  # fmt: skip
    totals = [0] * GLOBAL_WIDTH
    for day, row in days.items():
        if lo <= day <= hi:
            totals = [t + n for t, n in zip(totals, row, strict=True)]

    def spent(part: str) -> int:
        recorded, untimed = SPLIT_COLUMNS[part]
        minutes = totals[recorded]
        for col, kind in untimed:
            minutes += totals[col] * getattr(config.minutes, kind)
        return minutes

    split.give, split.self, split.ask = spent("give"), spent("self"), spent("ask")
    return split


def warnings(
    contacts: Iterable[ContactView],
    ledgers: Iterable[LedgerView | TallyView],
    days: dict[str, list[int]],
    today: date,
    config: Config,
    days_of: Callable[[str], LedgerView] | None = None,
) -> list[Warning]:
    """The warnings (syncnet.domain.warnings), in the order they are reported."""
    ledger_list = list(ledgers)
    contact_list = list(contacts)
    out: list[Warning] = []
    for ledger in ledger_list:
        out += asked_before_giving(ledger, today)
    by_id = {ledger.id: ledger for ledger in ledger_list}
    found = [selling_after_follow_up(c, by_id.get(c.id), today, config) for c in contact_list]
    found += [taking(b.contact_id, b.balance, config)
              for b in balances(ledger_list, [], today, config.minutes, days_of).values()]  # fmt: skip
    found += [collecting(c, today, config) for c in contact_list]
    found += [only_reacting(days, today, config), not_networking(days, today, config)]
    split = time_split(days, today, config)
    found += [wanting_to_impress(split, config), split_off_target(split, config)]
    return out + [w for w in found if w is not None]
