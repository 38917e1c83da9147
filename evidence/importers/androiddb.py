"""Android phones' own SQLite databases: call log and SMS, given as files or in a folder.

Read, by table (the names are a fixed list; columns are picked from the ones the
table has, so every column is optional and a row is refused only without a time):

- Huawei backup (a decrypted HiSuite/KoBackup ``db/`` folder): ``calllog.db``
  table ``calls_tb`` (with the crowd label ``mark_content``, ``ring_times``,
  ``geocoded_location``) and ``sms.db`` table ``sms_tb`` (key ``group_id``);
- stock Android: ``calls`` (``calllog.db``, ``contacts2.db``; vivo's rows with
  ``logtype=300`` are messages and are skipped) and ``sms`` (``mmssms.db``;
  Xiaomi's ``block_type`` kept as a tag);
- Huawei's harassment filter (``HarassmentInterception.db``): ``interception_calls``
  and ``interception_messages``, the calls and texts the phone blocked.

A ``harassment.db`` without those tables (its layout in a backup is not confirmed)
is refused, never guessed. Type codes are Android's (``CallLog.Calls.TYPE``,
``Telephony.TextBasedSmsColumns.TYPE``), shared with SMS Backup & Restore, and the
dedup keys have the same shape, so a message or call met in both formats is kept
once. The user's file is never written: it is opened read-only and immutable, or,
when a ``-wal`` file holds part of it, copied with its WAL to a temporary folder.
See ../shared/formats.md §3.2.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from evidence.errors import InvalidInput
from evidence.importers import base
from evidence.importers.base import Importer, Item, Note, ReadContext, Record, Rejected, Unit
from evidence.importers.sqlitefile import connect

SQLITE_MAGIC = b"SQLite format 3\x00"
# Every table read, in reading order: texts first (``--keywords`` learns numbers from them).
TEXT_TABLES = ("sms_tb", "sms", "interception_messages")
CALL_TABLES = ("calls_tb", "calls", "interception_calls")
KNOWN_TABLES = frozenset(TEXT_TABLES + CALL_TABLES)
# File names given by the phones and backups: a database so named but not readable by us
# gets a clear refusal naming its tables instead of "cannot tell the format".
KNOWN_NAMES = frozenset(
    {"calllog.db", "contacts2.db", "mmssms.db", "sms.db", "calls.db", "harassment.db",
     "harassmentinterception.db"}
)  # fmt: skip
UNSUPPORTED = "unsupported"
IOS_MARKERS = ("Manifest.db", "Manifest.plist", "Info.plist")
MAX_DEPTH = 3  # folder levels searched (``backup/db/``), and at most this many files looked at:
MAX_FILES = 5000
NO_CONTACT = {"", "(unknown)", "unknown"}


@dataclass(frozen=True)
class Table:
    """What a table's columns mean: one row is one call or one message."""

    name: str
    kind: str  # "call" or "sms"
    number: str  # the column holding the other party's number
    key_column: str | None  # the row's id, for its position
    columns: tuple[str, ...]  # every column read, when the table has it


TABLES: dict[str, Table] = {
    "calls_tb": Table("calls_tb", "call", "number", None, (
        "number", "date", "duration", "type", "name", "geocoded_location", "ring_times",
        "mark_type", "mark_content", "presentation")),
    "calls": Table("calls", "call", "number", "_id", (
        "number", "date", "duration", "type", "name", "geocoded_location", "presentation",
        "logtype", "mark_type", "mark_content")),
    "sms_tb": Table("sms_tb", "sms", "address", "group_id", (
        "address", "date", "type", "body", "subject")),
    "sms": Table("sms", "sms", "address", "_id", (
        "address", "date", "type", "body", "subject", "block_type")),
    "interception_calls": Table("interception_calls", "call", "phone", "_id", (
        "phone", "name", "date", "block_reason", "block_type", "mark_count")),
    "interception_messages": Table("interception_messages", "sms", "phone", "_id", (
        "phone", "name", "body", "date", "block_reason", "pdu")),
}  # fmt: skip


# --- opening a database without ever writing it ---------------------------------------------


@lru_cache(maxsize=256)
def _tables_cached(path: Path, _stamp: tuple[int, int, int]) -> frozenset[str]:
    with connect(path) as conn:
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        except sqlite3.Error as error:
            raise InvalidInput(f"cannot read {path.name} as an SQLite database: {error}") from None
    return frozenset(str(row[0]) for row in rows)


