"""What the command line prints: human tables and text, or one JSON document.

Every `--json` document carries `schema_version` (docs/json.md); field names and
shapes here are part of that contract. Nothing here reads the store.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from syncnet.app.sync import COUNTED
from syncnet.domain.config import without_userinfo

if TYPE_CHECKING:
    from syncnet.app.agenda import AgendaItem
    from syncnet.app.calendars import Outcome
    from syncnet.app.directory import ContactRef
    from syncnet.app.goalscope import Goal, GoalCard
    from syncnet.app.history import HistoryEntry
    from syncnet.app.network import Card, Recorded
    from syncnet.app.sync import Action
    from syncnet.domain import projections as pj
    from syncnet.domain.config import Target
    from syncnet.domain.rows import ContactView, GoalView

SCHEMA_VERSION = 2  # 2: history's short ids and corrections, show, contact details (docs/json.md)


PRETTY = {"on": False}  # set by each command's --pretty option


def emit_json(doc: dict[str, Any], goal: Goal | None = None) -> None:
    """One JSON document: indented on a terminal or with --pretty; otherwise compact,
    which Python writes with its C encoder (an indented dump is pure Python, and the
    slowest part of `due --json` on a large network). json.dumps escapes C0 controls
    only: json_safe escapes DEL, C1 and the bidi controls a stored text may hold too."""
    from syncnet.entrypoints.terminal import json_safe

    doc = {"schema_version": SCHEMA_VERSION, **({} if goal is None else {"goal": goal_json(goal)}), **doc}
    if PRETTY["on"] or sys.stdout.isatty():
        click.echo(json_safe(json.dumps(doc, indent=2, ensure_ascii=False)))
    else:
        click.echo(json_safe(json.dumps(doc, ensure_ascii=False, separators=(",", ":"))))


def table(rows: list[list[str]], header: list[str]) -> None:
    """Columns aligned as a terminal shows them: control characters escaped, CJK text
    two columns a character, combining marks none."""
    if not rows:
        return
    rows = [header, *rows]
    if any(len(r) != len(header) for r in rows):
        raise ValueError("a table row has the wrong number of cells")
    from syncnet.entrypoints.terminal import printable, width

    columns = [list(map(str, column)) for column in zip(*rows, strict=True)]
    specs = []
    for column in columns:
        joined = "".join(column)
        if joined.isascii() and joined.isprintable():  # the common case: one check per column
            specs.append(f"{{!s:<{max(map(len, column))}}}")
            continue
        column[:] = map(printable, column)
        shown = list(map(width, column))
        most = max(shown)  # padded here: format pads to a number of characters, not columns
        column[:] = [cell + " " * (most - n) for cell, n in zip(column, shown, strict=True)]
        specs.append("{!s}")
    line = "  ".join(specs).format  # one format per row, not per cell
    click.echo("\n".join([line(*r).rstrip() for r in zip(*columns, strict=True)]))  # one write


def plural(n: int, word: str) -> str:
    """ "1 fact", "2 facts", "1,000 facts"."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def contact_json(ref: ContactRef | None) -> dict[str, Any] | None:
    return None if ref is None else {"id": ref.id, "short": ref.short, "name": ref.name}


# ---------------------------------------------------------------- recording
def recorded(r: Recorded, contact: ContactRef | None, as_json: bool, also: Sequence[Recorded] = ()) -> None:
    if as_json:
        doc: dict[str, Any] = {"recorded": {
            "kind": r.kind, "fact_id": r.fact_id, "contact": contact_json(contact),
            "promise_id": r.promise_id, "promise_short": r.promise_id[:8] if r.promise_id else None,
            "goal_id": r.goal_id,
        }}  # fmt: skip
        if also:  # recorded with it in one transaction: an event link, a next meeting
            doc["also"] = [{"kind": a.kind, "fact_id": a.fact_id} for a in also]
        emit_json(doc)
        return
    from syncnet.entrypoints.terminal import printable

    who = f" {printable(contact.label())}" if contact else ""  # a name may hold control characters
    if r.kind in ("retract", "amend"):
        click.echo(f"Recorded {'retraction' if r.kind == 'retract' else 'amendment'} {r.fact_id[:8]}"
                   f"{' of a fact about' + who if who else ''}: 'syncnet history' shows it.")  # fmt: skip
    elif r.kind == "promise" and r.promise_id:
        click.echo(f"Recorded promise {r.promise_id[:8]} to{who}.")
    elif r.kind == "goaladd" and r.goal_id:
        click.echo(f"Recorded goal {r.goal_id[:8]}.")
    elif r.kind == "eventadd":
        click.echo(f"Recorded event {r.fact_id[:8]}: 'syncnet prep' briefs you before it.")
    else:
        words = {"goalachieved": "goal achieved", "link": "goal link", "pitch": "self-presentation",
                 "setdetails": "details", "setbirthday": "birthday", "why": "reason", "retract": "retraction",
                 "amend": "amendment", "eventlink": "event link", "planmeeting": "next meeting"}  # fmt: skip
        click.echo(f"Recorded {words.get(r.kind, r.kind)}{':' + who if who else ''}.")
    said = {"eventlink": "Linked to the event.", "retract": "And the fact recorded with it.",
            "planmeeting": "Next meeting planned: 'syncnet due' reminds you."}  # fmt: skip
    for a in also:
        click.echo(said.get(a.kind, f"Also: {a.kind}."))


