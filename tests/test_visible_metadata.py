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


def test_no_fact_type_and_no_id_of_a_view_row_is_readable(run: Runner, tmp_path: Path) -> None:
    """The two reductions the list relies on: a fact's topic is one of four classes (its
    type sealed inside its state), and the rows kept per contact, promise and goal are
    stored under keyed hashes that match no id stored anywhere in the clear."""
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-02", *T)
    run.ok("give", "Ada", "--kind", "advice", "--on", "2026-11-03", *T)
    run.ok("ask", "Ada", "a referral", "--on", "2026-11-04", *T)
    run.ok("promise", "Ada", "send the slides", "--due", "2026-12-01", "--on", "2026-11-05", *T)
    run.ok("goal", "add", "Learn Rust", *T)
    (run.home / "config.toml").write_text(f'[targets.file]\ntype = "ics"\npath = "{tmp_path / "r.ics"}"\n')
    run.ok("sync", *T)
    conn = sqlite3.connect(run.home / "store.db")
    try:
        topics = [t for (t,) in conn.execute("SELECT topic FROM stored_events ORDER BY rowid")]
        ids = {i for (i,) in conn.execute("SELECT originator_id FROM stored_events")}
        ids |= {s for (s,) in conn.execute("SELECT subject FROM syncnet_keys")}
        rows = conn.execute("SELECT kind, key FROM syncnet_views WHERE kind IN ('ledger', 'promise', 'goal')")
        keys = {(kind, key) for kind, key in rows}
    finally:
        conn.close()
    assert topics == ["syncnet:met", "syncnet:fact", "syncnet:fact", "syncnet:fact", "syncnet:fact",
                      "syncnet:push"]  # fmt: skip
    assert {kind for kind, _ in keys} == {"ledger", "promise", "goal"}
    for _, key in keys:
        assert len(key) == 32 and not any(key.startswith(i[:8]) or i.startswith(key[:8]) for i in ids), key
