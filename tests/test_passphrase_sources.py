"""Where a passphrase store's passphrase comes from (syncnet.storage.secrets):
SYNCNET_PASSPHRASE, then the config's passphrase_cmd, then the system keyring, then a
hidden prompt on a terminal; never the config file itself. Real processes wherever the
command, the environment or the terminal are the point."""

from __future__ import annotations

import json
import os
import shlex
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import Runner, T, answer_on_terminal, toml_value

import syncnet.storage.secrets

PW = "the-pass"
ADA = "Ada Lovelace"


def print_cmd(text: str, code: int = 0) -> list[str]:
    """A command (argv) that prints `text` and exits with `code`."""
    return [sys.executable, "-c", f"import sys; print({text!r}); sys.exit({code})"]


def write_top(home: Path, **top: Any) -> None:
    """<home>/config.toml with top-level keys only."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in top.items()))


def passphrase_store(run: Runner) -> None:
    run.ok("init", passphrase=PW)
    run.ok("meet", ADA, *T, passphrase=PW)


def due_names(run: Runner, **kw: Any) -> list[str]:
    """The contacts of the agenda (the follow-up of the meeting is a few days ahead)."""
    agenda = run.json("due", *T, "--until", "2026-12-31", **kw)["agenda"]
    return [item["contact"]["name"] for item in agenda]


def test_passphrase_cmd_opens_a_passphrase_store(run_process: Runner, home: Path) -> None:
    run = run_process
    passphrase_store(run)
    assert "SYNCNET_PASSPHRASE" in run.fails("due", *T)  # no source yet: says what to set

    write_top(home, passphrase_cmd=print_cmd(PW))  # a list: run as is
    assert "SYNCNET_PASSPHRASE" not in run.env()
    assert ADA in due_names(run)

    write_top(home, passphrase_cmd=shlex.join(print_cmd(PW)))  # a string: split, no shell
    assert ADA in due_names(run)
    # No shell: "> /dev/null" are two more arguments for python, not a redirection.
    write_top(home, passphrase_cmd=f"{shlex.join(print_cmd(PW))} > /dev/null")
    assert ADA in due_names(run)

    # An empty SYNCNET_PASSPHRASE is unset, as for key-file stores; a set one comes first.
    write_top(home, passphrase_cmd=print_cmd(PW))
    assert ADA in due_names(run, passphrase="")
    write_top(home, passphrase_cmd=print_cmd("never run", code=1))
    assert ADA in due_names(run, passphrase=PW)


def test_a_wrong_passphrase_from_the_command_is_the_usual_wrong_key(run_process: Runner, home: Path) -> None:
    passphrase_store(run_process)
    write_top(home, passphrase_cmd=print_cmd("not-the-pass"))
    line = run_process.fails("due", *T)
    assert "wrong key or passphrase" in line and "not-the-pass" not in line


def test_a_failing_command_is_one_line_and_never_shows_its_output(run_process: Runner, home: Path) -> None:
    passphrase_store(run_process)
    leaky = [sys.executable, "-c", "import sys; print('OUT-SECRET'); sys.exit('ERR-SECRET')"]  # code 1
    write_top(home, passphrase_cmd=leaky)
    proc = run_process("due", *T)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["syncnet: error: config: passphrase_cmd exited with code 1"]
    assert "SECRET" not in proc.stderr

    write_top(home, passphrase_cmd=["/nonexistent/pass-helper", "show"])
    assert "passphrase_cmd failed to run: FileNotFoundError" in run_process.fails("due", *T)
    write_top(home, passphrase_cmd="pass show 'unbalanced")  # shlex cannot split it
    assert "passphrase_cmd failed to run" in run_process.fails("due", *T)
    write_top(home, passphrase_cmd=print_cmd(""))  # prints only a newline
    assert "passphrase_cmd printed no passphrase" in run_process.fails("due", *T)


def test_a_command_that_hangs_times_out(run: Runner, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    passphrase_store(run)
    monkeypatch.setattr(syncnet.storage.secrets, "SECRET_COMMAND_TIMEOUT_S", 0.5)  # 30 s in use
    write_top(home, passphrase_cmd=[sys.executable, "-c", "import time; print('x'); time.sleep(30)"])
    assert "passphrase_cmd failed to run: TimeoutExpired" in run.fails("due", *T)


def test_a_key_file_store_runs_no_passphrase_cmd(run_process: Runner, home: Path, tmp_path: Path) -> None:
    run_process.ok("init")
    marker = tmp_path / "ran"
    write_top(home, passphrase_cmd=[sys.executable, "-c", f"open({str(marker)!r}, 'w'); exit(1)"])
    run_process.ok("meet", ADA, *T)
    assert ADA in due_names(run_process)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('passphrase = "hunter2"\n', "config: passphrase: never put secrets in the config; use passphrase"),
        (
            '[general]\npassphrase = "hunter2"\n',
            "general.passphrase: never put secrets in the config; use passphrase_cmd, the system keyring",
        ),
        ("passphrase_cmd = 42\n", "config: passphrase_cmd must be a string or a list"),
        ("passphrase_cmd = []\n", "config: passphrase_cmd must be a string or a list"),
        ('passphrase_cmd = ["pass", 1]\n', "config: passphrase_cmd must be a string or a list"),
    ],
)
def test_a_passphrase_in_the_config_is_refused(run: Runner, home: Path, config: str, message: str) -> None:
    run.ok("init")  # refused for every store, even one without a passphrase
    (home / "config.toml").write_text(config)
    line = run.fails("due", *T)
    assert message in line and "hunter2" not in line
    assert message in run.fails("init")


# ---------------------------------------------------------------- the keyring
STUB = '''
"""A stand-in for the keyring package: answers from a JSON file, records each call."""
import json, os

def get_password(service, username):
    state = os.environ["STUB_KEYRING"]
    with open(state + ".calls", "a") as f:
        f.write(json.dumps([service, username]) + "\\n")
    entries = json.load(open(state))
    if entries == "broken":
        raise RuntimeError("no backend: " + username)
    return entries.get(service + "|" + username)
'''


def stub_keyring(tmp_path: Path, entries: Any) -> dict[str, str]:
    """The environment of a process whose `import keyring` finds the stub."""
    (tmp_path / "stub" / "keyring").mkdir(parents=True, exist_ok=True)
    (tmp_path / "stub" / "keyring" / "__init__.py").write_text(STUB)
    state = tmp_path / "keyring.json"
    state.write_text(json.dumps(entries))
    path = os.pathsep.join(p for p in (str(tmp_path / "stub"), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "STUB_KEYRING": str(state)}


def keyring_calls(tmp_path: Path) -> list[list[str]]:
    calls = tmp_path / "keyring.json.calls"
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_the_keyring_comes_after_passphrase_cmd(run_process: Runner, home: Path, tmp_path: Path) -> None:
    passphrase_store(run_process)
    env = stub_keyring(tmp_path, {f"syncnet|{home}": PW})  # user: the data directory
    assert ADA in due_names(run_process, env=env)
    assert keyring_calls(tmp_path) == [["syncnet", str(home)]]

    write_top(home, passphrase_cmd=print_cmd("from-the-command"))  # the command comes first
    assert "wrong key or passphrase" in run_process.fails("due", *T, env=env)
    assert len(keyring_calls(tmp_path)) == 1


def test_a_failing_keyring_is_passed_over(run_process: Runner, home: Path, tmp_path: Path) -> None:
    passphrase_store(run_process)
    line = run_process.fails("due", *T, env=stub_keyring(tmp_path, "broken"))
    assert "protected by a passphrase" in line and "no backend" not in line
    assert len(keyring_calls(tmp_path)) == 1
    line = run_process.fails("due", *T, env=stub_keyring(tmp_path, {}))  # no entry for this store
    assert "protected by a passphrase" in line


def test_a_key_file_store_reads_no_keyring(run_process: Runner, tmp_path: Path) -> None:
    run_process.ok("init")
    env = stub_keyring(tmp_path, "broken")
    run_process.ok("due", *T, env=env)
    assert keyring_calls(tmp_path) == []


def test_the_real_keyring_package(run_process: Runner, home: Path, tmp_path: Path) -> None:
    pytest.importorskip("keyring", reason="the optional keyring package is not installed")
    backend = tmp_path / "backend"
    backend.mkdir()
    (backend / "filekeyring.py").write_text(
        textwrap.dedent(f"""
        import json
        from keyring.backend import KeyringBackend

        class FileKeyring(KeyringBackend):
            priority = 1
            def get_password(self, service, username):
                return json.load(open({str(tmp_path / "entries.json")!r})).get(service + "|" + username)
            def set_password(self, service, username, password):
                raise NotImplementedError
            def delete_password(self, service, username):
                raise NotImplementedError
        """)
    )
    (tmp_path / "entries.json").write_text(json.dumps({f"syncnet|{home}": PW}))
    passphrase_store(run_process)
    env = {"PYTHONPATH": str(backend), "PYTHON_KEYRING_BACKEND": "filekeyring.FileKeyring"}
    assert ADA in due_names(run_process, env=env)


# ---------------------------------------------------------------- the prompt
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drives a pseudo-terminal")
def test_a_terminal_is_prompted_last_with_hidden_input(run_process: Runner, home: Path) -> None:
    passphrase_store(run_process)
    argv = [sys.executable, "-m", "syncnet", "due", *T, "--until", "2026-12-31"]
    asked, shown, code = answer_on_terminal(argv, run_process.env(), b"syncnet passphrase: ", PW)
    assert asked.endswith("syncnet passphrase: ") and code == 0, shown
    assert ADA in shown and PW not in shown  # hidden input: never echoed
