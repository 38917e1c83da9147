"""Reading phone XML exports: byte pre-cleaning, then a streaming, defused parse.

Real SMS Backup & Restore files write emoji as surrogate-pair character
references (``&#55357;&#56832;``) and sometimes control characters
(``&#1;``), which every conforming XML parser rejects. :class:`CleanReader`
rewrites those bytes on the fly, chunk by chunk, before the parser sees them:
a pair becomes the UTF-8 bytes of the one character it encodes; any other
reference to a character XML forbids, and any raw control byte, becomes
U+FFFD (a visible marker). The original file is kept untouched as the
evidence; the cleaning only decides what the parser reads.

:func:`iter_elements` parses with expat defused the way defusedxml defuses it
(the same four handlers, raising defusedxml's own exceptions: a DTD, entity
declarations, unparsed entities and external references are refused, so XML
bombs and XXE cannot run; parameter entities are never parsed). It drives the C
parser directly: each record is built as one :class:`~xml.etree.ElementTree.Element`
from the attributes expat hands over, with its children (MMS parts and
addresses), and is never attached to the root, so memory stays bounded whatever
the size of the file: one chunk of records at a time. Text content is not kept
(phone backups put everything in attributes). Attributes of any size are
accepted (expat has no attribute limit; MMS images are base64 in one).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO
from xml.parsers import expat

from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)

from evidence.errors import InvalidInput

CHUNK = 256 * 1024
_MARK = "\ufffd".encode()
_PAIR = re.compile(
    rb"&#(5[56]\d{3}|[xX][dD][89aAbB][0-9a-fA-F]{2});&#(5[67]\d{3}|[xX][dD][c-fC-F][0-9a-fA-F]{2});"
)
# Every character reference but the common valid newline, tab and carriage return.
_REF = re.compile(rb"&#(?!(?:9|10|13|[xX]0*[9aAdD]);)(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_HIGH_AT_END = re.compile(rb"&#(?:5[56]\d{3}|[xX][dD][89aAbB][0-9a-fA-F]{2});\Z")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes(c for c in range(0x20) if c not in (0x9, 0xA, 0xD))


def _code(text: bytes) -> int:
    return int(text[1:], 16) if text[:1] in b"xX" else int(text)


def _pair(match: re.Match[bytes]) -> bytes:
    high, low = _code(match.group(1)), _code(match.group(2))
    if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).encode()
    return match.group(0)


def _valid_xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _ref(match: re.Match[bytes]) -> bytes:
    hexa, decimal = match.group(1), match.group(2)
    digits = hexa or decimal
    if len(digits) > 8:
        return _MARK
    code = int(hexa, 16) if hexa else int(decimal)
    return match.group(0) if _valid_xml_char(code) else _MARK


def clean(data: bytes) -> bytes:
    """Fix surrogate-pair references, neutralise invalid references and control bytes."""
    if b"&#" in data:
        data = _PAIR.sub(_pair, data)
        data = _REF.sub(_ref, data)
    # The regex only where there is a control byte: deleting them (C speed) tells.
    if len(data.translate(None, _CONTROL_BYTES)) != len(data):
        data = _CONTROL.sub(_MARK, data)
    return data


class CleanReader:
    """A read-only stream of the cleaned bytes of ``raw`` (UTF-8 input; others pass as is)."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._carry = b""
        self._on_read = on_read
        self._first = True
        self._passthrough = False
        self._done = False

    def read(self, _size: int = -1) -> bytes:
        while not self._done:
            chunk = self._raw.read(CHUNK)
            if self._on_read is not None:
                self._on_read(len(chunk))
            if self._first:
                self._first = False
                # UTF-16/32 (a BOM or NUL bytes up front): leave the bytes to the parser.
                self._passthrough = chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or chunk[:1] == b"\0"
            if self._passthrough:
                if not chunk:
                    self._done = True
                return chunk
            buffer = self._carry + chunk
            if not chunk:
                self._done = True
                self._carry = b""
                return clean(buffer)
            cut = buffer.find(b"&", max(0, len(buffer) - 48))
            if cut < 0:
                cut = len(buffer)
            high = _HIGH_AT_END.search(buffer, max(0, cut - 24), cut)
            if high:
                cut = high.start()
            self._carry = buffer[cut:]
            if cut:
                return clean(buffer[:cut])
        return b""


MAX_DEPTH = 64  # records nest two levels (mms > parts > part); deeper is not a backup


def _refuse_doctype(name: str, sysid: Any, pubid: Any, _internal: Any) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _refuse_entity(name: str, _param: Any, value: Any, base: Any, sysid: Any, pubid: Any,
                   notation: Any) -> None:  # fmt: skip
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _refuse_unparsed(name: str, base: Any, sysid: Any, pubid: Any, notation: Any) -> None:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _refuse_external(context: Any, base: Any, sysid: Any, pubid: Any) -> None:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def defused_parser() -> Any:
    """An expat parser that refuses DTDs, entities and external references."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_unparsed
    parser.ExternalEntityRefHandler = _refuse_external
    return parser


def iter_elements(
    raw: BinaryIO, tags: frozenset[str], on_read: Callable[[int], None] | None = None
) -> Iterator[tuple[ET.Element, ET.Element]]:
    """Yield ``(root, root)`` first, then ``(root, element)`` for each element named in ``tags``.

    Each element is yielded once complete (attributes and child elements, no text)
    and is not kept afterwards. Raises :class:`XmlDamaged` (with the line and
    column) where the XML stops being readable, and :class:`InvalidInput` for a
    refused DTD or entity.
    """
    parser = defused_parser()
    stack: list[ET.Element] = []
    ready: list[ET.Element] = []
    make = ET.Element

    def start(name: str, attrs: dict[str, str]) -> None:
        element = make(name, attrs)
        depth = len(stack)
        if depth > 1:
            if depth > MAX_DEPTH:
                raise XmlDamaged(parser.CurrentLineNumber, parser.CurrentColumnNumber,
                                 "elements nested too deeply")  # fmt: skip
            stack[-1].append(element)
        elif depth == 0:
            ready.append(element)  # the root, with its attributes only
        stack.append(element)

    def end(name: str) -> None:
        element = stack.pop()
        if name in tags and stack:
            ready.append(element)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    reader = CleanReader(raw, on_read)
    root: ET.Element | None = None
    while True:
        chunk = reader.read()
        failure: Exception | None = None
        try:
            parser.Parse(chunk, not chunk)
        except (expat.ExpatError, DefusedXmlException, XmlDamaged) as error:
            failure = error  # the records completed before the damage are still given
        except LookupError as error:  # expat: an encoding declaration Python does not know
            failure = XmlDamaged(
                parser.CurrentLineNumber, parser.CurrentColumnNumber, str(error)[:80]
            )
        for element in ready:
            if root is None:
                root = element
            yield root, element
        ready.clear()
        if isinstance(failure, expat.ExpatError):
            raise XmlDamaged(failure.lineno, failure.offset, expat.ErrorString(failure.code))
        if isinstance(failure, DefusedXmlException):
            raise InvalidInput(
                f"refused: the file declares a DTD or entities ({type(failure).__name__}); "
                "phone backups never do, and such files can be XML bombs"
            )
        if failure is not None:
            raise failure
        if not chunk:
            return


class XmlDamaged(Exception):
    """The XML stops being well-formed at a position (records before it were read)."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"the XML is damaged at line {line}, column {column}: {message}")
        self.line = line
        self.column = column
