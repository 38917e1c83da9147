"""Behind nginx: X-Forwarded-For/-Proto count only with EVIDENCE_PROXY_HOPS (default: never)."""

from __future__ import annotations

import pytest
from flask import request

from server import create_app
from tests.serverfixtures import PASSWORD, app_for, assert_error

FORGED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


def _with_probe(app):
    """A route that shows what the app believes about the client (tests only)."""

    @app.get("/_probe")
    def probe() -> dict[str, str]:
        return {"addr": request.remote_addr or "", "scheme": request.scheme}

    return app


@pytest.fixture
def direct(database_url, tmp_path):
    for app in app_for(database_url, tmp_path, EVIDENCE_LIMIT_PER_CLIENT=2):
        yield _with_probe(app)


@pytest.fixture
def proxied(database_url, tmp_path):
    for app in app_for(database_url, tmp_path, EVIDENCE_LIMIT_PER_CLIENT=2, EVIDENCE_PROXY_HOPS=1):
        yield _with_probe(app)


def _sign_up(client, n: int, forwarded_for: str):
    return client.post(
        "/api/v1/accounts",
        json={"name": f"user{n}", "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )


def test_forwarded_headers_are_ignored_by_default(direct) -> None:
    client = direct.test_client()
    seen = client.get("/_probe", headers=FORGED, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert seen.get_json() == {"addr": "10.0.0.5", "scheme": "http"}
    # A client cannot escape the per-address limit by inventing addresses.
    assert _sign_up(client, 1, "198.51.100.1").status_code == 201
    assert _sign_up(client, 2, "198.51.100.2").status_code == 201
    assert_error(_sign_up(client, 3, "198.51.100.3"), 429)


def test_one_trusted_proxy_gives_the_clients_address_and_scheme(proxied) -> None:
    client = proxied.test_client()
    seen = client.get("/_probe", headers=FORGED, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert seen.get_json() == {"addr": "203.0.113.7", "scheme": "https"}
    # Only the address the proxy appended counts: a client's own prefix is ignored.
    chained = client.get(
        "/_probe",
        headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.8"},
        environ_base={"REMOTE_ADDR": "10.0.0.5"},
    )
    assert chained.get_json()["addr"] == "203.0.113.8"
    # Rate limits count per real client: two clients behind the proxy are two clients.
    assert _sign_up(client, 1, "198.51.100.1").status_code == 201
    assert _sign_up(client, 2, "198.51.100.1").status_code == 201
    assert_error(_sign_up(client, 3, "198.51.100.1"), 429)
    assert _sign_up(client, 4, "198.51.100.2").status_code == 201


@pytest.mark.parametrize("hops", [-1, 11, "1", True])
def test_a_bad_setting_stops_the_app_from_starting(tmp_path, hops) -> None:
    with pytest.raises(ValueError, match="EVIDENCE_PROXY_HOPS"):
        create_app({"EVIDENCE_STORE": str(tmp_path), "EVIDENCE_PROXY_HOPS": hops})


def test_the_setting_is_read_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EVIDENCE_PROXY_HOPS", "2")
    app = _with_probe(create_app({"EVIDENCE_STORE": str(tmp_path)}))
    seen = app.test_client().get(
        "/_probe",
        headers={"X-Forwarded-For": "203.0.113.1, 203.0.113.2"},
        environ_base={"REMOTE_ADDR": "10.0.0.5"},
    )
    assert seen.get_json()["addr"] == "203.0.113.1"
