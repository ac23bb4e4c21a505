"""A store on PostgreSQL (`syncnet init --store URL`), against anchors in the same run:

- record_many into a PostgreSQL store vs the bare library's event store putting the same
  facts into PostgreSQL (`eventsourcing.postgres`, the same cipher and compressor): the
  path under `Application.save()`, as bench/store.py measures it on SQLite;
- `syncnet due --json` (a new process, views caught up) on a PostgreSQL store vs the same
  on a SQLite store holding the same facts; and the same read in this process (the
  drivers loaded), which is what the store itself costs.

PostgreSQL: SYNCNET_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres); each
run gets a new database, dropped after it (bench/hub.py's new_database).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from syncnet import Network, init_store

from .__main__ import alternate, figure
from .hub import new_database
from .store import BATCH, BareApp, decode_all
from .synthetic import TODAY, network


def bare_pg_app(url: str) -> BareApp:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    return BareApp(env={
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(info["dbname"]), "POSTGRES_HOST": str(info.get("host") or "localhost"),
        "POSTGRES_PORT": str(info.get("port") or 5432), "POSTGRES_USER": str(info.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    })  # fmt: skip


def due_once(home: Path) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "syncnet", "--home", str(home), "due", "--json", "--today",
                    TODAY.isoformat()], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "SYNCNET_PASSPHRASE": ""})  # fmt: skip
    return time.perf_counter() - t


def agenda_in_process(home: Path) -> float:
    """Opening the store and reading the agenda, as `due` does, in this process."""
    t = time.perf_counter()
    with Network.open(home, home / "config.toml", today=TODAY) as net:
        net.refresh()
        net.agenda()
    return time.perf_counter() - t


def run(quick: bool, repeat: int) -> list[dict[str, Any]]:
    events = 20_000 if quick else 100_000
    commands = network(events, 500)
    rows: list[dict[str, Any]] = []
    scratch = Path(tempfile.mkdtemp(prefix="syncnet-bench-pg-"))
    try:
        first = scratch / "first"
        init_store(first)
        with Network.open(first, first / "config.toml", today=TODAY) as net:
            net.record_many(commands, batch_size=BATCH)
            net.refresh()
            same_events = decode_all(net)

        def syncnet_record() -> float:
            with new_database() as url:
                home = Path(tempfile.mkdtemp(dir=scratch))
                init_store(home, database=url)
                with Network.open(home, home / "config.toml", today=TODAY) as net:
                    t = time.perf_counter()
                    net.record_many(commands, batch_size=BATCH)
                    took = time.perf_counter() - t
                return took

        def anchor_record() -> float:
            with new_database() as url:
                app = bare_pg_app(url)
                try:
                    t = time.perf_counter()
                    for i in range(0, len(same_events), BATCH):
                        app.events.put(same_events[i : i + BATCH])
                    return time.perf_counter() - t
                finally:
                    app.close()

        mine, anchor = alternate(syncnet_record, anchor_record, repeat)
        name = f"postgres_record_many_{events}_events: time vs bare eventsourcing.postgres"
        row = figure(name, mine, anchor, 1.25)
        row["throughput_ratio"] = round(anchor / mine, 3)  # the bound: >= 0.8
        rows.append(row)

        # The same facts in a PostgreSQL store (restored from an export: the same ids and
        # views), `due` in a new process on each.
        with new_database() as url:
            pg = scratch / "pg"
            init_store(pg, database=url)
            export = scratch / "facts.jsonl"
            subprocess.run([sys.executable, "-m", "syncnet", "--home", str(first), "export", "--facts",
                            str(export)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            subprocess.run([sys.executable, "-m", "syncnet", "--home", str(pg), "import", "jsonl",
                            str(export)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            due_once(pg)  # views caught up, as after any read command
            mine, anchor = alternate(lambda: due_once(pg), lambda: due_once(first), repeat)
            rows.append(figure(f"postgres_due_{events}_events_500_contacts: time vs the same on SQLite", mine,
                               anchor, 1.5))  # fmt: skip
            # The same read in this process, the drivers loaded: what the store itself costs
            # (a new process also imports psycopg, about 0.13 s here, which SQLite's needs not)
            mine, anchor = alternate(lambda: agenda_in_process(pg), lambda: agenda_in_process(first), repeat)
            name = f"postgres_agenda_in_process_{events}_events: time vs the same on SQLite"
            rows.append(figure(name, mine, anchor, 1.5))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows
