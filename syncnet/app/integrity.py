"""`syncnet verify` and `syncnet repair`: the store checked against its seals.

verify   every fact against the seal of the log (storage/chain.py), every wrapped key,
         every view row, the views' position and history index, every stored state
         value; changes nothing
repair   rebuilds what is derived from the log (the views and the history index) and
         drops state values that no longer open (a sync rebuilds them); facts are never
         changed: a damaged fact stays left out, and restoring a backup is the way back
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncnet.app.network import Network


@dataclass
class Report:
    facts: int = 0
    damaged_facts: dict[int, str] = field(default_factory=dict)  # position -> what is wrong
    keys: int = 0
    damaged_keys: list[str] = field(default_factory=list)  # subjects (contact or goal ids)
    views: list[str] = field(default_factory=list)  # problems
    state: list[tuple[str, str]] = field(default_factory=list)  # (scope, key) that do not open

    @property
    def whole(self) -> bool:
        return not (self.damaged_facts or self.damaged_keys or self.views or self.state)

    def problems(self) -> list[str]:
        out = [f"fact at position {p}: {why}" if p else why for p, why in sorted(self.damaged_facts.items())]
        out += [
            f"data key of {s[:8]}: it does not open (what it seals is unreadable)" for s in self.damaged_keys
        ]
        out += [f"views: {v}" for v in self.views]
        out += [f"state {scope} ({key}): it does not open" for scope, key in self.state]
        return out

    def to_json(self) -> dict[str, Any]:
        facts = [{"position": p, "problem": why} for p, why in sorted(self.damaged_facts.items())]
        return {"whole": self.whole, "facts": self.facts, "keys": self.keys, "damaged_facts": facts,
                "damaged_keys": self.damaged_keys, "views": self.views,
                "state": [{"scope": s, "key": k} for s, k in self.state]}  # fmt: skip


def verify(net: Network, progress: Callable[[int], None] | None = None) -> Report:
    log = net.store.log
    report = Report()
    report.damaged_facts = log.verify(progress)
    report.facts = net.position()
    wrapped = net.store.keyring.damaged()
    report.damaged_keys = wrapped
    report.keys = len(net.store.keyring.subjects())

    def index() -> set[tuple[bytes, int]]:
        return net.views.index_entries(_every_fact(net))

    report.views = net.views.check(index, frozenset(report.damaged_facts))
    report.state = net.state.damaged()
    return report


def _every_fact(net: Network) -> list[tuple[int, Any]]:
    facts, position = [], 0
    while batch := net.store.log.after(position, 5000):
        facts += batch
        position = batch[-1][0]
    return facts


def repair(net: Network, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Rebuild the views from the log and drop state values that do not open."""
    dropped = net.state.damaged()
    if dropped:
        net.state.drop(dropped)
    net.views.reset()
    folded = net.refresh(progress)
    return {"views_rebuilt_from": folded, "state_dropped": [{"scope": s, "key": k} for s, k in dropped],
            "damaged_facts": {str(p): why for p, why in sorted(net.store.log.damaged.items())}}  # fmt: skip
