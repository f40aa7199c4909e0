"""Fusion and grouping: pure functions over plain data, no model and no store."""

from __future__ import annotations

import pytest

from kb.search.fusion import ChunkKey, Ranking, group_by_article, reciprocal_rank_fusion


def test_rrf_adds_weight_over_k_plus_rank_and_records_sources():
    fused = reciprocal_rank_fusion([Ranking("keyword", [1, 2]), Ranking("dense", [2, 3], weight=2.0)], k=10)
    assert fused[1].score == pytest.approx(1 / 11)
    assert fused[2].score == pytest.approx(1 / 12 + 2 / 11)
    assert fused[3].score == pytest.approx(2 / 12)
    assert fused[2].sources == {"keyword", "dense"} and fused[3].sources == {"dense"}
    assert list(fused) == [1, 2, 3]  # order of first appearance


def test_a_chunk_both_retrievers_found_beats_one_each_found_first():
    fused = reciprocal_rank_fusion([Ranking("keyword", [1, 3]), Ranking("dense", [2, 3])], k=60)
    assert max(fused, key=lambda c: fused[c].score) == 3


def test_an_empty_ranking_adds_nothing():
    assert reciprocal_rank_fusion([Ranking("keyword", []), Ranking("dense", [])]) == {}


def test_chunks_of_one_article_make_one_group_scored_by_the_best():
    fused = reciprocal_rank_fusion([Ranking("keyword", [10, 11, 20]), Ranking("dense", [11])], k=60)
    keys = {10: ChunkKey("慈善法", "第十条", "2023-12-29"), 11: ChunkKey("慈善法", "第十条", "2023-12-29"),
            20: ChunkKey("慈善法", "第十一条", "2023-12-29")}
    groups = group_by_article(fused, keys)
    assert [g.key for g in groups] == [("慈善法", "第十条"), ("慈善法", "第十一条")]
    assert groups[0].score == pytest.approx(fused[11].score)  # the best chunk, not the sum
    assert groups[0].sources == {"keyword", "dense"}


def test_versions_of_an_article_are_one_group_shown_from_the_newest():
    fused = reciprocal_rank_fusion([Ranking("keyword", [1, 2])])
    keys = {1: ChunkKey("慈善法", "第十条", "2016-03-16"), 2: ChunkKey("慈善法", "第十条", "2023-12-29")}
    [group] = group_by_article(fused, keys)
    assert (group.chunk_id, group.date) == (2, "2023-12-29")
    assert group.score == pytest.approx(fused[1].score)


def test_chunks_outside_articles_stay_apart_and_unknown_chunks_are_dropped():
    fused = reciprocal_rank_fusion([Ranking("dense", [5, 6, 7])])
    keys = {5: ChunkKey("汇报", "", "2024-01-01"), 6: ChunkKey("汇报", "", "2024-01-01")}
    assert [g.key for g in group_by_article(fused, keys)] == [("chunk", 5), ("chunk", 6)]


def test_the_article_that_lists_what_was_asked_is_told_from_one_that_mentions_it():
    """结婚登记要带哪些证件: 第五条 lists the papers (应当出具下列证件), 第七条 only names them once."""
    from kb.search.rank import FEATURES, Candidate, QuestionCues, feature_matrix

    answers = ("证件", "证明", "材料", "出具", "提交", "提供", "手续")
    cues = QuestionCues(["结婚", "登记", "证件"], intent_answers=[answers])
    law = "婚姻登记条例"
    lists = Candidate(title=law, text="办理结婚登记的内地居民应当出具下列证件和证明材料：（一）本人的户口簿、身份证；")
    mentions = Candidate(title=law, text="婚姻登记机关应当对结婚登记当事人出具的证件、证明材料进行审查。")
    other_list = Candidate(title=law, text="当事人有下列情形之一的，婚姻登记机关不予登记：（一）未到法定结婚年龄的；")
    short_name = Candidate(title=law, text="民政部门（以下简称登记机关）负责证件的审查。三个月以下的证明材料：有效。")
    rows = feature_matrix([lists, mentions, other_list, short_name], cues)
    column = {name: [row[FEATURES.index(name)] for row in rows] for name in ("enumerates", "intent_listed")}
    assert column == {"enumerates": [1.0, 0.0, 1.0, 0.0], "intent_listed": [1.0, 0.0, 0.0, 0.0]}
