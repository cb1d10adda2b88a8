"""Shared fixtures: a throwaway PostgreSQL database, a claimed Redis database index, settings.

Tests talk to real servers: ``TEST_DATABASE_URL`` (a server where we may create databases) and
``TEST_REDIS_URL`` (we claim a free database index on that server and flush only it).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from alembic.config import Config
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from alembic import command
from viralshorts import db as db_module
from viralshorts.settings import PROJECT_ROOT, get_settings

ADMIN_PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BASE_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLAIM_KEY = "__viralshorts_test_claim__"


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _alembic_config(database_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["configure_logger"] = False
    return cfg


def create_test_database() -> str:
    """Create a fresh PostgreSQL database migrated to head; returns its URL."""
    name = f"vs_test_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(ADMIN_PG_URL, name)
    command.upgrade(_alembic_config(url), "head")
    return url


def drop_test_database(url: str) -> None:
    """Drop a database made by ``create_test_database`` (connections are closed first)."""
    db_module.reset_engines()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def claim_redis_index() -> tuple[str, redis.Redis]:
    """A Redis database index that no other test run (or fixture) is using."""
    base = BASE_REDIS_URL.rsplit("/", 1)[0]
    for index in range(15, 0, -1):
        client = redis.Redis.from_url(f"{base}/{index}")
        if client.set(CLAIM_KEY, os.getpid(), nx=True, ex=3 * 3600):
            return f"{base}/{index}", client
        client.close()
    raise RuntimeError("no free Redis database index (1-15) to run tests in")


def release_redis_index(client: redis.Redis) -> None:
    """Empty a claimed index (which also drops the claim)."""
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head, dropped at the end of the session."""
    url = create_test_database()
    yield url
    drop_test_database(url)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database index that no other test run is using; flushed at the end."""
    url, client = claim_redis_index()
    yield url
    release_redis_index(client)


@pytest.fixture(scope="session", autouse=True)
def test_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the settings at throwaway places before anything reads them."""
    media_root = tmp_path_factory.mktemp("media")
    saved = dict(os.environ)
    os.environ.update(
        {
            "APP_ENV": "test",
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "MEDIA_ROOT": str(media_root),
            "DATABASE_URL": f"sqlite:///{media_root / 'unused.db'}",
            "OPENAI_API_KEY": "",
            "PEXELS_API_KEY": "",
            "STORAGE_BACKEND": "local",
        }
    )
    get_settings.cache_clear()
    yield media_root
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.fixture()
def use_database(database_url: str) -> Iterator[str]:
    """Make the settings (and so every engine) point at the test database; empty it afterwards."""
    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()
    db_module.reset_engines()
    yield database_url
    engine = db_module.get_engine()
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture()
def session(use_database: str) -> Iterator[Session]:
    """A database session on the test PostgreSQL database."""
    with Session(db_module.get_engine(), expire_on_commit=False) as s:
        yield s


@pytest.fixture()
def use_redis(redis_url: str) -> Iterator[redis.Redis]:
    """Point REDIS_URL at the claimed index and flush it around the test."""
    os.environ["REDIS_URL"] = redis_url
    get_settings.cache_clear()
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.set(CLAIM_KEY, os.getpid(), ex=3 * 3600)
    yield client
    client.flushdb()
    client.set(CLAIM_KEY, os.getpid(), ex=3 * 3600)
    client.close()
