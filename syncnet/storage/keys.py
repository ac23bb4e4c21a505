"""The key hierarchy (docs/architecture.md, "Keys and sealing").

passphrase (scrypt) or key file -> key-encryption key (KEK)
KEK wraps: the store key (the library's CIPHER_KEY: every event, every view row)
           one data key per contact or goal (sealing its personal fields)

Wrapped keys are AES-GCM ciphertexts bound to their subject id, so a wrong KEK
fails the tag check on the store key: that is the check value that tells a wrong
key from an empty store. Rekeying re-wraps keys only; forgetting a contact
deletes its wrapped data key.
"""

from __future__ import annotations

import functools
import json
import os
import zlib
from binascii import a2b_base64
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from syncnet.domain.sealed import Sealed
from syncnet.errors import DamagedKey, ErasedKey, MissingKey, PrivateKey, WrongKey

KEY_BYTES = 32
NONCE_BYTES = 12
STORE_SUBJECT = "store"
# The store key of a store whose log is sealed (chain.py) is wrapped for this subject: a
# store cannot be passed off as one from before the seal without the key-encryption key.
SEALED_STORE = "store:sealed-log"
SCRYPT_PARAMS = {"n": 2**15, "r": 8, "p": 1}

# "unsealed": personal fields decrypted in this process (tests check that a command
# unseals what it shows, not every name).
STATS: Counter[str] = Counter()
UNREADABLE = "[unreadable: damaged key]"  # what a field sealed with a damaged data key reads as
FORGOTTEN = "[forgotten]"  # what a field of a forgotten contact reads as (its key destroyed)
PRIVATE_TEXT = "[private]"  # what a note kept to another device reads as (`--private`)
# The row of another device's private subject (pulled from a hub): no key, and never one.
PRIVATE_MARK = b"\x00private"
_PRIVATE = b"\x00"  # KeyRing's cached "key" of such a subject


def random_key() -> bytes:
    return os.urandom(KEY_BYTES)


def derive_kek(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def wrap(kek: bytes, subject: str, key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, key, b"syncnet-key:" + subject.encode())


def unwrap(kek: bytes, subject: str, wrapped: bytes) -> bytes:
    try:
        return _aead(kek).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"syncnet-key:" + subject.encode()
        )
    except (InvalidTag, ValueError, TypeError):
        raise WrongKey("wrong key or passphrase: it does not open this store") from None


@functools.lru_cache(maxsize=4096)
def _aead(key: bytes) -> AESGCM:
    """One cipher object per key: building one costs more than decrypting a view row."""
    return AESGCM(key)


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    return _aead(key).decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], aad)


def seal_json(key: bytes, obj: Any, aad: str, compress: bool = True) -> bytes:
    """A JSON document, compressed and encrypted (sync state); view rows, small and read
    by the thousand, are not compressed (zlib would cost more than it saves)."""
    plain = json.dumps(obj, separators=(",", ":")).encode()
    return encrypt(key, zlib.compress(plain) if compress else plain, aad.encode())


def open_json(key: bytes, blob: bytes, aad: str, compressed: bool = True) -> Any:
    plain = decrypt(key, blob, aad.encode())
    return json.loads((zlib.decompress(plain) if compressed else plain).decode())


