"""The eventsourcing library underneath the fact log (used by factlog.py only).

An `Application` that ignores os.environ, registers the transcodings of syncnet's
values, and a recorder that writes wrapped keys in the same transaction as the
events that need them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import Environment, EnvType, get_topic, register_topic, resolve_topic

from syncnet.domain import events as ev
from syncnet.errors import ContactsMoved, StoreError
from syncnet.storage import chain
from syncnet.storage.db import LOCK_TIMEOUT_S
from syncnet.storage.transcodings import DateAsISO, SealedAsText


class SyncnetRecorder(SQLiteApplicationRecorder):
    """The library's recorder, plus a table of wrapped keys written in the same
    transaction as the events that need them (`save(..., wrapped_keys=[...])`), and the
    seal of the log (chain.py), extended in that transaction too."""

    store_key: bytes | None = None  # set by FactLog; without it nothing can be appended

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS syncnet_keys ("
            "subject TEXT PRIMARY KEY, kind TEXT NOT NULL, wrapped BLOB NOT NULL) WITHOUT ROWID",
            chain.SCHEMA,
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.store_key is None:
            raise StoreError("the log is open without its key: nothing can be appended")
        wrapped_keys = kwargs.get("wrapped_keys")
        if wrapped_keys:
            c.executemany("INSERT INTO syncnet_keys VALUES (?, ?, ?)", wrapped_keys)
        erase = kwargs.get("erase_keys")
        if erase:
            # Forgotten: the wrapped key is deleted with its bytes zeroed (secure_delete),
            # and an empty tombstone says the subject was erased, not lost (keys.KeyRing).
            c.execute("PRAGMA secure_delete = ON")
            c.executemany("DELETE FROM syncnet_keys WHERE subject = ?", [(s,) for s in erase])
            c.executemany("INSERT INTO syncnet_keys VALUES (?, 'erased', X'')", [(s,) for s in erase])
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:  # first: a log whose seal does not end where it does refuses every write, so
            self._seal(c, list(ids), stored_events)  # saying (the guard below would only retry)
        guard = kwargs.get("no_contacts_after")
        if guard is not None and ids:
            # After the writes, which took the lock: this read sees every commit (a read
            # first would pin a snapshot, and the write after it fail as "locked").
            position, topics = guard
            marks = ",".join("?" * len(topics))
            table = self.events_table_name
            sql = f"SELECT 1 FROM {table} WHERE rowid > ? AND rowid < ? AND topic IN ({marks}) LIMIT 1"
            c.execute(sql, (position, ids[0], *topics))
            if c.fetchone() is not None:
                raise ContactsMoved("another process met a contact meanwhile")
        return ids

    def _seal(self, c: SQLiteCursor, ids: list[int], events: Sequence[StoredEvent]) -> None:
        """Extend the seal over the facts just inserted (the write lock is held: the
        head read here is the latest)."""
        assert self.store_key is not None
        c.execute(f"SELECT link FROM {chain.TABLE} WHERE position = ?", (chain.HEAD,))
        row = c.fetchone()
        try:
            head = chain.Head(0, b"") if row is None else chain.open_head(self.store_key, bytes(row[0]))
        except (InvalidTag, ValueError, TypeError):
            raise StoreError("the seal of the log is damaged: run 'syncnet verify'") from None
        if head.position != ids[0] - 1:
            raise StoreError(f"the log is damaged: its seal ends at position {head.position}, the log at "
                             f"{ids[0] - 1}; nothing was recorded (run 'syncnet verify')")  # fmt: skip
        rows = [(i, e.originator_id.hex if isinstance(e.originator_id, UUID) else str(e.originator_id),
                 e.originator_version, e.topic, e.state)
                for i, e in zip(ids, events, strict=True)]  # fmt: skip
        chain.extend(c, chain.chain_key(self.store_key), self.store_key, head, rows)


EVENTS_TABLE = "stored_events"  # the library's table of facts (SQLiteApplicationRecorder's default)


# Where the fact classes lived before syncnet had layers: facts stored then name it.
LEGACY = "syncnet.events"


def restorer(old_key: bytes, new_key: bytes) -> Callable[[str, int, str, bytes], tuple[str, bytes]]:
    """For `syncnet rekey`: (id, version, topic, state) of a fact stored under `old_key`
    -> (topic, state) of the same fact stored under `new_key`, its type sealed (a fact
    stored with its type as the topic gets its class). Raises when `old_key` does not
    open the fact, or it does not decode."""
    register_topic(LEGACY, ev)  # idempotent
    old, new = _mapper(old_key), _mapper(new_key)

    def restore(originator_id: str, version: int, topic: str, state: bytes) -> tuple[str, bytes]:
        fact = old.to_domain_event(StoredEvent(originator_id=UUID(originator_id), originator_version=version,
                                               topic=topic, state=state))  # fmt: skip
        stored = new.to_stored_event(fact)
        return stored.topic, stored.state

    return restore


def _mapper(store_key: bytes) -> Mapper[UUID]:
    """The mapper of a log under `store_key`, without a database (the library's in-memory one)."""
    env = library_env(Path(":memory:"), store_key)
    env = {k: v for k, v in env.items() if k.startswith(("CIPHER", "COMPRESSOR"))}
    return LibraryApp(env=env).mapper


# What the topic column says of a fact: one of four classes, not its type. The type is
# stored inside the encrypted state (TYPE_FIELD). The log is read by whole classes only:
# first meetings (the concurrent-meet guard), corrections (read whole before a rebuild),
# and the facts that can change the agenda (the daemon's poll: all but the push records).
MET, PUSH, CORRECTION, FACT = "syncnet:met", "syncnet:push", "syncnet:correction", "syncnet:fact"
CLASSES = frozenset({MET, PUSH, CORRECTION, FACT})
TYPE_FIELD = "_type"


def topic_class(cls: type) -> str:
    """The stored topic of a fact of type `cls`."""
    if issubclass(cls, ev.ContactMet):
        return MET
    if issubclass(cls, ev.CORRECTIONS):
        return CORRECTION
    return PUSH if issubclass(cls, ev.PUSH_RECORDS) else FACT


class TypeSealingMapper(Mapper[UUID]):
    """The library's mapper, with each fact's type sealed inside its encrypted state and
    only its class (`topic_class`) in the clear. Facts stored before carry their type as
    the topic, and are read as the library reads them."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        state = dict(vars(domain_event))
        originator_id, version = state.pop("originator_id"), state.pop("originator_version")
        state[TYPE_FIELD] = get_topic(cls)
        if getattr(cls, "class_version", 1) > 1:
            state["class_version"] = cls.class_version
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(originator_id=originator_id, originator_version=version, topic=topic_class(cls),
                           state=data)  # fmt: skip

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if stored_event.topic not in CLASSES:
            return super().to_domain_event(stored_event)  # stored with its type as the topic
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        state: dict[str, Any] = self.transcoder.decode(data)
        cls = resolve_topic(state.pop(TYPE_FIELD))
        if topic_class(cls) != stored_event.topic:  # the class in the clear must be the sealed type's
            raise ValueError(f"a fact of type {cls.__name__} stored as {stored_event.topic}")
        oid = stored_event.originator_id
        state["originator_id"] = oid if isinstance(oid, UUID) else UUID(str(oid))
        state["originator_version"] = stored_event.originator_version
        version = state.pop("class_version", 1)
        while version < getattr(cls, "class_version", 1):
            getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event


class LibraryApp(Application[UUID]):
    """The eventsourcing application underneath: facts are saved as events, never
    loaded as aggregates (each fact is a stream of one event)."""

    name = "syncnet"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Unlike the library default, ignore os.environ: a stray CIPHER_KEY or
        # SQLITE_DBNAME in the user's shell must not change where or how we store.
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[UUID]:
        made = super().construct_mapper()  # the transcoder, compressor and cipher of the env
        return TypeSealingMapper(made.transcoder, made.compressor, made.cipher)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(SealedAsText())


def library_env(db_path: Path | str, store_key: bytes, create: bool = True) -> dict[str, str]:
    if isinstance(db_path, str) and db_path.startswith(("postgresql://", "postgres://")):
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(db_path)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(info.get("dbname") or info.get("user") or "postgres"),
            "POSTGRES_HOST": str(info.get("host") or "localhost"),
            "POSTGRES_PORT": str(info.get("port") or 5432),
            "POSTGRES_USER": str(info.get("user") or "postgres"),
            # libpq reads PGPASSWORD and ~/.pgpass only when no password is given: the
            # pool's empty one would hide both (a password in the URL is refused)
            "POSTGRES_PASSWORD": os.environ.get("PGPASSWORD", ""),
            "POSTGRES_LOCK_TIMEOUT": str(LOCK_TIMEOUT_S),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            # The tables exist once the store does: creating them (if not there) on every
            # open costs a dozen statements of DDL per command.
            "CREATE_TABLE": "yes" if create else "no",
            "APPLICATION_RECORDER_TOPIC": "syncnet.storage.library_pg:SyncnetPgRecorder",
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": base64.b64encode(store_key).decode("ascii"),
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(db_path),
        "SQLITE_LOCK_TIMEOUT": str(LOCK_TIMEOUT_S),
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:SyncnetRecorder",
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": base64.b64encode(store_key).decode("ascii"),
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    }


class PlainFacts:
    """Facts to bytes and back as the log stores them (their type sealed inside,
    compressed), without the store's cipher: a hub's envelope (hubcodec.py) encrypts them
    with the team key instead."""

    def __init__(self) -> None:
        register_topic(LEGACY, ev)  # idempotent
        self._mapper = LibraryApp(env={"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}).mapper

    def dump(self, fact: ev.Fact) -> tuple[str, bytes]:
        """(its class, its bytes)."""
        stored = self._mapper.to_stored_event(fact)
        return stored.topic, stored.state

    def load(self, fact_id: UUID, topic: str, state: bytes) -> ev.Fact:
        stored = StoredEvent(originator_id=fact_id, originator_version=1, topic=topic, state=state)
        fact = self._mapper.to_domain_event(stored)
        assert isinstance(fact, ev.Fact)
        return fact
