"""Issue 10, point 5: every number a user can give has a documented range, checked at
input (exit 2, nothing written), and no value inside the range makes a later command fail.

- The config: each option of `RANGES` at its edges (accepted) and just past them
  (a one-line ConfigError naming the option, the value and the range); alarms; NaN.
- The parsers: dates (1900-01-01 .. 2200-12-31, today/yesterday/tomorrow included)
  and cadences at their edges.
- The documentation: docs/rules.md lists every range as the code has it.
- The CLI: each bound at its edge accepted and read back, one past it refused with
  exit 2 and nothing written (`store_state`), the config's bounds for every command.
- A hypothesis property: facts and config values at and near the edges of their ranges,
  then the agenda, balances, split, warnings, an ICS target's sync and status, and the
  feed all succeed, and what the calendar and the feed hold is what the agenda says.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from support import Runner, T, ics_items, ics_target, toml_value, write_config

from syncnet.app import calendars
from syncnet.app.network import Network
from syncnet.bootstrap import feed_app, sync_target
from syncnet.domain import commands as cmd
from syncnet.domain.config import (
    CADENCE_DAYS,
    FIRST_DAY,
    LAST_DAY,
    MAX_ALARM_DAYS,
    MAX_MINUTES,
    MINUTES,
    RANGES,
    Config,
    Feed,
    Hub,
    Minutes,
    Review,
    Split,
    Target,
    Warnings,
    parse_config,
)
from syncnet.domain.dates import parse_date, parse_days
from syncnet.errors import BadInput, ConfigError
from syncnet.storage.store import init_store

ROOT = Path(__file__).resolve().parent.parent
ONE_DAY = timedelta(days=1)


# ---------------------------------------------------------------- the config
def config_data(key: str, value: Any) -> dict[str, Any]:
    """A parsed TOML document setting the option `key` (targets.*.X on an ics target) to
    `value`; a split part is completed by the others so that the three add up to 100."""
    section, *rest = key.split(".")
    if section == "targets":
        return {"targets": {"t": {"type": "ics", "path": "t.ics", rest[-1]: value}}}
    if section == "split" and rest[0] in ("give", "self", "ask") and isinstance(value, int):
        others = [p for p in ("give", "self", "ask") if p != rest[0]]
        left = 100 - value
        return {"split": {rest[0]: value, others[0]: max(left, 0), others[1]: min(left, 0)}}
    return {section: {rest[0]: value}}


def step(value: int | float) -> int | float:
    return 1 if isinstance(value, int) else 0.01


EDGES = [(key, edge) for key, (low, high) in RANGES.items() for edge in (low, high)]


@pytest.mark.parametrize(("key", "value"), EDGES, ids=[f"{k}={v}" for k, v in EDGES])
def test_each_config_number_is_accepted_at_its_edges(key: str, value: int | float) -> None:
    config = parse_config(config_data(key, value))
    section, *rest = key.split(".")
    # rules.* are Config's own fields; the other sections are dataclasses of their own.
    holder: Any = config.targets[0] if section == "targets" else getattr(config, section, config)
    assert getattr(holder, rest[-1]) == value


PAST = [(key, value) for key, (low, high) in RANGES.items() for value in (low - step(low), high + step(high))]


@pytest.mark.parametrize(("key", "value"), PAST, ids=[f"{k}={v}" for k, v in PAST])
def test_each_config_number_past_its_edge_is_a_one_line_error(key: str, value: int | float) -> None:
    low, high = RANGES[key]
    with pytest.raises(ConfigError) as e:
        parse_config(config_data(key, value))
    message = str(e.value)
    where = key.replace("*", "t")
    assert message == f"config: {where} = {value!r} is out of range: {low} .. {high}"


@pytest.mark.parametrize("key", [k for k, (low, _) in RANGES.items() if isinstance(low, float)])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_no_float_option_takes_nan_or_infinity(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=re.escape(key.split(".")[-1]) + ".*out of range"):
        parse_config(config_data(key, value))


def test_nan_in_a_config_file_is_refused(tmp_path: Path) -> None:
    """TOML itself can spell nan and inf: the file is refused when loaded."""
    from syncnet.storage.configfile import load_config

    path = tmp_path / "config.toml"
    path.write_text('[warnings]\nreacting_share = nan\n[targets.f]\ntype = "ics"\npath = "f.ics"\n')
    with pytest.raises(ConfigError, match=re.escape("warnings.reacting_share = nan is out of range")):
        load_config(path)
    path.write_text('[targets.f]\ntype = "ics"\npath = "f.ics"\ntimeout = inf\n')
    with pytest.raises(ConfigError, match=re.escape("targets.f.timeout = inf is out of range")):
        load_config(path)


def test_every_number_of_the_config_has_a_range() -> None:
    """A new numeric option without a range would fail here, not in a user's hands."""
    numeric = {f"rules.{f.name}" for f in fields(Config) if f.type == "int"}  # [rules]: Config's own
    sections = ((Minutes, "minutes"), (Split, "split"), (Warnings, "warnings"), (Feed, "feed"), (Hub, "hub"),
                (Review, "review"))  # fmt: skip
    for cls, section in sections:
        numeric |= {f"{section}.{f.name}" for f in fields(cls) if f.type in ("int", "float")}
    numeric |= {f"targets.*.{f.name}" for f in fields(Target) if f.type in ("int", "float")}
    assert numeric == set(RANGES)


