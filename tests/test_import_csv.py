"""CSV: --map, iExplorer and iMazing shapes, encodings, durations and dates."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from evidence import timeutil
from evidence.errors import InvalidInput
from evidence.importers import csvfile
from evidence.importers.engine import ImportOptions, run_import

ZONE = timeutil.zone("Asia/Shanghai")

IEXPLORER = (
    '"Contact","Number","Date","Duration","Call Type","Unformatted Number",'
    '"Number Geo Description"\n'
    '"Bob Smith","+8613800130001","2025-03-02 09:45:48","1:43","Incoming","13800130001","Hunan"\n'
    '"","95188","2025-03-02 10:00:00","0:00","Missed","95188",""\n'
)
IMAZING_CALLS = (
    "Incoming,02/03/25 09:45,00:01:43,+8613800130001,Bob Smith\n"
    "Outgoing,02/03/25 10:45,00:00:00,13800130002,\n"
)
IMAZING_MESSAGES = (
    "Chat Session,Message Date,Delivered Date,Read Date,Service,Type,Sender ID,Sender Name,"
    "Status,Replying to,Subject,Text,Attachment,Attachment type\n"
    "+8613800130001,2025-03-02 09:00:00,,,SMS,Incoming,+8613800130001,,Read,,,您已逾期，请还款,,\n"
    "+8613800130001,2025-03-02 09:05:00,,,SMS,Outgoing,,,Sent,,,下周还,,\n"
    "+8613800130001,2025-03-02 09:06:00,,,SMS,Notification,,,,,,joined,,\n"
)


def _run(log, path, **options):
    return run_import(log, [path], ImportOptions(**options))


def _events(log):
    return [e for e in log.entries() if e.kind != "other"]


def test_iexplorer_calls(log, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(IEXPLORER, encoding="utf-8")
    assert _run(log, path).new == 2
    first, second = _events(log)
    assert first.fields["duration"] == 103 and first.fields["direction"] == "incoming"
    assert first.occurred_at.isoformat() == "2025-03-02T09:45:48+08:00"
    assert second.fields["answered"] is False and second.fields["tags"] == ["missed"]


def test_imazing_calls_without_header(log, tmp_path: Path) -> None:
    path = tmp_path / "Calls.csv"
    path.write_text(IMAZING_CALLS, encoding="utf-8")
    assert _run(log, path).new == 2
    first, second = _events(log)
    assert first.occurred_at.isoformat() == "2025-03-02T09:45:00+08:00"  # day first
    assert first.fields["duration"] == 103
    assert second.fields["direction"] == "outgoing" and second.fields["answered"] is False


def test_imazing_messages_with_bom(log, tmp_path: Path) -> None:
    path = tmp_path / "Messages - Bob.csv"
    path.write_bytes(codecs.BOM_UTF8 + IMAZING_MESSAGES.encode())
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (2, 1)
    incoming, outgoing = _events(log)
    assert incoming.fields["said"] == "您已逾期，请还款"
    assert outgoing.fields["number"]["e164"] == "+8613800130001"  # from the chat session
    assert outgoing.fields["direction"] == "outgoing"
    assert _run(log, path).duplicates == 2


def test_map_and_gb18030(log, tmp_path: Path) -> None:
    path = tmp_path / "导出.csv"
    path.write_bytes(
        "发信人,时间戳,正文,方向\n13800130001,1740819600000,【某贷】逾期通知,接收\n".encode(
            "gb18030"
        )
    )
    summary = _run(
        log, path, csv_map=csvfile.parse_map("number=发信人,at=时间戳,body=正文,direction=方向")
    )
    assert summary.new == 1
    entry = _events(log)[0]
    assert entry.fields["said"] == "【某贷】逾期通知" and entry.fields["direction"] == "incoming"
    assert entry.occurred_at.isoformat() == "2025-03-01T17:00:00+08:00"


def test_chinese_headers_without_map(log, tmp_path: Path) -> None:
    path = tmp_path / "通话.csv"
    path.write_text("号码,通话时间,通话时长,类型\n13800130001,2025/3/2 9:00,1分5秒,未接来电\n",
                    encoding="utf-8")  # fmt: skip
    assert _run(log, path).new == 1
    entry = _events(log)[0]
    assert entry.fields["duration"] == 65 and entry.fields["tags"] == ["missed"]


def test_bad_rows_are_reported_and_missing_columns_are_an_error(log, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("number,date,duration\n138,yesterday,5\n13800130001,2025-03-02 09:00,abc\n",
                    encoding="utf-8")  # fmt: skip
    summary = _run(log, path)
    assert summary.rejected == 2 and [r[1] for r in summary.rejections] == ["line 2", "line 3"]
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no column for at, number"):
        _run(log, path)
    with pytest.raises(InvalidInput, match="--map"):
        csvfile.parse_map("phone=From")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("83", 83), ("1:43", 103), ("01:01:43", 3703), ("1分5秒", 65), ("2小时", 7200), ("", None)],
)
def test_durations(text: str, seconds: int | None) -> None:
    assert csvfile.parse_duration(text) == seconds
