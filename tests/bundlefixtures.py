"""Helpers for the bundle and verifier tests: a populated log, ZIP rewriting, PDF text."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from evidence import model, timeutil
from evidence.ledger import Log

ZONE = timeutil.zone("Asia/Shanghai")
HOSTILE = "<font size=40>&amp;</font> <b>粗</b> 😀 \x1b[31m " + "W" * 400

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed: apt-get install poppler-utils",
)


def png_bytes(width: int = 240, height: int = 160) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def draft(kind: str, at: str, **fields: object) -> model.Draft:
    attachments = fields.pop("attachments", ())
    return model.make_draft(
        kind,
        timeutil.parse_instant(at, ZONE),
        fields,
        attachments=attachments,  # type: ignore[arg-type]
    )


def populate(log: Log) -> dict[str, object]:
    """Two platforms, night calls, SMS, a third party, attachments, an amendment, a retraction."""
    shot = log.add_attachment(io.BytesIO(png_bytes()), "截图 <1>.png")
    audio = log.add_attachment(io.BytesIO(b"\x00\x00\x00\x18ftypM4A " + b"r" * 500), "rec.m4a")
    secret = log.add_attachment(io.BytesIO(b"SECRET-ATTACHMENT-OF-MEITUAN"), "meituan.txt")
    log.append(
        [
            draft(
                "call",
                "2026-11-20 23:15",
                number="138 1234 5678",
                platform="京东金条",
                said="说明天去你单位找领导",
                collector="王经理",
                answered=True,
                duration=95,
                direction="incoming",
                attachments=(audio,),
            ),
            draft(
                "sms",
                "2026-11-21 09:02",
                number="1069012345",
                platform="京东金条",
                said="【京东金条】您已逾期，请回电 " + HOSTILE,
                attachments=(shot,),
            ),
            draft(
                "sms",
                "2026-11-21 23:40",
                number="13912345679",
                platform="美团",
                said="美团专属秘密内容XYZZY",
                attachments=(secret,),
            ),
            draft(
                "contact",
                "2026-11-22 10:00",
                contact_name="张妈妈",
                relation="母亲",
                platform="京东金条",
                channel="wechat",
                said="告诉你儿子赶紧还钱",
            ),
            draft(
                "call",
                "2026-11-23 02:10",
                number="+8615012345678",
                platform="美团",
                said="美团深夜来电PLUGH",
            ),
        ]
    )
    log.amend(0, {"collector": "王经理 工号 A017"}, reason="he said it in a later call")
    log.retract(4, "wrong number")
    return {"shot": shot, "audio": audio, "secret": secret}


def rewrite(
    source: Path,
    target: Path,
    change: dict[str, bytes | None] | None = None,
    add: dict[str, bytes] | None = None,
    rename: dict[str, str] | None = None,
    fix_hashes: bool = False,
) -> Path:
    """Copy a ZIP with members changed (None removes), added or renamed.

    With ``fix_hashes`` the manifest and SHA256SUMS are rewritten to match, as a
    forger who knows the format would.
    """
    change, add, rename = change or {}, add or {}, rename or {}
    with zipfile.ZipFile(source) as old:
        members = {i.filename: old.read(i) for i in old.infolist()}
    out: dict[str, bytes] = {}
    for name, data in members.items():
        if name in change:
            if change[name] is None:
                continue
            data = change[name]  # type: ignore[assignment]
        out[rename.get(name, name)] = data
    out.update(add)
    if fix_hashes:
        import hashlib

        from evidence.verifier import layout

        manifest = json.loads(out["manifest.json"])
        manifest["files"] = [
            {"path": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
            for n, d in out.items()
            if n not in layout.AFTER_MANIFEST
        ]
        out["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
        # The forger can write the statement too; only the log key can sign it.
        out["manifest.statement.txt"] = (
            f"{layout.STATEMENT_PREFIX}\nlog {manifest['log']['id']}\n"
            f"manifest-sha256 {hashlib.sha256(out['manifest.json']).hexdigest()}\n"
        ).encode()
        out["SHA256SUMS"] = "".join(
            f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in out.items() if n != "SHA256SUMS"
        ).encode()
    with zipfile.ZipFile(target, "w") as new:
        for name, data in out.items():
            new.writestr(name, data)
    return target


def pdf_text(zip_path: Path, tmp: Path, layout: bool = False) -> str:
    pdf = tmp / "extracted.pdf"
    with zipfile.ZipFile(zip_path) as archive:
        pdf.write_bytes(archive.read("evidence.pdf"))
    args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_pages(zip_path: Path, tmp: Path) -> int:
    pdf = tmp / "extracted.pdf"
    with zipfile.ZipFile(zip_path) as archive:
        pdf.write_bytes(archive.read("evidence.pdf"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])


Codes = Callable[[object], set[str]]


def codes(report: object) -> set[str]:
    return {p.code for p in report.problems}  # type: ignore[attr-defined]