# ---------------------------------------------------------------- reading
def agenda_json(i: AgendaItem) -> dict[str, Any]:
    r = i.reminder
    return {
        "rule": r.rule, "state": i.state, "due": r.due.isoformat(), "opens": r.opens.isoformat(),
        "period": r.period, "key": r.key, "summary": i.summary, "contact": contact_json(i.contact),
        "promise": None if not r.promise_id
        else {"id": r.promise_id, "short": r.promise_id[:8], "what": i.promise},
    }  # fmt: skip


def agenda(items: Sequence[AgendaItem]) -> None:
    if not items:
        click.echo("Nothing is due.")
        return
    table([[i.state, i.reminder.due.isoformat(), i.reminder.rule,
            i.reminder.promise_id[:8] if i.reminder.promise_id else i.contact.short, i.summary]
           for i in items], ["state", "due", "rule", "id", "what"])  # fmt: skip


def goals(rows: Sequence[tuple[GoalView, str | None]], as_json: bool) -> None:
    if as_json:
        emit_json({"goals": [
            {"id": g.id, "short": g.id[:8], "name": name, "kind": g.kind, "set_on": g.set_on,
             "achieved_on": g.achieved_on} for g, name in rows]})  # fmt: skip
        return
    table([[g.id[:8], name or "[forgotten]", g.kind, g.set_on, g.achieved_on or ""] for g, name in rows],
          ["id", "goal", "kind", "set", "achieved"])  # fmt: skip


def goal_json(goal: Goal) -> dict[str, Any]:
    """The goal a read is for (`--goal`): the `goal` member of its document."""
    return {"id": goal.view.id, "short": goal.view.id[:8], "name": goal.name, "kind": goal.view.kind}


def goal_header(goal: Goal | None) -> None:
    """The first line of a read for a goal (`--goal`); nothing without one."""
    if goal is not None:
        from syncnet.entrypoints.terminal import printable

        click.echo(f"Goal: {printable(goal.name or '[forgotten]')} ({goal.view.kind})")


def goal_card(card: GoalCard, as_json: bool) -> None:
    """`goal show`: the goal, its contacts by reason, and the reasons none of them gives."""
    view = card.goal.view
    if as_json:
        by_reason = {why: [contact_json(r) for r in refs] for why, refs in card.by_reason.items()}
        emit_json({"goal": {**goal_json(card.goal), "set_on": view.set_on, "achieved_on": view.achieved_on},
                   "by_reason": by_reason,
                   "no_reason": [contact_json(r) for r in card.no_reason],
                   "missing": card.missing})  # fmt: skip
        return
    from syncnet.entrypoints.terminal import printable

    goal_header(card.goal)
    click.echo(f"Set on {view.set_on}; " + (f"achieved on {view.achieved_on}" if view.achieved_on
                                             else "not achieved"))  # fmt: skip
    for why, refs in [*card.by_reason.items(), ("no reason", card.no_reason)]:
        click.echo(f"{why}: {', '.join(printable(r.label()) for r in refs) or '-'}")
    click.echo(f"missing: {', '.join(card.missing)}" if card.missing else "none missing")


