"""Issue 14, guarantee 7: hostile input to the command line, to the config file and to
the importers (a file of each kind, edited, given to any importer, with --dry-run or not).

Property-based fuzzing (hypothesis) of what a user types and what a config file holds.
Accepted input is fine; what is refused must be refused cleanly:
- exit code 2 (bad input or usage), exactly one line on stderr, starting `syncnet: error:`;
- no `Traceback` anywhere, and not the catch-all `(SYNCNET_DEBUG=1 shows details)` line,
  which marks an exception nobody meant for the user (exit 1, "TypeName: ...");
- nothing written: the store's fact count, last notification id and wrapped keys are
  what they were before the command (a read never writes a fact, refused or not);
- for the config: never the password put into it (or into the environment, or printed
  by a password_cmd) in what is printed.

Every example runs on its own copy of one small store (two contacts, a promise, a goal),
made once per module: examples do not see each other's writes, so what hypothesis
shrinks is reproducible. Arguments are what a process can receive: any text without
NUL, including the lone surrogates (U+DC80..U+DCFF) that Python makes of bytes that are
not UTF-8 (`syncnet meet $'\\xff'`).

Each bug found is kept below as an explicit, shrunk example marked
`xfail(strict=True, reason=...)`; the fuzz tests tolerate exactly that symptom on that
kind of input (KNOWN), so that they stay green and still look for new ones. When a bug
is fixed its xfail test passes, fails as strict, and the mark and its KNOWN entry go.

The number of inputs fuzzed per test is MAX_EXAMPLES below; `-s` prints what each test
ran (examples, commands run, and how many of them were refused).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import TODAY, Runner, free_port

from syncnet.domain.vocabulary import CHANNELS, GOAL_KINDS, HELP_KINDS, REASONS

SECRET = "hunter2-SECRET"
MAX_EXAMPLES = {"cli_recording": 300, "cli_reading": 200, "cli_ids": 150, "cli_paths": 100, "config": 250,
                "config_bytes": 80}  # fmt: skip


def fuzz(name: str) -> settings:
    """SYNCNET_FUZZ_SCALE=10 runs ten times the examples (a deeper search, by hand)."""
    # database=None: nothing written under the checkout (.hypothesis/); deadline=None:
    # a shared machine's pauses are not bugs.
    scale = float(os.environ.get("SYNCNET_FUZZ_SCALE", "1"))
    return settings(
        max_examples=max(1, int(MAX_EXAMPLES[name] * scale)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------- the store
@dataclass
class Template:
    home: Path
    scratch: Path
    ids: dict[str, str]
    tally: Counter[str] = field(default_factory=Counter)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("Template(...)")  # hypothesis prints its arguments: keep this one short


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    base = tmp_path_factory.mktemp("fuzz-template")
    run = Runner(base / "home", base)
    run.ok("init")

    def recorded(*args: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(run.ok(*args, "--today", TODAY, "--json").stdout)["recorded"]
        return doc

    ada = recorded("meet", "Ada Lovelace", "--org", "Analytical", "--on", "2026-11-01")
    grace = recorded("meet", "Grace Hopper", "--on", "2026-11-10")
    promise = recorded("promise", "ada", "a letter", "--due", "2026-12-01", "--on", "2026-11-15")
    give = recorded("give", "grace", "--kind", "advice", "--on", "2026-11-12")
    goal = recorded("goal", "add", "Lead a team")
    ids = {"ada": ada["contact"]["id"], "grace": grace["contact"]["id"], "promise": promise["promise_id"],
           "fact": give["fact_id"], "meet": ada["fact_id"], "goal": goal["goal_id"]}  # fmt: skip
    scratch = base / "scratch"
    scratch.mkdir()
    t = Template(base / "home", scratch, ids)
    yield t
    print(f"\n{__name__}: " + ", ".join(f"{k} {v}" for k, v in sorted(t.tally.items())))


@contextmanager
def fresh(t: Template, process: bool = False) -> Iterator[Runner]:
    """A copy of the template store, a Runner on it; removed afterwards."""
    base = Path(tempfile.mkdtemp(dir=t.scratch))
    shutil.copytree(t.home, base / "home")
    try:
        yield Runner(base / "home", base, process=process)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def written(home: Path) -> tuple[int, int, int]:
    """(facts, last notification id, wrapped keys): what recording anything changes."""
    conn = sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True)
    try:
        (count, last) = conn.execute("SELECT COUNT(*), MAX(rowid) FROM stored_events").fetchone()
        (keys,) = conn.execute("SELECT COUNT(*) FROM syncnet_keys").fetchone()
    finally:
        conn.close()
    return count, last or 0, keys


# ---------------------------------------------------------------- what "clean" means
# A target's failure that names a Python exception right after the target: not an HTTP
# or file system failure (those name what was being done first), but a bug or a
# config value nobody checked (syncnet/app/calendars.py, sync_target).
UNEXPECTED_IN_TARGET = re.compile(r"^syncnet: error: target [^:]+: [A-Z]\w*(Error|Exception)\b", re.M)


def problems(
    proc: Any,
    before: tuple[int, int, int],
    after: tuple[int, int, int],
    *,
    read: bool,
    multi_line: bool = False,
    exit_1_ok: bool = False,
) -> list[str]:
    """What is wrong with how a command ended; [] when it is clean. `multi_line`: one error
    line per failure (sync's targets), exit 1 or 2; `exit_1_ok`: one line, exit 1 or 2."""
    found = []
    both = proc.stdout + proc.stderr
    if "Traceback" in both:
        found.append("a traceback")
    if SECRET in both:
        found.append("the password is shown")
    lines = proc.stderr.splitlines()
    if proc.returncode == 0:
        if any(not line.startswith("syncnet: ") for line in lines):
            found.append("stray stderr on success")
    else:
        if not lines:
            found.append("no error line")
        elif len(lines) != 1 and not multi_line:
            found.append(f"{len(lines)} lines on stderr")
        if any(not line.startswith("syncnet: error: ") for line in lines):
            found.append("a line not starting 'syncnet: error: '")
        if "SYNCNET_DEBUG=1 shows details" in proc.stderr:
            found.append("an unexpected exception (the catch-all)")
        elif UNEXPECTED_IN_TARGET.search(proc.stderr):  # sync's own catch-all, per target
            found.append("an unexpected exception in a target")
        elif proc.returncode != 2 and not multi_line and not (exit_1_ok and proc.returncode == 1):
            found.append(f"exit {proc.returncode}, not 2")
        if after != before:
            found.append(f"written although refused: {before} -> {after}")
    if read and after != before:
        found.append(f"a read wrote facts: {before} -> {after}")
    return found


@dataclass(frozen=True)
class Known:
    """A bug kept as an xfail test below: its symptom on its kind of input."""

    name: str
    matches: Callable[[list[str], str, Any], bool]  # (argv, the config's text, the outcome)


def _surrogates(argv: list[str], config: str, proc: Any) -> bool:
    return any(0xDC80 <= ord(ch) <= 0xDCFF for a in argv for ch in a) and "UnicodeEncodeError" in proc.stderr


def _time_zone_file(argv: list[str], config: str, proc: Any) -> bool:
    return "timezone" in config and "zoneinfo" in proc.stderr and "Error" in proc.stderr


def _long_path(argv: list[str], config: str, proc: Any) -> bool:
    return (
        bool({"--home", "--config"} & set(argv)) and "OSError: [Errno 36] File name too long" in proc.stderr
    )


def _slash_in_password(argv: list[str], config: str, proc: Any) -> bool:
    return re.search(r"://[^/@\s]*/[^@\s]*@", config) is not None and SECRET in proc.stdout + proc.stderr


def _init_on_a_file(argv: list[str], config: str, proc: Any) -> bool:
    return "init" in argv and ("FileExistsError" in proc.stderr or "NotADirectoryError" in proc.stderr)


def _malformed_url(argv: list[str], config: str, proc: Any) -> bool:
    return "sync" in argv and "ValueError: Invalid IPv6 URL" in proc.stderr


def _deep_toml(argv: list[str], config: str, proc: Any) -> bool:
    return max(config.count("["), config.count("{")) >= 100 and "RecursionError" in proc.stderr


KNOWN: list[Known] = []  # every bug these tests found is fixed (their tests below)


def outcome(
    run: Runner, argv: list[str], *, read: bool, env: dict[str, str] | None = None, **kw: bool
) -> tuple[Any, list[str]]:
    """(the CompletedProcess, its problems) of running argv on run's store."""
    before = written(run.home)
    proc = run(*argv, env=env)
    return proc, problems(proc, before, written(run.home), read=read, **kw)


def check(
    t: Template,
    run: Runner,
    argv: list[str],
    *,
    read: bool,
    what: str,
    env: dict[str, str] | None = None,
    config: str = "",
    **kw: bool,
) -> Any:
    """Run argv and insist that the outcome is clean, unless it is a KNOWN bug's."""
    proc, found = outcome(run, argv, read=read, env=env, **kw)
    t.tally[f"{what}: commands"] += 1
    t.tally[f"{what}: {'refused' if proc.returncode else 'accepted'}"] += 1
    if found:
        known = [k.name for k in KNOWN if k.matches(argv, config, proc)]
        if known:
            t.tally[f"{what}: known bug {known[0]}"] += 1
            return proc
        raise AssertionError(
            f"syncnet {argv!r} -> exit {proc.returncode}: {'; '.join(found)}\n"
            f"stdout: {proc.stdout[:500]!r}\nstderr: {proc.stderr[:1000]!r}\n"
            f"config: {config[:1000]!r}"
        )
    return proc


# ---------------------------------------------------------------- strategies: arguments
# What a process can receive in argv: no NUL; the lone surrogates of undecodable bytes.
SURROGATE_ESCAPES = [chr(c) for c in (0xDC80, 0xDCA0, 0xDCC3, 0xDCFF)]
ODD_CHARS = [*"\n\r\t\x1b\x7f\x85\u2028\u202e\u200b\ufeff -=", "\u0301", "\U0001f600", "\ufdd0"]
CHAR = st.one_of(
    st.characters(codec="utf-8", exclude_characters="\x00"),
    st.sampled_from(SURROGATE_ESCAPES + ODD_CHARS),
)
TEXT = st.lists(CHAR, max_size=24).map("".join)  # st.text would drop the surrogates
LONG = st.builds(
    lambda n, s: s * (n // len(s)),
    st.integers(1_000, 100_000),
    st.lists(CHAR, min_size=1, max_size=3).map("".join),
)
SPACES = st.text(st.sampled_from(" \t\n\u00a0\u2003\u3000"), max_size=5)
PLAIN = st.text(st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1, max_size=20)


def ref(key: str) -> st.SearchStrategy[str]:
    """A template id (or a prefix of it, maybe upper-cased), resolved per example."""
    return st.builds(lambda n, up: f"\0{key}:{n}:{int(up)}", st.integers(1, 32), st.booleans())


def full(key: str) -> st.SearchStrategy[str]:
    """A template id's short form (8 hex digits) or the whole of it."""
    return st.sampled_from([f"\0{key}:8:0", f"\0{key}:32:0"])


def resolve(arg: str, ids: Mapping[str, str]) -> str:
    if not arg.startswith("\0"):
        return arg
    key, n, up = arg[1:].split(":")
    value = ids[key][: int(n)]
    return value.upper() if up == "1" else value


@dataclass(frozen=True)
class Slot:
    """An argument's or option's values: ones it takes, and hostile ones."""

    valid: st.SearchStrategy[str]
    hostile: st.SearchStrategy[str]


CONTACT = Slot(
    st.sampled_from(["ada", "Ada Lovelace", "grace", "Grace Hopper"]) | full("ada") | full("grace"),
    st.one_of(ref("ada"), ref("grace"), TEXT, SPACES, LONG, st.sampled_from(["Ada", "lovelace", ""])),
)
NEW_NAME = Slot(PLAIN, st.one_of(TEXT, SPACES, LONG, st.just("")))
ODD_DATES = [
    "", " ", "2026-02-30", "2026-13-01", "2026-00-10", "0000-01-01", "0001-01-01", "9999-12-31",
    "-2026-01-01", "+2026-11-20", "2026-11-20T10:00", "20261120", "2026-W47-5", "2026-324", "today",
    "Yesterday", "TOMORROW", " today ", "1899-12-31", "1900-01-01", "2200-12-31", "2201-01-01",
    "٢٠٢٦-١١-٢٠", "２０２６-１１-２０", "2026-11-20\n", " 2026-11-20 ", "99999-01-01", "1e9", "-1", "nan",
    "2026-1-5", "2026/11/20", "11/20/2026", "2026-11-20Z", "2026-11-20T25:00", "2026-11-20 10:00",
]  # fmt: skip
DIGITS = "0123456789٠١٢٣٤٥٦٧٨٩０１２３߀߁"
HOSTILE_DATE = st.one_of(
    st.sampled_from(ODD_DATES),
    st.dates().map(date.isoformat),
    st.builds(
        "{}-{:02}-{:02}".format, st.integers(-(10**6), 10**12), st.integers(-1, 99), st.integers(-1, 99)
    ),
    st.text(st.sampled_from(DIGITS + "-T:+Z "), max_size=25),
    TEXT,
)
# After both meetings (2026-11-10) and on or before TODAY: the day checks pass.
DAY = Slot(
    st.dates(date(2026, 11, 10), date(2026, 11, 20)).map(date.isoformat)
    | st.sampled_from(["today", "yesterday"]),
    HOSTILE_DATE,
)
LATER = Slot(
    st.dates(date(2026, 11, 20), date(2200, 12, 31)).map(date.isoformat)
    | st.sampled_from(["2200-12-31", "tomorrow"]),
    HOSTILE_DATE,
)
# A read's day: anywhere in the range, its ends included.
ANY_DAY = Slot(
    st.dates(date(1900, 1, 1), date(2200, 12, 31)).map(date.isoformat)
    | st.sampled_from(["1900-01-01", "2200-12-31"])
    | DAY.valid,
    HOSTILE_DATE,
)
OFFSET = st.sampled_from(["", "Z", "+00:00", "+14:00", "-23:59", "+99:99", "+0530", "+24:00", "-00:01"])
MOMENT = Slot(
    st.builds(
        lambda d, h, m: f"{d.isoformat()}T{h:02}:{m:02}",
        st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        st.integers(0, 23),
        st.integers(0, 59),
    )
    | DAY.valid,
    st.one_of(
        HOSTILE_DATE,
        st.builds(
            lambda d, h, m, o: f"{d.isoformat()}T{h:02}:{m:02}{o}",
            st.dates(),
            st.integers(0, 99),
            st.integers(0, 99),
            OFFSET,
        ),
        st.builds(lambda d, o: f"{d.isoformat(sep=' ')}{o}", st.datetimes(), OFFSET),
    ),
)
MINUTES = Slot(
    st.integers(0, 1440).map(str),
    st.one_of(
        st.integers(-(10**30), 10**30).map(str),
        st.sampled_from(
            ["", "1.5", "1e3", "٣", "３", " 5 ", "0x10", "1_000", "nan", "-0", "+5", "1441", "-1", "9" * 5000]
        ),
        TEXT,
    ),
)
ODD_CADENCES = [
    "0", "", " ", "OFF", "1825", "1826", "5y", "6W", "٥w", "00000000000000000001d", "9" * 5000,
    "1" + "0" * 4400 + "d", "-6w", "6 w", "6ww", "0d", "0w", "w", "d", "1.5w", "+6w", "61m", "261w",
]  # fmt: skip
EVERY = Slot(
    st.builds(lambda n, u: f"{n}{u}", st.integers(1, 60), st.sampled_from(["", "d", "w", "m"]))
    | st.sampled_from(["off", "none", "6w"]),
    st.one_of(
        st.sampled_from(ODD_CADENCES),
        st.builds(
            lambda n, u: f"{n}{u}",
            st.integers(-(10**12), 10**12),
            st.sampled_from(["", "d", "w", "m", "y", "D"]),
        ),
        TEXT,
    ),
)


def words(choices: tuple[str, ...] | list[str]) -> Slot:
    return Slot(st.sampled_from(list(choices)), st.sampled_from([w.upper() for w in choices]) | TEXT)


KIND, CHANNEL, REASON = words(HELP_KINDS), words(CHANNELS), words(REASONS)
BY, POCKET, GOAL_KIND = words(["me", "them"]), words(["keep", "drop", "let-go"]), words(GOAL_KINDS)
ANY_TEXT = Slot(PLAIN, st.one_of(TEXT, LONG, st.just("")))
GOAL = Slot(
    st.sampled_from(["Lead a team", "lead a team"]) | full("goal"),
    st.one_of(ref("goal"), TEXT, SPACES, st.just("lead")),
)
HOSTILE_ID = st.one_of(
    ref("promise"),
    ref("fact"),
    ref("meet"),
    ref("ada"),
    ref("goal"),
    st.text("0123456789abcdefABCDEF", max_size=40),
    st.sampled_from(
        ["", "000000", "ffffff", "-1", "0x123456", "１２３４５６", "abcdeg", "0" * 33, "a" * 10000, "٠١٢٣٤٥٦"]
    ),
    TEXT,
)
PROMISE_ID = Slot(full("promise"), HOSTILE_ID)
FACT_ID = Slot(full("fact") | full("meet") | full("promise"), HOSTILE_ID)
UNKNOWN = st.sampled_from([
    "--bogus", "-x", "--", "-", "--on=", "--minutes=", "--json=1", "-hx", "--no-json", "--today=", "--Today",
    "—today", "--kind", "--due",
])  # fmt: skip


@dataclass(frozen=True)
class Spec:
    words: tuple[str, ...]
    args: tuple[Slot, ...] = ()
    options: Mapping[str, Slot | None] = field(default_factory=dict)  # None: a flag
    required: tuple[str, ...] = ()
    today: bool = True  # takes --today (given TODAY unless the example gives its own)


WRITE: dict[str, Slot | None] = {"--on": DAY, "--today": DAY, "--note": ANY_TEXT, "--json": None}
DETAILS: dict[str, Slot | None] = {
    "--org": ANY_TEXT,
    "--role": ANY_TEXT,
    "--email": ANY_TEXT,
    "--phone": ANY_TEXT,
    "--url": ANY_TEXT,
    "--how-met": ANY_TEXT,
}
HELP = {**WRITE, "--kind": KIND, "--to": CONTACT, "--minutes": MINUTES}
RECORDING: dict[str, Spec] = {
    "meet": Spec(
        ("meet",),
        (NEW_NAME,),
        {
            **WRITE,
            **DETAILS,
            "--channel": CHANNEL,
            "--why": REASON,
            "--where": ANY_TEXT,
            "--goal": GOAL,
            "--new": None,
            "--via": CONTACT,
            "--minutes": MINUTES,
        },
    ),
    "meet again": Spec(("meet",), (CONTACT,), {**WRITE, "--new": None}),
    "touch": Spec(("touch",), (CONTACT,), {**WRITE, "--by": BY, "--channel": CHANNEL, "--minutes": MINUTES}),
    "give": Spec(("give",), (CONTACT,), HELP, required=("--kind",)),
    "receive": Spec(("receive",), (CONTACT,), HELP, required=("--kind",)),
    "ask": Spec(("ask",), (CONTACT, ANY_TEXT), {**WRITE, "--minutes": MINUTES}),
    "asked": Spec(("asked",), (CONTACT, ANY_TEXT), {**WRITE, "--minutes": MINUTES}),
    "promise": Spec(("promise",), (CONTACT, ANY_TEXT), {**WRITE, "--due": LATER}, required=("--due",)),
    "kept": Spec(("kept",), (PROMISE_ID,), WRITE),
    "dropped": Spec(("dropped",), (PROMISE_ID,), WRITE),
    "pitch": Spec(("pitch",), (CONTACT,), {**WRITE, "--minutes": MINUTES}),
    "pocket": Spec(("pocket",), (CONTACT, POCKET), WRITE),
    "cadence": Spec(("cadence",), (CONTACT, EVERY), WRITE),
    "set": Spec(("set",), (CONTACT,), {**WRITE, **DETAILS}),
    "why": Spec(("why",), (CONTACT, REASON), WRITE),
    "rename": Spec(("rename",), (CONTACT, NEW_NAME), WRITE),
    "retract": Spec(("retract",), (FACT_ID,), {"--reason": ANY_TEXT, "--json": None}, today=False),
    "amend": Spec(
        ("amend",),
        (FACT_ID,),
        {
            "--on": DAY,
            "--minutes": MINUTES,
            "--kind": KIND,
            "--channel": CHANNEL,
            "--note": ANY_TEXT,
            "--json": None,
        },
        today=False,
    ),
    "goal add": Spec(("goal", "add"), (NEW_NAME,), {**WRITE, "--kind": GOAL_KIND}),
    "goal achieved": Spec(("goal", "achieved"), (GOAL,), WRITE),
    "goal link": Spec(("goal", "link"), (CONTACT, GOAL), WRITE),
}
READ: dict[str, Slot | None] = {"--today": ANY_DAY, "--known-at": MOMENT, "--json": None}
READING: dict[str, Spec] = {
    "due": Spec(("due",), (), {**READ, "--until": ANY_DAY}),
    "contacts": Spec(("contacts",), (), {**READ, "--goal": GOAL, "--org": ANY_TEXT}),
    "balance": Spec(("balance",), (CONTACT,), {**READ, "--as-of": ANY_DAY}),
    "balance all": Spec(("balance",), (), {**READ, "--as-of": ANY_DAY}),
    "split": Spec(("split",), (), READ),
    "warnings": Spec(("warnings",), (), READ),
    "history": Spec(("history",), (CONTACT,), READ),
    "show": Spec(("show",), (CONTACT,), READ),
    "status": Spec(("status",), (), {"--today": ANY_DAY, "--json": None}),
    "goal list": Spec(("goal", "list"), (), READ),
}


@st.composite
def command(draw: st.DrawFn, specs: Mapping[str, Spec]) -> list[str]:
    """One command line: its words and arguments, its required options and some others
    (repeated at times), every value valid but for one or two hostile ones (so that each
    check is reached); now and then an argument left out or an unknown option."""
    spec = specs[draw(st.sampled_from(sorted(specs)))]
    names = list(spec.required) + draw(
        st.lists(st.sampled_from(sorted(spec.options)), max_size=3) if spec.options else st.just([])
    )
    slots: list[Slot | None] = [*spec.args, *(spec.options[n] for n in names)]
    valued = [i for i, s in enumerate(slots) if s is not None]
    hostile = set(draw(st.lists(st.sampled_from(valued), max_size=2))) if valued else set()
    values = [
        None if s is None else draw(s.hostile if i in hostile else s.valid) for i, s in enumerate(slots)
    ]
    args = [v for v in values[: len(spec.args)] if v is not None]
    options: list[str] = ["--today", TODAY] if spec.today else []  # a drawn --today comes later and wins
    for name, value in zip(names, values[len(spec.args) :], strict=True):
        options += [name] if value is None else [name, value]
    if args and draw(st.integers(0, 19)) == 0:
        del args[draw(st.integers(0, len(args) - 1))]
    argv = [*spec.words, *(options + args if draw(st.booleans()) else args + options)]
    if draw(st.integers(0, 19)) == 0:
        argv.insert(draw(st.integers(len(spec.words), len(argv))), draw(UNKNOWN))
    return argv


# ---------------------------------------------------------------- fuzzing the command line
@fuzz("cli_recording")
@given(argv=command(RECORDING))
def test_recording_commands_refuse_cleanly(template: Template, argv: list[str]) -> None:
    template.tally["recording: examples"] += 1
    with fresh(template) as run:
        check(template, run, [resolve(a, template.ids) for a in argv], read=False, what="recording")


@fuzz("cli_reading")
@given(argv=command(READING))
def test_reading_commands_refuse_cleanly_and_never_write(template: Template, argv: list[str]) -> None:
    template.tally["reading: examples"] += 1
    with fresh(template) as run:
        check(template, run, [resolve(a, template.ids) for a in argv], read=True, what="reading")


@fuzz("cli_ids")
@given(
    fact=HOSTILE_ID | PROMISE_ID.valid | FACT_ID.valid,
    verb=st.sampled_from(["kept", "dropped", "retract", "amend", "history", "show"]),
)
def test_short_ids_of_facts_and_promises(template: Template, fact: str, verb: str) -> None:
    """Ids are where hex meets text: every verb that takes one, with only the id fuzzed."""
    template.tally["ids: examples"] += 1
    argv = [verb, resolve(fact, template.ids)]
    if verb in ("kept", "dropped", "history", "show"):
        argv += ["--today", TODAY]
    if verb == "amend":
        argv += ["--minutes", "20"]
    with fresh(template) as run:
        check(template, run, argv, read=verb in ("history", "show"), what="ids")


# --home and --config: absolute paths under the example's scratch directory ({SCRATCH}) or
# its store ({HOME}), or the default (""); never a relative one (the checkout is the
# working directory) nor a device that reads without end (/dev/zero: see
# test_config_that_never_ends). `init`, which creates its directory, only runs inside the
# example's own directory; elsewhere (SYSTEM) paths are only read.
SYSTEM = ["/", "/proc", "/nonexistent/x"]
PATH_ARG = st.one_of(
    st.sampled_from(["", "/dev/null", "{SCRATCH}", "{HOME}", "{HOME}/store.db", "{HOME}/key",
                     "{HOME}/store.json", "{HOME}/config.toml", "{HOME}/store.db/x", "{SCRATCH}/" + "a" * 300,
                     "{SCRATCH}/" + "a/" * 2100, "{SCRATCH}/\udcff", *SYSTEM]),
    st.builds(lambda p: "{SCRATCH}/" + p, TEXT),
)  # fmt: skip


@fuzz("cli_paths")
@given(
    option=st.sampled_from(["--home", "--config"]),
    path=PATH_ARG,
    argv=st.sampled_from([["due"], ["contacts", "--json"], ["touch", "ada"], ["status"], ["init"]]),
)
def test_home_and_config_paths(template: Template, option: str, path: str, argv: list[str]) -> None:
    """A data directory or config file that is not one: refused in one line (exit 1 allowed:
    a store that cannot be read), nothing written to the store."""
    template.tally["paths: examples"] += 1
    with fresh(template) as run:
        scratch = run.base / "files"
        scratch.mkdir()
        where = path.replace("{SCRATCH}", str(scratch)).replace("{HOME}", str(run.home))
        inside = os.path.normpath(where).startswith(f"{run.base}{os.sep}")
        if argv == ["init"] and not (inside or where in ("", "/dev/null")):
            argv = ["due"]  # init creates its directory: only in the example's own (a '..' stays in)
        line = [option, where, *argv, *(["--today", TODAY] if argv[0] != "init" else [])]
        check(template, run, line, read=argv[0] != "touch", what="paths", exit_1_ok=True)


# ---------------------------------------------------------------- strategies: the config
ODD_ZONES = [
    "", "UTC", "Europe/Paris", "America/New_York", "Etc/GMT+12", "posixrules", "Factory", "America", "Europe",
    "Etc", "right/UTC", "posix", "../../etc/passwd", "/etc/localtime", "UTC/", ".", "zone.tab", "tzdata.zi",
    "__pycache__", "Europe//Paris", "Mars/Olympus", "a" * 300, "é" * 200, "UTC\n", " UTC", "utc", "\u0000",
]  # fmt: skip
TZ = st.one_of(
    st.sampled_from(ODD_ZONES),
    st.text(st.characters(codec="utf-8"), max_size=30),
)
CTEXT = st.text(st.characters(codec="utf-8"), max_size=24)  # TOML holds no surrogate


# TOML scalars of every type, and values nested in arrays and inline tables.
SCALAR = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, -1, 1, 2**31, 2**63 - 1, 65535, 65536, 3650, 3651, 1440, 1441, 100_000, 100_001]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.1, 0.09, 3600.0, 3600.5, 1e308]),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.times(),
)
KEY = st.one_of(
    st.sampled_from(["type", "url", "path", "password", "token", "name", "passphrase", "x"]),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
)
VALUE = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=3), max_leaves=6
)
ODD_DURATIONS = [
    "PT9H", "-P1D", "P365D", "P366D", "-P365D", "P", "PT", "P1W", "PT0S", "P0D", "P52W", "P53W", "P1DT1H",
    "PT8760H", "PT8761H", "P" + "9" * 5000 + "D", "p1d", "P1D ", "+P1D",
]  # fmt: skip
DURATIONS = st.one_of(
    st.sampled_from(ODD_DURATIONS),
    st.text(st.sampled_from("PTWDHMS+-0123456789٣"), max_size=12),
)
ALARMS = st.one_of(st.lists(DURATIONS, max_size=3), VALUE)


