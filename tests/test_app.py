"""Each page of the Streamlit app through Streamlit's AppTest, over a real knowledge base
(SQLite file, FAISS index, a real sentence-transformers model)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import streamlit.testing.v1.app_test
from conftest import REGULATIONS, REPORT, ROOT, copy_files
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import kb.library.knowledge_base
from kb.config import Config
from kb.export import references
from kb.library.knowledge_base import KnowledgeBase
from webapp.render import escape

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


@pytest.fixture(scope="module")
def library(app_data, minilm_dir) -> KnowledgeBase:
    """The app's knowledge base opened beside it, to compare what the app shows (reads only)."""
    kb = KnowledgeBase(Config.load(app_data, model=str(minilm_dir)))
    yield kb
    kb.close()


@pytest.fixture
def app(app_data, minilm_dir, monkeypatch) -> AppTest:
    monkeypatch.setenv("STUDYKB_DATA", str(app_data))
    monkeypatch.setenv("STUDYKB_MODEL", str(minilm_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def media(monkeypatch) -> dict[str, bytes]:
    """What the app hands to download buttons, by URL: AppTest drops its media store after each run."""
    files: dict[str, bytes] = {}

    class KeptStorage(MemoryMediaFileStorage):
        def load_and_get_id(self, data, mimetype, kind, filename=None) -> str:
            file_id = super().load_and_get_id(data, mimetype, kind, filename)
            files[self.get_url(file_id)] = self.get_file(file_id).content
            return file_id

    monkeypatch.setattr(streamlit.testing.v1.app_test, "MemoryMediaFileStorage", KeptStorage)
    return files


def buttons(at: AppTest, label: str):
    return [b for b in at.button if b.label == label]


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def plain(markdown: str) -> str:
    """Escaped markdown back to its text."""
    return re.sub(r"\\(.)", r"\1", markdown)


def unmarked(markdown: str) -> str:
    """Highlighted, escaped markdown back to its text (line breaks as markdown's "  \\n")."""
    return plain(re.sub(r":red\[\*\*(.*?)\*\*\]", r"\1", markdown))


def card_headers(at: AppTest) -> list[str]:
    """Each result card's first line (number, title, location), in order."""
    return [m.value for m in at.main.markdown if re.match(r"\*\*\d+\\\.", m.value)]


def card_titles(at: AppTest) -> list[str]:
    return [re.search("《(.*)》", plain(h)).group(1) for h in card_headers(at)]


def card_dates(at: AppTest) -> list[str]:
    """The date on each result card's caption ("" when it has none)."""
    return [(re.findall(r"\d{4}-\d\d-\d\d", plain(c.value)) or [""])[0] for c in at.main.caption[1:]]


def page_html(at: AppTest) -> list[str]:
    """What went through st.html besides the app's own fixed style (webapp.common.APP_STYLE)."""
    from webapp.common import APP_STYLE

    return [h.proto.body for h in at.get("html") if h.proto.body != APP_STYLE]


def go(at: AppTest, page: str) -> None:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception


def test_search_shows_cited_results_and_adds_to_basket(app):
    app.text_input(key="query").input("最低生活保障 申请").run()
    assert not app.exception
    assert app.caption[0].value.startswith("共 ") and "毫秒" in app.caption[0].value
    assert "已同时检索" not in app.caption[0].value  # nothing in this query has a glossary entry
    md = markdown_text(app)
    assert "《社会救助暂行办法》" in md and "第十一条" in md
    assert ":red[**申请**]" in md  # the query's words are highlighted
    new_basket(app, "检索测试")
    app.text_input(key="query").input("最低生活保障 申请").run()  # kept while the basket page was open
    buttons(app, "加入素材篮")[0].click().run()
    buttons(app, "加入素材篮")[0].click().run()  # the same passage twice is kept once
    basket = basket_items(app)
    assert len(basket) == 1 and basket[0].citation.startswith("《社会救助暂行办法》")


def test_search_filters_by_document_type(app):
    app.sidebar.multiselect(key="f_types").set_value(["report"]).run()
    app.text_input(key="query").input("学习 制度").run()
    titles = [m.value for m in app.markdown if re.match(r"\*\*\d+\\\.", m.value)]
    assert titles and all("第一议题" in t for t in titles)
    assert all(c.value == "工作报告" for c in app.main.caption[1:])


def test_search_filters_by_date_range(app):
    app.text_input(key="query").input("民政部门").run()
    assert {"2003-08-08", "2019-03-02"} <= set(card_dates(app))
    app.sidebar.date_input(key="f_from").set_value(dt.date(2010, 1, 1)).run()
    assert card_dates(app) and all(d >= "2010-01-01" for d in card_dates(app))
    app.sidebar.date_input(key="f_from").set_value(None)
    app.sidebar.date_input(key="f_to").set_value(dt.date(2010, 1, 1)).run()
    assert "2003-08-08" in card_dates(app) and all(d <= "2010-01-01" for d in card_dates(app))


def test_search_filters_by_issuer_and_document(app, library):
    app.text_input(key="query").input("民政部门").run()
    assert {"婚姻登记条例", "社会救助暂行办法"} <= set(card_titles(app))  # both issued by 国务院
    app.sidebar.multiselect(key="f_issuers").set_value(["市民政局党组"]).run()
    assert card_titles(app) and set(card_titles(app)) == {"市民政局党组落实“第一议题”制度情况汇报"}
    app.sidebar.multiselect(key="f_issuers").set_value([])
    doc_id = library.find_document("社会救助暂行办法")["id"]
    app.sidebar.multiselect(key="f_docs").set_value([doc_id]).run()
    assert card_titles(app) and set(card_titles(app)) == {"社会救助暂行办法"}


def test_search_mode_keyword_gives_the_keyword_ranking(app, library):
    app.text_input(key="query").input("民政部门").run()
    hybrid = card_headers(app)
    app.sidebar.selectbox(key="f_mode").set_value("keyword").run()
    keyword = card_headers(app)
    expected = [f"**{n}\\. {escape('《' + h.citation.title + '》')}** {escape(h.citation.location())}"
                for n, h in enumerate(library.search("民政部门", k=10, mode="keyword"), 1)]
    assert keyword == expected and keyword != hybrid


def test_card_context_shows_the_text_around_the_passage(app, library):
    app.text_input(key="query").input("民政部门").run()
    hit = app.session_state.search_result[1][0]  # the first card's passage
    before, after = library.context(hit)
    assert before and after
    expander = app.main.expander[0]
    assert expander.label == "上下文"
    assert [m.value for m in expander.markdown] == [escape(before), f"**{escape(hit.text)}**", escape(after)]


def test_document_text_is_shown_as_text(app):
    app.text_input(key="query").input("\"粗体\"").run()
    md = markdown_text(app)
    assert "\\<b\\>:red[**粗体**]\\<\\/b\\>" in md and "\\<script\\>" in md and "\\*\\*星号\\*\\*" in md
    assert "<b>" not in md and "<script>" not in md
    assert not page_html(app)  # nothing from a document goes through st.html


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
    assert len(page_html(app)) == 1  # the fixed scrolling script, and only on a cited view


def test_ask_leads_with_the_best_passage_then_its_citation(app):
    go(app, "问答")
    app.text_input(key="question").input("申请最低生活保障的程序").run()
    answer = app.session_state.ask_result[1]
    assert answer.found and answer.sources
    lead = app.main.markdown[0].value  # the best passage comes first, verbatim
    assert unmarked(lead) == answer.sources[0].text.replace("\n", "  \n")  # its lines kept
    assert plain(app.main.caption[1].value) == "出处：" + answer.sources[0].citation.format()
    assert buttons(app, "查看原文") and buttons(app, "加入素材篮")
    buttons(app, "查看原文")[0].click().run()
    assert app.session_state.page == "文档" and any(c.value == "▼ 引用位置" for c in app.caption)
    buttons(app, "返回问答")[0].click().run()
    assert app.session_state.page == "问答" and app.text_input(key="question").value == "申请最低生活保障的程序"


def test_library_uploads_reports_each_file_and_deletes(app, app_data):
    go(app, "文库")
    before = len(app.dataframe[0].value)
    notice = "关于做好冬季救助工作的通知\n\n一、加强巡查\n各区要加强夜间巡查。\n".encode()
    app.file_uploader[0].set_value([
        ("../通知<1>.txt", notice, "text/plain"),
        ("通知<1>.txt", notice, "text/plain"),  # the same file twice: stored once, reported once
        ("工具.exe", b"MZ\x90\x00", "application/octet-stream"),
        ("损坏.pdf", b"%PDF-1.4\nnot really a pdf", "application/pdf"),
        ("副本.txt", HOSTILE_DOC.encode(), "text/plain"),  # the content of 网页摘录.txt, stored elsewhere
    ]).run()
    buttons(app, "入库")[0].click().run()
    assert not app.exception
    assert [plain(s.value) for s in app.success] == ["已入库：通知_1_.txt"]
    errors = [plain(e.value) for e in app.error]
    assert any("工具.exe" in e and "不支持的文件类型" in e for e in errors)
    assert any("损坏.pdf" in e for e in errors)
    assert [plain(i.value) for i in app.info] == ["与已收录的《网页摘录》内容相同，跳过：副本.txt"]
    assert len(app.dataframe[0].value) == before + 1
    uploads = app_data / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["通知_1_.txt"]  # what did not become a document is gone

    app.file_uploader[0].set_value([("通知<1>.txt", notice, "text/plain")]).run()
    buttons(app, "入库")[0].click().run()
    assert [plain(i.value) for i in app.info] == ["内容未变，跳过：通知_1_.txt"]
    assert sorted(p.name for p in uploads.iterdir()) == ["通知_1_.txt"]  # the original of a document stays

    doc_id = next(d["id"] for d in KnowledgeBase(Config.load(app_data, model=os.environ["STUDYKB_MODEL"])).documents()
                  if d["path"].endswith("通知_1_.txt"))
    app.selectbox(key="delete_doc").set_value(doc_id).run()
    app.checkbox[0].check().run()
    buttons(app, "删除")[0].click().run()
    assert [plain(s.value) for s in app.success] == ["已将《关于做好冬季救助工作的通知》移入回收站"]
    assert len(app.dataframe[0].value) == before
    assert (uploads / "通知_1_.txt").exists()  # its original stays while it can be restored
    assert not app.checkbox[0].value  # the next deletion asks again
    assert "回收站（1 份）" in [e.label for e in app.expander]
    buttons(app, "恢复")[0].click().run()
    assert [plain(s.value) for s in app.success] == ["已恢复《关于做好冬季救助工作的通知》"]
    assert len(app.dataframe[0].value) == before + 1 and "回收站（0 份）" in [e.label for e in app.expander]


def new_basket(at: AppTest, name: str) -> None:
    go(at, "素材篮")
    at.text_input(key="new_basket").input(name).run()
    buttons(at, "新建")[0].click().run()
    assert not at.exception and not at.error
    go(at, "检索")


def basket_items(at: AppTest):
    kb = KnowledgeBase(Config.load(os.environ["STUDYKB_DATA"], model=os.environ["STUDYKB_MODEL"]))
    try:
        return kb.baskets.items(at.session_state.basket_id)
    finally:
        kb.close()


def test_basket_reorders_keeps_notes_and_offers_exports(app):
    new_basket(app, "讲稿：排序")
    app.text_input(key="query").input("最低生活保障 申请").run()
    for button in buttons(app, "加入素材篮")[:3]:
        button.click().run()
    first = [i.citation for i in basket_items(app)]
    assert len(first) == 3
    go(app, "素材篮")
    app.text_area[0].input("讲课时重点讲").run()
    assert basket_items(app)[0].note == "讲课时重点讲"
    buttons(app, "下移")[0].click().run()
    assert [i.citation for i in basket_items(app)] == [first[1], first[0], first[2]]
    assert basket_items(app)[1].note == "讲课时重点讲"  # the note moves with its passage
    assert buttons(app, "上移")[0].disabled and buttons(app, "下移")[2].disabled
    buttons(app, "上移")[2].click().run()
    assert [i.citation for i in basket_items(app)] == [first[1], first[2], first[0]]
    assert [d.label for d in app.get("download_button")] == ["导出 Word", "导出 Markdown"]
    buttons(app, "移除")[0].click().run()
    assert [i.citation for i in basket_items(app)] == [first[2], first[0]]


def test_baskets_are_named_kept_across_sessions_renamed_and_deleted(app, app_data, minilm_dir, monkeypatch):
    new_basket(app, "讲稿：兜底保障专题")
    app.text_input(key="query").input("最低生活保障 申请").run()
    buttons(app, "加入素材篮")[0].click().run()
    kept = basket_items(app)
    # another session (a reload, another user, or the app restarted) finds the basket and its passage
    other = AppTest.from_file(APP, default_timeout=120)
    other.run()
    go(other, "素材篮")
    assert other.selectbox[0].value == app.session_state.basket_id
    assert "讲稿：兜底保障专题（1 条）" in other.selectbox[0].options
    assert kept[0].text in plain(markdown_text(other))
    other.text_input(key=f"rename-{app.session_state.basket_id}").input("讲稿：兜底保障").run()
    buttons(other, "重命名")[0].click().run()
    assert "讲稿：兜底保障（1 条）" in other.selectbox[0].options
    other.text_input(key="new_basket").input("讲稿：兜底保障").run()  # the name is taken
    buttons(other, "新建")[0].click().run()
    assert [plain(e.value) for e in other.error] == ["已有同名的素材篮"]
    other.checkbox(key=f"drop-{app.session_state.basket_id}").check().run()
    buttons(other, "删除素材篮")[0].click().run()
    assert not any(o.startswith("讲稿：兜底保障（") for o in (other.selectbox[0].options if other.selectbox else []))


def test_search_state_survives_a_visit_to_the_document(app):
    app.sidebar.multiselect(key="f_types").set_value(["regulation"]).run()
    app.text_input(key="query").input("婚姻登记").run()
    before = card_headers(app)
    buttons(app, "查看原文")[1].click().run()
    assert app.session_state.page == "文档"
    buttons(app, "返回检索结果")[0].click().run()
    assert app.session_state.page == "检索"
    assert app.text_input(key="query").value == "婚姻登记" and card_headers(app) == before
    assert app.sidebar.multiselect(key="f_types").value == ["regulation"]
    go(app, "文库")
    go(app, "检索")
    assert card_headers(app) == before


def test_an_empty_result_names_the_filter_that_emptied_it(app):
    app.sidebar.multiselect(key="f_types").set_value(["speech"]).run()
    app.text_input(key="query").input("婚姻登记").run()
    assert "（0）" in app.sidebar.multiselect(key="f_types").format_func("speech")
    assert [plain(w.value) for w in app.warning] == [
        "没有找到相关内容：检索条件（文档类型）排除了全部结果。放宽或清除左侧的检索条件后再试。"]


def test_compact_view_gives_one_line_per_result(app):
    app.text_input(key="query").input("民政部门").run()
    cards = card_headers(app)
    app.toggle(key="compact").set_value(True).run()
    lines = [m.value for m in app.main.markdown if re.match(r"\d+\\\. \*\*", m.value)]
    assert len(lines) == len(cards) and not card_headers(app)
    assert all(" — " in line for line in lines)


def test_markdown_export_holds_passages_citations_and_reference_list(app, media):
    new_basket(app, "讲稿：导出")
    app.text_input(key="query").input("最低生活保障 申请").run()
    for button in buttons(app, "加入素材篮")[:2]:
        button.click().run()
    items = basket_items(app)
    assert len(items) == 2
    go(app, "素材篮")
    export = next(d for d in app.download_button if d.label == "导出 Markdown")
    md = media[export.proto.url].decode()
    quoted = "\n".join(re.sub("^> ?", "", line) for line in md.split("\n") if line.startswith(">"))
    lines = md.split("\n")
    for item in items:
        assert item.text in quoted and f"出处：{item.citation}" in lines
    refs = [f"[{n}] {r}" for n, r in enumerate(references(items), 1)]
    assert lines[lines.index("## 参考文献") + 1:] == ["", *refs, ""]


def test_upload_over_the_size_limit_is_refused(app_data, minilm_dir, monkeypatch, tmp_path):
    (tmp_path / "studykb.toml").write_text("max_file_mb = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the working directory's studykb.toml is read too
    monkeypatch.setenv("STUDYKB_DATA", str(app_data))
    monkeypatch.setenv("STUDYKB_MODEL", str(minilm_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    go(at, "文库")
    assert "每个文件不超过 1 MB" in at.file_uploader[0].label
    uploads = app_data / "uploads"
    before = sorted(uploads.iterdir()) if uploads.exists() else []
    big = "大文件\n\n一段正文。\n".encode() + b" " * 2**20  # one short passage once read (a quick ingest if allowed)
    at.file_uploader[0].set_value([("大文件.txt", big, "text/plain")]).run()
    buttons(at, "入库")[0].click().run()
    assert not at.exception and not at.success, [s.value for s in at.success]
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("未入库：大文件.txt：文件过大")
    assert (sorted(uploads.iterdir()) if uploads.exists() else []) == before


def test_model_and_knowledge_base_load_once_per_process(tmp_path, minilm_dir, monkeypatch):
    loads = []

    class CountingEmbedder(kb.library.knowledge_base.Embedder):
        def __init__(self, config):
            loads.append(config.model)
            super().__init__(config)

    monkeypatch.setattr(kb.library.knowledge_base, "Embedder", CountingEmbedder)
    monkeypatch.setenv("STUDYKB_DATA", str(tmp_path / "fresh"))
    monkeypatch.setenv("STUDYKB_MODEL", str(minilm_dir))
    for query in ("低保", "婚姻登记"):  # two sessions, several runs each
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.text_input(key="query").input(query).run()
        go(at, "问答")
        assert not at.exception
    assert loads == [str(minilm_dir)]


def test_search_says_which_glossary_terms_it_also_searched(app):
    app.text_input(key="query").input("低保怎么申请").run()
    assert not app.exception
    assert app.caption[0].value.startswith("共 ")
    assert app.caption[1].value == "已同时检索：最低生活保障"  # under the result count


def test_filter_choices_say_how_many_documents_each_holds(app):
    app.run()
    labels = list(app.sidebar.multiselect(key="f_types").options)  # as the user sees them
    assert "工作报告（1）" in labels and "讲话（0）" in labels
    assert any(label.startswith("全国（") for label in app.sidebar.multiselect(key="f_places").options)


def test_every_example_in_the_search_box_finds_something(app):
    app.run()
    examples = re.findall(r"[、：]([^、：（]+)", app.text_input(key="query").placeholder)
    assert len(examples) == 3
    for example in examples:
        app.text_input(key="query").input(example).run()
        assert not app.exception and card_titles(app), example


def test_an_upload_matching_a_stored_document_asks_replace_version_or_skip(app, app_data, library):
    go(app, "文库")
    before = {d["title"]: d for d in library.documents()}
    law = next(d for d in before.values() if d["title"] == "社会救助暂行办法")
    text = library.document(law["id"]).text  # the same law, typed again as plain text: another file, same text
    app.file_uploader[0].set_value([("社会救助暂行办法.txt", text.encode(), "text/plain")]).run()
    buttons(app, "入库")[0].click().run()
    assert not app.exception and not app.success  # nothing ingested before the user chooses
    radio = app.radio[0]
    assert "社会救助暂行办法.txt" in plain(radio.label) and "《社会救助暂行办法》（2019-03-02" in plain(radio.label)
    assert buttons(app, "按所选处理")[0].disabled
    radio.set_value("skip").run()
    buttons(app, "按所选处理")[0].click().run()
    assert [plain(i.value) for i in app.info] == ["已跳过：社会救助暂行办法.txt"]
    assert not (app_data / "uploads" / "社会救助暂行办法.txt").exists()
    assert {d["title"] for d in library.documents()} == set(before)

    app.file_uploader[0].set_value([("社会救助暂行办法.txt", text.encode(), "text/plain")]).run()
    buttons(app, "入库")[0].click().run()
    app.radio[0].set_value("replace").run()
    buttons(app, "按所选处理")[0].click().run()
    assert not app.exception
    assert [plain(s.value) for s in app.success] == ["已入库：社会救助暂行办法.txt",
                                                     f"已替换《社会救助暂行办法》（{Path(law['path']).name}）"]
    after = [d for d in library.documents() if d["title"] == "社会救助暂行办法"]
    assert len(after) == 1 and after[0]["path"].endswith("社会救助暂行办法.txt")
    assert len(app.dataframe[0].value) == len(before)
    assert library.document(after[0]["id"]).text.strip() == text.strip()


def test_with_users_configured_the_library_changes_only_after_sign_in(app, app_data):
    from kb.library.auth import Users

    users_file = app_data / "users.toml"
    try:
        Users(users_file).add("wang", "editor", "正确的密码12345")
        Users(users_file).add("zhao", "reader", "另一个密码12345")
        go(app, "文库")
        assert not app.file_uploader and "请先在侧栏登录" in app.info[0].value
        assert len(app.dataframe[0].value) > 0  # reading stays open
        form = [t for t in app.sidebar.text_input]
        form[0].set_value("wang")
        form[1].set_value("错误的密码")
        app.sidebar.button[0].click().run()  # the form's 登录
        assert "用户名或密码不对" in [e.value for e in app.sidebar.error] and not app.file_uploader
        form = [t for t in app.sidebar.text_input]
        form[0].set_value("zhao")
        form[1].set_value("另一个密码12345")
        app.sidebar.button[0].click().run()
        assert not app.file_uploader  # a reader signs in, and still may not change the library
        buttons(app, "退出登录")[0].click().run()
        form = [t for t in app.sidebar.text_input]
        form[0].set_value("wang")
        form[1].set_value("正确的密码12345")
        app.sidebar.button[0].click().run()
        assert not app.exception and app.file_uploader and "已登录：wang（编辑）" in markdown_text(app) + " ".join(
            c.value for c in app.sidebar.caption)
    finally:
        users_file.unlink(missing_ok=True)


def test_with_users_configured_an_anonymous_session_cannot_change_shared_baskets(app, app_data, library):
    from kb.library.auth import Users

    users_file = app_data / "users.toml"
    basket = library.baskets.create("编辑的讲稿", actor="wang")
    try:
        Users(users_file).add("wang", "editor", "正确的密码12345")
        app.text_input(key="query").input("低保怎么申请").run()
        buttons(app, "加入素材篮")[0].click().run()
        assert not app.exception and any("需要登录" in t.value for t in app.toast)
        assert library.baskets.items(basket) == []
        go(app, "素材篮")
        assert any("需要先在侧栏登录" in i.value for i in app.info)
        assert buttons(app, "删除素材篮")[0].disabled and buttons(app, "新建")[0].disabled
    finally:
        users_file.unlink(missing_ok=True)
        library.baskets.delete(basket)


def test_a_confirmed_answer_is_reviewed_on_its_page_and_then_marked_first(app, library):
    """答对了 on a card → 口径库 待审核 → 审核通过 → the same question's first card is that article,
    marked 本窗口已确认. The clerk confirms the third card, so the claim is the move to the top."""
    question = "结婚登记要带什么"
    app.text_input(key="query").input(question).run()
    chosen = plain(card_headers(app)[2]).split(" ", 1)[1]  # 《title》 location
    buttons(app, "答对了")[2].click().run()
    assert not app.exception and "本窗口已确认" not in markdown_text(app)  # a draft does not count yet
    go(app, "口径库")
    assert "待审核（1）" in [t.label for t in app.tabs]
    buttons(app, "审核通过")[0].click().run()
    assert not app.exception and "已审核（1）" in [t.label for t in app.tabs]
    try:
        go(app, "检索")
        assert plain(card_headers(app)[0]).split(" ", 1)[1] == chosen
        assert "本窗口已确认" in markdown_text(app)
        [item] = library.answer_book.items("approved")
        assert item.question == question and item.articles[0]["article"] in chosen
    finally:
        for item in library.answer_book.items():
            library.answer_book.remove(item.id)
