"""The 口径库 (kb.library.answer_book): a clerk's 答对了 becomes a draft, an editor's review makes it
count, an approved item's article comes first for its questions, and an item whose law changed is
待复核. Real regulations from the demo corpus in a real knowledge base."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import REGULATIONS, copy_files

from kb.errors import AnswerError
from kb.language.query import ArticleRef
from kb.library.knowledge_base import KnowledgeBase
from kb.store import answers as rows

ASSISTANCE = REGULATIONS / "社会救助暂行办法(2019-03-02).md"
SOCIETIES = REGULATIONS / "社会团体登记管理条例(2016-02-06).md"
QUESTION = "社会团体登记要什么条件"


@pytest.fixture
def kb(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    report = kb.ingest([copy_files(tmp_path / "files", ASSISTANCE, SOCIETIES)], progress=False)
    assert not report.failed
    yield kb
    kb.close()


def first(kb, question: str) -> tuple[str, str, bool]:
    hit = kb.search(question, k=3)[0]
    return hit.citation.title, hit.article, hit.approved_answer


def test_a_confirmed_answer_counts_only_once_an_editor_approves_it(kb):
    item_id = kb.answer_book.confirm(QUESTION, ArticleRef("社会团体登记管理条例", "第十条"), actor="clerk")
    item = kb.answer_book.item(item_id)
    assert kb.answer_book.to_dict(item)["state_label"] == "待审核"
    assert item.issuer and item.articles[0]["date"] == "2016-02-06"  # 发文单位 and the version, from the document
    assert not any(h.approved_answer for h in kb.search(QUESTION))  # a draft does not count
    kb.answer_book.approve(item_id, actor="editor")
    assert first(kb, QUESTION) == ("社会团体登记管理条例", "第十条", True)
    assert kb.ask(QUESTION).sources[0].article == "第十条"
    assert [(a["user"], a["action"]) for a in kb.audit()][:2] == [("editor", "审核口径"), ("clerk", "确认答案")]


def test_a_draft_with_the_articles_of_an_approved_item_joins_it_as_a_similar_question(kb):
    ref = ArticleRef("社会团体登记管理条例", "第十条")
    kb.answer_book.approve(kb.answer_book.confirm(QUESTION, ref))
    later = kb.answer_book.confirm("成立社团需要具备哪些条件", ref)
    kept = kb.answer_book.approve(later)
    [item] = kb.answer_book.items()
    assert item.id == kept and item.similar == ["成立社团需要具备哪些条件"]
    assert first(kb, "成立社团需要具备哪些条件")[2]  # the same words as an approved question: its answer


def test_a_draft_joining_an_approved_item_keeps_its_text(kb):
    ref = ArticleRef("社会团体登记管理条例", "第十条")
    kept = kb.answer_book.approve(kb.answer_book.confirm(QUESTION, ref), text="成立社团须具备第十条所列条件")
    kb.answer_book.approve(kb.answer_book.confirm("办社团要什么条件", ref), text="")  # the page's empty text box
    assert kb.answer_book.item(kept).text == "成立社团须具备第十条所列条件"
    with pytest.raises(AnswerError, match="条号"):
        kb.answer_book.confirm(QUESTION, ArticleRef("社会团体登记管理条例", "9" * 20))
    assert kb.answer_book.approve(kept, review_due="20990101") == kept
    assert kb.answer_book.item(kept).review_due == "2099-01-01"  # kept as ISO, so days compare as text


def test_an_item_whose_law_changed_or_whose_review_date_passed_is_to_be_rechecked(kb, tmp_path):
    book = kb.answer_book
    item_id = book.approve(book.confirm(QUESTION, ArticleRef("社会团体登记管理条例", "第十条")))
    item = book.item(item_id)
    assert book.state(item) == "approved"
    # a newer version of the law comes in: the item was confirmed on the 2016 text
    newer = tmp_path / "newer"
    newer.mkdir()
    text = SOCIETIES.read_text(encoding="utf-8").replace("2016年2月6日", "2026年1月1日") + "\n（修订）\n"
    (newer / "社会团体登记管理条例(2026-01-01).md").write_text(text, encoding="utf-8")
    (newer / "manifest.json").write_text(json.dumps(
        {"社会团体登记管理条例(2026-01-01).md": {"date": "2026-01-01"}}, ensure_ascii=False), encoding="utf-8")
    assert kb.ingest([newer], progress=False).added
    assert book.state(item) == "recheck" and "2026-01-01" in book.changed_laws(item)[0]
    assert not any(h.approved_answer for h in kb.search(QUESTION))  # 待复核 no longer counts
    book.approve(item_id)  # reviewed again: on the new text
    assert book.state(book.item(item_id)) == "approved" and book.item(item_id).articles[0]["date"] == "2026-01-01"
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    book.approve(item_id, review_due=yesterday)
    assert book.state(book.item(item_id)) == "recheck"
    with pytest.raises(AnswerError, match="YYYY-MM-DD"):
        book.approve(item_id, review_due="2026-13-45")


def test_a_removed_law_sends_its_items_to_recheck(kb):
    book = kb.answer_book
    item_id = book.approve(book.confirm("低保怎么申请", ArticleRef("社会救助暂行办法", "第十一条")))
    doc = next(d for d in kb.documents() if d["title"] == "社会救助暂行办法")
    kb.remove(doc["id"])
    assert book.changed_laws(book.item(item_id)) == ["《社会救助暂行办法》已不在文库中"]


def test_import_and_export_in_the_format_kb_train_reads(kb, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in [
        {"query": "低保怎么申请", "relevant": [{"title": "社会救助暂行办法", "article": "第十一条"}]},
        {"query": "低保去哪里申请", "relevant": [{"title": "社会救助暂行办法", "article": "11"}]},
        {"query": "谁可以成为个体工商户？", "relevant": [{"name": "个体工商户条例第二条"}]},  # STARD's form; not held
    ]) + "\n", encoding="utf-8")
    counts = kb.answer_book.import_pairs(pairs, approved=True, actor="editor")
    assert counts == {"questions": 3, "items": 1, "skipped_articles": 1}
    assert kb.answer_book.export_pairs() == [
        {"query": q, "relevant": [{"title": "社会救助暂行办法", "article": "第十一条"}]}
        for q in ("低保怎么申请", "低保去哪里申请")]
    assert first(kb, "低保去哪里申请") == ("社会救助暂行办法", "第十一条", True)


def test_a_bad_line_names_the_file_and_line_and_stores_nothing(kb, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "低保怎么申请", "relevant": [{"title": "社会救助暂行办法", "article": "第十一条"}]}\n'
                     '{"query": "缺少答案"}\n', encoding="utf-8")
    with pytest.raises(AnswerError, match="pairs.jsonl:2"):
        kb.answer_book.import_pairs(pairs)
    assert kb.answer_book.items() == []


def test_unanswered_questions_and_confirmations_make_the_statistics(kb):
    kb.answer_book.log_unanswered("明天会不会下雨")
    kb.answer_book.confirm("低保怎么申请", ArticleRef("社会救助暂行办法", "第十一条"))
    kb.answer_book.confirm("低保怎么申请", ArticleRef("社会救助暂行办法", "第十一条"))
    stats = kb.answer_book.statistics()
    assert stats["unanswered"] == [("明天会不会下雨", 1)]
    assert stats["asked"][0] == ("低保怎么申请", 2)
    week = "{}-W{:02d}".format(*dt.date.today().isocalendar()[:2])
    assert stats["confirmed_per_week"] == [(week, 2)]
    assert len(rows.log(kb.store)) == 3


def test_only_an_article_of_a_rule_can_answer(kb):
    with pytest.raises(AnswerError, match="文库中没有这一条"):
        kb.answer_book.confirm(QUESTION, ArticleRef("社会团体登记管理条例", "第九十九条"))
    with pytest.raises(AnswerError, match="问题不能为空"):
        kb.answer_book.confirm("  ", ArticleRef("社会团体登记管理条例", "第十条"))


def test_a_paraphrase_of_an_approved_window_question_gets_its_article_first_as_shipped(shipped):
    """int8, the shipped adapter and ranker: 结婚登记要带哪些证件 puts 第七条 first on its own
    (tests/test_shipped.py); once the window approved 第五条 for it, a clerk's paraphrase gets 第五条."""
    book = shipped.answer_book
    item_id = book.approve(book.confirm("结婚登记要带哪些证件", ArticleRef("婚姻登记条例", "第五条")))
    try:
        hit = shipped.search("办结婚登记需要带什么证件", k=1)[0]
        assert (hit.article, hit.approved_answer) == ("第五条", True)
        assert shipped.search_json("办结婚登记需要带什么证件", k=1)["hits"][0]["approved_answer"] is True
        other = shipped.search("离婚要带什么材料", k=1)[0]  # a different question on the same law: its own answer
        assert (other.article, other.approved_answer) == ("第十一条", False)
        before = dict(book.statistics(top=10**6)["unanswered"]).get("明天会不会下雨", 0)  # a library other tests share
        assert not shipped.ask("明天会不会下雨").found  # nothing answers it: logged for the librarian
        assert dict(book.statistics(top=10**6)["unanswered"])["明天会不会下雨"] == before + 1
    finally:
        book.remove(item_id)


