"""Findings in the API (GET /api/v1/findings) and on the web statistics page."""

from __future__ import annotations

import pytest

from tests.serverfixtures import ApiUser, WebUser, assert_error, call_event
from tests.test_server_web import HOSTILE, _log


@pytest.fixture
def api(client) -> ApiUser:
    return ApiUser(client, "findingsuser")


def test_night_call_finding_shape(api) -> None:
    assert api.events(call_event("c1")).status_code in (200, 201)
    response = api.get("/api/v1/findings?jurisdiction=cn")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["jurisdiction"] == "cn" and body["events"] == 1
    assert body["zone"]
    found = {f["rule_id"]: f for f in body["findings"]}
    night = found["CN-TIME-1"]
    assert night["entries"] == [0] and night["events"] == 1
    assert night["days"] == ["2026-11-20"]
    assert night["citation"] and night["rule"]["zh"] and night["rule"]["en"]
    assert night["basis"] == "counted"
    for key in ("tier", "citations", "stated_entries", "inferred_entries", "detail"):
        assert key in night


def test_default_jurisdiction_is_cn_and_us_differs(api) -> None:
    api.events(call_event("c1"))
    assert api.get("/api/v1/findings").get_json()["jurisdiction"] == "cn"
    us = api.get("/api/v1/findings?jurisdiction=us").get_json()
    assert all(f["rule_id"].startswith("US-") for f in us["findings"])


def test_another_accounts_token_sees_only_its_own_log(api, client) -> None:
    api.events(call_event("c1"))
    other = ApiUser(client, "someoneelse")
    body = other.get("/api/v1/findings").get_json()
    assert body["events"] == 0 and body["findings"] == []


@pytest.mark.parametrize(
    "query", ["jurisdiction=fr", "jurisdiction=", "bogus=1", "since=yesterday"]
)
def test_bad_arguments_have_the_error_shape(api, query) -> None:
    response = api.get(f"/api/v1/findings?{query}")
    assert_error(response, response.status_code)
    assert response.status_code in (400, 422)


def test_needs_a_token(client) -> None:
    assert_error(client.get("/api/v1/findings"), 401)


def test_stats_page_lists_findings_escaped(client) -> None:
    user = WebUser(client, "webfindings")
    _log(user, when="2026-11-20T23:15", platform=HOSTILE)
    page = client.get("/stats").get_data(as_text=True)
    assert 'id="findings"' in page and "CN-TIME-1" in page
    assert "<script>alert" not in page
    us = client.get("/stats?jurisdiction=us").get_data(as_text=True)
    assert "CN-TIME-1" not in us
    assert client.get("/stats?jurisdiction=zz").status_code == 200
