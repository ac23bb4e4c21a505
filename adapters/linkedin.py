"""LinkedIn's Connections.csv (Settings > Data privacy > Get a copy of your data) as cards.

What a real export looks like: UTF-8, often with a byte-order mark, CRLF line ends; a preamble
of a `Notes:` line and a quoted paragraph (which may span lines) about missing e-mail
addresses, then a blank line (some exports have no preamble); then the header

    First Name,Last Name,URL,Email Address,Company,Position,Connected On

(exports before 2020 or so lack URL; columns are found by their header name, in any order and
case, so a missing or moved column is no problem). E-mail addresses are mostly empty (members
choose whether connections may download theirs). Rows with only commas occur and are ignored.

"Connected On" is written `15 Mar 2024` (English month abbreviations, whatever the member's
language). Also accepted, because they are unambiguous: `15-Mar-24` (what Excel writes back
when the file was opened and saved; the year is read as 20yy: LinkedIn started in 2003) and
`2024-03-15`. Anything else, `03/15/2024` included (day or month first?), skips the row.
"""

from __future__ import annotations

import re
from datetime import date

from syncnet.domain.cards import Card, MalformedFile, Parsed, Skipped

from .cardfiles import cards_of_rows, csv_records, decode, one_line, unique

CHANNEL = "professional-network"
# Columns of Google Contacts' CSV (current and legacy) that LinkedIn's never has.
GOOGLE = {"middle name", "organization name", "e-mail 1 - value", "given name", "family name", "labels",
          "group membership"}  # fmt: skip
HEADER_WITHIN = 20  # records: the preamble is three; a file without the header that early is not an export

FIRST, LAST, URL, EMAIL, COMPANY, POSITION, CONNECTED = (
    "first name", "last name", "url", "email address", "company", "position", "connected on",
)  # fmt: skip

_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}  # fmt: skip
_DAY_MON_YEAR = re.compile(r"(\d{1,2}) ([a-z]{3}) (\d{4})", re.ASCII | re.IGNORECASE)
_EXCEL = re.compile(r"(\d{1,2})-([a-z]{3})-(\d{2})", re.ASCII | re.IGNORECASE)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


def connected_on(text: str) -> date:
    """The "Connected On" cell as a date (see the module docstring); ValueError otherwise.
    Month names are matched here, not with strptime's %b, which follows the process locale."""
    if m := _DAY_MON_YEAR.fullmatch(text):
        day, month, year = int(m[1]), _MONTHS.get(m[2].lower()), int(m[3])
    elif m := _EXCEL.fullmatch(text):
        # two digits, as Excel writes them back: this century unless that is still to come
        year = 2000 + int(m[3]) if 2000 + int(m[3]) <= date.today().year else 1900 + int(m[3])
        day, month = int(m[1]), _MONTHS.get(m[2].lower())
    elif m := _ISO.fullmatch(text):
        day, month, year = int(m[3]), int(m[2]), int(m[1])
    else:
        raise ValueError(text)
    if month is None:
        raise ValueError(text)
    return date(year, month, day)  # ValueError for 31 Feb


def parse_linkedin(data: bytes, delimiter: str = ",") -> Parsed:
    """The cards of a Connections.csv; raises MalformedFile when the file is not UTF-8 text,
    its quoting is broken, or no header with First Name, Last Name and Connected On opens
    it. A file a spreadsheet saved with semicolons between the columns is read as such."""
    text = decode(data)
    if not text.strip():
        raise MalformedFile(0, "the file is empty")
    records = csv_records(text, delimiter)
    columns: dict[str, int] = {}
    width = 0
    for _ in range(HEADER_WITHIN):
        record = next(records, None)
        if record is None:
            break
        names = [cell.strip().casefold() for cell in record[1]]
        if delimiter == "," and len(names) == 1 and {FIRST, LAST, CONNECTED} <= set(names[0].split(";")):
            return parse_linkedin(data, ";")  # Excel in a language with decimal commas
        if FIRST in names and LAST in names:
            if CONNECTED not in names:
                hint = " (a Google Contacts CSV: 'syncnet import google')" if GOOGLE & set(names) else ""
                raise MalformedFile(record[0], f"not LinkedIn's Connections.csv: no Connected On "
                                               f"column{hint}")
            columns = {name: names.index(name) for name in names}  # the first of a repeated name
            width = len(names)
            break
    if not columns:
        raise MalformedFile(0, "no LinkedIn header (First Name,Last Name,...,Connected On) at its start")

    return cards_of_rows(records, width, lambda cells, line: _card(columns, cells, line))


def _card(columns: dict[str, int], cells: list[str], line: int) -> Card | Skipped:
    def cell(column: str) -> str:
        return one_line(cells[columns[column]]) if column in columns else ""

    name = " ".join(part for part in (cell(FIRST), cell(LAST)) if part)
    if not name:
        return Skipped(line, "neither a first nor a last name")
    met_on = None
    if when := cell(CONNECTED):
        try:
            met_on = connected_on(when)
        except ValueError:
            return Skipped(line, "Connected On is not a date like 15 Mar 2024")
    return Card(
        name=name, line=line, organisation=cell(COMPANY) or None, role=cell(POSITION) or None,
        emails=unique([cell(EMAIL)]), urls=unique([cell(URL)]), met_on=met_on, channel=CHANNEL,
    )  # fmt: skip
