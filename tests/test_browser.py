"""The real app in a real browser: `streamlit run app.py` on a free port, driven by
Playwright in Debian's headless Chromium (/usr/bin/chromium; no browser is downloaded).
Search, see a cited result, add it to the basket, export DOCX and read it back."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REGULATIONS, REPORT, ROOT, copy_files
from docx import Document as DocxDocument

from kb.config import Config
from kb.library import KnowledgeBase

CHROMIUM = Path(os.environ.get("STUDYKB_CHROMIUM", "/usr/bin/chromium"))
HOSTILE_DOC = "网页摘录\n\n<b>粗体</b>和<img src=x onerror=\"alert('img')\"><script>alert('x')</script>都是文字。\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, e5_models_dir):
    """The app over a knowledge base built with the default model, served on a free port."""
    root = tmp_path_factory.mktemp("browser")
    files = copy_files(root / "files", REGULATIONS / "社会救助暂行办法(2019-03-02).md",
                       REGULATIONS / "婚姻登记条例(2003-08-08).pdf", REPORT)
    (files / "网页摘录.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    data = root / "data"
    shutil.copytree(e5_models_dir, data / "models")
    kb = KnowledgeBase(Config.load(data))
    assert not kb.ingest([files], progress=False).failed
    kb.close()

    port = free_port()
    env = {**os.environ, "STUDYKB_DATA": str(data)}
    env.pop("STUDYKB_MODEL", None)
    log = open(root / "streamlit.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("streamlit did not start: " + (root / "streamlit.log").read_text(errors="replace"))
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


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
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(server)
    page.get_by_label("检索内容").wait_for()
    yield page
    context.close()


def search(page, query: str) -> None:
    box = page.get_by_label("检索内容")
    box.fill(query)
    box.press("Enter")
    page.get_by_text("条结果，用时").wait_for()


def screenshot(page, name: str, tmp_path: Path) -> None:
    """Into $STUDYKB_SCREENSHOTS (the README's pictures come from here), else the test's folder."""
    folder = Path(os.environ.get("STUDYKB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # let highlighting and fonts settle
    page.screenshot(path=str(folder / name))


def test_search_add_to_basket_and_export_docx(page, tmp_path):
    search(page, "低保怎么申请")
    first = page.locator(".st-key-s-card-1")
    first.wait_for()
    assert "《社会救助暂行办法》" in first.inner_text() and "第十一条" in first.inner_text()
    screenshot(page, "app-search.png", tmp_path)

    first.get_by_role("button", name="加入素材篮").click()
    page.get_by_text("已加入素材篮").first.wait_for()
    page.get_by_text("素材篮", exact=True).click()
    page.get_by_role("button", name="导出 Word").wait_for()
    note = page.get_by_label("备注")
    note.fill("讲课时先讲申请程序")
    note.press("Tab")  # the note is committed when the box loses focus
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    screenshot(page, "app-basket.png", tmp_path)
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Word").click()
    path = tmp_path / "export.docx"
    download.value.save_as(path)
    assert download.value.suggested_filename == "学习素材.docx"

    paragraphs = [p.text for p in DocxDocument(io.BytesIO(path.read_bytes())).paragraphs]
    assert "第十一条 申请最低生活保障，按照下列程序办理：" in paragraphs
    citation = "《社会救助暂行办法》第二章 最低生活保障 › 第十一条（国务院令第649号，2019-03-02）"
    assert "出处：" + citation in paragraphs
    assert "备注：讲课时先讲申请程序" in paragraphs
    assert paragraphs[paragraphs.index("引用文献") + 1:] == [citation]


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
        " return r.top >= 0 && r.top < window.innerHeight; }", timeout=10_000)
