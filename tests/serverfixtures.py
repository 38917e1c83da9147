"""Server test helpers: an app on a fresh store (SQLite or PostgreSQL), accounts, the error shape.

Each test module declares its ``app``/``client`` fixtures with :func:`app_for` (conftest.py
is shared and left alone).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

import server
from server import create_app
from tests.conftest import TEST_KDF_MIB, FakeClock

PASSWORD = "a long password 马上"
ERROR_KEYS = {"ok", "status", "error", "code"}


def app_for(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """The body of each test module's ``app`` fixture (``overrides``: more settings)."""
    built = create_app(
        {
            "TESTING": True,
            "EVIDENCE_STORE": str(tmp_path / "server-store"),
            "EVIDENCE_DATABASE_URL": database_url,
            "EVIDENCE_KDF_MEMORY_KIB": TEST_KDF_MIB * 1024,
            "EVIDENCE_KDF_ITERATIONS": 1,
            "EVIDENCE_STORE_OPTIONS": {"clock": FakeClock()},
            "EVIDENCE_MAX_ATTACHMENT_BYTES": 256 * 1024,
            "EVIDENCE_MAX_JSON_BYTES": 64 * 1024,
            "EVIDENCE_MAX_BATCH": 50,
            "EVIDENCE_LIMIT_PER_CLIENT": 1000,
            "EVIDENCE_LIMIT_PER_NAME": 1000,
            **overrides,
        }
    )
    yield built
    server.close(built)


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """Every API failure has the one JSON error shape (the datasette way)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= ERROR_KEYS, body
    assert set(body) <= ERROR_KEYS | {"results"}, body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["code"], str) and body["code"]
    assert "Traceback" not in body["error"]
    return body


class ApiUser:
    """An account with an API token, and shortcuts for calling the API as it."""

    def __init__(self, client: FlaskClient, name: str) -> None:
        self.client = client
        self.name = name
        created = client.post("/api/v1/accounts", json={"name": name, "password": PASSWORD})
        assert created.status_code == 201, created.get_json()
        self.recovery_code = created.get_json()["recovery_code"]
        issued = client.post(
            "/api/v1/tokens", json={"name": name, "password": PASSWORD, "label": "phone"}
        )
        assert issued.status_code == 201, issued.get_json()
        self.token = issued.get_json()["token"]
        self.token_id = issued.get_json()["id"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.auth, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self.auth)

    def upload(self, content: bytes, name: str = "shot.png", sha: str | None = None) -> Any:
        return self.post(
            f"/api/v1/attachments?name={name}",
            data=content,
            headers={
                "Content-Type": "image/png",
                "X-Content-SHA256": sha or hashlib.sha256(content).hexdigest(),
            },
        )

    def events(self, *events: dict[str, Any]) -> Any:
        return self.post("/api/v1/events", json={"events": list(events)})


def call_event(client_id: str, **overrides: Any) -> dict[str, Any]:
    event = {
        "id": client_id,
        "kind": "call",
        "occurred_at": "2026-11-20T23:15:00+08:00",
        "fields": {"number": "138 1234 5678", "said": "说明天去你单位", "platform": "某贷"},
    }
    event.update(overrides)
    return event


class WebUser:
    """A browser session: signs up through the form and keeps its cookies."""

    def __init__(self, client: FlaskClient, name: str) -> None:
        self.client = client
        self.name = name
        response = self.submit(
            "/signup", {"name": name, "password": PASSWORD, "password2": PASSWORD}
        )
        assert response.status_code == 200, response.get_data(as_text=True)

    def csrf(self) -> str:
        page = self.client.get("/signin").get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found
        return found.group(1)

    def submit(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(path, data={**data, "csrf_token": self.csrf()}, **kwargs)
