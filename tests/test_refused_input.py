"""Issue 12: input a person could not mean is refused, and what is shown stays legible.

Refused with exit 2, one line on stderr and nothing written (`store_state` before and
after), through the CLI and through the Python API (Network.record):
- more minutes in one fact than a day has (1440);
- a cadence over five years (1825 days);
- an interaction dated before the first meeting with that contact;
- an empty `--on ''` (it used to be taken as today);
- a fact dated after the real today (Network.clock), whatever --today says.

Shown: `history` keeps one line per fact whatever a note holds (control characters
escaped; the JSON keeps the text as it is), and tables stay aligned for CJK text.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from support import Runner, T

from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.domain.config import CADENCE_DAYS, MAX_MINUTES, RANGES, parse_config
from syncnet.domain.dates import parse_date, parse_days
from syncnet.entrypoints.terminal import printable, width
from syncnet.errors import BadInput, ConfigError

State = Callable[[Path], tuple[int, int]]
MET = "2026-11-01"
BEFORE = "2026-10-31"
FAR = "2099-01-01"  # after the real today, whenever these tests run


def refused(run: Runner, state: State, *args: object) -> str:
    """Exit 2, one line on stderr, nothing written; the line."""
    before = state(run.home)
    line = run.fails(*args)
    assert state(run.home) == before
    return line


@pytest.fixture
def ada(run: Runner) -> Runner:
    """A store with Ada, met on MET, and Grace, met on 2026-11-10."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", MET, *T)
    run.ok("meet", "Grace Hopper", "--on", "2026-11-10", *T)
    return run


INTERACTIONS = [
    ["touch", "ada"],
    ["give", "ada", "--kind", "advice"],
    ["receive", "ada", "--kind", "advice"],
    ["ask", "ada", "a favour"],
    ["asked", "ada", "a favour"],
    ["pitch", "ada"],
    ["promise", "ada", "a letter", "--due", "2026-12-01"],
]
RECORDING = [
    *INTERACTIONS,
    ["meet", "Alan Turing"],
    ["pocket", "ada", "drop"],
    ["cadence", "ada", "6w"],
    ["goal", "add", "Lead a team"],
    ["pitch"],
]


# ---------------------------------------------------------------- minutes
def test_more_minutes_than_a_day_has_are_refused(ada: Runner, state: State) -> None:
    assert MAX_MINUTES == 24 * 60
    for command in (["touch", "ada"], ["give", "ada", "--kind", "advice"], ["ask", "ada"], ["pitch"],
                    ["meet", "Alan Turing"]):  # fmt: skip
        line = refused(ada, state, *command, "--minutes", 1441, *T)
        assert "'--minutes': 1441 is not in the range 0<=x<=1440" in line
    ada.ok("touch", "ada", "--minutes", 1440, *T)
    assert ada.json("balance", *T)["contacts"]  # read back fine
    help_text = ada.ok("touch", "--help").stdout
    assert "0 to 1440" in help_text


def test_the_config_default_minutes_are_bounded_by_a_day_too() -> None:
    assert RANGES["minutes.meeting"] == (0, 1440)
    assert parse_config({"minutes": {"meeting": 1440}}).minutes.meeting == 1440
    with pytest.raises(ConfigError, match=r"minutes\.meeting = 1441 is out of range: 0 \.\. 1440"):
        parse_config({"minutes": {"meeting": 1441}})
    parse_config({})  # every default is in its range


# ---------------------------------------------------------------- cadence
@pytest.mark.parametrize("text", ["1826d", "1826", "261w", "61m", "3650d"])
def test_a_cadence_over_five_years_is_refused_with_the_range(ada: Runner, state: State, text: str) -> None:
    line = refused(ada, state, "cadence", "ada", text, *T)
    assert line == f"syncnet: error: cadence {text!r} is out of range: 1 day .. 1825 days (5 years)"


@pytest.mark.parametrize(("text", "days"), [("1825d", 1825), ("1825", 1825), ("260w", 1820), ("60m", 1800)])
def test_a_cadence_of_five_years_is_taken(text: str, days: int) -> None:
    assert CADENCE_DAYS == (1, 5 * 365)
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_cadence_is_refused(ada: Runner, state: State, text: str) -> None:
    assert "empty cadence" in refused(ada, state, "cadence", "ada", text, *T)


# ---------------------------------------------------------------- the first meeting
@pytest.mark.parametrize("command", INTERACTIONS, ids=[c[0] for c in INTERACTIONS])
def test_an_interaction_before_the_first_meeting_is_refused(
    ada: Runner, state: State, command: list[str]
) -> None:
    line = refused(ada, state, *command, "--on", BEFORE, *T)
    assert line.startswith(f"syncnet: error: {BEFORE} is before the first meeting with Ada Lovelace (")
    assert line.endswith(f", on {MET}")
    ada.ok(*command, "--on", MET, *T)  # on the day of the meeting: fine


