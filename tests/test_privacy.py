"""No personal data at rest in plain text: grep the raw bytes of every file."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import pytest
from support import T

from syncnet.app.network import Network
from syncnet.domain import commands as c
from syncnet.storage import keys
from syncnet.storage.store import init_store

# Distinctive strings: none of them can occur by chance in a database file.
NAME = "Zebulon Quixotefeather"
OTHER = "Ysolde Ñandúvarga-Wibbleton"  # non-ASCII: checked as UTF-8 bytes
SECRETS = [
    NAME,
    "Quixotefeather",
    OTHER,
    "Wibbleton",
    "xylophone-secret-4711",  # a note on the meeting
    "Marzipan Observatory",  # where we met
    "quagga-touch-note",  # a note on a touch
    "Send the zeppelin schematics",  # a promise
    "borrow the narwhal ledger",  # a request I made
    "review my capybara thesis",  # a request made to me
    "Become Grand Vizier of Kumquats",  # a goal
    "goal-note-flibbertigibbet",
    "pitch-note-snollygoster",
    "help-note-bumbershoot",
    "kept-note-lollygag",
]


def base64_forms(secret: bytes) -> list[bytes]:
    """What `secret` looks like inside any base64 text, at each of the 3 alignments."""
    forms = []
    for k in range(3):
        encoded = base64.b64encode(bytes(k) + secret)
        forms.append(encoded[4 if k else 0 : -4])  # drop the groups shared with neighbours
    return forms


def leaks(directory: Path) -> list[tuple[str, str]]:
    """(file, secret) for every secret found in any file under `directory`: as UTF-8,
    in any letter case, or base64-encoded."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        lowered = raw.lower()
        for secret in SECRETS:
            plain = secret.encode("utf-8")
            if (
                plain in raw
                or secret.lower().encode("utf-8") in lowered
                or any(form in raw for form in base64_forms(plain))
            ):
                found.append((str(path.relative_to(directory)), secret))
    return found


def test_the_detector_finds_plain_lowercase_and_base64_leaks(tmp_path):
    (tmp_path / "a").write_bytes(b"..." + NAME.lower().encode() + b"...")
    (tmp_path / "b").write_bytes(b'{"x": "' + base64.b64encode(b"ab" + OTHER.encode()) + b'"}')
    (tmp_path / "c").write_bytes(b"nothing personal here")
    assert leaks(tmp_path) == [("a", NAME), ("a", "Quixotefeather"), ("b", OTHER), ("b", "Wibbleton")]


@pytest.mark.parametrize("passphrase", [None, "privacy passphrase"])
def test_no_personal_data_in_any_file_of_the_data_directory(run, home, passphrase, monkeypatch):
    def ok(*args: str) -> str:
        return run.ok(*args, passphrase=passphrase).stdout

    # A lighter scrypt for the store made here (the CLI runs in this process): the store
    # records its parameters and every command derives the key with them. What is on
    # disk does not depend on the work factor; test_cli.py checks the default one.
    monkeypatch.setattr(keys, "SCRYPT_PARAMS", {**keys.SCRYPT_PARAMS, "n": 2**10})
    ok("init")
    if passphrase:
        assert json.loads((home / "store.json").read_text())["kdf"]["n"] == 2**10
    ok("goal", "add", "Become Grand Vizier of Kumquats", "--note", "goal-note-flibbertigibbet", *T)
    ok("meet", NAME, "--where", "Marzipan Observatory", "--note", "xylophone-secret-4711",
       "--goal", "become grand vizier of kumquats", "--on", "2026-11-01", *T)  # fmt: skip
    ok("meet", OTHER, "--on", "2026-11-02", *T)
    ok("touch", "zebulon quixotefeather", "--note", "quagga-touch-note", "--on", "2026-11-03", *T)
    promise = run.json("promise", NAME, "Send the zeppelin schematics", "--due", "2026-11-30", *T,
                       passphrase=passphrase)["recorded"]["promise_short"]  # fmt: skip
    ok("ask", NAME, "borrow the narwhal ledger", *T)
    ok("asked", OTHER, "review my capybara thesis", *T)
    ok("give", OTHER, "--kind", "introduction", "--to", NAME, "--note", "help-note-bumbershoot", *T)
    ok("pitch", NAME, "--note", "pitch-note-snollygoster", *T)
    ok("kept", promise, "--note", "kept-note-lollygag", *T)
    ok("goal", "link", OTHER, "Become Grand Vizier of Kumquats", *T)
    assert leaks(home) == [], "after recording"

    # the reads build and update the views; they show the secrets, and store none
    shown = "".join([
        ok("history", NAME, "--json", *T), ok("history", OTHER, *T),
        ok("due", "--today", "2026-11-21", "--until", "2026-12-31"), ok("due", "--json", *T),
        ok("balance", *T), ok("balance", OTHER, "--json", *T), ok("split", *T),
        ok("warnings", "--json", *T), ok("contacts", *T), ok("goal", "list"),
        ok("contacts", "--goal", "Become Grand Vizier of Kumquats", "--json", *T),
    ])  # fmt: skip
    for secret in SECRETS:
        if secret != "goal-note-flibbertigibbet":  # no command shows a goal's note (yet)
            assert secret in shown, f"{secret!r} was recorded but no read shows it"
    files = {p.name for p in home.iterdir()}
    assert {"store.db", "store.json"} <= files and ("key" in files) == (passphrase is None)
    assert leaks(home) == [], "after reading"
    assert leaks(run.base / "tmp") == [], "in TMPDIR"

    # an error about a contact writes nothing either
    run.fails("touch", NAME + "x", *T, passphrase=passphrase)
    assert leaks(home) == [], "after an error"


def test_no_personal_data_in_the_wal_while_the_store_is_open(tmp_path, monkeypatch):
    """With a connection open, SQLite keeps recent pages in store.db-wal: scan them too."""
    monkeypatch.delenv("SYNCNET_PASSPHRASE", raising=False)
    home = tmp_path / "home"
    init_store(home)
    with Network.open(home, today=date(2026, 11, 20)) as net:
        net.record_many([
            c.GoalAdd("Become Grand Vizier of Kumquats", note="goal-note-flibbertigibbet"),
            c.Meet(NAME, where="Marzipan Observatory", note="xylophone-secret-4711"),
            c.Meet(OTHER),
            c.Promise(NAME, "Send the zeppelin schematics", date(2026, 12, 1)),
            c.Ask(NAME, "borrow the narwhal ledger"),
            c.Asked(OTHER, "review my capybara thesis"),
            c.Link(OTHER, "become grand vizier of kumquats"),
        ])  # fmt: skip
        followups = {i.contact.name for i in net.agenda() if i.reminder.rule == "followup"}
        assert followups == {NAME, OTHER}
        assert [name for _, name in net.goals()] == ["Become Grand Vizier of Kumquats"]
        files = {p.name for p in home.iterdir()}
        assert "store.db-wal" in files  # the scan below covers the write-ahead log
        assert leaks(home) == []
    assert leaks(home) == []
