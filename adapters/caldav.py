"""A small CalDAV client over httpx: discovery, MKCALENDAR, conditional PUT and
DELETE, sync-collection (RFC 6578) and a ctag/ETag listing for servers without it,
calendar-multiget (RFC 4791) to read back many items in one request.

One client per target, with keep-alive and timeouts. Errors are mapped to the
classes below so the sync engine can tell "retry later" from "conflict". What is not
calendar-specific (the transport, PROPFIND, discovery of a home, sync-collection, the
ETag listing, a multiget) is in DAVClient, which the CardDAV client (carddav.py) shares.
"""

from __future__ import annotations

import email.utils
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.sax.saxutils import escape

import httpx

from syncnet.app.sync import RemoteChanges, Seen
from syncnet.domain.config import without_userinfo
from syncnet.errors import Conflict, TargetDown, TargetError

if TYPE_CHECKING:
    from syncnet.domain.reminders import StampedItem

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
NS = {"d": DAV, "c": CALDAV, "cs": CS, "card": CARDDAV}
XML = {"Content-Type": 'application/xml; charset="utf-8"'}
MULTIGET_BATCH = 200  # items per calendar-multiget: bounded answers on a large calendar
CTAG_MARK = "\nctag:"  # in a sync cursor: the ctag read before its token's listing
# Never the error's own message: httpx and h11 quote the offending header, the credentials.
UNSENDABLE = (
    "the request cannot be sent: a header (the user, password or token?) holds characters HTTP does not allow"
)


def _sync_cursor(token: str | None, ctag: str | None) -> str:
    return f"sync:{token or ''}" + ("" if ctag is None else CTAG_MARK + ctag)


class CalDAVError(TargetError):
    """A CalDAV target could not be synced."""


class Unavailable(CalDAVError, TargetDown):
    """Network error, timeout, 5xx or 429: try again later."""


class AuthFailed(CalDAVError):
    """401 or 403: the credentials are wrong or lack rights."""


class PreconditionFailed(CalDAVError, Conflict):
    """412: the item changed on the server since we last saw it."""


class NotSupported(CalDAVError):
    """The server does not support a request (e.g. sync-collection)."""


class TokenInvalid(CalDAVError):
    """The sync token is no longer valid: list everything instead."""


class BadAnswer(Unavailable):
    """An answer that is not the multistatus XML asked for (a proxy's error page,
    a truncated body): nothing can be concluded from it, so try again later."""


@dataclass
class Changes:
    """What changed on the server: href -> etag for present items, and deleted hrefs."""

    changed: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    token: str | None = None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _path(href: str) -> str:
    """Hrefs are compared as unquoted paths: servers differ in what they quote."""
    return unquote(urlsplit(href).path)


_redact = without_userinfo  # a message names URLs without a user:password@ written into them


