"""syncnet: an event-sourced, encrypted record of your professional network.

Everything the CLI does is one call away:

    from syncnet import Network, Meet, Touch
    with Network.open(home) as net:
        net.record(Meet("Ada Lovelace", channel="conference", why="role-model"))
        net.record_many([Touch("Ada Lovelace", by="me", minutes=30)])
        for item in net.agenda():
            print(item.state, item.reminder.due, item.summary)
"""

from .commands import (
    Ask, Asked, Cadence, Command, Dropped, Give, GoalAchieved, GoalAdd, Kept, Link, Meet,
    Pitch, Pocket, Promise, Receive, Touch,
)  # fmt: skip
from .config import Config, load_config, parse_config
from .errors import BadInput, ConfigError, NotFound, StoreMissing, SyncnetError, WrongKey
from .projections import Balance, Reminder, TimeSplit, Warning
from .service import AgendaItem, ContactRef, HistoryEntry, Network, Recorded
from .store import init_store, open_store

__all__ = [
    "AgendaItem", "Ask", "Asked", "BadInput", "Balance", "Cadence", "Command", "Config",
    "ConfigError", "ContactRef", "Dropped", "Give", "GoalAchieved", "GoalAdd", "HistoryEntry",
    "Kept", "Link", "Meet", "Network", "NotFound", "Pitch", "Pocket", "Promise", "Receive",
    "Recorded", "Reminder", "StoreMissing", "SyncnetError", "TimeSplit", "Touch", "Warning",
    "WrongKey", "init_store", "load_config", "open_store", "parse_config",
]  # fmt: skip
__version__ = "0.1.0"
