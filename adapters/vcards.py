"""vCard files (.vcf: an address book export, a phone's backup) as cards, read with vobject.

vCard 2.1 (older phones: `ENCODING=QUOTED-PRINTABLE` with `CHARSET=UTF-8` and soft line breaks,
bare TYPE parameters like `TEL;CELL`), 3.0 (RFC 2426) and 4.0 (RFC 6350) are read alike: vobject
unfolds lines, splits parameters and decodes quoted-printable; this module finds the cards,
undoes the values' backslash escapes and picks the values (_read says why not readComponents).

What is read, from each BEGIN:VCARD ... END:VCARD:
- name: FN, else N as "Given Additional Family" (prefixes and suffixes left out); a card with
  neither is skipped. ORG's first part (the organisation, not its units) and TITLE.
- every EMAIL, TEL (a 4.0 `tel:` URI without its scheme) and URL; BDAY (1990-05-17, 19900517,
  --05-17, --0517; a 4.0 `VALUE=text` birthday is not a date and is left out, any other
  unreadable one skips the card); every NOTE; every CATEGORIES; UID as the card's source_id.
- PHOTO, LOGO, SOUND and KEY are never decoded nor kept; nor is anything else.
`line` is the line of the card's BEGIN:VCARD.

A file that is not UTF-8 (or BOM-marked UTF-16) text, holds text outside BEGIN/END:VCARD, a
card without its END, or a line vobject cannot read, is refused whole with that line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import vobject

from syncnet.domain.cards import Card, MalformedFile, Parsed, Skipped

from .cardfiles import birthday, decode, multi_line, one_line, unique

_BOUNDARY = re.compile(r"(BEGIN|END)[ \t]*:[ \t]*VCARD[ \t]*", re.IGNORECASE)
_LINES = re.compile(r"\r\n|\r|\n")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def parse_vcards(data: bytes) -> Parsed:
    """The cards of a .vcf file; raises MalformedFile (see the module docstring)."""
    parsed = Parsed()
    for start, lines in _split_cards(decode(data)):
        found = _card(start, _read(start, lines))
        if isinstance(found, Skipped):
            parsed.skipped.append(found)
        else:
            parsed.cards.append(found)
    if not parsed.cards and not parsed.skipped:
        raise MalformedFile(0, "no vCard in the file (no BEGIN:VCARD line)")
    return parsed


def _split_cards(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each top-level card's lines, with the line number of its BEGIN:VCARD: the card's
    `line`, and where its errors are counted from (vobject's line numbers are off for the
    first line and after blank lines when quoted-printable is allowed, 0.9.9). A card nested
    in a 2.1 AGENT property stays inside its parent."""
    depth, start = 0, 0
    lines: list[str] = []
    for number, line in enumerate(_LINES.split(text), 1):
        boundary = _BOUNDARY.fullmatch(line)
        kind = boundary[1].upper() if boundary else None
        if depth == 0:
            if kind == "BEGIN":
                depth, start, lines = 1, number, [line]
            elif kind == "END":
                raise MalformedFile(number, "END:VCARD without a BEGIN:VCARD before it")
            elif line.strip():
                raise MalformedFile(number, "text outside a vCard (BEGIN:VCARD expected)")
            continue
        lines.append(line)
        depth += {"BEGIN": 1, "END": -1}.get(kind or "", 0)
        if depth == 0:
            yield start, lines
    if depth:
        raise MalformedFile(start, "the vCard that starts here has no END:VCARD")


