"""The statistics page: the pattern at a glance, counted as the bundle counts it."""

from __future__ import annotations

import re

import pytest

from tests.serverfixtures import WebUser
from tests.test_server_web import HOSTILE, _log


@pytest.fixture
def user(client) -> WebUser:
    return WebUser(client, "statsuser")


def _value(page: str, element: str) -> str:
    found = re.search(rf'<dd id="{element}">([^<]*)</dd>', page)
    assert found, element
    return found.group(1)


def test_counts_night_calls_platforms_and_numbers(user, client) -> None:
    _log(user, when="2026-11-20T23:15")  # night
    _log(user, when="2026-11-20T21:59", number="13812345678")  # same number, evening
    _log(user, when="2026-11-21T07:59", number="021-12345678", platform="另一家")  # night
    _log(user, kind="contact", number="妈妈", said="告诉她我欠钱", when="2026-11-21T10:00")
    page = client.get("/stats").get_data(as_text=True)
    assert client.get("/stats").status_code == 200
    assert _value(page, "events") == "4"
    assert _value(page, "night") == "2"
    assert _value(page, "days") == "2"
    assert _value(page, "numbers") == "2"
    assert "+8613812345678" in page and "另一家" in page
    assert re.search(r'<table class="bars" id="third-parties">\s*<tr><td>妈妈</td>', page)
    assert page.count('<meter min="0" max="2" value="2">') == 2


def test_hostile_text_is_escaped_and_signed_out_users_are_sent_to_sign_in(user, client) -> None:
    _log(user, platform=HOSTILE)
    page = client.get("/stats").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    anonymous = client.application.test_client()
    assert anonymous.get("/stats").status_code in (302, 303)


def test_the_page_counts_the_same_from_the_analysis_cache(user, client) -> None:
    # Blocks of 2 entries: the first visit builds them, the second reads them; both pages
    # show what the log holds, corrections included.
    from unittest import mock

    from evidence import analysis_cache
    from tests.test_analysis_cache import Reads

    with mock.patch.object(analysis_cache, "BLOCK", 2):
        _log(user, when="2026-11-20T23:15")
        _log(user, when="2026-11-20T21:59", number="13812345678")
        _log(user, when="2026-11-21T07:59", number="021-12345678", platform="另一家")
        _log(user, when="2026-11-21T09:00", number="13900001111")
        _log(user, kind="contact", number="妈妈", said="告诉她我欠钱", when="2026-11-21T10:00")
        first = client.get("/stats").get_data(as_text=True)
        with Reads() as reads:
            second = client.get("/stats").get_data(as_text=True)
    assert reads.count == 1  # the last, partial block; the two whole ones come from the cache
    assert first == second
    assert _value(second, "events") == "5"
    assert _value(second, "night") == "2"
    assert _value(second, "numbers") == "3"
    assert "另一家" in second and "妈妈" in second
