"""Errors a user can see. Each carries the exit code the CLI returns."""

from __future__ import annotations


class SyncnetError(Exception):
    """Base class: the message is one line meant for the user."""

    exit_code = 1


class BadInput(SyncnetError):
    """Bad input or usage; nothing was written (exit code 2)."""

    exit_code = 2


class NotFound(BadInput):
    """An unknown or ambiguous contact, promise or goal."""


class WrongKey(BadInput):
    """The key or passphrase does not open this store."""


class StoreMissing(BadInput):
    """There is no store at the data directory yet."""


class ConfigError(BadInput):
    """The configuration file cannot be read or has a wrong value."""