def balances(day: date, rows: Sequence[tuple[ContactRef, pj.Balance]],
             overall: tuple[int, int, float | None], as_json: bool,
             goal: Goal | None = None) -> None:  # fmt: skip
    kept_n, due_n, cred = overall
    if as_json:
        emit_json({
            "as_of": day.isoformat(),
            "credibility": {"kept_on_time": kept_n, "came_due": due_n, "ratio": cred},
            "contacts": [{
                "contact": contact_json(ref),
                "given": b.given, "received": b.received, "balance": b.balance,
                "given_minutes": b.given_minutes, "received_minutes": b.received_minutes,
                "balance_minutes": b.balance_minutes, "requests_made": b.requests_made,
                "requests_received": b.requests_received, "open_promises": b.open_promises,
                "promises_came_due": b.promises_due, "promises_kept_on_time": b.promises_kept_on_time,
                "credibility": b.credibility,
            } for ref, b in rows],
        }, goal)  # fmt: skip
        return
    goal_header(goal)
    table([[ref.label(), str(b.given), str(b.received), f"{b.balance:+d}", f"{b.balance_minutes:+d}",
            f"{b.requests_made}/{b.requests_received}", str(b.open_promises),
            "-" if b.credibility is None else f"{b.credibility:.0%}"] for ref, b in rows],
          ["contact", "given", "received", "balance", "minutes", "asked/asked-by", "open promises",
           "credibility"])  # fmt: skip
    text = "no promise has come due yet" if cred is None else f"{kept_n}/{due_n} = {cred:.0%}"
    click.echo(f"\nPromise credibility as of {day.isoformat()}: {text}")


def time_split(s: pj.TimeSplit, as_json: bool, goal: Goal | None = None) -> None:
    parts = ("give", "self", "ask")
    if as_json:
        emit_json({"window": {"start": s.start.isoformat(), "end": s.end.isoformat()},
                   "total_minutes": s.total,
                   "parts": {p: {"minutes": getattr(s, p), "share": s.share(p), "target": s.target[p] / 100}
                             for p in parts}}, goal)  # fmt: skip
        return
    goal_header(goal)
    click.echo(f"Time split {s.start.isoformat()} .. {s.end.isoformat()} ({s.total} minutes)")
    table([[p, str(getattr(s, p)), "-" if s.share(p) is None else f"{s.share(p):.0%}", f"{s.target[p]}%"]
           for p in parts], ["part", "minutes", "actual", "target"])  # fmt: skip


def warnings(found: Sequence[tuple[pj.Warning, ContactRef | None]], as_json: bool,
             goal: Goal | None = None) -> None:  # fmt: skip
    if as_json:
        emit_json({"warnings": [
            {"kind": w.kind, "on": w.on.isoformat() if w.on else None, "detail": w.detail,
             "contact": contact_json(ref)} for w, ref in found]}, goal)  # fmt: skip
        return
    goal_header(goal)
    if not found:
        click.echo("No warnings.")
        return
    from syncnet.entrypoints.terminal import printable

    click.echo("\n".join(f"{w.kind}: {f'{printable(ref.label())}: ' if ref else ''}{printable(w.detail)}"
                         f"{f' ({w.on.isoformat()})' if w.on else ''}" for w, ref in found))  # fmt: skip


def history(ref: ContactRef, entries: Sequence[HistoryEntry], as_json: bool,
            recorded_by: dict[str, str] | None = None) -> None:  # fmt: skip
    by = recorded_by or {}
    if as_json:
        emit_json({"contact": contact_json(ref),
                   "events": [{"on": e.on.isoformat(), "recorded": e.recorded.isoformat(), "kind": e.kind,
                               "fact_id": e.fact_id, "short": e.fact_id[:8], "details": e.details,
                               "retracted": _correction_json(e.retracted),
                               "amended": [_correction_json(a) for a in e.amended],
                               "recorded_by": by.get(e.fact_id)}
                              for e in entries]})  # fmt: skip
        return
    from syncnet.entrypoints.terminal import printable

    # One line per fact, whatever a note holds; the JSON above keeps the text as it is.
    click.echo(f"History of {printable(ref.label())}:")
    for e in entries:
        detail = ", ".join(
            f"{k}={printable(str(v))}" for k, v in e.details.items() if k != "contact_id" and v is not None
        )
        member = f" by {printable(by[e.fact_id])}" if e.fact_id in by else ""
        when = f"[recorded {e.recorded:%Y-%m-%d %H:%M} UTC{member}]"
        line = f"{e.fact_id[:8]}  {e.on.isoformat()}  {e.kind:<11} {detail}   {when}"
        if e.retracted is not None:
            why = e.retracted.get("reason")
            line += (f"  RETRACTED by {e.retracted['by']} on {e.retracted['recorded']:%Y-%m-%d}"
                     f"{': ' + printable(why) if why else ''}")  # fmt: skip
        for a in e.amended:
            fixed = ", ".join(f"{k}={printable(str(v))}" for k, v in a["changes"].items())
            line += f"  AMENDED by {a['by']} on {a['recorded']:%Y-%m-%d}: {fixed}"
        click.echo(line)


