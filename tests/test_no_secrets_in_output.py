"""No secret and no personal data where they do not belong (issue 14, guarantee 8).

A passphrase store with a CalDAV target behind a password (real Radicale with auth) and
a feed secret, contacts with names and notes. Then what a user or an onlooker sees:
the daemon's log at debug level (`--verbose`) through a full sync, a fact recorded while
it runs and a wrong password it backs off from, `sync` and `status` (text and `--json`),
the errors of a wrong password and of a server that is down, and the command line of the
running daemon. None holds the passphrase, the password, the key-encryption or store
key, or the feed secret; the daemon's log, `status` and the errors hold no name or note
either (the reports of `sync` name the reminders they pushed: that is their job)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from caldav_fixtures import Calendar
from support import Runner, caldav_target, wait_for, write_config

T = ("--today", "2026-11-20")
PASSPHRASE = "correct horse battery staple 9f3e"
NAMES = ("Zebulon Quixotefeather", "Ysolde Wibbleton", "Xanthippe Marrowgrass")
NOTE = "met at the Fenwick gala, wants discretion"
LATE_NOTE = "owes me the Obermeyer introduction"


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
    personal["late note"] = LATE_NOTE

    outputs: dict[str, str] = {}
    bg = run.popen("daemon", "--verbose", "--poll", "0.1", passphrase=PASSPHRASE, env=env)
    try:
        wait_for(lambda: "cal: 2 created" in bg.stderr(), 20, "the first sync")
        wait_for(lambda: "push records only" in bg.stderr(), 5, "the poll past its push record")
        cmdline = Path(f"/proc/{bg.proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        outputs["process list"] = cmdline
        # a fact recorded while it runs: a poll line, then a sync with the new reminder
        run.ok("meet", NAMES[2], "--on", "2026-11-04", "--note", LATE_NOTE, *T, passphrase=PASSPHRASE)
        wait_for(lambda: "cal: 1 created" in bg.stderr(), 20, "the sync of the new fact")
    finally:
        assert bg.stop() == 0, bg.stderr()
    log = outputs["daemon log"] = bg.stderr() + bg.stdout()
    # the debug lines are there, with what they are for: positions, counts, requests, durations
    assert re.search(r"debug: target cal: caldav http://127\.0\.0\.1:\d+/", log), log
    assert re.search(r"debug: sync cal finished in [\d.]+ s: 2 created, 0 updated, 0 deleted, 0 unchanged "
                     r"\(\d+ requests?\)", log), log  # fmt: skip
    assert re.search(r"debug: poll: 1 new fact\(s\), position \d+ -> \d+: networking facts", log), log
    assert re.search(r"debug: sync cal finished in [\d.]+ s: 1 created, 0 updated, 0 deleted, 2 unchanged",
                     log), log  # fmt: skip

    # a wrong password: the daemon's failure line, its backoff line
    bad = run.popen("daemon", "-v", "--poll", "0.1", passphrase=PASSPHRASE,
                    env={"SYNCNET_CAL_PASSWORD": password + "-wrong"})  # fmt: skip
    try:
        wait_for(lambda: "debug: backoff cal: next try in" in bad.stderr(), 20, "the backoff")
    finally:
        assert bad.stop() == 0, bad.stderr()
    outputs["daemon log, wrong password"] = bad.stderr() + bad.stdout()
    assert "cal: failed" in outputs["daemon log, wrong password"]
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
