"""Android SQLite databases: Huawei backup, stock calllog/contacts2/mmssms, harassment filter."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.errors import InvalidInput
from evidence.importers import androiddb, base
from evidence.importers.engine import ImportOptions, run_import
from tests import importfixtures as fx
from tests import oemfixtures as ox
from tests.clifixtures import Evidence
from tests.test_import_fuzz import FUZZ, _check, _mutations

MS = fx.BASE_MS  # 2025-03-01 09:00:00 UTC = 17:00 in Asia/Shanghai


def _run(log, *paths: Path, **options):
    return run_import(log, list(paths), ImportOptions(**options))


def _huawei_calllog(path: Path) -> Path:
    return ox.write_huawei_calllog(
        path,
        [
            ("13800130001", MS, 65, 1, "张经理", "江苏省连云港市", 4, 1, "催收"),
            ("13800130002", MS + 60_000, 0, 3, None, None, 9, 2, "骚扰电话"),
            ("95188", MS + 120_000, 12, 2, "", None, None, None, None),
            ("13800130003", None, 10, 1, None, None, None, None, None),  # no time: refused
            (None, MS + 180_000, None, 5, None, None, None, None, None),  # no number, no duration
            ("13800130004", str(MS // 1000 + 240), "x", 9, None, None, None, None, None),
        ],
    )


def _huawei_sms(path: Path) -> Path:
    return ox.write_huawei_sms(
        path,
        [
            (1, MS, "13800130001", 1, "【某贷】您已逾期，请还款"),
            (2, MS + 60_000, "13800130001", 2, "我下周还"),
            (3, MS + 120_000, "1069012345", 1, None),
            (4, "not a date", "13800130005", 1, "bad date"),
        ],
    )


def test_huawei_calllog(log, tmp_path: Path) -> None:
    path = _huawei_calllog(tmp_path / "calllog.db")
    assert base.detect(path).name == "android-db"
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (5, 1)
    assert summary.rejections[0][1:] == ("calls_tb row #4", "no date")
    calls = {e.fields["number"]["raw"]: e for e in log.entries() if e.kind == "call"}
    first = calls["13800130001"]
    assert first.occurred_at.isoformat() == "2025-03-01T17:00:00+08:00"
    assert (first.fields["direction"], first.fields["answered"], first.fields["duration"]) == (
        "incoming", True, 65)  # fmt: skip
    # the crowd label stays with the evidence: a tag and the note, and --keywords sees it
    assert first.fields["tags"] == ["号码标记 催收"]
    assert "号码标记 number marked on the phone: 催收 (mark_type 1)" in first.fields["note"]
    assert "ring_times 4" in first.fields["note"]
    assert "联系人 contact on the phone: 张经理" in first.fields["note"]
    assert "归属地 location: 江苏省连云港市" in first.fields["note"]
    missed = calls["13800130002"]
    assert missed.fields["answered"] is False
    assert missed.fields["tags"] == ["missed", "号码标记 骚扰电话"]
    assert calls["95188"].fields["direction"] == "outgoing" and calls["95188"].fields["answered"]
    hidden = calls["unknown"]
    assert hidden.fields["tags"] == ["rejected"] and "duration" not in hidden.fields
    odd = calls["13800130004"]  # epoch seconds as text, a duration that is not a number
    assert odd.occurred_at.isoformat() == "2025-03-01T17:04:00+08:00"
    assert odd.fields["tags"] == ["call type 9"] and "duration" not in odd.fields
    assert first.source is not None and first.source["format"] == "android-db"
    assert first.source["position"] == "calls_tb row #1"
    assert first.source["file"] == "calllog.db" and len(first.source["file_sha256"]) == 64


def test_keywords_find_the_crowd_label(log, tmp_path: Path) -> None:
    from evidence.importers.selection import Selection, keywords_from

    path = _huawei_calllog(tmp_path / "calllog.db")
    selection = Selection(keywords=keywords_from(["骚扰电话"]))
    summary = _run(log, path, selection=selection)
    assert summary.new == 1
    assert [e.fields["number"]["raw"] for e in log.entries() if e.kind == "call"] == ["13800130002"]


def test_kobackup_db_folder_and_idempotent(log, tmp_path: Path) -> None:
    folder = tmp_path / "HUAWEI P30_2025-03-01" / "db"
    folder.mkdir(parents=True)
    _huawei_calllog(folder / "calllog.db")
    _huawei_sms(folder / "sms.db")
    (folder / "contact.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)  # not ours
    (folder / "harassment.db").write_bytes(_unknown_harassment(tmp_path / "h.db").read_bytes())
    backup = folder.parent
    assert base.detect(backup).name == "android-db"
    summary = _run(log, backup)
    names = [f.name for f in summary.files]
    # texts before calls, the harassment.db of an unknown layout named in a note
    assert names[0] == "HUAWEI P30_2025-03-01/db/sms.db"
    assert names[-1] == "HUAWEI P30_2025-03-01/db/calllog.db"
    assert (summary.new, summary.rejected) == (8, 2)
    assert any("harassment.db" in n and "not supported yet" in n for n in summary.notes)
    by_said = {e.fields.get("said"): e for e in log.entries() if e.kind == "sms"}
    first = by_said["【某贷】您已逾期，请还款"]
    assert first.fields["direction"] == "incoming"
    assert first.source is not None and first.source["position"] == "sms_tb group_id 1"
    assert by_said["我下周还"].fields["direction"] == "outgoing"
    assert "said" not in by_said[None].fields  # a NULL body
    again = _run(log, backup)
    assert (again.new, again.duplicates) == (0, 8)


def test_stock_contacts2_and_mmssms(log, tmp_path: Path) -> None:
    calls = ox.write_stock_calls(
        tmp_path / "contacts2.db",
        [
            ("13800130001", MS, 30, 1, "张三", 1, 100),
            ("13800130001", MS + 1000, 0, 6, None, 1, 100),  # blocked
            ("", MS + 2000, 0, 3, None, 2, 100),  # withheld
            ("13800130001", MS + 3000, 0, 1, None, 1, 300),  # vivo: a message row
            ("13800130001", MS + 4000, 0, 1, None, 1, 300),
            ("13800130002", MS + 5000, 0, 2, None, 1, None),  # outgoing, not answered
        ],
    )
    sms = ox.write_mmssms(
        tmp_path / "mmssms.db",
        [
            ("13800130001", MS, 1, "【某贷】今日不还款将上门", 0),
            ("13800130009", MS + 10, 1, "拦截的催收短信", 1),  # Xiaomi: blocked
            ("13800130001", MS + 20, 3, "草稿", 0),
        ],
    )
    summary = _run(log, calls, sms)
    assert (summary.new, summary.rejected) == (7, 0)
    assert [f.name for f in summary.files] == ["mmssms.db", "contacts2.db"]
    assert any("2 rows of the calls table with logtype=300" in n for n in summary.notes)
    entries = list(log.entries())
    got = [e for e in entries if e.kind == "call"]
    tags = [c.fields.get("tags", []) for c in got]
    assert tags == [[], ["blocked"], ["caller ID withheld", "missed"], []]
    assert got[0].source is not None and got[0].source["position"] == "calls _id 1"
    assert got[3].fields["answered"] is False and got[3].fields["direction"] == "outgoing"
    texts = {e.fields["said"]: e for e in entries if e.kind == "sms"}
    assert texts["拦截的催收短信"].fields["tags"] == ["MIUI block_type 1"]
    assert texts["草稿"].fields["tags"] == ["draft"]


def test_same_records_as_sbr_are_not_added_twice(log, tmp_path: Path) -> None:
    messages = [
        fx.Sms("13800130001", MS, "【某贷】您已逾期", 1),
        fx.Sms("13800130001", MS + 5, "好", 2),
    ]
    calls = [fx.Call("13800130001", MS, 1, 30), fx.Call("13800130001", MS + 9, 3, 0)]
    assert _run(log, fx.write_sms_xml(tmp_path / "sms.xml", messages),
                fx.write_calls_xml(tmp_path / "calls.xml", calls)).new == 4  # fmt: skip
    sms = ox.write_mmssms(tmp_path / "mmssms.db",
                          [(m.address, m.date, m.type, m.body, 0) for m in messages])  # fmt: skip
    calllog = ox.write_stock_calls(tmp_path / "calllog.db",
                                   [(c.number, c.date, c.duration, c.type, None, 1, None)
                                    for c in calls])  # fmt: skip
    summary = _run(log, sms, calllog)
    assert (summary.new, summary.duplicates) == (0, 4)


def test_huawei_harassment_filter(log, tmp_path: Path) -> None:
    path = ox.write_harassment(
        tmp_path / "HarassmentInterception.db",
        [("13800130007", "", MS, 2, 15), ("13800130008", "某催收", None, 0, 0)],
        [("10690123", "【某贷】拦截短信", MS + 1000, 1, None),
         ("13800130007", None, MS + 2000, 3, b"\x8c\x84")],
    )  # fmt: skip
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (3, 1)
    assert summary.rejections[0][1:] == ("interception_calls _id 2", "no date")
    call = next(e for e in log.entries() if e.kind == "call")
    assert call.fields["direction"] == "incoming" and call.fields["answered"] is False
    assert call.fields["tags"] == ["blocked"] and call.fields["duration"] == 0
    assert "block_reason 2" in call.fields["note"] and "mark_count 15" in call.fields["note"]
    texts = sorted((e for e in log.entries() if e.kind == "sms"), key=lambda e: e.occurred_at)
    assert texts[0].fields["said"] == "【某贷】拦截短信" and texts[0].fields["tags"] == ["blocked"]
    assert "彩信 MMS" in texts[1].fields["note"]


def _unknown_harassment(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE blocked_log (a TEXT, b INTEGER)")
    conn.execute("INSERT INTO blocked_log VALUES ('13800130001', 1)")
    conn.commit()
    conn.close()
    return path


def test_harassment_db_of_unknown_layout_is_refused(log, tmp_path: Path) -> None:
    path = _unknown_harassment(tmp_path / "harassment.db")
    assert base.detect(path).name == "android-db"
    with pytest.raises(InvalidInput, match=r"not supported yet \(its tables: blocked_log\)"):
        _run(log, path)
    assert log.count() == 0


def test_other_databases_name_their_tables(log, tmp_path: Path) -> None:
    path = tmp_path / "contacts2.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE raw_contacts (_id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(InvalidInput, match=r"its tables: raw_contacts"):
        _run(log, path)
    # an iPhone sms.db is not claimed by its name
    ios = fx.write_sms_db(tmp_path / "sms.db", [("+8613800130001", fx.ios_ns(MS), "x", 0,
                                                 "SMS", None)])  # fmt: skip
    assert base.detect(ios).name == "ios-backup"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.db").write_bytes(path.read_bytes())
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        _run(log, empty)
    with pytest.raises(InvalidInput, match="no Android call log or SMS database"):
        androiddb.AndroidDb().units(empty)


def test_wal_is_read_from_a_copy_and_the_file_is_never_changed(log, tmp_path: Path) -> None:
    path = tmp_path / "mmssms.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(ox.STOCK_SMS)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.commit()
    conn.execute("INSERT INTO sms (address, date, type, body) VALUES ('13800130001', ?, 1, ?)",
                 (MS, "只在 WAL 里"))  # fmt: skip
    conn.commit()
    # Copy the files as they are on the phone (the writer still open): the row is in the WAL.
    folder = tmp_path / "pulled"
    folder.mkdir()
    for suffix in ("", "-wal"):
        (folder / f"mmssms.db{suffix}").write_bytes(
            path.with_name(f"mmssms.db{suffix}").read_bytes()
        )
    conn.close()
    pulled = folder / "mmssms.db"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    summary = _run(log, pulled)
    assert summary.new == 1
    assert next(e for e in log.entries() if e.kind == "sms").fields["said"] == "只在 WAL 里"
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert after == before  # nothing written, no -shm left beside the user's file


def test_cli_imports_a_kobackup_folder(tmp_path: Path, database_url: str) -> None:
    evidence = Evidence(tmp_path, database_url)
    evidence.init()
    folder = tmp_path / "db"
    folder.mkdir()
    _huawei_calllog(folder / "calllog.db")
    _huawei_sms(folder / "sms.db")
    out = evidence("import", str(folder)).output
    assert "10 records read from 2 file(s)." in out
    assert "  8 new" in out and "  2 rejected" in out
    assert "calls_tb row #4" in out and "original kept" in out
    again = evidence("import", "--format", "android-db", str(folder)).output
    assert "  0 new" in again and "  8 already in the log" in again
    listed = evidence("list").output
    assert "您已逾期" in listed


@pytest.fixture(scope="module")
def calllog_seed(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("seed") / "calllog.db"
    return _huawei_calllog(path).read_bytes()


@FUZZ
@given(data=st.data())
def test_fuzz_huawei_calllog(log, tmp_path: Path, calllog_seed: bytes, data) -> None:
    _check(log, tmp_path, "calllog.db", data.draw(_mutations(calllog_seed)), "android-db")


@pytest.fixture(scope="module")
def mmssms_seed(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("seed") / "mmssms.db"
    return ox.write_mmssms(path, [("13800130001", MS + i, 1 + i % 2, f"逾期{i}", i % 2)
                                  for i in range(3)]).read_bytes()  # fmt: skip


@FUZZ
@given(data=st.data())
def test_fuzz_mmssms(log, tmp_path: Path, mmssms_seed: bytes, data) -> None:
    _check(log, tmp_path, "mmssms.db", data.draw(_mutations(mmssms_seed)), "android-db")


def test_encrypted_backup_says_to_decrypt_it_first(log, tmp_path: Path) -> None:
    folder = tmp_path / "HUAWEI" / "db"
    folder.mkdir(parents=True)
    (folder / "calllog.db").write_bytes(b"\x9a\x17" + bytes(range(256)) * 4)  # AES output
    (folder / "sms.db").write_bytes(b"\x03\xfe" + bytes(range(256)) * 4)
    for path in (folder.parent, folder / "calllog.db"):
        assert base.detect(path).name == "android-db"
        with pytest.raises(InvalidInput, match=r"not (an )?SQLite database.*kobackupdec"):
            _run(log, path)
    assert log.count() == 0


def test_read_ahead_in_a_second_process(log, tmp_path: Path, monkeypatch) -> None:
    from evidence.importers import engine, readahead

    if not readahead.available():
        pytest.skip("needs fork and two cores")
    monkeypatch.setattr(engine, "READ_AHEAD_BYTES", 0)
    folder = tmp_path / "db"
    folder.mkdir()
    _huawei_calllog(folder / "calllog.db")
    _huawei_sms(folder / "sms.db")
    summary = run_import(log, [folder], ImportOptions(read_ahead=True))
    assert (summary.new, summary.rejected) == (8, 2)
    assert [r[1] for r in summary.rejections] == ["sms_tb group_id 4", "calls_tb row #4"]
