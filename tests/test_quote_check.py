"""引文核对: reading a draft's quotations, aligning them character by character, and checking the
committed test drafts against the bundled corpus (with 慈善法 2016 beside its 2023 text) in the
shipped configuration (int8 on CPU)."""

from __future__ import annotations

import io
import json
import shutil

import docx
import pytest
from conftest import ROOT

from kb.cli import main
from kb.config import Config
from kb.errors import ReadError
from kb.export import commented_docx, read_draft
from kb.language.align import differences, locate, locate_parts, normalise
from kb.language.quotes import find_quotes

CHARITY_2016 = ROOT / "tests" / "data" / "慈善法(2016-03-16).md"
DRAFTS = ROOT / "bench" / "data" / "quote_drafts.jsonl"


# ------------------------------------------------------------------ reading a draft
def test_quotations_and_the_source_each_names():
    draft = ("《慈善法》第十条规定：“设立慈善组织，应当向县级以上人民政府民政部门申请登记。”同时，第十一条规定："
             "“慈善组织的章程，应当符合法律法规的规定。”\n总书记强调：“民政工作关系民生、连着民心。”“兜底”二字很重要。\n"
             "根据《社会救助暂行办法》第11条，申请最低生活保障，按照下列程序办理。\n"
             "「国家鼓励公民、法人和其他组织开展慈善活动」（《慈善法》第四条）。")
    quotes = find_quotes(draft)
    assert [(q.text, q.title, q.article, q.kind) for q in quotes] == [
        ("设立慈善组织，应当向县级以上人民政府民政部门申请登记。", "慈善法", "第十条", "quoted"),
        ("慈善组织的章程，应当符合法律法规的规定。", "慈善法", "第十一条", "quoted"),  # the paragraph's law
        ("民政工作关系民生、连着民心。", "", "", "quoted"),  # “兜底”: a term, not a quotation
        ("申请最低生活保障，按照下列程序办理", "社会救助暂行办法", "第十一条", "stated"),
        ("国家鼓励公民、法人和其他组织开展慈善活动", "慈善法", "第四条", "quoted"),
    ]
    assert all(draft[q.start:q.end] == q.text for q in quotes)


def test_the_nearest_naming_decides_and_ordinary_sentences_are_no_quotations():
    def read(draft):
        return [(q.text, q.title, q.article, q.kind) for q in find_quotes(draft)]

    # a second quotation in one sentence takes its own article, with the law named before it
    assert read("《慈善法》第十条规定：“设立慈善组织应当申请登记”，"
                "第十二条规定：“慈善组织应当执行国家统一的会计制度”。") == [
        ("设立慈善组织应当申请登记", "慈善法", "第十条", "quoted"),
        ("慈善组织应当执行国家统一的会计制度", "慈善法", "第十二条", "quoted")]
    assert read("根据《关于加强养老服务的通知》精神，各地要加强养老服务体系建设工作。") == []
    assert read("根据《慈善法》第一条，依照《民法典》第二条规定，甲乙丙丁戊己庚辛壬癸。") == [
        ("甲乙丙丁戊己庚辛壬癸", "民法典", "第二条", "stated")]
    assert read("《民法典》有规定。其中第十条规定：“处理民事纠纷，应当依照法律”") == [
        ("处理民事纠纷，应当依照法律", "民法典", "第十条", "quoted")]  # the law the paragraph named before
    assert read("《民法典》说过。“处理民事纠纷，应当依照法律”（《慈善法》第十条）")[0][1:3] == ("慈善法", "第十条")


def test_punctuation_spaces_and_width_are_no_difference():
    source = normalise("第十条　设立慈善组织，应当向县级以上人民政府民政部门申请登记。")
    quote = normalise("设立慈善组织,应当向县级以上人民政府 民政部门申请登记")
    found = locate(quote.text, source.text)
    assert found.distance == 0
    assert source.original[slice(*source.original_span(found.start, found.end))].startswith("设立慈善组织，")


def test_each_missing_added_and_changed_character_is_named():
    source = normalise("设立慈善组织，应当向县级以上人民政府民政部门申请登记。")
    quote = normalise("设立慈善机构，应向县级以上人民政府的民政部门申请登记").text
    found = locate(quote, source.text)
    window = source.text[found.start:found.end]
    assert [d for d in differences(quote, window) if d[0] != "equal"] == [
        ("changed", "机构", "组织"), ("missing", "", "当"), ("added", "的", "")]
    assert found.distance == 4


def test_text_left_out_with_an_ellipsis_is_no_difference():
    source = normalise("第一句在这里。中间还有很多很多别的文字，与引文无关。第二句也在这里，一字不差。").text
    parts = [normalise(p).text for p in ("第一句在这里", "第二句也在这里")]
    found = locate_parts(parts, source)
    assert found.distance == 0 and len(found.pieces) == 2
    assert source[found.pieces[1][0]:found.pieces[1][1]] == "第二句也在这里"


# ------------------------------------------------------------------ drafts in and out
def test_a_draft_file_that_cannot_be_read_is_named():
    with pytest.raises(ReadError, match="稿件.pdf.*不支持的稿件格式"):
        read_draft("稿件.pdf", b"%PDF-1.4")
    with pytest.raises(ReadError, match="坏稿.docx.*不是 Word 文档"):
        read_draft("坏稿.docx", b"PK\x03\x04 not really a zip")
    assert read_draft("稿件.txt", "“申请最低生活保障，按照下列程序办理”".encode("gb18030")).startswith("“申请")


