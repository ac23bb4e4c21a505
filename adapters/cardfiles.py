"""What the contact-file parsers (linkedin, google_contacts, vcards) share: bytes to text,
CSV records with the line each starts on, one-line cleaning of names, and birthdays.

None of this reads a file: the parsers are given bytes (docs/imports.md).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from syncnet.domain.cards import Card, MalformedFile, Parsed, Skipped

# The byte-order marks an exporter may put first (Google's older "Google CSV" export was
# UTF-16 with a BOM; LinkedIn and today's Google write UTF-8, often with a BOM).
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

YEARLESS = 1604  # Card.birthday's year for a birthday without one (a leap year: 29 February fits)


def decode(data: bytes) -> str:
    """`data` as text: UTF-8, or UTF-8/UTF-16 after a byte-order mark. Anything else (Latin-1,
    a broken sequence) is refused with the line of the first bad byte: guessing an encoding
    would import mangled names that later match nobody."""
    encoding, start = "utf-8", 0
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding, start = name, len(bom)
            break
    body = data[start:]
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as e:
        if encoding == "utf-8":
            line = body.count(b"\n", 0, e.start) + 1
        else:  # count the decodable text before the bad unit
            line = body[: e.start].decode(encoding, "replace").count("\n") + 1
        raise MalformedFile(line, f"the file is not {encoding.upper()} text (save it as UTF-8: in Excel, "
                                  "'CSV UTF-8')") from None


def csv_records(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (1-based; a quoted cell may hold line
    breaks, so a record can span lines). Blank lines are left out. Broken quoting (a quote
    never closed, text after a closing quote) makes the whole file unreadable: the rows after
    it would be cut in the wrong places."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if "end of data" in str(e):
                raise MalformedFile(start, "a quoted field that starts here is never closed") from None
            raise MalformedFile(reader.line_num, f"broken CSV quoting ({e})") from None
        if record:
            yield start, record


def one_line(text: str) -> str:
    """`text` as one line: every run of white space, line breaks and control characters
    (C0, DEL, C1) becomes one space, and the ends are trimmed. For names, organisations,
    e-mails and the like, which are printed on one line and matched."""
    if not text.isprintable():  # rare: isprintable is False for every Cc, Zl, Zp (and more)
        text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return " ".join(text.split())


def multi_line(text: str) -> str:
    """`text` (a note) with its line breaks as \\n and other control characters dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return "\n".join(line.rstrip() for line in kept.strip().split("\n"))


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """The non-empty values once each, in their first order."""
    return tuple(dict.fromkeys(v for v in values if v))


# 1990-05-17, 19900517, --05-17, --0517 (vCard, Google); a time after the date is ignored
# (Apple writes 1990-05-17T00:00:00).
_BIRTHDAY = re.compile(r"(?:(\d{4})|--)-?(\d{2})-?(\d{2})(?:T[0-9:.Z+-]*)?", re.ASCII)


def birthday(text: str) -> date:
    """A birthday as vCard and Google write it; without a year it is stored in year 1604.
    Raises ValueError for anything else (the caller skips the row and says why)."""
    m = _BIRTHDAY.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a date like 1990-05-17 or --05-17")
    year = int(m[1]) if m[1] else YEARLESS
    try:
        return date(year, int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError("not a date in the calendar") from None


def cards_of_rows(records: Iterable[tuple[int, list[str]]], width: int,
                  card: Callable[[list[str], int], Card | Skipped]) -> Parsed:  # fmt: skip
    """The cards of a CSV export's rows after its header: rows of empty cells left out, a
    row with another number of cells than the header skipped (an unquoted comma in a
    company name shifts every cell after it), each other row made a card or skipped by
    `card(cells, line)`."""
    parsed = Parsed()
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # a row of commas
        if len(cells) != width:
            parsed.skipped.append(Skipped(line, f"{len(cells)} fields where the header has {width}"))
            continue
        found = card(cells, line)
        if isinstance(found, Skipped):
            parsed.skipped.append(found)
        else:
            parsed.cards.append(found)
    return parsed

