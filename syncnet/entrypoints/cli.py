"""The command line: `syncnet COMMAND`. Every command is one call into Network.

Exit codes: 0 success, 2 bad input or usage (nothing written), 1 an operation
failed. Errors are one line on stderr. `--json` prints one JSON document
(docs/json.md).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from syncnet.app.network import Network, Recorded
from syncnet.domain.dates import parse_date, parse_days
from syncnet.domain.vocabulary import CHANNELS, GOAL_KINDS, HELP_KINDS, REASONS
from syncnet.errors import BadInput, SyncnetError
from syncnet.storage.store import init_store

if TYPE_CHECKING:
    from syncnet.domain import commands as cmd

F = TypeVar("F", bound=Callable[..., Any])
SCHEMA_VERSION = 1


class Ctx:
    def __init__(self, home: str | None, config: str | None) -> None:
        self.home = home
        self.config = config

    @contextmanager
    def network(self, today: str | None = None) -> Iterator[Network]:
        net = Network.open(self.home, self.config, passphrase=_passphrase(self.home))
        try:
            if today:
                net.fixed_today = parse_date(today, net.today())
            net.refresh(progress=_progress("folding facts into views"))
            yield net
        finally:
            net.close()


def _passphrase(home: str | None) -> str | None:
    """SYNCNET_PASSPHRASE, or a prompt on a terminal for a passphrase store."""
    env = os.environ.get("SYNCNET_PASSPHRASE")
    if env:
        return env
    from syncnet.storage.paths import data_dir
    from syncnet.storage.store import key_mode

    if key_mode(data_dir(home)) == "passphrase" and sys.stdin.isatty():
        import getpass

        return getpass.getpass("syncnet passphrase: ") or None
    return None


def _progress(what: str) -> Callable[[int], None] | None:
    """A counter on stderr for long work, only on a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int) -> None:
        click.echo(f"\r{what}: {done:,}", err=True, nl=False)

    return show


def emit_json(doc: dict[str, Any]) -> None:
    click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **doc}, indent=2, ensure_ascii=False))


