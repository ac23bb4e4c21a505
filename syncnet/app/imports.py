"""Imports: cards read from an address book or an export (syncnet.domain.cards), matched
against the network and recorded as facts (docs/imports.md).

Matching, in order (the first that holds decides):
1. the same e-mail address (case-insensitive)            -> the same person
2. the same profile URL (scheme, "www.", case of the host and a trailing "/" aside)
3. the same folded name at the same organisation (folded as names are compared: case,
   accents, inner spaces; two cards without an organisation count as the same one)
Anything else is a new person. A new person's card whose folded name is that of
someone already known (at another organisation, or one with and one without one) is
added and listed as a possible duplicate, for `syncnet duplicates` and `syncnet merge`.

A new person is a first meeting (on the card's date, else today) and the fact that it
was imported, which leaves the contact unsorted: no reminders until it is put in a
pocket. A known person gets the details it lacks (an organisation or role it has none
of, e-mails, phones and URLs it does not hold yet) as one DetailsSet; its name, pocket
and history stay. Importing the same file twice therefore adds and changes nothing.
A card's birthday is a fact of its own (BirthdaySet, a yearly reminder once the
contact is kept), for a new person and for a known one that never had a birthday set
(one set by hand, or cleared, stays as it is).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from syncnet.domain import commands as cmd
from syncnet.domain.cards import Card, Parsed, Skipped
from syncnet.domain.config import FIRST_DAY
from syncnet.domain.corrections import merged_details_id
from syncnet.domain.rules import YEAR_UNKNOWN
from syncnet.storage.viewstore import fold_name  # the one fold of names

if TYPE_CHECKING:
    from syncnet.app.network import Network

SOURCES = ("linkedin", "google", "vcard", "carddav")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,30}$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class Outcome:
    line: int
    name: str
    action: str  # added | updated | unchanged
    contact_id: str
    why: str  # how it was matched ("e-mail", "profile URL", "name and organisation"), or "new"
    possible: tuple[str, ...] = ()  # contacts that may be the same person (added ones only)
    left_out: tuple[str, ...] = ()  # values not taken (malformed), in words


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def possible(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.possible]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "possible_duplicates": [
                {"line": o.line, "name": o.name, "contact_id": o.contact_id, "similar": list(o.possible)}
                for o in self.possible()
            ],
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "left_out": [{"line": o.line, "value": v} for o in self.outcomes for v in o.left_out],
            "cards": [
                {"line": o.line, "name": o.name, "action": o.action, "contact_id": o.contact_id,
                 "matched_by": o.why}
                for o in self.outcomes
            ],
        }


def fold(text: str | None) -> str:
    return fold_name(text) if text else ""


def is_profile(url: str) -> bool:
    """Whether a URL can name one person: it has a path (linkedin.com/in/ada), unlike a
    company's home page (acme.com), which colleagues share."""
    return "/" in url_key(url)


def _names_meet(a: str, b: str) -> bool:
    """Whether two names share a word (folded): "Grace B. Hopper" and "Grace Hopper" do,
    "Alice Smith" and "Bob Brown" do not."""
    return bool(set(fold(a).replace(".", " ").split()) & set(fold(b).replace(".", " ").split()))


def _merged_away(net: Network) -> list[Person]:
    """What identified each contact merged into another (by a merge in force), under the
    id of the contact it counts for: its name and the details of its facts."""
    import json

    from syncnet.domain import events as ev
    from syncnet.domain.corrections import Corrections

    into = Corrections.in_log(net.store.log.after).into()
    if not into:
        return []
    out = []
    for merged, kept in into.items():
        person = Person(kept.hex, "")
        for position in net.views.positions_of(kept):
            fact = net.store.log.at(position)
            if getattr(fact, "contact_id", None) != merged:
                continue
            if isinstance(fact, ev.ContactMet | ev.Renamed) and not person.name:
                person.name = net.store.keyring.unseal(fact.name) or ""
            sealed = getattr(fact, "details", None)
            text = net.store.keyring.unseal(sealed) if sealed is not None else None
            if text and text.startswith("{"):
                details = json.loads(text)
                person.org = details.get("org", person.org)
                person.emails += details.get("emails", [])
                person.urls += details.get("urls", [])
        if person.name:
            out.append(person)
    return out


def url_key(url: str) -> str:
    """A profile URL as compared: without scheme, "www.", query, fragment or trailing "/",
    its host in lower case (LinkedIn and others answer to either)."""
    rest = url.strip()
    scheme, sep, after = rest.partition("://")
    if sep and scheme.isalpha():
        rest = after
    host, _, path = rest.split("#", 1)[0].split("?", 1)[0].partition("/")
    host = host.lower().removeprefix("www.")
    return f"{host}/{path}".rstrip("/")


