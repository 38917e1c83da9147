"""Interval timestamps on the server, against the local TSA of tests/tsafixtures.py (no network)."""

from __future__ import annotations

import logging
import socket
import time
from datetime import timedelta

import pytest

import server
from evidence import keyring, timestamps
from server import create_app, timestamping
from tests import tsafixtures
from tests.importfixtures import collection_sms, write_sms_xml
from tests.serverfixtures import ApiUser, WebUser, app_for, call_event
from tests.tsafixtures import TestCa, TestTsa

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca


def _app(database_url, tmp_path, tsa_url: str, ca_path=None, **settings):
    return app_for(
        database_url,
        tmp_path,
        EVIDENCE_TSA=tsa_url,
        EVIDENCE_TSA_CA=str(ca_path) if ca_path else None,
        **settings,
    )


@pytest.fixture
def ca_file(tmp_path, tsa_ca: TestCa):
    path = tmp_path / "tsa-ca.pem"
    path.write_bytes(tsa_ca.root_pem)
    return path


@pytest.fixture
def app(database_url, tmp_path, tsa: TestTsa, ca_file):
    yield from _app(database_url, tmp_path, tsa.url, ca_file)


@pytest.fixture
def alice(app) -> ApiUser:
    return ApiUser(app.test_client(), "alice")


def _log_of(app, user: ApiUser):
    with app.app_context():
        _account, log, _credential = server.accounts().authenticate(user.token, keyring.TOKEN)
    return log


def _kinds(user: ApiUser) -> list[str]:
    return [e["kind"] for e in user.get("/api/v1/entries?limit=1000").get_json()["entries"]]


def test_an_upload_is_timestamped_once_per_interval(app, alice, tsa, tsa_ca) -> None:
    assert alice.events(call_event("c1"), call_event("c2")).status_code == 200
    timestamping.wait(app)
    assert tsa.requests == 1
    entries = alice.get("/api/v1/entries").get_json()["entries"]
    assert [e["kind"] for e in entries] == ["call", "call", "timestamp"]
    stamp = entries[2]["fields"]
    assert stamp["head_size"] == 2 and stamp["tsa"] == tsa.url  # covers both calls
    # Recorded exactly as `evidence timestamp` does: the token checks against the log's head.
    log = _log_of(app, alice)
    good, problems = timestamps.stamps(
        log.heads(), log.entries(), timestamps.load_anchors(tsa_ca.root_pem)
    )
    assert problems == [] and len(good) == 1

    # Within the interval: no second token, whichever worker serves the next upload.
    assert alice.events(call_event("c3")).status_code == 200
    timestamping.wait(app)
    assert tsa.requests == 1

    # Once the interval has passed, the next upload is timestamped again.
    clock = app.config["EVIDENCE_STORE_OPTIONS"]["clock"]
    clock.now += timedelta(seconds=app.config["EVIDENCE_TIMESTAMP_INTERVAL"] + 1)
    assert alice.events(call_event("c4")).status_code == 200
    timestamping.wait(app)
    assert tsa.requests == 2
    assert _kinds(alice).count("timestamp") == 2


def test_another_worker_finds_the_recent_timestamp_in_the_log(
    app, alice, tsa, database_url, tmp_path, ca_file
) -> None:
    assert alice.events(call_event("c1")).status_code == 200
    timestamping.wait(app)
    assert tsa.requests == 1
    # A second app on the same store: no memo of its own, it reads the log back.
    for other in _app(database_url, tmp_path, tsa.url, ca_file):
        client = other.test_client()
        response = client.post(
            "/api/v1/events", json={"events": [call_event("c2")]}, headers=alice.auth
        )
        assert response.status_code == 200
        timestamping.wait(other)
    assert tsa.requests == 1
    assert _kinds(alice).count("timestamp") == 1


def test_the_web_form_and_imports_are_timestamped(app, tsa, tmp_path) -> None:
    client = app.test_client()
    user = WebUser(client, "webuser")
    saved = user.submit(
        "/log", {"kind": "call", "number": "13800138000", "when": "", "platform": "", "said": "x"}
    )
    assert saved.status_code == 302
    timestamping.wait(app)
    assert tsa.requests == 1

    phone = ApiUser(client, "phoneuser")
    content = write_sms_xml(tmp_path / "sms.xml", collection_sms(3)).read_bytes()
    imported = phone.post(
        "/api/v1/imports", data=content, headers={"Content-Type": "application/octet-stream"}
    )
    assert imported.get_json()["new"] == 3
    timestamping.wait(app)
    assert tsa.requests == 2
    assert _kinds(phone).count("timestamp") == 1


def test_a_down_tsa_never_fails_the_upload_and_is_logged_without_secrets(
    database_url, tmp_path, tsa, caplog
) -> None:
    url = tsa.url.replace("http://", "http://operator:hunter2secret@")
    tsa.close()  # nothing listens there any more
    for app in _app(database_url, tmp_path, url):
        user = ApiUser(app.test_client(), "alice")
        with caplog.at_level(logging.WARNING, logger="evidence.server.timestamps"):
            assert user.events(call_event("c1")).status_code == 200
            timestamping.wait(app)
        assert _kinds(user) == ["call"]
        assert "timestamp" in caplog.text and "failed" in caplog.text
        assert "hunter2secret" not in caplog.text and "operator" not in caplog.text
        # Not retried on every upload while it is down.
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="evidence.server.timestamps"):
            assert user.events(call_event("c2")).status_code == 200
            timestamping.wait(app)
        assert caplog.text == ""


def test_a_tsa_that_never_answers_does_not_delay_the_answer(database_url, tmp_path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/tsa"
        for app in _app(database_url, tmp_path, url, EVIDENCE_TIMESTAMP_TIMEOUT=2):
            user = ApiUser(app.test_client(), "alice")
            started = time.monotonic()
            assert user.events(call_event("c1")).status_code == 200
            assert time.monotonic() - started < 1.5
            started = time.monotonic()
            timestamping.wait(app)
            assert time.monotonic() - started < 10  # the bounded timeout, in the background
            assert _kinds(user) == ["call"]


def test_without_a_tsa_nothing_is_requested(database_url, tmp_path, tsa) -> None:
    for app in app_for(database_url, tmp_path):
        user = ApiUser(app.test_client(), "alice")
        assert user.events(call_event("c1")).status_code == 200
        timestamping.wait(app)
    assert tsa.requests == 0


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"EVIDENCE_TSA": "ftp://tsa.example"}, timestamps.TimestampFailed),
        ({"EVIDENCE_TIMESTAMP_INTERVAL": -1}, ValueError),
        ({"EVIDENCE_TIMESTAMP_TIMEOUT": 0}, ValueError),
        ({"EVIDENCE_TIMESTAMP_TIMEOUT": 600}, ValueError),
    ],
    ids=str,
)
def test_bad_settings_stop_the_app_from_starting(tmp_path, settings, error) -> None:
    with pytest.raises(error):
        create_app({"EVIDENCE_STORE": str(tmp_path), **settings})
