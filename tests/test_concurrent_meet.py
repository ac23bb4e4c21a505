"""Two processes meeting one name at the same moment (issue 14, guarantee 8): the name
check of a first meeting and its write are apart, so both could pass the check. The
write refuses when another process met a contact after the check (ContactsMoved), and
the check is made again: exactly one contact, and the others say it is one already."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from syncnet.app.network import Network
from syncnet.storage.store import init_store

WRITER = """
import sys, time
from pathlib import Path
from syncnet.app.network import Network
from syncnet.domain import commands as cmd
from syncnet.errors import SyncnetError
home, go, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with Network.open(home) as net:
    net.refresh()
    while not go.exists():  # every writer is loaded and ready: they start within a millisecond
        time.sleep(0.0005)
    try:
        net.record(cmd.Meet(name))
        print("met")
    except SyncnetError as e:
        print("refused:", e)
"""


def test_one_name_met_by_eight_processes_at_once_is_one_contact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_store(home)
    Network.open(home).close()
    for round_ in range(4):
        name, go = f"Linus Torvalds {round_}", tmp_path / f"go-{round_}"
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(home), str(go), name],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(8)]  # fmt: skip
        time.sleep(3)  # loaded, waiting at the start line
        go.touch()
        results = [w.communicate(timeout=60) for w in writers]
        assert all("Traceback" not in err for _, err in results), results
        outcomes = sorted(out.strip().split(":")[0] for out, _ in results)
        assert outcomes == ["met"] + ["refused"] * 7, results
        assert all("already a contact" in out for out, _ in results if out.startswith("refused")), results
        with Network.open(home) as net:
            net.refresh()
            named = [c for c in net.contacts() if c[0].name == name]
            assert len(named) == 1, named
