"""The click wiring of `syncnet COMMAND`: options, arguments and help. A command calls
into Network or the composition root, and leaves what is printed to render.py.

Exit codes: 0 success, 2 bad input or usage (nothing written), 1 an operation
failed. Errors are one line on stderr. `--json` prints one JSON document
(docs/json.md).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from syncnet.app.network import Network
from syncnet.bootstrap import open_network
from syncnet.domain.config import MAX_MINUTES
from syncnet.domain.dates import parse_date, parse_days
from syncnet.domain.vocabulary import CHANNELS, GOAL_KINDS, HELP_KINDS, REASONS
from syncnet.entrypoints.cli import render
from syncnet.entrypoints.cli.exits import exit_code_for
from syncnet.entrypoints.cli.numbers import ascii_digits
from syncnet.entrypoints.terminal import printable as printable_text
from syncnet.errors import BadInput, SyncnetError
from syncnet.storage.store import init_store

if TYPE_CHECKING:
    from syncnet.domain import commands as cmd

F = TypeVar("F", bound=Callable[..., Any])
SCHEMA_VERSION = render.SCHEMA_VERSION


class Ctx:
    def __init__(self, home: str | None, config: str | None) -> None:
        self.home = home
        self.config = config

    @contextmanager
    def network(self, today: str | None = None, known_at: str | None = None) -> Iterator[Network]:
        net = open_network(self.home, self.config, _passphrase(self.home))
        try:
            if today is not None:
                net.fixed_today = parse_date(today, net.today(), "--today")
            if known_at is not None:
                from syncnet.app.asof import parse_known_at

                net.known_at = parse_known_at(known_at, net.config.timezone)
            net.refresh(progress=_progress("folding facts into views"))
            yield net
        finally:
            try:
                for line in net.notices():  # damage found and left out or rebuilt
                    click.echo(f"syncnet: warning: {line}", err=True)
            except SyncnetError:
                pass  # the views are damaged themselves: the error on its way says so
            finally:
                net.close()


def _not_empty(value: str | None, option: str) -> str | None:
    """An empty --home or --config (a script's unset variable) is refused, never taken for
    the default: it would reach the real store."""
    if value is not None and not value.strip():
        raise BadInput(f"{option} is empty")
    return value


def _passphrase(home: str | None) -> str | None:
    """The store's passphrase: SYNCNET_PASSPHRASE, passphrase_cmd, the keyring, then a
    hidden prompt on a terminal (syncnet.storage.secrets); None for a key-file store."""
    import getpass

    from syncnet.storage.secrets import store_passphrase

    ctx = click.get_current_context(silent=True)
    c = ctx.find_object(Ctx) if ctx is not None else None  # its --config names passphrase_cmd's file
    ask = (lambda: getpass.getpass("syncnet passphrase: ")) if sys.stdin.isatty() else None
    return store_passphrase(home, c.config if c is not None else None, ask)


def _progress(what: str) -> Callable[[int], None] | None:
    """A counter on stderr for long work, only on a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int) -> None:
        click.echo(f"\r{what}: {done:,}", err=True, nl=False)

    return show


def today_option(f: F) -> F:
    return click.option("--today", metavar="DATE", help="Evaluate as if today were DATE (YYYY-MM-DD).")(f)


def read_options(f: F) -> F:
    """--today and --known-at: the two times of a read (docs/rules.md, "Two times")."""
    f = click.option("--known-at", metavar="WHEN",
                     help="Only what was recorded up to WHEN (YYYY-MM-DD: the end of that day, "
                          "or YYYY-MM-DDTHH:MM): what syncnet knew then.")(f)  # fmt: skip
    return click.option("--today", metavar="DATE",
                        help="Read as of DATE (YYYY-MM-DD): the facts dated on or before it.")(f)  # fmt: skip


