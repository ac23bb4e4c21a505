"""`syncnet export` and `syncnet import jsonl` (docs/export.md): a store holding every kind
of fact, recorded through the CLI, is exported and restored into an empty home; every
read (with --today and --known-at too) gives the same JSON in both, and the restored
store exports byte for byte what the first did. The vCards are read back with vobject.
A forgotten contact's texts are in no exported file, and stay erased once restored. A
malformed line is refused with its number and nothing is written; so is a store with
facts. The serialisation is generic: one fact of every type present when the test runs,
with values drawn by hypothesis, goes through a line and back."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Runner, T, next_second, store_state, write_config

from syncnet.app import export as ex
from syncnet.app.network import Network
from syncnet.app.recorded import ME
from syncnet.domain import events as ev
from syncnet.domain.sealed import Sealed
from syncnet.storage.store import init_store

SECRETS = ("Mallory Secretname", "the back room of the Crown", "Shadow Holdings", "the ledger copy",
           "keep this between us", "mallory@shadow.example")  # fmt: skip


NOW = ("--today", date.today().isoformat())  # the import of a vCard records its meeting today


def fact_id(run: Runner, *args: str) -> str:
    return str(run.json(*args, *T)["recorded"]["fact_id"])


def build(run: Runner, tmp: Path) -> tuple[str, dict[str, str]]:
    """A store with every kind of fact; returns a moment between its two halves (for
    --known-at) and the contacts' ids by short name."""
    run.ok("init")
    run.ok("goal", "add", "Lead a data team", "--on", "2026-10-01", *T)
    run.ok("goal", "add", "Write a book", "--kind", "private", "--note", "one day", "--on", "2026-10-01", *T)
    run.ok("meet", "Ada Lovelace", "--channel", "conference", "--why", "role-model", "--where", "PyCon",
           "--goal", "Lead a data team", "--note", "talked about engines", "--org", "Analytical Engines Ltd",
           "--role", "Countess", "--email", "ada@example.org", "--phone", "+44 20 7946 0000",
           "--url", "https://example.org/ada", "--how-met", "at Babbage's salon", "--minutes", "40",
           "--on", "2026-10-02", *T)  # fmt: skip
    run.ok("meet", "Grace Hopper", "--channel", "workshop", "--why", "complement", "--via", "ada",
           "--on", "2026-10-03", *T)  # fmt: skip
    run.ok("meet", "Mallory Secretname", "--where", "the back room of the Crown", "--org", "Shadow Holdings",
           "--email", "mallory@shadow.example", "--note", "keep this between us", "--on", "2026-10-04", *T)
    run.ok("meet", "Alan Kay", "--via", "grace", "--on", "2026-10-05", *T)
    run.ok("meet", "Zoë Ünïcode-Ñame", "--org", "Café ☕ \"Quotes\"; Semi, Comma", "--on", "2026-10-05",
           "--note", "breaks:\u2028\u2029\x85\x1e\r\n\tend", *T)  # fmt: skip
    run.ok("meet", "Alan C. Kay", "--new", "--email", "alan@example.org", "--on", "2026-10-05", *T)
    run.ok("touch", "ada", "--by", "me", "--channel", "email", "--minutes", "10", "--note", "sent slides",
           "--on", "2026-10-06", *T)  # fmt: skip
    run.ok("give", "ada", "--kind", "introduction", "--to", "grace", "--note", "coffee intro",
           "--on", "2026-10-07", *T)  # fmt: skip
    run.ok("receive", "ada", "--kind", "advice", "--minutes", "30", "--on", "2026-10-08", *T)
    run.ok("ask", "ada", "a referral to her team", "--on", "2026-10-09", *T)
    run.ok("ask", "mallory", "the ledger copy", "--on", "2026-10-09", *T)
    run.ok("asked", "grace", "feedback on her talk", "--on", "2026-10-10", *T)
    run.ok("pitch", "--minutes", "10", "--note", "lightning talk", "--on", "2026-10-11", *T)
    run.ok("pitch", "grace", "--minutes", "5", "--on", "2026-10-11", *T)
    slides = run.json("promise", "ada", "send the slides", "--due", "2026-12-15", "--on", "2026-10-12", *T)
    paper = run.json("promise", "grace", "review the paper", "--due", "2026-11-01", "--on", "2026-10-12", *T)
    run.ok("promise", "ada", "lend the book", "--due", "2026-11-30", "--on", "2026-10-12", *T)
    run.ok("promise", "mallory", "return the ledger copy", "--due", "2026-12-01", "--on", "2026-10-12", *T)
    run.ok("kept", slides["recorded"]["promise_short"], "--note", "sent", "--on", "2026-10-20", *T)
    run.ok("dropped", paper["recorded"]["promise_short"], "--on", "2026-10-21", *T)
    run.ok("pocket", "alan kay", "drop", "--on", "2026-10-22", *T)
    run.ok("cadence", "ada", "6w", "--on", "2026-10-22", *T)
    run.ok("goal", "link", "grace", "Write a book", "--note", "she writes too", "--on", "2026-10-23", *T)
    run.ok("goal", "achieved", "Write a book", "--note", "published", "--on", "2026-11-01", *T)
    run.ok("set", "alan kay", "--role", "fellow", "--phone", "+1 555 0100", "--on", "2026-10-24", *T)
    run.ok("rename", "Grace Hopper", "Grace Brewster Hopper", "--on", "2026-10-25", *T)
    run.ok("why", "alan kay", "role-model", "--on", "2026-10-25", *T)
    vcf = tmp / "book.vcf"
    vcf.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Barbara Liskov\r\nN:Liskov;Barbara;;;\r\n"
                   "EMAIL:barbara@example.org\r\nORG:MIT\r\nBDAY:1939-11-07\r\nEND:VCARD\r\n",
                   encoding="utf-8")  # fmt: skip
    run.ok("import", "vcard", vcf)  # a first meeting and ContactImported (dated today)

    # Everything after this moment is unknown to a read --known-at it.
    next_second()
    moment = datetime.now(UTC).replace(microsecond=0)
    next_second()
    touched = fact_id(run, "touch", "grace", "--by", "them", "--minutes", "20", "--on", "2026-10-26")
    run.ok("amend", touched, "--minutes", "25", "--channel", "phone", "--note", "it was a call")
    wrong = fact_id(run, "touch", "ada", "--minutes", "5", "--on", "2026-10-27")
    run.ok("retract", wrong, "--reason", "that was Grace")
    run.ok("merge", "alan kay", "alan c. kay", "--note", "the same Alan")
    run.ok("forget", "mallory", "--yes")
    write_config(run.home, file={"type": "ics", "path": tmp / "reminders.ics"})
    run.ok("sync", *T)  # a TargetSynced record
    ids = {name: contact_id(run, ref) for name, ref in (
        ("ada", "ada"), ("grace", "grace"), ("alan", "alan kay"), ("zoe", "zoe"), ("barbara", "barbara"))}
    return moment.isoformat(), ids


