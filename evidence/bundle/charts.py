"""Bar charts drawn with reportlab's graphics primitives (vector, small, fast)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

from evidence.bundle.fonts import Font
from evidence.bundle.text import visible

BAR = colors.HexColor("#4a6fa5")
MARKED = colors.HexColor("#1f2d4d")
SHADE = colors.HexColor("#f0e6e6")
AXIS = colors.HexColor("#666666")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    marked: bool = False


def bar_chart(
    bars: Sequence[Bar],
    font: Font,
    title: str,
    width: float,
    height: float = 150,
    max_labels: int = 24,
) -> Drawing:
    """Vertical bars with a title, a y-axis maximum and thinned x labels."""
    drawing = Drawing(width, height)
    left, bottom, top = 34.0, 28.0, 20.0
    plot_w, plot_h = width - left - 6, height - bottom - top
    drawing.add(String(0, height - 12, visible(title, font, False), fontName=font.name, fontSize=9))
    peak = max((b.value for b in bars), default=0) or 1
    drawing.add(Line(left, bottom, left + plot_w, bottom, strokeColor=AXIS, strokeWidth=0.5))
    drawing.add(Line(left, bottom, left, bottom + plot_h, strokeColor=AXIS, strokeWidth=0.5))
    drawing.add(
        String(
            left - 4,
            bottom + plot_h - 6,
            str(peak),
            fontName=font.name,
            fontSize=7,
            textAnchor="end",
        )
    )
    drawing.add(String(left - 4, bottom - 3, "0", fontName=font.name, fontSize=7, textAnchor="end"))
    if not bars:
        return drawing
    step = plot_w / len(bars)
    every = max(1, -(-len(bars) // max_labels))
    for i, bar in enumerate(bars):
        x = left + i * step
        if bar.marked:
            drawing.add(Rect(x, bottom, step, plot_h, fillColor=SHADE, strokeColor=None))
        h = plot_h * bar.value / peak
        if h > 0:
            drawing.add(
                Rect(
                    x + step * 0.1,
                    bottom,
                    step * 0.8,
                    h,
                    fillColor=MARKED if bar.marked else BAR,
                    strokeColor=None,
                )
            )
        if i % every == 0:
            drawing.add(
                String(
                    x + step / 2,
                    bottom - 10,
                    visible(bar.label, font, False)[:12],
                    fontName=font.name,
                    fontSize=6.5,
                    textAnchor="middle",
                )
            )
    return drawing