@dataclass(frozen=True)
class Option:
    """A config option's values: ones it takes, and its boundaries and wrong types (one
    time in `odds`)."""

    valid: st.SearchStrategy[Any]
    hostile: st.SearchStrategy[Any]
    odds: int = 8


def ints(low: int, high: int) -> Option:
    return Option(
        st.integers(low, high) | st.sampled_from([low, high]),
        st.sampled_from([low - 1, high + 1, 10**30, -(10**30)]) | VALUE,
    )


def floats(low: float, high: float) -> Option:
    return Option(
        st.floats(low, high) | st.sampled_from([low, high]) | st.integers(int(low) + 1, int(high)),
        st.sampled_from([low / 2, high * 2, float("nan"), float("inf"), -0.0]) | VALUE,
    )


def texts(valid: st.SearchStrategy[str]) -> Option:
    return Option(valid, CTEXT | VALUE)


def choice(words_: list[str]) -> Option:
    return texts(st.sampled_from(words_))


MONTHS = Option(
    st.lists(st.integers(1, 12), min_size=2, max_size=2),
    st.lists(st.integers(-1, 14) | st.booleans(), max_size=3) | VALUE,
)
SECTIONS: dict[str, dict[str, Option]] = {
    "general": {
        "timezone": Option(
            st.sampled_from(["", "UTC", "Europe/Paris", "Pacific/Kiritimati", "America/Adak", "Etc/GMT+12"]),
            TZ | VALUE,
            odds=3,
        )
    },
    "rules": {"followup_days": ints(0, 365), "hemisphere": choice(["north", "south"])},
    "seasons": {s: MONTHS for s in ("spring", "summer", "autumn")},
    "minutes": {k: ints(0, 1440) for k in ("touch", "meeting", "help", "pitch", "request")},
    "split": {"window_days": ints(1, 3650)},  # give, self and ask: split_table()
    "warnings": {
        "reacting_share": floats(0.0, 1.0),
        "reacting_min_touches": ints(1, 10_000),
        "collecting_days": ints(1, 3650),
        "quiet_days": ints(1, 3650),
        "taking_balance": ints(-1000, 0),
    },
    "feed": {
        "bind": texts(st.sampled_from(["127.0.0.1", "::1", "0.0.0.0", "localhost"])),
        "port": ints(1, 65535),
        "style": choice(["todo", "event"]),
        "alarms": Option(
            st.lists(st.sampled_from(["PT9H", "-P1D", "P365D", "-P365D", "P1W", "PT0S"]), max_size=3), ALARMS
        ),
        "horizon_days": ints(0, 3650),
        "name": texts(CTEXT),
    },
}
CLOSED_PORT = free_port()  # nothing listens there: a CalDAV target fails at once, no server involved
ODD_URLS = [
    f"http://me:{SECRET}@127.0.0.1:{CLOSED_PORT}/", f"https://me@127.0.0.1:{CLOSED_PORT}/",
    f"http://me:{SECRET}#@127.0.0.1:{CLOSED_PORT}/", f"http://me:{SECRET}/x@127.0.0.1/",
    f"http://me:{SECRET}?@127.0.0.1/", f"http://me:{SECRET} x@127.0.0.1/", "http://127.0.0.1:99999/",
    "http://127.0.0.1:abc/", "http://[::1/", "http://", "https://", "ftp://127.0.0.1/", "127.0.0.1", "",
    "file:///etc/passwd", "http://[::1]:0/", "HTTP://127.0.0.1/",
]  # fmt: skip
URL = Option(
    st.sampled_from([f"http://127.0.0.1:{CLOSED_PORT}/", f"https://[::1]:{CLOSED_PORT}/dav/",
                     f"http://localhost:{CLOSED_PORT}/cal/", f"http://127.0.0.1:{CLOSED_PORT}/?p=1"])
    | st.builds(lambda p: f"http://127.0.0.1:{CLOSED_PORT}/{p}", CTEXT),
    st.one_of(st.sampled_from(ODD_URLS), st.sampled_from(ODD_URLS), VALUE),
    odds=3,
)  # fmt: skip
TARGET_NAME = st.one_of(
    st.sampled_from(["phone", "file", "a-b", "x_1", "Phone"]),
    st.sampled_from(["-x", "a.b", "é", "", " ", "a b", "x" * 300]),
    CTEXT,
)
# A path in the example's scratch directory ({SCRATCH}, replaced per example): a dry run only reads it.
ODD_PATHS = ["{SCRATCH}", "{SCRATCH}/\u0000.ics", "", "{SCRATCH}/" + "x" * 300 + ".ics",
             "{SCRATCH}/no/such/dir/x.ics", "~nosuchuser/x.ics"]  # fmt: skip
