"""The warnings of docs/rules.md ("Warnings"), each in a function named after it. Pure.

`syncnet.domain.projections.warnings` runs them all, in the order they are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from syncnet.domain.config import Config
from syncnet.domain.rows import (
    G_TOUCH_ME,
    G_TOUCH_THEM,
    INTERACTIONS_COL,
    NEW_CONTACTS,
    ContactView,
    LedgerView,
    TallyView,
)
from syncnet.domain.rules import WarningKind, window

if TYPE_CHECKING:
    from syncnet.domain.projections import TimeSplit


@dataclass(frozen=True)
class Warning:
    kind: WarningKind
    contact_id: str | None
    on: date | None
    detail: str


def asked_before_giving(ledger: LedgerView | TallyView, today: date) -> list[Warning]:
    """docs/rules.md: "**asked-before-giving**: a request made to a contact on a day when no
    help had been given to them on or before that day (dates only: help given the same day
    counts)." One warning per such day, up to `today`."""
    first_given, asks = ledger.first_given_and_asks(today.isoformat())
    out = []
    for day in asks:
        if first_given is None or first_given > day:
            out.append(
                Warning(
                    WarningKind.ASKED_BEFORE_GIVING,
                    ledger.id,
                    date.fromisoformat(day),
                    "asked for something before giving any help",
                )
            )
    return out


def selling_after_follow_up(
    contact: ContactView, ledger: LedgerView | TallyView | None, today: date, config: Config
) -> Warning | None:
    """docs/rules.md: "**selling-after-follow-up**: a request made to a contact on the day of
    the first follow-up or at most 14 days after it (the follow-up day itself counts: 0 days
    after)." One warning per contact, dated the first such request, up to `today`.

    The follow-up is the fold's `followed_up_on`, as for the follow-up reminder. A request
    before it is asked-before-giving's concern, not this one's. The ask days of a tally are
    every day a request was made, so a read as of an earlier day cuts them exactly (no
    ledger needed). A forgotten contact is never warned about.
    """
    followed = contact.followed_up_on
    if ledger is None or contact.forgotten or followed is None:
        return None
    start = date.fromisoformat(followed)
    end = min(start + timedelta(days=config.warnings.selling_days), today)  # a follow-up after today: none
    _, asks = ledger.first_given_and_asks(end.isoformat())
    first = next((day for day in asks if day >= followed), None)
    if first is None:
        return None
    on = date.fromisoformat(first)
    after = (on - start).days
    when = "on the day of" if after == 0 else f"{after} day{'s' if after > 1 else ''} after"
    done = "" if after == 0 else f" ({followed})"  # the warning's own day is printed after it
    return Warning(WarningKind.SELLING_AFTER_FOLLOW_UP, contact.id, on,
                   f"asked for something {when} the first follow-up{done}")  # fmt: skip


def taking(contact_id: str, balance: int, config: Config) -> Warning | None:
    """docs/rules.md: "**taking**: a contact whose balance is at or below -3."

    `balance` is the contact's help given minus help received (`projections.balances`).
    """
    if balance > config.warnings.taking_balance:
        return None
    detail = f"balance {balance}: you only take from this contact"
    return Warning(WarningKind.TAKING, contact_id, None, detail)


def collecting(contact: ContactView, today: date, config: Config) -> Warning | None:
    """docs/rules.md: "**collecting**: a contact in the keep pocket with no reason (`--why`)
    and no interaction from the meeting day to 90 days after it; reported from day 90 on."

    The meeting itself is not such an interaction: the fold's `first_later` is the first
    interaction after it.
    """
    if contact.why or not contact.keep:
        return None
    days = config.warnings.collecting_days
    met = date.fromisoformat(contact.met_on)
    deadline = met + timedelta(days=days)
    if today < deadline or (contact.first_later is not None and contact.first_later <= deadline.isoformat()):
        return None
    return Warning(
        WarningKind.COLLECTING,
        contact.id,
        met,
        f"no reason recorded and no interaction in the {days} days after meeting",
    )


def only_reacting(days: dict[str, list[int]], today: date, config: Config) -> Warning | None:
    """docs/rules.md: "**only-reacting**: in the split window, fewer than 40 % of touches
    initiated by me, with at least 5 touches." `days` are the global daily counts."""
    w = config.warnings
    lo, hi = (d.isoformat() for d in window(today, config.split.window_days))
    mine = theirs = 0
    for day, row in days.items():
        if lo <= day <= hi:
            mine += row[G_TOUCH_ME]
            theirs += row[G_TOUCH_THEM]
    touches = mine + theirs
    if touches < w.reacting_min_touches or mine / touches >= w.reacting_share:
        return None
    return Warning(
        WarningKind.ONLY_REACTING,
        None,
        None,
        f"only {mine} of {touches} touches in the window were initiated by you",
    )


def not_networking(days: dict[str, list[int]], today: date, config: Config) -> Warning | None:
    """docs/rules.md: "**not-networking**: no new contact and no interaction in the last 30
    days (today included)." `days` are the global daily counts."""
    quiet = config.warnings.quiet_days
    lo, hi = (d.isoformat() for d in window(today, quiet))
    if any(lo <= day <= hi and (row[INTERACTIONS_COL] or row[NEW_CONTACTS]) for day, row in days.items()):
        return None
    return Warning(
        WarningKind.NOT_NETWORKING,
        None,
        None,
        f"no new contact and no interaction in the last {quiet} days",
    )


PARTS = ("give", "self", "ask")


def _shares(split: TimeSplit) -> dict[str, float]:
    return {part: 100 * getattr(split, part) / split.total for part in PARTS}


def wanting_to_impress(split: TimeSplit, config: Config) -> Warning | None:
    """docs/rules.md: "**wanting-to-impress**: in the split window, self-presentation takes
    more than its target share (20 %) plus 10 points of my networking time, with at least
    120 minutes in the window." The guide: talking about oneself instead of listening."""
    w = config.warnings
    if split.total < max(1, w.split_min_minutes):
        return None
    share = _shares(split)["self"]
    if share <= config.split.self + w.impress_margin:
        return None
    return Warning(WarningKind.WANTING_TO_IMPRESS, None, None,
                   f"{share:.0f} % of your networking time went to presenting yourself (target "
                   f"{config.split.self} %): listen, ask about their work and plans, offer help")  # fmt: skip


def split_off_target(split: TimeSplit, config: Config) -> Warning | None:
    """docs/rules.md: "**split-off-target**: in the split window, a part of the time split
    (give, self, ask) differs from its target (70-20-10) by more than 15 points, with at
    least 120 minutes in the window; it names the share to shift, from the part most above
    its target to the part most below."""
    w = config.warnings
    if split.total < max(1, w.split_min_minutes):
        return None
    targets = {"give": config.split.give, "self": config.split.self, "ask": config.split.ask}
    off = {part: share - targets[part] for part, share in _shares(split).items()}
    if all(abs(d) <= w.split_margin for d in off.values()):
        return None
    over = max(PARTS, key=lambda p: off[p])
    under = min(PARTS, key=lambda p: off[p])
    shift = min(off[over], -off[under])
    parts = ", ".join(f"{p} {off[p] + targets[p]:.0f} % (target {targets[p]})" for p in PARTS)
    detail = f"{parts}: shift about {shift:.0f} points of your time from {over} to {under}"
    return Warning(WarningKind.SPLIT_OFF_TARGET, None, None, detail)
