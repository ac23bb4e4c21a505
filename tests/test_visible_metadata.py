"""What a store shows without its key (issue 14, guarantee 9): every table and column
of a real store.db against the list in docs/architecture.md, "What is visible without a
key". A new table or column fails this test until the list says what it shows."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from support import Runner

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
T = ("--today", "2026-11-20")


def documented() -> set[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### What is visible without a key", 1)[1].split("\n### ", 1)[0]
    pairs = set()
    for table, columns in re.findall(r"^\| (\w+) \| ([\w, ]+) \|", section, flags=re.MULTILINE):
        if table != "table":
            pairs |= {(table, c.strip()) for c in columns.split(",")}
    return pairs


def test_every_column_of_a_store_is_listed_with_what_it_shows(run: Runner, tmp_path: Path) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--why", "role-model", "--on", "2026-11-02", *T)
    run.ok("promise", "Ada", "send the slides", "--due", "2026-12-01", "--on", "2026-11-03", *T)
    run.ok("goal", "add", "Learn Rust", *T)
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{tmp_path / "r.ics"}"\n')
    run.ok("sync", *T)
    run.ok("feed", "url")
    conn = sqlite3.connect(run.home / "store.db")
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = {("stored_events", "rowid")}
        for table in tables:
            found |= {(table, row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
    finally:
        conn.close()
    assert found == documented()
