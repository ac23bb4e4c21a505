"""The configuration: every number of DOMAIN.md, with its default, read from TOML.

`load_config(path)` returns defaults when the file does not exist and raises
ConfigError (one line) when it exists but is unreadable or has a wrong value.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

# Month ranges (first, last), inclusive; a range may wrap the year end (12 -> 2).
NORTH_SEASONS: dict[str, tuple[int, int]] = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11)}
SOUTH_SEASONS: dict[str, tuple[int, int]] = {"spring": (9, 11), "summer": (12, 2), "autumn": (3, 5)}


@dataclass(frozen=True)
class Minutes:
    """Minutes counted for an event recorded without minutes."""

    touch: int = 15
    meeting: int = 30
    help: int = 30
    pitch: int = 10
    request: int = 10


@dataclass(frozen=True)
class Split:
    window_days: int = 365
    give: int = 70
    self: int = 20
    ask: int = 10


@dataclass(frozen=True)
class Warnings:
    reacting_share: float = 0.4
    reacting_min_touches: int = 5
    collecting_days: int = 90
    quiet_days: int = 30
    taking_balance: int = -3


@dataclass(frozen=True)
class Config:
    timezone: str = ""  # empty: the system's local time zone
    followup_days: int = 3
    hemisphere: str = "north"
    seasons: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(NORTH_SEASONS))
    minutes: Minutes = field(default_factory=Minutes)
    split: Split = field(default_factory=Split)
    warnings: Warnings = field(default_factory=Warnings)
    source: str = "defaults"


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"config: [{name}] must be a table")
    return value


def _typed(cls: Any, table: dict[str, Any], where: str) -> Any:
    """Build a small frozen dataclass from a TOML table, checking names and types."""
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"config: unknown option {where}.{key}")
        default = getattr(cls(), key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            kind = type(default).__name__
            raise ConfigError(f"config: {where}.{key} must be {kind}, got {value!r}")
        if isinstance(value, int | float) and value < 0 and key != "taking_balance":
            raise ConfigError(f"config: {where}.{key} must not be negative")
        values[key] = value
    return cls(**values)


def _months(name: str, value: Any) -> tuple[int, int]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(m, int) and 1 <= m <= 12 for m in value)
    )
    if not ok:
        raise ConfigError(f"config: seasons.{name} must be [first_month, last_month], 1-12")
    return (value[0], value[1])


def parse_config(data: dict[str, Any], source: str = "<string>") -> Config:
    general = _section(data, "general")
    rules = _section(data, "rules")
    for key in general:
        if key != "timezone":
            raise ConfigError(f"config: unknown option general.{key}")
    for key in rules:
        if key not in ("followup_days", "hemisphere"):
            raise ConfigError(f"config: unknown option rules.{key}")
    timezone = general.get("timezone", "")
    if not isinstance(timezone, str):
        raise ConfigError("config: general.timezone must be a string")
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"config: unknown time zone {timezone!r}") from None
    followup = rules.get("followup_days", 3)
    if not isinstance(followup, int) or isinstance(followup, bool) or followup < 0:
        raise ConfigError("config: rules.followup_days must be a whole number >= 0")
    hemisphere = rules.get("hemisphere", "north")
    if hemisphere not in ("north", "south"):
        raise ConfigError("config: rules.hemisphere must be 'north' or 'south'")
    seasons = dict(NORTH_SEASONS if hemisphere == "north" else SOUTH_SEASONS)
    for name, value in _section(data, "seasons").items():
        if name not in seasons:
            raise ConfigError(f"config: unknown season {name!r} (spring, summer, autumn)")
        seasons[name] = _months(name, value)
    for key in data:
        if key not in ("general", "rules", "seasons", "minutes", "split", "warnings", "targets"):
            raise ConfigError(f"config: unknown section [{key}]")
    split = _typed(Split, _section(data, "split"), "split")
    if split.window_days < 1:
        raise ConfigError("config: split.window_days must be at least 1")
    if split.give + split.self + split.ask != 100:
        raise ConfigError("config: split.give + split.self + split.ask must add up to 100")
    return Config(
        timezone=timezone,
        followup_days=followup,
        hemisphere=hemisphere,
        seasons=seasons,
        minutes=_typed(Minutes, _section(data, "minutes"), "minutes"),
        split=split,
        warnings=_typed(Warnings, _section(data, "warnings"), "warnings"),
        source=source,
    )


def load_config(path: Path) -> Config:
    if not path.exists():
        return replace(Config(), source=f"defaults ({path} does not exist)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config {path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config {path}: cannot read: {e}") from None
    return parse_config(data, str(path))
