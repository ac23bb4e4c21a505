"""The configuration: every number of the rules (docs/rules.md), with its default.

`parse_config(data)` checks a parsed TOML document and raises ConfigError (one line)
on a wrong value; reading the file is storage's (`syncnet.storage.configfile`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from syncnet.errors import ConfigError

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


DURATION = re.compile(r"^[+-]?P(?:\d+W|(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$")
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def without_userinfo(url: str) -> str:
    """A URL as it may be shown: without a user:password@ written into it."""
    return _USERINFO.sub("", url)


@dataclass(frozen=True)
class Target:
    """A calendar that reminders go to: a CalDAV collection or an .ics file."""

    name: str
    type: str  # "caldav" | "ics"
    url: str = ""  # caldav: a server URL (discovery) or a calendar collection URL
    calendar: str = "syncnet"  # caldav: the collection under the calendar home
    create: bool = True  # caldav: MKCALENDAR when the calendar does not exist
    user: str = ""
    password_cmd: str = ""  # a command printing the password (never the password itself)
    token_cmd: str = ""  # a command printing a bearer token
    keyring: bool = False  # read the password from the system keyring (service "syncnet")
    path: str = ""  # ics: the file to write
    style: str = ""  # "todo" | "event"; default todo for caldav, event for ics
    alarms: tuple[str, ...] = ("PT9H",)  # VALARM offsets from the start of the due day
    horizon_days: int = 60
    timeout: float = 30.0

    @property
    def env_prefix(self) -> str:
        return "SYNCNET_" + re.sub(r"[^A-Za-z0-9]", "_", self.name).upper()


@dataclass(frozen=True)
class Feed:
    bind: str = "127.0.0.1"
    port: int = 8765
    style: str = "event"
    alarms: tuple[str, ...] = ("PT9H",)
    horizon_days: int = 60
    name: str = "syncnet"


@dataclass(frozen=True)
class Config:
    timezone: str = ""  # empty: the system's local time zone
    followup_days: int = 3
    hemisphere: str = "north"
    seasons: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(NORTH_SEASONS))
    minutes: Minutes = field(default_factory=Minutes)
    split: Split = field(default_factory=Split)
    warnings: Warnings = field(default_factory=Warnings)
    targets: tuple[Target, ...] = ()
    feed: Feed = field(default_factory=Feed)
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


def _alarms(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and DURATION.match(v) for v in value):
        raise ConfigError(f'config: {where}.alarms must be a list of durations like "PT9H" or "-P1D"')
    return tuple(value)


def _target(name: str, table: Any) -> Target:
    where = f"targets.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"config: [{where}] must be a table")
    if not TARGET_NAME.match(name):
        raise ConfigError(f"config: target name {name!r}: use letters, digits, - and _")
    for secret in ("password", "token"):
        if secret in table:
            raise ConfigError(
                f"config: {where}.{secret}: never put secrets in the config; use {secret}_cmd "
                f"or the SYNCNET_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_{secret.upper()} variable"
            )
    kind = table.get("type")
    if kind not in ("caldav", "ics"):
        raise ConfigError(f'config: {where}.type must be "caldav" or "ics"')
    values: dict[str, Any] = {"name": name, "type": kind}
    known = {f.name: f for f in fields(Target)}
    for key, value in table.items():
        if key == "type":
            continue
        if key not in known or key == "name":
            raise ConfigError(f"config: unknown option {where}.{key}")
        if key == "alarms":
            values[key] = _alarms(where, value)
            continue
        default = getattr(Target("x", "ics"), key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise ConfigError(f"config: {where}.{key} must be {type(default).__name__}, got {value!r}")
        values[key] = value
    target = Target(**values)
    if not target.style:
        target = replace(target, style="todo" if kind == "caldav" else "event")
    if target.style not in ("todo", "event"):
        raise ConfigError(f'config: {where}.style must be "todo" or "event"')
    if kind == "caldav" and not target.url.startswith(("http://", "https://")):
        raise ConfigError(f"config: {where}.url must be an http:// or https:// URL")
    if kind == "ics" and not target.path:
        raise ConfigError(f"config: {where}.path is required for an ics target")
    if target.horizon_days < 0 or target.timeout <= 0:
        raise ConfigError(f"config: {where}: horizon_days must be >= 0 and timeout > 0")
    return target


def _feed(table: dict[str, Any]) -> Feed:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "alarms":
            values[key] = _alarms("feed", value)
            continue
        if key not in {f.name for f in fields(Feed)}:
            raise ConfigError(f"config: unknown option feed.{key}")
        if type(value) is not type(getattr(Feed(), key)):
            raise ConfigError(f"config: feed.{key} must be {type(getattr(Feed(), key)).__name__}")
        values[key] = value
    feed = Feed(**values)
    if feed.style not in ("todo", "event"):
        raise ConfigError('config: feed.style must be "todo" or "event"')
    if not 0 < feed.port < 65536:
        raise ConfigError("config: feed.port must be between 1 and 65535")
    return feed


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
        if key not in ("general", "rules", "seasons", "minutes", "split", "warnings", "targets", "feed"):
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
        targets=tuple(_target(name, t) for name, t in _section(data, "targets").items()),
        feed=_feed(_section(data, "feed")),
        source=source,
    )