PATH = Option(
    st.builds(lambda p: f"{{SCRATCH}}/{p}.ics", PLAIN) | st.just("~/x.ics"),
    st.sampled_from(ODD_PATHS) | st.builds(lambda p: f"{{SCRATCH}}/{p}", CTEXT) | VALUE,
    odds=3,
)
TARGET_OPTIONS: dict[str, Option] = {
    "calendar": texts(PLAIN),
    "create": Option(st.booleans(), VALUE),
    "user": texts(st.sampled_from(["me", "", "me@example.org"])),
    "password_cmd": texts(
        st.sampled_from(
            [
                f"echo {SECRET}",
                "false",
                "/nonexistent/cmd",
                "",
                "'unbalanced",
                f"sh -c 'echo {SECRET}; echo {SECRET} >&2; exit 3'",
            ]
        )
    ),
    "token_cmd": texts(st.sampled_from([f"echo {SECRET}", "", "true"])),
    "keyring": Option(st.booleans(), VALUE),
    "style": choice(["todo", "event"]),
    "alarms": SECTIONS["feed"]["alarms"],
    "horizon_days": ints(0, 3650),
    "timeout": floats(0.1, 3600.0),
    "max_items": ints(1, 100_000),
    "completed": choice(["keep", "remove"]),
    "completion_channel": choice(list(CHANNELS)),
}


