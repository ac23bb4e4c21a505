"""Facts exchanged with a hub: a PostgreSQL database shared by a person's devices or a
small team, which holds ciphertext only (docs/hub.md).

Every device keeps its own store and works offline; `push` sends the facts the hub lacks,
`pull` appends the facts this store lacks. Facts are streams of one event with random
ids, so exchanging them is a union by id: no conflict, no duplicate, whatever the order
and however often it runs; the fold orders what it must by the facts' own dates and
recording times, not by where a store holds them.

What crosses, sealed with the team key (storage/hubcodec.py): each fact in one envelope,
with the member who recorded it; the data keys its texts are sealed with, so that other
devices can read them; a forgotten contact's erasure (its key's slot emptied on the hub,
and the fact that erases it everywhere it is pulled).

Texts about "me" are sealed locally with a key whose subject is the same in every store
(recorded.ME), but whose key is each store's own: on the hub they are sealed again under
this device's own subject, so that each device's texts about itself stay readable.

Crash safety: a push writes a batch of facts with their keys in one PostgreSQL
transaction; a pull writes the keys, then the batch of facts in one SQLite transaction;
the watermarks are written after. A push or pull killed at any moment is repeated by the
next run, which skips the facts already there (by id): nothing lost, nothing doubled.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID, uuid4

from syncnet.app.recorded import ME, PRIVATE
from syncnet.domain import events as ev
from syncnet.domain.corrections import Corrections
from syncnet.domain.sealed import Sealed
from syncnet.errors import BadInput, FactOnHub, StoredMeanwhile, WrongKey
from syncnet.storage.hubcodec import Envelope, HubCodec
from syncnet.storage.keys import KEY_BYTES, PRIVATE_MARK, encrypt
from syncnet.storage.library import CLASSES, CORRECTION, MET

SCOPE = "hub"
MET_SCOPE = "hub:met"  # contact id -> the member whose device recorded the first meeting
BATCH = 1000  # facts per transaction, either way
FORGET = ev.ContactForgotten.__name__


class HubStore(Protocol):
    """What a hub holds, as bytes (adapters/pghub.py): facts by id in one order, data keys
    by slot, a check value, and leases."""

    where: str

    def create(self, check: bytes) -> bytes: ...
    def check(self) -> bytes | None: ...
    def known(self, ids: Sequence[UUID]) -> set[UUID]: ...
    def put(self, facts: Sequence[tuple[UUID, bytes]], keys: Sequence[tuple[bytes, bytes, bool]]) -> None: ...
    def after(self, position: int, limit: int) -> list[tuple[int, UUID, bytes]]: ...
    def last(self) -> int: ...
    def keys_after(self, seq: int) -> list[tuple[int, bytes, bytes, bool]]: ...
    def slots(self) -> dict[bytes, bool]: ...
    def scrub(self) -> None: ...
    def wait(self, timeout: float) -> bool: ...
    def lease(self, number: int) -> bool: ...
    def release(self, number: int) -> None: ...
    def close(self) -> None: ...


@dataclass
class Exchanged:
    pushed: int = 0
    pulled: int = 0
    keys_pushed: int = 0
    keys_pulled: int = 0
    erased: int = 0  # contacts forgotten by facts pulled
    by: dict[str, int] = field(default_factory=dict)  # facts pulled, by the member who recorded them

    def to_json(self) -> dict[str, Any]:
        return {"pushed": self.pushed, "pulled": self.pulled, "keys_pushed": self.keys_pushed,
                "keys_pulled": self.keys_pulled, "erased_contacts": self.erased,
                "pulled_by_member": dict(sorted(self.by.items()))}  # fmt: skip


def _team(net: Any) -> dict[str, Any] | None:
    found = net.state.get(SCOPE, "team")
    return found if isinstance(found, dict) else None


def joined(net: Any) -> bool:
    return _team(net) is not None


def recorded_by(net: Any, fact_ids: list[str]) -> dict[str, str]:
    """Fact id -> the member of the team whose device recorded it, for the facts that went
    through the hub (pushed from here, or pulled); empty when this store joined no hub."""
    return dict(net.state.recorded_by(fact_ids)) if joined(net) else {}


def met_by(net: Any) -> dict[str, str]:
    """Contact id -> the member of the team who met them (recorded the first meeting), for
    the contacts that went through the hub; empty when this store joined no hub."""
    return {k: str(v) for k, v in net.state.scope(MET_SCOPE).items()} if joined(net) else {}


def team_key_text(net: Any) -> str:
    """The team key as the text of a key file (for `syncnet hub key`)."""
    team = _team(net)
    if team is None:
        raise BadInput("this store has joined no hub: 'syncnet hub init' or 'syncnet hub join'")
    return str(team["key"]) + "\n"


def parse_team_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise WrongKey("that is not a syncnet team key (a key file written by 'syncnet hub key')")
    return key


def _save_team(net: Any, key: bytes, check: bytes) -> None:
    net.state.put(SCOPE, "team", {
        "key": base64.b64encode(key).decode("ascii"),
        "hub": hmac.new(key, check, "sha256").hexdigest()[:32],  # which hub: its check value
        "self": uuid4().hex,  # this device's subject for its texts about "me" (module doc)
        "self_key": base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii"),
        "private": uuid4().hex,  # this device's subject for its private notes (never a key on the hub)
        "pushed": 0, "pulled": 0, "keys": 0,
    })  # fmt: skip


def init_hub(net: Any, hub: HubStore, new_key: bool = False) -> bool:
    """Set up a new hub with a new team key, or join it again with the key this store holds.
    `new_key`: a new team key even if this store holds one (a team moving to a new hub after
    a member left: the old key does not open it). True when the hub was created."""
    team = _team(net)
    if new_key and hub.check() is not None:
        raise BadInput(f"the hub at {hub.where} is set up already: a new team key needs an empty database")
    key = base64.b64decode(team["key"]) if team and not new_key else os.urandom(KEY_BYTES)
    codec = HubCodec(key)
    found = hub.check()
    if found is not None and not codec.opens(found):
        if team:
            raise WrongKey(f"the hub at {hub.where} was set up with another team key than this store's")
        raise BadInput(
            f"the hub at {hub.where} is set up already: join it with its team key "
            "('syncnet hub key FILE' on a device of the team, then 'syncnet hub join FILE')"
        )
    check = hub.create(codec.check_value()) if found is None else found
    if not codec.opens(check):  # another device set it up in the same moment
        raise BadInput(f"the hub at {hub.where} was set up meanwhile by another device: join it with its "
                       "team key ('syncnet hub join FILE')")  # fmt: skip
    if team is None or team["hub"] != hmac.new(key, check, "sha256").hexdigest()[:32]:
        _save_team(net, key, check)
    return found is None


def join_hub(net: Any, hub: HubStore, key: bytes) -> None:
    found = hub.check()
    if found is None:
        raise BadInput(f"there is no hub at {hub.where} yet: 'syncnet hub init' sets one up")
    if not HubCodec(key).opens(found):
        raise WrongKey(f"that team key does not open the hub at {hub.where}")
    team = _team(net)
    # Another key, or another hub: this store leaves the one it had joined (its facts stay;
    # a store is in one hub at a time).
    mark = hmac.new(key, found, "sha256").hexdigest()[:32]
    if team is None or base64.b64decode(team["key"]) != key or team["hub"] != mark:
        _save_team(net, key, found)


class Exchange:
    """Push and pull between one store (`net`, a Network) and one hub."""

    def __init__(self, net: Any, hub: HubStore, member: str) -> None:
        team = _team(net)
        if team is None:
            raise BadInput("this store has joined no hub: 'syncnet hub init' sets one up, 'syncnet hub join "
                           "KEYFILE' joins one")  # fmt: skip
        self.net, self.hub, self.member = net, hub, member
        self.team = team
        key = base64.b64decode(team["key"])
        self._key = key
        self.codec = HubCodec(key)
        self._self = UUID(team["self"])
        self._self_key = base64.b64decode(team["self_key"])
        self._private = UUID(team.setdefault("private", uuid4().hex))
        self._private_slot = self.codec.slot(self._private.hex)  # a row without a key: not counted
        self._slots: dict[bytes, bool] | None = None

    def check(self) -> None:
        """Before each exchange (one small query): the hub is the one this store joined; a
        hub set up again from scratch starts the marks over. The team's state is read
        again too: a command may have changed it under a running daemon."""
        self.team = _team(self.net) or self.team
        check = self.hub.check()
        if check is None or not self.codec.opens(check):
            raise WrongKey(f"the hub at {self.hub.where} is not the one this store joined (its team key does "
                           "not open it): 'syncnet hub join KEYFILE' for a new hub")  # fmt: skip
        mark = hmac.new(self._key, check, "sha256").hexdigest()[:32]
        if self.team["hub"] != mark:  # set up again from scratch: start over
            self.team.update(pushed=0, pulled=0, keys=0, hub=mark)
            self._save()
            self._slots = None

    def _save(self) -> None:
        self.net.state.put(SCOPE, "team", self.team)

    # ------------------------------------------------------------------ push
    def push(self, progress: Callable[[int], None] | None = None) -> Exchanged:
        """Every fact of this store the hub lacks, with the keys they need."""
        self.check()
        done = Exchanged()
        log = self.net.store.log
        position = int(self.team["pushed"])
        while True:
            # The facts as the log holds them, not decoded: most cross as they are (module doc)
            batch = log.encoded_after(position, BATCH)
            if not batch:
                break
            on_hub = {self.codec.hub_id(row[1]): row[1:] for row in batch}
            there = self.hub.known(list(on_hub))
            new = [(hub_id, *row) for hub_id, row in on_hub.items() if hub_id not in there]
            if new:
                keys = self._keys_to_push()  # read after the facts: the keys they need are there
                envelopes, met = [], []
                # who recorded each: a fact pulled from another hub keeps its member (a team
                # that moved to a new hub), the others are this device's
                by = self.net.state.recorded_by([row[1].hex for row in new])
                for hub_id, fact_id, topic, state in new:
                    member = str(by.get(fact_id.hex) or self.member)
                    if topic not in CLASSES or topic == MET or self.codec.sealed_with(state, (ME, PRIVATE)):
                        # stored before types were sealed, a first meeting (who met them), or
                        # texts of this device's own subjects: decoded, and sealed again
                        fact = self.codec.fact_of(Envelope(fact_id, member, topic, state))
                        envelopes.append(self.codec.seal_fact(self._for_hub(fact), member))
                        met.append((fact, member))
                    else:
                        envelopes.append(self.codec.seal_encoded(fact_id, topic, state, member, hub_id))
                try:
                    self.hub.put(envelopes, keys)
                except FactOnHub:
                    self._slots = None
                    continue  # another device pushed some of them meanwhile: ask again
                assert self._slots is not None
                self._slots.update((slot, not erased) for slot, _, erased in keys)
                self._note_met(met)
                self.net.state.set_recorded_by(
                    {row[1].hex: self.member for row in new if row[1].hex not in by}
                )
                done.pushed += len(new)
                done.keys_pushed += sum(
                    1 for slot, _, erased in keys if not erased and slot != self._private_slot
                )
                if any(erased for _, _, erased in keys):
                    self.hub.scrub()  # an erased key's old bytes leave the table's pages
            position = batch[-1][0]
            self.team["pushed"] = position
            self._save()
            if progress:
                progress(done.pushed)
        return done

    def _note_met(self, facts: Iterable[tuple[ev.Fact, str]]) -> None:
        """Who met each contact met among `facts` (met_by): after the facts are written, so
        a kill in between loses a name shown, never a fact."""
        met = {f.contact_id.hex: member for f, member in facts if isinstance(f, ev.ContactMet)}
        if met:
            self.net.state.put_many(MET_SCOPE, met)

    def _keys_to_push(self) -> list[tuple[bytes, bytes, bool]]:
        """(slot, wrapped, False) of the keys the hub lacks, and (slot, tombstone, True) of
        those this store erased while the hub holds them (or never had them)."""
        if self._slots is None:
            self._slots = self.hub.slots()
        slots, out = self._slots, []
        keyring = self.net.store.keyring
        own = self.codec.slot(self._self.hex)
        if own not in slots:
            out.append((*self.codec.seal_key(self._self.hex, "self", self._self_key), False))
        private = self.codec.slot(self._private.hex)
        if private not in slots:  # its row says the subject's notes are private: no key, ever
            out.append((*self.codec.seal_key(self._private.hex, "private", None), False))
        for subject, kind, wrapped in self.net.store.log.key_rows():
            if subject in (ME.hex, PRIVATE.hex) or kind == "private":
                continue  # sent as this device's own subjects (module doc), or another's private
            slot = self.codec.slot(subject)
            if not wrapped:
                if slots.get(slot, True):  # there, or never sent: its tombstone
                    out.append((*self.codec.seal_key(subject, "erased", None), True))
            elif slot not in slots:
                key = keyring.key_of(subject)
                if key is not None:
                    out.append((*self.codec.seal_key(subject, kind, key), False))
        return out

    def _for_hub(self, fact: ev.Fact) -> ev.Fact:
        """The fact with its texts about "me" sealed under this device's own subject, and its
        private notes under this device's private subject, with a key that stays here."""
        own = (ME, PRIVATE)
        mine = {k: v for k, v in vars(fact).items() if isinstance(v, Sealed) and v.key_id in own}
        if not mine:
            return fact
        keyring = self.net.store.keyring
        state = dict(vars(fact))
        for name, sealed in mine.items():
            text = (keyring.unseal(sealed) or "").encode("utf-8")
            if sealed.key_id == ME:
                state[name] = Sealed(self._self, encrypt(self._self_key, text, self._self.bytes))
            else:
                key = keyring.key_of(PRIVATE.hex) or os.urandom(KEY_BYTES)
                state[name] = Sealed(self._private, encrypt(key, text, self._private.bytes))
        out = object.__new__(type(fact))
        object.__setattr__(out, "__dict__", state)
        return out

    # ------------------------------------------------------------------ pull
    def pull(self, progress: Callable[[int], None] | None = None) -> Exchanged:
        """Every fact of the hub this store lacks, with the keys they need; contacts
        forgotten elsewhere are forgotten here (their keys destroyed)."""
        self.check()
        done = Exchanged()
        log, keyring = self.net.store.log, self.net.store.keyring
        position, seq = int(self.team["pulled"]), int(self.team["keys"])
        while True:
            rows = self.hub.after(position, BATCH)
            if not rows:
                break
            keys = self.hub.keys_after(seq)  # after the facts: the keys committed with them are there
            have = {s for s, _, _ in log.key_rows()}
            adopted = []
            for _, slot, wrapped, _ in keys:
                subject, kind, key = self.codec.open_key(slot, wrapped)
                if subject in have or subject in (ME.hex, PRIVATE.hex, self._private.hex):
                    continue  # a key this store has, or the tombstone of one it has: its fact erases it
                # a key this store lacks; the tombstone of one it never had (its facts then read
                # as forgotten, not as damage, until the fact that erased it comes); another
                # device's private subject (its notes read "[private]")
                if kind == "private":
                    adopted.append((subject, "private", PRIVATE_MARK))
                elif key is None:
                    adopted.append((subject, "erased", b""))
                else:
                    adopted.append((subject, kind, keyring.wrapped_for(subject, key)))
            log.add_keys(adopted)  # before the facts: a fact is never there without its key
            done.keys_pulled += sum(1 for _, kind, _ in adopted if kind not in ("erased", "private"))
            envelopes = [self.codec.open_envelope(hub_id, blob) for _, hub_id, blob in rows]
            local = log.present([e.fact_id for e in envelopes])
            missing = [e for e in envelopes if e.fact_id not in local]
            # Stored as they come, not decoded, but for the facts this store must act on: a
            # first meeting (who met them), a correction (a merge: whose keys a forgetting
            # destroys), a forgetting (module doc)
            acts = [
                e for e in missing if e.topic in (MET, CORRECTION) or self.codec.mentions(e.state, FORGET)
            ]
            decoded = [(self.codec.fact_of(e), e.member) for e in acts]
            facts = [f for f, _ in decoded]
            for e in missing:
                done.by[e.member] = done.by.get(e.member, 0) + 1
            if missing:
                erase = self._erased_by(facts)
                try:
                    log.append_encoded([(e.fact_id, e.topic, e.state) for e in missing], erase_keys=erase)
                except StoredMeanwhile:
                    continue  # another pull (the daemon's) stored some meanwhile: ask again
                self._note_met(decoded)
                self.net.state.set_recorded_by({e.fact_id.hex: e.member for e in missing})
                done.pulled += len(missing)
                done.erased += sum(1 for f in facts if isinstance(f, ev.ContactForgotten))
            position = rows[-1][0]
            seq = max([seq, *(k[0] for k in keys)])
            self.team.update(pulled=position, keys=seq)
            self._save()
            if progress:
                progress(done.pulled)
        return done

    def _erased_by(self, facts: list[ev.Fact]) -> list[str]:
        """The subjects whose keys the forgettings among `facts` destroy: the contact, and
        every contact merged into it (their texts are its texts)."""
        gone = {f.contact_id for f in facts if isinstance(f, ev.ContactForgotten)}
        if not gone:
            return []
        corrections = Corrections.in_log(self.net.store.log.after)
        for f in facts:
            corrections.add(f)
        merged = {b for b, a in corrections.into().items() if a in gone}
        return sorted(s.hex for s in gone | merged)

    # ------------------------------------------------------------ both, lease
    def exchange(self, progress: Callable[[int], None] | None = None) -> Exchanged:
        """Pull, then push: what this store sends is then checked against all the hub had."""
        pulled = self.pull(progress)
        pushed = self.push(progress)
        pulled.pushed, pulled.keys_pushed = pushed.pushed, pushed.keys_pushed
        return pulled

    def status(self) -> dict[str, Any]:
        """Where things stand; `to_pull`: facts on the hub this store lacks, `to_push`: facts
        of this store the hub lacks: the first batch (BATCH) with any, found past the facts
        both sides hold (counted to the end, a batch at a time, as a pull or push would)."""
        self.check()
        log, to_pull, to_push = self.net.store.log, 0, 0
        position = int(self.team["pulled"])
        while not to_pull and (rows := self.hub.after(position, BATCH)):
            waiting = [self.codec.open_envelope(h, blob).fact_id for _, h, blob in rows]
            to_pull, position = len(waiting) - len(log.present(waiting)), rows[-1][0]
        position = int(self.team["pushed"])
        while not to_push and (facts := log.encoded_after(position, BATCH)):
            mine = {self.codec.hub_id(fact_id) for _, fact_id, _, _ in facts}
            to_push, position = len(mine - self.hub.known(list(mine))), facts[-1][0]
        done = not to_pull and not to_push
        return {"hub": self.hub.where, "member": self.member, "hub_position": self.hub.last(),
                "to_pull": to_pull, "to_push": to_push, "up_to_date": done}  # fmt: skip

    def may_push(self, target: Any) -> bool:
        """Whether this process may push to `target`: a file always (it is this device's);
        a CalDAV calendar while this process holds its lease on the hub, taken here when
        free and held until the process ends: one device of the hub pushes to it at a time."""
        if target.type != "caldav":
            return True
        return bool(self.hub.lease(self.codec.lease_number(f"{target.url}|{target.calendar}")))
