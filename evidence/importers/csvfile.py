"""CSV exports: a documented column mapping, and the shapes of known tools.

``--map number=From,at=Date,body=Text,direction=Type,duration=Length,kind=sms``
names the columns (by header) for: ``at`` and ``number`` (required), ``body``,
``direction`` (also read as a call type: missed, rejected…), ``duration``,
``name`` (the phone's contact name) and ``kind`` (a column, or the constant
``call`` or ``sms``). Without ``--map`` the headers are matched against the
known names below (English and Chinese; iExplorer calls, iMazing messages), and
the header-less iMazing call export (``Incoming,02/06/17 09:45,00:01:43,+4687…,Bob``)
is recognised by its first cell. Times without a zone are in the import's zone;
``dd/mm/yy`` dates are read day first (iMazing's layout), unless the day cannot be.
The encoding is UTF-8 (with or without BOM), else GB18030 (Chinese Excel).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from evidence import timeutil
from evidence.errors import InvalidInput
from evidence.importers import base
from evidence.importers.base import Importer, Item, ReadContext, Record, Rejected, Unit

ROLES = ("at", "number", "body", "direction", "duration", "name", "kind", "chat")
KNOWN: dict[str, tuple[str, ...]] = {
    "at": ("date", "message date", "time", "datetime", "date/time", "日期", "时间", "发送时间",
           "接收时间", "通话时间", "开始时间"),
    "number": ("number", "phone", "phone number", "address", "sender id", "unformatted number",
               "号码", "电话", "电话号码", "手机号", "手机号码", "对方号码", "发件人"),
    "body": ("text", "body", "message", "content", "内容", "短信内容", "消息内容"),
    "direction": ("type", "call type", "direction", "类型", "通话类型", "方向"),
    "duration": ("duration", "通话时长", "时长"),
    "name": ("contact", "sender name", "name", "联系人", "姓名"),
    "chat": ("chat session",),
}  # fmt: skip
IMAZING_CALLS = {"direction": 0, "at": 1, "duration": 2, "number": 3, "name": 4, "kind": "call"}
IMAZING_CALL_TYPES = {"incoming", "outgoing", "missed", "cancelled", "canceled", "rejected"}

# value (lower case) -> (direction, answered, tag)
DIRECTIONS: dict[str, tuple[str | None, bool | None, str | None]] = {}
for _words, _meaning in (
    (("incoming", "received", "in", "inbox", "呼入", "来电", "接收", "已接", "已接来电", "1"),
     ("incoming", True, None)),
    (("outgoing", "sent", "out", "呼出", "去电", "发送", "已发送", "已拨", "已拨电话", "2"),
     ("outgoing", None, None)),
    (("missed", "未接", "未接来电", "3"), ("incoming", False, "missed")),
    (("rejected", "declined", "拒接", "已拒接", "5"), ("incoming", False, "rejected")),
    (("blocked", "拦截", "已拦截", "6"), ("incoming", False, "blocked")),
    (("cancelled", "canceled", "已取消"), ("outgoing", False, "cancelled")),
):  # fmt: skip
    for _word in _words:
        DIRECTIONS[_word] = _meaning

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_YMD = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?[ T]*"
    r"(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})秒?)?$"
)
_HMS = re.compile(r"^(?:(\d+):)?(\d+):(\d{2})$")
_CN_DURATION = re.compile(r"^(?:(\d+)\s*(?:小时|时))?\s*(?:(\d+)\s*分(?:钟)?)?\s*(?:(\d+)\s*秒)?$")


def parse_map(text: str) -> dict[str, str]:
    """``number=From,at=Date`` → ``{"number": "From", "at": "Date"}``."""
    mapping: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        role, sep, column = item.partition("=")
        role = role.strip().lower()
        if not sep or role not in ROLES or not column.strip():
            raise InvalidInput(
                f"--map: cannot read {item!r}: write ROLE=COLUMN with ROLE one of "
                f"{', '.join(ROLES)}, e.g. number=From,at=Date,body=Text"
            )
        mapping[role] = column.strip()
    return mapping


def parse_time(text: str, zone: tzinfo) -> tuple[datetime, int]:
    raw = text.strip()
    if raw.isdigit():
        return base.from_epoch_ms(raw, zone)
    match = _DMY.match(raw)
    if match:
        first, second, year, hour, minute, sec = match.groups()
        day, month = int(first), int(second)
        if month > 12 and day <= 12:
            day, month = month, day
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        moment = datetime(full_year, month, day, int(hour), int(minute), int(sec or 0),
                          tzinfo=zone)  # fmt: skip
    elif _YMD.match(raw):
        numbers = [int(g or 0) for g in _YMD.match(raw).groups()]  # type: ignore[union-attr]
        moment = datetime(*numbers, tzinfo=zone)  # type: ignore[misc]
    else:
        try:
            moment = timeutil.parse_instant(raw, zone)
        except Exception as error:  # InvalidInput: its message is the user's
            raise ValueError(str(error)) from None
    return moment, int(moment.timestamp() * 1000)


def parse_duration(text: str) -> int | None:
    raw = text.strip()
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    match = _HMS.match(raw)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    match = _CN_DURATION.match(raw)
    if match and any(match.groups()):
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    raise ValueError(f"cannot read the duration {raw!r}")


def _encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut by the 1 MiB boundary
            return "gb18030"
    return "utf-8"


def _columns(header: list[str], mapping: dict[str, str]) -> dict[str, int | str]:
    lowered = [h.strip().lower() for h in header]
    found: dict[str, int | str] = {}
    if mapping:
        for role, column in mapping.items():
            if column.lower() in lowered:
                found[role] = lowered.index(column.lower())
            elif role == "kind" and column.lower() in ("call", "sms"):
                found[role] = column.lower()
            else:
                raise InvalidInput(f"--map: the file has no column {column!r} (it has: "
                                   f"{', '.join(header)[:300]})")  # fmt: skip
        return found
    for role, names in KNOWN.items():
        for name in names:
            if name in lowered:
                found[role] = lowered.index(name)
                break
    return found


@base.register
class CsvFile(Importer):
    name = "csv"
    label = "CSV (column mapping with --map; iMazing and iExplorer exports)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt")

    def read(self, unit: Unit, ctx: ReadContext) -> Iterator[Item]:
        encoding = _encoding(unit.path)
        with unit.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
            sample = text.read(64 * 1024)
            text.seek(0)
            delimiter = "\t" if unit.path.suffix.lower() == ".tsv" or (
                sample.count("\t") > sample.count(",")) else ","  # fmt: skip
            reader = csv.reader(text, delimiter=delimiter)
            try:
                first = next(reader, None)
            except csv.Error as error:
                raise InvalidInput(f"cannot read {unit.name} as CSV: {error}") from None
            if not first:
                raise InvalidInput(f"{unit.name} is empty")
            rows: Iterator[list[str]]
            if (
                not ctx.csv_map
                and first[0].strip().lower() in IMAZING_CALL_TYPES
                and len(first) >= 4
            ):
                # iMazing calls: Type, Date, Duration, Number, Contact (no header)
                columns: dict[str, int | str] = dict(IMAZING_CALLS)
                rows = _chain(first, reader)
            else:
                columns = _columns(first, ctx.csv_map)
                rows = reader
            missing = [r for r in ("at", "number") if r not in columns and not (
                r == "number" and "chat" in columns)]  # fmt: skip
            if missing:
                raise InvalidInput(
                    f"{unit.name}: no column for {', '.join(missing)}; name the columns with "
                    "--map number=COLUMN,at=COLUMN[,body=…] (see docs/importing.md)"
                )
            kind = columns.get("kind")
            if not isinstance(kind, str):
                kind = "sms" if "body" in columns else "call"
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except csv.Error as error:
                    yield Rejected(f"line {reader.line_num}", f"not CSV: {error}")
                    break
                ctx.bytes_read = raw.tell()
                if not any(cell.strip() for cell in row):
                    continue
                position = f"line {reader.line_num}"
                try:
                    yield _record(row, columns, kind, ctx, position)
                except (ValueError, IndexError, OverflowError) as error:
                    yield Rejected(position, str(error) or "unreadable row")


def _chain(first: list[str], rest: Any) -> Iterator[list[str]]:
    yield first
    yield from rest


def _cell(row: list[str], columns: dict[str, int | str], role: str) -> str:
    index = columns.get(role)
    if not isinstance(index, int) or index >= len(row):
        return ""
    return row[index].strip()


def _record(
    row: list[str],
    columns: dict[str, int | str],
    default_kind: str,
    ctx: ReadContext,
    position: str,
) -> Record:
    kind = _cell(row, columns, "kind").lower() or default_kind
    if kind not in ("call", "sms"):
        raise ValueError(f"kind {kind!r}: only call and sms rows are imported")
    at = _cell(row, columns, "at")
    if not at:
        raise ValueError("no date")
    occurred, millis = parse_time(at, ctx.zone)
    raw_direction = _cell(row, columns, "direction")
    lowered = raw_direction.lower()
    if lowered == "notification":
        raise ValueError("a notification row, not a message")
    direction, answered, tag = DIRECTIONS.get(lowered, (None, None, None))
    tags = [tag] if tag else ([f"type {raw_direction[:50]}"] if raw_direction else [])
    number = _cell(row, columns, "number") or _cell(row, columns, "chat") or "unknown"
    name = _cell(row, columns, "name")
    note = f"联系人 contact: {name}" if name else ""
    if kind == "sms":
        body = _cell(row, columns, "body")
        fields: dict[str, Any] = {"number": number, "direction": direction, "said": body,
                                  "tags": tags, "note": note}  # fmt: skip
        key = base.text_key("sms", number, millis, direction, body)
        return Record("sms", occurred, fields, position, key, text=f"{body}\n{name}")
    duration = parse_duration(_cell(row, columns, "duration"))
    if direction == "outgoing" and answered is None and duration is not None:
        answered = duration > 0
    fields = {"number": number, "direction": direction, "duration": duration,
              "answered": answered, "tags": tags, "note": note}  # fmt: skip
    key = base.call_key(number, millis, direction, answered, duration)
    return Record("call", occurred, fields, position, key, text=name)
