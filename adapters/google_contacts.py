"""Google Contacts' CSV export (contacts.google.com > Export > Google CSV) as cards.

Two headers are in use; columns are found by name (any order, any case), the numbered ones
(`E-mail 2 - Value`, ...) however many there are.

The current export (since about 2023) starts

    First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,
    Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,
    Organization Title,Organization Department,Birthday,Notes,Photo,Labels,
    E-mail 1 - Label,E-mail 1 - Value,...,Phone 1 - Label,Phone 1 - Value,...,
    Address 1 - Label,Address 1 - Formatted,...,Website 1 - Label,Website 1 - Value,...

and the legacy one ("Google CSV" before that)

    Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,
    Additional Name Yomi,Family Name Yomi,Name Prefix,Name Suffix,Initials,Nickname,
    Short Name,Maiden Name,Birthday,Gender,Location,Billing Information,Directory Server,
    Mileage,Occupation,Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,
    Group Membership,E-mail 1 - Type,E-mail 1 - Value,...,Phone 1 - Type,Phone 1 - Value,...,
    Organization 1 - Type,Organization 1 - Name,Organization 1 - Yomi Name,
    Organization 1 - Title,...,Website 1 - Type,Website 1 - Value,...

What is read (everything else, addresses, photos and custom fields included, is not):
- name: First/Given, Middle/Additional and Last/Family Name joined by spaces, else the
  legacy `Name` (as shown, with any prefix), else `File As`, else `Nickname`; a row with
  none of these is skipped (a company-only entry is not a person). Prefixes and suffixes
  are left out (they would keep "Dr. Jane Doe" from matching "Jane Doe" elsewhere).
- organisation and role: `Organization Name`/`Title` (current) or the first numbered
  `Organization N - Name`/`Title` with a value (legacy); of several values in one cell the first.
- e-mails, phones, URLs: every `E-mail N - Value`, `Phone N - Value`, `Website N - Value`.
- birthday: `Birthday`, `1990-05-17` or, without a year, `--05-17`; anything else skips the row.
- note: `Notes`; categories: `Labels` or `Group Membership` without Google's own groups
  (those starting with `*`: `* myContacts`, `* starred`, `* My Contacts`, `* Other Contacts`).

A cell can hold several values joined by ` ::: ` (two phone numbers, two labels). The file
is UTF-8, usually with a byte-order mark (older legacy exports: UTF-16 with a BOM).
Google CSV has no id of a contact: source_id stays None, and so do channel and met_on.
"""

from __future__ import annotations

import re

from syncnet.domain.cards import Card, MalformedFile, Parsed, Skipped

from .cardfiles import birthday, cards_of_rows, csv_records, decode, multi_line, one_line, unique

_NUMBERED = re.compile(r"(e-mail|phone|website|organization) (\d+) - (value|name|title)")


def _values(cell: str) -> list[str]:
    """The values of a cell, ` ::: ` being Google's separator of several."""
    return [v for v in (one_line(part) for part in cell.split(":::")) if v]


class _Header:
    def __init__(self, cells: list[str]) -> None:
        self.names = [cell.strip().casefold() for cell in cells]
        self.width = len(cells)
        self.index = {name: self.names.index(name) for name in self.names}  # the first of a repeat
        numbered = [(m, i) for i, name in enumerate(self.names) if (m := _NUMBERED.fullmatch(name))]
        self.emails = [i for m, i in numbered if m[1] == "e-mail" and m[3] == "value"]
        self.phones = [i for m, i in numbered if m[1] == "phone" and m[3] == "value"]
        self.websites = [i for m, i in numbered if m[1] == "website" and m[3] == "value"]
        self.organisations: dict[int, dict[str, int]] = {}  # N -> {"name": column, "title": column}
        for m, i in numbered:
            if m[1] == "organization":
                self.organisations.setdefault(int(m[2]), {})[m[3]] = i

    def is_google(self) -> bool:
        named = "first name" in self.index or "name" in self.index or "given name" in self.index
        google = self.emails or self.phones or "labels" in self.index or "group membership" in self.index
        return named and bool(google)


def parse_google(data: bytes) -> Parsed:
    """The cards of a Google Contacts CSV; raises MalformedFile when the file is not UTF-8
    (or BOM-marked UTF-16) text, its quoting is broken, or its first row is not one of
    Google's headers."""
    records = csv_records(decode(data))
    first = next(records, None)
    if first is None:
        raise MalformedFile(0, "the file is empty")
    header = _Header(first[1])
    if not header.is_google():
        raise MalformedFile(first[0], "not a Google Contacts CSV header (First Name,...,Labels or Name,...)")
    return cards_of_rows(records, header.width, lambda cells, line: _card(header, cells, line))


def _card(header: _Header, cells: list[str], line: int) -> Card | Skipped:
    def raw(name: str) -> str:
        return cells[header.index[name]] if name in header.index else ""

    def cell(*names: str) -> str:
        """The first of these columns that the file has and that holds a value, on one line."""
        return next((value for name in names if (value := one_line(raw(name)))), "")

    parts = (cell("given name", "first name"), cell("additional name", "middle name"),
             cell("family name", "last name"))  # fmt: skip
    # the name's parts first: the legacy `Name` is how it is shown, with a prefix ("Dr.")
    name = " ".join(p for p in parts if p) or cell("name") or cell("file as") or cell("nickname")
    if not name:
        return Skipped(line, "no name (no First, Middle or Last Name, File As or Nickname)")

    born = None
    if text := cell("birthday"):
        try:
            born = birthday(text)
        except ValueError:
            return Skipped(line, "Birthday is not a date like 1990-05-17 or --05-17")

    organisation, role = _organisation(header, cells)
    groups = raw("labels") or raw("group membership")
    note = multi_line(raw("notes"))
    return Card(
        name=name, line=line, organisation=organisation, role=role,
        emails=unique(v for i in header.emails for v in _values(cells[i])),
        phones=unique(v for i in header.phones for v in _values(cells[i])),
        urls=unique(v for i in header.websites for v in _values(cells[i])),
        birthday=born, note=note or None,
        categories=unique(v for v in _values(groups) if not v.startswith("*")),
    )  # fmt: skip


def _organisation(header: _Header, cells: list[str]) -> tuple[str | None, str | None]:
    """The current export's Organization Name/Title, or the legacy export's first numbered
    organisation with a value; of several values joined in one cell, the first."""
    current = {k: header.index[f"organization {k}"] for k in ("name", "title")
               if f"organization {k}" in header.index}  # fmt: skip
    columns = [current]
    columns += [header.organisations[n] for n in sorted(header.organisations)]
    for found in columns:
        name = _values(cells[found["name"]]) if "name" in found else []
        title = _values(cells[found["title"]]) if "title" in found else []
        if name or title:
            return (name[0] if name else None), (title[0] if title else None)
    return None, None