YEAR = MAX_ALARM_DAYS * 86400


@pytest.mark.parametrize(
    ("alarm", "seconds"),
    [("P365D", YEAR), ("-P365D", -YEAR), ("+P52W", 364 * 86400), ("-PT8760H", -YEAR), ("PT0S", 0),
     ("P364DT23H59M60S", YEAR), ("PT525600M", YEAR), ("-PT31536000S", -YEAR)],
)  # fmt: skip
def test_alarms_up_to_a_year_either_way_are_accepted(alarm: str, seconds: int) -> None:
    from syncnet_adapters.ics import parse_offset

    config = parse_config({"feed": {"alarms": [alarm]}, "targets": {"t": {"type": "ics", "path": "t",
                                                                          "alarms": [alarm]}}})  # fmt: skip
    assert config.feed.alarms == config.targets[0].alarms == (alarm,)
    assert parse_offset(alarm) == timedelta(seconds=seconds)  # and what a sync makes of it


@pytest.mark.parametrize(
    "alarm", ["P366D", "-P366D", "P53W", "PT8761H", "PT31536001S", "P" + "9" * 5000 + "D"]
)
def test_alarms_past_a_year_are_refused(alarm: str) -> None:
    for data in ({"feed": {"alarms": [alarm]}},
                 {"targets": {"t": {"type": "ics", "path": "t", "alarms": ["PT9H", alarm]}}}):  # fmt: skip
        with pytest.raises(ConfigError) as e:
            parse_config(data)
        message = str(e.value)
        assert "alarms: " in message and message.endswith("is out of range: -P365D .. P365D")
        assert "\n" not in message and len(message) < 200


@pytest.mark.parametrize("alarm", ["P", "PT", "-P", "9H", "P1H", "PT1D", "P1W2D", ""])
def test_malformed_alarms_are_refused(alarm: str) -> None:
    with pytest.raises(ConfigError, match=re.escape("feed.alarms: malformed")):
        parse_config({"feed": {"alarms": [alarm]}})


# ---------------------------------------------------------------- dates and cadences
@pytest.mark.parametrize("text", ["1900-01-01", "2200-12-31", "2026-11-20"])
def test_dates_in_range_parse(text: str) -> None:
    assert parse_date(text, date(2026, 11, 20), "--on") == date.fromisoformat(text)


