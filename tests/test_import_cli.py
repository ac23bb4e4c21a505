"""`syncnet import` on the real export files of tests/data/imports/, through the CLI, each
imported twice: what was added, matched, skipped and refused, and what the contacts read
back as (`show`, `contacts`, `due`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Runner, store_state

DATA = Path(__file__).resolve().parent / "data" / "imports"


@pytest.mark.parametrize(
    ("kind", "file"),
    [
        ("linkedin", "linkedin_connections.csv"),
        ("linkedin", "linkedin_no_url.csv"),
        ("google", "google_current.csv"),
        ("google", "google_legacy.csv"),
        ("google", "google_legacy_utf16.csv"),
        ("vcard", "contacts_30.vcf"),
        ("vcard", "contacts_40.vcf"),
        ("vcard", "phone_21.vcf"),
    ],
)
def test_each_file_imported_twice_adds_its_people_once(run: Runner, kind: str, file: str) -> None:
    run.ok("init")
    first = run.json("import", kind, DATA / file)
    assert first["added"] > 0 and first["updated"] == 0 and not first["dry_run"]
    contacts = run.json("contacts")
    names = sorted(c["name"] for c in contacts["contacts"])
    assert len(names) == first["added"]
    state = store_state(run.home)
    again = run.json("import", kind, DATA / file)
    assert (again["added"], again["updated"]) == (0, 0)
    assert again["unchanged"] == first["added"] + first["unchanged"]
    assert store_state(run.home) == state  # the second time records nothing
    assert run.json("due")["agenda"] == []  # imported contacts are unsorted: nothing due


def test_linkedin_rows_become_contacts_with_their_details_and_old_meetings(run: Runner) -> None:
    run.ok("init")
    report = run.json("import", "linkedin", DATA / "linkedin_connections.csv")
    cards = {c["name"]: c for c in report["cards"]}
    assert "Ada Lovelace" in cards and "Grace Hopper" in cards
    ada = run.json("show", "Ada Lovelace")
    assert ada["details"]["org"] == "Analytical Engines Ltd"
    assert ada["details"]["urls"] == ["https://www.linkedin.com/in/ada-lovelace-1815"]
    assert ada["met_on"] == "2024-03-15" and ada["channel"] == "professional-network"
    assert ada["pocket"] == "unsorted"
    grace = run.json("show", "Grace Hopper")
    assert grace["details"]["emails"] == ["grace.hopper@navy.example"]
    assert grace["details"]["role"] == 'Rear Admiral "Amazing Grace"'
    assert [s["line"] for s in report["skipped"]] == [10]  # a URL and a company, no name
    # Kept, Ada (met in 2024) gets the season touch, never a follow-up.
    run.ok("pocket", "Ada Lovelace", "keep")
    due = run.json("due", "--until", "2027-04-01")["agenda"]
    assert [i["rule"] for i in due if "Ada" in i["summary"]] == ["season"]


def test_the_same_people_from_another_source_are_matched_not_added(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    run.ok("import", "linkedin", DATA / "linkedin_connections.csv")
    before = run.json("contacts")["contacts"]
    # Grace by her e-mail, Ada by her profile URL written another way, and a new person.
    vcf = tmp_path / "phone.vcf"
    vcf.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grace B. Hopper\r\nN:Hopper;Grace;B.;;\r\n"
        "EMAIL:GRACE.HOPPER@navy.example\r\nTEL:+1 202 555 0100\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada King\r\nN:King;Ada;;;\r\n"
        "URL:http://linkedin.com/in/ada-lovelace-1815/\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Margaret Hamilton\r\nN:Hamilton;Margaret;;;\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    report = run.json("import", "vcard", vcf)
    assert (report["added"], report["updated"], report["unchanged"]) == (1, 1, 1)  # Ada: nothing new
    assert [c["matched_by"] for c in report["cards"]] == ["e-mail", "profile URL", "new"]
    assert len(run.json("contacts")["contacts"]) == len(before) + 1
    grace = run.json("show", "Grace Hopper")
    assert grace["details"]["phones"] == ["+1 202 555 0100"]
    assert grace["details"]["emails"] == ["grace.hopper@navy.example"]  # the one it had, not twice


def test_a_dry_run_and_the_summary_in_text(run: Runner) -> None:
    run.ok("init")
    state = store_state(run.home)
    text = run.ok("import", "linkedin", DATA / "linkedin_connections.csv", "--dry-run").stdout
    assert text.startswith("Would add ") and "Nothing was recorded (--dry-run)." in text
    assert "line 10: skipped" in text
    assert store_state(run.home) == state
    done = run.ok("import", "linkedin", DATA / "linkedin_connections.csv").stdout
    assert done.startswith("Added ") and "syncnet sort" in done


@pytest.mark.parametrize(
    ("kind", "file", "says"),
    [
        ("linkedin", "linkedin_unclosed_quote.csv", "line "),
        ("linkedin", "linkedin_latin1.csv", "line "),
        ("vcard", "malformed.vcf", "vcard"),
        ("vcard", "truncated.vcf", "vcard"),
        ("google", "linkedin_connections.csv", "google"),
    ],
)
def test_a_malformed_file_is_refused_in_one_line_and_nothing_is_written(
    run: Runner, kind: str, file: str, says: str
) -> None:
    run.ok("init")
    state = store_state(run.home)
    line = run.fails("import", kind, DATA / file)
    assert says in line and "nothing was imported" in line, line
    assert store_state(run.home) == state


def test_a_missing_file_and_sort_without_a_terminal(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    assert run.ok("sort").stdout == "Nothing to sort: no contact is unsorted.\n"  # asks nothing, anywhere
    assert "cannot read" in run.fails("import", "vcard", tmp_path / "none.vcf")
    run.ok("import", "linkedin", DATA / "linkedin_connections.csv")
    listed = run.json("sort", "--list")["unsorted"]
    assert listed and all(r["name"] for r in listed)
    assert "terminal" in run.fails("sort")
    run.ok("pocket", listed[0]["contact_id"], "keep")
    assert len(run.json("sort", "--list")["unsorted"]) == len(listed) - 1


def test_sort_on_a_terminal_keeps_lets_go_and_quits_one_keystroke_each(run: Runner) -> None:
    import sys

    from support import answer_on_terminal

    run.ok("init")
    run.ok("import", "linkedin", DATA / "linkedin_connections.csv")
    unsorted = run.json("sort", "--list")["unsorted"]
    assert len(unsorted) >= 3
    argv = [sys.executable, "-m", "syncnet", "sort"]
    asked, shown, code = answer_on_terminal(argv, run.env(), b"k keep, l let go", "klq")
    assert code == 0, asked + shown
    assert f"[1/{len(unsorted)}]" in asked and "Kept 1, let go 1;" in shown, shown
    pockets = {c["id"]: c["pocket"] for c in run.json("contacts")["contacts"]}
    # the oldest first: the first kept, the second let go, the rest still unsorted
    assert [pockets[u["contact_id"]] for u in unsorted[:3]] == ["keep", "drop", "unsorted"]
    assert len(run.json("sort", "--list")["unsorted"]) == len(unsorted) - 2


def test_a_carddav_url_with_an_impossible_host_is_one_line(run: Runner) -> None:
    run.ok("init")
    proc = run("import", "carddav", "http://256.1.1.1/", "--user", "u", env={"SYNCNET_CARDDAV_PASSWORD": "x"})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "256.1.1.1" in proc.stderr and "Traceback" not in proc.stderr
    assert "SYNCNET_DEBUG" not in proc.stderr  # a message of its own, not the internal-error line


def test_an_address_books_state_is_kept_under_its_url_without_query_or_credentials() -> None:
    from syncnet.app.carddav_import import state_key

    assert state_key("https://me:pw@dav.example/ab/book/?token=s3cret#x") == "https://dav.example/ab/book/"
    assert state_key("https://dav.example/ab/book/") == "https://dav.example/ab/book/"


def test_many_rows_skipped_alike_are_named_three_times_and_counted(run: Runner, tmp_path: Path) -> None:
    """A spreadsheet that rewrote every date (2/9/2025): the summary is a few lines, not
    one per row; --json still lists every one."""
    run.ok("init")
    rows = "".join(f"Person,Number{i},,,Acme,Engineer,2/9/2025\r\n" for i in range(500))
    path = tmp_path / "Connections.csv"
    path.write_text("First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n" + rows)
    out = run.ok("import", "linkedin", path).stdout.splitlines()
    skipped = [line for line in out if "skipped, Connected On is not a date" in line]
    assert out[0] == "Added 0, updated 0, unchanged 0, skipped 500."
    why = "Connected On is not a date like 15 Mar 2024"
    named = [f"  line {n}: skipped, {why}" for n in (2, 3, 4)]
    assert skipped == [*named, f"  ... and 497 more skipped, {why}"]
    assert len(run.json("import", "linkedin", path)["skipped"]) == 500