@dataclass
class Person:
    """What matching knows of a contact: its name and details in force."""

    id: str
    name: str
    met_on: str = ""
    org: str | None = None
    role: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    birthday_set: bool = False  # a birthday was set (or cleared) once: an import leaves it
    categories: list[str] = field(default_factory=list)


class People:
    """Every contact (forgotten ones aside), by what identifies it."""

    def __init__(self, people: list[Person]) -> None:
        self.by_email: dict[str, str] = {}
        self.by_url: dict[str, str] = {}
        self.by_name_org: dict[tuple[str, str], str] = {}
        self.by_name: dict[str, list[str]] = {}
        self.people: dict[str, Person] = {}
        for person in people:
            self.add(person)

    @classmethod
    def of(cls, net: Network) -> People:
        from syncnet.app.history import merged_details

        unseal = net.unseal_text
        people = []
        for view in net.views.load_all("contact"):
            if view.forgotten:
                continue
            details = merged_details(view, unseal)
            people.append(Person(view.id, unseal(view.name) or "", view.met_on, details.get("org"),
                                 details.get("role"),
                                 list(details.get("emails", [])), list(details.get("phones", [])),
                                 list(details.get("urls", [])), bool(view.birthday_at),
                                 list(details.get("categories", []))))  # fmt: skip
        found = cls(people)
        for alias in _merged_away(net):
            found.alias(alias)
        return found

    def alias(self, person: Person) -> None:
        """Index what identified a contact merged into `person.id` (its name, organisation,
        e-mails and URLs), so that a card of it finds the contact it counts for now."""
        if person.id in self.people:
            self._identify(person)

    def add(self, person: Person) -> None:
        self.people[person.id] = person
        self._identify(person)
        self.by_name.setdefault(fold(person.name), []).append(person.id)

    def _identify(self, person: Person) -> None:
        """Index what identifies `person` as its contact: e-mails, profile URLs, name and
        organisation (the first contact indexed under a key keeps it)."""
        for email in person.emails:
            self.by_email.setdefault(email.lower(), person.id)
        for url in person.urls:
            if is_profile(url):
                self.by_url.setdefault(url_key(url), person.id)
        self.by_name_org.setdefault((fold(person.name), fold(person.org)), person.id)

    def match(self, card: Card) -> tuple[str | None, str]:
        """The contact this card is, and by what; (None, "new") when none is, and (None,
        "ambiguous: ...") when its e-mails and URLs name several contacts. An e-mail or URL
        shared by someone whose name has no word in common with the card's is not taken
        as the same person (an office address, a couple's)."""
        hits: dict[str, str] = {}
        for email in card.emails:
            if email.lower() in self.by_email:
                hits.setdefault(self.by_email[email.lower()], "e-mail")
        for url in card.urls:
            if is_profile(url) and url_key(url) in self.by_url:
                hits.setdefault(self.by_url[url_key(url)], "profile URL")
        hits = {c: why for c, why in hits.items() if _names_meet(self.people[c].name, card.name)}
        if len(hits) > 1:
            return None, "ambiguous: its e-mails and URLs belong to several contacts"
        if hits:
            return next(iter(hits.items()))
        found = self.by_name_org.get((fold(card.name), fold(card.organisation)))
        return (found, "name and organisation") if found else (None, "new")

    def similar(self, card: Card) -> list[str]:
        """Contacts with the card's folded name (and so another organisation, or one with
        and one without): possibly the same person."""
        return list(self.by_name.get(fold(card.name), []))


