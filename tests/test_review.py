"""`syncnet review` (docs/rules.md, "Review"): the three lists at their edges, the JSON
document, the list printed without a terminal (nothing recorded), and the walk, one
keystroke each, whose answers are read back through `show`, `contacts`, `due` and
`history`."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import date, timedelta
from typing import Any

import click
import pytest
from click.testing import CliRunner
from support import TODAY, Runner, answer_on_terminal, store_state

from syncnet.app.directory import ContactRef
from syncnet.app.review import NO_REASON, PROMISE, QUIET, ReviewItem, command_for, review_items
from syncnet.domain import commands as cmd
from syncnet.domain.config import Config, Review, parse_config
from syncnet.domain.rows import ContactView, PromiseView
from syncnet.entrypoints.cli import cli
from syncnet.entrypoints.cli import review as review_cli
from syncnet.errors import ConfigError

D = date.fromisoformat(TODAY)
T = ("--today", TODAY)


def ago(days: int) -> str:
    return (D - timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- the selection, pure
def contact(cid: str, met: int, **kw: Any) -> ContactView:
    """A contact met `met` days before D, kept, with no reason unless given."""
    fields: dict[str, Any] = {"why": None, "last_interaction": ago(met), **kw}
    return ContactView(id=cid, name=cid, met_on=ago(met), channel="other", **fields)


def select(
    contacts: list[ContactView], promises: Sequence[PromiseView] = (), **review: int
) -> list[ReviewItem]:
    config = Config(review=Review(**review))
    return review_items(contacts, list(promises), config, D, lambda c: ContactRef(c, c), lambda t: t)


def listed(items: list[ReviewItem], kind: str) -> list[str]:
    return [i.contact.id for i in items if i.kind == kind]


@pytest.mark.parametrize(("days", "new"), [(0, True), (29, True), (30, True), (31, False)])
def test_a_contact_met_in_the_window_without_a_reason_is_listed(days: int, new: bool) -> None:
    assert listed(select([contact("a", days)]), NO_REASON) == (["a"] if new else [])


@pytest.mark.parametrize(("days", "new"), [(10, True), (11, False)])
def test_the_window_is_review_met_days(days: int, new: bool) -> None:
    assert listed(select([contact("a", days)], met_days=10), NO_REASON) == (["a"] if new else [])


@pytest.mark.parametrize(
    "kw",
    [
        {"why": "commonality"},  # a reason
        {"keep_at": "2026-11-10|x"},  # a pocket chosen on purpose (keep)
        {"keep": False, "keep_at": "2026-11-10|x"},  # let go
        {"unsorted": True, "keep": False, "keep_at": "2026-11-10|x"},  # imported, unsorted
        {"forgotten": ago(1)},
    ],
)
def test_a_new_contact_with_a_reason_a_pocket_or_unsorted_or_forgotten_is_not_listed(
    kw: dict[str, Any],
) -> None:
    assert select([contact("a", 5, **kw)]) == []


def test_a_contact_met_after_today_is_not_listed() -> None:
    assert select([contact("a", -1)]) == []


@pytest.mark.parametrize(("days", "quiet"), [(179, False), (180, True), (181, True)])
def test_a_kept_contact_quiet_for_quiet_days_or_more_is_listed(days: int, quiet: bool) -> None:
    c = contact("q", 400, why="complement", last_interaction=ago(days))
    items = select([c])
    assert listed(items, QUIET) == (["q"] if quiet else [])
    if quiet:
        assert (items[0].last_interaction, items[0].days_quiet) == (ago(days), days)


@pytest.mark.parametrize(("days", "quiet"), [(19, False), (20, True)])
def test_quiet_is_review_quiet_days_and_counts_the_first_meeting(days: int, quiet: bool) -> None:
    c = contact("q", days, why="complement", last_interaction="")  # no interaction but the meeting
    assert listed(select([c], quiet_days=20), QUIET) == (["q"] if quiet else [])


@pytest.mark.parametrize(
    "kw", [{"keep": False, "keep_at": "x"}, {"unsorted": True, "keep": False}, {"forgotten": ago(1)}]
)
def test_let_go_unsorted_and_forgotten_contacts_are_never_quiet(kw: dict[str, Any]) -> None:
    assert select([contact("q", 400, why="complement", **kw)]) == []


def test_the_quietest_come_first_then_the_lists_in_their_order() -> None:
    contacts = [contact("q1", 200, why="x"), contact("q2", 300, why="x"), contact("n", 3)]
    promises = [PromiseView("p", "q1", "w", ago(100), ago(1))]
    items = select(contacts, promises)
    assert [(i.kind, i.contact.id) for i in items] == [
        (NO_REASON, "n"), (QUIET, "q2"), (QUIET, "q1"), (PROMISE, "q1")]  # fmt: skip


def test_open_promises_made_by_today_overdue_first() -> None:
    promises = [
        PromiseView("later", "a", "w1", ago(5), ago(-10)),
        PromiseView("today", "a", "w2", ago(5), ago(0)),
        PromiseView("over", "b", "w3", ago(50), ago(3)),
        PromiseView("kept", "a", "w4", ago(50), ago(40), status="kept", closed_on=ago(41)),
        PromiseView("dropped", "a", "w5", ago(50), ago(40), status="dropped", closed_on=ago(41)),
        PromiseView("forgotten", "a", "w6", ago(50), ago(40), status="forgotten"),
        PromiseView("future", "a", "w7", ago(-1), ago(-5)),  # made after today
    ]
    items = select([contact("a", 60, why="x"), contact("b", 60, why="x")], promises)
    found = [(i.promise_id, i.state, i.what) for i in items if i.kind == PROMISE]
    assert found == [("over", "overdue", "w3"), ("today", "today", "w2"), ("later", "upcoming", "w1")]


def test_each_proposal_is_the_command_the_cli_records() -> None:
    new = ReviewItem(NO_REASON, ContactRef("c1", "Ada"))
    quiet = ReviewItem(QUIET, ContactRef("c2", "Bob"))
    promise = ReviewItem(PROMISE, ContactRef("c3", "Cy"), promise_id="p1")
    assert command_for(new, "role-model") == cmd.Why("c1", "role-model")
    assert command_for(new, "keep") == cmd.Pocket("c1", keep=True)
    assert command_for(new, "let-go") == cmd.Pocket("c1", keep=False)
    assert command_for(quiet, "touch") == cmd.Touch("c2", by="me")
    assert command_for(quiet, "let-go") == cmd.Pocket("c2", keep=False)
    assert command_for(promise, "kept") == cmd.Kept("p1")
    assert command_for(promise, "dropped") == cmd.Dropped("p1")
    with pytest.raises(ValueError, match="no proposal"):
        command_for(quiet, "kept")


@pytest.mark.parametrize("option", ["met_days", "quiet_days"])
def test_the_settings_are_config_with_ranges(option: str) -> None:
    assert getattr(parse_config({"review": {option: 3650}}).review, option) == 3650
    for bad in (0, 3651, "30"):
        with pytest.raises(ConfigError, match=rf"review\.{option}"):
            parse_config({"review": {option: bad}})
    with pytest.raises(ConfigError, match=r"unknown option review\.days"):
        parse_config({"review": {"days": 3}})


# ---------------------------------------------------------------- the walk, with a fake key source
class Recorder:
    """What the walk needs of a Network: `record`."""

    def __init__(self) -> None:
        self.recorded: list[cmd.Command] = []

    def record(self, command: cmd.Command) -> None:
        self.recorded.append(command)


def keys(text: str) -> Any:
    pressed = iter(text)
    return lambda: next(pressed, "")


WALK = [
    ReviewItem(NO_REASON, ContactRef("a", "Ada"), met_on=ago(3)),
    ReviewItem(NO_REASON, ContactRef("b", "Bea"), met_on=ago(2)),
    ReviewItem(QUIET, ContactRef("b", "Bea"), last_interaction=ago(200), days_quiet=200),
    ReviewItem(QUIET, ContactRef("o", "Old"), last_interaction=ago(300), days_quiet=300),
    ReviewItem(
        PROMISE, ContactRef("o", "Old"), promise_id="p1", what="the paper", due=ago(1), state="overdue"
    ),
    ReviewItem(
        PROMISE, ContactRef("a", "Ada"), promise_id="p2", what="a call", due=ago(-3), state="upcoming"
    ),
]


def test_the_walk_records_each_answer_and_asks_again_on_another_key() -> None:
    net, shown = Recorder(), []
    # Ada: "x" asks again, then commonality; Bea let go (her quiet item is not asked);
    # Old touched; his promise kept; Ada's promise dropped
    done = review_cli.walk(net, WALK, keys("xclt?kd"), lambda *a, **k: shown.append(a[0] if a else ""))  # type: ignore[arg-type]
    assert net.recorded == [cmd.Why("a", "commonality"), cmd.Pocket("b", keep=False), cmd.Touch("o", by="me"),
                            cmd.Kept("p1"), cmd.Dropped("p2")]  # fmt: skip
    assert review_cli.summary(done) == (
        "1 reason given, 1 let go, 1 touch recorded, 1 promise kept, 1 promise dropped."
    )
    assert not any("Bea" in line and "quiet" in line for line in shown), shown
    assert "[4/6] quiet: Old (o), last interaction" in "\n".join(shown)


@pytest.mark.parametrize(("pressed", "summary"), [
    ("ssq", "2 skipped, 4 left for later."),
    ("q", "6 left for later."),
    ("", "6 left for later."),  # the end of input quits
    ("k", "1 kept, 5 left for later."),  # then the end of input
])  # fmt: skip
def test_skip_quit_and_the_end_of_input(pressed: str, summary: str) -> None:
    net = Recorder()
    done = review_cli.walk(net, WALK, keys(pressed), lambda *a, **k: None)  # type: ignore[arg-type]
    assert review_cli.summary(done) == summary
    assert net.recorded == ([cmd.Pocket("a", keep=True)] if pressed == "k" else [])


def test_a_summary_of_nothing() -> None:
    assert review_cli.summary(Counter()) == "nothing recorded."


# ---------------------------------------------------------------- the CLI
def test_met_30_days_ago_is_listed_31_not_and_with_a_reason_not(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", ago(30))
    run.ok("meet", "Bob Smith", "--on", ago(31))
    run.ok("meet", "Cy Young", "--on", ago(30), "--why", "commonality")
    run.ok("meet", "Dee Kept", "--on", ago(2))
    run.ok("pocket", "Dee", "keep", "--on", ago(0))  # a pocket chosen on purpose answers it
    doc = run.json("review", *T)
    assert [(i["kind"], i["contact"]["name"]) for i in doc["items"]] == [("no-reason", "Ada Lovelace")]
    run.ok("why", "Ada", "role-model", "--on", ago(0))
    assert run.json("review", *T)["items"] == []
    # the day before: Ada had no reason yet, Dee no pocket, and Bob was met 30 days before
    names = [i["contact"]["name"] for i in run.json("review", "--today", ago(1))["items"]]
    assert names == ["Bob Smith", "Ada Lovelace", "Dee Kept"]


def test_quiet_at_exactly_quiet_days_and_not_one_day_less_and_never_let_go(run: Runner, home: Any) -> None:
    run.ok("init")
    (home / "config.toml").write_text("[review]\nquiet_days = 100\n", encoding="utf-8")
    run.ok("meet", "Quinn Exact", "--on", ago(300), "--why", "complement")
    run.ok("touch", "Quinn", "--on", ago(100), "--by", "them")
    run.ok("meet", "Rita Recent", "--on", ago(99), "--why", "complement")
    run.ok("meet", "Sam Gone", "--on", ago(300), "--why", "complement")
    run.ok("pocket", "Sam", "drop", "--on", ago(200))
    quiet = [i for i in run.json("review", *T)["items"] if i["kind"] == "quiet"]
    assert [(i["contact"]["name"], i["last_interaction"], i["days_quiet"]) for i in quiet] == [
        ("Quinn Exact", ago(100), 100)]  # fmt: skip
    assert run.json("review", *T)["quiet_days"] == 100


def test_review_json_shape_read_back(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", ago(10))
    run.ok("meet", "Old Friend", "--on", ago(400), "--why", "role-model")
    run.ok("promise", "Ada", "send the paper", "--on", ago(5), "--due", ago(-5))
    run.ok("promise", "Old", "a coffee", "--on", ago(300), "--due", ago(2))
    doc = run.json("review", *T)
    assert set(doc) == {"schema_version", "today", "met_days", "quiet_days", "items"}
    assert (doc["today"], doc["met_days"], doc["quiet_days"]) == (TODAY, 30, 180)
    new, quiet, overdue, upcoming = doc["items"]
    ada = {"id": new["contact"]["id"], "short": new["contact"]["id"][:8], "name": "Ada Lovelace"}
    assert new == {"kind": "no-reason", "contact": ada, "met_on": ago(10),
                   "proposals": ["commonality", "role-model", "complement", "keep", "let-go"]}  # fmt: skip
    assert quiet["kind"] == "quiet" and quiet["contact"]["name"] == "Old Friend"
    assert (quiet["last_interaction"], quiet["days_quiet"], quiet["proposals"]) == (
        ago(400),
        400,
        ["touch", "let-go"],
    )
    assert set(overdue) == {"kind", "contact", "promise", "made_on", "due", "state", "proposals"}
    assert (overdue["promise"]["what"], overdue["due"], overdue["state"]) == ("a coffee", ago(2), "overdue")
    assert overdue["promise"]["short"] == overdue["promise"]["id"][:8] and overdue["made_on"] == ago(300)
    assert (upcoming["promise"]["what"], upcoming["state"], upcoming["contact"]) == (
        "send the paper",
        "upcoming",
        ada,
    )
    assert upcoming["proposals"] == ["kept", "dropped"]
    # the promise ids are those `due` knows
    agenda = {i["promise"]["id"] for i in run.json("due", *T)["agenda"] if i["promise"]}
    assert overdue["promise"]["id"] in agenda


def test_without_a_terminal_it_lists_and_records_nothing(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", ago(10))
    run.ok("meet", "Old Friend", "--on", ago(400), "--why", "role-model")
    run.ok("promise", "Old", "a coffee", "--on", ago(300), "--due", ago(2))
    before = store_state(run.home)
    for args in ((), ("--list",)):
        out = run.ok("review", *T, *args).stdout
        assert "Ada Lovelace" in out and "give a reason (commonality, role-model, complement)" in out
        assert "Old Friend" in out and f"last interaction {ago(400)} (400 days ago)" in out
        assert f"overdue, due {ago(2)}, to Old Friend" in out and "a coffee" in out
        assert "3 items to review" in out and "nothing recorded" in out
    assert store_state(run.home) == before
    assert run.json("show", "Ada", *T)["why"] is None


def test_nothing_to_review(run: Runner) -> None:
    run.ok("init")
    assert run.ok("review", *T).stdout == f"Nothing to review as of {TODAY}.\n"
    assert run.json("review", *T)["items"] == []


def walk_setup(run: Runner) -> dict[str, str]:
    """Ada and Bea new without a reason, Old quiet with an overdue promise, Ada's promise
    upcoming; returns the promise ids by contact."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", ago(10))
    run.ok("meet", "Bea Gone", "--on", ago(5))
    run.ok("meet", "Old Friend", "--on", ago(400), "--why", "complement")
    run.ok("promise", "Old", "a coffee", "--on", ago(300), "--due", ago(3))
    run.ok("promise", "Ada", "send the paper", "--on", ago(5), "--due", ago(-10))
    return {
        i["contact"]["name"]: i["promise"]["id"] for i in run.json("review", *T)["items"] if "promise" in i
    }


