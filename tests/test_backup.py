"""Backups: consistent while the log is in use, refused when altered, restored all-or-nothing."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from pathlib import Path

import pytest

from evidence.backup import create_backup, restore_backup
from evidence.errors import Conflict, IntegrityFailure, InvalidInput, WrongSecret
from evidence.ledger import Store
from tests.conftest import PASSPHRASE


@pytest.fixture
def target(tmp_path: Path) -> Store:
    restored = Store.open(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "target-blobs")
    yield restored
    restored.close()


def test_backup_taken_during_appends_is_a_consistent_prefix(
    store, log, make_draft, tmp_path: Path, target: Store
) -> None:
    log.append([make_draft() for _ in range(50)])
    stop = threading.Event()

    def keep_appending() -> None:
        while not stop.is_set():
            log.append([make_draft("sms") for _ in range(20)])

    writer = threading.Thread(target=keep_appending)
    writer.start()
    try:
        archives = []
        for i in range(3):
            archive = tmp_path / f"backup-{i}.zip"
            create_backup(store, log.log_id, archive)
            archives.append(archive)
    finally:
        stop.set()
        writer.join()
    sizes = []
    for i, archive in enumerate(archives):
        restored_store = Store.open(f"sqlite:///{tmp_path / f'r{i}.sqlite3'}", tmp_path / f"rb{i}")
        log_id, report = restore_backup(archive, restored_store, PASSPHRASE)
        assert report.ok, report.problems
        restored = restored_store.unlock(log_id, PASSPHRASE)
        sizes.append(restored.count())
        assert restored.head().size == restored.count()
        assert restored.head().root == _root_at(log, restored.count())
        restored_store.close()
    assert sizes == sorted(sizes) and sizes[0] >= 50


def _root_at(log, size: int) -> bytes:
    from evidence import merkle

    return merkle.Tree(log.leaves()).root(size)


def test_restore_brings_back_entries_and_attachments(
    store, log, make_draft, tmp_path: Path, target: Store
) -> None:
    attachment = log.add_attachment(io.BytesIO(b"recording" * 1000), "call.m4a")
    draft = make_draft()
    log.append([type(draft)(draft.kind, draft.occurred_at, draft.fields, (attachment,))])
    archive = tmp_path / "b.zip"
    summary = create_backup(store, log.log_id, archive)
    assert (summary.entries, summary.files) == (1, 1)
    log_id, report = restore_backup(archive, target, PASSPHRASE)
    assert (report.entries, report.attachments, report.ok) == (1, 1, True)
    restored = target.unlock(log_id, PASSPHRASE)
    assert b"".join(restored.read_attachment(attachment.sha256)) == b"recording" * 1000
    assert [e.document() for e in restored.entries()] == [e.document() for e in log.entries()]
    with pytest.raises(Conflict):
        restore_backup(archive, target, PASSPHRASE)


def _rewrite(archive: Path, out: Path, change) -> None:
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(out, "w") as sink:
        for name in source.namelist():
            data = change(name, source.read(name))
            if data is not None:
                sink.writestr(name, data)


def test_altered_database_in_backup_is_refused(store, log, make_draft, tmp_path, target) -> None:
    log.append([make_draft()])
    archive, bad = tmp_path / "b.zip", tmp_path / "bad.zip"
    create_backup(store, log.log_id, archive)

    def flip(name: str, data: bytes) -> bytes:
        if name == "store.sqlite3":
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
            return bytes(data)
        return data

    _rewrite(archive, bad, flip)
    with pytest.raises(IntegrityFailure, match=r"store\.sqlite3"):
        restore_backup(bad, target, PASSPHRASE)
    assert target.log_ids() == []


def test_missing_blob_in_backup_is_refused(store, log, make_draft, tmp_path, target) -> None:
    attachment = log.add_attachment(io.BytesIO(b"x" * 100), "a.jpg")
    draft = make_draft()
    log.append([type(draft)(draft.kind, draft.occurred_at, draft.fields, (attachment,))])
    archive, bad = tmp_path / "b.zip", tmp_path / "bad.zip"
    create_backup(store, log.log_id, archive)
    _rewrite(archive, bad, lambda name, data: None if name.startswith("blobs/") else data)
    with pytest.raises(IntegrityFailure, match="differ from its manifest"):
        restore_backup(bad, target, PASSPHRASE)
    assert target.log_ids() == []


def test_manifest_naming_a_path_outside_is_refused(store, log, tmp_path, target) -> None:
    archive, bad = tmp_path / "b.zip", tmp_path / "bad.zip"
    create_backup(store, log.log_id, archive)

    def escape(name: str, data: bytes) -> bytes:
        if name == "evidence-backup.json":
            manifest = json.loads(data)
            manifest["files"].append({"path": "../../etc/evil", "size": 1, "sha256": "00"})
            return json.dumps(manifest).encode()
        return data

    _rewrite(archive, bad, escape)
    with pytest.raises(InvalidInput, match="should not contain"):
        restore_backup(bad, target, PASSPHRASE)
    assert not (tmp_path.parent / "etc" / "evil").exists()


def test_not_a_backup(tmp_path: Path, target: Store) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    with pytest.raises(InvalidInput):
        restore_backup(junk, target, PASSPHRASE)


def test_wrong_passphrase_restores_nothing(store, log, tmp_path, target) -> None:
    archive = tmp_path / "b.zip"
    create_backup(store, log.log_id, archive)
    with pytest.raises(WrongSecret):
        restore_backup(archive, target, "not the passphrase")
    assert target.log_ids() == []
