"""vMessage files (``.vmsg``): the SMS export of OPPO, Meizu, Samsung Kies and others.

One file holds many ``BEGIN:VMSG`` … ``END:VMSG`` blocks, lines ending in CRLF or
LF. The peer's number is the ``TEL`` of a ``VCARD``; the body is a ``Subject`` or
``TEXT`` property (often ``ENCODING=QUOTED-PRINTABLE``, UTF-8, with soft line
breaks: a line ending in ``=`` goes on in the next) or plain lines of the
``VBODY``. The direction is ``X-BOX`` / ``X-IRMC-BOX`` (``INBOX``, ``SENDBOX``…)
or else ``X-MESSAGE-TYPE`` (``DELIVER`` received, ``SUBMIT`` sent). The time is
``DateOrigin`` (epoch ms) when given, else ``Date``: ``2014/06/29 09:38:53 GMT``
is UTC, a ``Date`` without a zone is the phone's local time (read in the zone
given, and said so). The file is read line by line, never whole; a broken block
is rejected with its number and line and the next block is read.
See ../shared/formats.md §3.3.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from evidence.errors import InvalidInput
from evidence.importers import base
from evidence.importers.base import Importer, Item, Note, ReadContext, Record, Rejected, Unit

MAX_LINE = 1 << 20  # a longer line is damage, not a message
MAX_BLOCK = 4 << 20  # bytes of one block (a body of 100,000 characters, quoted-printable)
MAX_DEPTH = 8
BOXES: dict[str, tuple[str, str | None]] = {
    "INBOX": ("incoming", None),
    "SENDBOX": ("outgoing", None),
    "SENTBOX": ("outgoing", None),
    "SENT": ("outgoing", None),
    "OUTBOX": ("outgoing", "outbox"),
    "DRAFT": ("outgoing", "draft"),
    "DRAFTS": ("outgoing", "draft"),
    "FAILED": ("outgoing", "failed"),
}
MESSAGE_TYPES = {"DELIVER": "incoming", "SUBMIT": "outgoing"}
BODY_PROPERTIES = {"SUBJECT", "TEXT"}
# Properties of a VBODY; any other line there is text of the message.
VBODY_PROPERTIES = BODY_PROPERTIES | {"DATE", "DATEORIGIN", "ENCODING", "CHARSET", "LENGTH"}
ZONES = {"GMT": UTC, "UTC": UTC, "Z": UTC}
_DATE = re.compile(
    r"^(\d{4})[/\-.]?(\d{1,2})[/\-.]?(\d{1,2})[ T]?(\d{1,2}):?(\d{2}):?(\d{2})"
    r"(?:\.\d+)?\s*(GMT|UTC|Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_NAME = re.compile(rb"^[A-Za-z][A-Za-z0-9\-]*(?:;[^:]*)?:")


class BrokenBlock(ValueError):
    """A block that cannot be read as a message (its reason)."""


@dataclass
class Block:
    """One BEGIN:VMSG … END:VMSG block as it is read, line by line."""

    number: int
    line: int
    stack: list[str] = field(default_factory=lambda: ["VMSG"])
    numbers: list[tuple[str, bool]] = field(default_factory=list)  # (TEL, in a VENV)
    names: list[str] = field(default_factory=list)
    box: str | None = None
    message_type: str | None = None
    date: str | None = None
    date_origin: str | None = None
    body: list[str] = field(default_factory=list)
    text_lines: list[str] = field(default_factory=list)
    size: int = 0
    broken: str | None = None
    pending: tuple[bytes, list[bytes]] | None = None  # a quoted-printable value going on

    @property
    def position(self) -> str:
        return f"VMSG #{self.number} (line {self.line})"


def _decode(data: bytes, charset: str | None) -> str:
    """``data`` in its declared charset; one that is unknown or not a text encoding
    (``rot13``, ``zlib``, ``idna``…, from a crafted file) falls back to UTF-8."""
    text = None
    if charset:
        try:
            text = data.decode(codecs.lookup(charset.strip().strip('"')).name, "replace")
        except (LookupError, UnicodeError, ValueError):
            text = None
    if text is None:
        text = data.decode("utf-8", "replace")
    return text.replace("\x00", "\ufffd")


def _params(head: bytes) -> tuple[str, dict[str, str]]:
    """``TEXT;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8`` → ("TEXT", {"ENCODING": …, …})."""
    parts = head.decode("ascii", "replace").split(";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if sep:
            params[key.strip().upper()] = value.strip()
        elif part.strip().upper() in ("QUOTED-PRINTABLE", "BASE64"):
            params["ENCODING"] = part.strip()  # vCard 2.1 allows the bare value
    return parts[0].strip().upper(), params


def _value(head: bytes, raw: bytes) -> str:
    """The value of a property, decoded as its parameters say."""
    _name, params = _params(head)
    encoding = params.get("ENCODING", "").upper()
    charset = params.get("CHARSET")
    if encoding in ("QUOTED-PRINTABLE", "QP"):
        return _decode(binascii.a2b_qp(raw), charset)
    if encoding in ("BASE64", "B"):
        try:
            return _decode(base64.b64decode(raw, validate=False), charset)
        except (binascii.Error, ValueError):
            raise BrokenBlock("the base64 body cannot be decoded") from None
    return _decode(raw, charset)


def parse_date(text: str, zone: Any) -> tuple[datetime, int, bool]:
    """``(time, epoch ms, whether the zone was assumed)`` of a vMessage ``Date``."""
    match = _DATE.match(text.strip())
    if not match:
        raise BrokenBlock(f"the date {text.strip()[:40]!r} is not a time we know")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    mark = (match.group(7) or "").upper()
    assumed = not mark
    if mark in ZONES:
        tz = ZONES[mark]
    elif mark:
        sign = 1 if mark[0] == "+" else -1
        digits = mark[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    else:
        tz = zone
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise BrokenBlock(f"the date {text.strip()[:40]!r}: {error}") from None
    occurred = local.replace(tzinfo=tz)
    millis = round(occurred.timestamp() * 1000)
    if millis <= 0:
        raise BrokenBlock("the date is not a time")
    return occurred.astimezone(zone), millis, assumed


def _property(block: Block, head: bytes, raw: bytes) -> None:
    """Take one complete property line of ``block``."""
    name = _params(head)[0]
    top = block.stack[-1]
    if name == "TEL" and top == "VCARD":
        number = _value(head, raw).strip()
        if number:
            block.numbers.append((number, "VENV" in block.stack))
    elif name in ("FN", "N") and top == "VCARD":
        contact = _value(head, raw).replace(";", " ").strip()
        if contact and contact not in block.names:
            block.names.append(contact)
    elif name in ("X-BOX", "X-IRMC-BOX"):
        block.box = _value(head, raw).strip().upper()
    elif name == "X-MESSAGE-TYPE":
        block.message_type = _value(head, raw).strip().upper()
    elif name == "DATEORIGIN":
        block.date_origin = _value(head, raw).strip()
    elif name == "DATE":
        block.date = _value(head, raw).strip()
    elif name in BODY_PROPERTIES:
        block.body.append(_value(head, raw))


def _line(block: Block, data: bytes) -> None:
    """One line of a block (without its line ending), with quoted-printable soft breaks."""
    upper = data.upper()
    if block.pending is not None:
        head, parts = block.pending
        marker = upper.startswith((b"BEGIN:", b"END:"))
        if not marker and data.endswith(b"="):
            parts.append(data[:-1])
            return
        if not marker:
            parts.append(data)
        block.pending = None
        _property(block, head, b"".join(parts))
        if not marker:
            return
    match = _NAME.match(data)
    if upper.startswith(b"BEGIN:"):
        name = data[6:].decode("ascii", "replace").strip().upper()
        if len(block.stack) >= MAX_DEPTH:
            raise BrokenBlock(f"BEGIN:{name[:20]} nested too deep")
        block.stack.append(name)
        return
    if upper.startswith(b"END:"):
        name = data[4:].decode("ascii", "replace").strip().upper()
        if block.stack[-1] != name:
            raise BrokenBlock(f"END:{name[:20]} where END:{block.stack[-1]} was expected")
        block.stack.pop()
        return
    in_text = block.stack[-1] in ("VBODY", "MSG")
    if in_text and block.text_lines:  # once the text has begun, "Date: …" is text too
        block.text_lines.append(_decode(data, None))
        return
    if match:
        head = data[: match.end() - 1]
        name = _params(head)[0]
        if in_text and name not in VBODY_PROPERTIES and not name.startswith("X-"):
            block.text_lines.append(_decode(data, None))
            return
        raw = data[match.end() :]
        encoding = _params(head)[1].get("ENCODING", "").upper()
        if encoding in ("QUOTED-PRINTABLE", "QP") and raw.endswith(b"="):
            block.pending = (head, [raw[:-1]])
            return
        _property(block, head, raw)
        return
    if in_text and (data or block.text_lines):
        block.text_lines.append(_decode(data, None))


def _peer(block: Block, direction: str | None) -> tuple[str, list[str]]:
    """The other party's number (a sent message's recipient is in its VENV) and the others."""
    numbers = [number for number, _env in block.numbers]
    if direction == "outgoing":
        recipients = [number for number, env in block.numbers if env]
        if recipients:
            numbers = recipients + [n for n in numbers if n not in recipients]
    if not numbers:
        return "unknown", []
    return numbers[0], [n for n in dict.fromkeys(numbers[1:]) if n != numbers[0]]


def _direction(block: Block) -> tuple[str | None, str | None]:
    if block.box:
        known = BOXES.get(block.box)
        if known:
            return known
    if block.message_type in MESSAGE_TYPES:
        return MESSAGE_TYPES[block.message_type], None
    return None, f"vmsg box {(block.box or block.message_type or 'missing')[:40]}"


def _record(block: Block, ctx: ReadContext) -> tuple[Record, bool]:
    """The message of a complete block, and whether its time was read in ``ctx.zone``."""
    assumed = False
    if block.date_origin:
        try:
            occurred, millis = base.from_epoch_ms(block.date_origin, ctx.zone)
        except (ValueError, OverflowError) as error:
            raise BrokenBlock(f"DateOrigin: {error}") from None
    elif block.date:
        occurred, millis, assumed = parse_date(block.date, ctx.zone)
    else:
        raise BrokenBlock("no Date or DateOrigin")
    direction, tag = _direction(block)
    number, others = _peer(block, direction)
    lines = block.text_lines
    while lines and not lines[-1].strip():
        lines.pop()
    body = "\n".join(block.body + (["\n".join(lines)] if lines else []))
    notes = []
    if block.names:
        notes.append(f"联系人 contact on the phone: {', '.join(block.names)}")
    if others:
        notes.append(f"also: {', '.join(others)}")
    fields: dict[str, Any] = {
        "number": number, "direction": direction, "said": body,
        "tags": [tag] if tag else [], "note": "; ".join(notes),
    }  # fmt: skip
    name = ", ".join(block.names)
    extra = {"zone_assumed": str(getattr(ctx.zone, "key", ctx.zone))} if assumed else {}
    record = Record(
        "sms", occurred, fields, block.position,
        base.text_key("sms", number, millis, f"{direction or ''}{tag or ''}", body),
        text=f"{body}\n{name}" if name else body, extra_source=extra,
    )  # fmt: skip
    return record, assumed


def _lines(handle: Any, ctx: ReadContext) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line without its ending), or ``None`` for a line too long to read."""
    number = 0
    while True:
        data = handle.readline(MAX_LINE)
        if not data:
            return
        ctx.advance(len(data))
        number += 1
        if not data.endswith(b"\n") and len(data) >= MAX_LINE:
            while True:  # skip the rest of the line, still in bounded memory
                more = handle.readline(MAX_LINE)
                ctx.advance(len(more))
                if not more or more.endswith(b"\n"):
                    break
            yield number, None
            continue
        if number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        yield number, data.rstrip(b"\r\n")


