"""Goals that steer: reads scoped to one goal, and what a goal's network lacks
(docs/rules.md, "Goals").

A goal's scope is the facts of the contacts linked to it (`meet --goal`, `goal link`:
ContactView.goals), as of the day read and as known at `--known-at`. Its reads are a
replay (asof.Replayed) of those facts only, found through the history index, so that
`balance`, `split`, `due` and `warnings` run unchanged on them: O(the goal's facts),
never the whole log. A self-presentation without a contact belongs to no goal.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from syncnet.app.directory import ContactRef, resolve_goal
from syncnet.domain.vocabulary import REASONS

if TYPE_CHECKING:
    from syncnet.app.asof import Replayed
    from syncnet.app.network import Network
    from syncnet.domain.rows import GoalView


@dataclass(frozen=True)
class Goal:
    """A goal as a read names it: its row and its name (None when it cannot be unsealed)."""

    view: GoalView
    name: str | None


@dataclass(frozen=True)
class GoalCard:
    """What `syncnet goal show` says of a goal: its contacts by reason, and the reasons
    no contact gives (the guide: a good network for a goal holds all three)."""

    goal: Goal
    by_reason: dict[str, list[ContactRef]]  # every reason of REASONS, in that order
    no_reason: list[ContactRef]
    missing: list[str]  # the reasons without a contact, in the order of REASONS


def find_goal(net: Network, ref: str) -> Goal:
    """The goal named `ref` (its name, or a prefix of its id), as `contacts --goal` finds
    it: among the goals set by today (--today), as known at --known-at."""
    goals = {g.id: g for g in net.all_reads().load_all("goal")}
    view = goals[resolve_goal(ref, goals, net.unseal_text)]
    return Goal(view, net.unseal_text(view.name))


def members(net: Network, goal_id: str, day: date) -> set[str]:
    """The contacts linked to the goal as of `day` (forgotten ones too: their facts are
    erased from the replay as from every read)."""
    return {c.id for c in net.all_reads(day).load_all("contact") if goal_id in c.goals}


def goal_reads(net: Network, goal_id: str, day: date) -> Replayed:
    """The reads of `day` over the facts of the goal's contacts only (see the module)."""
    from syncnet.app.asof import Replayed
    from syncnet.domain.corrections import Corrections
    from syncnet.domain.events import CORRECTIONS, Fact

    wanted = members(net, goal_id, day)  # brings the views up to date first
    key = (goal_id, day, net.known_at, net.position())
    if net.scoped is not None and net.scoped[0] == key:
        return net.scoped[1]
    log = net.store.log
    now = Corrections.in_log(log.after)  # the merges the history index was written with
    # the corrections a read as known at --known-at sees
    known = now if net.known_at is None else Corrections.in_log(log.after, net.known_at)
    found: dict[int, Any] = {}
    for cid in sorted(wanted):
        # A contact merged into another (by a merge recorded after --known-at) is indexed
        # under the one it counts for now; each fact is then kept by its own contact, so a
        # fact of a contact outside the goal (help given to it introducing a member, a
        # contact merged in later) never enters.
        for position, fact in net.indexed_facts(now.contact(UUID(cid)), now):
            contact = getattr(fact, "contact_id", None)
            if isinstance(fact, CORRECTIONS) or not isinstance(fact, Fact) or contact is None:
                continue  # corrections are read from the whole log, below; pushes are no facts here
            if known.contact(contact).hex in wanted:
                found[position] = fact
    facts = sorted(found.items())
    positions = [p for p, _ in facts]

    def fetch(after: int, limit: int, types: Iterable[type[Fact]] | None = None) -> list[tuple[int, Any]]:
        if types is not None:  # the corrections: every one in the log, whoever it names
            return log.after(after, limit, types)
        start = bisect_right(positions, after)
        return facts[start : start + limit]

    replayed = Replayed(fetch, day, net.known_at)
    net.scoped = (key, replayed)
    return replayed


def goal_card(net: Network, ref: str) -> GoalCard:
    """The goal named `ref` with its contacts (met by today, never a forgotten one) by
    reason, and the reasons none of them gives."""
    goal = find_goal(net, ref)
    reads = net.all_reads()
    directory = net.directory(reads)
    linked = [c for c in directory.by_id.values() if goal.view.id in c.goals and not c.forgotten]
    refs = sorted((directory.ref(c.id) for c in linked), key=lambda r: ((r.name or "").casefold(), r.id))
    why = {c.id: c.why for c in linked}
    by_reason = {reason: [r for r in refs if why[r.id] == reason] for reason in REASONS}
    no_reason = [r for r in refs if why[r.id] not in REASONS]
    return GoalCard(goal, by_reason, no_reason, [reason for reason in REASONS if not by_reason[reason]])
