"""`syncnet report`: the network as one self-contained HTML page (docs/report.md).

The page opens offline: no script, no font, no image file, no link to load; its charts
and the introductions graph are inline SVG, laid out here, and a Content-Security-Policy
of `default-src 'none'` forbids the browser any request, should anything slip in. Every
text is escaped (names are the user's input); forgotten contacts appear without a name.

`build_report(net)` reads through the Network and returns the page as a string; writing
it is the command line's job.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from syncnet.app import graph as g
from syncnet.domain.rows import GIVEN, RECEIVED

if TYPE_CHECKING:
    from syncnet.app.agenda import AgendaItem
    from syncnet.app.directory import ContactRef
    from syncnet.app.network import Network
    from syncnet.domain import projections as pj
    from syncnet.domain.rows import LedgerView, PromiseView

# C0 and C1 controls (but tab and newline) are not text HTML may hold, and the bidi
# controls would turn the text after a name around on screen: shown as U+FFFD.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def esc(text: object) -> str:
    """Text as HTML (element content or a quoted attribute): nothing in it is markup."""
    return html.escape(_CONTROLS.sub("\ufffd", str(text)), quote=True)


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    start: date  # the first day of the month, or of the window
    end: date  # the last day of the month, or today


def months(start: date, end: date) -> list[Month]:
    """The calendar months from `start` to `end`, the first and last cut to them."""
    out: list[Month] = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + timedelta(days=32)).replace(day=1)
        out.append(Month(f"{first:%Y-%m}", max(first, start), min(following - timedelta(days=1), end)))
        first = following
    return out


# ------------------------------------------------------------------ the page
def build_report(net: Network) -> str:
    """The report of the network as of `net.today()` (and `net.known_at`)."""
    from syncnet.domain import projections as pj
    from syncnet.domain.rules import window

    today = net.today()
    reads = net.reads(today)
    start, _ = window(today, net.config.split.window_days)
    span = months(start, today)

    agenda = net.agenda(today)
    rows, overall = net.balances(None, today)
    days = reads.load_days()
    split = pj.time_split(days, today, net.config)
    by_month = [(m, _split_of(days, m, net)) for m in span]
    promises = [
        p for p in reads.load_all("promise") if p.status != "forgotten" and p.made_on <= today.isoformat()
    ]
    directory = net.directory(reads)
    intro = g.introductions(net, today)

    known = f", as known at {net.known_at:%Y-%m-%d %H:%M} UTC" if net.known_at else ""
    title = f"syncnet report, {today.isoformat()}"
    parts = [
        _head(title),
        "<body>",
        f"<header><h1>Your network on {esc(today.isoformat())}</h1>",
        f'<p class="sub">Facts dated on or before {esc(today.isoformat())}{esc(known)}. This page holds '
        "names: keep it private. It loads nothing from the network.</p>",
        '<nav><a href="#agenda">Agenda</a> · <a href="#balance">Balance</a> · <a href="#split">70-20-10</a>'
        ' · <a href="#promises">Promises</a> · <a href="#introductions">Introductions</a></nav></header>',
        "<main>",
        _agenda(agenda, today),
        _balances(rows, lambda cid: reads.row("ledger", cid), span),
        _split(split, by_month),
        _promises(promises, overall, today, lambda cid: directory.ref(cid), net.unseal_text),
        _graph(intro),
        "</main>",
        "<footer>Made by syncnet from your encrypted store; nothing here is sent anywhere.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# The page may load nothing: default-src 'none' (styles inline only, no script at all).
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STYLE = """
:root { --ink: #1d2430; --muted: #5b6472; --line: #d8dde4; --give: #2e7d5b; --self: #3b6fb6;
        --ask: #c0792b; --me: #1d2430; --node: #3b6fb6; --gone: #9aa3ad; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       background: #fafbfc; }
header, main, footer { max-width: 1080px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub, .note, footer { color: var(--muted); }
nav a { color: var(--self); text-decoration: none; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-weight: 600; font-size: 13px; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.overdue { color: #b3261e; font-weight: 600; }
.today { color: var(--ask); font-weight: 600; }
.pos { color: var(--give); } .neg { color: #b3261e; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.spark polyline { fill: none; stroke: var(--self); stroke-width: 1.5; }
.spark line { stroke: var(--line); }
.bar .give { fill: var(--give); } .bar .self { fill: var(--self); } .bar .ask { fill: var(--ask); }
.bar .target { stroke: var(--ink); stroke-width: 1.5; }
#graph { display: block; max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); }
#graph .edge { stroke: #9aa3ad; stroke-width: 1.2; fill: none; }
#graph .edge.via { stroke: var(--self); }
#graph .edge.introduced { stroke: var(--give); }
#graph .edge.i-introduced { stroke: var(--ask); stroke-dasharray: 4 3; }
#graph .node circle { fill: var(--node); stroke: #fff; stroke-width: 1.5; }
#graph .node.me circle { fill: var(--me); }
#graph .node.forgotten circle { fill: var(--gone); }
#graph .node .label { visibility: hidden; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
#graph .node.me .label, #graph .node:hover .label { visibility: visible; }
#graph .node:hover circle { stroke: var(--ink); }
.legend span { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
.swatch.via { background: var(--self); } .swatch.introduced { background: var(--give); }
.swatch.i-introduced { background: var(--ask); } .swatch.met { background: var(--gone); }
footer { padding: 32px 20px; font-size: 13px; }
"""


def _head(title: str) -> str:
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
            '<meta name="referrer" content="no-referrer">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
        ]
    )


def _label(ref: ContactRef) -> str:
    return ref.label()  # "[forgotten] (id)" when the name is gone


# ------------------------------------------------------------------ agenda
_RULE_WORDS = {"followup": "follow-up", "season": "season", "promise": "promise", "cadence": "cadence"}


def _agenda(items: Sequence[AgendaItem], today: date) -> str:
    out = ['<section id="agenda">', "<h2>Agenda</h2>"]
    overdue = sum(1 for i in items if i.state == "overdue")
    out.append(
        f'<p class="count" data-count="{len(items)}">{len(items)} reminder'
        f"{'' if len(items) == 1 else 's'} due by {esc(today.isoformat())}"
        f"{f', {overdue} overdue' if overdue else ''}.</p>"
    )
    if items:
        out.append(
            "<table><thead><tr><th>Due</th><th>State</th><th>Rule</th><th>What</th></tr></thead><tbody>"
        )
        for i in items:
            r = i.reminder
            rule = str(r.rule)
            out.append(
                f'<tr data-rule="{esc(rule)}" data-state="{esc(i.state)}" data-contact="{esc(i.contact.id)}">'
                f'<td>{esc(r.due.isoformat())}</td><td class="{esc(i.state)}">{esc(i.state)}</td>'
                f"<td>{esc(_RULE_WORDS.get(rule, rule))}</td><td>{esc(i.summary)}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


# ------------------------------------------------------------------ balance over time
def balance_series(ledger: LedgerView | None, span: Sequence[Month]) -> list[int]:
    """The balance (help given minus received, counted) at the end of each month of
    `span`, everything before it included."""
    out = []
    entries = sorted((ledger.days if ledger else {}).items())
    total, i = 0, 0
    for m in span:
        cut = m.end.isoformat()
        while i < len(entries) and entries[i][0] <= cut:
            total += entries[i][1][GIVEN] - entries[i][1][RECEIVED]
            i += 1
        out.append(total)
    return out


def _balances(
    rows: Sequence[tuple[ContactRef, pj.Balance]],
    ledger_of: Callable[[str], LedgerView | None],
    span: Sequence[Month],
) -> str:
    active = [(ref, b) for ref, b in rows if b.given or b.received]
    out = [
        '<section id="balance">',
        "<h2>Balance over time</h2>",
        f'<p class="note">Help given minus help received, per contact, at the end of each month from '
        f"{esc(span[0].label)} to {esc(span[-1].label)}. {len(rows) - len(active)} contact"
        f"{'' if len(rows) - len(active) == 1 else 's'} with no help either way "
        f"{'is' if len(rows) - len(active) == 1 else 'are'} not listed.</p>",
    ]
    if active:
        labels = ",".join(m.label for m in span)
        out.append(
            f'<table data-months="{esc(labels)}"><thead><tr><th>Contact</th><th class="num">Given</th>'
            '<th class="num">Received</th><th class="num">Balance</th><th class="num">Minutes</th>'
            "<th>Over time</th></tr></thead><tbody>"
        )
        for ref, b in active:
            series = balance_series(ledger_of(ref.id), span)
            sign = "pos" if b.balance > 0 else "neg" if b.balance < 0 else ""
            out.append(
                f'<tr data-contact="{esc(ref.id)}" data-given="{b.given}" data-received="{b.received}" '
                f'data-balance="{b.balance}" data-series="{",".join(map(str, series))}">'
                f'<td>{esc(_label(ref))}</td><td class="num">{b.given}</td><td class="num">{b.received}</td>'
                f'<td class="num {sign}">{b.balance:+d}</td><td class="num">{b.balance_minutes:+d}</td>'
                f"<td>{_sparkline(series, span)}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


def _sparkline(series: Sequence[int], span: Sequence[Month], width: int = 180, height: int = 30) -> str:
    lo, hi = min(0, *series), max(0, *series)
    scale = (height - 6) / ((hi - lo) or 1)
    step = width / max(1, len(series) - 1)

    def y(v: int) -> float:
        return round(height - 3 - (v - lo) * scale, 1)

    points = " ".join(f"{round(i * step, 1)},{y(v)}" for i, v in enumerate(series))
    told = ", ".join(f"{m.label} {v:+d}" for m, v in zip(span, series, strict=True))
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<title>{esc(told)}</title><line x1="0" x2="{width}" y1="{y(0)}" y2="{y(0)}"/>'
        f'<polyline points="{points}"/></svg>'
    )


# ------------------------------------------------------------------ 70-20-10
def _split_of(days: dict[str, list[int]], m: Month, net: Network) -> pj.TimeSplit:
    """The time split of one month: `syncnet split`'s count over that month alone."""
    from syncnet.domain import projections as pj

    config = net.config
    length = (m.end - m.start).days + 1
    monthly = dataclasses.replace(config, split=dataclasses.replace(config.split, window_days=length))
    return pj.time_split(days, m.end, monthly)


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)} %"


def _split(window: pj.TimeSplit, by_month: Sequence[tuple[Month, pj.TimeSplit]]) -> str:
    t = window.target
    out = [
        '<section id="split">',
        "<h2>70-20-10: your time, by month</h2>",
        f'<p class="note">Minutes of your time spent giving (help, touches, first meetings), presenting '
        f"yourself and asking, against the target {t['give']}-{t['self']}-{t['ask']} (the marks on each "
        "bar). The last row is the whole window, as <code>syncnet split</code> counts it.</p>",
        '<table><thead><tr><th>Month</th><th class="num">Give</th><th class="num">Self</th>'
        '<th class="num">Ask</th><th class="num">Total</th><th>Split</th></tr></thead><tbody>',
    ]
    rows = [(m.label, s) for m, s in by_month] + [(f"{window.start} to {window.end}", window)]
    for n, (label, s) in enumerate(rows):
        key = "window" if n == len(rows) - 1 else label
        cells = "".join(
            f'<td class="num">{getattr(s, part)} min · {_percent(s.share(part))}</td>'
            for part in ("give", "self", "ask")
        )
        out.append(
            f'<tr data-month="{esc(key)}" data-give="{s.give}" data-self="{s.self}" data-ask="{s.ask}">'
            f'<td>{esc(label)}</td>{cells}<td class="num">{s.total} min</td>'
            f"<td>{_bar(s)}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _bar(s: pj.TimeSplit, width: int = 200, height: int = 14) -> str:
    parts, x = [], 0.0
    for part in ("give", "self", "ask"):
        share = s.share(part) or 0.0
        w = round(share * width, 1)
        if w:
            parts.append(f'<rect class="{part}" x="{x}" y="2" width="{w}" height="{height - 4}"/>')
        x = round(x + w, 1)
    marks = []
    edge = 0
    for part in ("give", "self"):
        edge += s.target.get(part, 0)
        mx = round(edge / 100 * width, 1)
        marks.append(f'<line class="target" x1="{mx}" x2="{mx}" y1="0" y2="{height}"/>')
    told = (
        f"give {_percent(s.share('give'))}, self {_percent(s.share('self'))}, ask {_percent(s.share('ask'))}"
    )
    return (
        f'<svg class="bar" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<title>{esc(told)}</title><rect x="0" y="2" width="{width}" height="{height - 4}" fill="#eef1f4"/>'
        f"{''.join(parts)}{''.join(marks)}</svg>"
    )


# ------------------------------------------------------------------ promises
def _promises(
    promises: Sequence[PromiseView],
    overall: tuple[int, int, float | None],
    today: date,
    ref_of: Callable[[str], ContactRef],
    unseal: Callable[[str | None], str | None],
) -> str:
    kept, due, rate = overall
    day = today.isoformat()
    out = [
        '<section id="promises">',
        "<h2>Promises</h2>",
        f'<p id="credibility" data-kept="{kept}" data-due="{due}">Kept on time: <strong>{kept} of {due}'
        f"</strong> promises that have come due ({_percent(rate)}).</p>",
    ]
    if promises:
        out.append(
            "<table><thead><tr><th>Due</th><th>To</th><th>What</th><th>Made</th><th>Status</th></tr>"
            "</thead><tbody>"
        )
        for p in sorted(promises, key=lambda p: (p.due, p.id)):
            status = _promise_status(p, day)
            out.append(
                f'<tr data-promise="{esc(p.id)}" data-status="{esc(status)}"><td>{esc(p.due)}</td>'
                f"<td>{esc(_label(ref_of(p.contact_id)))}</td><td>{esc(unseal(p.what) or '')}</td>"
                f'<td>{esc(p.made_on)}</td><td class="{"overdue" if status == "overdue" else ""}">'
                f"{esc(status)}{esc(' on ' + p.closed_on) if p.closed_on else ''}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


def _promise_status(p: PromiseView, day: str) -> str:
    if p.status == "kept":
        return "kept" if p.closed_on is not None and p.closed_on <= p.due else "kept late"
    if p.status == "open":
        return "overdue" if p.due < day else "open"
    return p.status


# ------------------------------------------------------------------ introductions graph
RING = 90  # pixels between the rings of a radial layout, at least
SPACING = 18  # pixels between two nodes on the outer ring, at least
LEAF_ANGLE = math.pi / 4  # the widest angle a leaf gets (a small tree is a fan, not a circle)


def radial_layout(
    nodes: Iterable[str], parents: dict[str, str], key: Callable[[str], Any]
) -> dict[str, tuple[float, float]]:
    """Positions of `nodes` and me: me at the centre, each node on the ring of its depth
    (links from me on its chosen chain), in the angle its parent's subtree gets, which is
    shared out by the number of leaves under each child (at most LEAF_ANGLE a leaf)."""
    wanted = set(nodes)
    children: dict[str, list[str]] = {}
    for n in wanted:  # one reached by no chain (a cycle of introductions) hangs from me, undrawn
        parent = parents.get(n, g.ME)
        children.setdefault(parent if parent in wanted else g.ME, []).append(n)
    for kids in children.values():
        kids.sort(key=key)
    order, depth = [g.ME], {g.ME: 0}
    for n in order:  # breadth first: parents before children
        for c in children.get(n, ()):
            depth[c] = depth[n] + 1
            order.append(c)
    leaves: dict[str, int] = {}
    for n in reversed(order):
        leaves[n] = sum(leaves[c] for c in children.get(n, ())) or 1
    # A few leaves get a fan pointing down, not the whole circle: no chain wraps round behind me.
    fan = min(2 * math.pi, leaves[g.ME] * LEAF_ANGLE)
    spans = {g.ME: (math.pi / 2 - fan / 2, math.pi / 2 + fan / 2)}
    # The first ring is wide enough for every leaf SPACING apart; each further ring is RING out.
    first = max(RING, SPACING * leaves[g.ME] / fan)
    where = {g.ME: (0.0, 0.0)}
    for n in order:
        lo, hi = spans[n]
        for c in children.get(n, ()):
            part = (hi - lo) * leaves[c] / leaves[n] if leaves[n] else 0
            spans[c] = (lo, lo + part)
            lo += part
            angle = sum(spans[c]) / 2
            r = first + (depth[c] - 1) * RING
            where[c] = (round(r * math.cos(angle), 1), round(r * math.sin(angle), 1))
    return where


def _graph(intro: g.Introductions) -> str:
    drawn = intro.drawn()
    others = len(intro.people) - len(drawn)
    parents = intro.parents()
    where = radial_layout(drawn, parents, intro.key)
    # the drawing's box (a lopsided tree wastes no room): the dots', with room for a name above each
    xs, ys = [x for x, _ in where.values()], [y for _, y in where.values()]
    left, top = min(xs) - 100, min(ys) - 36
    width, height = max(xs) - min(xs) + 200, max(ys) - min(ys) + 56
    out = [
        '<section id="introductions">',
        "<h2>Introductions</h2>",
        f'<p class="note">Who introduced you to whom: you at the centre, each contact on the ring of the '
        f"number of introductions between you (hover over a dot for a name). {len(drawn)} contact"
        f"{'' if len(drawn) == 1 else 's'} drawn; {others} you met with no introduction either way "
        f"{'is' if others == 1 else 'are'} not.</p>",
        '<p class="legend"><span><i class="swatch via"></i>met via</span>'
        '<span><i class="swatch introduced"></i>introduced you</span>'
        '<span><i class="swatch i-introduced"></i>you introduced them to each other</span>'
        '<span><i class="swatch met"></i>you met them</span></p>',
        f'<svg id="graph" width="{width:.0f}" height="{height:.0f}" viewBox="{left:.0f} {top:.0f} '
        f'{width:.0f} {height:.0f}" '
        f'data-nodes="{len(drawn) + 1}" role="img" aria-label="The introductions graph">',
        "<title>Introductions</title>",
    ]
    links = intro.edges(drawn)
    for link in links:
        (x1, y1), (x2, y2) = where[link.source], where[link.target]
        out.append(
            f'<line class="edge {esc(link.kind)}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}">'
            f"<title>{esc(_link_text(intro, link))}</title></line>"
        )
    for node in [g.ME, *drawn]:
        x, y = where[node]
        name = "you" if node == g.ME else intro.name(node)
        kind = "me" if node == g.ME else "contact" if name is not None else "forgotten"
        shown = name if name is not None else "[forgotten]"
        tip = shown if node == g.ME else f"{shown} ({node[:8]})"
        out.append(
            f'<g class="node {kind}" data-id="{esc(node)}" transform="translate({x} {y})">'
            f'<title>{esc(tip)}</title><circle r="{9 if node == g.ME else 6}"/>'
            f'<text class="label" x="0" y="-12" text-anchor="middle">{esc(shown)}</text></g>'
        )
    out.append("</svg>")
    if links:
        out.append('<table class="links"><thead><tr><th>On</th><th>Introduction</th></tr></thead><tbody>')
        for link in sorted(links, key=lambda x: (x.on, x.kind, x.source, x.target)):
            if link.kind != g.MET:
                out.append(
                    f'<tr data-kind="{esc(link.kind)}"><td>{esc(link.on)}</td>'
                    f"<td>{esc(_link_text(intro, link))}</td></tr>"
                )
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


def _node_label(intro: g.Introductions, node: str) -> str:
    if node == g.ME:
        return "you"
    return f"{intro.name(node) or '[forgotten]'} ({node[:8]})"


def _link_text(intro: g.Introductions, link: g.Link) -> str:
    source, target = _node_label(intro, link.source), _node_label(intro, link.target)
    if link.kind == g.MET:
        return f"you met {target} on {link.on}"
    if link.kind == g.VIA:
        return f"you met {target} via {source} on {link.on}"
    if link.kind == g.INTRODUCED:
        return f"{source} introduced you to {target} on {link.on}"
    return f"you introduced {source} and {target} on {link.on}"
