"""iPhone: ``sms.db`` and ``CallHistory.storedata``, given directly or in a backup folder.

An unencrypted iTunes/Finder backup stores each file under the SHA-1 of
``Domain-relativePath`` (``<backup>/<first two hex digits>/<id>``; flat in old
backups). The databases are opened read-only with ``trusted_schema`` off
(:mod:`evidence.importers.sqlitefile`; with a ``-wal`` file beside a database given
directly, a private copy of both), so a crafted file cannot write or run anything.
Times count from 2001-01-01: seconds before iOS 11, nanoseconds after; the call
history's ``ZDATE`` is always seconds. See ../shared/formats.md §2.

MMS and iMessage attachments (``attachment`` joined by ``message_attachment_join``)
are files of the backup: ``attachment.filename`` (``~/Library/SMS/Attachments/…``)
is stored under the SHA-1 of ``MediaDomain-Library/SMS/Attachments/…`` (the
``MediaDomain``, not the ``HomeDomain`` of ``sms.db``). Found, each becomes an
attachment of its message; not found (``sms.db`` given alone, an attachment left
in iCloud), the message says which are missing. The name in the database is only
hashed, never used as a path.
"""

from __future__ import annotations

import hashlib
import plistlib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from evidence.errors import InvalidInput
from evidence.importers import base
from evidence.importers.base import Blob, Importer, Item, ReadContext, Record, Rejected, Unit
from evidence.importers.sqlitefile import connect

SMS_DB_ID = "3d0d7e5fb2ce288813306e4d4636395e047a3d28"  # HomeDomain-Library/SMS/sms.db
CALLS_ID = "5a4935c78a5255723f707230a451d79c540d2741"  # HomeDomain-…/CallHistory.storedata
OLD_CALLS_ID = "2b2b0084a1bc3a5ac8c27afdf14afb42c61a19ca"  # iOS <= 7 call_history.db
SQLITE_MAGIC = b"SQLite format 3\x00"


def _tables(path: Path) -> set[str]:
    with connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _pick(columns: set[str], name: str, alias: str = "") -> str:
    return f"{alias}{name}" if name in columns else "NULL"


def _find(folder: Path, file_id: str) -> Path | None:
    for candidate in (folder / file_id[:2] / file_id, folder / file_id):
        if candidate.is_file():
            return candidate
    return None


_HOME_PREFIXES = ("~/", "/private/var/mobile/", "/var/mobile/")


def attachment_file_id(filename: str) -> str | None:
    """The backup file ID of an ``attachment.filename`` (``~/Library/SMS/Attachments/…``)."""
    for prefix in _HOME_PREFIXES:
        if filename.startswith(prefix):
            relative = filename[len(prefix) :]
            return hashlib.sha1(
                f"MediaDomain-{relative}".encode(), usedforsecurity=False
            ).hexdigest()
    return None


def _attachments(
    conn: sqlite3.Connection, rowid: Any, root: Path | None
) -> tuple[list[Blob], list[str]]:
    """The files of message ``rowid`` found in the backup ``root``, and the names missing."""
    found: list[Blob] = []
    missing: list[str] = []
    rows = conn.execute(
        "SELECT a.filename, a.mime_type, a.transfer_name FROM attachment a "
        "JOIN message_attachment_join j ON j.attachment_id = a.ROWID "
        "WHERE j.message_id = ? ORDER BY a.ROWID",
        (rowid,),
    ).fetchall()
    for filename, mime_type, transfer_name in rows:
        stored = _text(filename) or ""
        name = (_text(transfer_name) or stored.rsplit("/", 1)[-1] or "attachment")[:200]
        file_id = attachment_file_id(stored)
        path = _find(root, file_id) if root is not None and file_id else None
        if path is None:
            missing.append(name)
        else:
            found.append(Blob.of_file(name, path, _text(mime_type) or None))
    return found, missing


def typedstream_text(blob: bytes | None) -> str | None:
    """The plain text of an ``attributedBody`` (an NSAttributedString typedstream)."""
    if not blob:
        return None
    start = blob.find(b"NSString")
    if start < 0:
        return None
    at = start + len(b"NSString") + 5
    if at >= len(blob):
        return None
    length = blob[at]
    at += 1
    if length == 0x81:
        length = int.from_bytes(blob[at : at + 2], "little")
        at += 2
    elif length == 0x82:
        length = int.from_bytes(blob[at : at + 4], "little")
        at += 4
    text = blob[at : at + length]
    return text.decode("utf-8", "replace") if text else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _is_phone(handle: str) -> bool:
    return "@" not in handle and any(c.isdigit() for c in handle)


