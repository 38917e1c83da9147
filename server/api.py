"""The mobile backend: JSON under /api/v1, authenticated by bearer API tokens only.

Cookies are never accepted here, so cross-site requests cannot act for a user.
Views parse and check the request shape, call the core, and render JSON.
"""

from __future__ import annotations

import functools
import hmac
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from evidence import keyring, model, timeutil
from evidence.errors import Conflict, EvidenceError, InvalidInput, NotFound
from server import accounts, write_turn
from server.errors import ApiError, classify, error_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
DEDUP_PREFIX = "api/v1/"


# --- request parsing ------------------------------------------------------------------------


def client_address() -> str:
    return request.remote_addr or "unknown"


def json_body(allowed: dict[str, type | tuple[type, ...]], required: tuple[str, ...]) -> dict:
    """The request's JSON object, with only ``allowed`` keys of the right types."""
    if request.mimetype != "application/json":
        raise ApiError(415, "send JSON with Content-Type: application/json")
    limit = current_app.config["EVIDENCE_MAX_JSON_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the JSON body is larger than {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, f"the JSON body is larger than {limit} bytes")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    check_object(data, allowed, required, "the body")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_object(
    data: dict, allowed: dict[str, type | tuple[type, ...]], required: tuple[str, ...], what: str
) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(422, f"{what} has unknown fields: {', '.join(unknown)}")
    missing = [k for k in required if k not in data]
    if missing:
        raise ApiError(422, f"{what} needs {', '.join(missing)}")
    for key, kind in allowed.items():
        if key in data:
            value = data[key]
            if value is None:
                raise ApiError(422, f"{key} must not be null: leave it out instead")
            if isinstance(value, bool) and kind is not bool:
                raise ApiError(422, f"{key} has the wrong type")
            if not isinstance(value, kind):
                raise ApiError(422, f"{key} has the wrong type")


def bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "send an API token: Authorization: Bearer <token>")
    return token.strip()


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.account, g.log, g.credential = accounts().authenticate(bearer(), keyring.TOKEN)
        return view(*args, **kwargs)

    return wrapper


# --- accounts and tokens --------------------------------------------------------------------


@bp.post("/accounts")
def sign_up() -> tuple[Response, int]:
    data = json_body({"name": str, "password": str}, ("name", "password"))
    service = accounts()
    service.throttle("signup", client_address())
    code = service.sign_up(data["name"], data["password"])
    return jsonify({"ok": True, "recovery_code": code}), 201


@bp.post("/tokens")
def issue_token() -> tuple[Response, int]:
    data = json_body({"name": str, "password": str, "label": str}, ("name", "password"))
    service = accounts()
    service.throttle("signin", client_address(), data["name"].strip().casefold())
    issued = service.sign_in(data["name"], data["password"], keyring.TOKEN, data.get("label"))
    return jsonify({"ok": True, "token": issued.secret, **issued.credential.to_dict()}), 201


@bp.get("/tokens")
@authenticated
def list_tokens() -> Response:
    found = accounts().credentials(g.account, keyring.TOKEN)
    return jsonify(
        {
            "ok": True,
            "tokens": [dict(c.to_dict(), current=c.id == g.credential.id) for c in found],
        }
    )


@bp.delete("/tokens/<token_id>")
@authenticated
def revoke_token(token_id: str) -> tuple[str, int]:
    accounts().revoke(g.account, token_id, keyring.TOKEN)
    return "", 204


# --- events ---------------------------------------------------------------------------------

_EVENT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "kind": str,
    "occurred_at": str,
    "fields": dict,
    "attachments": list,
}
_ATTACHMENT_REF: dict[str, type | tuple[type, ...]] = {
    "sha256": str,
    "name": str,
    "media_type": str,
}


def _draft(item: Any, log: Any) -> model.Draft:
    if not isinstance(item, dict):
        raise ApiError(422, "each event must be a JSON object")
    check_object(item, _EVENT_FIELDS, ("id", "kind", "occurred_at", "fields"), "the event")
    if not _CLIENT_ID.match(item["id"]):
        raise ApiError(422, "id must be 1 to 200 printable ASCII characters")
    if item["kind"] not in model.EVENT_KINDS:
        raise ApiError(422, f"kind must be one of {', '.join(model.EVENT_KINDS)}")
    occurred = timeutil.parse_instant(item["occurred_at"], log.zone)
    return model.make_draft(
        item["kind"],
        occurred,
        item["fields"],
        _attachment_refs(item.get("attachments") or [], log),
        source={"via": "api"},
        dedup_key=DEDUP_PREFIX + item["id"],
    )