def table(rows: list[list[str]], header: list[str]) -> None:
    if not rows:
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def today_option(f: F) -> F:
    return click.option("--today", metavar="DATE", help="Evaluate as if today were DATE (YYYY-MM-DD).")(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def write_options(f: F) -> F:
    f = click.option("--on", metavar="DATE", help="When it happened (default: today).")(f)
    f = click.option("--note", help="A private note, stored sealed.")(f)
    return json_option(today_option(f))


def minutes_option(f: F) -> F:
    return click.option("--minutes", type=click.IntRange(min=0), help="Minutes of your time it took.")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--home", metavar="DIR", help="Data directory (default: $SYNCNET_HOME or XDG data dir).")
@click.option("--config", metavar="FILE", help="Config file (default: <home>/config.toml or XDG).")
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
@pass_ctx
def init(c: Ctx, ask_passphrase: bool) -> None:
    """Create an encrypted store (never replaces an existing one).

    With SYNCNET_PASSPHRASE set (or --passphrase), the key is derived from the
    passphrase (scrypt); otherwise a random 256-bit key is written to a key file
    only you can read.
    """
    from syncnet.storage.paths import data_dir

    home = data_dir(c.home)
    passphrase = os.environ.get("SYNCNET_PASSPHRASE") or None
    if ask_passphrase and not passphrase:
        passphrase = click.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    from syncnet.domain.config import load_config
    from syncnet.storage.paths import config_path

    load_config(config_path(c.home, c.config))  # a broken config fails before anything is created
    created, mode = init_store(home, passphrase)
    how = "passphrase (SYNCNET_PASSPHRASE)" if mode == "passphrase" else f"key file {home / 'key'}"
    if created:
        from syncnet.bootstrap import feed_secret

        with Network.open(home, c.config, passphrase=passphrase) as net:
            feed_secret(net)  # the feed's secret exists from the start; 'feed rotate' replaces it
        click.echo(f"Created a syncnet store in {home}, protected by {how}.")
        if mode == "file":
            click.echo("Back up the key file: without it the store cannot be read.")
    else:
        click.echo(f"A syncnet store already exists in {home} (protected by {how}); left untouched.")


@cli.command()
@click.option("--home", "demo_home", metavar="DIR", help="Build the demo here instead of a temp dir.")
@click.option("--caldav-url", metavar="URL", envvar="SYNCNET_DEMO_CALDAV_URL",
              help="Also push the reminders to this CalDAV server or calendar "
                   "(env SYNCNET_DEMO_CALDAV_URL; user and password from SYNCNET_DEMO_USER "
                   "and SYNCNET_DEMO_PASSWORD).")  # fmt: skip
@today_option
@json_option
def demo(demo_home: str | None, caldav_url: str | None, today: str | None, as_json: bool) -> None:
    """Build a small sample network in a temporary home, print its agenda and
    write its reminders to an .ics file (and to a CalDAV calendar, if given).

    Never touches your own store.
    """
    import tempfile

    from syncnet.app.demo import build_demo
    from syncnet.bootstrap import sync_target, write_ics
    from syncnet.domain.config import Target

    home = Path(demo_home) if demo_home else Path(tempfile.mkdtemp(prefix="syncnet-demo-"))
    if demo_home and (home / "store.json").exists():
        raise BadInput(f"{home} already holds a store: the demo needs an empty directory")
    init_store(home)
    day = parse_date(today, date.today()) if today else date.today()
    with Network.open(home, home / "config.toml", today=day) as net:
        count = build_demo(net)
        items = net.agenda()
        ics = home / "reminders.ics"
        n_ics = write_ics(net, ics)
        pushed = None
        if caldav_url:
            target = Target("demo", "caldav", url=caldav_url, calendar="syncnet-demo",
                            user=os.environ.get("SYNCNET_DEMO_USER", ""))  # fmt: skip
            pushed = sync_target(net, target)
        if as_json:
            emit_json({"home": str(home), "facts": count, "ics": str(ics), "ics_items": n_ics,
                       "caldav": None if pushed is None else {
                           "ok": pushed.error is None, "error": pushed.error,
                           "created": 0 if pushed.report is None else pushed.report.count("created")},
                       "agenda": [_agenda_json(i) for i in items]})  # fmt: skip
        else:
            click.echo(f"Demo network: {count} facts recorded in {home}")
            click.echo(f"Agenda for {day.isoformat()}:\n")
            _print_agenda(items)
            click.echo(f"\n{n_ics} reminders (overdue and due within 60 days) written to {ics}")
            if pushed is not None and pushed.report is not None:
                click.echo(f"{pushed.report.count('created')} reminders pushed to {caldav_url}")
            click.echo(f"Explore it: syncnet --home {home} balance | split | warnings | contacts")
        if pushed is not None and pushed.error is not None:
            click.echo(f"syncnet: error: {pushed.error}", err=True)
            raise click.exceptions.Exit(exit_code_for(pushed.cause))


# ---------------------------------------------------------------- recording
def _record(
    c: Ctx, today: str | None, as_json: bool, make: Callable[[Network, ModuleType], cmd.Command]
) -> None:
    """Build a command with `make(network, syncnet.commands)`, record it, and report."""
    from syncnet.domain import commands

    with c.network(today) as net:
        command = make(net, commands)
        result = net.record(command)
        contact = None
        if result.contact_id:
            net.refresh()  # fold the new facts in first: a contact just met has no view yet
            contact = net.directory().ref(result.contact_id)
        if as_json:
            emit_json({"recorded": _recorded_json(result, contact)})
            return
        click.echo(_recorded_text(result, contact))


def _recorded_json(r: Recorded, contact: Any) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "fact_id": r.fact_id,
        "contact": None
        if contact is None
        else {"id": contact.id, "short": contact.short, "name": contact.name},
        "promise_id": r.promise_id,
        "promise_short": r.promise_id[:8] if r.promise_id else None,
        "goal_id": r.goal_id,
    }


def _recorded_text(r: Recorded, contact: Any) -> str:
    who = f" {contact.label()}" if contact else ""
    if r.kind == "promise" and r.promise_id:
        return f"Recorded promise {r.promise_id[:8]} to{who}."
    if r.kind == "goaladd" and r.goal_id:
        return f"Recorded goal {r.goal_id[:8]}."
    words = {"goalachieved": "goal achieved", "link": "goal link", "pitch": "self-presentation"}
    return f"Recorded {words.get(r.kind, r.kind)}{':' + who if who else ''}."


def _on(net: Network, on: str | None) -> date | None:
    return parse_date(on, net.today()) if on else None


