"""`syncnet import carddav URL` against a real Radicale started by the tests (issue 15):
an address book created with an extended MKCOL, its cards PUT with httpx, the import run
through the CLI and read back with `syncnet show --json` / `contacts --json`. Every request
syncnet makes is counted by a transport wrapped around httpx's own (CountingTransport), so
"the second run makes one request" is what went over the wire."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from caldav_fixtures import NoSyncProxy
from support import Runner, free_port, store_state

from bench.peers import Server, radicale
from syncnet.app.network import Network

MKCOL_ADDRESSBOOK = """<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
    <D:displayname>{name}</D:displayname>
  </D:prop></D:set>
</D:mkcol>
"""


@dataclass
class Book:
    url: str  # ends with "/"
    auth: tuple[str, str]

    def put(self, uid: str, name: str, *lines: str) -> None:
        card = "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}", *lines,
                           "END:VCARD", ""])  # fmt: skip
        r = httpx.put(f"{self.url}{uid}.vcf", content=card.encode(), auth=self.auth, timeout=10,
                      headers={"Content-Type": "text/vcard; charset=utf-8"})  # fmt: skip
        assert r.status_code in (201, 204), r.text

    def delete(self, uid: str) -> None:
        r = httpx.delete(f"{self.url}{uid}.vcf", auth=self.auth, timeout=10)
        assert r.status_code in (200, 204), r.text

    def path(self, uid: str) -> str:
        return httpx.URL(f"{self.url}{uid}.vcf").path


def make_book(server: Server, name: str | None = None) -> Book:
    assert server.auth is not None
    name = name or f"book-{uuid.uuid4().hex[:12]}"
    url = f"{server.home_url}{name}/"
    r = httpx.request("MKCOL", url, content=MKCOL_ADDRESSBOOK.format(name=name).encode(), auth=server.auth,
                      headers={"Content-Type": "application/xml; charset=utf-8"}, timeout=10)  # fmt: skip
    assert r.status_code == 201, r.text
    return Book(url, server.auth)


@pytest.fixture
def book(radicale_auth_server: Server) -> Book:
    b = make_book(radicale_auth_server)
    b.put("ada", "Ada Lovelace", "ORG:Analytical Engines", "TITLE:CTO", "EMAIL:ada@engines.example",
          "TEL:+44 20 7946 0000", "URL:https://www.linkedin.com/in/ada-lovelace/")  # fmt: skip
    b.put("grace", "Grace Hopper", "ORG:Navy", "EMAIL:grace@navy.example", "NOTE:COBOL\\, and more")
    b.put("jose", "José Müller", "N:Müller;José;;;", "EMAIL:jose@example.org")
    return b


class CountingTransport(httpx.BaseTransport):
    """httpx's own transport, every request noted as (method, path, what a REPORT asks
    for: "sync-collection" (everything), "sync-collection since a token" or "multiget <the
    hrefs asked for>"). `fail` makes the requests
    whose note starts with it answer 500, as a failing server would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[str, str, str]] = []
        self.fail: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read().decode()
        kind = "sync-collection" if "sync-collection" in body else ""
        if kind and "<d:sync-token></d:sync-token>" not in body:
            kind = "sync-collection since a token"
        if "addressbook-multiget" in body:
            kind = "multiget " + " ".join(sorted(re.findall(r"<d:href>(.*?)</d:href>", body)))
        self.seen.append((request.method, request.url.path, kind))
        if self.fail is not None and f"{request.method} {kind}".startswith(self.fail):
            return httpx.Response(500, text="Internal Server Error")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def reset(self) -> list[tuple[str, str, str]]:
        seen, self.seen = self.seen, []
        return seen


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingTransport]:
    from syncnet_adapters.carddav import CardDAVClient

    counting = CountingTransport()
    original = CardDAVClient.__init__

    def init(self: CardDAVClient, *args: Any, **kw: Any) -> None:
        original(self, *args, **kw, transport=counting)

    monkeypatch.setattr(CardDAVClient, "__init__", init)
    yield counting
    counting.close()


