"""The appender's joined-from-pieces encoding equals the general canonical encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import canonical, model, timeutil
from evidence.entry_bytes import EntryEncoder
from evidence.errors import InvalidInput
from evidence.model import Attachment, Draft

LOG_ID = "5a0f3c1e-8d2b-4c6a-9e7f-0123456789ab"

zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(0), "+00:00"),
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=8, minutes=5, seconds=43)),
        timeutil.zone("Asia/Shanghai"),
        timeutil.zone("America/New_York"),
        timeutil.zone("Europe/London"),
    ]
)
instants = st.datetimes(
    min_value=datetime(1890, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones
)
# Collector text is anything: quotes, backslashes, control characters, CJK, emoji.
texts = st.text(max_size=40)
keys = st.text(alphabet=st.characters(max_codepoint=127), max_size=12)
scalars = texts | st.booleans() | st.none() | st.integers(-(2**53) + 1, 2**53 - 1)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
attachments = st.builds(
    Attachment,
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    st.integers(0, 2**40),
    texts,
    st.sampled_from(["audio/mp4", "image/jpeg", "application/octet-stream"]),
)
drafts = st.builds(
    Draft,
    st.sampled_from(model.KINDS),
    instants,
    st.dictionaries(keys, values, max_size=8),
    st.lists(attachments, max_size=3).map(tuple),
    st.none() | st.dictionaries(keys, values, max_size=5),
)


def general(log_id: str, seq: int, draft: Draft, recorded_at: datetime, zone: str) -> bytes:
    return canonical.encode(model.canonical_document(log_id, seq, draft, recorded_at, zone))


@settings(max_examples=400)
@given(
    draft=drafts,
    seq=st.integers(0, 2**53 - 1),
    recorded_at=instants,
    zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"]),
)
def test_joined_bytes_equal_the_general_encoding(draft, seq, recorded_at, zone):
    encoder = EntryEncoder(LOG_ID, zone)
    recorded_text = timeutil.format_canonical(recorded_at)
    joined = encoder.encode(seq, draft, recorded_text)
    assert joined == general(LOG_ID, seq, draft, recorded_at, zone)
    canonical.decode(joined)  # and it is canonical by the decoder's own check


AT = datetime(2026, 11, 20, 23, 15, tzinfo=timeutil.zone("Asia/Shanghai"))


@pytest.mark.parametrize(
    "fields",
    [
        {"said": 1.5},
        {"said": "\ud800 lone surrogate"},
        {"duration": 2**53},
        {"说": "non-ASCII key"},
        {1: "integer key"},
        {"tags": [object()]},
    ],
)
def test_values_the_canonical_form_cannot_hold_are_refused_the_same_way(fields):
    draft = Draft("sms", AT, fields)
    encoder = EntryEncoder(LOG_ID, "Asia/Shanghai")
    with pytest.raises(InvalidInput) as general_error:
        general(LOG_ID, 3, draft, AT, "Asia/Shanghai")
    with pytest.raises(InvalidInput) as joined_error:
        encoder.encode(3, draft, timeutil.format_canonical(AT))
    assert str(joined_error.value) == str(general_error.value)


def test_a_bad_source_is_refused_like_bad_fields():
    draft = Draft("sms", AT, {"said": "x"}, source={"position": float("nan")})
    with pytest.raises(InvalidInput):
        EntryEncoder(LOG_ID, "UTC").encode(0, draft, timeutil.format_canonical(AT))
