"""Recording durations from the files' own headers: WAV, AMR, AMR-WB, M4A, MP3."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.importers import audio
from evidence.importers.engine import ImportOptions, run_import
from tests import importfixtures as fx


@pytest.mark.parametrize(
    ("name", "data", "seconds"),
    [
        ("a.wav", fx.wav_bytes(12.5), 12.5),
        ("a.amr", fx.amr_bytes(61.0), 61.0),
        ("a.awb", fx.amr_bytes(7.4, wideband=True), 7.4),
        ("a.m4a", fx.m4a_bytes(83.25), 83.25),
        ("a.3gp", fx.m4a_bytes(3600.5, timescale=1000, version=1), 3600.5),
        ("a.mp3", fx.mp3_bytes(30.0), 30.0),
        ("b.mp3", fx.mp3_bytes(300.0, xing=True), 300.0),
    ],
)
def test_durations(tmp_path: Path, name: str, data: bytes, seconds: float) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    found = audio.duration_seconds(path)
    assert found is not None and abs(found - seconds) < 0.1


def test_unknown_or_damaged_audio_has_no_duration(tmp_path: Path) -> None:
    for name, data in [
        ("x.ogg", b"OggS" + b"\x00" * 100),
        ("y.amr", b"#!AMR\n" + bytes([9 << 3]) * 5),  # frame type 9 is not AMR-NB
        ("z.m4a", fx.m4a_bytes(10)[:30]),
        ("e.wav", b""),
    ]:
        (tmp_path / name).write_bytes(data)
        assert audio.duration_seconds(tmp_path / name) is None, name


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([fx.wav_bytes(1), fx.amr_bytes(1), fx.m4a_bytes(1), fx.mp3_bytes(1)]),
       st.binary(max_size=64), st.integers(0, 400))  # fmt: skip
def test_any_bytes_give_a_number_or_none(tmp_path_factory, seed, junk, at) -> None:
    path = tmp_path_factory.mktemp("audio") / "f.bin"
    path.write_bytes(seed[:at] + junk + seed[at + len(junk) :])
    found = audio.duration_seconds(path)
    assert found is None or 0 <= found < 7 * 86400


def test_a_recording_call_carries_the_audio_duration(log, tmp_path: Path) -> None:
    folder = tmp_path / "call_rec"
    folder.mkdir()
    (folder / "通话录音@催收(13800130001)_20250301170005.amr").write_bytes(fx.amr_bytes(95.0))
    (folder / "13800130002_20250301180000.mp3").write_bytes(b"ID3\x03 not really audio")
    summary = run_import(log, [folder], ImportOptions())
    assert summary.new == 2
    by_raw = {e.fields["number"]["raw"]: e for e in log.entries()}
    timed = by_raw["13800130001"]
    assert timed.fields["duration"] == 95 and timed.source["audio_ms"] == 95_000
    assert "duration" not in by_raw["13800130002"].fields
    assert "audio_ms" not in by_raw["13800130002"].source