@pytest.fixture
def cli(run: Runner) -> Runner:
    run.ok("init")
    return run


PASSWORD = {"SYNCNET_CARDDAV_PASSWORD": "s3cret"}


def import_json(run: Runner, url: str, *extra: str, env: dict[str, str] | None = None) -> Any:
    return run.json("import", "carddav", url, "--user", "alice", *extra, env=env or PASSWORD)


def shown(run: Runner, name: str) -> Any:
    return run.json("show", name)


def details(run: Runner, name: str) -> dict[str, Any]:
    doc = shown(run, name)
    return {k: doc["details"].get(k) for k in ("org", "role", "emails", "phones", "urls")}


def names(run: Runner) -> list[str]:
    return sorted(c["name"] for c in run.json("contacts")["contacts"])



def state_row(home: Path) -> int:
    """How many address books the state store remembers (scope "carddav")."""
    conn = sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True)
    try:
        (n,) = conn.execute("SELECT COUNT(*) FROM syncnet_state WHERE scope = 'carddav'").fetchone()
    finally:
        conn.close()
    return int(n)


# ---------------------------------------------------------------- imported twice, then changed
def test_an_address_book_imported_twice_then_a_card_changed(cli: Runner, book: Book,
                                                             wire: CountingTransport) -> None:  # fmt: skip
    first = import_json(cli, book.url)
    assert (first["added"], first["updated"], first["fetched"], first["removed"]) == (3, 0, 3, 0)
    assert sorted(c["href"] for c in first["cards"]) == sorted(book.path(u) for u in ("ada", "grace", "jose"))
    collection = httpx.URL(book.url).path
    every = " ".join(sorted(book.path(u) for u in ("ada", "grace", "jose")))
    assert wire.reset() == [("PROPFIND", collection, ""), ("REPORT", collection, "sync-collection"),
                            ("REPORT", collection, f"multiget {every}")]  # fmt: skip
    assert names(cli) == ["Ada Lovelace", "Grace Hopper", "José Müller"]
    assert details(cli, "Ada Lovelace") == {
        "org": "Analytical Engines", "role": "CTO", "emails": ["ada@engines.example"],
        "phones": ["+44 20 7946 0000"], "urls": ["https://www.linkedin.com/in/ada-lovelace/"]}  # fmt: skip
    assert shown(cli, "Grace")["pocket"] != "keep"  # unsorted: no reminders until kept

    # The second run: one request, nothing read, nothing recorded.
    facts = store_state(cli.home)
    again = import_json(cli, book.url)
    assert (again["added"], again["updated"], again["unchanged"], again["fetched"]) == (0, 0, 0, 0)
    assert wire.reset() == [("REPORT", collection, "sync-collection since a token")]
    assert store_state(cli.home) == facts

    # A new e-mail on the server: that card alone is read, and its contact alone updated.
    book.put("ada", "Ada Lovelace", "ORG:Analytical Engines", "TITLE:CTO", "EMAIL:ada@engines.example",
             "EMAIL:ada@lovelace.example")  # fmt: skip
    changed = import_json(cli, book.url)
    assert (changed["added"], changed["updated"], changed["fetched"]) == (0, 1, 1)
    assert [(c["name"], c["action"], c["href"]) for c in changed["cards"]] == [
        ("Ada Lovelace", "updated", book.path("ada"))]
    assert wire.reset() == [("REPORT", collection, "sync-collection since a token"),
                            ("REPORT", collection, f"multiget {book.path('ada')}")]  # fmt: skip
    assert details(cli, "Ada Lovelace")["emails"] == ["ada@engines.example", "ada@lovelace.example"]
    assert details(cli, "Grace Hopper")["emails"] == ["grace@navy.example"]
    assert import_json(cli, book.url)["fetched"] == 0


