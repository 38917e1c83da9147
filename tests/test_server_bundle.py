"""Bundle download through the API and the web form: the ZIP the core builds, verifiable."""

from __future__ import annotations

import io

from evidence.verifier import verify_bundle
from tests.serverfixtures import ApiUser, WebUser, assert_error, call_event


def _verify(response, tmp_path):
    """Check the downloaded ZIP with the standalone verifier (close the streamed response)."""
    path = tmp_path / "downloaded.zip"
    path.write_bytes(response.get_data())
    response.close()
    report = verify_bundle(path, None)
    assert report.ok, [p.code for p in report.problems]
    return report


def test_api_bundle_downloads_a_verifiable_zip(client, tmp_path) -> None:
    alice = ApiUser(client, "alice")
    shot = alice.upload(b"\x89PNG\r\n\x1a\n" + b"x" * 50).get_json()
    event = call_event("c1", attachments=[{"sha256": shot["sha256"], "name": "shot.png"}])
    other = call_event("c2", fields={"number": "139 0000 0000", "platform": "别家"})
    assert alice.events(event, other).status_code == 200
    response = alice.get("/api/v1/bundle?platform=某贷&lang=en")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert _verify(response, tmp_path).entries == 1  # only the chosen platform's call
    assert_error(alice.get("/api/v1/bundle?platform=nobody"), 404)
    assert_error(alice.get("/api/v1/bundle?since=nonsense"), 422)
    assert_error(alice.get("/api/v1/bundle?lang=fr"), 422)
    assert_error(alice.get("/api/v1/bundle?password=x"), 422)
    assert_error(client.get("/api/v1/bundle"), 401)


def test_an_empty_log_has_no_bundle_and_other_accounts_see_nothing(client) -> None:
    alice = ApiUser(client, "alice")
    bob = ApiUser(client, "bob")
    assert alice.events(call_event("c1")).status_code == 200
    assert_error(bob.get("/api/v1/bundle"), 404)


def test_web_bundle_link_on_the_timeline_downloads_the_zip(client, tmp_path) -> None:
    user = WebUser(client, "carol")
    saved = user.client.post(
        "/log",
        data={
            "kind": "call",
            "number": "13812345678",
            "when": "2026-11-20T23:15",
            "platform": "某贷",
            "said": "<b>hi</b>",
            "csrf_token": user.csrf(),
            "attachment": (io.BytesIO(b"\x89PNG\r\n\x1a\nshot"), "shot.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = client.get("/timeline?platform=某贷").get_data(as_text=True)
    assert 'id="bundle"' in page
    response = client.get("/bundle?platform=%E6%9F%90%E8%B4%B7")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    _verify(response, tmp_path)
    assert client.get("/bundle?platform=nobody").status_code == 404


def test_web_bundle_needs_a_session(client) -> None:
    response = client.get("/bundle")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
