"""Store figures: recording through record_many, rebuilding every view, and the
peak memory of a rebuild, each against the bare library in the same run.

record_many (checking commands, sealing, building facts, appending them) is measured
against the library's own event store putting the same facts (`events.put`: mapper and
recorder, with the same cipher and compressor), the path under `Application.save()`."""

from __future__ import annotations

import base64
import gc
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper

from syncnet import Network, init_store
from syncnet.storage.library import LibraryApp

from .__main__ import alternate
from .synthetic import TODAY, iter_network, network

BATCH = 1000


class BareApp(LibraryApp):
    """LibraryApp with the library's own mapper (the fact's type as the topic, not sealed
    inside its state): the anchor pays nothing syncnet adds."""

    def construct_mapper(self) -> Mapper[UUID]:
        return Application.construct_mapper(self)


def bare_app(db: Path) -> LibraryApp:
    """The anchor: the library's Application with the same cipher and compressor and the
    library's own SQLite recorder and mapper. LibraryApp adds only the transcodings our
    events need (and ignores os.environ); nothing of record_many, sealing, the sealed
    type or the keys table."""
    return BareApp(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(db),
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    )


def fresh_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="syncnet-bench-store-"))
    init_store(home)
    return home


def decode_all(net: Network) -> list[Any]:
    log = net.store.log
    out: list[Any] = []
    position = 0
    while True:
        batch = log.after(position, BATCH)
        if not batch:
            return out
        out += [fact for _, fact in batch]
        position = batch[-1][0]


def reset_views(net: Network) -> None:
    conn = net.views._conn
    for table in ("syncnet_views", "syncnet_view_index", "syncnet_view_tracking"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a big WAL is read back at the next open


def rebuild(net: Network) -> float:
    reset_views(net)
    return timed(net.refresh)


def decode(net: Network) -> float:
    """Decoding the log, under the same conditions as the rebuild, which pauses the cycle
    collector while it folds: otherwise the anchor pays collections the rebuild does not."""
    gc.disable()
    try:
        return timed(lambda: decode_all(net))
    finally:
        gc.enable()


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def figure(name: str, mine: float, anchor: float, target: str, ok: bool, unit: str) -> dict[str, Any]:
    row = {"name": name, "syncnet": round(mine, 4), "anchor": round(anchor, 4), "unit": unit,
           "ratio": round(mine / anchor, 3), "target": target, "pass": ok}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    events = 20_000 if quick else 100_000
    contacts = 500
    commands = network(events, contacts)
    rows: list[dict[str, Any]] = []

    # 1. Recording through record_many vs the bare library saving the same events.
    homes: list[Path] = []

    def syncnet_record() -> float:
        home = fresh_home()
        homes.append(home)
        with Network.open(home, home / "config.toml", today=TODAY) as net:
            return timed(lambda: net.record_many(commands, batch_size=BATCH))

    first = fresh_home()
    with Network.open(first, first / "config.toml", today=TODAY) as net:
        net.record_many(commands, batch_size=BATCH)
        same_events = decode_all(net)

    def anchor_record() -> float:
        folder = Path(tempfile.mkdtemp(prefix="syncnet-bench-bare-"))
        app = bare_app(folder / "bare.db")
        try:
            # The library's event store: its mapper (transcoding, zlib, AES-GCM) and its
            # SQLite recorder, the path under Application.save() that syncnet calls too.
            return timed(lambda: [app.events.put(same_events[i : i + BATCH])
                                  for i in range(0, len(same_events), BATCH)])  # fmt: skip
        finally:
            app.close()
            shutil.rmtree(folder, ignore_errors=True)

    mine, anchor = alternate(syncnet_record, anchor_record, repeat)
    ratio = (events / mine) / (events / anchor)
    rows.append(figure(f"record_many_{events}_events_throughput", events / mine, events / anchor,
                       ">= 0.8 (throughput)", ratio >= 0.8, "events/s"))  # fmt: skip

    # 2. Rebuilding every view in one pass vs decoding the same log to domain events, on
    # the 500-contact network and on 5,000 contacts over ten years (more rows, and a
    # name index entry per contact).
    wide = fresh_home()
    homes.append(wide)
    with Network.open(wide, wide / "config.toml", today=TODAY) as net:
        net.record_many(network(events, 5_000, years=10), batch_size=BATCH)
    for home, label in ((first, ""), (wide, "_5000_contacts")):
        with Network.open(home, home / "config.toml", today=TODAY) as net:
            mine, anchor = alternate(partial(rebuild, net), partial(decode, net), repeat)
        ratio = (events / mine) / (events / anchor)
        rows.append(figure(f"rebuild_views_{events}_events{label}_throughput", events / mine,
                           events / anchor, ">= 0.5 (throughput)", ratio >= 0.5, "events/s"))  # fmt: skip
    # 3. Reads of the past (docs/rules.md, "Two times"): the agenda of a day a year back
    # replays the facts dated by then, in memory; against a full rebuild of the views (the
    # bound: at most 2x). Today's reads use the tracked views: the due and scale groups
    # measure them.
    with Network.open(first, first / "config.toml", today=TODAY) as net:
        net.refresh()
        year_back = TODAY - timedelta(days=365)
        def past() -> float:
            net._replayed = None  # what a new process has: no replay kept from the last run
            return timed(lambda: net.agenda(year_back))

        mine, anchor = alternate(past, partial(rebuild, net), repeat)
        rows.append(figure(f"due_a_year_back_{events}_events_vs_rebuild", mine, anchor, "<= 2.0",
                           mine / anchor <= 2.0, "s"))  # fmt: skip
    for home in [first, *homes]:
        shutil.rmtree(home, ignore_errors=True)

    # 4. Peak memory of a rebuild from a large log (streamed in pages and chunks).
    big = 100_000 if quick else 1_000_000
    home = fresh_home()
    try:
        with Network.open(home, home / "config.toml", today=TODAY) as net:
            it = iter_network(big, 1000)
            while chunk := list(itertools.islice(it, 50_000)):
                net.record_many(chunk, batch_size=BATCH)
        # A fresh process rebuilds every view from the whole log; the anchor is the same
        # process opening the store without folding anything.
        with Network.open(home, home / "config.toml", today=TODAY) as net:
            reset_views(net)
        # Peak RSS from VmHWM: ru_maxrss would include the parent's peak (kept across exec).
        opening = (
            f"from syncnet import Network; net = Network.open({str(home)!r}, {str(home / 'config.toml')!r}); "
        )
        rss = (
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
            "print(n, hwm)"
        )
        out = subprocess.check_output([sys.executable, "-c", opening + "n = 0; " + rss], text=True)
        base_kb = int(out.split()[1])
        out = subprocess.check_output(
            [sys.executable, "-c", opening + "n = net.refresh(); " + rss], text=True
        )
        folded, rss_kb = map(int, out.split())
        rows.append(figure(f"rebuild_views_{folded}_events_peak_rss_mb", rss_kb / 1024, base_kb / 1024,
                           "<= 300 MB", rss_kb / 1024 <= 300, "MB"))  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return rows
