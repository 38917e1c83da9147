"""Each entry of the PDF's chronology says which trusted timestamp covers it, if any."""

from __future__ import annotations

import re
from pathlib import Path

from evidence import timestamps
from evidence.bundle import Options, build_bundle
from evidence.bundle.labels import label
from evidence.ledger import Log
from tests import tsafixtures
from tests.bundlefixtures import draft, needs_poppler, pdf_text, populate
from tests.tsafixtures import TestTsa

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca
pytestmark = needs_poppler


def _chronology(text: str) -> dict[int, str]:
    """Entry number -> its block of text in the (English) chronological log."""
    body = text.split(label("chronology", "en"))[-1]
    for end in (label("appendix", "en"), label("integrity", "en")):
        body = body.split(end)[0]
    blocks = re.split(r"\n(?=#\d+\s)", body)
    return {int(m.group(1)): b for b in blocks if (m := re.match(r"#(\d+)\s", b))}


def test_covered_entries_say_when_they_existed_and_later_ones_do_not(
    log: Log, tsa: TestTsa, tmp_path: Path
) -> None:
    populate(log)
    recorded, _report = timestamps.timestamp_log(log, [tsa.url])
    head_size = recorded.seq  # the token covers the head just before its own entry
    late = log.append([draft("call", "2026-11-25 23:40", number="13800138000", platform="借呗")])
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options(lang="en"))
    blocks = _chronology(pdf_text(out, tmp_path))
    covered = [seq for seq in blocks if seq < head_size]
    assert covered, "the fixture's events come before the timestamp"
    for seq in covered:
        flat = " ".join(blocks[seq].split())
        assert "existed no later than" in flat and tsa.url in flat, seq
    assert "existed no later than" not in " ".join(blocks[late[0].seq].split())
