"""schemathesis against /api/v1/openapi.json, in process (the WSGI app; no network).

Every documented operation gets generated requests, valid and invalid, with a real API
token: no response may be a 500, and every response must match the document (status
codes, content types, bodies against the schemas). The document is what the mobile app
is built from, so it must stay true.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server.openapi import document
from tests.serverfixtures import PASSWORD, ApiUser, WebUser, assert_error, call_event


@pytest.fixture
def alice(app) -> ApiUser:
    """An account with a token, two entries and an attachment, so reads return real data."""
    user = ApiUser(app.test_client(), "alice")
    shot = user.upload(b"\x89PNG\r\n\x1a\n" + b"s" * 64).get_json()
    event = call_event("c1", attachments=[{"sha256": shot["sha256"], "name": "shot.png"}])
    assert user.events(event, call_event("c2")).status_code == 200
    return user


# More for a deeper run: EVIDENCE_SCHEMATHESIS_EXAMPLES=300 pytest tests/test_server_schema.py
EXAMPLES = int(os.environ.get("EVIDENCE_SCHEMATHESIS_EXAMPLES", "30"))
OPERATIONS = [
    (path, method.upper(), mode)
    for path, ops in document()["paths"].items()
    for method, op in ops.items()
    # Negative data needs something to break: a parameter or a body.
    for mode in (
        ("positive", "negative") if op.get("parameters") or op.get("requestBody") else ("positive",)
    )
]


# An invalid body may also be refused for its size before anything else (413): a random
# negative case can be larger than the JSON limit. The rest is schemathesis's default list
# (5xx answers are caught by its not_a_server_error check).
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "5xx"]}}}
)


@pytest.mark.parametrize(("path", "method", "mode"), OPERATIONS, ids=str)
def test_every_operation_matches_the_document(app, alice, path, method, mode) -> None:
    """No 500; every answer (status, type, body) is documented; invalid requests are refused."""
    # Loaded by hand, not with schemathesis.pytest.from_fixture (broken on pytest 9).
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)[path][
        method
    ]
    strategy = operation.as_strategy(GenerationMode(mode), headers=alice.auth)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        # Not positive_data_acceptance: rules across fields or over stored data (a period
        # that ends before it starts, a time in the future, a name taken, an attachment not
        # uploaded) cannot be said in JSON Schema and are rightly refused with 4xx.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    check()


def test_what_schemathesis_found_stays_fixed(app, alice) -> None:
    """Each of these was a 500 or an answer outside the document before the fix."""
    client = app.test_client()
    # An entry number past any database integer: 404, not an OverflowError (500).
    assert_error(alice.get(f"/api/v1/entries/{2**63}"), 404)
    assert_error(alice.get(f"/api/v1/entries/{10**30}"), 404)
    web = WebUser(client, "web_user")
    assert web.client.get(f"/entries/{10**30}").status_code == 404
    # A required field sent as null: 422, not an AttributeError (500).
    assert_error(client.post("/api/v1/tokens", json={"name": None, "password": "x" * 8}), 422)
    assert_error(alice.events(call_event("c9", attachments=None)), 422)
    # A NUL in a token label: PostgreSQL refuses it in text (a 500 there); now 422 everywhere.
    label = {"name": "alice", "password": PASSWORD, "label": "a\x00b"}
    assert_error(client.post("/api/v1/tokens", json=label), 422)
    # A client id that is not a string is not echoed back (Result.id is a string or null).
    body = assert_error(alice.events(call_event(7)), 422)
    assert body["results"][0]["id"] is None
    # Empty query values are refused rather than read as "absent".
    for query in ("since=", "until=", "kind=", "limit="):
        assert_error(alice.get(f"/api/v1/entries?{query}"), 422)
    assert_error(alice.get("/api/v1/bundle?since="), 422)
