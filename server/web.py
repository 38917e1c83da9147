"""The web form: server-rendered pages that work without JavaScript, Chinese first.

Sessions are cookies that carry a secret (see :mod:`evidence.accounts`); forms carry a
double-submit CSRF token that matches a cookie of its own, and cross-site POSTs are
refused by Origin as well. Jinja autoescapes every value: collector text is hostile.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.exceptions import HTTPException

from evidence import keyring, model, timeutil
from evidence.errors import EvidenceError, WrongSecret
from server import accounts, write_turn
from server.api import client_address, entry_of, select_entries, storable
from server.errors import ApiError, classify
from server.i18n import LANGUAGES, translator

bp = Blueprint("web", __name__)
SESSION_COOKIE = "ev_session"
CSRF_COOKIE = "ev_csrf"
LANG_COOKIE = "ev_lang"
FORM_KINDS = ("call", "sms", "message", "contact", "visit", "letter", "other")
# Which field the form's "number / who" box fills for each kind (the model validates it).
WHO_FIELD = {
    "call": "number",
    "sms": "number",
    "message": "sender",
    "contact": "contact_name",
    "visit": "location",
    "letter": "sender",
    "other": None,
}


# --- cookies, language, CSRF ----------------------------------------------------------------


def _cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=current_app.config["EVIDENCE_SECURE_COOKIES"],
        httponly=True,
        samesite="Strict" if name == SESSION_COOKIE else "Lax",
    )


@bp.before_app_request
def _prepare() -> None:
    lang = request.args.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    g.lang = lang if lang in LANGUAGES else "zh"
    g.csrf = request.cookies.get(CSRF_COOKIE) or ""
    if len(g.csrf) != 43:
        g.csrf = secrets.token_urlsafe(32)
        g.new_csrf = True


@bp.after_app_request
def _remember(response: Response) -> Response:
    if request.path.startswith("/api/"):
        return response
    if g.get("new_csrf"):
        _cookie(response, CSRF_COOKIE, g.csrf)
    if "lang" in request.args and request.args["lang"] in LANGUAGES:
        _cookie(response, LANG_COOKIE, request.args["lang"], max_age=365 * 86400)
    return response


def _check_csrf() -> None:
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        if urlsplit(origin).netloc != request.host:
            raise ApiError(403, "cross-site form refused")
    elif origin == "null":
        raise ApiError(403, "cross-site form refused")
    sent = request.form.get("csrf_token", "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise ApiError(403, "this form has expired: go back, reload the page and send it again")


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {
        "t": translator(g.get("lang", "zh")),
        "lang": g.get("lang", "zh"),
        "csrf_token": g.get("csrf", ""),
        "quick_exit": current_app.config["EVIDENCE_QUICK_EXIT_URL"],
        "signed_in": g.get("account") is not None,
    }


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = request.cookies.get(SESSION_COOKIE, "")
        try:
            g.account, g.log, g.credential = accounts().authenticate(token, keyring.SESSION)
        except WrongSecret:
            response = redirect(url_for("web.sign_in"))
            if token:
                response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        if request.method == "POST":
            _check_csrf()
        return view(*args, **kwargs)

    return wrapper


def html_error(error: Exception, status: int) -> Any:
    _status, _code, message = classify(error)
    if isinstance(error, HTTPException) and status < 500:
        message = translator(g.get("lang", "zh"))(f"http_{status}", message)
    return render_template("error.html", status=status, message=message), status


# --- accounts -------------------------------------------------------------------------------


@bp.get("/")
def index() -> Any:
    if request.cookies.get(SESSION_COOKIE):
        return redirect(url_for("web.new_entry"))
    return redirect(url_for("web.sign_in"))


@bp.route("/signup", methods=["GET", "POST"])
def sign_up() -> Any:
    error = None
    if request.method == "POST":
        _check_csrf()
        service = accounts()
        try:
            service.throttle("signup", client_address())
            name, password = request.form.get("name", ""), request.form.get("password", "")
            if password != request.form.get("password2", ""):
                raise EvidenceError(translator(g.lang)("passwords_differ"))
            code = service.sign_up(name, password)
            issued = service.sign_in(name, password, keyring.SESSION)
        except EvidenceError as exc:
            error = str(exc)
        else:
            response = Response(render_template("recovery.html", code=code))
            _session_cookie(response, issued)
            return response
    return render_template("signup.html", error=error), 200 if error is None else 422


def _session_cookie(response: Response, issued: Any) -> None:
    _cookie(response, SESSION_COOKIE, issued.secret)


@bp.route("/signin", methods=["GET", "POST"])
def sign_in() -> Any:
    error = None
    if request.method == "POST":
        _check_csrf()
        service = accounts()
        name = request.form.get("name", "")
        try:
            service.throttle("signin", client_address(), name.strip().casefold())
            issued = service.sign_in(name, request.form.get("password", ""), keyring.SESSION)
        except EvidenceError as exc:
            status, _c, _m = classify(exc)
            key = "rate_limited" if status == 429 else "signin_failed"
            return render_template("signin.html", error=translator(g.lang)(key)), status
        response = redirect(url_for("web.new_entry"))
        _session_cookie(response, issued)
        return response
    return render_template("signin.html", error=error)


@bp.post("/signout")
@signed_in
def sign_out() -> Any:
    accounts().revoke(g.account, g.credential.id, keyring.SESSION)
    response = redirect(url_for("web.sign_in"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def password() -> Any:
    error = done = None
    if request.method == "POST":
        try:
            if request.form.get("new", "") != request.form.get("new2", ""):
                raise EvidenceError(translator(g.lang)("passwords_differ"))
            accounts().change_password(
                g.account,
                g.log,
                request.form.get("old", ""),
                request.form.get("new", ""),
                keep=g.credential.id,
            )
            done = True
        except EvidenceError as exc:
            error = str(exc)
    status = 200 if error is None else 422
    return render_template("password.html", error=error, done=done), status


# --- logging and reading --------------------------------------------------------------------


def _last_platform(log: Any, stop: int) -> str:
    """The platform of the latest entry that names one, read backwards a few entries at
    a time: the form is the page a borrower opens most, and a log may hold 100,000."""
    while stop > 0:
        first = max(0, stop - _RECENT)
        for entry in reversed(log.entries_between(first, stop)):
            if entry.fields.get("platform"):
                return str(entry.fields["platform"])
        stop = first
    return ""


_RECENT = 256


def _local_input(instant: datetime, zone: Any) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@bp.route("/log", methods=["GET", "POST"])
@signed_in
def new_entry() -> Any:
    log = g.log
    form: dict[str, str] = {}
    error = None
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("kind", "number", "when", "platform", "said")}
        try:
            kind = form["kind"] if form["kind"] in FORM_KINDS else "other"
            when = form["when"].strip() or "now"
            occurred = timeutil.parse_instant(when, log.zone, now=log.store.clock())
            fields = {"platform": form["platform"], "said": form["said"]}
            who = WHO_FIELD[kind]
            if form["number"].strip():
                fields[who or "note"] = form["number"]
            attachments = []
            upload = request.files.get("attachment")
            if upload and upload.filename:
                attachments.append(
                    log.add_attachment(upload.stream, upload.filename, upload.mimetype)
                )
            draft = model.make_draft(
                kind, occurred, fields, tuple(attachments), source={"via": "web"}
            )
            with write_turn():
                entry = log.append([draft])[0]
        except EvidenceError as exc:
            error = str(exc)
        else:
            from server.timestamping import after_upload

            after_upload(log)
            return redirect(url_for("web.show_entry", seq=entry.seq, saved=1))
    count = log.count()
    defaults = {
        "kind": form.get("kind", "call"),
        "number": form.get("number", ""),
        "when": form.get("when") or _local_input(log.store.clock(), log.zone),
        "platform": form.get("platform") or _last_platform(log, count),
        "said": form.get("said", ""),
    }
    status = 200 if error is None else 422
    return render_template(
        "log.html", kinds=FORM_KINDS, form=defaults, error=error, count=count
    ), status


def _view(entry: Any, zone: Any) -> dict[str, Any]:
    fields = entry.fields
    number = fields.get("number")
    party = ""
    if isinstance(number, dict):
        party = number.get("e164") or number.get("raw") or ""
    party = party or fields.get("contact_name") or fields.get("sender") or ""
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "when": timeutil.format_local(entry.occurred_at, zone),
        "recorded": timeutil.format_local(entry.recorded_at, zone),
        "party": party,
        "platform": fields.get("platform", ""),
        "said": fields.get("said") or fields.get("note") or fields.get("reason") or "",
        "fields": fields,
        "attachments": entry.attachments,
        "amended_by": entry.amended_by,
        "retracted_by": entry.retracted_by,
        "target": entry.target,
    }


@bp.get("/timeline")
@signed_in
def timeline() -> Any:
    log = g.log
    args = {k: request.args.get(k, "") for k in ("kind", "platform", "since", "until")}
    error = None
    try:
        selected = select_entries(log, args)
    except EvidenceError as exc:
        error, selected = str(exc), []
    platforms = sorted(
        {str(e.fields["platform"]) for e in log.analysis_entries() if e.fields.get("platform")}
    )
    views = [_view(e, log.zone) for e in reversed(selected)]
    return render_template(
        "timeline.html",
        entries=views,
        args=args,
        kinds=model.KINDS,
        platforms=platforms,
        error=error,
    ), 200 if error is None else 422


@bp.get("/stats")
@signed_in
def stats_page() -> Any:
    """The pattern at a glance, from the same counts the bundle's PDF uses."""
    from evidence import rules
    from evidence.bundle import stats

    jurisdiction = request.args.get("jurisdiction") or "cn"
    if jurisdiction not in rules.JURISDICTIONS:
        jurisdiction = "cn"
    everything = g.log.analysis_entries()  # the sealed cache: a big log opens fast
    corrections: dict[int, list[Any]] = {}
    for entry in everything:
        if entry.target is not None:
            corrections.setdefault(entry.target, []).append(entry)
    counts = stats.compute(everything, corrections, g.log.zone)
    days = sorted(counts.by_day.items())[-31:]
    return render_template(
        "stats.html",
        s=counts,
        days=days,
        busiest=max((n for _day, n in days), default=1),
        platforms=counts.by_platform.most_common(),
        kinds=counts.by_kind.most_common(),
        top=counts.top_callers(10),
        parties=sorted(counts.third_parties.values(), key=lambda p: -p.count),
        jurisdiction=jurisdiction,
        jurisdictions=rules.JURISDICTIONS,
        findings=rules.analyze(everything, jurisdiction),
    )


