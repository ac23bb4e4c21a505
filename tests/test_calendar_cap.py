"""A calendar target holds at most `max_items` items (docs/rules.md, "Calendar size").

- The pure rule (syncnet.domain.grouping.capped): nothing changes at or below the cap;
  above it season and cadence reminders are grouped per ISO week (then month, year,
  one), follow-ups and promises never; group UIDs depend on the period, not on members.
- The setting: `targets.NAME.max_items`, its default, its range, and the agenda key.
- A store of 5,000 contacts (bench/synthetic.py): `calendar_items` of a target, an .ics
  target written by `syncnet sync` and read back with icalendar, and a first sync to a
  real Radicale counting the PUTs.
"""

from __future__ import annotations

import random
import re
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from caldav_fixtures import Calendar, read_back
from icalendar import Calendar as ICalendar
from support import TODAY, Runner, caldav_target, ics_target, write_config

from bench.synthetic import network
from syncnet.app import calendars
from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.domain.config import Target, parse_config
from syncnet.domain.grouping import capped, group_key
from syncnet.domain.reminders import CalendarItem, uid_for
from syncnet.errors import ConfigError
from syncnet.storage.store import init_store

DAY = date.fromisoformat(TODAY)  # 2026-11-20, a Friday in ISO week 2026-W47
HORIZON = 60
CAP = 200
GROUPED = ("season", "cadence")


# ---------------------------------------------------------------- the pure rule
def item(rule: str, n: int, due: date, opens: date | None = None) -> CalendarItem:
    """A calendar item as calendars.agenda_to_items makes it, for contact number `n`."""
    cid = UUID(int=random.Random(n).getrandbits(128)).hex
    name = f"Person {n:05d}"
    summary = {
        "season": f"Touch {name} this autumn (autumn 2026, 3×1 rule)",
        "cadence": f"Time to touch {name} again (cadence; last interaction 2026-01-01)",
        "followup": f"Follow up with {name} — met on 2026-11-18",
        "promise": f"Keep your promise to {name}: the paper",
    }[rule]
    key = f"{cid}:{rule}:{due.isoformat()}"
    return CalendarItem(uid_for(key), key, rule, cid, opens or due, due, summary,
                        f"{summary}.\nsyncnet history {cid[:8]}")  # fmt: skip


def mixed(n: int, seed: int = 1, singles: int = 20, span: int = 60) -> list[CalendarItem]:
    """`n` items due from 30 days ago to `span` days on; `singles` of them follow-ups
    and promises, the rest season and cadence reminders."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rule = ("followup", "promise")[i % 2] if i < singles else GROUPED[i % 2]
        out.append(item(rule, i, DAY + timedelta(days=rng.randrange(-30, span))))
    return sorted(out, key=lambda i: i.due)  # as the agenda orders them


def groups(items: Sequence[CalendarItem]) -> list[CalendarItem]:
    return [i for i in items if i.rule == "group"]


def members(group: CalendarItem) -> list[str]:
    """The lines of a group's description that list one reminder each."""
    return [line for line in group.description.splitlines() if line.startswith("- ")]


def assert_each_grouped_once(items: Sequence[CalendarItem], out: Sequence[CalendarItem]) -> None:
    """Every season and cadence reminder is listed in exactly one group (its due day,
    its summary with the name, and its history link), nothing else is."""
    listed = Counter(line for g in groups(out) for line in members(g))
    wanted = Counter(f"- {i.due}: {i.summary}. syncnet history {i.contact_id[:8]}"
                     for i in items if i.rule in GROUPED)  # fmt: skip
    assert listed == wanted


@pytest.mark.parametrize("n", [0, 1, 199, 200])
def test_at_or_below_the_cap_every_item_stays_as_it_is(n: int) -> None:
    items = mixed(n)
    assert capped(items, CAP) == items  # the same items, UIDs and content: nothing rewritten
    assert [i.content_hash for i in capped(items, CAP)] == [i.content_hash for i in items]


