"""Shared fixtures: a fresh store per test, on SQLite or, when asked, on PostgreSQL.

Set EVIDENCE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
to run the whole suite against PostgreSQL; each test then gets a schema of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from evidence import crypto, model, timeutil
from evidence.ledger import Log, Store

PASSPHRASE = "correct horse battery staple 马"
TEST_KDF_MIB = 8
POSTGRES_URL = os.environ.get("EVIDENCE_TEST_DATABASE_URL", "")


class FakeClock:
    """A clock that advances one second per reading, so tests are repeatable."""

    def __init__(self, start: datetime = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def cheap_kdf() -> crypto.KdfParams:
    return crypto.KdfParams.fresh(memory_kib=TEST_KDF_MIB * 1024, iterations=1)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'evidence.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    opened = Store.open(database_url, tmp_path / "blobs", clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def log(store: Store) -> Log:
    created, _code = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    return created


@pytest.fixture
def make_draft():
    """Factory for valid drafts; keyword arguments override the defaults."""

    def factory(kind: str = "call", at: str = "2026-11-20 23:15", **fields: Any) -> model.Draft:
        defaults: dict[str, Any] = {
            "call": {"number": "138 1234 5678", "said": "说明天去我单位找领导", "answered": True},
            "sms": {"number": "1069012345", "said": "【某贷】您已逾期，请回电"},
            "message": {"sender": "wx_collector01", "channel": "wechat"},
            "contact": {"contact_name": "妈妈", "relation": "mother"},
            "visit": {"location": "单位门口"},
            "letter": {"sender": "某律师事务所"},
            "other": {"said": "something happened"},
        }[kind]
        defaults.update(fields)
        return model.make_draft(
            kind, timeutil.parse_instant(at, timeutil.zone("Asia/Shanghai")), defaults
        )

    return factory


def tamper(store: Store, statement: str, **params: Any) -> None:
    """Run a raw statement past the append-only triggers, as an attacker with the file would."""
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            with conn.begin():
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text(statement), params)
            return
        triggers = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        conn.commit()
        with conn.begin():
            for name, _sql in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            conn.execute(text(statement), params)
            for _name, sql in triggers:
                conn.execute(text(sql))


@pytest.fixture
def app(database_url, tmp_path):
    """A server app on this test's store; a module that needs other settings defines its own."""
    from tests.serverfixtures import app_for

    yield from app_for(database_url, tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()