def _pretty(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    render.PRETTY["on"] = value


def json_option(f: F) -> F:
    f = click.option("--pretty", is_flag=True, expose_value=False, callback=_pretty,
                     help="Indent the JSON (the default on a terminal).")(f)  # fmt: skip
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (compact).")(f)


NOTE_HELP = "'-' reads it from standard input, so it stands in no process list or shell history"


def _note(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--note TEXT, or '-' for standard input; --edit: in $EDITOR (see `_edited_note`);
    --private: kept to this device (cmd.PrivateText)."""
    if value == "-":
        text = sys.stdin.read()
        if len(text) > MAX_NOTE:
            raise BadInput(f"the note on standard input is longer than {MAX_NOTE:,} characters")
        value = text.strip() or None
    elif ctx.meta.get("edit note"):
        value = _edited_note(value)
    if ctx.meta.get("private note"):
        if value is None:
            raise BadInput("--private keeps a note to this device: give the note (--note or --edit)")
        from syncnet.domain.commands import PrivateText

        return PrivateText(value)
    return value


def _edit_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta["edit note"] = value


def _private_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta["private note"] = value


MAX_NOTE = 100_000


def _edited_note(start: str | None) -> str | None:
    """A note written in $VISUAL or $EDITOR (a file readable by you only, removed after)."""
    edited = click.edit(start or "", require_save=True, extension=".txt")
    if edited is None:
        raise BadInput("the editor was closed without saving: nothing recorded")
    return edited.strip() or None


def write_options(f: F) -> F:
    f = click.option("--on", metavar="DATE",
                     help="When it happened: YYYY-MM-DD, today or yesterday (default: today; never "
                          "later).")(f)
    return json_option(today_option(note_options(f)))


def note_options(f: F) -> F:
    """--note TEXT (or '-'), --edit, --private: the note of a recording command."""
    f = click.option("--note", callback=_note, help=f"A private note, stored sealed; {NOTE_HELP}.")(f)
    f = click.option("--edit", is_flag=True, is_eager=True, expose_value=False, callback=_edit_flag,
                     help="Write the note in $EDITOR instead (never in the process list).")(f)  # fmt: skip
    f = click.option("--private", is_flag=True, is_eager=True, expose_value=False, callback=_private_flag,
                     help="Keep the note to this device: in a team's hub the others see that a note is "
                          "there, never what it says.")(f)  # fmt: skip
    return f


def minutes_option(f: F) -> F:
    return click.option("--minutes", type=click.IntRange(0, MAX_MINUTES),
                        help=f"Minutes of your time it took (0 to {MAX_MINUTES}: a day).")(f)  # fmt: skip


def details_options(f: F) -> F:
    """What a person keeps about a contact (each stored sealed with the contact's key)."""
    for option in reversed([
        click.option("--org", metavar="TEXT", help="Organisation (company, university, club)."),
        click.option("--role", metavar="TEXT", help="Role or title."),
        click.option("--email", "emails", metavar="ADDRESS", multiple=True,
                     help="E-mail address; repeatable."),
        click.option("--phone", "phones", metavar="NUMBER", multiple=True,
                     help="Phone number; repeatable."),
        click.option("--url", "urls", metavar="URL", multiple=True,
                     help="Profile URL (LinkedIn and others); repeatable."),
        click.option("--how-met", metavar="TEXT", help="How you met, in your words."),
    ]):  # fmt: skip
        f = option(f)
    return f


def _details(org: str | None, role: str | None, emails: tuple[str, ...], phones: tuple[str, ...],
             urls: tuple[str, ...], how_met: str | None) -> cmd.Details:  # fmt: skip
    from syncnet.domain.commands import Details

    # A list option not given keeps the earlier list; given, it replaces it.
    return Details(org, role, emails or None, phones or None, urls or None, how_met)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--home", metavar="DIR", callback=lambda ctx, p, v: _not_empty(v, "--home"),
              help="Data directory (default: $SYNCNET_HOME or XDG data dir).")
@click.option("--config", metavar="FILE", callback=lambda ctx, p, v: _not_empty(v, "--config"),
              help="Config file (default: <home>/config.toml or XDG).")
@click.version_option(package_name="syncnet")
@click.pass_context
def cli(ctx: click.Context, home: str | None, config: str | None) -> None:
    """syncnet: tend your professional network.

    Record meetings, help, requests and promises as encrypted, immutable facts;
    read what is due, who gave what, and how you spend your networking time.

    Start with 'syncnet init', or try 'syncnet demo'.
    """
    ctx.obj = Ctx(home, config)


pass_ctx = click.make_pass_decorator(Ctx)


# ---------------------------------------------------------------- init / demo
@cli.command()
@click.option("--passphrase", "ask_passphrase", is_flag=True,
              help="Protect the store with a passphrase typed at a prompt.")  # fmt: skip
@click.option("--store", "store_url", metavar="URL", envvar="SYNCNET_STORE", show_envvar=True,
              help="Keep the store in this PostgreSQL database (postgresql://USER@HOST:PORT/DATABASE) "
                   "instead of a SQLite file in the data directory (default: the config's).")  # fmt: skip
@pass_ctx
def init(c: Ctx, ask_passphrase: bool, store_url: str | None) -> None:
    """Create an encrypted store (never replaces an existing one).

    With SYNCNET_PASSPHRASE set (or --passphrase), the key is derived from the
    passphrase (scrypt); otherwise a random 256-bit key is written to a key file
    only you can read. With --store (or store = "postgresql://..." in the config) the
    facts, views and state live in that PostgreSQL database, encrypted as in the file;
    the key stays in the data directory.
    """
    from syncnet.storage.paths import data_dir

    home = data_dir(c.home)
    passphrase = os.environ.get("SYNCNET_PASSPHRASE") or None
    if ask_passphrase and not passphrase:
        passphrase = click.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    from syncnet.storage.configfile import load_config
    from syncnet.storage.paths import config_path

    # A broken or missing named config fails before anything is created.
    cfg = load_config(config_path(c.home, c.config), required=c.config is not None)
    if store_url:
        from syncnet.domain.config import store_problem

        store_problem(store_url, "--store")
    created, mode = init_store(home, passphrase, store_url or cfg.store or None)
    how = "passphrase (SYNCNET_PASSPHRASE)" if mode == "passphrase" else f"key file {home / 'key'}"
    if created:
        from syncnet.app.calendars import feed_secret

        with open_network(c.home, c.config, passphrase) as net:
            feed_secret(net)  # the feed's secret exists from the start; 'feed rotate' replaces it
        click.echo(f"Created a syncnet store in {home}, protected by {how}.")
        if mode == "file":
            click.echo("Back up the key file: without it the store cannot be read.")
    else:
        click.echo(f"A syncnet store already exists in {home} (protected by {how}); left untouched.")


@cli.command()
@click.option("--home", "demo_home", metavar="DIR",
              help="Build the demo in DIR (empty) instead of the scratch home.")  # fmt: skip
@click.option("--caldav-url", metavar="URL", envvar="SYNCNET_DEMO_CALDAV_URL",
              help="Also push the reminders to this CalDAV server or calendar "
                   "(env SYNCNET_DEMO_CALDAV_URL; user and password from SYNCNET_DEMO_USER "
                   "and SYNCNET_DEMO_PASSWORD).")  # fmt: skip
@today_option
@json_option
def demo(demo_home: str | None, caldav_url: str | None, today: str | None, as_json: bool) -> None:
    """Build a small sample network in a scratch home, print its agenda and
    write its reminders to an .ics file (and to a CalDAV calendar, if given).

    Never touches your own store. Without --home the demo lives in one scratch
    directory (in the user's cache directory) that each run replaces, after removing
    the reminders the previous demo pushed to a CalDAV calendar.
    """
    from syncnet.app.demo import build_demo, demo_target, write_demo_config
    from syncnet.bootstrap import sync_target, write_ics

    # What is given is checked first: a refused URL or date leaves no file behind.
    target = demo_target(caldav_url, os.environ.get("SYNCNET_DEMO_USER", "")) if caldav_url else None
    day = parse_date(today, date.today()) if today else date.today()
    if demo_home:
        home = Path(demo_home)
        if (home / "store.json").exists():
            raise BadInput(f"{home} already holds a store: the demo needs an empty directory")
    else:
        from syncnet.app.demo import replace_scratch_home, scratch_home

        def warn(line: str) -> None:
            click.echo(f"syncnet: warning: {line}", err=True)

        home = scratch_home()
        replace_scratch_home(home, sync_target, warn)
    init_store(home)
    if target is not None:
        write_demo_config(home, target)
    with Network.open(home, home / "config.toml", today=day) as net:
        count = build_demo(net)
        items = net.agenda()
        ics = home / "reminders.ics"
        n_ics = write_ics(net, ics)
        pushed = sync_target(net, target) if target is not None else None
    render.demo(home, day, count, items, ics, n_ics, pushed, target, as_json)
    if pushed is not None and pushed.error is not None:
        click.echo(f"syncnet: error: {pushed.error}", err=True)
        raise click.exceptions.Exit(exit_code_for(pushed.cause))


# ---------------------------------------------------------------- recording
def _record(
    c: Ctx, today: str | None, as_json: bool,
    make: Callable[[Network, ModuleType], cmd.Command | list[cmd.Command]],
) -> None:  # fmt: skip
    """Build a command with `make(network, syncnet.domain.commands)`, record it, and report.
    `make` may give more than one (a meeting and its event link): all are recorded in one
    transaction, and the first is reported, the others as "also"."""
    from syncnet.domain import commands

    with c.network(today) as net:
        made = make(net, commands)
        try:
            results = net.record_many(made if isinstance(made, list) else [made])
        except SyncnetError as e:  # one command typed: not "command 2: ..." of the facts it records
            raise type(e)(re.sub(r"^command [0-9]+: ", "", str(e))) from None
        result = results[0]
        contact = None
        if result.contact_id:
            net.refresh()  # fold the new facts in first: a contact just met has no view yet
            contact = net.finder().ref(result.contact_id)
        render.recorded(result, contact, as_json, results[1:])


def _on(net: Network, on: str | None) -> date | None:
    """--on as given; an empty one is refused by parse_date, never taken as today."""
    return None if on is None else parse_date(on, net.today(), "--on")


@cli.command()
@click.argument("name")
@click.option("--channel", default="other", show_default=True, help=f"Where you met: {', '.join(CHANNELS)}.")
@click.option("--why", help=f"Why they matter: {', '.join(REASONS)}.")
@click.option("--where", help="The place or event (stored sealed).")
@click.option("--goal", "goals", multiple=True, help="Link to a goal (name or id); repeatable.")
@click.option("--new", is_flag=True, help="A different person with the name of an existing contact.")
@click.option("--via", metavar="CONTACT", help="The contact who introduced you.")
@click.option("--at", "at_event", metavar="EVENT",
              help="The event you met at (see 'syncnet event'): links them to it. A --where that is "
                   "an event's name does the same.")  # fmt: skip
@details_options
@minutes_option
@write_options
@pass_ctx
def meet(c: Ctx, name: str, channel: str, why: str | None, where: str | None, goals: tuple[str, ...],
         new: bool, via: str | None, at_event: str | None, org: str | None, role: str | None,
         emails: tuple[str, ...], phones: tuple[str, ...], urls: tuple[str, ...], how_met: str | None,
         minutes: int | None, on: str | None, note: str | None, today: str | None,
         as_json: bool) -> None:  # fmt: skip
    """Record a first meeting: adds NAME as a contact."""
    from uuid import uuid4

    details = _details(org, role, emails, phones, urls, how_met)

    def make(n: Network, made_of: ModuleType) -> list[cmd.Command]:
        from syncnet.app import prep

        day = _on(n, on) or n.today()
        # --at: of the events of that name, the latest held by the meeting's day (else as named)
        event: str | None
        if at_event is not None:
            event = prep.event_at(n, at_event, day) or prep.event_id(n, at_event)
        else:
            event = prep.event_at(n, where, day)
        place = where
        if place is None and event is not None:  # met --at an event: its name is where
            place = n.unseal_text(n.reads().row("event", event).name)
        contact = uuid4()
        made: list[cmd.Command] = [made_of.Meet(name, channel, why, place, goals, minutes, _on(n, on),
                                                note, new, contact_id=contact, details=details,
                                                via=via)]  # fmt: skip
        if event is not None:
            made.append(made_of.EventLink(event, contact.hex, True, _on(n, on)))
        return made

    _record(c, today, as_json, make)


@cli.command()
@click.argument("contact")
@click.option("--by", type=click.Choice(["me", "them"]), default="me", show_default=True,
              help="Who initiated it.")  # fmt: skip
@click.option("--channel", help=f"How: {', '.join(CHANNELS)}.")
@click.option("--next", "next_day", metavar="DATE",
              help="Plan the next meeting for DATE: a reminder due that day, done by any interaction "
                   "dated after this touch's day.")  # fmt: skip
@minutes_option
@write_options
@pass_ctx
def touch(c: Ctx, contact: str, by: str, channel: str | None, next_day: str | None, minutes: int | None,
          on: str | None, note: str | None, today: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a later contact: coffee, call, mail, message, event."""

    def make(n: Network, made_of: ModuleType) -> list[cmd.Command]:
        made: list[cmd.Command] = [made_of.Touch(contact, by, channel, minutes, _on(n, on), note)]
        if next_day is not None:
            made.append(made_of.PlanMeeting(contact, parse_date(next_day, n.today(), "--next"), _on(n, on)))
        return made

    _record(c, today, as_json, make)


def _help_command(name: str, given: bool) -> None:
    doc = "Record help you gave CONTACT." if given else "Record help you received from CONTACT."

    @cli.command(name=name, help=doc)
    @click.argument("contact")
    @click.option("--kind", required=True, help=f"One of: {', '.join(HELP_KINDS)}.")
    @click.option("--to", metavar="OTHER", help="For an introduction: the contact introduced.")
    @minutes_option
    @write_options
    @pass_ctx
    def command(c: Ctx, contact: str, kind: str, to: str | None, minutes: int | None,
                on: str | None, note: str | None, today: str | None, as_json: bool) -> None:  # fmt: skip
        _record(c, today, as_json, lambda n, cmd: (cmd.Give if given else cmd.Receive)(
            contact, kind, to, minutes, _on(n, on), note))  # fmt: skip


_help_command("give", True)
_help_command("receive", False)


def _request_command(name: str, mine: bool) -> None:
    doc = "Record a request you made to CONTACT." if mine else "Record a request CONTACT made to you."

    @cli.command(name=name, help=doc)
    @click.argument("contact")
    @click.argument("what", required=False)
    @minutes_option
    @write_options
    @pass_ctx
    def command(c: Ctx, contact: str, what: str | None, minutes: int | None, on: str | None,
                note: str | None, today: str | None, as_json: bool) -> None:  # fmt: skip
        _record(c, today, as_json, lambda n, cmd: (cmd.Ask if mine else cmd.Asked)(
            contact, what, minutes, _on(n, on), note))  # fmt: skip


_request_command("ask", True)
_request_command("asked", False)


@cli.command()
@click.argument("contact", required=False)
@minutes_option
@write_options
@pass_ctx
def pitch(c: Ctx, contact: str | None, minutes: int | None, on: str | None, note: str | None,
          today: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a self-presentation (pitch, talk, post), to CONTACT or to anyone."""
    _record(c, today, as_json, lambda n, cmd: cmd.Pitch(contact, minutes, _on(n, on), note))


@cli.command()
@click.argument("contact")
@click.argument("what")
@click.option("--due", required=True, metavar="DATE", help="When it is due.")
@write_options
@pass_ctx
def promise(c: Ctx, contact: str, what: str, due: str, on: str | None, note: str | None,
            today: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a promise to CONTACT, due on DATE."""
    _record(c, today, as_json, lambda n, cmd: cmd.Promise(
        contact, what, parse_date(due, n.today(), "--due"), _on(n, on), note))  # fmt: skip


@cli.command()
@click.argument("promise_id")
@write_options
@pass_ctx
def kept(c: Ctx, promise_id: str, on: str | None, note: str | None, today: str | None,
         as_json: bool) -> None:  # fmt: skip
    """Mark promise PROMISE_ID (its short id) as kept."""
    _record(c, today, as_json, lambda n, cmd: cmd.Kept(promise_id, _on(n, on), note))


@cli.command()
@click.argument("promise_id")
@write_options
@pass_ctx
def dropped(c: Ctx, promise_id: str, on: str | None, note: str | None, today: str | None,
            as_json: bool) -> None:  # fmt: skip
    """Mark promise PROMISE_ID (its short id) as dropped."""
    _record(c, today, as_json, lambda n, cmd: cmd.Dropped(promise_id, _on(n, on), note))


@cli.command()
@click.argument("contact", required=False)
@click.argument("choice", required=False, type=click.Choice(["keep", "drop", "let-go"]))
@click.option("--event", "event_ref", metavar="EVENT",
              help="Walk through the people met at EVENT, one key each: k keep, l let go, s skip, "
                   "q quit (without a terminal: one line each on standard input).")  # fmt: skip
@write_options
@pass_ctx
def pocket(c: Ctx, contact: str | None, choice: str | None, event_ref: str | None, on: str | None,
           note: str | None, today: str | None, as_json: bool) -> None:  # fmt: skip
    """Put CONTACT in the right pocket (keep) or the left one (drop: no more reminders);
    or, with --event, sort everyone met at an event."""
    if event_ref is not None:
        if contact is not None:
            raise click.UsageError("give either CONTACT CHOICE or --event EVENT")
        from syncnet.entrypoints.cli.pocketwalk import walk_pockets

        with c.network(today) as net:
            walk_pockets(net, event_ref, _on(net, on), as_json, note)
        return
    if contact is None or choice is None:
        raise click.UsageError("missing CONTACT and CHOICE (keep, drop or let-go), or --event EVENT")
    _record(c, today, as_json, lambda n, cmd: cmd.Pocket(contact, choice == "keep", _on(n, on), note))


@cli.command()
@click.argument("contact")
@click.argument("every")
@write_options
@pass_ctx
def cadence(c: Ctx, contact: str, every: str, on: str | None, note: str | None, today: str | None,
            as_json: bool) -> None:  # fmt: skip
    """Touch CONTACT every EVERY (6w, 42d, 2m: 1 day to 5 years); 'off' clears it."""
    every = ascii_digits(every, "cadence")
    _record(c, today, as_json, lambda n, cmd: cmd.Cadence(contact, parse_days(every), _on(n, on), note))


@cli.command(name="set")
@click.argument("contact")
@details_options
@write_options
@pass_ctx
def set_details(c: Ctx, contact: str, org: str | None, role: str | None, emails: tuple[str, ...],
                phones: tuple[str, ...], urls: tuple[str, ...], how_met: str | None, on: str | None,
                note: str | None, today: str | None, as_json: bool) -> None:  # fmt: skip
    """Record details of CONTACT: organisation, role, e-mails, phones, profile URLs, how you met.

    Per field the latest wins; a list given (--email ...) replaces the earlier list.
    """
    details = _details(org, role, emails, phones, urls, how_met)
    _record(c, today, as_json, lambda n, cmd: cmd.SetDetails(contact, details, _on(n, on), note))


@cli.command()
@click.argument("contact")
@click.argument("reason", type=click.Choice(REASONS))
@write_options
@pass_ctx
def why(c: Ctx, contact: str, reason: str, on: str | None, note: str | None, today: str | None,
        as_json: bool) -> None:  # fmt: skip
    """Give or change why CONTACT is in your network."""
    _record(c, today, as_json, lambda n, cmd: cmd.Why(contact, reason, _on(n, on), note))


@cli.command()
@click.argument("contact")
@click.argument("new_name")
@write_options
@pass_ctx
def rename(c: Ctx, contact: str, new_name: str, on: str | None, note: str | None, today: str | None,
           as_json: bool) -> None:  # fmt: skip
    """Give CONTACT a new name (history keeps the old one)."""
    _record(c, today, as_json, lambda n, cmd: cmd.Rename(contact, new_name, _on(n, on), note))


@cli.command()
@click.argument("contact")
@click.argument("day", metavar="DATE", required=False)
@click.option("--clear", is_flag=True, help="Remove the birthday: no more birthday reminders.")
@write_options
@pass_ctx
def birthday(c: Ctx, contact: str, day: str | None, clear: bool, on: str | None, note: str | None,
             today: str | None, as_json: bool) -> None:  # fmt: skip
    """Give or change CONTACT's birthday: DATE as YYYY-MM-DD, or MM-DD when the year is unknown.

    A kept contact's birthday is a yearly reminder (config: rules.birthdays,
    rules.birthday_notice_days); --clear removes it.
    """
    if clear == (day is not None):
        raise BadInput("give the birthday as YYYY-MM-DD or MM-DD, or --clear to remove it")
    _record(c, today, as_json, lambda n, cmd: cmd.SetBirthday(contact, day, _on(n, on), note))


@cli.command()
@click.argument("contact")
@read_options
@json_option
@pass_ctx
def show(c: Ctx, contact: str, today: str | None, known_at: str | None, as_json: bool) -> None:
    """Everything about CONTACT: details, pocket, reason, cadence, last interaction,
    balance, open promises, and who introduced whom."""
    from syncnet.app.agenda import birthday_of

    with c.network(today, known_at) as net:
        card = net.show(contact)
        born = birthday_of(card.view, net.unseal_text)  # a fact of its own, not one of the details
    render.show(card, as_json, born)


# ---------------------------------------------------------------- corrections
@cli.command()
@click.argument("fact")
@click.option("--reason", help="Why it was a mistake (stored sealed).")
@json_option
@pass_ctx
def retract(c: Ctx, fact: str, reason: str | None, as_json: bool) -> None:
    """Record that FACT (its id from 'syncnet history', 6 or more hex digits) was a mistake.

    Every read and the calendars ignore it from now on; history keeps it, marked. Retract
    a retraction to restore the fact.
    """
    _record(c, None, as_json, lambda n, cmd: cmd.Retract(fact, reason))


@cli.command()
@click.argument("fact")
@click.option("--on", "new_on", metavar="DATE", help="The corrected day it happened.")
@click.option("--minutes", type=click.IntRange(0, MAX_MINUTES), help="The corrected minutes.")
@click.option("--kind", help=f"The corrected kind of help: {', '.join(HELP_KINDS)}.")
@click.option("--channel", help=f"The corrected channel: {', '.join(CHANNELS)}.")
@click.option("--note", help="The corrected note (stored sealed).")
@json_option
@pass_ctx
def amend(c: Ctx, fact: str, new_on: str | None, minutes: int | None, kind: str | None,
          channel: str | None, note: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a correction of FACT (its id from 'syncnet history'): history shows both."""
    _record(c, None, as_json, lambda n, cmd: cmd.Amend(
        fact, None if new_on is None else parse_date(new_on, n.today(), "--on"), minutes, kind, channel,
        note))  # fmt: skip


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask (for scripts).")
@json_option
@pass_ctx
def undo(c: Ctx, yes: bool, as_json: bool) -> None:
    """Retract the last fact recorded in this store, after showing it (asks on a terminal);
    both facts of a 'meet --at' or a 'touch --next'."""
    with c.network() as net:
        last = net.last_command()
        if not last:
            raise BadInput("nothing to undo: no fact recorded yet")
        if not yes and not sys.stdin.isatty():
            raise BadInput("undo asks before it retracts: pass --yes when not on a terminal")
        if not as_json:
            for n, entry in enumerate(last):
                click.echo(f"{'Last fact' if not n else 'With it'}: {render.fact_line(entry)}")
        if not yes:
            if not click.confirm("Retract it?" if len(last) == 1 else "Retract both?", default=False):
                click.echo("Nothing retracted.")
                return
    # in one transaction; the retraction reported is that of the command's first fact
    _record(c, None, as_json, lambda n, cmd: [cmd.Retract(e.fact_id, "undo") for e in last])


@cli.command()
@click.argument("contact")
@click.option("--yes", is_flag=True, help="Do not ask (for scripts).")
@json_option
@pass_ctx
def forget(c: Ctx, contact: str, yes: bool, as_json: bool) -> None:
    """Erase CONTACT for good (cannot be undone; asks on a terminal).

    Their data key is destroyed with the fact that records it, so their name, notes,
    details, and the texts of requests and promises with them are unreadable from then
    on, even with your key and every file of the store. Dates and counts stay: other
    contacts' balances and the time split do not change, and 'syncnet history ID' shows
    that and when they were forgotten. Their reminders leave your calendars and the feed
    at the next sync. Backups made before hold them still (docs/reliability.md).
    """
    with c.network() as net:
        directory = net.directory()
        cid = directory.resolve(contact)
        label = directory.ref(cid).label()
        if not yes and not sys.stdin.isatty():
            raise BadInput("forget asks before it erases: pass --yes when not on a terminal")
        if not yes and not click.confirm(f"Forget {printable_text(label)} for good?", default=False):
            click.echo("Nothing erased.")
            return
    _record(c, None, as_json, lambda n, cmd: cmd.Forget(cid))
    if not as_json:
        click.echo("Their reminders leave your calendars at the next 'syncnet sync' (or the daemon's).")


@cli.group()
def goal() -> None:
    """Set goals, link contacts to them, mark them achieved, list and show them."""


@goal.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(GOAL_KINDS), default="career", show_default=True)
@write_options
@pass_ctx
def goal_add(c: Ctx, name: str, kind: str, on: str | None, note: str | None, today: str | None,
             as_json: bool) -> None:  # fmt: skip
    """Set a goal."""
    _record(c, today, as_json, lambda n, cmd: cmd.GoalAdd(name, kind, _on(n, on), note))


@goal.command("achieved")
@click.argument("goal_ref", metavar="GOAL")
@write_options
@pass_ctx
def goal_achieved(c: Ctx, goal_ref: str, on: str | None, note: str | None, today: str | None,
                  as_json: bool) -> None:  # fmt: skip
    """Mark GOAL (name or id) as achieved."""
    _record(c, today, as_json, lambda n, cmd: cmd.GoalAchieved(goal_ref, _on(n, on), note))


@goal.command("link")
@click.argument("contact")
@click.argument("goal_ref", metavar="GOAL")
@write_options
@pass_ctx
def goal_link(c: Ctx, contact: str, goal_ref: str, on: str | None, note: str | None,
              today: str | None, as_json: bool) -> None:  # fmt: skip
    """Link CONTACT to GOAL."""
    _record(c, today, as_json, lambda n, cmd: cmd.Link(contact, goal_ref, _on(n, on), note))


@goal.command("list")
@read_options
@json_option
@pass_ctx
def goal_list(c: Ctx, today: str | None, known_at: str | None, as_json: bool) -> None:
    """List goals (with --today: set by then, achieved only if by then)."""
    with c.network(today, known_at) as net:
        rows = net.goals()
    render.goals(rows, as_json)


@goal.command("show")
@click.argument("goal_ref", metavar="GOAL")
@read_options
@json_option
@pass_ctx
def goal_show(c: Ctx, goal_ref: str, today: str | None, known_at: str | None, as_json: bool) -> None:
    """GOAL (name or id) and its contacts by reason (commonality, role-model, complement),
    with the reasons no contact gives: a good network for a goal holds all three."""
    with c.network(today, known_at) as net:
        card = net.goal_card(goal_ref)
    render.goal_card(card, as_json)


# ---------------------------------------------------------------- reading
def goal_option(f: F) -> F:
    """--goal: a read of the facts of the contacts linked to GOAL only (docs/rules.md, "Goals")."""
    return click.option("--goal", "goal_ref", metavar="GOAL",
                        help="Only the contacts linked to GOAL (name or id) and their facts.")(f)  # fmt: skip


@cli.command()
@click.option("--until", metavar="DATE", help="Also list reminders that open by DATE.")
@goal_option
@read_options
@json_option
@pass_ctx
def due(c: Ctx, until: str | None, goal_ref: str | None, today: str | None, known_at: str | None,
        as_json: bool) -> None:  # fmt: skip
    """The agenda: follow-ups, seasonal touches, promises, cadences, planned meetings and
    birthdays that are open today (or open by --until), overdue first. Calendars hold
    what falls due within their horizon (60 days), so they may show a reminder before
    it opens here."""
    with c.network(today, known_at) as net:
        until_day = parse_date(until, net.today(), "--until") if until is not None else None
        goal = net.for_goal(goal_ref) if goal_ref is not None else None
        items = net.agenda(until=until_day)
        if as_json:
            doc = {"today": net.today().isoformat(), "agenda": [render.agenda_json(i) for i in items]}
            render.emit_json(doc, goal)
            return
        render.goal_header(goal)
        render.agenda(items)


@cli.command()
@click.argument("contact", required=False)
@click.option("--as-of", metavar="DATE", help="Count facts dated on or before DATE (as --today does).")
@goal_option
@read_options
@json_option
@pass_ctx
def balance(c: Ctx, contact: str | None, as_of: str | None, goal_ref: str | None, today: str | None,
            known_at: str | None, as_json: bool) -> None:  # fmt: skip
    """Reciprocity per contact (help given minus received) and promise credibility."""
    with c.network(today, known_at) as net:
        day = parse_date(as_of, net.today(), "--as-of") if as_of is not None else net.today()
        goal = net.for_goal(goal_ref) if goal_ref is not None else None
        rows, overall = net.balances(contact, day)
    render.balances(day, rows, overall, as_json, goal)


@cli.command()
@goal_option
@read_options
@json_option
@pass_ctx
def split(c: Ctx, goal_ref: str | None, today: str | None, known_at: str | None, as_json: bool) -> None:
    """How your networking time splits: give / self-presentation / ask (target 70-20-10)."""
    with c.network(today, known_at) as net:
        goal = net.for_goal(goal_ref) if goal_ref is not None else None
        s = net.time_split()
    render.time_split(s, as_json, goal)


@cli.command()
@goal_option
@read_options
@json_option
@pass_ctx
def warnings(c: Ctx, goal_ref: str | None, today: str | None, known_at: str | None, as_json: bool) -> None:
    """Typical mistakes: asked before giving, selling right after the first follow-up,
    taking, collecting, only reacting, not networking, wanting to impress, the time split
    off its target (docs/rules.md)."""
    with c.network(today, known_at) as net:
        goal = net.for_goal(goal_ref) if goal_ref is not None else None
        found = net.warnings()
    render.warnings(found, as_json, goal)


@cli.command()
@click.argument("contact")
@read_options
@json_option
@pass_ctx
def history(c: Ctx, contact: str, today: str | None, known_at: str | None, as_json: bool) -> None:
    """Every fact of the relationship with CONTACT, in order, with its id and when it was
    recorded; retracted facts stay, marked, and amendments show beside the original.

    With --today, only facts dated on or before that day; with --known-at, only those
    recorded by then. Use a fact's id with 'syncnet retract' or 'syncnet amend'.
    """
    from syncnet.app.hub import recorded_by

    with c.network(today, known_at) as net:
        ref, entries = net.history(contact)
        by = recorded_by(net, [e.fact_id for e in entries])  # in a team's hub: whose device
    render.history(ref, entries, as_json, by)


@cli.command()
@click.option("--goal", "goal_ref", metavar="GOAL", help="Only contacts linked to GOAL.")
@click.option("--org", metavar="TEXT", help="Only contacts whose organisation contains TEXT (any case).")
@read_options
@json_option
@pass_ctx
def contacts(c: Ctx, goal_ref: str | None, org: str | None, today: str | None, known_at: str | None,
             as_json: bool) -> None:  # fmt: skip
    """List contacts, with why they matter and when you last interacted.

    With --today, as they were on that day (met by then); with --known-at, as recorded by then.
    In a team's hub, also who of you met each contact: 'contacts --org ACME' answers "who of
    us knows someone at ACME?".
    """
    from syncnet.app.hub import met_by

    with c.network(today, known_at) as net:
        rows = net.contacts(goal_ref, org=org)
        met = met_by(net)  # with a hub: who of the team met each contact
    render.contacts(rows, as_json, met)


# ---------------------------------------------------------------- calendars
@cli.command()
@click.option("--target", "names", multiple=True, metavar="NAME", help="Only this target; repeatable.")
@click.option("--dry-run", is_flag=True, help="Show what would change; send nothing that writes.")
@click.option("--force", is_flag=True, help="Allow emptying a calendar when the agenda is empty.")
@today_option
@json_option
@pass_ctx
def sync(c: Ctx, names: tuple[str, ...], dry_run: bool, force: bool, today: str | None,
         as_json: bool) -> None:  # fmt: skip
    """Bring every target (CalDAV calendars, .ics files) in step with the agenda.

    Prints what was created, updated and deleted. Targets are configured under
    [targets.NAME] in the config (see config.example.toml).
    """
    from syncnet.app.calendars import Outcome
    from syncnet.bootstrap import joined_hub, sync_target, target_by_name
    from syncnet.errors import HubError

    with c.network(today) as net:
        targets = [target_by_name(net, n) for n in names] if names else list(net.config.targets)
        if not targets:
            raise BadInput("no targets configured: add a [targets.NAME] table to the config")
        hub = joined_hub(net)  # with a hub, one device pushes to a shared calendar at a time
        outcomes = []
        try:
            for t in targets:
                try:
                    free = hub is None or hub.may_push(t)
                except HubError as e:
                    why = f"target {t.name}: its lease cannot be asked for: {e}"
                    outcomes.append(Outcome(t.name, error=why, cause=e))
                    continue
                if not free:
                    holder = "another process of the hub (a daemon here or elsewhere) pushes to it"
                    skipped = {"skipped": holder}
                    outcomes.append(Outcome(t.name, extra=skipped))
                    continue
                outcomes.append(sync_target(net, t, dry_run=dry_run, force=force, today=net.today(),
                                            progress=_progress(f"{t.name}: created")))  # fmt: skip
        finally:
            if hub is not None:
                hub.hub.close()
        unlabelled = not as_json and any(
            not a.summary for o in outcomes if o.report for a in o.report.actions
        )
        directory = net.directory() if unlabelled else None

    def label(a: Any) -> str:
        if a.summary:
            return str(a.summary)
        who = directory.ref(a.contact_id).label() if directory and a.contact_id else "?"
        return f"a reminder for {who} ({a.uid.split('@')[0][:8]})"

    render.sync_report(outcomes, dry_run, as_json, label)
    render.sync_errors(outcomes)
    failed = [o for o in outcomes if o.error is not None]
    if failed:
        raise click.exceptions.Exit(max(exit_code_for(o.cause) for o in failed))


@cli.command()
@today_option
@json_option
@pass_ctx
def status(c: Ctx, today: str | None, as_json: bool) -> None:
    """Per target: the last success, the last error and what is pending."""
    from syncnet.app.calendars import status as target_status

    with c.network(today) as net:
        rows = target_status(net, net.today())
    render.status(rows, as_json)


@cli.command()
@json_option
@pass_ctx
def verify(c: Ctx, as_json: bool) -> None:
    """Check the whole store against its seals; changes nothing.

    Every fact against the seal of the log (an edited, moved, swapped, deleted or
    added fact, a log cut short), every wrapped key, every view row, the views'
    position and history index, and every stored sync state. Exit 0 when the store
    is whole, 1 with one line per problem otherwise. What is derived from the log is
    rebuilt by 'syncnet repair'; damaged facts are left out of every read, and a
    backup is the way to get them back.
    """
    from syncnet.app import integrity
    from syncnet.entrypoints.terminal import printable

    with open_network(c.home, c.config, _passphrase(c.home)) as net:
        report = integrity.verify(net, _progress("verifying facts"))
    if as_json:
        render.emit_json(report.to_json())
    elif report.whole:
        facts, keys = render.plural(report.facts, "fact"), render.plural(report.keys, "key")
        click.echo(f"The store is whole: {facts} and {keys} match their seals.")
    else:
        click.echo(f"The store is damaged: {len(report.problems())} problem(s) in {report.facts:,} facts.")
        for line in report.problems():
            click.echo(f"  {printable(line)}")
    if not report.whole:
        raise click.exceptions.Exit(1)


@cli.command()
@json_option
@pass_ctx
def repair(c: Ctx, as_json: bool) -> None:
    """Rebuild what is derived from the log: the views and the history index, and
    drop stored sync states that no longer open (the next sync rebuilds them with a
    full listing). Facts are never changed: damaged ones stay left out."""
    from syncnet.app import integrity

    with open_network(c.home, c.config, _passphrase(c.home)) as net:
        done = integrity.repair(net, _progress("folding facts into views"))
    if as_json:
        render.emit_json(done)
        return
    click.echo(f"Views rebuilt from {done['views_rebuilt_from']:,} facts.")
    for item in done["state_dropped"]:
        click.echo(f"Dropped the damaged state {item['scope']} ({item['key']}): the next sync rebuilds it.")
    for position, why in done["damaged_facts"].items():
        click.echo(f"The fact at position {position} is damaged ({why}): left out; "
                   "restore a backup to get it back.")  # fmt: skip


@cli.command()
@click.option("--passphrase", "to_passphrase", is_flag=True,
              help="Protect the store with a new passphrase: SYNCNET_NEW_PASSPHRASE, or typed twice "
                   "at a prompt. The default for a passphrase store.")  # fmt: skip
@click.option("--key-file", "to_key_file", is_flag=True,
              help="Protect the store with a new random key file. The default for a key-file store.")
@json_option
@pass_ctx
def rekey(c: Ctx, to_passphrase: bool, to_key_file: bool, as_json: bool) -> None:
    """Re-encrypt the whole store under a new key: rotate the key, or switch between a
    key file and a passphrase.

    Every fact, every wrapped key and every sync state is encrypted again under a new
    store key, and the log sealed again; the views are rebuilt. Afterwards the old key
    or passphrase opens nothing in the store (backups made before open with the old one
    only). The store's current key opens it as usual (SYNCNET_PASSPHRASE, passphrase_cmd,
    the keyring, a prompt). Run it when nothing else uses the store: it refuses while the
    daemon, the feed server or another command has it open. Killed at any moment, the
    store opens afterwards with the old key, or, once the switch was made, with the new.
    A damaged store is refused (run 'syncnet verify').
    """
    from syncnet.entrypoints.terminal import printable
    from syncnet.storage.paths import data_dir
    from syncnet.storage.store import key_mode, rekey_store

    if to_passphrase and to_key_file:
        raise BadInput("--passphrase and --key-file exclude each other: choose what protects the store")
    home = data_dir(c.home)
    current = key_mode(home)
    old_passphrase = _passphrase(c.home)
    new_passphrase = None
    if to_passphrase or (current == "passphrase" and not to_key_file):
        new_passphrase = os.environ.get("SYNCNET_NEW_PASSPHRASE") or None
        if new_passphrase is None and sys.stdin.isatty():
            new_passphrase = click.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
        if not new_passphrase:
            raise BadInput("a new passphrase is needed: set SYNCNET_NEW_PASSPHRASE or run on a terminal")
        if new_passphrase == old_passphrase:
            raise BadInput("the new passphrase is the old one: choose another")
    show = _progress("re-encrypting facts")
    done, mode = rekey_store(home, old_passphrase, new_passphrase, show)
    if show is not None:
        click.echo(err=True)
    with open_network(c.home, c.config, new_passphrase) as net:  # the views, rebuilt under the new key
        net.refresh(_progress("folding facts into views"))
    key_file = home / "key"
    if as_json:
        dropped = [{"scope": s, "key": k} for s, k in done.state_dropped]
        render.emit_json({"key": mode, "key_file": str(key_file) if mode == "file" else None,
                          "facts": done.facts, "keys": done.keys, "state": done.state,
                          "state_dropped": dropped})  # fmt: skip
        return
    how = f"a new key file {key_file} (mode 0600)" if mode == "file" else "the new passphrase"
    facts, keys = render.plural(done.facts, "fact"), render.plural(done.keys, "data key")
    states = render.plural(done.state, "sync state")
    click.echo(printable(f"Rekeyed: {facts}, {keys} and {states} are now encrypted under {how}; the old key "
                         "opens nothing."))
    for scope, key in done.state_dropped:
        click.echo(printable(f"Dropped the damaged state {scope} ({key}): the next sync rebuilds it."))
    if mode == "file":
        click.echo("Back up the new key file (backups made before this open with the old key only).")
    else:
        click.echo("Update passphrase_cmd's secret or the keyring entry if you use them; backups made "
                   "before this open with the old passphrase only.")  # fmt: skip


# ---------------------------------------------------------------- backup / restore
BACKUP_PROGRESS_FROM = 64 << 20  # a store this large (bytes) shows the copy's progress on a terminal


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@json_option
@pass_ctx
def backup(c: Ctx, file: Path, force: bool, as_json: bool) -> None:
    """Write a consistent, encrypted copy of the store to FILE (created 0600).

    Safe while the daemon, the feed server and other commands use the store: the copy
    is one snapshot of it (SQLite's online backup), written to FILE.tmp and renamed.
    An existing FILE is kept unless --force. The key is never in the backup: keep a
    copy of the key file apart from it, as 'syncnet restore FILE' needs it (a passphrase
    store needs only its passphrase). Nor is the config file in it.
    """
    from syncnet.app import backup as backups
    from syncnet.entrypoints.terminal import printable

    net = open_network(c.home, c.config, _passphrase(c.home))
    try:
        show = _progress("backing up, MiB copied")
        small = net.store.url is not None or net.store.db_path.stat().st_size < BACKUP_PROGRESS_FROM
        if show is None or small:
            done = backups.backup(net, file, force=force)
        else:
            done = backups.backup(net, file, force=force, progress=lambda copied: show(copied >> 20))
            click.echo(err=True)  # end the progress line
    finally:
        net.close()
    if as_json:
        render.emit_json(done.to_json())
        return
    facts = render.plural(done.facts, "fact")
    click.echo(f"Backed up {facts} to {printable(str(file))} ({done.size:,} bytes).")
    if done.key_file is not None:
        key_file = printable(str(done.key_file))
        click.echo(f"The key is not in the backup: keep a copy of the key file {key_file} apart from it; "
                   "without the key the backup cannot be restored.")  # fmt: skip
    else:
        click.echo("The key is not in the backup: restoring it needs the store's passphrase.")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key-file", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
              help="The store's key file, copied into the data directory (mode 0600).")  # fmt: skip
@json_option
@pass_ctx
def restore(c: Ctx, file: Path, key_file: Path | None, as_json: bool) -> None:
    """Restore the backup FILE into an empty or new data directory ('syncnet --home DIR
    restore FILE', or SYNCNET_HOME).

    Nothing lands in the data directory unless the backup is whole: a syncnet backup
    of a known format, its checksum, SQLite's integrity check, and the store opened with
    its key and verified as 'syncnet verify' does. A key-file store needs its key: put
    it in the data directory as 'key' beforehand, or give --key-file PATH; a passphrase
    store needs its passphrase, from where the other commands take it: SYNCNET_PASSPHRASE,
    the config's passphrase_cmd (--config FILE, or the default config file), the
    keyring entry of the data directory, or a prompt. A data directory that holds a
    store is refused; one holding only the key or config.toml keeps them.
    """
    import getpass

    from syncnet.app import backup as backups
    from syncnet.entrypoints.terminal import printable
    from syncnet.storage.paths import data_dir
    from syncnet.storage.secrets import passphrase_for

    ask = (lambda: getpass.getpass("syncnet passphrase: ")) if sys.stdin.isatty() else None
    done = backups.restore(file, data_dir(c.home), key_file=key_file,
                           passphrase=lambda: passphrase_for(c.home, c.config, ask),
                           progress=_progress("verifying facts"))  # fmt: skip
    if as_json:
        render.emit_json(done.to_json())
        return
    how = f"key file {done.key_file}" if done.key_file is not None else "its passphrase"
    click.echo(printable(f"Restored {done.facts:,} facts from {file} into {done.home}, protected by {how}; "
                         "the store verifies whole."))  # fmt: skip


@cli.group()
def feed() -> None:
    """The ICS subscription feed: its URL and its secret."""


def _host(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--bind HOST: refused when it holds a control character or a space (a newline would
    split the printed URL or a log line in two)."""
    from syncnet.domain.config import host_problem, shown

    if value is not None and (problem := host_problem(value)) is not None:
        raise BadInput(f"--bind {shown(value)} is not a host name or address: {problem}")
    return value


@feed.command("url")
@click.option("--bind", metavar="HOST", callback=_host,
              help="The host in the URL (default: where 'serve' listens).")  # fmt: skip
@click.option("--port", type=click.IntRange(1, 65535), help="The port (default: where 'serve' listens).")
@pass_ctx
def feed_url(c: Ctx, bind: str | None, port: int | None) -> None:
    """Print the feed's URL (the one place its secret is shown).

    The address is the one 'syncnet serve' last listened on (its --bind and --port),
    else feed.bind and feed.port from the config.
    """
    from syncnet.app.calendars import feed_address, feed_secret

    with c.network() as net:
        secret = feed_secret(net)
        served_bind, served_port = feed_address(net)
    click.echo(f"http://{bind or served_bind}:{port or served_port}/feed/{secret}.ics")


@feed.command("rotate")
@pass_ctx
def feed_rotate(c: Ctx) -> None:
    """Replace the feed's secret: the old URL stops working."""
    from syncnet.app.calendars import feed_secret

    with c.network() as net:
        feed_secret(net, rotate=True)
    click.echo("Feed secret replaced; 'syncnet feed url' shows the new URL.")


@cli.command()
@click.option("--bind", metavar="HOST", callback=_host,
              help="Address to listen on (default: feed.bind, 127.0.0.1).")  # fmt: skip
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: feed.port, 8765).")
@pass_ctx
def serve(c: Ctx, bind: str | None, port: int | None) -> None:
    """Serve the agenda as a calendar subscription (ICS feed) until stopped.

    Loopback only by default; --bind 0.0.0.0 exposes it to the network (the URL's
    secret is then the only protection: prefer a reverse proxy with TLS).
    """
    from dataclasses import replace

    from syncnet.app.calendars import remember_feed_address
    from syncnet.bootstrap import feed_app, serve_feed

    with c.network() as net:
        f = net.config.feed
        net.config = replace(net.config, feed=replace(f, bind=bind or f.bind, port=port or f.port))
        app = feed_app(net)
        f = net.config.feed

        def listening() -> None:
            remember_feed_address(net, f.bind, f.port)  # only an address that was bound
            where = f"http://{f.bind}:{f.port}/feed/<secret>.ics"
            click.echo(f"Serving the feed on {where} ('syncnet feed url' shows the secret); "
                       "SIGTERM or Ctrl-C stops it", err=True)  # fmt: skip

        serve_feed(app, f.bind, f.port, listening)


@cli.command()
@click.option("--poll", type=click.FloatRange(min=0.1, max=3600.0), default=1.0, show_default=True,
              help="Seconds between two looks at the log (0.1 to 3600).")  # fmt: skip
@click.option("--verbose", "-v", is_flag=True,
              help="Also log 'debug:' lines: new facts, each sync (counts, requests, duration), "
                   "remote checks, backoffs, day changes. Counts and target names only, "
                   "never a contact.")  # fmt: skip
@pass_ctx
def daemon(c: Ctx, poll: float, verbose: bool) -> None:
    """Keep every target in step: sync on new facts, at midnight, and retry failures.

    With a hub configured (hub.url, or SYNCNET_HUB_URL) it also exchanges facts with the
    hub as they come, and pushes to a CalDAV calendar only while no other device of the
    hub does (docs/hub.md). Stops cleanly on SIGTERM or Ctrl-C. docs/sync.md has a
    systemd user unit.
    """
    import os

    from syncnet.bootstrap import hub_exchange
    from syncnet.entrypoints.daemon import run_daemon

    with c.network() as net:
        exchange = hub_exchange(net) if net.config.hub.url or os.environ.get("SYNCNET_HUB_URL") else None
        try:
            code = run_daemon(net, poll, verbose, exchange, net.config.hub.poll)
        finally:
            if exchange is not None:
                exchange.hub.close()
    if code:
        raise click.exceptions.Exit(code)
