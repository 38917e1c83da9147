"""Android SMS Backup & Restore: sms, mms, calls, the ZIP form, every quirk, idempotency."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from evidence.errors import InvalidInput
from evidence.importers import xmlsafe
from evidence.importers.engine import ImportOptions, run_import
from evidence.importers.selection import Selection, keywords_from
from tests import importfixtures as fx

# A hand-written file with every quirk of formats.md §1.5: surrogate-pair emoji (decimal
# and hex), control-character references, "null" vs empty vs missing attributes, a wrong
# count, numbers -1/-2/1069…/95188/+86…/0086…, an undocumented type, seconds for ms.
QUIRKS = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<!--File Created By SMS Backup & Restore v10.05.602 on 06/08/2025 02:10:16-->
<?xml-stylesheet type="text/xsl" href="sms.xsl"?>
<smses count="99" backup_set="x" backup_date="1740819600000" type="full">
  <sms protocol="0" address="+8613800138000" date="1740819600000" type="1" subject="null"
    body="【某贷】您已逾期 &#55357;&#56865;&#10;请回电" toa="null" sc_toa="null"
    service_center="+8613800100500" read="1" status="-1" locked="0" date_sent="0" sub_id="-1"
    readable_date="1 mars 2025" contact_name="(Unknown)" />
  <sms protocol="0" address="008613800138000" date="1740819660000" type="2" subject="null"
    body="hex &#xD83D;&#xDE00; ctl &#1;&#x11; end" toa="null" sc_toa="null"
    service_center="null" read="1" status="-1" locked="0" />
  <sms protocol="0" address="1069012345" date="1740819720000" type="1" body="null"
    contact_name="" />
  <sms protocol="0" address="95188" date="1740819780000" type="7" body="" />
  <sms protocol="0" address="-1" date="1740819840000" type="1"
    body="no contact_name attribute" />
  <sms protocol="0" address="-2" date="1740819900" type="1" body="epoch seconds" />
  <sms protocol="0" address="13800138000" date="null" type="1" body="no date" />
  <sms protocol="0" address="13800138000" date="abc" type="1" body="bad date" />
  <sms protocol="0" date="1740819960000" type="1" body="no address at all" />
</smses>
"""


def _run(log, *paths: Path, **options):
    return run_import(log, list(paths), ImportOptions(**options))


def _by_said(log):
    return {e.fields.get("said"): e for e in log.entries() if e.kind == "sms"}


def test_quirks_file(log, tmp_path: Path) -> None:
    path = tmp_path / "sms-20250301090000.xml"
    path.write_text(QUIRKS, encoding="utf-8")
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (7, 2)
    assert {r[1]: r[2] for r in summary.rejections} == {
        "<sms> #7": "no date",
        "<sms> #8": "invalid literal for int() with base 10: 'abc'",
    }
    assert any("count=99, it holds 9" in note for note in summary.notes)
    said = _by_said(log)
    first = said["【某贷】您已逾期 😡\n请回电"]
    assert first.fields["number"]["e164"] == "+8613800138000"
    assert first.fields["direction"] == "incoming"
    assert first.occurred_at.isoformat() == "2025-03-01T17:00:00+08:00"
    assert "hex 😀 ctl \ufffd\ufffd end" in said
    assert said["hex 😀 ctl \ufffd\ufffd end"].fields["number"]["e164"] == "+8613800138000"
    by_raw = {e.fields["number"]["raw"]: e for e in log.entries() if e.kind == "sms"}
    port = by_raw["1069012345"]
    assert "said" not in port.fields and port.fields["number"]["class"] == "sms_port"
    short = by_raw["95188"]
    assert short.fields["tags"] == ["sms type 7"] and "direction" not in short.fields
    assert said["no contact_name attribute"].fields["number"]["class"] == "hidden"
    assert said["epoch seconds"].occurred_at.isoformat() == "2025-03-01T17:05:00+08:00"
    assert said["no address at all"].fields["number"]["class"] == "hidden"
    source = first.source
    assert source is not None and source["format"] == "sbr-xml"
    assert source["file"] == path.name and source["position"] == "<sms> #1"
    assert len(source["file_sha256"]) == 64