def test_above_the_cap_seasons_and_cadences_are_grouped_per_iso_week() -> None:
    items = mixed(201)
    out = capped(items, CAP)
    assert len(out) <= CAP
    singles = [i for i in items if i.rule not in GROUPED]
    assert [i for i in out if i.rule != "group"] == singles  # follow-ups and promises: single, as they were
    weeks = {i.due.isocalendar()[:2] for i in items if i.rule in GROUPED}
    assert len(groups(out)) == len(weeks)
    for g in groups(out):
        year, week = g.due.isocalendar()[:2]
        assert g.key == group_key("week", f"{year}-W{week:02d}") and g.uid == uid_for(g.key)
        inside = [i for i in items if i.rule in GROUPED and i.due.isocalendar()[:2] == (year, week)]
        assert g.due == min(i.due for i in inside) and g.opens == min(i.opens for i in inside)
        assert g.summary == f"Touch {len(inside)} contacts this week"
        assert g.contact_id == ""
    assert_each_grouped_once(items, out)
    assert [i.due for i in out] == sorted(i.due for i in out)


def test_one_contact_is_one_contact_and_a_group_of_one_says_so() -> None:
    twice = [item("season", 1, DAY), item("cadence", 1, DAY + timedelta(days=1))]
    alone = [item("season", 2, DAY + timedelta(days=7))]
    items = [*twice, *alone, item("followup", 3, DAY)]
    out = capped(items, 3)
    assert [g.key for g in groups(out)] == ["group:week:2026-W47", "group:week:2026-W48"]
    week47, week48 = groups(out)
    assert week47.summary == "Touch 1 contact this week" and len(members(week47)) == 2
    assert week48.summary == "Touch 1 contact this week" and len(members(week48)) == 1
    # A cap of 2 leaves room for one group beside the follow-up: the month.
    (month,) = groups(capped(items, 2))
    assert month.key == "group:month:2026-11" and month.summary == "Touch 2 contacts this month"
    assert_each_grouped_once(items, capped(items, 2))


def test_follow_ups_and_promises_are_never_grouped_even_far_over_the_cap() -> None:
    kinds = ("followup", "promise")
    singles = [item(kinds[i % 2], i, DAY + timedelta(days=i % 50)) for i in range(500)]
    singles.sort(key=lambda i: i.due)
    touch = [item(GROUPED[i % 2], 1000 + i, DAY + timedelta(days=i % 60)) for i in range(300)]
    out = capped(singles + touch, CAP)
    # The documented exception: every single item stays, the rest goes into one item.
    assert [i for i in out if i.rule != "group"] == singles
    (everything,) = groups(out)
    assert everything.key == "group:all:all" and everything.summary == "Touch 300 contacts"
    assert len(out) == len(singles) + 1
    assert_each_grouped_once(singles + touch, out)
    assert capped(singles, CAP) == singles  # nothing to group: exactly the single items


def test_group_uids_come_from_the_period_not_from_the_members() -> None:
    items = mixed(400, seed=3)
    before = {g.key: g for g in groups(capped(items, CAP))}
    # A member done, another one due in the same week: the same UIDs, new content.
    done = next(i for i in items if i.rule == "season" and i.due.isocalendar()[:2] == (2026, 48))
    newcomer = item("cadence", 9999, date(2026, 11, 26))  # in 2026-W48 too
    after = {g.key: g for g in groups(capped([i for i in items if i is not done] + [newcomer], CAP))}
    assert set(after) == set(before)
    assert {k: g.uid for k, g in after.items()} == {k: g.uid for k, g in before.items()}
    w48 = group_key("week", "2026-W48")
    assert after[w48].content_hash != before[w48].content_hash
    assert done.summary in before[w48].description and done.summary not in after[w48].description
    assert newcomer.summary in after[w48].description
    unchanged = [k for k in before if k != w48]
    assert all(after[k] == before[k] for k in unchanged)  # other weeks: not rewritten
    # Deterministic: the input's order does not matter.
    shuffled = items[:]
    random.Random(5).shuffle(shuffled)
    assert groups(capped(shuffled, CAP)) == groups(capped(items, CAP))


