"""Correcting and withdrawing an entry from its page in the web form."""

from __future__ import annotations

import re

import pytest

from tests.serverfixtures import WebUser


@pytest.fixture
def user(client) -> WebUser:
    user = WebUser(client, "webuser")
    data = {"kind": "call", "number": "138 1234 5678", "when": "2026-11-20T23:15",
            "platform": "某贷", "said": "说明天去你单位"}  # fmt: skip
    assert user.submit("/log", data, content_type="multipart/form-data").status_code == 302
    return user


def _form_id(client) -> str:
    found = re.search(r'name="form_id" value="([^"]+)"', client.get("/entries/0").get_data(True))
    assert found
    return found.group(1)


def _count(client) -> int:
    return len(re.findall(r'href="/entries/\d+"', client.get("/timeline").get_data(as_text=True)))


def test_clear_the_platform_and_see_the_correction(user, client) -> None:
    form_id = _form_id(client)
    data = {"clear_platform": "1", "reason": "不是这家", "form_id": form_id}
    saved = user.submit("/entries/0/amend", data)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/entries/0?saved=1")
    page = client.get("/entries/0").get_data(as_text=True)
    assert "已被更正" in page and 'href="/entries/1"' in page
    correction = client.get("/entries/1").get_data(as_text=True)
    assert "<dt>cleared</dt><dd>platform</dd>" in correction and "不是这家" in correction
    # The same form sent twice (a second tap) stores one correction.
    assert user.submit("/entries/0/amend", data).status_code == 302
    assert _count(client) == 2
    # Counts use the entry as amended: no lender any more.
    assert "某贷" not in client.get("/stats").get_data(as_text=True)


def test_a_changed_field_reads_as_a_change(user, client) -> None:
    data = {"platform": "另一家", "said": "补全：说明天去你单位找领导", "form_id": _form_id(client)}
    assert user.submit("/entries/0/amend", data).status_code == 302
    correction = client.get("/entries/1").get_data(as_text=True)
    assert "platform → 另一家" in correction and "said → 补全：说明天去你单位找领导" in correction
    assert "None" not in correction


def test_withdraw_with_a_reason(user, client) -> None:
    data = {"withdraw_reason": "记错了", "form_id": _form_id(client)}
    assert user.submit("/entries/0/retract", data).status_code == 302
    page = client.get("/entries/0").get_data(as_text=True)
    assert "已撤回" in page and "withdraw_reason" not in page  # nothing left to correct


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/entries/0/amend", {"platform": "另一家", "clear_platform": "1"}, "both changed"),
        ("/entries/0/amend", {"reason": "nothing else"}, "nothing to amend"),
        ("/entries/0/retract", {"withdraw_reason": "  "}, "needs a reason"),
    ],
)
def test_a_refused_correction_shows_the_page_again(user, client, path, data, message) -> None:
    response = user.submit(path, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error"' in page and message in page
    assert _count(client) == 1


def test_corrections_need_the_csrf_token_and_an_existing_entry(user, client) -> None:
    assert client.post("/entries/0/retract", data={"withdraw_reason": "x"}).status_code == 403
    assert user.submit("/entries/9/retract", {"withdraw_reason": "x"}).status_code == 404
    assert user.submit("/entries/99999999999999999999/amend", {"note": "x"}).status_code == 404
    assert _count(client) == 1
