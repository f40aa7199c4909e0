"""Each page of the Streamlit app through Streamlit's AppTest, over a real knowledge base
(SQLite file, FAISS index, a real sentence-transformers model)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import REGULATIONS, REPORT, ROOT, copy_files
from streamlit.testing.v1 import AppTest

import kb.library
from kb.config import Config
from kb.library import KnowledgeBase

APP = str(ROOT / "app.py")
HOSTILE_DOC = "网页摘录\n\n<b>粗体</b>和<script>alert('x')</script>都应原样显示为文字，**星号**也一样。\n"


@pytest.fixture(scope="module")
def app_data(tmp_path_factory, minilm_dir) -> Path:
    """A knowledge base of three real files and one whose text holds HTML and markdown."""
    root = tmp_path_factory.mktemp("app")
    files = copy_files(root / "files", REGULATIONS / "社会救助暂行办法(2019-03-02).md",
                       REGULATIONS / "婚姻登记条例(2003-08-08).pdf", REPORT)
    (files / "网页摘录.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    data = root / "data"
    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir)))
    report = kb.ingest([files], progress=False)
    assert not report.failed and len(report.added) == 4
    kb.close()
    return data


@pytest.fixture
def app(app_data, minilm_dir, monkeypatch) -> AppTest:
    monkeypatch.setenv("STUDYKB_DATA", str(app_data))
    monkeypatch.setenv("STUDYKB_MODEL", str(minilm_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def buttons(at: AppTest, label: str):
    return [b for b in at.button if b.label == label]


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def plain(markdown: str) -> str:
    """Escaped markdown back to its text."""
    return re.sub(r"\\(.)", r"\1", markdown)


def go(at: AppTest, page: str) -> None:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception


def test_search_shows_cited_results_and_adds_to_basket(app):
    app.text_input(key="query").input("最低生活保障 申请").run()
    assert not app.exception
    assert app.caption[0].value.startswith("共 ") and "毫秒" in app.caption[0].value
    md = markdown_text(app)
    assert "《社会救助暂行办法》" in md and "第十一条" in md
    assert ":orange-background[申请]" in md  # the query's words are highlighted
    buttons(app, "加入素材篮")[0].click().run()
    buttons(app, "加入素材篮")[0].click().run()  # the same passage twice is kept once
    basket = app.session_state.basket
    assert len(basket) == 1 and basket[0].citation.startswith("《社会救助暂行办法》")


def test_search_filters_by_document_type(app):
    app.sidebar.multiselect(key="f_types").set_value(["report"]).run()
    app.text_input(key="query").input("学习 制度").run()
    titles = [m.value for m in app.markdown if re.match(r"\*\*\d+\\\.", m.value)]
    assert titles and all("第一议题" in t for t in titles)
    assert all(c.value == "工作报告" for c in app.main.caption[1:])


def test_document_text_is_shown_as_text(app):
    app.text_input(key="query").input("\"粗体\"").run()
    md = markdown_text(app)
    assert "\\<b\\>:orange-background[粗体]\\<\\/b\\>" in md and "\\<script\\>" in md and "\\*\\*星号\\*\\*" in md
    assert "<b>" not in md and "<script>" not in md
    assert not app.get("html")  # nothing from a document goes through st.html


def test_open_document_at_the_cited_article(app):
    app.text_input(key="query").input("社会救助暂行办法第十一条").run()
    buttons(app, "查看原文")[0].click().run()
    assert app.session_state.page == "文档"
    headings = [m.value for m in app.markdown if m.value.startswith("#####")]
    assert "##### 第二章 最低生活保障" in headings
    cited_at = [i for i, c in enumerate(app.caption) if c.value == "▼ 引用位置"]
    assert len(cited_at) == 1
    md = markdown_text(app)
    assert "第十一条 申请最低生活保障，按照下列程序办理：" in md
    assert len(app.get("html")) == 1  # the fixed scrolling script, and only on a cited view


def test_ask_gives_an_answer_with_numbered_sources(app):
    go(app, "问答")
    app.text_input(key="question").input("申请最低生活保障的程序").run()
    answer = app.markdown[0].value
    assert "\\[1\\]" in answer and "社会救助暂行办法" in answer
    assert buttons(app, "查看原文") and buttons(app, "加入素材篮")
    buttons(app, "查看原文")[0].click().run()
    assert app.session_state.page == "文档" and any(c.value == "▼ 引用位置" for c in app.caption)


def test_library_uploads_reports_each_file_and_deletes(app, app_data):
    go(app, "文库")
    before = len(app.dataframe[0].value)
    app.file_uploader[0].set_value([
        ("../通知<1>.txt", "关于做好冬季救助工作的通知\n\n一、加强巡查\n各区要加强夜间巡查。\n".encode(), "text/plain"),
        ("工具.exe", b"MZ\x90\x00", "application/octet-stream"),
        ("损坏.pdf", b"%PDF-1.4\nnot really a pdf", "application/pdf"),
    ]).run()
    buttons(app, "入库")[0].click().run()
    assert not app.exception
    assert [plain(s.value) for s in app.success] == ["已入库：通知_1_.txt"]
    errors = [plain(e.value) for e in app.error]
    assert any("工具.exe" in e and "不支持的文件类型" in e for e in errors)
    assert any("损坏.pdf" in e for e in errors)
    assert len(app.dataframe[0].value) == before + 1
    uploads = app_data / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["损坏.pdf", "通知_1_.txt"]

    doc_id = next(d["id"] for d in KnowledgeBase(Config.load(app_data, model=os.environ["STUDYKB_MODEL"])).documents()
                  if d["path"].endswith("通知_1_.txt"))
    app.selectbox(key="delete_doc").set_value(doc_id).run()
    app.checkbox[0].check().run()
    buttons(app, "删除")[0].click().run()
    assert [plain(s.value) for s in app.success] == ["已删除《关于做好冬季救助工作的通知》"]
    assert len(app.dataframe[0].value) == before
    assert not (uploads / "通知_1_.txt").exists()
    assert not app.checkbox[0].value  # the next deletion asks again


def test_basket_reorders_keeps_notes_and_offers_exports(app):
    app.text_input(key="query").input("最低生活保障 申请").run()
    for button in buttons(app, "加入素材篮")[:3]:
        button.click().run()
    first = [i.citation for i in app.session_state.basket]
    assert len(first) == 3
    go(app, "素材篮")
    app.text_area[0].input("讲课时重点讲").run()
    assert app.session_state.basket[0].note == "讲课时重点讲"
    buttons(app, "下移")[0].click().run()
    assert [i.citation for i in app.session_state.basket] == [first[1], first[0], first[2]]
    assert app.session_state.basket[1].note == "讲课时重点讲"  # the note moves with its passage
    assert [d.label for d in app.get("download_button")] == ["导出 Word", "导出 Markdown"]
    buttons(app, "移除")[0].click().run()
    assert [i.citation for i in app.session_state.basket] == [first[0], first[2]]


def test_model_and_knowledge_base_load_once_per_process(tmp_path, minilm_dir, monkeypatch):
    loads = []

    class CountingEmbedder(kb.library.Embedder):
        def __init__(self, config):
            loads.append(config.model)
            super().__init__(config)

    monkeypatch.setattr(kb.library, "Embedder", CountingEmbedder)
    monkeypatch.setenv("STUDYKB_DATA", str(tmp_path / "fresh"))
    monkeypatch.setenv("STUDYKB_MODEL", str(minilm_dir))
    for query in ("低保", "婚姻登记"):  # two sessions, several runs each
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.text_input(key="query").input(query).run()
        go(at, "问答")
        assert not at.exception
    assert loads == [str(minilm_dir)]
