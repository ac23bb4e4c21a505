"""A CardDAV address book (RFC 6352) read over syncnet's DAV client (caldav.DAVClient):
the same transport, timeouts, error classes and messages without credentials.

- Discovery: the URL itself when it is an address book; else the address books under the
  user's addressbook-home-set (found through current-user-principal, from
  /.well-known/carddav on a server's root): the one there is, or an error naming them.
- Changes: sync-collection (RFC 6578) from the token of the last run; a token the server
  refuses (403/409/412, e.g. DAV:valid-sync-token) lists the whole address book with a new
  one, and a server without sync-collection is listed with a PROPFIND of its ETags.
- Cards: addressbook-multiget, MULTIGET_BATCH hrefs a REPORT; a GET each on a server without
  it, and for any card the answer leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urljoin

from syncnet.app.address_book import Listing

from .caldav import (
    CARDDAV,
    CS,
    MULTIGET_BATCH,
    CalDAVError,
    DAVClient,
    NotSupported,
    TokenInvalid,
    _path,
    _q,
    _redact,
)


class CardDAVError(CalDAVError):
    """The address book cannot be found or read (not a login or network problem)."""


class CardDAVClient(DAVClient):
    auth_hint = "check --user and the password (SYNCNET_CARDDAV_PASSWORD or --password-cmd)"
    timeout_hint = "the server did not answer in time: try again later"
    xmlns = f'xmlns:d="DAV:" xmlns:card="{CARDDAV}" xmlns:cs="{CS}"'

    _no_multiget = False

    # discovery --------------------------------------------------------------------
    def is_address_book(self, url: str) -> bool:
        return self.is_collection(url, "card:addressbook")

    def address_books(self, home: str) -> list[str]:
        """The address books directly under `home`, as URLs."""
        tree = self.propfind(home, ["d:resourcetype"], "1")
        found = []
        for resp in tree.findall(_q("d:response")):
            if resp.find(f".//{_q('d:resourcetype')}/{_q('card:addressbook')}") is not None:
                found.append(urljoin(self.url, quote(_path(resp.findtext(_q("d:href")) or ""))))
        return sorted(set(found))

    def open(self, collection: str | None) -> str:
        """`collection` when given (found by an earlier run), else the address book the
        URL names or the one under the user's home (see the module docstring)."""
        if collection is None:
            if self.is_address_book(self.url):
                collection = self.url
            else:
                home = self.home("carddav", "card:addressbook-home-set", "address book")
                books = self.address_books(home)
                if not books:
                    raise CardDAVError(f"{_redact(self.url)} is not an address book, and there is none "
                                       f"under {_path(home)}")  # fmt: skip
                if len(books) > 1:
                    names = ", ".join(_path(b) for b in books[:5]) + (", ..." if len(books) > 5 else "")
                    raise CardDAVError(f"{len(books)} address books under {_path(home)} ({names}): "
                                       "give the URL of one")  # fmt: skip
                collection = books[0]
        self.collection = collection
        return collection

    # changes ----------------------------------------------------------------------
    def changes(self, token: str | None) -> Listing:
        if token:
            try:
                c = self.sync_collection(token)
                return Listing(dict(c.changed), set(c.deleted), c.token, full=False)
            except TokenInvalid:
                note = "the server refused the last run's sync token: the whole address book was listed"
            except NotSupported:
                note = None  # no sync-collection (any more): listed whole, as every time
        else:
            note = None
        try:
            c = self.sync_collection(None)
            return Listing(dict(c.changed), set(), c.token, full=True, note=note)
        except NotSupported:
            return Listing(self.list_etags(), set(), None, full=True, note=note)

    # cards ------------------------------------------------------------------------
    def fetch(self, hrefs: Sequence[str]) -> dict[str, tuple[bytes, str | None] | None]:
        out: dict[str, tuple[bytes, str | None] | None] = {}
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            if self._no_multiget:
                break
            try:
                out.update(self.report_multiget("card:addressbook-multiget", "card:address-data",
                                                hrefs[start : start + MULTIGET_BATCH]))  # fmt: skip
            except NotSupported:
                self._no_multiget = True
        return out | {h: self._get(h) for h in hrefs if h not in out}

    def _get(self, href: str) -> tuple[bytes, str | None] | None:
        r = self.request("GET", quote(href), ok=(200, 404, 410))
        return (r.content, r.headers.get("ETag")) if r.status_code == 200 else None