def test_sms_mms_calls_and_the_original_kept(log, tmp_path: Path) -> None:
    mms = fx.mms_element("+8613800130001", fx.BASE_MS + 5, "彩信：律师函已寄出")
    sms = fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(30), extra=mms)
    calls = fx.write_calls_xml(tmp_path / "calls.xml", fx.collection_calls(12))
    summary = _run(log, sms, calls)
    assert (summary.new, summary.duplicates, summary.rejected) == (43, 0, 0)
    entries = log.entries()
    originals = [e for e in entries if e.kind == "other"]
    assert [o.attachments[0].name for o in originals] == ["sms.xml", "calls.xml"]
    assert b"".join(log.read_attachment(originals[0].attachments[0].sha256)) == sms.read_bytes()
    assert originals[0].attachments[0].sha256 == summary.files[0].sha256
    message = next(e for e in entries if "mms" in e.fields.get("tags", []))
    assert message.fields["said"] == "彩信：律师函已寄出"
    assert message.attachments[0].media_type == "image/png"
    assert b"".join(log.read_attachment(message.attachments[0].sha256)) == fx.PNG
    kinds = {e.fields.get("tags", [""])[0] if e.fields.get("tags") else "" for e in entries
             if e.kind == "call"}  # fmt: skip
    assert {"missed", "voicemail", "rejected", "blocked"} <= kinds
    missed = next(e for e in entries if "missed" in e.fields.get("tags", []))
    assert missed.fields["answered"] is False and missed.fields["direction"] == "incoming"


def test_reimport_and_overlap_add_nothing_new(log, tmp_path: Path) -> None:
    first = fx.write_sms_xml(tmp_path / "sms-1.xml", fx.collection_sms(40))
    second = fx.write_sms_xml(tmp_path / "sms-2.xml", fx.collection_sms(40, start=25))
    calls = fx.write_calls_xml(tmp_path / "calls.xml", fx.collection_calls(10))
    assert _run(log, first, calls, batch_size=7).new == 50
    size = log.count()
    again = _run(log, first, calls)
    assert (again.new, again.duplicates) == (0, 50)
    assert log.count() == size  # not even a second copy of the originals
    overlap = _run(log, second, batch_size=9)
    assert (overlap.new, overlap.duplicates) == (25, 15)
    assert len([e for e in log.entries() if e.kind == "sms"]) == 65


def test_resumes_exactly_after_an_interruption(log, tmp_path: Path, monkeypatch) -> None:
    path = fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(50))
    calls = {"n": 0}
    original = log.append_new

    def failing(drafts, seqs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(drafts, seqs)

    monkeypatch.setattr(log, "append_new", failing)
    with pytest.raises(KeyboardInterrupt):
        _run(log, path, batch_size=10)
    assert log.count() == 20  # two batches committed, the third never was
    monkeypatch.setattr(log, "append_new", original)
    resumed = _run(log, path, batch_size=10)
    assert (resumed.new, resumed.duplicates) == (30, 20)
    assert len({e.fields["said"] for e in log.entries() if e.kind == "sms"}) == 50


def test_zip_form(log, tmp_path: Path) -> None:
    sms = fx.write_sms_xml(tmp_path / "sms-1.xml", fx.collection_sms(5))
    calls = fx.write_calls_xml(tmp_path / "calls-1.xml", fx.collection_calls(4))
    archive = fx.write_zip(tmp_path / "backup.zip", {"sms-1.xml": sms, "calls-1.xml": calls})
    summary = _run(log, archive)
    assert summary.new == 9
    entry = next(e for e in log.entries() if e.kind == "call")
    assert entry.source is not None and entry.source["position"] == "calls-1.xml: <call> #1"
    assert entry.source["file"] == "backup.zip"
    assert _run(log, sms, calls).new == 0  # the same records, unzipped: nothing new


def test_encrypted_zip_is_a_clear_error(log, tmp_path: Path) -> None:
    path = tmp_path / "sms.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sms-1.xml", "<smses/>")
    data = bytearray(path.read_bytes())
    data[6] |= 1  # the "encrypted" flag of the local header
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="encrypted ZIP"):
        _run(log, path, format="sbr-xml")
    assert log.count() == 0


BOMB = """<?xml version="1.0"?>
<!DOCTYPE smses [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<smses count="1"><sms address="1" date="1740819600000" type="1" body="&b;" /></smses>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE smses [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<smses count="1"><sms address="1" date="1740819600000" type="1" body="&x;" /></smses>
"""


@pytest.mark.parametrize("text", [BOMB, XXE], ids=["bomb", "external-entity"])
def test_xml_bombs_and_external_entities_are_refused(log, tmp_path: Path, text: str) -> None:
    path = tmp_path / "sms.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match="refused"):
        _run(log, path, format="sbr-xml")
    assert log.count() == 0


