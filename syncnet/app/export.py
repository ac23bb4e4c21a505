"""`syncnet export` and `syncnet import jsonl`: every fact out as JSON Lines, the contacts
as vCard 4.0, and the facts back into an empty store (docs/export.md).

The JSON of a fact is derived from its class: each dataclass field encoded by its type
hint (UUID -> 32 hex digits, date -> YYYY-MM-DD, Sealed -> the plain text, tuples and
NamedTuples recursively), so a new fact type exports and imports with no change here.

Sealed texts are sealed again on import with fresh data keys, one per subject as
recording chooses it (`key_subject`): the goal of a GoalSet, else the fact's contact,
else its goal, else me; inside a NamedTuple with a contact (a sync's `Push`), that
contact. A text sealed with another key says so in the record (`sealed_with`). A text
whose key was destroyed (a forgotten contact) is exported as null and named in
`erased`; on import it is sealed with a key that is never stored, and the contact's key
is written as destroyed (the tombstone `syncnet forget` leaves), so the restored store
reads "[forgotten]" where the exported one did.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, Union
from uuid import UUID

from syncnet.app.recorded import ME, PRIVATE
from syncnet.domain import events as ev
from syncnet.domain.commands import ADDS
from syncnet.domain.sealed import Sealed
from syncnet.errors import BadInput, MissingKey, StoreError
from syncnet.storage.keys import FORGOTTEN, UNREADABLE, encrypt, random_key

if TYPE_CHECKING:
    from syncnet.app.network import Network
    from syncnet.storage.keys import KeyRing

SCHEMA_VERSION = 1  # of a line of the JSON Lines export (docs/export.md)
PAGE = 1000  # facts read from the log at a time
_BASE = ("originator_id", "originator_version", "timestamp")  # the record's id and recorded
_LINE_KEYS = {"position", "id", "type", "type_version", "recorded", "fact", "erased", "unreadable",
              "sealed_with"}  # fmt: skip


# ---------------------------------------------------------------- fact types
def fact_types() -> dict[str, type[ev.Fact]]:
    """Every fact type by its class name, as the module defines them now."""
    found: dict[str, type[ev.Fact]] = {}
    todo: list[type[ev.Fact]] = [ev.Fact]
    while todo:
        for sub in todo.pop().__subclasses__():
            found[sub.__name__] = sub
            todo.append(sub)
    return found


@functools.cache
def fields_of(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, type hint) of each field of a fact type (or a NamedTuple), in order, without
    the fields every event has (its id, version and recording time)."""
    hints = typing.get_type_hints(cls)
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls) if f.name not in _BASE]
    else:
        names = list(typing.cast(Any, cls)._fields)
    return tuple((n, hints[n]) for n in names)


def _is_namedtuple(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def _arms(hint: Any) -> tuple[Any, ...] | None:
    """The types of a union (X | None, Optional[X]); None when `hint` is not one."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        return typing.get_args(hint)
    return None


def _has_sealed(hint: Any) -> bool:
    arms = _arms(hint)
    return hint is Sealed or (arms is not None and Sealed in arms)


def key_subject(cls: type, fact_id: UUID, values: Mapping[str, Any], outer: UUID | None = None) -> UUID:
    """The data key that seals the texts of a fact (or, with `outer`, of a NamedTuple
    inside one), as recording chooses it: a goal's (an event's) own key for the goal set
    (the event planned), else the
    contact's, else the goal's, else mine; a NamedTuple without a contact: the fact's."""
    if outer is not None:
        contact = values.get("contact_id")
        return contact if isinstance(contact, UUID) else outer
    if issubclass(cls, ev.GoalSet | ev.EventPlanned):
        return fact_id
    for name in ("contact_id", "goal_id"):
        value = values.get(name)
        if isinstance(value, UUID):
            return value
    return ME


# ---------------------------------------------------------------- export
Opened = Callable[[Sealed], tuple[str | None, str]]  # a sealed text -> (text, "ok" | "erased" | "unreadable")
# Line breaks to str.splitlines() and to some JSON Lines readers, which JSON leaves raw in a string.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


@dataclass
class _Out:
    """What encoding one fact found besides its values."""

    opened: Opened
    erased: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    sealed_with: dict[str, str] = field(default_factory=dict)


