"""Every error a user can see, in one hierarchy. The message is one line meant for
the user; it never holds a key, a token or a password.

SyncnetError
├── BadInput              the input or the usage is wrong; nothing was written
│   ├── NotFound          an unknown or ambiguous contact, promise, goal or target
│   ├── WrongKey          the key or passphrase does not open this store
│   ├── StoreMissing      there is no store at the data directory yet
│   ├── ConfigError       the configuration file cannot be read or has a wrong value
│   └── Refused           a safety check refused the operation (e.g. emptying a calendar)
├── StoreError            the store could not be read or written (damaged, locked, disk full)
│   └── MissingKey        a contact's data key is missing although no fact erased it
├── HubError              the hub (PostgreSQL) could not be reached, read or written
└── TargetError           a calendar target could not be synced
    ├── TargetDown        unreachable, timed out, 5xx or 429: try again later (retry_after)
    └── Conflict          the item changed on the target since syncnet wrote it (HTTP 412)

The command line maps them to exit codes (`syncnet.entrypoints.cli.exit_code_for`):
BadInput and its kinds 2, every other error 1.
"""

from __future__ import annotations


class SyncnetError(Exception):
    """Base class of every error syncnet reports to its user."""


class BadInput(SyncnetError):
    """Bad input or usage; nothing was written."""


class NotFound(BadInput):
    """An unknown or ambiguous contact, promise, goal or target."""


class WrongKey(BadInput):
    """The key or passphrase does not open this store."""


class StoreMissing(BadInput):
    """There is no store at the data directory yet."""


class ConfigError(BadInput):
    """The configuration file cannot be read or has a wrong value."""


class Refused(BadInput):
    """A safety check refused the operation; an option (e.g. --force) overrides it."""


class StoreError(SyncnetError):
    """The store could not be read or written."""


class ViewsDamaged(StoreError):
    """Derived data (a view row, the history index) does not match the store key or the
    log: it has been reset, and the next command rebuilds it from the log."""


class MissingKey(StoreError):
    """A data key that should be there is not: the store is damaged (no fact erased it)."""


class ContactsMoved(StoreError):
    """Another process met a contact between the checks of a recording and its write:
    the recording is checked again (a name may have been taken meanwhile)."""


class ErasedKey(MissingKey):
    """The data key of a contact that was forgotten: destroyed on purpose, with a fact."""


class PrivateKey(MissingKey):
    """The key of notes kept to another device (`--private`): this store never has it."""


class DamagedKey(MissingKey):
    """A data key that is there but does not open with the key that opened the store."""


class TargetError(SyncnetError):
    """A calendar target could not be synced."""


class TargetDown(TargetError):
    """The target cannot be reached or answers with an error: retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(TargetError):
    """The item changed on the target since syncnet last wrote it (HTTP 412)."""


class HubError(SyncnetError):
    """The hub could not be reached, read or written; nothing was lost (docs/hub.md)."""


class StoredMeanwhile(StoreError):
    """Another process stored some of these facts meanwhile (two pulls at once): nothing
    of this batch was written; asking again which facts are there settles it."""


class FactOnHub(HubError):
    """A fact of a batch is on the hub already (another device pushed it meanwhile)."""
