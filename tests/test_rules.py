"""The rules of docs/rules.md at their boundaries.

Pure tests: facts are built by hand, folded with `views.replay` and read with the
projections. No store, no files.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from helpers_rules import Facts, d, due, kinds

from syncnet.domain.config import Config, parse_config
from syncnet.domain.rules import season_of, seasons_overlapping, window

SOUTH = parse_config({"rules": {"hemisphere": "south"}})
Act = Callable[[Facts, UUID, date], object]


def days(n: int) -> timedelta:
    return timedelta(days=n)


# --------------------------------------------------------------------------- follow-up


def test_followup_upcoming_then_due_today_on_day_3_then_overdue_on_day_4() -> None:
    f = Facts()
    met = d("2026-11-02")
    c = f.met(met)
    for today, state in [
        (met, "upcoming"),
        (met + days(2), "upcoming"),
        (met + days(3), "today"),
        (met + days(4), "overdue"),
        (met + days(40), "overdue"),
    ]:
        [r] = due(f.agenda(today), "followup", c)
        assert (r.opens, r.due, r.period) == (met, d("2026-11-05"), "2026-11-02")
        assert r.state(today) == state, today
        assert r.key == f"{c.hex}:followup:2026-11-02"


def test_followup_days_is_configurable() -> None:
    f = Facts()
    c = f.met(d("2026-11-02"))
    [r] = due(f.agenda(d("2026-11-05"), parse_config({"rules": {"followup_days": 5}})), "followup", c)
    assert r.due == d("2026-11-07")
    assert r.state(d("2026-11-05")) == "upcoming"


def test_followup_is_not_open_before_the_meeting() -> None:
    # Evaluating an earlier day (--today) over all facts: a contact met later has
    # no reminder open yet, like every other rule ("open by until").
    f = Facts()
    f.met(d("2026-11-20"))
    assert f.agenda(d("2026-11-10")) == []
    assert f.agenda(d("2026-11-10"), until=d("2026-11-19")) == []
    assert [r.rule for r in f.agenda(d("2026-11-10"), until=d("2026-11-20"))] == ["followup"]


@pytest.mark.parametrize(
    "follow_up",
    [
        pytest.param(lambda f, c, met: f.touch(c, met, by="me"), id="touch-by-me-same-day"),
        pytest.param(lambda f, c, met: f.touch(c, met + days(2), by="me"), id="touch-by-me-day-2"),
        pytest.param(lambda f, c, met: f.touch(c, met + days(9), by="me"), id="touch-by-me-late"),
        pytest.param(lambda f, c, met: f.give(c, met + days(1)), id="help-given"),
        pytest.param(
            lambda f, c, met: f.kept(f.promise(c, met, met + days(7)), c, met + days(1)),
            id="promise-kept",
        ),
    ],
)
def test_followup_is_satisfied_by_an_interaction_by_me(follow_up: Act) -> None:
    f = Facts()
    met = d("2026-11-02")
    c = f.met(met)
    follow_up(f, c, met)
    assert due(f.agenda(met + days(10)), "followup") == []
    assert f.views().get("contact", c.hex).followed_up_on is not None


@pytest.mark.parametrize(
    "not_follow_up",
    [
        pytest.param(lambda f, c, met: None, id="first-meeting-alone"),
        pytest.param(lambda f, c, met: f.touch(c, met + days(1), by="them"), id="touch-by-them"),
        pytest.param(lambda f, c, met: f.receive(c, met + days(1)), id="help-received"),
        pytest.param(lambda f, c, met: f.asked(c, met + days(1)), id="request-received"),
        pytest.param(lambda f, c, met: f.touch(c, met - days(1), by="me"), id="touch-by-me-before-meeting"),
        pytest.param(lambda f, c, met: f.promise(c, met + days(1), met + days(9)), id="promise-made-only"),
        pytest.param(
            lambda f, c, met: f.dropped(f.promise(c, met, met + days(9)), c, met + days(1)),
            id="promise-dropped",
        ),
    ],
)
def test_followup_is_not_satisfied_by_them_or_the_meeting(not_follow_up: Act) -> None:
    f = Facts()
    met = d("2026-11-02")
    c = f.met(met)
    not_follow_up(f, c, met)
    [r] = due(f.agenda(met + days(10)), "followup", c)
    assert r.due == d("2026-11-05")
    assert r.state(met + days(10)) == "overdue"


# --------------------------------------------------------------------------- pocket


def test_left_pocket_gets_no_followup_season_or_cadence_but_promises_stay_due() -> None:
    f = Facts()
    c = f.met(d("2026-08-10"))
    f.cadence(c, d("2026-08-10"), 14)
    p = f.promise(c, d("2026-08-10"), d("2026-11-01"))
    today = d("2026-11-20")
    # Kept contact: follow-up, autumn season, cadence and promise all due.
    assert {r.rule for r in f.agenda(today) if r.contact_id == c.hex} == {
        "followup", "season", "cadence", "promise",
    }  # fmt: skip
    f.pocket(c, d("2026-08-11"), keep=False)
    found = f.agenda(today)
    assert [(r.rule, r.promise_id) for r in found] == [("promise", p.hex)]
    assert found[0].state(today) == "overdue"
    # The history stays: the contact and its ledger are still there.
    v = f.views()
    assert v.get("contact", c.hex).keep is False
    # Back into the keep pocket: the reminders return.
    f.pocket(c, d("2026-08-12"), keep=True)
    assert {r.rule for r in f.agenda(today)} == {"followup", "season", "cadence", "promise"}


def test_pocket_same_day_last_recorded_wins_whatever_the_order_facts_arrive() -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    early = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    late = datetime(2026, 10, 5, 9, 0, 0, 1, tzinfo=UTC)
    # The later-recorded fact arrives first (e.g. merged from another device).
    f.pocket(c, d("2026-10-05"), keep=False, recorded=late)
    f.pocket(c, d("2026-10-05"), keep=True, recorded=early)
    assert f.views().get("contact", c.hex).keep is False
    assert due(f.agenda(d("2026-10-10")), "followup", c) == []

    g = Facts()
    c = g.met(d("2026-10-01"))
    g.pocket(c, d("2026-10-05"), keep=False, recorded=early)
    g.pocket(c, d("2026-10-05"), keep=True, recorded=late)
    assert g.views().get("contact", c.hex).keep is True
    assert len(due(g.agenda(d("2026-10-10")), "followup", c)) == 1


def test_pocket_later_day_wins_over_a_later_recording() -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    # Recorded last, but dated earlier: the fact dated 10-06 stays in force.
    f.pocket(c, d("2026-10-06"), keep=False, recorded=datetime(2026, 10, 6, tzinfo=UTC))
    f.pocket(c, d("2026-10-05"), keep=True, recorded=datetime(2026, 10, 7, tzinfo=UTC))
    assert f.views().get("contact", c.hex).keep is False
    assert f.agenda(d("2026-10-10")) == []


# --------------------------------------------------------------------------- seasons


def followed_up_contact(f: Facts, met: date, why: str | None = "commonality") -> UUID:
    c = f.met(met, why=why)
    f.touch(c, met, by="me")
    return c


def test_season_reminder_due_today_on_last_day_and_gone_the_next_day() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-08-10"))
    [r] = due(f.agenda(d("2026-11-30")), "season", c)
    assert (r.period, r.opens, r.due) == ("autumn-2026", d("2026-09-01"), d("2026-11-30"))
    assert r.state(d("2026-11-30")) == "today"
    assert r.key == f"{c.hex}:season:autumn-2026"
    # December 1st is winter in the north: no rule, no reminder.
    assert due(f.agenda(d("2026-12-01")), "season") == []
    assert due(f.agenda(d("2027-02-28")), "season") == []


def test_season_reminder_opens_on_first_day_of_season() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-08-10"))
    # The summer is touched (the meeting); on August 31 nothing is open yet.
    assert due(f.agenda(d("2026-08-31")), "season") == []
    [r] = due(f.agenda(d("2026-09-01")), "season", c)
    assert (r.period, r.opens, r.state(d("2026-09-01"))) == ("autumn-2026", d("2026-09-01"), "upcoming")


@pytest.mark.parametrize(
    "interact",
    [
        pytest.param(lambda f, c, on: f.touch(c, on, by="me"), id="touch-by-me"),
        pytest.param(lambda f, c, on: f.touch(c, on, by="them"), id="touch-by-them"),
        pytest.param(lambda f, c, on: f.give(c, on), id="help-given"),
        pytest.param(lambda f, c, on: f.receive(c, on), id="help-received"),
        pytest.param(lambda f, c, on: f.ask(c, on), id="request-made"),
        pytest.param(lambda f, c, on: f.asked(c, on), id="request-received"),
        pytest.param(
            lambda f, c, on: f.kept(f.promise(c, d("2026-08-20"), d("2026-12-20")), c, on),
            id="promise-kept",
        ),
    ],
)
@pytest.mark.parametrize("on", ["2026-09-01", "2026-10-15", "2026-11-30"])
def test_any_interaction_inside_the_season_counts_as_its_touch(interact: Act, on: str) -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-08-10"))
    interact(f, c, d(on))
    assert due(f.agenda(d("2026-11-30")), "season", c) == []


@pytest.mark.parametrize("on", ["2026-08-31", "2026-12-01"])
def test_an_interaction_just_outside_the_season_does_not_count(on: str) -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-08-10"))
    f.touch(c, d(on), by="me")
    [r] = due(f.agenda(d("2026-11-30")), "season", c)
    assert r.period == "autumn-2026"


def test_a_promise_made_in_the_season_is_not_a_touch() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-08-10"))
    f.promise(c, d("2026-10-01"), d("2026-12-24"))
    assert [r.period for r in due(f.agenda(d("2026-11-30")), "season", c)] == ["autumn-2026"]


def test_contact_met_mid_season_has_no_reminder_for_that_season() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-10-20"))
    assert due(f.agenda(d("2026-10-21")), "season", c) == []
    assert due(f.agenda(d("2026-11-30")), "season", c) == []


def test_season_reminders_only_for_contacts_in_the_keep_pocket() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-08-10"))
    f.pocket(c, d("2026-08-10"), keep=False)
    assert f.agenda(d("2026-11-30")) == []


def test_until_lists_the_next_season_reminders() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-10-01"))
    today = d("2026-11-25")
    assert due(f.agenda(today), "season") == []
    assert due(f.agenda(today, until=d("2027-02-28")), "season") == []
    [spring] = due(f.agenda(today, until=d("2027-03-01")), "season", c)
    assert (spring.period, spring.opens, spring.due) == ("spring-2027", d("2027-03-01"), d("2027-05-31"))
    assert spring.state(today) == "upcoming"
    found = due(f.agenda(today, until=d("2027-06-01")), "season", c)
    assert [r.period for r in found] == ["spring-2027", "summer-2027"]
    assert found[1].opens == d("2027-06-01")


def test_north_season_boundaries() -> None:
    seasons = Config().seasons
    expected = {
        "2026-02-28": None, "2026-03-01": "spring-2026", "2026-05-31": "spring-2026",
        "2026-06-01": "summer-2026", "2026-08-31": "summer-2026", "2026-09-01": "autumn-2026",
        "2026-11-30": "autumn-2026", "2026-12-01": None,
    }  # fmt: skip
    for day, sid in expected.items():
        s = season_of(d(day), seasons)
        assert (s.id if s else None) == sid, day


def test_south_season_boundaries_and_ids() -> None:
    seasons = SOUTH.seasons
    expected = {
        "2026-08-31": None, "2026-09-01": "spring-2026", "2026-11-30": "spring-2026",
        "2026-12-01": "summer-2026", "2027-01-15": "summer-2026", "2027-02-28": "summer-2026",
        "2027-03-01": "autumn-2027", "2027-05-31": "autumn-2027", "2027-06-01": None,
        "2028-02-29": "summer-2027",
    }  # fmt: skip
    for day, sid in expected.items():
        s = season_of(d(day), seasons)
        assert (s.id if s else None) == sid, day
    summer = season_of(d("2027-01-15"), seasons)
    assert summer is not None
    assert (summer.start, summer.end) == (d("2026-12-01"), d("2027-02-28"))
    assert summer.months == ("2026-12", "2027-01", "2027-02")
    ids = [s.id for s in seasons_overlapping(d("2026-11-30"), d("2027-03-01"), seasons)]
    assert ids == ["spring-2026", "summer-2026", "autumn-2027"]


def test_south_summer_reminder_spans_the_year_end() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-11-15"))  # southern spring
    found = due(f.agenda(d("2026-11-25"), SOUTH, until=d("2026-12-10")), "season", c)
    assert [(r.period, r.opens, r.due) for r in found] == [("summer-2026", d("2026-12-01"), d("2027-02-28"))]
    [r] = due(f.agenda(d("2027-02-28"), SOUTH), "season", c)
    assert (r.period, r.state(d("2027-02-28"))) == ("summer-2026", "today")
    assert due(f.agenda(d("2027-03-01"), SOUTH), "season", c)[0].period == "autumn-2027"
    # A touch in January (next calendar year) is the summer-2026 touch.
    f.touch(c, d("2027-01-15"), by="them")
    assert due(f.agenda(d("2027-02-28"), SOUTH), "season", c) == []


def test_south_winter_has_no_reminder() -> None:
    f = Facts()
    followed_up_contact(f, d("2026-11-15"))
    assert due(f.agenda(d("2027-06-01"), SOUTH), "season") == []
    assert due(f.agenda(d("2027-08-31"), SOUTH), "season") == []


# --------------------------------------------------------------------------- promises


def test_promise_due_on_its_date_and_overdue_the_next_day() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-10-01"))
    p = f.promise(c, d("2026-10-02"), d("2026-10-10"))
    for today, state in [("2026-10-02", "upcoming"), ("2026-10-10", "today"), ("2026-10-11", "overdue")]:
        [r] = due(f.agenda(d(today)), "promise", c)
        assert (r.promise_id, r.period, r.opens, r.due) == (p.hex, p.hex, d("2026-10-02"), d("2026-10-10"))
        assert r.state(d(today)) == state, today
    # Not on the agenda before it was made.
    assert due(f.agenda(d("2026-10-01")), "promise") == []


def test_overdue_promises_come_before_what_is_due_today() -> None:
    f = Facts()
    a = followed_up_contact(f, d("2026-10-01"))
    b = f.met(d("2026-10-07"))  # follow-up due 10-10
    p = f.promise(a, d("2026-10-02"), d("2026-10-09"))
    q = f.promise(b, d("2026-10-07"), d("2026-10-10"))
    found = f.agenda(d("2026-10-10"))
    assert [(r.rule, r.contact_id) for r in found] == [
        ("promise", a.hex), ("promise", b.hex), ("followup", b.hex),
    ]  # fmt: skip
    assert [r.promise_id for r in found[:2]] == [p.hex, q.hex]


@pytest.mark.parametrize("close", ["kept", "dropped"])
def test_closed_promise_leaves_the_agenda(close: str) -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-10-01"))
    p = f.promise(c, d("2026-10-02"), d("2026-10-10"))
    getattr(f, close)(p, c, d("2026-10-12"))
    assert due(f.agenda(d("2026-10-20")), "promise") == []
    assert f.views().get("promise", p.hex).status == close


@pytest.mark.parametrize(
    ("kept_on", "on_time", "credibility"),
    [("2026-10-05", 1, 1.0), ("2026-10-10", 1, 1.0), ("2026-10-11", 0, 0.0)],
)
def test_credibility_counts_promises_kept_on_or_before_their_date(
    kept_on: str, on_time: int, credibility: float
) -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-10-01"))
    p = f.promise(c, d("2026-10-02"), d("2026-10-10"))
    f.kept(p, c, d(kept_on))
    b = f.balance(c, d("2026-10-20"))
    assert (b.promises_due, b.promises_kept_on_time, b.credibility) == (1, on_time, credibility)
    assert b.open_promises == 0


def test_credibility_over_several_promises_and_before_they_come_due() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-10-01"))
    p1 = f.promise(c, d("2026-10-01"), d("2026-10-10"))
    p2 = f.promise(c, d("2026-10-01"), d("2026-10-10"))
    f.promise(c, d("2026-10-01"), d("2026-10-15"))  # still open
    f.kept(p1, c, d("2026-10-09"))
    f.kept(p2, c, d("2026-10-12"))
    before = f.balance(c, d("2026-10-09"))
    assert (before.promises_due, before.credibility, before.open_promises) == (0, None, 2)
    on_due = f.balance(c, d("2026-10-10"))
    assert (on_due.promises_due, on_due.promises_kept_on_time, on_due.open_promises) == (2, 1, 2)
    later = f.balance(c, d("2026-10-20"))
    assert (later.promises_due, later.promises_kept_on_time, later.open_promises) == (3, 1, 1)
    assert later.credibility == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- cadence


def test_cadence_due_one_cadence_after_the_last_interaction() -> None:
    f = Facts()
    c = followed_up_contact(f, d("2026-09-01"))
    f.cadence(c, d("2026-09-01"), 42)
    f.touch(c, d("2026-10-01"), by="them")  # last interaction, either direction
    assert due(f.agenda(d("2026-11-11")), "cadence") == []
    [r] = due(f.agenda(d("2026-11-12")), "cadence", c)
    assert (r.period, r.opens, r.due, r.state(d("2026-11-12"))) == (
        "2026-11-12", d("2026-11-12"), d("2026-11-12"), "today",
    )  # fmt: skip
    assert due(f.agenda(d("2026-11-13")), "cadence", c)[0].state(d("2026-11-13")) == "overdue"
    # Listed ahead of time with a horizon.
    assert len(due(f.agenda(d("2026-11-01"), until=d("2026-11-12")), "cadence", c)) == 1
    # Any later interaction moves it.
    f.receive(c, d("2026-11-10"))
    assert due(f.agenda(d("2026-11-13")), "cadence") == []
    assert due(f.agenda(d("2026-12-22")), "cadence", c)[0].due == d("2026-12-22")


def test_cadence_counts_from_the_meeting_and_can_be_cleared() -> None:
    f = Facts()
    c = f.met(d("2026-09-01"))
    f.cadence(c, d("2026-09-01"), 7)
    assert due(f.agenda(d("2026-09-08")), "cadence", c)[0].due == d("2026-09-08")
    f.cadence(c, d("2026-09-02"), None)
    assert due(f.agenda(d("2026-09-20")), "cadence") == []


# --------------------------------------------------------------------------- reciprocity


def test_balance_counts_and_minutes_with_defaults() -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    f.give(c, d("2026-10-02"), minutes=20)
    f.give(c, d("2026-10-03"))  # default help minutes: 30
    f.receive(c, d("2026-10-04"), minutes=45)
    f.ask(c, d("2026-10-05"), minutes=5)
    f.asked(c, d("2026-10-06"))
    f.asked(c, d("2026-10-07"))
    f.touch(c, d("2026-10-08"), by="them")
    b = f.balance(c, d("2026-10-31"))
    assert (b.given, b.received, b.balance) == (2, 1, 1)
    assert (b.given_minutes, b.received_minutes, b.balance_minutes) == (50, 45, 5)
    assert (b.requests_made, b.requests_received) == (1, 2)
    # Configured default minutes for help.
    cfg = parse_config({"minutes": {"help": 60}})
    b = f.balance(c, d("2026-10-31"), cfg)
    assert (b.given_minutes, b.balance_minutes) == (80, 35)


def test_balance_as_of_excludes_later_facts() -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    f.give(c, d("2026-10-10"), minutes=10)
    f.receive(c, d("2026-10-11"), minutes=25)
    f.ask(c, d("2026-10-12"))
    p = f.promise(c, d("2026-10-13"), d("2026-10-20"))
    assert (f.balance(c, d("2026-10-09")).given, f.balance(c, d("2026-10-09")).balance) == (0, 0)
    b10 = f.balance(c, d("2026-10-10"))
    assert (b10.given, b10.received, b10.balance_minutes, b10.requests_made) == (1, 0, 10, 0)
    b11 = f.balance(c, d("2026-10-11"))
    assert (b11.balance, b11.balance_minutes, b11.requests_made, b11.open_promises) == (0, -15, 0, 0)
    b13 = f.balance(c, d("2026-10-13"))
    assert (b13.requests_made, b13.open_promises) == (1, 1)
    f.kept(p, c, d("2026-10-15"))
    assert f.balance(c, d("2026-10-14")).open_promises == 1
    assert f.balance(c, d("2026-10-15")).open_promises == 0


# --------------------------------------------------------------------------- time split


def test_time_split_window_is_the_last_365_days_including_today() -> None:
    today = d("2026-11-25")
    assert window(today, 365) == (d("2025-11-26"), today)
    f = Facts()
    c = f.met(d("2025-01-01"), minutes=1)
    f.give(c, today - days(364), minutes=7)  # counted
    f.give(c, today - days(365), minutes=1000)  # not counted
    f.give(c, today, minutes=3)  # counted
    f.give(c, today + days(1), minutes=500)  # after today: not counted
    f.pitch(today - days(364), minutes=4)
    f.pitch(today - days(365), minutes=400)
    f.ask(c, today - days(364), minutes=2)
    f.ask(c, today - days(365), minutes=200)
    s = f.split(today)
    assert (s.start, s.end) == (d("2025-11-26"), today)
    assert (s.give, s.self, s.ask) == (10, 4, 2)
    assert s.total == 16


def test_time_split_default_minutes_and_what_does_not_count() -> None:
    today = d("2026-11-25")
    f = Facts()
    c = f.met(d("2026-10-01"))  # 30
    f.touch(c, d("2026-10-02"), by="me")  # 15
    f.touch(c, d("2026-10-03"), by="them")  # 15
    f.give(c, d("2026-10-04"), kind="introduction")  # 30
    f.pitch(d("2026-10-05"))  # 10
    f.pitch(d("2026-10-05"), cid=c)  # 10
    f.ask(c, d("2026-10-06"))  # 10
    f.receive(c, d("2026-10-07"), minutes=100)  # the other side's time
    f.asked(c, d("2026-10-08"), minutes=100)  # the other side's time
    f.receive(c, d("2026-10-09"))
    f.asked(c, d("2026-10-09"))
    s = f.split(today)
    assert (s.give, s.self, s.ask) == (90, 20, 10)
    assert s.target == {"give": 70, "self": 20, "ask": 10}
    assert s.share("give") == pytest.approx(90 / 120)
    cfg = parse_config(
        {
            "minutes": {"touch": 5, "meeting": 1, "help": 2, "pitch": 3, "request": 4},
            "split": {"window_days": 60},
        }
    )
    s = f.split(today, cfg)
    assert (s.give, s.self, s.ask) == (1 + 5 + 5 + 2, 6, 4)
    assert s.start == today - days(59)


def test_time_split_empty() -> None:
    s = Facts().split(d("2026-11-25"))
    assert (s.total, s.share("give")) == (0, None)


# --------------------------------------------------------------------------- warnings


def test_asked_before_giving() -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    f.ask(c, d("2026-10-10"))
    f.give(c, d("2026-10-12"))
    f.ask(c, d("2026-10-13"))  # after a gift: fine
    found = kinds(f.warnings(d("2026-10-20")), "asked-before-giving")
    assert [(w.contact_id, w.on) for w in found] == [(c.hex, d("2026-10-10"))]


def test_help_given_the_same_day_counts_as_before_the_request() -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    f.ask(c, d("2026-10-10"))
    f.give(c, d("2026-10-10"))
    assert kinds(f.warnings(d("2026-10-20")), "asked-before-giving") == []


def test_help_received_and_requests_received_do_not_make_up_for_giving() -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    f.receive(c, d("2026-10-02"))
    f.asked(c, d("2026-10-03"))  # they asked: no warning about me
    f.ask(c, d("2026-10-04"))
    found = kinds(f.warnings(d("2026-10-20")), "asked-before-giving")
    assert [(w.contact_id, w.on) for w in found] == [(c.hex, d("2026-10-04"))]


@pytest.mark.parametrize(
    ("given", "received", "flagged"), [(0, 2, False), (0, 3, True), (1, 4, True), (1, 3, False)]
)
def test_taking_is_a_balance_at_or_below_minus_3(given: int, received: int, flagged: bool) -> None:
    f = Facts()
    c = f.met(d("2026-10-01"))
    for i in range(given):
        f.give(c, d("2026-10-02") + days(i))
    for i in range(received):
        f.receive(c, d("2026-10-05") + days(i))
    found = kinds(f.warnings(d("2026-10-20")), "taking")
    assert [w.contact_id for w in found] == ([c.hex] if flagged else [])


def test_collecting_flagged_from_day_90_after_meeting_without_reason() -> None:
    f = Facts()
    met = d("2026-06-01")
    c = f.met(met, why=None)
    other = f.met(met, why="role-model")
    assert kinds(f.warnings(met + days(89)), "collecting") == []
    found = kinds(f.warnings(met + days(90)), "collecting")
    assert [(w.contact_id, w.on) for w in found] == [(c.hex, met)]
    assert other.hex not in [w.contact_id for w in kinds(f.warnings(met + days(200)), "collecting")]


@pytest.mark.parametrize(("after", "flagged"), [(1, False), (90, False), (91, True)])
def test_collecting_an_interaction_within_90_days_clears_it(after: int, flagged: bool) -> None:
    f = Facts()
    met = d("2026-06-01")
    c = f.met(met, why=None)
    f.touch(c, met + days(after), by="them")
    found = kinds(f.warnings(met + days(120)), "collecting")
    assert [w.contact_id for w in found] == ([c.hex] if flagged else [])


def add_touches(f: Facts, mine: int, theirs: int, start: date) -> None:
    c = f.met(start)
    for i in range(mine):
        f.touch(c, start + days(1 + i), by="me")
    for i in range(theirs):
        f.touch(c, start + days(20 + i), by="them")


@pytest.mark.parametrize(
    ("mine", "theirs", "flagged"),
    [(1, 4, True), (0, 5, True), (2, 5, True), (2, 3, False), (0, 4, False), (3, 2, False), (3, 5, True)],
)
def test_only_reacting(mine: int, theirs: int, flagged: bool) -> None:
    f = Facts()
    add_touches(f, mine, theirs, d("2026-09-01"))
    found = kinds(f.warnings(d("2026-10-15")), "only-reacting")
    assert len(found) == (1 if flagged else 0)
    if flagged:
        assert found[0].contact_id is None


def test_only_reacting_counts_touches_in_the_window_only() -> None:
    f = Facts()
    today = d("2026-11-25")
    add_touches(f, 0, 4, d("2026-09-01"))
    c = f.met(d("2025-01-01"))
    f.touch(c, today - days(365), by="them")  # outside the window
    assert kinds(f.warnings(today), "only-reacting") == []
    f.touch(c, today - days(364), by="them")  # inside
    assert len(kinds(f.warnings(today), "only-reacting")) == 1


@pytest.mark.parametrize(("ago", "flagged"), [(0, False), (29, False), (30, True), (100, True)])
@pytest.mark.parametrize("what", ["meet", "touch-by-them", "help-received"])
def test_not_networking_means_nothing_in_the_last_30_days(ago: int, flagged: bool, what: str) -> None:
    today = d("2026-11-25")
    f = Facts()
    c = f.met(d("2026-01-01"))
    f.touch(c, d("2026-01-02"))
    on = today - days(ago)
    if what == "meet":
        f.met(on)
    elif what == "touch-by-them":
        f.touch(c, on, by="them")
    else:
        f.receive(c, on)
    found = kinds(f.warnings(today), "not-networking")
    assert len(found) == (1 if flagged else 0)


def test_an_active_reciprocal_network_has_no_warnings() -> None:
    f = Facts()
    today = d("2026-11-25")
    c = f.met(d("2026-10-01"))
    f.give(c, d("2026-10-02"))
    f.ask(c, d("2026-10-20"))  # after giving, and not within 14 days of the follow-up (the gift)
    f.touch(c, d("2026-11-20"), by="me")
    f.receive(c, d("2026-11-21"))
    assert f.warnings(today) == []
