from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REGULATIONS, REPORT

from ingest import load_document
from ingest.chunker import ChunkSizes, chunk_document
from ingest.metadata import recognise
from ingest.readers import read_file


def test_regulation_metadata():
    path = REGULATIONS / "社会救助暂行办法(2019-03-02).md"
    meta = recognise(read_file(path).text, path)
    assert meta == {
        "title": "社会救助暂行办法", "doc_type": "regulation", "issuer": "国务院",
        "doc_number": "国务院令第649号", "date": "2019-03-02", "published": "2014年2月21日", "effective": "",
        "status": "",
    }


def test_law_metadata_names_the_npc():
    path = REGULATIONS / "反家庭暴力法(2015-12-27).md"
    meta = recognise(read_file(path).text, path)
    assert meta["title"] == "中华人民共和国反家庭暴力法"
    assert meta["issuer"] == "全国人民代表大会常务委员会"
    assert meta["published"] == "2015年12月27日"


SHANGHAI = ("上海市社会救助条例\n\n（2018年11月22日上海市第十五届人民代表大会常务委员会第七次会议通过 "
            "根据2024年12月31日上海市第十六届人民代表大会常务委员会第十九次会议《关于修改〈上海市社会救助条例〉的决定》修正）\n\n"
            "第一章 总则\n\n第一条 为了规范社会救助，保障公民的基本生活。\n")


def test_a_local_regulation_names_its_people_s_congress_and_both_dates():
    meta = recognise(SHANGHAI, Path("上海市社会救助条例.txt"))
    assert meta["issuer"] == "上海市人民代表大会常务委员会"
    assert (meta["published"], meta["date"]) == ("2018年11月22日", "2024-12-31")  # adopted, then amended
    hangzhou = ("杭州市养老服务促进条例\n（2022年8月26日杭州市第十四届人民代表大会常务委员会第五次会议通过　"
                "2022年9月29日浙江省第十三届人民代表大会常务委员会第三十八次会议批准）\n第一条 为了")
    # the city adopted it, the province approved it: the city's congress issued it
    assert recognise(hangzhou, Path("x.txt"))["issuer"] == "杭州市人民代表大会常务委员会"


def test_effective_date_and_report_type():
    path = REGULATIONS / "行政区划管理条例(2018-10-10).md"
    assert recognise(read_file(path).text, path)["effective"] == "2019年1月1日"
    meta = recognise(read_file(REPORT).text, REPORT)
    assert meta["doc_type"] == "report"
    assert meta["title"] == "市民政局党组落实“第一议题”制度情况汇报"
    assert meta["issuer"] == "市民政局党组"


def test_speech_and_policy_types(tmp_path):
    speech = tmp_path / "在全市民政工作会议上的讲话.txt"
    speech.write_text("在全市民政工作会议上的讲话\n同志们：\n一、关于兜底保障\n要织密兜底保障网。", encoding="utf-8")
    assert recognise(read_file(speech).text, speech)["doc_type"] == "speech"
    policy = tmp_path / "p.txt"
    policy.write_text("关于进一步加强困难群众基本生活保障工作的意见\n民发〔2017〕1号\n各省民政厅：", encoding="utf-8")
    meta = recognise(read_file(policy).text, policy)
    assert meta["doc_type"] == "policy"
    assert meta["doc_number"] == "民发〔2017〕1号"


def test_regulation_chunks_one_per_article_with_heading_path():
    doc, chunks = load_document(REGULATIONS / "社会救助暂行办法(2019-03-02).md")
    articles = [c.article for c in chunks]
    assert articles[:3] == ["第一条", "第二条", "第三条"]
    assert len(set(articles)) == len(articles) == 70
    c11 = chunks[articles.index("第十一条")]
    assert c11.heading_path == ["第二章 最低生活保障", "第十一条"]
    assert c11.text.startswith("第十一条 申请最低生活保障，按照下列程序办理：")
    assert c11.text.endswith("书面向申请人说明理由。")
    assert doc.text[c11.start:c11.end] == c11.text
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)


def test_sections_and_preamble_of_the_constitution():
    doc, chunks = load_document(REGULATIONS / "宪法.md")
    preamble = [c for c in chunks if c.heading_path == ["序言"]]
    assert preamble and preamble[0].text.startswith("中国是世界上历史最悠久的国家之一")
    a57 = next(c for c in chunks if c.article == "第五十七条")
    assert a57.heading_path == ["第三章 国家机构", "第一节 全国人民代表大会", "第五十七条"]


