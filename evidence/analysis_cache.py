"""A sealed cache of what analysis reads from each entry, so a log is not parsed again.

Analysing a log reads every entry: open it (AES-GCM), check its commitment, parse its
JSON, run the lexicon over what the collector said. For 100,000 entries that is most of
the time an analysis takes, and it is the same work every time: entries never change.
So the first analysis keeps, per block of :data:`BLOCK` entries, what the rules read
(number, kind, time, zone, fields, attachments, and the curated lexicon's signals in
``said``) as one JSON array, sealed under a key of its own derived from the log's data
key. Later analyses open one block instead of a thousand entries.

A block is derived data and is trusted only as far as it is bound:

* its associated data names the log, the block, this format :data:`VERSION`, the curated
  lexicon's fingerprint, and the SHA-256 of the block's entry commitments as they are in
  the store now. A block whose entries, lexicon or format changed, or one that was
  altered or moved, does not open; it is rebuilt from the entries and replaced;
* only whole blocks are kept; the last, partial block is read from the entries each time;
* nothing is written when it cannot be (a read-only or busy store): the analysis goes on
  from the entries.

The bundle does not use it: a bundle is built from the entries themselves, and
``evidence check`` verifies the entries, not this cache. Backups leave it out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from evidence import crypto
from evidence.errors import DecryptionFailed
from evidence.model import Attachment, Entry
from evidence.rules import lexicon as lexicon_module
from evidence.rules import rows
from evidence.rules.rows import AnalysisEntry

BLOCK = 1024
VERSION = 3
_AAD = b"evidence/analysis-block\x00"
_new = tuple.__new__
_from_iso = datetime.fromisoformat


def from_entry(
    entry: Entry, signals: tuple[str, ...] | None = None, micros: int | None = None
) -> AnalysisEntry:
    """An entry read in full (the partial block, a block being built, or a log whose
    numbers have gaps), with the corrections it is marked with."""
    return _new(
        AnalysisEntry,
        (
            entry.seq,
            entry.kind,
            entry.occurred_at,
            entry.zone,
            entry.fields,
            entry.attachments,
            signals,
            entry.amended_by,
            entry.retracted_by,
            micros,
        ),
    )


def curated_signals(fields: dict[str, Any], match: Any) -> tuple[str, ...] | None:
    """What ``match`` (the curated lexicon's) finds in the text, sorted; None without one."""
    said = fields.get("said")
    if not said or type(said) is not str:
        return None
    return tuple(sorted(match(said)))


# --- sealing ----------------------------------------------------------------------------------


def block_key(data_key: bytes, log_id: str) -> bytes:
    """A key of its own (FORMAT.md §8.1): the cache never shares a key with the entries."""
    return crypto.derive_subkey(data_key, "analysis-cache", log_id.encode())


def block_aad(log_id: str, block: int, commitments: Sequence[bytes], lexicon: str) -> bytes:
    """Binds a block to its place, its format, the lexicon and its entries as stored now."""
    bound = hashlib.sha256(b"".join(commitments)).digest()
    return (
        _AAD
        + log_id.encode()
        + b"\x00"
        + block.to_bytes(8, "big")
        + VERSION.to_bytes(2, "big")
        + bytes.fromhex(lexicon)
        + rows.derivation()
        + bound
    )


def seal_block(
    sealer: crypto.Sealer, entries: Sequence[AnalysisEntry], aad: bytes
) -> tuple[bytes | None, rows.Chunk]:
    """The block's sealed bytes (None when orjson cannot write a value: then it is not
    kept) and its rows.

    The plaintext holds the block twice, for the two ways analysis reads it: the rows the
    rules count (``rules.rows.chunk_bytes``, after its length in 4 bytes), then the
    entries as :func:`open_block` gives them (a JSON array).
    """
    chunk = rows.ChunkReader(lexicon_module.default()).read(entries).chunk()
    records = [
        [
            e.seq,
            e.kind,
            e.occurred_at.isoformat(),  # read back exactly, offset and all, by fromisoformat
            e.micros if e.micros is not None else rows.micros(e.occurred_at),
            e.zone,
            e.fields,
            [a.to_dict() for a in e.attachments],
            e.lexicon_signals,
        ]
        for e in entries
    ]
    try:
        counted = rows.chunk_bytes(chunk)
        plain = len(counted).to_bytes(4, "big") + counted + orjson.dumps(records)
    except orjson.JSONEncodeError:
        # a lone surrogate in a text, say: such a block is read from the entries
        return None, chunk
    return sealer.seal(plain, aad), chunk


def _unseal(sealer: crypto.Sealer, sealed: bytes, aad: bytes) -> memoryview | None:
    try:
        return memoryview(sealer.unseal(sealed, aad))
    except DecryptionFailed:
        return None


def open_chunk(
    sealer: crypto.Sealer, sealed: bytes, aad: bytes, first: int, count: int
) -> rows.Chunk | None:
    """The block's rows; None when it does not open or is not the block expected."""
    plain = _unseal(sealer, sealed, aad)
    if plain is None:
        return None
    size = int.from_bytes(plain[:4], "big")
    try:
        chunk = rows.chunk_from_bytes(plain[4 : 4 + size])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
    # every entry of the block is a row or kept whole (or a record analysis skips)
    seqs = [*chunk.seq.tolist(), *(e.seq for e in chunk.others)]
    if any(not first <= seq < first + count for seq in seqs):
        return None
    return chunk


def open_block(
    sealer: crypto.Sealer, sealed: bytes, aad: bytes, first: int, count: int
) -> list[AnalysisEntry] | None:
    """The block's entries; None when it does not open or is not the block expected."""
    plain = _unseal(sealer, sealed, aad)
    if plain is None:
        return None
    size = int.from_bytes(plain[:4], "big")
    try:
        records = orjson.loads(plain[4 + size :])
    except orjson.JSONDecodeError:
        return None
    if type(records) is not list or len(records) != count:
        return None
    made = []
    append = made.append
    for index, (seq, kind, occurred, micros, zone, fields, attachments, signals) in enumerate(
        records
    ):
        if seq != first + index:
            return None
        append(
            _new(
                AnalysisEntry,
                (
                    seq,
                    kind,
                    _from_iso(occurred),
                    zone,
                    fields,
                    tuple(map(Attachment.from_dict, attachments)) if attachments else (),
                    tuple(signals) if signals is not None else None,
                    (),
                    None,
                    micros,
                ),
            )
        )
    return made


def remembering(match: Callable[[str], set[str]]) -> Callable[[str], set[str]]:
    """``match`` that runs once per distinct text: collectors send the same words again
    and again, and a first analysis runs the lexicon over every text of the log."""
    found: dict[str, set[str]] = {}

    def remembered(text: str) -> set[str]:
        signals = found.get(text)
        if signals is None:
            signals = found[text] = match(text)
        return signals

    return remembered


def build_block(entries: Iterable[Entry], match: Any) -> list[AnalysisEntry]:
    """A block's entries from the entries themselves, with the curated lexicon's signals."""
    return [
        from_entry(e, curated_signals(e.fields, match), rows.micros(e.occurred_at)) for e in entries
    ]


def curated_fingerprint() -> str:
    """The lexicon a block's signals come from: a new curated lexicon rebuilds the blocks."""
    return lexicon_module.default_fingerprint()


def marked(
    entry: AnalysisEntry, amended_by: tuple[int, ...], retracted_by: int | None
) -> AnalysisEntry:
    return entry._replace(amended_by=amended_by, retracted_by=retracted_by)
