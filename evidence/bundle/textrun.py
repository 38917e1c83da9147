"""Positioned lines of text written straight into a page's content stream.

reportlab's text objects send every string through a general path: a shaping
check, the string's width for the cursor, and number formatting and escaping that
run in pure Python without reportlab's optional C extension. For the chronology,
where every line has an absolute position, that was most of the bundle's time. A
:class:`LineWriter` writes the same PDF operators directly. It still lets the font
assign each character its subset and code (``TTFont.splitString``, the public way
to do it), so what is embedded, and what ``pdftotext`` extracts, is unchanged.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# A code inside a PDF literal string: printable ASCII as itself, except the three
# characters with a meaning there; every other byte as an octal escape.
_ESCAPED = [chr(b) if 32 <= b < 127 and b not in b"()\\" else f"\\{b:03o}" for b in range(256)]

# Per document: character -> its subset, and character -> its escaped code in that subset.
Codes = tuple[dict[str, int], dict[str, str]]


def new_codes() -> Codes:
    """An empty cache, for one document."""
    return {}, {}


def writer(canvas: Any, font_name: str, codes: Codes) -> LineWriter | ReportlabLines:
    """A LineWriter for an embedded TrueType font; reportlab's path for anything else."""
    if isinstance(pdfmetrics.getFont(font_name), TTFont):
        return LineWriter(canvas, font_name, codes)
    return ReportlabLines(canvas, font_name)


class LineWriter:
    """Collects lines in one TrueType font; hand it to ``canvas.drawText`` to draw them.

    The block is wrapped in ``q … Q`` so that the font and colour it sets do not
    leak into what the canvas draws next (the canvas does not know about them).
    ``codes`` is a per-document cache of the font's assignments (:func:`new_codes`);
    pass the same one to every writer of a document, and a new one for another document.
    """

    def __init__(self, canvas: Any, font_name: str, codes: Codes) -> None:
        self._font = pdfmetrics.getFont(font_name)
        self._doc = canvas._doc
        self._subset_of, self._code_of = codes
        self._ops: list[str] = ["q BT"]
        self._size = 0.0
        self._subset = -1
        self._color: Any = None
        self._tf: dict[tuple[int, float], str] = {}

    def line(self, x: float, y: float, text: str, size: float, color: Any) -> None:
        ops = self._ops
        if color is not self._color:
            self._color = color
            red, green, blue = color.rgb()
            ops.append(f"{red:.3f} {green:.3f} {blue:.3f} rg")
        if size != self._size:
            self._size = size
            self._subset = -1  # Tf carries the size: the next run sets both
        ops.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm")
        if not self._subset_of.keys() >= set(text):
            self._assign(text)
        code_of = self._code_of.__getitem__
        current = self._subset
        # groupby and map with dict lookups as the key run in C: no Python loop per character.
        for subset, run in groupby(text, self._subset_of.__getitem__):
            if subset != current:
                current = subset
                ops.append(self._select(subset, size))
            ops.append("(" + "".join(map(code_of, run)) + ") Tj")
        self._subset = current

    def getCode(self) -> str:  # the name canvas.drawText calls
        return " ".join([*self._ops, "ET Q"])

    def _select(self, subset: int, size: float) -> str:
        """The Tf operator for a subset at a size (made once per pair)."""
        key = (subset, size)
        op = self._tf.get(key)
        if op is None:
            name = self._font.getSubsetInternalName(subset, self._doc)
            op = self._tf[key] = f"{name} {size:.2f} Tf"
        return op

    def _assign(self, text: str) -> None:
        """Let the font assign codes to new characters, in order of appearance as it would."""
        for char in dict.fromkeys(text):
            if char not in self._subset_of:
                ((subset, code),) = self._font.splitString(char, self._doc)
                self._subset_of[char] = subset
                self._code_of[char] = _ESCAPED[code[0]]


class ReportlabLines:
    """The same interface over reportlab's own text object (the CID fallback font)."""

    def __init__(self, canvas: Any, font_name: str) -> None:
        self._text = canvas.beginText()
        self._font_name = font_name
        self._size = 0.0
        self._color: Any = None

    def line(self, x: float, y: float, text: str, size: float, color: Any) -> None:
        if color is not self._color:
            self._color = color
            self._text.setFillColor(color)
        if size != self._size:
            self._size = size
            self._text.setFont(self._font_name, size)
        self._text.setTextOrigin(x, y)
        self._text.textOut(text)

    def getCode(self) -> str:  # the name canvas.drawText calls
        return "q " + self._text.getCode() + " Q"