def _attachment_refs(items: list[Any], log: Any) -> tuple[model.Attachment, ...]:
    """Attachments named by an upload: each one already uploaded to this log."""
    refs = []
    for ref in items:
        if not isinstance(ref, dict):
            raise ApiError(422, "each attachment is an object with sha256 and name")
        check_object(ref, _ATTACHMENT_REF, ("sha256", "name"), "the attachment")
        if not _SHA.match(ref["sha256"]):
            raise ApiError(422, "sha256 must be 64 lowercase hexadecimal digits")
        try:
            refs.append(log.attachment_ref(ref["sha256"], ref["name"], ref.get("media_type")))
        except NotFound as exc:
            raise ApiError(422, f"attachment {ref['sha256']} was not uploaded") from exc
    return tuple(refs)


def _item_error(error: Exception) -> dict[str, Any]:
    status, code, message = classify(error)
    if status == 500:
        raise error
    return error_body(status, message, code)


@bp.post("/events")
@authenticated
def upload_events() -> tuple[Response, int]:
    """Append a batch; retried batches store nothing twice and answer the same."""
    data = json_body({"events": list}, ("events",))
    items = data["events"]
    limit = current_app.config["EVIDENCE_MAX_BATCH"]
    if not items:
        raise ApiError(422, "events must not be empty")
    if len(items) > limit:
        raise ApiError(413, f"send at most {limit} events per batch")
    log = g.log
    drafts: dict[int, model.Draft] = {}
    errors: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(items):
        try:
            drafts[index] = _draft(item, log)
        except (ApiError, EvidenceError) as exc:
            errors[index] = _item_error(exc)
    # One transaction finds the ids already stored, appends the others and reports every
    # id's seq: each dedup digest is computed once and nothing is looked up twice.
    stored: dict[str, int] = {}
    appended = 0
    if drafts:
        try:
            with write_turn():
                appended = len(log.append(list(drafts.values()), skip_duplicates=True, seqs=stored))
        except (InvalidInput, Conflict):
            # One item the core refuses (a future time…): append the others one by one.
            for index, draft in drafts.items():
                try:
                    with write_turn():
                        appended += len(log.append([draft], skip_duplicates=True, seqs=stored))
                except (InvalidInput, Conflict) as exc:
                    errors[index] = _item_error(exc)
    if appended:
        from server.timestamping import after_upload

        after_upload(log)
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        client_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(client_id, str):
            client_id = None  # only a string id is echoed (the document's Result shape)
        draft = drafts.get(index)
        if index in errors or draft is None or draft.dedup_key not in stored:
            error = errors.get(index) or error_body(409, "not stored", "conflict")
            results.append({"id": client_id, "status": "rejected", "error": error})
        else:
            results.append({"id": client_id, "status": "stored", "seq": stored[draft.dedup_key]})
    if not any(r["status"] == "stored" for r in results):
        body = error_body(422, "no event in the batch was accepted: see results")
        return jsonify({**body, "results": results}), 422
    return jsonify({"ok": True, "results": results}), 200


# --- entries and head -----------------------------------------------------------------------


def entry_json(entry: Any) -> dict[str, Any]:
    document = entry.document()
    document["commitment"] = entry.commitment.hex()
    document["amended_by"] = list(entry.amended_by)
    document["retracted_by"] = entry.retracted_by
    return document


_LIST_ARGS = {"kind", "platform", "since", "until", "limit", "after"}


