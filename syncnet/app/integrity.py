"""`syncnet verify` and `syncnet repair`: the store checked against its seals.

verify   every fact against the seal of the log (storage/chain.py), every wrapped key
         (and that every key a text is sealed with is there),
         every view row, the views' position and history index, every stored state
         value; changes nothing
repair   rebuilds what is derived from the log (the views and the history index) and
         drops state values that no longer open (a sync rebuilds them); facts are never
         changed: a damaged fact stays left out, and restoring a backup is the way back
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syncnet.domain.sealed import Sealed

if TYPE_CHECKING:
    from syncnet.app.network import Network


@dataclass
class Report:
    facts: int = 0
    damaged_facts: dict[int, str] = field(default_factory=dict)  # position -> what is wrong
    keys: int = 0
    damaged_keys: list[str] = field(default_factory=list)  # subjects (contact or goal ids)
    missing_keys: list[str] = field(default_factory=list)  # subjects sealed to, with no key row
    views: list[str] = field(default_factory=list)  # problems
    state: list[tuple[str, str]] = field(default_factory=list)  # (scope, key) that do not open

    @property
    def whole(self) -> bool:
        return not (self.damaged_facts or self.damaged_keys or self.missing_keys or self.views or self.state)

    def problems(self) -> list[str]:
        out = [f"fact at position {p}: {why}" if p else why for p, why in sorted(self.damaged_facts.items())]
        out += [
            f"data key of {s[:8]}: it does not open (what it seals is unreadable)" for s in self.damaged_keys
        ]
        out += [f"data key of {s[:8]}: it is missing, and no fact erased it (what it seals is unreadable)"
                for s in self.missing_keys]  # fmt: skip
        out += [f"views: {v}" for v in self.views]
        out += [f"state {scope} ({key}): it does not open" for scope, key in self.state]
        return out

    def to_json(self) -> dict[str, Any]:
        facts = [{"position": p, "problem": why} for p, why in sorted(self.damaged_facts.items())]
        return {"whole": self.whole, "facts": self.facts, "keys": self.keys, "damaged_facts": facts,
                "damaged_keys": self.damaged_keys, "missing_keys": self.missing_keys, "views": self.views,
                "state": [{"scope": s, "key": k} for s, k in self.state]}  # fmt: skip


def verify(net: Network, progress: Callable[[int], None] | None = None) -> Report:
    net.changes_nothing = True
    log = net.store.log
    report = Report()
    report.damaged_facts = log.verify(progress)
    report.facts = net.position()
    wrapped = net.store.keyring.damaged()
    report.damaged_keys = wrapped
    subjects = net.store.keyring.subjects()
    report.keys = len(subjects)
    facts = _every_fact(net)
    # every text is sealed with a subject's data key: a key row deleted shows here (an
    # erasure leaves a tombstone row, so the forgotten are not missing)
    report.missing_keys = sorted(_sealed_to(f for _, f in facts) - set(subjects))

    def index() -> set[tuple[bytes, int]]:
        return net.views.index_entries(facts)

    report.views = net.views.check(index, frozenset(report.damaged_facts))
    report.state = net.state.damaged()
    return report


def _sealed_to(facts: Iterable[Any]) -> set[str]:
    """The subjects whose data keys the texts of these facts are sealed with."""
    found = set()
    for fact in facts:
        for value in vars(fact).values():
            for item in value if isinstance(value, tuple | list) else (value,):
                if isinstance(item, Sealed):
                    found.add(item.key_id.hex)
    return found


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