def read_messages(path: Path, ctx: ReadContext, root: Path | None = None) -> Iterator[Item]:
    with connect(path) as conn:
        try:
            columns = _columns(conn, "message")
            tables = _tables(path)
            has_chat = {"chat", "chat_message_join"} <= tables
            with_files: set[int] = set()
            if {"attachment", "message_attachment_join"} <= tables:
                with_files = {
                    row[0]
                    for row in conn.execute(
                        "SELECT DISTINCT message_id FROM message_attachment_join"
                    )
                }
            chat = (
                "(SELECT c.chat_identifier FROM chat c JOIN chat_message_join j "
                "ON c.ROWID = j.chat_id WHERE j.message_id = m.ROWID LIMIT 1)"
                if has_chat
                else "NULL"
            )
            query = (
                f"SELECT m.ROWID, {_pick(columns, 'guid', 'm.')}, {_pick(columns, 'text', 'm.')}, "  # noqa: S608
                f"{_pick(columns, 'attributedBody', 'm.')}, {_pick(columns, 'service', 'm.')}, "
                f"{_pick(columns, 'date', 'm.')}, {_pick(columns, 'is_from_me', 'm.')}, "
                f"h.id, {chat} FROM message m LEFT JOIN handle h ON m.handle_id = h.ROWID "
                "ORDER BY m.ROWID"
            )
            # Only our own column names are interpolated (_pick), never text from the file.
            rows = conn.execute(query)
        except sqlite3.Error as error:
            raise InvalidInput(f"{path.name} is not an iPhone sms.db: {error}") from None
        while True:
            try:
                row = rows.fetchone()
            except sqlite3.Error as error:
                yield Rejected("message table", f"the database is damaged: {error}")
                return
            if row is None:
                return
            rowid, guid, text, attributed, service, date, from_me, handle, chat_id = row
            position = f"message ROWID {rowid}"
            try:
                record = _message(rowid, guid, text, attributed, service, date, from_me,
                                  handle, chat_id, ctx, position)  # fmt: skip
                if rowid in with_files:
                    record = _with_files(record, *_attachments(conn, rowid, root), root)
            except (ValueError, OverflowError, TypeError) as error:
                yield Rejected(position, str(error) or "unreadable message")
            except sqlite3.Error as error:
                yield Rejected(position, f"its attachments cannot be read: {error}")
            else:
                yield record


def _with_files(record: Record, found: list[Blob], missing: list[str], root: Path | None) -> Record:
    if not missing:
        return replace(record, blobs=tuple(found))
    where = (
        "not in the backup"
        if root is not None
        else "in the iPhone backup folder: import the folder, not sms.db alone"
    )
    said = f"附件 attachments {where}: {', '.join(missing)}"
    note = record.fields.get("note")
    fields = {**record.fields, "note": f"{note}; {said}" if note else said}
    return replace(record, fields=fields, blobs=tuple(found))


def _message(
    rowid: Any, guid: Any, text: Any, attributed: Any, service: Any, date: Any,
    from_me: Any, handle: Any, chat_id: Any, ctx: ReadContext, position: str,
) -> Record:  # fmt: skip
    occurred, millis = base.from_ios(date, ctx.zone)
    body = _text(text)
    if body is None and isinstance(attributed, bytes):
        body = typedstream_text(attributed)
    body = (body or "").replace("\ufffc", "[attachment]")
    peer = _text(handle) or _text(chat_id) or "unknown"
    direction = "outgoing" if from_me else "incoming"
    service_name = _text(service) or "SMS"
    key = f"ios-message|{guid}" if guid else base.text_key("sms", peer, millis, direction, body)
    if _is_phone(peer) or peer == "unknown":
        tags = [] if service_name == "SMS" else [service_name]
        fields: dict[str, Any] = {
            "number": peer, "direction": direction, "said": body, "tags": tags,
        }  # fmt: skip
        return Record("sms", occurred, fields, position, key, text=body)
    fields = {
        "channel": service_name,
        "sender": "me" if from_me else peer,
        "said": body,
        "note": f"to {peer}" if from_me else "",
    }
    return Record("message", occurred, fields, position, key, text=body)


