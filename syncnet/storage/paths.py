"""Where the store and the config live (README.md, "Where data lives, and how it is protected"),
and writing files there durably."""

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


def write_private(path: Path, data: str) -> None:
    """Create a file readable by the owner only (0600 whatever the umask), synced to disk;
    never overwrite one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    """Make the entries of a directory durable (after a rename or a new file in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

