"""Untrusted text made safe and wrapped for the PDF: properties of text.visible and text.wrap."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.bundle import fonts
from evidence.bundle.text import visible, width_of, wrap

FONT = fonts.load()
hostile = st.text(
    alphabet=st.characters(codec="utf-8")
    | st.sampled_from(["\n", "\t", "\u202e", "\u200b", "\x1b", "😀", "说", " ", "("]),
    max_size=80,
)


def expected_visible(text: str, keep_newlines: bool) -> str:
    """The rule, character by character, as docs and the PDF promise it."""
    out = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char in "\t\n":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(f"\\u{ord(char):04x}")
        elif FONT.glyphs is not None and ord(char) not in FONT.glyphs and char != " ":
            out.append(f"[U+{ord(char):04X}]")
        else:
            out.append(char)
    return "".join(out)


@settings(max_examples=300)
@given(hostile, st.booleans())
def test_visible_follows_the_rule_whatever_it_saw_before(text: str, keep_newlines: bool):
    # Called twice: the second call may take the fast path that the first one primed.
    assert visible(text, FONT, keep_newlines) == expected_visible(text, keep_newlines)
    assert visible(text, FONT, keep_newlines) == expected_visible(text, keep_newlines)


def test_visible_shows_what_would_hide_or_reorder_text():
    assert visible("a\u202eb\x1bc", FONT) == "a\\u202eb\\u001bc"
    assert visible("line\nnext\tx", FONT, keep_newlines=False) == "line next x"


drawable = st.text(
    alphabet=st.sampled_from(list("abc xyz 说明天去你单位找领导 0123 ,.-")), max_size=300
)


@settings(max_examples=300)
@given(drawable, st.floats(min_value=20, max_value=400), st.sampled_from([7, 8, 8.5]))
def test_wrap_keeps_every_character_and_respects_the_width(text: str, width: float, size: float):
    lines = wrap(text, FONT.name, size, width)
    # Only spaces at a break may go; everything else stays, in order.
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert len(line) <= 1 or width_of(line, FONT.name, size) <= width + 1e-6


@given(drawable, st.integers(1, 3))
def test_wrap_never_returns_more_than_max_lines(text: str, limit: int):
    assert len(wrap(text, FONT.name, 8, 60, limit)) <= limit
