"""A version's status (现行有效 / 已被修改 / 已废止) as a manifest or the text declares it, or as
another stored text repeals it; an as-of search leaves out what was repealed by then; a manifest
edited later relabels an unchanged file without reading or embedding it again. Real files from
the demo corpus, a real knowledge base."""

from __future__ import annotations

import json

import pytest
from conftest import REGULATIONS, copy_files

from ingest import ReadError, read_manifest
from ingest.metadata import guess_status
from kb.library.knowledge_base import KnowledgeBase
from kb.types import Filters

ASSISTANCE = REGULATIONS / "社会救助暂行办法(2019-03-02).md"
VAGRANTS = REGULATIONS / "城市生活无着的流浪乞讨人员救助管理办法(2003-06-20).md"  # repeals 收容遣送办法
QUESTION = "申请最低生活保障"


def write_manifest(folder, entries: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")


def status_of(kb: KnowledgeBase, title: str) -> str:
    return next(d["version_status"] for d in kb.documents() if d["title"] == title)


def repealed_in_2024(tmp_path, config, status: str = "已废止") -> tuple:
    """社会救助暂行办法 stored with a manifest that declares it repealed on 2024-01-01: (folder, kb)."""
    folder = copy_files(tmp_path / "files", ASSISTANCE)
    write_manifest(folder, {ASSISTANCE.name: {"status": status, "repealed": "2024-01-01"}})
    kb = KnowledgeBase(config)
    kb.ingest([folder], progress=False)
    assert status_of(kb, "社会救助暂行办法") == "已废止"
    return folder, kb


def test_a_manifest_declares_a_law_repealed_and_as_of_searches_leave_it_out_after(tmp_path, minilm_config):
    _, kb = repealed_in_2024(tmp_path, minilm_config, status="失效")
    hit = kb.search_json(QUESTION, k=1)["hits"][0]
    assert hit["status"] == "已废止"  # still found, and marked
    assert kb.search(QUESTION, k=3, filters=Filters(as_of="2023-12-31"))
    assert not kb.search(QUESTION, k=3, filters=Filters(as_of="2024-01-01"))


def test_an_edited_manifest_relabels_an_unchanged_file_without_embedding_it_again(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "files", ASSISTANCE)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    assert status_of(kb, "社会救助暂行办法") == "现行有效"
    write_manifest(folder, {ASSISTANCE.name: {"status": "已废止", "doc_number": "国务院令第649号"}})
    report = kb.ingest([folder], progress=False)
    assert report.relabelled == [str(folder / ASSISTANCE.name)] and report.chunks == 0 and not report.added
    assert status_of(kb, "社会救助暂行办法") == "已废止"
    assert kb.search(QUESTION, k=1)[0].citation.doc_number == "国务院令第649号"
    assert any(e["action"] == "修改信息" and "status=已废止" in e["subject"] for e in kb.audit())
    again = kb.ingest([folder], progress=False)  # nothing new declared: nothing to do
    assert not again.relabelled and again.unchanged
    reopened = KnowledgeBase(minilm_config)  # stored, not only cached
    assert status_of(reopened, "社会救助暂行办法") == "已废止"


def test_another_text_repealing_a_law_ends_it_on_its_date(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "files", VAGRANTS)
    (folder / "城市流浪乞讨人员收容遣送办法(1982-05-12).md").write_text(
        "城市流浪乞讨人员收容遣送办法\n\n第一条 为了救济、教育和安置城市流浪乞讨人员，制定本办法。\n"
        "第二条 对下列人员，予以收容、遣送：（一）家居农村流入城市乞讨的；（二）城市居民中流浪街头乞讨的。\n",
        encoding="utf-8")
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    assert status_of(kb, "城市流浪乞讨人员收容遣送办法") == "已废止"
    # its own 废止 sentence is about the other law
    assert status_of(kb, "城市生活无着的流浪乞讨人员救助管理办法") == "现行有效"
    titles = {h.citation.title for h in kb.search("流浪乞讨人员 收容 遣送", k=5, filters=Filters(as_of="1990-01-01"))}
    assert titles == {"城市流浪乞讨人员收容遣送办法"}
    titles = {h.citation.title for h in kb.search("流浪乞讨人员 收容 遣送", k=5, filters=Filters(as_of="2010-01-01"))}
    assert titles == {"城市生活无着的流浪乞讨人员救助管理办法"}


def test_a_text_that_says_it_is_repealed_in_its_header(tmp_path, minilm_config):
    assert guess_status("某某办法\n【时效性】失效\n第一条 为了……") == "已废止"
    assert guess_status("某某办法（已废止）\n第一条 为了……") == "已废止"
    assert guess_status("某某条例\n时效性：已被修改\n第一条") == "已被修改"
    assert guess_status("某某条例\n时效性：现行有效\n第一条") == ""  # left to the versions
    body = ASSISTANCE.read_text(encoding="utf-8")
    assert guess_status(body) == ""
    assert guess_status(VAGRANTS.read_text(encoding="utf-8")) == ""  # 同时废止 in its body names another law
    folder = tmp_path / "files"
    folder.mkdir()
    lines = body.split("\n")
    (folder / ASSISTANCE.name).write_text("\n".join([lines[0], "时效性：已失效", *lines[1:]]), encoding="utf-8")
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    assert status_of(kb, "社会救助暂行办法") == "已废止"


@pytest.mark.parametrize(("entry", "message"), [
    ({"status": "作废了"}, "时效性“作废了”无效"),
    ({"repealed": "2024年1月1日"}, "废止日期“2024年1月1日”无效"),
    ({"status": "现行有效", "repealed": "2024-01-01"}, "写了废止日期"),
])
def test_a_manifest_with_a_status_it_cannot_mean_names_the_file_and_the_value(tmp_path, entry, message):
    write_manifest(tmp_path, {"办法.md": entry})
    with pytest.raises(ReadError, match=message) as caught:
        read_manifest(tmp_path)
    assert "manifest.json" in str(caught.value.path) and "办法.md" in caught.value.reason


def test_a_manifest_status_is_read_in_the_offices_words(tmp_path):
    write_manifest(tmp_path, {"a.md": {"status": "失效"}, "b.md": {"repealed": "2024-01-01"},
                              "c.md": {"status": "有效"}})
    declared = {name.rsplit("/", 1)[-1]: meta for name, meta in read_manifest(tmp_path).items()}
    assert declared["a.md"]["status"] == "已废止"
    assert declared["b.md"] == {"repealed": "2024-01-01", "status": "已废止"}
    assert declared["c.md"]["status"] == "现行有效"


def two_versions(folder, old_header: str = "", new_header: str = "") -> None:
    """社会救助暂行办法 as a 2014 and a 2019 version (the same text, as a test of statuses only)."""
    lines = ASSISTANCE.read_text(encoding="utf-8").split("\n")
    for date, header in (("2014-02-21", old_header), ("2019-03-02", new_header)):
        text = "\n".join([lines[0], *([header] if header else []), *lines[1:]])
        (folder / f"社会救助暂行办法({date}).md").write_text(text.replace("\n第一条", f"\n（版本 {date}）\n第一条", 1),
                                                           encoding="utf-8")


def statuses(kb: KnowledgeBase) -> dict[str, str]:
    return {d["date"]: d["version_status"] for d in kb.documents()}


def test_a_copied_in_force_line_does_not_outlast_a_newer_version(tmp_path, minilm_config):
    """Statute databases print 时效性：现行有效 on every text they export: true on the day it was copied."""
    folder = tmp_path / "files"
    folder.mkdir()
    two_versions(folder, old_header="【时效性】现行有效", new_header="【时效性】现行有效")
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    assert statuses(kb) == {"2014-02-21": "已被修改", "2019-03-02": "现行有效"}


def test_an_older_version_declared_repealed_stays_repealed_and_ends_on_its_day(tmp_path, minilm_config):
    folder = tmp_path / "files"
    folder.mkdir()
    two_versions(folder)
    write_manifest(folder, {"社会救助暂行办法(2014-02-21).md": {"status": "已废止", "repealed": "2016-01-01"}})
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    assert statuses(kb) == {"2014-02-21": "已废止", "2019-03-02": "现行有效"}
    assert kb.search(QUESTION, k=1, filters=Filters(as_of="2015-06-01"))[0].citation.date == "2014-02-21"
    assert not kb.search(QUESTION, k=3, filters=Filters(as_of="2017-06-01"))  # repealed, the new one not yet out
    assert kb.search(QUESTION, k=1, filters=Filters(as_of="2020-01-01"))[0].citation.date == "2019-03-02"


def test_a_title_marked_repealed_is_the_same_law_without_the_mark(tmp_path, minilm_config):
    folder = tmp_path / "files"
    folder.mkdir()
    two_versions(folder)
    old = folder / "社会救助暂行办法(2014-02-21).md"
    old.write_text(old.read_text(encoding="utf-8").replace("社会救助暂行办法", "社会救助暂行办法（已废止）", 1),
                   encoding="utf-8")
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    assert {d["title"] for d in kb.documents()} == {"社会救助暂行办法"}
    assert statuses(kb)["2014-02-21"] == "已废止"
    assert len(kb.versions.of("社会救助暂行办法")) == 2


def test_a_manifest_can_take_back_a_status_and_relabel_where_a_text_applies(tmp_path, minilm_config):
    folder, kb = repealed_in_2024(tmp_path, minilm_config)
    write_manifest(folder, {ASSISTANCE.name: {"status": "", "issuer": "浙江省人民政府"}})  # a mistake undone
    report = kb.ingest([folder], progress=False)
    assert report.relabelled and not report.failed
    assert status_of(kb, "社会救助暂行办法") == "现行有效"
    assert kb.search(QUESTION, k=1, filters=Filters(as_of="2025-01-01"))
    doc = next(d for d in kb.documents() if d["title"] == "社会救助暂行办法")
    assert (doc["repealed"], doc["issuer"], doc["jurisdiction"]) == ("", "浙江省人民政府", "330000")


@pytest.mark.parametrize("value", [None, True, ["已废止"]])
def test_a_manifest_value_that_is_not_text_is_refused(tmp_path, value):
    write_manifest(tmp_path, {"办法.md": {"date": value}})
    with pytest.raises(ReadError, match="date 应为带引号的文字"):
        read_manifest(tmp_path)
