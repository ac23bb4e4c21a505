"""The warning selling-after-follow-up (docs/rules.md, "Warnings"): a request made to a
contact on the day of the first follow-up or at most `warnings.selling_days` (14) days
after it. At, just below and just above its edges, through the fold, and through the CLI
with explicit dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from helpers_rules import Facts, d, kinds
from support import Runner

from syncnet.domain import projections as pj
from syncnet.domain.config import Config, Warnings, parse_config
from syncnet.domain.rows import LEDGER_WIDTH, REQ_MADE, ContactView, LedgerView, TallyView
from syncnet.domain.rules import WarningKind
from syncnet.domain.warnings import selling_after_follow_up
from syncnet.errors import ConfigError

CID = "c" * 32
MET = "2026-05-01"
FOLLOWED = date(2026, 5, 4)
LATER = date(2026, 12, 31)  # a read long after every request
KIND = "selling-after-follow-up"


def contact(followed_up_on: str | None = FOLLOWED.isoformat(), **changes: object) -> ContactView:
    row = ContactView(CID, "sealed", MET, "other", None, followed_up_on=followed_up_on)
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def asked(*days: date) -> LedgerView:
    ledger = LedgerView(CID)
    for day in days:
        ledger.days.setdefault(day.isoformat(), [0] * LEDGER_WIDTH)[REQ_MADE] += 1
    return ledger


def tally(*days: date) -> TallyView:
    row = TallyView(CID)
    for day in days:
        row.add(day.isoformat(), REQ_MADE, 1)
    return row


def after(n: int) -> date:
    return FOLLOWED + timedelta(days=n)


# ---------------------------------------------------------------- the edges


@pytest.mark.parametrize("rows", [asked, tally], ids=["ledger", "tally"])
@pytest.mark.parametrize(
    ("offset", "detail"),
    [
        (0, "asked for something on the day of the first follow-up"),  # 0 days after: its own day
        (1, "asked for something 1 day after the first follow-up (2026-05-04)"),
        (13, "asked for something 13 days after the first follow-up (2026-05-04)"),
        (14, "asked for something 14 days after the first follow-up (2026-05-04)"),  # N: the edge
        (15, None),  # N + 1
        (-1, None),  # before the follow-up: asked-before-giving's concern
    ],
)
def test_a_request_within_n_days_of_the_follow_up(rows: object, offset: int, detail: str | None) -> None:
    assert callable(rows)
    found = selling_after_follow_up(contact(), rows(after(offset)), LATER, Config())
    if detail is None:
        assert found is None
    else:
        assert found is not None
        assert (found.kind, found.contact_id, found.on, found.detail) == (
            WarningKind.SELLING_AFTER_FOLLOW_UP, CID, after(offset), detail)  # fmt: skip


def test_no_follow_up_no_warning() -> None:
    assert selling_after_follow_up(contact(None), asked(after(0), after(2)), LATER, Config()) is None


def test_no_ledger_or_no_request_no_warning() -> None:
    assert selling_after_follow_up(contact(), None, LATER, Config()) is None
    assert selling_after_follow_up(contact(), asked(), LATER, Config()) is None


def test_a_forgotten_contact_never() -> None:
    gone = contact(forgotten="2026-06-01")
    assert selling_after_follow_up(gone, asked(after(1)), LATER, Config()) is None


def test_one_warning_per_contact_dated_the_first_request_in_the_window() -> None:
    ledger = asked(after(-2), after(3), after(9), after(30))
    found = selling_after_follow_up(contact(), ledger, LATER, Config())
    assert found is not None and found.on == after(3)
    assert "3 days after" in found.detail


def test_only_requests_up_to_today_count() -> None:
    ledger = asked(after(10))
    assert selling_after_follow_up(contact(), ledger, after(9), Config()) is None
    found = selling_after_follow_up(contact(), ledger, after(10), Config())
    assert found is not None and found.on == after(10)
    # A read of a day before the follow-up: no follow-up yet, whatever the row says.
    assert selling_after_follow_up(contact(), asked(after(0)), after(-1), Config()) is None


def test_selling_days_is_configuration() -> None:
    three = parse_config({"warnings": {"selling_days": 3}})
    assert three.warnings.selling_days == 3
    assert selling_after_follow_up(contact(), asked(after(3)), LATER, three) is not None
    assert selling_after_follow_up(contact(), asked(after(4)), LATER, three) is None
    wide = Config(warnings=Warnings(selling_days=30))
    assert selling_after_follow_up(contact(), asked(after(30)), LATER, wide) is not None
    assert selling_after_follow_up(contact(), asked(after(31)), LATER, wide) is None
    assert Config().warnings.selling_days == 14


@pytest.mark.parametrize(("value", "ok"), [(0, False), (1, True), (365, True), (366, False), ("7", False)])
def test_selling_days_range(value: object, ok: bool) -> None:
    data = {"warnings": {"selling_days": value}}
    if ok:
        assert parse_config(data).warnings.selling_days == value
    else:
        with pytest.raises(ConfigError, match=r"warnings\.selling_days"):
            parse_config(data)


# ---------------------------------------------------------------- through the fold


def test_through_the_fold_the_follow_up_is_the_first_interaction_by_me() -> None:
    f = Facts()
    ada = f.met(d(MET))
    f.ask(ada, d(MET))  # on the meeting day, no follow-up yet: asked-before-giving only
    f.touch(ada, d("2026-05-02"), by="them")  # not by me: no follow-up
    f.give(ada, d("2026-05-04"))  # the follow-up
    f.ask(ada, d("2026-05-06"))
    f.ask(ada, d("2026-05-07"))
    found = f.warnings(LATER)
    [w] = kinds(found, KIND)
    assert (w.contact_id, w.on) == (ada.hex, d("2026-05-06"))
    assert w.detail == "asked for something 2 days after the first follow-up (2026-05-04)"
    assert [x.on for x in kinds(found, "asked-before-giving")] == [d(MET)]
    # Reported right after asked-before-giving, before the contact-less warnings.
    assert [x.kind for x in found][:2] == ["asked-before-giving", KIND]


def test_through_the_fold_a_promise_kept_is_a_follow_up_and_a_meeting_is_not() -> None:
    f = Facts()
    bob = f.met(d(MET))
    pid = f.promise(bob, d(MET), d("2026-05-10"))
    f.ask(bob, d("2026-05-05"))  # after the meeting, before any follow-up
    assert kinds(f.warnings(LATER), KIND) == []
    f.kept(pid, bob, d("2026-05-05"))  # the same day: the follow-up
    [w] = kinds(f.warnings(LATER), KIND)
    assert w.on == d("2026-05-05") and w.detail.endswith("on the day of the first follow-up")


def test_through_the_fold_a_forgotten_contact_never() -> None:
    f = Facts()
    ada = f.met(d(MET))
    f.touch(ada, d("2026-05-02"))
    f.ask(ada, d("2026-05-03"))
    assert len(kinds(f.warnings(LATER), KIND)) == 1
    f.forgotten(ada, d("2026-06-01"))
    assert kinds(f.warnings(LATER), KIND) == []


def test_tallies_and_ledgers_agree_as_of_any_day() -> None:
    f = Facts()
    ada = f.met(d(MET))
    f.touch(ada, d("2026-05-02"))
    f.ask(ada, d("2026-05-10"))
    f.give(ada, d("2026-06-01"))
    v = f.views()
    contacts, days = v.all("contact"), v.get("global", "days") or {}
    ledgers = {row.id: row for row in v.all("ledger")}
    for today in (d("2026-05-09"), d("2026-05-10"), LATER):
        by_tally = pj.warnings(contacts, v.all("tally"), days, today, Config(), ledgers.__getitem__)
        by_ledger = pj.warnings(contacts, list(ledgers.values()), days, today, Config())
        assert by_tally == by_ledger
        assert len(kinds(by_tally, KIND)) == (today >= d("2026-05-10"))


# ---------------------------------------------------------------- through the CLI


def selling(run: Runner, today: str) -> dict[str, tuple[str, str]]:
    """name -> (on, detail) of the selling warnings of `syncnet warnings --today`."""
    found = run.json("warnings", "--today", today)["warnings"]
    return {w["contact"]["name"]: (w["on"], w["detail"]) for w in found if w["kind"] == KIND}


def record(run: Runner) -> None:
    T = ("--today", "2026-06-30")
    run.ok("init")
    for name in ("Ada Lovelace", "Bob Babbage", "Cy Hopper", "Di Noether"):
        run.ok("meet", name, "--on", MET, *T)
    run.ok("touch", "Ada", "--on", "2026-05-04", *T)  # follow-up
    run.ok("ask", "Ada", "--on", "2026-05-18", *T)  # 14 days after: warned
    run.ok("touch", "Bob", "--on", "2026-05-04", *T)
    run.ok("ask", "Bob", "--on", "2026-05-19", *T)  # 15 days after: not
    run.ok("ask", "Cy", "--on", "2026-05-03", *T)  # before its follow-up: asked-before-giving
    run.ok("touch", "Cy", "--on", "2026-05-04", *T)
    run.ok("touch", "Di", "--by", "them", "--on", "2026-05-02", *T)  # no follow-up by me ...
    run.ok("ask", "Di", "--on", "2026-05-05", *T)  # ... so no selling


def test_selling_through_the_cli(run: Runner) -> None:
    record(run)
    assert selling(run, "2026-06-30") == {
        "Ada Lovelace": ("2026-05-18", "asked for something 14 days after the first follow-up (2026-05-04)"),
    }
    found = run.json("warnings", "--today", "2026-06-30")["warnings"]
    pairs = {(w["kind"], w["contact"]["name"]) for w in found if w["contact"]}
    assert ("asked-before-giving", "Cy Hopper") in pairs and (KIND, "Cy Hopper") not in pairs
    # As of the day before Ada's request, nothing yet; on its day, there it is.
    assert selling(run, "2026-05-17") == {}
    assert set(selling(run, "2026-05-18")) == {"Ada Lovelace"}
    lines = run.ok("warnings", "--today", "2026-06-30").stdout.splitlines()
    [line] = [x for x in lines if x.startswith(KIND)]
    assert line.startswith("selling-after-follow-up: Ada Lovelace (")
    assert line.endswith(": asked for something 14 days after the first follow-up (2026-05-04) (2026-05-18)")


def test_selling_days_through_the_cli(run: Runner) -> None:
    record(run)
    (run.home / "config.toml").write_text("[warnings]\nselling_days = 15\n", encoding="utf-8")
    assert set(selling(run, "2026-06-30")) == {"Ada Lovelace", "Bob Babbage"}
    (run.home / "config.toml").write_text("[warnings]\nselling_days = 13\n", encoding="utf-8")
    assert selling(run, "2026-06-30") == {}
    (run.home / "config.toml").write_text("[warnings]\nselling_days = 0\n", encoding="utf-8")
    error = run.fails("warnings", "--today", "2026-06-30")
    assert "warnings.selling_days = 0 is out of range: 1 .. 365" in error


def test_forgotten_contact_through_the_cli(run: Runner) -> None:
    record(run)
    run.ok("forget", "Ada", "--yes")  # dated the real day: gone from the reads of every day
    assert selling(run, "2026-06-30") == {}
