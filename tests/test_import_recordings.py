"""Call-recording folders: vendor names, the zone assumed, attaching to calls already logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence import timeutil
from evidence.importers import recordings
from evidence.importers.engine import ImportOptions, run_import
from tests import importfixtures as fx


@pytest.mark.parametrize(
    ("name", "vendor", "number", "contact", "stamp"),
    [
        ("通话录音@176 8831 4515(17688314515)_20180814153840.mp3", "miui", "17688314515",
         "176 8831 4515", "20180814153840"),
        ("通话录音@博彦面试1(18757143260)_20171222200305.mp3", "miui", "18757143260", "博彦面试1",
         "20171222200305"),
        ("Вызов@112(Экстренный номер)_20220428142049.mp3", "miui", "Экстренный номер", "112",
         "20220428142049"),
        ("张经理@138 0013 0002_20250302100000.amr", "huawei", "138 0013 0002", "张经理",
         "20250302100000"),
        ("Call recording 13800130003_250303_110000.m4a", "samsung", "13800130003", None,
         "250303_110000"),
        ("134 1096 1780_20220425103455.m4a", "number-time", "134 1096 1780", None,
         "20220425103455"),
        ("妈妈_20220425103455.m4a", "name-time", None, "妈妈", "20220425103455"),
    ],
)  # fmt: skip
def test_vendor_names(name, vendor, number, contact, stamp) -> None:
    parsed = recordings.parse_name(name)
    assert parsed is not None
    assert parsed[:3] == (vendor, number, contact) and parsed[3].split("|")[0] == stamp


def test_unknown_names_are_rejected_not_guessed() -> None:
    assert recordings.parse_name("voice memo.m4a") is None


def test_recordings_become_calls_with_the_file_and_the_zone_said(log, tmp_path: Path) -> None:
    folder = fx.write_recordings(tmp_path / "call_rec")
    (folder / "notes.txt").write_text("not audio")
    (folder / "random.mp3").write_bytes(b"ID3")
    summary = run_import(log, [folder], ImportOptions())
    assert (summary.new, summary.rejected) == (5, 1)
    assert summary.rejections[0][1] == "random.mp3"
    assert any("read as Asia/Shanghai" in note for note in summary.notes)
    calls = {e.fields["number"]["raw"]: e for e in log.entries()}
    miui = calls["008613800130001"]
    assert miui.fields["number"]["e164"] == "+8613800130001"
    assert miui.occurred_at.isoformat() == "2025-03-01T17:10:00+08:00"
    assert miui.source is not None and miui.source["zone_assumed"] == "Asia/Shanghai"
    assert miui.source["vendor_pattern"] == "miui"
    assert miui.attachments[0].name.endswith(".mp3")
    assert miui.source["file_sha256"] == miui.attachments[0].sha256
    again = run_import(log, [folder], ImportOptions())
    assert (again.new, again.duplicates) == (0, 5)


def test_another_zone_can_be_assumed(log, tmp_path: Path) -> None:
    folder = fx.write_recordings(tmp_path / "rec", fx.RECORDING_NAMES[:1])
    run_import(log, [folder], ImportOptions(zone=timeutil.zone("Europe/Moscow")))
    entry = log.entries()[0]
    assert entry.occurred_at.isoformat() == "2025-03-01T17:00:05+03:00"


def test_a_recording_is_attached_to_the_matching_call(log, tmp_path: Path) -> None:
    # 17:00:00 +08:00 incoming call from 13800130001, 17:10:00 a missed one from it
    calls = fx.write_calls_xml(
        tmp_path / "calls.xml",
        [
            fx.Call("13800130001", fx.BASE_MS, 1, 300),
            fx.Call("13800130001", fx.BASE_MS + 600_000 - 30_000, 3, 0),
            fx.Call("13800130001", fx.BASE_MS + 600_000 + 60_000, 1, 40),
        ],
    )
    folder = fx.write_recordings(tmp_path / "rec", fx.RECORDING_NAMES[1:2])  # 17:10:00
    summary = run_import(log, [folder, calls], ImportOptions())  # recordings run last
    assert (summary.new, summary.attached) == (3, 1)
    entries = log.entries()
    amend = next(e for e in entries if e.kind == "amend")
    target = next(e for e in entries if e.seq == amend.target)
    # the answered call 60 s later is preferred over the missed one 30 s before
    assert target.fields["duration"] == 40 and target.amended_by == (amend.seq,)
    assert amend.attachments[0].name == fx.RECORDING_NAMES[1]
    assert "Asia/Shanghai" in amend.fields["reason"]
    dry = run_import(log, [folder, calls], ImportOptions(dry_run=True))
    again = run_import(log, [folder, calls], ImportOptions())
    assert (dry.new, dry.attached, dry.duplicates) == (0, 0, 4)
    assert (again.new, again.attached, again.duplicates) == (0, 0, 4)