def test_long_article_splits_at_paragraphs_repeating_its_head():
    text = read_file(REGULATIONS / "社会救助暂行办法(2019-03-02).md").text
    chunks = chunk_document(text, title="社会救助暂行办法", sizes=ChunkSizes(article_max=150))
    pieces = [c for c in chunks if c.article == "第十一条"]
    assert len(pieces) >= 2
    head = "第十一条 申请最低生活保障，按照下列程序办理："
    assert all(p.text.startswith(head) for p in pieces)
    assert all(p.heading_path == ["第二章 最低生活保障", "第十一条"] for p in pieces)
    assert "(三)县级人民政府民政部门经审查" in pieces[-1].text
    assert pieces[0].start < pieces[1].start  # offsets point at each piece's own paragraphs


def test_report_chunks_follow_headings_with_bounded_size_and_overlap():
    text = read_file(REPORT).text
    sizes = ChunkSizes(prose_max=300, prose_overlap=80)
    chunks = chunk_document(text, sizes=sizes)
    assert {c.heading_path[0] for c in chunks if c.heading_path} >= {
        "一、坚持“第一议题”制度，强化学习引领", "七、坚持“直管监管”并重，守牢安全底线"}
    assert chunks[0].heading_path == []  # the opening paragraph comes before any heading
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text[-1] in "。！？；：" for c in chunks)  # cut at sentence ends
    same_section = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.heading_path == b.heading_path]
    overlapping = [(a, b) for a, b in same_section if b.start < a.end]
    assert overlapping  # consecutive chunks of a section share their boundary sentences
    for a, b in overlapping:
        assert text[b.start:a.end] in a.text and text[b.start:a.end] in b.text
    for a, b in same_section:  # and no text falls between two chunks
        assert text[a.end:b.start].strip() == ""


def test_nested_prose_headings(tmp_path):
    path = tmp_path / "讲话.txt"
    path.write_text(
        "在全市民政工作会议上的讲话\n一、关于兜底保障\n（一）织密社会救助网。要把低保、特困供养落实到位。\n"
        "1.加强动态管理。做到应保尽保。\n（二）强化临时救助\n对急难对象先行救助。\n二、关于基层治理\n推进社区治理。",
        encoding="utf-8")
    doc, chunks = load_document(path)
    paths = [c.heading_path for c in chunks]
    assert ["一、关于兜底保障", "（一）织密社会救助网"] in paths
    assert ["一、关于兜底保障", "（一）织密社会救助网", "1.加强动态管理"] in paths
    assert ["一、关于兜底保障", "（二）强化临时救助"] in paths
    assert ["二、关于基层治理"] in paths


def test_pdf_chunks_carry_pages():
    doc, chunks = load_document(REGULATIONS / "婚姻登记条例(2003-08-08).pdf")
    pages = {c.article: c.page for c in chunks}
    assert pages["第一条"] == 1 and pages["第十一条"] == 3 and pages["第二十二条"] == 4
    assert doc.title == "婚姻登记条例" and doc.doc_number == "国务院令第387号"


def test_manifest_overrides(tmp_path):
    from ingest import read_manifest

    (tmp_path / "a.txt").write_text("一份材料\n正文内容。", encoding="utf-8")
    (tmp_path / "manifest.json").write_text('{"files": {"a.txt": {"doc_type": "speech", "speaker": "张三"}}}',
                                            encoding="utf-8")
    manifest = read_manifest(tmp_path)
    doc, _ = load_document(tmp_path / "a.txt", manifest[str((tmp_path / "a.txt").resolve())])
    assert (doc.doc_type, doc.speaker) == ("speech", "张三")
    assert Path(doc.path).is_absolute()


def test_no_chunk_is_only_invisible_characters():
    # 未成年人保护法 in the corpus has a line holding only a zero-width space: it became an empty card
    doc, chunks = load_document(REGULATIONS / "未成年人保护法(2024-04-26).md")
    assert "\u200b" in doc.text
    assert chunks and all(re.sub(r"[\s\u200b-\u200f\u2060\ufeff]", "", c.text) for c in chunks)


@pytest.mark.parametrize("header, number", [
    ("（1998年10月25日民政部令第14号发布　根据2016年2月6日国务院令第666号修改）", "民政部令第14号"),
    ("2014年2月21日国务院令第649号公布", "国务院令第649号"),
    ("于2010年1月1日由民政部令第38号公布", "民政部令第38号"),
    ("中华人民共和国国务院令第649号", "国务院令第649号"),
])
def test_a_doc_number_never_starts_with_the_date_before_it(header, number):
    from ingest.metadata import guess_doc_number

    assert guess_doc_number(header) == number
