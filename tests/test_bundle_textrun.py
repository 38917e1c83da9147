"""Lines written straight into the content stream read back exactly (pdftotext)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.lib import colors
from reportlab.pdfgen import canvas as pdfcanvas

from evidence.bundle import fonts, textrun
from tests.bundlefixtures import needs_poppler

pytestmark = needs_poppler

# What reaches the writer has been through text.visible: drawable characters only.
SAMPLE = "说明天去你单位找领导 (工号 A017) \\ 100% 【京东金条】 ¥3,000.00 «»"


def draw(path: Path, lines: list[str], font_name: str) -> None:
    canvas = pdfcanvas.Canvas(str(path), invariant=1)
    writer = textrun.writer(canvas, font_name, textrun.new_codes())
    for n, text in enumerate(lines):
        writer.line(40, 800 - 14 * n, text, 8.5 if n % 2 else 7.5, colors.black)
    canvas.drawText(writer)
    canvas.setFont("Helvetica", 9)  # the canvas's own text after the block is unaffected
    canvas.drawString(40, 40, "after the block")
    canvas.save()


def extracted(path: Path) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def test_lines_read_back_exactly_in_the_embedded_font(tmp_path: Path) -> None:
    font = fonts.load()
    assert font.embedded, "the tests need the embedded TrueType CJK font (fonts-wqy-microhei)"
    lines = [SAMPLE, "plain ASCII line", "（全角括号）与 \\backslash\\ 与 (unbalanced"]
    draw(tmp_path / "t.pdf", lines, font.name)
    assert extracted(tmp_path / "t.pdf") == [*lines, "after the block"]


def test_the_same_interface_draws_with_a_standard_font(tmp_path: Path) -> None:
    lines = ["Helvetica has no subsets (a) \\ b", "second line"]
    draw(tmp_path / "t.pdf", lines, "Helvetica")
    assert extracted(tmp_path / "t.pdf") == [*lines, "after the block"]


drawable = (
    st.text(
        alphabet=st.sampled_from(
            sorted(set(SAMPLE + "abcXYZ019.,;:!?-_/\\()[]{}<>逾期还款催收法务上门征信起诉律师函"))
        ),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(drawable, min_size=1, max_size=8))
def test_any_drawable_text_reads_back(tmp_path: Path, lines: list[str]) -> None:
    font = fonts.load()
    path = tmp_path / "p.pdf"
    draw(path, lines, font.name)
    got = extracted(path)
    # pdftotext collapses runs of spaces in -layout mode; compare without spaces.
    assert [g.replace(" ", "") for g in got] == [
        *(line.replace(" ", "") for line in lines),
        "aftertheblock",
    ]
