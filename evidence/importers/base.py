"""The importer interface and registry, shared by the CLI and the server.

An importer turns one source (a file, or a folder such as an iPhone backup)
into :class:`Record` values: raw fields as the phone stored them, the record's
position in the file, and a dedup key built from stable fields of the record.
It never touches the log: :mod:`evidence.importers.engine` validates, filters,
deduplicates and appends. A record that cannot be read becomes a
:class:`Rejected` with its position, and the importer goes on; a source that
cannot be read at all raises :class:`~evidence.errors.InvalidInput`.
"""

from __future__ import annotations

import hashlib
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from evidence import phone
from evidence.errors import InvalidInput

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
IOS_EPOCH_OFFSET = 978_307_200  # seconds from 1970-01-01 to 2001-01-01 (Core Data's epoch)


@dataclass(frozen=True)
class Blob:
    """A file to keep with a record (an MMS image, a recording), opened only when needed.

    Made with :meth:`of_bytes` or :meth:`of_file`, a blob can be pickled: records
    may be read in another process (:mod:`evidence.importers.readahead`).
    """

    name: str
    open: Callable[[], BinaryIO]
    media_type: str | None = None

    @classmethod
    def of_bytes(cls, name: str, payload: bytes, media_type: str | None = None) -> Blob:
        return cls(name, partial(io.BytesIO, payload), media_type)

    @classmethod
    def of_file(cls, name: str, path: Path, media_type: str | None = None) -> Blob:
        return cls(name, partial(_open_binary, path), media_type)


def _open_binary(path: Path) -> BinaryIO:
    return path.open("rb")


@dataclass(slots=True)  # not frozen: building one is in the hot path; never mutated
class Record:
    kind: str
    occurred_at: datetime
    fields: dict[str, Any]
    position: str
    dedup_key: str
    blobs: tuple[Blob, ...] = ()
    # Text searched by --keywords and the platform map (body and the phone's contact name).
    text: str = ""
    # A recording: attach it to an already-logged call of the same number if one is close.
    match_call: bool = False
    extra_source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    position: str
    reason: str


@dataclass(frozen=True)
class Note:
    """Something the user should know about a file (a wrong count, an assumed zone)."""

    text: str


Item = Record | Rejected | Note


@dataclass(frozen=True)
class Unit:
    """One file an importer reads; a folder may expand to several (sms.db + call history)."""

    path: Path
    name: str
    part: str = ""  # importer-specific: which reader applies
    keep: bool = True  # keep the file as the "original" attachment (recordings keep their own)
    root: Path | None = None  # the backup folder the file came from (iPhone: attachments)


@dataclass
class ReadContext:
    zone: tzinfo
    csv_map: dict[str, str] = field(default_factory=dict)
    bytes_read: int = 0

    def advance(self, count: int) -> None:
        self.bytes_read += count


class Importer(ABC):
    """One source format. Subclasses are registered with :func:`register`."""

    name: ClassVar[str]
    label: ClassVar[str]

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether ``path`` looks like this format (``head``: its first bytes, if a file)."""

    def units(self, path: Path) -> list[Unit]:
        return [Unit(path, path.name)]

    def size(self, unit: Unit) -> int:
        return unit.path.stat().st_size if unit.path.is_file() else 0

    def rank(self, unit: Unit) -> int:
        """Reading order: texts (0), mixed or unknown (1), calls only (2), recordings (3)."""
        return 1

    @abstractmethod
    def read(self, unit: Unit, ctx: ReadContext) -> Iterator[Item]:
        """Every record of ``unit`` in file order, or a rejection in its place."""


REGISTRY: dict[str, Importer] = {}


def register(importer: type[Importer]) -> type[Importer]:
    REGISTRY[importer.name] = importer()
    return importer


def _load() -> None:
    # Imported here so that importing the registry never costs more than the formats used.
    from evidence.importers import androiddb, csvfile, ios, recordings, sbr, vmsg  # noqa: F401


def formats() -> list[str]:
    _load()
    return list(REGISTRY)


def get(name: str) -> Importer:
    _load()
    try:
        return REGISTRY[name]
    except KeyError:
        raise InvalidInput(f"unknown format {name!r}: use one of {', '.join(REGISTRY)}") from None


def detect(path: Path) -> Importer:
    """The importer for ``path`` by its content (and name where the content is ambiguous)."""
    _load()
    head = b""
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(8192)
    for importer in REGISTRY.values():
        if importer.sniff(path, head):
            return importer
    raise InvalidInput(
        f"cannot tell the format of {path.name}: give --format "
        f"({', '.join(REGISTRY)}); see docs/importing.md"
    )


# --- helpers shared by the formats --------------------------------------------------------------


def value(raw: str | None) -> str | None:
    """An attribute as the phone wrote it: missing, empty and the literal "null" are absent."""
    if raw is None:
        return None
    stripped = raw.strip()
    if stripped == "" or stripped.lower() == "null":
        return None
    return raw


def from_epoch_ms(raw: str | int | float | None, zone: tzinfo) -> tuple[datetime, int]:
    """Epoch milliseconds (seconds accepted when the value is too small to be ms)."""
    if raw is None:
        raise ValueError("no date")
    number = int(raw) if isinstance(raw, str) else int(str(raw))  # int() strips whitespace
    if number <= 0:
        raise ValueError(f"date {number} is not a time")
    if 10**9 <= number < 10**11:  # epoch seconds (2001-5138), written by some exporters
        number *= 1000
    if number > 10**14:
        raise ValueError(f"date {number} is out of range")
    return (_EPOCH + timedelta(milliseconds=number)).astimezone(zone), number


def from_ios(raw: float | int | None, zone: tzinfo) -> tuple[datetime, int]:
    """iOS time: from 2001-01-01 UTC, in seconds (iOS < 11) or nanoseconds (iOS >= 11)."""
    if raw is None or isinstance(raw, bytes | str):
        raise ValueError("no date")
    number = float(raw)
    if number != number or number <= 0:  # NaN or not set
        raise ValueError("no date")
    if number > 1e15:
        number /= 1e9
    if number > 1e11:
        raise ValueError(f"date {raw} is out of range")
    millis = round((number + IOS_EPOCH_OFFSET) * 1000)
    return (_EPOCH + timedelta(milliseconds=millis)).astimezone(zone), millis


@lru_cache(maxsize=16384)
def number_key(raw: str) -> str:
    """``phone.key(phone.normalize(raw))``, remembered: a backup repeats a few numbers."""
    return phone.key(phone.normalize(raw))


def digest(text: str | bytes) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def text_key(kind: str, number: str, millis: int, direction: str | None, body: str) -> str:
    """The same message from any backup: kind|number|epoch ms|direction|sha256(body)."""
    return f"{kind}|{number_key(number)}|{millis}|{direction or ''}|{digest(body)}"


def call_key(
    number: str, millis: int, direction: str | None, answered: bool | None, duration: int | None
) -> str:
    """The same call from any backup: call|number|epoch ms|direction|answered|duration."""
    return (
        f"call|{number_key(number)}|{millis}|{direction or ''}|"
        f"{'' if answered is None else int(answered)}|{'' if duration is None else duration}"
    )


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
