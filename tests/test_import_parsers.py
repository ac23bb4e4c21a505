"""The import parsers (issue 15): LinkedIn's Connections.csv, Google Contacts' CSV (both
headers) and vCard files (2.1 quoted-printable, 3.0, 4.0) turned into Cards and Skipped rows.

The files in tests/data/imports/ are written as the exporters write them (byte-order marks,
CRLF, LinkedIn's preamble, Google's ` ::: `, folded and quoted-printable vCard lines, a
PHOTO); each test states the full cards it expects, line numbers and skip reasons included.
Hypothesis then feeds each parser arbitrary bytes and near-valid files: nothing may escape
but MalformedFile, and no name comes out with a control character in it.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syncnet_adapters.google_contacts import parse_google
from syncnet_adapters.linkedin import connected_on, parse_linkedin
from syncnet_adapters.vcards import parse_vcards

from syncnet.domain.cards import Card, MalformedFile, Parsed, Skipped

DATA = Path(__file__).parent / "data" / "imports"
LI = "professional-network"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# ---------------------------------------------------------------------------------- LinkedIn


def test_a_linkedin_export_with_its_preamble_bom_crlf_and_empty_emails():
    data = read("linkedin_connections.csv")
    assert data.startswith(codecs.BOM_UTF8) and b"\r\n" in data  # the file is what the test says
    parsed = parse_linkedin(data)
    assert parsed.cards == [
        Card("Ada Lovelace", 6, organisation="Analytical Engines Ltd", role="Mathematician",
             urls=("https://www.linkedin.com/in/ada-lovelace-1815",), met_on=date(2024, 3, 15), channel=LI),
        Card("Grace Hopper", 7, organisation="US Navy, Bureau of Ships", role='Rear Admiral "Amazing Grace"',
             emails=("grace.hopper@navy.example",), urls=("https://www.linkedin.com/in/gracehopper",),
             met_on=date(2019, 1, 2), channel=LI),
        Card("Zoë Ørsted-Łukasiewicz", 8, organisation="Københavns Universitet", role="Lektor",
             urls=("https://www.linkedin.com/in/zoe-orsted",), met_on=date(2023, 8, 7), channel=LI),
        Card("小龙 李", 11, urls=("https://www.linkedin.com/in/li-xiaolong",), met_on=date(2021, 2, 28),
             channel=LI),
        # padded cells trimmed; no Connected On: met_on unknown, the row is kept
        Card("Jean-Luc Picard", 12, organisation="Starfleet", role="Captain",
             urls=("https://www.linkedin.com/in/jlpicard",), channel=LI),
    ]  # fmt: skip
    # line 9 is only commas (left out); line 10 is a member who shows no name
    assert parsed.skipped == [Skipped(10, "neither a first nor a last name")]


def test_an_older_linkedin_export_without_preamble_url_or_bom():
    assert parse_linkedin(read("linkedin_no_url.csv")) == Parsed(cards=[
        Card("Linus Torvalds", 2, organisation="Linux Foundation", role="Fellow",
             emails=("linus@kernel.example",), met_on=date(2018, 10, 12), channel=LI),
        Card("Margaret Hamilton", 3, organisation="Hamilton Technologies", role="Founder",
             met_on=date(2017, 5, 3), channel=LI),
    ])  # fmt: skip


def test_linkedin_rows_with_unreadable_dates_or_shifted_cells_are_skipped_with_their_lines():
    parsed = parse_linkedin(read("linkedin_bad_dates.csv"))
    assert parsed.cards == [
        # 15-Mar-24, as Excel saves it
        Card("Katherine Johnson", 6, organisation="NASA", role="Mathematician",
             urls=("https://www.linkedin.com/in/kjohnson",), met_on=date(2024, 3, 15), channel=LI),
        Card("Annie Easley", 9, organisation="NASA", role="Programmer",
             urls=("https://www.linkedin.com/in/aeasley",), met_on=date(2020, 9, 10), channel=LI),
    ]  # fmt: skip
    bad_date = "Connected On is not a date like 15 Mar 2024"
    assert parsed.skipped == [
        Skipped(5, bad_date),  # 03/15/2024: month or day first?
        Skipped(7, bad_date),  # 31 Feb 2024
        Skipped(8, "8 fields where the header has 7"),  # NASA, Langley unquoted
        Skipped(10, bad_date),  # 15 Mär 2024: a German month
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15 Mar 2024", date(2024, 3, 15)), ("5 mar 2024", date(2024, 3, 5)), ("15-Mar-24", date(2024, 3, 15)),
     ("12-Dec-99", date(1999, 12, 12)),
     ("2024-03-15", date(2024, 3, 15)), ("29 Feb 2024", date(2024, 2, 29))],
)  # fmt: skip
def test_connected_on_reads_linkedins_dates(text, expected):
    assert connected_on(text) == expected


@pytest.mark.parametrize(
    "text", ["03/15/2024", "15 March 2024", "15 Mar 24", "29 Feb 2023", "15 Mar 2024 10:00", ""]
)
def test_connected_on_refuses_the_rest(text):
    with pytest.raises(ValueError):
        connected_on(text)


@pytest.mark.parametrize(
    ("name", "line", "reason"),
    [
        ("linkedin_unclosed_quote.csv", 6, "a quoted field that starts here is never closed"),
        ("linkedin_latin1.csv", 6, "the file is not UTF-8 text (save it as UTF-8: in Excel, 'CSV UTF-8')"),
    ],
)
def test_a_malformed_linkedin_file_is_refused_whole_with_its_line(name, line, reason):
    with pytest.raises(MalformedFile) as e:
        parse_linkedin(read(name))
    assert (e.value.line, e.value.reason) == (line, reason)


@pytest.mark.parametrize("parse", [parse_linkedin, parse_google])
def test_a_csv_of_another_kind_is_not_read_as_an_export(parse):
    with pytest.raises(MalformedFile):
        parse(b"Date,Amount,Payee\n2024-01-02,12.50,Bakery\n")
    with pytest.raises(MalformedFile):
        parse(b"")


# ---------------------------------------------------------------------------------- Google


def test_google_current_export_with_bom_and_multiple_values():
    data = read("google_current.csv")
    assert data.startswith(codecs.BOM_UTF8) and b" ::: " in data
    parsed = parse_google(data)
    assert parsed.cards == [
        # the prefix Dr. is left out; the organisation's comma is kept; Google's * groups dropped
        Card("Jane Quinn Doe", 2, organisation="Acme, Inc.", role="Head of Research",
             emails=("jane@acme.example", "j.doe@acme.example", "jane@home.example"),
             phones=("+49 170 1234567", "+49 30 1234567", "+49 30 7654321"), urls=("https://jane.example",),
             birthday=date(1990, 5, 17), note="Met at FOSDEM 2024.\nLikes Rust.",
             categories=("Conference 2024",)),
        Card("Jürgen Müller", 5, emails=("juergen@example.de",), birthday=date(1604, 5, 17)),  # --05-17
        Card("Bobby", 8, phones=("+1 555 0100",), categories=("Climbing",)),  # a nickname only
    ]  # fmt: skip
    assert parsed.skipped == [
        Skipped(6, "no name (no First, Middle or Last Name, File As or Nickname)"),  # a company
        Skipped(7, "Birthday is not a date like 1990-05-17 or --05-17"),
    ]


LEGACY = Parsed(
    cards=[
        Card("Grace Hopper", 2, organisation="US Navy", role="Rear Admiral", emails=("grace@navy.example",),
             phones=("+1 202 555 0100",), urls=("https://en.wikipedia.org/wiki/Grace_Hopper",),
             birthday=date(1906, 12, 9), categories=("Navy", "Mentors")),
        Card("Александр Пушкин", 3, emails=("pushkin@example.ru",), note="Wrote in Russian, mostly poems",
             categories=("Poets",)),
        Card("Leap Day", 4, birthday=date(1604, 2, 29)),
    ],
    skipped=[Skipped(5, "no name (no First, Middle or Last Name, File As or Nickname)")],
)  # fmt: skip


@pytest.mark.parametrize(("name", "bom"), [("google_legacy.csv", codecs.BOM_UTF8),
                                           ("google_legacy_utf16.csv", codecs.BOM_UTF16_LE)])  # fmt: skip
def test_google_legacy_export_in_utf8_and_utf16(name, bom):
    data = read(name)
    assert data.startswith(bom) and "Group Membership" in data.decode(
        "utf-8-sig" if bom == codecs.BOM_UTF8 else "utf-16"
    )
    assert parse_google(data) == LEGACY


def test_a_google_file_with_broken_quoting_is_refused():
    data = read("google_current.csv").replace(b'"Met at FOSDEM', b'"Met at "FOSDEM')
    with pytest.raises(MalformedFile) as e:
        parse_google(data)
    assert e.value.line == 2


# ---------------------------------------------------------------------------------- vCard


def test_vcard_30_with_folded_lines_escapes_and_a_photo():
    data = read("contacts_30.vcf")
    parsed = parse_vcards(data)
    assert parsed == Parsed(cards=[
        Card("Dr. Jane Quinn Doe, PhD", 1, organisation="Acme, Inc.", role="Head of Research; Platform",
             emails=("jane@acme.example", "jane@home.example"), phones=("+49 170 1234567",),
             urls=("https://jane.example/about",), birthday=date(1990, 5, 17),
             note="Met at FOSDEM 2024 in Brussels, talked about event sourcing and CRDTs for a long while.\n"
                  "Follow up about the Rust workshop; bring the slides.",
             categories=("Conference 2024", "Rust,Go", "Mentors"),
             source_id="0A1B2C3D-4E5F-6789-ABCD-EF0123456789"),
        Card("Ada Lovelace", 19, emails=("ada@engines.example",), birthday=date(1604, 12, 10)),  # --1210
    ])  # fmt: skip
    assert b"/9j/4AAQ" in data and "/9j/" not in repr(parsed)  # the photo was there and is not kept


def test_vcard_40_with_a_tel_uri_a_leap_day_and_a_text_birthday():
    assert parse_vcards(read("contacts_40.vcf")) == Parsed(cards=[
        Card("Zoë Ørsted-Łukasiewicz", 1, organisation="Københavns Universitet", role="Lektor",
             emails=("zoe@nbi.example",), phones=("+45-20-12-34-56",), urls=("https://nbi.example/~zoe",),
             birthday=date(1604, 2, 29), categories=("physics", "colleagues"),
             source_id="urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"),
        Card("李小龙", 16, emails=("bruce@example.hk",)),  # BDAY;VALUE=text: not a date
    ])  # fmt: skip


def test_vcard_21_quoted_printable_from_an_old_phone():
    data = read("phone_21.vcf")
    assert b"ENCODING=QUOTED-PRINTABLE" in data and b"M=C3=\r\n=BCller" in data  # a soft break inside ü
    parsed = parse_vcards(data)
    assert parsed.cards == [
        # 2.1 does not escape commas: the organisation keeps its comma (vobject's text decoding would cut it)
        Card("Jürgen Müller", 1, organisation="Bäckerei Müller, Inh. J. Müller", role="Bäckermeister",
             emails=("juergen@baeckerei.example",), phones=("+491701234567", "030 1234567"),
             birthday=date(1962, 7, 4),
             note="Kennengelernt auf der Messe in Köln, Halle 7.\nBringt Brötchen mit."),
        Card("Γιώργος Παπαδόπουλος", 20, phones=("+30 694 1234567",)),  # N only, and a 2.1 PHOTO
    ]  # fmt: skip
    assert parsed.skipped == [Skipped(15, "no name (FN and N missing or empty)")]
    assert "/9j/" not in repr(parsed)


@pytest.mark.parametrize(
    ("name", "line", "reason"),
    [
        ("malformed.vcf", 8, "this line of a vCard is not NAME:value"),
        ("truncated.vcf", 5, "the vCard that starts here has no END:VCARD"),
        ("linkedin_no_url.csv", 1, "text outside a vCard (BEGIN:VCARD expected)"),
    ],
)
def test_a_vcard_file_vobject_cannot_read_is_refused_whole_with_its_line(name, line, reason):
    with pytest.raises(MalformedFile) as e:
        parse_vcards(read(name))
    assert (e.value.line, e.value.reason) == (line, reason)


@pytest.mark.parametrize(
    ("card", "line", "reason"),
    [
        ("BEGIN:VCARD\nFN;CHARSET=X-NONE;ENCODING=QUOTED-PRINTABLE:=E4\nEND:VCARD\n", 2, "unknown CHARSET"),
        ("BEGIN:VCARD\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E4\nEND:VCARD\n", 2,
         "a quoted-printable value does not decode"),
        # vobject 0.9.9 passes the remaining ENCODING list to bytes.decode: a TypeError
        ("BEGIN:VCARD\nFN;ENCODING=QUOTED-PRINTABLE,8BIT:x\nEND:VCARD\n", 2, "vobject cannot read this line"),
        ("\n\nEND:VCARD\n", 3, "END:VCARD without a BEGIN:VCARD before it"),
        ("\n \n", 0, "no vCard in the file (no BEGIN:VCARD line)"),
    ],
)  # fmt: skip
def test_vcard_encoding_and_structure_errors(card, line, reason):
    with pytest.raises(MalformedFile) as e:
        parse_vcards(card.encode())
    assert (e.value.line, e.value.reason) == (line, reason)


def test_an_unreadable_vcard_birthday_skips_the_card():
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nBDAY:17.05.1990\r\nEND:VCARD\r\n"
    assert parse_vcards(data) == Parsed(skipped=[Skipped(1, "BDAY is not a date like 1990-05-17 or --05-17")])


# ------------------------------------------------------------------- any input (hypothesis)


# What a name, organisation, e-mail... may not hold once parsed: C0/C1 controls, DEL, and the
# Unicode line and paragraph separators (a name is printed on one line and matched).
def one_line_fields(card: Card) -> list[str]:
    return [card.name, card.organisation or "", card.role or "", card.source_id or "",
            *card.emails, *card.phones, *card.urls, *card.categories]  # fmt: skip


def check(parse: Callable[[bytes], Parsed], data: bytes) -> None:
    try:
        parsed = parse(data)
    except MalformedFile as e:
        assert e.line >= 0 and e.reason and "\n" not in e.reason
        return
    lines = max(1, data.count(b"\n") + data.count(b"\r") + 1)
    for card in parsed.cards:
        assert card.name and card.name == card.name.strip()
        for text in one_line_fields(card):
            assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text), card
        assert 1 <= card.line <= lines
    for skipped in parsed.skipped:
        assert 1 <= skipped.line <= lines and "\n" not in skipped.reason


PARSERS = [parse_linkedin, parse_google, parse_vcards]
PIECES = [*"ab ,;:\"'\\=-*", "\t", "\x00", "\x1b[31m", "\x7f", "\x85", "\x9b", "\u2028", "\u202e", "é", "中",
          " ::: ", "=C3=", "\ufeff"]  # fmt: skip
BREAKS = ["\r\n", "\n", "\r", "=\r\n"]
TEXT = st.lists(st.sampled_from(PIECES + BREAKS), max_size=12).map("".join)  # line breaks too
INLINE = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)  # within a line


@pytest.mark.parametrize("parse", PARSERS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_give_cards_or_malformed_file_never_another_error(parse, data, capfd):
    check(parse, data)
    assert capfd.readouterr() == ("", "")  # no printing, no logging (vobject logs to stderr)


def csv_file(header: list[str], columns: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[bytes]:
    """A CSV with this header and rows written by the csv module (mostly the right width, or
    one cell more or less), or now and then a line of raw text (broken quoting)."""
    cell = [columns.get(name, TEXT) for name in header]
    right = st.tuples(*cell).map(list)
    row = st.one_of(right, right, right, st.lists(TEXT, min_size=len(header) - 1, max_size=len(header) + 1))
    line = st.one_of(row.map(written), row.map(written), row.map(written), TEXT)

    def render(parts: tuple[str, list[str], str]) -> bytes:
        bom, lines, newline = parts
        return (bom + ",".join(header) + newline + newline.join(lines)).encode()

    return st.tuples(
        st.sampled_from(["", "\ufeff"]), st.lists(line, max_size=8), st.sampled_from(["\n", "\r\n"])
    ).map(render)


def written(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


NAME = st.one_of(INLINE, st.sampled_from(["Ada", "Zoë", "", "  "]))
LINKEDIN_HEADER = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"]
LINKEDIN_COLUMNS = {
    "First Name": NAME, "Last Name": NAME,
    "Connected On": st.one_of(st.sampled_from(["15 Mar 2024", "1-Jan-09", "2024-02-29", "", "31 Feb 2024"]),
                              INLINE),
}  # fmt: skip
GOOGLE_HEADER = ["First Name", "Middle Name", "Last Name", "Nickname", "Organization Name",
                 "Organization Title", "Birthday", "Notes", "Labels", "E-mail 1 - Value", "Phone 1 - Value",
                 "Website 1 - Value"]  # fmt: skip
GOOGLE_COLUMNS = {
    "First Name": NAME, "Last Name": NAME,
    "Birthday": st.one_of(st.sampled_from(["1990-05-17", "--02-29", "", "", "1990-02-30"]), INLINE),
}  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_file(LINKEDIN_HEADER, LINKEDIN_COLUMNS))
def test_hostile_linkedin_rows(data, capfd):
    check(parse_linkedin, data)
    assert capfd.readouterr() == ("", "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_file(GOOGLE_HEADER, GOOGLE_COLUMNS))
def test_hostile_google_rows(data, capfd):
    check(parse_google, data)
    assert capfd.readouterr() == ("", "")


PROPERTY = st.tuples(
    st.sampled_from(["FN", "N", "ORG", "TITLE", "EMAIL", "TEL", "URL", "NOTE", "CATEGORIES", "UID",
                     "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE", "N;ENCODING=QUOTED-PRINTABLE",
                     "ORG;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE", "TEL;VALUE=uri", "item1.EMAIL",
                     "NOTE;ENCODING=QUOTED-PRINTABLE;ENCODING=8BIT",
                     "TITLE;CHARSET=koi8-r;ENCODING=QUOTED-PRINTABLE"]),
    st.one_of(INLINE, INLINE, TEXT),
).map(lambda t: f"{t[0]}:{t[1]}")  # fmt: skip
STRUCTURE = st.sampled_from(["BEGIN:VCARD", "END:VCARD", "VERSION:2.1", "VERSION:4.0", "", " folded",
                             "N:;;;;", "PHOTO;ENCODING=b:/9j/", "BDAY:--0229", "BDAY:1990-13-01",
                             "BDAY;VALUE=text:x"])  # fmt: skip
VCARD_LINE = st.one_of(PROPERTY, PROPERTY, PROPERTY, STRUCTURE)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(VCARD_LINE, max_size=14), newline=st.sampled_from(["\r\n", "\n"]))
def test_hostile_vcards(lines, newline, capfd):
    check(parse_vcards, newline.join(["BEGIN:VCARD", *lines, "END:VCARD"]).encode())
    assert capfd.readouterr() == ("", "")


def test_a_vcard_4_tel_uri_with_parameters_is_its_number() -> None:
    from syncnet_adapters.vcards import parse_vcards

    card = (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Tel Uri\r\n"
            b"TEL;VALUE=uri;TYPE=work:tel:+1-555-555-5555;ext=5555\r\nEND:VCARD\r\n")
    (found,) = parse_vcards(card).cards
    assert found.phones == ("+1-555-555-5555",)


def test_a_legacy_google_name_with_a_prefix_is_read_from_its_parts() -> None:
    from syncnet_adapters.google_contacts import parse_google

    csv = (b"Name,Given Name,Additional Name,Family Name,Name Prefix,E-mail 1 - Value\r\n"
           b"Dr. Quinn Medic,Quinn,,Medic,Dr.,quinn@example.org\r\n")  # fmt: skip
    (card,) = parse_google(csv).cards
    assert card.name == "Quinn Medic"


def test_linkedin_needs_connected_on_and_names_a_google_file() -> None:
    google = (b"First Name,Middle Name,Last Name,Organization Name,E-mail 1 - Value\r\n"
              b"Ada,,Lovelace,Engines,a@x.org\r\n")
    with pytest.raises(MalformedFile) as found:
        parse_linkedin(google)
    assert found.value.line == 1 and "no Connected On column" in str(found.value)
    assert "syncnet import google" in str(found.value)
    with pytest.raises(MalformedFile, match=r"no Connected On column$"):
        parse_linkedin(b"First Name,Last Name,Company\r\nAda,Lovelace,Engines\r\n")


def test_a_linkedin_file_saved_with_semicolons_is_read_and_an_empty_one_is_named() -> None:
    text = ("First Name;Last Name;URL;Email Address;Company;Position;Connected On\r\n"
            "Ada;Lovelace;;;Analytical Engines, Ltd;Engineer;15 Mar 2024\r\n")  # fmt: skip
    (card,) = parse_linkedin(text.encode()).cards
    assert (card.name, card.organisation, card.met_on) == ("Ada Lovelace", "Analytical Engines, Ltd",
                                                           date(2024, 3, 15))  # fmt: skip
    for empty in (b"", b"\r\n \r\n", codecs.BOM_UTF8):
        with pytest.raises(MalformedFile, match="the file is empty"):
            parse_linkedin(empty)
