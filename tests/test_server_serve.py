"""`evidence serve`: starts the web form on the embedded default and prints its address."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from cli.serving import build_server, url_of


def test_serve_builds_a_working_server_on_sqlite(tmp_path: Path) -> None:
    server = build_server("127.0.0.1", 0, tmp_path / "store", None, 8)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = url_of(server, "127.0.0.1")
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "signin", timeout=10) as response:
            page = response.read().decode("utf-8")
            assert response.status == 200 and "登录" in page
            assert "Secure" not in response.headers.get("Set-Cookie", "")
    finally:
        server.shutdown()
        server.server_close()
    assert (tmp_path / "store" / "evidence.sqlite3").exists()


def test_serve_has_help() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "--host" in result.output
