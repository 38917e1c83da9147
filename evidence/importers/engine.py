"""Run an import: read every source, validate, select, deduplicate, append in batches.

Resumable, not all-or-nothing: records are appended in batches (4000 by
default), each batch in one transaction with its signed head. Every record
carries a dedup key built from its stable fields, and ``append`` skips keys the
log already holds, so after a failure or Ctrl-C the same import run again adds
exactly what is missing, and a complete or overlapping re-import adds nothing.
A skipped record is counted as "already in the log" when the entry holding its
key was there before the run, and as "repeated within this import" when this
run added it (the same record twice in one file, or in two files of one run).
Large files are read and validated in a second process while this one appends
(``read_ahead``, the CLI: :mod:`evidence.importers.readahead`).
Memory stays bounded: one batch, the per-number counts, at most
:data:`MAX_REJECTIONS` rejection reasons and one chunk of recordings waiting to
be matched are held at a time; reading the log (recordings, ``--keywords``)
streams it in chunks and keeps only what may match.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidence import model, phone, timeutil
from evidence.errors import InvalidInput
from evidence.importers import base, readahead
from evidence.importers.base import Blob, Importer, Note, ReadContext, Record, Rejected, Unit
from evidence.importers.seen import SeenKeys
from evidence.importers.selection import NOT_SELECTED, Selection

if TYPE_CHECKING:
    from evidence.ledger import Log

BATCH = 4000  # records per transaction: each commit waits for the disk (a few ms)
MAX_REJECTIONS = 1000
RECORDING_TOLERANCE = timedelta(seconds=120)
RECORDING_CHUNK = 1000  # recordings matched against the log together (one pass over it)
LOG_CHUNK = 1000  # entries read from the log at a time when scanning it
READ_AHEAD_BYTES = 4 << 20  # smaller files are read in this process (a fork costs ~20 ms)
Progress = Callable[[int, int, int], None]


@dataclass
class ImportOptions:
    format: str = "auto"
    selection: Selection = field(default_factory=Selection)
    zone: tzinfo | None = None  # for times without a zone (recording names, CSV); log's zone
    keep_source: bool = True
    dry_run: bool = False
    batch_size: int = BATCH
    csv_map: dict[str, str] = field(default_factory=dict)
    tolerance: timedelta = RECORDING_TOLERANCE
    # Read and validate large files in a second process while this one appends
    # (the CLI; a threaded server keeps to one process).
    read_ahead: bool = False


@dataclass
class FileReport:
    name: str
    format: str
    sha256: str = ""
    records: int = 0
    new: int = 0
    duplicates: int = 0
    repeated: int = 0
    filtered: int = 0
    rejected: int = 0
    attached: int = 0
    original_kept: bool = False


@dataclass
class Summary:
    dry_run: bool
    selection: str
    zone: str
    new: int = 0
    duplicates: int = 0  # already in the log before this import
    repeated: int = 0  # the same record again within this import (kept once)
    filtered: int = 0
    rejected: int = 0
    senders: int = 0  # calls kept because their number sent a text holding a keyword
    attached: int = 0  # recordings attached to a call already in the log (by an amendment)
    rejections: list[tuple[str, str, str]] = field(default_factory=list)
    by_number: Counter[str] = field(default_factory=Counter)
    by_platform: Counter[str] = field(default_factory=Counter)
    filtered_by: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    records: int = 0
    originals: int = 0  # original files appended by this run (one "other" entry each)
    complete: bool = False


@dataclass(slots=True)
class Prepared:
    """A record validated into a draft, or refused: the stateless part of taking it.

    Made where the record is read (a second process with ``read_ahead``); the
    stateful steps (selection, dedup, recordings, appending) stay with the run.
    """

    draft: model.Draft | None
    position: str
    reason: str = ""  # why the record was refused (``draft`` is None)
    key: str = ""  # the number's key (or the sender), for counts and selection
    text: str = ""
    blobs: tuple[Blob, ...] = ()
    match_call: bool = False


def prepare(record: Record, source: dict[str, Any], limit: datetime) -> Prepared:
    """Validate ``record`` into a draft with its provenance (``source`` + its position)."""
    try:
        draft = model.make_draft(
            record.kind,
            record.occurred_at,
            record.fields,
            source={**source, "position": record.position, **record.extra_source},
            dedup_key=record.dedup_key,
        )
    except InvalidInput as error:
        return Prepared(None, record.position, str(error))
    if draft.occurred_at > limit:
        return Prepared(None, record.position, "the time is in the future (the phone's clock?)")
    number = draft.fields.get("number")
    # phone.key of the validated number, remembered by its raw form (the same value)
    key = base.number_key(number["raw"]) if number else str(draft.fields.get("sender", ""))
    return Prepared(draft, record.position, "", key, record.text, record.blobs, record.match_call)


# A validated record travels from the reading process as a plain tuple: unpickling
# the dataclasses cost twice as much (``Draft`` and ``Prepared`` are rebuilt here).
_Packed = tuple[str, datetime, dict[str, Any], tuple[Any, ...], Any, Any, str, str, Any, Any, bool]


def _pack(item: Prepared | Rejected | Note) -> _Packed | Prepared | Rejected | Note:
    if type(item) is not Prepared or item.draft is None:
        return item
    draft = item.draft
    # The text searched by selection is most often the body: sent once.
    text = None if item.text == draft.fields.get("said") else item.text
    return (
        draft.kind,
        draft.occurred_at,
        draft.fields,
        draft.attachments,
        draft.source,
        draft.dedup_key,
        item.position,
        item.key,
        text,
        item.blobs,
        item.match_call,
    )


def _unpack(item: _Packed | Prepared | Rejected | Note) -> Prepared | Rejected | Note:
    if type(item) is not tuple:
        return item
    kind, occurred_at, fields, attachments, source, dedup_key, position, key, text, blobs, match = (
        item
    )
    draft = model.Draft(kind, occurred_at, fields, attachments, source, dedup_key)
    text = fields.get("said") if text is None else text
    return Prepared(draft, position, "", key, text, blobs, match)


@dataclass
class _Pending:
    draft: model.Draft
    report: FileReport


@dataclass
class _Recording:
    draft: model.Draft
    key: str
    report: FileReport


@dataclass
class _Call:
    entry: model.Entry
    answered: bool


class ImportRun:
    """One import into ``log``; :attr:`summary` is kept up to date (also after Ctrl-C)."""

    def __init__(self, log: Log, options: ImportOptions, progress: Progress | None = None) -> None:
        self.log = log
        self.options = options
        self.zone = options.zone or log.zone
        self.progress = progress
        self.summary = Summary(
            dry_run=options.dry_run,
            selection=options.selection.describe(),
            zone=str(getattr(self.zone, "key", self.zone)),
        )
        self._pending: list[_Pending] = []
        # Dry runs only: the keys the run would have added (on disk, keyed digests only).
        self._seen = SeenKeys(log.dedup_digest)
        self._recordings: list[_Recording] = []
        self._matched: set[int] = set()
        self._senders_from_log = False
        self._start_size = 0
        # A copy: the senders learned by this run stay with this run.
        selection = self.selection = replace(
            options.selection, senders=set(options.selection.senders)
        )
        # Anything to decide per record? (Without filters or a platform map: nothing.)
        self._selecting = bool(
            selection.filtering or selection.platform_numbers or selection.platform_keywords
        )
        self._bytes_total = 0
        self._bytes_before = 0

    # --- planning ----------------------------------------------------------------------------

    def plan(self, paths: Iterable[Path]) -> list[tuple[Importer, Unit]]:
        """Every file to read, checked before anything is written.

        Files of texts come first, calls after them and recordings last, so that a
        number known from its texts (``--keywords``) keeps its calls, and recordings
        find the calls of the same command.
        """
        planned: list[tuple[Importer, Unit]] = []
        for path in paths:
            if not path.exists():
                raise InvalidInput(f"{path} does not exist")
            importer = (
                base.detect(path)
                if self.options.format == "auto"
                else base.get(self.options.format)
            )
            if not importer.sniff(path, _head(path)) and self.options.format != "csv":
                raise InvalidInput(f"{path.name} does not look like {importer.label}")
            planned.extend((importer, unit) for unit in importer.units(path))
        planned.sort(key=lambda pair: pair[0].rank(pair[1]))
        return planned

    # --- running -----------------------------------------------------------------------------

    def run(self, paths: Sequence[Path]) -> Summary:
        planned = self.plan(paths)
        self._bytes_total = sum(importer.size(unit) for importer, unit in planned)
        self._start_size = self.log.count()
        try:
            for importer, unit in planned:
                self._run_unit(importer, unit)
        finally:
            self._seen.close()
        self.summary.complete = True
        return self.summary

    def _run_unit(self, importer: Importer, unit: Unit) -> None:
        report = FileReport(unit.name, importer.name)
        self.summary.files.append(report)
        if unit.keep:
            report.sha256 = base.file_sha256(unit.path)
        ctx = ReadContext(zone=self.zone, csv_map=self.options.csv_map)
        limit = self.log.store.clock() + timeutil.FUTURE_TOLERANCE
        source = {"format": importer.name, "file": unit.name, "file_sha256": report.sha256}

        def prepared_items() -> Generator[Prepared | Rejected | Note, None, None]:
            for read in importer.read(unit, ctx):
                yield prepare(read, source, limit) if isinstance(read, Record) else read

        items: Generator[Prepared | Rejected | Note, None, None] = prepared_items()
        if self.options.read_ahead and importer.size(unit) >= READ_AHEAD_BYTES:
            phone.load_lookups()  # once here, shared by every reading process
            items = readahead.in_child(lambda: map(_pack, prepared_items()), ctx, _unpack)
        # Closed here, not by the garbage collector: a traceback (Ctrl-C, an error while
        # appending) keeps this frame alive, and with it the reading process.
        with contextlib.closing(items):
            for item in items:
                if isinstance(item, Note):
                    self.summary.notes.append(item.text)
                    continue
                report.records += 1
                self.summary.records += 1
                if isinstance(item, Rejected):
                    self._reject(report, item.position, item.reason)
                else:
                    self._take(item, report)
                if self.progress is not None and self.summary.records % 256 == 0:
                    self.progress(self.summary.records, self._bytes_before + ctx.bytes_read,
                                  self._bytes_total)  # fmt: skip
        self._match_recordings()
        self._flush()
        self._bytes_before += importer.size(unit)
        if self.progress is not None:
            self.progress(self.summary.records, self._bytes_before, self._bytes_total)
        if unit.keep and self.options.keep_source and not self.options.dry_run:
            self._keep_original(importer, unit, report)

    def _reject(self, report: FileReport, position: str, reason: str) -> None:
        report.rejected += 1
        self.summary.rejected += 1
        if len(self.summary.rejections) < MAX_REJECTIONS:
            self.summary.rejections.append((report.name, position, reason))

    def _take(self, prepared: Prepared, report: FileReport) -> None:
        if prepared.draft is None:
            self._reject(report, prepared.position, prepared.reason)
            return
        draft, key, platform = prepared.draft, prepared.key, None
        number = draft.fields.get("number")
        if self._selecting:
            selection = self.selection
            if selection.keywords and draft.kind == "sms" and number:
                selection.learn_sender(key, draft.fields.get("direction"), prepared.text)
            skipped = selection.keep(key, prepared.text, draft.occurred_at)
            if skipped == NOT_SELECTED and draft.kind == "call" and self._sender_known(key):
                skipped = None
                self.summary.senders += 1
            if skipped is not None:
                report.filtered += 1
                self.summary.filtered += 1
                self.summary.filtered_by[skipped] += 1
                return
            platform = selection.platform(key, prepared.text)
            if platform:
                draft = replace(draft, fields={**draft.fields, "platform": platform})
        self.summary.by_number[key or "(none)"] += 1
        self.summary.by_platform[platform or "(no platform)"] += 1
        if prepared.blobs and not self._already(draft.dedup_key or ""):
            draft = self._with_blobs(draft, prepared.blobs)
        if prepared.match_call:
            self._recordings.append(_Recording(draft, key, report))
            if len(self._recordings) >= RECORDING_CHUNK:
                self._match_recordings()
            return
        self._queue(draft, report)

    def _queue(self, draft: model.Draft, report: FileReport) -> None:
        self._pending.append(_Pending(draft, report))
        if len(self._pending) >= self.options.batch_size:
            self._flush()

    def _already(self, key: str) -> bool:
        if any(p.draft.dedup_key == key for p in self._pending) or any(
            r.draft.dedup_key == key for r in self._recordings
        ):
            return True
        return bool(self.log.existing_dedup_keys([key])) or key in self._seen

    def _with_blobs(self, draft: model.Draft, blobs: tuple[Blob, ...]) -> model.Draft:
        if self.options.dry_run:
            return draft
        stored = []
        for blob in blobs:
            with blob.open() as handle:
                stored.append(self.log.add_attachment(handle, blob.name, blob.media_type))
        return replace(draft, attachments=draft.attachments + tuple(stored))

    # --- reading the log back, in bounded memory ------------------------------------------

    def _log_entries(self) -> Iterator[model.Entry]:
        """Every entry of the log in order, :data:`LOG_CHUNK` at a time (never all at once)."""
        size = self.log.head().size
        for start in range(0, size, LOG_CHUNK):
            for opened in self.log.disclose(range(start, min(start + LOG_CHUNK, size))):
                yield model.entry_from_document(json.loads(opened.canonical), opened.commitment)

    def _sender_known(self, key: str) -> bool:
        """Whether ``key`` sent a text holding a keyword (this run, or already in the log)."""
        selection = self.selection
        if not selection.keywords or not key:
            return False
        if not self._senders_from_log:
            self._senders_from_log = True
            self._flush()
            for entry in self._log_entries():
                number = entry.fields.get("number") if entry.kind == "sms" else None
                if number:
                    text = f"{entry.fields.get('said') or ''}\n{entry.fields.get('note') or ''}"
                    selection.learn_sender(phone.key(number), entry.fields.get("direction"), text)
        return key in selection.senders

    # --- recordings: attach to a call already in the log ---------------------------------

    def _match_recordings(self) -> None:
        """Attach each waiting recording to the closest call of its number, if one is close.

        The log is read once per chunk of recordings, keeping only the calls of their
        numbers that started within the tolerance of one of them (and not retracted).
        """
        if not self._recordings:
            return
        waiting, self._recordings = self._recordings, []
        self._flush()  # calls of this run are in the log before it is read
        tolerance = self.options.tolerance
        windows: dict[str, list[datetime]] = {}
        for recording in waiting:
            windows.setdefault(recording.key, []).append(recording.draft.occurred_at)
        calls: dict[str, list[_Call]] = {}
        retracted: set[int] = set()
        for entry in self._log_entries():
            if entry.kind == "retract":
                retracted.add(int(entry.fields.get("target", -1)))
                continue
            number = entry.fields.get("number") if entry.kind == "call" else None
            if not number:
                continue
            times = windows.get(phone.key(number))
            if times and any(abs(entry.occurred_at - at) <= tolerance for at in times):
                answered = bool(entry.fields.get("answered") or entry.fields.get("duration"))
                calls.setdefault(phone.key(number), []).append(_Call(entry, answered))
        for recording in waiting:
            draft = self._recording(recording.draft, calls.get(recording.key, ()), retracted)
            self._queue(draft, recording.report)
        self._flush()

    def _recording(
        self, draft: model.Draft, calls: Iterable[_Call], retracted: set[int]
    ) -> model.Draft:
        """An amendment of the closest logged call of this number, else the draft itself."""
        candidates = [
            (not call.answered, abs((call.entry.occurred_at - draft.occurred_at).total_seconds()),
             call.entry.seq, call.entry)
            for call in calls
            if abs(call.entry.occurred_at - draft.occurred_at) <= self.options.tolerance
            and call.entry.seq not in self._matched and call.entry.seq not in retracted
        ]  # fmt: skip
        if not candidates:
            return draft
        *_order, seq, target = min(candidates, key=lambda c: c[:3])
        self._matched.add(seq)
        if not draft.attachments:  # a dry run: nothing stored, nothing will be appended
            return replace(draft, kind="amend")
        file = (draft.source or {}).get("file", "")
        amendment = model.amendment_draft(
            target,
            self.log.store.clock(),
            {},
            f"录音 recording {file} found on the phone "
            f"(time in its name read as {self.summary.zone})",
            attachments=draft.attachments,
        )
        return replace(amendment, source=draft.source, dedup_key=draft.dedup_key)

    # --- appending ---------------------------------------------------------------------------

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        drafts = [p.draft for p in pending]
        if self.options.dry_run:
            self._count_dry(pending)
            return
        holders: dict[str, int] = {}
        made = self.log.append_new(drafts, holders)
        claimed: set[str] = set()
        for item in pending:
            key = item.draft.dedup_key
            if not key:  # never skipped: appended
                self._count(item.report, "new", item.draft.kind)
                continue
            # The entry holding the key: made now (the first draft with it), made earlier
            # by this run (repeated), or in the log before the run (duplicate).
            seq = holders.get(key, -1)
            if seq in made and key not in claimed:
                claimed.add(key)
                outcome = "new"
            else:
                outcome = "repeated" if seq >= self._start_size else "duplicate"
            self._count(item.report, outcome, item.draft.kind)

    def _count_dry(self, pending: list[_Pending]) -> None:
        """What appending ``pending`` would do, without writing: the same outcomes."""
        keys = [item.draft.dedup_key for item in pending if item.draft.dedup_key]
        existing = self.log.existing_dedup_keys(keys)
        firsts = iter(self._seen.add(key for key in keys if key not in existing))
        for item in pending:
            key = item.draft.dedup_key
            if not key:
                outcome = "new"  # never skipped
            elif key in existing:
                outcome = "duplicate"
            else:
                outcome = "new" if next(firsts) else "repeated"
            self._count(item.report, outcome, item.draft.kind)

    def _count(self, report: FileReport, outcome: str, kind: str) -> None:
        if outcome == "duplicate":
            report.duplicates += 1
            self.summary.duplicates += 1
        elif outcome == "repeated":
            report.repeated += 1
            self.summary.repeated += 1
        elif kind == "amend":
            report.attached += 1
            self.summary.attached += 1
        else:
            report.new += 1
            self.summary.new += 1

    def _keep_original(self, importer: Importer, unit: Unit, report: FileReport) -> None:
        if report.new + report.duplicates + report.repeated + report.attached == 0:
            return  # nothing from this file is in the log: do not keep it
        with unit.path.open("rb") as handle:
            attachment = self.log.add_attachment(handle, unit.path.name)
        if attachment.sha256 != report.sha256:
            self.summary.notes.append(f"{unit.name} changed while it was being imported")
        receipt = model.make_draft(
            "other",
            self.log.store.clock(),
            {
                "said": f"导入的原始文件 original file of an import: {unit.name} "
                f"({importer.label}; {report.records} records read)",
                "tags": ["import", "original file"],
            },
            attachments=(attachment,),
            source={"format": importer.name, "file": unit.name, "file_sha256": attachment.sha256},
            dedup_key=f"original|{attachment.sha256}",
        )
        self.summary.originals += len(self.log.append([receipt], skip_duplicates=True))
        report.original_kept = True


def _head(path: Path) -> bytes:
    if not path.is_file():
        return b""
    with path.open("rb") as handle:
        return handle.read(8192)


def run_import(
    log: Log, paths: Sequence[Path], options: ImportOptions, progress: Progress | None = None
) -> Summary:
    return ImportRun(log, options, progress).run(paths)
