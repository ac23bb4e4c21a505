"""Corrections: what retractions and amendments make of the facts they name. Pure.

A fact is never changed. A `Retracted` fact says another fact was a mistake; an
`Amended` fact corrects some of its fields. Both are facts themselves, so a retraction
can be retracted in turn, which restores what it had retracted (docs/rules.md,
"Corrections"). Every read folds the *effective* form of each fact: None for a fact
retracted by a retraction in force, else the fact with the amendments in force applied,
in the order they were recorded.

Reads "as known at T" build their Corrections from the corrections recorded up to T only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from syncnet.domain import events as ev


class Corrections:
    """The retractions and amendments of a log, by the fact they name."""

    def __init__(self, facts: Iterable[ev.Fact] = ()) -> None:
        self.retractions: dict[str, list[ev.Retracted]] = {}
        self.amendments: dict[str, list[ev.Amended]] = {}
        self.merges: list[ev.ContactsMerged] = []
        self._into: dict[UUID, UUID] | None = None  # merged contact -> the one it counts for
        self._folded_into: dict[UUID, UUID] = {}  # the same, of merges known by their effect only
        self._details_of: dict[str, str] | None = None  # id of a merge's details -> the merge's id
        self.ids: set[str] = set()  # of every correction held
        self._standing: dict[str, bool] | None = None  # retraction id -> it stands
        for fact in facts:
            self.add(fact)

    @classmethod
    def in_log(
        cls, fetch: Callable[..., Sequence[tuple[int, Any]]], known_at: datetime | None = None
    ) -> Corrections:
        """Every correction of a log (`fetch`: FactLog.after, which selects them by type),
        or only those recorded up to `known_at`."""
        facts = (f for _, f in fetch(0, 10**9, ev.CORRECTIONS))
        return cls(f for f in facts if known_at is None or f.timestamp <= known_at)

    @classmethod
    def of_merges(cls, into: dict[UUID, UUID]) -> Corrections:
        """The merges folded already, by their effect (`into()`, as the views keep it): what
        an incremental fold needs, since no older correction can name a new fact."""
        made = cls()
        made._folded_into = dict(into)
        return made

    def add(self, fact: ev.Fact) -> None:
        if isinstance(fact, ev.Retracted):
            self.retractions.setdefault(fact.fact_id.hex, []).append(fact)
        elif isinstance(fact, ev.Amended):
            self.amendments.setdefault(fact.fact_id.hex, []).append(fact)
        elif isinstance(fact, ev.ContactsMerged):
            self.merges.append(fact)
        else:
            return
        self.ids.add(fact.originator_id.hex)
        self._standing = None  # a new correction can change what any earlier one does
        self._into = self._details_of = None

    def __bool__(self) -> bool:
        return bool(self.retractions or self.amendments or self._merging())

    def _merging(self) -> bool:
        return bool(self.merges or self._folded_into)

    def into(self) -> dict[UUID, UUID]:
        """Each merged contact -> the contact it counts for, following chains (B into A,
        then A into K: B counts for K); merges retracted are left out."""
        if self._into is None:
            direct = {m.merged_id: m.contact_id for m in sorted(self.merges, key=lambda m: m.timestamp)
                      if self.in_force(m.originator_id.hex) and m.merged_id != m.contact_id}  # fmt: skip
            into: dict[UUID, UUID] = {}
            for merged in direct:
                seen, target = {merged}, direct[merged]
                while target in direct and target not in seen:  # a cycle stops where it closes
                    seen.add(target)
                    target = direct[target]
                if target != merged:  # merged back into itself round a cycle: no merge
                    into[merged] = target
            self._into = {**self._folded_into, **into}
        return self._into

    def contact(self, contact_id: UUID) -> UUID:
        """The contact whose facts `contact_id`'s count as (itself, unless merged)."""
        return self.into().get(contact_id, contact_id) if self._merging() else contact_id

    def __contains__(self, correction_id: str) -> bool:
        return correction_id in self.ids

    def _settle(self) -> dict[str, bool]:
        """Which retractions stand. A retraction names a fact recorded before it, so going
        from the latest retraction to the earliest, whatever retracts one is settled
        already: no recursion, however long a chain of undos."""
        if self._standing is None:
            every = sorted((r for rs in self.retractions.values() for r in rs), key=lambda r: r.timestamp)
            standing: dict[str, bool] = {}
            for r in reversed(every):
                rid = r.originator_id.hex
                against = self.retractions.get(rid, ())
                standing[rid] = not any(standing.get(x.originator_id.hex, True) for x in against)
            self._standing = standing
        return self._standing

    def in_force(self, fact_id: str) -> bool:
        """Whether the fact stands: no retraction of it stands (and, for the details a merge
        gave its contact, the merge stands)."""
        standing = self._settle()
        if any(standing[r.originator_id.hex] for r in self.retractions.get(fact_id, ())):
            return False
        merge = self._merge_of_details().get(fact_id) if self.merges else None
        return merge is None or self.in_force(merge)

    def _merge_of_details(self) -> dict[str, str]:
        if self._details_of is None:
            self._details_of = {merged_details_id(m.originator_id).hex: m.originator_id.hex
                                for m in self.merges}  # fmt: skip
        return self._details_of

    def retraction(self, fact_id: str) -> ev.Retracted | None:
        """The standing retraction of a fact (the latest recorded), or None."""
        standing = [r for r in self.retractions.get(fact_id, ()) if self.in_force(r.originator_id.hex)]
        return max(standing, key=lambda r: r.timestamp) if standing else None

    def standing_amendments(self, fact_id: str) -> list[ev.Amended]:
        found = [a for a in self.amendments.get(fact_id, ()) if self.in_force(a.originator_id.hex)]
        return sorted(found, key=lambda a: a.timestamp)

    def effective(self, fact: Any) -> Any:
        """The fact as every read counts it: None when retracted, amended when amended."""
        if not self:
            return fact
        fact_id = fact.originator_id.hex
        if not self.in_force(fact_id):
            return None
        if fact_id in self.amendments:
            for a in self.standing_amendments(fact_id):
                fact = dataclasses.replace(fact, **changes(a, fact))
        if self._merging():
            fact = self._merged(fact)
        return fact

    def _merged(self, fact: Any) -> Any:
        """A fact of a merged contact as one of the contact it counts for: its first
        meeting becomes an interaction (a touch by me, on that day, over that channel);
        every contact id it names is mapped (contact, introduced, via). How it came in by
        an import (its imported first meeting, the ContactImported fact) is no fact of the
        contact it counts for: None, as the pocket and the reminders of that one stand.
        Its details are None too: what the kept contact lacked of them came with the merge
        (app/imports.merge_commands), and theirs would replace the kept contact's own."""
        into = self.into()
        if not into:
            return fact
        if isinstance(fact, ev.ContactImported | ev.DetailsSet) and fact.contact_id in into:
            return None
        if isinstance(fact, ev.ContactMet) and fact.contact_id in into:
            if fact.imported:
                return None
            return ev.Touched(originator_id=fact.originator_id, originator_version=fact.originator_version,
                              timestamp=fact.timestamp, on=fact.on, note=fact.note,
                              contact_id=into[fact.contact_id], by="me", channel=fact.channel,
                              minutes=fact.minutes)  # fmt: skip
        mapped = {name: into[value] for name in ("contact_id", "introduced", "via")
                  if isinstance(value := getattr(fact, name, None), UUID) and value in into}  # fmt: skip
        return dataclasses.replace(fact, **mapped) if mapped else fact


