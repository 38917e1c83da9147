"""Reading a log's own entries back into :class:`~evidence.model.Entry` values, fast.

``Log.entries()`` reads every entry of a log: the analysis, the bundle and the web pages
all start there, so its cost per entry is paid again and again. Each entry's bytes have
just been authenticated by AES-GCM under the log's key, with the entry's place (log id
and number) as associated data, and matched against the entry's salted commitment. They
are therefore exactly the bytes this store wrote, in canonical form, and reading them
need not prove canonical form again: ``evidence check`` (``verify_store``) and the
bundle verifier still re-encode every document and compare, and bytes from anywhere
else (imports, bundles) go through :func:`evidence.canonical.decode`.

What the trusted path still checks on every entry: the ciphertext opens under the log's
key with the entry's place, the commitment matches, the plaintext is UTF-8 JSON that is
one object and nothing after it, and the document names this log and this entry number.

It builds each entry in one step (orjson's parser, canonical times parsed without offset
arithmetic, the frozen dataclass filled without a setattr per field). orjson parses a
document about twice as fast as the json module; where the two could differ it is not
used (see :func:`_document`), so the values and the refusals are the json module's.
``tests/test_reading.py`` holds the result equal to the general path
(``canonical.decode`` then ``model.entry_from_document``) on random entries, and orjson's
result equal to the json module's on random documents.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from json import scanner
from typing import Any, TypeVar

import orjson

from evidence import hashing, timeutil
from evidence.errors import DecryptionFailed
from evidence.model import Attachment, Entry

# The C scanner that json.loads ends in, called directly: json.loads first sniffs the
# encoding, builds a decoder call and matches whitespace twice around the value.
_scan = (scanner.c_make_scanner or scanner.py_make_scanner)(json.JSONDecoder())
_from_iso = datetime.fromisoformat
_new_entry = Entry.__new__
_SALT = hashing.SALT_BYTES
_Read = TypeVar("_Read")  # an entry as some reader gives it: Entry, or the analysis cache's


def parse_time(text: str) -> datetime:
    """``timeutil.parse_canonical(text)``, without its offset arithmetic where none is needed.

    ``fromisoformat`` returns the ``UTC`` object itself for a zero offset: only then does
    ``parse_canonical`` change anything (a "+00:00" keeps its own zero offset), so only
    then is it called.
    """
    if text[-1:] == "Z":
        return _from_iso(text[:-1] + "+00:00")
    parsed = _from_iso(text)
    if parsed.tzinfo is UTC:
        return timeutil.parse_canonical(text)
    return parsed


_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError
# Every ASCII digit becomes "0" and every other byte a space, so that 19 digits in a row
# (the shortest integer outside the 64-bit range has 19) are one substring search away.
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_RUN = b"0" * 19


def _document(encoded: bytes) -> dict[str, Any]:
    """The one JSON object ``encoded`` holds, exactly as :func:`_json_document` reads it.

    orjson reads it when the two agree by construction: the bytes open and close the
    object themselves (orjson allows whitespace around it, the scanner does not), and no
    run of 19 digits could be an integer beyond 64 bits (orjson makes those a float; the
    json module keeps the integer; canonical documents stay within 2**53). Whatever
    orjson refuses (a lone surrogate escape, NaN, invalid UTF-8, more after the object)
    goes to the json module, which accepts it or refuses it as before.
    """
    if encoded[:1] == b"{" and encoded[-1:] == b"}" and _LONG_RUN not in encoded.translate(_DIGITS):
        try:
            value = _loads(encoded)
        except _OrjsonError:
            pass
        else:
            if type(value) is dict:
                return value
    return _json_document(encoded)


def _json_document(encoded: bytes) -> dict[str, Any]:
    """The json module's reading: UTF-8, one object from the first byte to the last."""
    text = encoded.decode("utf-8")
    value, end = _scan(text, 0)
    if end != len(text) or type(value) is not dict:
        raise ValueError("not one JSON object")
    return value


