"""The configuration: every number of the rules (docs/rules.md), with its default.

`parse_config(data)` checks a parsed TOML document and raises ConfigError (one line)
on a wrong value; reading the file is storage's (`syncnet.storage.configfile`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

from syncnet.domain.vocabulary import CHANNELS
from syncnet.errors import ConfigError

# Month ranges (first, last), inclusive; a range may wrap the year end (12 -> 2).
NORTH_SEASONS: dict[str, tuple[int, int]] = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11)}
SOUTH_SEASONS: dict[str, tuple[int, int]] = {"spring": (9, 11), "summer": (12, 2), "autumn": (3, 5)}


# ------------------------------------------------------------------- ranges
# Every number a user can give has a range (docs/rules.md, "Ranges"), checked where it
# is given: wide enough for any real use, narrow enough that every date syncnet derives
# from a date in FIRST_DAY .. LAST_DAY (a reminder's due day, a window's first day, a
# calendar's horizon, an event's end) is still a date Python can hold.
FIRST_DAY = date(1900, 1, 1)  # the dates a user gives: --on, --today, --until, --as-of, --due
LAST_DAY = date(2200, 12, 31)
MAX_DAYS = 3650  # ten years: a horizon, a window, the warnings' days
MAX_MINUTES = 24 * 60  # a day: no one fact takes more (also the defaults per kind)
MAX_ALARM_DAYS = 365  # an alarm offset, either way
MAX_ITEMS = 100_000  # the items of one calendar target (grouping.py)
MAX_CADENCE_YEARS = 5  # a longer cadence is no relationship being tended
CADENCE_DAYS = (1, MAX_CADENCE_YEARS * 365)
MINUTES = (0, MAX_MINUTES)

# The config's numbers: option (a target's as targets.*.OPTION) -> (lowest, highest).
RANGES: dict[str, tuple[int | float, int | float]] = {
    "rules.followup_days": (0, 365),
    # Half a year at most: the notice of one birthday never reaches back to the one before.
    "rules.birthday_notice_days": (0, 180),
    **{f"minutes.{kind}": MINUTES for kind in ("touch", "meeting", "help", "pitch", "request")},
    "split.window_days": (1, MAX_DAYS),
    "split.give": (0, 100),
    "split.self": (0, 100),
    "split.ask": (0, 100),
    "warnings.reacting_share": (0.0, 1.0),
    "warnings.reacting_min_touches": (1, 10_000),
    "warnings.collecting_days": (1, MAX_DAYS),
    "warnings.quiet_days": (1, MAX_DAYS),
    "warnings.taking_balance": (-1000, 0),
    "warnings.impress_margin": (0, 100),
    "warnings.split_margin": (0, 100),
    "warnings.split_min_minutes": (0, 1_000_000),
    "warnings.selling_days": (1, 365),
    "review.met_days": (1, MAX_DAYS),
    "review.quiet_days": (1, MAX_DAYS),
    "targets.*.horizon_days": (0, MAX_DAYS),
    "targets.*.timeout": (0.1, 3600.0),
    "targets.*.max_items": (1, MAX_ITEMS),
    "feed.horizon_days": (0, MAX_DAYS),
    "feed.port": (1, 65535),
    "hub.poll": (0.1, 3600.0),
}


def shown(value: object) -> str:
    """A value as an error shows it: its repr, cut short when long."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(str(value))} characters)"


def out_of_range(value: object, low: object, high: object) -> str:
    """The end of a one-line error: what was given and the range it must be in."""
    return f"{shown(value)} is out of range: {low} .. {high}"


def _in_range(where: str, value: Any) -> None:
    """Raise ConfigError unless the number at `where` (e.g. targets.phone.timeout) is in
    its range; NaN is in no range."""
    if isinstance(value, str):
        return  # texts have no range (the hub's url and member)
    parts = where.split(".")
    key = f"targets.*.{parts[-1]}" if parts[0] == "targets" else where
    low, high = RANGES[key]
    if not low <= value <= high:
        raise ConfigError(f"config: {where} = {out_of_range(value, low, high)}")


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
    impress_margin: int = 10  # percentage points of self-presentation above its target share
    split_margin: int = 15  # percentage points a part of the split may stray from its target
    split_min_minutes: int = 120  # minutes in the split window before either is judged
    selling_days: int = 14  # a request up to this many days after the first follow-up: selling