def contacts(rows: Sequence[tuple[ContactRef, ContactView, list[str]]], as_json: bool,
             met_by: dict[str, str] | None = None) -> None:  # fmt: skip
    met_by = met_by or {}
    if as_json:
        emit_json({"contacts": [
            {"id": ref.id, "short": ref.short, "name": ref.name, "channel": v.channel, "why": v.why,
             "pocket": pocket_of(v), "met_on": v.met_on,
             "last_interaction": v.last_interaction or None, "cadence_days": v.cadence_days,
             "goals": names, "met_by": met_by.get(ref.id)} for ref, v, names in rows]})  # fmt: skip
        return
    header = ["id", "name", "why", "channel", "pocket", "met", "last", "goals"]
    shown = [[ref.short, ref.name or "[forgotten]", v.why or "(no reason)", v.channel,
              pocket_of(v), v.met_on, v.last_interaction, ", ".join(names)]
             for ref, v, names in rows]  # fmt: skip
    if any(met_by.get(ref.id) for ref, _, _ in rows):  # in a team's hub: who of us met them
        header.append("met by")
        for line, (ref, _, _) in zip(shown, rows, strict=True):
            line.append(met_by.get(ref.id, ""))
    table(shown, header)


# ---------------------------------------------------------------- the demo
def demo(home: Path, day: date, facts: int, items: Sequence[AgendaItem], ics: Path, n_ics: int,
         pushed: Outcome | None, target: Target | None, as_json: bool) -> None:  # fmt: skip
    if as_json:
        emit_json({"home": str(home), "facts": facts, "ics": str(ics), "ics_items": n_ics,
                   "caldav": None if pushed is None else {
                       "ok": pushed.error is None, "error": pushed.error,
                       "created": 0 if pushed.report is None else pushed.report.count("created")},
                   "agenda": [agenda_json(i) for i in items]})  # fmt: skip
        return
    click.echo(f"Demo network: {facts} facts recorded in {home}")
    click.echo(f"Agenda for {day.isoformat()}:\n")
    agenda(items)
    click.echo(f"\n{n_ics} reminders (overdue and due within 60 days) written to {ics}")
    if pushed is not None and pushed.report is not None and target is not None:
        from syncnet.entrypoints.terminal import printable

        where = printable(without_userinfo(target.url))
        click.echo(f"{pushed.report.count('created')} reminders pushed to {where}")
    click.echo(f"Explore it: syncnet --home {home} balance (or split, warnings, contacts)")


# ---------------------------------------------------------------- calendars
def sync_report(outcomes: Sequence[Outcome], dry_run: bool, as_json: bool,
                label: Callable[[Action], str]) -> None:  # fmt: skip
    if as_json:
        emit_json({"dry_run": dry_run, "targets": [{
            "target": o.target, "ok": o.error is None, "error": o.error, "requests": o.requests,
            "actions": [] if o.report is None else [
                {"action": a.action, "uid": a.uid, "summary": a.summary, "result": a.result}
                for a in o.report.actions],
            "counts": None if o.report is None else {k: o.report.count(k) for k in COUNTED},
            "skipped": o.extra.get("skipped"),
        } for o in outcomes]})  # fmt: skip
        return
    from syncnet.entrypoints.terminal import printable

    for o in outcomes:
        if o.extra.get("skipped"):
            click.echo(f"{o.target}: skipped: {o.extra['skipped']}")
        if o.report is None or (o.error is not None and not o.report.actions):
            continue
        r = o.report
        verb = "would change" if dry_run else "failed after" if o.error is not None else "synced"
        click.echo(f"{o.target}: {verb}: {r.count('created')} created, {r.count('updated')} updated, "
                   f"{r.count('deleted')} deleted ({plural(o.requests, 'request')})")  # fmt: skip
        for a in r.actions:
            result = "" if a.result == "ok" else f" ({printable(a.result)})"
            click.echo(f"  {a.action:<12} {printable(label(a))}{result}")  # a summary holds a name


def sync_errors(outcomes: Sequence[Outcome]) -> None:
    from syncnet.entrypoints.terminal import printable

    for o in outcomes:
        if o.error is None:
            continue
        prefix = "" if o.error.startswith(f"target {o.target}") else f"target {o.target}: "
        click.echo(f"syncnet: error: {prefix}{printable(o.error)}", err=True)  # may quote a server