def _encode(value: Any, hint: Any, path: str, subject: UUID, out: _Out) -> Any:
    if value is None:
        return None
    arms = _arms(hint)
    if arms is not None:
        for arm in arms:
            if arm is not type(None) and _fits(value, arm):
                return _encode(value, arm, path, subject, out)
        raise TypeError(f"{path}: a {type(value).__name__} is none of {hint}")
    if hint is Sealed:
        if value.key_id != subject:
            out.sealed_with[path] = value.key_id.hex
        text, status = out.opened(value)
        if status == "erased":
            out.erased.append(path)
        elif status == "unreadable":
            out.unreadable.append(path)
        return text
    if hint is UUID:
        return value.hex
    if hint is datetime:
        return value.astimezone(UTC).isoformat()
    if hint is date:
        return value.isoformat()
    if _is_namedtuple(hint):
        named = dict(zip(hint._fields, value, strict=True))  # stored ones come back as lists
        inner = key_subject(hint, UUID(int=0), named, outer=subject)
        return {n: _encode(named[n], h, f"{path}.{n}", inner, out) for n, h in fields_of(hint)}
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        args = typing.get_args(hint)
        each = [args[0]] * len(value) if origin is list or args[-1:] == (Ellipsis,) else list(args)
        pairs = enumerate(zip(value, each, strict=True))
        return [_encode(v, h, f"{path}.{i}", subject, out) for i, (v, h) in pairs]
    if hint in (str, int, bool, float) or hint is Any or origin is dict or hint is dict:
        return value  # JSON's own (a dict of them: as it is)
    raise TypeError(f"{path}: no JSON form for a field of type {hint}")


def _fits(value: Any, arm: Any) -> bool:
    if _is_namedtuple(arm):
        return isinstance(value, tuple | list)
    origin = typing.get_origin(arm)
    if origin is not None:
        return isinstance(value, origin)
    if arm is Any:
        return True
    if arm is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, arm)


def record_of(position: int, fact: ev.Fact, opened: Opened) -> dict[str, Any]:
    """One line of the export: the fact's position, id, type and recording time, and its
    fields with their texts opened (`opened`)."""
    cls = type(fact)
    if fact.originator_version != 1:  # every fact is a stream of one event (events.py)
        raise StoreError(f"the fact at position {position} is version {fact.originator_version} of its "
                         "stream: syncnet does not record such facts, and cannot export it")  # fmt: skip
    values = vars(fact)
    out = _Out(opened)
    subject = key_subject(cls, fact.originator_id, values)
    try:
        encoded = {n: _encode(values.get(n), h, n, subject, out) for n, h in fields_of(cls)}
    except TypeError as e:  # a value that its field's type does not allow: nothing to write for it
        raise StoreError(f"the fact at position {position} ({cls.__name__}) cannot be exported: "
                         f"{e}") from None  # fmt: skip
    record: dict[str, Any] = {
        "position": position, "id": fact.originator_id.hex, "type": cls.__name__,
        "type_version": getattr(cls, "class_version", 1),
        "recorded": fact.timestamp.astimezone(UTC).isoformat(), "fact": encoded,
    }  # fmt: skip
    if out.erased:
        record["erased"] = out.erased
    if out.unreadable:
        record["unreadable"] = out.unreadable
    if out.sealed_with:
        record["sealed_with"] = out.sealed_with
    return record


def opener(keyring: KeyRing) -> Opened:
    """Opens a sealed text: (text, "ok"), or (None, "erased") when its key was destroyed
    (a forgotten contact), (None, "unreadable") when it is damaged or missing."""
    status: dict[UUID, str] = {}

    def opened(sealed: Sealed) -> tuple[str | None, str]:
        subject = sealed.key_id
        if subject not in status:
            if keyring.has_key(subject):
                status[subject] = "ok"
            else:  # the key is not there: unseal says why, in a placeholder, never a text
                try:
                    said = keyring.unseal(sealed)
                except MissingKey:
                    said = None
                status[subject] = "erased" if said == FORGOTTEN else "unreadable"
        if status[subject] != "ok":
            return None, status[subject]
        return keyring.unseal(sealed), "ok"

    return opened


