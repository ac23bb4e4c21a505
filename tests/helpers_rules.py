"""Shared helpers for the rule tests: build facts by hand and run the pure projections.

No I/O: facts are domain event objects, folded with `views.replay`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from syncnet.domain import events as ev
from syncnet.domain import projections as pj
from syncnet.domain.config import Config
from syncnet.domain.fold import Views, replay
from syncnet.domain.sealed import Sealed

SEALED = ev.Sealed(UUID(int=7), b"x")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


class Facts:
    """A list of facts, recorded one second apart unless a timestamp is given."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._n = 0

    def _meta(self, on: date, recorded: datetime | None = None) -> dict[str, Any]:
        self._n += 1
        return {
            "originator_id": uuid4(),
            "originator_version": 1,
            "timestamp": recorded or T0 + timedelta(seconds=self._n),
            "on": on,
            "note": None,
        }

    def _add(self, event: Any) -> Any:
        self.events.append(event)
        return event

    # facts ------------------------------------------------------------------
    def met(self, on: date, why: str | None = "commonality", minutes: int | None = None) -> UUID:
        cid = uuid4()
        self._add(
            ev.ContactMet(
                **self._meta(on), contact_id=cid, name=SEALED, channel="other", where=None,
                why=why, goals=(), minutes=minutes, via=None, details=None, imported=None,
            )
        )  # fmt: skip
        return cid

    def touch(self, cid: UUID, on: date, by: str = "me", minutes: int | None = None) -> None:
        self._add(ev.Touched(**self._meta(on), contact_id=cid, by=by, channel=None, minutes=minutes))

    def give(
        self, cid: UUID, on: date, minutes: int | None = None, kind: str = "advice",
        introduced: UUID | None = None,
    ) -> None:  # fmt: skip
        self._add(
            ev.HelpGiven(**self._meta(on), contact_id=cid, kind=kind, minutes=minutes, introduced=introduced)
        )

    def receive(self, cid: UUID, on: date, minutes: int | None = None, kind: str = "advice") -> None:
        self._add(
            ev.HelpReceived(**self._meta(on), contact_id=cid, kind=kind, minutes=minutes, introduced=None)
        )

    def ask(self, cid: UUID, on: date, minutes: int | None = None) -> None:
        self._add(ev.RequestMade(**self._meta(on), contact_id=cid, what=None, minutes=minutes))

    def asked(self, cid: UUID, on: date, minutes: int | None = None) -> None:
        self._add(ev.RequestReceived(**self._meta(on), contact_id=cid, what=None, minutes=minutes))

    def pitch(self, on: date, minutes: int | None = None, cid: UUID | None = None) -> None:
        self._add(ev.Presented(**self._meta(on), contact_id=cid, minutes=minutes))

    def promise(self, cid: UUID, on: date, due: date) -> UUID:
        fact = self._add(ev.PromiseMade(**self._meta(on), contact_id=cid, what=SEALED, due=due))
        pid: UUID = fact.originator_id
        return pid

    def kept(self, pid: UUID, cid: UUID, on: date) -> None:
        self._add(ev.PromiseKept(**self._meta(on), promise_id=pid, contact_id=cid))

    def dropped(self, pid: UUID, cid: UUID, on: date) -> None:
        self._add(ev.PromiseDropped(**self._meta(on), promise_id=pid, contact_id=cid))

    def pocket(self, cid: UUID, on: date, keep: bool, recorded: datetime | None = None) -> None:
        self._add(ev.Pocketed(**self._meta(on, recorded), contact_id=cid, keep=keep))

    def cadence(self, cid: UUID, on: date, days: int | None) -> None:
        self._add(ev.CadenceSet(**self._meta(on), contact_id=cid, days=days))

    def goal(self, on: date) -> UUID:
        fact = self._add(ev.GoalSet(**self._meta(on), name=SEALED, kind="career"))
        gid: UUID = fact.originator_id
        return gid

    def achieved(self, gid: UUID, on: date) -> None:
        self._add(ev.GoalAchieved(**self._meta(on), goal_id=gid))

    def link(self, cid: UUID, gid: UUID, on: date) -> None:
        self._add(ev.GoalLinked(**self._meta(on), contact_id=cid, goal_id=gid))

    def event(self, on: date, held_on: date) -> UUID:
        fact = self._add(ev.EventPlanned(**self._meta(on), name=SEALED, held_on=held_on, where=None, goals=(),
                                         offer=None, orgs=None))  # fmt: skip
        eid: UUID = fact.originator_id
        return eid

    def event_link(self, eid: UUID, cid: UUID, on: date, met: bool = False) -> None:
        self._add(ev.EventLinked(**self._meta(on), event_id=eid, contact_id=cid, met=met))

    def plan(self, cid: UUID, on: date, planned_for: date, recorded: datetime | None = None) -> None:
        self._add(ev.MeetingPlanned(**self._meta(on, recorded), contact_id=cid, planned_for=planned_for))

    def details(self, cid: UUID, on: date, recorded: datetime | None = None) -> None:
        self._add(ev.DetailsSet(**self._meta(on, recorded), contact_id=cid, details=SEALED))

    def renamed(self, cid: UUID, on: date, recorded: datetime | None = None) -> None:
        self._add(ev.Renamed(**self._meta(on, recorded), contact_id=cid, name=SEALED))

    def reason(self, cid: UUID, on: date, why: str, recorded: datetime | None = None) -> None:
        self._add(ev.ReasonSet(**self._meta(on, recorded), contact_id=cid, why=why))

    def forgotten(self, cid: UUID, on: date) -> None:
        self._add(ev.ContactForgotten(**self._meta(on), contact_id=cid))

    def imported(self, cid: UUID, on: date, source: str = "linkedin") -> None:
        self._add(ev.ContactImported(**self._meta(on), contact_id=cid, source=source))

    def merged(self, cid: UUID, other: UUID, on: date) -> None:
        self._add(ev.ContactsMerged(**self._meta(on), contact_id=cid, merged_id=other))

    def birthday(self, cid: UUID, on: date) -> None:
        sealed = Sealed(cid, b"\x00" * 28)  # what the rules see of it: nothing readable
        self._add(ev.BirthdaySet(**self._meta(on), contact_id=cid, birthday=sealed))

    def retract(self, fact: Any, on: date, cid: UUID | None = None) -> Any:
        """Retract a fact (an event of self.events, or a retraction)."""
        retraction = ev.Retracted(**self._meta(on), fact_id=fact.originator_id, contact_id=cid, reason=None)
        return self._add(retraction)

    def amend(self, fact: Any, on: date, cid: UUID | None = None, **changes: Any) -> Any:
        fields = {"new_on": None, "new_minutes": None, "new_kind": None, "new_channel": None, **changes}
        return self._add(ev.Amended(**self._meta(on), fact_id=fact.originator_id, contact_id=cid, **fields))

    def pushed(self, cid: UUID, on: date) -> None:
        """A record of a calendar write: history only, never a networking fact."""
        self._add(
            ev.ReminderPushed(**self._meta(on), target="phone", uid="u@syncnet", action="created",
                              result="ok", contact_id=cid, summary=None)
        )  # fmt: skip
        self._add(  # and the one record per sync that replaced it
            ev.TargetSynced(**self._meta(on), target="phone",
                            changes=(ev.Push("u@syncnet", "updated", "ok", cid, None),))
        )  # fmt: skip

    # projections ------------------------------------------------------------
    def views(self) -> Views:
        """The views folded from the facts: no setting is folded in (minutes neither)."""
        return replay(self.events)

    def agenda(
        self, today: date, config: Config | None = None, until: date | None = None
    ) -> list[pj.Reminder]:
        config = config or Config()
        v = self.views()
        return pj.agenda(v.all("contact"), v.all("promise"), today, config, until)

    def balances(self, as_of: date, config: Config | None = None) -> dict[str, pj.Balance]:
        v = self.views()
        return pj.balances(v.all("ledger"), v.all("promise"), as_of, (config or Config()).minutes)

    def balance(self, cid: UUID, as_of: date, config: Config | None = None) -> pj.Balance:
        return self.balances(as_of, config).get(cid.hex) or pj.Balance(cid.hex)

    def split(self, today: date, config: Config | None = None) -> pj.TimeSplit:
        config = config or Config()
        v = self.views()
        return pj.time_split(v.get("global", "days") or {}, today, config)

    def warnings(self, today: date, config: Config | None = None) -> list[pj.Warning]:
        config = config or Config()
        v = self.views()
        return pj.warnings(v.all("contact"), v.all("ledger"), v.get("global", "days") or {}, today, config)


def due(reminders: list[pj.Reminder], rule: str, cid: UUID | None = None) -> list[pj.Reminder]:
    """The reminders of one rule (and one contact)."""
    return [r for r in reminders if r.rule == rule and (cid is None or r.contact_id == cid.hex)]


def kinds(found: list[pj.Warning], kind: str) -> list[pj.Warning]:
    return [w for w in found if w.kind == kind]
