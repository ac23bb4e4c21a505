"""Hostile text (issue 14, C): a name, note, detail or promise can hold what a terminal
acts on: CSI and OSC sequences (colours, clearing the screen, the window title, links),
CR and backspace (overwriting what was printed), 8-bit C1 controls, bidi overrides and
isolates (showing a text reordered). No command prints one raw, on stdout or stderr;
text output shows each as a visible escape (\\x1b, \\u202e: the text is not dropped),
JSON output as a JSON escape that reads back as the stored text.

Every command runs as a process, its output read as bytes: a CR captured as text would
be a newline already (universal newlines), and could not be told from one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import Runner, T, ics_target, write_config

# Each kind of sequence, and the one character of it a terminal acts on (its visible form).
KINDS = {
    "csi": "\x1b[31m", "erase-screen": "\x1b[2J\x1b[H", "osc-title": "\x1b]0;pwned\x07",
    "osc-link": "\x1b]8;;http://evil.example/\x1b\\", "cr": "\r", "backspace": "\x08", "del": "\x7f",
    "c1-csi": "\x9b2J", "c1-osc": "\x9d0;pwned\x9c", "nel": "\x85", "bidi-override": "\u202e",
    "bidi-isolate": "\u2066", "bidi-mark": "\u200f", "line-separator": "\u2028", "tab-newline": "\t\n",
}  # fmt: skip
VISIBLE = {
    "\x1b": "\\x1b", "\x07": "\\x07", "\r": "\\r", "\x08": "\\x08", "\x7f": "\\x7f", "\x9b": "\\x9b",
    "\x9c": "\\x9c", "\x9d": "\\x9d", "\x85": "\\x85", "\u202e": "\\u202e", "\u2066": "\\u2066",
    "\u200f": "\\u200f", "\u2028": "\\u2028", "\t": "\\t", "\n": "\\n",
}  # fmt: skip
HOSTILE = "".join(KINDS.values())


def shown(text: str) -> str:
    """`text` as a terminal may be given it: each control character in its visible form."""
    return "".join(VISIBLE.get(ch, ch) for ch in text)


NAME = f"Eve {HOSTILE} Mallory"
WHAT = f"send {HOSTILE} the slides"
NOTE = f"note {HOSTILE} end"
GOAL = f"goal {HOSTILE} end"
ORG, ROLE, HOW, WHERE = (f"{field} {HOSTILE} end" for field in ("org", "role", "how", "where"))


def cli(run: Runner, *args: object) -> tuple[int, str, str]:
    """`syncnet ARGS` in a process: (exit code, stdout, stderr), decoded from the bytes
    as they are (strict UTF-8, no newline translation)."""
    proc = subprocess.run([sys.executable, "-m", "syncnet", *map(str, args)], env=run.env(),
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60)  # fmt: skip
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def inert(args: tuple[object, ...], *outputs: str) -> None:
    """No character a terminal acts on in `outputs` (the newlines that end lines apart)."""
    for output in outputs:
        for ch in VISIBLE:
            if ch == "\n":
                continue
            assert ch not in output, f"syncnet {args[:2]}: raw {ch!r} in {output!r}"


def ok(run: Runner, *args: object) -> str:
    code, out, err = cli(run, *args)
    inert(args, out, err)
    assert (code, err) == (0, ""), (args, code, err)
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A contact whose name, details, notes, promise and goal hold every kind, recorded
    through the command line once for the module (each test gets a copy of the home);
    and what each recording printed."""
    base = tmp_path_factory.mktemp("hostile")
    run = Runner(base / "home", base)
    printed: dict[str, str] = {}

    def record(what: str, *args: object) -> None:  # what it printed is checked by a test of its own
        code, printed[what], err = cli(run, *args, *T)
        assert (code, err) == (0, ""), (args, code, err)

    assert cli(run, "init")[0] == 0
    record("meet", "meet", NAME, "--where", WHERE, "--org", ORG, "--role", ROLE, "--how-met", HOW,
           "--note", NOTE, "--on", "2026-10-01")  # fmt: skip
    short = json.loads(cli(run, "contacts", "--json", *T)[1])["contacts"][0]["short"]
    record("promise", "promise", short, WHAT, "--due", "2026-11-01", "--on", "2026-10-02")
    record("touch", "touch", short, "--note", NOTE, "--on", "2026-10-03")
    record("ask", "ask", short, "--note", NOTE, "--on", "2026-10-04")  # asked before giving
    record("goal add", "goal", "add", GOAL)
    record("goal link", "goal", "link", short, GOAL)
    return run.home, {"short": short, "printed": printed}


