"""Imports, de-duplication and merging (issue 15), through the import use case on a real
store: cards as the parsers give them (tests/test_import_parsers.py reads real files),
matched, recorded, and read back through the same reads the CLI prints."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support import Runner, store_state

from syncnet.app import integrity
from syncnet.app.imports import People, import_cards, likely_duplicates, merge_commands
from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.domain.cards import Card, Parsed
from syncnet.storage.store import init_store

TODAY = date(2026, 11, 20)


def linkedin(name: str, line: int, **kw: Any) -> Card:
    return Card(name, line, channel="professional-network", **kw)


CARDS = [
    linkedin(
        "Ada Lovelace",
        4,
        organisation="Analytical Engines",
        role="CTO",
        emails=("ada@engines.example",),
        urls=("https://www.linkedin.com/in/ada-lovelace/",),
        met_on=date(2024, 3, 15),
    ),
    linkedin("Grace Hopper", 5, organisation="Navy", met_on=date(2026, 11, 18)),
    linkedin("Linus Torvalds", 6, met_on=date(2025, 1, 2)),
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    init_store(tmp_path / "home")
    return tmp_path / "home"


def imported(home: Path, cards: list[Card], dry_run: bool = False) -> dict[str, Any]:
    with Network.open(home, today=TODAY) as net:
        return import_cards(net, Parsed(cards), "linkedin", dry_run=dry_run).to_json()


def contacts(home: Path) -> dict[str, Any]:
    """name -> (pocket, details) as `show` reads them."""
    with Network.open(home, today=TODAY) as net:
        net.refresh()
        out = {}
        for view in net.views.load_all("contact"):
            card = net.show(view.id)
            out[net.unseal_text(view.name)] = (view.unsorted, view.keep, card.details)
        return out


def agenda(home: Path) -> list[str]:
    with Network.open(home, today=TODAY) as net:
        net.refresh()
        return sorted(i.summary for i in net.agenda())


def test_the_same_file_twice_adds_nothing_and_a_known_person_gets_what_it_lacks(home: Path) -> None:
    first = imported(home, CARDS)
    assert (first["added"], first["updated"], first["unchanged"]) == (3, 0, 0)
    state = store_state(home)
    again = imported(home, CARDS)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert store_state(home) == state  # not one fact more
    matched = [c["matched_by"] for c in again["cards"]]
    assert matched == ["e-mail", "name and organisation", "name and organisation"]

    # The same people as another export spells them: a new e-mail for Grace (matched by
    # name and organisation), Ada by her profile URL written otherwise.
    other = [Card("Ada Lovelace", 2, urls=("http://linkedin.com/in/ada-lovelace",),
                  phones=("+44 20 7946 0000",)),
             Card("GRACE  hopper", 3, organisation="navy", emails=("grace@navy.example",))]  # fmt: skip
    done = imported(home, other)
    assert (done["added"], done["updated"]) == (0, 2)
    assert [c["matched_by"] for c in done["cards"]] == ["profile URL", "name and organisation"]
    people = contacts(home)
    assert people["Ada Lovelace"][2]["phones"] == ["+44 20 7946 0000"]
    assert people["Ada Lovelace"][2]["emails"] == ["ada@engines.example"]  # kept
    assert people["Ada Lovelace"][2]["role"] == "CTO"
    assert people["Grace Hopper"][2]["emails"] == ["grace@navy.example"]
    assert len(people) == 3


def test_imported_contacts_wait_unsorted_without_reminders_and_old_meetings_are_not_followed_up(
    home: Path,
) -> None:
    imported(home, CARDS)
    assert all(unsorted and not keep for unsorted, keep, _ in contacts(home).values())
    assert agenda(home) == []  # three connections, not three follow-ups nor season touches
    with Network.open(home, today=TODAY) as net:
        for name in ("Ada", "Grace", "Linus"):
            net.record(cmd.Pocket(name, keep=True))
    items = agenda(home)
    # Grace was met two days before the import: her follow-up is due; Ada (2024) and Linus
    # (2025) were met long before it: none for them, but the autumn touch for all three.
    follow_ups = [i for i in items if i.startswith("Follow up")]
    assert follow_ups == [i for i in items if "Grace" in i and "Follow" in i]
    assert len([i for i in items if i.startswith("Follow up")]) == 1
    assert sum("autumn" in i.lower() or "season" in i.lower() or "touch" in i.lower() for i in items) >= 1
    assert not any(v[0] for v in contacts(home).values())  # sorted now


def test_a_dry_run_records_nothing_and_says_what_would_be_done(home: Path) -> None:
    state = store_state(home)
    report = imported(home, CARDS, dry_run=True)
    assert report["dry_run"] and report["added"] == 3
    assert store_state(home) == state


def test_malformed_values_are_left_out_and_said_and_people_with_one_name_are_possible_duplicates(
    home: Path,
) -> None:
    imported(home, CARDS)
    report = imported(home, [Card("Grace Hopper", 9, emails=("not-an-email",), phones=("call me",)),
                             Card("Linus Torvalds", 10, organisation="Linux Foundation")])  # fmt: skip
    assert report["added"] == 2
    assert report["left_out"] == [{"line": 9, "value": "e-mail 'not-an-email' (malformed)"},
                                  {"line": 9, "value": "phone 'call me' (malformed)"}]  # fmt: skip
    possible = {p["name"]: len(p["similar"]) for p in report["possible_duplicates"]}
    assert possible == {"Grace Hopper": 1, "Linus Torvalds": 1}


def test_duplicates_are_found_in_blocks_and_a_merge_counts_one_person_once(home: Path) -> None:
    with Network.open(home, today=TODAY) as net:
        net.record_many([
            cmd.Meet("John Smith", on=date(2026, 10, 1), details=cmd.Details(org="Acme")),
            cmd.Meet("J. Smith", on=date(2026, 10, 5), new=True),
            cmd.Meet("Smith John", on=date(2026, 10, 6), new=True),
            cmd.Meet("Jon Smith", on=date(2026, 10, 7), new=True,
                     details=cmd.Details(emails=("jon@acme.example",))),
            cmd.Meet("Mary Major", on=date(2026, 10, 8)),
        ])  # fmt: skip
        net.record_many([cmd.Give("J. Smith", "advice", minutes=30, on=date(2026, 10, 9)),
                         cmd.Give("John Smith", "advice", minutes=10, on=date(2026, 10, 10)),
                         cmd.Promise("J. Smith", "send the paper", date(2026, 12, 1),
                                     on=date(2026, 10, 9))])  # fmt: skip
        net.refresh()
        people = People.of(net)
        found = {
            (people.people[d.first].name, people.people[d.second].name): d.why
            for d in likely_duplicates(people)
        }
        assert found == {
            ("John Smith", "J. Smith"): "a similar first name and the same last name",
            ("John Smith", "Jon Smith"): "a similar first name and the same last name",
            ("John Smith", "Smith John"): "the same words in another order",
            ("J. Smith", "Jon Smith"): "a similar first name and the same last name",
        }, found
        john, j = (
            next(i for i, p in people.people.items() if p.name == n) for n in ("John Smith", "J. Smith")
        )
        before = {r.id: b for r, b in net.balances()[0]}
        net.record_many(merge_commands(people, john, j))
        net.refresh()
        after = {r.id: b for r, b in net.balances()[0]}
        assert j not in after and after[john].given == 2 == before[john].given + before[j].given
        assert after[john].given_minutes == 40 and after[john].open_promises == 1
        assert len(net.views.load_all("contact")) == 4
        _, entries = net.history("John Smith")
        assert [e.kind for e in entries].count("gave") == 2 and "merged" in [e.kind for e in entries]
        # both pasts: J.'s first meeting is in John's history as it was recorded
        assert [e.on for e in entries if e.kind == "met"] == [date(2026, 10, 1), date(2026, 10, 5)]
        promises = [i.summary for i in net.agenda()]
        assert any("send the paper" in s and "John Smith" in s for s in promises), promises
        assert integrity.verify(net).whole
        # Retracting the merge parts them again.
        merge_id = next(e.fact_id for e in entries if e.kind == "merged")
        net.record(cmd.Retract(merge_id))
        net.refresh()
        parted = {r.id: b for r, b in net.balances()[0]}
        assert parted[j].given == 1 and parted[john].given == 1
        assert integrity.verify(net).whole


def test_forgetting_a_merged_contact_destroys_both_keys(home: Path) -> None:
    with Network.open(home, today=TODAY) as net:
        net.record_many(
            [
                cmd.Meet("Ada Lovelace", note="first card"),
                cmd.Meet("A. Lovelace", note="second card", new=True),
            ]
        )
        net.refresh()
        people = People.of(net)
        ada, other = sorted(people.people, key=lambda i: people.people[i].name != "Ada Lovelace")
        net.record_many(merge_commands(people, ada, other))
        net.record(cmd.Forget("Ada"))
        net.refresh()
        kinds = {s: k for s, k in _keys(home).items() if s in (ada, other)}
        assert kinds == {ada: "erased", other: "erased"}


def _keys(home: Path) -> dict[str, str]:
    import sqlite3

    conn = sqlite3.connect(home / "store.db")
    try:
        return {s: k for s, k in conn.execute("SELECT subject, kind FROM syncnet_keys")}
    finally:
        conn.close()


def test_merge_and_duplicates_through_the_cli(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "John Smith", "--org", "Acme", "--on", "2026-10-01")
    run.ok("meet", "J. Smith", "--new", "--email", "js@acme.example", "--on", "2026-10-02")
    run.ok("give", "J. Smith", "--kind", "advice", "--on", "2026-10-03")
    listed = run.json("duplicates")["duplicates"]
    assert [(d["names"], d["why"]) for d in listed] == [
        (["John Smith", "J. Smith"], "a similar first name and the same last name")
    ]
    text = run.ok("duplicates").stdout
    assert "John Smith" in text and "J. Smith" in text and "syncnet merge" in text
    merged = run.json("merge", "John Smith", "J. Smith")
    assert merged["into"] == listed[0]["contacts"][0]
    show = run.json("show", "John Smith")
    assert show["details"]["emails"] == ["js@acme.example"] and show["details"]["org"] == "Acme"
    assert json.dumps(run.json("duplicates")["duplicates"]) == "[]"
    assert "unknown contact" in run.fails("show", "J. Smith")
    assert "same contact" in run.fails("merge", "John", "John Smith")


def test_merges_follow_chains_and_a_cycle_merges_nobody_away() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    from syncnet.domain import events as ev
    from syncnet.domain.corrections import Corrections

    a, b, k = uuid4(), uuid4(), uuid4()

    def merged(into: Any, other: Any, second: int) -> ev.ContactsMerged:
        return ev.ContactsMerged(originator_id=uuid4(), originator_version=1, on=TODAY, note=None,
                                 timestamp=datetime(2026, 11, 20, 0, 0, second, tzinfo=UTC),
                                 contact_id=into, merged_id=other)  # fmt: skip

    chain = Corrections([merged(a, b, 1), merged(k, a, 2)])
    assert chain.contact(b) == k and chain.contact(a) == k and chain.contact(k) == k
    cycle = Corrections([merged(a, b, 1), merged(b, a, 2)])
    assert cycle.into() == {} and cycle.contact(a) == a and cycle.contact(b) == b


def test_a_merge_keeps_the_contact_recorded_first_and_its_history_whole_across_syncs(run: Runner) -> None:
    run.ok("init")
    ics = run.base / "out.ics"
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{ics}"\n')
    today = ("--today", "2026-11-20")
    run.ok("meet", "Ada King", "--on", "2026-09-03", *today)
    run.ok("give", "Ada King", "--kind", "advice", "--on", "2026-09-04", *today)
    run.ok("promise", "Ada King", "send the paper", "--due", "2026-12-01", "--on", "2026-09-04", *today)
    run.ok("meet", "Ada Lovelace", "--on", "2026-09-01", *today)
    run.ok("sync", *today)  # a record of pushes naming both
    # Ada Lovelace was recorded after Ada King: keeping her would leave King's earlier facts
    # counting for no one; the refusal says which way round works.
    refused = run.fails("merge", "Ada Lovelace", "Ada King")
    assert "recorded before" in refused and "syncnet merge" in refused
    run.ok("merge", "Ada King", "Ada Lovelace")
    run.ok("sync", *today)
    run.ok("meet", "Someone Else", *today)  # an incremental fold after the merge
    run.ok("sync", *today)
    show = run.json("show", "Ada King", *today)
    assert show["balance"]["given"] == 1 and len(show["open_promises"]) == 1
    kinds = [e["kind"] for e in run.json("history", "Ada King")["events"]]
    assert kinds.count("met") == 2 and "merged" in kinds and "gave" in kinds
    assert run.json("verify")["whole"]
    assert any("send the paper" in i["summary"] for i in run.json("due", *today)["agenda"])


def test_a_merge_of_a_forgotten_contact_cannot_be_undone(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-09-01")
    run.ok("meet", "A. Lovelace", "--new", "--on", "2026-09-03")
    merge_id = run.json("merge", "Ada Lovelace", "A. Lovelace")["fact_id"]
    run.ok("forget", "Ada", "--yes")
    assert "cannot be undone" in run.fails("retract", merge_id)
    assert run.json("contacts")["contacts"] == [] or all(
        c["name"] == "[forgotten]" and c["pocket"] == "drop" for c in run.json("contacts")["contacts"]
    )
    assert run.json("due")["agenda"] == []


def test_a_shared_home_page_or_office_address_does_not_fold_two_people_into_one(home: Path) -> None:
    imported(home, [Card("Alice Smith", 2, emails=("alice@acme.example",), urls=("https://acme.example",))])
    report = imported(home, [
        Card("Bob Brown", 3, emails=("bob@acme.example",), urls=("https://www.acme.example/",)),
        Card("Carol Jones", 4, emails=("alice@acme.example",)),  # Alice's address, another name
    ])  # fmt: skip
    assert report["added"] == 2 and report["updated"] == 0
    assert sorted(contacts(home)) == ["Alice Smith", "Bob Brown", "Carol Jones"]


def test_a_card_naming_two_contacts_changes_neither(home: Path) -> None:
    imported(
        home, [Card("Dan Doe", 2, emails=("dan@x.example",)), Card("Eve Doe", 3, emails=("eve@y.example",))]
    )
    state = store_state(home)
    report = imported(home, [Card("Dan Doe", 5, emails=("eve@y.example", "dan@x.example"))])
    assert report["skipped"] == [
        {"line": 5, "reason": "ambiguous: its e-mails and URLs belong to several contacts"}
    ]
    assert store_state(home) == state


def test_importing_again_after_a_merge_adds_nothing(home: Path) -> None:
    cards = [Card("John Smith", 2, organisation="Acme"), Card("Jon Smith", 3)]
    imported(home, cards)
    with Network.open(home, today=TODAY) as net:
        net.refresh()
        people = People.of(net)
        john, jon = (
            next(i for i, p in people.people.items() if p.name == n) for n in ("John Smith", "Jon Smith")
        )
        net.record_many(merge_commands(people, john, jon))
    state = store_state(home)
    again = imported(home, cards)
    assert (again["added"], again["updated"]) == (0, 0), again
    assert store_state(home) == state


def test_retracting_a_merge_takes_back_the_details_it_gave(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Lee Chan", "--org", "L", "--on", "2026-09-01")
    run.ok("meet", "L. Chan", "--new", "--email", "lchan@other.example", "--on", "2026-09-02")
    merge_id = run.json("merge", "Lee Chan", "L. Chan")["fact_id"]
    assert run.json("show", "Lee Chan")["details"]["emails"] == ["lchan@other.example"]
    run.ok("retract", merge_id)
    assert "emails" not in run.json("show", "Lee Chan")["details"]
    assert run.json("show", "L. Chan")["details"]["emails"] == ["lchan@other.example"]
    assert run.json("verify")["whole"]
