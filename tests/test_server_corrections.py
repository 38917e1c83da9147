"""Corrections through the API: amend and retract an entry, safely retried from a phone."""

from __future__ import annotations

import pytest

from tests.serverfixtures import ApiUser, assert_error, call_event


@pytest.fixture
def alice(client) -> ApiUser:
    user = ApiUser(client, "alice")
    stored = user.events(call_event("c1"), call_event("c2", occurred_at="2026-11-21 08:00"))
    assert stored.status_code == 200, stored.get_json()
    return user


def _count(user: ApiUser) -> int:
    return len(user.get("/api/v1/entries").get_json()["entries"])


def _night_calls_of(user: ApiUser, platform: str) -> list[int]:
    findings = user.get(f"/api/v1/findings?platform={platform}").get_json()["findings"]
    return [seq for f in findings if f["rule_id"] == "CN-TIME-1" for seq in f["entries"]]


def test_an_amendment_is_stored_once_however_often_it_is_sent(alice) -> None:
    assert _night_calls_of(alice, "某贷") == [0]
    body = {"id": "fix-1", "changes": {"collector": "王经理"}, "cleared": ["platform"],
            "reason": "wrong lender"}  # fmt: skip
    first = alice.post("/api/v1/entries/0/amendments", json=body)
    assert first.status_code == 201, first.get_json()
    amendment = first.get_json()["entry"]
    assert amendment["kind"] == "amend"
    assert amendment["fields"] == {"target": 0, "changes": {"collector": "王经理"},
                                   "cleared": ["platform"], "reason": "wrong lender"}  # fmt: skip
    again = alice.post("/api/v1/entries/0/amendments", json=body)
    assert again.status_code == 200 and again.get_json()["entry"] == amendment
    assert _count(alice) == 3
    target = alice.get("/api/v1/entries/0").get_json()["entry"]
    assert target["amended_by"] == [amendment["seq"]]
    assert target["fields"]["platform"] == "某贷"  # the original as recorded
    assert _night_calls_of(alice, "某贷") == []  # as amended, entry 0 is of no lender


def test_a_retraction_is_retry_safe_and_a_second_one_conflicts(alice) -> None:
    first = alice.post("/api/v1/entries/1/retractions", json={"id": "r1", "reason": "not them"})
    assert first.status_code == 201, first.get_json()
    assert (
        alice.post(
            "/api/v1/entries/1/retractions", json={"id": "r1", "reason": "not them"}
        ).get_json()
        == first.get_json()
    )
    other = alice.post("/api/v1/entries/1/retractions", json={"id": "r2", "reason": "again"})
    assert "already retracted" in assert_error(other, 409)["error"]
    amend = alice.post("/api/v1/entries/1/amendments", json={"id": "a", "changes": {"note": "x"}})
    assert_error(amend, 409)
    assert alice.get("/api/v1/entries/1").get_json()["entry"]["retracted_by"] == 2
    assert _count(alice) == 3


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/entries/9/amendments", {"id": "x", "changes": {"note": "n"}}, 404),
        ("/api/v1/entries/99999999999999999999/amendments", {"id": "x", "changes": {}}, 404),
        ("/api/v1/entries/0/amendments", {"changes": {"note": "n"}}, 422),
        ("/api/v1/entries/0/amendments", {"id": "x"}, 422),
        ("/api/v1/entries/0/amendments", {"id": "x", "cleared": ["number"]}, 422),
        ("/api/v1/entries/0/amendments", {"id": "x", "cleared": [3]}, 422),
        ("/api/v1/entries/0/amendments", {"id": "x", "changes": {"location": "y"}}, 422),
        ("/api/v1/entries/0/amendments", {"id": " ", "changes": {"note": "n"}}, 422),
        ("/api/v1/entries/0/amendments", {"id": "x", "occurred_at": "soon"}, 422),
        ("/api/v1/entries/0/amendments",
         {"id": "x", "attachments": [{"sha256": "0" * 64, "name": "a.png"}]}, 422),
        ("/api/v1/entries/2/retractions", {"id": "x", "reason": "r"}, 404),
        ("/api/v1/entries/0/retractions", {"id": "x", "reason": " "}, 422),
        ("/api/v1/entries/0/retractions", {"id": "x"}, 422),
    ],
)  # fmt: skip
def test_bad_corrections_are_refused_and_store_nothing(alice, path, body, status) -> None:
    assert_error(alice.post(path, json=body), status)
    assert _count(alice) == 2


def test_corrections_need_a_token(client, alice) -> None:
    response = client.post("/api/v1/entries/0/retractions", json={"id": "x", "reason": "r"})
    assert_error(response, 401)
    assert _count(alice) == 2


def test_a_correction_id_never_meets_an_event_id(alice) -> None:
    stored = alice.events(call_event("correction/x"))
    assert stored.get_json()["results"][0]["status"] == "stored"
    made = alice.post("/api/v1/entries/0/amendments", json={"id": "x", "changes": {"note": "n"}})
    assert made.status_code == 201 and made.get_json()["entry"]["kind"] == "amend"