def no_empty_values(args: Any, names: tuple[str, ...]) -> None:
    """API query arguments are absent or have a value (a web form's empty box is the web's)."""
    empty = [name for name in names if name in args and not args[name].strip()]
    if empty:
        raise ApiError(422, f"{', '.join(empty)} must not be empty: leave it out instead")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,12}", raw):
        raise ApiError(422, f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(422, f"{name} must be between {low} and {high}")
    return value


def select_entries(log: Any, args: Any) -> list[Any]:
    """Entries matching kind / platform / since / until, shared by the API and the web."""
    since = until = None
    if args.get("since"):
        since = timeutil.parse_day(args["since"], log.zone)
    if args.get("until"):
        until = timeutil.parse_day(args["until"], log.zone, end=True)
    kind = args.get("kind") or None
    if kind is not None and kind not in model.KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(model.KINDS)}")
    platform = (args.get("platform") or "").strip() or None
    selected = []
    for entry in log.entries(since=since, until=until):
        if kind and entry.kind != kind:
            continue
        if platform and entry.fields.get("platform") != platform:
            continue
        selected.append(entry)
    return selected


@bp.get("/entries")
@authenticated
def list_entries() -> Response:
    unknown = sorted(set(request.args) - _LIST_ARGS)
    if unknown:
        raise ApiError(422, f"unknown parameters: {', '.join(unknown)}")
    no_empty_values(request.args, ("kind", "since", "until", "limit", "after"))
    limit = _int_arg("limit", 100, 1, 1000)
    after = _int_arg("after", 0, 0, 10**12) if "after" in request.args else -1
    selected = [e for e in select_entries(g.log, request.args) if e.seq > after]
    page = selected[:limit]
    more = len(selected) > limit
    return jsonify(
        {
            "ok": True,
            "entries": [entry_json(e) for e in page],
            "next_after": page[-1].seq if more and page else None,
        }
    )


def entry_of(log: Any, seq: int) -> Any:
    """The log's entry ``seq``; a number past any database integer is simply not found."""
    return log.entry(storable(seq))


def storable(seq: int) -> int:
    """``seq``, or NotFound past any database integer (the URL converter takes any size)."""
    if seq >= 2**63:
        raise NotFound(f"there is no entry {seq}")
    return seq


@bp.get("/entries/<int:seq>")
@authenticated
def show_entry(seq: int) -> Response:
    return jsonify({"ok": True, "entry": entry_json(entry_of(g.log, seq))})


# --- corrections ------------------------------------------------------------------------------

_AMENDMENT: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "changes": dict,
    "cleared": list,
    "reason": str,
    "occurred_at": str,
    "attachments": list,
}
# A correction's client id has keys of its own: an event's key is the prefix and an id
# without spaces, so the space keeps the two apart whatever ids the client chooses.
CORRECTION_PREFIX = DEDUP_PREFIX + "correction "


def _client_key(data: dict[str, Any]) -> str:
    if not _CLIENT_ID.match(data["id"]):
        raise ApiError(422, "id must be 1 to 200 printable ASCII characters")
    return CORRECTION_PREFIX + data["id"]


def _stored(log: Any, make: Callable[[], Any]) -> tuple[Response, int]:
    """Append a correction: 201 when made now, 200 when the same id was already stored."""
    size = log.count()
    with write_turn():
        entry = make()
    if entry.seq >= size:
        from server.timestamping import after_upload

        after_upload(log)
        return jsonify({"ok": True, "entry": entry_json(entry)}), 201
    return jsonify({"ok": True, "entry": entry_json(entry)}), 200


@bp.post("/entries/<int:seq>/amendments")
@authenticated
def amend_entry(seq: int) -> tuple[Response, int]:
    """Correct an entry: changed fields, cleared fields, a new time, added files (retry-safe)."""
    data = json_body(_AMENDMENT, ("id",))
    key, log = _client_key(data), g.log
    cleared = data.get("cleared", [])
    if not all(isinstance(name, str) for name in cleared):
        raise ApiError(422, "cleared must be a list of field names")
    when = data.get("occurred_at")
    new_time = timeutil.parse_instant(when, log.zone) if when else None
    files = _attachment_refs(data.get("attachments", []), log)
    storable(seq)  # the log refuses an entry it does not have (404)

    def amend() -> Any:
        changes, reason = data.get("changes", {}), data.get("reason", "")
        return log.amend(seq, changes, reason, new_time, files, cleared, dedup_key=key)

    return _stored(log, amend)


@bp.post("/entries/<int:seq>/retractions")
@authenticated
def retract_entry(seq: int) -> tuple[Response, int]:
    """Withdraw an entry logged by mistake, with a reason (retry-safe)."""
    data = json_body({"id": str, "reason": str}, ("id", "reason"))
    key, log = _client_key(data), g.log
    storable(seq)  # the log refuses an entry it does not have (404)
    return _stored(log, lambda: log.retract(seq, data["reason"], dedup_key=key))


