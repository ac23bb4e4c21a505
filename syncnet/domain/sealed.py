"""Sealed personal fields: ciphertext with the id of the data key that opens it.

Kept apart from the event classes and the library so that reading the views
(e.g. `syncnet due`) needs neither.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from uuid import UUID


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
