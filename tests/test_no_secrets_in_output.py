"""No secret and no personal data where they do not belong (issue 14, guarantee 8).

A passphrase store with a CalDAV target behind a password (real Radicale with auth) and
a feed secret, contacts with names and notes. Then what a user or an onlooker sees:
the daemon's log through a full sync, `sync` and `status` (text and `--json`), the
errors of a wrong password and of a server that is down, and the command line of the
running daemon. None holds the passphrase, the password, the key-encryption or store
key, or the feed secret; the daemon's log, `status` and the errors hold no name or note
either (the reports of `sync` name the reminders they pushed: that is their job)."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from caldav_fixtures import Calendar
from support import Runner, caldav_target, write_config

T = ("--today", "2026-11-20")
PASSPHRASE = "correct horse battery staple 9f3e"
NAMES = ("Zebulon Quixotefeather", "Ysolde Wibbleton")
NOTE = "met at the Fenwick gala, wants discretion"


def secrets_in(text: str, secrets: dict[str, str]) -> list[str]:
    return [what for what, value in secrets.items() if value and value in text]


def test_no_secret_in_logs_status_errors_or_the_process_list(
    run: Runner, tmp_path: Path, radicale_auth_calendar: Calendar
) -> None:
    cal = radicale_auth_calendar
    assert cal.auth is not None
    user, password = cal.auth
    write_config(run.home, cal=caldav_target(cal.url, user=user))
    env = {"SYNCNET_CAL_PASSWORD": password}
    run.ok("init", passphrase=PASSPHRASE)
    run.ok("meet", NAMES[0], "--on", "2026-11-02", "--note", NOTE, *T, passphrase=PASSPHRASE)
    run.ok("meet", NAMES[1], "--on", "2026-11-03", *T, passphrase=PASSPHRASE)
    url = run.ok("feed", "url", passphrase=PASSPHRASE).stdout.strip()
    feed_secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(feed_secret) > 20
    secrets = {"passphrase": PASSPHRASE, "password": password, "feed secret": feed_secret}
    personal = {f"name {i}": part for i, name in enumerate(NAMES) for part in name.split()}
    personal["note"] = NOTE

    outputs: dict[str, str] = {}
    bg = run.popen("daemon", "--poll", "0.1", passphrase=PASSPHRASE, env=env)
    try:
        deadline = time.monotonic() + 20
        while "cal: 2 created" not in bg.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "cal: 2 created" in bg.stderr(), bg.stderr()
        cmdline = Path(f"/proc/{bg.proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        outputs["process list"] = cmdline
    finally:
        bg.stop()
    outputs["daemon log"] = bg.stderr() + bg.stdout()
    for args in (("sync", *T), ("sync", "--json", *T), ("status", *T), ("status", "--json", *T)):
        done = run(*args, passphrase=PASSPHRASE, env=env)
        assert done.returncode == 0, done.stderr
        outputs[" ".join(args[:2])] = done.stdout + done.stderr

    wrong = run("sync", *T, passphrase=PASSPHRASE, env={"SYNCNET_CAL_PASSWORD": password + "-wrong"})
    assert wrong.returncode != 0
    outputs["wrong password"] = wrong.stdout + wrong.stderr
    write_config(run.home, cal=caldav_target("http://127.0.0.1:9/cal/", user=user, timeout=2))
    down = run("sync", *T, passphrase=PASSPHRASE, env=env)
    assert down.returncode != 0
    outputs["server down"] = down.stdout + down.stderr
    status = run("status", "--json", *T, passphrase=PASSPHRASE)
    outputs["status after errors"] = status.stdout + status.stderr

    # the key-encryption key is derived from the passphrase; the store key never leaves it
    from syncnet.storage import keys
    from syncnet.storage.store import open_store

    store = open_store(run.home, PASSPHRASE)
    secrets["store key"] = base64.b64encode(store.store_key).decode()
    secrets["store key (hex)"] = store.store_key.hex()
    store.close()
    assert keys.KEY_BYTES == 32

    for where, text in outputs.items():
        assert secrets_in(text, secrets) == [], (where, text)
        if not where.startswith("sync "):  # sync's own report names what it pushed
            assert secrets_in(text, personal) == [], (where, text)
