"""How values that JSON lacks are stored in events: dates and sealed fields."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import Transcoding

from syncnet.domain.sealed import Sealed


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
