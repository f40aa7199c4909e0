"""What a page shows after the library changed under it (issue 22): a search re-run in the same session
leaves a deleted document out, a card drawn before the delete neither opens another document nor adds
the deleted passage to a basket. The real app through AppTest, over a real knowledge base."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REGULATIONS, REPORT, ROOT, copy_files
from streamlit.testing.v1 import AppTest

from kb.config import Config
from kb.library.knowledge_base import KnowledgeBase

APP = str(ROOT / "app.py")
GONE = "婚姻登记条例"


@pytest.fixture
def two_laws(tmp_path, minilm_dir, monkeypatch) -> Path:
    files = copy_files(tmp_path / "files", REGULATIONS / "社会救助暂行办法(2019-03-02).md",
                       REGULATIONS / "婚姻登记条例(2003-08-08).pdf", REPORT)
    data = tmp_path / "data"
    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir)))
    assert len(kb.ingest([files], progress=False).added) == 3
    kb.close()
    monkeypatch.setenv("STUDYKB_DATA", str(data))
    monkeypatch.setenv("STUDYKB_MODEL", str(minilm_dir))
    return data


def titles(at: AppTest) -> list[str]:
    """Each result card's first line (number, title, location), in order."""
    return [m.value for m in at.main.markdown if re.match(r"\*\*\d+\\\.", m.value)]


def delete_elsewhere(data: Path, minilm_dir) -> None:
    """Another session (or the CLI) deletes the marriage regulation."""
    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir)))
    doc = next(d for d in kb.documents() if d["title"] == GONE)
    kb.remove(doc["id"])
    kb.close()


def test_a_search_re_run_after_a_delete_leaves_the_deleted_document_out(two_laws, minilm_dir):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="query").input("结婚登记 证件").run()
    assert any(GONE in t for t in titles(at))
    delete_elsewhere(two_laws, minilm_dir)
    at.run()  # the same query, the same session
    assert not at.exception and titles(at) and not any(GONE in t for t in titles(at))


def test_a_card_drawn_before_the_delete_opens_nothing_else_and_adds_nothing(two_laws, minilm_dir):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="query").input("结婚登记 证件").run()
    first = next(n for n, t in enumerate(titles(at)) if GONE in t)
    opens = [b for b in at.button if b.label == "查看原文"]
    adds = [b for b in at.button if b.label == "加入素材篮"]
    delete_elsewhere(two_laws, minilm_dir)

    adds[first].click().run()
    assert not at.exception and any("已不在文库中" in t.value for t in at.toast)
    kb = KnowledgeBase(Config.load(two_laws, model=str(minilm_dir)))
    assert all(not kb.baskets.items(b.id) for b in kb.baskets.all())
    kb.close()

    opens[first].click().run()
    assert not at.exception
    assert any("要查看的文档已不在文库中" in w.value for w in at.warning)
    assert not [h for h in at.subheader if h.value]  # no other document shown in its place


def test_the_library_table_lists_a_new_upload_first(two_laws, minilm_dir, tmp_path):
    later = copy_files(tmp_path / "later", REGULATIONS / "殡葬管理条例(2012-11-09).docx")
    kb = KnowledgeBase(Config.load(two_laws, model=str(minilm_dir)))
    assert kb.ingest([later], progress=False).added
    kb.close()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.sidebar.radio(key="page").set_value("文库").run()
    table = at.dataframe[0].value
    assert table.iloc[0]["标题"] == "殡葬管理条例" and len(table) == 4