def one_in(draw: st.DrawFn, n: int) -> bool:
    """True about one time in n (hypothesis leans towards the small integers)."""
    return draw(st.sampled_from([False] * (n - 1) + [True]))


def value(draw: st.DrawFn, option: Option) -> Any:
    """A value the option takes, or now and then a hostile one."""
    return draw(option.hostile if one_in(draw, option.odds) else option.valid)


TARGET_ALL = {**TARGET_OPTIONS, "url": URL, "path": PATH, "type": choice(["caldav", "ics"])}
FOCUS = [(section, key) for section, options in SECTIONS.items() for key in options] + [
    ("targets", key) for key in TARGET_ALL
]
# The options that reach the most code (a file of the tz database, a URL, a path) thrice as often.
FOCUS += 2 * [("general", "timezone"), ("targets", "url"), ("targets", "path")]


@st.composite
def target_table(draw: st.DrawFn) -> dict[str, Any]:
    kind = (
        draw(st.sampled_from(["caldav", "ics"]))
        if not one_in(draw, 8)
        else draw(st.sampled_from(["CalDAV", "", "webcal", "ICS"]) | VALUE)
    )
    table: dict[str, Any] = {"type": kind}
    if kind == "caldav" or one_in(draw, 10):
        table["url"] = value(draw, URL)
    if kind == "ics" or one_in(draw, 10):
        table["path"] = value(draw, PATH)
    for key in draw(st.lists(st.sampled_from(sorted(TARGET_OPTIONS)), max_size=5, unique=True)):
        table[key] = value(draw, TARGET_OPTIONS[key])
    if one_in(draw, 10):  # a secret in the config, or an option there is not
        table[draw(st.sampled_from(["password", "token", "name", "Password"]) | KEY)] = draw(
            st.just(SECRET) | VALUE
        )
    if one_in(draw, 20):
        table.pop("type")
    return table