def read_vmsg(path: Path, ctx: ReadContext, name: str) -> Iterator[Item]:
    """Every message of a vMessage file, in file order; a broken block is rejected."""
    block: Block | None = None
    blocks = 0
    stray = 0
    assumed = 0
    with path.open("rb") as handle:
        for number, data in _lines(handle, ctx):
            if block is None:
                if data is not None and data.strip().upper() == b"BEGIN:VMSG":
                    blocks += 1
                    block = Block(blocks, number)
                elif data is None or data.strip():
                    stray += 1
                continue
            if data is not None and data.strip().upper() == b"BEGIN:VMSG":
                yield Rejected(block.position, f"no END:VMSG before the next block (line {number})")
                blocks += 1
                block = Block(blocks, number)
                continue
            if block.broken is None:
                try:
                    block.size += len(data) if data is not None else MAX_LINE
                    if data is None:
                        raise BrokenBlock(f"line {number} is longer than {MAX_LINE} bytes")
                    if block.size > MAX_BLOCK:
                        raise BrokenBlock(f"the block is longer than {MAX_BLOCK} bytes")
                    _line(block, data.strip(b" \t") if block.pending is None else data)
                except (ValueError, OverflowError) as error:  # BrokenBlock, and any other
                    block.broken = f"line {number}: {error}"
            if block.stack:
                closing = data is not None and data.strip().upper() == b"END:VMSG"
                if block.broken is not None and closing:
                    yield Rejected(block.position, block.broken)
                    block = None
                continue
            # END:VMSG closed the block.
            try:
                record, was_assumed = _record(block, ctx)
            except (ValueError, OverflowError) as error:  # BrokenBlock, a time out of range
                yield Rejected(block.position, str(error))
            else:
                assumed += was_assumed
                yield record
            block = None
    if block is not None:
        yield Rejected(block.position, block.broken or "the file ends inside this block")
    if not blocks:
        raise InvalidInput(f"{name} holds no BEGIN:VMSG block: not a vMessage file")
    if stray:
        yield Note(f"{name}: {stray} lines outside any BEGIN:VMSG … END:VMSG block were skipped")
    if assumed:
        zone = str(getattr(ctx.zone, "key", ctx.zone))
        yield Note(
            f"{name}: {assumed} message times without a zone (Date without GMT) were read "
            f"as {zone}, the phone's local time"
        )


@base.register
class Vmsg(Importer):
    name = "vmsg"
    label = "vMessage .vmsg SMS export (OPPO, Meizu, Samsung Kies…)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return path.is_file() and b"BEGIN:VMSG" in head[:4096].upper()

    def rank(self, unit: Unit) -> int:
        return 0  # texts

    def read(self, unit: Unit, ctx: ReadContext) -> Iterator[Item]:
        yield from read_vmsg(unit.path, ctx, unit.name)