def test_an_introduction_before_meeting_the_one_introduced_is_refused(ada: Runner, state: State) -> None:
    line = refused(
        ada, state, "give", "ada", "--kind", "introduction", "--to", "grace", "--on", "2026-11-05", *T
    )
    assert "before the first meeting with Grace Hopper (" in line and line.endswith("on 2026-11-10")
    ada.ok("give", "ada", "--kind", "introduction", "--to", "grace", "--on", "2026-11-10", *T)


def test_a_pitch_to_no_one_and_other_facts_have_no_first_meeting(ada: Runner) -> None:
    ada.ok("pitch", "--on", "2026-01-01", *T)
    ada.ok("goal", "add", "Lead a team", "--on", "2026-01-01", *T)


def test_the_python_api_refuses_a_batch_that_touches_before_it_meets(run: Runner) -> None:
    run.ok("init")
    with Network.open(run.home, today=date(2026, 11, 20)) as net:
        position = net.position()
        batch = [cmd.Meet("Ada", on=date(2026, 11, 1)), cmd.Touch("Ada", on=date(2026, 10, 31))]
        with pytest.raises(BadInput, match=r"command 2: 2026-10-31 is before the first meeting with Ada \("):
            net.record_many(batch)
        assert net.position() == position
        net.record_many([cmd.Meet("Ada", on=date(2026, 11, 1)), cmd.Touch("Ada", on=date(2026, 11, 1))])


# ---------------------------------------------------------------- an empty --on
@pytest.mark.parametrize("command", RECORDING, ids=[" ".join(c[:2]) for c in RECORDING])
@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_on_is_refused_not_taken_as_today(
    ada: Runner, state: State, command: list[str], empty: str
) -> None:
    assert refused(ada, state, *command, "--on", empty, *T) == "syncnet: error: empty --on date"


def test_an_empty_due_is_refused(ada: Runner, state: State) -> None:
    line = refused(ada, state, "promise", "ada", "a letter", "--due", "", *T)
    assert line == "syncnet: error: empty --due date"


def test_parse_date_refuses_empty_text() -> None:
    with pytest.raises(BadInput, match=r"^empty --on date$"):
        parse_date(" ", date(2026, 11, 20), "--on")
    with pytest.raises(BadInput, match=r"^empty date$"):
        parse_date("", date(2026, 11, 20))


# ---------------------------------------------------------------- the real today
def around_today() -> set[date]:
    """The real today, and the days either side (a midnight during the test)."""
    today = date.today()
    return {today, today - timedelta(days=1), today + timedelta(days=1)}


def real_today_line(line: str) -> bool:
    """The error names the real today."""
    return any(f"(today is {d.isoformat()})" in line for d in around_today())


@pytest.mark.parametrize("command", RECORDING, ids=[" ".join(c[:2]) for c in RECORDING])
def test_a_fact_after_the_real_today_is_refused_whatever_today_says(
    ada: Runner, state: State, command: list[str]
) -> None:
    line = refused(ada, state, *command, "--on", FAR, "--today", "2099-06-01")
    assert line.startswith(f"syncnet: error: --on {FAR} is in the future (today is ")
    assert real_today_line(line)
    # without --on the fact would be dated --today: refused the same way
    line = refused(ada, state, *command, "--today", FAR)
    assert line.startswith(f"syncnet: error: --today {FAR} is in the future (today is ")


def test_reads_still_take_a_later_today(ada: Runner) -> None:
    assert ada.json("due", "--today", FAR)["today"] == FAR
    ada.json("history", "ada", "--today", FAR)


def test_a_date_after_today_is_still_refused_as_before(ada: Runner, state: State) -> None:
    line = refused(ada, state, "touch", "ada", "--on", "2026-11-21", *T)
    assert line == "syncnet: error: date 2026-11-21 is in the future (today is 2026-11-20)"


def test_the_python_api_asks_the_injected_clock(run: Runner) -> None:
    run.ok("init")
    with Network.open(run.home, today=date(2026, 12, 31)) as net:
        net.clock = lambda: date(2026, 11, 25)
        net.record(cmd.Meet("Ada", on=date(2026, 11, 1)))
        position = net.position()
        with pytest.raises(BadInput, match=r"^--on 2026-11-26 is in the future \(today is 2026-11-25\)$"):
            net.record(cmd.Touch("Ada", on=date(2026, 11, 26)))
        with pytest.raises(BadInput, match=r"^--today 2026-12-31 is in the future \(today is 2026-11-25\)$"):
            net.record(cmd.Touch("Ada"))
        assert net.position() == position
        net.record(cmd.Touch("Ada", on=date(2026, 11, 25)))
        net.clock = lambda: date(2026, 12, 31)  # the days pass
        net.record(cmd.Touch("Ada"))
        assert net.position() == position + 2


