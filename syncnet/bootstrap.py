"""The composition root: configuration -> store -> network -> ports.

The only module that imports `syncnet_adapters`: the entry points (the CLI, the
daemon, the feed server) reach the outside world through the functions here. One
factory per target type makes the port the calendars service syncs through.
Adapters are imported lazily so that commands which do not sync (e.g. `due`)
never load httpx or icalendar.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncnet.app.network import Network
from syncnet.errors import BadInput, NotFound

if TYPE_CHECKING:  # the calendars service is imported where used: reads stay light
    from syncnet.app.address_book import AddressBook
    from syncnet.app.calendars import Outcome
    from syncnet.app.carddav_import import CardDAVReport
    from syncnet.app.sync import CalendarPort, TargetState
    from syncnet.domain.cards import Parsed
    from syncnet.domain.config import Target


def open_network(home: str | None, config: str | None, passphrase: str | None,
                 today: date | None = None) -> Network:  # fmt: skip
    """The user's network: the config (a named file must exist), the store, the views."""
    return Network.open(home, config, passphrase=passphrase, today=today, require_config=config is not None)


# ---------------------------------------------------------------- credentials
def _run_secret_command(command: str, what: str, target: str) -> str:
    from syncnet.storage.secrets import run_secret_command

    return run_secret_command(command, f"target {target}: {what}")


def credentials(target: Target) -> tuple[str | None, str | None]:
    """(password, token) from the environment, a command or the keyring; never the config."""
    token = os.environ.get(f"{target.env_prefix}_TOKEN")
    if token is None and target.token_cmd:
        token = _run_secret_command(target.token_cmd, "token_cmd", target.name)
    password = os.environ.get(f"{target.env_prefix}_PASSWORD")
    if password is None and target.password_cmd:
        password = _run_secret_command(target.password_cmd, "password_cmd", target.name)
    if password is None and target.keyring and target.user:
        try:
            import keyring  # optional: pip install keyring
        except ImportError:
            raise BadInput(f"target {target.name}: keyring = true needs the 'keyring' package") from None
        password = keyring.get_password("syncnet", f"{target.name}:{target.user}")
    if target.user and password is None and token is None:
        raise BadInput(
            f"target {target.name}: no password for user {target.user!r}: set "
            f"{target.env_prefix}_PASSWORD, password_cmd or keyring = true"
        )
    return password, token


# ---------------------------------------------------------------- ports, one factory per type
def _alarms(target_alarms: tuple[str, ...]) -> list[Any]:
    from syncnet_adapters.ics import parse_offset

    return [parse_offset(a) for a in target_alarms]


def ics_port(target: Target, state: TargetState) -> CalendarPort:
    from syncnet_adapters.ics import IcsFilePort

    path = Path(os.path.expanduser(target.path))
    port: CalendarPort = IcsFilePort(path, target.style, _alarms(target.alarms), "syncnet")
    return port


def caldav_port(target: Target, state: TargetState) -> CalendarPort:
    """A CalDAV collection; discovered once, then remembered in the target's state."""
    from syncnet_adapters.caldav import CalDAVClient, CalDAVPort, auth_for

    password, token = credentials(target)
    auth, headers = auth_for(target.user or None, password, token)
    client = CalDAVClient(state.collection or target.url, auth, target.timeout, headers)
    try:
        if state.collection:
            client.collection = state.collection
        else:
            state.collection = client.discover(target.calendar, target.create)
    except BaseException:
        client.close()
        raise
    port: CalendarPort = CalDAVPort(client, target.style, target.alarms)
    return port


PORT_FACTORIES: dict[str, Callable[[Target, TargetState], CalendarPort]] = {
    "caldav": caldav_port,
    "ics": ics_port,
}


def open_port(target: Target, state: TargetState) -> CalendarPort:
    return PORT_FACTORIES[target.type](target, state)


# ---------------------------------------------------------------- what the entry points call
def target_by_name(net: Network, name: str) -> Target:
    for t in net.config.targets:
        if t.name == name:
            return t
    known = ", ".join(t.name for t in net.config.targets) or "none configured"
    raise NotFound(f"unknown target {name!r} (targets: {known})")


def sync_target(net: Network, target: Target, *, dry_run: bool = False, force: bool = False,
                today: date | None = None, progress: Callable[[int], None] | None = None,
                retract: bool = False) -> Outcome:  # fmt: skip
    """One sync of one target through its port; failures are returned, not raised."""
    from syncnet.app import calendars

    return calendars.sync_target(net, target, open_port, dry_run=dry_run, force=force, today=today,
                                 progress=progress, retract=retract)  # fmt: skip


def write_ics(net: Network, path: Path, horizon_days: int = 60, style: str = "event",
              alarms: tuple[str, ...] = ("PT9H",), today: date | None = None) -> int:  # fmt: skip
    """Write the calendar items to an .ics file (the demo's output); returns the count."""
    from syncnet_adapters.ics import render, write_atomically

    from syncnet.app import calendars

    items = calendars.calendar_items(net, horizon_days, today)
    write_atomically(path, render(items, style, _alarms(alarms), "syncnet"))
    return len(items)


def feed_app(net: Network) -> Any:
    """The WSGI app of the subscription feed, reading this store."""
    from syncnet_adapters.feed import FeedApp
    from syncnet_adapters.ics import RenderCache

    from syncnet.app import calendars

    f = net.config.feed
    cache = RenderCache(f.style, _alarms(f.alarms), f.name)  # unchanged items are not rendered again

    def body() -> bytes:
        rendered: bytes = cache.render(calendars.calendar_items(net, f.horizon_days))
        return rendered

    return FeedApp(lambda: calendars.feed_secret(net), lambda: calendars.feed_version(net), body)


