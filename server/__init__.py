"""The web server (mobile backend JSON API and web form). For now, only the app factory."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; tests pass their own configuration."""
    app = Flask(__name__)
    app.config.from_mapping(EVIDENCE_STORE=None)
    if test_config:
        app.config.update(test_config)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