def tables(path: Path) -> frozenset[str]:
    """The table names of ``path`` (remembered while the file and its WAL are unchanged)."""
    stat = path.stat()
    wal = path.with_name(path.name + "-wal")
    wal_size = wal.stat().st_size if wal.is_file() else -1
    return _tables_cached(path.resolve(), (stat.st_mtime_ns, stat.st_size, wal_size))


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _known(path: Path) -> frozenset[str]:
    """The tables of ``path`` we read (empty when it is not a readable SQLite file)."""
    try:
        return tables(path) & KNOWN_TABLES
    except (InvalidInput, OSError):
        return frozenset()


def _is_ios(path: Path) -> bool:
    try:
        found = tables(path)
    except (InvalidInput, OSError):
        return False
    return "ZCALLRECORD" in found or {"message", "handle"} <= found


ENCRYPTED_HINT = (
    "if it comes from a HiSuite or KoBackup backup, the backup is encrypted: decrypt it "
    "first with your backup password (kobackupdec), see docs/importing.md"
)


def _refusal(path: Path) -> str:
    if not _is_sqlite(path):
        return f"{path.name} is not an SQLite database: {ENCRYPTED_HINT}"
    try:
        found = sorted(name[:40] for name in tables(path))
    except InvalidInput as error:
        return str(error)
    shown = ", ".join(found[:20]) + (" …" if len(found) > 20 else "") or "none"
    if path.name.lower() == "harassment.db":
        return (
            f"{path.name}: this layout of Huawei's harassment (blocked calls and texts) "
            f"database is not supported yet (its tables: {shown}); calllog.db and sms.db "
            "of the same backup are read"
        )
    return (
        f"{path.name} is an SQLite database but not an Android call log or SMS database "
        f"we read (its tables: {shown}; read: {', '.join(sorted(KNOWN_TABLES))})"
    )


def _sbr() -> Any:
    """The type tables shared with SMS Backup & Restore (imported late: the registry's order)."""
    from evidence.importers import sbr

    return sbr


# --- reading rows ---------------------------------------------------------------------------


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    # ``table`` comes from TABLES, never from the file.
    return {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}


def _query(table: Table, present: set[str]) -> str:
    """SELECT of the table's known columns; a missing one is NULL (only our own names)."""
    picked = []
    for column in table.columns:
        if column not in present:
            picked.append("NULL")
        elif column == "pdu":  # an MMS body: only whether there is one, never the blob
            picked.append("pdu IS NOT NULL")
        else:
            picked.append(column)
    key = table.key_column if table.key_column in present else "NULL"
    return f"SELECT {key}, {', '.join(picked)} FROM {table.name}"  # noqa: S608


def _text(value: Any) -> str | None:
    """A column as text: NULL, empty and the literal "null" are absent."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return base.value(str(value).replace("\x00", ""))


def _code(value: Any) -> str:
    """A type code as written (``1``, ``"1"``, ``1.0`` all give ``"1"``), at most 20
    characters (it may become a tag)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))[:20]
    return (_text(value) or "").strip()[:20]


def _millis(value: Any, ctx: ReadContext) -> tuple[Any, int]:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("date is not a number")
        value = int(value)
    if isinstance(value, bytes):
        raise ValueError("date is not a number")
    return base.from_epoch_ms(value if isinstance(value, int) else _text(value), ctx.zone)


def _count(value: Any) -> int | None:
    """A duration or count; anything unreadable or negative is absent (never a reason to refuse)."""
    try:
        number = int(value) if isinstance(value, int | float) else int(_text(value) or "x")
    except (ValueError, OverflowError):
        return None
    return number if 0 <= number <= 10_000_000 else None


def _joined(*parts: str | None) -> str:
    return "; ".join(part for part in parts if part)


def _tag(prefix: str, value: str) -> str:
    return f"{prefix}{value}"[:64].strip()


def _contact(name: str | None) -> str | None:
    return None if name is None or name.strip().lower() in NO_CONTACT else name


