"""Untrusted text made safe for the PDF: visible, escaped, and wrapped to a width.

Collector messages are hostile input. Control and bidirectional-override
characters become visible ``\\uXXXX`` escapes; a character the font cannot draw
(an emoji) becomes ``[U+1F600]`` instead of vanishing; Paragraph markup is
escaped; a long string without spaces is broken anywhere.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from xml.sax.saxutils import escape

from evidence.bundle.fonts import Font


def visible(text: object, font: Font, keep_newlines: bool = True) -> str:
    """Replace what would be invisible or misleading with a visible escape."""
    text = str(text)
    drawable = _drawable(font.glyphs)
    if drawable.issuperset(text):  # the common case: nothing to replace
        return text
    out: list[str] = []
    glyphs = font.glyphs
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char in "\t\n":
            out.append(" ")
        elif unicodedata.category(char) in _INVISIBLE:
            out.append(f"\\u{ord(char):04x}")
        elif glyphs is not None and ord(char) not in glyphs and char != " ":
            out.append(f"[U+{ord(char):04X}]")
        else:
            out.append(char)
            drawable.add(char)
    return "".join(out)


_INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Cn")


@lru_cache(maxsize=8)
def _drawable(glyphs: frozenset[int] | None) -> set[str]:
    """Characters already seen to pass :func:`visible` unchanged, per font (grows as used).

    Newline and tab are never in it: what they become depends on the caller.
    """
    return {" "}


def markup(text: object, font: Font) -> str:
    """Safe inside a reportlab Paragraph: visible, XML-escaped, newlines as <br/>."""
    return escape(visible(text, font)).replace("\n", "<br/>")


@lru_cache(maxsize=8)
def _widths(font_name: str, size: float) -> dict[str, float]:
    return {}


def width_of(text: str, font_name: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    cache = _widths(font_name, size)
    total = 0.0
    for char in text:
        w = cache.get(char)
        if w is None:
            w = cache[char] = stringWidth(char, font_name, size)
        total += w
    return total


def wrap(text: str, font_name: str, size: float, width: float, max_lines: int = 0) -> list[str]:
    """Greedy wrapping: at spaces where possible, anywhere in CJK or long unbroken runs."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    cache = _widths(font_name, size)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        try:  # most lines fit: one pass in C when every character's width is known
            fits = sum(map(cache.__getitem__, paragraph)) <= width
        except KeyError:
            fits = False
        if fits:
            lines.append(paragraph)
            if max_lines and len(lines) >= max_lines:
                break
            continue
        line: list[str] = []
        used = 0.0
        last_space = -1
        for char in paragraph:
            w = cache.get(char)
            if w is None:
                w = cache[char] = stringWidth(char, font_name, size)
            if used + w > width and line:
                if last_space > 0 and char != " ":
                    rest = line[last_space + 1 :]
                    lines.append("".join(line[:last_space]))
                    line = rest
                    used = sum(cache[c] for c in line)
                    if used + w > width and line:  # the rest and this character still overflow
                        lines.append("".join(line))
                        line, used = [], 0.0
                else:
                    lines.append("".join(line))
                    line, used = [], 0.0
                last_space = -1
                if char == " " and not line:
                    continue
            if char == " ":
                last_space = len(line)
            line.append(char)
            used += w
        lines.append("".join(line))
        if max_lines and len(lines) >= max_lines:
            break
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
    return lines