def status(rows: Sequence[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json({"targets": list(rows)})
        return
    if not rows:
        click.echo("No targets configured.")
    from syncnet.entrypoints.terminal import printable

    for r in rows:
        p = r["pending"]
        click.echo(f"{r['target']} ({r['type']} {printable(r['where'])}): holds {r['holds']}, pending "
                   f"{p['create']} new / {p['update']} changed / {p['delete']} to delete")  # fmt: skip
        click.echo(f"  last success: {r['last_success'] or 'never'}")
        if r["last_error"] and r["failures"]:
            error = printable(r["last_error"])  # a server's words, saved by an earlier sync
            click.echo(f"  last error:   {r['last_error_at']}: {error} ({r['failures']} in a row)")


# ---------------------------------------------------------------- a contact, a fact
def fact_line(e: HistoryEntry) -> str:
    """One fact on one line (undo shows what it would retract)."""
    from syncnet.entrypoints.terminal import printable

    details = ", ".join(f"{k}={printable(str(v))}" for k, v in e.details.items() if v is not None)
    when = f"recorded {e.recorded:%Y-%m-%d %H:%M} UTC"
    return f"{e.on.isoformat()}  {e.kind}  {details}  [fact {e.fact_id[:8]}, {when}]"


def show(card: Card, as_json: bool, birthday: str | None = None) -> None:
    """`birthday`: the birthday in force (events.BirthdaySet), unsealed. Without any such
    fact, the birthday an older import put among the details is shown."""
    v, b = card.view, card.balance
    details = dict(card.details)
    older = details.pop("birthday", None)
    shown_birthday = birthday_json(birthday if v.birthday_at else older)  # a fact set or cleared wins
    if shown_birthday:
        details["birthday"] = shown_birthday
    doc = {
        "contact": contact_json(card.contact), "met_on": v.met_on, "channel": v.channel, "where": card.where,
        "why": v.why, "pocket": pocket_of(v), "cadence_days": v.cadence_days,
        "last_interaction": v.last_interaction or None, "details": details,
        "balance": {"given": b.given, "received": b.received, "balance": b.balance,
                    "balance_minutes": b.balance_minutes, "requests_made": b.requests_made,
                    "requests_received": b.requests_received},
        "open_promises": [{"id": pid, "short": pid[:8], "what": what, "due": due}
                          for pid, what, due in card.open_promises],
        "via": contact_json(card.via), "introduced": [contact_json(r) for r in card.introduced],
    }  # fmt: skip
    if as_json:
        emit_json(doc)
        return
    from syncnet.entrypoints.terminal import printable

    d = details
    lines = [printable(card.contact.label())]
    fields = [
        ("organisation", d.get("org")), ("role", d.get("role")),
        ("e-mail", ", ".join(d.get("emails", ())) or None), ("phone", ", ".join(d.get("phones", ())) or None),
        ("profiles", ", ".join(d.get("urls", ())) or None), ("how we met", d.get("how_met")),
        ("categories", ", ".join(d.get("categories", ())) or None),
        ("birthday", birthday_text(d.get("birthday"))),
        ("met", f"{v.met_on} ({v.channel}{', ' + card.where if card.where else ''})"),
        ("introduced by", card.via.label() if card.via else None),
        ("introduced me to", ", ".join(r.label() for r in card.introduced) or None),
        ("why", v.why or "(no reason)"),
        ("pocket", "unsorted (imported: no reminders until kept)" if v.unsorted
         else "keep" if v.keep else "drop (no reminders)"),
        ("cadence", f"every {v.cadence_days} days" if v.cadence_days else None),
        ("last interaction", v.last_interaction or None),
        ("balance", f"gave {b.given}, received {b.received} ({b.balance:+d}; {b.balance_minutes:+d} min); "
                    f"asked {b.requests_made}, asked by {b.requests_received}"),
    ]  # fmt: skip
    lines += [f"  {label + ':':<17} {printable(str(value))}" for label, value in fields if value is not None]
    if card.open_promises:
        lines.append("  open promises:")
        lines += [f"    {pid[:8]}  due {due}  {printable(what or '[forgotten]')}"
                  for pid, what, due in card.open_promises]  # fmt: skip
    click.echo("\n".join(lines))


def _correction_json(c: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if c is None else {**c, "recorded": c["recorded"].isoformat()}


def birthday_json(value: str | None) -> str | None:
    """A stored birthday in JSON: YYYY-MM-DD, or --MM-DD without its year (stored in 1604)."""
    if not value:
        return None
    return f"--{value[5:]}" if value.startswith("1604-") else value


def birthday_text(value: str | None) -> str | None:
    """A birthday as shown: --MM-DD is vCard's "year unknown"."""
    value = birthday_json(value)
    if not value:
        return None
    return f"{value} (year unknown)" if value.startswith("--") else value


def pocket_of(view: Any) -> str:
    """keep, drop, or unsorted (imported, in no pocket yet)."""
    return "unsorted" if view.unsorted else "keep" if view.keep else "drop"
