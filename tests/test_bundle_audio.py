"""The attachments appendix gives each recording's own playing time, whatever its format."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from evidence.bundle import Options, build_bundle
from evidence.ledger import Log
from tests.bundlefixtures import draft, needs_poppler, pdf_text
from tests.importfixtures import amr_bytes, m4a_bytes, mp3_bytes, wav_bytes

pytestmark = needs_poppler


@pytest.mark.parametrize(
    ("name", "content", "seconds"),
    [
        ("call.wav", wav_bytes(12.5), "12.5"),
        ("call.amr", amr_bytes(37.0), "37.0"),
        ("call.m4a", m4a_bytes(81.25), "81.2"),
        ("call.mp3", mp3_bytes(64.0, xing=True), "64.0"),
    ],
)
def test_recording_duration_is_read_from_the_file(
    log: Log, tmp_path: Path, name: str, content: bytes, seconds: str
) -> None:
    audio = log.add_attachment(io.BytesIO(content), name)
    # The call states another duration: the appendix must give the file's own.
    log.append(
        [draft("call", "2026-11-20 23:15", number="13812345678", duration=5, attachments=(audio,))]
    )
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options(lang="en"))
    appendix = pdf_text(out, tmp_path).split("Attachments appendix")[-1]
    assert re.search(rf"duration: {re.escape(seconds)}\d* s", appendix), appendix[:600]
    assert "as stated for the call" not in appendix