def read_calls(path: Path, ctx: ReadContext) -> Iterator[Item]:
    with connect(path) as conn:
        try:
            c = _columns(conn, "ZCALLRECORD")
            if not c:
                raise sqlite3.OperationalError("no table ZCALLRECORD")
            rows = conn.execute(
                f"SELECT Z_PK, {_pick(c, 'ZADDRESS')}, {_pick(c, 'ZDATE')}, "  # noqa: S608
                f"{_pick(c, 'ZDURATION')}, {_pick(c, 'ZORIGINATED')}, {_pick(c, 'ZANSWERED')}, "
                f"{_pick(c, 'ZCALLTYPE')}, {_pick(c, 'ZSERVICE_PROVIDER')}, "
                f"{_pick(c, 'ZUNIQUE_ID')}, {_pick(c, 'ZNAME')} FROM ZCALLRECORD ORDER BY Z_PK"
            )
        except sqlite3.Error as error:
            raise InvalidInput(f"{path.name} is not an iPhone call history: {error}") from None
        while True:
            try:
                row = rows.fetchone()
            except sqlite3.Error as error:
                yield Rejected("ZCALLRECORD table", f"the database is damaged: {error}")
                return
            if row is None:
                return
            position = f"ZCALLRECORD Z_PK {row[0]}"
            try:
                yield _call(row, ctx, position)
            except (ValueError, OverflowError, TypeError) as error:
                yield Rejected(position, str(error) or "unreadable call")


CALL_TYPES = {1: None, 8: "FaceTime video", 16: "FaceTime audio", 0: "app call"}


def _call(row: tuple[Any, ...], ctx: ReadContext, position: str) -> Record:
    _pk, address, date, duration, originated, answered, call_type, provider, unique, name = row
    if isinstance(date, bytes | str):
        raise ValueError("ZDATE is not a number")
    occurred, millis = base.from_ios(date, ctx.zone)
    number = (_text(address) or "").strip() or "unknown"
    direction = "outgoing" if originated else "incoming"
    seconds = round(float(duration)) if isinstance(duration, int | float) else None
    was_answered = bool(answered) if answered is not None else None
    tags = []
    label = CALL_TYPES.get(call_type, f"call type {call_type}") if call_type is not None else None
    if label:
        tags.append(label)
    if direction == "incoming" and was_answered is False:
        tags.append("missed")
    if provider and str(provider) not in ("com.apple.Telephony", "com.apple.FaceTime"):
        tags.append(str(provider)[:64])
    fields: dict[str, Any] = {
        "number": number, "direction": direction, "duration": seconds,
        "answered": was_answered, "tags": tags,
        "note": f"联系人 contact on the phone: {_text(name)}" if _text(name) else "",
    }  # fmt: skip
    key = (
        f"ios-call|{_text(unique)}"
        if unique
        else base.call_key(number, millis, direction, was_answered, seconds)
    )
    return Record("call", occurred, fields, position, key, text=_text(name) or "")


@base.register
class IosBackup(Importer):
    name = "ios-backup"
    label = "iPhone sms.db / CallHistory.storedata, or an unencrypted iTunes/Finder backup"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return any(
                (path / name).exists() for name in ("Manifest.db", "Manifest.plist", "Info.plist")
            ) or bool(_find(path, SMS_DB_ID) or _find(path, CALLS_ID))
        if not head.startswith(SQLITE_MAGIC):
            return False
        try:
            tables = _tables(path)
        except InvalidInput:
            return False
        return "ZCALLRECORD" in tables or {"message", "handle"} <= tables

    def units(self, path: Path) -> list[Unit]:
        if path.is_file():
            tables = _tables(path)
            part = "calls" if "ZCALLRECORD" in tables else "sms"
            return [Unit(path, path.name, part)]
        manifest = path / "Manifest.plist"
        if manifest.is_file():
            try:
                with manifest.open("rb") as handle:
                    encrypted = bool(plistlib.load(handle).get("IsEncrypted"))
            except (plistlib.InvalidFileException, ValueError, OSError, AttributeError):
                encrypted = False
            if encrypted:
                raise InvalidInput(
                    f"{path.name} is an encrypted iPhone backup: make an unencrypted one "
                    "(Finder/iTunes: untick “Encrypt local backup”), see docs/importing.md"
                )
        found = []
        sms, calls = _find(path, SMS_DB_ID), _find(path, CALLS_ID)
        if sms:
            found.append(
                Unit(sms, f"{path.name}/sms.db ({SMS_DB_ID[:8]}…)", "sms", root=path.resolve())
            )
        if calls:
            found.append(
                Unit(calls, f"{path.name}/CallHistory.storedata ({CALLS_ID[:8]}…)", "calls")
            )
        if not found:
            old = (
                " (only the iOS 7 call_history.db, not supported)"
                if _find(path, OLD_CALLS_ID)
                else ""
            )
            raise InvalidInput(
                f"no sms.db or CallHistory.storedata in the backup folder {path.name}{old}"
            )
        return found

    def rank(self, unit: Unit) -> int:
        return 2 if unit.part == "calls" else 0

    def read(self, unit: Unit, ctx: ReadContext) -> Iterator[Item]:
        ctx.advance(self.size(unit))
        if unit.part == "calls":
            yield from read_calls(unit.path, ctx)
        else:
            yield from read_messages(unit.path, ctx, unit.root)
