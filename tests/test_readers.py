from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import REGULATIONS, REPORT

from ingest.readers import ReadError, decode_text, read_file

SAMPLE = "第一条 为了加强社会救助，保障公民的基本生活，制定本办法。\n第二条 社会救助制度坚持托底线、救急难、可持续。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_text_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / f"sample-{encoding}.txt"
    path.write_bytes(SAMPLE.encode(encoding))
    raw = read_file(path)
    assert raw.text == SAMPLE
    assert raw.source_format == "text"


def test_gbk_file_with_rare_gb18030_characters(tmp_path):
    text = "𠮷字与“镕”字同在一份通知里。"  # 𠮷 exists only in GB18030, not GBK
    path = tmp_path / "notice.txt"
    path.write_bytes(text.encode("gb18030"))
    assert read_file(path).text == text


def test_undecodable_text_names_the_file(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ReadError) as err:
        read_file(path)
    assert "binary.txt" in str(err.value)
    assert "编码" in err.value.reason


def test_markdown_headings_and_comments_are_stripped():
    raw = read_file(REGULATIONS / "社会救助暂行办法(2019-03-02).md")
    assert raw.text.startswith("社会救助暂行办法\n2014年2月21日 中华人民共和国国务院令第649号公布")
    assert "<!--" not in raw.text and "##" not in raw.text
    assert "\n第一章 总则\n第一条 为了加强社会救助" in raw.text


def test_report_text_keeps_paragraphs():
    raw = read_file(REPORT)
    lines = raw.text.split("\n")
    assert "一、坚持“第一议题”制度，强化学习引领" in lines
    assert raw.encoding == "utf-8"


def test_pdf_keeps_pages_and_joins_wrapped_lines():
    raw = read_file(REGULATIONS / "婚姻登记条例(2003-08-08).pdf")
    assert raw.source_format == "pdf"
    assert len(raw.page_starts) == 4 and raw.page_starts[0] == 0
    # a sentence wrapped over a page break reads as one line again
    assert "应当撤销该婚姻，宣告结婚证作废。" in raw.text
    # the article number that pypdf put on a line of its own is joined to its text
    assert "\n第一条 为了规范婚姻登记工作" in raw.text
    page3 = raw.text[raw.page_starts[2]:raw.page_starts[3]]
    assert "第十一条 办理离婚登记的内地居民应当出具下列证件和证明材料" in page3


def test_docx_paragraphs():
    raw = read_file(REGULATIONS / "殡葬管理条例(2012-11-09).docx")
    assert raw.source_format == "docx"
    assert raw.text.split("\n")[0] == "殡葬管理条例"
    assert "第二条 殡葬管理的方针是：积极地、有步骤地实行火葬" in raw.text


def test_docx_tables_nested_in_cells_are_read_in_place(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("低保申请材料清单")
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "申请人"
    inner = outer.cell(0, 1).add_table(rows=2, cols=1)
    inner.cell(0, 0).text = "户口簿"
    inner.cell(1, 0).text = "收入证明"
    document.add_paragraph("以上材料交乡镇人民政府。")
    path = tmp_path / "清单.docx"
    document.save(path)
    lines = read_file(path).text.split("\n")
    assert lines[0] == "低保申请材料清单" and lines[-1] == "以上材料交乡镇人民政府。"  # the table where it stands
    assert "户口簿" in lines[1] and "收入证明" in lines[1] and lines[1].startswith("申请人")


def test_html_text_without_markup_or_scripts(tmp_path):
    raw = read_file(REGULATIONS / "志愿服务条例(2017-08-22).html")
    assert raw.text.startswith("志愿服务条例")
    assert "<p>" not in raw.text
    page = tmp_path / "notice.html"
    page.write_text("<html><head><meta charset='gbk'><title>通知</title><script>alert('x')</script></head>"
                    "<body><p>第一条 &lt;b&gt;加强&lt;/b&gt;管理。</p></body></html>", encoding="gbk")
    text = read_file(page).text
    assert "alert" not in text
    assert "第一条 <b>加强</b>管理。" in text  # escaped markup in a document is kept as characters


def test_corrupt_pdf_names_file_and_reason(tmp_path):
    good = (REGULATIONS / "婚姻登记条例(2003-08-08).pdf").read_bytes()
    bad = tmp_path / "坏文件.pdf"
    bad.write_bytes(good[:3000])
    with pytest.raises(ReadError) as err:
        read_file(bad)
    assert "坏文件.pdf" in str(err.value)
    assert "PDF" in err.value.reason

    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"this is not a pdf at all")
    with pytest.raises(ReadError, match="garbage.pdf"):
        read_file(garbage)


def test_encrypted_pdf(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(REGULATIONS / "婚姻登记条例(2003-08-08).pdf").pages:
        writer.add_page(page)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    path = tmp_path / "locked.pdf"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ReadError, match="加密"):
        read_file(path)


def test_corrupt_docx(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError, match="broken.docx"):
        read_file(path)


def test_empty_and_unsupported(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ReadError, match="文件为空"):
        read_file(empty)
    sheet = tmp_path / "table.xlsx"
    sheet.write_bytes(b"PK")
    with pytest.raises(ReadError, match="不支持"):
        read_file(sheet)


def test_decode_prefers_utf8_over_gb18030():
    # Valid UTF-8 must never be misread as GB18030 (both accept many byte sequences).
    text, enc = decode_text("x.txt", "民政局".encode())
    assert (text, enc) == ("民政局", "utf-8")


def test_scan_yields_documents_and_errors_and_asks_before_reading(tmp_path):
    from ingest import scan

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "办法.md").write_bytes((REGULATIONS / "社会救助暂行办法(2019-03-02).md").read_bytes())
    (folder / "汇报.txt").write_bytes(REPORT.read_bytes())
    (folder / "坏的.pdf").write_bytes(b"%PDF-1.4 broken")
    (folder / "manifest.json").write_text('{"汇报.txt": {"doc_type": "report", "issuer": "某局"}}', encoding="utf-8")
    asked = []

    def wanted(path, digest, declared):
        asked.append(path.name)
        return path.name != "办法.md"  # as if it were unchanged

    items = {Path(i.path).name: i for i in scan([folder], wanted=wanted)}
    assert sorted(asked) == sorted(["坏的.pdf", "办法.md", "汇报.txt"])
    assert set(items) == {"坏的.pdf", "汇报.txt"}  # the unwanted file is never read
    report = items["汇报.txt"]
    assert report.error is None and report.chunks and len(report.digest) == 64
    assert (report.document.doc_type, report.document.issuer) == ("report", "某局")
    assert items["坏的.pdf"].error and "PDF" in items["坏的.pdf"].error.reason and not items["坏的.pdf"].chunks


def test_a_bad_manifest_is_reported_and_the_files_still_come(tmp_path):
    from ingest import scan

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "汇报.txt").write_bytes(REPORT.read_bytes())
    (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    items = list(scan([folder]))
    assert len(items) == 2
    assert items[0].error and items[0].path.endswith("manifest.json") and "清单文件格式错误" in items[0].error.reason
    assert items[1].document and items[1].document.doc_type == "report"  # recognised from the text
