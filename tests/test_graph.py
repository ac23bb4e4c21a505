"""`syncnet path`: the shortest chain of introductions from me to a contact, and who could
introduce me to someone at an organisation (syncnet.app.graph, docs/report.md)."""

from __future__ import annotations

from typing import Any

from support import Runner, T

from syncnet.app import graph as g


def names(doc: dict[str, Any]) -> list[tuple[str | None, str]]:
    """A path document as (name of each contact reached, link kind)."""
    return [(hop["contact"]["name"], hop["link"]) for hop in doc["path"]]


def test_the_chain_of_met_via_and_introductions(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-03-01", *T)  # I met Ada myself
    run.ok("meet", "Bob Smith", "--via", "Ada", "--on", "2026-04-01", *T)  # Ada introduced Bob
    run.ok("meet", "Cy Twombly", "--on", "2026-05-01", *T)  # ... and Bob introduced me to Cy
    run.ok("receive", "Bob", "--kind", "introduction", "--to", "Cy", "--on", "2026-05-02", *T)
    run.ok("meet", "Dora Maar", "--on", "2026-05-03", *T)  # someone met alone: a direct link

    doc = run.json("path", "cy", *T)
    assert doc["to"]["name"] == "Cy Twombly" and doc["steps"] == 3
    assert names(doc) == [("Ada Lovelace", "met"), ("Bob Smith", "via"), ("Cy Twombly", "introduced")]
    assert [h["from"] and h["from"]["name"] for h in doc["path"]] == [None, "Ada Lovelace", "Bob Smith"]
    assert [h["on"] for h in doc["path"]] == ["2026-03-01", "2026-04-01", "2026-05-02"]
    assert names(run.json("path", "Dora", *T)) == [("Dora Maar", "met")]

    text = run.ok("path", "Cy", *T).stdout.splitlines()
    assert text[0] == "you"
    assert text[1].startswith("→ Ada Lovelace (") and "(you met them, 2026-03-01)" in text[1]
    assert text[2].startswith("→ Bob Smith (") and "(met via Ada Lovelace (" in text[2]
    assert text[3].startswith("→ Cy Twombly (") and "Bob Smith (" in text[3] and "introduced you" in text[3]
    assert text[4].startswith("3 links from you to Cy Twombly")

    # read as of a day before the introduction: Cy was met alone then
    assert names(run.json("path", "Cy", "--today", "2026-05-01")) == [("Cy Twombly", "met")]
    # a retracted introduction is no link
    history = run.json("history", "Cy", *T)["events"]
    intro = next(e for e in history if e["kind"] == "received")
    run.ok("retract", intro["fact_id"])
    assert names(run.json("path", "Cy", *T)) == [("Cy Twombly", "met")]


def test_ties_go_to_the_names_that_sort_first_whatever_the_order_recorded(run: Runner) -> None:
    run.ok("init")
    # two chains of two links to Cy: through Zoe (recorded first) and through Anna
    run.ok("meet", "Zoe Zed", "--on", "2026-03-01", *T)
    run.ok("meet", "Anna Alpha", "--on", "2026-03-02", *T)
    run.ok("meet", "Cy Twombly", "--via", "Zoe", "--on", "2026-04-01", *T)
    run.ok("receive", "Anna", "--kind", "introduction", "--to", "Cy", "--on", "2026-04-02", *T)
    assert names(run.json("path", "Cy", *T)) == [("Anna Alpha", "met"), ("Cy Twombly", "introduced")]
    # the same graph built in the other order gives the same chain
    people = {
        "c" * 32: g.Person("c" * 32, "Cy Twombly", "2026-04-01", via="z" * 32),
        "a" * 32: g.Person("a" * 32, "Anna Alpha", "2026-03-02"),
        "z" * 32: g.Person("z" * 32, "Zoe Zed", "2026-03-01"),
    }
    intro = g.Link("a" * 32, "c" * 32, g.INTRODUCED, "2026-04-02")
    for order in (people, dict(reversed(list(people.items())))):
        hops = g.build(order, [intro]).path("c" * 32)
        assert hops is not None and [h.source for h in hops] == [g.ME, "a" * 32]
    # a shorter chain wins over names: Zoe met Cy directly... via Zoe is 2, met alone is 1
    alone = {**people, "c" * 32: g.Person("c" * 32, "Cy Twombly", "2026-04-01")}
    hops = g.build(alone).path("c" * 32)
    assert hops is not None and [(h.source, h.kind) for h in hops] == [(g.ME, g.MET)]


def test_no_path_unknown_names_and_usage(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-03-01", *T)
    run.ok("meet", "Bob Smith", "--on", "2026-03-01", *T)
    # each introduced me to the other: a cycle no chain from me enters
    run.ok("receive", "Ada", "--kind", "introduction", "--to", "Bob", "--on", "2026-03-02", *T)
    run.ok("receive", "Bob", "--kind", "introduction", "--to", "Ada", "--on", "2026-03-02", *T)
    doc = run.json("path", "Ada", *T)
    assert doc["path"] is None and doc["steps"] is None and doc["to"]["name"] == "Ada Lovelace"
    assert run.ok("path", "Ada", *T).stdout.startswith(
        "No chain of introductions leads from you to Ada Lovelace"
    )
    # the usual one-line errors, exit 2
    assert "unknown contact 'Nobody'" in run.fails("path", "Nobody", *T)
    assert "did you mean: Ada Lovelace" in run.fails("path", "Ada Lovelase", *T)
    assert "one of them" in run.fails("path", *T)
    assert "one of them" in run.fails("path", "Ada", "--to", "Acme", *T)
    assert "--to is empty" in run.fails("path", "--to", " ", *T)


def test_who_could_introduce_me_to_someone_at_an_organisation(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-03-01", *T)
    run.ok("meet", "Tess Target", "--via", "Ada", "--org", "Acme Corp", "--on", "2026-03-02", *T)
    run.ok("meet", "Ulla Umbra", "--via", "Tess", "--org", "ACME Corp", "--on", "2026-03-03", *T)  # there too
    run.ok("meet", "Eve Echo", "--via", "Tess", "--on", "2026-03-04", *T)  # Tess introduced Eve to me
    run.ok("meet", "Dan Delta", "--on", "2026-03-05", *T)
    run.ok(
        "give", "Dan", "--kind", "introduction", "--to", "Tess", "--on", "2026-03-06", *T
    )  # I introduced them
    run.ok("meet", "Olga Other", "--org", "Other Ltd", "--on", "2026-03-07", *T)  # knows nobody at Acme

    doc = run.json("path", "--to", "acme", *T)
    assert doc["org"] == "acme"
    assert [c["name"] for c in doc["at_org"]] == ["Tess Target", "Ulla Umbra"]
    rows = [
        (r["contact"]["name"], r["distance"], [(k["contact"]["name"], k["how"]) for k in r["knows"]])
        for r in doc["introducers"]
    ]
    assert rows == [
        ("Ada Lovelace", 1, [("Tess Target", "introduced-you")]),
        ("Dan Delta", 1, [("Tess Target", "you-introduced")]),
        ("Eve Echo", 3, [("Tess Target", "introduced-by")]),
    ]
    text = run.ok("path", "--to", "Acme", *T).stdout
    assert "You know 2 at 'Acme': Tess Target (" in text
    lines = text.splitlines()
    assert (
        lines[3].startswith("Ada Lovelace (")
        and "1 link " in lines[3]
        and "introduced you to Tess" in lines[3]
    )
    assert lines[4].startswith("Dan Delta (") and "you introduced them to Tess Target" in lines[4]
    assert lines[5].startswith("Eve Echo (") and "3 links" in lines[5]

    # an organisation nobody is at, and one nobody links me to
    assert run.json("path", "--to", "Initech", *T)["at_org"] == []
    assert (
        "Nobody you know is at an organisation matching 'Initech'"
        in run.ok("path", "--to", "Initech", *T).stdout
    )
    other = run.json("path", "--to", "other", *T)
    assert [c["name"] for c in other["at_org"]] == ["Olga Other"] and other["introducers"] == []
    assert "Nobody you know links you to them" in run.ok("path", "--to", "other", *T).stdout


def test_a_forgotten_contact_keeps_the_chain_but_not_its_name(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-03-01", *T)
    run.ok("meet", "Bob Smith", "--via", "Ada", "--org", "Acme", "--on", "2026-03-02", *T)
    run.ok("forget", "Ada", "--yes")
    doc = run.json("path", "Bob", *T)
    assert [(h["contact"]["name"], h["link"]) for h in doc["path"]] == [(None, "met"), ("Bob Smith", "via")]
    assert "Ada" not in run.ok("path", "Bob", *T).stdout
    assert "[forgotten] (" in run.ok("path", "Bob", *T).stdout
    # never offered as an introducer: nobody can ask them
    assert run.json("path", "--to", "acme", *T)["introducers"] == []