@pytest.mark.parametrize(
    ("text", "today", "shown"),
    [("1899-12-31", date(2026, 1, 1), "1899-12-31"), ("2201-01-01", date(2026, 1, 1), "2201-01-01"),
     ("0001-01-01", date(2026, 1, 1), "0001-01-01"), ("9999-12-31", date(2026, 1, 1), "9999-12-31"),
     ("yesterday", FIRST_DAY, "1899-12-31"), ("tomorrow", LAST_DAY, "2201-01-01"),
     ("yesterday", date.min, "0001-01-01"), ("tomorrow", date.max, "9999-12-31")],
)  # fmt: skip
def test_dates_out_of_range_are_refused(text: str, today: date, shown: str) -> None:
    with pytest.raises(BadInput) as e:
        parse_date(text, today, "--until")
    assert str(e.value) == f"--until '{shown}' is out of range: 1900-01-01 .. 2200-12-31"


def test_relative_dates_at_the_edges() -> None:
    assert parse_date("yesterday", FIRST_DAY + ONE_DAY) == FIRST_DAY
    assert parse_date("tomorrow", LAST_DAY - ONE_DAY) == LAST_DAY
    assert parse_date("today", LAST_DAY) == LAST_DAY


@pytest.mark.parametrize(
    ("text", "days"),
    [("1", 1), ("1d", 1), ("1825d", 1825), ("1825", 1825), ("260w", 1820), ("60m", 1800),
     ("0001825d", 1825), ("off", None), ("0", None)],
)  # fmt: skip
def test_cadences_in_range_parse(text: str, days: int | None) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["1826d", "1826", "261w", "61m", "999999999d", "9" * 5000])
def test_cadences_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(BadInput) as e:
        parse_days(text)
    message = str(e.value)
    assert message.startswith("cadence ")
    assert message.endswith("is out of range: 1 day .. 1825 days (5 years)")
    assert len(message) < 200  # a long number is cut short