def test_damaged_file_keeps_what_came_before(log, tmp_path: Path) -> None:
    path = fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(5))
    path.write_bytes(path.read_bytes()[:-60])  # a backup cut short
    summary = _run(log, path)
    assert summary.new == 4
    assert summary.rejected == 1 and "damaged at line" in summary.rejections[0][2]


def test_not_xml_at_all_is_a_clear_error(log, tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_bytes(b"<smses><<<")
    with pytest.raises(InvalidInput, match="cannot read"):
        _run(log, path, format="sbr-xml")
    path.write_bytes(b"<html><body>hello</body></html>")
    with pytest.raises(InvalidInput, match="does not look like Android SMS Backup"):
        _run(log, path, format="sbr-xml")
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        _run(log, path)


def test_filters_platforms_and_dry_run(log, tmp_path: Path) -> None:
    messages = [
        fx.Sms("13800130001", fx.BASE_MS, "【安逸花】您已逾期3天"),
        fx.Sms("13800130002", fx.BASE_MS + 1000, "妈，周末回家吃饭"),
        fx.Sms("95188", fx.BASE_MS + 2000, "支付宝账单提醒"),
        fx.Sms("13800130003", fx.BASE_MS - 86_400_000 * 30, "逾期很久以前"),
    ]
    path = fx.write_sms_xml(tmp_path / "sms.xml", messages)
    selection = Selection(
        numbers={"95188"},
        keywords=keywords_from(["default"]),
        since=fx.datetime(2025, 2, 1, tzinfo=fx.UTC),
        platform_numbers={"95188": "借呗"},
        platform_keywords={"安逸花": "安逸花"},
    )
    dry = _run(log, path, selection=selection, dry_run=True)
    assert (dry.new, dry.filtered, log.count()) == (2, 2, 0)
    assert dry.filtered_by == {"neither a listed number nor a keyword": 1, "before --since": 1}
    summary = _run(log, path, selection=selection)
    assert (summary.new, summary.filtered) == (2, 2)
    assert dict(summary.by_platform) == {"安逸花": 1, "借呗": 1}
    assert {e.fields.get("platform") for e in log.entries() if e.kind == "sms"} == {
        "安逸花",
        "借呗",
    }


def test_cleaning_across_chunk_boundaries() -> None:
    import io

    pair = b"&#55357;&#56865;"
    for offset in range(0, 40):
        data = b"x" * (xmlsafe.CHUNK - offset) + pair + b"&#1;" + b"y" * 10
        reader = xmlsafe.CleanReader(io.BytesIO(data))
        out = b"".join(iter(lambda: reader.read(), b""))
        assert out == b"x" * (xmlsafe.CHUNK - offset) + "😡\ufffd".encode() + b"y" * 10


def test_dedup_keys_do_not_change_between_versions(log, tmp_path: Path) -> None:
    # A later version must find what an earlier one imported: these keys are pinned.
    from evidence import timeutil
    from evidence.importers import base, sbr

    ctx = base.ReadContext(zone=timeutil.zone("Asia/Shanghai"))
    sms = {"address": "+8613800138000", "date": "1740819600000", "type": "1",
           "body": "逾期 😡\n", "contact_name": "(Unknown)"}  # fmt: skip
    assert sbr._sms(sms, ctx, "p").dedup_key == (
        "sms|+8613800138000|1740819600000|incoming|"
        "999cbb11a7bd684737ed3464984730bfb8271cd03752b3761dd9bf3abfd57765"
    )
    odd = {"address": " null ", "date": "1740819600", "type": "9", "body": "NULL"}
    assert sbr._sms(odd, ctx, "p").dedup_key == (
        "sms|unknown|1740819600000|Nonesms type 9|"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    call = {"number": "95188", "date": "1740819600000", "type": "2", "duration": "null"}
    assert sbr._call(call, ctx, "p", superbackup=False).dedup_key == (
        "call|95188|1740819600000|outgoing||"
    )
    hidden = {"number": "-1", "date": "1740819600000", "type": "3", "duration": "0"}
    assert sbr._call(hidden, ctx, "p", superbackup=False).dedup_key == (
        "call|1|1740819600000|incomingmissed|0|0"
    )


def test_an_overlong_type_code_is_cut_not_refused(log, tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        f'<smses count="1"><sms address="13800138000" date="{fx.BASE_MS}" type="{"9" * 300}" '
        'body="催收" /></smses>',
        encoding="utf-8",
    )
    summary = _run(log, path)
    assert (summary.new, summary.rejected) == (1, 0)
    (entry,) = [e for e in log.entries() if e.kind == "sms"]
    assert entry.fields["tags"] == ["sms type " + "9" * 20]
