"""Crash safety and concurrent writers (issue 14, guarantees 1 and 2), on real processes
and a real SQLite file.

1. A writer records facts in a loop, one fact per `record` and batches through
   `record_many`, and is killed with SIGKILL at random moments, 20 times each way.
   Afterwards the store opens and verifies whole (the seal of the log included), every
   fact whose recording returned is there exactly once, a batch is there whole or not at
   all, and the views equal a rebuild from the log.
2. Four processes record for the same contacts at once while a fifth reads: nothing
   lost, nothing doubled, no error reaches any of them.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from syncnet.app import integrity
from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.storage.store import init_store

IDS = uuid.UUID("5b4d1c9e-7a3f-4e21-8d6b-2f0e9c1a7b35")
NAMES = ("Ada Lovelace", "Grace Hopper", "Linus Torvalds")

WRITER = """
import sys, uuid
from datetime import date
from pathlib import Path
from syncnet.app.network import Network
from syncnet.domain import commands as cmd
home, tag, mode, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
IDS = uuid.UUID("5b4d1c9e-7a3f-4e21-8d6b-2f0e9c1a7b35")
NAMES = ("Ada Lovelace", "Grace Hopper", "Linus Torvalds")
def touch(i):
    return cmd.Touch(NAMES[i % 3], by="me", on=date(2026, 11, 20), fact_id=uuid.uuid5(IDS, f"{tag}-{i}"))
with Network.open(home, today=date(2026, 11, 20)) as net:
    if mode == "one":
        for i in range(count):
            net.record(touch(i))
            print(f"ok {i}", flush=True)
    else:
        for b in range(count):
            net.record_many([touch(b * 50 + i) for i in range(50)])
            print(f"ok {b}", flush=True)
"""


def new_store(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    init_store(home)
    with Network.open(home) as net:
        for name in NAMES:
            net.record(cmd.Meet(name, on=date(2026, 11, 1)))
    return home


def writer(home: Path, tag: str, mode: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(home), tag, mode, str(count)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def fact_ids(home: Path) -> list[str]:
    with Network.open(home) as net:
        return [f.originator_id.hex for _, f in integrity._every_fact(net)]


def views_equal_a_rebuild(home: Path) -> None:
    def reads(net: Network) -> str:
        return json.dumps([repr(net.balances()), repr(net.agenda()), repr(net.time_split())])

    with Network.open(home) as net:
        net.refresh()
        tracked = reads(net)
        net.views.reset()
        net.refresh()
        assert reads(net) == tracked


def test_a_writer_killed_at_random_moments_loses_and_doubles_nothing(tmp_path: Path) -> None:
    home = new_store(tmp_path)
    rng = random.Random(14)
    confirmed: dict[str, set[int]] = {}
    for run in range(40):
        mode = "one" if run % 2 == 0 else "many"
        tag = f"{mode}{run}"
        proc = writer(home, tag, mode, 200)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # loaded and writing (however slow the machine)
        time.sleep(rng.uniform(0.0, 0.5))  # then a random moment of the writes
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        assert "Traceback" not in err, err
        lines = [first, *out.splitlines()]
        confirmed[tag] = {int(line.split()[1]) for line in lines if line.startswith("ok ")}

        with Network.open(home) as net:  # the store opens
            assert integrity.verify(net).whole
    ids = fact_ids(home)
    assert len(ids) == len(set(ids)), "a fact recorded twice"
    stored = set(ids)
    kills_that_hit = 0
    for tag, done in confirmed.items():
        mode = "one" if tag.startswith("one") else "many"
        size = 1 if mode == "one" else 50
        present = {i for i in range(200 * size) if uuid.uuid5(IDS, f"{tag}-{i}").hex in stored}
        # every recording that returned is there
        for unit in done:
            assert set(range(unit * size, unit * size + size)) <= present, (tag, unit)
        # a batch is whole or absent; at most one unit past the last confirmed (killed after commit)
        units = {i // size for i in present}
        for unit in units:
            assert set(range(unit * size, unit * size + size)) <= present, (tag, unit)
        assert units - done <= {max(done, default=-1) + 1}, (tag, sorted(units - done))
        kills_that_hit += bool(done)
    assert kills_that_hit == 40  # every kill landed while facts were being written
    views_equal_a_rebuild(home)


READER = """
import sys, time
from pathlib import Path
from syncnet.app.network import Network
home, stop = Path(sys.argv[1]), Path(sys.argv[2])
reads = 0
while not stop.exists():
    with Network.open(home) as net:
        net.refresh()
        net.agenda(); net.balances()
    reads += 1
print(reads, flush=True)
"""


def test_four_writers_and_a_reader_at_once(tmp_path: Path) -> None:
    home = new_store(tmp_path)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(home), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    writers = [writer(home, f"w{n}", "one" if n % 2 else "many", 60 if n % 2 else 3) for n in range(4)]
    results = [w.communicate(timeout=300) for w in writers]
    stop.touch()
    read_out, read_err = reader.communicate(timeout=60)
    for (_, err), w in zip(results, writers, strict=True):
        assert w.returncode == 0 and err == "", err
    assert reader.returncode == 0 and read_err == "" and int(read_out) > 0, read_err
    ids = fact_ids(home)
    assert len(ids) == len(set(ids)) == 3 + 2 * 60 + 2 * 150
    with Network.open(home) as net:
        assert integrity.verify(net).whole
    views_equal_a_rebuild(home)
