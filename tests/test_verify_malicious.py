"""Hostile ZIPs: reported as failures, never extracted, never exhausting the verifier."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from evidence.verifier import layout, verify_bundle
from tests.bundlefixtures import codes


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


def _before_after(tmp_path: Path, path: Path) -> set[str]:
    before = {str(p) for p in tmp_path.parent.rglob("*")}
    report = verify_bundle(path)
    assert not report.ok
    assert {str(p) for p in tmp_path.parent.rglob("*")} == before  # nothing was written
    return codes(report)


@pytest.mark.parametrize(
    "name",
    ["../../evil.txt", "/etc/evil", "attachments/../../evil", "C:/evil.txt", "a\\..\\evil",
     "attachments/sub/evil.png", "evil\x00.txt", "./evidence.pdf"],
)  # fmt: skip
def test_unsafe_names(tmp_path: Path, name: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = _zip(tmp_path / "t.zip", [(name, b"x")])
    assert "zip.unsafe_name" in _before_after(tmp_path, path)


def test_symlink(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("attachments/1-2_link.png")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert "zip.symlink" in _before_after(tmp_path, _zip(tmp_path / "t.zip", [(info, b"/etc")]))


def test_duplicate_names(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = _zip(tmp_path / "t.zip", [("entries.jsonl", b"a\n"), ("entries.jsonl", b"b\n")])
    assert "zip.duplicate" in _before_after(tmp_path, path)


def test_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("entries.jsonl", "w") as member,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(300):  # 300 MiB of zeros compress to ~300 KiB
            member.write(chunk)
    assert path.stat().st_size < 2 << 20
    assert "zip.bomb" in _before_after(tmp_path, path)


def test_huge_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "MAX_MANIFEST_BYTES", 1000)
    path = _zip(tmp_path / "t.zip", [("manifest.json", b'{"files": [' + b" " * 5000 + b"]}")])
    assert "file.unreadable" in _before_after(tmp_path, path)


def test_too_many_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "MAX_MEMBERS", 3)
    path = _zip(tmp_path / "t.zip", [(f"attachments/{i}.png", b"x") for i in range(5)])
    assert "zip.too_many" in _before_after(tmp_path, path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", os.urandom(2000)])
def test_not_a_zip(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "t.zip"
    path.write_bytes(content)
    assert codes(verify_bundle(path)) == {"zip.unreadable"}


def test_manifest_with_duplicate_keys_and_floats(tmp_path: Path) -> None:
    for body in (b'{"format": "x", "format": "evidence-bundle/v1", "files": []}',
                 b'{"format": "evidence-bundle/v1", "files": [], "n": 1.5}'):  # fmt: skip
        path = _zip(tmp_path / "t.zip", [("manifest.json", body)])
        assert "manifest.invalid" in codes(verify_bundle(path))
