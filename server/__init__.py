"""The web server: the mobile backend's JSON API (/api/v1) and the web form, on the core.

``create_app`` follows the Flask tutorial's factory. The store (an engine pool and a
blob folder) is opened once per process, lazily, so forked workers each get their own;
no request state lives in the process: the session cookie or API token carries the
secret that unwraps the account's key (see :mod:`evidence.accounts`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

DEFAULTS: dict[str, Any] = {
    "EVIDENCE_STORE": None,  # folder: blobs, and the SQLite file when no URL is given
    "EVIDENCE_DATABASE_URL": None,
    "EVIDENCE_KDF_MEMORY_KIB": 64 * 1024,
    "EVIDENCE_KDF_ITERATIONS": 3,
    "EVIDENCE_SESSION_HOURS": 12,
    "EVIDENCE_TOKEN_DAYS": 365,
    "EVIDENCE_LIMIT_PER_CLIENT": 30,
    "EVIDENCE_LIMIT_PER_NAME": 10,
    "EVIDENCE_LIMIT_WINDOW_MINUTES": 15,
    "EVIDENCE_MAX_BATCH": 500,
    "EVIDENCE_MAX_JSON_BYTES": 4 * 1024 * 1024,
    "EVIDENCE_MAX_ATTACHMENT_BYTES": 100 * 1024 * 1024,
    "EVIDENCE_MAX_IMPORT_BYTES": 256 * 1024 * 1024,
    "EVIDENCE_SECURE_COOKIES": True,
    "EVIDENCE_QUICK_EXIT_URL": "https://www.weather.com.cn/",
    "EVIDENCE_TSA": None,  # the CLI's setting: TSA URLs, space or comma separated
    "EVIDENCE_TSA_CA": None,  # PEM file of the root(s) the TSA's certificate chains to
    "EVIDENCE_TIMESTAMP_INTERVAL": 3600,  # seconds a log's latest timestamp stays fresh
    "EVIDENCE_TIMESTAMP_TIMEOUT": 10,  # seconds per TSA, in the background
    "EVIDENCE_PROXY_HOPS": 0,  # reverse proxies in front whose X-Forwarded-For/-Proto count
    "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
}
DB_FILE = "evidence.sqlite3"
WRITERS_LOCK = "sqlite-writers.lock"

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; tests pass their own configuration."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    for key in DEFAULTS:
        if key.startswith("EVIDENCE_") and key in os.environ and key not in ("EVIDENCE_STORE",):
            value = os.environ[key]
            app.config[key] = int(value) if isinstance(DEFAULTS[key], int) else value
    if os.environ.get("EVIDENCE_STORE"):
        app.config["EVIDENCE_STORE"] = os.environ["EVIDENCE_STORE"]
    if test_config:
        app.config.update(test_config)
    # Werkzeug refuses larger bodies with 413 before a view reads them (the import view
    # raises its own request's limit to EVIDENCE_MAX_IMPORT_BYTES).
    app.config["MAX_CONTENT_LENGTH"] = app.config["EVIDENCE_MAX_ATTACHMENT_BYTES"] + 64 * 1024

    _behind_proxies(app)

    from server import api, errors, imports, timestamping, web  # noqa: F401 (imports: a view)

    timestamping.configure(app)

    errors.init_app(app, web.html_error)
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.after_request(_security_headers)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _behind_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For and X-Forwarded-Proto from exactly EVIDENCE_PROXY_HOPS proxies.

    With 0 (the default) they are ignored: anyone can send them, and believing them would
    let a client pick the address its sign-in attempts are counted against.
    """
    hops = app.config["EVIDENCE_PROXY_HOPS"]
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 10:
        raise ValueError("EVIDENCE_PROXY_HOPS is a whole number of proxies from 0 to 10")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Not "no-referrer": under it browsers send "Origin: null" on every form POST, which the
    # CSRF check must refuse (found by the real-browser test). Nothing leaves the origin.
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "geolocation=(), microphone=(), camera=(self)"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    if current_app.config["EVIDENCE_SECURE_COOKIES"]:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def accounts() -> Any:
    """The process's :class:`~evidence.accounts.Accounts`, opened on first use."""
    found = current_app.extensions.get("evidence.accounts")
    if found is None:
        found = _open(current_app)
        current_app.extensions["evidence.accounts"] = found
    return found


def _open(app: Flask) -> Any:
    from evidence import crypto
    from evidence.accounts import Accounts, Limits
    from evidence.ledger import Store

    config = app.config
    if not config["EVIDENCE_STORE"]:
        raise RuntimeError("EVIDENCE_STORE (the folder of the server's store) is not set")
    folder = Path(config["EVIDENCE_STORE"])
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = config["EVIDENCE_DATABASE_URL"] or f"sqlite:///{folder / DB_FILE}"
    store = Store.open(url, folder / "blobs", **config.get("EVIDENCE_STORE_OPTIONS", {}))
    memory, iterations = config["EVIDENCE_KDF_MEMORY_KIB"], config["EVIDENCE_KDF_ITERATIONS"]
    return Accounts(
        store,
        kdf=lambda: crypto.KdfParams.fresh(memory_kib=memory, iterations=iterations),
        session_ttl=timedelta(hours=config["EVIDENCE_SESSION_HOURS"]),
        token_ttl=timedelta(days=config["EVIDENCE_TOKEN_DAYS"]),
        limits=Limits(
            per_client=config["EVIDENCE_LIMIT_PER_CLIENT"],
            per_name=config["EVIDENCE_LIMIT_PER_NAME"],
            window=timedelta(minutes=config["EVIDENCE_LIMIT_WINDOW_MINUTES"]),
        ),
    )


def close(app: Flask) -> None:
    found = app.extensions.pop("evidence.accounts", None)
    if found is not None:
        found.store.close()


@contextlib.contextmanager
def write_turn() -> Iterator[None]:
    """On SQLite, wait for this request's turn to write on a file lock; elsewhere, nothing.

    SQLite lets one writer in at a time, and a process that finds the database locked
    polls it with sleeps that grow to 100 ms, so under load the write lock sits free
    while the waiting worker sleeps (p99 upload latency doubled in bench/server.py). A
    blocking ``flock`` wakes the next writer the moment the previous one is done. It is
    only a queue, never a guarantee: SQLite's own lock still decides, so a writer that
    does not queue here (a token issue, an import's batches) is merely not ordered.
    A new open file per turn, so that threads of one process queue too.
    """
    app = current_app
    if accounts().store.engine.dialect.name != "sqlite":
        yield
        return
    path = Path(app.config["EVIDENCE_STORE"]) / WRITERS_LOCK
    handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock
