"""法条联想: references read from statute text, and the four lists of an article over a small library
where a local rule (重庆) names the national rule as its basis and 慈善法 has two versions."""

from __future__ import annotations

import json

import pytest
from conftest import REGULATIONS, ROOT, copy_files

from kb.cli import main
from kb.config import Config
from kb.errors import DocumentNotFound
from kb.language.references import Reference, references_in

CHONGQING = ROOT / "tests" / "data" / "重庆市城乡居民最低生活保障条例(2016-03-31).md"
CHARITY_2016 = ROOT / "tests" / "data" / "慈善法(2016-03-16).md"


def test_references_to_own_and_other_articles_and_to_a_basis():
    text = ("第一条 为了保障基本生活，根据《社会救助暂行办法》和《城市居民最低生活保障条例》等，制定本条例。\n"
            "第二条 依照《中华人民共和国慈善法》第十条第二款和第十二条规定办理；"
            "违反本条例第三十条至第三十二条的，适用前款。\n"
            "第三条 特困人员供养的审批程序适用本办法第十一条规定。")
    refs = references_in(text, first_article_end=text.index("第二条"))
    assert refs == [
        Reference("basis", "社会救助暂行办法", (), refs[0].at),
        Reference("basis", "城市居民最低生活保障条例", (), refs[0].at),
        Reference("article", "中华人民共和国慈善法", ("第十条", "第十二条"), refs[2].at),
        Reference("article", "", ("第三十条", "第三十一条", "第三十二条"), refs[3].at),
        Reference("article", "", ("第十一条",), refs[4].at),
    ]


def test_a_range_is_each_article_in_it():
    [ref] = references_in("违反本法第三十条至第三十三条的，予以处罚。", first_article_end=0)
    assert ref.articles == ("第三十条", "第三十一条", "第三十二条", "第三十三条")


def test_a_law_named_after_the_first_article_is_no_basis():
    text = "第一条 为了规范管理，制定本办法。\n第九条 根据《殡葬管理条例》的规定执行。"
    assert references_in(text, first_article_end=text.index("第九条")) == []


@pytest.fixture(scope="module")
def library(tmp_path_factory, minilm_dir):
    from kb.library.knowledge_base import KnowledgeBase

    root = tmp_path_factory.mktemp("related")
    files = copy_files(root / "files", REGULATIONS / "社会救助暂行办法(2019-03-02).md",
                       REGULATIONS / "慈善法(2023-12-29).md", CHARITY_2016, CHONGQING)
    kb = KnowledgeBase(Config.load(root / "data", model=str(minilm_dir)))
    assert not kb.ingest([files], progress=False).failed
    yield kb
    kb.close()


def test_what_an_article_is_tied_to(library):
    related = library.provisions.of("社会救助暂行办法第十一条")
    assert related["article"]["title"] == "社会救助暂行办法" and related["article"]["article"] == "第十一条"
    cited_by = {(e["title"], e["article"], e["kind"]) for e in related["cited_by"]}
    assert cited_by == {("社会救助暂行办法", "第十六条", "article"),  # 适用本办法第十一条规定
                        ("重庆市城乡居民最低生活保障条例", "第一条", "basis")}  # 根据《社会救助暂行办法》
    [local] = related["local"]
    assert local["title"] == "重庆市城乡居民最低生活保障条例" and local["jurisdiction"] == "重庆市"
    assert "申请" in local["text"]  # the local article on the same matter: applying for 低保
    assert library.provisions.of("社会救助暂行办法第十一条", place="浙江")["local"] == []
    assert library.provisions.of("社会救助暂行办法第十一条", place="重庆")["local"] == [local]


def test_the_same_article_in_the_other_version(library):
    [old] = library.provisions.of("慈善法第十条")["versions"]
    # the same article, its second paragraph reworded in 2023 (本法公布前已经设立的 → 已经设立的)
    assert old["date"] == "2016-03-16" and old["article"] == "第十条" and old["status"] == "changed"
    assert 0.9 < old["similarity"] < 1

def test_references_inside_one_rule(library):
    cites = library.provisions.of("重庆市城乡居民最低生活保障条例第十九条")["cites"]
    assert [(e["title"], e["article"]) for e in cites] == [("重庆市城乡居民最低生活保障条例", "第十八条")]
    cited_by = library.provisions.of("重庆市城乡居民最低生活保障条例第十八条")["cited_by"]
    assert [e["article"] for e in cited_by] == ["第十九条", "第三十五条"]


def test_a_deleted_document_leaves_the_lists(library, tmp_path):
    chongqing = next(d for d in library.documents() if d["title"].startswith("重庆"))
    library.remove(chongqing["id"])
    try:
        related = library.provisions.of("社会救助暂行办法第十一条")
        assert [e["title"] for e in related["cited_by"]] == ["社会救助暂行办法"] and related["local"] == []
    finally:
        library.restore(chongqing["id"])
    assert len(library.provisions.of("社会救助暂行办法第十一条")["local"]) == 1


def test_kb_related_json(library, capsys):
    data = str(library.config.data_dir)
    assert main(["--data", data, "--model", library.config.model, "related", "社会救助暂行办法第十一条", "--json"]) == 0
    related = json.loads(capsys.readouterr().out)
    assert set(related) == {"article", "cites", "cited_by", "versions", "local"}
    assert main(["--data", data, "--model", library.config.model, "related", "社会救助暂行办法第九百条"]) == 1
    assert "没有《社会救助暂行办法》第九百条" in capsys.readouterr().err
    with pytest.raises(DocumentNotFound):
        library.provisions.of("没有条号的话")