def feed_secret(net: Network, rotate: bool = False) -> str:
    """The secret in the feed's URL (see syncnet.app.calendars.feed_secret)."""
    from syncnet.app import calendars

    return calendars.feed_secret(net, rotate)


def serve_feed(app: Any, host: str, port: int, on_listening: Callable[[], None] | None = None) -> None:
    """Serve the feed app until SIGTERM or Ctrl-C (waitress); `on_listening` once bound."""
    from syncnet_adapters.feed import serve

    serve(app, host, port, on_listening)


# ---------------------------------------------------------------- importers
IMPORT_FORMATS = ("linkedin", "google", "vcard")


def read_cards(kind: str, data: bytes) -> Parsed:
    """The cards of an export file of `kind` (IMPORT_FORMATS); a file that cannot be read
    as a whole is one BadInput naming its line (syncnet.domain.cards.MalformedFile)."""
    from syncnet.domain.cards import MalformedFile

    try:
        if kind == "linkedin":
            from syncnet_adapters.linkedin import parse_linkedin

            parsed: Parsed = parse_linkedin(data)
            return parsed
        if kind == "google":
            from syncnet_adapters.google_contacts import parse_google

            parsed = parse_google(data)
            return parsed
        if kind == "vcard":
            from syncnet_adapters.vcards import parse_vcards

            parsed = parse_vcards(data)
            return parsed
    except MalformedFile as e:
        raise BadInput(f"not a {kind} export: {e}; nothing was imported") from None
    raise BadInput(f"unknown import format {kind!r}")


CARDDAV_PASSWORD_ENV = "SYNCNET_CARDDAV_PASSWORD"


def open_address_book(url: str, user: str | None, password_cmd: str | None,
                      timeout: float = 30.0) -> AddressBook:  # fmt: skip
    """The CardDAV address book at `url` (no request yet). Like a CalDAV target's: no
    credentials inside the URL; the password from --password-cmd, else the environment
    (SYNCNET_CARDDAV_PASSWORD), never an option's value (it would show in `ps`)."""
    from syncnet.domain.config import url_problem

    problem = url_problem(url)
    if problem == "userinfo":  # the message never shows the URL: it holds a password
        raise BadInput("the URL holds a user name or password (user:password@): remove it, give --user, "
                       f"and the password in {CARDDAV_PASSWORD_ENV} or with --password-cmd")  # fmt: skip
    if problem == "host" or not url.startswith(("http://", "https://")):
        raise BadInput("the address book's URL must be an http:// or https:// URL with a valid host")
    if password_cmd is not None and not user:
        raise BadInput("--password-cmd needs --user")
    password = None
    if user:
        if password_cmd is not None:
            from syncnet.storage.secrets import run_secret_command

            password = run_secret_command(password_cmd, "--password-cmd")
        else:
            password = os.environ.get(CARDDAV_PASSWORD_ENV)
        if password is None:
            raise BadInput(f"no password for user {user!r}: set {CARDDAV_PASSWORD_ENV} or give "
                           "--password-cmd")  # fmt: skip
    from syncnet_adapters.caldav import auth_for
    from syncnet_adapters.carddav import CardDAVClient

    auth, headers = auth_for(user or None, password, None)
    book: AddressBook = CardDAVClient(url, auth, timeout, headers)
    return book


def import_address_book(net: Network, book: AddressBook, *, dry_run: bool = False,
                        progress: Callable[[int], None] | None = None) -> CardDAVReport:  # fmt: skip
    """Import what changed in the address book since the last run (syncnet.app.carddav_import);
    each card is read as a vCard file of one card."""
    from syncnet_adapters.vcards import parse_vcards

    from syncnet.app.carddav_import import import_address_book as run

    return run(net, book, parse_vcards, dry_run=dry_run, progress=progress)


# ---------------------------------------------------------------- the hub (docs/hub.md)
def hub_url(net: Network, url: str | None = None) -> str:
    """The hub's URL: --hub, else SYNCNET_HUB_URL, else hub.url of the config."""
    found = url or os.environ.get("SYNCNET_HUB_URL") or net.config.hub.url
    if not found:
        raise BadInput("no hub configured: set hub.url in the config (postgresql://USER@HOST:PORT/DATABASE) "
                       "or pass --hub URL")  # fmt: skip
    from syncnet.domain.config import store_problem

    where = "--hub" if url else "SYNCNET_HUB_URL" if os.environ.get("SYNCNET_HUB_URL") else "hub.url"
    store_problem(found, where)  # a PostgreSQL URL, no password in it
    return found


def open_hub(net: Network, url: str | None = None) -> Any:
    """The hub's port (adapters/pghub.py); closed by the caller."""
    from syncnet_adapters.pghub import PostgresHub

    return PostgresHub(hub_url(net, url))


def hub_exchange(net: Network, url: str | None = None) -> Any:
    """An Exchange between this store and its hub (app/hub.py); close its `hub`."""
    from syncnet.app.hub import Exchange

    hub = open_hub(net, url)
    try:
        return Exchange(net, hub, net.config.hub.member)
    except BaseException:
        hub.close()
        raise


def joined_hub(net: Network) -> Any | None:
    """An Exchange with the configured hub when this store joined one, else None (the
    calendars' leases: docs/hub.md); close its `hub`."""
    from syncnet.app.hub import joined

    if not (net.config.hub.url or os.environ.get("SYNCNET_HUB_URL")) or not joined(net):
        return None
    return hub_exchange(net)
