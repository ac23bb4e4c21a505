"""The introductions graph: how I came to know each contact, and who knows whom
(`syncnet path`, and the graph of `syncnet report`).

Two graphs over the same people, both networkx:
- `reach` (directed): how I came to know each contact. V -> X when I met X via V
  (`ContactMet.via`, "via"); A -> C when A introduced me to C (help received of kind
  introduction, "introduced"); me -> X when I met X myself ("met"): nobody introduced us,
  by either fact. (Recording `meet C` and then `receive B --kind introduction --to C` is
  how an introduction that led to a meeting is told: C is reached through B.) A cycle of
  introductions alone (A introduced me to B, B introduced me to A, neither met via
  anyone) is reached by no chain: `path` says so.
- `knows` (undirected, contacts only): who knows whom as far as my facts say: the two
  ends of every "via" and "introduced" link, and of every introduction I made (help
  given of kind introduction: I introduced the two to each other, "i-introduced").

The shortest chain to a contact is the shortest path in `reach`; among chains of the
same length, the one whose names, read from me outwards, sort first (folded names, then
ids): so the answer never depends on the order facts were recorded in.

Forgotten contacts stay in the graph without a name (their link to others is a date and
an id, as `show` says "[forgotten]"), so a chain through them is not broken; they are
never at an organisation and never offered as introducers.

`build` is pure; `introductions` reads the views and the log through a Network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import networkx as nx

from syncnet.storage.viewstore import fold_name

if TYPE_CHECKING:
    from syncnet.app.network import Network

ME = "me"  # the node of the user (contact ids are 32 hex digits: never "me")

MET = "met"  # me -> X: I met X myself
VIA = "via"  # V -> X: I met X via V
INTRODUCED = "introduced"  # A -> C: A introduced me to C
I_INTRODUCED = "i-introduced"  # A - C: I introduced A and C to each other
REACH_KINDS = (MET, VIA, INTRODUCED)
_KIND_ORDER = {MET: 0, VIA: 1, INTRODUCED: 2, I_INTRODUCED: 3}
PAGE = 5000


@dataclass(frozen=True)
class Person:
    id: str  # 32 hex digits
    name: str | None  # None: forgotten
    met_on: str  # ISO day
    via: str | None = None  # who introduced us (ContactMet.via)


@dataclass(frozen=True)
class Link:
    source: str  # ME or a contact id
    target: str
    kind: str  # MET, VIA, INTRODUCED or I_INTRODUCED
    on: str  # ISO day of the fact that made it


@dataclass(frozen=True)
class Knows:
    """One contact an introducer knows at an organisation, and how: "introduced-you" (the
    introducer introduced me to them), "introduced-by" (they introduced me to the
    introducer), "you-introduced" (I introduced the two to each other)."""

    contact: str
    how: str


@dataclass(frozen=True)
class Introducer:
    contact: str
    distance: int  # links from me to the introducer (1: met myself)
    knows: tuple[Knows, ...]


class Introductions:
    """The two graphs (module docstring) and the queries on them."""

    def __init__(self, people: Mapping[str, Person], links: Iterable[Link]) -> None:
        self.people = dict(people)
        self.reach: Any = nx.DiGraph()
        self.knows: Any = nx.Graph()
        self.reach.add_node(ME)
        self.reach.add_nodes_from(self.people)
        self.knows.add_nodes_from(self.people)
        for link in links:
            if link.source not in self.reach or link.target not in self.reach or link.source == link.target:
                continue  # a contact not in the graph (met after the day read): no link
            if link.kind in REACH_KINDS:
                self._add(self.reach, link)
            if link.kind != MET:
                self._add(self.knows, link)
        self._distance: dict[str, int] | None = None
        self._best: dict[str, tuple[tuple[str, str], ...]] = {ME: ()}
        self._parent: dict[str, str] = {}

    @staticmethod
    def _add(graph: Any, link: Link) -> None:
        if graph.has_edge(link.source, link.target):
            graph.edges[link.source, link.target]["links"].append(link)
        else:
            graph.add_edge(link.source, link.target, links=[link])

    # ordering --------------------------------------------------------------
    def name(self, node: str) -> str | None:
        person = self.people.get(node)
        return None if person is None else person.name

    def key(self, node: str) -> tuple[str, str]:
        """How a node sorts among its peers: by folded name, then id (me first)."""
        if node == ME:
            return ("", "")
        return (fold_name(self.name(node) or ""), node)

    def link(self, source: str, target: str, graph: Any = None) -> Link:
        """The link an edge stands for: the earliest fact that made it."""
        links: list[Link] = (graph if graph is not None else self.reach).edges[source, target]["links"]
        return min(links, key=lambda x: (x.on, _KIND_ORDER[x.kind]))

    # paths -----------------------------------------------------------------
    def distances(self) -> dict[str, int]:
        """Links from me to each contact reached (BFS in `reach`)."""
        if self._distance is None:
            self._distance = dict(nx.single_source_shortest_path_length(self.reach, ME))
        return self._distance

    def _settle(self) -> None:
        """The chosen chain to every node reached, layer by layer from me: among the
        predecessors one link closer, the one whose own chain sorts first."""
        if self._parent or len(self.distances()) <= 1:
            return
        distance = self.distances()
        for node in sorted(distance, key=lambda n: distance[n]):
            if node == ME:
                continue
            before = [p for p in self.reach.predecessors(node) if distance.get(p) == distance[node] - 1]
            parent = min(before, key=lambda p: self._best[p])
            self._parent[node] = parent
            self._best[node] = (*self._best[parent], self.key(node))

    def parents(self) -> dict[str, str]:
        """Every node reached (but me) -> the node before it on its chosen chain."""
        self._settle()
        return self._parent

    def path(self, contact: str) -> list[Link] | None:
        """The chosen shortest chain of links from me to `contact`, or None when there is
        none (or it is not in the graph)."""
        if contact not in self.distances() or contact == ME:
            return None
        parents = self.parents()
        hops: list[Link] = []
        node = contact
        while node != ME:
            parent = parents[node]
            hops.append(self.link(parent, node))
            node = parent
        hops.reverse()
        return hops

    # organisations ---------------------------------------------------------
    def at(self, org: str, org_of: Callable[[str], str | None]) -> list[str]:
        """The contacts whose organisation contains `org` (any case, as `contacts --org`),
        sorted; forgotten contacts have none."""
        wanted = org.strip().casefold()
        found = [
            c for c, p in self.people.items() if p.name is not None and wanted in (org_of(c) or "").casefold()
        ]
        return sorted(found, key=self.key)

    def introducers(self, at_org: Iterable[str]) -> list[Introducer]:
        """The contacts who know one of `at_org` and are not there themselves: the closest
        to me first (fewest links), then by name."""
        there = set(at_org)
        found: dict[str, list[Knows]] = {}
        for target in there:
            for other in self.knows.neighbors(target):
                if other in there or self.name(other) is None:
                    continue
                found.setdefault(other, []).append(Knows(target, self._how(other, target)))
        distance = self.distances()
        rows = [
            Introducer(c, distance.get(c, -1), tuple(sorted(k, key=lambda x: self.key(x.contact))))
            for c, k in found.items()
        ]
        return sorted(rows, key=lambda r: (r.distance < 0, r.distance, self.key(r.contact)))

    def _how(self, introducer: str, target: str) -> str:
        link = self.link(introducer, target, self.knows)
        if link.kind == I_INTRODUCED:
            return "you-introduced"
        return "introduced-you" if link.source == introducer else "introduced-by"

    # drawing ---------------------------------------------------------------
    def drawn(self) -> list[str]:
        """The contacts the report draws: every one at an end of an introduction ("via",
        "introduced" or "i-introduced"); the contacts met myself with no introduction
        either way are counted, not drawn. Sorted."""
        nodes = {n for n in self.knows.nodes if self.knows.degree(n)}
        return sorted(nodes, key=self.key)

    def edges(self, nodes: Iterable[str]) -> list[Link]:
        """Every link between `nodes` (and me): one per pair and kind, earliest first."""
        wanted = {ME, *nodes}
        out: dict[tuple[str, str, str], Link] = {}
        for graph in (self.reach, self.knows):
            for u, v, data in graph.edges(data=True):
                if u in wanted and v in wanted:
                    for link in data["links"]:
                        k = (link.source, link.target, link.kind)
                        if k not in out or link.on < out[k].on:
                            out[k] = link
        return sorted(out.values(), key=lambda x: (self.key(x.source), self.key(x.target), x.kind))


def build(people: Mapping[str, Person], introductions: Iterable[Link] = ()) -> Introductions:
    """The graphs of `people` (their "met" and "via" links) and of the introductions given
    and received (INTRODUCED and I_INTRODUCED links). A contact is met by me myself (a
    "met" link) when nobody introduced us: no via, no introduction received to them."""
    known = [x for x in introductions if x.source in people and x.target in people]
    introduced = {x.target for x in known if x.kind == INTRODUCED}
    links = []
    for p in people.values():
        if p.via is not None and p.via in people:
            links.append(Link(p.via, p.id, VIA, p.met_on))
        elif p.id not in introduced:
            links.append(Link(ME, p.id, MET, p.met_on))
    return Introductions(people, [*links, *known])


def introductions(net: Network, day: date | None = None) -> Introductions:
    """The graphs of the network as read on `day` (default: today), as known at
    `net.known_at`: the contacts from the views, the introductions from the log, as
    corrected (a retracted introduction is no link; an amended day counts)."""
    day = day or net.today()
    reads = net.reads(day)
    directory = net.directory(reads)
    cut = day.isoformat()
    people = {
        cid: Person(cid, None if view.forgotten else directory.name(cid), view.met_on, view.via)
        for cid, view in directory.by_id.items()
        if view.met_on <= cut
    }
    return build(people, introduction_links(net, day))


def introduction_links(net: Network, day: date) -> list[Link]:
    """The introductions given and received dated by `day`, as corrected, from the log."""
    from syncnet.domain import events as ev
    from syncnet.domain.corrections import Corrections

    log, known_at = net.store.log, net.known_at
    corrections = Corrections.in_log(log.after, known_at)
    out: list[Link] = []
    position = 0
    # Every fact: the log can be read by class of fact only, and help shares its class.
    while batch := log.after(position, PAGE):
        for _, fact in batch:
            if not isinstance(fact, ev.HelpGiven | ev.HelpReceived):
                continue
            if known_at is not None and fact.timestamp > known_at:
                continue
            f = corrections.effective(fact)
            if f is None or f.on > day or f.kind != "introduction" or f.introduced is None:
                continue
            kind = I_INTRODUCED if isinstance(f, ev.HelpGiven) else INTRODUCED
            out.append(Link(f.contact_id.hex, f.introduced.hex, kind, f.on.isoformat()))
        position = batch[-1][0]
    return out