@dataclass(frozen=True)
class Review:
    """`syncnet review` (docs/rules.md, "Review")."""

    met_days: int = 30  # a contact met this many days ago or less is new: it needs a reason
    quiet_days: int = 180  # a kept contact with no interaction for this many days is quiet


# [0-9], never \d: \d and int() take every script's digits ("PT٩H" read as PT9H).
DURATION = re.compile(
    r"^(?P<sign>[+-]?)P(?:(?P<W>[0-9]+)W|(?:(?P<D>[0-9]+)D)?(?:T(?:(?P<H>[0-9]+)H)?(?:(?P<M>[0-9]+)M)?"
    r"(?:(?P<S>[0-9]+)S)?)?)$"
)
_SECONDS = {"W": 7 * 86400, "D": 86400, "H": 3600, "M": 60, "S": 1}
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_QUERY = re.compile(r"(https?://[^\s?#]*)\?[^\s#]*")


def without_userinfo(text: str) -> str:
    """A URL (or a message naming URLs) as it may be shown: without a user:password@
    written into it, and without its query string (where a token may be)."""
    return _QUERY.sub(r"\1?…", _USERINFO.sub("", text))


def refuse_userinfo(where: str, url: str, env_prefix: str) -> None:
    """Raise ConfigError when the URL at `where` has a user or a password written into it
    (http://me:pw@host/): a config file is read by editors, backups and bug reports, and
    a URL is shown in messages and logs. The message never shows the URL."""
    table = where.rpartition(".")[0]
    problem = url_problem(url)
    if problem == "userinfo":
        raise ConfigError(
            f"config: {where} holds a user name or password (user:password@): remove it and set "
            f"{table}.user, and {table}.password_cmd or the {env_prefix}_PASSWORD variable"
        )
    if problem == "host":
        raise ConfigError(f"config: {where} is not a valid URL (its host or port cannot be read)")