def contact_id(run: Runner, ref: str) -> str:
    return str(run.json("show", ref)["contact"]["id"])


def reads(run: Runner, ids: dict[str, str], mallory: str, *args: str) -> dict[str, tuple[int, str, str]]:
    """Every read with --json and `args` (--today, --known-at): its exit code and output
    (a contact not met yet on an earlier day is an error, the same in both stores)."""
    commands = {
        "due": ("due", "--until", "2027-03-01"), "contacts": ("contacts",), "balance": ("balance",),
        "split": ("split",), "warnings": ("warnings",), "goals": ("goal", "list"),
    }  # fmt: skip
    for name, cid in {**ids, "mallory": mallory}.items():
        commands[f"history {name}"] = ("history", cid[:8])
        if name != "mallory":
            commands[f"show {name}"] = ("show", cid[:8])
    out = {}
    for name, command in commands.items():
        done = run(*command, *args, "--json")
        out[name] = (done.returncode, done.stdout, done.stderr)
    return out


def empty_home(tmp_path: Path) -> Runner:
    """A second user's CLI, with a home of its own (not created yet: 'init' does that)."""
    base = tmp_path / "second"
    base.mkdir()
    return Runner(base / "home", base)


def test_export_and_import_give_every_read_back(run: Runner, tmp_path: Path) -> None:
    moment, ids = build(run, tmp_path)
    out = tmp_path / "out"
    done = run.json("export", out)
    facts, cards = out / "facts.jsonl", out / "contacts.vcf"
    assert done["facts"] == {"file": str(facts), "count": len(facts.read_text().splitlines())}
    for path in (facts, cards):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700

    text = facts.read_text(encoding="utf-8")
    assert len(text.splitlines()) == text.count("\n")  # no text breaks a line, for any reader
    lines = [json.loads(line) for line in text.splitlines()]
    assert "breaks:\u2028\u2029\x85\x1e\r\n\tend" in [r["fact"]["note"] for r in lines]
    assert [r["position"] for r in lines] == list(range(1, len(lines) + 1))
    kinds = {r["type"] for r in lines}
    assert kinds >= {"GoalSet", "ContactMet", "Touched", "HelpGiven", "HelpReceived", "RequestMade",
                     "RequestReceived", "Presented", "PromiseMade", "PromiseKept", "PromiseDropped",
                     "Pocketed", "CadenceSet", "GoalLinked", "GoalAchieved", "DetailsSet", "Renamed",
                     "ReasonSet", "Amended", "Retracted", "ContactForgotten", "TargetSynced",
                     "ContactImported", "ContactsMerged"}, kinds  # fmt: skip
    assert all("sealed_with" not in r for r in lines)  # every text sealed with the key recording uses
    (forgotten,) = [r for r in lines if r["type"] == "ContactForgotten"]
    mallory = forgotten["fact"]["contact_id"]
    met = next(r for r in lines if r["type"] == "ContactMet" and r["fact"]["contact_id"] == mallory)
    assert met["fact"]["name"] is None and set(met["erased"]) == {"name", "where", "note", "details"}
    intro = next(r for r in lines if r["type"] == "HelpGiven")
    assert intro["fact"]["introduced"] == ids["grace"] and intro["fact"]["note"] == "coffee intro"

    # The forgotten contact's texts are in no exported file.
    for path in (facts, cards):
        data = path.read_bytes()
        assert [s for s in SECRETS if s.encode() in data] == [], path

    # The vCards, read back by vobject.
    read = list(vobject.readComponents(cards.read_text(encoding="utf-8")))
    by_name = {c.fn.value: c for c in read}
    assert set(by_name) == {c["name"] for c in run.json("contacts")["contacts"]}
    assert "Mallory Secretname" not in by_name
    ada = by_name["Ada Lovelace"]
    assert ada.version.value == "4.0" and ada.uid.value == f"urn:uuid:{UUID(ids['ada'])}"
    assert (ada.n.value.given, ada.n.value.family) == ("Ada", "Lovelace")
    assert ada.org.value == ["Analytical Engines Ltd"] and ada.title.value == "Countess"
    assert [e.value for e in ada.email_list] == ["ada@example.org"]
    assert [t.value for t in ada.tel_list] == ["+44 20 7946 0000"]
    assert ada.url.value == "https://example.org/ada" and ada.note.value == "at Babbage's salon"
    assert by_name["Zoë Ünïcode-Ñame"].org.value == ["Café ☕ \"Quotes\"; Semi, Comma"]
    assert [e.value for e in by_name["Barbara Liskov"].email_list] == ["barbara@example.org"]
    assert by_name["Barbara Liskov"].bday.value == "19391107" and "bday" not in ada.contents
    assert by_name["Grace Brewster Hopper"].n.value.additional == "Brewster"

    # Restored into an empty home.
    restored = empty_home(tmp_path)
    restored.ok("init")
    assert "Would restore" in restored.ok("import", "jsonl", facts, "--dry-run").stdout
    assert store_state(restored.home)[0] == 0
    doc = restored.json("import", "jsonl", facts)
    assert doc["facts"] == len(lines) and doc["erased_contacts"] >= 1

    # Every read gives the same answer: today, an earlier day, and as known at the moment.
    answers = {}
    for args in (NOW, ("--today", "2026-10-15"), (*NOW, "--known-at", moment)):
        answers[args] = before = reads(run, ids, mallory, *args)
        after = reads(restored, ids, mallory, *args)
        for name in before:
            assert after[name] == before[name], (name, args)
    assert all(code == 0 and not err for code, _, err in answers[NOW].values())
    assert all(code == 0 for code, _, _ in answers[(*NOW, "--known-at", moment)].values())
    then, now = answers[(*NOW, "--known-at", moment)], answers[NOW]
    assert then["history grace"] != now["history grace"]  # the known-at reads do look into the past
    assert answers[("--today", "2026-10-15")]["show barbara"][0] == 2  # met later: the same error

    # The restored store exports what the first did, byte for byte.
    again = tmp_path / "again"
    restored.ok("export", again)
    assert (again / "facts.jsonl").read_bytes() == facts.read_bytes()
    assert (again / "contacts.vcf").read_bytes() == cards.read_bytes()

    # The forgotten contact stays erased: its key is a tombstone, as 'syncnet forget' leaves.
    for home in (run.home, restored.home):
        conn = sqlite3.connect(home / "store.db")
        (kind, size), = conn.execute("SELECT kind, length(wrapped) FROM syncnet_keys WHERE subject = ?",
                                     (mallory,)).fetchall()  # fmt: skip
        conn.close()
        assert (kind, size) == ("erased", 0)
    history = json.dumps(restored.json("history", mallory[:8]))
    assert "[forgotten]" in history and not [s for s in SECRETS if s in history]
    assert restored.ok("verify").returncode == 0


