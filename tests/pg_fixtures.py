"""PostgreSQL for the hub's tests: the server that runs on development and CI machines
(127.0.0.1:5432, user postgres, trust auth; SYNCNET_TEST_PG names another), one new
database per test, dropped after it.

Where no server answers, the tests that need one skip and say why; under CI (CI=true)
they fail instead: there, PostgreSQL is required (.ci/run starts it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ADMIN_URL = os.environ.get("SYNCNET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _unreachable() -> str | None:
    import psycopg

    try:
        psycopg.connect(ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error as e:
        return " ".join(str(e).split())[:200] or type(e).__name__
    return None


@pytest.fixture(scope="session")
def pg_admin() -> str:
    reason = _unreachable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and does not answer at {ADMIN_URL}: {reason}")
        pytest.skip(f"no PostgreSQL server answers at {ADMIN_URL} ({reason}): the hub's tests need one")
    return ADMIN_URL


@contextmanager
def new_database(admin: str) -> Iterator[str]:
    """The URL of a new, empty database; dropped (with its connections) afterwards."""
    import psycopg

    name = f"syncnet_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def hub_url(pg_admin: str) -> Iterator[str]:
    with new_database(pg_admin) as url:
        yield url


def empty_database(url: str) -> None:
    """Every table of the database emptied (faster than a new database per example)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for a store in SQLite, else the URL of a new PostgreSQL database for it."""
    if request.param == "sqlite":
        yield None
        return
    admin = request.getfixturevalue("pg_admin")
    with new_database(admin) as url:
        yield url


def sql_rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the store in `home`, SQLite's words, on either engine."""
    import json
    import sqlite3

    meta = json.loads((home / "store.json").read_text(encoding="utf-8"))
    if meta.get("database"):
        import psycopg

        sql = sql.replace("rowid", "notification_id").replace("?", "%s")
        with psycopg.connect(meta["database"]) as conn:
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in conn.execute(sql)]
    conn = sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
