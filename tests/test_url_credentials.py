"""Credentials in a URL (issue 14, B): a config whose target URL holds a user or a
password (http://me:pw@host/) is refused by every command, in one line that names the
setting and says where the user and the password go; the password is never printed.

Through the CLI as a user runs it: in this process (`run`), the daemon in a process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Runner, T, caldav_target, wait_for, write_config

PASSWORD = "s3cr3t-Pa55"
USER = "alice-dav"
URLS = [
    f"http://{USER}:{PASSWORD}@127.0.0.1:9/dav/",  # user and password
    f"https://{USER}:{PASSWORD}@dav.example.org/",
    f"http://{USER}@127.0.0.1:9/dav/",  # a user alone
    f"http://{USER}:{PASSWORD.replace('5', '%35')}@127.0.0.1:9/",  # percent-encoded
    f"http://{USER}:{PASSWORD}@@127.0.0.1:9/",  # two @: where would a client split it?
    f"http://{USER}:{PASSWORD} x@127.0.0.1:9/",  # white space in the password
]
COMMANDS = [
    ("sync", *T), ("sync", "--json", *T), ("sync", "--dry-run", *T), ("status", *T), ("status", "--json", *T),
    ("due", *T), ("contacts", "--json", *T),
]  # fmt: skip
LINE = ("syncnet: error: config: targets.phone.url holds a user name or password (user:password@): "
        "remove it and set targets.phone.user, and targets.phone.password_cmd or the "
        "SYNCNET_PHONE_PASSWORD variable")  # fmt: skip


@pytest.fixture
def store(run: Runner, home: Path) -> Path:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", *T)
    return home


@pytest.mark.parametrize("url", URLS, ids=["user-password", "https", "user", "encoded", "two-at", "space"])
def test_a_url_with_a_user_or_password_is_refused_by_every_command(
    run: Runner, store: Path, url: str
) -> None:
    write_config(store, phone=caldav_target(url))
    for args in COMMANDS:
        proc = run(*args)
        assert PASSWORD not in proc.stdout + proc.stderr and USER not in proc.stdout + proc.stderr, args
        assert run.fails(*args) == LINE, args  # exit 2, nothing on stdout, this one line

    daemon = run.popen("daemon", "--poll", "0.1")
    wait_for(lambda: daemon.proc.poll() is not None, 30, "the daemon to refuse the config")
    assert (daemon.proc.returncode, daemon.stdout(), daemon.stderr()) == (2, "", LINE + "\n")


def test_the_same_target_with_user_and_password_cmd_is_accepted(run: Runner, store: Path) -> None:
    """The way the line points to: the URL without userinfo, the user apart, the password
    from a command; and an @ in the path is no userinfo."""
    write_config(store, phone=caldav_target("http://127.0.0.1:9/dav/me@example.org/", user=USER,
                                            password_cmd=f"echo {PASSWORD}"))  # fmt: skip
    (row,) = run.json("status", *T)["targets"]
    assert row["target"] == "phone" and row["where"] == "http://127.0.0.1:9/dav/me@example.org/"


def test_a_url_of_the_wrong_type_is_refused_without_its_password(run: Runner, store: Path) -> None:
    write_config(store, phone=caldav_target([f"http://{USER}:{PASSWORD}@127.0.0.1:9/"]))
    line = run.fails("status", *T)
    assert line.startswith(
        "syncnet: error: config: targets.phone.url must be str, got ['http://127.0.0.1:9/']"
    )
    assert PASSWORD not in line


def test_a_token_in_a_url_query_is_never_shown(run: Runner, store: Path) -> None:
    url = "http://127.0.0.1:9/dav/?token=tok-SECRET-42"
    write_config(store, phone=caldav_target(url, user=USER, timeout=1))
    shown = [run("status", *T), run("status", "--json", *T), run("sync", *T), run("sync", "--json", *T)]
    for done in shown:
        assert "tok-SECRET-42" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert "?…" in shown[0].stdout
