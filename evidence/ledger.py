"""The log: create, unlock, append, correct, read and verify. Never update or delete.

A :class:`Store` holds many logs (the server keeps one per account; the CLI
uses one). :meth:`Store.unlock` returns a :class:`Log` that holds the data key
for as long as the caller keeps it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Connection, Dialect, Engine, bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError

from evidence import crypto, hashing, keyring, merkle, model, reading, timeutil
from evidence.entry_bytes import EntryEncoder
from evidence.errors import (
    Conflict,
    DecryptionFailed,
    EvidenceError,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    StoreUnavailable,
)
from evidence.hashing import Head
from evidence.model import Attachment, Draft, Entry
from evidence.store import migrate
from evidence.store.blobs import BlobKeys, BlobStore
from evidence.store.engine import SQLITE_BUSY_MS, WRITE, is_sqlite, make_engine
from evidence.store.schema import analysis_blocks, entries, heads, key_slots, logs

if TYPE_CHECKING:
    from evidence.analysis_cache import AnalysisEntry
    from evidence.rules.assemble import Source

FORMAT_VERSION = 1
Clock = Callable[[], datetime]
_ENTRY_COLUMNS = (
    "log_id",
    "seq",
    "occurred_us",
    "recorded_us",
    "commitment",
    "sealed",
    "dedup",
)
DEDUP_BYTES = 16
_IN_BATCH = 500
# New analysis blocks are written 16 at a time (about 10 MB of SMS), so a first analysis
# of a large log neither holds every sealed block in memory nor commits once per block.
_BLOCKS_PER_WRITE = 16
# Entries read by number in one query (well under any driver's limit on parameters).
_NUMBERS_PER_QUERY = 500
_CACHE_WAIT_MS = 200


@lru_cache(maxsize=16)
def _entry_insert(dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The INSERT for ``entries`` compiled once per dialect, with its parameter order."""
    compiled = insert(entries).compile(dialect=dialect)
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    if order is not None and set(order) != set(_ENTRY_COLUMNS):
        raise RuntimeError("the entries table does not have the expected columns")
    return str(compiled), order


