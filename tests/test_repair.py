"""Calendars holding wrong text from an older version are repaired (issue 9, fix 3).

The previous release wrote "[forgotten]" for contacts met after a long-running process
started, and recorded those items as its own with their (wrong) content. After an
upgrade, one `sync` must rewrite every such item even though no fact changed since,
while an item the user edited on the server stays as the user made it, and an item
whose text was right is not written again.
Real Radicale, read back with the independent `caldav` client.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from caldav_fixtures import Calendar, read_back
from icalendar import Calendar as ICalendar

from syncnet.app.network import Network
from syncnet.bootstrap import sync_target
from syncnet.domain import commands as cmd
from syncnet.domain.reminders import CalendarItem
from syncnet.storage.store import init_store

TODAY = date(2026, 11, 20)
SCOPE = "target:cal"


def open_net(home: Path) -> Network:
    return Network.open(home, today=TODAY)


def forget_names(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, "[forgotten]")
    return text


def rewrite_on_server(cal: Calendar, href: str, change: Any) -> str:
    """GET an item, change its components with `change`, PUT it back; the new ETag."""
    r = httpx.get(href, timeout=10)
    r.raise_for_status()
    ical = ICalendar.from_ical(r.content)
    for c in ical.walk():
        if c.name in ("VTODO", "VEVENT"):
            change(c)
    put = httpx.put(href, content=ical.to_ical(), timeout=10,
                    headers={"If-Match": r.headers["ETag"], "Content-Type": "text/calendar"})  # fmt: skip
    assert put.status_code in (201, 204), put.text
    etag = put.headers.get("ETag") or httpx.head(href, timeout=10).headers["ETag"]
    return str(etag)


def previous_agenda_key(net: Network) -> str:
    """The agenda key as the previous release computed it (no render version in it): the
    state it left says "the calendar holds the agenda of this position and day"."""
    c, t = net.config, net.config.targets[0]
    settings = (c.timezone, c.followup_days, c.seasons, c.minutes, t.horizon_days, t.style, t.alarms)
    raw = f"{net.views.agenda_position()}|{TODAY.isoformat()}|{settings!r}"
    return hashlib.sha256(raw.encode()).hexdigest()


def test_items_written_wrong_by_an_older_version_are_rewritten_and_the_users_edit_stays(
    tmp_path: Path, radicale_calendar: Calendar
) -> None:
    cal = radicale_calendar
    home = tmp_path / "store"
    init_store(home)
    (home / "config.toml").write_text(f'[targets.cal]\ntype = "caldav"\nurl = "{cal.url}"\n')
    names = ["Ængus Ó Súilleabháin", "Zoë Ødegård"]
    with open_net(home) as net:
        net.record_many([
            cmd.Meet(names[0], where="Café Nöt", on=date(2026, 11, 18)),
            cmd.Meet(names[1], channel="conference", on=date(2026, 11, 19)),
            cmd.Meet("Grace Hopper", channel="workshop", on=date(2026, 11, 19)),  # met before: right
            cmd.Promise("Zoë", "send the Æsir paper", date(2026, 12, 5), on=date(2026, 11, 19)),
        ])  # fmt: skip
        first = sync_target(net, net.config.targets[0])
        assert first.error is None and first.report is not None
        truth = {a.uid: a.summary for a in first.report.actions if a.action == "created"}
        assert len(truth) >= 3 and all(truth.values())

    # Leave server and state as the previous release would have: "[forgotten]" texts, recorded as ours.
    with open_net(home) as net:
        state = net.state.get(SCOPE, "state")
        items: dict[str, dict[str, Any]] = state["items"]
        (user_edited,) = [u for u, s in truth.items() if s.startswith(f"Follow up with {names[1]}")]
        wrong = {u for u, s in truth.items() if any(n in s for n in names)}
        assert 3 <= len(wrong) < len(truth)  # Grace's items were written right
        for uid, st in items.items():
            st.pop("render", None)  # the previous release recorded no render version
            if uid not in wrong:
                continue
            summary = forget_names(truth[uid], names)

            def to_v1(c: Any, summary: str = summary) -> None:
                c["SUMMARY"] = summary
                c["DESCRIPTION"] = forget_names(str(c["DESCRIPTION"]), names)

            st["etag"] = rewrite_on_server(cal, cal.url + st["href"].rsplit("/", 1)[1], to_v1)
            st["content_hash"] = CalendarItem(uid, "", "", "", TODAY, TODAY, summary, "").content_hash
        state["agenda_key"] = previous_agenda_key(net)
        net.state.put(SCOPE, "state", state)
    # ... and the user then edits one of those items on the phone.
    href = cal.url + items[user_edited]["href"].rsplit("/", 1)[1]
    rewrite_on_server(cal, href, lambda c: c.__setitem__("SUMMARY", "Lunch with Zoë, my way"))

    with open_net(home) as net:  # no fact changed since the last sync
        repair = sync_target(net, net.config.targets[0])
        assert repair.error is None and repair.report is not None
        updated = {a.uid for a in repair.report.actions if a.action == "updated"}
        assert updated == wrong - {user_edited}  # only what was wrong: Grace's items are not sent
        assert repair.report.count("user-changed") == 1

    on_server = {str(c["UID"]): c for c in read_back(cal)}
    assert set(on_server) == set(truth)
    for uid, summary in truth.items():
        text = str(on_server[uid]["SUMMARY"])
        if uid == user_edited:
            assert text == "Lunch with Zoë, my way"
        else:
            assert text == summary and "[forgotten]" not in str(on_server[uid]["DESCRIPTION"])
    assert any("Café Nöt" in str(c["SUMMARY"]) for c in on_server.values())
    assert any("send the Æsir paper" in str(c["SUMMARY"]) for c in on_server.values())

    with open_net(home) as net:  # repaired once: the next sync is a no-op again
        again = sync_target(net, net.config.targets[0])
        assert again.report is not None and again.report.actions == [] and again.requests <= 2