def _call(table: Table, row: dict[str, Any], ctx: ReadContext, position: str) -> Record:
    occurred, millis = _millis(row["date"], ctx)
    number = _text(row[table.number]) or "unknown"
    duration = _count(row.get("duration"))
    tags: list[str] = []
    notes: list[str] = []
    if table.name == "interception_calls":
        direction, answered, tag = "incoming", False, "blocked"
        duration = 0  # never connected
        notes.append(
            "拦截 blocked by the phone's harassment filter "
            f"(block_reason {_code(row['block_reason']) or '?'}, "
            f"block_type {_code(row['block_type']) or '?'})"
        )
        marks = _count(row["mark_count"])
        if marks:
            notes.append(f"mark_count {marks}")
    else:
        raw_type = _code(row["type"])
        direction, answered, tag = _sbr().CALL_TYPES.get(
            raw_type, (None, None, f"call type {raw_type}")
        )
        if direction == "outgoing" and duration is not None:
            answered = duration > 0
    if tag:
        tags.append(tag)
    presentation = _sbr().PRESENTATION.get(_code(row.get("presentation")))
    if presentation:
        tags.append(presentation)
    name = _contact(_text(row.get("name")))
    mark = _text(row.get("mark_content"))
    if mark:
        tags.append(_tag("号码标记 ", mark))
        mark_type = _code(row.get("mark_type"))
        notes.append(f"号码标记 number marked on the phone: {mark}" +
                     (f" (mark_type {mark_type})" if mark_type else ""))  # fmt: skip
    rings = _count(row.get("ring_times"))
    if rings is not None:
        notes.append(f"ring_times {rings}")
    location = _text(row.get("geocoded_location"))
    if location:
        notes.append(f"归属地 location: {location}")
    fields: dict[str, Any] = {
        "number": number, "direction": direction, "duration": duration, "answered": answered,
        "tags": tags,
        "note": _joined(f"联系人 contact on the phone: {name}" if name else None, *notes),
    }  # fmt: skip
    return Record(
        "call", occurred, fields, position,
        base.call_key(number, millis, f"{direction}{tag or ''}", answered, duration),  # type: ignore[arg-type]
        text="\n".join(part for part in (name, mark) if part),
    )  # fmt: skip


def _sms(table: Table, row: dict[str, Any], ctx: ReadContext, position: str) -> Record:
    occurred, millis = _millis(row["date"], ctx)
    number = _text(row[table.number]) or "unknown"
    body = _text(row.get("body")) or ""
    notes: list[str] = []
    tags: list[str] = []
    if table.name == "interception_messages":
        direction, tag = "incoming", "blocked"
        notes.append(
            "拦截 blocked by the phone's harassment filter "
            f"(block_reason {_code(row['block_reason']) or '?'})"
        )
        if row["pdu"] and not body:
            notes.append("彩信 MMS: its content (pdu) is not read")
    else:
        raw_type = _code(row["type"])
        direction, tag = _sbr().SMS_TYPES.get(raw_type, (None, f"sms type {raw_type or 'missing'}"))
        block = _code(row.get("block_type"))
        if block and block != "0":
            tags.append(f"MIUI block_type {block}"[:64])
    if tag:
        tags.append(tag)
    subject = _text(row.get("subject"))
    if subject:
        notes.append(f"subject: {subject}")
    name = _contact(_text(row.get("name")))
    fields: dict[str, Any] = {
        "number": number, "direction": direction, "said": body, "tags": tags,
        "note": _joined(f"联系人 contact on the phone: {name}" if name else None, *notes),
    }  # fmt: skip
    return Record(
        "sms", occurred, fields, position,
        base.text_key("sms", number, millis, f"{direction}{tag or ''}", body),  # type: ignore[arg-type]
        text=f"{body}\n{name}" if name else body,
    )  # fmt: skip


