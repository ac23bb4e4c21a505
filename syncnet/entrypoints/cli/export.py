"""`syncnet export` and `syncnet import jsonl`: the facts out as JSON Lines and the contacts
as vCard 4.0, and the facts back into an empty store (docs/export.md).

`import_jsonl` is a command object for the `syncnet import` group to attach.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

import click

from syncnet.entrypoints.cli import render
from syncnet.entrypoints.cli.commands import Ctx, _passphrase, _progress, json_option, pass_ctx
from syncnet.entrypoints.terminal import printable
from syncnet.errors import BadInput, Refused

FACTS_NAME, VCARDS_NAME = "facts.jsonl", "contacts.vcf"
_PATH = click.Path(dir_okay=False, path_type=Path, allow_dash=True)


@contextmanager
def _private_file(path: Path, force: bool) -> Iterator[TextIO]:
    """A text file only its owner can read (0600), written as PATH.tmp and renamed over
    PATH once whole: an interrupted export leaves no half file under the name. '-' is
    standard output."""
    if str(path) == "-":
        yield sys.stdout
        return
    if path.exists() and not force:
        raise Refused(f"{path} exists: pass --force to replace it")
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a killed export's leftover (ours: PATH.tmp)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as e:
        raise BadInput(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@click.command("export")
@click.argument("directory", metavar="[DIR]", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--facts", "facts_file", metavar="FILE", type=_PATH,
              help=f"The facts (JSON Lines) to FILE, not DIR/{FACTS_NAME}; '-': standard output.")
@click.option("--vcards", "vcards_file", metavar="FILE", type=_PATH,
              help=f"The contacts (vCard 4.0) to FILE, not DIR/{VCARDS_NAME}; '-': standard output.")
@click.option("--force", is_flag=True, help="Replace files that exist.")
@json_option
@pass_ctx
def export(c: Ctx, directory: Path | None, facts_file: Path | None, vcards_file: Path | None, force: bool,
           as_json: bool) -> None:  # fmt: skip
    """Write every fact, in order, with when it was recorded, as JSON Lines, and every
    contact not forgotten as a vCard 4.0.

    'syncnet export DIR' writes DIR/facts.jsonl and DIR/contacts.vcf (DIR is created,
    readable by you only, when missing). --facts FILE and --vcards FILE name a file
    instead; without DIR only the files named are written. The files hold names, notes
    and details IN PLAIN TEXT: they are created readable by you only (mode 0600); keep
    them safe. A forgotten contact's texts are not in them. An existing file is kept
    unless --force. 'syncnet import jsonl FILE' restores the facts into an empty store
    (docs/export.md: the schema, the vCard fields, the round-trip promise).
    """
    from syncnet.app.export import export_facts, export_vcards

    if directory is not None:
        facts_file = facts_file or directory / FACTS_NAME
        vcards_file = vcards_file or directory / VCARDS_NAME
    if facts_file is None and vcards_file is None:
        raise BadInput("say where: 'syncnet export DIR', or --facts FILE and/or --vcards FILE")
    dashes = [f for f in (facts_file, vcards_file) if f is not None and str(f) == "-"]
    if len(dashes) > 1 or (dashes and as_json):
        raise BadInput("only one thing can go to standard output: give the other a file name")
    if directory is not None and not directory.exists():
        try:
            directory.mkdir(mode=0o700)
        except OSError as e:
            raise BadInput(f"cannot create {directory}: {e.strerror}") from None
    done: dict[str, Any] = {"facts": None, "vcards": None}
    with c.network() as net:
        if facts_file is not None:
            show = _progress("exporting facts")
            with _private_file(facts_file, force) as out:
                n = export_facts(net, out, show)
            if show is not None:
                click.echo(err=True)  # end the progress line
            done["facts"] = {"file": str(facts_file), "count": n}
        if vcards_file is not None:
            with _private_file(vcards_file, force) as out:
                done["vcards"] = {"file": str(vcards_file), "count": export_vcards(net, out)}
    if as_json:
        render.emit_json(done)
    elif not dashes:
        said = []
        if done["facts"]:
            said.append(f"{_count(done['facts']['count'], 'fact')} to {facts_file} (JSON Lines)")
        if done["vcards"]:
            said.append(f"{_count(done['vcards']['count'], 'contact')} to {vcards_file} (vCard 4.0)")
        click.echo(printable(f"Exported {' and '.join(said)}."))
        click.echo("They hold names and notes in plain text, readable by you only: keep them safe.")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """The lines of an export, each decoded as UTF-8 (a line that is not: BadInput naming it)."""
    for number, raw in enumerate(stream, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"line {number}: not UTF-8 text") from None
        yield text.removeprefix("\ufeff") if number == 1 else text


@click.command("jsonl")
@click.argument("file", type=_PATH)
@click.option("--dry-run", is_flag=True, help="Check every line, say what would be restored, write nothing.")
@json_option
@pass_ctx
def import_jsonl(c: Ctx, file: Path, dry_run: bool, as_json: bool) -> None:
    """Restore FILE, written by 'syncnet export', into an empty store ('-': standard input).

    Every fact comes back with its id, type, fields and the moment it was recorded, so
    every read, with --today and --known-at too, gives what it gave in the exported
    store. Texts are sealed with new data keys; a contact forgotten there stays forgotten
    (their key destroyed). Every line is checked first: a malformed one is refused with
    its line number, and nothing is written; so is a store that holds facts ('syncnet
    --home DIR init' makes an empty one). The facts are written in one transaction:
    interrupted, the store stays empty.
    """
    from syncnet.app.export import import_facts
    from syncnet.storage.paths import data_dir

    home = data_dir(c.home)
    passphrase = _passphrase(c.home)
    try:
        stream = sys.stdin.buffer if str(file) == "-" else file.open("rb")
    except OSError as e:
        raise BadInput(f"cannot read {file}: {e.strerror}") from None
    try:
        done = import_facts(home, _lines(stream), _progress("reading facts"), passphrase=passphrase,
                            config=c.config, dry_run=dry_run,
                            fold_progress=_progress("folding facts into views"))  # fmt: skip
    except BadInput as e:
        if str(e).startswith("line "):
            raise BadInput(f"{file}: {e}; nothing was imported") from None
        raise
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        if sys.stderr.isatty():
            click.echo(err=True)  # end the progress line
    if as_json:
        render.emit_json({"file": str(file), "home": str(home), **done.to_json()})
        return
    forgotten = f"; {done.erased:,} forgotten contact(s) stay forgotten" if done.erased else ""
    facts = _count(done.facts, "fact")
    if dry_run:
        click.echo(printable(f"Would restore {facts} from {file} into {home}{forgotten}; nothing was "
                             "written (--dry-run)."))  # fmt: skip
    else:
        click.echo(printable(f"Restored {facts} from {file} into {home}, each with the moment it was "
                             f"recorded{forgotten}."))  # fmt: skip
