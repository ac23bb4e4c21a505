"""Parsing the dates and durations a user types, within their ranges (docs/rules.md,
"Ranges"; the bounds are in syncnet.domain.config)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from syncnet.domain.config import CADENCE_DAYS, FIRST_DAY, LAST_DAY, MAX_CADENCE_YEARS, out_of_range
from syncnet.errors import BadInput


def check_date(day: date, what: str = "date") -> date:
    """`day`, if it lies in FIRST_DAY .. LAST_DAY: every date syncnet derives from it
    (plus a cadence, a horizon, a window) then stays a valid date."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadInput(f"{what} {out_of_range(day.isoformat(), FIRST_DAY, LAST_DAY)}")
    return day


def parse_date(text: str, today: date, what: str = "date") -> date:
    """ISO dates (2026-11-20), or today / yesterday / tomorrow, in FIRST_DAY .. LAST_DAY.
    `what` names the option in the error (e.g. "--on"). An empty text is refused: no
    one means "today" by it."""
    t = text.strip().lower()
    if not t:
        raise BadInput(f"empty {what} date" if what.startswith("--") else f"empty {what}")
    relative = {"today": 0, "yesterday": -1, "tomorrow": 1}
    try:
        day = today + timedelta(days=relative[t]) if t in relative else date.fromisoformat(t)
    except OverflowError:  # yesterday of date.min: out of range, whatever the range
        day = date.min if t == "yesterday" else date.max
    except ValueError:
        raise BadInput(f"malformed date {text!r}: use YYYY-MM-DD, today, yesterday or tomorrow") from None
    return check_date(day, what)


_DURATION = re.compile(r"^\s*(\d+)\s*([dwm]?)\s*$")


def parse_days(text: str) -> int | None:
    """A cadence: 42d, 6w, 2m (30-day months) or a plain number of days, in
    CADENCE_DAYS; none/off clears it."""
    if not text.strip():
        raise BadInput("empty cadence: use e.g. 6w, 42d, 2m, or 'off'")
    if text.strip().lower() in ("none", "off", "0"):
        return None
    m = _DURATION.match(text.lower())
    if not m or not m.group(1).strip("0"):
        raise BadInput(f"malformed cadence {text!r}: use e.g. 6w, 42d, 2m, or 'off'")
    low, high = CADENCE_DAYS
    digits, unit = m.group(1).lstrip("0"), m.group(2)
    # More digits than any cadence in range has: out of range without reading the
    # number (int() refuses numbers of more than 4300 digits).
    days = int(digits) * {"": 1, "d": 1, "w": 7, "m": 30}[unit] if len(digits) <= 9 else high + 1
    if not low <= days <= high:
        years = f"{high} days ({MAX_CADENCE_YEARS} years)"
        raise BadInput(f"cadence {out_of_range(text.strip(), f'{low} day', years)}")
    return days
