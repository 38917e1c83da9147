"""The server's app factory (the API and the web form come with their own issue)."""

from server import create_app


def test_app_factory_serves_health_and_takes_test_config() -> None:
    app = create_app({"TESTING": True, "EVIDENCE_STORE": "/nowhere"})
    assert app.config["EVIDENCE_STORE"] == "/nowhere"
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert app.test_client().get("/no-such-page").status_code == 404
