"""Crash safety and concurrent writers (issue 14, guarantees 1 and 2), on real processes
and a real SQLite file.

1. A writer records facts in a loop, one fact per `record` and batches through
   `record_many`, and is killed with SIGKILL at random moments, 20 times each way; and
   one CLI process per fact (`syncnet touch`), 20 of them killed while they run.
   Afterwards the store opens and verifies whole (the seal of the log included), every
   fact whose recording returned is there exactly once, a batch is there whole or not at
   all, and the views equal a rebuild from the log.
2. Four processes record for the same contacts at once while a fifth reads: nothing
   lost, nothing doubled, no error reaches any of them. Then the same with the real
   readers: `syncnet daemon` keeping an .ics file in step and `syncnet serve` answering a
   client that fetches the feed all along; both stay quiet and end up showing the agenda.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
from icalendar import Calendar
from support import Runner, agenda_items, horizon_end, ics_items, ics_target, record, wait_for, write_config

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


def test_cli_writers_killed_at_random_moments_lose_and_double_nothing(run: Runner, tmp_path: Path) -> None:
    """One CLI process per fact (`syncnet touch`, as a shell loop would run it), SIGKILLed
    at a random moment of its life, at least 20 kills that land before it exits: every
    touch whose command exited 0 is there exactly once, a killed one at most once, and the
    store opens, verifies whole and its views equal a rebuild."""
    home = new_store(tmp_path)
    assert home == run.home
    rng = random.Random(1414)
    argv = [sys.executable, "-m", "syncnet", "touch", "Ada", "--on", "2026-11-20", "--note"]

    def start(n: int) -> subprocess.Popen[str]:
        return subprocess.Popen([*argv, f"run-{n}"], env=run.env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    started = time.monotonic()  # one whole run, to draw the kill moments within its length
    first = start(0)
    assert first.wait(timeout=60) == 0, first.communicate()
    length = time.monotonic() - started
    confirmed, killed, n = {0}, set(), 1
    while len(killed) < 20:
        assert n <= 80, f"only {len(killed)} of {n} kills landed before the command ended"
        proc = start(n)
        try:  # the kill lands while it runs, or the run ended first and tells how long it takes
            # every other kill is aimed at the end of a run, where the fact is written
            proc.wait(timeout=rng.uniform(0.0, length) if n % 2 else rng.uniform(0.6 * length, 1.05 * length))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed.add(n)
        _, err = proc.communicate(timeout=30)
        assert "Traceback" not in err, err
        if proc.returncode == 0:
            confirmed.add(n)
            killed.discard(n)
        else:
            assert proc.returncode == -signal.SIGKILL, (proc.returncode, err)
        with Network.open(home) as net:  # the store opens and is whole after every kill
            assert integrity.verify(net).whole
        n += 1

    notes = [e["details"].get("note") for e in run.json("history", "Ada")["events"] if e["kind"] == "touch"]
    counts = {i: notes.count(f"run-{i}") for i in range(n)}
    assert all(counts[i] == 1 for i in confirmed), {i: counts[i] for i in confirmed}
    assert all(counts[i] <= 1 for i in killed), counts
    assert len(notes) == sum(counts.values())  # nothing else came in
    assert len(killed) >= 20 and len(confirmed) >= 1
    print(f"cli kills: {n} runs, {len(killed)} killed ({sum(counts[i] for i in killed)} of them recorded), "
          f"{len(confirmed)} exited 0, 0 lost, 0 doubled")
    views_equal_a_rebuild(home)
    run.ok("verify")


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


def _error_lines(log: str) -> list[str]:
    """The lines of a daemon's or a server's log that report a failure; their normal lines
    are "daemon started/stopped", "<target>: N created, ..." and "Serving the feed on ...".
    A failing sync logs "<target>: failed (<error>); retry in N s"."""
    bad = ("traceback", "error", "failed", "locked", "exception")
    return [line for line in log.splitlines() if any(b in line.lower() for b in bad)]


def _calendar_of(body: bytes) -> dict[str, tuple[str, str]]:
    """UID -> (SUMMARY, first day) of each event of an iCalendar body."""
    return {uid: (str(ev["SUMMARY"]), ev["DTSTART"].dt.isoformat()) for uid, ev in ics_items(body).items()}


ONES, BATCHES = 600, 12  # each of two writers records ONES facts one by one, each of two others BATCHES of 50


def test_four_writers_with_a_daemon_and_a_feed_server_reading(run: Runner, tmp_path: Path) -> None:
    home = new_store(tmp_path)
    assert home == run.home  # the daemon, the server and the CLI calls use this store
    # reminders that outlive the writers' touches (which make the follow-ups done): each
    # cadence moves to the last touch (a new key: a delete and a create), the promise stays
    on = date(2026, 11, 1)
    record(home, cmd.Cadence(NAMES[0], 10, on=on), cmd.Cadence(NAMES[1], 30, on=on),
           cmd.Promise(NAMES[2], "Send the benchmark", date(2026, 12, 15), on=on))  # fmt: skip
    ics_path = tmp_path / "out" / "reminders.ics"
    write_config(home, file=ics_target(ics_path))

    def wanted() -> dict[str, tuple[str, str]]:
        """UID -> (summary, due) of what the target's horizon holds, by a fresh `due --json`
        (on the real date, as the daemon and the server evaluate)."""
        today = date.fromisoformat(run.json("due")["today"])
        return {uid: (i["summary"], i["due"]) for uid, i in agenda_items(run, horizon_end(today)).items()}

    def daemon_file() -> dict[str, tuple[str, str]] | None:
        try:
            return _calendar_of(ics_path.read_bytes())
        except FileNotFoundError:
            return None

    daemon = run.popen("daemon", "--poll", "0.2", "--verbose")  # the debug lines show each sync
    server, port = run.serve()
    url = run.ok("feed", "url").stdout.strip()
    assert url.startswith(f"http://127.0.0.1:{port}/feed/"), url
    before = wanted()
    assert len(before) == 6, before  # three follow-ups, two cadences, the promise
    wait_for(lambda: daemon_file() == before, 20, "the daemon's first sync")

    stop = threading.Event()
    answers: list[tuple[float, int, str]] = []  # (when, status, what is wrong with the body)

    def client() -> None:  # a calendar app that never lets go of the feed
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                try:
                    r = http.get(url)
                except httpx.HTTPError as e:
                    answers.append((time.monotonic(), 0, repr(e)))
                    continue
                try:
                    Calendar.from_ical(r.content)
                    problem = ""
                except Exception as e:
                    problem = repr(e)
                answers.append((time.monotonic(), r.status_code, problem))
                time.sleep(0.02)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    writers: list[subprocess.Popen[str]] = []
    try:
        wait_for(lambda: answers, 10, "the client's first answer")
        started = time.monotonic()
        # a few seconds of writes: the daemon syncs and the server renders many times meanwhile
        writers = [writer(home, f"w{n}", "one" if n % 2 else "many", ONES if n % 2 else BATCHES)
                   for n in range(4)]  # fmt: skip
        results = [w.communicate(timeout=120) for w in writers]
        ended = time.monotonic()
    finally:
        stop.set()
        thread.join(40)
        for w in writers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert not thread.is_alive()
    for (_, err), w in zip(results, writers, strict=True):
        assert w.returncode == 0 and err == "", err
    # every fetch, during the writes and before them, answered a whole calendar
    failed = [a for a in answers if a[1] != 200 or a[2]]
    assert not failed, f"{len(failed)} of {len(answers)} fetches failed: {failed[:5]}"
    during = [a for a in answers if started <= a[0] <= ended]
    assert len(during) > 0 and len(answers) > len(during), (len(answers), len(during))

    ids = fact_ids(home)  # the setup's and the daemon's push records too
    assert len(ids) == len(set(ids)), "a fact recorded twice"
    sizes = [ONES if n % 2 else 50 * BATCHES for n in range(4)]
    written = {uuid.uuid5(IDS, f"w{n}-{i}").hex for n, size in enumerate(sizes) for i in range(size)}
    assert len(written) == sum(sizes) and written <= set(ids), "a fact lost"

    # the writes done, the daemon's file converges on the agenda, and the feed shows the same
    after = wanted()
    assert len(after) == 3, after  # the two cadences and the promise
    assert sum("last interaction 2026-11-20" in s for s, _ in after.values()) == 2, after  # moved
    wait_for(lambda: daemon_file() == after, 20, "the daemon's file to follow the writes")
    feed = httpx.get(url, timeout=30)
    assert feed.status_code == 200
    assert _calendar_of(feed.content) == daemon_file() == after

    assert daemon.alive() and server.alive(), (daemon.stderr(), server.stderr())
    codes = {"daemon": daemon.stop(signal.SIGTERM, timeout=10),
             "serve": server.stop(signal.SIGTERM, timeout=10)}  # fmt: skip
    assert codes == {"daemon": 0, "serve": 0}, (daemon.stderr(), server.stderr())
    log = daemon.stderr()
    assert "daemon started" in log and "daemon stopped" in log, log
    assert log.count("debug: sync file started (new facts)") >= 2, log  # it read while they wrote
    assert "Serving the feed on" in server.stderr(), server.stderr()
    for bg in (daemon, server):
        assert bg.stdout() == "" and _error_lines(bg.stderr()) == [], bg.stderr()

    with Network.open(home) as net:
        assert integrity.verify(net).whole
    views_equal_a_rebuild(home)
