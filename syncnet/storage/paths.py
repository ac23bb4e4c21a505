"""Where the store and the config live (README.md, "Where data lives, and how it is protected")."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(home: str | Path | None = None) -> Path:
    if home:
        return Path(home).expanduser()
    env = os.environ.get("SYNCNET_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("syncnet", appauthor=False))


def config_path(home: str | Path | None = None, config: str | Path | None = None) -> Path:
    if config:
        return Path(config).expanduser()
    if home:
        return Path(home).expanduser() / "config.toml"
    env = os.environ.get("SYNCNET_HOME")
    if env:
        return Path(env).expanduser() / "config.toml"
    from platformdirs import user_config_dir

    return Path(user_config_dir("syncnet", appauthor=False)) / "config.toml"
