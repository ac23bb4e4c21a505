"""Records of pushes cost O(syncs), not O(items) (issue 11, target 4).

One sync of one target that changed something appends one `TargetSynced` fact holding
every change (UID, action, result, contact, summary sealed with that contact's key); a
sync that changed nothing appends nothing. `syncnet history NAME` still shows one
"pushed" entry per item of that contact, and stores written with the older per-item
`ReminderPushed` facts still show theirs. Pushes never move the agenda key.

Against a real store and a real .ics target, through the CLI.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from support import TODAY, T, agenda_items, horizon_end, record, write_config

from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.domain import events as ev

DAY = date.fromisoformat(TODAY)


@pytest.fixture
def synced_home(run: Any, home: Path, tmp_path: Path) -> Path:
    """An initialised store with one .ics target named "file"."""
    run.ok("init")
    write_config(home, file={"type": "ics", "path": str(tmp_path / "reminders.ics")})
    return home


def position(home: Path) -> int:
    with Network.open(home, today=DAY) as net:
        return net.position()


def sync(run: Any) -> dict[str, Any]:
    (target,) = run.json("sync", *T)["targets"]
    assert target["ok"] is True, target
    return dict(target)


def facts(home: Path, after: int = 0) -> list[tuple[int, ev.Fact]]:
    with Network.open(home, today=DAY) as net:
        return net.store.log.after(after, 1_000_000)


def pushed(run: Any, name: str) -> list[dict[str, Any]]:
    return [e for e in run.json("history", name, *T)["events"] if e["kind"] == "pushed"]


def summaries_of(run: Any, name: str) -> set[str]:
    """The summaries of the agenda items of that contact (what a calendar holds)."""
    agenda = agenda_items(run, horizon_end(TODAY), *T)
    return {i["summary"] for i in agenda.values() if i["contact"]["name"] == name}


def test_ten_syncs_that_change_items_add_one_fact_each(run, synced_home):
    home = synced_home
    items = 0
    for n in range(10):
        # each round meets four new people: each brings a follow-up due within the horizon
        record(home, *(cmd.Meet(f"Person {n}-{k}", on=DAY) for k in range(4)))
        before = position(home)
        target = sync(run)
        assert target["counts"]["created"] == 4, target
        added = facts(home, before)
        assert position(home) - before == 1
        ((_, fact),) = added
        assert isinstance(fact, ev.TargetSynced) and fact.target == "file"
        assert [(p.uid, p.action, p.result) for p in fact.pushes()] == [
            (a["uid"], a["action"], a["result"]) for a in target["actions"]
        ]
        items += len(target["actions"])
    assert items == 40
    records = [f for _, f in facts(home) if isinstance(f, ev.PUSH_RECORDS)]
    assert len(records) == 10  # one per sync, for forty items pushed
    assert not any(isinstance(f, ev.ReminderPushed) for f in records)
    # the networking facts are the 40 meetings: the log holds those plus ten records
    assert len(facts(home)) == 40 + 10


def test_a_sync_that_changes_nothing_appends_nothing(run, synced_home):
    home = synced_home
    record(home, cmd.Meet("Ada Lovelace", on=DAY))
    assert sync(run)["actions"]
    before = position(home)
    for _ in range(3):
        target = sync(run)
        assert target["actions"] == [] and target["counts"]["created"] == 0
    assert position(home) == before
    # and the engine's own call with no actions appends nothing either
    with Network.open(home, today=DAY) as net:
        net.record_pushes("file", [])
        assert net.position() == before


def test_history_shows_that_contacts_pushes_with_their_summaries_only(run, synced_home):
    home = synced_home
    record(home, cmd.Meet("Ada Lovelace", on=DAY), cmd.Meet("Bob Smith", on=DAY),
           cmd.Meet("Grace Hopper", on=date(2026, 11, 1)))  # fmt: skip
    run.ok("promise", "Ada", "Send the paper", "--due", "2026-11-25", *T)
    before = position(home)
    target = sync(run)
    assert position(home) == before + 1  # Ada's two items, Bob's and Grace's: one fact

    ada = pushed(run, "Ada Lovelace")
    want = summaries_of(run, "Ada Lovelace")
    assert len(want) == 2  # the follow-up and the promise
    assert sorted(e["details"]["summary"] for e in ada) == sorted(want)
    for e in ada:
        d = e["details"]
        assert (d["target"], d["action"], d["result"]) == ("file", "created", "ok")
        assert d["contact_id"].startswith("Ada Lovelace (")
        assert "Bob" not in str(d) and "Grace" not in str(d)
    # the same per-push shape as the per-item records had
    assert all(list(e["details"]) == ["target", "action", "result", "summary", "contact_id"] for e in ada)

    bob = pushed(run, "Bob")
    assert [e["details"]["summary"] for e in bob] == sorted(summaries_of(run, "Bob Smith"))
    assert "Ada" not in str(bob) and "Grace" not in str(bob)
    assert {e["fact_id"] for e in ada} == {e["fact_id"] for e in bob}  # one record, read twice
    uids = {a["uid"] for a in target["actions"]}
    assert len(uids) == 4

    # in the log: each summary sealed with its own contact's key, no name in plain text
    ((_, fact),) = facts(home, before)
    assert isinstance(fact, ev.TargetSynced)
    ids = {run.json("history", n, *T)["contact"]["id"]: n for n in ("Ada", "Bob", "Grace")}
    with Network.open(home, today=DAY) as net:
        for p in fact.pushes():
            assert p.contact_id is not None and isinstance(p.summary, ev.Sealed)
            assert p.summary.key_id == p.contact_id
            assert ids[p.contact_id.hex] in (net.store.keyring.unseal(p.summary) or "")
    assert set(ev.contact_ids_of(fact)) == {UUID(i) for i in ids}
    raw = b"".join(p.read_bytes() for p in home.iterdir() if p.name.startswith("store.db"))
    for secret in ("Ada Lovelace", "Bob Smith", "Grace Hopper", "Send the paper"):
        assert secret.encode() not in raw, secret


def test_a_contacts_pushes_across_syncs_each_show_once(run, synced_home):
    home = synced_home
    record(home, cmd.Meet("Ada Lovelace", on=DAY))
    reports = [sync(run)]  # Ada's follow-up
    promise = run.json("promise", "Ada", "Send the paper", "--due", "2026-11-25", *T)
    record(home, cmd.Meet("Bob Smith", on=DAY))
    reports.append(sync(run))  # Ada's promise and Bob's follow-up
    run.ok("kept", promise["recorded"]["promise_short"], *T)
    reports.append(sync(run))  # keeping it removes the promise and answers the follow-up
    done = [(a["action"], a["summary"]) for r in reports for a in r["actions"]]

    ada, bob = pushed(run, "Ada"), pushed(run, "Bob")
    shown = [(e["details"]["action"], e["details"].get("summary")) for e in ada + bob]
    assert Counter(shown) == Counter(done)  # every push once, in its contact's history
    assert [e["details"]["action"] for e in ada] == ["created", "created", "deleted", "deleted"]
    assert len({e["fact_id"] for e in ada}) == 3  # from three syncs
    assert [e["details"]["action"] for e in bob] == ["created"]
    assert sum(isinstance(f, ev.TargetSynced) for _, f in facts(home)) == 3


def test_old_per_item_records_still_show_in_history(run, synced_home):
    """A store written before this change holds one ReminderPushed per item: still read."""
    home = synced_home
    record(home, cmd.Meet("Ada Lovelace", on=DAY), cmd.Meet("Bob Smith", on=DAY))
    with Network.open(home, today=DAY) as net:
        net.refresh()
        ids = {net.directory().resolve(n): n for n in ("Ada Lovelace", "Bob Smith")}
        agenda_position = net.views.agenda_position()
        keyring = net.store.keyring
        old = [
            ev.ReminderPushed(originator_id=uuid4(), originator_version=1,
                              timestamp=ev.Fact.create_timestamp(), on=date(2026, 11, 2), note=None,
                              target="phone", uid=f"old-{n}@syncnet",
                              action="created", result="ok", contact_id=UUID(cid),
                              summary=keyring.seal(UUID(cid), f"Old reminder for {n}"))
            for cid, n in ids.items()
        ]  # fmt: skip
        net.store.log.append(old)
        net.refresh()
        assert net.views.agenda_position() == agenda_position  # old records move nothing either
    sync(run)  # and a new-style record after them

    ada = pushed(run, "Ada")
    assert [(e["on"], e["details"]["target"], e["details"]["summary"]) for e in ada] == [
        ("2026-11-02", "phone", "Old reminder for Ada Lovelace"),
        (TODAY, "file", *summaries_of(run, "Ada Lovelace")),
    ]
    assert list(ada[0]["details"]) == list(ada[1]["details"])  # one shape, old or new
    bob = pushed(run, "Bob")
    assert [e["details"]["summary"] for e in bob] == [
        "Old reminder for Bob Smith",
        *summaries_of(run, "Bob Smith"),
    ]
    assert "Ada" not in str(bob)


def test_push_records_do_not_change_the_agenda_key(run, synced_home):
    home = synced_home
    record(home, cmd.Meet("Ada Lovelace", on=DAY), cmd.Meet("Bob Smith", on=DAY))
    with Network.open(home, today=DAY) as net:
        net.refresh()
        agenda_position, before = net.views.agenda_position(), net.position()
    assert sync(run)["actions"]
    with Network.open(home, today=DAY) as net:
        net.refresh()
        assert net.position() == before + 1  # the record is there, folded
        assert net.views.agenda_position() == agenda_position  # but the agenda did not move
        assert net.store.log.after(before, 10, types=ev.AGENDA_FACTS) == []  # the daemon's poll
    assert not ev.can_change_agenda(facts(home, before)[0][1])
    assert ev.TargetSynced not in ev.AGENDA_FACTS and ev.ReminderPushed not in ev.AGENDA_FACTS
    # so the next sync is a no-op that records nothing
    assert sync(run)["actions"] == []
    assert position(home) == before + 1
