"""Standard tools suffice: sha256sum and openssl check a bundle as VERIFY.txt says."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from evidence.bundle import Options, build_bundle
from tests.bundlefixtures import populate

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not found")


@needs_openssl
def test_openssl_verifies_the_head_and_the_manifest_statement(log, tmp_path: Path) -> None:
    populate(log)
    build_bundle(log, tmp_path / "case.zip", Options())
    folder = tmp_path / "case"
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        archive.extractall(folder)
    statement = (folder / "manifest.statement.txt").read_text(encoding="ascii")
    manifest_sha = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    assert statement.splitlines()[2] == f"manifest-sha256 {manifest_sha}"
    for signed, signature in (("head.txt", "head.sig"), ("manifest.statement.txt", "manifest.sig")):
        result = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
             "-in", signed, "-sigfile", signature],
            cwd=folder, capture_output=True, text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Signature Verified Successfully" in result.stdout
    (folder / "manifest.statement.txt").write_text(statement.replace("log ", "log x"))
    forged = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
         "-in", "manifest.statement.txt", "-sigfile", "manifest.sig"],
        cwd=folder, capture_output=True, text=True,
    )  # fmt: skip
    assert forged.returncode != 0