def make_entry(document: dict[str, Any], commitment: bytes) -> Entry:
    """``model.entry_from_document(document, commitment)`` for a document of this store.

    The document is the one just parsed and nobody else holds it, so its ``fields`` and
    ``source`` are taken as they are rather than copied; the values ``entry_from_document``
    would convert with ``str()`` or ``int()`` must already be of that type.
    """
    log_id, seq, kind, zone = document["log"], document["seq"], document["kind"], document["zone"]
    fields, attachments = document["fields"], document["attachments"]
    if (
        type(log_id) is not str
        or type(seq) is not int
        or type(kind) is not str
        or type(zone) is not str
        or type(fields) is not dict
    ):
        raise TypeError("an entry's log, seq, kind, zone or fields has the wrong type")
    entry = _new_entry(Entry)
    # A frozen dataclass sets each field through object.__setattr__; this is its
    # instance dictionary filled directly, with the same values.
    values = vars(entry)
    values["log_id"] = log_id
    values["seq"] = seq
    values["kind"] = kind
    values["occurred_at"] = parse_time(document["occurred_at"])
    values["recorded_at"] = parse_time(document["recorded_at"])
    values["zone"] = zone
    values["fields"] = fields
    values["attachments"] = (
        tuple(Attachment.from_dict(a) for a in attachments) if attachments else ()
    )
    values["source"] = document.get("source")
    values["commitment"] = commitment
    values["amended_by"] = ()
    values["retracted_by"] = None
    return entry


class EntryReader:
    """Opens and parses the sealed rows of one log."""

    def __init__(self, log_id: str, unseal: Any) -> None:
        self.log_id = log_id
        self._unseal = unseal

    def read(self, seq: int, commitment: bytes, sealed: bytes) -> Entry:
        plain = self._unseal(sealed, hashing.entry_aad(self.log_id, seq))
        encoded = plain[_SALT:]
        if hashing.commitment(plain[:_SALT], encoded) != commitment:
            raise DecryptionFailed(f"entry {seq} does not match its commitment")
        try:
            entry = make_entry(_document(encoded), commitment)
        except (ValueError, KeyError, TypeError, StopIteration, AttributeError) as exc:
            raise DecryptionFailed(
                f"entry {seq} is not a valid entry: run `evidence check`"
            ) from exc
        if entry.seq != seq or entry.log_id != self.log_id:
            raise DecryptionFailed(f"entry {seq} names another place: run `evidence check`")
        return entry

    def read_all(self, rows: Iterable[tuple[int, bytes, bytes]]) -> list[Entry]:
        read = self.read
        return [read(seq, commitment, sealed) for seq, commitment, sealed in rows]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many objects are built.

    Reading a log builds several objects per entry, none of them in a reference cycle,
    and the collector would otherwise walk them again and again as the list grows (a
    fifth of the reading time). Reference counting still frees everything as usual;
    the collector is switched back on (if it was on) when the block ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def mark_corrections(
    entries: list[_Read], mark: Callable[[_Read, tuple[int, ...], int | None], _Read]
) -> list[_Read]:
    """``entries`` (a whole log, in order) with each corrected entry replaced by
    ``mark(entry, its amendments, its first retraction)``, in place."""
    amended: dict[int, list[int]] = {}
    retracted: dict[int, int] = {}
    for entry in entries:
        kind = entry.kind
        if kind == "amend":
            amended.setdefault(entry.target or 0, []).append(entry.seq)
        elif kind == "retract":
            retracted.setdefault(entry.target or 0, entry.seq)
    for target in {*amended, *retracted}:
        # Entries are numbered from 0 in order, so a number is a place in the list.
        if 0 <= target < len(entries) and entries[target].seq == target:
            place: int | None = target
        else:
            place = next((i for i, e in enumerate(entries) if e.seq == target), None)
        if place is not None:
            entries[place] = mark(
                entries[place], tuple(amended.get(target, ())), retracted.get(target)
            )
    return entries
