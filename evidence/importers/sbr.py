"""Android "SMS Backup & Restore" XML (``sms-*.xml``, ``calls-*.xml``), plain or zipped.

Every attribute is an optional string (``"null"``, empty and missing are all
"absent"); ``count`` is not trusted; times are epoch milliseconds; ``type``
values the app does not document are kept as tags. MMS text parts become the
body and their other parts with data (images…) become attachments. The
SuperBackup call log (``<alllogs><log …/>``) shares the call semantics.
See ../shared/formats.md §1.
"""

from __future__ import annotations

import base64
import binascii
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from evidence.errors import InvalidInput
from evidence.importers import base, xmlsafe
from evidence.importers.base import Blob, Importer, Item, Note, ReadContext, Record, Rejected, Unit

ROOTS = (b"<smses", b"<calls", b"<alllogs")
TAGS = frozenset({"sms", "mms", "call", "log"})

# An unknown type code is kept as a tag ("sms type 7"), cut so the tag stays valid.
MAX_TYPE = 20
SMS_TYPES: dict[str, tuple[str | None, str | None]] = {
    "1": ("incoming", None),
    "2": ("outgoing", None),
    "3": ("outgoing", "draft"),
    "4": ("outgoing", "outbox"),
    "5": ("outgoing", "failed"),
    "6": ("outgoing", "queued"),
}
MMS_BOXES = {"1": ("incoming", None), "2": ("outgoing", None), "3": ("outgoing", "draft"),
             "4": ("outgoing", "outbox")}  # fmt: skip
# type -> (direction, answered, tag); unknown values are kept as a tag.
CALL_TYPES: dict[str, tuple[str, bool | None, str | None]] = {
    "1": ("incoming", True, None),
    "2": ("outgoing", None, None),
    "3": ("incoming", False, "missed"),
    "4": ("incoming", False, "voicemail"),
    "5": ("incoming", False, "rejected"),
    "6": ("incoming", False, "blocked"),
    "7": ("incoming", True, "answered elsewhere"),
}
PRESENTATION = {"2": "caller ID withheld", "3": "caller unknown", "4": "payphone"}
NO_CONTACT = {"(unknown)", "unknown"}
PDU_FROM, PDU_TO = "137", "151"


def _absent(raw: str | None) -> bool:
    """``base.value(raw) is None``, without building anything (the hot path)."""
    return raw is None or raw == "null" or not raw.strip() or raw.strip().lower() == "null"


def _contact(attrs: dict[str, str]) -> str | None:
    name = attrs.get("contact_name")
    if name is None or name == "(Unknown)" or _absent(name):
        return None
    return None if name.strip().lower() in NO_CONTACT else name


def _common(name: str | None, tags: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {"tags": tags}
    if name:
        fields["note"] = f"联系人 contact on the phone: {name}"
    return fields


def _sms(attrs: dict[str, str], ctx: ReadContext, position: str) -> Record:
    number = attrs.get("address")
    if _absent(number):
        number = "unknown"
    date = attrs.get("date")
    occurred, millis = base.from_epoch_ms(None if _absent(date) else date, ctx.zone)
    raw_type = (attrs.get("type") or "").strip()[:MAX_TYPE]
    direction, tag = SMS_TYPES.get(raw_type, (None, f"sms type {raw_type or 'missing'}"))
    body = attrs.get("body") or ""
    if body.strip().lower() == "null":
        body = ""
    name = _contact(attrs)
    fields = _common(name, [tag] if tag else [])
    fields["number"] = number
    fields["direction"] = direction
    fields["said"] = body
    return Record(
        "sms", occurred, fields, position,
        base.text_key("sms", number, millis, f"{direction}{tag or ''}", body),  # type: ignore[arg-type]
        text=f"{body}\n{name}" if name else body,
    )  # fmt: skip


def _call(attrs: dict[str, str], ctx: ReadContext, position: str, superbackup: bool) -> Record:
    number = attrs.get("number")
    if _absent(number):
        number = "unknown"
    date = attrs.get("date")
    occurred, millis = base.from_epoch_ms(None if _absent(date) else date, ctx.zone)
    raw_type = (attrs.get("type") or "").strip()[:MAX_TYPE]
    direction, answered, tag = CALL_TYPES.get(raw_type, (None, None, f"call type {raw_type}"))
    raw_duration = attrs.get("dur" if superbackup else "duration")
    duration = None if _absent(raw_duration) else int(raw_duration)  # type: ignore[arg-type]
    if direction == "outgoing" and duration is not None:
        answered = duration > 0
    tags = [tag] if tag else []
    presentation = PRESENTATION.get((attrs.get("presentation") or "").strip())
    if presentation:
        tags.append(presentation)
    name = _contact({"contact_name": attrs.get("name")} if superbackup else attrs)  # type: ignore[dict-item]
    fields = _common(name, tags)
    fields["number"] = number
    fields["direction"] = direction
    fields["duration"] = duration
    fields["answered"] = answered
    return Record(
        "call", occurred, fields, position,
        base.call_key(number, millis, f"{direction}{tag or ''}", answered, duration),  # type: ignore[arg-type]
        text=name or "",
    )  # fmt: skip


def _mms(element: Element, ctx: ReadContext, position: str) -> Record:
    attrs = element.attrib
    occurred, millis = base.from_epoch_ms(base.value(attrs.get("date")), ctx.zone)
    direction, tag = MMS_BOXES.get((attrs.get("msg_box") or "").strip(), (None, "mms box ?"))
    wanted = PDU_FROM if direction == "incoming" else PDU_TO
    peers = [
        a.get("address", "")
        for a in element.iter("addr")
        if a.get("type") == wanted and base.value(a.get("address"))
        and a.get("address") != "insert-address-token"
    ]  # fmt: skip
    if not peers:
        peers = [p for p in (attrs.get("address") or "").split("~") if base.value(p)]
    number = peers[0] if peers else "unknown"
    texts: list[str] = []
    blobs: list[Blob] = []
    hashes: list[str] = []
    for index, part in enumerate(element.iter("part")):
        kind = (part.get("ct") or "").lower()
        if kind == "text/plain":
            text = base.value(part.get("text"))
            if text:
                texts.append(text)
            continue
        data = base.value(part.get("data"))
        if kind == "application/smil" or data is None:
            continue
        try:
            payload = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"part {index}: its data is not base64") from None
        name = base.value(part.get("fn")) or base.value(part.get("cl")) or f"part-{index}"
        hashes.append(base.digest(payload))
        blobs.append(Blob.of_bytes(name, payload, kind or None))
    body = "\n".join(texts)
    subject = base.value(attrs.get("sub"))
    tags = ["mms"] + ([tag] if tag else [])
    fields = _common(_contact(attrs), tags)
    if len(peers) > 1:
        fields["note"] = ((fields.get("note") or "") + f"; group: {', '.join(peers)}").lstrip("; ")
    fields.update(
        {
            "number": number,
            "direction": direction,
            "said": f"{subject}\n{body}" if subject else body,
        }
    )
    key_body = body + "\0" + "\0".join(hashes)
    return Record(
        "sms", occurred, fields, position,
        base.text_key("mms", number, millis, f"{direction}{tag or ''}", key_body),
        blobs=tuple(blobs), text=f"{subject or ''}\n{body}\n{_contact(attrs) or ''}",
    )  # fmt: skip


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(8192)
    except OSError:
        return b""