def line_of(record: dict[str, Any]) -> str:
    """A record as one line of JSON: UTF-8 text, and no character any reader takes for a
    line break (JSON escapes the C0 ones, this NEL and the Unicode separators)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS) + "\n"


def export_facts(net: Network, out: TextIO, progress: Callable[[int], None] | None = None) -> int:
    """Write every fact of the log, in order, as JSON Lines; returns how many. Damaged
    facts are left out (the log notes them in `damaged`; `syncnet verify` says more)."""
    log, opened = net.store.log, opener(net.store.keyring)
    position, written = 0, 0
    while batch := log.after(position, PAGE):
        out.write("".join(line_of(record_of(p, f, opened)) for p, f in batch))
        position = batch[-1][0]
        written += len(batch)
        if progress:
            progress(written)
    return written


# ---------------------------------------------------------------- vCard
def export_vcards(net: Network, out: TextIO) -> int:
    """Every contact not forgotten as a vCard 4.0 (docs/export.md, "vCard"); returns how many."""
    import vobject

    from syncnet.app.history import merged_details

    written = 0
    for ref, view, _ in net.contacts():
        name = ref.name or ""
        details = merged_details(view, net.unseal_text)
        card = vobject.vCard()
        card.add("version").value = "4.0"
        card.add("prodid").value = "-//syncnet//export//EN"
        card.add("uid").value = f"urn:uuid:{UUID(view.id)}"
        card.add("fn").value = name
        words = name.split()
        card.add("n").value = vobject.vcard.Name(
            family=words[-1] if len(words) > 1 else "", given=words[0] if words else "",
            additional=" ".join(words[1:-1]),
        )  # fmt: skip
        if details.get("org"):
            card.add("org").value = [details["org"]]
        if details.get("role"):
            card.add("title").value = details["role"]
        for kind, key in (("email", "emails"), ("tel", "phones"), ("url", "urls")):
            for value in details.get(key) or ():
                card.add(kind).value = value
        if details.get("categories"):
            card.add("categories").value = list(details["categories"])
        if details.get("how_met"):
            card.add("note").value = details["how_met"]
        sealed_birthday = getattr(view, "birthday", "")  # a BirthdaySet's, else the details' (older)
        birthday = _bday(net.unseal_text(sealed_birthday) if sealed_birthday else details.get("birthday"))
        if birthday:
            card.add("bday").value = birthday
        out.write(card.serialize())
        written += 1
    return written


def _bday(value: Any) -> str | None:
    """vCard 4.0's BDAY: YYYYMMDD, or --MMDD for a birthday without its year (stored in 1604)."""
    try:
        day = date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if day is None:
        return None
    return f"--{day:%m%d}" if day.year == 1604 else f"{day:%Y%m%d}"


# ---------------------------------------------------------------- import
@dataclass(frozen=True)
class _Text:
    """A text to seal once the whole file is read: `text` None when it was erased."""

    text: str | None
    path: str


@dataclass(frozen=True)
class Parsed:
    """One line of an export, checked: the fact's type, id, recording time and values
    (texts as `_Text`), and where its texts are erased or sealed with another key."""

    line: int
    position: int
    cls: type[ev.Fact]
    fact_id: UUID
    recorded: datetime
    values: dict[str, Any]
    erased: frozenset[str]
    unreadable: frozenset[str]
    sealed_with: dict[str, UUID]


class _Bad(ValueError):
    """A value that does not fit its field; the line is added by `parse_line`."""


