"""Backups: a consistent copy of one encrypted log (rows and attachment files) in a ZIP.

The copy is taken inside one read transaction (a snapshot), so appends made
meanwhile are either wholly in it or wholly absent. Attachment files are
immutable and written before the entry that names them, so every file the
snapshot refers to exists. Nothing is decrypted: a backup is as safe to keep
on a USB stick or a cloud drive as the store itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from evidence import timeutil
from evidence.errors import Conflict, IntegrityFailure, InvalidInput
from evidence.ledger import CheckReport, Store
from evidence.store.engine import WRITE, sqlite_url
from evidence.store.schema import entries, heads, key_slots, logs

FORMAT = "evidence-backup/v1"
MANIFEST = "evidence-backup.json"
DATABASE = "store.sqlite3"
_BLOB_MEMBER = re.compile(r"^blobs/[0-9a-f-]{36}/[0-9a-f]{2}/[0-9a-f]{64}$")
_COPY_BATCH = 2000
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupSummary:
    log_id: str
    entries: int
    files: int
    head_size: int


def _tables(log_id: str) -> list[tuple[Any, Any]]:
    return [
        (logs, select(logs).where(logs.c.id == log_id)),
        (key_slots, select(key_slots).where(key_slots.c.log_id == log_id)),
        (entries, select(entries).where(entries.c.log_id == log_id).order_by(entries.c.seq)),
        (heads, select(heads).where(heads.c.log_id == log_id).order_by(heads.c.size)),
    ]


def _copy_rows(source: Engine, target: Engine, log_id: str) -> None:
    """Copy one log's rows in a single read snapshot and a single write transaction."""
    reader = source.connect()
    if source.dialect.name == "postgresql":
        reader = reader.execution_options(isolation_level="REPEATABLE READ")
    writer = target.connect().execution_options(**WRITE)
    with reader, reader.begin(), writer, writer.begin():
        for table, query in _tables(log_id):
            result = reader.execution_options(yield_per=_COPY_BATCH).execute(query)
            for batch in result.mappings().partitions(_COPY_BATCH):
                writer.execute(insert(table), [dict(row) for row in batch])


def create_backup(store: Store, log_id: str, out: Path) -> BackupSummary:
    """Write a ZIP holding a snapshot of the log's database rows and its attachment files."""
    store.info(log_id)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".evidence-backup-", dir=out.parent))
    try:
        snapshot_path = work / DATABASE
        snapshot = Store.open(sqlite_url(snapshot_path), work / "unused")
        _copy_rows(store.engine, snapshot.engine, log_id)
        with snapshot.engine.connect() as conn:
            count = len(conn.execute(select(entries.c.seq)).all())
            head_size = conn.execute(select(heads.c.size).order_by(heads.c.size.desc())).scalar()
        snapshot.close()
        blob_files = list(store.blobs.files(log_id))
        temp_zip = work / "backup.zip"
        listed: list[dict[str, Any]] = []
        with zipfile.ZipFile(temp_zip, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            listed.append(_add(archive, snapshot_path, DATABASE))
            for path in blob_files:
                relative = path.relative_to(store.blobs.root).as_posix()
                listed.append(_add(archive, path, f"blobs/{relative}"))
            manifest = {
                "format": FORMAT,
                "log": log_id,
                "created_at": timeutil.format_canonical(store.clock()),
                "entries": count,
                "head_size": head_size,
                "files": listed,
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(temp_zip, out)
        return BackupSummary(log_id, count, len(blob_files), int(head_size or 0))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _add(archive: zipfile.ZipFile, path: Path, name: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source, archive.open(name, "w", force_zip64=True) as sink:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            sink.write(chunk)
    return {"path": name, "size": size, "sha256": digest.hexdigest()}


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise InvalidInput("this is not an evidence backup (no readable manifest)") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("this is not an evidence backup of a known format")
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise InvalidInput("the backup's manifest is damaged")
    names = {f.get("path") for f in files}
    if DATABASE not in names or any(
        n != DATABASE and not _BLOB_MEMBER.match(str(n)) for n in names
    ):
        raise InvalidInput("the backup lists files it should not contain")
    if set(archive.namelist()) != names | {MANIFEST}:
        raise IntegrityFailure("the backup's files differ from its manifest")
    return manifest


def _extract(archive: zipfile.ZipFile, listed: dict[str, Any], destination: Path) -> None:
    """Copy one member out, checking its size and SHA-256 against the manifest as it streams."""
    name = str(listed["path"])
    target = destination.joinpath(*name.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as source, target.open("wb") as sink:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > int(listed["size"]):
                break
            digest.update(chunk)
            sink.write(chunk)
    if size != int(listed["size"]) or digest.hexdigest() != listed["sha256"]:
        raise IntegrityFailure(f"the backup's file {name} is damaged or altered")


def restore_backup(archive_path: Path, target: Store, passphrase: str) -> tuple[str, CheckReport]:
    """Check a backup completely, then add its log to ``target``. All or nothing."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"cannot read {archive_path.name} as a backup") from exc
    work = Path(tempfile.mkdtemp(prefix=".evidence-restore-"))
    try:
        with archive:
            manifest = _read_manifest(archive)
            for listed in manifest["files"]:
                _extract(archive, listed, work)
        log_id = str(manifest["log"])
        source = Store.open(sqlite_url(work / DATABASE), work / "blobs")
        try:
            if source.log_ids() != [log_id]:
                raise IntegrityFailure("the backup's database does not hold the log it names")
            report = source.unlock(log_id, passphrase).check()
            if not report.ok:
                raise IntegrityFailure("the backup does not check clean", report.problems)
            if log_id in target.log_ids():
                raise Conflict(
                    f"log {log_id} is already in this store: restore into another --store"
                )
            _copy_blobs(source, target, log_id)
            _copy_rows(source.engine, target.engine, log_id)
        finally:
            source.close()
        return log_id, target.unlock(log_id, passphrase).check()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _copy_blobs(source: Store, target: Store, log_id: str) -> None:
    staging = target.blobs.root / "tmp"
    staging.mkdir(parents=True, exist_ok=True)
    for path in _files(source, log_id):
        relative = path.relative_to(source.blobs.root)
        final = target.blobs.root / relative
        if final.exists():
            continue
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=staging)
        os.close(handle)
        shutil.copyfile(path, temp)
        os.replace(temp, final)


def _files(store: Store, log_id: str) -> Iterator[Path]:
    yield from store.blobs.files(log_id)
