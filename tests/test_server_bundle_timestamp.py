"""The server's bundle PDF gets a document timestamp from the app's TSA; a dead TSA does
not fail the download."""

from __future__ import annotations

import socket

import pytest

from evidence.verifier import verify_bundle
from tests import tsafixtures
from tests.serverfixtures import ApiUser, app_for, call_event
from tests.tsafixtures import TestCa, TestTsa

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca
pytest.importorskip("pyhanko")


def _download(app, tmp_path):
    client = app.test_client()
    alice = ApiUser(client, "alice")
    assert alice.events(call_event("c1")).status_code == 200
    response = alice.get("/api/v1/bundle")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    path = tmp_path / "downloaded.zip"
    path.write_bytes(response.get_data())
    response.close()
    return path


def test_bundle_pdf_carries_a_document_timestamp_from_the_apps_tsa(
    database_url, tmp_path, tsa: TestTsa, tsa_ca: TestCa
) -> None:
    ca = tmp_path / "tsa-ca.pem"
    ca.write_bytes(tsa_ca.root_pem)
    app = app_for(database_url, tmp_path, EVIDENCE_TSA=tsa.url, EVIDENCE_TSA_CA=str(ca))
    built = next(app)
    try:
        path = _download(built, tmp_path)
    finally:
        next(app, None)
    report = verify_bundle(path, None)
    assert report.ok, [p.code for p in report.problems]
    stamps = report.pdf["document_timestamps"]
    assert len(stamps) == 1 and stamps[0]


def test_a_dead_tsa_leaves_the_pdf_signed_without_a_timestamp(database_url, tmp_path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/tsa"
    app = app_for(database_url, tmp_path, EVIDENCE_TSA=dead)
    built = next(app)
    try:
        path = _download(built, tmp_path)
    finally:
        next(app, None)
    report = verify_bundle(path, None)
    assert report.ok, [p.code for p in report.problems]
    assert report.pdf["document_timestamps"] == []
    assert any("no document timestamp" in note for note in report.unchecked)
