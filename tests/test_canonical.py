"""The canonical encoding: the RFC 8785 subset whose bytes are hashed and committed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import canonical
from evidence.errors import InvalidInput

SAFE = canonical.MAX_SAFE_INTEGER

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE, max_value=SAFE)
    | st.text(max_size=20)  # hypothesis' default alphabet has no lone surrogates
)
ascii_keys = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=8)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(ascii_keys, children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_encode_decode_round_trip(value):
    data = canonical.encode(value)
    assert canonical.decode(data) == value
    # Encoding is a function of the value alone: the same value gives the same bytes.
    assert canonical.encode(canonical.decode(data)) == data


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(ascii_keys, scalars, min_size=2, max_size=6))
def test_keys_are_sorted_and_there_is_no_whitespace(value):
    data = canonical.encode(value)
    parsed_keys = list(json.loads(data))
    assert parsed_keys == sorted(value)
    assert (
        data
        == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(ascii_keys, scalars, min_size=1, max_size=6), st.sampled_from([" ", "\n", "\t"])
)
def test_decode_rejects_whitespace(value, space):
    data = canonical.encode(value)
    spaced = b"{" + space.encode() + data[1:]
    with pytest.raises(InvalidInput):
        canonical.decode(spaced)
    with pytest.raises(InvalidInput):
        canonical.decode(data + space.encode())


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(ascii_keys, scalars, min_size=2, max_size=6, dict_class=dict))
def test_decode_rejects_unsorted_keys(value):
    backwards = dict(sorted(value.items(), reverse=True))
    data = json.dumps(backwards, separators=(",", ":"), ensure_ascii=False).encode()
    assert data != canonical.encode(value)
    with pytest.raises(InvalidInput, match="canonical form"):
        canonical.decode(data)


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_decode_rejects_floats(number):
    data = json.dumps({"x": number}, separators=(",", ":")).encode()
    with pytest.raises(InvalidInput):
        canonical.decode(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1.0}',
        b'{"a":1e3}',
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-0}',
        b'{"a":01}',
        b'{"a":1,"a":1}',  # duplicate keys
        b'{"a":"\\u0041"}',  # an escape where the character itself is canonical
        b'{"a":"\\/"}',
        b'\xef\xbb\xbf{"a":1}',  # byte order mark
        b'{"a":"\xff"}',  # not UTF-8
        b'{"a":"\\ud800"}',  # a lone surrogate
        b'{"a":9007199254740992}',  # 2**53, outside the exact integer range
        b'{"\xc3\xa9":1}',  # a non-ASCII key
        b"{'a':1}",
        b"",
        b"[1,2,]",
    ],
)
def test_decode_rejects_non_canonical_bytes(data):
    with pytest.raises(InvalidInput):
        canonical.decode(data)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, None, "x"]}, b'{"a":[true,null,"x"],"b":1}'),
        ({"said": "说明天去我单位"}, '{"said":"说明天去我单位"}'.encode()),
        ({"a": "line\nbreak\x1f"}, b'{"a":"line\\nbreak\\u001f"}'),
        ({"a": '"\\'}, b'{"a":"\\"\\\\"}'),
        ([SAFE, -SAFE], b"[9007199254740991,-9007199254740991]"),
        ({"": {}}, b'{"":{}}'),
    ],
)
def test_known_encodings(value, expected):
    assert canonical.encode(value) == expected
    assert canonical.decode(expected) == value


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        {"a": 0.0},
        [float("nan")],
        SAFE + 1,
        -SAFE - 1,
        {1: "integer key"},
        {"é": "non-ASCII key"},
        {"a": b"bytes"},
        {"a": {1, 2}},
        "\ud800",
        object(),
    ],
)
def test_encode_refuses_values_outside_the_subset(value):
    with pytest.raises(InvalidInput):
        canonical.encode(value)


def test_tuples_encode_as_arrays():
    assert canonical.encode({"a": (1, 2)}) == canonical.encode({"a": [1, 2]}) == b'{"a":[1,2]}'


def _json_module(value):
    """The definition: the json module's writing with the canonical settings."""
    return canonical.encode_text(value).encode("utf-8")


def test_every_character_is_written_as_the_json_module_writes_it():
    # The fast writer (orjson) must escape exactly the characters the json module
    # escapes, in the same form; checked on every scalar value, in keys' values and
    # in arrays, a plane at a time.
    for start in range(0, 0x110000, 0x10000):
        text = "".join(
            chr(cp) for cp in range(start, start + 0x10000) if not 0xD800 <= cp <= 0xDFFF
        )
        for value in ({"k": text}, [text, text[:100]]):
            assert canonical.encode(value) == _json_module(value)
    for cp in range(0x80):
        value = {"a": f"x{chr(cp)}y", "b": [chr(cp)]}
        assert canonical.encode(value) == _json_module(value), hex(cp)


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_fast_writer_gives_the_json_modules_bytes(value):
    assert canonical.encode(value) == _json_module(value)


def test_deep_nesting_orjson_refuses_takes_the_json_modules_path():
    value: object = "x"
    for _ in range(300):  # orjson stops at 255 levels
        value = [value]
    assert canonical.encode(value) == b"[" * 300 + b'"x"' + b"]" * 300


def test_a_lone_surrogate_deep_in_a_document_is_named():
    with pytest.raises(InvalidInput, match=r"\$\.fields\.said"):
        canonical.encode({"said": "ok \udc00"}, "$.fields")
