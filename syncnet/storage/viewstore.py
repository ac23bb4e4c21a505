"""Tracked views on disk: rows encrypted with the store key, and the position of
the last fact folded in, written in the same transaction as the rows.

Catch-up reads the notification log from that position in pages (the SQLite
recorder has no subscription) and folds them in memory with syncnet.domain.fold.apply; every
`chunk` facts it writes the changed rows, the history index and the new
position in one BEGIN IMMEDIATE transaction. Folding happens outside the lock:
if another process moved the position meanwhile, the chunk is thrown away and
folded again from there (optimistic concurrency), so no fact is folded twice or
skipped, and a crash only loses the chunk in progress.

The history index maps a keyed hash of a contact id to the positions of its
facts: it shows how many facts belong together, never to whom. The name index maps
a keyed hash of a contact's folded name to its id, so a command given a name finds
its contact without unsealing every name (the hash is useless without the store key).

STATS counts the rows decrypted, so that tests can check that a command touches
what it needs and not every row (O(what it touches), docs/architecture.md).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import hmac
import json
import json.scanner
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from cryptography.exceptions import InvalidTag

from syncnet.domain.rows import KINDS, META_KEY, Views, decode_row, encode_row, fingerprint
from syncnet.errors import ViewsDamaged
from syncnet.storage.db import Location, connect, database_errors, immediate, postgres, pragma
from syncnet.storage.keys import decrypt, seal_json

PAGE = 1000
CHUNK = 50_000  # facts folded in memory between two writes: bounds memory and lock time
NAME = "syncnet-views"
DAMAGED = "damaged"  # the global row of damaged facts the fold left out
HIST = "hist"  # rows of sealed history-index counts, by bucket of the contact's index id
OPEN_PROMISES = "open-promises"  # the global row with the sealed count of open promises
MERGES = "merges"  # the global row of merged contacts -> the contact each counts for
# How many rows the views and the name index hold, sealed in the views' tracking row.
ROW_COUNTS = "(SELECT COUNT(*) FROM syncnet_views), (SELECT COUNT(*) FROM syncnet_name_index)"
AGENDA = "syncnet-agenda"  # position of the last fact that can change the agenda (not a push record)

UPSERT_VIEW = ("INSERT INTO syncnet_views VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE "
               "SET open = excluded.open, data = excluded.data")  # fmt: skip

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS syncnet_views ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, open INTEGER, data BLOB NOT NULL,"
    " PRIMARY KEY (kind, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS syncnet_view_index ("
    " contact BLOB NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (contact, position)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS syncnet_name_index ("
    " name BLOB NOT NULL, contact TEXT NOT NULL, PRIMARY KEY (name, contact)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS syncnet_view_tracking ("
    " name TEXT PRIMARY KEY, position INTEGER NOT NULL, fingerprint TEXT NOT NULL) WITHOUT ROWID",
)

# The per-contact rows that reads list by the thousand are stored in buckets, by the first
# hex digits of the contact id: one decryption and one parse per bucket instead of per row
# (at 5,000 contacts, some 20 rows a bucket; writing one rewrites its bucket, a few KB).
BUCKETED = frozenset({"contact", "tally"})
BUCKET_CHARS = 2
# The rows kept one per contact, promise or goal are stored under a keyed hash of their
# id: their keys say nothing of which contact, fact or goal they belong to.
HASHED = frozenset({"ledger", "promise", "goal", "event"})
# (kind, bucket) -> {key: row as stored}
Buckets = dict[tuple[str, str], dict[str, Any]]


def _aad(kind: str, key: str, is_open: int | None) -> bytes:
    """What a view row is sealed to: its kind, key and `open` flag (see ViewStore._seal)."""
    return f"{kind}:{key}:{is_open or ''}".encode()


def bucket_of(key: str) -> str:
    return key[:BUCKET_CHARS]


def stored_fingerprint() -> str:
    """The rows' format and how they are bucketed: a change rebuilds the views. No
    setting is part of it: settings apply when the views are read."""
    # names-2: the name index folds accents too (fold_name); sealed-2: rows sealed to their flag;
    # merges-2: a merged contact's details and import facts count for no one (corrections._merged);
    # rows-1: the views' tracking row seals how many rows the views and the name index hold
    buckets = f"buckets-{','.join(sorted(BUCKETED))}-{BUCKET_CHARS}"
    return f"{fingerprint()}:{buckets}:names-2:sealed-3:keys-hashed:merges-2:rows-1"


# fetch(after_position, limit, types=None) -> [(position, domain event)], of those types only
# when given (FactLog.after)
Fetch = Callable[..., Sequence[tuple[int, Any]]]
# The plain name of a contact row (None when it has none), to index it by name.
NameOf = Callable[[Any], "str | None"]

STATS: Counter[str] = Counter()  # "rows": view rows decrypted in this process

# The C scanner behind json.loads, called directly: for rows of a few hundred bytes,
# json.loads' own checks and wrappers cost as much as the parsing.
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]  # typeshed types the context as the scanner
)


NAME_PREFIX = 32  # longest prefix indexed: a longer reference is looked up by reading every row


def fold_name(name: str) -> str:
    """How names compare: case-folded, without accents, inner runs of spaces as one.

    "Zoë" -> "zoe", "ÜNAL" -> "unal", "Straße" -> "strasse": NFKD parts a letter from its
    combining marks, which are dropped (in every script: "が" -> "か"). A letter that NFKD
    does not part stays: "Łukasz" -> "łukasz", "Øre" -> "øre". The name index holds hashes
    of this fold: changing it must change stored_fingerprint, so that stores are indexed again."""
    if name.isascii():  # most names: nothing to decompose
        return " ".join(name.casefold().split())
    import unicodedata  # only the fold needs it

    # NFKD, casefold, NFKD: Unicode's compatibility caseless match (NFKD gives capitals: "℡" -> "TEL")
    parted = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    return " ".join("".join(ch for ch in parted if not unicodedata.combining(ch)).split())


def name_prefixes(name: str) -> set[str]:
    """What a contact can be named by in a command: every prefix of its folded name
    and of each word of it (Directory.resolve: "ada", "ada lo", "lovelace")."""
    folded = fold_name(name)
    starts = [0] + [i + 1 for i, ch in enumerate(folded) if ch == " "]
    return {folded[s:e] for s in starts for e in range(s + 1, min(len(folded), s + NAME_PREFIX) + 1)}


P = ParamSpec("P")
R = TypeVar("R")


def _gc_paused(fold: Callable[P, R]) -> Callable[P, R]:
    """Without the cycle collector while facts are folded or rows decoded: neither makes
    reference cycles, and its full passes over the growing rows cost 15 % of a rebuild."""

    @functools.wraps(fold)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fold(*args, **kwargs)
        gc.disable()
        try:
            return fold(*args, **kwargs)
        finally:
            gc.enable()

    return paused


class ViewStore:
    def __init__(self, db_path: Location, store_key: bytes, timeout: float = 30) -> None:
        self._key = store_key
        self._index_key = hmac.new(store_key, b"syncnet-history-index", hashlib.sha256).digest()
        self._name_key = hmac.new(store_key, b"syncnet-name-index", hashlib.sha256).digest()
        self._tracking_key = hmac.new(store_key, b"syncnet-view-tracking", hashlib.sha256).digest()
        self._slot_key = hmac.new(store_key, b"syncnet-view-keys", hashlib.sha256).digest()
        self._fingerprint = stored_fingerprint()
        self._counted: tuple[object, object] | None = None  # the views' tracking row last found whole
        # what was found damaged and rebuilt from the log, for the caller to say (stderr)
        self.notices: list[str] = []
        self._vacuum_names = False  # PostgreSQL: a forgotten contact's name hashes to purge
        self._conn = connect(db_path, timeout)
        pragma(self._conn, "secure_delete = ON")
        for statement in SCHEMA:
            self._conn.execute(statement)

    def close(self) -> None:
        self._conn.close()

    # rows -------------------------------------------------------------------
    # A row is sealed to its kind, key and `open` flag (the one plain column, which reads
    # filter on): a row moved, or its flag flipped, no longer opens.
    def _seal(self, kind: str, key: str, row: Any, is_open: int | None = None) -> bytes:
        return seal_json(self._key, encode_row(row), _aad(kind, key, is_open).decode(), compress=False)

    def _open(self, kind: str, key: str, blob: bytes, is_open: int | None = None, shown: str = "") -> Any:
        STATS["rows"] += 1
        try:
            plain = decrypt(self._key, blob, _aad(kind, key, is_open))
        except (InvalidTag, ValueError, TypeError):
            raise self.damaged(f"the view row {kind} {(shown or key)[:8]} does not match its seal") from None
        return _scan(plain.decode(), 0)[0]

    def _slot(self, kind: str, key: str) -> str:
        """The key a row is stored under (HASHED)."""
        if kind not in HASHED:
            return key
        return hmac.new(self._slot_key, f"{kind}:{key}".encode(), hashlib.sha256).hexdigest()[:32]

    def _stored(self, kind: str, key: str) -> Any:
        slot = self._slot(kind, key)
        row = self._conn.execute(
            "SELECT data, open FROM syncnet_views WHERE kind = ? AND key = ?", (kind, slot)
        ).fetchone()
        return None if row is None else self._open(kind, slot, row[0], row[1], shown=key)

    def _bucket(self, kind: str, bucket: str, cache: Buckets | None = None) -> dict[str, Any]:
        """The rows of one bucket by key, as stored ({} when it has none)."""
        if cache is not None and (kind, bucket) in cache:
            return cache[(kind, bucket)]
        rows: dict[str, Any] = self._stored(kind, bucket) or {}
        if cache is not None:
            cache[(kind, bucket)] = rows
        return rows

    def load(self, kind: str, key: str, cache: Buckets | None = None) -> Any:
        """One row as encode_row stored it (rows.decode_row makes it a row), or None."""
        if kind in BUCKETED:
            return self._bucket(kind, bucket_of(key), cache).get(key)
        return self._stored(kind, key)

    def row(self, kind: str, key: str) -> Any:
        """One row as its class (rows.KINDS), or None."""
        data = self.load(kind, key)
        return None if data is None else decode_row(kind, data)

    @_gc_paused  # thousands of small objects that make no cycle
    def load_all(self, kind: str, only_open: bool = False) -> list[Any]:
        sql = "SELECT key, data, open FROM syncnet_views WHERE kind = ?"
        if only_open:
            sql += " AND open = 1"
        rows = self._conn.execute(sql, (kind,)).fetchall()
        if only_open and kind == "promise":
            sealed = (self._stored("global", OPEN_PROMISES) or {}).get("open", 0)
            if len(rows) != sealed:
                raise self.damaged("the open promises do not match their seal")
        cls = KINDS[kind]
        if kind in BUCKETED:
            return [cls(*row) for key, blob, _ in rows for row in self._open(kind, key, blob).values()]
        return [cls(*self._open(kind, key, blob, is_open)) for key, blob, is_open in rows]

    def keys_with_prefix(self, kind: str, prefix: str, only_open: bool = False) -> list[str]:
        """The keys of `kind` starting with `prefix` (a short id): for bucketed rows, from
        the one bucket that holds them; for rows stored under a hash (HASHED), from their
        rows (`only_open`: the open ones only, for promises)."""
        if kind in BUCKETED and len(prefix) >= BUCKET_CHARS:
            return sorted(k for k in self._bucket(kind, bucket_of(prefix)) if k.startswith(prefix))
        return sorted(row.id for row in self.load_all(kind, only_open) if row.id.startswith(prefix))

    # checks (syncnet verify) ------------------------------------------------
    def check(self, fetch_index: Callable[[], set[tuple[bytes, int]]] | None = None,
              skip: frozenset[int] = frozenset()) -> list[str]:  # fmt: skip
        """What is damaged in the views, without changing anything: rows that do not open,
        a tracking row that does not match its seal, and (given the index the log says it
        should be) history-index entries added, moved or removed, except at the positions
        of `skip` (damaged facts, whose entries cannot be checked)."""
        problems = []
        for name in (NAME, AGENDA):
            found = self._tracking_row(name)
            if found is not None and not found[1]:
                what = "position or rows" if name == NAME else "position"
                problems.append(f"the views' {what} ({name}) do not match their seal")
        for kind, key, blob, is_open in self._conn.execute("SELECT kind, key, data, open FROM syncnet_views"):
            try:
                decrypt(self._key, blob, _aad(kind, key, is_open))
            except (InvalidTag, ValueError, TypeError):
                problems.append(f"the view row {kind} {key[:8]} does not match its seal")
        if fetch_index is not None and self._tracked():
            stored = {(bytes(c), int(p)) for c, p in self._conn.execute(
                "SELECT contact, position FROM syncnet_view_index WHERE position <= ?", (self._tracked(),))
                if int(p) not in skip}  # fmt: skip
            expected = {(c, p) for c, p in fetch_index() if p <= self._tracked()}
            if stored != expected:
                problems.append(f"the history index is damaged ({len(stored - expected)} entries that should "
                                f"not be there, {len(expected - stored)} missing)")  # fmt: skip
        return problems

    def index_entries(self, facts: Sequence[tuple[int, Any]]) -> set[tuple[bytes, int]]:
        """The history-index entries of these facts (every fact of the log, for the
        merges among them), as the fold writes them."""
        from syncnet.domain.corrections import Corrections
        from syncnet.domain.events import CORRECTIONS, contact_ids_of

        merges = Corrections(f for _, f in facts if isinstance(f, CORRECTIONS))
        index_id = functools.cache(self._index_id)
        return {(index_id(merges.contact(c)), pos) for pos, fact in facts for c in contact_ids_of(fact)}

    def reset(self) -> None:
        """Forget the views: the next refresh rebuilds them from the log (syncnet repair)."""
        with immediate(self._conn) as conn:
            conn.execute("DELETE FROM syncnet_view_tracking")

    def sealed_end(self) -> int | None:
        """The position the seal of the log says it ends at (chain.py); None when the
        head is missing or damaged. Read here, on the views' connection, so that a
        command need not load the fact log to check it."""
        from syncnet.storage import chain

        try:
            sql = f"SELECT link FROM {chain.TABLE} WHERE position = ?"
            row = self._conn.execute(sql, (chain.HEAD,)).fetchone()
            return None if row is None else chain.open_head(self._key, bytes(row[0])).position
        except (InvalidTag, ValueError, TypeError, *database_errors()):  # type: ignore[misc]
            return None

    def load_damaged(self) -> dict[str, str]:
        """Damaged facts the fold left out: {position: what is wrong} (see `note_damaged`)."""
        return dict(self.load("global", DAMAGED) or {})

    def note_damaged(self, found: dict[int, str]) -> None:
        """Remember damaged facts the fold left out, so that every command can say so
        (they are folded past, never read again until the views are rebuilt)."""
        known = self.load_damaged()
        new = {str(p): why for p, why in found.items() if str(p) not in known}
        if new:
            with immediate(self._conn) as conn:
                whole = self._tracking_row(NAME)  # as it was: a row added must not bless damage
                row = ("global", DAMAGED, None, self._seal("global", DAMAGED, known | new))
                conn.execute(UPSERT_VIEW, row)
                if whole is not None and whole[1]:  # sealed again to the rows it holds now
                    sql = "UPDATE syncnet_view_tracking SET fingerprint = ? WHERE name = ?"
                    conn.execute(sql, (self._counted_stamp(conn, whole[0]), NAME))

    def load_days(self) -> dict[str, list[int]]:
        return self.load("global", "days") or {}

    def meta(self) -> dict[str, str]:
        """The latest day ("last_on") and recording ("last_recorded", ISO) among the facts
        folded, as text ("" when none)."""
        return self.load("global", META_KEY) or {"last_on": "", "last_recorded": ""}

    # history index ----------------------------------------------------------
    def _index_id(self, contact_id: UUID) -> bytes:
        return hmac.new(self._index_key, contact_id.bytes, hashlib.sha256).digest()[:16]

    def positions_of(self, contact_id: UUID) -> list[int]:
        """The log positions of every fact of a contact, in recording order; checked
        against the contact's sealed count and last position, so that an entry deleted
        or moved away cannot hide a fact (`damaged`)."""
        index_id = self._index_id(contact_id)
        rows = self._conn.execute(
            "SELECT position FROM syncnet_view_index WHERE contact = ? ORDER BY position", (index_id,)
        )
        positions = [r[0] for r in rows]
        sealed = (self._stored(HIST, index_id.hex()[:BUCKET_CHARS]) or {}).get(index_id.hex(), [0, 0])
        if [len(positions), positions[-1] if positions else 0] != sealed:
            raise self.damaged(f"the history index of contact {contact_id.hex[:8]} does not match its seal")
        return positions

    # name index -------------------------------------------------------------
    def _name_id(self, name: str) -> bytes:
        # Keyed BLAKE2b is a MAC in one call: a rebuild hashes some 25 prefixes per contact.
        return hashlib.blake2b(name.encode(), key=self._name_key, digest_size=16).digest()

    def candidates(self, ref: str) -> list[str] | None:
        """Ids of the contacts whose folded name, or a word of it, starts with `ref`
        (None when `ref` is longer than what the index holds). The caller checks the
        names it gets, so a stale entry never resolves to the wrong contact."""
        folded = fold_name(ref)
        if len(folded) > NAME_PREFIX:
            return None
        rows = self._conn.execute(
            "SELECT contact FROM syncnet_name_index WHERE name = ?", (self._name_id(folded),)
        )
        return sorted({r[0] for r in rows})

    def _name_entries(self, views: Views, name_of: NameOf | None) -> list[tuple[bytes, str]]:
        if name_of is None:
            return []
        from syncnet.errors import MissingKey

        entries = []
        # A contact is indexed when met and when renamed (an old name's entries stay: every
        # hit is checked against the name in force).
        met = [(kind, key) for kind, key in views.created if kind == "contact"]
        for kind, key in met + [("contact", key) for key in views.renamed]:
            if views.rows[(kind, key)].forgotten:
                continue
            try:
                name = name_of(views.rows[(kind, key)])
            except MissingKey:  # reported by the reads that need that name, not by the fold
                continue
            if name is not None:
                entries += [(self._name_id(p), key) for p in name_prefixes(name)]
        return entries

    # tracking ---------------------------------------------------------------
    def _stamp(self, name: str, position: int, rows: str = "") -> str:
        """The tracking row's fingerprint, sealed to its name and position (and, for the
        views' own row, to how many rows they and the name index hold): a position edited
        without the store key (lowered, the facts after it would be counted twice), or a
        row deleted (a contact, its tally, a name), no longer matches, and the views are
        rebuilt from the log. An edited row fails its own seal (_aad)."""
        sealed = f"{name}:{position}:{self._fingerprint}:{rows}".encode()
        mac = hmac.new(self._tracking_key, sealed, hashlib.sha256)
        return f"{self._fingerprint}#{mac.hexdigest()[:32]}"

    def _counted_stamp(self, conn: Any, position: int) -> str:
        """The views' tracking stamp at `position`, sealed to the rows they hold now (read
        through `conn`, inside the transaction that wrote them)."""
        views_rows, name_rows = conn.execute(f"SELECT {ROW_COUNTS}").fetchone()
        return self._stamp(NAME, position, f"{views_rows}:{name_rows}")

    def _tracking_row(self, name: str) -> tuple[int, bool] | None:
        """(position, whether it matches its seal) of a tracking row of this format; None
        when there is none (never folded, or folded in another format). One statement: the
        row counts are of the same moment as the row, whatever another process commits."""
        sql = "SELECT position, fingerprint FROM syncnet_view_tracking WHERE name = ?"
        row = self._conn.execute(sql, (name,)).fetchone()
        if name == NAME and row is not None and (row[0], row[1]) != self._counted:
            # counted again only when the row changed since it was last found whole (the
            # counts cost a few ms at 5,000 contacts; a command reads the position often)
            sql = f"SELECT position, fingerprint, {ROW_COUNTS} FROM syncnet_view_tracking WHERE name = ?"
            row = self._conn.execute(sql, (name,)).fetchone()
        if row is None or not isinstance(row[1], str) or not row[1].startswith(self._fingerprint + "#"):
            return None
        try:
            position = int(row[0])
        except (TypeError, ValueError):  # not a number: edited
            return 0, False
        if name != NAME:
            return position, hmac.compare_digest(row[1], self._stamp(name, position))
        if (row[0], row[1]) == self._counted:
            return position, True
        whole = hmac.compare_digest(row[1], self._stamp(name, position, f"{row[2]}:{row[3]}"))
        self._counted = (row[0], row[1]) if whole else None
        return position, whole

    def _tracking(self, name: str) -> int:
        found = self._tracking_row(name)
        if found is None:
            return 0  # start again
        if not found[1]:
            note = "the views were altered (their position or rows): they are rebuilt from the log"
            if note not in self.notices:
                self.notices.append(note)
            return 0
        return found[0]

    def _tracked(self) -> int:
        return self._tracking(NAME)

    def position(self) -> int:
        return self._tracked()

    def agenda_position(self) -> int:
        """The position of the last folded fact that can change the agenda (0: none)."""
        return self._tracking(AGENDA)

    def damaged(self, what: str) -> ViewsDamaged:
        """Derived data found damaged: reset, so that the next command rebuilds it from the
        log; the error to raise, which says so."""
        with immediate(self._conn) as conn:
            conn.execute("DELETE FROM syncnet_view_tracking")
        return ViewsDamaged(f"{what}: the views were reset and are rebuilt from the log by the next "
                            "command; run this one again")  # fmt: skip

    @_gc_paused
    def catch_up(self, fetch: Fetch, page: int = PAGE, progress: Callable[[int], None] | None = None,
                 chunk: int = CHUNK, *, name_of: NameOf | None) -> int:  # fmt: skip
        """Fold every fact after the tracked position; returns how many were folded.

        `name_of` unseals a new contact's name for the name index; it must be given (None
        only where no command will look a name up: a contact met then is never indexed)."""
        # The fold and the event classes are imported only when there is something to fold:
        # a read on up-to-date views (e.g. `syncnet due`) never loads them.
        from syncnet.domain.corrections import Corrections
        from syncnet.domain.events import CORRECTIONS, can_change_agenda, contact_ids_of
        from syncnet.domain.fold import apply

        index_id = functools.cache(self._index_id)  # one keyed hash per contact, not per fact
        done = 0
        # A rebuild folds the facts as corrected by every correction in the log, loaded
        # first and kept for all its chunks. An incremental fold needs none: a correction
        # names a fact recorded before it, and meeting one it does not hold makes the views
        # start again (below).
        rebuilding: Corrections | None = None
        while True:
            start = self._tracked()
            if not start:
                rebuilding = Corrections.in_log(fetch)
            corrections = rebuilding
            corrected = False
            # From position 0 every row is rebuilt: never read rows of another format.
            buckets: Buckets = {}  # the stored buckets this chunk read, to write them back whole
            views = Views(loader=functools.partial(self.load, cache=buckets) if start else None)
            index: list[tuple[bytes, int]] = []
            position, folded, agenda = start, 0, 0
            while folded < chunk:
                batch = fetch(position, page)
                if not batch:
                    break
                if corrections is None:  # an incremental fold (with facts to fold): the merges
                    # folded already apply to the new facts too (a new merge, or the retraction
                    # of one, makes the views start again), kept by the rebuild in one row
                    kept = self._stored("global", MERGES) or {}
                    corrections = Corrections.of_merges({UUID(k): UUID(v) for k, v in kept.items()})
                for pos, event in batch:
                    if isinstance(event, CORRECTIONS) and event.originator_id.hex not in corrections:
                        corrected = True  # recorded since: every row its fact went into may change
                        break
                    effective = corrections.effective(event)
                    if effective is not None:
                        apply(views, effective)
                    # one entry per contact: a fact naming two contacts merged into one names it once
                    mapped = dict.fromkeys(corrections.contact(c) for c in contact_ids_of(event))
                    index += [(index_id(c), pos) for c in mapped]
                    if can_change_agenda(event):
                        agenda = pos
                        # every fact a read can see, retracted ones and corrections too:
                        # a read --known-at an earlier moment cannot use these views
                        if views.last_recorded is None or event.timestamp > views.last_recorded:
                            views.last_recorded = event.timestamp
                if corrected:
                    break
                position = batch[-1][0]
                folded += len(batch)
                if progress:
                    progress(done + folded)
            if corrected:
                # A retraction or an amendment can change any row its fact went into: fold
                # everything again (docs/architecture.md, "Corrections").
                with immediate(self._conn) as conn:
                    if self._tracked() == start:
                        conn.execute("DELETE FROM syncnet_view_tracking")
                continue
            if not folded:
                if done >= chunk:
                    # After a large catch-up, fold the WAL back into the database, so the
                    # next process does not read (and map) a large WAL when it opens it.
                    pragma(self._conn, "wal_checkpoint(TRUNCATE)")
                return done
            names = self._name_entries(views, name_of)
            merges = None  # the merges in force, kept by a rebuild for the incremental folds to come
            if rebuilding is not None and not start:
                merges = {a.hex: b.hex for a, b in rebuilding.into().items()}
            if self._flush(start, position, views, buckets, index, agenda, names, merges):
                done += folded

    def _seal_counts(self, conn: Any, start: int, index: list[tuple[bytes, int]]) -> None:
        """Per contact, how many facts the history index holds and the last one, sealed in
        buckets (HIST); and how many promises are open (OPEN_PROMISES): what a read of the
        index, or of the open promises, checks that nothing was removed from it."""
        changed: dict[str, dict[str, list[int]]] = {}
        for contact, position in index:
            key = contact.hex()
            bucket = key[:BUCKET_CHARS]
            if bucket not in changed:
                changed[bucket] = dict((self._stored(HIST, bucket) if start else None) or {})
            count, last = changed[bucket].get(key, [0, 0])
            changed[bucket][key] = [count + 1, max(last, position)]
        rows = [(HIST, b, None, self._seal(HIST, b, counts)) for b, counts in changed.items()]
        sql = "SELECT COUNT(*) FROM syncnet_views WHERE kind = 'promise' AND open = 1"
        (open_now,) = conn.execute(sql).fetchone()
        rows.append(("global", OPEN_PROMISES, None, self._seal("global", OPEN_PROMISES, {"open": open_now})))
        conn.executemany(UPSERT_VIEW, rows)

    def _flush(
        self,
        start: int,
        position: int,
        views: Views,
        buckets: Buckets,
        index: list[tuple[bytes, int]],
        agenda: int,
        names: Sequence[tuple[bytes, str]] = (),
        merges: dict[str, str] | None = None,
    ) -> bool:
        """Write one folded chunk, unless another process moved the position meanwhile
        (then the buckets read before the lock may be stale too, and nothing is written)."""
        with immediate(self._conn) as conn:
            if self._tracked() != start:
                return False  # folded by someone else: this chunk is discarded
            if start == 0:
                conn.execute("DELETE FROM syncnet_views")
                conn.execute("DELETE FROM syncnet_view_index")
                conn.execute("DELETE FROM syncnet_name_index")
            params = []
            changed: dict[tuple[str, str], dict[str, Any]] = {}
            for kind, key in views.dirty:
                row = views.rows[(kind, key)]
                if kind in BUCKETED:
                    bucket = (kind, bucket_of(key))
                    if bucket not in changed:  # the bucket whole: its rows this chunk did not touch too
                        changed[bucket] = dict(self._bucket(*bucket, buckets) if start else {})
                    changed[bucket][key] = encode_row(row)
                    continue
                is_open = 1 if kind == "promise" and row.status == "open" else None
                slot = self._slot(kind, key)
                params.append((kind, slot, is_open, self._seal(kind, slot, row, is_open)))
            params += [(kind, b, None, self._seal(kind, b, rows)) for (kind, b), rows in changed.items()]
            if views.last_recorded is not None:  # a rebuild of only retracted facts has no last_on
                stored = (self._stored("global", META_KEY) if start else None) or {}
                on = "" if views.last_on is None else views.last_on.isoformat()
                recorded = views.last_recorded.isoformat()
                meta = {"last_on": max(stored.get("last_on", ""), on),
                        "last_recorded": max(stored.get("last_recorded", ""), recorded)}  # fmt: skip
                params.append(("global", META_KEY, None, self._seal("global", META_KEY, meta)))
            if merges:  # a rebuild's first chunk (the rows were all deleted above)
                params.append(("global", MERGES, None, self._seal("global", MERGES, merges)))
            conn.executemany(
                "INSERT INTO syncnet_views VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) "
                "DO UPDATE SET open = excluded.open, data = excluded.data",
                params,
            )
            conn.executemany("INSERT INTO syncnet_view_index VALUES (?, ?) ON CONFLICT DO NOTHING", index)
            self._seal_counts(conn, start, index)
            conn.executemany("INSERT INTO syncnet_name_index VALUES (?, ?) ON CONFLICT DO NOTHING", names)
            # a forgotten contact's name hashes go (zeroed: secure_delete): with the store
            # key, they would confirm a guessed name
            gone = [(c,) for c in views.forgotten]
            conn.executemany("DELETE FROM syncnet_name_index WHERE contact = ?", gone)
            self._vacuum_names = self._vacuum_names or bool(gone)
            track = [(NAME, position, self._counted_stamp(conn, position))]
            if agenda:
                track.append((AGENDA, agenda, self._stamp(AGENDA, agenda)))
            conn.executemany(
                "INSERT INTO syncnet_view_tracking VALUES (?, ?, ?) ON CONFLICT (name) "
                "DO UPDATE SET position = excluded.position, fingerprint = excluded.fingerprint",
                track,
            )
        if self._vacuum_names and postgres(self._conn):
            # PostgreSQL keeps a deleted row's old version in the table's pages until a
            # vacuum (SQLite's secure_delete zeroes it): the name hashes leave them here
            self._conn.execute("VACUUM FULL syncnet_name_index")
            self._vacuum_names = False
        return True
