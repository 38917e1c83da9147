"""The defused streaming parse: what the importers read is what a conforming parser reads,
records before damage are kept, and nothing that declares a DTD or entity is parsed."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.errors import InvalidInput
from evidence.importers import xmlsafe

TAGS = frozenset({"sms", "mms", "call"})


def _records(data: bytes) -> list[tuple[str, dict[str, str], list[tuple[str, dict[str, str]]]]]:
    out = []
    for root, element in xmlsafe.iter_elements(io.BytesIO(data), TAGS):
        if element is root:
            continue
        children = [(c.tag, dict(c.attrib)) for c in element.iter() if c is not element]
        out.append((element.tag, dict(element.attrib), children))
    return out


_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=30
).filter(lambda t: all(c in "\t\n" or ord(c) >= 0x20 for c in t) and "\ufffe" not in t)
_attrs = st.dictionaries(st.sampled_from(["address", "date", "body", "type", "ct", "text"]),
                         _text, max_size=4)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["sms", "call", "mms", "other"]), _attrs,
                          st.lists(_attrs, max_size=3)), max_size=8))  # fmt: skip
def test_same_records_as_the_standard_parser(records) -> None:
    body = "".join(
        f"<{tag}{''.join(f' {k}={_quote(v)}' for k, v in attrs.items())}>"
        + "".join(f"<part{''.join(f' {k}={_quote(v)}' for k, v in p.items())}/>" for p in parts)
        + f"</{tag}>"
        for tag, attrs, parts in records
    )
    data = f"<?xml version='1.0' encoding='UTF-8'?><smses count='1'>{body}</smses>".encode()
    expected = [
        (e.tag, dict(e.attrib), [(c.tag, dict(c.attrib)) for c in e])
        for e in ET.fromstring(data)
        if e.tag in TAGS
    ]
    assert _records(data) == expected


def _quote(value: str) -> str:
    from xml.sax.saxutils import quoteattr

    return quoteattr(value, {"\n": "&#10;", "\t": "&#9;"})


def test_records_before_damage_in_a_later_chunk_are_all_kept() -> None:
    record = b'<sms address="1" date="1740819600000" type="1" body="' + b"x" * 200 + b'"/>\n'
    count = 3 * xmlsafe.CHUNK // len(record)
    data = b"<smses>" + record * count + b"<sms <<<" + record * 10 + b"</smses>"
    seen = 0
    with pytest.raises(xmlsafe.XmlDamaged, match=r"line \d+"):
        for _root, _element in xmlsafe.iter_elements(io.BytesIO(data), TAGS):
            seen += 1
    assert seen == 1 + count  # the root, then every record before the damage


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE smses SYSTEM "http://example.com/evil.dtd">',
        '<!DOCTYPE smses [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
        '<!DOCTYPE smses [<!ENTITY e "x">]>',
        '<!DOCTYPE smses [<!ENTITY u SYSTEM "x" NDATA gif>]>',
        "<!DOCTYPE smses>",
    ],
)
def test_anything_declaring_a_dtd_is_refused(prolog: str) -> None:
    data = f'<?xml version="1.0"?>{prolog}<smses><sms address="1"/></smses>'.encode()
    with pytest.raises(InvalidInput, match="refused"):
        list(xmlsafe.iter_elements(io.BytesIO(data), TAGS))


def test_nesting_is_bounded() -> None:
    data = b"<smses><mms>" + b"<a>" * 200 + b"</a>" * 200 + b"</mms></smses>"
    with pytest.raises(xmlsafe.XmlDamaged, match="nested too deeply"):
        list(xmlsafe.iter_elements(io.BytesIO(data), TAGS))


def test_a_huge_attribute_is_read() -> None:
    data = b'<smses><mms><part data="' + b"QUJD" * 3_000_000 + b'"/></mms></smses>'
    (_tag, _attrs, children), *_ = _records(data)
    assert len(children[0][1]["data"]) == 12_000_000


def _clean_reference(data: bytes) -> bytes:
    data = xmlsafe._PAIR.sub(xmlsafe._pair, data)
    data = xmlsafe._REF.sub(xmlsafe._ref, data)
    return xmlsafe._CONTROL.sub(xmlsafe._MARK, data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"&#55357;&#56832;", b"&#1;", b"&#x11;", b"&#10;", b"\x01",
                                 b"\x1f", b"\t", b"a", "逾".encode(), b"&#", b";", b"&amp;"]),
                max_size=40))  # fmt: skip
def test_clean_fast_paths_change_nothing(pieces) -> None:
    data = b"".join(pieces)
    assert xmlsafe.clean(data) == _clean_reference(data)


def test_an_unknown_encoding_is_damage_not_a_crash() -> None:
    data = b"<?xml version='1.0' encoding='U' standalone='yes'?><smses count='0'></smses>"
    with pytest.raises(xmlsafe.XmlDamaged, match="unknown encoding: U"):
        list(xmlsafe.iter_elements(io.BytesIO(data), frozenset({"sms"})))
