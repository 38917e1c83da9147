"""Event kinds, their fields, and validation at the boundary.

A :class:`Draft` is what a front end builds from user input; it is fully
validated and normalised (phone numbers included) before it reaches the
ledger. An :class:`Entry` is what the ledger returns: a draft with its place
in the log, the store's clock and its commitment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evidence import phone, timeutil
from evidence.errors import InvalidInput

EVENT_KINDS = ("call", "sms", "message", "contact", "visit", "letter", "other", "fact")
CORRECTION_KINDS = ("amend", "retract")
# Records the log keeps about itself (not events; never in a bundle's selection).
RECORD_KINDS = ("timestamp",)
KINDS = EVENT_KINDS + CORRECTION_KINDS + RECORD_KINDS

MAX_TEXT = 100_000
MAX_TAGS = 50
DIRECTIONS = ("incoming", "outgoing")
# Facts the borrower records so that the conduct rules can use them (evidence/rules).
FACTS = ("agreed_time", "contact_refused", "cease_request", "conversation", "debtor_zone")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})$")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters")
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character")
    return value


def _phone(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and "raw" in value:
        value = value["raw"]
    return phone.normalize(_text(name, value))


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: float("inf")
        raise InvalidInput(f"{name} must be a whole number") from exc
    if isinstance(value, float) and value != number:
        raise InvalidInput(f"{name} must be a whole number")
    if not 0 <= number <= 10_000_000:
        raise InvalidInput(f"{name} must be between 0 and 10000000")
    return number


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false")
    return value


def _direction(name: str, value: Any) -> str:
    if value not in DIRECTIONS:
        raise InvalidInput(f"{name} must be one of {', '.join(DIRECTIONS)}")
    return str(value)


def _tags(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or len(value) > MAX_TAGS:
        raise InvalidInput(f"{name} must be a list of at most {MAX_TAGS} words")
    tags = [_text(name, tag).strip() for tag in value]
    if any(not tag or len(tag) > 64 for tag in tags):
        raise InvalidInput(f"each of {name} must be 1 to 64 characters")
    return sorted(set(tags))


def _fact(name: str, value: Any) -> str:
    if value not in FACTS:
        raise InvalidInput(f"{name} must be one of {', '.join(FACTS)}")
    return str(value)


def _window(name: str, value: Any) -> str:
    """A daily local time window 'HH:MM-HH:MM' (may pass midnight: '23:00-01:00')."""
    match = _WINDOW.match(_text(name, value).strip())
    if not match:
        raise InvalidInput(f"{name} must be written like 20:00-21:30")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2) or (h1, m1) == (h2, m2):
        raise InvalidInput(f"{name} must be written like 20:00-21:30")
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


def _zone_name(name: str, value: Any) -> str:
    text = _text(name, value).strip()
    timeutil.zone(text)
    return text


def _check_fact(clean: Mapping[str, Any]) -> None:
    needs = {"agreed_time": ("window",), "debtor_zone": ("zone",)}.get(clean["fact"], ())
    missing = [name for name in needs if name not in clean]
    if missing:
        raise InvalidInput(f"a fact {clean['fact']} needs {', '.join(missing)}")
    if clean["fact"] == "contact_refused" and not ("contact_name" in clean or "number" in clean):
        raise InvalidInput("a fact contact_refused needs contact_name or number")


Validator = Callable[[str, Any], Any]

COMMON_FIELDS: dict[str, Validator] = {
    "platform": _text,
    "collector": _text,
    "said": _text,
    "note": _text,
    "tags": _tags,
}

KIND_FIELDS: dict[str, dict[str, Validator]] = {
    "call": {"number": _phone, "direction": _direction, "duration": _count, "answered": _flag},
    "sms": {"number": _phone, "direction": _direction},
    "message": {"channel": _text, "sender": _text, "number": _phone},
    "contact": {"contact_name": _text, "relation": _text, "channel": _text, "number": _phone},
    "visit": {"location": _text, "people": _text},
    "letter": {"sender": _text, "channel": _text},
    "other": {},
    "fact": {
        "fact": _fact,
        "window": _window,
        "zone": _zone_name,
        "contact_name": _text,
        "number": _phone,
        "written": _flag,
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "call": ("number",),
    "sms": ("number",),
    "message": ("sender",),
    "contact": ("contact_name",),
    "visit": (),
    "letter": (),
    "other": ("said",),
    "fact": ("fact",),
}


def validate_fields(kind: str, values: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Check and normalise the fields of an event kind; ``partial`` for amendments."""
    if kind not in KIND_FIELDS:
        raise InvalidInput(f"unknown kind {kind!r}: use one of {', '.join(EVENT_KINDS)}")
    allowed = {**COMMON_FIELDS, **KIND_FIELDS[kind]}
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == "" or value == []:
            continue
        if name not in allowed:
            raise InvalidInput(f"{kind} has no field {name!r}")
        clean[name] = allowed[name](name, value)
    if not partial:
        missing = [name for name in REQUIRED[kind] if name not in clean]
        if missing:
            raise InvalidInput(f"a {kind} needs {', '.join(missing)}")
        if kind == "fact":
            _check_fact(clean)
    return clean