def _insert_entries(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert entry rows (tuples in ``_ENTRY_COLUMNS`` order) with one executemany.

    The values are already plain ``str``, ``int`` and ``bytes``, so they go to the
    driver as they are: ``conn.execute(insert(entries), dicts)`` would build and
    bind-process a parameter set per row, costing about as much as sealing the entry.
    """
    statement, order = _entry_insert(conn.dialect)
    params: list[Any]
    if order is None:  # named parameters (PostgreSQL's pyformat)
        params = [dict(zip(_ENTRY_COLUMNS, row, strict=True)) for row in rows]
    elif order == _ENTRY_COLUMNS:
        params = rows
    else:
        index = [_ENTRY_COLUMNS.index(name) for name in order]
        params = [tuple(row[i] for i in index) for row in rows]
    conn.exec_driver_sql(statement, params)


@lru_cache(maxsize=64)
def _dedup_query(dialect: Dialect, count: int) -> tuple[str, tuple[str, ...] | None]:
    """The lookup of ``count`` dedup digests, compiled once per dialect and count.

    It names the digests only, so that the index on ``dedup`` answers it: with the
    log id in the condition as well, SQLite walks the primary key instead, three times
    slower. The log id is selected and compared by :func:`_dedup_rows`.
    """
    names = [f"d{i}" for i in range(count)]
    query = select(entries.c.log_id, entries.c.dedup, entries.c.seq).where(
        entries.c.dedup.in_([bindparam(name) for name in names]),
    )
    compiled = query.compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ()) if compiled.positional else None


def _entries_of(entries: list[AnalysisEntry], chunk: Any) -> list[AnalysisEntry]:
    return entries


def _chunk_of(entries: list[AnalysisEntry], chunk: Any) -> Any:
    return chunk


@lru_cache(maxsize=16)
def _commitments_query(dialect: Dialect) -> tuple[str, bool]:
    """The commitments of one log's entries in order, compiled once per dialect."""
    query = (
        select(entries.c.commitment)
        .where(entries.c.log_id == bindparam("log"))
        .order_by(entries.c.seq)
    )
    compiled = query.compile(dialect=dialect)
    return str(compiled), bool(compiled.positional)


def _dedup_rows(conn: Connection, log_id: str, digests: list[bytes]) -> list[tuple[bytes, int]]:
    """``(dedup, seq)`` of this log's entries holding these dedup digests.

    Compiled once and sent to the driver as it is: an expanding ``IN`` is rendered
    anew by SQLAlchemy on every execution, which cost as much as the lookup itself
    (one per batch of an import).
    """
    statement, order = _dedup_query(conn.dialect, len(digests))
    values: dict[str, Any] = {f"d{i}": digest for i, digest in enumerate(digests)}
    params: Any = values if order is None else tuple(values[name] for name in order)
    rows = conn.exec_driver_sql(statement, params)
    return [(bytes(d), s) for owner, d, s in rows if owner == log_id]


def _marked(entry: Entry, amended_by: tuple[int, ...], retracted_by: int | None) -> Entry:
    return replace(entry, amended_by=amended_by, retracted_by=retracted_by)


@dataclass(frozen=True)
class LogInfo:
    """What anyone may know about a log without its passphrase."""

    log_id: str
    zone: str
    public_key: bytes
    created_at: datetime

    @property
    def fingerprint(self) -> str:
        return crypto.fingerprint(self.public_key)


@dataclass(frozen=True)
class Disclosure:
    """An entry opened for a third party: with the salt, its commitment can be recomputed."""

    seq: int
    salt: bytes
    canonical: bytes
    commitment: bytes


@dataclass
class CheckReport:
    """The outcome of :meth:`Log.check`: what was checked and every problem found."""

    entries: int = 0
    heads: int = 0
    attachments: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Store:
    """A database plus a blob folder."""

    def __init__(self, engine: Engine, blob_root: Path, clock: Clock = timeutil.utc_now) -> None:
        self.engine = engine
        self.blobs = BlobStore(blob_root)
        self.clock = clock

    @classmethod
    def open(cls, url: str, blob_root: Path, clock: Clock = timeutil.utc_now) -> Store:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
        except Exception as exc:
            engine.dispose()  # a store that does not open keeps no connection
            if isinstance(exc, EvidenceError):
                raise
            raise StoreUnavailable(f"cannot open the store: {type(exc).__name__}") from exc
        return cls(engine, blob_root, clock)

    def close(self) -> None:
        self.engine.dispose()

    def scrub_journal(self) -> None:
        """Leave no earlier copy of a removed key slot in SQLite's files.

        ``secure_delete`` zeroes a deleted slot in the page it lived in, but the
        change goes to the write-ahead log first: until a checkpoint, the database
        file keeps the old page, and the ``-wal`` file keeps earlier copies of pages
        until it is overwritten. An old wrapped key opens with the old passphrase,
        which is what a change of passphrase is meant to retire. A checkpoint with
        TRUNCATE writes the zeroed pages back and empties the ``-wal`` file. Called
        after the passphrase or the recovery code changes (rare, and waited for);
        sessions and tokens, revoked often on a busy server, are left to the
        ordinary checkpoints.
        """
        if is_sqlite(self.engine):
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- logs and keys ----------------------------------------------------------------------

    def log_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(logs.c.id).order_by(logs.c.created_us)).scalars())

    def info(self, log_id: str) -> LogInfo:
        with self.engine.connect() as conn:
            row = conn.execute(select(logs).where(logs.c.id == log_id)).one_or_none()
        if row is None:
            raise NotFound(f"no log {log_id} in this store")
        return LogInfo(row.id, row.zone, row.public_key, timeutil.from_micros(row.created_us))

    def create_log(
        self,
        passphrase: str,
        zone: str = timeutil.DEFAULT_ZONE,
        kdf: crypto.KdfParams | None = None,
        log_id: str | None = None,
    ) -> tuple[Log, str]:
        """Create a log; return it unlocked and its recovery code (shown once, never stored)."""
        timeutil.zone(zone)
        crypto.normalize_passphrase(passphrase)
        try:
            log_id = str(uuid.UUID(log_id)) if log_id else str(uuid.uuid4())
        except ValueError as exc:
            raise InvalidInput("a log id is a UUID, e.g. 0b7e4c1a-…") from exc
        data_key = crypto.random_bytes(crypto.KEY_BYTES)
        signing_key = crypto.new_signing_key()
        sealed_signing = crypto.seal(
            crypto.derive_subkey(data_key, "signing-key", log_id.encode()),
            signing_key,
            hashing.signing_key_aad(log_id),
        )
        code = keyring.new_recovery_code()
        now = timeutil.to_micros(self.clock())
        slots = [
            self._slot_row(
                log_id,
                lambda sid: keyring.wrap_with_passphrase(
                    data_key, passphrase, kdf or crypto.KdfParams.fresh(), log_id, sid
                ),
                now,
            ),
            self._slot_row(
                log_id,
                lambda sid: keyring.wrap_with_recovery_code(data_key, code, log_id, sid),
                now,
            ),
        ]
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            if conn.execute(select(logs.c.id).where(logs.c.id == log_id)).first():
                raise Conflict(f"log {log_id} already exists")
            conn.execute(
                insert(logs).values(
                    id=log_id,
                    created_us=now,
                    zone=zone,
                    public_key=crypto.public_key_of(signing_key),
                    signing_key_sealed=sealed_signing,
                    format_version=FORMAT_VERSION,
                )
            )
            conn.execute(insert(key_slots), slots)
        log = self._open_log(log_id, data_key)
        log.sign_current_head()
        return log, code

    @staticmethod
    def _slot_row(
        log_id: str, wrap: Callable[[str], keyring.WrappedKey], now: int
    ) -> dict[str, Any]:
        slot_id = str(uuid.uuid4())
        wrapped = wrap(slot_id)
        return {
            "id": slot_id,
            "log_id": log_id,
            "kind": wrapped.kind,
            "kdf": wrapped.kdf,
            "wrapped": wrapped.wrapped,
            "created_us": now,
        }

    def _slots(self, log_id: str, kind: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(key_slots).where(key_slots.c.log_id == log_id, key_slots.c.kind == kind)
                )
            )

    def unlock(self, log_id: str, passphrase: str) -> Log:
        self.info(log_id)
        return self._unlock_with(
            log_id, keyring.PASSPHRASE, passphrase, keyring.unwrap_with_passphrase
        )

    def unlock_with_recovery_code(self, log_id: str, code: str) -> Log:
        self.info(log_id)
        keyring.parse_recovery_code(code)
        return self._unlock_with(log_id, keyring.RECOVERY, code, keyring.unwrap_with_recovery_code)

    def _unlock_with(
        self,
        log_id: str,
        kind: str,
        secret: str,
        unwrap: Callable[[keyring.WrappedKey, str, str, str], bytes],
    ) -> Log:
        from evidence.errors import WrongSecret

        failure: WrongSecret | None = None
        for row in self._slots(log_id, kind):
            try:
                data_key = unwrap(
                    keyring.WrappedKey(row.kind, row.kdf, row.wrapped), secret, log_id, row.id
                )
            except WrongSecret as exc:
                failure = exc
                continue
            return self._open_log(log_id, data_key)
        raise failure or WrongSecret(f"this log has no {kind} to unlock it with")

    def unlock_with_secret(self, log_id: str, slot_id: str, secret: bytes) -> Log:
        """Unlock with one session or token slot (the server): cheap, no key derivation."""
        from evidence.errors import WrongSecret

        with self.engine.connect() as conn:
            row = conn.execute(
                select(key_slots).where(
                    key_slots.c.id == slot_id,
                    key_slots.c.log_id == log_id,
                    key_slots.c.kind.in_(keyring.SECRET_KINDS),
                )
            ).first()
        if row is None:
            raise WrongSecret("this session or token is not valid")
        data_key = keyring.unwrap_with_secret(
            keyring.WrappedKey(row.kind, row.kdf, row.wrapped), secret, log_id, row.id
        )
        return self._open_log(log_id, data_key)

    def revoke_secret_slots(self, log_id: str, slot_ids: Iterable[str]) -> None:
        """Delete session or token slots; passphrase and recovery slots are never touched."""
        wanted = list(slot_ids)
        if not wanted:
            return
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                key_slots.delete().where(
                    key_slots.c.log_id == log_id,
                    key_slots.c.id.in_(wanted),
                    key_slots.c.kind.in_(keyring.SECRET_KINDS),
                )
            )

    def _open_log(self, log_id: str, data_key: bytes) -> Log:
        with self.engine.connect() as conn:
            row = conn.execute(select(logs).where(logs.c.id == log_id)).one()
        try:
            signing_key = crypto.unseal(
                crypto.derive_subkey(data_key, "signing-key", log_id.encode()),
                row.signing_key_sealed,
                hashing.signing_key_aad(log_id),
            )
        except DecryptionFailed as exc:
            raise DecryptionFailed("the log's signing key does not open with its data key") from exc
        if crypto.public_key_of(signing_key) != row.public_key:
            raise IntegrityFailure(
                "the log's stored public key is not the one of its signing key (replaced)"
            )
        info = LogInfo(row.id, row.zone, row.public_key, timeutil.from_micros(row.created_us))
        return Log(self, info, data_key, signing_key)


