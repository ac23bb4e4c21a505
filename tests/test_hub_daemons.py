"""Two daemons of one hub and one Radicale calendar: one pushes to the calendar (it
holds the lease), the other waits; facts recorded on either device after they started
reach the calendar, each reminder exactly once; when the holder is killed, the other
takes over and the calendar still holds each reminder once.
"""

from __future__ import annotations

import signal
from datetime import date, timedelta
from pathlib import Path

from caldav_fixtures import Calendar, read_back, read_back_uids
from support import Background, Runner, wait_for
from test_hub import two_devices


def with_calendar(run: Runner, url: str, hub_url: str, member: str) -> None:
    (run.home / "config.toml").write_text(
        f'[hub]\nurl = "{hub_url}"\nmember = "{member}"\npoll = 1\n\n'
        f'[targets.team]\ntype = "caldav"\nurl = "{url}"\n',
        encoding="utf-8",
    )


def summaries(cal: Calendar) -> list[str]:
    return sorted(str(c.get("SUMMARY")) for c in read_back(cal))


def test_two_daemons_push_each_reminder_once(
    tmp_path: Path, hub_url: str, radicale_calendar: Calendar
) -> None:
    a, b = two_devices(tmp_path, hub_url)
    with_calendar(a, radicale_calendar.url, hub_url, "laptop")
    with_calendar(b, radicale_calendar.url, hub_url, "desktop")
    yesterday = (date.today() - timedelta(days=1)).isoformat()  # the daemons run on the real date
    a.ok("meet", "Ada Lovelace", "--on", yesterday)
    b.ok("meet", "Grace Hopper", "--on", yesterday)
    daemons: dict[str, Background] = {
        "a": a.popen("daemon", "--poll", "0.2", "--verbose"),
        "b": b.popen("daemon", "--poll", "0.2", "--verbose"),
    }

    def settled(n: int) -> bool:
        uids = read_back_uids(radicale_calendar)
        return len(uids) == n

    wait_for(lambda: settled(2), 30, "both follow-ups on the calendar")
    # facts recorded after the daemons started, on each device
    a.ok("meet", "Katherine Johnson", "--on", yesterday)
    b.ok("meet", "Margaret Hamilton", "--on", yesterday)
    wait_for(lambda: settled(4), 30, "the follow-ups of the facts recorded since")
    uids = read_back_uids(radicale_calendar)
    assert len(uids) == len(set(uids)) == 4
    assert all(
        any(n in s for s in summaries(radicale_calendar))
        for n in ("Ada Lovelace", "Grace Hopper", "Katherine Johnson", "Margaret Hamilton")
    )
    logs = {k: d.stderr() for k, d in daemons.items()}
    holders = [k for k, log in logs.items() if "this device pushes to it now" in log]
    assert len(holders) == 1, logs
    (holder,) = holders
    other = "b" if holder == "a" else "a"
    assert "another process of the hub (a daemon here or elsewhere) pushes to it" in logs[other], logs[other]
    assert "team:" not in "".join(line for line in logs[other].splitlines() if "created" in line)

    # the holder dies: the other takes the calendar over on its next sync
    daemons[holder].stop(signal.SIGKILL)
    survivor = a if other == "a" else b
    survivor.ok("meet", "Hedy Lamarr", "--on", yesterday)
    wait_for(lambda: settled(5), 60, "the survivor's push after the takeover")
    uids = read_back_uids(radicale_calendar)
    assert len(uids) == len(set(uids)) == 5, uids
    wait_for(lambda: "this device pushes to it now" in daemons[other].stderr(), 10, "the takeover logged")
    daemons[other].stop()
