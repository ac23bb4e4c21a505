"""Every rule of docs/rules.md has a function named after it; each is tested here on its own.

The rules' behaviour over whole histories is in test_rules.py; these tests call the
named functions directly, on hand-built rows and facts.
"""

from __future__ import annotations

import importlib
import json
import re
import typing
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from helpers_rules import Facts, d

from syncnet.app.recording import TRANSLATIONS
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev
from syncnet.domain import fold, rules, warnings
from syncnet.domain.config import Config, parse_config
from syncnet.domain.reminders import uid_for
from syncnet.domain.rows import (
    GIVEN,
    GLOBAL_WIDTH,
    LEDGER_WIDTH,
    REQ_MADE,
    ContactView,
    LedgerView,
    PromiseView,
)
from syncnet.domain.rules import Bucket, Reminder, RuleKind, WarningKind

RULES_MD = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
CONFIG = Config()
CID = UUID(int=1).hex


def documented_names() -> list[str]:
    """Every `syncnet.…` name that docs/rules.md cites in backquotes."""
    return sorted(set(re.findall(r"`(syncnet(?:\.\w+)+)`", RULES_MD.read_text(encoding="utf-8"))))


def resolve(name: str) -> Any:
    """The object a dotted name names: the longest importable module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(name)


# --------------------------------------------------------------------------- the names


def test_every_name_in_rules_md_exists_and_is_importable() -> None:
    names = documented_names()
    assert len(names) >= 20, names
    for name in names:
        obj = resolve(name)  # raises if the name is wrong
        assert callable(obj) or isinstance(obj, type), name


RULE_FUNCTIONS = [
    "syncnet.domain.rules.followup_reminder",
    "syncnet.domain.rules.season_reminders",
    "syncnet.domain.rules.promise_reminder",
    "syncnet.domain.rules.cadence_reminder",
    "syncnet.domain.rules.meeting_reminder",
    "syncnet.domain.warnings.asked_before_giving",
    "syncnet.domain.warnings.selling_after_follow_up",
    "syncnet.domain.warnings.only_reacting",
    "syncnet.domain.warnings.collecting",
    "syncnet.domain.warnings.not_networking",
    "syncnet.domain.warnings.taking",
    "syncnet.domain.events.is_interaction",
    "syncnet.domain.events.initiated_by_me",
    "syncnet.domain.events.time_split_bucket",
]


@pytest.mark.parametrize("name", RULE_FUNCTIONS)
def test_every_rule_is_named_in_rules_md_and_quotes_it(name: str) -> None:
    assert name in documented_names()
    doc = resolve(name).__doc__ or ""
    assert "docs/rules.md" in doc, name
    # The docstring quotes the page: its first quoted passage is in docs/rules.md, word for word.
    quoted = re.search(r'"(.+?)"', doc, re.DOTALL)
    assert quoted is not None, name
    page = " ".join(RULES_MD.read_text(encoding="utf-8").split())
    first = " ".join(quoted.group(1).split())
    # The reminder rules quote a table row's cells, joined with their column names.
    for piece in re.split(r"; (?:opens|due|done by|who): |^opens: ", first):
        if piece:
            assert piece in page, (name, piece)


def test_every_warning_and_rule_kind_is_in_rules_md() -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    for kind in WarningKind:
        assert f"**{kind}**" in text
    for rule in RuleKind:
        assert f"(`{rule}`)" in text


# --------------------------------------------------------------------------- kinds are enums


def test_kinds_are_plain_strings_in_text_json_keys_and_uids() -> None:
    assert [f"{k}" for k in RuleKind] == ["followup", "season", "promise", "cadence", "birthday", "meeting"]
    assert [str(k) for k in WarningKind] == [
        "asked-before-giving", "only-reacting", "collecting", "not-networking", "taking",
        "wanting-to-impress", "split-off-target", "selling-after-follow-up",
    ]  # fmt: skip
    assert json.dumps({"rule": RuleKind.FOLLOWUP, "kind": WarningKind.ASKED_BEFORE_GIVING}) == (
        '{"rule": "followup", "kind": "asked-before-giving"}'
    )
    assert json.dumps([RuleKind.SEASON], indent=1) == '[\n "season"\n]'
    r = Reminder(RuleKind.SEASON, CID, "autumn-2026", d("2026-09-01"), d("2026-11-30"))
    assert r.key == f"{CID}:season:autumn-2026"
    # The UID a calendar holds for this reminder: any change here duplicates every item.
    assert uid_for(r.key) == uid_for(f"{CID}:season:autumn-2026")
    assert "\x1f".join((r.rule, "x")) == "season\x1fx"
    assert RuleKind("promise") is RuleKind.PROMISE and RuleKind.PROMISE == "promise"


# --------------------------------------------------------------------------- dispatch tables


def test_the_fold_has_a_handler_for_every_fact_that_can_change_the_agenda() -> None:
    # Corrections act through the facts they name (syncnet.domain.corrections), not as facts.
    assert set(fold._HANDLERS) == set(ev.AGENDA_FACTS) - set(ev.CORRECTIONS)


def test_every_command_type_has_its_translation() -> None:
    assert set(TRANSLATIONS) == set(typing.get_args(cmd.Command))
    for method in TRANSLATIONS.values():
        assert method.__qualname__.startswith("Translator._")


# --------------------------------------------------------------------------- facts


def one_of_each() -> dict[type[ev.Fact], ev.Fact]:
    f = Facts()
    c = f.met(d("2026-01-05"))
    f.touch(c, d("2026-01-06"), by="me")
    f.give(c, d("2026-01-06"))
    f.receive(c, d("2026-01-06"))
    f.ask(c, d("2026-01-06"))
    f.asked(c, d("2026-01-06"))
    f.pitch(d("2026-01-06"))
    p = f.promise(c, d("2026-01-06"), d("2026-02-01"))
    f.kept(p, c, d("2026-01-07"))
    f.dropped(p, c, d("2026-01-07"))
    f.pocket(c, d("2026-01-07"), keep=True)
    f.cadence(c, d("2026-01-07"), 30)
    g = f.goal(d("2026-01-07"))
    f.achieved(g, d("2026-01-08"))
    f.link(c, g, d("2026-01-08"))
    f.pushed(c, d("2026-01-08"))
    f.details(c, d("2026-01-08"))
    f.renamed(c, d("2026-01-08"))
    f.reason(c, d("2026-01-08"), "complement")
    f.forgotten(f.met(d("2026-01-05")), d("2026-01-08"))
    f.imported(c, d("2026-01-08"))
    f.birthday(c, d("2026-01-08"))
    f.event_link(f.event(d("2026-01-08"), d("2026-03-01")), c, d("2026-01-08"), met=True)
    f.plan(c, d("2026-01-08"), d("2026-02-01"))
    f.merged(c, f.met(d("2026-01-05")), d("2026-01-08"))
    f.amend(f.retract(f.events[1], d("2026-01-09"), c), d("2026-01-09"), c)
    found = {type(e): e for e in f.events}
    assert set(found) == set(ev.Fact.__subclasses__())
    return found


FACTS = one_of_each()
INTERACTIONS = {
    ev.ContactMet, ev.Touched, ev.HelpGiven, ev.HelpReceived, ev.RequestMade, ev.RequestReceived,
    ev.PromiseKept,
}  # fmt: skip


@pytest.mark.parametrize("cls", list(FACTS), ids=lambda c: c.__name__)
def test_is_interaction(cls: type[ev.Fact]) -> None:
    assert ev.is_interaction(FACTS[cls]) is (cls in INTERACTIONS)


@pytest.mark.parametrize("cls", list(FACTS), ids=lambda c: c.__name__)
def test_initiated_by_me(cls: type[ev.Fact]) -> None:
    # A touch --by me, help given, a promise kept; nothing else (the meeting is not a follow-up).
    assert ev.initiated_by_me(FACTS[cls]) is (cls in {ev.Touched, ev.HelpGiven, ev.PromiseKept})


def test_a_touch_by_them_is_an_interaction_not_initiated_by_me() -> None:
    f = Facts()
    c = f.met(d("2026-01-05"))
    f.touch(c, d("2026-01-06"), by="them")
    assert ev.is_interaction(f.events[-1]) and not ev.initiated_by_me(f.events[-1])


BUCKETS = {
    ev.ContactMet: Bucket.GIVE, ev.Touched: Bucket.GIVE, ev.HelpGiven: Bucket.GIVE,
    ev.Presented: Bucket.SELF, ev.RequestMade: Bucket.ASK,
}  # fmt: skip


@pytest.mark.parametrize("cls", list(FACTS), ids=lambda c: c.__name__)
def test_time_split_bucket(cls: type[ev.Fact]) -> None:
    # Help received and requests received are the other side's time: no bucket.
    assert ev.time_split_bucket(FACTS[cls]) is BUCKETS.get(cls)


def test_minutes_of_uses_the_recorded_minutes_or_the_default_of_the_kind() -> None:
    m = parse_config({"minutes": {"touch": 11, "meeting": 22, "help": 33, "pitch": 4, "request": 5}}).minutes
    expected = {
        ev.ContactMet: 22, ev.Touched: 11, ev.HelpGiven: 33, ev.HelpReceived: 33,
        ev.Presented: 4, ev.RequestMade: 5, ev.RequestReceived: 5,
    }  # fmt: skip
    assert {cls: ev.minutes_of(FACTS[cls], m) for cls in expected} == expected
    f = Facts()
    c = f.met(d("2026-01-05"), minutes=0)
    f.touch(c, d("2026-01-06"), minutes=7)
    assert [ev.minutes_of(e, m) for e in f.events] == [0, 7]


# --------------------------------------------------------------------------- reminders


def contact(**changes: Any) -> ContactView:
    row = ContactView(CID, "sealed", "2026-08-10", "other", None, last_interaction="2026-08-10",
                      months=["2026-08"])  # fmt: skip
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def test_followup_reminder() -> None:
    r = rules.followup_reminder(contact(), CONFIG)
    assert r == Reminder(RuleKind.FOLLOWUP, CID, "2026-08-10", d("2026-08-10"), d("2026-08-13"))
    assert rules.followup_reminder(contact(), parse_config({"rules": {"followup_days": 0}})) == Reminder(
        RuleKind.FOLLOWUP, CID, "2026-08-10", d("2026-08-10"), d("2026-08-10")
    )
    assert rules.followup_reminder(contact(followed_up_on="2026-08-10"), CONFIG) is None
    assert rules.followup_reminder(contact(keep=False), CONFIG) is None


def test_season_reminders() -> None:
    seasons = rules.seasons_overlapping(d("2026-08-01"), d("2026-12-31"), CONFIG.seasons)
    assert [s.id for s in seasons] == ["summer-2026", "autumn-2026"]
    # Summer is touched (the meeting in August); autumn is not: one reminder, opening Sept 1.
    [r] = rules.season_reminders(contact(), seasons, d("2026-09-01"))
    assert r == Reminder(RuleKind.SEASON, CID, "autumn-2026", d("2026-09-01"), d("2026-11-30"))
    assert rules.season_reminders(contact(), seasons, d("2026-08-31")) == []  # opens after the horizon
    assert rules.season_reminders(contact(months=["2026-08", "2026-11"]), seasons, d("2026-11-30")) == []
    assert rules.season_reminders(contact(keep=False), seasons, d("2026-11-30")) == []
    # Met in the middle of a season: it opens on the meeting day.
    [late] = rules.season_reminders(contact(met_on="2026-10-15", months=[]), seasons[1:], d("2026-10-15"))
    assert (late.opens, late.due) == (d("2026-10-15"), d("2026-11-30"))


def test_promise_reminder() -> None:
    p = PromiseView("p" * 32, CID, "sealed", "2026-08-10", "2026-08-20")
    assert rules.promise_reminder(p) == Reminder(
        RuleKind.PROMISE, CID, "p" * 32, d("2026-08-10"), d("2026-08-20"), "p" * 32
    )
    for status in ("kept", "dropped"):
        p.status = status
        assert rules.promise_reminder(p) is None


def test_cadence_reminder() -> None:
    c = contact(cadence_days=14, last_interaction="2026-09-01")
    r = rules.cadence_reminder(c, d("2026-09-15"))
    assert r == Reminder(RuleKind.CADENCE, CID, "2026-09-15", d("2026-09-15"), d("2026-09-15"))
    assert rules.cadence_reminder(c, d("2026-09-14")) is None  # not due by the horizon
    assert rules.cadence_reminder(contact(cadence_days=None), d("2027-01-01")) is None
    assert rules.cadence_reminder(contact(cadence_days=14, keep=False), d("2027-01-01")) is None
    # No interaction recorded in the row: the meeting counts.
    assert rules.cadence_reminder(contact(cadence_days=5, last_interaction=""), d("2026-08-15")) is not None


# --------------------------------------------------------------------------- warnings


def ledger(**cols: tuple[str, int]) -> LedgerView:
    days: dict[str, list[int]] = {}
    for col, (day, n) in cols.items():
        days.setdefault(day, [0] * LEDGER_WIDTH)[{"given": GIVEN, "asked": REQ_MADE}[col]] += n
    return LedgerView(CID, days)


def test_asked_before_giving() -> None:
    asked = ledger(asked=("2026-03-02", 1))
    [w] = warnings.asked_before_giving(asked, d("2026-03-02"))
    assert (w.kind, w.contact_id, w.on) == (WarningKind.ASKED_BEFORE_GIVING, CID, d("2026-03-02"))
    assert warnings.asked_before_giving(asked, d("2026-03-01")) == []  # not yet asked on that day
    same_day = ledger(asked=("2026-03-02", 1), given=("2026-03-02", 1))
    assert warnings.asked_before_giving(same_day, d("2026-03-05")) == []
    day_after = ledger(asked=("2026-03-02", 1), given=("2026-03-03", 1))
    assert len(warnings.asked_before_giving(day_after, d("2026-03-05"))) == 1


def test_taking() -> None:
    w = warnings.taking(CID, -3, CONFIG)
    assert w == warnings.Warning(WarningKind.TAKING, CID, None, "balance -3: you only take from this contact")
    assert warnings.taking(CID, -2, CONFIG) is None
    assert warnings.taking(CID, -2, parse_config({"warnings": {"taking_balance": -2}})) is not None


def test_collecting() -> None:
    def check(today: str, **changes: Any) -> warnings.Warning | None:
        return warnings.collecting(contact(met_on="2026-01-01", **changes), d(today), CONFIG)

    assert check("2026-03-31") is None  # day 89
    w = check("2026-04-01")  # day 90
    assert w is not None and (w.kind, w.on) == (WarningKind.COLLECTING, d("2026-01-01"))
    assert check("2026-05-01", first_later="2026-04-01") is None  # an interaction on day 90
    assert check("2026-05-01", first_later="2026-04-02") is not None
    assert check("2026-05-01", why="commonality") is None
    assert check("2026-05-01", keep=False) is None


def global_days(rows: dict[str, dict[int, int]]) -> dict[str, list[int]]:
    out = {}
    for day, cols in rows.items():
        row = [0] * GLOBAL_WIDTH
        for col, n in cols.items():
            row[col] = n
        out[day] = row
    return out


# 40 % initiated by me is enough; fewer than 5 touches never warn.
@pytest.mark.parametrize(
    ("mine", "theirs", "flagged"), [(1, 4, True), (2, 3, False), (1, 3, False), (0, 5, True)]
)
def test_only_reacting(mine: int, theirs: int, flagged: bool) -> None:
    days = global_days({"2026-06-01": {fold.G_TOUCH_ME: mine, fold.G_TOUCH_THEM: theirs}})
    w = warnings.only_reacting(days, d("2026-06-01"), CONFIG)
    assert (w is not None) is flagged
    if w:
        assert w.detail == f"only {mine} of {mine + theirs} touches in the window were initiated by you"
    # Out of the window (366 days later): nothing counts.
    assert warnings.only_reacting(days, d("2027-06-02"), CONFIG) is None


def test_not_networking() -> None:
    active = global_days({"2026-06-01": {fold.INTERACTIONS_COL: 1}})
    met = global_days({"2026-06-01": {fold.NEW_CONTACTS: 1}})
    for days in (active, met):
        assert warnings.not_networking(days, d("2026-06-30"), CONFIG) is None  # day 30, today included
        w = warnings.not_networking(days, d("2026-07-01"), CONFIG)
        assert w is not None and w.kind is WarningKind.NOT_NETWORKING
    assert warnings.not_networking({}, date(2026, 1, 1), CONFIG) is not None