# ---------------------------------------------------------------- the documentation
def test_rules_md_lists_every_range_as_the_code_has_it() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    table = text.split("## Ranges", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ")]

    def row(name: str) -> str:
        found = [r for r in rows if f"`{name}`" in r or f"`.{name}`" in r]
        assert len(found) == 1, (name, found)
        return found[0]

    for key, (low, high) in RANGES.items():
        name = key.replace("targets.*.", "targets.NAME.")
        if key.startswith("minutes."):
            name = "minutes.touch"
        elif key.startswith("split.") and key != "split.window_days":
            name = "split.give"
        assert f"| {low} .. {high}" in row(name), key
    assert f"{FIRST_DAY} .. {LAST_DAY}" in row("--on")
    assert f"{CADENCE_DAYS[0]} .. {CADENCE_DAYS[1]} days" in row("syncnet cadence CONTACT EVERY")
    assert f"{MINUTES[0]} .. {MINUTES[1]}" in row("--minutes")
    assert f"at most {MAX_ALARM_DAYS} days" in row("feed.alarms")


def test_the_example_config_shows_the_ranges() -> None:
    """config.example.toml documents every option's range next to its default."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    tomllib.loads(text)
    for key, (low, high) in RANGES.items():
        if key.startswith(("minutes.", "split.")):
            continue  # one line for the whole table
        assert f"[{low} .. {high}]" in text, key
    assert f"[{MINUTES[0]} .. {MINUTES[1]}]" in text
    assert "[1 .. 3650]; give, self and ask [0 .. 100]" in text


# ---------------------------------------------------------------- the CLI
def contact_id(run: Runner) -> str:
    return str(run.json("meet", "Ada Lovelace", "--on", "2026-11-01", *T)["recorded"]["contact"]["id"])


def refused(run: Runner, state: Callable[[Path], tuple[int, int]], *args: object) -> str:
    """Run a command that must be refused: exit 2, one line, nothing written."""
    before = state(run.home)
    line = run.fails(*args)
    assert state(run.home) == before
    return line


def test_cli_cadence_at_its_edges(run: Runner, state: Callable[[Path], tuple[int, int]]) -> None:
    run.ok("init")
    cid = contact_id(run)
    line = refused(run, state, "cadence", "ada", "1826d", *T)
    assert line == "syncnet: error: cadence '1826d' is out of range: 1 day .. 1825 days (5 years)"
    assert "out of range" in refused(run, state, "cadence", "ada", "999999999d", *T)
    run.ok("cadence", "ada", "1825d", *T)
    # Read back: the cadence is due five years after the last interaction (the meeting).
    last = date(2026, 11, 1) + timedelta(days=1825)
    agenda = run.json("due", "--until", LAST_DAY.isoformat(), *T)["agenda"]
    cadences = [(a["rule"], a["due"]) for a in agenda if a["rule"] == "cadence"]
    assert cadences == [("cadence", last.isoformat())]
    assert all(a["contact"]["id"] == cid for a in agenda)
    run.ok("cadence", "ada", "1", *T)
    agenda = run.json("due", *T)["agenda"]
    assert ("cadence", "2026-11-02") in [(a["rule"], a["due"]) for a in agenda]


def test_cli_minutes_at_their_edges(run: Runner, state: Callable[[Path], tuple[int, int]]) -> None:
    run.ok("init")
    contact_id(run)
    for command in (["touch", "ada"], ["give", "ada", "--kind", "advice"], ["ask", "ada"], ["pitch"],
                    ["meet", "Grace Hopper"]):  # fmt: skip
        line = refused(run, state, *command, "--minutes", MAX_MINUTES + 1, *T)
        assert line.startswith("syncnet: error: Invalid value for '--minutes': 1441 is not in the range")
        assert "0<=x<=1440" in line
        assert "--minutes" in refused(run, state, *command, "--minutes", -1, *T)
    run.ok("touch", "ada", "--minutes", MAX_MINUTES, *T)
    run.ok("give", "ada", "--kind", "advice", "--minutes", MAX_MINUTES, *T)
    run.ok("pitch", "--minutes", MAX_MINUTES, *T)
    run.ok("touch", "ada", "--minutes", 0, *T)
    split = run.json("split", *T)
    # give: the meeting's default 30 + the touch + the help; self: the pitch.
    assert split["parts"]["give"]["minutes"] == 30 + 2 * MAX_MINUTES
    assert split["parts"]["self"]["minutes"] == MAX_MINUTES
    [row] = run.json("balance", *T)["contacts"]
    assert row["given_minutes"] == MAX_MINUTES


@pytest.fixture
def clock_at_the_last_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real today (Network.clock) on LAST_DAY: facts may then be dated up to it."""
    monkeypatch.setattr("syncnet.app.network._today_in", lambda timezone: LAST_DAY)


def test_cli_dates_at_their_edges(
    run: Runner, state: Callable[[Path], tuple[int, int]], clock_at_the_last_day: None
) -> None:
    run.ok("init")
    first, last = FIRST_DAY.isoformat(), LAST_DAY.isoformat()
    line = refused(run, state, "meet", "Ada", "--on", "1899-12-31", *T)
    assert line == "syncnet: error: --on '1899-12-31' is out of range: 1900-01-01 .. 2200-12-31"
    refused(run, state, "meet", "Ada", "--today", "1900-01-01", "--on", "yesterday")
    refused(run, state, "meet", "Ada", "--today", "2201-01-01")
    run.ok("meet", "Ada", "--on", first, *T)
    line = refused(run, state, "promise", "ada", "a letter", "--due", "2201-01-01", *T)
    assert line == "syncnet: error: --due '2201-01-01' is out of range: 1900-01-01 .. 2200-12-31"
    refused(run, state, "promise", "ada", "a letter", "--due", "tomorrow", "--today", last)
    run.ok("promise", "ada", "a letter", "--due", last, "--on", first, *T)
    run.ok("touch", "ada", "--today", last, "--on", last)
    for read in (["due"], ["balance"], ["split"], ["warnings"], ["status"], ["history", "ada"], ["contacts"]):
        assert "--today '2201-01-01' is out of range" in run.fails(*read, "--today", "2201-01-01")
        assert "--today '1899-12-31' is out of range" in run.fails(*read, "--today", "1899-12-31")
    assert "--until '2201-01-01'" in run.fails("due", "--until", "2201-01-01", *T)
    assert "--as-of '1899-12-31'" in run.fails("balance", "--as-of", "1899-12-31", *T)
    # At the edges every read works and shows the edge dates.
    # As of the first day, the touch of 2200 has not happened: the follow-up is open.
    agenda = run.json("due", "--today", first)["agenda"]
    assert [(a["rule"], a["opens"]) for a in agenda] == [("followup", first), ("promise", first)]
    assert run.json("due", "--today", last)["agenda"][-1]["due"] == last
    agenda = run.json("due", "--today", first, "--until", last)["agenda"]
    assert ("promise", last) in [(a["rule"], a["due"]) for a in agenda]
    assert run.json("balance", "--as-of", last, "--today", last)["credibility"]["came_due"] == 1
    assert run.json("split", "--today", first)["window"] == {"start": "1899-01-02", "end": first}
    assert run.json("split", "--today", last)["window"]["end"] == last
    kinds = {w["kind"] for w in run.json("warnings", "--today", last)["warnings"]}
    assert "collecting" in kinds  # the only touch came 300 years after the meeting
    run.json("warnings", "--today", first)


def test_cli_config_bounds_apply_to_every_command(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    out = tmp_path / "cal.ics"
    write_config(run.home, {"followup_days": 366}, f=ics_target(out))
    for command in (["due"], ["balance"], ["split"], ["warnings"], ["status"], ["sync"], ["touch", "x"]):
        line = run.fails(*command, *T)
        assert line == "syncnet: error: config: rules.followup_days = 366 is out of range: 0 .. 365"
    write_config(run.home, {"followup_days": 365}, f=ics_target(out, horizon_days=3651))
    assert "targets.f.horizon_days = 3651 is out of range: 0 .. 3650" in run.fails("sync", *T)
    assert not out.exists()


def test_cli_config_at_its_edges_syncs_and_serves(
    run: Runner, tmp_path: Path, clock_at_the_last_day: None
) -> None:
    """The largest follow-up, horizon, cadence and alarms and a promise due on the last
    day, with --today on the last day: due, status and sync work and agree."""
    run.ok("init")
    out = tmp_path / "cal.ics"
    write_config(run.home, {"followup_days": 365},
                 f=ics_target(out, horizon_days=3650, alarms=["-P365D", "P365D"]))  # fmt: skip
    (run.home / "config.toml").write_text(
        (run.home / "config.toml").read_text()
        + "[warnings]\ncollecting_days = 3650\nquiet_days = 3650\n[split]\nwindow_days = 3650\ngive = 100\n"
        'self = 0\nask = 0\n[feed]\nhorizon_days = 3650\nalarms = ["-P365D"]\n'
    )
    last = LAST_DAY.isoformat()
    run.ok("meet", "Ada", "--today", last)
    run.ok("cadence", "ada", "1825d", "--today", last)
    run.ok("promise", "ada", "a letter", "--due", last, "--today", last)
    agenda = run.json("due", "--today", last, "--until", last)["agenda"]
    assert {(a["rule"], a["due"]) for a in agenda} == {("followup", "2201-12-31"), ("promise", last)}
    [row] = run.json("status", "--today", last)["targets"]
    synced = run.json("sync", "--today", last)
    assert synced["targets"][0]["ok"], synced
    items = ics_items(out.read_bytes())
    dues = sorted(str(c.decoded("DTSTART")) for c in items.values())
    # the promise, the follow-up, the seasons of ten years, and the cadence five years on
    cadence_due = (LAST_DAY + timedelta(days=1825)).isoformat()
    assert dues[0] == last and "2201-12-31" in dues and cadence_due in dues
    assert len(items) == row["pending"]["create"]
    [row] = run.json("status", "--today", last)["targets"]
    assert row["pending"] == {"create": 0, "update": 0, "delete": 0}
    for read in (["balance"], ["split"], ["warnings"]):
        run.json(*read, "--today", last)


# ---------------------------------------------------------------- the Python API
@pytest.mark.parametrize(
    ("command", "message"),
    [(cmd.Cadence("Ada", 1826), "cadence 1826 is out of range: 1 .. 1825 days"),
     (cmd.Cadence("Ada", 10**9), "cadence 1000000000 is out of range: 1 .. 1825 days"),
     (cmd.Touch("Ada", minutes=MAX_MINUTES + 1), "minutes 1441 is out of range: 0 .. 1440"),
     (cmd.Pitch(minutes=-1), "minutes -1 is out of range: 0 .. 1440"),
     (cmd.Meet("Grace", on=date(1899, 12, 31)), "date '1899-12-31' is out of range"),
     (cmd.Promise("Ada", "a letter", date(2201, 1, 1)), "due date '2201-01-01' is out of range")],
)  # fmt: skip
def test_the_python_api_checks_the_same_ranges(empty_store: Path, command: cmd.Command, message: str) -> None:
    """Importers and scripts record through Network.record: the same bounds, nothing written."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        shutil.copytree(empty_store, home)
        with Network.open(home, today=date(2026, 11, 20)) as net:
            net.record(cmd.Meet("Ada", on=date(2026, 11, 1)))
            net.record(cmd.Cadence("Ada", 1825))
            position = net.position()
            with pytest.raises(BadInput) as e:
                net.record_many([cmd.Touch("Ada"), command])
            assert message in str(e.value)
            assert net.position() == position
        late = re.escape("today '2201-01-01' is out of range")
        with Network.open(home, today=date(2201, 1, 1)) as net, pytest.raises(BadInput, match=late):
            net.record(cmd.Touch("Ada"))


# ---------------------------------------------------------------- the property
def edge_ints(low: int, high: int) -> st.SearchStrategy[int]:
    return st.sampled_from([low, min(low + 1, high), max(high - 1, low), high]) | st.integers(low, high)


def edge_floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.sampled_from([low, high]) | st.floats(low, high, allow_nan=False)


def edge_dates(low: date, high: date) -> st.SearchStrategy[date]:
    near = [low, min(low + ONE_DAY, high), max(high - ONE_DAY, low), high]
    return st.sampled_from(near) | st.dates(low, high)


def in_range(key: str) -> st.SearchStrategy[Any]:
    low, high = RANGES[key]
    return edge_floats(low, high) if isinstance(low, float) else edge_ints(int(low), int(high))


ALARMS = ["P365D", "-P365D", "+P52W", "-PT8760H", "PT0S", "PT9H", "-P1D"]
OPTIONS = [k for k in RANGES if not k.startswith("split.") or k == "split.window_days"]
SPLITS = [(100, 0, 0), (0, 100, 0), (0, 0, 100), (70, 20, 10)]
OPS = ["touch", "give", "receive", "ask", "asked", "pitch", "promise", "cadence", "off"]


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    today = draw(edge_dates(FIRST_DAY, LAST_DAY))
    on = edge_dates(FIRST_DAY, today)
    minutes = st.none() | edge_ints(*MINUTES)
    contacts = draw(st.lists(st.tuples(on, minutes, st.booleans()), min_size=1, max_size=3))
    ops = draw(st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 2), on, minutes, edge_ints(*CADENCE_DAYS),
                  st.booleans()),
        max_size=12))  # fmt: skip
    return {
        "today": today,
        "options": {k: draw(in_range(k)) for k in OPTIONS},
        "split": draw(st.sampled_from(SPLITS)),
        "hemisphere": draw(st.sampled_from(["north", "south"])),
        "alarms": draw(st.lists(st.sampled_from(ALARMS), max_size=3)),
        "style": draw(st.sampled_from(["event", "todo"])),
        "contacts": contacts,
        "ops": ops,
        "promise_due": draw(st.sampled_from(["on", "last", "between"])),
    }


def world_config(w: dict[str, Any], ics: Path) -> str:
    tables: dict[str, dict[str, Any]] = {"rules": {"hemisphere": w["hemisphere"]}}
    for key, value in w["options"].items():
        section, *rest = key.split(".")
        tables.setdefault("targets.f" if section == "targets" else section, {})[rest[-1]] = value
    tables["split"].update(zip(("give", "self", "ask"), w["split"], strict=True))
    tables["targets.f"].update(type="ics", path=str(ics), alarms=w["alarms"], style=w["style"])
    tables["feed"].update(alarms=w["alarms"], style=w["style"])
    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())
        for name, table in tables.items()
    )


def world_commands(w: dict[str, Any]) -> list[cmd.Command]:
    names = [f"Contact {i}" for i in range(len(w["contacts"]))]
    met = [on for on, _, _ in w["contacts"]]
    out: list[cmd.Command] = [
        cmd.Meet(name, minutes=minutes, on=on, why="role-model" if why else None)
        for name, (on, minutes, why) in zip(names, w["contacts"], strict=True)
    ]
    for op, who, drawn, minutes, days, flag in w["ops"]:
        name = names[who % len(names)]
        on = max(drawn, met[who % len(names)])  # nothing happens with a contact before meeting
        if op == "touch":
            out.append(cmd.Touch(name, "me" if flag else "them", minutes=minutes, on=on))
        elif op in ("give", "receive"):
            out.append((cmd.Give if op == "give" else cmd.Receive)(name, "advice", minutes=minutes, on=on))
        elif op in ("ask", "asked"):
            out.append((cmd.Ask if op == "ask" else cmd.Asked)(name, "a favour", minutes=minutes, on=on))
        elif op == "pitch":
            out.append(cmd.Pitch(name if flag else None, minutes=minutes, on=on))
        elif op == "promise":
            due = {"on": on, "last": LAST_DAY, "between": on + (LAST_DAY - on) / 2}[w["promise_due"]]
            out.append(cmd.Promise(name, "a letter", due, on=on))
        else:
            out.append(cmd.Cadence(name, days if op == "cadence" else None, on=on))
    return out


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bounds") / "store"
    init_store(home)
    return home


def feed_body(net: Network) -> bytes:
    app = feed_app(net)
    answer: list[str] = []
    environ = {"PATH_INFO": f"/feed/{calendars.feed_secret(net)}.ics", "REQUEST_METHOD": "GET"}
    body = b"".join(app(environ, lambda status, headers: answer.append(status)))
    assert answer == ["200 OK"]
    return body


def uids(body: bytes) -> set[str]:
    return {str(c["UID"]) for c in Calendar.from_ical(body).walk() if c.name in ("VEVENT", "VTODO")}


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(w=worlds())
def test_no_value_in_range_makes_a_later_command_fail(empty_store: Path, w: dict[str, Any]) -> None:
    """Today, the facts' dates and numbers and every config option at or near the edges of
    their ranges: recording takes them all, every read works, and a sync of an ics target,
    its status and the feed hold exactly the reminders of the agenda within their horizons."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        shutil.copytree(empty_store, home)
        ics = Path(tmp) / "cal.ics"
        (home / "config.toml").write_text(world_config(w, ics), encoding="utf-8")
        today = w["today"]
        with Network.open(home, today=today) as net:
            net.clock = lambda: today  # the real today: facts up to LAST_DAY are not in the future
            commands = world_commands(w)
            assert len(net.record_many(commands)) == len(commands)  # every value in range is taken
            agenda = net.agenda()
            assert all(a.reminder.opens <= today for a in agenda)
            assert len(net.agenda(until=LAST_DAY)) >= len(agenda)
            for as_of in (FIRST_DAY, today, LAST_DAY):
                rows, _ = net.balances(None, as_of)
                assert all(b.given_minutes >= 0 and b.received_minutes >= 0 for _, b in rows)
            split = net.time_split()
            days = w["options"]["split.window_days"]
            assert (split.start, split.end) == (today - timedelta(days=days - 1), today)
            net.warnings()
            [target] = net.config.targets
            outcome = sync_target(net, target, today=today)
            assert outcome.error is None, outcome.error
            wanted = {i.item.uid for i in calendars.calendar_items(net, target.horizon_days, today,
                                                                   target.max_items)}  # fmt: skip
            assert uids(ics.read_bytes()) == wanted
            [row] = calendars.status(net, today)
            assert row["pending"] == {"create": 0, "update": 0, "delete": 0} and row["holds"] == len(wanted)
            feed = {i.item.uid for i in net.calendar_items(net.config.feed.horizon_days, today)}
            assert uids(feed_body(net)) == feed
