"""The web form: sign-up to timeline, CSRF, escaping, headers, isolation, language."""

from __future__ import annotations

import io
import re

import pytest

from tests.serverfixtures import PASSWORD, WebUser

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def user(client) -> WebUser:
    return WebUser(client, "webuser")


def _log(user: WebUser, **fields) -> object:
    data = {
        "kind": "call",
        "number": "138 1234 5678",
        "when": "2026-11-20T23:15",
        "platform": "某贷",
        "said": "说明天去你单位",
        **fields,
    }
    return user.submit("/log", data, content_type="multipart/form-data")


def test_sign_up_shows_the_recovery_code_once_and_signs_in(client) -> None:
    user = WebUser(client, "newcomer")
    page = client.get("/log")
    assert page.status_code == 200
    assert "记录刚才发生的事" in page.get_data(as_text=True)
    assert user.name


def test_log_a_call_with_a_screenshot_and_see_it(user, client) -> None:
    shot = b"\x89PNG\r\n\x1a\nscreen"
    saved = _log(user, attachment=(io.BytesIO(shot), "截图.png", "image/png"))
    assert saved.status_code == 302
    entry_page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已保存" in entry_page and "+8613812345678" in entry_page
    link = re.search(r'href="(/entries/0/attachments/[0-9a-f]{64})"', entry_page)
    assert link
    download = client.get(link.group(1))
    assert download.data == shot
    assert download.headers["Content-Disposition"] == "attachment"
    timeline = client.get("/timeline").get_data(as_text=True)
    assert "说明天去你单位" in timeline
    # The platform is remembered for the next entry.
    assert 'name="platform" value="某贷"' in client.get("/log").get_data(as_text=True)


def test_timeline_filters(user, client) -> None:
    _log(user)
    _log(user, kind="sms", number="1069012345", said="短信内容", platform="另一家")
    page = client.get("/timeline?kind=sms").get_data(as_text=True)
    assert "短信内容" in page and "说明天去你单位" not in page
    page = client.get("/timeline?platform=某贷").get_data(as_text=True)
    assert "短信内容" not in page and "说明天去你单位" in page
    assert client.get("/timeline?since=notaday").status_code == 422


def test_hostile_collector_text_is_escaped_everywhere(user, client) -> None:
    assert _log(user, said=HOSTILE, platform=HOSTILE).status_code == 302
    for path in ("/timeline", "/entries/0", "/log"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;" in page, path


def test_bad_input_re_shows_the_form_and_stores_nothing(user, client) -> None:
    response = _log(user, number="", kind="call")
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert _log(user, when="2026-13-45 99:99").status_code == 422
    assert "还没有记录" in client.get("/timeline").get_data(as_text=True)


def test_posts_without_the_csrf_token_are_refused(user, client) -> None:
    data = {"kind": "call", "number": "13800000000", "said": "x"}
    assert client.post("/log", data=data).status_code == 403
    assert client.post("/log", data={**data, "csrf_token": "A" * 43}).status_code == 403
    cross = client.post(
        "/log",
        data={**data, "csrf_token": user.csrf()},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert client.post("/signout", data={}).status_code == 403
    assert client.post("/signin", data={"name": "webuser", "password": PASSWORD}).status_code == 403
    assert "还没有记录" in client.get("/timeline").get_data(as_text=True)


def test_security_headers_and_cookie_flags(client) -> None:
    response = client.get("/signin")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" in response.headers
    created = client.post(
        "/signup",
        data={
            "name": "cookies",
            "password": PASSWORD,
            "password2": PASSWORD,
            "csrf_token": re.search(
                r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)
            ).group(1),
        },
    )
    cookies = created.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("ev_session="))
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in session
    api = client.get("/api/v1/openapi.json")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_sign_in_and_out_and_a_dead_session(client) -> None:
    user = WebUser(client, "inout")
    assert user.submit("/signout", {}).status_code == 302
    assert client.get("/log").status_code == 302  # back to sign-in
    bad = user.submit("/signin", {"name": "inout", "password": "wrong password"})
    unknown = user.submit("/signin", {"name": "nobody", "password": "wrong password"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert user.submit("/signin", {"name": "inout", "password": PASSWORD}).status_code == 302
    assert client.get("/log").status_code == 200


def test_change_password(user, client) -> None:
    changed = user.submit(
        "/password", {"old": PASSWORD, "new": "new password!", "new2": "new password!"}
    )
    assert changed.status_code == 200 and "密码已修改" in changed.get_data(as_text=True)
    wrong = user.submit(
        "/password", {"old": "nope nope", "new": "another one", "new2": "another one"}
    )
    assert wrong.status_code == 401 or wrong.status_code == 422
    user.submit("/signout", {})
    assert user.submit("/signin", {"name": "webuser", "password": PASSWORD}).status_code == 401
    assert (
        user.submit("/signin", {"name": "webuser", "password": "new password!"}).status_code == 302
    )


def test_another_account_cannot_see_or_fetch_my_entries(app) -> None:
    mine, theirs = app.test_client(), app.test_client()
    me = WebUser(mine, "owner")
    _log(me, said="私密内容", attachment=(io.BytesIO(b"secret shot"), "s.png", "image/png"))
    page = mine.get("/entries/0").get_data(as_text=True)
    link = re.search(r'href="(/entries/0/attachments/[0-9a-f]{64})"', page).group(1)
    WebUser(theirs, "other")
    assert theirs.get("/entries/0").status_code == 404
    assert theirs.get(link).status_code == 404
    assert "私密内容" not in theirs.get("/timeline").get_data(as_text=True)


def test_english_is_available_and_remembered(client) -> None:
    page = client.get("/signin?lang=en").get_data(as_text=True)
    assert "Sign in" in page and 'lang="en"' in page
    assert "Sign in" in client.get("/signin").get_data(as_text=True)
    assert "登录" in client.get("/signin?lang=zh").get_data(as_text=True)


def test_quick_exit_is_on_every_page(client) -> None:
    page = client.get("/signin").get_data(as_text=True)
    assert 'class="exit" href="https://www.weather.com.cn/"' in page


def test_upload_limit(user, app) -> None:
    big = b"x" * (app.config["EVIDENCE_MAX_ATTACHMENT_BYTES"] + 128 * 1024)
    response = _log(user, attachment=(io.BytesIO(big), "big.png", "image/png"))
    assert response.status_code == 413


def test_the_form_suggests_the_latest_platform_reading_only_the_latest_entries(user, client):
    from unittest import mock

    from server import web
    from tests.test_analysis_cache import Reads

    _log(user, platform="先前那家")
    for _ in range(4):
        _log(user, platform="")
    with mock.patch.object(web, "_RECENT", 2), Reads() as reads:
        page = client.get("/log").get_data(as_text=True)
    assert 'name="platform" value="先前那家"' in page  # three windows back
    assert reads.count == 5
    assert re.search(r'<p class="muted">[^<]*: 5</p>', page)  # entries so far, counted
    _log(user, platform="最新")
    with mock.patch.object(web, "_RECENT", 2), Reads() as reads:
        page = client.get("/log").get_data(as_text=True)
    assert 'name="platform" value="最新"' in page
    assert reads.count == 2  # the latest window only, not the whole log
