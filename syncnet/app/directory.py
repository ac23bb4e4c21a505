"""The name directory: contacts and goals found by name, word prefix or short id.

Names are sealed in the views; the directory unseals them on demand, so resolving a
short id never unseals every name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from syncnet.domain.rows import ContactView, GoalView
from syncnet.errors import BadInput, NotFound

SHORT = 8


def short(hex_id: str) -> str:
    return hex_id[:SHORT]


@dataclass(frozen=True)
class ContactRef:
    id: str
    name: str | None  # None only for a contact that a fact erased (the coming `forget`)

    @property
    def short(self) -> str:
        return short(self.id)

    def label(self) -> str:
        return f"{self.name or '[forgotten]'} ({self.short})"


class Directory:
    """Contacts by id and by lower-cased name, names unsealed on demand."""

    def __init__(self, views: Sequence[ContactView], unseal: Callable[[str], str | None]) -> None:
        self.by_id = {c.id: c for c in views}
        self._unseal = unseal
        self._names: dict[str, str | None] = {}
        self._by_name: dict[str, list[str]] | None = None

    def name(self, contact_id: str) -> str | None:
        if contact_id not in self._names:
            c = self.by_id.get(contact_id)
            self._names[contact_id] = None if c is None else self._unseal(c.name)
        return self._names[contact_id]

    def ref(self, contact_id: str) -> ContactRef:
        return ContactRef(contact_id, self.name(contact_id))

    def by_name(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for cid in self.by_id:
                name = self.name(cid)
                if name is not None:
                    self._by_name.setdefault(name.casefold(), []).append(cid)
        return self._by_name

    def add(self, view: ContactView, name: str) -> None:
        self.by_id[view.id] = view
        self._names[view.id] = name
        self.by_name().setdefault(name.casefold(), []).append(view.id)

    def _partial(self, ref: str) -> list[str]:
        """Contacts whose name, or a word of it, starts with `ref` ("ada" -> "Ada Lovelace")."""
        words = ref.split()
        found = []
        for name, ids in self.by_name().items():
            parts = name.split()
            if name.startswith(ref) or (len(words) == 1 and any(part.startswith(ref) for part in parts)):
                found.extend(ids)
        return found

    def resolve(self, ref: str, what: str = "contact") -> str:
        ref = ref.strip()
        if not ref:
            raise BadInput(f"empty {what} name")
        if len(ref) == 32 and ref in self.by_id:  # a full id: the importers' path, O(1)
            return ref
        matches = list(self.by_name().get(ref.casefold(), []))
        if not matches:
            matches = self._partial(ref.casefold())
        if not matches:
            matches = id_matches(ref, self.by_id)
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(self.ref(m).label() for m in sorted(matches))
            raise NotFound(f"{what} {ref!r} is ambiguous: {listed}; use the short id")
        near = sorted(cid for cid in self.by_id if ref.casefold() in (self.name(cid) or "").casefold())[:5]
        hint = f" (did you mean: {', '.join(self.ref(c).label() for c in near)}?)" if near else ""
        raise NotFound(f"unknown {what} {ref!r}{hint}")


def id_matches(ref: str, ids: Iterable[str]) -> list[str]:
    token = ref.lower().replace("-", "")
    if len(token) < 4 or not re.fullmatch(r"[0-9a-f]+", token):
        return []
    return [i for i in ids if i.startswith(token)]


def resolve_goal(ref: str, goals: dict[str, GoalView], unseal: Callable[[str], str | None]) -> str:
    matches = [g for g in goals if (unseal(goals[g].name) or "").casefold() == ref.strip().casefold()]
    if not matches:
        matches = id_matches(ref, goals)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotFound(f"goal {ref!r} is ambiguous: {', '.join(short(m) for m in matches)}")
    raise NotFound(f"unknown goal {ref!r}")
