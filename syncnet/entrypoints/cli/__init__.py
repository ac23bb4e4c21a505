"""The command line: `syncnet COMMAND` (the console script runs `main`).

- commands.py  the click wiring: one function per command, each one call into the
               application, then one call into render.py
- render.py    what is printed: tables and text, or one JSON document (docs/json.md)
- exits.py     exit codes from the error hierarchy: 0 success, 2 bad input or usage
               (nothing written), 1 an operation failed; errors are one line on stderr
- numbers.py   numbers typed as options: the digits 0-9 only
- imports.py   import, duplicates, merge, sort: bringing a network in (docs/imports.md)
- export.py    export, import jsonl: taking it out, and back (docs/export.md)
- hub.py       hub init/join/key/push/pull/sync/status: devices and teams (docs/hub.md)
- report.py    path, report: the introductions graph and the HTML report (docs/report.md)
- events.py    event add/expect/list, prep: preparing for an event
- pocketwalk.py  pocket --event: sorting the people met there, one key each
- review.py    review: the monthly walk of new contacts without a reason, quiet kept
               contacts and open promises, one keystroke each (docs/rules.md, "Review")
"""

from __future__ import annotations

import os
import sqlite3
import sys

import click

from syncnet.entrypoints.cli.commands import cli
from syncnet.entrypoints.cli.events import event_group, prep
from syncnet.entrypoints.cli.exits import BAD_INPUT, FAILED, INTERRUPTED, exit_code_for
from syncnet.entrypoints.cli.export import export, import_jsonl
from syncnet.entrypoints.cli.hub import hub_group
from syncnet.entrypoints.cli.imports import duplicates, import_group, merge, sort_contacts
from syncnet.entrypoints.cli.numbers import ascii_numbers
from syncnet.entrypoints.cli.report import path, report
from syncnet.entrypoints.cli.review import review_command
from syncnet.entrypoints.terminal import printable
from syncnet.errors import SyncnetError

__all__ = ["cli", "exit_code_for", "main"]

import_group.add_command(import_jsonl)
for _command in (import_group, duplicates, merge, sort_contacts, export, path, report, hub_group,
                 event_group, prep, review_command):  # fmt: skip
    cli.add_command(_command)
ascii_numbers(cli)  # every number option, of every command: the digits 0-9 only (numbers.py)


def _database_error(e: Exception) -> bool:
    """An error of PostgreSQL (psycopg's, or the event library's wrapping of it)."""
    pg = sys.modules.get("psycopg")
    persistence = sys.modules.get("eventsourcing.persistence")
    return (pg is not None and isinstance(e, pg.Error)) or (
        persistence is not None and isinstance(e, persistence.PersistenceError))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for n, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes the locale could not decode (surrogate escapes)
            click.echo(f"syncnet: error: argument {n} is not valid UTF-8 text", err=True)
            return BAD_INPUT
    try:
        code = cli.main(args=argv, prog_name="syncnet", standalone_mode=False)
        if isinstance(code, int):  # click returns (not raises) Exit codes in this mode
            return code
    except click.exceptions.NoArgsIsHelpError as e:
        e.show()  # a bare group: its help is the message
        return BAD_INPUT
    except click.exceptions.UsageError as e:  # one line, like every other error
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
        click.echo(f"syncnet: error: {printable(' '.join(e.format_message().split()))}{hint}", err=True)
        return BAD_INPUT
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("syncnet: aborted", err=True)
        return FAILED
    except SyncnetError as e:  # a message may quote names and paths: never raw to the terminal
        click.echo(f"syncnet: error: {printable(str(e))}", err=True)
        return exit_code_for(e)
    except sqlite3.DatabaseError as e:  # a damaged or truncated database file
        click.echo(f"syncnet: error: the store's database cannot be read ({printable(str(e))}): "
                   "restore it from a backup", err=True)  # fmt: skip
        return FAILED
    except KeyboardInterrupt:
        return INTERRUPTED

    except Exception as e:  # a bug or an environment failure: one line, details on request
        if os.environ.get("SYNCNET_DEBUG"):
            raise
        if _database_error(e):  # a store on PostgreSQL that went away or refused mid-command
            reason = printable(" ".join(str(e).split())[:300])
            click.echo(f"syncnet: error: the store's database could not be used ({reason}): each write is "
                       "one transaction, so nothing half-written stays; try again", err=True)  # fmt: skip
            return FAILED
        click.echo(f"syncnet: error: {type(e).__name__}: {printable(' '.join(str(e).split()))} "
                   "(SYNCNET_DEBUG=1 shows details)", err=True)  # fmt: skip
        return FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
