"""Any bytes in: a clean result or a clear error, never a crash, never a partial write."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.errors import EvidenceError
from evidence.importers import recordings
from evidence.importers.engine import ImportOptions, run_import
from tests import importfixtures as fx

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_counter = itertools.count()


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, and a valid file with bytes replaced, inserted or cut."""

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 6))):
            at = draw(st.integers(0, max(0, len(data) - 1)))
            action = draw(st.sampled_from(["flip", "insert", "cut", "truncate"]))
            if action == "flip" and data:
                data[at] = draw(st.integers(0, 255))
            elif action == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=12))
            elif action == "cut":
                del data[at : at + draw(st.integers(1, 40))]
            else:
                del data[at:]
        return bytes(data)

    return st.one_of(st.binary(max_size=400), mutate())


def _check(log, tmp_path: Path, name: str, data: bytes, fmt: str) -> None:
    folder = tmp_path / f"case{next(_counter)}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    before = log.count()
    try:
        summary = run_import(log, [path], ImportOptions(format=fmt))
    except EvidenceError:
        assert log.count() == before, "an import that failed wrote entries"
        return
    assert log.count() - before == summary.new + summary.attached + summary.originals
    assert (
        summary.records
        == summary.new
        + summary.duplicates
        + summary.filtered
        + (summary.rejected)
        + summary.attached
    )


def _seed_xml(tmp_path: Path) -> bytes:
    mms = fx.mms_element("+8613800130001", fx.BASE_MS + 5, "彩信", image=b"img")
    path = fx.write_sms_xml(tmp_path / "seed.xml", fx.collection_sms(3), extra=mms)
    return path.read_bytes().replace("【某贷】".encode(), b"&#55357;&#56865;&#1;")


@FUZZ
@given(data=st.data())
def test_sbr_xml(log, tmp_path: Path, data) -> None:
    seed = _seed_xml(tmp_path)
    _check(log, tmp_path, "sms.xml", data.draw(_mutations(seed)), "sbr-xml")


@FUZZ
@given(data=st.data())
def test_sbr_zip(log, tmp_path: Path, data) -> None:
    xml = tmp_path / "sms-1.xml"
    xml.write_bytes(_seed_xml(tmp_path))
    seed = fx.write_zip(tmp_path / "seed.zip", {"sms-1.xml": xml}).read_bytes()
    _check(log, tmp_path, "sms.zip", data.draw(_mutations(seed)), "sbr-xml")


@pytest.fixture(scope="module")
def sms_db_seed(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("seed") / "sms.db"
    rows = [("+8613800130001", fx.ios_ns(fx.BASE_MS + i), f"逾期{i}", i % 2, "SMS", None)
            for i in range(3)]  # fmt: skip
    return fx.write_sms_db(path, rows).read_bytes()


@FUZZ
@given(data=st.data())
def test_ios_sms_db(log, tmp_path: Path, sms_db_seed: bytes, data) -> None:
    _check(log, tmp_path, "sms.db", data.draw(_mutations(sms_db_seed)), "ios-backup")


@pytest.fixture(scope="module")
def calls_seed(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("seed") / "CallHistory.storedata"
    rows = [(b"+8613800130001", 762_000_000.0, 12.0, 0, 1, 1)]
    return fx.write_call_history(path, rows).read_bytes()  # type: ignore[arg-type]


@FUZZ
@given(data=st.data())
def test_ios_call_history(log, tmp_path: Path, calls_seed: bytes, data) -> None:
    _check(log, tmp_path, "CallHistory.storedata", data.draw(_mutations(calls_seed)), "ios-backup")


@FUZZ
@given(data=st.data())
def test_csv(log, tmp_path: Path, data) -> None:
    seed = (
        "号码,通话时间,通话时长,类型,内容\n13800130001,2025/3/2 9:00,1分5秒,未接来电,逾期\n"
        "95188,1740819600000,1:02,Incoming,x\n"
    ).encode()
    _check(log, tmp_path, "calls.csv", data.draw(_mutations(seed)), "csv")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_recording_names(name: str) -> None:
    parsed = recordings.parse_name(name)
    assert parsed is None or parsed[0] in {p[0] for p in recordings.PATTERNS}


@FUZZ
@given(name=st.sampled_from(fx.RECORDING_NAMES), tail=st.text(max_size=12))
def test_recording_folders(log, tmp_path: Path, name: str, tail: str) -> None:
    stem, dot, ext = name.rpartition(".")
    odd = (stem + tail).replace("/", "_").replace("\x00", "")[:200] + dot + ext
    folder = tmp_path / f"rec{next(_counter)}"
    try:
        fx.write_recordings(folder, [odd])
    except (OSError, UnicodeEncodeError):
        return  # a name this filesystem cannot hold
    before = log.count()
    summary = run_import(log, [folder], ImportOptions(format="recordings"))
    assert log.count() - before == summary.new + summary.attached
