"""vMessage (.vmsg): OPPO/Meizu, X-BOX and Samsung Kies layouts, every quirk, idempotency."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.errors import InvalidInput
from evidence.importers import base, vmsg
from evidence.importers.engine import ImportOptions, run_import
from tests import importfixtures as fx
from tests import oemfixtures as ox
from tests.test_import_fuzz import FUZZ, _check, _mutations

MS = fx.BASE_MS  # 2025-03-01 09:00:00 UTC = 17:00 in Asia/Shanghai

# Hand-written: LF and CRLF mixed, a BOM, a soft line break inside a UTF-8 character,
# DateOrigin, a Date without a zone, plain VBODY lines, Samsung TEXT + X-IRMC-BOX, a VENV
# recipient, GB18030 quoted-printable, a stray line, and three broken blocks between good ones.
QUIRKS = (
    "\ufeffBEGIN:VMSG\r\n"
    "VERSION:1.1\r\n"
    "X-MESSAGE-TYPE:DELIVER\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN:王经理\r\nTEL:+8613800138000\r\nEND:VCARD\r\n"
    "BEGIN:VBODY\r\n"
    "Date:2025/03/01 09:00:00 GMT\r\n"
    # 逾 is E9 80 BE: the soft line break falls between its bytes
    "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=E3=80=90=E6=9F=90=E8=B4=B7=E3=80=91=E6=82=A8=E5=B7=B2=E9=80=\r\n"
    "=BE=E6=9C=9F 3 days\r\n"
    "END:VBODY\r\n"
    "END:VMSG\r\n"
    "this line is outside every block\n"
    "BEGIN:VMSG\n"
    "X-BOX:SENDBOX\nX-READ:READ\nX-SIMID:1\nX-LOCKED:LOCKED\n"
    "BEGIN:VCARD\nTEL:\nEND:VCARD\n"
    "BEGIN:VENV\nBEGIN:VCARD\nTEL:95188\nEND:VCARD\n"
    "BEGIN:VBODY\nDate:2025/03/01 17:01:00\nDateOrigin:1740819660123\n"
    "我下周还\nDate: plain body lines, the second one\n\n"
    "END:VBODY\nEND:VENV\nEND:VMSG\n"
    "BEGIN:VMSG\n"  # broken: END:VCARD missing
    "X-BOX:INBOX\nBEGIN:VCARD\nTEL:13800138001\n"
    "BEGIN:VBODY\nDate:2025/03/01 09:02:00 GMT\nSubject:lost\nEND:VBODY\nEND:VMSG\n"
    "BEGIN:VMSG\n"  # broken: no date at all
    "X-BOX:INBOX\nBEGIN:VCARD\nTEL:13800138002\nEND:VCARD\n"
    "BEGIN:VBODY\nSubject:no date here\nEND:VBODY\nEND:VMSG\n"
    "BEGIN:VMSG\n"  # Samsung Kies, local time, GB18030
    "X-IRMC-BOX:INBOX\nBEGIN:VCARD\nTEL:1069012345\nEND:VCARD\n"
    "BEGIN:VBODY\nDate:2025/03/01 17:04:00\n"
    "TEXT;ENCODING=QUOTED-PRINTABLE;CHARSET=GB18030:=C4=FA=D2=D1=D3=E2=C6=DA\n"
    "END:VBODY\nEND:VMSG\n"
    "BEGIN:VMSG\n"  # broken: the file ends inside it
    "X-BOX:INBOX\nBEGIN:VCARD\nTEL:13800138003\nEND:VCARD\nBEGIN:VBODY\n"
)


def _run(log, *paths: Path, **options):
    return run_import(log, list(paths), ImportOptions(**options))


def _by_said(log):
    return {e.fields.get("said"): e for e in log.entries() if e.kind == "sms"}


def test_quirks_file(log, tmp_path: Path) -> None:
    path = tmp_path / "sms.vmsg"
    path.write_bytes(QUIRKS.encode("utf-8"))
    assert base.detect(path).name == "vmsg"
    summary = _run(log, path)
    assert (summary.records, summary.new, summary.rejected) == (6, 3, 3)
    reasons = {position: reason for _file, position, reason in summary.rejections}
    assert reasons["VMSG #3 (line 37)"] == "line 45: END:VMSG where END:VCARD was expected"
    assert reasons["VMSG #4 (line 46)"] == "no Date or DateOrigin"
    assert reasons["VMSG #6 (line 65)"] == "the file ends inside this block"
    said = _by_said(log)
    first = said["【某贷】您已逾期 3 days"]
    assert first.occurred_at.isoformat() == "2025-03-01T17:00:00+08:00"
    assert first.fields["direction"] == "incoming"
    assert first.fields["number"]["e164"] == "+8613800138000"
    assert first.fields["note"] == "联系人 contact on the phone: 王经理"
    assert first.source is not None and first.source["format"] == "vmsg"
    assert first.source["position"] == "VMSG #1 (line 1)" and first.source["file"] == "sms.vmsg"
    assert "zone_assumed" not in first.source
    sent = said["我下周还\nDate: plain body lines, the second one"]
    assert sent.fields["direction"] == "outgoing" and sent.fields["number"]["raw"] == "95188"
    # DateOrigin (exact, ms) wins over the Date line
    assert sent.occurred_at.isoformat(timespec="milliseconds") == "2025-03-01T17:01:00.123+08:00"
    kies = said["您已逾期"]
    assert kies.fields["number"]["class"] == "sms_port"
    assert kies.occurred_at.isoformat() == "2025-03-01T17:04:00+08:00"
    assert kies.source is not None and kies.source["zone_assumed"] == "Asia/Shanghai"
    assert any("1 message times without a zone" in n and "Asia/Shanghai" in n
               for n in summary.notes)  # fmt: skip
    assert any("1 lines outside any BEGIN:VMSG" in n for n in summary.notes)


def test_local_dates_follow_the_zone_given(log, tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    path = tmp_path / "sms.vmsg"
    path.write_bytes(QUIRKS.encode("utf-8"))
    summary = _run(log, path, zone=ZoneInfo("Europe/London"))
    kies = _by_said(log)["您已逾期"]
    assert kies.occurred_at.astimezone(ZoneInfo("UTC")).hour == 17
    assert any("read as Europe/London" in n for n in summary.notes)


@pytest.mark.parametrize(("style", "newline"), [("oppo", "\r\n"), ("box", "\n"), ("kies", "\r\n")])
def test_generated_files_and_idempotent(log, tmp_path: Path, style: str, newline: str) -> None:
    messages = ox.collection_messages(40)
    path = ox.write_vmsg(tmp_path / "sms.vmsg", messages, style=style, newline=newline)
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (40, 0)
    assert summary.files[0].format == "vmsg" and summary.files[0].original_kept
    entries = sorted((e for e in log.entries() if e.kind == "sms"), key=lambda e: e.occurred_at)
    for message, entry in zip(messages, entries, strict=True):
        assert entry.fields["said"] == message.body
        assert entry.fields["direction"] == ("outgoing" if message.sent else "incoming")
        assert int(entry.occurred_at.timestamp() * 1000) == message.ms
    again = _run(log, path)
    assert (again.new, again.duplicates) == (0, 40)


def test_the_same_sms_from_sbr_is_not_added_twice(log, tmp_path: Path) -> None:
    messages = ox.collection_messages(6)
    sms = [fx.Sms(m.number, m.ms, m.body, type=2 if m.sent else 1) for m in messages]
    xml = fx.write_sms_xml(tmp_path / "sms-1.xml", sms)
    assert _run(log, xml).new == 6
    vm = ox.write_vmsg(tmp_path / "sms.vmsg", messages, style="box")
    summary = _run(log, vm)
    assert (summary.new, summary.duplicates) == (0, 6)


def test_overlong_line_is_rejected_and_reading_goes_on(log, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(vmsg, "MAX_LINE", 256)
    messages = ox.collection_messages(3)
    lines = ox.oppo_block(messages[0])
    lines.insert(13, "Subject:" + "长" * 400)  # ~1.2 KB on one line
    path = tmp_path / "sms.vmsg"
    path.write_text(
        "\r\n".join(lines + ox.oppo_block(messages[1]) + ox.oppo_block(messages[2])) + "\r\n",
        encoding="utf-8",
    )
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (2, 1)
    assert summary.rejections[0][1] == "VMSG #1 (line 1)"
    assert "longer than 256 bytes" in summary.rejections[0][2]


def test_not_a_vmsg_file_is_a_clear_error(log, tmp_path: Path) -> None:
    path = tmp_path / "sms.vmsg"
    path.write_text("hello\nBEGIN:VCARD\nEND:VCARD\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="does not look like"):
        _run(log, path, format="vmsg")
    # The head says vMessage, but no block starts a line: nothing is written.
    path.write_text("x BEGIN:VMSG\n", encoding="utf-8")
    before = log.count()
    with pytest.raises(InvalidInput, match="holds no BEGIN:VMSG block"):
        _run(log, path, format="vmsg")
    assert log.count() == before


def test_parse_date_forms() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    assert vmsg.parse_date("2014/06/29 09:38:53 GMT", zone)[1:] == (1404034733000, False)
    assert vmsg.parse_date("20140629T093853Z", zone)[1:] == (1404034733000, False)
    assert vmsg.parse_date("2014-06-29 17:38:53 +08:00", zone)[1:] == (1404034733000, False)
    assert vmsg.parse_date("2014/06/29 17:38:53", zone)[1:] == (1404034733000, True)
    with pytest.raises(ValueError, match="not a time we know"):
        vmsg.parse_date("yesterday", zone)
    with pytest.raises(ValueError, match="month must be"):
        vmsg.parse_date("2014/13/29 17:38:53", zone)


@FUZZ
@given(data=st.data())
def test_fuzz_vmsg(log, tmp_path: Path, data) -> None:
    seed = QUIRKS.encode("utf-8")
    _check(log, tmp_path, "sms.vmsg", data.draw(_mutations(seed)), "vmsg")


def test_read_ahead_in_a_second_process_gives_the_same_result(log, tmp_path, monkeypatch) -> None:
    from evidence.importers import engine, readahead

    if not readahead.available():
        pytest.skip("needs fork and two cores")
    path = tmp_path / "sms.vmsg"
    path.write_bytes(QUIRKS.encode("utf-8"))
    alone = run_import(log, [path], ImportOptions(dry_run=True))
    monkeypatch.setattr(engine, "READ_AHEAD_BYTES", 0)
    ahead = run_import(log, [path], ImportOptions(read_ahead=True))
    assert (ahead.new, ahead.rejected, ahead.rejections, ahead.notes) == (
        alone.new, alone.rejected, alone.rejections, alone.notes)  # fmt: skip
    assert ahead.new == 3 and log.count() == 4  # and the original file
    empty = tmp_path / "empty.vmsg"
    empty.write_text("x BEGIN:VMSG\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="holds no BEGIN:VMSG block"):
        run_import(log, [empty], ImportOptions(read_ahead=True, format="vmsg"))


def test_crafted_charsets_and_offsets_never_crash(log, tmp_path: Path) -> None:
    cases = [
        ("rot13", "2025/03/01 09:00:00 GMT"),
        ("zlib", "2025/03/01 09:01:00 GMT"),
        ("idna", "2025/03/01 09:02:00 GMT"),
        ('"a\x00b"', "2025/03/01 09:03:00 GMT"),
        ("UTF-8", "2025/03/01 09:04:00 +99:99"),
        ("UTF-8", "0001/01/01 00:00:00 +01:00"),
    ]
    blocks = []
    for charset, date in cases:
        blocks.append(
            "BEGIN:VMSG\nX-BOX:INBOX\nBEGIN:VCARD\nTEL:13800138000\nEND:VCARD\nBEGIN:VBODY\n"
            f"Date:{date}\nTEXT;ENCODING=QUOTED-PRINTABLE;CHARSET={charset}:=E9=80=BE=E6=9C=9F\n"
            "END:VBODY\nEND:VMSG\n"
        )
    path = tmp_path / "sms.vmsg"
    path.write_text("".join(blocks), encoding="utf-8")
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (4, 2)
    assert set(_by_said(log)) == {"逾期"} and summary.new == 4  # unknown charsets read as UTF-8
    reasons = [reason for _file, _position, reason in summary.rejections]
    assert "offset must be a timedelta" in reasons[0]


def test_reading_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    import gc
    import tracemalloc
    from zoneinfo import ZoneInfo

    from evidence.importers.base import ReadContext

    def peak(path: Path) -> tuple[float, int]:
        gc.collect()
        tracemalloc.start()
        try:
            count = sum(1 for _ in vmsg.read_vmsg(path, ReadContext(ZoneInfo("UTC")), path.name))
            return tracemalloc.get_traced_memory()[1] / 2**20, count
        finally:
            tracemalloc.stop()

    from evidence import phone

    phone.normalize("13800138000")  # the number data, loaded once per process, not measured
    small = ox.write_vmsg(tmp_path / "small.vmsg", ox.collection_messages(500))
    large = ox.write_vmsg(tmp_path / "large.vmsg", ox.collection_messages(4000, start=9000))
    assert large.stat().st_size > 7 * small.stat().st_size
    (small_peak, small_count), (large_peak, large_count) = peak(small), peak(large)
    assert (small_count, large_count) == (500, 4000)
    assert large_peak < small_peak * 1.2 + 0.2, (small_peak, large_peak)
