"""Minutes are applied when the views are read, not when facts are folded (docs/rules.md,
"Time split"; docs/architecture.md): the views hold the minutes recorded with the facts
and how many facts were recorded without, so a change of `[minutes]` (or of any other
setting) never rebuilds them, and the time split and the balances still count every fact
without minutes at the default of its kind in the configuration of the moment.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from helpers_rules import Facts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import TODAY, T

from syncnet.app.network import Network
from syncnet.domain import events as ev
from syncnet.domain import projections as pj
from syncnet.domain.config import MAX_MINUTES, Config, parse_config
from syncnet.domain.fold import replay
from syncnet.domain.rules import WarningKind, window
from syncnet.storage.viewstore import stored_fingerprint as fingerprint

FIRST = date(2025, 6, 1)
LAST = date(2026, 12, 31)
DATES = st.dates(FIRST, LAST)
MINUTES = st.none() | st.integers(0, 240)
DEFAULTS = ("touch", "meeting", "help", "pitch", "request")
# Small values most of the time (sums stay readable in a failure), the bounds sometimes.
DEFAULT_MINUTES = st.integers(0, 90) | st.sampled_from([0, MAX_MINUTES])
MINUTES_CONFIGS = st.fixed_dictionaries({}, optional=dict.fromkeys(DEFAULTS, DEFAULT_MINUTES))
KINDS = ("touch", "give", "receive", "ask", "asked", "pitch", "promise", "met")


# ---------------------------------------------------------------- the old definition
def old_split(events: list[Any], today: date, config: Config) -> dict[str, int]:
    """The time split as it was folded before: `minutes_of` with the configured defaults,
    fact by fact, per bucket, in the window."""
    lo, hi = window(today, config.split.window_days)
    out = {"give": 0, "self": 0, "ask": 0}
    for e in events:
        bucket = ev.time_split_bucket(e)
        if bucket is not None and lo <= e.on <= hi:
            out[bucket.value] += ev.minutes_of(e, config.minutes)
    return out


def old_minutes(events: list[Any], as_of: date, config: Config) -> dict[str, tuple[int, int]]:
    """Per contact: (minutes of help given, of help received) on or before `as_of`."""
    out: dict[str, tuple[int, int]] = {}
    for e in events:
        if isinstance(e, ev.HelpGiven | ev.HelpReceived) and e.on <= as_of:
            given, received = out.get(e.contact_id.hex, (0, 0))
            spent = ev.minutes_of(e, config.minutes)
            if isinstance(e, ev.HelpGiven):
                given += spent
            else:
                received += spent
            out[e.contact_id.hex] = (given, received)
    return out


@st.composite
def histories(draw: st.DrawFn) -> Facts:
    f = Facts()
    contacts = [f.met(draw(DATES), minutes=draw(MINUTES)) for _ in range(draw(st.integers(1, 4)))]
    ops = st.tuples(st.sampled_from(KINDS), st.integers(0, 3), DATES, MINUTES, st.booleans())
    for kind, i, on, minutes, flag in draw(st.lists(ops, max_size=40)):
        c = contacts[i % len(contacts)]
        if kind == "touch":
            f.touch(c, on, by="me" if flag else "them", minutes=minutes)
        elif kind == "give":
            f.give(c, on, minutes)
        elif kind == "receive":
            f.receive(c, on, minutes)
        elif kind == "ask":
            f.ask(c, on, minutes)
        elif kind == "asked":
            f.asked(c, on, minutes)
        elif kind == "pitch":
            f.pitch(on, minutes, cid=c if flag else None)
        elif kind == "promise":
            p = f.promise(c, on, on + timedelta(days=10))
            if flag:
                f.kept(p, c, on + timedelta(days=3))
        else:
            contacts.append(f.met(on, minutes=minutes))
    return f


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(history=histories(), configs=st.lists(MINUTES_CONFIGS, min_size=1, max_size=4), today=DATES,
       as_of=DATES)  # fmt: skip
def test_views_folded_once_give_the_old_results_for_any_minutes(
    history: Facts, configs: list[dict[str, int]], today: date, as_of: date
) -> None:
    views = replay(history.events)  # folded once, without any configuration
    days = views.get("global", "days") or {}
    ledgers, promises, contacts = views.all("ledger"), views.all("promise"), views.all("contact")
    baseline = Config()
    counts = pj.balances(ledgers, promises, as_of, baseline.minutes)
    # every warning but the two about the time split, which weigh minutes by definition
    by_minutes = {WarningKind.WANTING_TO_IMPRESS, WarningKind.SPLIT_OFF_TARGET}

    def counted(found: list[pj.Warning]) -> list[pj.Warning]:
        return [w for w in found if w.kind not in by_minutes]

    found_warnings = counted(pj.warnings(contacts, ledgers, days, today, baseline))
    for raw in configs:
        config = parse_config({"minutes": raw})
        split = pj.time_split(days, today, config)
        assert {"give": split.give, "self": split.self, "ask": split.ask} == old_split(
            history.events, today, config
        ), raw
        balances = pj.balances(ledgers, promises, as_of, config.minutes)
        expected = old_minutes(history.events, as_of, config)
        spent = {k: (b.given_minutes, b.received_minutes) for k, b in balances.items()}
        assert {k: v for k, v in spent.items() if k in expected} == expected
        assert all(v == (0, 0) for k, v in spent.items() if k not in expected)
        # the per-contact tallies (what reads of today use) give the same, minutes included
        by_id = {ledger.id: ledger for ledger in ledgers}
        tallied = pj.balances(views.all("tally"), promises, as_of, config.minutes, by_id.__getitem__)
        assert tallied == {k: balances[k] for k in tallied}
        # everything but the minutes is the same whatever the minutes
        for k, b in balances.items():
            other = counts[k]
            assert (b.given, b.received, b.requests_made, b.requests_received, b.open_promises,
                    b.promises_due, b.promises_kept_on_time) == (
                other.given, other.received, other.requests_made, other.requests_received,
                other.open_promises, other.promises_due, other.promises_kept_on_time)  # fmt: skip
        assert counted(pj.warnings(contacts, ledgers, days, today, config)) == found_warnings


def test_a_fact_without_minutes_counts_with_the_default_of_its_own_kind() -> None:
    """One fact of each kind that takes minutes, without minutes, and defaults that tell
    the kinds apart: each lands on its own default (the probe the fold asks minutes_of
    with maps every kind to its own column)."""
    f = Facts()
    day = date(2026, 11, 1)
    c = f.met(day)  # meeting: give
    f.touch(c, day)  # touch: give
    f.give(c, day)  # help: give
    f.receive(c, day)  # help, but the other side's time: not in the split
    f.pitch(day)  # pitch: self
    f.ask(c, day)  # request: ask
    f.asked(c, day)  # request, the other side's time
    distinct = {"meeting": 1, "touch": 10, "help": 100, "pitch": 1000, "request": 1400}  # at most a day
    config = parse_config({"minutes": distinct})
    views = replay(f.events)
    split = pj.time_split(views.get("global", "days"), day, config)
    assert (split.give, split.self, split.ask) == (111, 1000, 1400)
    b = pj.balances(views.all("ledger"), [], day, config.minutes)[c.hex]
    assert (b.given_minutes, b.received_minutes, b.balance_minutes) == (100, 100, 0)


# ---------------------------------------------------------------- a real store, through the CLI
def tracking(home: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The view tracking rows and every stored view row (sealed: a rewrite changes its bytes)."""
    conn = sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True)
    try:
        track = conn.execute("SELECT name, position, fingerprint FROM syncnet_view_tracking ORDER BY name")
        rows = conn.execute("SELECT kind, key, data FROM syncnet_views ORDER BY kind, key")
        return track.fetchall(), rows.fetchall()
    finally:
        conn.close()