def test_a_forgotten_text_in_the_file_is_sealed_with_a_key_never_stored(run: Runner, tmp_path: Path) -> None:
    """An export edited to hold a forgotten contact's name: the import seals it with a key
    it throws away, so the restored store cannot show it."""
    run.ok("init")
    run.ok("meet", "Mallory Secretname", "--on", "2026-11-02", *T)
    run.ok("forget", "mallory", "--yes")
    run.ok("export", "--facts", tmp_path / "f.jsonl")
    lines = (tmp_path / "f.jsonl").read_text().splitlines()
    met = json.loads(lines[0])
    met["fact"]["name"], met["erased"] = "Mallory Secretname", []
    del met["erased"]
    (tmp_path / "edited.jsonl").write_text("\n".join([json.dumps(met), *lines[1:]]) + "\n")
    restored = empty_home(tmp_path)
    restored.ok("init")
    restored.ok("import", "jsonl", tmp_path / "edited.jsonl")
    shown = restored.json("history", met["fact"]["contact_id"][:8])
    assert "Mallory" not in json.dumps(shown) and "[forgotten]" in json.dumps(shown)


def exported(run: Runner, tmp_path: Path) -> list[str]:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--note", "n", "--on", "2026-11-02", *T)
    run.ok("touch", "ada", "--minutes", "10", "--on", "2026-11-03", *T)
    run.ok("pitch", "--on", "2026-11-04", *T)
    run.ok("export", "--facts", tmp_path / "f.jsonl")
    return (tmp_path / "f.jsonl").read_text().splitlines()


