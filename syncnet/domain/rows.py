"""The rows of the views: what the projections read. Plain data, no I/O.

Dates are ISO strings (they sort as dates); personal fields stay sealed (their
`Sealed.to_text()`), so no row holds a name or note in clear. The fold that
builds them from facts is in fold.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from syncnet.domain.config import Minutes

# Per-contact daily ledger columns.
GIVEN, GIVEN_MIN, RECEIVED, RECEIVED_MIN, REQ_MADE, REQ_RECEIVED, TOUCH_ME, TOUCH_THEM = range(8)
LEDGER_WIDTH = 8
# Global daily columns (my time in minutes, then counts).
GIVE_MIN, SELF_MIN, ASK_MIN, G_TOUCH_ME, G_TOUCH_THEM, NEW_CONTACTS, INTERACTIONS_COL = range(7)
GLOBAL_WIDTH = 7


@dataclass
class ContactView:
    id: str
    name: str  # sealed
    met_on: str
    channel: str
    why: str | None
    goals: list[str] = field(default_factory=list)
    where: str | None = None  # sealed
    keep: bool = True
    keep_at: str = ""  # (on, recorded) of the pocket fact in force: last writer wins
    cadence_days: int | None = None
    cadence_at: str = ""
    last_interaction: str = ""
    followed_up_on: str | None = None  # first interaction by me on or after met_on
    first_later: str | None = None  # first interaction after the meeting, by anyone
    months: list[str] = field(default_factory=list)  # "YYYY-MM" with an interaction


@dataclass
class LedgerView:
    id: str
    days: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class PromiseView:
    id: str
    contact_id: str
    what: str  # sealed
    made_on: str
    due: str
    status: str = "open"  # open | kept | dropped
    closed_on: str | None = None


@dataclass
class GoalView:
    id: str
    name: str  # sealed
    kind: str
    set_on: str
    achieved_on: str | None = None


KINDS: dict[str, type[Any]] = {
    "contact": ContactView,
    "ledger": LedgerView,
    "promise": PromiseView,
    "goal": GoalView,
}
GLOBAL_KEY = "days"

Loader = Callable[[str, str], dict[str, Any] | None]


class Views:
    """Rows by (kind, key), loaded on first use, with a set of changed rows."""

    def __init__(self, minutes: Minutes, loader: Loader | None = None) -> None:
        self.minutes = minutes
        self._loader = loader
        self.rows: dict[tuple[str, str], Any] = {}
        self.dirty: set[tuple[str, str]] = set()

    def get(self, kind: str, key: str) -> Any:
        k = (kind, key)
        if k not in self.rows:
            data = self._loader(kind, key) if self._loader else None
            if data is None:
                self.rows[k] = None
            elif kind == "global":
                self.rows[k] = data
            else:
                self.rows[k] = KINDS[kind](**data)
        return self.rows[k]

    def put(self, kind: str, key: str, row: Any) -> None:
        self.rows[(kind, key)] = row
        self.dirty.add((kind, key))

    def touch(self, kind: str, key: str) -> None:
        self.dirty.add((kind, key))

    def all(self, kind: str) -> list[Any]:
        return [row for (k, _), row in self.rows.items() if k == kind and row is not None]

    def ledger(self, contact_id: str) -> LedgerView:
        row: LedgerView | None = self.get("ledger", contact_id)
        if row is None:
            row = LedgerView(contact_id)
            self.put("ledger", contact_id, row)
        else:
            self.touch("ledger", contact_id)
        return row

    def days(self) -> dict[str, list[int]]:
        row: dict[str, list[int]] | None = self.get("global", GLOBAL_KEY)
        if row is None:
            row = {}
            self.put("global", GLOBAL_KEY, row)
        else:
            self.touch("global", GLOBAL_KEY)
        return row


def encode_row(row: Any) -> dict[str, Any]:
    # Rows hold JSON-native values only, so a shallow view of the fields is enough
    # (dataclasses.asdict deep-copies every list: a third of a rebuild's time).
    return row if isinstance(row, dict) else vars(row)


def fingerprint(minutes: Minutes) -> str:
    """What the stored views depend on besides the facts: a change rebuilds them."""
    return f"views-v3;minutes={sorted(asdict(minutes).items())}"