@cli.command()
@click.argument("name")
@click.option("--channel", default="other", show_default=True, help=f"Where you met: {', '.join(CHANNELS)}.")
@click.option("--why", help=f"Why they matter: {', '.join(REASONS)}.")
@click.option("--where", help="The place or event (stored sealed).")
@click.option("--goal", "goals", multiple=True, help="Link to a goal (name or id); repeatable.")
@click.option("--new", is_flag=True, help="A different person with the name of an existing contact.")
@minutes_option
@write_options
@pass_ctx
def meet(c: Ctx, name: str, channel: str, why: str | None, where: str | None, goals: tuple[str, ...],
         new: bool, minutes: int | None, on: str | None, note: str | None, today: str | None,
         as_json: bool) -> None:  # fmt: skip
    """Record a first meeting: adds NAME as a contact."""
    _record(c, today, as_json, lambda n, cmd: cmd.Meet(
        name, channel, why, where, goals, minutes, _on(n, on), note, new))  # fmt: skip


@cli.command()
@click.argument("contact")
@click.option("--by", type=click.Choice(["me", "them"]), default="me", show_default=True,
              help="Who initiated it.")  # fmt: skip
@click.option("--channel", help=f"How: {', '.join(CHANNELS)}.")
@minutes_option
@write_options
@pass_ctx
def touch(c: Ctx, contact: str, by: str, channel: str | None, minutes: int | None, on: str | None,
          note: str | None, today: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a later contact: coffee, call, mail, message, event."""
    _record(c, today, as_json, lambda n, cmd: cmd.Touch(contact, by, channel, minutes, _on(n, on), note))


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
        contact, what, parse_date(due, n.today()), _on(n, on), note))  # fmt: skip


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
@click.argument("contact")
@click.argument("choice", type=click.Choice(["keep", "drop", "let-go"]))
@write_options
@pass_ctx
def pocket(c: Ctx, contact: str, choice: str, on: str | None, note: str | None, today: str | None,
           as_json: bool) -> None:  # fmt: skip
    """Put CONTACT in the right pocket (keep) or the left one (drop: no more reminders)."""
    _record(c, today, as_json, lambda n, cmd: cmd.Pocket(contact, choice == "keep", _on(n, on), note))


@cli.command()
@click.argument("contact")
@click.argument("every")
@write_options
@pass_ctx
def cadence(c: Ctx, contact: str, every: str, on: str | None, note: str | None, today: str | None,
            as_json: bool) -> None:  # fmt: skip
    """Touch CONTACT every EVERY (6w, 42d, 2m); 'off' clears it."""
    _record(c, today, as_json, lambda n, cmd: cmd.Cadence(contact, parse_days(every), _on(n, on), note))


@cli.group()
def goal() -> None:
    """Set, link, achieve and list goals."""


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
@json_option
@pass_ctx
def goal_list(c: Ctx, as_json: bool) -> None:
    """List goals."""
    with c.network() as net:
        rows = net.goals()
    if as_json:
        emit_json({"goals": [
            {"id": g.id, "short": g.id[:8], "name": name, "kind": g.kind, "set_on": g.set_on,
             "achieved_on": g.achieved_on} for g, name in rows]})  # fmt: skip
        return
    table([[g.id[:8], name or "[forgotten]", g.kind, g.set_on, g.achieved_on or ""] for g, name in rows],
          ["id", "goal", "kind", "set", "achieved"])  # fmt: skip


# ---------------------------------------------------------------- reading
def _agenda_json(i: Any) -> dict[str, Any]:
    r = i.reminder
    return {
        "rule": r.rule, "state": i.state, "due": r.due.isoformat(), "opens": r.opens.isoformat(),
        "period": r.period, "key": r.key, "summary": i.summary,
        "contact": {"id": i.contact.id, "short": i.contact.short, "name": i.contact.name},
        "promise": None if not r.promise_id
        else {"id": r.promise_id, "short": r.promise_id[:8], "what": i.promise},
    }  # fmt: skip


def _print_agenda(items: list[Any]) -> None:
    if not items:
        click.echo("Nothing is due.")
        return
    table([[i.state, i.reminder.due.isoformat(), i.reminder.rule,
            i.reminder.promise_id[:8] if i.reminder.promise_id else i.contact.short, i.summary]
           for i in items], ["state", "due", "rule", "id", "what"])  # fmt: skip


@cli.command()
@click.option("--until", metavar="DATE", help="Also list reminders that open by DATE.")
@today_option
@json_option
@pass_ctx
def due(c: Ctx, until: str | None, today: str | None, as_json: bool) -> None:
    """The agenda: follow-ups, seasonal touches, promises and cadences; overdue first."""
    with c.network(today) as net:
        until_day = parse_date(until, net.today()) if until else None
        items = net.agenda(until=until_day)
        if as_json:
            emit_json({"today": net.today().isoformat(), "agenda": [_agenda_json(i) for i in items]})
            return
        _print_agenda(items)


@cli.command()
@click.argument("contact", required=False)
@click.option("--as-of", metavar="DATE", help="Count facts dated on or before DATE.")
@today_option
@json_option
@pass_ctx
def balance(c: Ctx, contact: str | None, as_of: str | None, today: str | None, as_json: bool) -> None:
    """Reciprocity per contact (help given minus received) and promise credibility."""
    with c.network(today) as net:
        day = parse_date(as_of, net.today()) if as_of else net.today()
        rows, (kept_n, due_n, cred) = net.balances(contact, day)
    if as_json:
        emit_json({
            "as_of": day.isoformat(),
            "credibility": {"kept_on_time": kept_n, "came_due": due_n, "ratio": cred},
            "contacts": [{
                "contact": {"id": ref.id, "short": ref.short, "name": ref.name},
                "given": b.given, "received": b.received, "balance": b.balance,
                "given_minutes": b.given_minutes, "received_minutes": b.received_minutes,
                "balance_minutes": b.balance_minutes, "requests_made": b.requests_made,
                "requests_received": b.requests_received, "open_promises": b.open_promises,
                "promises_came_due": b.promises_due, "promises_kept_on_time": b.promises_kept_on_time,
                "credibility": b.credibility,
            } for ref, b in rows],
        })  # fmt: skip
        return
    table([[ref.label(), str(b.given), str(b.received), f"{b.balance:+d}", f"{b.balance_minutes:+d}",
            f"{b.requests_made}/{b.requests_received}", str(b.open_promises),
            "-" if b.credibility is None else f"{b.credibility:.0%}"] for ref, b in rows],
          ["contact", "given", "received", "balance", "minutes", "asked/asked-by", "open promises",
           "credibility"])  # fmt: skip
    overall = "no promise has come due yet" if cred is None else f"{kept_n}/{due_n} = {cred:.0%}"
    click.echo(f"\nPromise credibility as of {day.isoformat()}: {overall}")


@cli.command()
@today_option
@json_option
@pass_ctx
def split(c: Ctx, today: str | None, as_json: bool) -> None:
    """How your networking time splits: give / self-presentation / ask (target 70-20-10)."""
    with c.network(today) as net:
        s = net.time_split()
    parts = ("give", "self", "ask")
    if as_json:
        emit_json({"window": {"start": s.start.isoformat(), "end": s.end.isoformat()},
                   "total_minutes": s.total,
                   "parts": {p: {"minutes": getattr(s, p), "share": s.share(p), "target": s.target[p] / 100}
                             for p in parts}})  # fmt: skip
        return
    click.echo(f"Time split {s.start.isoformat()} .. {s.end.isoformat()} ({s.total} minutes)")
    table([[p, str(getattr(s, p)), "-" if s.share(p) is None else f"{s.share(p):.0%}", f"{s.target[p]}%"]
           for p in parts], ["part", "minutes", "actual", "target"])  # fmt: skip


@cli.command()
@today_option
@json_option
@pass_ctx
def warnings(c: Ctx, today: str | None, as_json: bool) -> None:
    """Typical mistakes: asked before giving, only reacting, collecting, taking, not networking."""
    with c.network(today) as net:
        found = net.warnings()
    if as_json:
        emit_json({"warnings": [
            {"kind": w.kind, "on": w.on.isoformat() if w.on else None, "detail": w.detail,
             "contact": None if ref is None else {"id": ref.id, "short": ref.short, "name": ref.name}}
            for w, ref in found]})  # fmt: skip
        return
    if not found:
        click.echo("No warnings.")
    for w, ref in found:
        who = f"{ref.label()}: " if ref else ""
        when = f" ({w.on.isoformat()})" if w.on else ""
        click.echo(f"{w.kind}: {who}{w.detail}{when}")


@cli.command()
@click.argument("contact")
@today_option
@json_option
@pass_ctx
def history(c: Ctx, contact: str, today: str | None, as_json: bool) -> None:
    """Every fact of the relationship with CONTACT, in order, with when it was recorded.

    With --today, only facts dated on or before that day.
    """
    with c.network(today) as net:
        ref, entries = net.history(contact)
        entries = [e for e in entries if e.on <= net.today()]
    if as_json:
        emit_json({"contact": {"id": ref.id, "short": ref.short, "name": ref.name},
                   "events": [{"on": e.on.isoformat(), "recorded": e.recorded.isoformat(), "kind": e.kind,
                               "fact_id": e.fact_id, "details": e.details} for e in entries]})  # fmt: skip
        return
    click.echo(f"History of {ref.label()}:")
    for e in entries:
        detail = ", ".join(
            f"{k}={v}" for k, v in e.details.items() if k not in ("contact_id",) and v is not None
        )
        click.echo(f"{e.on.isoformat()}  {e.kind:<11} {detail}   [recorded {e.recorded:%Y-%m-%d %H:%M} UTC]")


@cli.command()
@click.option("--goal", "goal_ref", metavar="GOAL", help="Only contacts linked to GOAL.")
@today_option
@json_option
@pass_ctx
def contacts(c: Ctx, goal_ref: str | None, today: str | None, as_json: bool) -> None:
    """List contacts, with why they matter and when you last interacted.

    With --today, only contacts met on or before that day.
    """
    with c.network(today) as net:
        rows = [r for r in net.contacts(goal_ref) if r[1].met_on <= net.today().isoformat()]
    if as_json:
        emit_json({"contacts": [
            {"id": ref.id, "short": ref.short, "name": ref.name, "channel": v.channel, "why": v.why,
             "pocket": "keep" if v.keep else "drop", "met_on": v.met_on,
             "last_interaction": v.last_interaction or None, "cadence_days": v.cadence_days,
             "goals": names} for ref, v, names in rows]})  # fmt: skip
        return
    table([[ref.short, ref.name or "[forgotten]", v.why or "(no reason)", v.channel,
            "keep" if v.keep else "drop", v.met_on, v.last_interaction, ", ".join(names)]
           for ref, v, names in rows],
          ["id", "name", "why", "channel", "pocket", "met", "last", "goals"])  # fmt: skip


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
    from syncnet.bootstrap import sync_target, target_by_name

    with c.network(today) as net:
        targets = [target_by_name(net, n) for n in names] if names else list(net.config.targets)
        if not targets:
            raise BadInput("no targets configured: add a [targets.NAME] table to the config")
        outcomes = [
            sync_target(net, t, dry_run=dry_run, force=force, today=net.today(),
                        progress=_progress(f"{t.name}: created"))
            for t in targets
        ]  # fmt: skip
        unlabelled = not as_json and any(
            not a.summary for o in outcomes if o.report for a in o.report.actions
        )
        directory = net.directory() if unlabelled else None

    def label(a: Any) -> str:
        if a.summary:
            return str(a.summary)
        who = directory.ref(a.contact_id).label() if directory and a.contact_id else "?"
        return f"a reminder for {who} ({a.uid.split('@')[0][:8]})"

    if as_json:
        emit_json({"dry_run": dry_run, "targets": [{
            "target": o.target, "ok": o.error is None, "error": o.error, "requests": o.requests,
            "actions": [] if o.report is None else [
                {"action": a.action, "uid": a.uid, "summary": a.summary, "result": a.result}
                for a in o.report.actions],
            "counts": None if o.report is None else {k: o.report.count(k) for k in
                ("created", "updated", "deleted", "user-changed", "user-deleted")},
        } for o in outcomes]})  # fmt: skip
    else:
        for o in outcomes:
            if o.report is not None:
                r = o.report
                verb = "would change" if dry_run else "synced"
                click.echo(f"{o.target}: {verb}: {r.count('created')} created, {r.count('updated')} updated, "
                           f"{r.count('deleted')} deleted ({o.requests} requests)")  # fmt: skip
                for a in r.actions:
                    click.echo(
                        f"  {a.action:<12} {label(a)}" + ("" if a.result == "ok" else f" ({a.result})")
                    )
    failed = [o for o in outcomes if o.error is not None]
    for o in failed:
        message = o.error or ""
        prefix = "" if message.startswith(f"target {o.target}") else f"target {o.target}: "
        click.echo(f"syncnet: error: {prefix}{message}", err=True)
    if failed:
        raise click.exceptions.Exit(max(exit_code_for(o.cause) for o in failed))


@cli.command()
@today_option
@json_option
@pass_ctx
def status(c: Ctx, today: str | None, as_json: bool) -> None:
    """Per target: the last success, the last error and what is pending."""
    from syncnet.bootstrap import status as target_status

    with c.network(today) as net:
        rows = target_status(net, net.today())
    if as_json:
        emit_json({"targets": rows})
        return
    if not rows:
        click.echo("No targets configured.")
    for r in rows:
        p = r["pending"]
        click.echo(f"{r['target']} ({r['type']} {r['where']}): holds {r['holds']}, pending "
                   f"{p['create']} new / {p['update']} changed / {p['delete']} to delete")  # fmt: skip
        click.echo(f"  last success: {r['last_success'] or 'never'}")
        if r["last_error"] and r["failures"]:
            click.echo(f"  last error:   {r['last_error_at']}: {r['last_error']} ({r['failures']} in a row)")


@cli.group()
def feed() -> None:
    """The ICS subscription feed: its URL and its secret."""


@feed.command("url")
@pass_ctx
def feed_url(c: Ctx) -> None:
    """Print the feed's URL (the one place its secret is shown)."""
    from syncnet.bootstrap import feed_secret

    with c.network() as net:
        secret = feed_secret(net)
        f = net.config.feed
    click.echo(f"http://{f.bind}:{f.port}/feed/{secret}.ics")


@feed.command("rotate")
@pass_ctx
def feed_rotate(c: Ctx) -> None:
    """Replace the feed's secret: the old URL stops working."""
    from syncnet.bootstrap import feed_secret

    with c.network() as net:
        feed_secret(net, rotate=True)
    click.echo("Feed secret replaced; 'syncnet feed url' shows the new URL.")


@cli.command()
@click.option("--bind", metavar="HOST", help="Address to listen on (default: feed.bind, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: feed.port, 8765).")
@pass_ctx
def serve(c: Ctx, bind: str | None, port: int | None) -> None:
    """Serve the agenda as a calendar subscription (ICS feed) until stopped.

    Loopback only by default; --bind 0.0.0.0 exposes it to the network (the URL's
    secret is then the only protection: prefer a reverse proxy with TLS).
    """
    from dataclasses import replace

    from syncnet_adapters.feed import serve as run_server

    from syncnet.bootstrap import feed_app

    with c.network() as net:
        f = net.config.feed
        net.config = replace(net.config, feed=replace(f, bind=bind or f.bind, port=port or f.port))
        app = feed_app(net)
        where = f"http://{net.config.feed.bind}:{net.config.feed.port}"
        click.echo(f"Serving the feed on {where}/feed/<secret>.ics "
                   "('syncnet feed url' shows the secret)", err=True)  # fmt: skip
        run_server(app, net.config.feed.bind, net.config.feed.port)


@cli.command()
@click.option("--poll", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between two looks at the log.")  # fmt: skip
@pass_ctx
def daemon(c: Ctx, poll: float) -> None:
    """Keep every target in step: sync on new facts, at midnight, and retry failures.

    Stops cleanly on SIGTERM or Ctrl-C. docs/daemon.md has a systemd user unit.
    """
    from syncnet.entrypoints.daemon import run_daemon

    with c.network() as net:
        code = run_daemon(net, poll)
    if code:
        raise click.exceptions.Exit(code)


def exit_code_for(error: BaseException | None) -> int:
    """The exit code of an error: 2 for bad input or usage (nothing was written), else 1."""
    return 2 if isinstance(error, BadInput) else 1


def main(argv: list[str] | None = None) -> int:
    try:
        code = cli.main(args=argv, prog_name="syncnet", standalone_mode=False)
        if isinstance(code, int):  # click returns (not raises) Exit codes in this mode
            return code
    except click.exceptions.NoArgsIsHelpError as e:
        e.show()  # a bare group: its help is the message
        return 2
    except click.exceptions.UsageError as e:  # one line, like every other error
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
        click.echo(f"syncnet: error: {' '.join(e.format_message().split())}{hint}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("syncnet: aborted", err=True)
        return 1
    except SyncnetError as e:
        click.echo(f"syncnet: error: {e}", err=True)
        return exit_code_for(e)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug or an environment failure: one line, details on request
        if os.environ.get("SYNCNET_DEBUG"):
            raise
        click.echo(f"syncnet: error: {type(e).__name__}: {e} (SYNCNET_DEBUG=1 shows details)", err=True)
        return 1
    except click.exceptions.Exit as e:
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