@dataclass(frozen=True)
class Attachment:
    """A file kept in the blob store, known by the SHA-256 of its content."""

    sha256: str
    size: int
    name: str
    media_type: str = "application/octet-stream"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "name": self.name,
            "media_type": self.media_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        return cls(
            str(data["sha256"]), int(data["size"]), str(data["name"]), str(data["media_type"])
        )


@dataclass(frozen=True)
class Draft:
    """A validated event, ready to append."""

    kind: str
    occurred_at: datetime
    fields: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()
    source: dict[str, Any] | None = None
    # What makes this record "the same" as one already logged (importers, API retries).
    # Stored only as a keyed hash; not part of the committed document.
    dedup_key: str | None = None


def make_draft(
    kind: str,
    occurred_at: datetime,
    fields: Mapping[str, Any],
    attachments: tuple[Attachment, ...] = (),
    source: Mapping[str, Any] | None = None,
    dedup_key: str | None = None,
) -> Draft:
    if occurred_at.tzinfo is None:
        raise InvalidInput("the time must carry a zone")
    return Draft(
        kind=kind,
        occurred_at=occurred_at,
        fields=validate_fields(kind, fields),
        attachments=tuple(attachments),
        source=dict(source) if source else None,
        dedup_key=dedup_key,
    )


def amendment_draft(
    target: Entry,
    occurred_at: datetime,
    changes: Mapping[str, Any],
    reason: str,
    new_time: datetime | None = None,
    attachments: tuple[Attachment, ...] = (),
    cleared: Iterable[str] = (),
) -> Draft:
    """An entry that corrects ``target``; the target itself is never touched.

    ``cleared`` names fields the event should not have had (a platform guessed
    wrongly, a note about someone else): they are shown as removed from then on.
    """
    if target.kind not in EVENT_KINDS:
        raise InvalidInput(f"entry {target.seq} is a correction; amend the original entry")
    clean = validate_fields(target.kind, changes, partial=True)
    removed = _clearable(target.kind, cleared, clean)
    if target.kind == "fact" and (clean or removed):
        # The fact as amended must still have what its kind needs (a debtor_zone its
        # zone, an agreed_time its window).
        _check_fact(
            {name: v for name, v in {**target.fields, **clean}.items() if name not in removed}
        )
    if new_time is not None:
        clean["occurred_at"] = timeutil.format_canonical(new_time)
    if not clean and not attachments and not removed:
        raise InvalidInput(
            "nothing to amend: give at least one field, a field to clear, a time or an attachment"
        )
    body: dict[str, Any] = {"target": target.seq, "changes": clean}
    if removed:
        body["cleared"] = removed
    if reason:
        body["reason"] = _text("reason", reason)
    return Draft("amend", occurred_at, body, tuple(attachments))


