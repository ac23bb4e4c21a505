"""What recording a command gives back, and the subject of the facts about myself."""

from __future__ import annotations

from uuid import UUID

ME = UUID(int=1)  # the data-key subject for facts about myself (self-presentations)
PRIVATE = UUID(int=2)  # the data-key subject of notes kept to this device (cmd.PrivateText)


class Recorded:
    """What one command appended: its kind and the ids of the fact, and of the contact,
    promise and goal it is about (32 hex digits, or None).

    The ids are kept as the fact's UUIDs and written out as hex when read: an import
    of 100,000 commands gets 100,000 of these and reads few of them."""

    __slots__ = ("_contact", "_fact", "_goal", "_promise", "kind")

    def __init__(
        self, kind: str, fact: UUID, contact: UUID | None, promise: UUID | None, goal: UUID | None
    ) -> None:
        self.kind = kind
        self._fact, self._contact, self._promise, self._goal = fact, contact, promise, goal

    @property
    def fact_id(self) -> str:
        return self._fact.hex

    @property
    def contact_id(self) -> str | None:
        return None if self._contact is None else self._contact.hex

    @property
    def promise_id(self) -> str | None:
        return None if self._promise is None else self._promise.hex

    @property
    def goal_id(self) -> str | None:
        return None if self._goal is None else self._goal.hex

    def _key(self) -> tuple[str, str, str | None, str | None, str | None]:
        return (self.kind, self.fact_id, self.contact_id, self.promise_id, self.goal_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recorded) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        kind, fact, contact, promise, goal = self._key()
        return f"Recorded({kind=}, {fact=}, {contact=}, {promise=}, {goal=})"