def checked(card: Card, today: date) -> tuple[Card, tuple[str, ...]]:
    """The card with malformed e-mails, phones and URLs left out, and a birthday recording
    would refuse (after `today`, or before 1900 with its year), and what was left out."""
    left: list[str] = []

    def keep(values: tuple[str, ...], pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
        good = []
        for value in (v.strip() for v in values):
            if not value:
                continue
            if pattern.match(value):
                good.append(value)
            else:
                left.append(f"{what} {value!r} (malformed)")
        if what == "e-mail":  # one address, whatever its case
            good = list({v.lower(): v for v in reversed(good)}.values())[::-1]
        return tuple(dict.fromkeys(good))

    emails, phones = keep(card.emails, _EMAIL, "e-mail"), keep(card.phones, _PHONE, "phone")
    urls = keep(card.urls, _URL, "URL")
    same = (emails, phones, urls) == (card.emails, card.phones, card.urls)
    clean = card if same else replace(card, emails=emails, phones=phones, urls=urls)
    if clean.birthday is not None and not _birthday_fits(clean.birthday, today):
        left.append(f"birthday {clean.birthday.isoformat()} (not from {FIRST_DAY.year} to today)")
        clean = replace(clean, birthday=None)
    return clean, tuple(left)


def _birthday_fits(day: date, today: date) -> bool:
    """What recording takes (recording.Translator._birthday): a year unknown, or one from
    FIRST_DAY's to today's, and not after today."""
    return day.year == YEAR_UNKNOWN or (FIRST_DAY.year <= day.year and day <= today)


def _birthday(contact: str, card: Card) -> list[cmd.Command]:
    """The card's birthday as a fact of its own (stored "YYYY-MM-DD", year 1604 when unknown)."""
    return [] if card.birthday is None else [cmd.SetBirthday(contact, card.birthday.isoformat())]


def _details(card: Card) -> cmd.Details:
    return cmd.Details(org=card.organisation or None, role=card.role or None, emails=card.emails or None,
                       phones=card.phones or None, urls=card.urls or None,
                       categories=card.categories or None)  # fmt: skip


def _new_details(person: Person, card: Card, adds: bool = False) -> cmd.Details | None:
    """What the card adds to a known person, as a DetailsSet's fields (lists replace
    earlier ones, so they are the union; with `adds`, what a merge records, the new
    items alone: cmd.Details.adds); None when it adds nothing."""
    emails = [e for e in card.emails if e.lower() not in {x.lower() for x in person.emails}]
    urls = [u for u in card.urls if url_key(u) not in {url_key(x) for x in person.urls}]
    phones = [p for p in card.phones if p not in person.phones]
    categories = [c for c in card.categories if c not in person.categories]
    org = card.organisation if card.organisation and not person.org else None
    role = card.role if card.role and not person.role else None
    if not (emails or urls or phones or categories or org or role):
        return None
    if adds:
        return cmd.Details(org=org, role=role, emails=tuple(emails) or None, phones=tuple(phones) or None,
                           urls=tuple(urls) or None, categories=tuple(categories) or None, adds=True)
    return cmd.Details(org=org, role=role, emails=tuple(person.emails + emails) if emails else None,
                       phones=tuple(person.phones + phones) if phones else None,
                       urls=tuple(person.urls + urls) if urls else None,
                       categories=tuple(person.categories + categories) if categories else None)  # fmt: skip


def plan(net: Network, parsed: Parsed, source: str, today: date) -> tuple[list[cmd.Command], ImportReport]:
    """The commands an import records, and its report (nothing is written)."""
    people = People.of(net)
    report = ImportReport(source, dry_run=True, skipped=list(parsed.skipped))
    commands: list[cmd.Command] = []
    for raw in parsed.cards:
        card, left_out = checked(raw, today)
        if not card.name.strip():
            report.skipped.append(Skipped(card.line, "no name"))
            continue
        if card.met_on is not None and card.met_on > today:
            report.skipped.append(Skipped(card.line, f"connected on {card.met_on.isoformat()}, after today"))
            continue
        found, why = people.match(card)
        if why.startswith("ambiguous"):
            report.skipped.append(Skipped(card.line, why))
            continue
        if found is not None:
            person = people.people[found]
            details = _new_details(person, card)
            birthday = [] if person.birthday_set else _birthday(found, card)
            if details is None and not birthday:
                report.outcomes.append(Outcome(card.line, card.name, "unchanged", found, why, (), left_out))
                continue
            commands += birthday
            person.birthday_set = person.birthday_set or bool(birthday)
            if details is None:  # the birthday alone
                report.outcomes.append(Outcome(card.line, card.name, "updated", found, why, (), left_out))
                continue
            commands.append(cmd.SetDetails(found, details))
            person.emails += [e for e in (details.emails or ()) if e not in person.emails]
            person.phones += [p for p in (details.phones or ()) if p not in person.phones]
            person.urls += [u for u in (details.urls or ()) if u not in person.urls]
            person.categories += [c for c in (details.categories or ()) if c not in person.categories]
            person.org, person.role = person.org or details.org, person.role or details.role
            people.add(person)
            report.outcomes.append(Outcome(card.line, card.name, "updated", found, why, left_out=left_out))
            continue
        similar = tuple(people.similar(card))
        contact = uuid4()
        commands.append(cmd.Meet(card.name.strip(), channel=card.channel or "other", on=card.met_on,
                                 note=card.note, new=True, contact_id=contact,
                                 details=_details(card), imported=source))  # fmt: skip
        commands.append(cmd.Imported(contact.hex, source))  # today: the day it came in
        commands += _birthday(contact.hex, card)
        met = (card.met_on or today).isoformat()
        people.add(Person(contact.hex, card.name.strip(), met, card.organisation, card.role,
                          list(card.emails), list(card.phones), list(card.urls),
                          card.birthday is not None, list(card.categories)))  # fmt: skip
        report.outcomes.append(Outcome(card.line, card.name, "added", contact.hex, "new", similar, left_out))
    report.skipped.sort(key=lambda s: s.line)  # the parser's and the plan's, in file order
    return commands, report


def import_cards(net: Network, parsed: Parsed, source: str, *, dry_run: bool = False,
                 progress: Callable[[int], None] | None = None) -> ImportReport:  # fmt: skip
    """Match and record the cards (docs/imports.md); with `dry_run`, only say what would be."""
    net.refresh()
    commands, report = plan(net, parsed, source, net.today())
    report.dry_run = dry_run
    if not dry_run and commands:
        net.record_many(commands, progress=progress)
    return report


# ---------------------------------------------------------------- duplicates and merging
@dataclass(frozen=True)
class Likely:
    """Two contacts that may be one person, and why syncnet thinks so."""

    first: str  # contact ids, the one met first first
    second: str
    why: str


def _tokens(name: str) -> list[str]:
    return [t.strip(".") for t in fold(name).replace(",", " ").split() if t.strip(".")]


def likely_duplicates(people: People) -> list[Likely]:
    """Pairs of contacts that may be one person (docs/imports.md, "Duplicates"), each
    pair once, by blocks (the same folded name, the same words, the same last name) so
    that 10,000 contacts are not compared pair by pair."""
    found: dict[tuple[str, str], str] = {}

    def pair(a: str, b: str, why: str) -> None:
        if a != b:  # the one met first first (then by id): it is the one to keep, usually
            first, second = sorted((a, b), key=lambda i: (people.people[i].met_on, i))
            found.setdefault((first, second), why)

    for key, ids in _blocks(people, lambda p: [e.lower() for e in p.emails]).items():
        for other in ids[1:]:
            pair(ids[0], other, f"the same e-mail {key}")
    for key, ids in _blocks(people, lambda p: [url_key(u) for u in p.urls if is_profile(u)]).items():
        for other in ids[1:]:
            pair(ids[0], other, f"the same profile URL {key}")
    for ids in _blocks(people, lambda p: [fold(p.name)]).values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                orgs = {fold(people.people[a].org), fold(people.people[b].org)}
                where = ("" if orgs == {""} else " at the same organisation" if len(orgs) == 1 else
                         ", one without an organisation" if "" in orgs else ", at different organisations")
                pair(a, b, "the same name" + where)
    for ids in _blocks(people, lambda p: [" ".join(sorted(_tokens(p.name)))]).values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pair(a, b, "the same words in another order")
    # The same last name and a close first name: close first names share their first
    # letter, so the blocks are (last name, first letter), each name folded once.
    words = {p.id: _tokens(p.name) for p in people.people.values()}
    blocks: dict[tuple[str, str], list[str]] = {}
    for pid, tokens in words.items():
        if len(tokens) > 1:
            blocks.setdefault((tokens[-1], tokens[0][0]), []).append(pid)
    for ids in blocks.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if _first_names_close(words[a][0], words[b][0]):
                    pair(a, b, "a similar first name and the same last name")
    return [Likely(a, b, why) for (a, b), why in sorted(found.items(), key=lambda kv: (kv[1], kv[0]))]


def _blocks(people: People, keys: Callable[[Person], list[str]]) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    for person in people.people.values():
        for key in dict.fromkeys(keys(person)):
            if key:
                blocks.setdefault(key, []).append(person.id)
    return {k: ids for k, ids in blocks.items() if len(ids) > 1}


def _first_names_close(a: str, b: str) -> bool:
    """"J" and "John", "Jon" and "John": an initial of the other, or one letter apart."""
    if a == b:
        return False  # the same name: found by the blocks of names
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    if abs(len(a) - len(b)) > 1 or a[0] != b[0]:
        return False
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b).ratio() >= 0.85


def merge_commands(people: People, contact: str, other: str, note: str | None = None) -> list[cmd.Command]:
    """What `syncnet merge CONTACT OTHER` records: the merge, and the details OTHER had that
    CONTACT lacks (so `show` lists them on the one contact)."""
    merge_id = uuid4()
    commands: list[cmd.Command] = [cmd.Merge(contact, other, note=note, fact_id=merge_id)]
    kept, gone = people.people.get(contact), people.people.get(other)
    if kept is not None and gone is not None:
        card = Card(gone.name, 0, gone.org, gone.role, tuple(gone.emails), tuple(gone.phones),
                    tuple(gone.urls), categories=tuple(gone.categories))  # fmt: skip
        # what OTHER adds, and only that (a later merge's details must not carry this one's);
        # it stands while the merge does (retracting the merge takes it back)
        details = _new_details(kept, card, adds=True)
        if details is not None:
            commands.append(cmd.SetDetails(contact, details, fact_id=merged_details_id(merge_id)))
    return commands
