"""Defence in depth in the database itself: entries and heads cannot be changed by SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET occurred_us = 0",
        "DELETE FROM entries",
        "UPDATE heads SET size = 99",
        "DELETE FROM heads",
    ],
)
def test_entries_and_heads_refuse_update_and_delete(store, log, make_draft, statement) -> None:
    log.append([make_draft(), make_draft("sms")])
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert log.count() == 2
    assert log.check().ok


@pytest.mark.parametrize("table", ["entries", "heads"])
def test_truncate_is_refused_on_postgresql(store, log, make_draft, table) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    log.append([make_draft()])
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {table} CASCADE"))
    assert log.count() == 1
