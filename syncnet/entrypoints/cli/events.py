"""`syncnet event add | expect | list`, `syncnet prep` and the walk of `syncnet pocket
--event`: preparing for an event and sorting the people met there (syncnet.app.prep,
docs/rules.md "Preparing for an event")."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from syncnet.domain.dates import parse_date
from syncnet.entrypoints.cli import render
from syncnet.entrypoints.cli.commands import (
    Ctx,
    json_option,
    note_options,
    pass_ctx,
    read_options,
    today_option,
)
from syncnet.entrypoints.terminal import printable

if TYPE_CHECKING:
    from syncnet.app.prep import Briefing, Event, Person


@click.group("event")
def event_group() -> None:
    """Events you mean to go to: add them, say who will be there, list them; then
    'syncnet prep EVENT' briefs you and 'syncnet pocket --event EVENT' sorts whom you met."""


@event_group.command("add")
@click.argument("name")
@click.option("--on", "held_on", required=True, metavar="DATE", help="The day it takes place (YYYY-MM-DD).")
@click.option("--where", help="The place (stored sealed).")
@click.option("--goal", "goals", multiple=True, metavar="GOAL",
              help="A goal you go there for (name or id); repeatable.")  # fmt: skip
@click.option(
    "--offer", metavar="TEXT", help="What you can offer there: an idea, help, a contact to pass on."
)
@click.option("--org", "orgs", multiple=True, metavar="ORG",
              help="An organisation whose people will probably be there; repeatable.")  # fmt: skip
@note_options
@today_option
@json_option
@pass_ctx
def event_add(c: Ctx, name: str, held_on: str, where: str | None, goals: tuple[str, ...], offer: str | None,
              orgs: tuple[str, ...], note: str | None, today: str | None, as_json: bool) -> None:  # fmt: skip
    """Add an event NAME held on DATE (past or future)."""
    from syncnet.entrypoints.cli.commands import _record

    _record(c, today, as_json, lambda n, cmd: cmd.EventAdd(
        name, parse_date(held_on, n.today(), "--on"), where, goals, offer, orgs, None, note))  # fmt: skip


@event_group.command("expect")
@click.argument("event_ref", metavar="EVENT")
@click.argument("contacts", metavar="CONTACT...", nargs=-1, required=True)
@today_option
@json_option
@pass_ctx
def event_expect(c: Ctx, event_ref: str, contacts: tuple[str, ...], today: str | None, as_json: bool) -> None:
    """Say that CONTACT (one or more) will probably be at EVENT: 'prep' lists them."""
    from syncnet.domain import commands as cmd

    with c.network(today) as net:
        finder = net.finder()
        people = dict.fromkeys(finder.resolve(who) for who in contacts)  # each once, however named
        results = net.record_many([cmd.EventLink(event_ref, who) for who in people])
        net.refresh()
        finder = net.finder()
        refs = [finder.ref(r.contact_id) for r in results if r.contact_id]
    if as_json:
        render.emit_json({"expected": [render.contact_json(r) for r in refs],
                          "fact_ids": [r.fact_id for r in results]})  # fmt: skip
        return
    click.echo(f"Expected at the event: {', '.join(printable(r.label()) for r in refs)}.")


@event_group.command("list")
@read_options
@json_option
@pass_ctx
def event_list(c: Ctx, today: str | None, known_at: str | None, as_json: bool) -> None:
    """List events by the day they take place."""
    from syncnet.app import prep

    with c.network(today, known_at) as net:
        found = prep.events(net)
        day = net.today().isoformat()
    if as_json:
        render.emit_json({"today": day, "events": [_event_json(e) for e in found]})
        return
    if not found:
        click.echo("No events: add one with 'syncnet event add NAME --on DATE'.")
        return
    for e in found:
        when = "coming" if e.view.held_on >= day else "held"
        people = f"{len(e.view.met)} met, {len(e.view.expected)} expected"
        click.echo(f"{e.view.held_on}  {e.view.id[:8]}  {printable(e.name)}"
                   f"{f' ({printable(e.where)})' if e.where else ''}  [{when}; {people}]")  # fmt: skip


def _event_json(e: Event) -> dict[str, Any]:
    return {
        "id": e.view.id, "name": e.name, "on": e.view.held_on, "where": e.where, "offer": e.offer,
        "orgs": e.orgs, "goals": [{"id": g.id, "name": name, "kind": g.kind} for g, name in e.goals],
        "met": e.view.met, "expected": e.view.expected,
    }  # fmt: skip


# ---------------------------------------------------------------- prep
@click.command()
@click.argument("event_ref", metavar="EVENT")
@click.option(
    "--html", "as_html", is_flag=True, help="Print a printable HTML page instead (redirect it to a file)."
)
@read_options
@json_option
@pass_ctx
def prep(
    c: Ctx, event_ref: str, as_html: bool, today: str | None, known_at: str | None, as_json: bool
) -> None:
    """A one-page briefing before EVENT: what you are looking for and can offer, who will
    probably be there (expected, met there or at an earlier edition, or at its
    organisations) with open promises, balance, last interaction, what you talked about,
    and three openers each.

    EVENT is a name (any case; of several events of one name, the next to come) or an
    id prefix."""
    from syncnet.app import prep as app_prep

    if as_html and as_json:
        raise click.UsageError("choose --json or --html")
    with c.network(today, known_at) as net:
        found = app_prep.briefing(net, event_ref)
    if as_json:
        render.emit_json(_briefing_json(found))
    elif as_html:
        click.echo(briefing_html(found), nl=False)
    else:
        for line in briefing_lines(found):
            click.echo(printable(line))


def _person_json(p: Person) -> dict[str, Any]:
    b = p.balance
    return {
        "contact": render.contact_json(p.contact), "why": p.why, "pocket": p.pocket, "org": p.org,
        "role": p.role, "links": p.links,
        "balance": {"given": b.given, "received": b.received, "balance": b.balance,
                    "balance_minutes": b.balance_minutes},
        "last_interaction": p.last_interaction or None,
        "open_promises": [{"id": i, "short": i[:8], "what": w, "due": d} for i, w, d in p.open_promises],
        "talked_about": [{"on": on, "note": note} for on, note in p.talked_about],
        "openers": p.openers,
    }  # fmt: skip


def _briefing_json(b: Briefing) -> dict[str, Any]:
    return {
        "today": b.today.isoformat(), "event": _event_json(b.event),
        "looking_for": [{"goal": name, "kind": kind} for name, kind in b.looking_for],
        "offer": b.event.offer, "people": [_person_json(p) for p in b.people], "openers": b.openers,
    }  # fmt: skip


def _sections(b: Briefing) -> Iterator[tuple[str, list[str]]]:
    """The briefing as (heading, lines): what the text and the HTML page both show."""
    e = b.event
    days = ((e.view.held_on > b.today.isoformat()) and f" (in {_days_until(b)} days)") or ""
    yield f"{e.name} — {e.view.held_on}{days}{f', {e.where}' if e.where else ''}", []
    looking = [f"{name} ({kind})" for name, kind in b.looking_for] or ["no goal set: 'syncnet goal add'"]
    yield "What I am looking for", looking
    yield "What I can offer", [e.offer or "nothing noted: 'syncnet event add ... --offer TEXT'"]
    if not b.people:
        yield "Who will probably be there", ["nobody known yet: 'syncnet event expect EVENT CONTACT'"]
    for p in b.people:
        lines = [", ".join(x for x in (p.role, p.org) if x) or "",
                 f"linked: {'; '.join(p.links)}; reason: {p.why or 'none recorded'}; pocket: {p.pocket}",
                 f"balance {p.balance.balance:+d} (gave {p.balance.given}, received {p.balance.received}); "
                 f"last interaction {p.last_interaction or 'none'}"]  # fmt: skip
        lines += [
            f"promise due {due}: {what or '[forgotten]'} ({pid[:8]})" for pid, what, due in p.open_promises
        ]
        lines += [f"talked about ({on}): {_clipped(note)}" for on, note in p.talked_about]
        lines += [f"ask: {o}" for o in p.openers]
        yield p.contact.label(), [line for line in lines if line]
    yield "Openers for new people", b.openers


NOTE_SHOWN = 160  # characters of a note a one-page briefing shows (--json holds it whole)


def _clipped(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= NOTE_SHOWN else one_line[: NOTE_SHOWN - 1].rstrip() + "…"


def _days_until(b: Briefing) -> int:
    from datetime import date

    return (date.fromisoformat(b.event.view.held_on) - b.today).days


def briefing_lines(b: Briefing) -> list[str]:
    out: list[str] = []
    for n, (heading, lines) in enumerate(_sections(b)):
        if n:
            out.append("")
        out.append(heading if n else f"Briefing: {heading}")
        out += [f"  {line}" for line in lines]
    return out


def _escaped(text: str) -> str:
    """Text for the page: control characters shown as escapes (a page sent to a terminal
    by mistake runs no escape sequence), then HTML-escaped."""
    return html.escape(printable(text))


def briefing_html(b: Briefing) -> str:
    """A self-contained page (no script, no remote resource), every text escaped."""
    parts = []
    for n, (heading, lines) in enumerate(_sections(b)):
        tag = "h1" if n == 0 else "h2"
        parts.append(f"<section><{tag}>{_escaped(heading)}</{tag}>")
        if lines:
            parts.append("<ul>" + "".join(f"<li>{_escaped(line)}</li>" for line in lines) + "</ul>")
        parts.append("</section>")
    title = _escaped(f"Briefing: {b.event.name}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{title}</title><style>body{{font:11pt/1.35 sans-serif;max-width:46em;margin:1.5em auto}}"
        "h1{font-size:15pt}h2{font-size:12pt;margin:.9em 0 .2em}ul{margin:0;padding-left:1.2em}"
        "section{break-inside:avoid}@media print{body{margin:0}}</style></head><body>"
        + "".join(parts) + "</body></html>\n"
    )  # fmt: skip
