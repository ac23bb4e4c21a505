"""Reads of an earlier day, or as known at an earlier moment (docs/rules.md, "Two times").

Every read is evaluated over the facts dated on or before its day (valid time) and, with
`--known-at T`, recorded up to T (transaction time), as corrected by the retractions and
amendments recorded up to T. The tracked views hold every fact: they answer any day on or
after the latest fact's day, as known now. Any other read replays the facts it may see
into views in memory (`Replayed`): O(facts), which only a look into the past pays.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from syncnet.domain.corrections import Corrections
from syncnet.domain.rows import GLOBAL_KEY, Views

PAGE = 10_000

# fetch(after_position, limit) -> [(position, fact)] (FactLog.after)
Fetch = Callable[..., Sequence[tuple[int, Any]]]


class Reads(Protocol):
    """What the reads take their rows from: the tracked views (ViewStore) or a replay."""

    def load_all(self, kind: str, only_open: bool = False) -> list[Any]: ...

    def row(self, kind: str, key: str) -> Any: ...

    def load_days(self) -> dict[str, list[int]]: ...


def views_answer(meta: dict[str, str], day: date, known_at: datetime | None) -> bool:
    """Whether the tracked views (`meta`: their latest fact's day and recording) hold
    exactly the facts a read of `day`, as known at `known_at`, may see."""
    if meta["last_on"] > day.isoformat():
        return False  # some fact happened after that day
    if known_at is None:
        return True
    if not meta["last_recorded"]:
        return False  # views from before the meta row, or of no fact: replay to be sure
    return datetime.fromisoformat(meta["last_recorded"]) <= known_at


def known_by(facts: list[Any], known_at: datetime | None) -> list[Any]:
    return facts if known_at is None else [f for f in facts if f.timestamp <= known_at]


class Replayed:
    """The views of the facts a read may see, folded in memory from the log, page by page
    (the log is never held whole), with the cycle collector paused as a rebuild has it."""

    def __init__(self, fetch: Fetch, day: date, known_at: datetime | None) -> None:
        from syncnet.domain.events import ContactForgotten
        from syncnet.domain.fold import apply, erase

        with _collector_paused():
            self.corrections = Corrections.in_log(fetch, known_at)
            self.views = Views()
            position = 0
            erased: list[ContactForgotten] = []  # applied whatever the day or moment read
            while batch := fetch(position, PAGE):
                for _, fact in batch:
                    if isinstance(fact, ContactForgotten):
                        erased.append(fact)
                        continue
                    if known_at is not None and fact.timestamp > known_at:
                        continue
                    effective = self.corrections.effective(fact)
                    if effective is not None and effective.on <= day:
                        apply(self.views, effective)
                position = batch[-1][0]
            for fact in erased:
                erase(self.views, fact)

    def load_all(self, kind: str, only_open: bool = False) -> list[Any]:
        rows = sorted(self.views.all(kind), key=lambda r: r.id)  # in key order, as stored
        return [r for r in rows if r.status == "open"] if only_open else rows

    def row(self, kind: str, key: str) -> Any:
        return self.views.get(kind, key)

    def load_days(self) -> dict[str, list[int]]:
        days: dict[str, list[int]] = self.views.get("global", GLOBAL_KEY) or {}
        return days


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The fold makes no reference cycles; the collector's passes over the growing views
    would cost a replay as much as they cost a rebuild (docs/architecture.md, "Views")."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_known_at(text: str, timezone: str) -> datetime:
    """--known-at: an ISO moment (2026-03-01T09:30, with or without an offset) or a day,
    which means the end of that day; without an offset, in the user's time zone (config
    `timezone`, else the machine's)."""
    from syncnet.domain.config import FIRST_DAY, LAST_DAY, out_of_range
    from syncnet.errors import BadInput

    t = text.strip()
    try:
        if _DAY.match(t):  # a day: up to its last moment
            moment = datetime.combine(date.fromisoformat(t), time.max)
        elif _MOMENT.match(t):
            moment = datetime.fromisoformat(t)
        else:
            raise ValueError(t)
        if moment.tzinfo is None:
            if timezone:
                from zoneinfo import ZoneInfo

                moment = moment.replace(tzinfo=ZoneInfo(timezone))
            else:
                moment = moment.astimezone()  # the machine's local time zone
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):  # malformed, or beyond what a datetime holds
        raise BadInput(
            f"malformed --known-at {text!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"
        ) from None
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise BadInput(f"--known-at {out_of_range(t, FIRST_DAY, LAST_DAY)}")
    return moment


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