def _read(start: int, lines: list[str]) -> dict[str, list[Any]]:
    """One card's properties by name, as vobject reads them: folded lines joined, 2.1's
    quoted-printable soft line breaks (`=` at a line's end) joined (allowQP), parameters split,
    quoted-printable decoded in its CHARSET. Values stay as written (see _text): vobject's
    readComponents would decode them with VCardTextBehavior, which keeps only what comes
    before the first unescaped comma of FN, TITLE, NOTE, EMAIL..., and 2.1 files (many 3.0
    ones too) do not escape commas: "FN:Doe, Jane" would become "Doe"."""
    props: dict[str, list[Any]] = {}
    depth = 0
    number = 0
    try:
        for logical, number in vobject.base.getLogicalLines(io.StringIO("\r\n".join(lines)), allowQP=True):
            content = vobject.base.textLineToContentLine(logical, number)
            if content.name == "BEGIN":
                depth += 1
            elif content.name == "END":
                depth -= 1
            elif depth == 1:  # not a card nested in a 2.1 AGENT
                props.setdefault(content.name, []).append(content)
    except vobject.base.ParseError:
        raise MalformedFile(_line(start, lines, number), "this line of a vCard is not NAME:value") from None
    except LookupError:
        raise MalformedFile(_line(start, lines, number), "unknown CHARSET") from None
    except ValueError:  # UnicodeDecodeError, binascii.Error
        raise MalformedFile(_line(start, lines, number), "a quoted-printable value does not decode") from None
    except Exception:  # vobject has more ways to fail on hostile input; none may escape as a traceback
        raise MalformedFile(_line(start, lines, number), "vobject cannot read this line") from None
    return props


def _line(start: int, lines: list[str], number: int) -> int:
    """The file's line of vobject's logical line `number` of a card (vobject 0.9.9 numbers a
    card's first line 0, and the line after a blank one as the blank one)."""
    index = max(number - 1, 0)
    while index + 1 < len(lines) and not lines[index].strip():
        index += 1
    return start + index


def _text(raw: str) -> str:
    """A value's escapes undone (\\n, \\, \\; \\: \\\\; Apple writes `http\\://`), others kept."""
    return _ESCAPED.sub(lambda m: "\n" if m[1] in "nN" else m[1] if m[1] in ",;:\\" else m[0], raw)


def _parts(raw: str, separator: str) -> list[str]:
    """`raw` split at each unescaped `separator` (N's and ORG's `;`, the lists' `,`)."""
    parts, begin, i = [], 0, 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == separator:
            parts.append(raw[begin:i])
            begin = i + 1
        i += 1
    parts.append(raw[begin:])
    return parts


def _card(start: int, props: dict[str, list[Any]]) -> Card | Skipped:
    def every(name: str) -> list[str]:
        return [child.value for child in props.get(name, []) if isinstance(child.value, str)]

    def first(name: str) -> str:
        return next((text for raw in every(name) if (text := one_line(_text(raw)))), "")

    name = first("FN")
    if not name and every("N"):
        fields = [" ".join(one_line(_text(v)) for v in _parts(f, ",")) for f in _parts(every("N")[0], ";")]
        family, given, additional = [*fields, "", "", ""][:3]
        name = one_line(" ".join((given, additional, family)))
    if not name:
        return Skipped(start, "no name (FN and N missing or empty)")

    born = None
    for child in props.get("BDAY", []):
        if "TEXT" in (v.upper() for v in child.params.get("VALUE", [])) or not child.value.strip():
            continue
        try:
            born = birthday(_text(child.value))
        except ValueError:
            return Skipped(start, "BDAY is not a date like 1990-05-17 or --05-17")
        break

    organisation = next((one_line(_text(_parts(raw, ";")[0])) for raw in every("ORG")), "")
    notes = [note for raw in every("NOTE") if (note := multi_line(_text(raw)))]
    return Card(
        name=name, line=start, organisation=organisation or None, role=first("TITLE") or None,
        emails=unique(one_line(_text(raw)) for raw in every("EMAIL")),
        phones=unique(_phone(one_line(_text(raw))) for raw in every("TEL")),
        urls=unique(one_line(_text(raw)) for raw in every("URL")),
        birthday=born, note="\n".join(notes) or None,
        categories=unique(one_line(_text(v)) for raw in every("CATEGORIES") for v in _parts(raw, ",")),
        source_id=first("UID") or None,
    )  # fmt: skip


def _phone(value: str) -> str:
    """A TEL value as a number: a 4.0 `tel:` URI without its scheme nor its parameters
    (`;ext=5555`: a phone number as syncnet keeps it has no extension)."""
    if not value.lower().startswith("tel:"):
        return value
    return value[4:].partition(";")[0]