def _reason(e: BaseException, limit: int = 200) -> str:
    """An exception as one short line without user:password@: messages of the TLS and
    socket layers may span lines or quote a URL as configured."""
    text = " ".join(_redact(str(e)).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _seen(body: bytes, etag: str | None) -> Seen:
    from .ics import completion, fingerprint

    return Seen(etag, fingerprint(body), completion(body))


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _multistatus(r: httpx.Response) -> ET.Element:
    """The body of a 207 answer, which must be a DAV:multistatus document. Anything
    else (malformed or truncated XML, an HTML page) is a BadAnswer: read as an empty
    listing, it would pass every item for deleted by the user."""
    where = f"{r.request.method} {urlsplit(str(r.url)).path}: HTTP {r.status_code}"
    try:
        tree = ET.fromstring(r.content)
    except (ET.ParseError, ValueError, LookupError) as e:  # LookupError: an unknown encoding
        raise BadAnswer(f"{where} with malformed XML ({' '.join(str(e).split())})") from None
    if tree.tag != _q("d:multistatus"):
        raise BadAnswer(f"{where} with {tree.tag[:80]!r} instead of a DAV multistatus")
    return tree


class DAVClient:
    """The WebDAV requests CalDAV and CardDAV share. The hints complete the messages
    of a failed login and a timeout with what the user can change."""

    auth_hint = "check the user and password of this target"
    timeout_hint = "the target's `timeout` setting"
    xmlns = f'xmlns:d="DAV:" xmlns:c="{CALDAV}" xmlns:cs="{CS}"'  # of a PROPFIND's body

    def __init__(
        self,
        url: str,
        auth: httpx.Auth | None = None,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.collection: str | None = None
        self.requests = 0
        self.timeout = timeout
        try:
            self.http = httpx.Client(
                auth=auth,
                timeout=httpx.Timeout(timeout),
                headers={"User-Agent": "syncnet", **(headers or {})},
                follow_redirects=True,
                # Loading the CA bundle costs ~40 ms per client; a plain-http target never
                # uses it (and anything sent there is in the clear anyway).
                verify=not self.url.startswith("http://"),
                transport=transport,  # tests: httpx.MockTransport
            )
        except UnicodeError:
            raise CalDAVError(f"{_redact(self.url)}: {UNSENDABLE}") from None
        except (OSError, ValueError) as e:  # ssl.SSLError is an OSError: e.g. an unreadable CA bundle
            raise CalDAVError(f"{_redact(self.url)}: cannot set up TLS: {_reason(e)}") from None

    def close(self) -> None:
        self.http.close()

    # transport ----------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        self.requests += 1
        try:
            r = self.http.request(method, urljoin(self.url, url), content=body, headers=headers)
        except httpx.TimeoutException:
            # A large calendar on a slow server can take longer to list: say which knob helps.
            raise Unavailable(
                f"{method} {_redact(urljoin(self.url, url))}: timed out after {self.timeout:g} s "
                f"({self.timeout_hint})"
            ) from None
        except (httpx.LocalProtocolError, UnicodeError):
            raise CalDAVError(f"{method} {_redact(urljoin(self.url, url))}: {UNSENDABLE}") from None
        except httpx.HTTPError as e:
            # Without user:secret@: a URL as configured may carry a password.
            raise Unavailable(f"{method} {_redact(urljoin(self.url, url))}: {_reason(e)}") from None
        except httpx.InvalidURL as e:
            raise CalDAVError(f"{method} {_redact(urljoin(self.url, url))}: {_reason(e)}") from None
        except (OSError, ValueError, httpx.StreamError) as e:
            # What escapes httpx's own mapping (TLS, sockets, codecs) is a failed request too.
            raise Unavailable(f"{method} {_redact(urljoin(self.url, url))}: {_reason(e)}") from None
        if r.status_code in ok or (not ok and r.status_code < 300):
            return r
        where = f"{method} {urlsplit(str(r.url)).path}: HTTP {r.status_code}"
        # A 403 on REPORT means "no sync-collection here" (or a stale token), not a login problem.
        if r.status_code == 401 or (r.status_code == 403 and method != "REPORT"):
            raise AuthFailed(f"{where}: {self.auth_hint}")
        if r.status_code == 412:
            raise PreconditionFailed(where)
        if r.status_code == 429 or r.status_code >= 500:
            raise Unavailable(where, _retry_after(r.headers.get("Retry-After")))
        raise CalDAVError(where)

    def propfind(self, url: str, props: list[str], depth: str) -> ET.Element:
        xml = "".join(f"<{p}/>" for p in props)
        body = (f'<?xml version="1.0" encoding="utf-8"?><d:propfind '
                f"{self.xmlns}><d:prop>{xml}</d:prop></d:propfind>")  # fmt: skip
        r = self.request("PROPFIND", url, body=body, headers={**XML, "Depth": depth}, ok=(207,))
        return _multistatus(r)

    # discovery ----------------------------------------------------------------
    def _prop_href(self, tree: ET.Element, prop: str) -> str | None:
        el = tree.find(f".//{_q(prop)}/{_q('d:href')}")
        return None if el is None or not el.text else el.text.strip()

    def is_collection(self, url: str, kind: str) -> bool:
        """Whether `url` is a collection whose resourcetype holds `kind` (e.g. "c:calendar")."""
        try:
            tree = self.propfind(url, ["d:resourcetype"], "0")
        except CalDAVError as e:
            if isinstance(e, AuthFailed | Unavailable):
                raise
            return False
        return tree.find(f".//{_q('d:resourcetype')}/{_q(kind)}") is not None

    def home(self, service: str, home_set: str, what: str) -> str:
        """The home of the current user (RFC 6764 and RFC 4791/6352 discovery): the
        `home_set` property (e.g. "c:calendar-home-set") of its principal, found from
        /.well-known/`service` when the URL is a server's root."""
        start = self.url
        if urlsplit(start).path in ("", "/"):
            try:
                r = self.http.request("PROPFIND", urljoin(start, f"/.well-known/{service}"),
                                      headers={**XML, "Depth": "0"})  # fmt: skip
                self.requests += 1
                if r.status_code == 207:
                    start = str(r.url)
            except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError):
                pass  # optional; the PROPFIND below reports what is wrong in one line
        tree = self.propfind(start, ["d:current-user-principal"], "0")
        principal = self._prop_href(tree, "d:current-user-principal") or start
        tree = self.propfind(principal, [home_set], "0")
        home = self._prop_href(tree, home_set)
        if home is None:
            raise CalDAVError(f"{self.url}: the server shows no {what} home for this user")
        return urljoin(self.url, home)

    # change detection -----------------------------------------------------------
    def _collection(self) -> str:
        if self.collection is None:
            raise CalDAVError("discover() the collection first")
        return self.collection

    def sync_collection(self, token: str | None) -> Changes:
        """RFC 6578: what changed since `token` (everything, when None)."""
        body = ('<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">'
                f"<d:sync-token>{token or ''}</d:sync-token><d:sync-level>1</d:sync-level>"
                "<d:prop><d:getetag/></d:prop></d:sync-collection>")  # fmt: skip
        url = self._collection()
        r = self.request("REPORT", url, body=body, headers={**XML, "Depth": "1"},
                         ok=(207, 400, 403, 404, 405, 409, 412, 415, 501))  # fmt: skip
        if r.status_code != 207:
            if token and r.status_code in (403, 409, 412):
                raise TokenInvalid(f"sync token refused (HTTP {r.status_code})")
            raise NotSupported(f"sync-collection not supported (HTTP {r.status_code})")
        tree = _multistatus(r)
        changes = Changes(token=(tree.findtext(_q("d:sync-token")) or "").strip() or None)
        base = _path(url)
        for resp in tree.findall(_q("d:response")):
            href = _path(resp.findtext(_q("d:href")) or "")
            if not href or href.rstrip("/") == base.rstrip("/"):
                continue
            status = resp.findtext(_q("d:status")) or ""
            etag = resp.findtext(f".//{_q('d:getetag')}")
            if " 404 " in status or (etag is None and " 200 " not in status):
                changes.deleted.add(href)
            elif etag is not None:
                changes.changed[href] = etag.strip()
        return changes

    def ctag(self, *, also_sync_token: bool = True) -> str | None:
        """The collection's ctag (changes whenever any item does), else its sync token.
        Without `also_sync_token` only the ctag is asked for: on Radicale computing a
        sync token costs as much as a sync-collection REPORT, the ctag a third less."""
        props = ["cs:getctag", "d:sync-token"] if also_sync_token else ["cs:getctag"]
        tree = self.propfind(self._collection(), props, "0")
        value = tree.findtext(f".//{_q('cs:getctag')}") or tree.findtext(f".//{_q('d:sync-token')}")
        return value.strip() if value else None

    def list_etags(self) -> dict[str, str]:
        """Every item in the collection: href -> etag (one PROPFIND)."""
        url = self._collection()
        tree = self.propfind(url, ["d:getetag", "d:resourcetype"], "1")
        base = _path(url).rstrip("/")
        out = {}
        for resp in tree.findall(_q("d:response")):
            href = _path(resp.findtext(_q("d:href")) or "")
            etag = resp.findtext(f".//{_q('d:getetag')}")
            if href.rstrip("/") != base and etag:
                out[href] = etag.strip()
        return out

    def get(self, href: str) -> tuple[bytes, str | None]:
        r = self.request("GET", href)
        return r.content, r.headers.get("ETag")

    def report_multiget(self, report: str, data: str, hrefs: Sequence[str]
                        ) -> dict[str, tuple[bytes, str | None] | None]:  # fmt: skip
        """A multiget REPORT (`report`, e.g. "c:calendar-multiget", asking for the `data`
        property): the items at `hrefs` in one REPORT, href -> (body, ETag), None for one
        the server says is not there. An href the answer leaves out is left out here too.
        NotSupported when the server has no multiget."""
        prefix = report.partition(":")[0]
        wanted = "".join(f"<d:href>{escape(quote(h))}</d:href>" for h in hrefs)
        body = ('<?xml version="1.0" encoding="utf-8"?>'
                f'<{report} xmlns:d="{DAV}" xmlns:{prefix}="{NS[prefix]}">'
                f"<d:prop><d:getetag/><{data}/></d:prop>{wanted}</{report}>")  # fmt: skip
        r = self.request("REPORT", self._collection(), body=body, headers={**XML, "Depth": "1"},
                         ok=(207, 400, 403, 404, 405, 415, 501))  # fmt: skip
        if r.status_code != 207:
            raise NotSupported(f"{report.partition(':')[2]} not supported (HTTP {r.status_code})")
        out: dict[str, tuple[bytes, str | None] | None] = {}
        for resp in _multistatus(r).findall(_q("d:response")):
            href = _path(resp.findtext(_q("d:href")) or "")
            found = resp.find(f".//{_q(data)}")
            if found is not None and found.text:
                etag = resp.findtext(f".//{_q('d:getetag')}")
                out[href] = found.text.encode(), None if etag is None else etag.strip()
            elif " 404 " in (resp.findtext(_q("d:status")) or ""):
                out[href] = None
        return out


class CalDAVClient(DAVClient):
    def is_calendar(self, url: str) -> bool:
        return self.is_collection(url, "c:calendar")

    def calendar_home(self) -> str:
        """The calendar home of the current user: RFC 6764 and RFC 4791 discovery."""
        return self.home("caldav", "c:calendar-home-set", "calendar")

    def discover(self, calendar: str | None, create: bool, display_name: str = "syncnet") -> str:
        """The collection URL: the configured URL when it is a calendar, else
        `calendar` under the user's calendar home (created when asked to)."""
        if self.is_calendar(self.url):
            self.collection = self.url
            return self.url
        if not calendar:
            raise CalDAVError(f"{self.url} is not a calendar: set 'calendar' to the name of one")
        url = urljoin(self.calendar_home(), calendar.strip("/") + "/")
        if not self.is_calendar(url):
            if not create:
                raise CalDAVError(f"calendar {url} does not exist: set 'create = true' to create it")
            self.mkcalendar(url, display_name)
        self.collection = url
        return url

    def mkcalendar(self, url: str, display_name: str) -> None:
        body = (f'<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="{CALDAV}">'
                f"<d:set><d:prop><d:displayname>{display_name}</d:displayname>"
                "<c:supported-calendar-component-set><c:comp name=\"VEVENT\"/><c:comp name=\"VTODO\"/>"
                "</c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>")  # fmt: skip
        self.request("MKCALENDAR", url, body=body, headers=XML, ok=(201,))

    # items ----------------------------------------------------------------------
    def href_for(self, uid: str) -> str:
        return _path(self._collection()) + uid.split("@")[0] + ".ics"

    def put(self, href: str, body: bytes, etag: str | None = None) -> str | None:
        """Create (etag None: If-None-Match: *) or replace (If-Match: etag); returns the new ETag."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        headers["If-Match" if etag else "If-None-Match"] = etag or "*"
        r = self.request("PUT", href, body=body, headers=headers)
        new_etag: str | None = r.headers.get("ETag")
        return new_etag

    def delete(self, href: str, etag: str | None) -> bool:
        """Delete if unchanged; False when it was already gone."""
        headers = {"If-Match": etag} if etag else {}
        r = self.request("DELETE", href, headers=headers, ok=(200, 204, 404))
        return r.status_code != 404

    def multiget(self, hrefs: Sequence[str]) -> dict[str, tuple[bytes, str | None] | None]:
        """RFC 4791 calendar-multiget (see report_multiget)."""
        return self.report_multiget("c:calendar-multiget", "c:calendar-data", hrefs)


def auth_for(
    user: str | None, password: str | None, token: str | None
) -> tuple[httpx.Auth | None, dict[str, Any]]:
    """HTTP Basic for user + password, or a bearer token header."""
    if token:
        return None, {"Authorization": f"Bearer {token}"}
    if user and password is not None:
        return httpx.BasicAuth(user, password), {}
    return None, {}


class CalDAVPort:
    """A CalDAV collection as a sync target (syncnet.app.sync.CalendarPort).

    Change detection: RFC 6578 sync-collection when the server has it (cursor
    "sync:<token>"), else the collection's ctag with a full ETag listing when it
    moved (cursor "ctag:<ctag>"). When a change is unlikely (the agenda is the one
    last written), the ctag is asked first and remembered in the cursor
    ("sync:<token>\nctag:<ctag>"): an unchanged ctag is the whole no-op sync. It is
    read before the listing, so a change racing the listing shows at the next sync.
    """

    edited_elsewhere = True  # the user's phone edits the same calendar

    def __init__(self, client: CalDAVClient, style: str, alarms: Sequence[str]) -> None:
        self.client = client
        self.style = style
        self.alarms = tuple(alarms)
        self._offsets: list[Any] | None = None
        self._no_multiget = False

    def _body(self, item: StampedItem) -> bytes:
        # icalendar is imported on the first write only: a no-op sync never needs it.
        from .ics import parse_offset, render_one

        if self._offsets is None:
            self._offsets = [parse_offset(a) for a in self.alarms]
        return render_one(item, self.style, self._offsets)

    def _probe_ctag(self) -> str:
        """The ctag, or "" when the server has none (the cursor remembers not to ask again)."""
        try:
            return self.client.ctag(also_sync_token=False) or ""
        except (Unavailable, AuthFailed):
            raise
        except CalDAVError:
            return ""

    def changes_since(self, cursor: str | None, *, likely_unchanged: bool = False) -> RemoteChanges:
        if cursor is None or cursor.startswith("sync:"):
            token, probed, known_ctag = (cursor or "sync:")[5:].partition(CTAG_MARK)
            ctag = None
            if likely_unchanged and token and (not probed or known_ctag):
                ctag = self._probe_ctag()
                if ctag and ctag == known_ctag:
                    return RemoteChanges(cursor=cursor)
            try:
                c = self.client.sync_collection(token or None)
                return RemoteChanges(dict(c.changed), set(c.deleted), _sync_cursor(c.token, ctag), not token)
            except TokenInvalid:
                c = self.client.sync_collection(None)
                return RemoteChanges(dict(c.changed), set(), _sync_cursor(c.token, ctag), True)
            except NotSupported:
                pass
        ctag = self.client.ctag()
        if cursor is not None and cursor == f"ctag:{ctag}" and ctag is not None:
            return RemoteChanges(cursor=cursor)
        listing = self.client.list_etags()
        return RemoteChanges(dict(listing), set(), f"ctag:{ctag}" if ctag else None, True)

    def href_for(self, uid: str) -> str:
        return self.client.href_for(uid)

    def create(self, href: str, item: StampedItem) -> str | None:
        # If-None-Match: *. A 412 (something is there) goes to the engine, which reads
        # the item back: an earlier write of ours is adopted, anything else is the user's.
        return self.client.put(href, self._body(item))

    def read(self, href: str) -> Seen | None:
        r = self.client.request("GET", href, ok=(200, 404, 410))
        if r.status_code != 200:
            return None
        return _seen(r.content, r.headers.get("ETag"))

    def read_many(self, hrefs: Sequence[str]) -> dict[str, Seen | None]:
        """One calendar-multiget per MULTIGET_BATCH items (a GET for a single one, or
        for any the answer leaves out, or on a server without multiget)."""
        out: dict[str, Seen | None] = {}
        if len(hrefs) > 1 and not self._no_multiget:
            for start in range(0, len(hrefs), MULTIGET_BATCH):
                try:
                    got = self.client.multiget(hrefs[start : start + MULTIGET_BATCH])
                except NotSupported:
                    self._no_multiget = True
                    break
                out.update({h: None if v is None else _seen(*v) for h, v in got.items()})
        return out | {h: self.read(h) for h in hrefs if h not in out}

    def fingerprint(self, item: StampedItem) -> str:
        from .ics import fingerprint

        return fingerprint(self._body(item))

    def update(self, href: str, etag: str | None, item: StampedItem) -> str | None:
        return self.client.put(href, self._body(item), etag or "*")

    def delete(self, href: str, etag: str | None) -> None:
        self.client.delete(href, etag)

    @property
    def requests(self) -> int:
        return self.client.requests

    def finish(self, items: Sequence[StampedItem]) -> dict[str, Any]:
        return {}  # every item was written by itself

    def close(self) -> None:
        self.client.close()