def test_a_card_deleted_on_the_server_leaves_its_contact(cli: Runner, book: Book) -> None:
    cli.ok("import", "carddav", book.url, "--user", "alice", env=PASSWORD)
    book.delete("grace")
    out = cli.ok("import", "carddav", book.url, "--user", "alice", env=PASSWORD).stdout
    assert out.splitlines() == [
        "Read 0 new or changed card(s) of the address book.",
        "Added 0, updated 0, unchanged 0, skipped 0.",
        "1 card(s) removed from the address book; their contacts stay.",
    ]
    assert names(cli) == ["Ada Lovelace", "Grace Hopper", "José Müller"]
    assert details(cli, "Grace Hopper")["emails"] == ["grace@navy.example"]
    assert import_json(cli, book.url)["removed"] == 0  # said once


def test_a_refused_sync_token_lists_the_whole_address_book(cli: Runner, book: Book,
                                                          wire: CountingTransport) -> None:  # fmt: skip
    import_json(cli, book.url)
    with Network.open(cli.home) as net:  # a token Radicale does not know (its history was cleaned)
        kept = net.state.get("carddav", book.url)
        net.state.put("carddav", book.url, {**kept, "token": "http://radicale.org/ns/sync/" + "0" * 64})
    book.put("jose", "José Müller", "EMAIL:jose@example.org", "EMAIL:jose@work.example")
    wire.reset()
    doc = import_json(cli, book.url)
    collection = httpx.URL(book.url).path
    # Refused (403 valid-sync-token), listed whole; only the changed card is read: the ETags say so.
    assert wire.reset() == [("REPORT", collection, "sync-collection since a token"),
                            ("REPORT", collection, "sync-collection"),
                            ("REPORT", collection, f"multiget {book.path('jose')}")]  # fmt: skip
    assert (doc["full_listing"], doc["fetched"], doc["updated"], doc["removed"]) == (True, 1, 1, 0)
    assert details(cli, "José Müller")["emails"] == ["jose@example.org", "jose@work.example"]
    with Network.open(cli.home) as net:
        net.state.put("carddav", book.url, {**net.state.get("carddav", book.url), "token": "bogus"})
    text = cli.ok("import", "carddav", book.url, "--user", "alice", env=PASSWORD).stdout
    assert "Note: the server refused the last run's sync token: the whole address book was listed." in text
    wire.reset()
    text = cli.ok("import", "carddav", book.url, "--user", "alice", env=PASSWORD).stdout
    assert "sync token" not in text  # the new token holds
    assert wire.reset() == [("REPORT", collection, "sync-collection since a token")]


def test_a_server_without_sync_collection_is_listed_with_etags(cli: Runner, radicale_auth_server: Server,
                                                               book: Book) -> None:  # fmt: skip
    with NoSyncProxy(radicale_auth_server) as proxy:
        url = proxy.url_for(book.url)
        assert import_json(cli, url)["added"] == 3
        proxy.reset()
        assert import_json(cli, url)["fetched"] == 0
        assert proxy.requests == [("REPORT", httpx.URL(url).path)] * 1 + [("PROPFIND", httpx.URL(url).path)]
        assert len(proxy.refused) == 1


# ---------------------------------------------------------------- failures: one line, nothing written
def test_a_wrong_password_is_one_line_and_writes_nothing(cli: Runner, book: Book) -> None:
    before = store_state(cli.home)
    proc = cli("import", "carddav", book.url, "--user", "alice", env={"SYNCNET_CARDDAV_PASSWORD": "wrong-pw"})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"syncnet: error: PROPFIND {httpx.URL(book.url).path}: HTTP 401: check --user and the password "
        "(SYNCNET_CARDDAV_PASSWORD or --password-cmd)"]
    assert "wrong-pw" not in proc.stderr
    assert store_state(cli.home) == before and state_row(cli.home) == 0


