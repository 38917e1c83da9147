"""The font for Chinese and Latin text: an embedded TrueType CJK font when one is installed.

Embedding matters: reportlab's built-in CID font (STSong-Light) is not embedded,
and a viewer without Adobe's Asian font pack (poppler without `poppler-data`)
draws such pages with no text at all. We therefore look for a TrueType font
with Chinese glyphs (Debian/Ubuntu: `apt-get install fonts-wqy-microhei`), and
reportlab embeds the subset of glyphs used. ``EVIDENCE_PDF_FONT`` names another
file. Only when none is found do we fall back to the CID font, and the
integrity page says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/local/share/fonts/wqy-microhei.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
CID_FALLBACK = "STSong-Light"
FONT_NAME = "EvidenceCJK"


@dataclass(frozen=True)
class Font:
    name: str
    path: str  # "" for the CID fallback
    embedded: bool
    glyphs: frozenset[int] | None  # code points the font can draw; None when unknown


@lru_cache(maxsize=4)
def load(path: str | None = None) -> Font:
    """Register and return the bundle font (once per process)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    wanted = path or os.environ.get("EVIDENCE_PDF_FONT") or ""
    for candidate in ([wanted] if wanted else []) + list(CANDIDATES):
        if not candidate or not Path(candidate).is_file():
            continue
        try:
            font = TTFont(FONT_NAME, candidate, subfontIndex=0)
        except (TTFError, OSError, ValueError, KeyError):
            continue
        pdfmetrics.registerFont(font)
        glyphs = frozenset(font.face.charToGlyph)
        return Font(FONT_NAME, candidate, True, glyphs)
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return Font(CID_FALLBACK, "", False, None)