@st.composite
def split_table(draw: st.DrawFn) -> dict[str, Any]:
    give = draw(st.integers(0, 100))
    me = draw(st.integers(0, 100 - give))
    table = {"give": give, "self": me, "ask": 100 - give - me}
    if one_in(draw, 4):
        table[draw(st.sampled_from(["give", "self", "ask"]))] = draw(
            ints(0, 100).hostile | st.integers(0, 100)
        )
    return table


@st.composite
def config_document(draw: st.DrawFn) -> dict[str, Any]:
    """A config: some sections with some options, mostly valid values; a target or two;
    at times a secret, an unknown option or section, or a value where a table belongs."""
    doc: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=4, unique=True)):
        options = SECTIONS[section]
        names = draw(st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True))
        doc[section] = {k: value(draw, options[k]) for k in names}
        if section == "split" and draw(st.booleans()):
            doc[section].update(draw(split_table()))
    if draw(st.booleans()):
        doc["targets"] = draw(
            st.dictionaries(
                TARGET_NAME if one_in(draw, 6) else st.sampled_from(["phone", "file", "x_1"]),
                target_table(),
                min_size=1,
                max_size=2,
            )
        )
    # One option in focus, three times in four: present, with a hostile value, so that every
    # option's checks are reached about as often as any other's.
    focus = draw(st.sampled_from([None] * 15 + FOCUS))
    if focus is not None and focus[0] == "targets":
        targets = doc.get("targets") or {
            "phone": {"type": "caldav", "url": f"http://127.0.0.1:{CLOSED_PORT}/"}
        }
        doc["targets"] = targets
        table = targets[draw(st.sampled_from(sorted(targets)))]
        table[focus[1]] = draw(TARGET_ALL[focus[1]].hostile)
    elif focus is not None:
        doc.setdefault(focus[0], {})[focus[1]] = draw(SECTIONS[focus[0]][focus[1]].hostile)
    pick = draw(st.sampled_from([-1] * 14 + [0, 1, 2, 3, 4, 5]))
    if pick == 0:
        doc.setdefault(draw(st.sampled_from(["general", "rules", "feed", "minutes"])), {})[draw(KEY)] = draw(
            VALUE
        )
    elif pick == 1:
        doc.setdefault("general", {})["passphrase"] = SECRET
    elif pick == 2:
        doc["passphrase"] = SECRET
    elif pick == 3:
        doc["passphrase_cmd"] = draw(
            st.sampled_from([f"echo {SECRET}", ["echo", SECRET], [], [""], 5]) | VALUE
        )
    elif pick == 4:
        doc[draw(KEY)] = draw(VALUE)  # an unknown section, or a value where a table belongs
    elif pick == 5 and doc:
        doc[draw(st.sampled_from(sorted(doc)))] = draw(SCALAR)  # a value where a table belongs
    return doc


TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else toml(key)


def toml(value: Any) -> str:
    """A TOML value (inline: arrays and inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(value, repr(value))
    if isinstance(value, str):  # a basic string: control characters and DEL escaped, the rest as is
        return (
            '"'
            + "".join(
                TOML_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if c < " " or c == "\x7f" else c) for c in value
            )
            + '"'
        )
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_document(doc: Mapping[str, Any]) -> str:
    lines = [f"{toml_key(k)} = {toml(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for name, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{toml_key(name)}]")
            lines += [f"{toml_key(k)} = {toml(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def env_for(doc: Mapping[str, Any]) -> dict[str, str]:
    """Each target's password in its variable, as the docs tell the user to keep it."""
    targets = doc.get("targets")
    names = list(targets) if isinstance(targets, dict) else []
    return {
        f"SYNCNET_{re.sub(r'[^A-Za-z0-9]', '_', str(n)).upper()}_PASSWORD": SECRET
        for n in names
        if "\0" not in str(n)
    }


def config_commands(config: Path) -> list[tuple[list[str], bool]]:
    """(argv, may it print more than one line): the commands each config is tried with."""
    return [
        (["due", "--today", TODAY], False),
        (["status", "--today", TODAY, "--json"], False),
        (["contacts", "--known-at", "2026-11-20T09:00"], False),
        (["sync", "--dry-run", "--today", TODAY], True),  # one error line per failing target
        (["--config", str(config), "split", "--today", TODAY], False),
    ]


