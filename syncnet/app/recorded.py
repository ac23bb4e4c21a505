"""What recording a command gives back, and the subject of the facts about myself."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

ME = UUID(int=1)  # the data-key subject for facts about myself (self-presentations)


@dataclass(frozen=True)
class Recorded:
    """What one command appended."""

    kind: str
    fact_id: str
    contact_id: str | None = None
    promise_id: str | None = None
    goal_id: str | None = None
