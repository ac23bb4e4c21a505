"""Five gaps the fuzzing of tests/test_fuzz_input.py left, each closed:

1. numbers on the command line in other scripts' digits ("--minutes ٣" was 3): the digits
   0-9 only, for every number option of every command, and in a cadence;
2. booleans where the config expects a number (`seasons.spring = [true, 5]` was January);
3. `feed url --bind` (and `serve --bind`, and feed.bind) holding a newline or another
   control character;
4. `demo --caldav-url http://user:pw@host/` wrote the password into the demo's config
   before the check refused it;
5. control characters in names and promise texts written raw into .ics files and CalDAV
   items (RFC 5545 allows none in TEXT but HTAB).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from caldav_fixtures import Calendar as Collection
from icalendar import Calendar
from support import TODAY, Runner, T, free_port, record, store_state, write_config

from syncnet.domain import commands as c
from syncnet.domain.config import RANGES, parse_config
from syncnet.entrypoints.cli import cli
from syncnet.entrypoints.cli.numbers import Decimal, Whole
from syncnet.errors import ConfigError

SECRET = "hunter2-SECRET"


@pytest.fixture
def store(run: Runner) -> Runner:
    run.ok("init")
    run.ok("meet", "Ada", *T)
    return run


# ---------------------------------------------------------------- 1. digits 0-9 only
def _number_params(command: click.Command, path: str = "syncnet") -> list[tuple[str, click.Parameter]]:
    found = [(f"{path} {p.name}", p) for p in command.params
             if isinstance(p.type, click.types.IntParamType | click.types.FloatParamType)]  # fmt: skip
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _number_params(sub, f"{path} {name}")
    return found


def test_every_number_option_reads_the_digits_0_to_9_only() -> None:
    params = _number_params(cli)
    names = {name for name, _ in params}
    assert {"syncnet touch minutes", "syncnet amend minutes", "syncnet feed url port", "syncnet serve port",
            "syncnet daemon poll"} <= names  # fmt: skip
    loose = [name for name, p in params if not isinstance(p.type, Whole | Decimal)]
    assert loose == []


ARABIC_3, DEVANAGARI_10, FULLWIDTH_3 = "\u0663", "\u0967\u0966", "\uff13"


@pytest.mark.parametrize(
    "argv",
    [
        ["touch", "Ada", "--minutes", ARABIC_3, *T],  # the fuzzer's example: recorded as 3
        ["touch", "Ada", "--minutes", DEVANAGARI_10, *T],
        ["give", "Ada", "--kind", "advice", "--minutes", FULLWIDTH_3, *T],
        ["meet", "Bob", "--minutes", "1_0", *T],  # int() reads it as 10
        ["amend", "abcdef", "--minutes", ARABIC_3],
        ["cadence", "Ada", f"{ARABIC_3}w", *T],
        ["cadence", "Ada", DEVANAGARI_10, *T],
        ["feed", "url", "--port", "\u0668\u0660\u0668\u0660"],
    ],
)
def test_numbers_in_other_digits_are_refused_and_nothing_is_written(store: Runner, argv: list[str]) -> None:
    before = store_state(store.home)
    line = store.fails(*argv)
    assert "0-9" in line, line
    assert store_state(store.home) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "\u0665\u0669\u0668\u0667\u0661"],  # was port 59871, served
        ["daemon", "--poll", ARABIC_3],
        ["daemon", "--poll", "nan"],  # float() reads it, and no range holds it out
        ["daemon", "--poll", "\u0660.\u0665"],
    ],
)
def test_long_running_commands_refuse_other_digits_before_starting(
    store: Runner, run_process: Runner, argv: list[str]
) -> None:
    line = run_process.fails(*argv)  # a process: one that starts serving is stopped by its timeout
    assert "0-9" in line, line


def test_numbers_in_the_digits_0_to_9_still_work(store: Runner) -> None:
    store.ok("touch", "Ada", "--minutes", "3", *T)
    store.ok("touch", "Ada", "--minutes", "+12", *T)
    store.ok("cadence", "Ada", "6w", *T)
    history = store.json("history", "Ada")
    assert [e["details"]["minutes"] for e in history["events"] if e["kind"] == "touch"] == [3, 12]
    assert store.json("show", "Ada")["cadence_days"] == 42
    url = store.ok("feed", "url", "--port", "8080", "--bind", "192.0.2.7").stdout
    assert url.startswith("http://192.0.2.7:8080/feed/")


def test_alarm_offsets_in_other_digits_are_refused_in_the_config() -> None:
    for alarms in ([f"PT{ARABIC_3}H"], ["-P\u0661D"]):
        with pytest.raises(ConfigError, match="malformed"):
            parse_config({"feed": {"alarms": alarms}})
    assert parse_config({"feed": {"alarms": ["PT9H", "-P1D"]}}).feed.alarms == ("PT9H", "-P1D")


# ---------------------------------------------------------------- 2. booleans are not numbers
def _with(option: str, value: Any) -> dict[str, Any]:
    """A config document setting `option` (a RANGES key) to `value`."""
    section, _, key = option.rpartition(".")
    if section == "targets.*":
        return {"targets": {"t": {"type": "ics", "path": "/tmp/x.ics", key: value}}}
    return {section: {key: value}}


@pytest.mark.parametrize("option", sorted(RANGES))
@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_refused_wherever_a_number_is_expected(option: str, value: bool) -> None:
    with pytest.raises(ConfigError, match=re.escape(option.rpartition(".")[2])):
        parse_config(_with(option, value))


@pytest.mark.parametrize("months", [[True, 5], [3, False], [True, True]])
def test_a_boolean_month_is_refused(months: list[Any]) -> None:
    with pytest.raises(ConfigError, match=r"seasons\.spring"):
        parse_config({"seasons": {"spring": months}})


def test_a_boolean_month_in_the_config_file_is_one_line(store: Runner) -> None:
    (store.home / "config.toml").write_text("[seasons]\nspring = [true, 5]\n", encoding="utf-8")
    line = store.fails("due", *T)
    assert "config: seasons.spring must be [first_month, last_month], 1-12" in line, line


# ---------------------------------------------------------------- 3. --bind
@pytest.mark.parametrize("bind", ["a\nb", "127.0.0.1\r\n", "host\x1b[2J", "a b", "\x85", "\u2028"])
def test_a_bind_with_a_control_character_or_space_is_refused(
    store: Runner, run_process: Runner, bind: str
) -> None:
    line = store.fails("feed", "url", "--bind", bind)
    assert "--bind" in line and "control character" in line, line
    assert "\n" not in line and "\x1b" not in line
    line = run_process.fails("serve", "--bind", bind, "--port", free_port())
    assert "--bind" in line and "control character" in line, line


def test_a_feed_bind_with_a_newline_in_the_config_is_refused(store: Runner) -> None:
    (store.home / "config.toml").write_text('[feed]\nbind = "a\\nb"\n', encoding="utf-8")
    line = store.fails("feed", "url")
    assert line.startswith("syncnet: error: config: feed.bind"), line


# ---------------------------------------------------------------- 4. the demo's URL
@pytest.mark.parametrize(
    "url",
    [
        f"http://user:{SECRET}@127.0.0.1:1/cal/",
        f"https://{SECRET}@example.invalid/",
        f"http://me:{SECRET}/x@127.0.0.1/",  # reads as host "me", port "hunter2-SECRET/x"
        f"ftp://127.0.0.1/{SECRET}",
    ],
)
def test_the_demo_refuses_a_bad_caldav_url_before_writing_anything(
    run: Runner, tmp_path: Path, url: str
) -> None:
    demo_home = tmp_path / "demo"
    line = run.fails("demo", "--home", demo_home, "--caldav-url", url, *T)
    assert "--caldav-url" in line and SECRET not in line, line
    assert not demo_home.exists()  # no store, no config.toml holding the password


def test_a_refused_demo_leaves_the_previous_scratch_demo_alone(run: Runner) -> None:
    first = Path(run.json("demo", *T)["home"])
    files = sorted(p.name for p in first.iterdir())
    config = first / "config.toml"
    line = run.fails("demo", "--caldav-url", f"http://u:{SECRET}@127.0.0.1:1/", *T)
    assert SECRET not in line
    assert sorted(p.name for p in first.iterdir()) == files and not config.exists()
    assert run.fails("demo", "--today", "2026-13-01").startswith("syncnet: error: malformed date")
    assert sorted(p.name for p in first.iterdir()) == files


# ---------------------------------------------------------------- 5. control characters in calendars
# Every C0 control (NUL too: a name recorded by an importer), DEL and every C1 control.
CONTROLS = "".join(chr(n) for n in (*range(0x20), *range(0x7F, 0xA0)))
NAME = "Ada " + CONTROLS + " Lovelace"


def _hostile_network(home: Path) -> None:
    record(home, c.Meet(NAME, on=date.fromisoformat(TODAY)),
           c.Promise(NAME, "Send\x1b[31m the\x07 paper\x9b", date(2026, 11, 25)))  # fmt: skip


def _clean_summaries(body: bytes) -> list[str]:
    """Insist that the calendar's bytes hold no control character but the CRLF line ends
    and HTAB (which TEXT allows); return the summaries naming the hostile contact, as
    icalendar reads them."""
    text = body.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == ""
    bad = sorted({hex(ord(ch)) for line in lines for ch in line
                  if (ord(ch) < 0x20 and ch != "\t") or 0x7F <= ord(ch) < 0xA0})  # fmt: skip
    assert bad == []
    return [str(comp["SUMMARY"]) for comp in Calendar.from_ical(body).walk()
            if comp.name in ("VEVENT", "VTODO") and "Lovelace" in str(comp["SUMMARY"])]  # fmt: skip


def _assert_replaced(summaries: list[str]) -> None:
    """Both reminders of the contact; the controls replaced one for one, HTAB and the
    line ends (written as \\n, read back as a newline) as typed."""
    name = "Ada " + "".join(ch if ch in "\t\n\r" else "\ufffd" for ch in CONTROLS) + " Lovelace"
    assert len(summaries) == 2 and all(name.replace("\r", "\n") in s for s in summaries), summaries
    (promise,) = [s for s in summaries if "paper" in s]
    assert promise.endswith("Send\ufffd[31m the\ufffd paper\ufffd"), promise


def test_an_ics_file_holds_no_control_characters(store: Runner, tmp_path: Path) -> None:
    _hostile_network(store.home)
    out = tmp_path / "reminders.ics"
    write_config(store.home, file={"type": "ics", "path": str(out), "alarms": ["PT9H"]})
    doc = store.json("sync", *T)
    assert doc["targets"][0]["counts"]["created"] >= 2
    _assert_replaced(_clean_summaries(out.read_bytes()))


def test_caldav_items_hold_no_control_characters(store: Runner, radicale_calendar: Collection) -> None:
    from caldav.davclient import DAVClient

    _hostile_network(store.home)
    write_config(store.home, phone={"type": "caldav", "url": radicale_calendar.url})
    doc = store.json("sync", *T)
    assert doc["targets"][0]["ok"] is True and doc["targets"][0]["counts"]["created"] >= 2
    # listed with the caldav library, each read as the bytes the server serves
    with DAVClient(url=radicale_calendar.url, require_tls=False, enable_rfc6764=False, timeout=30) as client:
        objects = client.calendar(url=radicale_calendar.url).get_todos(include_completed=True)  # type: ignore[no-untyped-call]
        urls = [str(obj.url) for obj in objects]
    assert len(urls) == doc["targets"][0]["counts"]["created"]
    summaries = []
    for url in urls:
        got = httpx.get(url, timeout=30)
        assert got.status_code == 200
        summaries += _clean_summaries(got.content)
    _assert_replaced(summaries)
    # the next sync finds nothing to change: what was pushed is what syncnet expects
    again = store.json("sync", *T)["targets"][0]["counts"]
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0), again