class KeyRing:
    """Data keys by subject: unwrapped lazily, new ones queued to be written
    in the same transaction as the events that use them.

    A long-running process (the daemon, the feed server) meets subjects that other
    processes created after it read the keys: a key it has not seen makes it read
    the wrapped keys again. A key that is still missing is an error (MissingKey),
    never taken for an erased contact: erasure is a fact, not an absent key."""

    def __init__(self, kek: bytes, load_wrapped: Callable[[], dict[str, bytes]]) -> None:
        self._kek = kek
        self._load_wrapped = load_wrapped  # every wrapped key by subject
        self._wrapped: dict[str, bytes] | None = None
        self._keys: dict[UUID, bytes] = {}
        # the same keys, by subject hex (unseal_text); None: forgotten, b"": damaged
        self._by_hex: dict[str, bytes | None] = {}
        self.pending: list[tuple[str, str, bytes]] = []  # (subject, kind, wrapped)
        self.notices: list[str] = []  # damaged data keys met by reads, for the caller to say

    def new_key(self, subject: UUID, kind: str) -> None:
        key = random_key()
        self._keys[subject] = self._by_hex[subject.hex] = key
        self.pending.append((subject.hex, kind, wrap(self._kek, subject.hex, key)))

    def discard_pending(self) -> None:
        for subject_hex, _, _ in self.pending:
            self._keys.pop(UUID(subject_hex), None)
            self._by_hex.pop(subject_hex, None)
        self.pending = []

    def _key(self, subject: UUID) -> bytes:
        key = self._keys.get(subject)
        if key is None:
            key = self._keys[subject] = self._unwrap(subject.hex)
        return key

    def _unwrap(self, subject_hex: str) -> bytes:
        wrapped = None if self._wrapped is None else self._wrapped.get(subject_hex)
        if wrapped is None:  # first use, or a key written by another process since
            self._wrapped = self._load_wrapped()
            wrapped = self._wrapped.get(subject_hex)
        if wrapped == b"":  # the tombstone of a forgotten contact (library.SyncnetRecorder)
            raise ErasedKey(f"{subject_hex[:8]} was forgotten: what was sealed with its key is gone")
        if wrapped == PRIVATE_MARK:
            raise PrivateKey(f"{subject_hex[:8]} holds notes kept to another device")
        if wrapped is None:
            raise MissingKey(
                f"the data key of {subject_hex[:8]} is missing from the store, and no fact "
                "erased it: the store is damaged (restore it from a backup)"
            )
        try:
            return unwrap(self._kek, subject_hex, wrapped)
        except WrongKey:  # the store key opened with this KEK: this one key is damaged
            raise DamagedKey(f"the data key of {subject_hex[:8]} is damaged: what it seals cannot be read "
                             "(run 'syncnet verify'; restore the store from a backup)") from None  # fmt: skip

    def subjects(self) -> list[str]:
        """Every subject with a wrapped data key (contacts, goals, me)."""
        return list(self._load_wrapped())

    def damaged(self) -> list[str]:
        """The subjects whose wrapped key does not open with the key-encryption key."""
        out = []
        for subject, wrapped in self._load_wrapped().items():
            if wrapped in (b"", PRIVATE_MARK):
                continue  # erased on purpose, or another device's private notes
            try:
                unwrap(self._kek, subject, wrapped)
            except WrongKey:
                out.append(subject)
        return out

    def key_of(self, subject_hex: str) -> bytes | None:
        """The data key of a subject (a hub sends it on, wrapped with the team key); None
        when it was forgotten or is damaged."""
        key = self._readable_key(subject_hex)
        return key if key and key != _PRIVATE else None

    def wrapped_for(self, subject_hex: str, key: bytes) -> bytes:
        """A data key from elsewhere (a hub) wrapped for this store, to be stored as is."""
        return wrap(self._kek, subject_hex, key)

    def has_key(self, subject: UUID) -> bool:
        """Whether a data key exists for `subject` (e.g. the one for facts about me)."""
        try:
            self._key(subject)
        except MissingKey:
            return False
        return True

    def seal(self, subject: UUID, text: str) -> Sealed:
        return Sealed(subject, encrypt(self._key(subject), text.encode("utf-8"), subject.bytes))

    def unseal_text(self, text: str) -> str:
        """A field as the views hold it (`Sealed.to_text()`), opened without building a
        Sealed and a UUID per field: reads that list the network open thousands."""
        key_hex, blob = text.split(":", 1)
        if key_hex not in self._by_hex:
            self._by_hex[key_hex] = self._readable_key(key_hex)
        key = self._by_hex[key_hex]
        if not key or key == _PRIVATE:
            return FORGOTTEN if key is None else UNREADABLE if not key else PRIVATE_TEXT
        STATS["unsealed"] += 1
        sealed = a2b_base64(blob)
        aad = bytes.fromhex(key_hex)
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad).decode()

    def unseal(self, sealed: Sealed | None) -> str | None:
        """The plain text, or None when the field is empty."""
        if sealed is None:
            return None
        if sealed.key_id.hex not in self._by_hex:
            self._by_hex[sealed.key_id.hex] = self._readable_key(sealed.key_id.hex)
        key = self._by_hex[sealed.key_id.hex]
        if not key or key == _PRIVATE:
            return FORGOTTEN if key is None else UNREADABLE if not key else PRIVATE_TEXT
        STATS["unsealed"] += 1
        return decrypt(key, sealed.blob, sealed.key_id.bytes).decode("utf-8")

    def _readable_key(self, subject_hex: str) -> bytes | None:
        """The key; None for a forgotten subject; b"" when it is damaged (said once in
        `notices`): one damaged key leaves its fields unreadable, not every read."""
        try:
            return self._unwrap(subject_hex)
        except ErasedKey:
            return None
        except PrivateKey:
            return _PRIVATE
        except DamagedKey as e:
            self.notices.append(str(e))
            return b""
