"""Property tests: reciprocity sums, incremental views versus a full replay, and
results that do not depend on how commands were batched. The commands include events,
links to them (met there, expected there), planned next meetings, and retractions of
those.

Stores live in temporary directories made inside each example (hypothesis runs
many examples per test function, so pytest's tmp_path would be shared), each a copy of
one empty store made once per module: creating the keys and the schema is the same work
for every example, and not what these properties are about.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from helpers_rules import Facts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_fixtures import empty_database, new_database

from syncnet.app import network as service
from syncnet.app import prep
from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.domain.config import parse_config
from syncnet.domain.events import HELP_KINDS, REASONS
from syncnet.domain.fold import KINDS, replay
from syncnet.domain.projections import Balance
from syncnet.storage.store import init_store

TODAY = date(2026, 11, 25)
FIRST = date(2025, 9, 1)
DATES = st.one_of(st.dates(FIRST, TODAY), st.dates(TODAY - timedelta(days=60), TODAY))
MINUTES = st.none() | st.integers(0, 120)
CONTACT = st.integers(0, 3)  # taken modulo the number of contacts

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


# --------------------------------------------------------------------------- (a) reciprocity


@st.composite
def ledger_scripts(draw: st.DrawFn) -> tuple[int, list[tuple[Any, ...]], date, int]:
    n = draw(st.integers(1, 4))
    kinds = st.sampled_from(["give", "receive", "ask", "asked", "touch", "intro"])
    ops = draw(st.lists(st.tuples(kinds, CONTACT, CONTACT, DATES, MINUTES), max_size=40))
    return n, ops, draw(DATES), draw(st.integers(0, 60))


@SETTINGS
@given(ledger_scripts())
def test_balance_is_gifts_given_minus_gifts_received(script: tuple[Any, ...]) -> None:
    n, ops, as_of, help_minutes = script
    config = parse_config({"minutes": {"help": help_minutes}})
    f = Facts()
    contacts = [f.met(FIRST) for _ in range(n)]
    expected = {c.hex: Balance(c.hex) for c in contacts}
    for kind, i, j, on, minutes in ops:
        c = contacts[i % n]
        counted = on <= as_of
        e = expected[c.hex]
        spent = help_minutes if minutes is None else minutes
        if kind in ("give", "intro"):
            other = contacts[(i % n + 1 + j % max(n - 1, 1)) % n] if kind == "intro" and n > 1 else None
            f.give(c, on, minutes, kind="introduction" if other else "advice", introduced=other)
            if counted:
                e.given += 1
                e.given_minutes += spent
        elif kind == "receive":
            f.receive(c, on, minutes)
            if counted:
                e.received += 1
                e.received_minutes += spent
        elif kind == "ask":
            f.ask(c, on, minutes)
            e.requests_made += counted
        elif kind == "asked":
            f.asked(c, on, minutes)
            e.requests_received += counted
        else:
            f.touch(c, on, "me", minutes)
    found = f.balances(as_of, config)
    assert set(found) == set(expected)
    for cid, e in expected.items():
        b = found[cid]
        assert b == e
        assert b.balance == e.given - e.received
        assert b.balance_minutes == e.given_minutes - e.received_minutes


# --------------------------------------------------------------------------- command scripts

OPS = st.one_of(
    st.tuples(st.just("touch"), CONTACT, DATES, st.sampled_from(["me", "them"]), MINUTES),
    st.tuples(
        st.sampled_from(["give", "receive"]), CONTACT, DATES, st.sampled_from(HELP_KINDS), CONTACT, MINUTES
    ),
    st.tuples(st.sampled_from(["ask", "asked"]), CONTACT, DATES, MINUTES),
    st.tuples(st.just("pitch"), st.none() | CONTACT, DATES, MINUTES),
    st.tuples(st.just("promise"), CONTACT, DATES, st.integers(0, 60)),
    st.tuples(st.sampled_from(["kept", "dropped"]), st.integers(0, 5), DATES),
    st.tuples(st.just("pocket"), CONTACT, DATES, st.booleans()),
    st.tuples(st.just("cadence"), CONTACT, DATES, st.none() | st.integers(1, 90)),
)  # fmt: skip
# an event held `offset` days from the day it is added (past or coming), with details or not
EVENT_OP = st.tuples(st.just("event"), DATES, st.integers(-40, 40), st.booleans())
LINK_OP = st.tuples(st.just("link"), CONTACT, st.integers(0, 5), DATES, st.booleans())  # met there?
# Drawn apart and spread among the others, so that every script has its share of them.
EVENT_OPS = st.one_of(
    EVENT_OP,
    LINK_OP, LINK_OP,
    st.tuples(st.just("plan"), CONTACT, DATES, st.integers(0, 40)),  # the next meeting, days ahead
    st.tuples(st.just("retract"), st.integers(0, 9)),  # an event, a link or a plan made earlier
)  # fmt: skip


@st.composite
def scripts(draw: st.DrawFn) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    n = draw(st.integers(1, 4))
    meets = draw(
        st.lists(st.tuples(DATES, st.none() | st.sampled_from(REASONS), MINUTES), min_size=n, max_size=n)
    )
    ops = draw(st.lists(OPS, max_size=40))
    for op, at in draw(st.lists(st.tuples(EVENT_OPS, st.integers(0, 40)), min_size=1, max_size=15)):
        ops.insert(at % (len(ops) + 1), op)
    return meets, ops


SEED = 2026


@dataclass(frozen=True)
class Retraction:
    """A Retract of the fact of command `index`, whose id is known once it is recorded: a
    retraction names a fact in the log, so it starts a new call of `record_many`."""

    index: int


def build(script: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> tuple[list[Any], dict[int, str]]:
    """Concrete, valid commands (a `Retraction` stands for a Retract); and the id of each
    promise, by command index.

    Promise ids are fixed (`Promise.promise_id`, as importers do) so that a Kept
    command can name a promise made in the same batch. Contact ids stay random.
    """
    meets, ops = script
    rng = random.Random(SEED)
    n = len(meets)
    names = [f"Contact {i}" for i in range(n)]
    commands: list[Any] = []
    promise_ids: dict[int, str] = {}
    open_promises: list[tuple[str, date, int]] = []
    last = [on for on, _, _ in meets]  # each contact's last interaction: no plan dated before it
    events: dict[int, tuple[str, date]] = {}  # name and day of the events standing, by command index
    retractable: list[int] = []  # the events, links and plans standing, by command index
    for i, (on, why, minutes) in enumerate(meets):
        commands.append(cmd.Meet(names[i], channel="conference", why=why, minutes=minutes, on=on))

    def after(on: date, *who: int) -> date:
        """`on`, or the first meeting with `who` if that is later: nothing happens before."""
        return max(on, *(meets[w % n][0] for w in who))

    def add_event(on: date, held: date, detailed: bool) -> None:
        name = f"Event {len(commands)}"
        events[len(commands)] = (name, held)
        retractable.append(len(commands))
        commands.append(cmd.EventAdd(
            name, held, where="Hall 2" if detailed else None, offer="an intro" if detailed else None,
            orgs=("Org A", "Org B") if detailed else (), on=on,
        ))  # fmt: skip

    for op in ops:
        kind = op[0]
        command: Any
        if kind == "touch":
            _, i, on, by, minutes = op
            command = cmd.Touch(names[i % n], by=by, minutes=minutes, on=after(on, i))
            last[i % n] = max(last[i % n], command.on)
        elif kind in ("give", "receive"):
            _, i, on, help_kind, j, minutes = op
            to = None
            on = after(on, i)
            if help_kind == "introduction":
                if n == 1:
                    help_kind = "advice"
                else:
                    to = names[(i + 1 + j % (n - 1)) % n]
                    on = after(on, i + 1 + j % (n - 1))
            cls = cmd.Give if kind == "give" else cmd.Receive
            command = cls(names[i % n], help_kind, to=to, minutes=minutes, on=on)
            last[i % n] = max(last[i % n], on)  # an interaction of the contact helped, not the introduced
        elif kind in ("ask", "asked"):
            _, i, on, minutes = op
            command = (cmd.Ask if kind == "ask" else cmd.Asked)(
                names[i % n], f"{kind} {len(commands)}", minutes, after(on, i)
            )
            last[i % n] = max(last[i % n], after(on, i))
        elif kind == "pitch":
            _, i, on, minutes = op
            on = on if i is None else after(on, i)
            command = cmd.Pitch(None if i is None else names[i % n], minutes=minutes, on=on)
        elif kind == "promise":
            _, i, on, days = op
            on = after(on, i)
            pid = UUID(int=rng.getrandbits(128), version=4)
            promise_ids[len(commands)] = pid.hex
            open_promises.append((pid.hex, on, i % n))
            command = cmd.Promise(
                names[i % n], f"promise {len(commands)}", on + timedelta(days=days), on=on, promise_id=pid
            )
        elif kind in ("kept", "dropped"):
            _, k, on = op
            if not open_promises:
                continue
            ref, made_on, who = open_promises.pop(k % len(open_promises))
            command = (cmd.Kept if kind == "kept" else cmd.Dropped)(ref, on=max(on, made_on))
            if kind == "kept":  # a promise kept is an interaction
                last[who] = max(last[who], max(on, made_on))
        elif kind == "pocket":
            _, i, on, keep = op
            command = cmd.Pocket(names[i % n], keep, on=on)
        elif kind == "cadence":
            _, i, on, days = op
            command = cmd.Cadence(names[i % n], days, on=on)
        elif kind == "event":
            _, on, offset, detailed = op
            add_event(on, on + timedelta(days=offset), detailed)
            continue
        elif kind == "link":
            _, i, k, on, met = op
            if not events:  # a link needs an event: one held that day, added first
                add_event(on, on, False)
            name, held = list(events.values())[k % len(events)]
            on = after(on, i)
            if met and held > TODAY:  # no one is met at an event still to come
                met = False
            elif met:
                on = max(on, held)
            retractable.append(len(commands))
            command = cmd.EventLink(name, names[i % n], met=met, on=on)
        elif kind == "plan":
            _, i, on, days = op
            on = max(after(on, i), last[i % n])
            retractable.append(len(commands))
            command = cmd.PlanMeeting(names[i % n], on + timedelta(days=days), on=on)
        else:
            _, k = op
            if not retractable:
                continue
            target = retractable.pop(k % len(retractable))
            events.pop(target, None)  # linked no more
            command = Retraction(target)
        commands.append(command)
    return commands, promise_ids


def starts(commands: list[Any]) -> list[int]:
    """Where a call of `record_many` must start: at each retraction."""
    return [i for i, c in enumerate(commands) if isinstance(c, Retraction)]


def resolved(commands: list[Any], results: list[service.Recorded]) -> list[Any]:
    """The commands, each `Retraction` a Retract of the fact it names (recorded already)."""
    return [cmd.Retract(results[c.index].fact_id) if isinstance(c, Retraction) else c for c in commands]


def in_calls(
    net: Network, record: Callable[[Network, list[Any]], list[service.Recorded]], commands: list[Any]
) -> list[service.Recorded]:
    """`record` the commands, in one call up to each retraction."""
    results: list[service.Recorded] = []
    for lo, hi in pairwise([0, *starts(commands), len(commands)]):
        if hi > lo:
            results += record(net, resolved(commands[lo:hi], results))
    return results


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def empty_store(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    """An initialised store with no fact, closed: the template of every example's store; on
    PostgreSQL, a directory naming the database (emptied for each example: `network`)."""
    home = tmp_path_factory.mktemp("properties") / "store"
    if request.param == "sqlite":
        init_store(home)
        yield home
        return
    with new_database(request.getfixturevalue("pg_admin")) as url:
        home.mkdir()
        (home / "postgresql").write_text(url)
        yield home


@contextmanager
def network(empty_store: Path) -> Iterator[Network]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        pg = empty_store / "postgresql"
        if pg.exists():
            empty_database(pg.read_text())
            init_store(home, database=pg.read_text())
        else:
            shutil.copytree(empty_store, home)
        net = Network.open(home, today=TODAY)
        try:
            yield net
        finally:
            net.close()


def catch_up(net: Network, page: int) -> int:
    """Network.refresh, with a small page: rows are saved and reloaded between pages."""
    return net.views.catch_up(net.store.log.after, page=page, name_of=net._name_of)


def check_promise_ids(
    results: list[service.Recorded], commands: list[Any], promise_ids: dict[int, str]
) -> None:
    """The ids `build` predicted are the ids the commands got."""
    for i, (r, c) in enumerate(zip(results, commands, strict=True)):
        if isinstance(c, cmd.Promise):
            assert r.promise_id == promise_ids[i]


# --------------------------------------------------------------------------- (b) incremental = replay


def as_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return sorted((asdict(r) for r in rows), key=lambda r: r["id"])


def standing(commands: list[Any]) -> list[Any]:
    """The commands whose facts no retraction names."""
    retracted = {c.index for c in commands if isinstance(c, Retraction)}
    return [c for i, c in enumerate(commands) if i not in retracted and not isinstance(c, Retraction)]


def expected_events(commands: list[Any]) -> dict[str, tuple[str, set[tuple[str, bool]]]]:
    """What the event rows should hold, from the commands alone: by event name, the day
    it is held and its links (contact name, met) to it while it stands."""
    kept = standing(commands)
    found = {
        c.name: (c.held_on.isoformat(), set[tuple[str, bool]]()) for c in kept if isinstance(c, cmd.EventAdd)
    }
    for c in kept:
        if isinstance(c, cmd.EventLink) and c.event in found:
            found[c.event][1].add((c.contact, c.met))
    return found


def expected_plans(commands: list[Any]) -> dict[str, tuple[str, str]]:
    """(next meeting, day planned) by contact name: of the plans standing, the latest by
    day, then by recording."""
    kept = standing(commands)
    plans = [(c.on or TODAY, i, c) for i, c in enumerate(kept) if isinstance(c, cmd.PlanMeeting)]
    return {c.contact: (c.planned_for.isoformat(), on.isoformat()) for on, _, c in sorted(plans)}


def found_events(net: Network, names: dict[str, str]) -> dict[str, tuple[str, set[tuple[str, bool]]]]:
    found: dict[str, tuple[str, set[tuple[str, bool]]]] = {}
    for e in net.views.load_all("event"):
        links = {(names[c], True) for c in e.met} | {(names[c], False) for c in e.expected}
        found[net.unseal_text(e.name) or ""] = (e.held_on, links)
    return found


@SETTINGS
@given(script=scripts(), data=st.data())
def test_incremental_views_equal_a_full_replay(empty_store: Path, script: Any, data: st.DataObject) -> None:
    commands, promise_ids = build(script)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(commands)), max_size=4), label="cuts"))
    bounds = sorted({0, *cuts, *starts(commands), len(commands)})
    with network(empty_store) as net:
        results: list[service.Recorded] = []
        for lo, hi in pairwise(bounds):
            batch = data.draw(st.integers(1, 4), label="batch_size")
            results += net.record_many(resolved(commands[lo:hi], results), batch_size=batch)
            then = data.draw(st.sampled_from(["nothing", "refresh", "page"]), label="then")
            if then == "refresh":
                net.refresh()
            elif then == "page":
                catch_up(net, data.draw(st.integers(1, 3), label="page"))
        check_promise_ids(results, commands, promise_ids)
        net.refresh()
        log = net.store.log
        events = [fact for _, fact in log.after(0, 10**6)]
        assert [e.originator_id.hex for e in events] == [r.fact_id for r in results]
        full = replay(events)
        assert "event" in KINDS  # events and their links are compared too
        for kind in KINDS:
            assert as_rows(net.views.load_all(kind)) == as_rows(full.all(kind)), kind
        assert len(net.views.load_all("contact")) == len(script[0])
        assert net.views.load_days() == (full.get("global", "days") or {})
        # and they say what the commands said
        contacts = net.views.load_all("contact")
        names = {c.id: net.unseal_text(c.name) or "" for c in contacts}
        assert found_events(net, names) == expected_events(commands)
        plans = {names[c.id]: (c.next_meeting, c.next_planned_on) for c in contacts if c.next_meeting}
        assert plans == expected_plans(commands)


# --------------------------------------------------------------------------- (c) batching does not matter


def outputs(net: Network) -> dict[str, Any]:
    """What a user sees, JSON-able, with contacts named and promises by their text."""
    agenda = sorted(
        (
            i.reminder.rule,
            i.contact.name,
            i.promise if i.reminder.rule == "promise" else i.reminder.period,
            i.reminder.opens.isoformat(),
            i.reminder.due.isoformat(),
            i.state,
            i.summary,
        )
        for i in net.agenda(until=TODAY + timedelta(days=200))
    )

    def balances(as_of: date | None) -> Any:
        rows, overall = net.balances(as_of=as_of)
        named = sorted(
            (ref.name, {k: v for k, v in asdict(b).items() if k != "contact_id"}) for ref, b in rows
        )
        return [named, list(overall)]

    split = asdict(net.time_split())
    names = {c.id: net.unseal_text(c.name) for c in net.views.load_all("contact")}
    events = sorted(
        (e.name, e.view.held_on, e.view.set_on, e.where, e.offer, e.orgs,
         sorted(names[c] or "" for c in e.view.met), sorted(names[c] or "" for c in e.view.expected))
        for e in prep.events(net)
    )  # fmt: skip
    plans = sorted(
        (names[c.id], c.next_meeting, c.next_planned_on)
        for c in net.views.load_all("contact")
        if c.next_meeting
    )
    warnings = sorted(
        (w.kind, ref.name if ref else None, w.on.isoformat() if w.on else None, w.detail)
        for w, ref in net.warnings()
    )
    out = {
        "agenda": agenda,
        "balances": balances(None),
        "balances_mid": balances(date(2026, 6, 1)),
        "split": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in split.items()},
        "warnings": warnings,
        "events": events,
        "plans": plans,
    }
    result: dict[str, Any] = json.loads(json.dumps(out))
    return result


def recorded_with(
    empty_store: Path,
    record: Callable[[Network, list[Any]], list[service.Recorded]],
    commands: list[Any],
    promise_ids: dict[int, str],
) -> dict[str, Any]:
    with network(empty_store) as net:
        check_promise_ids(in_calls(net, record, commands), commands, promise_ids)
        return outputs(net)


@SETTINGS
@given(script=scripts())
def test_results_do_not_depend_on_batching(empty_store: Path, script: Any) -> None:
    commands, promise_ids = build(script)

    def recorded(record: Callable[[Network, list[Any]], list[service.Recorded]]) -> dict[str, Any]:
        return recorded_with(empty_store, record, commands, promise_ids)

    one_by_one = recorded(lambda net, cs: [net.record(c) for c in cs])
    batches_of_one = recorded(lambda net, cs: net.record_many(cs, batch_size=1))
    one_call = recorded(lambda net, cs: net.record_many(cs))
    assert one_by_one == batches_of_one
    assert one_by_one == one_call
    # Not vacuous: every contact has a balance row; every event standing is listed.
    assert len(one_call["balances"][0]) == len(script[0])
    assert len(one_call["events"]) == len(expected_events(commands))
