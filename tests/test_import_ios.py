"""iPhone: sms.db and CallHistory.storedata, directly and inside a backup folder."""

from __future__ import annotations

import plistlib
import sqlite3
from pathlib import Path

import pytest

from evidence.errors import InvalidInput
from evidence.importers import ios
from evidence.importers.engine import ImportOptions, run_import
from tests import importfixtures as fx

MS = fx.BASE_MS


def _sms_db(path: Path) -> Path:
    return fx.write_sms_db(
        path,
        [
            ("+8613800130001", fx.ios_ns(MS), "【某贷】您已逾期，请还款", 0, "SMS", None),
            ("+8613800130001", fx.ios_ns(MS + 60_000), "我下周还", 1, "SMS", None),
            # iOS 16+: text NULL, the text only in attributedBody
            ("95188", fx.ios_ns(MS + 120_000), None, 0, "SMS", fx.attributed_body("催收通知 😡")),
            # before iOS 11: seconds since 2001
            ("+8613800130002", MS // 1000 - fx.IOS_EPOCH + 180, "秒为单位", 0, "iMessage", None),
            ("collector@example.com", fx.ios_ns(MS + 240_000), "邮件账号发来的", 0, "iMessage",
             None),
            ("+8613800130003", 0, "no date", 0, "SMS", None),
        ],
    )  # fmt: skip


def _calls_db(path: Path) -> Path:
    start = MS / 1000 - fx.IOS_EPOCH
    return fx.write_call_history(
        path,
        [
            (b"+8613800130001", start, 65.4, 0, 1, 1),
            ("13800130002", start + 100, 0.0, 0, 0, 1),  # missed
            (b"13800130003", start + 200, 12.0, 1, 1, 16),  # FaceTime audio, outgoing
        ],
    )


def test_sms_db_directly(log, tmp_path: Path) -> None:
    summary = run_import(log, [_sms_db(tmp_path / "sms.db")], ImportOptions())
    assert (summary.new, summary.rejected) == (5, 1)
    assert summary.rejections[0][1] == "message ROWID 6"
    by_said = {e.fields["said"]: e for e in log.entries() if "said" in e.fields}
    first = by_said["【某贷】您已逾期，请还款"]
    assert first.occurred_at.isoformat() == "2025-03-01T17:00:00+08:00"
    assert first.fields["direction"] == "incoming" and first.kind == "sms"
    assert by_said["我下周还"].fields["direction"] == "outgoing"
    assert by_said["催收通知 😡"].fields["number"]["class"] == "short"
    assert by_said["秒为单位"].occurred_at.isoformat() == "2025-03-01T17:03:00+08:00"
    assert by_said["秒为单位"].fields["tags"] == ["iMessage"]
    email = by_said["邮件账号发来的"]
    assert email.kind == "message" and email.fields["sender"] == "collector@example.com"
    assert first.source is not None and first.source["position"] == "message ROWID 1"


def test_call_history_directly(log, tmp_path: Path) -> None:
    summary = run_import(log, [_calls_db(tmp_path / "CallHistory.storedata")], ImportOptions())
    assert summary.new == 3
    calls = [e for e in log.entries() if e.kind == "call"]
    assert calls[0].fields["duration"] == 65 and calls[0].fields["answered"] is True
    assert calls[0].occurred_at.isoformat() == "2025-03-01T17:00:00+08:00"
    assert calls[1].fields["answered"] is False and "missed" in calls[1].fields["tags"]
    assert calls[2].fields["direction"] == "outgoing" and calls[2].fields["tags"] == [
        "FaceTime audio"
    ]


def test_backup_folder_by_hashed_names_and_idempotent(log, tmp_path: Path) -> None:
    assert fx.SMS_DB_ID == ios.SMS_DB_ID and fx.CALLS_ID == ios.CALLS_ID
    folder = fx.write_backup_folder(
        tmp_path / "00008030-001A", _sms_db(tmp_path / "s.db"), _calls_db(tmp_path / "c.db")
    )
    summary = run_import(log, [folder], ImportOptions())
    assert summary.new == 8 and [f.format for f in summary.files] == ["ios-backup"] * 2
    assert all(f.original_kept for f in summary.files)
    again = run_import(log, [folder], ImportOptions())
    assert (again.new, again.duplicates) == (0, 8)


def test_encrypted_backup_is_refused(log, tmp_path: Path) -> None:
    folder = fx.write_backup_folder(tmp_path / "b", _sms_db(tmp_path / "s.db"), None)
    (folder / "Manifest.plist").write_bytes(plistlib.dumps({"IsEncrypted": True}))
    with pytest.raises(InvalidInput, match="encrypted iPhone backup"):
        run_import(log, [folder], ImportOptions())


def test_empty_backup_folder_is_a_clear_error(log, tmp_path: Path) -> None:
    folder = fx.write_backup_folder(tmp_path / "b", None, None)
    with pytest.raises(InvalidInput, match=r"no sms\.db or CallHistory"):
        run_import(log, [folder], ImportOptions(format="ios-backup"))


def test_typedstream_text_is_bounded() -> None:
    blob = fx.attributed_body("长" * 200)
    assert ios.typedstream_text(blob) == "长" * 200
    assert ios.typedstream_text(b"NSString") is None
    assert ios.typedstream_text(blob[: len(blob) // 2]) is not None


def test_text_that_is_not_utf8_is_kept_visibly(log, tmp_path: Path) -> None:
    # Found by the fuzzer: sqlite3 raised UnicodeDecodeError (a crash, not a clear error).
    import sqlite3

    path = _sms_db(tmp_path / "sms.db")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE message SET text = CAST(X'E980BEFF' AS TEXT) WHERE ROWID = 1")
    conn.commit()
    conn.close()
    summary = run_import(log, [path], ImportOptions())
    assert summary.new == 5
    assert any(e.fields.get("said") == "逾\ufffd" for e in log.entries())


IMAGE_PATH = "Library/SMS/Attachments/ab/11/0A1B2C3D-4E5F/IMG_4471.jpeg"
AUDIO_PATH = "Library/SMS/Attachments/cd/02/9F8E7D6C/Audio Message.amr"


def _mms_db(path: Path) -> Path:
    return fx.write_sms_db(
        path,
        [
            ("+8613800130001", fx.ios_ns(MS), "\ufffc看看你家门口", 0, "SMS", None),
            ("+8613800130001", fx.ios_ns(MS + 60_000), "\ufffc", 0, "iMessage", None),
            ("+8613800130001", fx.ios_ns(MS + 120_000), "no file here", 0, "SMS", None),
        ],
        attachments={
            0: [(f"~/{IMAGE_PATH}", "image/jpeg", "IMG_4471.jpeg")],
            1: [(f"/var/mobile/{AUDIO_PATH}", "audio/amr", "Audio Message.amr"),
                ("~/Library/SMS/Attachments/ee/01/X/left-in-icloud.heic", "image/heic",
                 "left-in-icloud.heic"),
                (None, "image/png", "never-downloaded.png")],
        },
    )  # fmt: skip


def test_attachment_file_ids_are_in_the_media_domain() -> None:
    import hashlib

    wanted = hashlib.sha1(f"MediaDomain-{IMAGE_PATH}".encode()).hexdigest()
    assert ios.attachment_file_id(f"~/{IMAGE_PATH}") == wanted
    assert ios.attachment_file_id(f"/private/var/mobile/{IMAGE_PATH}") == wanted
    assert ios.attachment_file_id("../../etc/passwd") is None


def test_mms_attachments_come_from_the_backup(log, tmp_path: Path) -> None:
    image, sound = fx.PNG, fx.amr_bytes(3)
    folder = fx.write_backup_folder(
        tmp_path / "00008030-001A", _mms_db(tmp_path / "s.db"), None,
        {f"MediaDomain-{IMAGE_PATH}": image, f"MediaDomain-{AUDIO_PATH}": sound},
    )  # fmt: skip
    summary = run_import(log, [folder], ImportOptions())
    assert (summary.new, summary.rejected) == (3, 0)
    messages = sorted((e for e in log.entries() if e.kind == "sms"), key=lambda e: e.occurred_at)
    first, second, third = messages
    assert first.fields["said"] == "[attachment]看看你家门口"
    assert [(a.name, a.media_type) for a in first.attachments] == [("IMG_4471.jpeg", "image/jpeg")]
    assert b"".join(log.read_attachment(first.attachments[0].sha256)) == image
    assert [a.name for a in second.attachments] == ["Audio Message.amr"]
    assert "not in the backup: left-in-icloud.heic, never-downloaded.png" in second.fields["note"]
    assert third.attachments == () and "note" not in third.fields
    again = run_import(log, [folder], ImportOptions())
    assert (again.new, again.duplicates) == (0, 3)


def test_sms_db_alone_says_where_the_attachments_are(log, tmp_path: Path) -> None:
    summary = run_import(log, [_mms_db(tmp_path / "sms.db")], ImportOptions())
    assert summary.new == 3
    first = min((e for e in log.entries() if e.kind == "sms"), key=lambda e: e.occurred_at)
    assert first.attachments == ()
    assert "import the folder, not sms.db alone: IMG_4471.jpeg" in first.fields["note"]


def test_an_sms_db_with_its_wal_is_read_whole_and_left_unchanged(log, tmp_path: Path) -> None:
    # Pulled from a phone while Messages had it open: the last change is still in the WAL,
    # which an immutable open of sms.db alone would silently miss.
    path = _sms_db(tmp_path / "sms.db")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE message SET text = '只在 WAL 里' WHERE text = '我下周还'")
    writer.commit()
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    for suffix in ("", "-wal"):
        (pulled / f"sms.db{suffix}").write_bytes((tmp_path / f"sms.db{suffix}").read_bytes())
    writer.close()
    before = {p.name: p.read_bytes() for p in pulled.iterdir()}
    run_import(log, [pulled / "sms.db"], ImportOptions())
    said = {e.fields.get("said") for e in log.entries() if e.kind == "sms"}
    assert "只在 WAL 里" in said and "我下周还" not in said
    assert {p.name: p.read_bytes() for p in pulled.iterdir()} == before
