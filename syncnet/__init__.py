"""syncnet: an event-sourced, encrypted record of your professional network.

Everything the CLI does is one call away:

    from syncnet import Network, Meet, Touch
    with Network.open(home) as net:
        net.record(Meet("Ada Lovelace", channel="conference", why="role-model"))
        net.record_many([Touch("Ada Lovelace", by="me", minutes=30)])
        for item in net.agenda():
            print(item.state, item.reminder.due, item.summary)

Names are imported on first use (PEP 562), so `syncnet due` loads only what it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "domain.commands": (
        "Ask", "Asked", "Cadence", "Command", "Dropped", "Give", "GoalAchieved", "GoalAdd",
        "Kept", "Link", "Meet", "Pitch", "Pocket", "Promise", "Receive", "Touch",
        "Amend", "Details", "Rename", "Retract", "SetDetails", "Why",
    ),
    "domain.config": ("Config", "parse_config"),
    "storage.configfile": ("load_config",),
    "errors": ("BadInput", "ConfigError", "NotFound", "StoreMissing", "SyncnetError", "WrongKey"),
    "domain.projections": ("Balance", "Reminder", "TimeSplit", "Warning"),
    "app.agenda": ("AgendaItem",),
    "app.directory": ("ContactRef",),
    "app.history": ("HistoryEntry",),
    "app.network": ("Network", "Recorded", "Card"),
    "storage.store": ("init_store", "open_store"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = [  # the same names as _WHERE, spelled out for linters and type checkers
    "AgendaItem",
    "Amend",
    "Ask",
    "Asked",
    "BadInput",
    "Balance",
    "Cadence",
    "Card",
    "Command",
    "Config",
    "ConfigError",
    "ContactRef",
    "Details",
    "Dropped",
    "Give",
    "GoalAchieved",
    "GoalAdd",
    "HistoryEntry",
    "Kept",
    "Link",
    "Meet",
    "Network",
    "NotFound",
    "Pitch",
    "Pocket",
    "Promise",
    "Receive",
    "Recorded",
    "Reminder",
    "Rename",
    "Retract",
    "SetDetails",
    "StoreMissing",
    "SyncnetError",
    "TimeSplit",
    "Touch",
    "Warning",
    "Why",
    "WrongKey",
    "init_store",
    "load_config",
    "open_store",
    "parse_config",
]  # fmt: skip
assert sorted(__all__) == sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'syncnet' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from syncnet.app.agenda import AgendaItem
    from syncnet.app.directory import ContactRef
    from syncnet.app.history import HistoryEntry
    from syncnet.app.network import Card, Network, Recorded
    from syncnet.domain.commands import (
        Amend,
        Ask,
        Asked,
        Cadence,
        Command,
        Details,
        Dropped,
        Give,
        GoalAchieved,
        GoalAdd,
        Kept,
        Link,
        Meet,
        Pitch,
        Pocket,
        Promise,
        Receive,
        Rename,
        Retract,
        SetDetails,
        Touch,
        Why,
    )  # fmt: skip
    from syncnet.domain.config import Config, parse_config
    from syncnet.domain.projections import Balance, Reminder, TimeSplit, Warning
    from syncnet.errors import BadInput, ConfigError, NotFound, StoreMissing, SyncnetError, WrongKey
    from syncnet.storage.configfile import load_config
    from syncnet.storage.store import init_store, open_store
