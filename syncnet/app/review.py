"""`syncnet review`: the monthly walk of "quality over quantity" (docs/rules.md, "Review").

Three lists, as of a day: new contacts with no reason and no pocket chosen, kept contacts
gone quiet, and open promises. `review_items` selects them from the rows of a read (pure:
no store, no clock); `review` reads them of a Network; `command_for` turns an answer into
the command the other commands record (`why`, `pocket`, `touch`, `kept`, `dropped`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from syncnet.app.directory import ContactRef, Directory
from syncnet.domain import commands as cmd
from syncnet.domain.config import Config
from syncnet.domain.rows import ContactView, PromiseView
from syncnet.domain.vocabulary import REASONS

if TYPE_CHECKING:
    from syncnet.app.network import Network

NO_REASON, QUIET, PROMISE = "no-reason", "quiet", "promise"
KINDS = (NO_REASON, QUIET, PROMISE)  # the order of the lists

# What each kind of item proposes, in the order shown; the key that answers each in the walk.
PROPOSALS: dict[str, tuple[str, ...]] = {
    NO_REASON: (*REASONS, "keep", "let-go"),
    QUIET: ("touch", "let-go"),
    PROMISE: ("kept", "dropped"),
}
KEYS: dict[str, dict[str, str]] = {
    NO_REASON: {"c": "commonality", "r": "role-model", "m": "complement", "k": "keep", "l": "let-go"},
    QUIET: {"t": "touch", "l": "let-go"},
    PROMISE: {"k": "kept", "d": "dropped"},
}
SKIP, QUIT = "s", "q"


@dataclass(frozen=True)
class ReviewItem:
    """One thing to look at again. `met_on`: the first meeting (no-reason);
    `last_interaction` and `days_quiet` (quiet); the promise's fields (promise)."""

    kind: str
    contact: ContactRef
    met_on: str | None = None
    last_interaction: str | None = None
    days_quiet: int | None = None
    promise_id: str | None = None
    what: str | None = None
    made_on: str | None = None
    due: str | None = None
    state: str | None = None  # overdue | today | upcoming, as in the agenda

    @property
    def proposals(self) -> tuple[str, ...]:
        return PROPOSALS[self.kind]


def is_new_without_reason(c: ContactView, today: date, met_days: int) -> bool:
    """Met within the last `met_days` days (today - met_days .. today), with no reason, and
    still where the meeting put it: no pocket chosen since (a `pocket` fact answers the
    item as a reason does). Forgotten and unsorted (imported) contacts are left out."""
    if c.forgotten or c.unsorted or c.why is not None or c.keep_at:
        return False
    return (today - timedelta(days=met_days)).isoformat() <= c.met_on <= today.isoformat()


def days_quiet(c: ContactView, today: date) -> int | None:
    """Days since the last interaction (the first meeting included) of a kept contact;
    None for a contact let go, unsorted, forgotten, or not met by `today`."""
    if c.forgotten or c.unsorted or not c.keep or c.met_on > today.isoformat():
        return None
    last = min(c.last_interaction or c.met_on, today.isoformat())  # a read of `today` has none later
    return (today - date.fromisoformat(last)).days


def promise_state(due: str, today: date) -> str:
    day = today.isoformat()
    return "overdue" if due < day else "today" if due == day else "upcoming"


def review_items(
    contacts: Sequence[ContactView],
    promises: Sequence[PromiseView],
    config: Config,
    today: date,
    ref: Callable[[str], ContactRef],
    unseal: Callable[[str | None], str | None],
) -> list[ReviewItem]:
    """The three lists as of `today`, in order: new contacts without a reason (by first
    meeting), quiet kept contacts (the quietest first), open promises made by today (by
    due date: overdue first). `ref` names a contact; `unseal` opens a promise's text."""
    day = today.isoformat()
    new = sorted((c for c in contacts if is_new_without_reason(c, today, config.review.met_days)),
                 key=lambda c: (c.met_on, c.id))  # fmt: skip
    items = [ReviewItem(NO_REASON, ref(c.id), met_on=c.met_on) for c in new]
    quiet = []
    for c in contacts:
        days = days_quiet(c, today)
        if days is not None and days >= config.review.quiet_days:
            quiet.append((-days, c.id, c))
    for minus_days, _, c in sorted(quiet):
        last = c.last_interaction or c.met_on
        items.append(ReviewItem(QUIET, ref(c.id), last_interaction=last, days_quiet=-minus_days))
    open_ = sorted((p for p in promises if p.status == "open" and p.made_on <= day),
                   key=lambda p: (p.due, p.made_on, p.id))  # fmt: skip
    for p in open_:
        items.append(ReviewItem(
            PROMISE, ref(p.contact_id), promise_id=p.id, what=unseal(p.what), made_on=p.made_on,
            due=p.due, state=promise_state(p.due, today)))  # fmt: skip
    return items


def review(net: Network, today: date | None = None) -> list[ReviewItem]:
    """The review of `net` as of `today` (default: its today)."""
    day = today or net.today()
    reads = net.reads(day)
    directory: Directory = net.directory(reads)
    promises = reads.load_all("promise", only_open=True)
    return review_items(list(directory.by_id.values()), promises, net.config, day, directory.ref,
                        net.unseal_text)  # fmt: skip


def command_for(item: ReviewItem, proposal: str) -> cmd.Command:
    """The command that answers `item` with `proposal` (one of its proposals), dated today:
    as `syncnet why`, `pocket`, `touch` (by me), `kept` or `dropped` would record it."""
    if proposal not in item.proposals:
        raise ValueError(f"{proposal!r} is no proposal of a {item.kind} item")
    cid = item.contact.id
    if proposal in REASONS:
        return cmd.Why(cid, proposal)
    if proposal in ("keep", "let-go"):
        return cmd.Pocket(cid, keep=proposal == "keep")
    if proposal == "touch":
        return cmd.Touch(cid, by="me")
    assert item.promise_id is not None
    return cmd.Kept(item.promise_id) if proposal == "kept" else cmd.Dropped(item.promise_id)