@pytest.mark.parametrize("fail", ["REPORT sync-collection", "REPORT multiget"])
def test_a_server_error_is_one_line_and_writes_nothing(cli: Runner, book: Book, wire: CountingTransport,
                                                       fail: str) -> None:  # fmt: skip
    wire.fail = fail
    before = store_state(cli.home)
    proc = cli("import", "carddav", book.url, "--user", "alice", env=PASSWORD)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"syncnet: error: REPORT {httpx.URL(book.url).path}: HTTP 500"]
    assert store_state(cli.home) == before and state_row(cli.home) == 0
    wire.fail = None
    assert import_json(cli, book.url)["added"] == 3  # all of it, next time


def test_a_server_that_is_down_is_one_line(cli: Runner) -> None:
    url = f"http://127.0.0.1:{free_port()}/alice/contacts/"
    proc = cli("import", "carddav", url, "--user", "alice", env=PASSWORD)
    assert proc.returncode == 1 and proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"syncnet: error: PROPFIND {url}: ConnectError"), line
    assert state_row(cli.home) == 0


# ---------------------------------------------------------------- credentials, dry run, discovery
def test_credentials_never_in_the_url_and_a_password_from_a_command(cli: Runner, book: Book) -> None:
    with_password = book.url.replace("http://", "http://alice:s3cret@")
    line = cli.fails("import", "carddav", with_password)
    assert "s3cret" not in line and "user:password@" in line and "--password-cmd" in line
    line = cli.fails("import", "carddav", book.url, "--user", "alice")
    assert line == ("syncnet: error: no password for user 'alice': set SYNCNET_CARDDAV_PASSWORD or give "
                    "--password-cmd")  # fmt: skip
    doc = cli.json("import", "carddav", book.url, "--user", "alice", "--password-cmd", "echo s3cret")
    assert doc["added"] == 3


def test_a_dry_run_records_nothing_and_keeps_no_token(cli: Runner, book: Book) -> None:
    before = store_state(cli.home)
    out = cli.ok("import", "carddav", book.url, "--user", "alice", "--dry-run", env=PASSWORD).stdout
    assert "Would add 3" in out and "Nothing was recorded (--dry-run)." in out
    assert store_state(cli.home) == before and state_row(cli.home) == 0
    assert import_json(cli, book.url)["fetched"] == 3


def test_the_address_book_is_found_from_the_servers_root(cli: Runner, tmp_path: Path) -> None:
    (tmp_path / "own").mkdir()
    with radicale(tmp_path / "own", auth=True) as server:
        root = server.base_url + "/"
        line = cli("import", "carddav", root, "--user", "alice", env=PASSWORD).stderr
        assert line == f"syncnet: error: {root} is not an address book, and there is none under /alice/\n"
        only = make_book(server, "contacts")
        only.put("ada", "Ada Lovelace", "EMAIL:ada@engines.example")
        doc = import_json(cli, root)  # /.well-known/carddav, the principal, its addressbook-home-set
        assert (doc["added"], doc["collection"]) == (1, only.url)
        make_book(server, "work")
        line = cli("import", "carddav", server.home_url, "--user", "alice", env=PASSWORD).stderr
        assert line == ("syncnet: error: 2 address books under /alice/ (/alice/contacts/, /alice/work/): "
                        "give the URL of one\n")  # fmt: skip


def test_a_card_without_a_name_is_skipped_and_named_by_its_href(cli: Runner, book: Book) -> None:
    book.put("nameless", "", "EMAIL:someone@example.org")
    out = cli.ok("import", "carddav", book.url, "--user", "alice", env=PASSWORD).stdout
    assert out.splitlines() == [
        "Read 4 new or changed card(s) of the address book.",
        "Added 3, updated 0, unchanged 0, skipped 1.",
        "The new contacts are unsorted (no reminders): 'syncnet sort' to keep or let them go.",
        f"  card {book.path('nameless')}: skipped, no name (FN and N missing or empty)",
    ]
    doc = import_json(cli, book.url)
    assert (doc["fetched"], doc["skipped"]) == (0, [])  # seen: not read again until it changes