def test_weekly_groups_that_do_not_fit_become_monthly_then_yearly_then_one() -> None:
    # Season and cadence reminders spread over 400 weeks (overdue cadences go back years).
    items = [item(GROUPED[i % 2], i, DAY - timedelta(days=7 * (i % 400))) for i in range(2000)]
    months = {(i.due.year, i.due.month) for i in items}
    years = {i.due.year for i in items}
    assert len(months) > 90 and len(years) == 8
    expected = [(400, "week", 400), (399, "month", len(months)), (len(months), "month", len(months)),
                (90, "year", len(years)), (8, "year", 8), (7, "all", 1), (1, "all", 1)]  # fmt: skip
    for cap, level, count in expected:
        out = capped(items, cap)
        assert len(out) == count <= cap, (cap, level)
        assert {g.key.split(":")[1] for g in out} == {level}
        assert_each_grouped_once(items, out)
    yearly = capped(items, 90)
    assert {g.key for g in yearly} == {f"group:year:{y}" for y in years}
    assert all(g.summary.endswith(" this year") for g in yearly)
    assert all(g.summary.endswith(" this month") for g in capped(items, 399))


@pytest.mark.parametrize("cap", [1, 2, 10, 64, 200, 1000, 5999, 6000])
def test_the_cap_holds_for_thousands_of_items(cap: int) -> None:
    rng = random.Random(cap)
    items = [item(GROUPED[i % 2], i, DAY + timedelta(days=rng.randrange(-3650, 60))) for i in range(5990)]
    items += [item(("followup", "promise")[i % 2], 6000 + i, DAY + timedelta(days=rng.randrange(-100, 60)))
              for i in range(10)]  # fmt: skip
    items.sort(key=lambda i: i.due)
    out = capped(items, cap)
    if cap >= len(items):
        assert out == items
        return
    # At most the cap; 11 (ten single items and one group) when they alone fill it.
    assert len(out) <= cap if cap >= 11 else len(out) == 11
    assert [i for i in out if i.rule != "group"] == [i for i in items if i.rule not in GROUPED]
    assert_each_grouped_once(items, out)


# ---------------------------------------------------------------- the setting
def target(**options: Any) -> Target:
    (t,) = parse_config({"targets": {"phone": {"type": "ics", "path": "/tmp/x.ics", **options}}}).targets
    return t


def test_max_items_defaults_to_200_and_is_checked_like_every_number() -> None:
    assert target().max_items == 200 == Target("x", "ics").max_items
    assert target(max_items=1).max_items == 1
    assert target(max_items=100_000).max_items == 100_000
    for wrong, message in [
        (0, "config: targets.phone.max_items = 0 is out of range: 1 .. 100000"),
        (100_001, "config: targets.phone.max_items = 100001 is out of range: 1 .. 100000"),
        ("200", "config: targets.phone.max_items must be int, got '200'"),
        (2.5, "config: targets.phone.max_items must be int, got 2.5"),
        (True, "config: targets.phone.max_items must be int, got True"),
    ]:
        with pytest.raises(ConfigError) as e:
            target(max_items=wrong)
        assert str(e.value) == message


# ---------------------------------------------------------------- 5,000 contacts
@dataclass
class Big:
    home: Path  # a store of 5,000 contacts whose old follow-ups and promises are done
    untended: list[CalendarItem]  # the target's items before that
    untended_singles: int


