"""The layers of docs/architecture.md, beyond what import-linter's contracts say.

import-linter (pyproject.toml, run in CI) keeps the arrows pointing down and the
adapters behind the composition root; it sees external packages whole, so this
test checks what it cannot: the domain's one use of eventsourcing is its pure
`eventsourcing.domain` module, and nothing but the fact log touches the library's
application, recorder, mapper or tables.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNCNET = ROOT / "syncnet"


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_domain_uses_only_the_pure_part_of_eventsourcing():
    for path in (SYNCNET / "domain").glob("*.py"):
        library = {m for m in imports_of(path) if m.split(".")[0] == "eventsourcing"}
        assert library <= {"eventsourcing.domain"}, (path.name, library)


# The fact log's API (factlog.py), the library underneath it (library.py) and the
# encoding of syncnet's values in stored events (transcodings.py).
# chain.py: the seal of the log, which reads the library's table once, to seal an old store
_LOG_MODULES = ("factlog.py", "library.py", "library_pg.py", "transcodings.py", "chain.py")
FACT_LOG = {SYNCNET / "storage" / n for n in _LOG_MODULES}


def test_only_the_fact_log_reaches_into_the_library_or_its_tables():
    checked = 0
    for path in SYNCNET.rglob("*.py"):
        if path in FACT_LOG:
            continue
        checked += 1
        text = path.read_text(encoding="utf-8")
        library = {m for m in imports_of(path) if m.split(".")[0] == "eventsourcing"}
        assert library <= {"eventsourcing.domain"}, (path, library)
        for needle in (".recorder", ".mapper", "select_notifications", "stored_events", ".events.put"):
            assert needle not in text, (path, needle)
    assert checked > 30


def test_bench_does_not_import_from_tests():
    for path in (ROOT / "bench").glob("*.py"):
        roots = {m.split(".")[0] for m in imports_of(path)}
        assert not roots & {"tests", "conftest", "caldav_fixtures", "support"}, path
