"""Erasure that really erases (issue 14, guarantee 6): `syncnet forget` destroys a
contact's data key with the fact that records it. Tested as an attacker holding the
key-encryption key (the key file) and every file of the store would try: every byte
offset of every file is tried as a wrapped copy of the contact's data key. Before the
erasure the attack finds it (and reads the name with it); after, in no file. The rest of
the store loads and verifies, the other contacts' numbers do not change, history says
that and when, and the contact's reminders leave the calendar file at the next sync."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from support import Runner

from syncnet.storage import keys

T = ("--today", "2026-11-20")
SECRETS = ("Ada Lovelace", "the salon in Marylebone", "Analytical Engines Ltd", "the Bernoulli notes",
           "a loan of the lathe")  # fmt: skip


def build(run: Runner, ics: Path) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--why", "role-model", "--where", "the salon in Marylebone",
           "--org", "Analytical Engines Ltd", "--on", "2026-11-02", *T)  # fmt: skip
    run.ok("meet", "Grace Hopper", "--why", "complement", "--on", "2026-11-03", *T)
    run.ok("give", "Ada", "--kind", "advice", "--minutes", "30", "--on", "2026-11-04", *T)
    run.ok("promise", "Ada", "send the Bernoulli notes", "--due", "2026-12-01", "--on", "2026-11-05", *T)
    run.ok("ask", "Ada", "a loan of the lathe", "--on", "2026-11-06", *T)
    run.ok("give", "Grace", "--kind", "advice", "--minutes", "15", "--on", "2026-11-07", *T)
    run.ok("promise", "Grace", "review the compiler paper", "--due", "2026-12-10", "--on", "2026-11-08", *T)
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{ics}"\n')
    run.ok("sync", *T)
    for args in (("due", *T), ("contacts", *T), ("balance", *T), ("history", "Ada", *T)):
        run.ok(*args)


def kek(home: Path) -> bytes:
    return base64.b64decode((home / "key").read_text())


def files(run: Runner, ics: Path) -> dict[str, bytes]:
    """Every file syncnet manages, as bytes: the home (database, WAL, store.json) and the
    calendar file."""
    out = {p.name: p.read_bytes() for p in run.home.iterdir() if p.is_file() and p.name != "key"}
    out[ics.name] = ics.read_bytes()
    return out


def recover_data_key(key_encryption_key: bytes, subject: str, blobs: dict[str, bytes]) -> bytes | None:
    """The attack: every 60-byte window of every file tried as a wrapped data key
    (nonce, key, tag) of `subject`. Returns the key when one opens."""
    aead, aad, size = AESGCM(key_encryption_key), b"syncnet-key:" + subject.encode(), 12 + 32 + 16
    for data in blobs.values():
        for at in range(len(data) - size + 1):
            window = data[at : at + size]
            try:
                return aead.decrypt(window[:12], window[12:], aad)
            except InvalidTag:
                continue
    return None


def contact_id(run: Runner, name: str) -> str:
    return str(run.json("history", name, "--json", *T)["contact"]["id"])


def store_key(home: Path) -> bytes:
    conn = sqlite3.connect(home / "store.db")
    (wrapped,) = conn.execute("SELECT wrapped FROM syncnet_keys WHERE subject = 'store'").fetchone()
    conn.close()
    return keys.unwrap(kek(home), keys.SEALED_STORE, wrapped)


def name_index_has(home: Path, prefix: str) -> bool:
    """Whether the name index holds a keyed hash of `prefix` (what someone with the store
    key could test a guessed name against)."""
    name_key = hmac.new(store_key(home), b"syncnet-name-index", hashlib.sha256).digest()
    digest = hashlib.blake2b(prefix.encode(), key=name_key, digest_size=16).digest()
    conn = sqlite3.connect(home / "store.db")
    try:
        return (
            conn.execute("SELECT 1 FROM syncnet_name_index WHERE name = ?", (digest,)).fetchone() is not None
        )
    finally:
        conn.close()


def test_forget_destroys_every_copy_of_the_key_and_keeps_the_rest(run: Runner, tmp_path: Path) -> None:
    ics = tmp_path / "reminders.ics"
    build(run, ics)
    ada = contact_id(run, "Ada")
    grace_before = [
        r for r in run.json("balance", "--json", *T)["contacts"] if r["contact"]["name"] == "Grace Hopper"
    ]
    split_before = run.json("split", "--json", *T)

    # Before: the attack works, and the calendar file names her.
    found = recover_data_key(kek(run.home), ada, files(run, ics))
    assert found is not None
    assert "Ada Lovelace" in ics.read_text()
    assert name_index_has(run.home, "ada lovelace")

    # Another process holds the store open (a daemon, the feed server): the database's
    # write-ahead log is not folded back when the forgetting process exits.
    holder = sqlite3.connect(run.home / "store.db")
    holder.execute("SELECT COUNT(*) FROM syncnet_keys").fetchone()
    try:
        done = run.ok("forget", "Ada", "--yes")
        assert "[forgotten]" in done.stdout
        # no copy in the database file nor its write-ahead log, while the holder is there
        assert recover_data_key(kek(run.home), ada, files(run, ics)) is None
    finally:
        holder.close()
    run.ok("sync", *T)

    # After: no file holds a copy of the key, nor the name in the calendar or its hashes.
    blobs = files(run, ics)
    assert recover_data_key(kek(run.home), ada, blobs) is None
    for secret in SECRETS:
        assert [name for name, data in blobs.items() if secret.encode() in data] == [], secret
    assert not name_index_has(run.home, "ada lovelace") and not name_index_has(run.home, "ada")

    # The rest of the store loads and verifies; the others' numbers are unchanged.
    assert run.ok("verify").returncode == 0
    balances = run.json("balance", "--json", *T)["contacts"]
    assert [r for r in balances if r["contact"]["name"] == "Grace Hopper"] == grace_before
    assert all(r["contact"]["id"] != ada for r in balances)
    assert run.json("split", "--json", *T) == split_before
    assert [c["name"] for c in run.json("contacts", "--json", *T)["contacts"]] == ["Grace Hopper"]
    agenda = json.dumps(run.json("due", "--json", *T))
    assert ada not in agenda

    # History says that and when, by the id (the name is gone with the key).
    events = run.json("history", ada[:8], "--json")["events"]
    (erasure,) = [e for e in events if e["kind"] == "forgotten"]
    assert erasure["on"] == date.today().isoformat()  # recorded today, whatever day was read
    assert all(secret not in json.dumps(events) for secret in SECRETS)
    assert "unknown contact" in run.fails("history", "Ada", *T)
    # Nothing more is recorded about her.
    refused = run.fails("touch", ada[:8], *T)
    assert "was forgotten on" in refused and len(refused.strip().splitlines()) == 1


def test_forget_asks_first_and_refuses_without_a_terminal(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-02", *T)
    assert "pass --yes" in run.fails("forget", "Ada")
    assert [c["name"] for c in run.json("contacts", "--json", *T)["contacts"]] == ["Ada Lovelace"]
