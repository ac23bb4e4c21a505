"""Reminders as iCalendar.

Two styles: all-day VEVENTs (the default for feeds: subscribed calendars in Google
and Apple ignore VTODO) or VTODOs with a DUE date. All-day items use DATE values
(floating, no time zone): a reminder due on 2026-11-25 is on that day wherever the
phone is. DTSTAMP and SEQUENCE come from the item's stamp, never the render time,
so unchanged reminders render byte-identical.

Calendar objects are written by `icswriter` (the same bytes as icalendar's, several
times faster); `component` and `calendar` build them with icalendar, as the reference
the tests compare against and for the calendar's header.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from icalendar import Alarm, Calendar, Event, Todo
from icalendar.prop import vDDDTypes, vInt, vText

from syncnet.app.sync import RemoteChanges, Seen
from syncnet.domain.reminders import StampedItem
from syncnet.errors import TargetError

from .icswriter import calendar_text, write_component

PRODID = "-//syncnet//syncnet reminders//EN"
STYLES = ("event", "todo")


def parse_offset(text: str) -> timedelta:
    """An alarm offset like "PT9H", "-P1D", "-PT30M" (ISO 8601 duration, as in TRIGGER)."""
    from icalendar.prop import vDuration

    try:
        value = vDuration.from_ical(text)  # type: ignore[no-untyped-call]
    except ValueError:
        raise ValueError(f"malformed alarm offset {text!r}: use e.g. PT9H or -P1D") from None
    assert isinstance(value, timedelta)
    return value


def component(s: StampedItem, style: str, alarms: Sequence[timedelta]) -> Event | Todo:
    """One reminder as a VEVENT or VTODO, built with icalendar: the reference that
    `icswriter.write_component` matches byte for byte (tests/test_ics_writer.py).
    Only what clients use is written."""
    item, st = s.item, s.stamp
    comp: Event | Todo = Event() if style == "event" else Todo()
    comp["UID"] = vText(item.uid)
    comp["DTSTAMP"] = vDDDTypes(st.changed)
    comp["SEQUENCE"] = vInt(st.sequence)
    comp["SUMMARY"] = vText(calendar_text(item.summary))
    comp["DESCRIPTION"] = vText(calendar_text(item.description))
    if style == "event":
        comp["DTSTART"] = vDDDTypes(item.due)  # a DATE: all day, in any time zone
        comp["DTEND"] = vDDDTypes(item.due + timedelta(days=1))
        comp["TRANSP"] = vText("TRANSPARENT")  # a reminder does not make you busy
    else:
        comp["DTSTART"] = vDDDTypes(min(item.opens, item.due))
        comp["DUE"] = vDDDTypes(item.due)
        comp["STATUS"] = vText("NEEDS-ACTION")
    for offset in alarms:
        alarm = Alarm()
        alarm["ACTION"] = vText("DISPLAY")
        alarm["DESCRIPTION"] = vText(calendar_text(item.summary))
        trigger = vDDDTypes(offset)
        if style == "todo":
            trigger.params["RELATED"] = "END"  # relative to DUE; for events, to the due day's start
        alarm["TRIGGER"] = trigger
        comp.add_component(alarm)
    return comp


def calendar(items: Iterable[StampedItem], style: str = "event", alarms: Sequence[timedelta] = (),
             name: str | None = None) -> Calendar:  # fmt: skip
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", calendar_text(name))  # feed.name, from the config
    for s in sorted(items, key=lambda s: (s.item.due, s.item.uid)):
        cal.add_component(component(s, style, alarms))
    return cal


def trigger_values(alarms: Sequence[timedelta]) -> tuple[str, ...]:
    """Alarm offsets as TRIGGER values, as icalendar writes them (once per set of
    offsets: `render_one` runs for every item a sync pushes)."""
    return _trigger_values(tuple(alarms))


@lru_cache(maxsize=32)
def _trigger_values(alarms: tuple[timedelta, ...]) -> tuple[str, ...]:
    return tuple(vDDDTypes(offset).to_ical().decode() for offset in alarms)


@lru_cache(maxsize=8)
def _head(name: str | None) -> bytes:
    """A calendar's lines before its first component (icalendar's own)."""
    empty = bytes(calendar([], name=name).to_ical())
    assert empty.endswith(RenderCache.END)
    return empty[: -len(RenderCache.END)]


def render(items: Iterable[StampedItem], style: str = "event", alarms: Sequence[timedelta] = (),
           name: str | None = None) -> bytes:  # fmt: skip
    """A whole calendar (a feed or an .ics file): what `calendar(...).to_ical()` gives."""
    return RenderCache(style, alarms, name).render(items)


class RenderCache:
    """Rendered calendar objects, kept by a long-running process (the feed server).

    After a change, the feed is rendered again; an item whose content and stamp are
    unchanged is reused byte for byte, so the work grows with what changed. The
    output equals `calendar(...).to_ical()` exactly (a calendar's text is its header,
    its components' texts in order, and its last line). Held in memory only.
    """

    END = b"END:VCALENDAR\r\n"

    def __init__(self, style: str, alarms: Sequence[timedelta], name: str | None) -> None:
        self.style, self.triggers = style, trigger_values(alarms)
        self._head = _head(name)
        self._parts: dict[tuple[str, str, int, str], bytes] = {}
        self.rendered = 0  # components written (not reused)

    def render(self, items: Iterable[StampedItem]) -> bytes:
        parts, kept = [], {}
        for s in sorted(items, key=lambda s: (s.item.due, s.item.uid)):
            key = (s.item.uid, s.stamp.content_hash, s.stamp.sequence, s.stamp.changed.isoformat())
            part = self._parts.get(key)
            if part is None:
                part = write_component(s, self.style, self.triggers)
                self.rendered += 1
            parts.append(part)
            kept[key] = part
        self._parts = kept  # only what the current feed holds
        return self._head + b"".join(parts) + self.END


def render_one(item: StampedItem, style: str, alarms: Sequence[timedelta]) -> bytes:
    """One calendar object resource (one UID), as CalDAV stores it."""
    return _head(None) + write_component(item, style, trigger_values(alarms)) + RenderCache.END


# What a reminder says, as a phone shows it: a user's edit or completion changes it,
# property order, folding, DTSTAMP, SEQUENCE and alarms do not.
FINGERPRINTED = ("UID", "SUMMARY", "DESCRIPTION", "DTSTART", "DTEND", "DUE", "STATUS", "COMPLETED")


def fingerprint(body: bytes) -> str:
    """A digest of what a calendar object says (FINGERPRINTED), for telling syncnet's own
    writes from the user's changes when a write's outcome is unknown. Servers reorder
    and refold what they store, so the content is compared, never the bytes."""
    import hashlib

    try:
        parsed = Calendar.from_ical(body)
    except ValueError:
        return "unparsable:" + hashlib.sha256(body).hexdigest()
    parts = []
    for c in parsed.walk():
        if c.name in ("VEVENT", "VTODO"):
            parts.append(c.name)
            parts += [f"{name}={_property_text(c.get(name))}" for name in FINGERPRINTED]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def completion(body: bytes) -> str | None:
    """When a client marked a VTODO done, as it says it: the COMPLETED moment in ISO form
    (a UTC moment ends in +00:00; one with a TZID carries its offset), "" when it is done
    without a COMPLETED date, None when it is not done. Clients mark "done" in different
    ways: STATUS:COMPLETED, a COMPLETED date, or PERCENT-COMPLETE:100 (docs/sync.md)."""
    try:
        parsed = Calendar.from_ical(body)
    except ValueError:
        return None
    for c in parsed.walk("VTODO"):
        completed = c.get("COMPLETED")
        status = str(c.get("STATUS", "")).upper()
        try:
            percent = int(str(c.get("PERCENT-COMPLETE", "0")))
        except ValueError:
            percent = 0
        if completed is None and status != "COMPLETED" and percent < 100:
            return None
        if completed is None:
            return ""
        moment = c.decoded("COMPLETED")
        tzid = completed.params.get("TZID") if hasattr(completed, "params") else None
        if isinstance(moment, datetime) and moment.tzinfo is None and tzid:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                moment = moment.replace(tzinfo=ZoneInfo(str(tzid)))
        return moment.isoformat() if isinstance(moment, date) else ""
    return None


def _property_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # a property given more than once
        return ",".join(_property_text(v) for v in value)
    to_ical = getattr(value, "to_ical", None)
    return to_ical().decode() if to_ical is not None else str(value)


def write_atomically(path: Path, body: bytes) -> bool:
    """Replace `path` with `body` (never half-written); False when it already held it.
    Readers see the old file or the new one, never a part; any failure raises OSError
    and leaves the old file as it was."""
    try:
        if path.read_bytes() == body:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # the file holds names: owner only, like the store
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return True


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (a crash right after it keeps the new file). Best
    effort: some file systems cannot fsync a directory, and the rename is done."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class IcsFilePort:
    """An .ics file as a sync target: the engine computes what changed, `finish`
    writes the whole calendar once. The file has no user edits to respect."""

    edited_elsewhere = False  # nobody edits the file: it is rewritten whole
    requests = 0

    def __init__(self, path: Path, style: str, alarms: Sequence[timedelta], name: str) -> None:
        self.path = path
        self.style = style
        self.alarms = alarms
        self.name = name

    def changes_since(self, cursor: str | None, *, likely_unchanged: bool = False) -> RemoteChanges:
        return RemoteChanges(cursor="file")  # nobody edits the file; finish rewrites it whole

    def href_for(self, uid: str) -> str:
        return uid

    def create(self, href: str, item: StampedItem) -> str | None:
        return None

    def update(self, href: str, etag: str | None, item: StampedItem) -> str | None:
        return None

    def delete(self, href: str, etag: str | None) -> None:
        return None

    def read(self, href: str) -> Seen | None:
        return None  # a file holds no item apart from the whole: nothing is ever pending

    def read_many(self, hrefs: Sequence[str]) -> dict[str, Seen | None]:
        return dict.fromkeys(hrefs)

    def fingerprint(self, item: StampedItem) -> str:
        return item.stamp.content_hash

    def finish(self, items: Sequence[StampedItem]) -> dict[str, Any]:
        """Write the calendar; until this returns the sync has changed nothing, so a
        failure is the target's failure (TargetError) and the old file stays whole."""
        body = render(items, self.style, self.alarms, self.name)
        try:
            written = write_atomically(self.path, body)
        except OSError as e:
            reason = e.strerror or " ".join(str(e).split()) or type(e).__name__
            raise TargetError(f"cannot write {self.path}: {reason}") from e
        return {"written": written, "path": str(self.path)}

    def close(self) -> None:
        pass
