"""Scans get in: a bundled regulation rendered to page images with a CJK font (clean, and with noise
and a rotation of up to 2°), wrapped as an image-only PDF, read by the offline OCR inside ingestion,
and searched with the default model."""

from __future__ import annotations

import difflib
import re

import pytest
from conftest import REGULATIONS

from ingest import load_document
from ingest.ocr import read_pages
from ingest.readers import read_file
from ingest.scans import FONT, layout, render, scan_pdf
from kb.config import Config
from kb.library import KnowledgeBase

MARRIAGE = REGULATIONS / "婚姻登记条例(2003-08-08).pdf"
pytestmark = pytest.mark.skipif(not FONT.exists(), reason="fonts-wqy-microhei is installed by `make setup`")


def accuracy(expected: str, read: str) -> float:
    a, b = re.sub(r"\s", "", expected), re.sub(r"\s", "", read)
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def test_ocr_reads_a_rendered_regulation_page_almost_verbatim():
    pages = layout(read_file(MARRIAGE).text)[:2]
    clean = read_pages([render(p) for p in pages], 2)
    noisy = read_pages([render(p, noisy=True, seed=n) for n, p in enumerate(pages)], 2)
    expected = "".join("".join(p) for p in pages)
    assert accuracy(expected, "".join(p.text for p in clean)) >= 0.97
    assert accuracy(expected, "".join(p.text for p in noisy)) >= 0.95
    assert all(p.confidence > 0.9 for p in clean)


def test_an_image_only_pdf_is_read_by_ocr_with_its_articles_and_pages(tmp_path):
    rendered = scan_pdf(read_file(MARRIAGE).text, tmp_path / "婚姻登记条例(2003-08-08).pdf", noisy=True)
    doc, chunks = load_document(tmp_path / "婚姻登记条例(2003-08-08).pdf")
    assert doc.source_format == "pdf+ocr" and sorted(doc.ocr_pages) == list(range(1, len(rendered) + 1))
    assert doc.title == "婚姻登记条例" and doc.date == "2003-08-08"
    articles = [c.article for c in chunks if c.article]
    assert "第五条" in articles and "第二十二条" in articles  # 第X条 found without the space OCR drops
    fifth = next(c for c in chunks if c.article == "第五条")
    assert "户口簿" in fifth.text and fifth.page and fifth.ocr_confidence > 0.8


def test_a_scan_answers_a_window_question(tmp_path, e5_models_dir):
    folder = tmp_path / "scans"
    folder.mkdir()
    scan_pdf(read_file(MARRIAGE).text, folder / "婚姻登记条例(2003-08-08).pdf", noisy=True)
    render(layout("关于做好冬季救助工作的通知\n各区要加强夜间巡查，发现流浪乞讨人员及时引导到救助站。")[0]).save(
        folder / "冬季救助通知.png")
    kb = KnowledgeBase(Config.load(tmp_path / "data", model_dir=e5_models_dir))
    report = kb.ingest([folder], progress=False)
    assert not report.failed and len(report.added) == 2
    hits = kb.search("结婚登记要带哪些证件", k=3)
    assert any(h.citation.title == "婚姻登记条例" and h.article == "第五条" for h in hits)
    assert kb.search("夜间巡查 流浪乞讨", k=1)[0].citation.title == "关于做好冬季救助工作的通知"  # its first line
    assert kb.store.conn.execute("SELECT count(*) FROM chunks WHERE ocr_confidence IS NULL").fetchone()[0] == 0
    kb.close()