def read_table(conn: sqlite3.Connection, table: Table, ctx: ReadContext) -> Iterator[Item]:
    """Every row of ``table``: a record, or a rejection in its place."""
    try:
        present = _columns(conn, table.name)
        if "date" not in present:
            yield Rejected(table.name, "the table has no date column: none of its rows is read")
            return
        rows = conn.execute(_query(table, present))
        label = table.key_column if table.key_column in present else "row"
    except sqlite3.Error as error:
        yield Rejected(table.name, f"the table cannot be read: {error}")
        return
    names = table.columns
    skipped = 0
    index = 0
    while True:
        try:
            raw = rows.fetchone()
        except sqlite3.Error as error:
            yield Rejected(f"{table.name} table", f"the database is damaged: {error}")
            break
        if raw is None:
            break
        index += 1
        row = dict(zip(names, raw[1:], strict=True))
        if table.name == "calls" and _code(row["logtype"]) == "300":
            skipped += 1
            continue
        ident = str(raw[0])[:40] if raw[0] is not None and label != "row" else f"#{index}"
        position = f"{table.name} {label} {ident}"
        reader = _call if table.kind == "call" else _sms
        try:
            yield reader(table, row, ctx, position)
        except (ValueError, OverflowError, TypeError) as error:
            yield Rejected(position, str(error) or "unreadable row")
    if skipped:
        yield Note(
            f"{skipped} rows of the calls table with logtype=300 (vivo: messages, not calls) "
            "were skipped"
        )


# --- finding the databases ------------------------------------------------------------------


def _candidates(folder: Path) -> list[Path]:
    """SQLite files under ``folder``, and files named like ours that are not SQLite
    (encrypted backups): a few levels deep, a bounded number looked at."""
    found: list[Path] = []
    looked = 0
    root_depth = len(folder.parts)
    for current, dirs, files in os.walk(folder):
        depth = len(Path(current).parts) - root_depth
        if depth >= MAX_DEPTH:
            dirs[:] = []
        dirs.sort()
        for name in sorted(files):
            if not name.lower().endswith(".db"):
                continue
            looked += 1
            if looked > MAX_FILES:
                return found
            path = Path(current) / name
            if path.is_file() and (_is_sqlite(path) or name.lower() in KNOWN_NAMES):
                found.append(path)
    return found


def _rank(known: frozenset[str]) -> int:
    if known and known <= set(TEXT_TABLES):
        return 0
    if known and known <= set(CALL_TABLES):
        return 2
    return 1


@base.register
class AndroidDb(Importer):
    name = "android-db"
    label = (
        "Android SQLite call log / SMS: Huawei backup calllog.db, sms.db (calls_tb, "
        "sms_tb), stock calllog.db, contacts2.db, mmssms.db"
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            if any((path / name).exists() for name in IOS_MARKERS):
                return False  # an iPhone backup folder
            return any(_known(p) or p.name.lower() in KNOWN_NAMES for p in _candidates(path))
        if not head.startswith(SQLITE_MAGIC):
            return path.is_file() and path.name.lower() in KNOWN_NAMES  # refused, with why
        if _known(path):
            return True
        # Known by its name only: refused with its tables named, unless it is an iPhone's.
        return path.name.lower() in KNOWN_NAMES and not _is_ios(path)

    def units(self, path: Path) -> list[Unit]:
        if path.is_file():
            if not _known(path):
                raise InvalidInput(_refusal(path))
            return [Unit(path, path.name)]
        units = []
        encrypted = []
        for found in _candidates(path):
            relative = f"{path.name}/{found.relative_to(path).as_posix()}"
            if _known(found):
                units.append(Unit(found, relative))
            elif not _is_sqlite(found):
                encrypted.append(found.name)
            elif found.name.lower() == "harassment.db":
                units.append(Unit(found, relative, UNSUPPORTED, keep=False))
        if not any(unit.part != UNSUPPORTED for unit in units):
            if encrypted:
                raise InvalidInput(
                    f"{', '.join(sorted(encrypted)[:5])} in the folder {path.name}: not SQLite "
                    f"databases: {ENCRYPTED_HINT}"
                )
            raise InvalidInput(
                f"no Android call log or SMS database (calllog.db, sms.db, mmssms.db, "
                f"contacts2.db) in the folder {path.name}"
            )
        return units

    def rank(self, unit: Unit) -> int:
        return 1 if unit.part == UNSUPPORTED else _rank(_known(unit.path))

    def read(self, unit: Unit, ctx: ReadContext) -> Iterator[Item]:
        ctx.advance(self.size(unit))
        if unit.part == UNSUPPORTED:
            yield Note(f"{unit.name}: {_refusal(unit.path)}")
            return
        known = _known(unit.path)
        if not known:
            raise InvalidInput(_refusal(unit.path))
        with connect(unit.path) as conn:
            for name in TEXT_TABLES + CALL_TABLES:
                if name in known:
                    yield from read_table(conn, TABLES[name], ctx)