def test_a_word_draft_keeps_its_text_and_gets_a_comment_on_each_quotation():
    original = docx.Document()
    paragraph = original.add_paragraph("《慈善法》第十条规定：")
    paragraph.add_run("“设立慈善组织，应当向县级").bold = True
    paragraph.add_run("以上人民政府民政部门申请登记。”就是这样。")
    original.add_paragraph("第二段没有引文。")
    data = io.BytesIO()
    original.save(data)
    text = read_draft("讲稿.docx", data.getvalue())
    quote = find_quotes(text)[0]

    class Checked:  # a result as kb.library.quote_check gives it: only what a comment reads
        status, note, differences, source, current = "exact", "", [], {"citation": "《慈善法》第十条"}, ""

    Checked.quote = quote
    out = docx.Document(io.BytesIO(commented_docx(text, [Checked()], ("讲稿.docx", data.getvalue()))))
    assert [p.text for p in out.paragraphs] == text.split("\n")  # nothing of the draft changed
    assert [c.text for c in out.comments] == ["【一字不差】\n出处：《慈善法》第十条"]
    body = out.element.body
    start, end = body.xpath(".//w:commentRangeStart")[0], body.xpath(".//w:commentRangeEnd")[0]
    runs = [r for r in body.iter() if r.tag.endswith("}r")]
    inside = [r for r in runs if start.getparent().index(start) < r.getparent().index(r) < end.getparent().index(end)]
    assert "".join(t.text for r in inside for t in r.iter() if t.tag.endswith("}t")) == quote.text
    assert any(r.find(".//{*}b") is not None for r in inside)  # the bold run kept its formatting when split


def test_a_page_break_inside_a_quotation_is_kept_and_the_quotation_still_commented():
    from docx.enum.text import WD_BREAK

    original = docx.Document()
    paragraph = original.add_paragraph("前文。“设立慈善组织，")
    paragraph.add_run("应当向县级").add_break(WD_BREAK.PAGE)
    paragraph.add_run("以上人民政府民政部门申请登记。”")
    data = io.BytesIO()
    original.save(data)
    text = read_draft("讲稿.docx", data.getvalue())

    class Checked:
        status, note, differences, source, current, quote = "exact", "", [], None, "", find_quotes(text)[0]

    out = docx.Document(io.BytesIO(commented_docx(text, [Checked()], ("讲稿.docx", data.getvalue()))))
    assert len(out.comments) == 1 and len(out.element.body.xpath('.//w:br[@w:type="page"]')) == 1
    assert [p.text for p in out.paragraphs] == text.split("\n")


def test_characters_xml_cannot_hold_do_not_break_the_commented_draft():
    text = "前文\x0c。“设立慈善组织，应当向县级以上人民政府民政部门申请登记”\x00"

    class Checked:
        status, note, differences, source, current, quote = "not_found", "", [], None, "", find_quotes(text)[0]

    out = docx.Document(io.BytesIO(commented_docx(text, [Checked()])))
    assert len(out.comments) == 1 and out.paragraphs[1].text == text.replace("\x0c", " ").replace("\x00", " ")


# ------------------------------------------------------------------ against the knowledge base
@pytest.fixture(scope="module")
def checker(shipped, tmp_path_factory):
    """The shipped knowledge base (int8, bundled corpus), copied, with 慈善法 2016 added."""
    from kb.library.knowledge_base import KnowledgeBase

    data = tmp_path_factory.mktemp("check") / "data"
    shutil.copytree(shipped.config.data_dir, data)
    kb = KnowledgeBase(Config.load(data, precision="int8"))
    assert kb.ingest([CHARITY_2016], progress=False).added
    yield kb
    kb.close()


def test_the_committed_drafts_are_checked_right(checker):
    from bench.quote_check import read_drafts, score

    drafts = read_drafts(DRAFTS)
    result = score(checker, drafts)
    kinds = {q["expected"] for d in drafts for q in d["quotes"]}
    assert result["quotes"] >= 60 and kinds == {"exact", "differs", "wrong_article", "outdated", "not_found"}
    assert result["invented_called_exact"] == 0
    assert result["accuracy"] >= 0.95, result["misses"]


def test_a_quotation_of_the_old_version_shows_the_wording_in_force(checker):
    draft = "《慈善法》第十三条规定：“慈善组织应当每年向其登记的民政部门报送年度工作报告和财务会计报告。”"
    [result] = checker.quotes.check(draft).results
    assert result.status == "outdated" and result.source["date"] == "2016-03-16"
    assert "2023-12-29" in result.note and result.current and result.current in \
        checker.document(next(d["id"] for d in checker.documents() if d["date"] == "2023-12-29"
                              and "慈善法" in d["title"])).text


def test_kb_check_json_and_docx(checker, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("STUDYKB_PRECISION")  # the knowledge base's own precision (int8), as users run it
    draft = tmp_path / "讲稿.md"
    draft.write_text("《慈善法》第十条规定：“设立慈善组织，应当向县级以上人民政府民政部门申请登记。”\n"
                     "《慈善法》第十二条规定：“设立慈善组织，应向县级以上人民政府民政部门申请登记。”", encoding="utf-8")
    out = tmp_path / "批注.docx"
    assert main(["--data", str(checker.config.data_dir), "check", str(draft), "--json", "--docx", str(out)]) == 0
    quotes = json.loads(capsys.readouterr().out)["quotes"]
    assert [set(q) >= {"text", "start", "end", "status", "source", "current"} for q in quotes] == [True, True]
    assert [q["status"] for q in quotes] == ["exact", "wrong_article"]  # 第十二条 is wrong, and 当 is missing
    assert quotes[1]["differences"] == [["missing", "", "当"]] and quotes[1]["source"]["article"] == "第十条"
    assert {"title", "article", "date"} <= set(quotes[0]["source"])
    comments = [c.text for c in docx.Document(str(out)).comments]
    assert len(comments) == 2 and comments[1].startswith("【条号有误】这段文字出自第十条，稿件写的是第十二条")
