"""Opening a database from a phone: read-only, never written, WAL included.

Phone databases (an iPhone's ``sms.db``, an Android ``calllog.db``) come from the
user's backup and must stay byte-identical. Without a ``-wal`` file the database
is opened read-only and immutable; with one, part of the data is still in the
WAL, which an immutable open would silently miss, so the database and its WAL
are copied to a private temporary folder and the copy is read.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

from evidence.errors import InvalidInput


def _configure(conn: sqlite3.Connection) -> None:
    # A damaged or crafted file may hold text that is not UTF-8: keep it, visibly.
    conn.text_factory = lambda data: data.decode("utf-8", "replace")
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA query_only = ON")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to ``path``; with a ``-wal`` file, to a private copy of both."""
    try:
        if not _has_wal(path):
            uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
            with closing(sqlite3.connect(uri, uri=True)) as conn:
                _configure(conn)
                yield conn
            return
        with tempfile.TemporaryDirectory(prefix="evidence-db-") as folder:
            copy = Path(folder) / "copy.db"
            shutil.copyfile(path, copy)
            shutil.copyfile(path.with_name(path.name + "-wal"), Path(folder) / "copy.db-wal")
            with closing(sqlite3.connect(copy)) as conn:
                _configure(conn)
                yield conn
    except (sqlite3.Error, ValueError, OSError) as error:
        raise InvalidInput(f"cannot read {path.name} as an SQLite database: {error}") from None
