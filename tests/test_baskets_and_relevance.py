"""Baskets kept in the knowledge base, and the relevance calibration that decides whether a hit
answers (issue 11)."""

from __future__ import annotations

import json

import pytest
from conftest import REGULATIONS, copy_files

from kb.config import DEFAULT_MODEL, Config
from kb.errors import BasketError, ConfigError
from kb.library.knowledge_base import KnowledgeBase
from kb.search.relevance import (
    DEFAULT_RELEVANCE,
    RelevanceModel,
    asked_types,
    fit_relevance,
    load_relevance,
    states_answer,
)


def test_baskets_outlive_the_knowledge_base_object_and_the_document(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", REGULATIONS / "社会救助暂行办法(2019-03-02).md")
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    lecture = kb.baskets.create("  讲稿：兜底保障专题 ")
    other = kb.baskets.create("第一议题")
    hits = kb.search("最低生活保障 申请", k=3)
    assert kb.baskets.add(lecture, hits[0]) and kb.baskets.add(lecture, hits[1])
    assert not kb.baskets.add(lecture, hits[0])  # a passage once
    items = kb.baskets.items(lecture)
    items[1].note = "讲课时重点讲"
    kb.baskets.save(lecture, [items[1], items[0]])
    with pytest.raises(BasketError, match="已有同名的素材篮"):
        kb.baskets.create("讲稿：兜底保障专题")
    with pytest.raises(BasketError, match="不能为空"):
        kb.baskets.rename(other, "  ")
    kb.remove(hits[0].doc_id)  # the document goes; the passages collected from it stay
    kb.close()

    kb = KnowledgeBase(minilm_config)  # a restart
    assert [(b.name, b.items) for b in kb.baskets.all()] == [("讲稿：兜底保障专题", 2), ("第一议题", 0)]
    kept = kb.baskets.items(lecture)
    assert [i.text for i in kept] == [hits[1].text, hits[0].text] and kept[0].note == "讲课时重点讲"
    assert kept[0].citation == hits[1].citation.format() and kept[0].issuer == "国务院"
    kb.baskets.rename(lecture, "讲稿：兜底保障")
    kb.baskets.delete(other)
    assert [b.name for b in kb.baskets.all()] == ["讲稿：兜底保障"]
    with pytest.raises(BasketError, match="没有这个素材篮"):
        kb.baskets.items(other)
    kb.close()


def test_the_shipped_calibration_belongs_to_the_default_model(tmp_path):
    shipped = RelevanceModel.load(DEFAULT_RELEVANCE)
    assert shipped.model == DEFAULT_MODEL and 0 < shipped.threshold < 1 and shipped.weight > 0
    # a closer question is more likely answered
    assert shipped.probability(0.25) > shipped.threshold > shipped.probability(0.05)
    assert load_relevance(Config.load(tmp_path)) is not None
    assert load_relevance(Config.load(tmp_path, model="another-model")) is None  # its scores mean something else


def test_a_damaged_calibration_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "relevance.json"
    bad.write_text(json.dumps({"weight": "x"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="相关度模型文件无效"):
        RelevanceModel.load(bad)


def test_fit_keeps_the_asked_share_of_answerable_questions():
    answerable = [0.12, 0.15, 0.18, 0.2, 0.22, 0.25, 0.21, 0.19, 0.17, 0.3]
    unanswerable = [0.05, 0.07, 0.08, 0.1, 0.06, 0.09, 0.11, 0.04]
    model = fit_relevance(answerable + unanswerable, [1] * 10 + [0] * 8, "m", recall=0.9)
    found = [model.probability(s) >= model.threshold for s in answerable]
    assert sum(found) == 9 and not model.probability(0.12) >= model.threshold
    assert sum(model.probability(s) >= model.threshold for s in unanswerable) == 0


@pytest.mark.parametrize("question, kinds", [
    ("婚姻登记处周六上班吗", ["时刻"]), ("民政局几点上班", ["时刻"]), ("婚姻登记处的电话是多少", ["联系方式"]),
    ("救助站的地址在哪里", ["地址"]), ("火化收费多少钱", ["金额"]), ("救助站管几天", ["时长"]),
    ("低保怎么申请", []), ("离婚要带什么材料", []), ("上班途中受伤算工伤吗", []),
    ("敬老日是哪一天", ["日子"]), ("低保申请表在哪里下载", ["线上渠道"]), ("结婚登记能在网上预约吗", ["线上渠道"]),
])
def test_asked_kinds_of_fact(question, kinds):
    assert asked_types(question) == kinds


def test_a_passage_answers_a_fact_question_only_when_it_states_such_a_fact():
    assert states_answer("救助站管几天", "救助站应当在受助人员入站后十日内……")
    assert not states_answer("救助站管几天", "救助站应当根据受助人员的需要提供下列救助")
    assert states_answer("低保怎么申请", "任何文字")  # no kind of fact asked
    assert states_answer("敬老日是哪一天", "每年农历九月初九为本市敬老日")
    assert not states_answer("低保申请表在哪里下载", "申请最低生活保障，应当向户籍所在地的乡镇人民政府提出")
    assert states_answer("低保申请表在哪里下载", "申请人可以通过政务服务平台在线提交申请")
