"""A real browser (Debian's chromium, driven by Playwright) against `evidence serve`'s server.

Sign up, log a call with a screenshot attached from the file picker, find it in the
timeline, download the bundle from the timeline's link, and run `evidence verify` on it.
Skipped only when /usr/bin/chromium is absent (CI installs it: see .ci/run).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.serving import build_server, url_of
from tests.conftest import TEST_KDF_MIB
from tests.serverfixtures import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A 1x1 PNG: the "screenshot" a borrower attaches.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d5e0b70000000049454e44ae426082"
)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    """`evidence serve`'s server (SQLite store in tmp_path) on a free loopback port."""
    server = build_server("127.0.0.1", 0, tmp_path / "store", None, TEST_KDF_MIB)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url_of(server, "127.0.0.1")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def page(base_url: str) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(
                base_url=base_url,
                accept_downloads=True,
                viewport={"width": 390, "height": 844},  # a phone
                locale="zh-CN",
            )
            opened = context.new_page()
            opened.set_default_timeout(30_000)
            yield opened
            context.close()
        finally:
            browser.close()


def test_sign_up_log_a_call_with_a_screenshot_and_download_a_verified_bundle(
    page, tmp_path: Path
) -> None:
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(PNG)
    hostile = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}") or dialog.dismiss())

    page.goto("/")
    assert page.url.endswith("/signin")
    page.click("text=还没有账号？注册")
    page.fill("input[name=name]", "borrower_1")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")
    assert page.locator(".code").inner_text().strip()  # the recovery code, shown once
    page.click("text=我已抄好，开始记录")

    # The one-screen form: kind, number, time (defaults to now), platform, what was said, a file.
    page.select_option("select[name=kind]", "call")
    page.fill("input[name=number]", "138 1234 5678")
    assert page.input_value("input[name=when]")
    page.fill("input[name=platform]", "某贷")
    page.fill("textarea[name=said]", "说明天去你单位 " + hostile)
    page.set_input_files("input[name=attachment]", str(shot))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url("**/entries/*")
    assert page.locator(".ok").inner_text() == "已保存，已签名"
    assert "+8613812345678" in page.content()
    assert page.locator("text=screenshot.png").count() == 1

    page.goto("/timeline")
    item = page.locator(".timeline li")
    assert item.count() == 1
    assert "某贷" in item.inner_text() and "+8613812345678" in item.inner_text()
    assert hostile in page.locator(".said").inner_text()  # shown as text, never run
    assert "📎1" in item.inner_text()
    assert page.title() != "pwned" and errors == []

    with page.expect_download() as download_info:
        page.click("#bundle")
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    bundle = tmp_path / "bundle.zip"
    download.save_as(bundle)

    verified = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", str(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "entries disclosed: 1; attachments: 1" in verified.stdout

    # A mistake is withdrawn from the entry's own page, with a reason; the entry stays.
    page.goto("/entries/0")
    page.click("text=更正这条记录")
    page.fill("input[name=withdraw_reason]", "记错了号码")
    page.click("text=撤回这条记录")
    page.wait_for_url("**/entries/0?saved=1")
    assert "已撤回" in page.content() and "+8613812345678" in page.content()
    assert errors == []
