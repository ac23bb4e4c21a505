"""`syncnet hub ...`: exchange facts with a PostgreSQL hub shared by your devices or a
team (docs/hub.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from syncnet.entrypoints.cli import render
from syncnet.entrypoints.cli.commands import Ctx, _progress, json_option, pass_ctx
from syncnet.errors import BadInput, Refused

_HUB = click.option("--hub", "url", metavar="URL", envvar="SYNCNET_HUB_URL", show_envvar=True,
                    help="The hub's PostgreSQL URL (default: hub.url of the config). A password goes in "
                         "PGPASSWORD or ~/.pgpass, never in the URL.")  # fmt: skip


@click.group("hub")
def hub_group() -> None:
    """Share facts with your other devices or your team through a PostgreSQL hub.

    The hub holds ciphertext only: facts, data keys and even their kinds are sealed with
    a team key that only your devices hold. Every device keeps working offline with its
    own store. Set it up once with 'syncnet hub init' on one device, copy the team key
    with 'syncnet hub key FILE' to the others (out of band: a USB stick, a password
    manager), run 'syncnet hub join FILE' there, then 'syncnet hub sync' (or leave
    'syncnet daemon' running) on each. docs/hub.md has the details.
    """


def _done(doc: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        render.emit_json(doc)
    else:
        click.echo(line)


@hub_group.command("init")
@_HUB
@click.option("--new-key", is_flag=True,
              help="A new team key, even if this store holds one: for a team moving to a new, empty "
                   "database after a member left (the old key does not open it).")  # fmt: skip
@json_option
@pass_ctx
def hub_init(c: Ctx, url: str | None, new_key: bool, as_json: bool) -> None:
    """Set up a hub in an empty PostgreSQL database, with a new team key (or check that
    this store's key opens the hub). Then 'syncnet hub sync' sends this store's facts, and
    'syncnet hub key FILE' writes the key for your other devices."""
    from syncnet.app.hub import init_hub
    from syncnet.bootstrap import open_hub

    with c.network() as net:
        hub = open_hub(net, url)
        try:
            created = init_hub(net, hub, new_key)
            where = hub.where
        finally:
            hub.close()
    line = f"this store uses the hub at {where}"
    if created:
        line = (f"hub set up at {where}: 'syncnet hub sync' sends this store's facts; 'syncnet hub key "
                "FILE' writes the team key for your other devices")  # fmt: skip
    _done({"hub": where, "created": created}, as_json, line)


@hub_group.command("join")
@click.argument(
    "key_file", metavar="KEYFILE", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True)
)
@_HUB
@json_option
@pass_ctx
def hub_join(c: Ctx, key_file: Path, url: str | None, as_json: bool) -> None:
    """Join a hub with its team key (a file written by 'syncnet hub key'; '-' reads it
    from standard input). Then 'syncnet hub sync' brings its facts in. A store that had
    joined another hub (or the same hub under an old key) leaves it; its facts stay."""
    from syncnet.app.hub import join_hub, parse_team_key
    from syncnet.bootstrap import open_hub

    try:
        text = sys.stdin.read() if str(key_file) == "-" else key_file.read_text("ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read the team key {key_file}: {getattr(e, 'strerror', None) or e}") from None
    key = parse_team_key(text)
    with c.network() as net:
        hub = open_hub(net, url)
        try:
            join_hub(net, hub, key)
            where = hub.where
        finally:
            hub.close()
    _done({"hub": where, "joined": True}, as_json, f"joined the hub at {where}: run 'syncnet hub sync'")


@hub_group.command("key")
@click.argument("out", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@pass_ctx
def hub_key(c: Ctx, out: Path, force: bool) -> None:
    """Write the team key to FILE (readable by you only), to hand to another device or a
    team member out of band. Whoever holds it reads everything on the hub."""
    from syncnet.app.hub import team_key_text

    with c.network() as net:
        text = team_key_text(net)
    if out.exists() and not force:
        raise Refused(f"{out} exists: pass --force to replace it")
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {out}: {e.strerror or e}") from None
    click.echo(f"team key written to {out} (mode 0600): hand it over out of band, then delete it")


def _exchange(c: Ctx, url: str | None, as_json: bool, what: str) -> None:
    from syncnet.bootstrap import hub_exchange

    with c.network() as net:
        ex = hub_exchange(net, url)
        try:
            progress = _progress(f"{what}ing facts")
            done = {"push": ex.push, "pull": ex.pull, "sync": ex.exchange}[what](progress)
            if progress:
                click.echo("", err=True)
            where = ex.hub.where
        finally:
            ex.hub.close()
        if done.pulled:
            net.refresh(_progress("folding facts into views"))
    doc = {"hub": where, **done.to_json()}
    parts = []
    if what in ("pull", "sync"):
        by = ", ".join(f"{n} by {m}" for m, n in sorted(done.by.items()))
        parts.append(f"{render.plural(done.pulled, 'fact')} pulled" + (f" ({by})" if by else ""))
        if done.erased:
            parts.append(f"{render.plural(done.erased, 'contact')} forgotten")
    if what in ("push", "sync"):
        parts.append(f"{render.plural(done.pushed, 'fact')} pushed")
    _done(doc, as_json, f"{where}: {'; '.join(parts)}")


@hub_group.command("push")
@_HUB
@json_option
@pass_ctx
def hub_push(c: Ctx, url: str | None, as_json: bool) -> None:
    """Send the hub the facts it lacks (with the keys they need)."""
    _exchange(c, url, as_json, "push")


@hub_group.command("pull")
@_HUB
@json_option
@pass_ctx
def hub_pull(c: Ctx, url: str | None, as_json: bool) -> None:
    """Bring in the hub's facts this store lacks; contacts forgotten on another device
    are forgotten here too."""
    _exchange(c, url, as_json, "pull")


@hub_group.command("sync")
@_HUB
@json_option
@pass_ctx
def hub_sync(c: Ctx, url: str | None, as_json: bool) -> None:
    """Pull, then push: this store and the hub then hold the same facts."""
    _exchange(c, url, as_json, "sync")


@hub_group.command("status")
@_HUB
@json_option
@pass_ctx
def hub_status(c: Ctx, url: str | None, as_json: bool) -> None:
    """Where the hub is, and whether this store has everything it holds."""
    from syncnet.app.hub import BATCH
    from syncnet.bootstrap import hub_exchange

    with c.network() as net:
        ex = hub_exchange(net, url)
        try:
            doc = ex.status()
        finally:
            ex.hub.close()
    pull, push = (f"{doc[k]:,}" + ("+" if doc[k] >= BATCH else "") for k in ("to_pull", "to_push"))
    state = (
        "up to date"
        if doc["up_to_date"]
        else f"{pull} fact(s) to pull, {push} to push: "
        "run 'syncnet hub sync'"
    )
    _done(doc, as_json, f"hub {doc['hub']} (member {doc['member']}): {state}")
