"""One JSON error shape for the whole API, and the one map from core errors to statuses.

Every failure is ``{"ok": false, "status": <int>, "error": <message>, "code": <word>}``.
Messages come from the core (written for users, never holding a secret) or from here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from evidence import errors
from evidence.accounts import RateLimited

STATUS_FOR: list[tuple[type[Exception], int, str]] = [
    (RateLimited, 429, "rate_limited"),
    (errors.InvalidInput, 422, "invalid_input"),
    (errors.NotFound, 404, "not_found"),
    (errors.Conflict, 409, "conflict"),
    (errors.WrongSecret, 401, "unauthorized"),
    (errors.StoreUnavailable, 503, "unavailable"),
]


class ApiError(Exception):
    """An error the server itself raises (bad request shape, CSRF, upload limits)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal",
}


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"ok": False, "status": status, "error": message, "code": code or _CODES[status]}


def classify(error: Exception) -> tuple[int, str, str]:
    """(status, code, message) for any exception: the one place statuses are chosen."""
    if isinstance(error, ApiError):
        return error.status, error.code, error.message
    for kind, status, code in STATUS_FOR:
        if isinstance(error, kind):
            return status, code, str(error)
    if isinstance(error, HTTPException) and error.code:
        status = error.code
        message = {
            404: "not found",
            405: "method not allowed",
            413: "the request is too large",
            400: "bad request",
        }.get(status, error.name.lower())
        return status, _CODES.get(status, "error"), message
    return 500, "internal", "internal error: nothing was changed by the failed step"


def json_error(error: Exception) -> Response:
    status, code, message = classify(error)
    response = jsonify(error_body(status, message, code))
    response.status_code = status
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="evidence"'
    return response


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask, html_error: Any) -> None:
    """JSON errors under /api/, HTML pages elsewhere; never a traceback to the client."""

    def handle(error: Exception) -> Any:
        status, _code, _message = classify(error)
        if status >= 500:
            app.logger.error("request failed: %s", type(error).__name__, exc_info=error)
        if is_api_request():
            return json_error(error)
        return html_error(error, status)

    app.register_error_handler(Exception, handle)