def test_the_default_clock_is_the_real_today_whatever_today_says(run: Runner) -> None:
    run.ok("init")
    with Network.open(run.home, today=date(2099, 1, 1)) as net:
        assert net.today() == date(2099, 1, 1)
        assert net.clock() in around_today()


# ---------------------------------------------------------------- history on one line a fact
NOTE = "first line\nsecond\tcolumn\r\nthird \x1b[31mred\x1b[0m\u2028 after a separator\x7f end"


def test_history_keeps_one_line_per_fact_whatever_a_note_holds(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada\nLovelace", "--where", "Py\tCon", "--on", MET, *T)
    run.ok("touch", "ada", "--note", NOTE, "--on", MET, *T)
    run.ok("ask", "ada", "a\nreferral", "--on", MET, *T)
    out = run.ok("history", "ada", *T).stdout
    lines = out.splitlines()  # splits on \r, \x1b? no: on \n, \r, \x0b, \x1c.., \x85, \u2028, \u2029
    assert len(lines) == 4, out
    assert lines[0].startswith("History of Ada\\nLovelace (")
    assert "where=Py\\tCon" in lines[1]
    escaped = "first line\\nsecond\\tcolumn\\r\\nthird \\x1b[31mred\\x1b[0m\\u2028 after a separator\\x7f end"
    assert f"note={escaped}" in out
    assert "what=a\\nreferral" in out
    assert "\x1b" not in out and "\t" not in out
    # the JSON keeps the text exactly as recorded
    doc = json.loads(run.ok("history", "ada", "--json", *T).stdout)
    notes = [e["details"].get("note") for e in doc["events"]]
    assert NOTE in notes
    assert doc["contact"]["name"] == "Ada\nLovelace"
    assert {e["details"].get("where") for e in doc["events"]} >= {"Py\tCon"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [("plain", "plain"), ("a\nb", "a\\nb"), ("\t", "\\t"), ("\x00\x1f\x85", "\\x00\\x1f\\x85"),
     ("\u2029", "\\u2029"), ("山田\u00a0José\u200d", "山田\u00a0José\u200d")],
)  # fmt: skip
def test_printable_escapes_only_what_breaks_a_line(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert len(printable(text).splitlines()) <= 1


# ---------------------------------------------------------------- tables and wide characters
def columns_of(text: str) -> int:
    """Display columns, computed apart from the code under test."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


@pytest.mark.parametrize(
    ("text", "columns"),
    [("Ada", 3), ("山田太郎", 8), ("Jose\u0301", 4), ("ｱｲ", 2), ("ＡＢ", 4), ("한국", 4), ("😀", 2), ("", 0)],
)
def test_display_width(text: str, columns: int) -> None:
    assert width(text) == columns == columns_of(text)


def test_tables_stay_aligned_for_wide_characters(run: Runner) -> None:
    run.ok("init")
    names = ["山田太郎", "Ada Lovelace", "Jose\u0301 Martí", "김민준 Kim", "Line\nBreak"]
    for name, why in zip(names, ["role-model", "complement", "commonality", "role-model", "complement"],
                         strict=True):  # fmt: skip
        run.ok("meet", name, "--why", why, "--on", MET, *T)
    lines = run.ok("contacts", *T).stdout.splitlines()
    assert len(lines) == 1 + len(names), lines
    starts = set()
    for line in lines:
        word = "why" if line.startswith("id") else next(w for w in ("role-model", "complement", "commonality")
                                                        if w in line)  # fmt: skip
        starts.add(columns_of(line[: line.index(word)]))
    assert starts == {8 + 2 + 12 + 2}  # the id, the widest name (12 columns), the gaps
    assert any("Line\\nBreak" in line for line in lines)
    # a table of plain ASCII is as before: padded by characters
    ascii_lines = run.ok("balance", *T).stdout.splitlines()
    assert ascii_lines[0].startswith("contact")


def test_an_empty_home_or_config_is_refused_not_taken_for_the_default(run) -> None:
    """A script's unset variable (`--home "$DIR"`) must not reach the real store."""
    run.ok("init")
    for option in ("--home", "--config"):
        assert run.fails(option, "", "due") == f"syncnet: error: {option} is empty"
