"""Realistic synthetic networks: contacts with meetings, gifts, requests and
promises spread over years. Deterministic for a given seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID

from syncnet.domain import commands as c

TODAY = date(2026, 11, 25)
CHANNELS = ("conference", "workshop", "alumni", "professional-network", "club", "email")
REASONS = ("commonality", "role-model", "complement", None)
KINDS = ("advice", "active", "information", "recommendation")


def network(
    events: int, contacts: int, years: int = 5, seed: int = 7, today: date = TODAY
) -> list[c.Command]:
    """`events` commands in all: `contacts` first meetings, then later facts."""
    return list(iter_network(events, contacts, years, seed, today))


def iter_network(
    events: int, contacts: int, years: int = 5, seed: int = 7, today: date = TODAY
) -> Iterator[c.Command]:
    """The same commands as `network`, one at a time (for a million without the memory)."""
    rng = random.Random(seed)
    start = today - timedelta(days=365 * years)
    span = (today - start).days
    count = 0
    met: list[tuple[str, date]] = []
    for i in range(contacts):
        cid = UUID(int=rng.getrandbits(128))
        on = start + timedelta(days=rng.randrange(span))
        met.append((cid.hex, on))
        count += 1
        yield (c.Meet(f"Contact {i:05d} {rng.choice(['Ada', 'Bo', 'Cy', 'Di'])}",
                          rng.choice(CHANNELS), rng.choice(REASONS), f"Event {i % 97}",
                          minutes=rng.choice([None, 20, 45]), on=on,
                          note=f"met at event {i % 97}", contact_id=cid))  # fmt: skip
    open_promises: list[tuple[str, date]] = []
    while count < events:
        cid, met_on = met[rng.randrange(len(met))]
        on = met_on + timedelta(days=rng.randrange(max(1, (today - met_on).days + 1)))
        roll = rng.random()
        minutes = rng.choice([None, 10, 15, 30, 60])
        count += 1
        if roll < 0.45:
            yield (c.Touch(cid, rng.choice(["me", "me", "them"]), "email", minutes, on))
        elif roll < 0.62:
            yield (c.Give(cid, rng.choice(KINDS), minutes=minutes, on=on, note="helped"))
        elif roll < 0.74:
            yield (c.Receive(cid, rng.choice(KINDS), minutes=minutes, on=on))
        elif roll < 0.80:
            yield (c.Ask(cid, "a favour", minutes, on))
        elif roll < 0.86:
            yield (c.Asked(cid, "a favour", minutes, on))
        elif roll < 0.90:
            yield (c.Pitch(cid, minutes, on))
        elif roll < 0.96:
            pid = UUID(int=rng.getrandbits(128))
            due = on + timedelta(days=rng.randrange(1, 30))
            yield (c.Promise(cid, "send the paper", due, on, promise_id=pid))
            open_promises.append((pid.hex, on))
        elif open_promises:
            pid, made = open_promises.pop(rng.randrange(len(open_promises)))
            kept_on = min(today, made + timedelta(days=rng.randrange(0, 40)))
            yield (c.Kept(pid, kept_on) if rng.random() < 0.85 else c.Dropped(pid, kept_on))
        else:
            yield c.Touch(cid, "them", "email", minutes, on)


AUTUMN_START = date(2026, 9, 1)


def followups(n: int, seed: int = 11, today: date = TODAY) -> list[c.Command]:
    """`n` contacts met between 2026-09-01 and `today` and never followed up: exactly
    `n` follow-up reminders due within a 60-day horizon, and no season reminder (every
    contact was met in the current northern autumn). Contact ids are fixed by `seed`."""
    rng = random.Random(seed)
    span = (today - AUTUMN_START).days
    return [c.Meet(f"Contact {i:05d} {rng.choice(['Ada', 'Bo', 'Cy', 'Di'])}", rng.choice(CHANNELS),
                   rng.choice(REASONS), f"Event {i % 97}",
                   on=AUTUMN_START + timedelta(days=rng.randrange(span + 1)),
                   contact_id=UUID(int=rng.getrandbits(128)))
            for i in range(n)]  # fmt: skip
