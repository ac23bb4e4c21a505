"""The name directory: contacts and goals found by name, word prefix or short id.

Names are sealed in the views; the directory unseals them on demand, so resolving a
short id never unseals every name. `Directory` holds every contact row (the reads that
list the whole network); `Finder` loads only the rows a command names (recording,
history): a full id, a name or the prefix of a name or of a word of it, and a short
id are found through the view store's indexes; only a reference they cannot answer
(an unknown name, for its "did you mean") falls back to reading every row.

Names compare folded (viewstore.fold_name: no case, no accents), so "zoe" finds "Zoë".
A reference of fewer than TOO_SHORT letters never picks a contact by a prefix: it names
the one contact of which it is a whole word, or the error lists the candidates.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from syncnet.domain.rows import ContactView, EventView, GoalView
from syncnet.errors import BadInput, NotFound
from syncnet.storage.viewstore import NAME_PREFIX, fold_name

if TYPE_CHECKING:
    from syncnet.storage.viewstore import ViewStore

SHORT = 8
TOO_SHORT = 3  # a reference with fewer letters is a whole word of a name or nothing
LISTED = 5  # the candidates an error lists
CLOSE = 0.6  # difflib's ratio from which an unknown name's "did you mean" offers a name


def short(hex_id: str) -> str:
    return hex_id[:SHORT]


@dataclass(frozen=True)
class ContactRef:
    id: str
    name: str | None  # None for a contact that `forget` erased, or that is no contact (below)
    absent: bool = False  # no contact row: merged into another, or its first meeting retracted

    @property
    def short(self) -> str:
        return short(self.id)

    def label(self) -> str:
        gone = "[merged or retracted]" if self.absent else "[forgotten]"
        return f"{self.name or gone} ({self.short})"


class Refs(Protocol):
    """What a rendering of facts needs of a directory: a contact's name and short id."""

    def ref(self, contact_id: str) -> ContactRef: ...


class Names(Refs, Protocol):
    """What the errors of a resolution need: a contact's name too."""

    def name(self, contact_id: str) -> str | None: ...