def _hex_id(value: Any, what: str) -> UUID:
    if not isinstance(value, str) or len(value) != 32 or value.strip("0123456789abcdef"):
        raise _Bad(f"{what} must be 32 lowercase hex digits, got {_shown(value)}")
    return UUID(value)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _decode(value: Any, hint: Any, path: str, marked: frozenset[str]) -> Any:
    if path in marked and _has_sealed(hint):  # erased or unreadable: a placeholder is sealed
        if value is not None:
            raise _Bad(f"field {path!r} is listed as erased or unreadable but holds a text")
        return _Text(None, path)
    arms = _arms(hint)
    if arms is not None:
        if value is None:
            if type(None) in arms:
                return None
            raise _Bad(f"field {path!r} cannot be null")
        problems = []
        for arm in arms:
            if arm is type(None):
                continue
            try:
                return _decode(value, arm, path, marked)
            except _Bad as e:
                problems.append(str(e))
        raise _Bad(problems[0] if len(problems) == 1 else f"field {path!r} does not fit {hint}")
    if value is None:
        raise _Bad(f"field {path!r} cannot be null")
    if hint is Sealed:
        if not isinstance(value, str):
            raise _Bad(f"field {path!r} must be a text, got {_shown(value)}")
        return _Text(value, path)
    if hint is UUID:
        return _hex_id(value, f"field {path!r}")
    if hint is datetime:
        return _moment(value, f"field {path!r}")
    if hint is date:
        if not isinstance(value, str) or len(value) != 10:
            raise _Bad(f"field {path!r} must be a day (YYYY-MM-DD), got {_shown(value)}")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _Bad(f"field {path!r} must be a day (YYYY-MM-DD), got {_shown(value)}") from None
    if _is_namedtuple(hint):
        if not isinstance(value, dict):
            raise _Bad(f"field {path!r} must be an object, got {_shown(value)}")
        _same_keys(value, [n for n, _ in fields_of(hint)], f"field {path!r}")
        return hint(**{n: _decode(value[n], h, f"{path}.{n}", marked) for n, h in fields_of(hint)})
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise _Bad(f"field {path!r} must be a list, got {_shown(value)}")
        args = typing.get_args(hint)
        if origin is list or args[-1:] == (Ellipsis,):
            each = [args[0]] * len(value)
        elif len(args) != len(value):
            raise _Bad(f"field {path!r} must hold {len(args)} values, got {len(value)}")
        else:
            each = list(args)
        pairs = enumerate(zip(value, each, strict=True))
        decoded = [_decode(v, h, f"{path}.{i}", marked) for i, (v, h) in pairs]
        return tuple(decoded) if origin is tuple else decoded
    if hint is bool:
        if not isinstance(value, bool):
            raise _Bad(f"field {path!r} must be true or false, got {_shown(value)}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Bad(f"field {path!r} must be a whole number, got {_shown(value)}")
        return value
    if hint in (str, float):
        if not isinstance(value, hint) or isinstance(value, bool):
            raise _Bad(f"field {path!r} must be a {'text' if hint is str else 'number'}, got {_shown(value)}")
        return value
    if hint is Any or hint is dict or origin is dict:
        return value
    raise _Bad(f"field {path!r} has a type the import does not know ({hint})")


def _moment(value: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Bad(f"{what} must be an ISO moment with its offset, got {_shown(value)}")
    return moment.astimezone(UTC)


def _same_keys(obj: Mapping[str, Any], wanted: Iterable[str], what: str) -> None:
    want = list(wanted)
    missing = [k for k in want if k not in obj]
    extra = sorted(k for k in obj if k not in want)
    if missing:
        raise _Bad(f"{what} lacks {', '.join(repr(k) for k in missing)}")
    if extra:
        raise _Bad(f"{what} has unknown {', '.join(repr(k) for k in extra)}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Bad(f"the key {k!r} is there twice")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise _Bad(f"{name} is not a JSON number")


def parse_line(number: int, text: str, types_by_name: Mapping[str, type[ev.Fact]]) -> Parsed:
    """One line of an export, checked whole (BadInput naming the line, else a `Parsed`)."""
    try:
        try:
            record = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except json.JSONDecodeError as e:
            raise _Bad(f"not JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(record, dict):
            raise _Bad("not a JSON object")
        for key in ("position", "id", "type", "recorded", "fact"):
            if key not in record:
                raise _Bad(f"it lacks {key!r}")
        extra = sorted(set(record) - _LINE_KEYS)
        if extra:
            raise _Bad(f"unknown {', '.join(repr(k) for k in extra)}")
        cls = types_by_name.get(record["type"]) if isinstance(record["type"], str) else None
        if cls is None:
            raise _Bad(f"unknown fact type {_shown(record['type'])}")
        position = record["position"]
        if not isinstance(position, int) or isinstance(position, bool) or position < 1:
            raise _Bad(f"'position' must be a whole number from 1, got {_shown(position)}")
        fact_id = _hex_id(record["id"], "'id'")
        recorded = _moment(record["recorded"], "'recorded'")
        values = record["fact"]
        if not isinstance(values, dict):
            raise _Bad("'fact' must be an object")
        version = record.get("type_version", 1)
        current = getattr(cls, "class_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= current:
            raise _Bad(f"{cls.__name__} of version {_shown(version)}: this syncnet reads versions 1 "
                       f"to {current}")  # fmt: skip
        while version < current:  # the type's own upcasts: fields added since, with their defaults
            getattr(cls, f"upcast_v{version}_v{version + 1}")(values)
            version += 1
        _same_keys(values, [n for n, _ in fields_of(cls)], "'fact'")
        _check_texts(values)
        marks = {}
        for key in ("erased", "unreadable"):
            listed = record.get(key, [])
            if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
                raise _Bad(f"{key!r} must be a list of field paths")
            marks[key] = frozenset(listed)
        sealed_with = record.get("sealed_with", {})
        if not isinstance(sealed_with, dict):
            raise _Bad("'sealed_with' must be an object")
        keys = {str(p): _hex_id(k, f"'sealed_with' of {p!r}") for p, k in sealed_with.items()}
        marked = marks["erased"] | marks["unreadable"]
        decoded = {n: _decode(values[n], h, n, marked) for n, h in fields_of(cls)}
        seen = {t.path for t in _texts(decoded)}
        for path in sorted((marked | set(keys)) - seen):
            raise _Bad(f"{path!r} names no sealed field of this {cls.__name__}")
    except _Bad as e:
        raise BadInput(f"line {number}: {e}") from None
    return Parsed(number, position, cls, fact_id, recorded, decoded, marks["erased"], marks["unreadable"],
                  keys)  # fmt: skip


DETAIL_TEXTS = ("org", "role", "how_met", "birthday")
DETAIL_LISTS = ("emails", "phones", "urls", "categories")


def _check_texts(values: dict[str, Any]) -> None:
    """The texts the store reads as data, not as words: a contact's details (one JSON
    object, as `syncnet set` writes it) and a birthday (YYYY-MM-DD). Left unchecked, one
    edited line would break every read of that contact, or lose the birthday in silence."""
    details = values.get("details")
    if isinstance(details, str):
        try:
            found = json.loads(details)
        except ValueError:
            raise _Bad("'details' is not a JSON object of a contact's details") from None
        if not isinstance(found, dict) or set(found) - {*DETAIL_TEXTS, *DETAIL_LISTS, ADDS}:
            raise _Bad(f"'details' holds other than {', '.join(DETAIL_TEXTS + DETAIL_LISTS)}")
        for key, value in found.items():
            ok = value is True if key == ADDS else isinstance(value, str) if key in DETAIL_TEXTS else (
                isinstance(value, list) and all(isinstance(v, str) for v in value))  # fmt: skip
            if not ok:
                kind = "a text" if key in DETAIL_TEXTS else "a list of texts"
                raise _Bad(f"'details' {key!r} must be {kind}")
    birthday = values.get("birthday")
    if isinstance(birthday, str):
        try:
            date.fromisoformat(birthday)
        except ValueError:
            raise _Bad(f"'birthday' {_shown(birthday)} is not a day (YYYY-MM-DD)") from None


def _texts(value: Any) -> Iterable[_Text]:
    if isinstance(value, _Text):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _texts(v)


def _sealed(value: Any, subject: UUID, seal: Callable[[_Text, UUID], Sealed]) -> Any:
    """`value` with each `_Text` sealed for its subject (a NamedTuple's contact inside)."""
    if isinstance(value, _Text):
        return seal(value, subject)
    if _is_namedtuple(type(value)):
        inner = key_subject(type(value), UUID(int=0), value._asdict(), outer=subject)
        return type(value)(*(_sealed(v, inner, seal) for v in value))
    if isinstance(value, tuple | list):
        return type(value)(_sealed(v, subject, seal) for v in value)
    return value


@dataclass(frozen=True)
class Imported:
    """What `import_facts` restored (or, with dry_run, would restore)."""

    facts: int
    types: dict[str, int]
    erased: int  # contacts whose data key was destroyed again (forgotten in the export)
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return {"facts": self.facts, "types": self.types, "erased_contacts": self.erased,
                "dry_run": self.dry_run}  # fmt: skip


def parse_lines(lines: Iterable[str], progress: Callable[[int], None] | None = None) -> list[Parsed]:
    """Every line of an export, checked (BadInput at the first bad one: nothing written)."""
    types_by_name = fact_types()
    parsed: list[Parsed] = []
    ids: set[UUID] = set()
    last = 0
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue  # a blank line holds no fact
        p = parse_line(number, text, types_by_name)
        if p.fact_id in ids:
            raise BadInput(f"line {number}: fact {p.fact_id.hex} is there twice")
        ids.add(p.fact_id)
        if p.position <= last:
            raise BadInput(f"line {number}: position {p.position} after {last}: the facts are out of order")
        last = p.position
        parsed.append(p)
        if progress and len(parsed) % PAGE == 0:
            progress(len(parsed))
    if not parsed:
        raise BadInput("nothing to import: the file holds no fact")
    return parsed


def restored_facts(parsed: list[Parsed], keyring: KeyRing) -> tuple[list[ev.Fact], list[str]]:
    """The facts of an export, their texts sealed with fresh data keys (queued in
    `keyring.pending`, to be written with the facts), and the subjects whose key is to be
    destroyed: the contacts forgotten, and every subject of an erased text. Their texts
    are sealed with a key that is never stored (`syncnet forget` destroyed the original)."""
    goals = {p.fact_id for p in parsed if issubclass(p.cls, ev.GoalSet)}
    events = {p.fact_id for p in parsed if issubclass(p.cls, ev.EventPlanned)}
    erase: set[UUID] = {p.values["contact_id"] for p in parsed if issubclass(p.cls, ev.ContactForgotten)}

    def erased(p: Parsed, text: _Text, subject: UUID) -> None:
        if text.path in p.erased:
            erase.add(subject)

    for p in parsed:  # the subjects of erased texts: a contact merged into a forgotten one, say
        _resolve(p, erased)
    made: set[UUID] = set()

    def seal(p: Parsed, text: _Text, subject: UUID) -> Sealed:
        plain = text.text if text.text is not None else UNREADABLE if text.path in p.unreadable else ""
        if subject in erase:
            return Sealed(subject, encrypt(random_key(), plain.encode("utf-8"), subject.bytes))
        if subject not in made:
            own = {ME: "self", PRIVATE: "private"}
            kind = own.get(subject) or (
                "goal" if subject in goals else "event" if subject in events else "contact")  # fmt: skip
            keyring.new_key(subject, kind)
            made.add(subject)
        return keyring.seal(subject, plain)

    facts = []
    for p in parsed:
        values = _resolve(p, seal)
        facts.append(p.cls(originator_id=p.fact_id, originator_version=1, timestamp=p.recorded, **values))
    return facts, sorted(s.hex for s in erase)


def _resolve(p: Parsed, seal: Callable[[Parsed, _Text, UUID], Any]) -> dict[str, Any]:
    """The values of `p` with each text passed to `seal` with its subject (`key_subject`,
    or the key the record names in `sealed_with`)."""
    subject = key_subject(p.cls, p.fact_id, p.values)

    def one(text: _Text, default: UUID) -> Any:
        return seal(p, text, p.sealed_with.get(text.path, default))

    return {n: _sealed(v, subject, one) for n, v in p.values.items()}


def import_facts(
    home: Path,
    lines: Iterable[str],
    progress: Callable[[int], None] | None = None,
    *,
    passphrase: str | None = None,
    config: str | Path | None = None,
    dry_run: bool = False,
    fold: bool = True,
    fold_progress: Callable[[int], None] | None = None,
) -> Imported:
    """Restore an export (`export_facts`) into the empty store in `home`: every fact with
    its id, type, fields and recording time, in order, its texts sealed with fresh data
    keys, in one transaction. Every line is checked first: a bad one (BadInput naming
    it) or a store that holds facts writes nothing. With `dry_run`, only the checks;
    with `fold`, the views are built from the restored facts (else by the next read)."""
    from syncnet.app.network import Network
    from syncnet.errors import ContactsMoved

    with Network.open(home, config, passphrase=passphrase) as net:
        held = net.position()
        if held:
            raise BadInput(f"the store in {net.store.home} holds {held:,} facts: an export is restored into "
                           "an empty store only ('syncnet --home NEW init', then import there)")  # fmt: skip
        parsed = parse_lines(lines, progress)
        counts: dict[str, int] = {}
        for p in parsed:
            counts[p.cls.__name__] = counts.get(p.cls.__name__, 0) + 1
        keyring = net.store.keyring
        try:
            facts, erase = restored_facts(parsed, keyring)
            if not dry_run:
                # One transaction: a killed import leaves the store empty, never half restored.
                # The guard refuses (nothing written) when another process met a contact meanwhile.
                net.store.log.append(facts, wrapped_keys=list(keyring.pending), erase_keys=erase,
                                     no_contacts_after=0)  # fmt: skip
                keyring.pending = []
        except ContactsMoved:
            raise StoreError("another process recorded facts in this store meanwhile: nothing was "
                             "imported") from None  # fmt: skip
        finally:
            keyring.discard_pending()
        if fold and not dry_run:
            net.refresh(fold_progress)
    return Imported(len(facts), dict(sorted(counts.items())), len(erase), dry_run)