def read_xml(stream: BinaryIO, ctx: ReadContext, prefix: str = "") -> Iterator[Item]:
    counts: dict[str, int] = {}
    declared: str | None = None
    root_tag = ""
    try:
        for root, element in xmlsafe.iter_elements(stream, TAGS, ctx.advance):
            if element is root:
                root_tag = root.tag
                if root_tag not in ("smses", "calls", "alllogs"):
                    raise InvalidInput(
                        f"not an SMS Backup & Restore file: the root element is <{root_tag}>"
                    )
                declared = root.get("count")
                continue
            tag = element.tag
            counts[tag] = counts.get(tag, 0) + 1
            position = f"{prefix}<{tag}> #{counts[tag]}"
            try:
                if tag == "sms":
                    yield _sms(element.attrib, ctx, position)
                elif tag == "mms":
                    yield _mms(element, ctx, position)
                else:
                    yield _call(element.attrib, ctx, position, superbackup=tag == "log")
            except (ValueError, OverflowError) as error:
                yield Rejected(position, str(error) or "unreadable record")
    except xmlsafe.XmlDamaged as error:
        after = sum(counts.values())
        if not after:
            raise InvalidInput(f"cannot read {prefix or 'the file'}: {error}") from None
        yield Rejected(
            f"{prefix}line {error.line}",
            f"{error}; the {after} records before it were read, the rest of the file could not be",
        )
    total = sum(counts.values())
    if declared is not None and declared.strip() != str(total):
        yield Note(f"{prefix}the file says count={declared}, it holds {total} records")


@base.register
class SbrXml(Importer):
    name = "sbr-xml"
    label = "Android SMS Backup & Restore (XML or ZIP)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if not path.is_file():
            return False
        if head.startswith(b"PK\x03\x04"):
            try:
                with zipfile.ZipFile(path) as archive:
                    return any(n.lower().endswith(".xml") for n in archive.namelist())
            except (zipfile.BadZipFile, OSError):
                return False
        return any(root in head for root in ROOTS)

    def rank(self, unit: Unit) -> int:
        head = _head(unit.path)
        if head.startswith(b"PK\x03\x04") or b"<smses" in head:
            return 0  # texts (a ZIP reads its sms-… members before its calls-… ones)
        return 2 if b"<calls" in head or b"<alllogs" in head else 1

    def size(self, unit: Unit) -> int:
        if zipfile.is_zipfile(unit.path):
            try:
                with zipfile.ZipFile(unit.path) as archive:
                    return sum(i.file_size for i in archive.infolist())
            except (zipfile.BadZipFile, OSError):
                return 0
        return unit.path.stat().st_size

    def read(self, unit: Unit, ctx: ReadContext) -> Iterator[Item]:
        with unit.path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                handle.seek(0)
                yield from read_xml(handle, ctx)
                return
        yield from self._read_zip(unit.path, ctx)

    def _read_zip(self, path: Path, ctx: ReadContext) -> Iterator[Item]:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise InvalidInput(f"cannot read the ZIP {path.name}: {error}") from None
        with archive:
            members = [i for i in archive.infolist() if i.filename.lower().endswith(".xml")]
            # Texts before calls, as for separate files (--keywords learns numbers from texts).
            members.sort(key=lambda i: i.filename.rsplit("/", 1)[-1].lower().startswith("call"))
            if any(i.flag_bits & 0x1 for i in members):
                raise InvalidInput(
                    f"{path.name} is an encrypted ZIP: unzip it with its password first "
                    "(SMS Backup & Restore: Settings → Backup → uncheck encryption)"
                )
            if not members:
                raise InvalidInput(f"{path.name} holds no XML file")
            for info in members:
                try:
                    with archive.open(info) as member:
                        yield from read_xml(member, ctx, prefix=f"{info.filename}: ")
                except InvalidInput as error:
                    yield Rejected(info.filename, str(error))
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
                    yield Rejected(info.filename, f"the ZIP member cannot be read: {error}")
