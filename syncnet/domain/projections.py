"""Projections: the agenda, reciprocity, the time split and the warnings.

Pure functions of views (see views.py), a date and the configuration. The exact
definitions are in DOMAIN.md ("Exact definitions"); docs/rules.md states the
choices made where it is silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from syncnet.domain.config import Config
from syncnet.domain.rows import (
    ASK_MIN,
    G_TOUCH_ME,
    G_TOUCH_THEM,
    GIVE_MIN,
    GIVEN,
    GIVEN_MIN,
    INTERACTIONS_COL,
    NEW_CONTACTS,
    RECEIVED,
    RECEIVED_MIN,
    REQ_MADE,
    REQ_RECEIVED,
    SELF_MIN,
    ContactView,
    LedgerView,
    PromiseView,
)  # fmt: skip
from syncnet.domain.rules import seasons_overlapping, window

RULE_ORDER = {"promise": 0, "followup": 1, "cadence": 2, "season": 3}


@dataclass(frozen=True)
class Reminder:
    rule: str  # followup | season | promise | cadence
    contact_id: str
    period: str  # what makes it unique for the contact and rule
    opens: date
    due: date
    promise_id: str | None = None

    @property
    def key(self) -> str:
        """Stable identity: contact, rule and period; never a name."""
        return f"{self.contact_id}:{self.rule}:{self.period}"

    def state(self, today: date) -> str:
        if self.due < today:
            return "overdue"
        return "today" if self.due == today else "upcoming"


def agenda(
    contacts: Iterable[ContactView],
    promises: Iterable[PromiseView],
    today: date,
    config: Config,
    until: date | None = None,
) -> list[Reminder]:
    """Every open reminder that is open by `until` (default: today), overdue first."""
    horizon = max(today, until or today)
    out: list[Reminder] = []
    upcoming_seasons = [s for s in seasons_overlapping(today, horizon, config.seasons) if s.end >= today]
    for c in contacts:
        if not c.keep:
            continue
        met = date.fromisoformat(c.met_on)
        if met > horizon:
            continue  # not met yet on that day
        if c.followed_up_on is None:
            out.append(Reminder("followup", c.id, c.met_on, met, met + timedelta(days=config.followup_days)))
        for s in upcoming_seasons:
            opens = max(s.start, met)
            if opens > s.end or opens > horizon:
                continue
            if not any(m in c.months for m in s.months()):
                out.append(Reminder("season", c.id, s.id, opens, s.end))
        if c.cadence_days:
            last = date.fromisoformat(c.last_interaction or c.met_on)
            due = last + timedelta(days=c.cadence_days)
            if due <= horizon:
                out.append(Reminder("cadence", c.id, due.isoformat(), due, due))
    for p in promises:
        if p.status != "open":
            continue
        opens = date.fromisoformat(p.made_on)
        if opens <= horizon:
            out.append(Reminder("promise", p.contact_id, p.id, opens, date.fromisoformat(p.due), p.id))
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
    ledgers: Iterable[LedgerView], promises: Iterable[PromiseView], as_of: date
) -> dict[str, Balance]:
    """Reciprocity per contact from facts dated on or before `as_of`."""
    cut = as_of.isoformat()
    out: dict[str, Balance] = {}
    for ledger in ledgers:
        b = out.setdefault(ledger.id, Balance(ledger.id))
        for day, row in ledger.days.items():
            if day > cut:
                continue
            b.given += row[GIVEN]
            b.received += row[RECEIVED]
            b.given_minutes += row[GIVEN_MIN]
            b.received_minutes += row[RECEIVED_MIN]
            b.requests_made += row[REQ_MADE]
            b.requests_received += row[REQ_RECEIVED]
    for p in promises:
        if p.made_on > cut:
            continue
        b = out.setdefault(p.contact_id, Balance(p.contact_id))
        closed_by_then = p.closed_on is not None and p.closed_on <= cut
        if not closed_by_then:
            b.open_promises += 1
        if p.due <= cut:
            b.promises_due += 1
            if p.status == "kept" and closed_by_then and p.closed_on is not None and p.closed_on <= p.due:
                b.promises_kept_on_time += 1
    return out


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
    start, end = window(today, config.split.window_days)
    lo, hi = start.isoformat(), end.isoformat()
    split = TimeSplit(
        start, end,
        target={"give": config.split.give, "self": config.split.self, "ask": config.split.ask},
    )  # fmt: skip
    for day, row in days.items():
        if lo <= day <= hi:
            split.give += row[GIVE_MIN]
            split.self += row[SELF_MIN]
            split.ask += row[ASK_MIN]
    return split


@dataclass(frozen=True)
class Warning:
    kind: str  # asked-before-giving | only-reacting | collecting | not-networking | taking
    contact_id: str | None
    on: date | None
    detail: str


def warnings(
    contacts: Iterable[ContactView],
    ledgers: Iterable[LedgerView],
    days: dict[str, list[int]],
    today: date,
    config: Config,
) -> list[Warning]:
    w = config.warnings
    cut = today.isoformat()
    out: list[Warning] = []
    ledger_list = list(ledgers)
    # Asked before giving: a request on a day with no help given on or before it.
    for ledger in ledger_list:
        first_given = min((d for d, r in ledger.days.items() if r[GIVEN] and d <= cut), default=None)
        for day in sorted(ledger.days):
            if day > cut or not ledger.days[day][REQ_MADE]:
                continue
            if first_given is None or first_given > day:
                out.append(
                    Warning(
                        "asked-before-giving",
                        ledger.id,
                        date.fromisoformat(day),
                        "asked for something before giving any help",
                    )
                )
    # Taking: balance at or below the threshold.
    for b in balances(ledger_list, [], today).values():
        if b.balance <= w.taking_balance:
            out.append(
                Warning(
                    "taking",
                    b.contact_id,
                    None,
                    f"balance {b.balance}: you only take from this contact",
                )
            )
    # Collecting: no reason and no interaction in the days after the first meeting.
    for c in contacts:
        if c.why or not c.keep:
            continue
        deadline = date.fromisoformat(c.met_on) + timedelta(days=w.collecting_days)
        if today >= deadline and (c.first_later is None or c.first_later > deadline.isoformat()):
            out.append(
                Warning(
                    "collecting",
                    c.id,
                    date.fromisoformat(c.met_on),
                    f"no reason recorded and no interaction in the {w.collecting_days} days after meeting",
                )
            )
    # Only reacting: in the split window, too few touches initiated by me.
    start, _ = window(today, config.split.window_days)
    mine = theirs = 0
    quiet_start, _ = window(today, w.quiet_days)
    active = False
    for day, row in days.items():
        if start.isoformat() <= day <= cut:
            mine += row[G_TOUCH_ME]
            theirs += row[G_TOUCH_THEM]
        if quiet_start.isoformat() <= day <= cut and (row[INTERACTIONS_COL] or row[NEW_CONTACTS]):
            active = True
    if mine + theirs >= w.reacting_min_touches and mine / (mine + theirs) < w.reacting_share:
        out.append(
            Warning(
                "only-reacting",
                None,
                None,
                f"only {mine} of {mine + theirs} touches in the window were initiated by you",
            )
        )
    if not active:
        out.append(
            Warning(
                "not-networking",
                None,
                None,
                f"no new contact and no interaction in the last {w.quiet_days} days",
            )
        )
    return out