def _clearable(kind: str, names: Iterable[str], changes: Mapping[str, Any]) -> list[str]:
    """The fields an amendment clears, sorted; refused when the event cannot lose them."""
    allowed = {**COMMON_FIELDS, **KIND_FIELDS[kind]}
    cleared = sorted(set(names))
    for name in cleared:
        if name not in allowed:
            raise InvalidInput(f"{kind} has no field {name!r}")
        if name in REQUIRED[kind] or (kind == "fact" and name == "fact"):
            raise InvalidInput(f"a {kind} needs {name}: correct it instead of clearing it")
        if name in changes:
            raise InvalidInput(f"{name} is both changed and cleared")
    return cleared


def amended(
    instant: datetime, fields: Mapping[str, Any], amendment: Mapping[str, Any]
) -> tuple[datetime, dict[str, Any]]:
    """An event's time and fields after one amendment's ``fields`` (the inputs stay as they are).

    The one definition of what an amendment does, for the rules, the bundle and the pages.
    """
    update = dict(amendment.get("changes", {}))
    when = update.pop("occurred_at", None)
    if when:
        instant = timeutil.parse_canonical(when)
    result = {**fields, **update}
    for name in amendment.get("cleared", ()):
        result.pop(name, None)
    return instant, result


def retraction_draft(target: Entry, occurred_at: datetime, reason: str) -> Draft:
    if target.kind not in EVENT_KINDS:
        raise InvalidInput(f"entry {target.seq} is a correction; retract the original entry")
    if not reason or not reason.strip():
        raise InvalidInput("a retraction needs a reason")
    return Draft("retract", occurred_at, {"target": target.seq, "reason": _text("reason", reason)})


def timestamp_draft(
    occurred_at: datetime,
    tsa: str,
    head_size: int,
    head_root: str,
    head_signed_at: str,
    gen_time: str,
    token: str,
) -> Draft:
    """An RFC 3161 token over the signed head of size ``head_size`` (docs/FORMAT.md §15)."""
    fields = {
        "tsa": _text("tsa", tsa),
        "head_size": head_size,
        "head_root": head_root,
        "head_signed_at": head_signed_at,
        "gen_time": gen_time,
        "token": token,
    }
    return Draft("timestamp", occurred_at, fields)


@dataclass(frozen=True)
class Entry:
    """One entry of the log, as decrypted and verified against its commitment."""

    log_id: str
    seq: int
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    zone: str
    fields: dict[str, Any]
    attachments: tuple[Attachment, ...]
    source: dict[str, Any] | None
    commitment: bytes
    amended_by: tuple[int, ...] = field(default=())
    retracted_by: int | None = None

    @property
    def target(self) -> int | None:
        """The entry a correction refers to."""
        if self.kind in CORRECTION_KINDS:
            return int(self.fields["target"])
        return None

    def document(self) -> dict[str, Any]:
        """The entry's canonical document (see docs/FORMAT.md)."""
        return canonical_document(
            self.log_id,
            self.seq,
            Draft(self.kind, self.occurred_at, self.fields, self.attachments, self.source),
            self.recorded_at,
            self.zone,
        )


def canonical_document(
    log_id: str, seq: int, draft: Draft, recorded_at: datetime, zone: str
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "v": 1,
        "log": log_id,
        "seq": seq,
        "kind": draft.kind,
        "occurred_at": timeutil.format_canonical(draft.occurred_at),
        "recorded_at": timeutil.format_canonical(recorded_at),
        "zone": zone,
        "fields": draft.fields,
        "attachments": [a.to_dict() for a in draft.attachments],
    }
    if draft.source:
        document["source"] = draft.source
    return document


def entry_from_document(document: Mapping[str, Any], commitment: bytes) -> Entry:
    return Entry(
        log_id=str(document["log"]),
        seq=int(document["seq"]),
        kind=str(document["kind"]),
        occurred_at=timeutil.parse_canonical(document["occurred_at"]),
        recorded_at=timeutil.parse_canonical(document["recorded_at"]),
        zone=str(document["zone"]),
        fields=dict(document["fields"]),
        attachments=tuple(Attachment.from_dict(a) for a in document["attachments"]),
        source=document.get("source"),
        commitment=commitment,
    )
