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
    if not path.exists():
        if required:
            raise ConfigError(f"config {path} does not exist")
        return replace(Config(), source=f"defaults ({path} does not exist)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config {path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config {path}: cannot read: {e}") from None
    return parse_config(data, str(path))
