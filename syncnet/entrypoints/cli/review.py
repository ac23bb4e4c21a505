"""`syncnet review`: the monthly walk of "quality over quantity" (docs/rules.md, "Review").

On a terminal it asks about each item, one keystroke each, and records each answer at
once through the commands `why`, `pocket`, `touch`, `kept` and `dropped` record; with
--list, or when standard input is no terminal, it prints the list and records nothing;
--json prints it as one document (docs/json.md).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import click

from syncnet.app.network import Network
from syncnet.app.review import KEYS, NO_REASON, PROMISE, QUIET, QUIT, SKIP, ReviewItem, command_for, review
from syncnet.domain.vocabulary import REASONS
from syncnet.entrypoints.cli import render
from syncnet.entrypoints.cli.commands import Ctx, json_option, pass_ctx, today_option
from syncnet.entrypoints.terminal import printable

KeySource = Callable[[], str]  # one key pressed, in lower case; "" at the end of input

# What an answer adds up to in the closing line, in its order: (singular, plural).
OUTCOMES: dict[str, tuple[str, str]] = {
    "reason": ("reason given", "reasons given"),
    "keep": ("kept", "kept"),
    "let-go": ("let go", "let go"),
    "touch": ("touch recorded", "touches recorded"),
    "kept": ("promise kept", "promises kept"),
    "dropped": ("promise dropped", "promises dropped"),
    "skipped": ("skipped", "skipped"),
    "left": ("left for later", "left for later"),
}
LABELS = {"let-go": "let go", "touch": "touched today"}


def keystrokes() -> AbstractContextManager[KeySource] | None:
    """The keys of the terminal on standard input (sort's: keys typed ahead are kept,
    Ctrl-C stops), or None when standard input is no terminal."""
    if not sys.stdin.isatty():
        return None
    from syncnet.entrypoints.terminal import keystrokes as terminal_keys

    return terminal_keys()


KIND_LABELS = {NO_REASON: "new, no reason", QUIET: "quiet", PROMISE: "promise"}


def describe(item: ReviewItem) -> str:
    """The item on one line (without its kind, which the list's heading or the walk says)."""
    who = item.contact.label()
    if item.kind == NO_REASON:
        return f"{who}, met {item.met_on}"
    if item.kind == QUIET:
        return f"{who}, last interaction {item.last_interaction} ({item.days_quiet} days ago)"
    what, short = item.what or "[forgotten]", (item.promise_id or "")[:8]
    return f"{item.state}, due {item.due}, to {who}: {what} [{short}]"


def proposal_text(item: ReviewItem) -> str:
    if item.kind == NO_REASON:
        return "give a reason (commonality, role-model, complement) or a pocket (keep, let go)"
    if item.kind == QUIET:
        return "touch them, or let go"
    return "kept or dropped"


def walk(net: Network, items: Sequence[ReviewItem], key_pressed: KeySource,
         echo: Callable[..., Any] = click.echo) -> Counter[str]:  # fmt: skip
    """Ask about each item, one key each, and record each answer at once (see KEYS; s
    skips, q or the end of input quits); returns what was done, counted as in OUTCOMES.
    A contact let go here is not asked about again as quiet."""
    done: Counter[str] = Counter()
    let_go: set[str] = set()
    for n, item in enumerate(items, 1):
        if item.kind == QUIET and item.contact.id in let_go:
            continue
        keys = KEYS[item.kind]
        echo(printable(f"[{n}/{len(items)}] {KIND_LABELS[item.kind]}: {describe(item)}"))
        choices = ", ".join(f"{k} {LABELS.get(p, p)}" for k, p in keys.items())
        echo(f"  {choices}, s skip, q quit: ", nl=False)
        key = key_pressed()
        while key and key not in keys and key not in (SKIP, QUIT):  # another key: asked again
            key = key_pressed()
        key = key or QUIT
        echo(key)
        if key == QUIT:
            done["left"] += sum(1 for i in items[n - 1 :] if not (i.kind == QUIET and i.contact.id in let_go))
            break
        if key == SKIP:
            done["skipped"] += 1
            continue
        proposal = keys[key]
        net.record(command_for(item, proposal))
        done["reason" if proposal in REASONS else proposal] += 1
        if proposal == "let-go":
            let_go.add(item.contact.id)
    return done


def summary(done: Counter[str]) -> str:
    parts = [f"{done[k]} {one if done[k] == 1 else many}" for k, (one, many) in OUTCOMES.items() if done[k]]
    return (", ".join(parts) or "nothing recorded") + "."


def item_json(item: ReviewItem) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": item.kind, "contact": render.contact_json(item.contact)}
    if item.kind == NO_REASON:
        doc["met_on"] = item.met_on
    elif item.kind == QUIET:
        doc.update(last_interaction=item.last_interaction, days_quiet=item.days_quiet)
    else:
        pid = item.promise_id or ""
        doc.update(promise={"id": pid, "short": pid[:8], "what": item.what}, made_on=item.made_on,
                   due=item.due, state=item.state)  # fmt: skip
    doc["proposals"] = list(item.proposals)
    return doc


HEADINGS = {
    NO_REASON: "New contacts with no reason yet (met in the last {met} days):",
    QUIET: "Kept contacts gone quiet (no interaction for {quiet} days or more):",
    PROMISE: "Open promises (overdue first):",
}


def print_list(net: Network, items: Sequence[ReviewItem]) -> None:
    if not items:
        click.echo(f"Nothing to review as of {net.today().isoformat()}.")
        return
    settings = {"met": net.config.review.met_days, "quiet": net.config.review.quiet_days}
    for kind, heading in HEADINGS.items():
        of_kind = [i for i in items if i.kind == kind]
        if of_kind:
            click.echo(heading.format(**settings))
            for item in of_kind:
                click.echo(printable(f"  {describe(item)} -> {proposal_text(item)}"))
    click.echo(f"{render.plural(len(items), 'item')} to review as of {net.today().isoformat()}; nothing "
               "recorded (on a terminal 'syncnet review' asks, one key each).")  # fmt: skip


@click.command("review")
@click.option("--list", "just_list", is_flag=True, help="Only list the items and their proposals.")
@today_option
@json_option
@pass_ctx
def review_command(c: Ctx, just_list: bool, today: str | None, as_json: bool) -> None:
    """The monthly review, quality over quantity: new contacts with no reason, kept
    contacts gone quiet, and open promises (docs/rules.md, "Review").

    On a terminal, one keystroke each, recorded at once: for a new contact c
    commonality, r role-model, m complement (its reason), k keep, l let go; for a quiet
    one t touched today (a touch by me), l let go; for a promise k kept, d dropped;
    s skips, q quits. With --list, or without a terminal, it prints the list with the
    proposals and records nothing.
    """
    with c.network(today) as net:
        items = review(net)
        if as_json:
            render.emit_json({"today": net.today().isoformat(), "met_days": net.config.review.met_days,
                              "quiet_days": net.config.review.quiet_days,
                              "items": [item_json(i) for i in items]})  # fmt: skip
            return
        keys = None if just_list or not items else keystrokes()
        if keys is None:
            print_list(net, items)
            return
        with keys as key_pressed:
            done = walk(net, items, key_pressed)
        click.echo(summary(done))