def test_the_cli_confirms_approves_lists_and_exports(kb, tmp_path, minilm_dir, capsys):
    from kb.cli import main

    data = str(kb.config.data_dir)
    kb.close()

    def run(*args: str) -> str:
        capsys.readouterr()
        assert main(["--data", data, "--model", str(minilm_dir), "answers", *args]) == 0
        return capsys.readouterr().out

    assert "待审核" in run("confirm", "社会团体登记要什么条件", "社会团体登记管理条例第十条")
    [item] = json.loads(run("list", "--json"))
    assert item["state_label"] == "待审核" and item["articles"][0]["article"] == "第十条"
    run("approve", str(item["id"]), "--review-due", "2099-01-01")
    assert json.loads(run("list", "--json", "--state", "approved"))[0]["review_due"] == "2099-01-01"
    assert json.loads(run("export")) == {"query": "社会团体登记要什么条件",
                                          "relevant": [{"title": "社会团体登记管理条例", "article": "第十条"}]}
    assert "每周确认" in run("stats")
    capsys.readouterr()
    assert main(["--data", data, "--model", str(minilm_dir), "answers", "confirm", "只有问题"]) == 1
    assert "用法：kb answers confirm" in capsys.readouterr().err


def test_logging_an_unanswered_question_never_stands_in_the_way_of_the_answer(kb):
    import sqlite3

    other = sqlite3.connect(kb.config.db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process writing, past SQLite's wait
    try:
        kb.answer_book.log_unanswered("明天会不会下雨")  # not logged, and no error
    finally:
        other.rollback()
        other.close()
    assert rows.log(kb.store) == []