class Log:
    """An unlocked log. Holds its keys in memory; every write appends."""

    def __init__(self, store: Store, info: LogInfo, data_key: bytes, signing_key: bytes) -> None:
        self.store = store
        self.info = info
        self.log_id = info.log_id
        self.zone = timeutil.zone(info.zone)
        self._data_key = data_key
        self._signing_key = signing_key
        self._sealer = crypto.Sealer(crypto.derive_subkey(data_key, "entry", self.log_id.encode()))
        self._blob_keys = BlobKeys(data_key, self.log_id)
        self._dedup_key = crypto.derive_subkey(data_key, "dedup", self.log_id.encode())

    # --- keys ---------------------------------------------------------------------------------

    def change_passphrase(self, new_passphrase: str, kdf: crypto.KdfParams | None = None) -> None:
        """Rewrap the data key under a new passphrase; the evidence is not re-encrypted."""
        now = timeutil.to_micros(self.store.clock())
        params = kdf or self._current_kdf_strength()
        row = Store._slot_row(
            self.log_id,
            lambda sid: keyring.wrap_with_passphrase(
                self._data_key, new_passphrase, params, self.log_id, sid
            ),
            now,
        )
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                key_slots.delete().where(
                    key_slots.c.log_id == self.log_id, key_slots.c.kind == keyring.PASSPHRASE
                )
            )
            conn.execute(insert(key_slots), [row])
        self.store.scrub_journal()

    def _current_kdf_strength(self) -> crypto.KdfParams:
        """A fresh salt at the cost the user chose for the passphrase slot in use."""
        import json

        default = crypto.KdfParams.fresh()
        for row in self.store._slots(self.log_id, keyring.PASSPHRASE):
            current = crypto.KdfParams.from_dict(json.loads(row.kdf or "{}"))
            return crypto.KdfParams.fresh(
                memory_kib=current.memory_kib, iterations=current.iterations
            )
        return default

    def replace_recovery_code(self) -> str:
        """Issue a new recovery code; the old one stops working."""
        code = keyring.new_recovery_code()
        now = timeutil.to_micros(self.store.clock())
        row = Store._slot_row(
            self.log_id,
            lambda sid: keyring.wrap_with_recovery_code(self._data_key, code, self.log_id, sid),
            now,
        )
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                key_slots.delete().where(
                    key_slots.c.log_id == self.log_id, key_slots.c.kind == keyring.RECOVERY
                )
            )
            conn.execute(insert(key_slots), [row])
        self.store.scrub_journal()
        return code

    def add_secret_slot(self, kind: str, secret: bytes) -> str:
        """Wrap the data key for a session or API token; return the slot id."""
        row = Store._slot_row(
            self.log_id,
            lambda sid: keyring.wrap_with_secret(self._data_key, secret, kind, self.log_id, sid),
            timeutil.to_micros(self.store.clock()),
        )
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(insert(key_slots), [row])
        return str(row["id"])

    # --- attachments --------------------------------------------------------------------------

    def add_attachment(
        self, source: BinaryIO, name: str, media_type: str | None = None
    ) -> Attachment:
        """Encrypt a file into the blob store (streamed) and describe it for an entry."""
        sha, size = self.store.blobs.put(self.log_id, self._blob_keys, source)
        return _describe(sha, size, name, media_type)

    def attachment_ref(
        self, sha256_hex: str, name: str, media_type: str | None = None
    ) -> Attachment:
        """Describe an attachment added earlier (API uploads): its size read from the store."""
        size = sum(len(chunk) for chunk in self.read_attachment(sha256_hex))
        return _describe(sha256_hex, size, name, media_type)

    def read_attachment(self, sha256_hex: str) -> Iterator[bytes]:
        if len(sha256_hex) != 64 or any(c not in "0123456789abcdef" for c in sha256_hex):
            raise InvalidInput("an attachment is named by its SHA-256: 64 hexadecimal digits")
        return self.store.blobs.read(self.log_id, self._blob_keys, sha256_hex)

    def find_attachment(self, prefix: str) -> Attachment:
        """The attachment whose SHA-256 starts with ``prefix`` (at least 8 hex digits)."""
        prefix = prefix.strip().lower()
        if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
            raise InvalidInput("give at least the first 8 hexadecimal digits of the SHA-256")
        found = {
            a.sha256: a
            for e in self.entries()
            for a in e.attachments
            if a.sha256.startswith(prefix)
        }
        if not found:
            raise NotFound(f"no attachment {prefix} in this log")
        if len(found) > 1:
            raise InvalidInput(f"{prefix} matches {len(found)} attachments: give more digits")
        return next(iter(found.values()))

    # --- appending ----------------------------------------------------------------------------

    def dedup_digest(self, key: str) -> bytes:
        """The stored form of a dedup key: keyed, so it reveals nothing about the record."""
        return crypto.keyed_hash(self._dedup_key, key.encode("utf-8"))[:DEDUP_BYTES]

    def seqs_for_dedup_keys(self, keys: Iterable[str]) -> dict[str, int]:
        """The entry holding each of ``keys`` (so a retried upload gets the same answer)."""
        with self.store.engine.connect() as conn:
            return self._existing(conn, {k: self.dedup_digest(k) for k in keys})

    def existing_dedup_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are already in the log (for dry runs and import summaries)."""
        return set(self.seqs_for_dedup_keys(keys))

    def _existing(self, conn: Any, digests_by_key: dict[str, bytes]) -> dict[str, int]:
        """The seq of the entry holding each of the keys already in the log."""
        by_digest = {digest: key for key, digest in digests_by_key.items()}
        found: dict[str, int] = {}
        digests = list(by_digest)
        for start in range(0, len(digests), _IN_BATCH):
            chunk = digests[start : start + _IN_BATCH]
            for digest, seq in _dedup_rows(conn, self.log_id, chunk):
                found[by_digest[digest]] = seq
        return found

    def append(
        self,
        drafts: Sequence[Draft],
        skip_duplicates: bool = False,
        seqs: dict[str, int] | None = None,
    ) -> list[Entry]:
        """Append drafts in one transaction and sign the new head. All or nothing.

        A draft whose dedup key is already in the log (or earlier in the batch) is
        skipped with ``skip_duplicates``, and refused as a conflict without it.
        ``seqs``, when given, receives once the transaction has committed the seq of
        the entry holding each draft's dedup key: made now, or already there (so a
        retried upload gets the same answer without a second lookup).
        """
        made: list[Entry] = []
        self._append(drafts, skip_duplicates, seqs, made)
        return made

    def append_new(self, drafts: Sequence[Draft], seqs: dict[str, int]) -> range:
        """Append the drafts whose dedup key is not in the log yet; the seqs made.

        What :meth:`append` does with ``skip_duplicates``, for bulk imports that need
        only the outcome: ``seqs`` receives the entry holding each key, and no
        :class:`Entry` is built for the caller (a sixth of the cost of appending).
        """
        return self._append(drafts, True, seqs, None)

    def _append(
        self,
        drafts: Sequence[Draft],
        skip_duplicates: bool,
        seqs: dict[str, int] | None,
        made: list[Entry] | None,
    ) -> range:
        if not drafts:
            return range(0)
        log_id, zone_name = self.log_id, self.info.zone
        clock, seal, salt_bytes = self.store.clock, self._sealer.seal, hashing.SALT_BYTES
        encode = EntryEncoder(log_id, zone_name).encode
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(select(logs.c.id).where(logs.c.id == log_id).with_for_update())
            # Each key's HMAC once: for the lookup and for the stored row.
            digests = {d.dedup_key: self.dedup_digest(d.dedup_key) for d in drafts if d.dedup_key}
            drafts, known = self._without_duplicates(conn, drafts, skip_duplicates, digests)
            if not drafts:
                if seqs is not None:
                    seqs.update(known)
                return range(0)
            size, frontier = self._latest_frontier(conn)
            rows: list[tuple[Any, ...]] = []
            salts = crypto.random_bytes(salt_bytes * len(drafts))
            micros, committed, extend = timeutil.to_micros, timeutil.as_committed, frontier.append
            tolerance_us = timeutil.FUTURE_TOLERANCE // timedelta(microseconds=1)
            for offset, draft in enumerate(drafts):
                seq = size + offset
                recorded_at = clock()
                occurred_us, recorded_us = micros(draft.occurred_at), micros(recorded_at)
                if occurred_us > recorded_us + tolerance_us:
                    when = timeutil.format_local(draft.occurred_at, self.zone)
                    raise InvalidInput(f"the time {when} is in the future")
                if draft.attachments:
                    self._check_attachments(draft.attachments)
                encoded = encode(seq, draft, timeutil.format_utc(recorded_at, recorded_us))
                salt = salts[offset * salt_bytes : (offset + 1) * salt_bytes]
                commitment = hashing.commitment(salt, encoded)
                extend(hashing.leaf(commitment))
                sealed = seal(salt + encoded, hashing.entry_aad(log_id, seq))
                dedup = digests[draft.dedup_key] if draft.dedup_key else None
                rows.append((log_id, seq, occurred_us, recorded_us, commitment, sealed, dedup))
                if made is not None:
                    # Built from the values just committed; parsing the document back
                    # would give the same entry at twice the cost.
                    made.append(
                        Entry(
                            log_id,
                            seq,
                            draft.kind,
                            committed(draft.occurred_at),
                            committed(recorded_at),
                            zone_name,
                            draft.fields,
                            draft.attachments,
                            draft.source,
                            commitment,
                        )
                    )
            _insert_entries(conn, rows)
            self._insert_head(conn, frontier)
        if seqs is not None:
            seqs.update(known)
            seqs.update((d.dedup_key, size + i) for i, d in enumerate(drafts) if d.dedup_key)
        return range(size, size + len(drafts))

    def _without_duplicates(
        self, conn: Any, drafts: Sequence[Draft], skip: bool, digests: dict[str, bytes]
    ) -> tuple[Sequence[Draft], dict[str, int]]:
        """The drafts to append, and the seq of each key already in the log."""
        if not digests:
            return drafts, {}
        stored = self._existing(conn, digests)
        seen = set(stored)
        kept: list[Draft] = []
        for draft in drafts:
            if draft.dedup_key and draft.dedup_key in seen:
                if not skip:
                    raise Conflict("this record is already in the log")
                continue
            if draft.dedup_key:
                seen.add(draft.dedup_key)
            kept.append(draft)
        return kept, stored

    def _check_attachments(self, attachments: Iterable[Attachment]) -> None:
        for attachment in attachments:
            if not self.store.blobs.exists(self.log_id, self._blob_keys, attachment.sha256):
                raise InvalidInput(f"attachment {attachment.sha256} was not added to this log")

    def _latest_frontier(self, conn: Any) -> tuple[int, merkle.Frontier]:
        row = conn.execute(
            select(heads.c.size, heads.c.root, heads.c.frontier)
            .where(heads.c.log_id == self.log_id)
            .order_by(heads.c.size.desc())
            .limit(1)
        ).first()
        if row is None:
            return 0, merkle.Frontier()
        last = conn.execute(
            select(func.max(entries.c.seq)).where(entries.c.log_id == self.log_id)
        ).scalar()
        count = 0 if last is None else last + 1
        try:
            frontier = merkle.Frontier.from_bytes(row.size, row.frontier)
        except ValueError:
            frontier = None
        # Never sign on top of a damaged or inconsistent state: that would launder it.
        if count != row.size:
            raise Conflict(
                f"the log has {count} entries but its last signed head covers {row.size}: "
                "nothing was appended; run `evidence check`"
            )
        if frontier is None or frontier.root() != row.root:
            raise Conflict(
                f"the stored state of the head of size {row.size} is damaged: "
                "nothing was appended; run `evidence check`"
            )
        return row.size, frontier

    def _insert_head(self, conn: Any, frontier: merkle.Frontier) -> Head:
        head = Head(
            self.log_id,
            frontier.size,
            frontier.root(),
            timeutil.format_canonical(self.store.clock().astimezone(UTC)),
        )
        head = replace(head, signature=crypto.sign(self._signing_key, head.message()))
        conn.execute(
            insert(heads).values(
                log_id=self.log_id,
                size=head.size,
                root=head.root,
                signed_at=head.signed_at,
                signature=head.signature,
                frontier=frontier.to_bytes(),
            )
        )
        return head

    def sign_current_head(self) -> Head:
        """Sign the head of the log as it stands (used once at creation for the empty log)."""
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            existing = conn.execute(
                select(heads.c.size).where(heads.c.log_id == self.log_id).limit(1)
            ).first()
            if existing is not None:
                return self.head()
            return self._insert_head(conn, merkle.Frontier())

    # --- corrections --------------------------------------------------------------------------

    def amend(
        self,
        seq: int,
        changes: dict[str, Any],
        reason: str = "",
        new_time: datetime | None = None,
        attachments: tuple[Attachment, ...] = (),
        cleared: Iterable[str] = (),
        dedup_key: str | None = None,
    ) -> Entry:
        """Append an amendment of entry ``seq``.

        With ``dedup_key`` (a client's id for the request) a retried amendment is not
        appended twice: the one stored under that key is returned.
        """
        done = self._already_made(dedup_key)
        if done is not None:
            return done
        target = self.entry(seq)
        if target.retracted_by is not None:
            raise Conflict(f"entry {seq} was retracted by entry {target.retracted_by}")
        draft = model.amendment_draft(
            target, self.store.clock(), changes, reason, new_time, attachments, cleared
        )
        return self._append_once(replace(draft, dedup_key=dedup_key))

    def retract(self, seq: int, reason: str, dedup_key: str | None = None) -> Entry:
        """Append the retraction of entry ``seq`` (``dedup_key``: as for :meth:`amend`)."""
        done = self._already_made(dedup_key)
        if done is not None:
            return done
        target = self.entry(seq)
        if target.retracted_by is not None:
            raise Conflict(f"entry {seq} was already retracted by entry {target.retracted_by}")
        draft = model.retraction_draft(target, self.store.clock(), reason)
        return self._append_once(replace(draft, dedup_key=dedup_key))

    def _already_made(self, dedup_key: str | None) -> Entry | None:
        if dedup_key is None:
            return None
        held = self.seqs_for_dedup_keys([dedup_key]).get(dedup_key)
        return None if held is None else self.entry(held)

    def _append_once(self, draft: Draft) -> Entry:
        """Append one correction; if its key was stored meanwhile, the stored one."""
        if draft.dedup_key is None:
            return self.append([draft])[0]
        seqs: dict[str, int] = {}
        made = self.append([draft], skip_duplicates=True, seqs=seqs)
        return made[0] if made else self.entry(seqs[draft.dedup_key])

    # --- reading ------------------------------------------------------------------------------

    def count(self) -> int:
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(entries).where(entries.c.log_id == self.log_id)
            ).scalar_one()

    def _decrypt(self, row: Any) -> Entry:
        return self._reader().read(row.seq, row.commitment, row.sealed)

    def _reader(self) -> reading.EntryReader:
        # The trusted path of evidence/reading.py: these bytes were just authenticated
        # under the log's key and matched to their commitment; `check` proves canonical form.
        return reading.EntryReader(self.log_id, self._sealer.unseal)

    def _rows(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Any]:
        query = select(entries).where(entries.c.log_id == self.log_id)
        if since is not None:
            query = query.where(entries.c.occurred_us >= timeutil.to_micros(since))
        if until is not None:
            query = query.where(entries.c.occurred_us < timeutil.to_micros(until))
        with (
            self.store.engine.connect() as conn,
            # Closed even when the reader stops early, so no server-side cursor is left open.
            conn.execution_options(yield_per=2000).execute(query.order_by(entries.c.seq)) as result,
        ):
            yield from result

    def _sealed_rows(
        self,
        first: int | None = None,
        stop: int | None = None,
        numbers: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, commitment, sealed)`` of every entry in log order (or of the numbers
        ``first`` to ``stop``, excluded, or of the ``numbers`` given): only what reading
        needs."""
        query = (
            select(entries.c.seq, entries.c.commitment, entries.c.sealed)
            .where(entries.c.log_id == self.log_id)
            .order_by(entries.c.seq)
        )
        if first is not None:
            query = query.where(entries.c.seq >= first)
        if stop is not None:
            query = query.where(entries.c.seq < stop)
        if numbers is not None:
            query = query.where(entries.c.seq.in_(numbers))
        with (
            self.store.engine.connect() as conn,
            # Closed even when the reader stops early, so no server-side cursor is left open.
            conn.execution_options(yield_per=2000).execute(query) as result,
        ):
            for partition in result.partitions():
                yield from partition

    def entries(self, since: datetime | None = None, until: datetime | None = None) -> list[Entry]:
        """Entries in log order, each marked with the corrections that refer to it."""
        with reading.collector_paused():
            everything = reading.mark_corrections(
                self._reader().read_all(self._sealed_rows()), _marked
            )
            if since is None and until is None:
                return everything
            return [
                entry
                for entry in everything
                if (since is None or entry.occurred_at >= since)
                and (until is None or entry.occurred_at < until)
            ]

    def entries_between(self, first: int, stop: int | None = None) -> list[Entry]:
        """The entries numbered ``first`` to ``stop`` (excluded; else to the end), as
        recorded: not marked with corrections, which may come later in the log."""
        return self._reader().read_all(self._sealed_rows(first, stop))

    def analysis_entries(self) -> list[AnalysisEntry]:
        """Every entry as analysis reads it, marked with its corrections, from the
        analysis cache where it holds them (see :mod:`evidence.analysis_cache`).

        ``rules.report(log.analysis_entries(), …)`` equals ``rules.report(log.entries(), …)``.
        """
        from evidence import analysis_cache as cache

        with reading.collector_paused():
            commitments = self._commitments()
            if commitments is None:
                # Not numbered 0, 1, 2…: no block can describe it; read it whole.
                return list(map(cache.from_entry, self.entries()))
            made: list[AnalysisEntry] = []
            for opened in self._analysis_blocks(commitments, cache.open_block, _entries_of):
                made += opened
            whole = len(commitments) // cache.BLOCK
            made += map(cache.from_entry, self.entries_between(whole * cache.BLOCK))
            return reading.mark_corrections(made, cache.marked)

    def analysis_source(self) -> Iterable[Entry] | Source:
        """The log as the columnar analysis reads it: the rows the analysis cache keeps
        per block, then the entries after them.

        ``rules.report(log.analysis_source(), …)`` equals ``rules.report(log.entries(), …)``.
        """
        from evidence import analysis_cache as cache
        from evidence.rules.assemble import Source

        with reading.collector_paused():
            commitments = self._commitments()
            if commitments is None:
                return self.entries()  # not numbered 0, 1, 2…: read it whole
            chunks = list(self._analysis_blocks(commitments, cache.open_chunk, _chunk_of))
            whole = len(commitments) // cache.BLOCK
            return Source(chunks, self.entries_between(whole * cache.BLOCK), self._entries_at)

    def _entries_at(self, seqs: Sequence[int]) -> list[Entry]:
        """The entries with these numbers (the few an analysis needs whole: amended
        events), as recorded, :data:`_NUMBERS_PER_QUERY` numbers per query."""
        wanted = sorted(set(seqs))
        found: list[Entry] = []
        for start in range(0, len(wanted), _NUMBERS_PER_QUERY):
            rows = self._sealed_rows(numbers=wanted[start : start + _NUMBERS_PER_QUERY])
            found += self._reader().read_all(rows)
        return found

    def _analysis_blocks(
        self, commitments: list[bytes], opener: Callable, made_of: Callable
    ) -> Iterator[Any]:
        """Each whole block of the analysis cache as ``opener`` reads it; a block that
        does not open is rebuilt from its entries (``made_of(entries, chunk)``) and kept."""
        from evidence import analysis_cache as cache

        sealer = crypto.Sealer(cache.block_key(self._data_key, self.log_id))
        fingerprint = cache.curated_fingerprint()
        match = None
        fresh: list[tuple[int, bytes]] = []
        for block in range(len(commitments) // cache.BLOCK):
            first = block * cache.BLOCK
            stop = first + cache.BLOCK
            aad = cache.block_aad(self.log_id, block, commitments[first:stop], fingerprint)
            sealed = self._analysis_block(block)
            opened = opener(sealer, sealed, aad, first, cache.BLOCK) if sealed else None
            if opened is None:
                if match is None:
                    from evidence.rules import lexicon

                    match = cache.remembering(lexicon.default().match)
                entries = cache.build_block(self.entries_between(first, stop), match)
                sealed, chunk = cache.seal_block(sealer, entries, aad)
                if sealed is not None:
                    fresh.append((block, sealed))
                    if len(fresh) == _BLOCKS_PER_WRITE:
                        self._keep_analysis_blocks(fresh)
                        fresh = []
                opened = made_of(entries, chunk)
            yield opened
        if fresh:
            self._keep_analysis_blocks(fresh)

    def _commitments(self) -> list[bytes] | None:
        """Every entry's commitment in log order, or None unless they are numbered 0, 1, 2…"""
        where = entries.c.log_id == self.log_id
        with self.store.engine.connect() as conn:
            count, low, high = conn.execute(
                select(func.count(), func.min(entries.c.seq), func.max(entries.c.seq)).where(where)
            ).one()
            if count and (low != 0 or high != count - 1):
                return None  # numbers are unique per log: 0 to count - 1 means all of them
            # Straight from the driver's cursor: a result row per entry costs twice the read.
            statement, positional = _commitments_query(conn.dialect)
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(statement, (self.log_id,) if positional else {"log": self.log_id})
                return [bytes(row[0]) for row in cursor.fetchall()]
            finally:
                cursor.close()

    def _analysis_block(self, block: int) -> bytes | None:
        query = select(analysis_blocks.c.sealed).where(
            analysis_blocks.c.log_id == self.log_id, analysis_blocks.c.block == block
        )
        with self.store.engine.connect() as conn:
            return conn.execute(query).scalar()

    def _keep_analysis_blocks(self, blocks: list[tuple[int, bytes]]) -> None:
        """Store new or rebuilt blocks; a store that cannot be written now keeps none.

        The cache is only a speed-up, so it does not wait for a busy SQLite store (an
        import running in another process) longer than :data:`_CACHE_WAIT_MS`.
        """
        table = analysis_blocks
        sqlite = is_sqlite(self.store.engine)
        with self.store.engine.connect() as conn:
            driver = conn.connection.driver_connection
            if sqlite:
                driver.execute(f"PRAGMA busy_timeout={_CACHE_WAIT_MS}")  # type: ignore[union-attr]
            try:
                with conn.execution_options(**WRITE).begin():
                    conn.execute(
                        table.delete().where(
                            table.c.log_id == self.log_id,
                            table.c.block.in_([block for block, _ in blocks]),
                        )
                    )
                    conn.execute(
                        insert(table),
                        [{"log_id": self.log_id, "block": b, "sealed": s} for b, s in blocks],
                    )
            except DBAPIError:
                # Busy, read-only, or another process wrote the same block first: this
                # analysis already has its entries, and the next one builds the blocks.
                return
            finally:
                if sqlite:
                    driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")  # type: ignore[union-attr]

    def entry(self, seq: int) -> Entry:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(entries).where(entries.c.log_id == self.log_id, entries.c.seq == seq)
            ).first()
        if row is None:
            raise NotFound(f"there is no entry {seq}")
        entry = self._decrypt(row)
        amended_by, retracted_by = self._corrections_of(seq)
        return replace(entry, amended_by=amended_by, retracted_by=retracted_by)

    def corrections(self, entry: Entry) -> list[Entry]:
        """The amendments and the retraction of ``entry`` (as :meth:`entry` gives it), in order."""
        seqs = sorted({*entry.amended_by, *([entry.retracted_by] if entry.retracted_by else [])})
        if not seqs:
            return []
        query = (
            select(entries)
            .where(entries.c.log_id == self.log_id, entries.c.seq.in_(seqs))
            .order_by(entries.c.seq)
        )
        with self.store.engine.connect() as conn:
            return [self._decrypt(row) for row in conn.execute(query)]

    def _corrections_of(self, target: int) -> tuple[tuple[int, ...], int | None]:
        """The amendments of one entry and its (first) retraction, as :meth:`entries` marks them.

        A correction always comes after its target, and an entry's kind is encrypted:
        only later entries are decrypted, and only those whose bytes hold a ``"target"``
        key are read in full (``show`` or ``amend`` of one entry used to read the whole log).
        """
        query = (
            select(entries.c.seq, entries.c.commitment, entries.c.sealed)
            .where(entries.c.log_id == self.log_id, entries.c.seq > target)
            .order_by(entries.c.seq)
        )
        amended: list[int] = []
        retracted: int | None = None
        unseal, reader = self._sealer.unseal, self._reader()
        with (
            self.store.engine.connect() as conn,
            conn.execution_options(yield_per=2000).execute(query) as result,
        ):
            for seq, commitment, sealed in result:
                # In canonical JSON a quote inside a text is escaped: this is a key.
                if b'"target":' not in unseal(sealed, hashing.entry_aad(self.log_id, seq)):
                    continue
                correction = reader.read(seq, commitment, sealed)
                if correction.target != target:
                    continue
                if correction.kind == "amend":
                    amended.append(seq)
                elif retracted is None:
                    retracted = seq
        return tuple(amended), retracted

    def disclose(self, seqs: Iterable[int]) -> list[Disclosure]:
        """Salt and canonical bytes of chosen entries: what a bundle reveals, and nothing else."""
        wanted = sorted(set(seqs))
        found: list[Disclosure] = []
        with self.store.engine.connect() as conn:
            for start in range(0, len(wanted), _IN_BATCH):
                chunk = wanted[start : start + _IN_BATCH]
                rows = conn.execute(
                    select(entries)
                    .where(entries.c.log_id == self.log_id, entries.c.seq.in_(chunk))
                    .order_by(entries.c.seq)
                )
                for row in rows:
                    plain = self._sealer.unseal(row.sealed, hashing.entry_aad(self.log_id, row.seq))
                    salt, encoded = plain[: hashing.SALT_BYTES], plain[hashing.SALT_BYTES :]
                    if hashing.commitment(salt, encoded) != row.commitment:
                        raise DecryptionFailed(f"entry {row.seq} does not match its commitment")
                    found.append(Disclosure(row.seq, salt, encoded, row.commitment))
        missing = set(wanted) - {d.seq for d in found}
        if missing:
            raise NotFound(f"there is no entry {min(missing)}")
        return found

    def sign_bundle_manifest(self, manifest_sha256: bytes) -> tuple[bytes, bytes]:
        """The signed statement that binds a bundle's manifest to this log's key."""
        statement = hashing.bundle_statement(self.log_id, manifest_sha256)
        return statement, crypto.sign(self._signing_key, statement)

    def pdf_signing_seed(self) -> bytes:
        """The secret behind the bundle PDF's signing key (docs/SECURITY.md §11).

        Derived from the data key, so it is the same for every bundle of this log and is
        never stored; it is not the Ed25519 log key, which signs heads only.
        """
        return crypto.derive_subkey(self._data_key, "pdf-signing", self.log_id.encode())

    def head(self) -> Head:
        return self.heads()[-1]

    def heads(self) -> list[Head]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(heads).where(heads.c.log_id == self.log_id).order_by(heads.c.size)
            ).all()
        return [Head(self.log_id, r.size, r.root, r.signed_at, r.signature) for r in rows]

    def first_head_covering(self, seq: int) -> Head | None:
        return next((h for h in self.heads() if h.size > seq), None)

    def leaves(self) -> list[bytes]:
        with self.store.engine.connect() as conn:
            commitments = conn.execute(
                select(entries.c.commitment)
                .where(entries.c.log_id == self.log_id)
                .order_by(entries.c.seq)
            ).scalars()
            return [hashing.leaf(c) for c in commitments]

    # --- verification -------------------------------------------------------------------------

    def check(self, witness: Head | None = None) -> CheckReport:
        """Recompute everything: entries, commitments, tree, head signatures, attachments."""
        from evidence.verify_store import check_log

        return check_log(self, witness)

    # Accessors for the checker, which lives in its own module.
    def _check_access(self) -> tuple[crypto.Sealer, BlobKeys]:
        return self._sealer, self._blob_keys


def _describe(sha256_hex: str, size: int, name: str, media_type: str | None) -> Attachment:
    import mimetypes

    safe_name = Path(name.replace("\\", "/")).name or "attachment"
    guessed = media_type or mimetypes.guess_type(safe_name)[0] or "application/octet-stream"
    return Attachment(sha256_hex, size, safe_name, guessed)
