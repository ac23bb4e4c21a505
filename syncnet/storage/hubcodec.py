"""What a device hands a hub, and reads back from it (docs/hub.md): every fact as one
opaque envelope, every data key wrapped, both under the team key, which the hub never sees.

- A fact's envelope: its id, type, fields, recording time and the member who recorded
  it, compressed, padded and encrypted (AES-256-GCM) with the team key, bound to its id on
  the hub, a keyed hash of its own. On the hub every fact has the same topic (HUB_TOPIC):
  no type, class or name shows.
- A data key: wrapped with the team key under a slot, a keyed hash of its subject, so the
  hub cannot tell a contact's key from a goal's or link a key to a fact.
- The check value: a known text sealed with the team key, which tells a wrong team key
  from a new hub.
- A lease's number: a keyed hash of what is leased (a calendar's URL), for PostgreSQL's
  advisory locks, so the hub never sees the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag

from syncnet.domain import events as ev
from syncnet.errors import StoreError, WrongKey
from syncnet.storage.keys import KEY_BYTES, decrypt, encrypt
from syncnet.storage.library import CLASSES, PlainFacts

HUB_TOPIC = "syncnet:sealed"  # the one topic of every fact on a hub
PAD = 256  # an envelope's plain text is padded to a multiple of this many bytes
KEY_HEAD = 96  # a wrapped key's description is padded to this length: every kind alike
NO_KEY = ("erased", "private")  # the kinds of key row that hold no key


@dataclass(frozen=True)
class Envelope:
    fact_id: UUID
    member: str  # who recorded it
    topic: str  # its class (library.py)
    state: bytes  # its encoded fields


_CHECK = b"syncnet-hub-check"


class HubCodec:
    def __init__(self, team_key: bytes) -> None:
        if len(team_key) != KEY_BYTES:
            raise WrongKey("the team key is not a syncnet key")
        self._key = team_key
        self._slot_key = hmac.new(team_key, b"syncnet-hub-slot", hashlib.sha256).digest()
        self._id_key = hmac.new(team_key, b"syncnet-hub-id", hashlib.sha256).digest()
        self._members: dict[str, str] = {}  # member -> its JSON text (one per device, or a few)
        self._slots: dict[str, bytes] = {}  # subject -> its slot
        self._plain = PlainFacts()

    # ------------------------------------------------------------------ facts
    def hub_id(self, fact_id: UUID) -> UUID:
        """The id a fact has on the hub: a keyed hash of its own, so that the server cannot
        link the facts whose ids syncnet derives from others' (a merge's details, a
        completion taken from a calendar)."""
        return UUID(bytes=hmac.digest(self._id_key, fact_id.bytes, "sha256")[:16])

    def seal_fact(self, fact: ev.Fact, member: str) -> tuple[UUID, bytes]:
        """(its id on the hub, its envelope): its id, type, fields and recording time and the
        member who recorded it, padded to a multiple of PAD bytes (the size says little of
        the kind), encrypted with the team key and bound to the id on the hub."""
        topic, state = self._plain.dump(fact)  # its class, and its bytes with its type inside
        return self.seal_encoded(fact.originator_id, topic, state, member)

    def seal_encoded(self, fact_id: UUID, topic: str, state: bytes, member: str,
                     hub_id: UUID | None = None) -> tuple[UUID, bytes]:  # fmt: skip
        """`seal_fact` of a fact as the log holds it (FactLog.encoded_after), not decoded
        (`hub_id`: its id on the hub, when known already)."""
        by = self._members.get(member) or self._members.setdefault(member, json.dumps(member))
        head = f'{{"id":"{fact_id.hex}","class":{json.dumps(topic)},"by":{by},"len":{len(state)}}}'
        plain = head.encode() + b"\n" + state
        plain += b"\0" * (-len(plain) % PAD)
        hub_id = hub_id or self.hub_id(fact_id)
        return hub_id, encrypt(self._key, plain, b"syncnet-hub-fact:" + hub_id.bytes)

    @staticmethod
    def sealed_with(state: bytes, subjects: Sequence[UUID]) -> bool:
        """Whether an encoded fact may hold a text sealed with one of `subjects` (a false
        yes costs a decoding, never a mistake)."""
        plain = zlib.decompress(state)
        return any(s.hex.encode() + b":" in plain for s in subjects)

    @staticmethod
    def mentions(state: bytes, type_name: str) -> bool:
        """Whether an encoded fact may be of the type `type_name` (its type is inside)."""
        return type_name.encode() in zlib.decompress(state)

    def open_envelope(self, hub_id: UUID, blob: bytes) -> Envelope:
        """What an envelope holds, its fact still encoded (decoded by `fact_of`, only when
        the store lacks it); StoreError when it does not open with the team key, or was
        moved to another id."""
        try:
            plain = decrypt(self._key, blob, b"syncnet-hub-fact:" + hub_id.bytes)
            head_bytes, _, rest = plain.partition(b"\n")
            head: dict[str, Any] = json.loads(head_bytes)
            fact_id = UUID(hex=str(head["id"]))
            if self.hub_id(fact_id) != hub_id:
                raise ValueError("moved")
            if str(head["class"]) not in CLASSES:
                raise ValueError("class")
            return Envelope(fact_id, str(head["by"]), str(head["class"]), rest[: int(head["len"])])
        except (InvalidTag, ValueError, KeyError) as e:
            raise StoreError(
                f"fact {hub_id.hex[:8]} on the hub does not open with the team key "
                f"({type(e).__name__}): it was damaged or written with another key"
            ) from None

    def fact_of(self, envelope: Envelope) -> ev.Fact:
        try:
            return self._plain.load(envelope.fact_id, envelope.topic, envelope.state)
        except (ValueError, KeyError, zlib.error) as e:
            raise StoreError(
                f"fact {envelope.fact_id.hex[:8]} from the hub cannot be decoded ({type(e).__name__})"
            ) from None

    # ------------------------------------------------------------------- keys
    def slot(self, subject_hex: str) -> bytes:
        found = self._slots.get(subject_hex)
        if found is None:
            found = hmac.digest(self._slot_key, subject_hex.encode(), "sha256")[:16]
            self._slots[subject_hex] = found
        return found

    def seal_key(self, subject_hex: str, kind: str, key: bytes | None) -> tuple[bytes, bytes]:
        """(slot, wrapped) of a data key; with no key, the row of a subject whose key is
        never on the hub: a tombstone (kind "erased": so that a device that never held the
        key knows it is gone) or a device's private notes (kind "private")."""
        if (key is None) != (kind in NO_KEY):
            raise ValueError(f"a key of kind {kind!r} {'needs' if key is None else 'has no'} key")
        slot = self.slot(subject_hex)
        head = json.dumps({"subject": subject_hex, "kind": kind}).encode().ljust(KEY_HEAD)
        return slot, encrypt(self._key, head + b"\n" + (key or b""), b"syncnet-hub-key:" + slot)

    def open_key(self, slot: bytes, wrapped: bytes) -> tuple[str, str, bytes | None]:
        """(subject hex, kind, key; None for the kinds without one: NO_KEY)."""
        try:
            plain = decrypt(self._key, wrapped, b"syncnet-hub-key:" + slot)
            head, _, key = plain.partition(b"\n")
            meta = json.loads(head)
            subject, kind = str(meta["subject"]), str(meta["kind"])
        except (InvalidTag, ValueError, KeyError) as e:
            raise StoreError(
                f"a data key on the hub does not open with the team key ({type(e).__name__})"
            ) from None
        if self.slot(subject) != slot or (kind not in NO_KEY and len(key) != KEY_BYTES):
            raise StoreError("a data key on the hub was moved to another slot")
        return subject, kind, (None if kind in NO_KEY else key)

    # ------------------------------------------------------------ check, lease
    def check_value(self) -> bytes:
        return encrypt(self._key, os.urandom(16), _CHECK)

    def opens(self, check: bytes) -> bool:
        try:
            decrypt(self._key, check, _CHECK)
        except (InvalidTag, ValueError):
            return False
        return True

    def lease_number(self, what: str) -> int:
        """A signed 64-bit number for PostgreSQL's advisory locks."""
        digest = hmac.new(self._key, b"syncnet-hub-lease:" + what.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big", signed=True)