class Directory:
    """Contacts by id and by folded name (fold_name), names unsealed on demand."""

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
        return ContactRef(contact_id, self.name(contact_id), absent=contact_id not in self.by_id)

    def by_name(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for cid, view in self.by_id.items():
                name = None if view.forgotten else self.name(cid)  # forgotten: found by id only
                if name is not None:
                    self._by_name.setdefault(fold_name(name), []).append(cid)
        return self._by_name

    def named(self, name: str) -> list[str]:
        """The contacts called exactly `name` (ignoring case and accents)."""
        return list(self.by_name().get(fold_name(name), []))

    def exists(self, contact_id: str) -> bool:
        return contact_id in self.by_id

    def add(self, view: ContactView, name: str) -> None:
        self.by_id[view.id] = view
        self._names[view.id] = name
        self.by_name().setdefault(fold_name(name), []).append(view.id)

    def _partial(self, folded: str) -> list[str]:
        """Contacts whose name, or a word of it, starts with `folded` ("ada" -> "Ada Lovelace")."""
        return [c for name, ids in self.by_name().items() if starts(name, folded) for c in ids]

    def closest(self, ref: str) -> list[str]:
        """Up to LISTED contacts for an unknown `ref`, nearest first: the names that hold it,
        then those difflib finds alike (to the whole name or, for one word, to a word of it)."""
        folded = fold_name(ref)
        matcher = difflib.SequenceMatcher(b=folded)  # b: what difflib caches between comparisons
        ranked = []
        for name, ids in self.by_name().items():
            score = 2.0 if folded in name else likeness(matcher, name, single=" " not in folded)
            if score >= CLOSE:
                ranked += [(-score, name, c) for c in ids]
        return [c for *_, c in sorted(ranked)[:LISTED]]

    def resolve(self, ref: str, what: str = "contact") -> str:
        ref = ref.strip()
        if not ref:
            raise BadInput(f"empty {what} name")
        if len(ref) == 32 and ref in self.by_id:  # a full id: the importers' path, O(1)
            return ref
        matches = self.named(ref)
        if not matches:
            matches = self._partial(fold_name(ref))
            if matches and len(ref) < TOO_SHORT:
                return by_word(ref, matches, self, what)
        if not matches:
            matches = id_matches(ref, self.by_id)
        if matches:
            return only(ref, matches, self, what)
        near = self.closest(ref)
        hint = f" (did you mean: {', '.join(self.ref(c).label() for c in near)}?)" if near else ""
        raise NotFound(f"unknown {what} {ref!r}{hint}")


class Finder:
    """The directory of a command that names a few contacts: rows loaded one by one.

    Resolution follows Directory.resolve, in its order: a full id, the exact name, a
    prefix of the name or of a word of it (the contacts the name index offers, each
    checked against its unsealed name; a short one only as a whole word), a short id of
    at least SHORT hex digits.
    Anything else (a reference longer than the index's prefixes, a shorter short id,
    an unknown name, which gets "did you mean") is left to a full Directory."""

    def __init__(self, views: ViewStore, unseal: Callable[[str], str | None]) -> None:
        self._views = views
        self._unseal = unseal
        self._rows: dict[str, ContactView | None] = {}
        self._names: dict[str, str | None] = {}
        self._exists: dict[str, bool] = {}
        self._candidates: dict[str, list[str]] = {}
        self._added: dict[str, list[str]] = {}  # contacts met by this command batch, by name
        self._full: Directory | None = None

    def view(self, contact_id: str) -> ContactView | None:
        if contact_id not in self._rows:
            self._rows[contact_id] = self._views.row("contact", contact_id)
        return self._rows[contact_id]

    def exists(self, contact_id: str) -> bool:
        """Whether there is such a contact, without decrypting its row."""
        if contact_id not in self._exists:
            self._exists[contact_id] = contact_id in self._views.keys_with_prefix("contact", contact_id)
        return self._exists[contact_id]

    def name(self, contact_id: str) -> str | None:
        if contact_id not in self._names:
            view = self.view(contact_id)
            self._names[contact_id] = None if view is None else self._unseal(view.name)
        return self._names[contact_id]

    def ref(self, contact_id: str) -> ContactRef:
        name = self.name(contact_id)
        return ContactRef(contact_id, name, absent=name is None and self.view(contact_id) is None)

    def named(self, name: str) -> list[str]:
        folded = fold_name(name)
        if len(folded) > NAME_PREFIX:  # more than the name index holds
            return sorted(self._everyone().named(name))
        found = [c for c in self._offered(name) if fold_name(self.name(c) or "") == folded]
        return sorted({*found, *self._added.get(folded, [])})

    def _offered(self, ref: str) -> list[str]:
        """What the name index offers for `ref`, asked once per reference (the exact
        and the partial match read the same entries)."""
        if ref not in self._candidates:
            self._candidates[ref] = self._views.candidates(ref) or []
        return self._candidates[ref]

    def add(self, view: ContactView, name: str) -> None:
        self._rows[view.id] = view
        self._names[view.id] = name
        self._exists[view.id] = True
        self._added.setdefault(fold_name(name), []).append(view.id)
        if self._full is not None:
            self._full.add(view, name)

    def _partial(self, ref: str) -> list[str]:
        """Directory._partial over the contacts the name index offers for `ref`."""
        folded = fold_name(ref)
        found = [c for c in self._offered(ref) if starts(fold_name(self.name(c) or ""), folded)]
        added = [c for n, ids in self._added.items() if starts(n, folded) for c in ids]
        return sorted({*found, *added})

    def _everyone(self) -> Directory:
        if self._full is None:
            self._full = Directory(self._views.load_all("contact"), self._unseal)
            for name, ids in self._added.items():  # met by this batch: not stored yet
                for c in ids:
                    view = self._rows[c]
                    if view is not None:
                        self._full.add(view, self._names[c] or name)
        return self._full

    def resolve(self, ref: str, what: str = "contact") -> str:
        ref = ref.strip()
        if not ref:
            raise BadInput(f"empty {what} name")
        if len(ref) == 32 and self.exists(ref):
            return ref
        matches = self.named(ref)
        if not matches:
            matches = self._partial(ref)
            if matches and len(ref) < TOO_SHORT:
                return by_word(ref, matches, self, what)
        token = id_token(ref)
        if not matches and token is not None and len(token) >= SHORT:
            matches = self._views.keys_with_prefix("contact", token)
            matches += [c for ids in self._added.values() for c in ids if c.startswith(token)]
        if matches:
            return only(ref, matches, self, what)
        return self._everyone().resolve(ref, what)


def starts(name: str, folded: str) -> bool:
    """Whether a folded name, or a word of it if `folded` is one word, starts with `folded`."""
    return name.startswith(folded) or (" " not in folded and any(w.startswith(folded) for w in name.split()))


def only(ref: str, matches: Sequence[str], names: Names, what: str) -> str:
    """The one contact of `matches`; several are listed, never guessed between."""
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(names.ref(m).label() for m in sorted(matches))
    raise NotFound(f"{what} {ref!r} is ambiguous: {listed}; use the short id")


def by_word(ref: str, matches: Sequence[str], names: Names, what: str) -> str:
    """The contact a reference shorter than TOO_SHORT names: the one of `matches` (those
    it starts) that has it as a whole word ("Al" -> "Al Gore", not "Alan Kay")."""
    folded = fold_name(ref)
    whole = [c for c in matches if folded in fold_name(names.name(c) or "").split()]
    if len(whole) == 1:
        return whole[0]
    ranked = sorted(matches, key=lambda c: (fold_name(names.name(c) or ""), c))
    listed = ", ".join(names.ref(c).label() for c in ranked[:LISTED])
    more = f" and {len(ranked) - LISTED} more" if len(ranked) > LISTED else ""
    hint = "use more letters or the short id"
    raise NotFound(f"{ref!r} is too short to choose a {what}: {listed}{more}; {hint}")


def likeness(matcher: difflib.SequenceMatcher[str], name: str, single: bool) -> float:
    """difflib's ratio of the matcher's reference to `name`, or to its nearest word when
    the reference is one word ("lovleace" ~ "lovelace"); 0 below CLOSE."""
    best = 0.0
    for text in (name, *name.split()) if single else (name,):
        matcher.set_seq1(text)
        # the cheap upper bounds first, as difflib.get_close_matches does
        if matcher.real_quick_ratio() >= CLOSE and matcher.quick_ratio() >= CLOSE:
            best = max(best, matcher.ratio())
    return best if best >= CLOSE else 0.0


def id_token(ref: str) -> str | None:
    """`ref` as the start of an id (lower case, no dashes), if it can be one: at least
    four hex digits."""
    token = ref.lower().replace("-", "")
    return token if len(token) >= 4 and re.fullmatch(r"[0-9a-f]+", token) else None


def id_matches(ref: str, ids: Iterable[str]) -> list[str]:
    token = id_token(ref)
    return [] if token is None else [i for i in ids if i.startswith(token)]


def resolve_goal(ref: str, goals: dict[str, GoalView], unseal: Callable[[str], str | None]) -> str:
    matches = [g for g in goals if fold_name(unseal(goals[g].name) or "") == fold_name(ref)]
    return _the_one(ref, matches or id_matches(ref, goals), "goal")


def _the_one(ref: str, matches: list[str], what: str, hint: str = "") -> str:
    """The one id `ref` names among `matches` (by name, else by id prefix), or NotFound."""
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotFound(f"{what} {ref!r} is ambiguous: {', '.join(short(m) for m in matches)}")
    raise NotFound(f"unknown {what} {ref!r}{hint}")


def resolve_event(
    ref: str, events: dict[str, EventView], unseal: Callable[[str], str | None], today: str
) -> str:
    """An event by its name (any case) or id prefix. Events recur under one name (PyCon DE
    every year): of several with the name, the next one to come, else the latest held."""
    matches = [e for e in events if fold_name(unseal(events[e].name) or "") == fold_name(ref)]
    if len(matches) > 1:
        coming = sorted((events[e].held_on, e) for e in matches if events[e].held_on >= today)
        held = sorted((events[e].held_on, e) for e in matches if events[e].held_on < today)
        return coming[0][1] if coming else held[-1][1]
    return _the_one(ref, matches or id_matches(ref, events), "event", ": see 'syncnet event list'")
