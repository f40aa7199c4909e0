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
from kb.library.knowledge_base import KnowledgeBase

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


def two_pages() -> tuple[list[list[str]], str]:
    pages = layout(read_file(MARRIAGE).text)[:2]
    return pages, "".join("".join(p) for p in pages)


def test_a_scan_stored_sideways_is_read_as_the_page_shows_it(tmp_path):
    """Scanners often store a page turned and set the page's /Rotate so that viewers show it upright."""
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    pages, expected = two_pages()
    sideways = [render(p).transpose(Image.Transpose.ROTATE_90) for p in pages]
    sideways[0].save(tmp_path / "stored.pdf", save_all=True, append_images=sideways[1:], resolution=150)
    writer = PdfWriter()
    for page in PdfReader(tmp_path / "stored.pdf").pages:
        writer.add_page(page.rotate(90))
    writer.write(tmp_path / "婚姻登记条例.pdf")
    raw = read_file(tmp_path / "婚姻登记条例.pdf")
    assert raw.source_format == "pdf+ocr" and accuracy(expected, raw.text) >= 0.97


def test_a_page_scanned_in_strips_is_read_whole(tmp_path):
    """Some scanners write a page as several image strips; every strip is part of the page."""
    import pypdfium2 as pdfium

    pages, expected = two_pages()
    pdf = pdfium.PdfDocument.new()
    width, height = 595, 842  # A4 in points
    for lines in pages:
        image = render(lines)
        page = pdf.new_page(width, height)
        strips = 4
        for n in range(strips):
            box = (0, n * image.height // strips, image.width, (n + 1) * image.height // strips)
            strip = pdfium.PdfImage.new(pdf)
            strip.set_bitmap(pdfium.PdfBitmap.from_pil(image.crop(box)))
            tall = height / strips
            strip.set_matrix(pdfium.PdfMatrix().scale(width, tall).translate(0, height - (n + 1) * tall))
            page.insert_obj(strip)
        page.gen_content()
        page.close()
    pdf.save(tmp_path / "婚姻登记条例.pdf")
    pdf.close()
    raw = read_file(tmp_path / "婚姻登记条例.pdf")
    assert raw.source_format == "pdf+ocr" and accuracy(expected, raw.text) >= 0.97


def test_a_phone_photo_is_read_upright_by_its_orientation_tag(tmp_path):
    from PIL import Image

    pages, _ = two_pages()
    photo = render(pages[0]).transpose(Image.Transpose.ROTATE_90)  # held sideways: the camera tags it
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90° clockwise to show
    photo.save(tmp_path / "通知.jpg", exif=exif, quality=90)
    raw = read_file(tmp_path / "通知.jpg")
    assert accuracy("".join(pages[0]), raw.text) >= 0.95


def test_pages_not_begun_are_dropped_when_the_time_is_up():
    pages, _ = two_pages()
    loaded = []

    def loader(n):
        def load():
            loaded.append(n)
            return render(pages[n % 2])
        return load

    def time_is_up(n):
        raise TimeoutError("文件处理超时")

    with pytest.raises(TimeoutError):
        read_pages([loader(n) for n in range(6)], 6, on_page=time_is_up, workers=1)
    assert len(loaded) <= 2  # the first page, and at most the one already begun


def stamp_text(source, dest) -> None:
    """A few words of real text on each page (a copier's page stamp), over the scan."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(source)
    for n in range(len(pdf)):
        page = pdf[n]
        stamp = pdfium_c.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", 10.0)
        words = f"Page {n + 1} - copy for internal use".encode("utf-16-le") + b"\0\0"
        buffer = ctypes.create_string_buffer(words, len(words))
        pdfium_c.FPDFText_SetText(stamp, ctypes.cast(buffer, pdfium_c.FPDF_WIDESTRING))
        pdfium_c.FPDFPageObj_Transform(stamp, 1, 0, 0, 1, 40, 20)
        pdfium_c.FPDFPage_InsertObject(page.raw, stamp)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
        page.close()
    pdf.save(dest)
    pdf.close()


def test_a_scan_with_a_stamped_line_of_text_is_still_read(tmp_path):
    """A text layer of a few words (a page stamp) over a page-sized scan is not the page's text."""
    from pypdf import PdfReader

    pages, expected = two_pages()
    images = [render(p) for p in pages]
    images[0].save(tmp_path / "scan.pdf", save_all=True, append_images=images[1:], resolution=150)
    stamp_text(tmp_path / "scan.pdf", tmp_path / "婚姻登记条例.pdf")
    assert "internal use" in PdfReader(tmp_path / "婚姻登记条例.pdf").pages[0].extract_text()
    raw = read_file(tmp_path / "婚姻登记条例.pdf")
    assert raw.source_format == "pdf+ocr" and sorted(raw.ocr) == [1, 2]
    assert accuracy(expected, raw.text) >= 0.95


def test_a_page_pdfium_cannot_render_is_read_as_blank_and_listed(tmp_path, monkeypatch):
    import pypdfium2 as pdfium

    pages, _ = two_pages()
    images = [render(p) for p in pages]
    images[0].save(tmp_path / "scan.pdf", save_all=True, append_images=images[1:], resolution=150)
    render_page = pdfium.PdfPage.render
    calls = []

    def second_page_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise pdfium.PdfiumError("damaged image stream")
        return render_page(self, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfPage, "render", second_page_fails)
    raw = read_file(tmp_path / "scan.pdf")
    assert raw.ocr[1] > 0.9 and raw.ocr[2] == 0.0  # the blank page shows as unread, for a person to check
    assert accuracy("".join(pages[0]), raw.text) >= 0.97
