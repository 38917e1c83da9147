"""The JSON API through the Flask test client (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import hashlib

import pytest

from tests.serverfixtures import PASSWORD, ApiUser, assert_error, call_event


@pytest.fixture
def alice(client) -> ApiUser:
    return ApiUser(client, "alice")


@pytest.fixture
def bob(client) -> ApiUser:
    return ApiUser(client, "bob")


def test_batch_upload_is_idempotent_and_reports_per_item_errors(alice) -> None:
    batch = [
        call_event("c1"),
        call_event("c2", occurred_at="2026-11-21 08:00"),
        call_event("bad-time", occurred_at="yesterday-ish"),
        call_event("bad-number", fields={"number": ""}),
        call_event("future", occurred_at="2099-01-01T00:00:00+08:00"),
    ]
    first = alice.events(*batch)
    assert first.status_code == 200, first.get_json()
    results = first.get_json()["results"]
    assert [r["status"] for r in results] == [
        "stored",
        "stored",
        "rejected",
        "rejected",
        "rejected",
    ]
    for rejected in results[2:]:
        assert rejected["error"]["status"] == 422 and rejected["error"]["ok"] is False
    again = alice.events(*batch)
    assert again.get_json() == first.get_json()
    entries = alice.get("/api/v1/entries").get_json()["entries"]
    assert [e["seq"] for e in entries] == [results[0]["seq"], results[1]["seq"]]
    assert entries[0]["fields"]["number"]["e164"] == "+8613812345678"


def test_a_batch_of_only_bad_items_is_refused_and_changes_nothing(alice) -> None:
    body = assert_error(alice.events(call_event("x", kind="nonsense")), 422)
    assert body["results"][0]["status"] == "rejected"
    assert alice.get("/api/v1/entries").get_json()["entries"] == []


def test_attachment_upload_checks_the_declared_sha_and_size(alice, app) -> None:
    content = b"\x89PNG\r\n\x1a\n" + b"screenshot" * 100
    stored = alice.upload(content)
    assert stored.status_code == 201, stored.get_json()
    sha = stored.get_json()["sha256"]
    assert sha == hashlib.sha256(content).hexdigest()
    assert_error(alice.upload(content, sha="0" * 64), 422)
    assert_error(alice.upload(content, sha="nothex"), 422)
    limit = app.config["EVIDENCE_MAX_ATTACHMENT_BYTES"]
    assert_error(alice.upload(b"x" * (limit + 1)), 413)
    event = call_event("with-shot", attachments=[{"sha256": sha, "name": "../../shot.png"}])
    result = alice.events(event).get_json()["results"][0]
    assert result["status"] == "stored"
    entry = alice.get(f"/api/v1/entries/{result['seq']}").get_json()["entry"]
    assert entry["attachments"] == [
        {"sha256": sha, "size": len(content), "name": "shot.png", "media_type": "image/png"}
    ]
    downloaded = alice.get(f"/api/v1/attachments/{sha}")
    assert downloaded.status_code == 200 and downloaded.data == content
    missing = call_event("missing", attachments=[{"sha256": "1" * 64, "name": "a.png"}])
    assert_error(alice.events(missing), 422)


def test_entries_filter_and_page(alice) -> None:
    alice.events(
        call_event("a", fields={"number": "13800000001", "platform": "借呗"}),
        call_event("b", kind="sms", fields={"number": "1069012345", "said": "逾期"}),
        call_event("c", occurred_at="2026-11-25T10:00+08:00"),
    )
    get = lambda q: alice.get(f"/api/v1/entries?{q}").get_json()  # noqa: E731
    assert [e["kind"] for e in get("kind=sms")["entries"]] == ["sms"]
    assert len(get("platform=借呗")["entries"]) == 1
    assert len(get("since=2026-11-24")["entries"]) == 1
    page = get("limit=2")
    assert len(page["entries"]) == 2 and page["next_after"] == 1
    assert len(get("limit=2&after=1")["entries"]) == 1
    for bad in ("limit=0", "limit=abc", "kind=zzz", "since=notaday", "colour=red", "after=-1"):
        assert_error(alice.get(f"/api/v1/entries?{bad}"), 422)


def test_head_is_signed_and_grows(alice) -> None:
    before = alice.get("/api/v1/head").get_json()
    alice.events(call_event("h1"))
    after = alice.get("/api/v1/head").get_json()
    assert before["head"]["size"] == 0 and after["head"]["size"] == 1
    assert len(after["head"]["signature"]) == 128 and after["fingerprint"]


def test_tokens_issue_list_revoke(alice, client) -> None:
    second = client.post(
        "/api/v1/tokens", json={"name": "alice", "password": PASSWORD, "label": "tablet"}
    ).get_json()
    listed = alice.get("/api/v1/tokens").get_json()["tokens"]
    assert {t["label"] for t in listed} == {"phone", "tablet"}
    assert all("token" not in t for t in listed)
    assert alice.delete(f"/api/v1/tokens/{second['id']}").status_code == 204
    assert_error(
        client.get("/api/v1/head", headers={"Authorization": f"Bearer {second['token']}"}), 401
    )
    assert alice.get("/api/v1/head").status_code == 200


def test_sign_in_gives_no_hint_whether_the_name_exists(alice, client) -> None:
    wrong = client.post("/api/v1/tokens", json={"name": "alice", "password": "wrong password"})
    unknown = client.post("/api/v1/tokens", json={"name": "nobody", "password": "wrong password"})
    assert assert_error(wrong, 401)["error"] == assert_error(unknown, 401)["error"]


def test_token_issue_is_rate_limited(client, app) -> None:
    app.config["EVIDENCE_LIMIT_PER_NAME"] = 2
    import server

    server.close(app)  # the limits are read when the store opens
    ApiUser(client, "zoe")  # one attempt
    client.post("/api/v1/tokens", json={"name": "zoe", "password": "wrong password"})
    limited = client.post("/api/v1/tokens", json={"name": "zoe", "password": PASSWORD})
    assert_error(limited, 429)
    assert limited.headers["Retry-After"]


def test_every_endpoint_refuses_another_accounts_ids(alice, bob) -> None:
    content = b"bob's recording"
    sha = bob.upload(content, name="rec.m4a").get_json()["sha256"]
    seq = bob.events(call_event("bob-1")).get_json()["results"][0]["seq"]
    # Alice reuses Bob's client id: it is scoped to her account, so hers is stored anew.
    mine = alice.events(call_event("bob-1")).get_json()["results"][0]
    assert mine["status"] == "stored" and mine["seq"] == 0
    assert_error(alice.get(f"/api/v1/attachments/{sha}"), 404)
    assert_error(alice.get(f"/api/v1/entries/{seq + 5}"), 404)
    assert (
        alice.get(f"/api/v1/entries/{seq}").get_json()["entry"]["log"]
        != bob.get(f"/api/v1/entries/{seq}").get_json()["entry"]["log"]
    )
    assert_error(alice.delete(f"/api/v1/tokens/{bob.token_id}"), 404)
    assert bob.get("/api/v1/head").status_code == 200  # Bob's token survived
    ref = call_event("steal", attachments=[{"sha256": sha, "name": "x"}])
    assert_error(alice.events(ref), 422)
    assert (
        alice.get("/api/v1/head").get_json()["head"]["log"]
        != bob.get("/api/v1/head").get_json()["head"]["log"]
    )


ENDPOINTS = [
    ("get", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/00000000-0000-0000-0000-000000000000"),
    ("post", "/api/v1/events"),
    ("get", "/api/v1/entries"),
    ("get", "/api/v1/entries/0"),
    ("get", "/api/v1/head"),
    ("post", "/api/v1/attachments"),
    ("get", "/api/v1/attachments/" + "0" * 64),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer evt_nonsense", "Basic abc", "Bearer evs_" + "0" * 32 + "." + "A" * 43],
)
def test_every_endpoint_needs_a_valid_token(client, method, path, authorization) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = getattr(client, method)(path, headers=headers)
    assert_error(response, 401)


def test_a_session_cookie_does_not_authenticate_the_api(client) -> None:
    from tests.serverfixtures import WebUser

    WebUser(client, "webonly")
    assert_error(client.get("/api/v1/head"), 401)


BAD_BODIES = [
    ("malformed json", b"{not json", "application/json", 400),
    ("not an object", b"[1, 2]", "application/json", 400),
    ("nan", b'{"events": [NaN]}', "application/json", 400),
    ("wrong content type", b'{"events": []}', "text/plain", 415),
    ("missing events", b"{}", "application/json", 422),
    ("events not a list", b'{"events": "x"}', "application/json", 422),
    ("unknown field", b'{"events": [], "extra": 1}', "application/json", 422),
    ("empty batch", b'{"events": []}', "application/json", 422),
    ("oversize body", b'{"events": ["' + b"x" * 70_000 + b'"]}', "application/json", 413),
    ("bad utf-8", b'{"events": ["\xff"]}', "application/json", 400),
]


@pytest.mark.parametrize(("label", "body", "mimetype", "status"), BAD_BODIES, ids=lambda v: v)
def test_bad_bodies_get_the_error_shape_and_change_nothing(
    alice, label, body, mimetype, status
) -> None:
    response = alice.post("/api/v1/events", data=body, headers={"Content-Type": mimetype})
    assert_error(response, status)
    assert alice.get("/api/v1/head").get_json()["head"]["size"] == 0


BAD_EVENTS = [
    ("wrong type for kind", {"kind": 5}),
    ("unknown kind", {"kind": "fax"}),
    ("unknown event field", {"colour": "red"}),
    ("fields not an object", {"fields": ["a"]}),
    ("unknown kind field", {"fields": {"number": "13800000000", "volume": 11}}),
    ("bad timestamp", {"occurred_at": "2026-13-45 99:99"}),
    ("timestamp not text", {"occurred_at": 1732000000}),
    ("invalid number", {"fields": {"number": ["138"]}}),
    ("wrong type in field", {"fields": {"number": "13800000000", "duration": "long"}}),
    ("boolean as id", {"id": True}),
    ("empty id", {"id": ""}),
    ("too long text", {"fields": {"number": "1", "said": "x" * 100_001}}),
    ("attachments not a list", {"attachments": "abc"}),
    ("bad attachment sha", {"attachments": [{"sha256": "XYZ", "name": "a"}]}),
]


@pytest.mark.parametrize(("label", "override"), BAD_EVENTS, ids=lambda v: v)
def test_bad_events_are_rejected_with_the_error_shape(alice, app, label, override) -> None:
    app.config["EVIDENCE_MAX_JSON_BYTES"] = 1024 * 1024
    body = assert_error(alice.events(call_event("e1", **override)), 422)
    assert body["results"][0]["error"]["status"] == 422
    assert alice.get("/api/v1/head").get_json()["head"]["size"] == 0


def test_batch_size_is_limited(alice, app) -> None:
    events = [call_event(f"id{i}") for i in range(app.config["EVIDENCE_MAX_BATCH"] + 1)]
    assert_error(alice.events(*events), 413)


def test_sign_up_errors(client) -> None:
    assert_error(client.post("/api/v1/accounts", json={"name": "ab", "password": PASSWORD}), 422)
    assert_error(client.post("/api/v1/accounts", json={"name": "abc", "password": "short"}), 422)
    assert_error(client.post("/api/v1/accounts", json={"name": 1, "password": PASSWORD}), 422)
    ApiUser(client, "taken")
    assert_error(client.post("/api/v1/accounts", json={"name": "TAKEN", "password": PASSWORD}), 409)


def test_unknown_api_paths_and_methods(client) -> None:
    assert_error(client.get("/api/v1/nothing"), 404)
    assert_error(client.put("/api/v1/events"), 405)
    assert_error(client.get("/api/v1/entries/notanumber"), 404)


def test_openapi_document_lists_every_api_route(app, client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    implemented = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or "<path:" in rule.rule:
            continue
        if rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule.replace("<int:seq>", "{seq}").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            implemented.add((path, method))
    assert documented == implemented
