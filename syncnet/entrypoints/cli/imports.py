"""`syncnet import ...`, `duplicates`, `merge` and `sort`: bringing a network in and
tidying it (docs/imports.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from syncnet.entrypoints.cli import render
from syncnet.entrypoints.cli.commands import Ctx, _progress, json_option, pass_ctx
from syncnet.entrypoints.terminal import keystrokes as _keystrokes
from syncnet.errors import BadInput

MAX_IMPORT_BYTES = 256 << 20  # an export larger than this is refused, not read into memory


@click.group("import")
def import_group() -> None:
    """Bring contacts in from an export or an address book (docs/imports.md).

    Every import matches each card against the network first: the same e-mail, the
    same profile URL, or the same name at the same organisation is a contact you have,
    which gets the details it lacks; anyone else is added, unsorted (no reminders until
    you keep them: 'syncnet sort'). The same file twice adds nothing. Try it first with
    --dry-run.
    """


def _read(file: Path) -> bytes:
    try:
        size = file.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise BadInput(f"{file} is {size:,} bytes: larger than any export syncnet reads "
                           f"({MAX_IMPORT_BYTES >> 20} MiB)")  # fmt: skip
        return file.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read {file}: {e.strerror or e}") from None


def _run_import(c: Ctx, kind: str, file: Path, dry_run: bool, as_json: bool) -> None:
    from syncnet.app.imports import import_cards
    from syncnet.bootstrap import read_cards

    parsed = read_cards(kind, _read(file))
    with c.network() as net:
        show = _progress("recording facts")
        report = import_cards(net, parsed, kind, dry_run=dry_run, progress=show)
        if show is not None:
            click.echo(err=True)
        if as_json:
            render.emit_json(report.to_json())
            return
        _print_report(net, report)


SKIPS_SHOWN = 3  # lines named per reason a card was skipped for (--json lists every one)


def _by_reason(skipped: Any) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for s in skipped:
        out.setdefault(s.reason, []).append(s.line)
    return out


def _print_report(net: Any, report: Any, where: Callable[[int], str] = "line {}".format) -> None:
    from syncnet.entrypoints.terminal import printable

    verb = "Would add" if report.dry_run else "Added"
    click.echo(f"{verb} {report.count('added'):,}, "
               f"{'would update' if report.dry_run else 'updated'} {report.count('updated'):,}, "
               f"unchanged {report.count('unchanged'):,}, skipped {len(report.skipped):,}.")  # fmt: skip
    if report.count("added") and not report.dry_run:
        click.echo("The new contacts are unsorted (no reminders): 'syncnet sort' to keep or let them go.")
    finder = net.finder()
    for o in report.possible():
        others = ", ".join(finder.ref(p).label() for p in o.possible if p != o.contact_id)
        if others:
            click.echo(printable(f"  {where(o.line)}: {o.name} may be {others} ('syncnet duplicates')"))
    for reason, lines in _by_reason(report.skipped).items():  # 5,000 rows skipped alike: a few lines
        for line in lines[:SKIPS_SHOWN]:
            click.echo(printable(f"  {where(line)}: skipped, {reason}"))
        if len(lines) > SKIPS_SHOWN:
            click.echo(printable(f"  ... and {len(lines) - SKIPS_SHOWN:,} more skipped, {reason}"))
    for o in report.outcomes:
        for value in o.left_out:
            click.echo(printable(f"  {where(o.line)}: {value} left out"))
    if report.dry_run:
        click.echo("Nothing was recorded (--dry-run).")


def _import_command(kind: str, what: str) -> click.Command:
    @click.command(kind, help=f"Import {what}.")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Say what would be added and updated; record nothing.")
    @json_option
    @pass_ctx
    def run(c: Ctx, file: Path, dry_run: bool, as_json: bool) -> None:
        _run_import(c, kind, file, dry_run, as_json)

    return run


import_group.add_command(_import_command(
    "linkedin", "LinkedIn's Connections.csv (Settings > Data privacy > Get a copy of your data): each "
    "connection met on its 'Connected On' day, over the channel professional-network"))  # fmt: skip
import_group.add_command(_import_command(
    "google", "a Google Contacts CSV export (the current header or the legacy Google CSV one)"))  # fmt: skip
import_group.add_command(_import_command(
    "vcard", "a vCard file (.vcf: vCard 2.1, 3.0 or 4.0, one or many cards), as phones and address "
    "books export them"))  # fmt: skip


@import_group.command("carddav")
@click.argument("url")
@click.option("--user", metavar="NAME", help="Log in as NAME (HTTP Basic).")
@click.option("--password-cmd", metavar="COMMAND",
              help="Run COMMAND (no shell) for the password; without it the password is read from "
                   "SYNCNET_CARDDAV_PASSWORD.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Say what would be added and updated; record nothing.")
@json_option
@pass_ctx
def import_carddav(c: Ctx, url: str, user: str | None, password_cmd: str | None, dry_run: bool,
                   as_json: bool) -> None:  # fmt: skip
    """Import an address book from a CardDAV server: URL is the address book, or the
    user's principal or home when it holds only one (never with user:password@ in it).

    Later runs read only the cards changed since the last one. A card deleted on the
    server leaves its contact here.
    """
    from syncnet.bootstrap import import_address_book, open_address_book
    from syncnet.entrypoints.terminal import printable

    book = open_address_book(url, user, password_cmd)
    try:
        with c.network() as net:
            show = _progress("recording facts")
            result = import_address_book(net, book, dry_run=dry_run, progress=show)
            if show is not None:
                click.echo(err=True)
            if as_json:
                render.emit_json(result.to_json())
                return
            click.echo(f"Read {result.fetched:,} new or changed card(s) of the address book.")
            if result.note:
                click.echo(f"Note: {result.note}.")
            _print_report(net, result.report, result.where)
            if result.removed:
                click.echo(printable(f"{result.removed:,} card(s) removed from the address book; "
                                     "their contacts stay."))  # fmt: skip
    finally:
        book.close()


@click.command()
@json_option
@pass_ctx
def duplicates(c: Ctx, as_json: bool) -> None:
    """List contacts that may be one person: the same e-mail or profile URL, the same name
    (at different organisations, or one without), the same words in another order, or a
    similar first name with the same last name. Join two with 'syncnet merge A B'."""
    from syncnet.app.imports import People, likely_duplicates
    from syncnet.entrypoints.terminal import printable

    with c.network() as net:
        found = [_recorded_first(net, d) for d in likely_duplicates(People.of(net))]
        finder = net.finder()
        if as_json:
            render.emit_json({"duplicates": [{"contacts": [a, b], "names": [finder.name(a), finder.name(b)],
                                              "why": why} for a, b, why in
                                             ((d.first, d.second, d.why) for d in found)]})  # fmt: skip
            return
        if not found:
            click.echo("No likely duplicates.")
            return
        for d in found:
            first, second = finder.ref(d.first).label(), finder.ref(d.second).label()
            click.echo(printable(f"{first}  and  {second}: {d.why}"))
        click.echo(f"{len(found):,} pair(s). Join one with 'syncnet merge A B' (B's facts then count for A).")


def _recorded_first(net: Any, pair: Any) -> Any:
    """The pair with the contact recorded first first: the one `merge` keeps (its row is
    where the other's facts can count from)."""
    from dataclasses import replace
    from uuid import UUID

    def first(contact_id: str) -> int:
        return min(net.views.positions_of(UUID(contact_id)), default=0)

    if first(pair.second) < first(pair.first):
        return replace(pair, first=pair.second, second=pair.first)
    return pair


@click.command()
@click.argument("contact")
@click.argument("other")
@click.option("--note", metavar="TEXT", help="Why they are one person (stored sealed).")
@json_option
@pass_ctx
def merge(c: Ctx, contact: str, other: str, note: str | None, as_json: bool) -> None:
    """Join OTHER into CONTACT: one person from now on (CONTACT: the one recorded first).

    A fact: OTHER's meetings, gifts, requests and promises count for CONTACT in every
    view, balance and reminder (its first meeting as an interaction), CONTACT gets the
    details OTHER had that it lacks, and the history of CONTACT shows both pasts. OTHER's
    name no longer names a contact. 'syncnet retract ID' of the merge parts them again.
    """
    from syncnet.app.imports import People, merge_commands
    from syncnet.entrypoints.terminal import printable

    with c.network() as net:
        finder = net.finder()
        kept, gone = finder.resolve(contact), finder.resolve(other)
        if kept == gone:
            raise BadInput("both names are the same contact")
        kept_label, gone_label = finder.ref(kept).label(), finder.ref(gone).label()
        recorded = net.record_many(merge_commands(People.of(net), kept, gone, note))
        if as_json:
            render.emit_json({"merged": gone, "into": kept, "fact_id": recorded[0].fact_id})
            return
        click.echo(printable(f"Merged {gone_label} into {kept_label} (fact {recorded[0].fact_id[:8]}): "
                             "one person from now on."))  # fmt: skip


@click.command("sort")
@click.option("--list", "just_list", is_flag=True, help="Only list the unsorted contacts.")
@json_option
@pass_ctx
def sort_contacts(c: Ctx, just_list: bool, as_json: bool) -> None:
    """Walk through the unsorted contacts (imported, in no pocket yet), one keystroke
    each: k keep (reminders from now on), l let go (history kept, no reminders), s skip,
    q quit. Each answer is recorded at once. Needs a terminal; elsewhere use --list
    and 'syncnet pocket NAME keep|drop'."""
    from syncnet.app.history import merged_details
    from syncnet.domain import commands as cmd
    from syncnet.entrypoints.terminal import printable

    with c.network() as net:
        unsorted = sorted((v for v in net.views.load_all("contact") if v.unsorted and not v.forgotten),
                          key=lambda v: (v.met_on, v.id))  # fmt: skip
        finder = net.finder()
        if just_list or as_json:
            rows = [{"contact_id": v.id, "name": finder.name(v.id), "met_on": v.met_on,
                     "organisation": merged_details(v, net.unseal_text).get("org")}
                    for v in unsorted]  # fmt: skip
            if as_json:
                render.emit_json({"unsorted": rows})
            else:
                for r in rows:
                    org = f", {r['organisation']}" if r["organisation"] else ""
                    click.echo(printable(f"{r['met_on']}  {finder.ref(r['contact_id']).label()}{org}"))
                click.echo(f"{len(rows):,} unsorted.")
            return
        if not unsorted:
            click.echo("Nothing to sort: no contact is unsorted.")
            return
        if not sys.stdin.isatty():
            raise BadInput("'syncnet sort' asks on a terminal: use 'syncnet sort --list' and "
                           "'syncnet pocket NAME keep|drop' in scripts")  # fmt: skip
        kept = let_go = 0
        with _keystrokes() as key_pressed:
            for n, view in enumerate(unsorted, 1):
                details = merged_details(view, net.unseal_text)
                about = ", ".join(str(x) for x in (details.get("role"), details.get("org")) if x)
                click.echo(printable(f"[{n}/{len(unsorted)}] {finder.ref(view.id).label()}"
                                     f"{' - ' + about if about else ''} (since {view.met_on})"))  # fmt: skip
                click.echo("  k keep, l let go, s skip, q quit: ", nl=False)
                key = key_pressed()
                while key not in ("k", "l", "s", "q"):  # another key: asked again, in place
                    key = key_pressed()
                click.echo(key)
                if key == "q":
                    break
                if key in ("k", "l"):
                    net.record(cmd.Pocket(view.id, keep=key == "k"))
                    kept, let_go = kept + (key == "k"), let_go + (key == "l")
        click.echo(f"Kept {kept}, let go {let_go}; {len(unsorted) - kept - let_go} still unsorted.")