def merged_details_id(merge_id: UUID) -> UUID:
    """The id of the details fact recorded with a merge (what the kept contact lacked of
    the other): it stands while its merge does."""
    return uuid5(merge_id, "syncnet-merged-details")


def corrected_fields(amendment: ev.Amended) -> dict[str, Any]:
    """The fields an amendment sets, by the name they have on the fact."""
    wanted = {
        "on": amendment.new_on,
        "minutes": amendment.new_minutes,
        "kind": amendment.new_kind,
        "channel": amendment.new_channel,
        "note": amendment.note,
    }
    return {k: v for k, v in wanted.items() if v is not None}


def changes(amendment: ev.Amended, fact: Any) -> dict[str, Any]:
    """The fields an amendment sets on a fact (only those the fact has)."""
    have = {f.name for f in dataclasses.fields(fact)}
    return {k: v for k, v in corrected_fields(amendment).items() if k in have}


# What each kind of fact lets an amendment change, besides `on` and `note`.
AMENDABLE: dict[type[ev.Fact], tuple[str, ...]] = {
    ev.ContactMet: ("minutes", "channel"),
    ev.Touched: ("minutes", "channel"),
    ev.HelpGiven: ("minutes", "kind"),
    ev.HelpReceived: ("minutes", "kind"),
    ev.RequestMade: ("minutes",),
    ev.RequestReceived: ("minutes",),
    ev.Presented: ("minutes",),
    ev.PromiseMade: (),
    ev.PromiseKept: (),
    ev.PromiseDropped: (),
    ev.Pocketed: (),
    ev.CadenceSet: (),
    ev.GoalSet: (),
    ev.GoalAchieved: (),
    ev.GoalLinked: (),
    ev.DetailsSet: (),
    ev.Renamed: (),
    ev.ReasonSet: (),
    ev.ContactImported: (),
}
