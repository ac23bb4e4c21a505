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