def _agenda(net: Network) -> list[Any]:
    return [a for a in net.agenda(DAY, until=DAY + timedelta(days=HORIZON))
            if a.reminder.due <= DAY + timedelta(days=HORIZON)]  # fmt: skip


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Big:
    """bench/synthetic.py's network of 5,000 contacts over ten years (20,000 facts), built
    once. Left as it is, it has over a thousand overdue follow-ups and open promises; a
    user who tends the network has done those, so they are then done (touched on the
    meeting day, dropped), except the recent ones, and every fifth contact gets a cadence
    (due in the next weeks, or a little overdue)."""
    home = tmp_path_factory.mktemp("big") / "home"
    init_store(home)
    with Network.open(home, today=DAY) as net:
        net.record_many(network(20_000, 5_000, years=10, today=DAY))
        untended = [s.item for s in calendars.calendar_items(net, HORIZON, DAY, CAP)]
        agenda = _agenda(net)
        singles = sum(a.reminder.rule not in GROUPED for a in agenda)
        met = {v.id: date.fromisoformat(v.met_on) for v in net.views.load_all("contact")}
        done: list[Any] = []
        for a in agenda:
            r = a.reminder
            if r.rule == "followup" and met[r.contact_id] < DAY - timedelta(days=10):
                done.append(cmd.Touch(r.contact_id, "me", "email", None, met[r.contact_id]))
            elif r.rule == "promise" and r.due < DAY - timedelta(days=10):
                done.append(cmd.Dropped(r.promise_id or "", DAY))
        net.record_many(done)
        # Every fifth contact: a cadence due from 20 days ago to the horizon's end.
        rng, cadences = random.Random(11), []
        for n, view in enumerate(sorted(net.views.load_all("contact"), key=lambda v: v.id)):
            days = (DAY - date.fromisoformat(view.last_interaction)).days + rng.randrange(-20, HORIZON)
            if n % 5 == 0 and 1 <= days <= 5 * 365:  # a cadence is at most five years
                cadences.append(cmd.Cadence(view.id, days, DAY))
        net.record_many(cadences)
    return Big(home, untended, singles)


@pytest.fixture
def copy(big: Big, home: Path) -> Path:
    """The big store, copied into the test's home (the `run` fixture's): each test
    changes its own."""
    shutil.copytree(big.home, home)
    return home


def test_5000_contacts_untended_every_single_item_stays_and_the_rest_is_one(big: Big) -> None:
    assert big.untended_singles > CAP  # the synthetic network leaves that many follow-ups open
    assert sum(i.rule != "group" for i in big.untended) == big.untended_singles
    (everything,) = groups(big.untended)
    assert everything.summary.startswith("Touch ") and len(members(everything)) > 3000


def test_5000_contacts_hold_at_most_200_items_each_contact_in_one_group(copy: Path) -> None:
    with Network.open(copy, today=DAY) as net:
        agenda = _agenda(net)
        full = calendars.calendar_items(net, HORIZON, DAY)  # the feed's: one item per reminder
        out = [s.item for s in calendars.calendar_items(net, HORIZON, DAY, CAP)]
    assert len(full) == len(agenda) > 4000
    assert len(out) <= CAP
    singles = [i.item for i in full if i.item.rule not in GROUPED]
    assert 0 < len(singles) < CAP // 2
    assert [i for i in out if i.rule != "group"] == singles
    assert len(groups(out)) > 5  # season reminders in one week, cadences in many
    assert_each_grouped_once([s.item for s in full], out)
    # Each contact due for a touch is named in the group of its week, and only there.
    where: dict[str, set[str]] = {}
    for a in agenda:
        if a.reminder.rule in GROUPED:
            weeks = where.setdefault(a.contact.name, set())
            weeks.add(group_key("week", "{}-W{:02d}".format(*a.reminder.due.isocalendar()[:2])))
    assert len(where) > 3000
    for g in groups(out):
        assert g.key.startswith("group:week:")
        names = set(re.findall(r"Contact \d{5} \w+", g.description))
        assert names == {n for n, keys in where.items() if g.key in keys}


