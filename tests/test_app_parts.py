"""The library parts under the app: rendering text as text, the material basket and its
exports, and upload handling."""

from __future__ import annotations

import io
import re

import pytest
from conftest import REGULATIONS
from docx import Document as DocxDocument

from ingest import load_document
from kb.export import references, to_docx, to_markdown
from kb.language.words import Glossary, Words
from kb.library.baskets import add, basket_name, move
from kb.store.uploads import NAME_MAX, UploadError, safe_name, save_upload
from kb.types import BasketItem
from webapp.render import HIGHLIGHT, document_blocks, escape, highlight, highlight_terms

HOSTILE = '<script>alert(1)</script> <b>粗体</b> **星号** [链接](http://x) :red[红] $x$ # 标题'


def test_escape_leaves_no_markup_unescaped():
    out = escape(HOSTILE)
    assert re.search(r"(?<!\\)[<>*\[\]():$#]", out) is None
    # every ASCII punctuation character is backslash-escaped, so removing the escapes gives the text back
    assert out.replace("\\", "") == HOSTILE.replace("\\", "")


def test_escape_keeps_line_breaks_and_drops_code_indentation():
    assert escape("第一行\n    第二行") == "第一行  \n第二行"


def test_highlight_marks_terms_longest_first():
    out = highlight("申请最低生活保障，应当提出申请。", ["最低生活保障", "申请", "生活"])
    assert out.count(HIGHLIGHT.format("申请")) == 2
    assert HIGHLIGHT.format("最低生活保障") in out and HIGHLIGHT.format("生活") not in out
    assert highlight("a<b>申请", ["申请"]).startswith("a\\<b\\>")


def test_highlight_terms_include_glossary_expansions():
    terms = highlight_terms("低保怎么申请", Words(), Glossary.load(None))
    assert "申请" in terms and "最低生活保障" in terms
    assert all(len(t) >= 2 for t in terms)


def test_document_blocks_keep_headings_and_mark_the_cited_article():
    doc, chunks = load_document(REGULATIONS / "社会救助暂行办法(2019-03-02).md")
    article = next(c for c in chunks if c.article == "第十一条")
    blocks = document_blocks(doc.text, True, (article.start, article.end))
    headings = [text for kind, text in blocks if kind == "heading"]
    assert headings[:2] == ["第一章 总则", "第二章 最低生活保障"]
    cited = [text for kind, text in blocks if kind == "cited"]
    assert len(cited) == 1 and cited[0] == article.text
    # the whole text is there, in order
    body = "".join(text for _, text in blocks).replace("\n", "")
    assert body == "".join(line for line in doc.text.split("\n") if line.strip()).replace("\n", "")


def item(n: int, citation: str = "", note: str = "", **particulars) -> BasketItem:
    return BasketItem(chunk_id=n, doc_id=1, title="社会救助暂行办法", location=f"第{n}条",
                      citation=citation or f"《社会救助暂行办法》第{n}条", text=f"第{n}条 正文<b>{n}</b>\n（一）项",
                      start=n * 10, end=n * 10 + 5, note=note, **particulars)


LAW = {"doc_type": "regulation", "issuer": "国务院", "doc_number": "国务院令第649号", "date": "2019-03-02",
       "published": "2014年2月21日", "effective": "2014年5月1日"}


def test_basket_add_skips_duplicates_and_move_stays_in_range():
    items: list[BasketItem] = []
    assert add(items, item(1)) and add(items, item(2)) and not add(items, item(1))
    move(items, 0, 1)
    assert [i.chunk_id for i in items] == [2, 1]
    move(items, 0, -1)
    move(items, 1, 1)
    assert [i.chunk_id for i in items] == [2, 1]


def test_basket_names_are_trimmed_and_checked():
    assert basket_name("  讲稿：兜底保障\n专题 ") == "讲稿：兜底保障 专题"
    for bad in ("", "   ", "长" * 61):
        with pytest.raises(ValueError):
            basket_name(bad)


def test_reference_list_names_each_document_once_with_issuer_number_and_labelled_dates():
    items = [item(1, **LAW), item(2, **LAW), item(3, citation="《报告》一、", doc_type="report", issuer="市民政局党组",
                                                    date="2024-12-31")]
    items[2].title = "市民政局党组落实“第一议题”制度情况汇报"
    assert references(items) == [
        "国务院. 社会救助暂行办法：国务院令第649号[Z]. 2014年2月21日公布，2019-03-02修订，2014年5月1日施行.",
        "市民政局党组. 市民政局党组落实“第一议题”制度情况汇报[R]. 2024-12-31发布.",
    ]


def test_markdown_export_quotes_passages_and_lists_each_document_once():
    items = [item(1, note="讲课时强调", **LAW), item(2, **LAW)]
    md = to_markdown(items, "低保专题")
    assert md.startswith("# 低保专题\n")
    assert "> 第1条 正文<b>1</b>\n> （一）项" in md
    assert "出处：《社会救助暂行办法》第2条" in md and "备注：讲课时强调" in md
    tail = md.split("## 参考文献", 1)[1]
    assert tail.strip().splitlines() == [f"[1] {references(items)[0]}"]
    assert "## 一、《社会救助暂行办法》第1条" in to_markdown(items, "低保专题", chinese_numbers=True)


