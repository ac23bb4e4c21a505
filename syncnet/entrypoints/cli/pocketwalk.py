"""`syncnet pocket --event EVENT`: the people met at an event, one key each (docs/rules.md,
"Preparing for an event"). Each choice is recorded when it is made, so quitting keeps
what was sorted."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from syncnet.entrypoints.cli import render
from syncnet.entrypoints.terminal import keystrokes, printable

if TYPE_CHECKING:
    from syncnet.app.network import Network

KEYS = {"k": True, "l": False, "d": False}  # keep; let go (d: drop, as 'pocket CONTACT drop')
ANSWERS = (*KEYS, "s", "q")


def _line_keys() -> Callable[[], str]:
    """Without a terminal: the first character of each line of standard input (a script
    pipes its choices); the end of the input quits."""
    return lambda: sys.stdin.readline().strip()[:1].lower() or "q"


def _keys() -> AbstractContextManager[Callable[[], str]]:
    return keystrokes() if sys.stdin.isatty() else nullcontext(_line_keys())


def walk_pockets(
    net: Network, event_ref: str, day: date | None, as_json: bool, note: str | None = None
) -> None:
    from syncnet.app import prep
    from syncnet.domain import commands as cmd

    event, people = prep.met_at(net, event_ref)
    sorted_now: list[dict[str, Any]] = []

    def say(text: str, nl: bool = True) -> None:
        if not as_json:  # the JSON document is all that is printed
            click.echo(text, nl=nl)

    if not people:
        say(printable(f"Nobody was met at {event.name} ({event.view.held_on}): 'syncnet meet NAME "
                      "--at EVENT' links a first meeting to it."))  # fmt: skip
    else:
        who = "the one person" if len(people) == 1 else f"the {len(people)} people"
        say(printable(f"Sorting {who} met at {event.name} ({event.view.held_on}): k keep, l let go, s skip, "
                      "q quit."))  # fmt: skip
    with _keys() as key_pressed:
        for ref, view in people:
            state = "unsorted" if view.unsorted else "keep" if view.keep else "let go"
            say(f"{printable(ref.label())} [now: {state}]? ", nl=False)
            answer = key_pressed()
            while answer not in ANSWERS:  # another key: asked again, in place
                answer = key_pressed()
            say(answer)
            if answer == "q":
                break
            if answer in KEYS:
                net.record(cmd.Pocket(ref.id, KEYS[answer], day, note))
                sorted_now.append({"contact": render.contact_json(ref), "keep": KEYS[answer]})
    if as_json:
        render.emit_json({"event": event.view.id, "sorted": sorted_now})
        return
    if not people:
        return
    kept = sum(1 for s in sorted_now if s["keep"])
    left = len(people) - len(sorted_now)
    click.echo(f"{kept} kept, {len(sorted_now) - kept} let go, {left} left as they were.")