def test_5000_contacts_sync_to_an_ics_file(run: Runner, copy: Path, tmp_path: Path) -> None:
    assert copy == run.home
    path = tmp_path / "syncnet.ics"
    write_config(run.home, file=ics_target(path))
    doc = run.json("sync", "--today", TODAY)
    (t,) = doc["targets"]
    assert t["ok"], t
    parsed = ICalendar.from_ical(path.read_bytes())
    events = parsed.walk("VEVENT")
    assert 0 < len(events) <= CAP and not parsed.walk("VTODO")
    grouped = [e for e in events if re.fullmatch(r"Touch \d+ contacts? this week", str(e["SUMMARY"]))]
    assert len(grouped) > 5
    # Read back: each reminder `syncnet due` lists singly is in exactly one group's text.
    due = run.json("due", "--until", str(DAY + timedelta(days=HORIZON)), "--today", TODAY)["agenda"]
    touch = [a for a in due if a["rule"] in GROUPED]
    texts = [str(e["DESCRIPTION"]) for e in grouped]
    for a in touch:
        line = f"- {a['due']}: {a['summary']}. syncnet history {a['contact']['id'][:8]}"
        assert sum(line in text.splitlines() for text in texts) == 1, line
    assert sum(len(text.splitlines()) - 1 for text in texts) == len(touch)
    for e in grouped:
        count = int(str(e["SUMMARY"]).split()[1])
        lines = str(e["DESCRIPTION"]).splitlines()[1:]
        assert count == len({line.rsplit(" ", 1)[1] for line in lines})  # distinct contacts
    single = {str(e["UID"]) for e in events} - {str(e["UID"]) for e in grouped}
    assert single == {uid_for(a["key"]) for a in due if a["rule"] not in GROUPED}


def test_5000_contacts_first_sync_to_radicale_sends_at_most_200_puts(
    run: Runner, copy: Path, radicale_calendar: Calendar
) -> None:
    assert copy == run.home
    write_config(run.home, phone=caldav_target(radicale_calendar.url))
    doc = run.json("sync", "--today", TODAY)
    (t,) = doc["targets"]
    assert t["ok"], t
    created = t["counts"]["created"]
    assert 0 < created <= CAP and t["requests"] <= created + 5  # the PUTs and a few REPORTs
    on_server = read_back(radicale_calendar)
    assert len(on_server) == created
    grouped = {str(c["UID"]): c for c in on_server if str(c["SUMMARY"]).endswith("contacts this week")}
    assert len(grouped) > 5
    # A contact named once in the calendar (an autumn touch in a group) touched: its
    # group is updated in place (same UID), nothing else is sent.
    lines = [line for c in on_server for line in str(c["DESCRIPTION"]).splitlines()]
    shorts = Counter(line.rsplit(" ", 1)[1] for line in lines if line.startswith("- "))
    autumn = [line.rsplit(" ", 1)[1] for line in lines if line.startswith("- 2026-11-30: Touch ")]
    short = next(s for s in autumn if shorts[s] == 1)
    (group,) = [u for u, c in grouped.items() if short in str(c["DESCRIPTION"])]
    run.ok("touch", short, "--by", "me", "--today", TODAY)
    again = run.json("sync", "--today", TODAY)["targets"][0]
    assert [(a["action"], a["uid"]) for a in again["actions"]] == [("updated", group)]
    after = {str(c["UID"]): c for c in read_back(radicale_calendar)}
    assert set(after) == {str(c["UID"]) for c in on_server}
    assert short not in str(after[group]["DESCRIPTION"])
    assert str(after[group]["SUMMARY"]) != str(grouped[group]["SUMMARY"])  # one contact fewer


def test_max_items_is_part_of_the_agenda_key(copy: Path) -> None:
    with Network.open(copy, today=DAY) as net:
        phone = Target("phone", "ics", path="/tmp/x.ics")
        key = calendars.agenda_key(net, phone, DAY)
        assert key == calendars.agenda_key(net, replace(phone), DAY)
        assert key != calendars.agenda_key(net, replace(phone, max_items=300), DAY)
