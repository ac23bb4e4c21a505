"""syncnet's calendar objects written directly as content lines, byte for byte as
`icalendar` writes them.

icalendar 7 folds every content line character by character and builds parameter
objects for every value: in a feed of 10,000 reminders that was most of the render.
syncnet's objects use a small, fixed set of properties, so they are written here, in
icalendar's property order, with its TEXT escaping and its folding. The bytes are
checked against icalendar's own output in tests/test_ics_writer.py, so stamps, ETags
and already-pushed items stay valid across the switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncnet.domain.reminders import StampedItem

LIMIT = 75  # octets per line, excluding the CRLF (RFC 5545, 3.1)

# RFC 5545 (3.3.11) allows no control character in a TEXT value but HTAB; line ends are
# written escaped (\n). Names and notes are stored as typed, so the C0 controls, DEL
# and the C1 controls (which terminals obey) are replaced where a calendar is written.
_CONTROLS = {c: "\ufffd" for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"}


def calendar_text(value: str) -> str:
    """A summary or description as a calendar may hold it: control characters other than
    tab and line ends replaced by U+FFFD (visible: the text was not as typed)."""
    return value if value.isprintable() else value.translate(_CONTROLS)


def escape_text(value: str) -> str:
    """TEXT escaping (RFC 5545, 3.3.11), in icalendar's order and with its newline rules."""
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line: pieces of under 75 octets joined by CRLF and a space, never
    splitting a backslash or caret escape from the character it escapes."""
    pieces: list[str] = []
    if line.isascii():  # one octet per character: cut by slicing
        if len(line) < LIMIT:
            return line
        start = 0
        while len(line) - start >= LIMIT:
            end = start + LIMIT - 1
            if line[end - 1] in "\\^":
                end -= 1
            pieces.append(line[start:end])
            start = end
        pieces.append(line[start:])
        return "\r\n ".join(pieces)
    current: list[str] = []
    octets = 0
    for char in line:
        size = len(char.encode("utf-8"))
        if current and octets + size >= LIMIT:
            carry = current.pop() if len(current) > 1 and current[-1] in "\\^" else ""
            pieces.append("".join(current))
            current, octets = ([carry], len(carry.encode("utf-8"))) if carry else ([], 0)
        current.append(char)
        octets += size
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _utc(moment: datetime) -> str:
    # DTSTAMP is UTC by definition (RFC 5545, 3.8.7.2); stamps are kept in UTC.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{_date(moment)}T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}Z"


def write_component(s: StampedItem, style: str, triggers: Sequence[str]) -> bytes:
    """One reminder as a VEVENT or VTODO, the same bytes as `ics.component(...).to_ical()`.
    `triggers` are the alarm offsets as icalendar writes them (see `ics.trigger_values`)."""
    item, st = s.item, s.stamp
    summary = escape_text(calendar_text(item.summary))
    description = escape_text(calendar_text(item.description))
    uid, stamp, sequence = escape_text(item.uid), _utc(st.changed), str(st.sequence)
    if style == "event":
        name, related = "VEVENT", ""
        # icalendar's canonical VEVENT order first, then the rest by name
        lines = [f"SUMMARY:{summary}", f"DTSTART;VALUE=DATE:{_date(item.due)}",
                 f"DTEND;VALUE=DATE:{_date(item.due + timedelta(days=1))}", f"DTSTAMP:{stamp}",
                 f"UID:{uid}", f"SEQUENCE:{sequence}", f"DESCRIPTION:{description}",
                 "TRANSP:TRANSPARENT"]  # fmt: skip
    else:
        name, related = "VTODO", ";RELATED=END"  # alarms relative to DUE
        lines = [f"DESCRIPTION:{description}", f"DTSTAMP:{stamp}",
                 f"DTSTART;VALUE=DATE:{_date(min(item.opens, item.due))}",
                 f"DUE;VALUE=DATE:{_date(item.due)}", f"SEQUENCE:{sequence}",
                 "STATUS:NEEDS-ACTION", f"SUMMARY:{summary}", f"UID:{uid}"]  # fmt: skip
    out = [f"BEGIN:{name}", *(fold(line) for line in lines)]
    alarm_description = fold(f"DESCRIPTION:{summary}")
    for trigger in triggers:
        out += ["BEGIN:VALARM", "ACTION:DISPLAY", alarm_description, f"TRIGGER{related}:{trigger}",
                "END:VALARM"]  # fmt: skip
    out.append(f"END:{name}")
    return ("\r\n".join(out) + "\r\n").encode("utf-8")
