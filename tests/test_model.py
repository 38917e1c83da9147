"""Event kinds, field validation at the boundary, corrections and the canonical document."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from evidence import canonical, model, phone
from evidence.errors import InvalidInput

AT = datetime(2026, 11, 20, 23, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
RECORDED = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
LOG = "0b7e4c1a-0000-4000-8000-000000000001"


def entry(kind: str = "call", seq: int = 3, **fields) -> model.Entry:
    draft = model.make_draft(kind, AT, fields or {"number": "13812345678"})
    document = model.canonical_document(LOG, seq, draft, RECORDED, "Asia/Shanghai")
    return model.entry_from_document(document, b"c" * 32)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (
            "call",
            {"number": "138 1234 5678", "direction": "incoming", "duration": 75, "answered": True},
        ),
        ("sms", {"number": "1069012345", "direction": "outgoing", "said": "【某贷】您已逾期"}),
        ("message", {"sender": "wx_collector01", "channel": "wechat", "number": "95188"}),
        (
            "contact",
            {"contact_name": "妈妈", "relation": "mother", "channel": "call", "number": "-1"},
        ),
        ("visit", {"location": "单位门口", "people": "two men"}),
        ("visit", {}),
        ("letter", {"sender": "某律师事务所", "channel": "post"}),
        (
            "other",
            {"said": "something happened", "platform": "某贷", "collector": "张三", "note": "n"},
        ),
    ],
)
def test_valid_fields_for_every_kind(kind, fields):
    clean = model.validate_fields(kind, fields)
    assert set(clean) == set(fields)
    if "number" in fields:
        assert clean["number"] == phone.normalize(fields["number"])


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("fax", {}, "unknown kind 'fax'"),
        ("amend", {"target": 1}, "unknown kind 'amend'"),
        ("call", {}, "a call needs number"),
        ("sms", {"said": "x"}, "a sms needs number"),
        ("message", {"channel": "wechat"}, "a message needs sender"),
        ("contact", {"relation": "mother"}, "a contact needs contact_name"),
        ("other", {"note": "x"}, "needs said"),
        ("call", {"number": "1", "location": "x"}, "call has no field 'location'"),
        ("visit", {"number": "13812345678"}, "visit has no field 'number'"),
        ("call", {"number": 13812345678}, "number must be text"),
        ("call", {"number": "1", "direction": "sideways"}, "direction must be one of"),
        ("call", {"number": "1", "duration": -1}, "duration must be between"),
        ("call", {"number": "1", "duration": 10_000_001}, "duration must be between"),
        ("call", {"number": "1", "duration": True}, "duration must be a whole number"),
        ("call", {"number": "1", "duration": 1.5}, "duration must be a whole number"),
        ("call", {"number": "1", "duration": "ten"}, "duration must be a whole number"),
        ("call", {"number": "1", "duration": float("inf")}, "duration must be a whole number"),
        ("call", {"number": "1", "duration": float("nan")}, "duration must be a whole number"),
        ("call", {"number": "1", "answered": "yes"}, "answered must be true or false"),
        ("other", {"said": "a\x00b"}, "said contains a NUL character"),
        ("other", {"said": "x" * (model.MAX_TEXT + 1)}, "said is longer than"),
        ("other", {"said": "x", "tags": ["ok", " "]}, "each of tags must be 1 to 64"),
        ("other", {"said": "x", "tags": ["x" * 65]}, "each of tags must be 1 to 64"),
        ("other", {"said": "x", "tags": [str(i) for i in range(51)]}, "at most 50"),
        ("other", {"said": "x", "tags": {"a": 1}}, "must be a list"),
    ],
)
def test_invalid_fields(kind, fields, message):
    with pytest.raises(InvalidInput, match=message):
        model.validate_fields(kind, fields)


def test_normalisation():
    clean = model.validate_fields(
        "call",
        {
            "number": {"raw": "008613812345678", "class": "forged"},
            "duration": "75",
            "tags": [" 威胁 ", "家人", "威胁"],
            "note": "",
            "said": None,
            "platform": [],
        },
    )
    assert clean == {
        "number": phone.normalize("008613812345678"),
        "duration": 75,
        "tags": ["威胁", "家人"],  # stripped, deduplicated, in code point order
    }
    assert clean["number"]["class"] == phone.MOBILE
    assert model.validate_fields("call", {"number": "1", "duration": 3.0})["duration"] == 3
    assert model.validate_fields("other", {"said": "x", "tags": "one"})["tags"] == ["one"]


def test_partial_validation_skips_required_fields():
    assert model.validate_fields("call", {"said": "new words"}, partial=True) == {
        "said": "new words"
    }
    with pytest.raises(InvalidInput):
        model.validate_fields("call", {"said": "new words"})


def test_make_draft_requires_a_zone_and_validates():
    with pytest.raises(InvalidInput, match="zone"):
        model.make_draft("call", datetime(2026, 11, 20, 23, 15), {"number": "13812345678"})
    with pytest.raises(InvalidInput):
        model.make_draft("call", AT, {})
    draft = model.make_draft("sms", AT, {"number": "1069012345"}, source={"file": "sms.xml"})
    assert draft.fields["number"]["class"] == phone.SMS_PORT
    assert draft.source == {"file": "sms.xml"}
    with pytest.raises(AttributeError):
        draft.kind = "call"  # drafts are immutable values


def test_canonical_document_and_entry_round_trip():
    attachment = model.Attachment("ab" * 32, 12, "call.m4a", "audio/mp4")
    draft = model.make_draft(
        "call",
        AT,
        {"number": "13812345678", "said": "说明天去我单位找领导"},
        (attachment,),
        {"app": "sbr"},
    )
    document = model.canonical_document(LOG, 7, draft, RECORDED, "Asia/Shanghai")
    assert document == {
        "v": 1,
        "log": LOG,
        "seq": 7,
        "kind": "call",
        "occurred_at": "2026-11-20T23:15:00+08:00",
        "recorded_at": "2026-11-28T08:00:00Z",
        "zone": "Asia/Shanghai",
        "fields": draft.fields,
        "attachments": [
            {"sha256": "ab" * 32, "size": 12, "name": "call.m4a", "media_type": "audio/mp4"}
        ],
        "source": {"app": "sbr"},
    }
    encoded = canonical.encode(document)
    made = model.entry_from_document(canonical.decode(encoded), b"c" * 32)
    assert made.seq == 7 and made.kind == "call" and made.log_id == LOG
    assert made.occurred_at == AT and made.recorded_at == RECORDED
    assert made.attachments == (attachment,)
    assert made.target is None
    # The entry gives back exactly the document that was committed.
    assert canonical.encode(made.document()) == encoded


def test_document_round_trip_for_a_zero_offset_zone():
    """London in winter is +00:00, not Z: re-encoding an entry must give the committed bytes."""
    at = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    draft = model.make_draft("other", at, {"said": "x"})
    document = model.canonical_document(LOG, 0, draft, RECORDED, "Europe/London")
    assert document["occurred_at"] == "2026-01-05T10:00:00+00:00"
    made = model.entry_from_document(canonical.decode(canonical.encode(document)), b"c" * 32)
    assert canonical.encode(made.document()) == canonical.encode(document)


def test_no_source_key_when_there_is_no_source():
    draft = model.make_draft("other", AT, {"said": "x"})
    assert "source" not in model.canonical_document(LOG, 0, draft, RECORDED, "Asia/Shanghai")


def test_amendment_draft():
    target = entry()
    draft = model.amendment_draft(target, RECORDED, {"said": "补充"}, "forgot the words")
    assert draft.kind == "amend"
    assert draft.fields == {"target": 3, "changes": {"said": "补充"}, "reason": "forgot the words"}
    moved = model.amendment_draft(
        target, RECORDED, {}, "", new_time=datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    )
    assert moved.fields == {"target": 3, "changes": {"occurred_at": "2026-11-20T15:00:00Z"}}
    with pytest.raises(InvalidInput, match="nothing to amend"):
        model.amendment_draft(target, RECORDED, {}, "why")
    with pytest.raises(InvalidInput, match="has no field"):
        model.amendment_draft(target, RECORDED, {"location": "x"}, "why")


def test_corrections_of_corrections_are_refused():
    correction = model.entry_from_document(
        model.canonical_document(
            LOG, 4, model.amendment_draft(entry(), RECORDED, {"said": "x"}, ""), RECORDED, "UTC"
        ),
        b"c" * 32,
    )
    assert correction.target == 3
    with pytest.raises(InvalidInput, match="entry 4 is a correction"):
        model.amendment_draft(correction, RECORDED, {"said": "y"}, "")
    with pytest.raises(InvalidInput, match="entry 4 is a correction"):
        model.retraction_draft(correction, RECORDED, "wrong")


def test_retraction_draft_needs_a_reason():
    target = entry()
    draft = model.retraction_draft(target, RECORDED, "entered twice")
    assert draft.kind == "retract"
    assert draft.fields == {"target": 3, "reason": "entered twice"}
    for reason in ("", "   "):
        with pytest.raises(InvalidInput, match="needs a reason"):
            model.retraction_draft(target, RECORDED, reason)


def test_attachment_dict_round_trip():
    attachment = model.Attachment("cd" * 32, 5, "photo.jpg", "image/jpeg")
    assert model.Attachment.from_dict(attachment.to_dict()) == attachment
