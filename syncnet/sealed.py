"""Sealed personal fields and the transcodings of the stored format.

Kept apart from the event classes so that reading the views (e.g. `syncnet due`)
needs neither the event classes nor their imports.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.persistence import Transcoding


@dataclass(frozen=True)
class Sealed:
    """Ciphertext of a personal field, sealed with the data key `key_id`."""

    key_id: UUID
    blob: bytes

    def to_text(self) -> str:
        return self.key_id.hex + ":" + base64.b64encode(self.blob).decode("ascii")

    @staticmethod
    def from_text(text: str) -> Sealed:
        key_hex, blob = text.split(":", 1)
        return Sealed(UUID(key_hex), base64.b64decode(blob))


class SealedAsText(Transcoding):
    type = Sealed
    name = "sealed"

    def encode(self, obj: Sealed) -> str:
        return obj.to_text()

    def decode(self, data: str) -> Sealed:
        return Sealed.from_text(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)
