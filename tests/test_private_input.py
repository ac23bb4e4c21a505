"""Notes that never stand in the process list or the shell history (issue 14, guarantee
8): `--note -` reads standard input, `--edit` opens $EDITOR. Checked as a user would: the
note is stored (history shows it) and the command line of the running process does not
hold it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from support import Runner

T = ("--today", "2026-11-20")
NOTE = "she is leaving the company in March, confidential"


def syncnet(run: Runner, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncnet", *args], input=stdin, env=run.env(**env),
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def notes(run: Runner) -> list[str]:
    return [e["details"].get("note") for e in run.json("history", "Ada", "--json", *T)["events"]]


def test_a_note_from_standard_input_is_stored_and_not_in_the_command_line(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-02", *T)

    def command_line_while_running(args: list[str], stdin: str) -> str:
        """What `ps` shows of a syncnet process, read while it runs."""
        pipe = subprocess.PIPE
        proc = subprocess.Popen([sys.executable, "-m", "syncnet", *args], stdin=pipe, stdout=pipe,
                                stderr=pipe, env=run.env(), text=True)  # fmt: skip
        seen, deadline = "", time.monotonic() + 10
        while "syncnet" not in seen and time.monotonic() < deadline:  # until the process is exec'd
            seen = Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        _, err = proc.communicate(stdin, timeout=60)
        assert proc.returncode == 0, err
        return seen

    shown = command_line_while_running(["touch", "Ada", "--on", "2026-11-05", "--note", "-", *T], NOTE + "\n")
    assert NOTE not in shown and "--note -" in shown
    assert notes(run)[-1] == NOTE
    # the check itself: a note given as an argument is in the process list
    assert NOTE in command_line_while_running(["touch", "Ada", "--on", "2026-11-06", "--note", NOTE, *T], "")


def test_a_note_written_in_the_editor(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-02", *T)
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\nprintf '%s\\n' '{NOTE}' > \"$1\"\n")
    editor.chmod(0o700)
    done = syncnet(run, "touch", "Ada", "--on", "2026-11-05", "--edit", *T, EDITOR=str(editor), VISUAL="")
    assert done.returncode == 0, done.stderr
    assert notes(run)[-1] == NOTE
    # An editor closed without saving records nothing.
    quit_ = tmp_path / "quit.sh"
    quit_.write_text("#!/bin/sh\nexit 0\n")
    quit_.chmod(0o700)
    refused = syncnet(run, "touch", "Ada", "--on", "2026-11-06", "--edit", *T, EDITOR=str(quit_), VISUAL="")
    assert refused.returncode == 2 and "nothing recorded" in refused.stderr
    assert len(notes(run)) == 2  # the meeting and the first touch: nothing more
