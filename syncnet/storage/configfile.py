"""Reading the configuration file (TOML); its meaning is in syncnet.domain.config."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from syncnet.domain.config import Config, parse_config
from syncnet.errors import ConfigError


def load_config(path: Path, required: bool = False) -> Config:
    """The configuration in `path`. A missing file gives the defaults, unless the user
    named it (`--config FILE`, `required`): then it is an error, never silently ignored."""
    try:
        exists = path.exists()
    except (OSError, ValueError) as e:  # a name too long, a NUL
        raise ConfigError(f"config {path}: cannot read: {e}") from None
    if not exists:
        if required:
            raise ConfigError(f"config {path} does not exist")
        return replace(Config(), source=f"defaults ({path} does not exist)")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # bounded: --config /dev/zero must not eat the memory
        if len(raw) > MAX_BYTES:
            raise ConfigError(f"config {path}: larger than {MAX_BYTES // 1024} KiB: not a syncnet config")
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config {path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"config {path}: not valid TOML: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config {path}: cannot read: {e}") from None
    return parse_config(data, str(path))


MAX_BYTES = 1024 * 1024