def url_problem(url: str) -> str | None:
    """"userinfo" when a user or a password is written into the URL, "host" when it is an
    http(s) URL whose host or port cannot be read, else None. The URL is never quoted
    by whoever reports either: it may hold a password."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError on a port that is not a number
        netloc = parts.netloc
    except ValueError:
        netloc = None
    if "@" in (netloc or "") or _USERINFO.sub("", url) != url:
        return "userinfo"
    if url.startswith(("http://", "https://")) and (netloc is None or not parts.hostname):
        # e.g. a password holding "/" (http://me:pw/x@host/ reads as host "me", port "pw")
        return "host"
    return None


def host_problem(host: str) -> str | None:
    """Why `host` (an address to listen on, the host of a URL) cannot be one, or None:
    a control character or a space would end up inside a printed URL or a log line."""
    if any(ch.isspace() or not ch.isprintable() for ch in host):
        return "it holds a space or a control character"
    return None


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
    max_items: int = 200  # more reminders are grouped (syncnet.domain.grouping)
    # A reminder ticked off in a client (docs/sync.md, "Completions"): "keep" leaves it
    # completed until it is older than the horizon, "remove" deletes it at the next sync.
    completed: str = "keep"
    completion_channel: str = "other"  # the channel of the touch a completion records

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
class Hub:
    """A PostgreSQL hub shared by devices or a team (docs/hub.md); url "" = none."""

    url: str = ""
    member: str = "me"  # who this device's facts are recorded by, inside each envelope
    poll: float = 30.0  # seconds between the daemon's pulls when no notification came


def store_problem(url: str, where: str) -> None:
    """Raise ConfigError unless `url` is a PostgreSQL URL without a password in it (`where`:
    the option, variable or config key it came from)."""
    label = where if where.startswith(("-", "SYNCNET_")) else f"config: {where}"
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{label} must be a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)")
    if re.search(r"://[^/@]*:[^/@]*@", url) or re.search(r"[?&]password=", url):
        raise ConfigError(f"{label} holds a password: remove it and use the PGPASSWORD variable or ~/.pgpass")
    if "?" in url:  # the pooled connections take host, port, database and user only
        raise ConfigError(f"{label} has parameters after '?': set them as libpq's variables instead "
                          "(PGSSLMODE, PGSSLROOTCERT, PGAPPNAME...), which every connection reads")


def parse_hub(table: dict[str, Any]) -> Hub:
    hub: Hub = _typed(Hub, table, "hub")
    if hub.url:
        store_problem(hub.url, "hub.url")
    if not hub.member.strip() or any(not ch.isprintable() for ch in hub.member) or len(hub.member) > 64:
        raise ConfigError("config: hub.member must be a printable name of at most 64 characters")
    return hub


@dataclass(frozen=True)
class Config:
    timezone: str = ""  # empty: the system's local time zone
    followup_days: int = 3
    birthdays: bool = True  # a kept contact's birthday is a yearly reminder
    birthday_notice_days: int = 7  # it opens this many days before the birthday
    hemisphere: str = "north"
    seasons: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(NORTH_SEASONS))
    minutes: Minutes = field(default_factory=Minutes)
    split: Split = field(default_factory=Split)
    warnings: Warnings = field(default_factory=Warnings)
    review: Review = field(default_factory=Review)
    targets: tuple[Target, ...] = ()
    feed: Feed = field(default_factory=Feed)
    hub: Hub = field(default_factory=Hub)
    # A PostgreSQL database to keep the store in (read by `syncnet init`); "": SQLite in the home.
    store: str = ""
    # A command printing the store's passphrase: a list runs as is, a string is split
    # like a shell would (but run without one); never the passphrase itself.
    passphrase_cmd: str | tuple[str, ...] = ""
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
        _in_range(f"{where}.{key}", value)
        values[key] = value
    return cls(**values)


def _months(name: str, value: Any) -> tuple[int, int]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in value)
    )
    if not ok:
        raise ConfigError(f"config: seasons.{name} must be [first_month, last_month], 1-12")
    return (value[0], value[1])


def alarm_seconds(text: str) -> int | None:
    """The offset of an alarm like "PT9H" or "-P1D" in seconds; None when malformed."""
    m = DURATION.match(text)
    if not m or text.rstrip("T").endswith("P"):  # "P" and "PT" name no duration
        return None
    try:
        seconds = sum(int(m.group(u)) * n for u, n in _SECONDS.items() if m.group(u))
    except ValueError:  # more digits than int() reads: far out of range anyway
        seconds = MAX_ALARM_DAYS * 86400 + 1
    return -seconds if m.group("sign") == "-" else seconds


def _alarms(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'config: {where}.alarms must be a list of durations like "PT9H" or "-P1D"')
    for text in value:
        seconds = alarm_seconds(text)
        if seconds is None:
            raise ConfigError(f'config: {where}.alarms: malformed {shown(text)}: use e.g. "PT9H" or "-P1D"')
        if abs(seconds) > MAX_ALARM_DAYS * 86400:
            bound = f"P{MAX_ALARM_DAYS}D"
            raise ConfigError(f"config: {where}.alarms: {out_of_range(text, '-' + bound, bound)}")
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
        if type(value) is not type(default):  # the value shown without a password (a url in a list)
            got = without_userinfo(repr(value))
            raise ConfigError(f"config: {where}.{key} must be {type(default).__name__}, got {got}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            _in_range(f"{where}.{key}", value)
        values[key] = value
    target = Target(**values)
    refuse_userinfo(f"{where}.url", target.url, target.env_prefix)  # first: no message shows it
    if not target.style:
        target = replace(target, style="todo" if kind == "caldav" else "event")
    if target.style not in ("todo", "event"):
        raise ConfigError(f'config: {where}.style must be "todo" or "event"')
    if target.completed not in ("keep", "remove"):
        raise ConfigError(f'config: {where}.completed must be "keep" or "remove"')
    if target.completion_channel not in CHANNELS:
        raise ConfigError(f"config: {where}.completion_channel must be one of {', '.join(CHANNELS)}")
    if kind == "caldav" and not target.url.startswith(("http://", "https://")):
        raise ConfigError(f"config: {where}.url must be an http:// or https:// URL")
    if kind == "ics" and not target.path:
        raise ConfigError(f"config: {where}.path is required for an ics target")
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
        if f"feed.{key}" in RANGES:
            _in_range(f"feed.{key}", value)
        values[key] = value
    feed = Feed(**values)
    if (problem := host_problem(feed.bind)) is not None:
        raise ConfigError(f"config: feed.bind {shown(feed.bind)} is not a host name or address: {problem}")
    if feed.style not in ("todo", "event"):
        raise ConfigError('config: feed.style must be "todo" or "event"')
    return feed


def _passphrase_cmd(data: dict[str, Any]) -> str | tuple[str, ...]:
    for where, table in (("", data), ("general.", data.get("general", {}))):
        if isinstance(table, dict) and "passphrase" in table:
            raise ConfigError(f"config: {where}passphrase: never put secrets in the config; "
                              "use passphrase_cmd, the system keyring or SYNCNET_PASSPHRASE")  # fmt: skip
    value = data.get("passphrase_cmd", "")
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ConfigError('config: passphrase_cmd must be a string or a list like ["pass", "show", "syncnet"]')


def parse_config(data: dict[str, Any], source: str = "<string>") -> Config:
    passphrase_cmd = _passphrase_cmd(data)
    general = _section(data, "general")
    rules = _section(data, "rules")
    for key in general:
        if key != "timezone":
            raise ConfigError(f"config: unknown option general.{key}")
    for key in rules:
        if key not in ("followup_days", "hemisphere", "birthdays", "birthday_notice_days"):
            raise ConfigError(f"config: unknown option rules.{key}")
    timezone = general.get("timezone", "")
    if not isinstance(timezone, str):
        raise ConfigError("config: general.timezone must be a string")
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, a name too long
            raise ConfigError(f"config: unknown time zone {timezone!r}") from None
    followup = rules.get("followup_days", 3)
    if not isinstance(followup, int) or isinstance(followup, bool):
        raise ConfigError(f"config: rules.followup_days must be a whole number, got {followup!r}")
    _in_range("rules.followup_days", followup)
    birthdays = rules.get("birthdays", True)
    if not isinstance(birthdays, bool):
        raise ConfigError(f"config: rules.birthdays must be true or false, got {shown(birthdays)}")
    notice = rules.get("birthday_notice_days", 7)
    if not isinstance(notice, int) or isinstance(notice, bool):
        raise ConfigError(f"config: rules.birthday_notice_days must be a whole number, got {shown(notice)}")
    _in_range("rules.birthday_notice_days", notice)
    hemisphere = rules.get("hemisphere", "north")
    if hemisphere not in ("north", "south"):
        raise ConfigError("config: rules.hemisphere must be 'north' or 'south'")
    seasons = dict(NORTH_SEASONS if hemisphere == "north" else SOUTH_SEASONS)
    for name, value in _section(data, "seasons").items():
        if name not in seasons:
            raise ConfigError(f"config: unknown season {name!r} (spring, summer, autumn)")
        seasons[name] = _months(name, value)
    store = data.get("store", "")
    if not isinstance(store, str):
        raise ConfigError("config: store must be a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)")
    if store:
        store_problem(store, "store")
    for key in data:
        if key in ("passphrase_cmd", "store"):
            continue
        if key not in ("general", "rules", "seasons", "minutes", "split", "warnings", "targets", "feed",
                       "hub", "review"):  # fmt: skip
            raise ConfigError(f"config: unknown section [{key}]")
    split = _typed(Split, _section(data, "split"), "split")
    if split.give + split.self + split.ask != 100:
        raise ConfigError("config: split.give + split.self + split.ask must add up to 100")
    return Config(
        timezone=timezone,
        followup_days=followup,
        birthdays=birthdays,
        birthday_notice_days=notice,
        hemisphere=hemisphere,
        seasons=seasons,
        minutes=_typed(Minutes, _section(data, "minutes"), "minutes"),
        split=split,
        warnings=_typed(Warnings, _section(data, "warnings"), "warnings"),
        review=_typed(Review, _section(data, "review"), "review"),
        targets=tuple(_target(name, t) for name, t in _section(data, "targets").items()),
        feed=_feed(_section(data, "feed")),
        hub=parse_hub(_section(data, "hub")),
        store=store,
        passphrase_cmd=passphrase_cmd,
        source=source,
    )