def edit(line: str, change: Any) -> str:
    record = json.loads(line)
    change(record)
    return json.dumps(record)


BAD_LINES = {
    "not JSON": (2, lambda line: line[:-5]),
    "a list": (2, lambda line: "[1, 2]"),
    "unknown type": (2, lambda line: edit(line, lambda r: r.update(type="Teleported"))),
    "missing field": (2, lambda line: edit(line, lambda r: r["fact"].pop("minutes"))),
    "unknown field": (3, lambda line: edit(line, lambda r: r["fact"].update(colour="red"))),
    "minutes as text": (2, lambda line: edit(line, lambda r: r["fact"].update(minutes="ten"))),
    "minutes as true": (2, lambda line: edit(line, lambda r: r["fact"].update(minutes=True))),
    "bad day": (2, lambda line: edit(line, lambda r: r["fact"].update(on="03/11/2026"))),
    "bad contact id": (2, lambda line: edit(line, lambda r: r["fact"].update(contact_id="ada"))),
    "naive recorded": (3, lambda line: edit(line, lambda r: r.update(recorded=r["recorded"][:19]))),
    "null name": (1, lambda line: edit(line, lambda r: r["fact"].update(name=None))),
    "erased path unknown": (1, lambda line: edit(line, lambda r: r.update(erased=["colour"]))),
    "newer type version": (1, lambda line: edit(line, lambda r: r.update(type_version=99))),
    "details not JSON": (1, lambda line: edit(line, lambda r: r["fact"].update(details="{not json"))),
    "details, wrong shape": (1, lambda line: edit(line, lambda r: r["fact"].update(details='{"org": 5}'))),
    "details, unknown keys": (1, lambda line: edit(line, lambda r: r["fact"].update(details='{"pin": "1"}'))),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_malformed_line_is_refused_with_its_number_and_nothing_written(
    run: Runner, tmp_path: Path, case: str
) -> None:
    lines = exported(run, tmp_path)
    number, change = BAD_LINES[case]
    lines[number - 1] = change(lines[number - 1])
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n")
    restored = empty_home(tmp_path)
    restored.ok("init")
    before = store_state(restored.home)
    error = restored.fails("import", "jsonl", tmp_path / "bad.jsonl")
    assert f"line {number}:" in error and "nothing was imported" in error, error
    assert store_state(restored.home) == before and before[0] == 0


def test_out_of_order_twice_and_empty_are_refused(run: Runner, tmp_path: Path) -> None:
    lines = exported(run, tmp_path)
    restored = empty_home(tmp_path)
    restored.ok("init")
    for name, content, where in (
        ("swapped", [lines[1], lines[0], lines[2]], "line 2: position 1 after 2"),
        ("twice", [lines[0], lines[1], edit(lines[1], lambda r: r.update(position=9))], "line 3: fact"),
        ("empty", ["", "  "], "holds no fact"),
    ):
        (tmp_path / name).write_text("\n".join(content) + "\n")
        assert where in restored.fails("import", "jsonl", tmp_path / name), name
        assert store_state(restored.home) == (0, 1)  # no fact; the store key only


def test_a_line_of_an_older_type_version_is_upcast(run: Runner, tmp_path: Path) -> None:
    """A first meeting exported before `via` and `details` existed (ContactMet version 1),
    and before `imported` (version 2)."""
    lines = exported(run, tmp_path)
    old = json.loads(lines[0])
    assert old["type"] == "ContactMet" and old["type_version"] == 3 and old["fact"]["imported"] is None
    del old["fact"]["via"], old["fact"]["details"], old["fact"]["imported"]
    old["type_version"] = 1
    (tmp_path / "old.jsonl").write_text("\n".join([json.dumps(old), *lines[1:]]) + "\n")
    restored = empty_home(tmp_path)
    restored.ok("init")
    restored.ok("import", "jsonl", tmp_path / "old.jsonl")
    assert restored.json("contacts", *T)["contacts"][0]["name"] == "Ada Lovelace"


def test_a_store_with_facts_is_refused(run: Runner, tmp_path: Path) -> None:
    exported(run, tmp_path)
    before = store_state(run.home)
    assert "holds 3 facts" in run.fails("import", "jsonl", tmp_path / "f.jsonl")
    assert store_state(run.home) == before


def test_export_keeps_existing_files_and_needs_a_place(run: Runner, tmp_path: Path) -> None:
    exported(run, tmp_path)
    kept = (tmp_path / "f.jsonl").read_bytes()
    assert "exists: pass --force" in run.fails("export", "--facts", tmp_path / "f.jsonl")
    assert (tmp_path / "f.jsonl").read_bytes() == kept
    assert "say where" in run.fails("export")
    assert "standard output" in run.fails("export", "--facts", "-", "--vcards", "-")
    piped = run.ok("export", "--facts", "-").stdout
    assert piped.encode() == kept


# ---------------------------------------------------------------- every fact type, generically
@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("generic")
    init_store(home)
    with Network.open(home) as net:
        yield net.store.keyring


def _value(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a field's type; a sealed text is drawn as a `str` wrapped in a list
    (sealed below, once the fact's contact is known)."""
    arms = ex._arms(hint)
    if arms is not None:
        return st.one_of(*(st.none() if a is type(None) else _value(a) for a in arms))
    if hint is Sealed:
        return st.text(max_size=40).map(lambda t: [t])
    if hint is UUID:
        return st.uuids()
    if hint is date:
        return st.dates(date(1900, 1, 1), date(2100, 12, 31))
    if hint is str:
        return st.text(max_size=20)
    if hint is int:
        return st.integers(-(2**53), 2**53)
    if hint is bool:
        return st.booleans()
    if ex._is_namedtuple(hint):
        return st.tuples(*(_value(h) for _, h in ex.fields_of(hint))).map(lambda v: hint(*v))
    args = getattr(hint, "__args__", ())
    if args[-1:] == (Ellipsis,):
        return st.lists(_value(args[0]), max_size=3).map(tuple)
    raise AssertionError(f"no strategy for {hint}: add one (a new field type)")


def _seal(value: Any, subject: UUID, keyring: Any) -> Any:
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        if not keyring.has_key(subject):
            keyring.new_key(subject, "contact")
        return keyring.seal(subject, value[0])
    if ex._is_namedtuple(type(value)):
        inner = value.contact_id if getattr(value, "contact_id", None) is not None else subject
        return type(value)(*(_seal(v, inner, keyring) for v in value))
    if isinstance(value, tuple):
        return tuple(_seal(v, subject, keyring) for v in value)
    return value


@pytest.mark.parametrize("name", sorted(ex.fact_types()))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_fact_type_goes_through_a_line_and_back(keyring: Any, name: str, data: st.DataObject) -> None:
    cls = ex.fact_types()[name]
    fact_id = uuid4()
    values = {n: data.draw(_value(h), label=n) for n, h in ex.fields_of(cls)}
    # the texts read as data are drawn as the store writes them (an import checks them)
    if values.get("details") is not None:
        values["details"] = [json.dumps({"org": data.draw(st.text(max_size=20), label="org"),
                                         "emails": data.draw(st.lists(st.text(max_size=10), max_size=2))})]
    if values.get("birthday") is not None:
        day = data.draw(st.dates(date(1604, 1, 1), date(2026, 1, 1)), label="day")
        values["birthday"] = [day.isoformat()]
    subject = ex.key_subject(cls, fact_id, values)
    values = {n: _seal(v, subject, keyring) for n, v in values.items()}
    if cls is ev.ContactForgotten:
        values["note"] = None  # as recorded: its contact's texts are sealed with a key destroyed
    recorded = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    fact = cls(originator_id=fact_id, originator_version=1, timestamp=recorded, **values)
    record = ex.record_of(7, fact, ex.opener(keyring))
    line = ex.line_of(record)
    assert len(line.splitlines()) == 1 and "sealed_with" not in record
    parsed = ex.parse_line(1, line, ex.fact_types())
    (back,), erase = ex.restored_facts([parsed], keyring)
    try:
        assert type(back) is cls and back.originator_id == fact_id and back.timestamp == recorded
        assert ex.record_of(7, back, ex.opener(keyring)) == record
    finally:
        keyring.discard_pending()
    if cls is ev.ContactForgotten:
        assert erase == [values["contact_id"].hex]


def test_a_text_sealed_with_another_key_says_which(keyring: Any) -> None:
    contact = uuid4()
    keyring.new_key(contact, "contact")
    if not keyring.has_key(ME):
        keyring.new_key(ME, "self")
    fact = ev.Touched(originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC),
                      on=date(2026, 1, 2), note=keyring.seal(ME, "mine"), contact_id=contact, by="me",
                      channel=None, minutes=None)  # fmt: skip
    record = ex.record_of(1, fact, ex.opener(keyring))
    assert record["sealed_with"] == {"note": ME.hex} and record["fact"]["note"] == "mine"
    (back,), _ = ex.restored_facts([ex.parse_line(1, json.dumps(record), ex.fact_types())], keyring)
    try:
        assert back.note.key_id == ME and keyring.unseal(back.note) == "mine"
    finally:
        keyring.discard_pending()


def test_the_schema_page_names_every_fact_type() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "export.md").read_text(encoding="utf-8")
    for name, cls in ex.fact_types().items():
        assert f"| {name} | {getattr(cls, 'class_version', 1)} |" in page, f"docs/export.md: add {name}"