@bp.get("/entries/<int:seq>")
@signed_in
def show_entry(seq: int) -> Any:
    return _entry_page(seq, saved=request.args.get("saved"))


def _entry_page(seq: int, error: str | None = None, saved: Any = None, form: Any = None) -> Any:
    entry = entry_of(g.log, seq)
    page = render_template(
        "entry.html",
        entry=_view(entry, g.log.zone),
        saved=saved,
        error=error,
        form=form or {},
        correctable=entry.kind in model.EVENT_KINDS and entry.retracted_by is None,
        # One id per rendered form: a second tap on "save" sends it again, and the log
        # stores the correction once.
        form_id=secrets.token_urlsafe(16),
    )
    return page, 200 if error is None else 422


_FORM_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def _form_key(kind: str) -> str | None:
    form_id = request.form.get("form_id", "")
    return f"web {kind} {form_id}" if _FORM_ID.match(form_id) else None


@bp.post("/entries/<int:seq>/amend")
@signed_in
def amend_entry(seq: int) -> Any:
    """Correct an entry from its page: a platform, what was said, or no platform at all."""
    log = g.log
    form = {k: request.form.get(k, "") for k in ("platform", "said", "reason", "clear_platform")}
    storable(seq)  # an entry the log does not have: the page below answers 404
    try:
        changes = {"platform": form["platform"].strip(), "said": form["said"].strip()}
        cleared = ["platform"] if form["clear_platform"] else []
        with write_turn():
            log.amend(seq, changes, form["reason"].strip(), None, (), cleared, _form_key("amend"))
    except EvidenceError as exc:
        return _entry_page(seq, error=str(exc), form=form)
    return _after_correction(seq)