_FINDINGS_ARGS = frozenset({"jurisdiction", "platform", "since", "until"})


@bp.get("/findings")
@authenticated
def list_findings() -> Response:
    """Collection-conduct findings with citations (evidence.rules), over the whole log."""
    from evidence import rules

    unknown = sorted(set(request.args) - _FINDINGS_ARGS)
    if unknown:
        raise ApiError(422, f"unknown parameters: {', '.join(unknown)}")
    no_empty_values(request.args, ("jurisdiction", "platform", "since", "until"))
    jurisdiction = request.args.get("jurisdiction", "cn")
    if jurisdiction not in rules.JURISDICTIONS:
        raise ApiError(422, f"jurisdiction must be one of {', '.join(rules.JURISDICTIONS)}")
    log = g.log
    since = timeutil.parse_day(request.args["since"], log.zone) if "since" in request.args else None
    until = (
        timeutil.parse_day(request.args["until"], log.zone, end=True)
        if "until" in request.args
        else None
    )
    platform = request.args.get("platform", "").strip() or None
    found = rules.report(log.analysis_source(), jurisdiction, None, platform, since, until)
    return jsonify(
        {
            "ok": True,
            "jurisdiction": jurisdiction,
            "zone": found.summary.zone,
            "events": found.summary.events,
            "findings": [f.to_dict() for f in found.findings],
        }
    )


@bp.get("/head")
@authenticated
def head() -> Response:
    log = g.log
    return jsonify(
        {
            "ok": True,
            "head": log.head().to_dict(),
            "public_key": log.info.public_key.hex(),
            "fingerprint": log.info.fingerprint,
        }
    )


@bp.get("/bundle")
@authenticated
def download_bundle() -> Response:
    """The evidence bundle (PDF, entries, proofs, signed head) as a ZIP, built by the core."""
    from server.bundles import bundle_response

    return bundle_response(g.log, request.args)


# --- attachments ----------------------------------------------------------------------------


class _Limited:
    """A body stream that refuses to go past ``limit`` bytes (chunked uploads included)."""

    def __init__(self, stream: BinaryIO, limit: int, what: str = "an attachment") -> None:
        self.stream = stream
        self.limit = limit
        self.what = what
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise ApiError(413, f"{self.what} is at most {self.limit} bytes")
        return chunk


@bp.post("/attachments")
@authenticated
def upload_attachment() -> tuple[Response, int]:
    """The raw file as the body; its SHA-256 declared in X-Content-SHA256 and checked."""
    unknown = sorted(set(request.args) - {"name"})
    if unknown:
        raise ApiError(422, f"unknown parameters: {', '.join(unknown)}")
    declared = (request.headers.get("X-Content-SHA256") or "").strip().lower()
    if not _SHA.match(declared):
        raise ApiError(422, "declare the file's SHA-256 in X-Content-SHA256 (64 hex digits)")
    name = request.args.get("name", "attachment")
    if len(name) > 255:
        raise ApiError(422, "name is at most 255 characters")
    limit = current_app.config["EVIDENCE_MAX_ATTACHMENT_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"an attachment is at most {limit} bytes")
    media_type = request.mimetype or None
    if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ApiError(415, "send the file itself as the body, not a form")
    attachment = g.log.add_attachment(
        _Limited(request.stream, limit),
        name,
        media_type,  # type: ignore[arg-type]
    )
    if not hmac.compare_digest(attachment.sha256, declared):
        raise ApiError(422, "the file received does not match the declared SHA-256: send it again")
    return jsonify({"ok": True, **attachment.to_dict()}), 201


@bp.get("/attachments/<sha256>")
@authenticated
def download_attachment(sha256: str) -> Response:
    if not _SHA.match(sha256):
        raise ApiError(422, "an attachment is named by 64 lowercase hexadecimal digits")
    chunks = g.log.read_attachment(sha256)
    first = next(chunks)  # raises NotFound before any byte is sent

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    response = Response(stream_with_context(body()), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = "attachment"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    from server.openapi import document

    return jsonify(document())
