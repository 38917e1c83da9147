"""The canonical encoding: the only bytes that are ever hashed or committed.

We use the RFC 8785 (JSON Canonicalization Scheme) serialisation restricted to a
subset where Python's json module produces it exactly: objects with ASCII keys,
strings, integers within ±(2**53 - 1), booleans, null and arrays. Floats are
refused, so no number formatting question can ever arise.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from evidence.errors import InvalidInput

MAX_SAFE_INTEGER = 2**53 - 1


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidInput(f"{path}: text is not valid Unicode") from exc
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInput(f"{path}: integer out of range")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise InvalidInput(f"{path}: keys must be ASCII strings")
            _check(item, f"{path}.{key}")
        return
    raise InvalidInput(f"{path}: {type(value).__name__} cannot be encoded canonically")


def _plain(value: Any) -> bool:
    """A fast pre-check: True only when ``value`` certainly passes :func:`_check`.

    It accepts exact built-in types only and leaves strings to the final UTF-8
    encoding (the one way a ``str`` can fail); anything else is handed to
    :func:`_check`, which then raises the precise error (or accepts it).
    """
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            item_kind = type(item)
            if item_kind is str or item is None or item_kind is bool:
                continue
            if item_kind is int:
                if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    continue
                return False
            if not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return False


# Exactly what json.dumps builds for these arguments, made once instead of per call.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def _chunk_encoder() -> Any:
    """The C encoder behind ``_ENCODER``, built once.

    ``JSONEncoder.encode`` builds a new one on every call, which costs as much as
    encoding a small object. The circular-reference check is off: values reach it
    only after :func:`_plain` or :func:`_check` walked them, and a cycle makes
    both fail first. ``None`` when the C accelerator is missing.
    """
    make = json.encoder.c_make_encoder
    if make is None:  # pragma: no cover - CPython always has it
        return None
    return make(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",",
                True, False, False)  # fmt: skip


_CHUNKS = _chunk_encoder()


_DUMPS = orjson.dumps
_SORTED = orjson.OPT_SORT_KEYS
_ORJSON_REFUSED = orjson.JSONEncodeError


def encode(value: Any, path: str = "$") -> bytes:
    """Return the canonical UTF-8 bytes of ``value`` (RFC 8785 subset).

    Within the subset :func:`_plain` admits (exact built-in types, ASCII keys, safe
    integers) orjson writes the same bytes as the json module with these settings,
    ten times faster: the same escapes (lowercase ``\\u00xx`` for other control
    characters, nothing else escaped), keys in code-point order, which for ASCII keys
    is the order of ``sort_keys``. ``tests/test_canonical.py`` holds the two equal on
    every character and on random documents. What orjson refuses (a lone surrogate,
    nesting deeper than it goes) takes the json module's path, which gives the
    precise error or the same bytes. ``path`` names the value's place in a larger
    document, for the error message.
    """
    if _plain(value):
        try:
            return _DUMPS(value, option=_SORTED)
        except _ORJSON_REFUSED:
            pass
    try:
        return encode_text(value, path).encode("utf-8")
    except UnicodeEncodeError:
        _check(value, path)  # raises InvalidInput naming the text that is not valid Unicode
        raise


def encode_text(value: Any, path: str = "$") -> str:
    """The canonical form as text (the json module's writing; see :func:`encode`).

    Everything but invalid Unicode (lone surrogates) is refused here; that one
    surfaces as ``UnicodeEncodeError`` when the caller encodes the text.
    ``path`` names the value's place in the whole document, for the error message.
    """
    if not _plain(value):
        _check(value, path)
    if _CHUNKS is None:  # pragma: no cover - CPython always has the C accelerator
        return _ENCODER.encode(value)
    return "".join(_CHUNKS(value, 0))


def decode(data: bytes) -> Any:
    """Parse canonical bytes, refusing anything that is not in canonical form."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("not canonical JSON") from exc
    if _has_float(value) or encode(value) != data:
        raise InvalidInput("not in canonical form")
    return value


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False
