"""The dedup keys a dry run has met, kept on disk so that memory stays bounded.

A real import asks the log whether a key is already there; a dry run writes
nothing, so it remembers the keys of the records it would have added, to count
a record met twice as "repeated" the way a real run would. A million records
would hold a million keys: they go to a private temporary SQLite database
(SQLite keeps it in memory up to its cache size, then in a temporary file that
is deleted when it is closed). Only keyed digests are stored (the log's
``dedup_digest``), never the key itself: nothing about a record reaches the
disk in clear.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable


class SeenKeys:
    def __init__(self, digest: Callable[[str], bytes]) -> None:
        self._digest = digest
        self._db: sqlite3.Connection | None = None

    def _table(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect("", isolation_level=None)  # "": private, temporary
            self._db.execute("CREATE TABLE seen (digest BLOB PRIMARY KEY) WITHOUT ROWID")
        return self._db

    def add(self, keys: Iterable[str]) -> list[bool]:
        """Remember ``keys`` in order; for each, whether it was met for the first time."""
        db = self._table()
        firsts = []
        db.execute("BEGIN")
        try:
            for key in keys:
                inserted = db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (self._digest(key),))
                firsts.append(inserted.rowcount == 1)
        finally:
            db.execute("COMMIT")
        return firsts

    def __contains__(self, key: str) -> bool:
        if self._db is None:
            return False
        found = self._db.execute("SELECT 1 FROM seen WHERE digest = ?", (self._digest(key),))
        return found.fetchone() is not None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
