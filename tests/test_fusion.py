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