def run_with_config(t: Template, text: str | bytes, env: dict[str, str], what: str) -> None:
    with fresh(t) as run:
        scratch = run.base / "files"
        scratch.mkdir()
        config = run.home / "config.toml"
        if isinstance(text, str):
            text = text.replace("{SCRATCH}", json.dumps(str(scratch))[1:-1])
            config.write_text(text, encoding="utf-8")
        else:
            config.write_bytes(text)
        outcomes = []
        for argv, multi_line in config_commands(config):
            outcomes.append(
                check(
                    t,
                    run,
                    argv,
                    read=True,
                    what=what,
                    env=env,
                    multi_line=multi_line,
                    config=text if isinstance(text, str) else text.decode("utf-8", "replace"),
                )
            )
        # A config is refused by every command or by none (sync may fail on a target).
        refused = ["config" in p.stderr and p.returncode == 2 for p in (*outcomes[:3], outcomes[4])]
        assert len(set(refused)) == 1, f"config refused by some commands only: {[p.stderr for p in outcomes]}"


@fuzz("config")
@given(doc=config_document())
def test_config_values_work_or_fail_in_one_line(template: Template, doc: dict[str, Any]) -> None:
    template.tally["config: examples"] += 1
    run_with_config(template, toml_document(doc), env_for(doc), "config")


ODD_FILES = [
    b"[rules\n", b"\xff\xfe[rules]", b"\xef\xbb\xbf[rules]\nfollowup_days = 3\n", b"[[targets]]\n",
    b"[rules]\nfollowup_days = 3\nfollowup_days = 4\n", b"targets = 5\n", b"\x00",
    b"[targets.phone.x]\ntype = 'ics'\n", b"[general]\ntimezone = '\\u0000'\n",
]  # fmt: skip
RAW_CONFIG = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.builds(lambda n, table: b"a = " + (b"{b = " * n + b"1" + b"}" * n if table else b"[" * n + b"]" * n),
              st.integers(1, 3000), st.booleans()),  # deeper than tomllib goes: test_deeply_nested_config
    st.sampled_from(ODD_FILES),
)  # fmt: skip


@fuzz("config_bytes")
@given(raw=RAW_CONFIG)
def test_config_bytes_work_or_fail_in_one_line(template: Template, raw: bytes) -> None:
    template.tally["config bytes: examples"] += 1
    run_with_config(template, raw, {}, "config bytes")


# ---------------------------------------------------------------- the bugs found, shrunk
# Each kept as an explicit example that fails today (xfail, strict): when the bug is
# fixed the test passes, strict makes that a failure, and the mark and its KNOWN entry go.
def clean(run: Runner, argv: list[str], *, read: bool, env: dict[str, str] | None = None, **kw: bool) -> Any:
    """Run argv; assert the outcome is clean (accepted, or refused in one line writing nothing)."""
    proc, found = outcome(run, argv, read=read, env=env, **kw)
    assert not found, f"syncnet {argv!r} -> exit {proc.returncode}: {'; '.join(found)}: {proc.stderr!r}"
    return proc


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "\udc80", "--today", TODAY],  # hypothesis' shrunk example
        ["history", "\udc80"],
        ["meet", "Ren\udce9", "--today", TODAY],  # 'René' typed in Latin-1: b"Ren\xe9"
    ],
)
def test_undecodable_bytes_in_a_contact_name(template: Template, argv: list[str]) -> None:
    with fresh(template, process=True) as run:  # a real process: argv is bytes, decoded with surrogateescape
        clean(run, argv, read=argv[0] == "history")


@pytest.mark.parametrize(
    "argv",
    [
        ["touch", "ada", "--note", "\udc80", "--today", TODAY],
        ["meet", "Alan", "--where", "caf\udce9", "--today", TODAY],
        ["goal", "add", "\udcff", "--today", TODAY],
    ],
)
def test_undecodable_bytes_in_a_sealed_text(template: Template, argv: list[str]) -> None:
    with fresh(template, process=True) as run:
        clean(run, argv, read=False)


def test_undecodable_bytes_where_they_are_handled(template: Template) -> None:
    """The same bytes where syncnet already copes (a control for the two tests above)."""
    with fresh(template, process=True) as run:
        # refused before anything runs: one line naming the argument
        for argv in (["show", "\udc80"], ["contacts", "--org", "\udc80"], ["touch", "ada", "--on", "\udc80"]):
            refused = clean(run, argv, read=argv[0] != "touch").stderr
            assert f"argument {len(argv)} is not valid UTF-8" in refused


@contextmanager
def with_config(t: Template, text: str, process: bool = False) -> Iterator[Runner]:
    """A fresh store with `text` as its config.toml."""
    with fresh(t, process) as run:
        (run.home / "config.toml").write_text(text, encoding="utf-8")
        yield run


@pytest.mark.parametrize(
    "text", ["a = " + "[" * 1000 + "]" * 1000, "a = " + "{b = " * 1000 + "1" + "}" * 1000]
)
def test_deeply_nested_config(template: Template, text: str) -> None:
    with with_config(template, text, process=True) as run:  # the process's own stack depth
        line = clean(run, ["due", "--today", TODAY], read=True).stderr
        assert line.startswith("syncnet: error: config"), line


@pytest.mark.parametrize("zone", ["America", "a" * 300])
def test_time_zone_naming_a_directory_or_too_long(template: Template, zone: str) -> None:
    with with_config(template, f'[general]\ntimezone = "{zone}"\n') as run:
        for argv in (["due", "--today", TODAY], ["status"]):
            line = clean(run, argv, read=True).stderr
            assert "unknown time zone" in line, line


@pytest.mark.parametrize("argv", [["status"], ["sync", "--dry-run", "--today", TODAY]])
def test_password_with_a_slash_in_a_url(template: Template, argv: list[str]) -> None:
    text = f'[targets.phone]\ntype = "caldav"\nurl = "http://me:{SECRET}/x@127.0.0.1:{CLOSED_PORT}/"\n'
    with with_config(template, text) as run:
        clean(run, argv, read=True, multi_line=argv[0] == "sync")


@pytest.mark.parametrize("url", ["http://[::1/", "http://127.0.0.1:abc/"])
def test_malformed_caldav_url(template: Template, url: str) -> None:
    with with_config(template, f'[targets.phone]\ntype = "caldav"\nurl = "{url}"\n') as run:
        proc = clean(run, ["sync", "--dry-run", "--today", TODAY], read=True)
        assert proc.returncode == 2 and "config" in proc.stderr, proc.stderr