def check_walked(run: Runner, promises: dict[str, str]) -> None:
    """c: Ada commonality; l: Bea let go; t: Old touched; k: his promise kept; then Ada's
    promise is left (skipped or quit): read back through the other commands."""
    assert run.json("show", "Ada", *T)["why"] == "commonality"
    pockets = {c["name"]: c["pocket"] for c in run.json("contacts", *T)["contacts"]}
    assert pockets == {"Ada Lovelace": "keep", "Bea Gone": "drop", "Old Friend": "keep"}
    old = run.json("show", "Old", *T)
    assert old["last_interaction"] == TODAY and old["open_promises"] == []
    events = run.json("history", "Old", *T)["events"]
    assert [(e["on"], e["details"]["by"]) for e in events if e["kind"] == "touch"] == [(TODAY, "me")]
    assert [e["on"] for e in events if e["kind"] == "kept"] == [TODAY]
    due = {i["promise"]["id"] for i in run.json("due", *T)["agenda"] if i["promise"]}
    assert due == {promises["Ada Lovelace"]}
    left = [(i["kind"], i["contact"]["name"]) for i in run.json("review", *T)["items"]]
    assert left == [("promise", "Ada Lovelace")]


def test_the_walk_through_click_with_keys_fed_to_getchar(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    promises = walk_setup(run)
    before = store_state(run.home)
    # a terminal's keys, here click.getchar reading CliRunner's input
    monkeypatch.setattr(review_cli, "keystrokes", lambda: nullcontext(click.getchar))
    result = CliRunner().invoke(cli, ["review", *T], input="zcltks", env=run.env())
    assert result.exit_code == 0, result.output
    assert "[1/5] new, no reason: Ada Lovelace" in result.output
    assert result.output.rstrip().endswith(
        "1 reason given, 1 let go, 1 touch recorded, 1 promise kept, 1 skipped."
    )
    assert store_state(run.home)[0] == before[0] + 4  # four facts: reason, pocket, touch, kept
    check_walked(run, promises)


def test_the_walk_on_a_real_terminal(run: Runner) -> None:
    promises = walk_setup(run)
    argv = [sys.executable, "-m", "syncnet", "review", *T]
    asked, shown, code = answer_on_terminal(argv, run.env(), b"s skip, q quit: ", "cltkq")
    assert code == 0, asked + shown
    assert "[1/5] new, no reason: Ada Lovelace" in asked
    assert "1 reason given, 1 let go, 1 touch recorded, 1 promise kept, 1 left for later." in shown, shown
    check_walked(run, promises)