@bp.post("/entries/<int:seq>/retract")
@signed_in
def retract_entry(seq: int) -> Any:
    """Withdraw an entry logged by mistake, with a reason."""
    log = g.log
    reason = request.form.get("withdraw_reason", "")
    storable(seq)  # an entry the log does not have: the page below answers 404
    try:
        with write_turn():
            log.retract(seq, reason.strip(), _form_key("retract"))
    except EvidenceError as exc:
        return _entry_page(seq, error=str(exc), form={"withdraw_reason": reason})
    return _after_correction(seq)


def _after_correction(seq: int) -> Any:
    from server.timestamping import after_upload

    after_upload(g.log)
    return redirect(url_for("web.show_entry", seq=seq, saved=1))


@bp.get("/entries/<int:seq>/attachments/<sha256>")
@signed_in
def attachment(seq: int, sha256: str) -> Any:
    entry = entry_of(g.log, seq)
    found = next((a for a in entry.attachments if a.sha256 == sha256), None)
    if found is None:
        raise ApiError(404, "no such attachment")
    chunks = g.log.read_attachment(sha256)
    response = Response(stream_with_context(chunks), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = "attachment"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/bundle")
@signed_in
def bundle() -> Any:
    """The evidence bundle ZIP for the timeline's platform and period (verifiable offline)."""
    from werkzeug.datastructures import MultiDict

    from server.bundles import bundle_response

    args = MultiDict(
        [
            (k, v)
            for k, v in request.args.items(multi=True)
            if k in ("platform", "since", "until") and v.strip()
        ]
    )
    args["lang"] = g.lang  # the bundle's PDF in the page's language
    return bundle_response(g.log, args)
