"""`syncnet path` and `syncnet report`: the introductions graph (syncnet.app.graph) as text
or JSON, and the network as one self-contained HTML file (syncnet.app.report,
docs/report.md)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from syncnet.entrypoints.cli import render
from syncnet.entrypoints.cli.commands import Ctx, json_option, pass_ctx, read_options
from syncnet.errors import BadInput, SyncnetError

if TYPE_CHECKING:
    from syncnet.app.directory import ContactRef
    from syncnet.app.graph import Introductions, Link

DEFAULT_REPORT = "syncnet-report.html"

# How each link of a chain reads, after the name it leads to.
_HOW = {"met": "you met them", "via": "met via {source}", "introduced": "{source} introduced you"}
_KNOWS = {
    "introduced-you": "introduced you to {target}",
    "introduced-by": "{target} introduced you to them",
    "you-introduced": "you introduced them to {target}",
}


def _ref(intro: Introductions, node: str) -> ContactRef:
    from syncnet.app.directory import ContactRef

    return ContactRef(node, intro.name(node))


def _ref_json(intro: Introductions, node: str) -> dict[str, Any] | None:
    from syncnet.app.graph import ME

    return None if node == ME else render.contact_json(_ref(intro, node))


def _label(intro: Introductions, node: str) -> str:
    from syncnet.app.graph import ME
    from syncnet.entrypoints.terminal import printable

    return "you" if node == ME else printable(_ref(intro, node).label())


@click.command()
@click.argument("contact", required=False)
@click.option(
    "--to",
    "org",
    metavar="ORG",
    help="Instead of a contact: who could introduce you to someone at ORG (any case, a part "
    "of the organisation's name).",
)
@read_options
@json_option
@pass_ctx
def path(
    c: Ctx, contact: str | None, org: str | None, today: str | None, known_at: str | None, as_json: bool
) -> None:
    """The shortest chain of introductions from you to CONTACT: whom you met yourself,
    whom you met via whom, who introduced you to whom. Among chains of the same length,
    the one whose names sort first. With --to ORG: the people who know someone at ORG
    (introduced them, were introduced by them, or you introduced them to each other),
    the closest to you first. See docs/report.md."""
    if (contact is None) == (org is None):
        raise BadInput("give a CONTACT or --to ORG (one of them)")
    if org is not None and not org.strip():
        raise BadInput("--to is empty")
    from syncnet.app.graph import introductions
    from syncnet.app.history import merged_details

    with c.network(today, known_at) as net:
        intro = introductions(net)
        if org is None:
            assert contact is not None
            target = net.directory(net.reads()).resolve(contact)
            _path(intro, target, net.today().isoformat(), as_json)
            return
        reads = net.reads()
        views = {v.id: v for v in reads.load_all("contact")}

        def org_of(cid: str) -> str | None:
            view = views.get(cid)
            found = None if view is None else merged_details(view, net.unseal_text).get("org")
            return found if isinstance(found, str) else None

        there = intro.at(org, org_of)
        _introducers(intro, org, there, net.today().isoformat(), as_json)


def _path(intro: Introductions, target: str, today: str, as_json: bool) -> None:
    hops = intro.path(target)
    if as_json:
        render.emit_json(
            {
                "today": today,
                "to": _ref_json(intro, target),
                "steps": None if hops is None else len(hops),
                "path": None if hops is None else [_hop_json(intro, h) for h in hops],
            }
        )
        return
    if hops is None:
        click.echo(f"No chain of introductions leads from you to {_label(intro, target)}.")
        return
    lines = ["you"]
    for hop in hops:
        how = _HOW[hop.kind].format(source=_label(intro, hop.source))
        lines.append(f"→ {_label(intro, hop.target)}  ({how}, {hop.on})")
    steps = len(hops)
    lines.append(f"{steps} link{'' if steps == 1 else 's'} from you to {_label(intro, target)}.")
    click.echo("\n".join(lines))


def _hop_json(intro: Introductions, hop: Link) -> dict[str, Any]:
    return {
        "contact": _ref_json(intro, hop.target),
        "link": hop.kind,
        "from": _ref_json(intro, hop.source),
        "on": hop.on,
    }


def _introducers(intro: Introductions, org: str, there: list[str], today: str, as_json: bool) -> None:
    from syncnet.entrypoints.terminal import printable

    rows = intro.introducers(there)
    if as_json:
        render.emit_json(
            {
                "today": today,
                "org": org,
                "at_org": [_ref_json(intro, t) for t in there],
                "introducers": [
                    {
                        "contact": _ref_json(intro, r.contact),
                        "distance": r.distance,
                        "knows": [{"contact": _ref_json(intro, k.contact), "how": k.how} for k in r.knows],
                    }
                    for r in rows
                ],
            }
        )
        return
    shown = printable(org)
    if not there:
        click.echo(f"Nobody you know is at an organisation matching {shown!r}.")
        return
    click.echo(f"You know {len(there)} at {shown!r}: {', '.join(_label(intro, t) for t in there)}.")
    if not rows:
        click.echo("Nobody you know links you to them by an introduction.")
        return
    click.echo("Who could introduce you, the closest first:")
    table = []
    for r in rows:
        knows = "; ".join(_KNOWS[k.how].format(target=_label(intro, k.contact)) for k in r.knows)
        steps = f"{r.distance} link{'' if r.distance == 1 else 's'}" if r.distance >= 0 else "-"
        table.append([_label(intro, r.contact), steps, knows])
    render.table(table, ["contact", "from you", "knows"])


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@read_options
@pass_ctx
def report(c: Ctx, file: str | None, today: str | None, known_at: str | None) -> None:
    """Write the network as one HTML file that opens offline: the agenda, the balance over
    time per contact, the 70-20-10 split by month against its target, promises kept, and
    the introductions graph. FILE defaults to syncnet-report.html in the current directory
    ('-': standard output); it is replaced if it exists, and readable by you only (it holds
    names). See docs/report.md."""
    from syncnet.app.report import build_report

    with c.network(today, known_at) as net:
        page = build_report(net)
    data = page.encode("utf-8", "replace")
    if file == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(file or DEFAULT_REPORT)
    _write_private(target, data)
    from syncnet.entrypoints.terminal import printable

    click.echo(f"Wrote {printable(str(target))} ({len(data):,} bytes; it holds names: keep it private).")


def _write_private(target: Path, data: bytes) -> None:
    """Write `data` to `target` through a file created 0600 beside it, then renamed: the
    names are never readable by others, not even for a moment, and a reader never sees
    half a report."""
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise BadInput(f"{target} is a directory")
    try:
        fd, temporary = tempfile.mkstemp(prefix=".syncnet-report-", suffix=".tmp", dir=folder)  # 0600
    except FileNotFoundError:
        raise BadInput(f"no such directory: {folder}") from None
    except OSError as e:
        raise SyncnetError(f"cannot write in {folder}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # whatever the umask
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise SyncnetError(f"cannot write {target}: {e.strerror}") from None
