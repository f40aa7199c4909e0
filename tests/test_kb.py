"""The knowledge base with a real SQLite file and a real FAISS index on disk, using the
small packaged MiniLM model (fast; English-only, so Chinese ranking is tested elsewhere)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import REGULATIONS, REPORT, copy_files

from kb.config import Config
from kb.errors import DocumentNotFound, ModelMismatchError
from kb.language.words import Words
from kb.library.knowledge_base import KnowledgeBase
from kb.types import Filters

SMALL = [REGULATIONS / "社会救助暂行办法(2019-03-02).md", REGULATIONS / "殡葬管理条例(2012-11-09).docx", REPORT]


def test_ingest_search_and_incremental_reingest(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", *SMALL)
    kb = KnowledgeBase(minilm_config)
    report = kb.ingest([folder], progress=False)
    assert len(report.added) == 3 and not report.failed
    stats = kb.stats()
    assert stats["documents"] == 3 and stats["chunks"] == report.chunks
    assert stats["vector_bytes"] > 0 and Path(stats["vector_file"]).exists()

    hits = kb.search("最低生活保障 申请 程序", k=3, mode="keyword")
    assert (hits[0].citation.title, hits[0].article) == ("社会救助暂行办法", "第十一条")
    assert kb.search("社会救助暂行办法第十一条", k=1)[0].matched_by == ["citation"]

    # unchanged files are skipped
    again = kb.ingest([folder], progress=False)
    assert len(again.unchanged) == 3 and not again.added and again.chunks == 0

    # a changed file replaces its old version
    report_copy = folder / REPORT.name
    report_copy.write_text(REPORT.read_text(encoding="utf-8") + "\n八、新增一节\n今年新开展了“民政大讲堂”专题学习。",
                           encoding="utf-8")
    changed = kb.ingest([folder], progress=False)
    assert len(changed.replaced) == 1 and not changed.added
    assert kb.stats()["documents"] == 3
    assert "八、新增一节" in kb.search('"专题学习"', k=1)[0].citation.heading_path

    # --prune drops documents whose files are gone
    (folder / "殡葬管理条例(2012-11-09).docx").unlink()
    pruned = kb.ingest([folder], prune=True, progress=False)
    assert len(pruned.removed) == 1
    assert {d["title"] for d in kb.documents()} == {"社会救助暂行办法", "市民政局党组落实“第一议题”制度情况汇报"}
    kb.close()

    # reopening from disk: the FAISS file matches the store, nothing is rebuilt
    kb2 = KnowledgeBase(minilm_config)
    assert len(kb2.vectors) == kb2.store.chunk_count()


def test_bad_files_are_reported_and_do_not_harm_stored_ones(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", SMALL[0])
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    before = kb.stats()

    pdf = (REGULATIONS / "婚姻登记条例(2003-08-08).pdf").read_bytes()
    (folder / "坏的.pdf").write_bytes(pdf[:2000])
    (folder / "乱码.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "婚姻登记条例.pdf").write_bytes(pdf)
    report = kb.ingest([folder], progress=False)
    failed = dict(report.failed)
    assert set(Path(p).name for p in failed) == {"坏的.pdf", "乱码.txt"}
    assert len(report.added) == 1 and len(report.unchanged) == 1
    assert kb.stats()["documents"] == before["documents"] + 1
    assert kb.search("婚姻登记条例第十一条", k=1)[0].citation.page == 3


def test_duplicate_content_is_skipped(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", SMALL[0])
    copy_files(tmp_path / "docs" / "copy", SMALL[0])
    report = KnowledgeBase(minilm_config).ingest([folder], progress=False)
    assert len(report.added) == 1 and len(report.duplicates) == 1
    assert report.duplicates[0][1] == "社会救助暂行办法"  # named by the title it repeats


def test_filters_and_document_removal(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    kb.ingest(SMALL, progress=False)
    # each filter is tried on a query whose unfiltered results hold what it must keep out
    assert any(h.citation.doc_type != "report" for h in kb.search("救助 管理", k=5))
    reports = kb.search("救助 管理", k=5, filters=Filters(doc_types=["report"]))
    assert reports and all(h.citation.doc_type == "report" for h in reports)
    dates = {h.citation.date for h in kb.search("管理 工作", k=20)}
    assert "" in dates and any(d > "2015-01-01" for d in dates)  # undated and newer documents compete
    old = kb.search("管理 工作", k=10, filters=Filters(date_to="2015-01-01"))
    assert old and all(h.citation.date and h.citation.date <= "2015-01-01" for h in old)
    new = kb.search("管理 工作", k=10, filters=Filters(date_from="2015-01-01"))
    assert new and all(h.citation.date >= "2015-01-01" for h in new)
    doc = kb.find_document("殡葬管理条例")
    assert kb.remove(doc["id"]) == "殡葬管理条例"
    assert all(h.citation.title != "殡葬管理条例" for h in kb.search("火葬 殡葬", k=10))
    assert len(kb.vectors) == kb.store.chunk_count()


def test_opening_with_another_model_is_a_clear_error(tmp_path, minilm_config, e5_models_dir):
    kb = KnowledgeBase(minilm_config)
    kb.ingest([SMALL[0]], progress=False)
    kb.close()
    other = Config.load(minilm_config.data_dir, model="multilingual-e5-small", model_dir=e5_models_dir)
    with pytest.raises(ModelMismatchError) as err:
        KnowledgeBase(other)
    assert str(minilm_config.model) in str(err.value) and "kb reembed" in str(err.value)
    # and the way out works: re-embed with the new model, keeping text and metadata
    kb = KnowledgeBase(other, check_model=False)
    ids, before = kb.store.embeddings()
    assert kb.reembed(progress=False) == kb.store.chunk_count()
    kb.close()
    kb = KnowledgeBase(other)
    assert kb.stats()["embedding_model"] == "multilingual-e5-small"
    texts = dict(kb.store.chunk_texts())
    after_ids, after = kb.store.embeddings()
    assert list(after_ids) == list(ids)
    fresh = kb.embedder.encode_passages([texts[int(i)] for i in ids[:5]])
    assert np.allclose(after[:5], fresh, atol=1e-5)  # the stored vectors are the new model's ...
    assert not np.allclose(after[:5], before[:5], atol=1e-2)  # ... not the old model's (same dimension)
    assert kb.search("低保怎么申请", k=1, mode="dense")[0].article == "第十一条"


def test_lost_vector_file_is_rebuilt_from_the_store(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    kb.ingest(SMALL[:1], progress=False)
    vector_file = Path(kb.stats()["vector_file"])
    kb.close()
    vector_file.unlink()
    kb = KnowledgeBase(minilm_config)
    assert len(kb.vectors) == kb.store.chunk_count() > 0
    assert vector_file.exists()


def test_ingestion_killed_half_way_keeps_the_previous_content(tmp_path, minilm_dir):
    """kill -9 in the middle of a run: the knowledge base still opens with what was committed
    before, and a re-run completes the job."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "studykb.toml").write_text("commit_seconds = 0\n", encoding="utf-8")
    folder = copy_files(tmp_path / "docs", *sorted(REGULATIONS.glob("*.md"))[:8])
    env = {**os.environ, "STUDYKB_DATA": str(data), "STUDYKB_MODEL": str(minilm_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", str(folder), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    db = data / "kb.sqlite3"
    deadline = time.time() + 240
    committed = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    committed = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            except sqlite3.OperationalError:
                committed = 0
            if committed >= 2:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    config = Config.load(data, model=str(minilm_dir))
    kb = KnowledgeBase(config)
    partial = kb.stats()["documents"]
    assert 2 <= partial < 8
    assert len(kb.vectors) == kb.store.chunk_count()
    assert kb.search("第一条", k=1)
    kb.close()

    report = KnowledgeBase(config).ingest([folder], progress=False)
    assert len(report.unchanged) == partial and len(report.added) == 8 - partial
    kb = KnowledgeBase(config)
    assert kb.stats()["documents"] == 8
    assert len(kb.vectors) == kb.store.chunk_count()


def test_cli_on_an_empty_knowledge_base_says_what_to_do(tmp_path, capsys, minilm_dir):
    from kb.cli import main

    assert main(["--data", str(tmp_path / "empty"), "--model", str(minilm_dir), "search", "低保"]) == 1
    assert "kb ingest" in capsys.readouterr().err
    assert main(["--data", str(tmp_path / "empty"), "--model", str(minilm_dir), "docs"]) == 0
    assert "还没有文档" in capsys.readouterr().out


def test_versions_of_a_law_show_each_article_once_from_the_newest(tmp_path, minilm_config):
    old = "社会救助暂行办法\n\n第一章 总则\n\n第一条 为了加强社会救助，保障公民的基本生活，制定本办法。\n"
    new = old.replace("保障公民的基本生活", "保障公民的基本生活，促进社会公平")
    folder = tmp_path / "versions"
    folder.mkdir()
    (folder / "社会救助暂行办法(2014-02-21).txt").write_text(old, encoding="utf-8")
    (folder / "社会救助暂行办法(2019-03-02).txt").write_text(new, encoding="utf-8")
    kb = KnowledgeBase(minilm_config)
    assert len(kb.ingest([folder], progress=False).added) == 2
    for mode in ("hybrid", "keyword", "dense"):
        hits = kb.search("社会救助 基本生活", k=5, mode=mode)
        assert [(h.article, h.citation.date) for h in hits] == [("第一条", "2019-03-02")], mode
    old_id = next(d["id"] for d in kb.documents() if d["date"] == "2014-02-21")
    hits = kb.search("社会救助 基本生活", filters=Filters(doc_ids=[old_id]))
    assert [(h.article, h.citation.date) for h in hits] == [("第一条", "2014-02-21")]


def test_amendments_named_by_year_are_different_documents_not_versions(tmp_path, minilm_config):
    folder = tmp_path / "amendments"
    folder.mkdir()
    for year, text in (("1988", "土地的使用权可以依照法律的规定转让。"), ("1993", "国家实行社会主义市场经济。")):
        (folder / f"宪法修正案（{year}年）.txt").write_text(
            f"宪法修正案（{year}年）\n\n第一条 宪法第十条修改为：{text}\n\n第二条 宪法第十一条增加规定：{text}\n",
            encoding="utf-8")
    kb = KnowledgeBase(minilm_config)
    assert len(kb.ingest([folder], progress=False).added) == 2
    for mode in ("hybrid", "keyword"):
        hits = kb.search("宪法 修改", k=10, mode=mode)
        assert sorted((h.citation.title, h.article) for h in hits) == [
            ("宪法修正案（1988年）", "第一条"), ("宪法修正案（1988年）", "第二条"),
            ("宪法修正案（1993年）", "第一条"), ("宪法修正案（1993年）", "第二条")], mode


def test_a_request_for_k_articles_is_filled_past_the_configured_depth(tmp_path, minilm_dir):
    config = Config.load(tmp_path / "data", model=str(minilm_dir), keyword_depth=5, dense_depth=5)
    kb = KnowledgeBase(config)
    kb.ingest([copy_files(tmp_path / "docs", SMALL[0])], progress=False)
    for mode in ("keyword", "dense", "hybrid"):
        hits = kb.search("社会救助 申请 家庭", k=30, mode=mode)
        assert len(hits) == 30 and len({h.article for h in hits}) == 30, mode


def test_a_citation_lookup_obeys_every_filter(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    kb.ingest(SMALL, progress=False)
    query = "社会救助暂行办法第十一条"
    assert kb.search(query, k=1)[0].matched_by == ["citation"]
    for filters in (Filters(doc_types=["report"]), Filters(date_to="2015-01-01"), Filters(date_from="2020-01-01"),
                    Filters(issuers=["市民政局党组"])):
        assert all("citation" not in h.matched_by and h.citation.title != "社会救助暂行办法"
                   for h in kb.search(query, k=5, filters=filters)), filters
    assert kb.search(query, k=1, filters=Filters(doc_types=["regulation"], issuers=["国务院"]))[0].matched_by == [
        "citation"]


def test_the_door_for_interfaces_document_context_emptiness(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    assert kb.is_empty()
    kb.ingest(SMALL[:1], progress=False)
    assert not kb.is_empty()
    hit = kb.search("社会救助暂行办法第十一条", k=1)[0]
    doc = kb.document(hit.doc_id)
    assert doc.title == "社会救助暂行办法" and doc.text[hit.start:hit.end] == hit.text
    before, after = kb.context(hit, chars=120)
    assert before.endswith("。") and doc.text[:hit.start].rstrip().endswith(before)
    assert after.startswith("第十二条") and doc.text[hit.end:].lstrip().startswith(after)
    with pytest.raises(DocumentNotFound):
        kb.document(9999)
    with pytest.raises(DocumentNotFound):
        kb.remove(9999)


def test_an_uploaded_copy_leaves_with_its_document_from_the_trash_and_a_users_file_never(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    uploaded = copy_files(minilm_config.uploads_path, REPORT) / REPORT.name
    own = copy_files(tmp_path / "mine", SMALL[0]) / SMALL[0].name
    kb.ingest([uploaded, own], progress=False)
    ids = {d["path"]: d["id"] for d in kb.documents()}
    kb.remove(ids[str(uploaded.resolve())])
    kb.remove(ids[str(own.resolve())])
    assert kb.is_empty() and uploaded.exists() and own.exists()  # in the trash, restorable
    kb.store.conn.execute("UPDATE trash SET trashed_at = '2000-01-01 00:00:00'")  # long ago
    kb.ingest([copy_files(tmp_path / "more", SMALL[1])], progress=False)
    assert not kb.trash() and not uploaded.exists() and own.exists()


def test_segmentation_belongs_to_the_knowledge_base_not_to_jieba(tmp_path, minilm_config):
    import jieba

    term = "兜底保障网格员"
    global_before = jieba.lcut_for_search(term)
    words = Words()
    words.add([term])
    assert term in words(term)
    assert jieba.lcut_for_search(term) == global_before and term not in Words()(term)
    # a knowledge base teaches its own segmentation the titles it holds
    kb = KnowledgeBase(minilm_config)
    kb.ingest(SMALL[:1], progress=False)
    assert "社会救助暂行办法" in kb.words("社会救助暂行办法怎么规定")
    assert "社会救助暂行办法" not in jieba.lcut_for_search("社会救助暂行办法怎么规定")


def test_close_ends_the_query_thread(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    kb.ingest(SMALL[:1], progress=False)
    kb.search("申请", k=1)
    threads = list(kb._pool._threads)  # the knowledge base's own worker, not other tests'
    assert threads and all(t.is_alive() for t in threads)
    kb.close()
    assert not any(t.is_alive() for t in threads)


def test_the_query_thread_leaves_a_core_and_passages_keep_them_all(tmp_path, minilm_config):
    import torch

    kb = KnowledgeBase(minilm_config)
    kb.ingest(SMALL[:1], progress=False)
    kb.search("申请", k=1)
    cores = torch.get_num_threads()
    in_query_thread = kb._pool.submit(torch.get_num_threads).result()
    assert in_query_thread == max(1, cores - 1)
    assert torch.get_num_threads() == cores  # ingestion, in this thread, still embeds with every core
    kb.close()


def test_an_unfiltered_keyword_search_ranks_as_the_filtered_one_over_everything(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    kb.ingest(SMALL, progress=False)
    every_type = Filters(doc_types=sorted({d["doc_type"] for d in kb.documents()}))
    for words in (["申请", "救助"], ["火化", "骨灰", "殡葬"], ["民政", "工作", "管理"]):
        fast = kb.store.keyword_search(words, 50)  # no filter: the FTS5 table alone
        joined = kb.store.keyword_search(words, 50, every_type)  # joined with chunks and documents
        assert fast and [c for c, _ in fast] == [c for c, _ in joined]
        assert np.allclose([s for _, s in fast], [s for _, s in joined])
    kb.close()


def test_the_cli_shows_our_errors_as_one_line_and_lets_bugs_keep_their_traceback(tmp_path, capsys, minilm_config,
                                                                             monkeypatch):
    from kb.cli import main

    data = ["--data", str(minilm_config.data_dir), "--model", minilm_config.model]
    KnowledgeBase(minilm_config).ingest(SMALL[:1], progress=False)
    assert main([*data, "search", "低保", "--doc", "没有这个文档"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：没有这个文档：") and "Traceback" not in err
    (tmp_path / "studykb.toml").write_text("no_such_setting = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main([*data, "stats"]) == 1
    assert "no_such_setting" in capsys.readouterr().err
    (tmp_path / "studykb.toml").unlink()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(KnowledgeBase, "search", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main([*data, "search", "低保"])


def test_a_changed_glossary_recuts_the_keyword_index(tmp_path, minilm_dir):
    """Glossary terms are whole words in jieba's dictionary, for documents and queries alike:
    after the glossary changes, the stored words are cut again to match the queries."""
    doc = tmp_path / "docs" / "通知.txt"
    doc.parent.mkdir()
    doc.write_text("关于冬季救助的通知\n\n一、加强巡查\n各区要加强夜间巡查，发现露宿人员及时引导。\n", encoding="utf-8")
    glossary = tmp_path / "术语表.txt"
    glossary.write_text("夜巡 = 夜间巡查\n", encoding="utf-8")

    def stored_words(config: Config) -> set[str]:
        kb = KnowledgeBase(config)
        rows = kb.store.conn.execute("SELECT terms FROM chunk_terms").fetchall()
        kb.close()
        return {w for (terms,) in rows for w in terms.split()}

    with_term = Config.load(tmp_path / "data", model=str(minilm_dir), glossary=glossary)
    KnowledgeBase(with_term).ingest([doc], progress=False)
    assert "夜间巡查" in stored_words(with_term)
    without = Config.load(tmp_path / "data", model=str(minilm_dir))
    assert "夜间巡查" not in stored_words(without) and {"夜间", "巡查"} <= stored_words(without)
    assert "夜间巡查" in stored_words(with_term)  # and back


def test_a_long_question_is_not_echoed_whole(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", SMALL[0])
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    question = "最低生活保障怎么申请" * 50  # 500 characters pasted into the box: the most a query may have
    answer = kb.ask(question)
    first = answer.text.splitlines()[0]
    quoted = first.split("”")[0].removeprefix("关于“")
    assert answer.sources and first.startswith("关于“最低生活保障怎么申请") and quoted.endswith("……")
    assert len(quoted) == 40 + 2


def test_a_query_past_the_limit_is_refused_with_its_length_and_hostile_ones_do_not_crash(tmp_path, minilm_config):
    from kb.errors import QueryError

    kb = KnowledgeBase(minilm_config)
    kb.ingest([copy_files(tmp_path / "docs", SMALL[0])], progress=False)
    with pytest.raises(QueryError, match="501 字"):
        kb.search("申" * 501)
    with pytest.raises(QueryError):
        kb.ask("申" * 501)
    many_quotes = "".join(f'"{chr(0x4e00 + i)}{chr(0x4e10 + i)}"' for i in range(120))  # 480 characters
    many_words = " ".join(f"词{chr(0x4e00 + i)}" for i in range(160))
    for query in (many_quotes, many_words, "\ud800救助\udfff", "第10000条", "第99999999条之一", '"', "NEAR(a b)",
                  "'; DROP TABLE chunks; --", "社会救助暂行办法第0条"):
        for mode in ("hybrid", "keyword", "dense"):
            assert isinstance(kb.search(query, k=3, mode=mode), list)
        assert kb.ask(query).text
    kb.close()


def test_a_citation_lookup_and_the_listings_need_no_model(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", SMALL[0])
    KnowledgeBase(minilm_config).ingest([folder], progress=False)
    kb = KnowledgeBase(minilm_config)  # as `kb docs`, `kb stats` or a lookup opens it
    assert kb.documents() and kb.stats()["chunks"]
    hits = kb.search("《社会救助暂行办法》第11条", k=10)
    assert [(h.article, h.matched_by) for h in hits] == [("第十一条", ["citation"])]  # the article, alone
    assert kb._embedder is None  # no model was loaded
    assert len(kb.search("社会救助暂行办法第十一条怎么理解", k=3)) == 3  # a question about it searches as usual
    kb.close()


def test_a_long_keyword_query_keeps_its_rarest_words(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", *SMALL)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    frequency = kb.store.document_frequencies(["最低生活保障", "火化", "不存在的词"])
    assert frequency["最低生活保障"] > frequency["火化"] > 0 and frequency["不存在的词"] == 0
    words = kb.words("申请最低生活保障的家庭应当如实申报家庭收入状况财产状况并且遗体火化以后骨灰怎么处理")
    kb.searcher.settings.keyword_words = 4
    kept = kb.searcher._selective(words)
    distinct = list(dict.fromkeys(words))
    counts = kb.store.document_frequencies(distinct)
    assert len(kept) == 4 and kept == [w for w in distinct if w in kept]  # the question's order
    assert max(counts[w] for w in kept) <= min(counts[w] for w in distinct if w not in kept)
    kb.searcher.settings.keyword_words = 0
    assert kb.searcher._selective(words) == distinct
    kb.close()


def test_an_excerpt_is_not_the_same_text_as_the_whole_law():
    from kb.library.ingestion import same_text

    law = (REGULATIONS / "社会救助暂行办法(2019-03-02).md").read_text(encoding="utf-8")
    assert same_text(law, law.replace("\n", "\n\n"))  # the same text, laid out otherwise
    assert not same_text(law[:len(law) // 5], law)  # a chapter of it
    assert not same_text("各区要加强夜间巡查。" * 50, law)


def test_reembed_takes_the_changes_another_process_committed_while_it_embedded(tmp_path, minilm_config):
    """Re-embedding runs for minutes outside the write lock: a document removed meanwhile must not stay
    in the new index, and one added meanwhile must not be left out of it. (Here the new one has as many
    passages as the removed one, so no count tells the index is stale.)"""
    kb = KnowledgeBase(minilm_config)
    kb.ingest([SMALL[0]], progress=False)
    other = KnowledgeBase(minilm_config)
    gone = other.documents()[0]
    edited = copy_files(tmp_path / "edited", SMALL[0]) / SMALL[0].name
    edited.write_text(edited.read_text(encoding="utf-8").replace("第一条", "第一条 （修订稿）", 1), encoding="utf-8")
    real, calls = kb.embedder.encode_passages, []

    def embed_while_another_process_writes(texts, progress=None):
        if not calls:  # the first, long pass: meanwhile another process changes the library
            other.remove(gone["id"])
            assert other.ingest([edited], progress=False).added
        calls.append(len(texts))
        return real(texts, progress=progress)

    kb.embedder.encode_passages = embed_while_another_process_writes
    kb.reembed(progress=False)
    fresh = KnowledgeBase(minilm_config)  # what any process reads from disk now
    stored, _ = fresh.store.embeddings()
    indexed = faiss.vector_to_array(fresh.vectors.index.id_map)
    assert sorted(indexed.tolist()) == sorted(stored.tolist()) == sorted(dict(fresh.store.chunk_texts()))
    assert [d["path"] for d in fresh.documents()] == [str(edited.resolve())]
