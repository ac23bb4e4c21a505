"""Calendar rules of DOMAIN.md: seasons and windows. Pure functions of dates."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Season:
    name: str
    start: date
    end: date

    @property
    def id(self) -> str:
        """A season is named by the year in which it starts: summer-2026 (southern) ends in 2027."""
        return f"{self.name}-{self.start.year}"

    def months(self) -> list[str]:
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


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