def split_minutes(run: Any) -> dict[str, int]:
    parts = run.json("split", *T)["parts"]
    return {p: parts[p]["minutes"] for p in ("give", "self", "ask")}


def ada(run: Any) -> tuple[int, int, int]:
    (row,) = run.json("balance", "Ada Lovelace", *T)["contacts"]
    return row["given_minutes"], row["received_minutes"], row["balance_minutes"]


def test_changing_minutes_in_the_config_changes_the_numbers_and_rebuilds_nothing(
    run: Any, home: Path
) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *T)  # meeting, no minutes
    run.ok("touch", "Ada Lovelace", "--by", "them", "--on", "2026-11-02", *T)  # touch, no minutes
    run.ok("touch", "Ada Lovelace", "--by", "me", "--minutes", "7", "--on", "2026-11-03", *T)
    run.ok("give", "Ada Lovelace", "--kind", "advice", "--on", "2026-11-04", *T)  # help, no minutes
    run.ok("receive", "Ada Lovelace", "--kind", "advice", "--minutes", "20", "--on", "2026-11-05", *T)
    run.ok("receive", "Ada Lovelace", "--kind", "information", "--on", "2026-11-06", *T)  # no minutes
    run.ok("pitch", "--on", "2026-11-07", *T)  # pitch, no minutes
    # request, no minutes; 15 days after the follow-up (11-03): no selling-after-follow-up
    run.ok("ask", "Ada Lovelace", "--on", "2026-11-18", *T)

    # the defaults: touch 15, meeting 30, help 30, pitch 10, request 10
    assert split_minutes(run) == {"give": 30 + 15 + 7 + 30, "self": 10, "ask": 10}
    assert ada(run) == (30, 20 + 30, 30 - 50)
    warned = run.json("warnings", *T)["warnings"]
    assert warned == []  # no setting of [minutes] can bring one but the split's (below)
    before = tracking(home)
    assert [name for name, _, _ in before[0]] == ["syncnet-agenda", "syncnet-views"]
    assert {fp.split("#")[0] for _, _, fp in before[0]} == {fingerprint()}  # sealed to its position

    (home / "config.toml").write_text(
        "[minutes]\ntouch = 1\nmeeting = 2\nhelp = 300\npitch = 4\nrequest = 5\n", encoding="utf-8"
    )
    assert split_minutes(run) == {"give": 2 + 1 + 7 + 300, "self": 4, "ask": 5}
    assert ada(run) == (300, 20 + 300, 300 - 320)
    after = run.json("warnings", *T)["warnings"]
    split_kinds = ("wanting-to-impress", "split-off-target")  # these weigh minutes, by definition
    assert [w for w in after if w["kind"] not in split_kinds] == warned
    assert [w["kind"] for w in after if w["kind"] in split_kinds] == ["split-off-target"]  # give 97 %
    # nothing was folded again: the same position and fingerprint, every row byte for byte
    assert tracking(home) == before
    with Network.open(home, today=date.fromisoformat(TODAY)) as net:
        assert net.refresh() == 0
        assert net.views.position() == net.position() == before[0][1][1]

    (home / "config.toml").write_text("[minutes]\nhelp = 0\n", encoding="utf-8")
    assert split_minutes(run) == {"give": 30 + 15 + 7 + 0, "self": 10, "ask": 10}
    assert ada(run) == (0, 20, -20)
    assert tracking(home) == before


def test_views_of_an_older_format_are_rebuilt_once(run: Any, home: Path) -> None:
    """A store whose views were folded with the minutes in them (fingerprint views-v3;
    minutes=...) folds every fact again at the next read, and only then."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01", *T)
    run.ok("give", "Ada Lovelace", "--kind", "advice", "--on", "2026-11-04", *T)
    assert ada(run) == (30, 0, 30)
    old = "views-v3;minutes=[('help', 30), ('meeting', 30), ('pitch', 10), ('request', 10), ('touch', 15)]"
    conn = sqlite3.connect(home / "store.db")
    with conn:
        conn.execute("UPDATE syncnet_view_tracking SET fingerprint = ?", (old,))
    conn.close()
    with Network.open(home, today=date.fromisoformat(TODAY)) as net:
        assert net.views.position() == 0
        assert net.refresh() == 2
        assert net.refresh() == 0
    assert ada(run) == (30, 0, 30)
    assert {fp.split("#")[0] for _, _, fp in tracking(home)[0]} == {fingerprint()}
