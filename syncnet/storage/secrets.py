"""Where the store's passphrase comes from: never the config file itself.

In order: SYNCNET_PASSPHRASE (when not empty), the config's `passphrase_cmd`, the
system keyring (the optional `keyring` package: service "syncnet", user the data
directory's absolute path), then a prompt the entry point supplies (on a terminal).
Only a store protected by a passphrase asks any of them; a key-file store runs no
command and reads no keyring.

`run_secret_command` is the one way syncnet runs a command for a secret: no shell,
a timeout, and its output never shown.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from syncnet.errors import BadInput
from syncnet.storage.configfile import load_config
from syncnet.storage.paths import config_path, data_dir
from syncnet.storage.store import key_mode

SECRET_COMMAND_TIMEOUT_S = 30
KEYRING_SERVICE = "syncnet"


def run_secret_command(command: str | Sequence[str], label: str) -> str:
    """The stdout of `command` (a list runs as is, a string is shlex-split; never a
    shell), less its trailing newline. A failure is a one-line BadInput starting with
    `label`; the command's output is never part of it, since it may hold the secret."""
    try:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=SECRET_COMMAND_TIMEOUT_S,
                             check=False)  # fmt: skip
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        raise BadInput(f"{label} failed to run: {type(e).__name__}") from None
    if out.returncode != 0:
        raise BadInput(f"{label} exited with code {out.returncode}")
    return out.stdout.rstrip("\n")


def keyring_secret(service: str, username: str) -> str | None:
    """The secret the system keyring holds, or None: without the `keyring` package, with
    no usable backend, or on any error of the backend (this source is optional)."""
    try:
        import keyring  # optional: pip install keyring
    except ImportError:
        return None
    try:
        secret = keyring.get_password(service, username)
    except Exception:  # NoKeyringError, a locked or absent D-Bus service, a broken backend
        return None
    return secret if isinstance(secret, str) and secret else None


def keyring_username(home: Path) -> str:
    """The store's entry in the keyring: its data directory, absolute (a relative --home
    names the same entry from any working directory)."""
    return os.path.abspath(home)


def store_passphrase(home: str | Path | None, config: str | Path | None,
                     ask: Callable[[], str] | None = None) -> str | None:  # fmt: skip
    """The passphrase that opens the store in `home` (see the module's docstring), or
    None: a key-file store, no store, or no source had one. `config` is the --config
    FILE, if any; `ask` prompts the user (the CLI passes it only on a terminal)."""
    env = os.environ.get("SYNCNET_PASSPHRASE")
    if env:  # empty means unset: scripts of key-file stores set SYNCNET_PASSPHRASE=""
        return env
    if key_mode(data_dir(home)) != "passphrase":
        return None
    return passphrase_for(home, config, ask)


def passphrase_for(home: str | Path | None, config: str | Path | None,
                   ask: Callable[[], str] | None = None) -> str | None:  # fmt: skip
    """The passphrase from the sources in the module docstring's order, whether or not
    `home` holds a store yet: `syncnet restore` asks it of a passphrase store's backup
    before the store is in `home`. None when no source had one."""
    env = os.environ.get("SYNCNET_PASSPHRASE")
    if env:
        return env
    command = load_config(config_path(home, config), required=config is not None).passphrase_cmd
    if command:
        secret = run_secret_command(command, "config: passphrase_cmd")
        if not secret:
            raise BadInput("config: passphrase_cmd printed no passphrase")
        return secret
    from_keyring = keyring_secret(KEYRING_SERVICE, keyring_username(data_dir(home)))
    if from_keyring is None and ask is not None:
        return ask() or None
    return from_keyring