def test_docx_export_looks_like_an_official_document():
    from docx.oxml.ns import qn

    data = to_docx([item(1, note="重点", **LAW), item(2, **LAW)], "低保专题", chinese_numbers=True)
    doc = DocxDocument(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == "低保专题" and "一、《社会救助暂行办法》第1条" in paragraphs
    assert "第1条 正文<b>1</b>" in paragraphs and "（一）项" in paragraphs
    assert "出处：《社会救助暂行办法》第1条" in paragraphs and "备注：重点" in paragraphs
    end = paragraphs.index("参考文献")
    assert paragraphs[end + 1:] == [f"[1] {references([item(1, **LAW)])[0]}"]
    used = {p.style.name for p in doc.paragraphs}
    assert "Quote" not in used
    for name in used:
        style = doc.styles[name]
        fonts = style.element.rPr.rFonts if style.element.rPr is not None else None
        assert style.font.italic is not True, name
        assert fonts is not None and fonts.get(qn("w:eastAsia")) in ("仿宋", "黑体", "宋体"), name
        assert style.font.color.rgb in (None, docx_black()), name
    assert doc.styles["Heading 2"].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    assert not any(r.italic for p in doc.paragraphs for r in p.runs)


def docx_black():
    from docx.shared import RGBColor

    return RGBColor(0, 0, 0)


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\win.ini.md", "win.ini.md"),
    ("/abs/path/报告.pdf", "报告.pdf"),
    (".hidden.txt", "hidden.txt"),
    ("a\x00b\x1f<c>:d?.txt", "ab_c_d_.txt"),
    ("..", "上传文件"),
])
def test_safe_name_never_leaves_the_folder(name, expected):
    assert safe_name(name) == expected


def test_safe_name_limits_length():
    assert safe_name("长" * 500 + ".docx") == "长" * 66 + ".docx"  # 198 bytes of UTF-8: a file system allows 255
    assert safe_name("l" * 500 + ".docx") == "l" * NAME_MAX + ".docx"


def test_save_upload_checks_type_size_and_content(tmp_path):
    folder = tmp_path / "uploads"
    with pytest.raises(UploadError, match="不支持的文件类型“.exe”"):
        save_upload("setup.exe", b"MZ", folder, 1000)
    with pytest.raises(UploadError, match="文件过大"):
        save_upload("大.txt", b"x" * 2001, folder, 2000)
    with pytest.raises(UploadError, match="文件为空"):
        save_upload("空.txt", b"", folder, 2000)
    assert not folder.exists() or not any(folder.iterdir())

    first = save_upload("../通知.txt", "第一版".encode(), folder, 2000)
    assert first == folder / "通知.txt" and first.read_text(encoding="utf-8") == "第一版"
    assert save_upload("通知.txt", "第一版".encode(), folder, 2000) == first  # same content: same file
    second = save_upload("通知.txt", "第二版".encode(), folder, 2000)
    assert second == folder / "通知-2.txt" and first.read_text(encoding="utf-8") == "第一版"
    assert sorted(p.name for p in folder.iterdir()) == ["通知-2.txt", "通知.txt"]


def test_dates_say_what_they_are():
    from kb.types import Citation, labelled_dates

    assert labelled_dates("2019-03-02", "2014年2月21日", "2014年5月1日", "regulation") == \
        "2014年2月21日公布，2019-03-02修订，2014年5月1日施行"
    # adopted 2003-07-30, promulgated 2003-08-08: one rule, not a revision
    assert labelled_dates("2003-08-08", "2003年7月30日", "2003年10月1日", "regulation") == \
        "2003年7月30日公布，2003年10月1日施行"
    assert labelled_dates("2022-03-30", doc_type="regulation") == "2022-03-30版"
    assert labelled_dates("2024-12-31", doc_type="report") == "2024-12-31发布"
    law = Citation("社会救助暂行办法", ["第十一条"], None, "2019-03-02", "国务院令第649号", "regulation",
                   published="2014年2月21日")
    assert law.format() == "《社会救助暂行办法》第十一条（国务院令第649号，2019-03-02修订）"


def test_every_docx_the_product_writes_is_a4_with_official_margins():
    import io

    from docx import Document as DocxDocument
    from docx.shared import Mm

    from kb.export import comparison_docx
    from kb.library.diff import Article, compare

    old = {"title": "慈善法", "date": "2016-03-16", "doc_number": "", "issuer": ""}
    new = {"title": "慈善法", "date": "2023-12-29", "doc_number": "", "issuer": ""}
    changes = compare([Article("第一条", "第一条 旧的文字。")], [Article("第一条", "第一条 新的文字。")])
    for data in (to_docx([item(1, **LAW)], "低保专题"), comparison_docx(old, new, changes)):
        for section in DocxDocument(io.BytesIO(data)).sections:
            size = (round(section.page_width / Mm(1)), round(section.page_height / Mm(1)))
            margins = [round(getattr(section, f"{side}_margin") / Mm(1)) for side in ("top", "bottom", "left", "right")]
            assert size == (210, 297) and margins == [37, 35, 28, 26]