@pytest.fixture
def network(home: Path, tmp_path: Path, recorded: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    """This test's copy of the recorded home, with an .ics target."""
    shutil.copytree(recorded[0], home)  # modes too: the key stays 0600
    write_config(home, cal=ics_target(tmp_path / "cal.ics"))
    return {**recorded[1], "ics": tmp_path / "cal.ics"}


def test_what_recording_prints_shows_the_name_escaped(network: dict[str, Any]) -> None:
    for command, out in network["printed"].items():
        inert((command,), out)
        if command != "goal add":  # "Recorded goal 1a2b3c4d." names no text
            assert shown(NAME) in out, (command, out)


def test_the_texts_are_stored_as_given(run: Runner, network: dict[str, Any]) -> None:
    doc = json.loads(ok(run, "show", network["short"], "--json", *T))
    assert (doc["contact"]["name"], doc["where"], doc["details"]["org"]) == (NAME, WHERE, ORG)


# command -> the texts its output shows
READS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("due",), (NAME, WHAT)),
    (("contacts",), (NAME,)),
    (("balance",), (NAME,)),
    (("history", "{short}"), (NAME, NOTE, WHERE, ORG, ROLE, HOW, WHAT)),
    (("show", "{short}"), (NAME, WHERE, ORG, ROLE, HOW, WHAT)),
    (("split",), ()),
    (("warnings",), (NAME,)),
    (("goal", "list"), (GOAL,)),
    (("sync", "--dry-run"), (NAME,)),
    (("sync",), (NAME,)),
    (("status",), ()),
    (("undo", "--yes"), (NAME,)),  # the last fact (the goal link) is shown, then retracted
]


@pytest.mark.parametrize(("command", "texts"), READS, ids=[" ".join(c) for c, _ in READS])
def test_no_command_prints_a_control_character_raw(
    run: Runner, network: dict[str, Any], command: tuple[str, ...], texts: tuple[str, ...]
) -> None:
    args = tuple(a.format(short=network["short"]) for a in command)
    out = ok(run, *args, *T) if args[0] != "undo" else ok(run, *args)
    for text in texts:
        assert shown(text) in out, (args, text, out)  # shown, not dropped
    if args == ("sync",):
        assert network["ics"].exists()


def strings(doc: Any) -> list[str]:
    """Every string a JSON document holds."""
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        doc = list(doc.values())
    return [s for item in doc for s in strings(item)] if isinstance(doc, list) else []


# command -> the stored texts its JSON holds
JSON_READS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("due",), (NAME, WHAT)),
    (("contacts",), (NAME,)),
    (("balance",), (NAME,)),
    (("history", "{short}"), (NAME, WHAT, NOTE, WHERE, ORG, ROLE, HOW)),
    (("show", "{short}"), (NAME, WHERE, ORG, ROLE, HOW, WHAT)),
    (("warnings",), (NAME,)),
    (("goal", "list"), (GOAL,)),
    (("sync", "--dry-run"), (NAME, WHAT)),
]


@pytest.mark.parametrize(("command", "texts"), JSON_READS, ids=[" ".join(c) for c, _ in JSON_READS])
@pytest.mark.parametrize("pretty", [False, True], ids=["compact", "pretty"])
def test_json_escapes_every_control_character_and_reads_back_as_stored(
    run: Runner, network: dict[str, Any], command: tuple[str, ...], texts: tuple[str, ...], pretty: bool
) -> None:
    """json.dumps escapes C0 only: DEL, C1 and the bidi controls must be escaped too."""
    args = tuple(a.format(short=network["short"]) for a in command)
    out = ok(run, *args, "--json", *(["--pretty"] if pretty else []), *T)
    got = strings(json.loads(out))
    for text in texts:
        assert any(text in s for s in got), (args, text, got)


def test_json_of_ascii_text_escapes_del_too(run: Runner) -> None:
    """An all-ASCII document takes a shorter path (DEL is the only one it can hold)."""
    name = "Bob\x7f\x7fby Tables"
    ok(run, "init")
    ok(run, "meet", name, *T)
    for pretty in ([], ["--pretty"]):
        out = ok(run, "contacts", "--json", *pretty, *T)
        assert "\\u007f\\u007f" in out and json.loads(out)["contacts"][0]["name"] == name


def test_a_sync_error_and_the_status_that_keeps_it_show_no_control_character(
    run: Runner, home: Path, network: dict[str, Any], tmp_path: Path
) -> None:
    """A target's error quotes its path (or a server's words) and is kept for `status`."""
    name = HOSTILE.replace("\x7f", "").replace("/", "|")  # TOML holds no raw DEL, a file name no /
    blocker = tmp_path / f"blocker {name}"
    blocker.write_text("a file where a directory should be")
    write_config(home, cal=ics_target(blocker / "cal.ics"))
    code, out, err = cli(run, "sync", *T)
    inert(("sync",), out, err)
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith("syncnet: error: target cal: ")
    # The one-line error has each run of white space (CR, NEL, U+2028, tab, newline) as one space.
    visible = [shown(part) for part in f"blocker {name}".split()]
    assert all(part in err for part in visible), err
    status = ok(run, "status", *T)
    assert "last error:" in status and all(part in status for part in visible), status


def test_an_error_that_lists_names_shows_no_control_character(run: Runner, network: dict[str, Any]) -> None:
    ok(run, "meet", "Eve Other", "--on", "2026-10-01", *T)
    code, out, err = cli(run, "touch", "Eve", *T)  # two contacts named Eve...: which one?
    assert code == 2 and out == "" and ("ambiguous" in err or "too short" in err), err
    assert shown(NAME) in err
    inert(("touch",), err)
