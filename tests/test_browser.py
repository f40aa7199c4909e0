"""The real app in a real browser: `streamlit run app.py` on a free port, driven by
Playwright in Debian's headless Chromium (/usr/bin/chromium; no browser is downloaded).
Search, see a cited result, add it to the basket, export DOCX and read it back."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import REGULATIONS, REPORT, ROOT, copy_files
from docx import Document as DocxDocument
from docx.shared import RGBColor
from playwright.sync_api import expect

from kb.config import Config
from kb.library.knowledge_base import KnowledgeBase

CHROMIUM = Path(os.environ.get("STUDYKB_CHROMIUM", "/usr/bin/chromium"))
HOSTILE_DOC = "网页摘录\n\n<b>粗体</b>和<img src=x onerror=\"alert('img')\"><script>alert('x')</script>都是文字。\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free port; restart() stops it and starts it again (a new process)."""

    def __init__(self, data: Path, log: Path):
        self.data, self.log_path, self.port = data, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "STUDYKB_DATA": str(self.data)}
        env.pop("STUDYKB_MODEL", None)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port",
                                      str(self.port), "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300  # the health check, polled: slow on a loaded machine
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail("streamlit did not start: " + self.log_path.read_text(errors="replace"))
            time.sleep(0.3)

    def stop(self) -> None:
        # waits for the process to exit, however loaded the machine: a fixed wait failed under load
        self.proc.terminate()
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, e5_models_dir):
    """The app over a knowledge base built with the default model."""
    root = tmp_path_factory.mktemp("browser")
    files = copy_files(root / "files", REGULATIONS / "社会救助暂行办法(2019-03-02).md",
                       REGULATIONS / "婚姻登记条例(2003-08-08).pdf", REPORT)
    (files / "网页摘录.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    data = root / "data"
    shutil.copytree(e5_models_dir, data / "models")
    kb = KnowledgeBase(Config.load(data))
    assert not kb.ingest([files], progress=False).failed
    kb.close()
    server = Server(data, root / "streamlit.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(app_server) -> str:
    return app_server.url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                    "--disable-background-networking", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(90_000)  # the first page view loads the model
    page.outside = []  # every request to a host other than this machine
    page.on("request", lambda r: page.outside.append(r.url) if not is_local(r.url) else None)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(server)
    page.get_by_label("检索内容").wait_for()
    yield page
    context.close()


def is_local(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost", "::1")


def go(page, name: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_text(name, exact=True).click()


def search(page, query: str) -> None:
    box = page.get_by_label("检索内容")
    box.fill(query)
    box.press("Enter")
    page.get_by_text("条结果，用时").wait_for()


def settled(page) -> None:
    """Waits until the app's run has finished (no running indicator) and the page's fonts are loaded."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.wait_for_function("() => document.fonts.status === 'loaded'")


def screenshot(page, name: str, tmp_path: Path) -> None:
    """Into $STUDYKB_SCREENSHOTS (the README's pictures come from here), else the test's folder."""
    folder = Path(os.environ.get("STUDYKB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    settled(page)  # the run finished and the fonts are drawn
    page.screenshot(path=str(folder / name))


def test_search_add_to_basket_and_export_docx(page, tmp_path):
    search(page, "低保怎么申请")
    first = page.locator(".st-key-s-card-1")
    first.wait_for()
    assert "《社会救助暂行办法》" in first.inner_text() and "第十一条" in first.inner_text()
    screenshot(page, "app-search.png", tmp_path)

    first.get_by_role("button", name="加入素材篮").click()
    page.get_by_text("已加入“我的素材篮”").first.wait_for()
    go(page, "素材篮")
    page.get_by_role("button", name="导出 Word").wait_for()
    note = page.get_by_label("备注").first
    note.fill("讲课时先讲申请程序")
    note.press("Tab")  # the note is committed when the box loses focus
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    screenshot(page, "app-basket.png", tmp_path)
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Word").click()
    path = tmp_path / "export.docx"
    download.value.save_as(path)
    assert download.value.suggested_filename == "我的素材篮.docx"

    doc = DocxDocument(io.BytesIO(path.read_bytes()))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "第十一条 申请最低生活保障，按照下列程序办理：" in paragraphs
    citation = "《社会救助暂行办法》第二章 最低生活保障 第十一条（国务院令第649号，2019-03-02修订）"
    assert "出处：" + citation in paragraphs
    assert "备注：讲课时先讲申请程序" in paragraphs
    assert paragraphs[paragraphs.index("参考文献") + 1:] == [
        "[1] 国务院. 社会救助暂行办法：国务院令第649号[Z]. 2014年2月21日公布，2019-03-02修订."]
    # an official document's look: no style italic, each with its East Asian font, all black
    from docx.oxml.ns import qn

    for style in {p.style.name: p.style for p in doc.paragraphs}.values():
        assert style.font.italic is not True, style.name
        assert style.element.rPr.rFonts.get(qn("w:eastAsia")) in ("仿宋", "黑体", "宋体"), style.name
        assert style.font.color.rgb in (None, RGBColor(0, 0, 0)), style.name
    assert not any(run.italic for p in doc.paragraphs for run in p.runs)
    # A4 with GB/T 9704 margins, as the office's printer expects (python-docx's default is US Letter)
    from docx.shared import Mm

    section = doc.sections[0]
    assert (round(section.page_width / Mm(1)), round(section.page_height / Mm(1))) == (210, 297)
    assert [round(getattr(section, f"{s}_margin") / Mm(1)) for s in ("top", "bottom", "left", "right")] == [
        37, 35, 28, 26]


def test_a_basket_survives_a_reload_and_a_restart(page, app_server):
    search(page, "婚姻登记条例第五条")
    page.locator(".st-key-s-card-1").get_by_role("button", name="加入素材篮").click()
    page.get_by_text("已加入").first.wait_for()
    kept = "第五条 办理结婚登记的内地居民应当出具下列证件和证明材料"
    page.reload()
    go(page, "素材篮")
    page.get_by_text(kept).first.wait_for()
    app_server.restart()
    page.goto(app_server.url)
    go(page, "素材篮")
    page.get_by_text(kept).first.wait_for()


def test_back_from_the_document_keeps_the_query_and_results(page):
    search(page, "离婚要带什么材料")
    cards = page.locator("[class*='st-key-s-card-']")
    cards.first.wait_for()
    expect(cards).to_have_count(10)
    before = [cards.nth(i).locator("p").first.inner_text() for i in range(cards.count())]
    page.locator(".st-key-s-card-2").get_by_role("button", name="查看原文").click()
    page.locator(".st-key-cited").wait_for()
    # scrolled to the cited article: the way back is in view there, not only at the top of the page
    back = page.locator(".st-key-cited").get_by_role("button", name="返回检索结果")
    back.wait_for()
    page.wait_for_function(
        "() => { const b = document.querySelector('.st-key-cited button'); if (!b) return false;"
        " const r = b.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }")
    back.click()
    expect(cards).to_have_count(len(before))
    assert page.get_by_label("检索内容").input_value() == "离婚要带什么材料"
    assert [cards.nth(i).locator("p").first.inner_text() for i in range(cards.count())] == before


def test_no_request_leaves_the_machine(page, tmp_path):
    search(page, "低保怎么申请")
    page.locator(".st-key-s-card-1").wait_for()
    page.get_by_role("button", name="查看原文").first.click()
    page.locator(".st-key-cited").wait_for()
    go(page, "问答")
    box = page.get_by_label("问题")
    box.fill("离婚要带什么材料")
    box.press("Enter")
    page.locator(".st-key-answer", has_text="第十一条").wait_for()
    screenshot(page, "app-ask.png", tmp_path)
    box.fill("今天天气怎么样")
    box.press("Enter")
    page.get_by_text("知识库中没有找到直接回答这个问题的规定").wait_for()
    for name in ("文库", "素材篮", "检索"):
        go(page, name)
        settled(page)
        if name == "文库":  # the uploader speaks Chinese: its English hints are hidden
            dropzone = page.locator("[data-testid='stFileUploaderDropzone']")
            dropzone.wait_for()  # a loaded machine draws the page later than the second waited above
            assert dropzone.is_visible() and dropzone.inner_text().strip() in ("", "upload")
    page.reload()
    page.get_by_label("检索内容").wait_for()
    settled(page)
    assert page.outside == []


def test_document_text_never_runs_as_html(page):
    search(page, "\"粗体\"")
    card = page.get_by_text("都是文字").first
    card.wait_for()
    text = card.inner_text()
    assert "<b>粗体</b>" in text and "<script>alert('x')</script>" in text and "onerror" in text
    assert page.locator("[data-testid='stMain'] b", has_text="粗体").count() == 0
    assert page.locator("[data-testid='stMain'] img[src='x']").count() == 0
    assert page.dialogs == []


def test_citation_opens_the_document_scrolled_to_the_article(page):
    search(page, "婚姻登记条例第十一条")
    page.get_by_role("button", name="查看原文").first.click()
    # Streamlit may reuse a result card's node for the new page: wait for the cited text itself
    cited = page.locator(".st-key-cited", has_text="第十一条 办理离婚登记的内地居民应当出具")
    cited.wait_for()
    page.wait_for_function(
        "() => { const r = document.querySelector('.st-key-cited').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }")


def test_no_english_in_the_top_bar_or_its_menu(page):
    search(page, "低保怎么申请")
    settled(page)
    # polled: on a loaded machine a late rerun may still be drawing when the first check runs
    page.wait_for_function("() => !/[A-Za-z]/.test(document.querySelector(\"[data-testid='stHeader']\")"
                           "?.innerText ?? '')", timeout=60_000)
    assert not page.locator("[data-testid='stMainMenu']").is_visible()  # System / Light / Dark / Print / Record
    assert page.locator("[data-testid='stMainMenuButton']").count() == 0 or not page.locator(
        "[data-testid='stMainMenuButton']").is_visible()
    shown = page.evaluate("""() => [...document.querySelectorAll(
        "[data-testid='stDateInputField'] [data-placeholder='true']")].map(el => [
        getComputedStyle(el).fontSize, getComputedStyle(el, '::after').content])""")
    assert shown and all(size == "0px" for size, _ in shown)  # no yyyy / mm / dd in an empty date box
    assert {content for _, content in shown} == {'"年"', '"月"', '"日"'}


def test_a_clerk_confirms_an_editor_approves_and_a_paraphrase_gets_it_first(page, app_server):
    """The 口径库 end to end: 答对了 on a card, 审核通过 by a signed-in editor, then a clerk's paraphrase
    of the question puts that article first, marked 本窗口已确认."""
    from kb.library.auth import Users

    users_file = app_server.data / "users.toml"
    Users(users_file).add("wang", "editor", "正确的密码12345")
    try:
        page.reload()  # the sign-in appears from the next run on
        page.get_by_label("检索内容").wait_for()
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("登录（上传、删除、恢复需要）").click()
        sidebar.get_by_label("用户名").fill("wang")
        sidebar.get_by_label("密码").fill("正确的密码12345")
        sidebar.get_by_role("button", name="登录").click()
        sidebar.get_by_text("已登录：wang").wait_for()
        search(page, "结婚登记要带哪些证件")
        card = page.locator("[class*='st-key-s-card-']").filter(has_text="婚姻登记条例").filter(
            has_text="第五条 办理结婚登记").first
        card.get_by_role("button", name="答对了").click()
        page.get_by_text("已记入口径库").wait_for()
        go(page, "口径库")
        page.get_by_role("button", name="审核通过").click()
        page.get_by_role("tab", name=re.compile("已审核（1）")).wait_for()
        go(page, "检索")
        search(page, "办结婚登记需要带什么证件")
        first = page.locator(".st-key-s-card-1")
        assert "第五条" in first.inner_text() and "本窗口已确认" in first.inner_text()
        assert page.outside == []
    finally:
        users_file.unlink(missing_ok=True)
        kb = KnowledgeBase(Config.load(app_server.data))
        for item in kb.answer_book.items():
            kb.answer_book.remove(item.id)
        kb.close()


def test_the_library_table_fits_a_1366_pixel_screen(page):
    """An office PC's screen: every column of the library table is seen without scrolling sideways."""
    page.set_viewport_size({"width": 1366, "height": 768})
    go(page, "文库")
    page.get_by_text("已收录文档").wait_for()
    settled(page)
    grid = page.locator("[data-testid='stDataFrame'] .dvn-scroller").first
    grid.wait_for()
    scroll, client = grid.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll <= client, f"the table is {scroll} px wide in {client} px"


def test_after_a_delete_the_same_query_shows_no_deleted_article_and_opens_the_right_document(page, app_server):
    """Runs last: it deletes 婚姻登记条例 (and puts it back)."""
    search(page, "离婚要带什么材料")
    cards = page.locator("[class*='st-key-s-card-']")
    cards.first.wait_for()
    assert "婚姻登记条例" in page.locator("[data-testid='stMain']").inner_text()
    kb = KnowledgeBase(Config.load(app_server.data))
    gone = next(d for d in kb.documents() if d["title"] == "婚姻登记条例")
    kb.remove(gone["id"])
    try:
        go(page, "文库")  # where a librarian deletes, and back: the same query, the same session
        settled(page)
        go(page, "检索")
        page.get_by_text("条结果，用时").wait_for()
        settled(page)
        # polled: the previous run's cards stay on the page until the new run replaces them, and on a
        # loaded machine the first check can come before the new run has started
        page.wait_for_function("() => !document.querySelector(\"[data-testid='stMain']\").innerText"
                               ".includes('《婚姻登记条例》')", timeout=60_000)
        settled(page)
        first = page.locator(".st-key-s-card-1")
        title = re.search("《(.+?)》", first.inner_text()).group(1)
        first.get_by_role("button", name="查看原文").click()
        page.locator(".st-key-cited").wait_for()
        assert page.locator("[data-testid='stMain'] h3").first.inner_text().strip() == title  # that document
    finally:
        kb.restore(gone["id"])
        kb.close()


def test_a_pasted_draft_is_checked_its_source_opens_and_the_commented_docx_reads_back(page, tmp_path):
    go(page, "引文核对")
    draft = ("《社会救助暂行办法》第十一条规定：“申请最低生活保障，按照下列程序办理”。\n"
             "《社会救助暂行办法》第十二条规定：“申请最低生活保障，按照下列程序办理”。\n"
             "第十六条规定：“申请特困人员供养，由本人向户籍所在地的乡镇政府、街道办事处提出书面申请”。\n"
             "“国家对最低生活保障家庭应当每月上门慰问一次”（《社会救助暂行办法》第九条）。")
    page.get_by_label("粘贴稿件").fill(draft)
    page.get_by_role("button", name="核对引文").click()
    page.get_by_text("共 4 处引文").wait_for()
    summary = page.get_by_text("共 4 处引文").inner_text()
    for label in ("一字不差 1", "有出入 1", "条号有误 1", "未找到出处 1"):
        assert label in summary, summary
    page.get_by_text("这段文字出自第十一条，稿件写的是第十二条").wait_for()  # the 条号有误 card says why
    with page.expect_download() as download:
        page.get_by_role("button", name="下载带批注的稿件（DOCX）").click()
    path = tmp_path / "checked.docx"
    download.value.save_as(path)
    comments = [c.text for c in DocxDocument(str(path)).comments]
    assert [c.split("】")[0][1:] for c in comments] == ["一字不差", "条号有误", "有出入", "未找到出处"]
    assert "漏“人民”" in comments[2] and "出处：《社会救助暂行办法》" in comments[2]
    page.get_by_role("button", name="查看原文").first.click()  # the first quotation's source, at its article
    page.locator(".st-key-cited").wait_for()
    assert "申请最低生活保障，按照下列程序办理" in page.locator(".st-key-cited").inner_text()
    assert page.outside == []


def test_the_ledger_records_a_topic_its_conveying_meeting_a_seminar_and_a_task_and_exports(page, tmp_path):
    import datetime as dt

    import openpyxl

    go(page, "学习台账")
    form = page.locator("[data-testid='stForm']").filter(has_text="新增议题")
    form.get_by_label("议题名称").fill("习近平总书记关于民政工作的重要指示精神")
    issued = dt.date.today() - dt.timedelta(days=2)
    for segment, value in (("year", f"{issued.year}"), ("month", f"{issued.month:02d}"), ("day", f"{issued.day:02d}")):
        form.get_by_role("spinbutton", name=f"{segment}, 印发或发表日期").click()
        page.keyboard.type(value)
    form.get_by_label("分管领导").fill("王局长")
    form.get_by_role("button", name="保存议题").click()
    page.get_by_text("待传达").first.wait_for()  # two days in: five left
    assert "还剩 5 天" in page.get_by_text("习近平总书记关于民政工作的重要指示精神").first.inner_text()

    page.get_by_role("tab", name="学习活动").click()
    session = page.locator("[data-testid='stForm']").filter(has_text="记录学习活动")

    def record(kind: str, attendees: str, speeches: str = "") -> None:
        session.get_by_label("形式").click()
        page.keyboard.type(kind)  # typed: the list opens (or filters) whether or not the box kept its focus
        page.keyboard.press("Enter")
        session.locator("[data-testid='stMultiSelect']").click()
        page.get_by_role("option", name="习近平总书记关于民政工作的重要指示精神").click()
        page.keyboard.press("Escape")
        session.get_by_label("主持人").fill("王局长")
        session.get_by_label("出席人员（逗号分隔）").fill(attendees)
        session.get_by_label("缺席人员及事由（如 张三（出差））").fill("丁（出差）")
        if speeches:
            session.get_by_label("研讨发言（每行一人：发言人：内容或提纲）").fill(speeches)
        session.get_by_role("button", name="保存学习活动").click()
        page.get_by_text(f"{dt.date.today().isoformat()} {kind}").first.wait_for()

    record("党组会议", "王局长,甲,乙")
    record("专题研讨", "甲,乙", "甲：兜牢民生底线\n乙：提升窗口服务")
    page.get_by_role("tab", name="落实台账").click()
    task = page.locator("[data-testid='stForm']").filter(has_text="新增落实任务")
    task.get_by_label("任务").fill("完善低保审核确认流程")
    task.get_by_label("责任人").fill("张三")
    task.get_by_role("button", name="保存任务").click()
    page.get_by_text("完善低保审核确认流程（张三").wait_for()

    page.get_by_role("tab", name="第一议题").click()
    page.get_by_text("按期传达").first.wait_for()
    assert page.get_by_text("待传达").count() == 0
    page.get_by_role("tab", name="统计与导出").click()
    page.get_by_text("情况汇报（草稿）").wait_for()
    screenshot(page, "app-ledger.png", tmp_path)
    files = {}
    for label, suffix in (("导出学习台账（Word）", "docx"), ("导出学习台账（Excel）", "xlsx")):
        with page.expect_download() as download:
            page.get_by_role("button", name=label).click()
        files[suffix] = tmp_path / f"ledger.{suffix}"
        download.value.save_as(files[suffix])
    tables = DocxDocument(str(files["docx"])).tables
    assert [c.text for c in tables[0].rows[1].cells][1] == "习近平总书记关于民政工作的重要指示精神"
    assert [c.text for c in tables[0].rows[1].cells][5] == "按期传达"
    kinds = [row.cells[2].text for row in tables[1].rows[1:]]
    assert kinds == ["党组会议", "专题研讨"] and tables[1].rows[2].cells[8].text == "甲、乙"
    assert tables[2].rows[1].cells[1].text == "完善低保审核确认流程"
    book = openpyxl.load_workbook(files["xlsx"])
    assert [c.value for c in book["第一议题"][2]][5] == "按期传达"
    assert [r[2].value for r in book["学习活动"].iter_rows(min_row=2)] == ["党组会议", "专题研讨"]
    assert page.outside == []
