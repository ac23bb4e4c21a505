"""What a device hands a hub, and reads back from it (docs/hub.md): every fact as one
opaque envelope, every data key wrapped, both under the team key, which the hub never sees.

- A fact's envelope: its type, fields, recording time and the member who recorded it,
  compressed and encrypted (AES-256-GCM) with the team key, bound to the fact's id. On
  the hub every fact has the same topic (HUB_TOPIC): no type, class or name shows.
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
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag

from syncnet.domain import events as ev
from syncnet.errors import StoreError, WrongKey
from syncnet.storage.keys import KEY_BYTES, decrypt, encrypt
from syncnet.storage.library import PlainFacts

HUB_TOPIC = "syncnet:sealed"  # the one topic of every fact on a hub
_CHECK = b"syncnet-hub-check"


class HubCodec:
    def __init__(self, team_key: bytes) -> None:
        if len(team_key) != KEY_BYTES:
            raise WrongKey("the team key is not a syncnet key")
        self._key = team_key
        self._slot_key = hmac.new(team_key, b"syncnet-hub-slot", hashlib.sha256).digest()
        self._plain = PlainFacts()

    # ------------------------------------------------------------------ facts
    def seal_fact(self, fact: ev.Fact, member: str) -> bytes:
        topic, state = self._plain.dump(fact)  # its class, and its bytes with its type inside
        head = json.dumps({"class": topic, "by": member}, separators=(",", ":")).encode()
        return encrypt(self._key, head + b"\n" + state, b"syncnet-hub-fact:" + fact.originator_id.bytes)

    def open_fact(self, fact_id: UUID, blob: bytes) -> tuple[ev.Fact, str]:
        """(the fact, the member who recorded it); StoreError when the envelope does not
        open with the team key or was moved to another id."""
        try:
            plain = decrypt(self._key, blob, b"syncnet-hub-fact:" + fact_id.bytes)
            head, _, state = plain.partition(b"\n")
            meta: dict[str, Any] = json.loads(head)
            fact = self._plain.load(fact_id, str(meta["class"]), state)
        except (InvalidTag, ValueError, KeyError) as e:
            raise StoreError(
                f"fact {fact_id.hex[:8]} on the hub does not open with the team key "
                f"({type(e).__name__}): it was damaged or written with another key"
            ) from None
        return fact, str(meta["by"])

    # ------------------------------------------------------------------- keys
    def slot(self, subject_hex: str) -> bytes:
        return hmac.new(self._slot_key, subject_hex.encode(), hashlib.sha256).digest()[:16]

    def seal_key(self, subject_hex: str, kind: str, key: bytes) -> tuple[bytes, bytes]:
        """(slot, wrapped) of a data key."""
        slot = self.slot(subject_hex)
        plain = json.dumps({"subject": subject_hex, "kind": kind}).encode() + b"\n" + key
        return slot, encrypt(self._key, plain, b"syncnet-hub-key:" + slot)

    def open_key(self, slot: bytes, wrapped: bytes) -> tuple[str, str, bytes]:
        """(subject hex, kind, key)."""
        try:
            plain = decrypt(self._key, wrapped, b"syncnet-hub-key:" + slot)
            head, _, key = plain.partition(b"\n")
            meta = json.loads(head)
            subject, kind = str(meta["subject"]), str(meta["kind"])
        except (InvalidTag, ValueError, KeyError) as e:
            raise StoreError(
                f"a data key on the hub does not open with the team key ({type(e).__name__})"
            ) from None
        if self.slot(subject) != slot or len(key) != KEY_BYTES:
            raise StoreError("a data key on the hub was moved to another slot")
        return subject, kind, key

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
