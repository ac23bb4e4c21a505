"""Parsing the dates and durations a user types."""

from __future__ import annotations

import re
from datetime import date, timedelta

from syncnet.errors import BadInput


def parse_date(text: str, today: date) -> date:
    """ISO dates (2026-11-20), or today / yesterday / tomorrow."""
    t = text.strip().lower()
    if t == "today":
        return today
    if t == "yesterday":
        return today - timedelta(days=1)
    if t == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(t)
    except ValueError:
        raise BadInput(f"malformed date {text!r}: use YYYY-MM-DD, today or yesterday") from None


_DURATION = re.compile(r"^\s*(\d+)\s*([dwm]?)\s*$")


def parse_days(text: str) -> int | None:
    """A cadence: 42d, 6w, 2m (30-day months) or a plain number of days; none/off clears it."""
    if text.strip().lower() in ("none", "off", "0"):
        return None
    m = _DURATION.match(text.lower())
    if not m or int(m.group(1)) == 0:
        raise BadInput(f"malformed cadence {text!r}: use e.g. 6w, 42d, 2m, or 'off'")
    n = int(m.group(1))
    return n * {"": 1, "d": 1, "w": 7, "m": 30}[m.group(2)]
