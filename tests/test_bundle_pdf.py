"""The PDF as a reader sees it (pdftotext): content, Chinese text, page numbers, hostile text."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from evidence.bundle import Options, build_bundle
from evidence.ledger import Log
from tests.bundlefixtures import needs_poppler, pdf_pages, pdf_text, populate

pytestmark = needs_poppler


@pytest.fixture
def chinese(log: Log, tmp_path: Path) -> Path:
    populate(log)
    build_bundle(log, tmp_path / "zh.zip", Options(title="张三诉某贷", borrower="张三",
                                                   purpose="civil"))  # fmt: skip
    return tmp_path / "zh.zip"


def test_chinese_pdf_has_every_section_and_entry(chinese: Path, tmp_path: Path) -> None:
    text = pdf_text(chinese, tmp_path)
    for expected in ["张三诉某贷", "民事诉讼", "概述", "证据目录", "序号", "证据名称", "证据来源",
                     "证明对象/证明内容", "页码", "证据1-1", "证据1-2", "按时间顺序的记录",
                     "附件附录", "完整性说明", "说明天去你单位找领导", "告诉你儿子赶紧还钱",
                     "+8613812345678", "江苏省连云港市", "中国移动", "张妈妈", "母亲",
                     "王经理 工号 A017", "【已更正】", "【已撤回】", "wrong number",
                     "evidence-log-head/v1"]:  # fmt: skip
        assert expected in text, expected
    # Counts: 5 events, one retracted, so the summary counts 4 (2 calls... minus retracted).
    assert "共记录催收相关事件 4 次" in text.replace("\n", "")


def test_footer_page_count_matches_real_page_count(chinese: Path, tmp_path: Path) -> None:
    pages = pdf_pages(chinese, tmp_path)
    text = pdf_text(chinese, tmp_path)
    footers = re.findall(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", text)
    assert [int(x) for x, _ in footers] == list(range(1, pages + 1))
    assert {int(y) for _, y in footers} == {pages}


def test_evidence_index_page_numbers_point_at_the_right_pages(chinese: Path, tmp_path: Path):
    pdf = tmp_path / "extracted.pdf"
    pdf_text(chinese, tmp_path)
    pages = pdf_pages(chinese, tmp_path)
    by_page = [
        subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                       capture_output=True, text=True, check=True).stdout
        for n in range(1, pages + 1)
    ]  # fmt: skip
    appendix = next(n for n, t in enumerate(by_page, 1) if "附件附录" in t)
    index = next(t for t in by_page if "证据目录" in t)
    row = re.search(r"证据1-2.*?(\d+)\s*$", index.split("证据2-1")[0], flags=re.S | re.M)
    assert row and int(row.group(1)) == appendix


def test_hostile_text_renders_literally(chinese: Path, tmp_path: Path) -> None:
    text = pdf_text(chinese, tmp_path).replace("\n", "")
    assert "<font size=40>&amp;</font> <b>粗</b>" in text
    assert "[U+1F600]" in text and "\\u001b[31m" in text
    assert "W" * 60 in text  # the long unbroken run is wrapped, not lost


def test_english_pdf(log: Log, tmp_path: Path) -> None:
    populate(log)
    build_bundle(log, tmp_path / "en.zip", Options(lang="en"))
    text = pdf_text(tmp_path / "en.zip", tmp_path)
    pages = pdf_pages(tmp_path / "en.zip", tmp_path)
    for expected in ["Evidence index", "Source", "Facts to prove", "E1-1", "Chronological log",
                     "Attachments appendix", "Integrity", f"Page 1 of {pages}",
                     f"Page {pages} of {pages}"]:  # fmt: skip
        assert expected in text, expected


def test_a_page_renders_to_png(chinese: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(chinese) as archive:
        (tmp_path / "e.pdf").write_bytes(archive.read("evidence.pdf"))
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-png", str(tmp_path / "e.pdf"),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(png) as image:
        assert image.size[0] > 300
        colours = image.convert("L").getextrema()
    assert colours[0] < 100 < colours[1]  # text was drawn: dark pixels on white


def test_font_is_embedded(chinese: Path, tmp_path: Path) -> None:
    from evidence.bundle import fonts

    if not fonts.load().embedded:
        pytest.skip("no TrueType CJK font installed (apt-get install fonts-wqy-microhei)")
    pdf_text(chinese, tmp_path)
    out = subprocess.run(["pdffonts", str(tmp_path / "extracted.pdf")], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert re.search(r"\+\S+\s+TrueType.*yes\s+yes", out)