def test_passwords_elsewhere_are_never_shown(template: Template) -> None:
    """Where the password is refused or kept out today (a control for the test above)."""
    configs = [
        f'[targets.phone]\ntype = "caldav"\nurl = "http://127.0.0.1:{CLOSED_PORT}/"\npassword = "{SECRET}"\n',
        f'[targets.phone]\ntype = "caldav"\nurl = "http://me:{SECRET}@127.0.0.1:{CLOSED_PORT}/"\n',
        f'[targets.phone]\ntype = "caldav"\nurl = "http://me:{SECRET}#x@127.0.0.1:{CLOSED_PORT}/"\n',
        f'[targets.phone]\ntype = "caldav"\nurl = ["http://me:{SECRET}@127.0.0.1/"]\n',
        f'passphrase = "{SECRET}"\n',
        f'[general]\npassphrase = "{SECRET}"\n',
    ]
    for text in configs:
        with with_config(template, text) as run:
            line = clean(run, ["due", "--today", TODAY], read=True).stderr
            assert line.startswith("syncnet: error: config"), line
    text = (
        f'[targets.phone]\ntype = "caldav"\nurl = "http://127.0.0.1:{CLOSED_PORT}/"\nuser = "me"\n'
        f"password_cmd = \"sh -c 'echo {SECRET}; echo {SECRET} >&2; exit 3'\"\n"
    )
    with with_config(template, text) as run:
        proc = clean(run, ["sync", "--dry-run", "--today", TODAY], read=True, multi_line=True)
        assert "password_cmd exited with code 3" in proc.stderr, proc.stderr


def test_undecodable_bytes_in_a_home_path(template: Template) -> None:
    with fresh(template, process=True) as run:  # PYTHONIOENCODING=utf-8: a strict UTF-8 stdout
        home = run.base / "files" / "caf\udce9"  # b"caf\xe9"
        proc = run("--home", home, "init")
        # refused before anything is created: a store path syncnet could not print back
        assert proc.returncode == 2 and proc.stderr == "syncnet: error: argument 2 is not valid UTF-8 text\n"
        assert not (run.base / "files").exists() or not any((run.base / "files").iterdir())


@pytest.mark.parametrize("where", ["/dev/null", "{HOME}/store.db", "{HOME}/store.db/x"])
def test_init_where_a_file_is(template: Template, where: str) -> None:
    with fresh(template) as run:
        clean(run, ["--home", where.replace("{HOME}", str(run.home)), "init"], read=True, exit_1_ok=True)


@pytest.mark.parametrize("option", ["--home", "--config"])
def test_path_too_long(template: Template, option: str) -> None:
    with fresh(template) as run:
        clean(run, [option, str(run.base / ("a" * 300)), "due", "--today", TODAY], read=True, exit_1_ok=True)


def test_config_that_never_ends(template: Template) -> None:
    import resource
    import subprocess
    import sys

    def limit() -> None:  # the test must not take the machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))

    with fresh(template) as run:
        proc = subprocess.run(
            [sys.executable, "-m", "syncnet", "--config", "/dev/zero", "due", "--today", TODAY],
            env=run.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
            preexec_fn=limit,
        )  # fmt: skip
        found = problems(proc, (0, 0, 0), (0, 0, 0), read=True)
        assert not found, f"exit {proc.returncode}: {'; '.join(found)}: {proc.stderr[-300:]!r}"


# ---------------------------------------------------------------- fuzzing the importers' files
# A file of each kind (what each importer reads), edited a few times with lines of the
# other kinds and hostile pieces, then given to any importer: some are read (and
# recorded), some refused.
IMPORT_FILES = [
    ["Notes:", '"When exporting your connection data, you may notice that some of the e-mail..."', "",
     "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
     "Ada,Lovelace,https://www.linkedin.com/in/ada,,Analytical,Engineer,15 Mar 2024",
     "Grace,Hopper,,grace@navy.example,Navy,Admiral,03 Feb 2025"],
    ["First Name,Middle Name,Last Name,Organization Name,Birthday,E-mail 1 - Value,Labels",
     "Alan,,Turing,Bletchley,1912-06-23,alan@example.org,* myContacts ::: Friends",
     "Ada,,Lovelace,Analytical,--12-10,ada@example.org,"],
    ["BEGIN:VCARD", "VERSION:3.0", "FN:Edsger Dijkstra", "N:Dijkstra;Edsger;;;", "ORG:Eindhoven",
     "EMAIL;TYPE=work:ewd@example.org", "BDAY:1930-05-11", "NOTE:shortest paths\\, mostly", "END:VCARD",
     "BEGIN:VCARD", "VERSION:2.1", "N:Hopper;Grace", "NOTE;ENCODING=QUOTED-PRINTABLE:caf=C3=A9", "END:VCARD"],
]  # fmt: skip
IMPORT_LINES = [line for lines in IMPORT_FILES for line in lines] + [
    "BDAY:1930-02-30", "NOTE;ENCODING=QUOTED-PRINTABLE:caf=C3=A9=", '{"schema_version": 2}', "{", "a,b,c",
    '"unclosed,quote', "Grace,Hopper,,,,,31 Feb 2024",
]  # fmt: skip
IMPORT_PIECES = ["\x00", "\x1b[31m", "\u202e", "\ufeff", "é", ",", '"', ";", ":", "=", " ::: ", "\r",
                 "\udcff"]  # fmt: skip


@st.composite
def import_file(draw: st.DrawFn) -> bytes:
    lines = list(draw(st.sampled_from(IMPORT_FILES)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines)))
        edit = draw(st.sampled_from(["insert", "delete", "piece"]))
        if edit == "insert":
            lines.insert(at, draw(st.sampled_from(IMPORT_LINES)))
        elif lines and at < len(lines):
            piece = draw(st.sampled_from(IMPORT_PIECES))
            lines[at:at + 1] = [] if edit == "delete" else [lines[at] + piece]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines).encode("utf-8", "surrogateescape")


IMPORT_FILE = import_file()
MAX_EXAMPLES["imports"] = 80


@fuzz("imports")
@given(
    kind=st.sampled_from(["linkedin", "linkedin", "google", "google", "vcard", "vcard", "jsonl"]),
    body=IMPORT_FILE | IMPORT_FILE | st.binary(max_size=300),
    dry_run=st.booleans(),
)
def test_import_files_refuse_cleanly_and_a_dry_run_writes_nothing(
    template: Template, kind: str, body: bytes, dry_run: bool
) -> None:
    """Any file to any importer: read, or refused in one line with nothing written; with
    --dry-run nothing is written either way."""
    template.tally["imports: examples"] += 1
    with fresh(template) as run:
        path = run.base / "contacts.file"
        path.write_bytes(body)
        argv = ["import", kind, str(path), *(["--dry-run"] if dry_run else [])]
        before = written(run.home)
        proc = check(template, run, argv, read=dry_run, what="imports")
        if dry_run:
            assert written(run.home) == before, proc.stdout
