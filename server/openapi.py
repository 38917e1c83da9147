"""The OpenAPI 3 document of /api/v1, kept beside the views it describes (tests check both)."""

from __future__ import annotations

from typing import Any

from evidence import accounts, model
from evidence.importers import base

ERROR = {
    "type": "object",
    "required": ["ok", "status", "error", "code"],
    "properties": {
        "ok": {"type": "boolean", "enum": [False]},
        "status": {"type": "integer"},
        "error": {"type": "string"},
        "code": {"type": "string"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for s in statuses
    }


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


STR = {"type": "string"}
DAY = {"type": "string", "format": "date"}
SHA = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
# Not a "pattern": the name is matched after Unicode NFC, trimming and case folding, which
# a JSON Schema regex cannot express (a decomposed "é" fails the pattern but is accepted).
NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "description": "3 to 64 letters, digits or . _ - + @, compared case-insensitively: after "
    f"Unicode NFC, trimming and case folding it must match {accounts.NAME_PATTERN}",
}
LABEL = {"type": "string", "maxLength": accounts.MAX_LABEL, "pattern": accounts.LABEL_PATTERN}
PASSWORD = {
    "type": "string",
    "minLength": accounts.MIN_PASSWORD,
    "maxLength": accounts.MAX_PASSWORD,
}
SECURED = [{"token": []}]
AUTH_ERRORS = (401, 422)


def document() -> dict[str, Any]:
    entry = {
        "type": "object",
        "required": ["seq", "kind", "occurred_at", "recorded_at", "fields", "commitment"],
        "properties": {
            "v": {"type": "integer"},
            "log": STR,
            "seq": {"type": "integer"},
            "kind": {"type": "string", "enum": list(model.KINDS)},
            "occurred_at": STR,
            "recorded_at": STR,
            "zone": STR,
            "fields": {"type": "object"},
            "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
            "source": {"type": "object"},
            "commitment": STR,
            "amended_by": {"type": "array", "items": {"type": "integer"}},
            "retracted_by": {"type": ["integer", "null"]},
        },
    }
    token = {
        "type": "object",
        "required": ["id", "created_at", "expires_at"],
        "properties": {
            "id": STR,
            "label": {"type": ["string", "null"]},
            "created_at": STR,
            "expires_at": STR,
            "current": {"type": "boolean"},
        },
    }
    event = _obj(
        ["id", "kind", "occurred_at", "fields"],
        id={"type": "string", "minLength": 1, "maxLength": 200},
        kind={"type": "string", "enum": list(model.EVENT_KINDS)},
        occurred_at={"type": "string", "description": "ISO 8601, e.g. 2026-11-20T23:15+08:00"},
        fields={"type": "object", "description": "the kind's fields (see the CLI's `log`)"},
        attachments={
            "type": "array",
            "items": _obj(
                ["sha256", "name"],
                sha256={"type": "string", "pattern": "^[0-9a-f]{64}$"},
                name=STR,
                media_type=STR,
            ),
        },
    )
    client_id = {"type": "string", "minLength": 1, "maxLength": 200}
    seq_parameter = {
        "name": "seq",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
    one_entry = {
        "type": "object",
        "required": ["entry"],
        "properties": {"ok": {"type": "boolean"}, "entry": {"$ref": "#/components/schemas/Entry"}},
    }
    amendment = _obj(
        ["id"],
        id={**client_id, "description": "the client's id for this correction: a retry with "
            "the same id stores nothing twice and answers with the stored entry"},
        changes={"type": "object", "description": "changed fields, as the entry's kind has them"},
        cleared={"type": "array", "items": STR, "description": "fields the entry should not have"},
        reason=STR,
        occurred_at={"type": "string", "description": "the corrected time of the event"},
        attachments=event["properties"]["attachments"],
    )  # fmt: skip
    corrected = {
        "201": _json(one_entry, "the correction, appended now"),
        "200": _json(one_entry, "the correction stored earlier under the same id"),
        **_errors(400, 401, 404, 409, 413, 415, 422),
    }
    counts = {
        name: {"type": "integer"}
        for name in ("records", "new", "already", "repeated", "skipped", "rejected", "attached")
    }
    import_summary = {
        "type": "object",
        "required": ["ok", "dry_run", "complete", *counts, "rejections", "files"],
        "properties": {
            "ok": {"type": "boolean", "enum": [True]},
            "dry_run": {"type": "boolean"},
            "complete": {"type": "boolean"},
            **counts,
            "senders": {"type": "integer"},
            "originals": {"type": "integer"},
            "selection": STR,
            "zone": STR,
            "skipped_by": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_platform": {"type": "object", "additionalProperties": {"type": "integer"}},
            "rejections": {
                "type": "array",
                "items": _obj(["file", "position", "reason"], file=STR, position=STR, reason=STR),
            },
            "notes": {"type": "array", "items": STR},
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "format", "sha256", *counts, "original_kept"],
                    "properties": {
                        "name": STR,
                        "format": STR,
                        "sha256": STR,
                        **counts,
                        "original_kept": {"type": "boolean"},
                    },
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "evidence mobile API",
            "version": "1",
            "description": "Encrypted, tamper-evident log of debt-collection harassment. "
            "Every error has the Error shape.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": ERROR,
                "Entry": entry,
                "Token": token,
                "Attachment": {
                    "type": "object",
                    "required": ["sha256", "size", "name", "media_type"],
                    "properties": {
                        "sha256": STR,
                        "size": {"type": "integer"},
                        "name": STR,
                        "media_type": STR,
                    },
                },
                "Finding": {
                    "type": "object",
                    "required": [
                        "rule_id",
                        "jurisdiction",
                        "rule",
                        "tier",
                        "citation",
                        "events",
                        "days",
                        "entries",
                        "basis",
                        "stated_entries",
                        "inferred_entries",
                    ],
                    "properties": {
                        "rule_id": STR,
                        "jurisdiction": STR,
                        "rule": {"type": "object", "properties": {"zh": STR, "en": STR}},
                        "detail": {"type": "object", "properties": {"zh": STR, "en": STR}},
                        "tier": STR,
                        "citation": STR,
                        "citations": {"type": "array", "items": {"type": "object"}},
                        "events": {"type": "integer"},
                        "days": {"type": "array", "items": STR},
                        "entries": {"type": "array", "items": {"type": "integer"}},
                        "basis": STR,
                        "stated_entries": {"type": "array", "items": {"type": "integer"}},
                        "inferred_entries": {"type": "array", "items": {"type": "integer"}},
                    },
                },
                "ImportSummary": import_summary,
                "Result": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": ["string", "null"]},
                        "status": {"type": "string", "enum": ["stored", "rejected"]},
                        "seq": {"type": "integer"},
                        "error": {"$ref": "#/components/schemas/Error"},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/accounts": {
                "post": {
                    "summary": "Sign up: create an account and its log",
                    "requestBody": _body(_obj(["name", "password"], name=NAME, password=PASSWORD)),
                    "responses": {
                        "201": _json(
                            {"type": "object", "properties": {"recovery_code": STR}}, "created"
                        ),
                        **_errors(400, 409, 413, 415, 422, 429),
                    },
                }
            },
            "/api/v1/tokens": {
                "post": {
                    "summary": "Issue an API token with the account's name and password",
                    "requestBody": _body(
                        _obj(["name", "password"], name=STR, password=STR, label=LABEL)
                    ),
                    "responses": {
                        "201": _json(
                            {
                                "allOf": [
                                    {"$ref": "#/components/schemas/Token"},
                                    {"type": "object", "required": ["token"]},
                                ]
                            },
                            "issued (the token is shown once)",
                        ),
                        **_errors(400, 401, 413, 415, 422, 429),
                    },
                },
                "get": {
                    "summary": "List the account's tokens",
                    "security": SECURED,
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "tokens": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Token"},
                                    }
                                },
                            }
                        ),
                        **_errors(*AUTH_ERRORS),
                    },
                },
            },
            "/api/v1/tokens/{token_id}": {
                "delete": {
                    "summary": "Revoke one of the account's tokens",
                    "security": SECURED,
                    "parameters": [
                        {
                            "name": "token_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "format": "uuid"},
                        }
                    ],
                    "responses": {"204": {"description": "revoked"}, **_errors(401, 404)},
                }
            },
            "/api/v1/events": {
                "post": {
                    "summary": "Upload a batch of events with client ids (idempotent)",
                    "security": SECURED,
                    "requestBody": _body(
                        _obj(["events"], events={"type": "array", "items": event, "minItems": 1})
                    ),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["results"],
                                "properties": {
                                    "ok": {"type": "boolean"},
                                    "results": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Result"},
                                    },
                                },
                            },
                            "per-item results, in order",
                        ),
                        **_errors(400, 401, 413, 415, 422),
                    },
                }
            },
            "/api/v1/entries": {
                "get": {
                    "summary": "List and filter entries",
                    "security": SECURED,
                    "parameters": [
                        {"name": n, "in": "query", "required": False, "schema": s}
                        for n, s in (
                            ("kind", {"type": "string", "enum": list(model.KINDS)}),
                            ("platform", STR),
                            ("since", {"type": "string", "format": "date"}),
                            ("until", {"type": "string", "format": "date"}),
                            ("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                            ("after", {"type": "integer", "minimum": 0}),
                        )
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["entries"],
                                "properties": {
                                    "entries": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Entry"},
                                    },
                                    "next_after": {"type": ["integer", "null"]},
                                },
                            }
                        ),
                        **_errors(*AUTH_ERRORS),
                    },
                }
            },
            "/api/v1/entries/{seq}": {
                "get": {
                    "summary": "One entry",
                    "security": SECURED,
                    "parameters": [seq_parameter],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"entry": {"$ref": "#/components/schemas/Entry"}},
                            }
                        ),
                        **_errors(401, 404),
                    },
                }
            },
            "/api/v1/entries/{seq}/amendments": {
                "post": {
                    "summary": "Correct an entry (fields, cleared fields, time, files); retry-safe",
                    "security": SECURED,
                    "parameters": [seq_parameter],
                    "requestBody": _body(amendment),
                    "responses": corrected,
                }
            },
            "/api/v1/entries/{seq}/retractions": {
                "post": {
                    "summary": "Withdraw an entry logged by mistake, with a reason; retry-safe",
                    "security": SECURED,
                    "parameters": [seq_parameter],
                    "requestBody": _body(_obj(["id", "reason"], id=client_id, reason=STR)),
                    "responses": corrected,
                }
            },
            "/api/v1/findings": {
                "get": {
                    "summary": "Collection-conduct findings with citations",
                    "security": SECURED,
                    "parameters": [
                        {"name": n, "in": "query", "required": False, "schema": sch}
                        for n, sch in (
                            ("jurisdiction", {"type": "string", "enum": ["cn", "us", "uk"]}),
                            ("platform", STR),
                            ("since", DAY),
                            ("until", DAY),
                        )
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["ok", "jurisdiction", "zone", "events", "findings"],
                                "properties": {
                                    "ok": {"type": "boolean"},
                                    "jurisdiction": STR,
                                    "zone": STR,
                                    "events": {"type": "integer"},
                                    "findings": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Finding"},
                                    },
                                },
                            }
                        ),
                        **_errors(*AUTH_ERRORS),
                    },
                }
            },
            "/api/v1/head": {
                "get": {
                    "summary": "The log's latest signed head and public key",
                    "security": SECURED,
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["head", "public_key", "fingerprint"],
                                "properties": {
                                    "head": {"type": "object"},
                                    "public_key": STR,
                                    "fingerprint": STR,
                                },
                            }
                        ),
                        **_errors(401),
                    },
                }
            },
            "/api/v1/bundle": {
                "get": {
                    "summary": "Build and download the evidence bundle (PDF + verifiable ZIP)",
                    "security": SECURED,
                    "parameters": [
                        {
                            "name": "platform",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "array", "items": STR},
                            "style": "form",
                            "explode": True,
                        },
                        {"name": "since", "in": "query", "required": False, "schema": DAY},
                        {"name": "until", "in": "query", "required": False, "schema": DAY},
                        {
                            "name": "lang",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["zh", "en"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the bundle ZIP; check it with `evidence verify`",
                            "content": {
                                "application/zip": {
                                    "schema": {"type": "string", "format": "binary"}
                                }
                            },
                        },
                        **_errors(401, 404, 422),
                    },
                }
            },
            "/api/v1/attachments": {
                "post": {
                    "summary": "Upload a file (the raw body); X-Content-SHA256 is checked",
                    "security": SECURED,
                    "parameters": [
                        {"name": "name", "in": "query", "required": False, "schema": STR},
                        {
                            "name": "X-Content-SHA256",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Attachment"}, "stored"),
                        **_errors(401, 413, 415, 422),
                    },
                }
            },
            "/api/v1/imports": {
                "post": {
                    "summary": "Import a phone backup file (the raw body) with the CLI's importers",
                    "description": "SMS Backup & Restore XML or ZIP, iPhone sms.db or "
                    "CallHistory.storedata, a vMessage .vmsg file, an Android or Huawei call log "
                    "or SMS database, a call recording (named as the phone names it) or a "
                    "CSV export. Idempotent: sending the same file again adds nothing.",
                    "security": SECURED,
                    "parameters": [
                        {"name": "name", "in": "query", "required": False, "schema": STR},
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["auto", *base.formats()]},
                        },
                        {"name": "since", "in": "query", "required": False, "schema": DAY},
                        {"name": "until", "in": "query", "required": False, "schema": DAY},
                        *(
                            {
                                "name": many,
                                "in": "query",
                                "required": False,
                                "schema": {"type": "array", "items": STR},
                                "style": "form",
                                "explode": True,
                            }
                            for many in ("keywords", "numbers", "platform")
                        ),
                        {"name": "zone", "in": "query", "required": False, "schema": STR},
                        {"name": "map", "in": "query", "required": False, "schema": STR},
                        {
                            "name": "dry_run",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["true", "false"]},
                        },
                        {
                            "name": "X-Content-SHA256",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/ImportSummary"}, "imported"),
                        **_errors(401, 413, 415, 422),
                    },
                }
            },
            "/api/v1/attachments/{sha256}": {
                "get": {
                    "summary": "Download an attachment of this log",
                    "security": SECURED,
                    "parameters": [
                        {"name": "sha256", "in": "path", "required": True, "schema": SHA}
                    ],
                    "responses": {
                        "200": {
                            "description": "the file",
                            "content": {
                                "application/octet-stream": {
                                    "schema": {"type": "string", "format": "binary"}
                                }
                            },
                        },
                        **_errors(401, 404, 422),
                    },
                }
            },
        },
    }
