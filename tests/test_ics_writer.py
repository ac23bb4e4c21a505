"""The direct writer of calendar objects gives the same bytes as icalendar.

icalendar (`ics.component(...).to_ical()`) is the reference: summaries and
descriptions with every character TEXT escapes, non-ASCII names, lines that fold at
every length around the 75-octet limit (escapes and multi-byte characters at the
boundary included), both styles, any alarms. Equal bytes mean that switching writers
changed no ETag, stamp or pushed item.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from syncnet_adapters.ics import calendar, component, render, render_one, trigger_values
from syncnet_adapters.icswriter import fold, write_component

from syncnet.domain.reminders import CalendarItem, Stamp, StampedItem

# letters, the characters TEXT escapes, fold-sensitive ones, multi-byte ones, and control
# characters (both writers replace them: calendar_text)
ALPHABET = st.sampled_from([*'abcXYZ 019-.;,\\^:"\n\r\tçéÆøßЖ中🙂', "\\N", "\r\n",
                           *"\x00\x1b\x0b\x7f\x85\x9f"])
TEXT = st.lists(ALPHABET, max_size=200).map("".join)
OFFSETS = st.lists(st.integers(-30 * 86400, 30 * 86400).map(lambda n: timedelta(seconds=n)), max_size=3)


def stamped(summary: str, description: str, due: date, opens_before: int, seq: int) -> StampedItem:
    item = CalendarItem(uid="0f3a9c@syncnet", key="k", rule="followup", contact_id="c",
                        opens=due - timedelta(days=opens_before), due=due, summary=summary,
                        description=description)  # fmt: skip
    return StampedItem(item, Stamp("h", seq, datetime(2026, 11, 20, 9, 30, 5, tzinfo=UTC)))


@settings(max_examples=300, deadline=None)
@given(
    summary=TEXT,
    description=TEXT,
    due=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    opens_before=st.integers(-5, 30),
    seq=st.integers(0, 10_000),
    style=st.sampled_from(["event", "todo"]),
    alarms=OFFSETS,
)
def test_components_are_byte_identical_to_icalendars(
    summary, description, due, opens_before, seq, style, alarms
):
    s = stamped(summary, description, due, opens_before, seq)
    assert write_component(s, style, trigger_values(alarms)) == component(s, style, alarms).to_ical()


@pytest.mark.parametrize("char", ["a", "\\", "^", "é", "中", "🙂"])
def test_folding_at_every_length_around_the_limit(char):
    from icalendar import Event
    from icalendar.prop import vText

    for n in range(60, 240):
        for tail in ("", char, char * 2):
            text = "x" * (n - len(tail)) + tail + "yz"
            ev = Event()
            ev["SUMMARY"] = vText(text)
            expected = ev.to_ical().split(b"\r\n")[1:-2]  # the SUMMARY line, folded
            line = fold("SUMMARY:" + text.replace("\\", "\\\\"))
            assert line.encode().split(b"\r\n") == expected, (n, tail)
            assert all(len(piece) <= 75 for piece in line.encode().split(b"\r\n"))


def test_calendars_and_single_objects_parse_back_to_the_same_reminders():
    why = "Why.\nsyncnet history ab12"
    items = [stamped(f"Follow up with Zoë {i}, met at a café; notes", why, date(2026, 12, i), 3, i)
             for i in range(1, 6)]  # fmt: skip
    body = render(items, "todo", [timedelta(hours=9), -timedelta(days=1)], "syncnet")
    todos = Calendar.from_ical(body).walk("VTODO")
    assert [str(t["SUMMARY"]) for t in todos] == [s.item.summary for s in items]
    assert [t.decoded("DUE") for t in todos] == [s.item.due for s in items]
    assert all(t.walk("VALARM")[1].decoded("TRIGGER") == -timedelta(days=1) for t in todos)
    assert body == calendar(items, "todo", [timedelta(hours=9), -timedelta(days=1)], "syncnet").to_ical()
    assert render_one(items[0], "event", []) == calendar([items[0]], "event", []).to_ical()
    one = Calendar.from_ical(render_one(items[0], "event", []))
    (event,) = one.walk("VEVENT")
    assert str(event["DESCRIPTION"]) == "Why.\nsyncnet history ab12" and str(event["UID"]) == "0f3a9c@syncnet"
