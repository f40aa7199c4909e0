"""The benchmark's scoring, on hand-made rankings, and its corpus building."""

import json
import math

import pytest

from bench.metrics import mrr_at, ndcg_at, recall_at, score
from bench.stard import Corpus, law_file_name, write_laws


def test_recall_counts_each_relevant_article_once_across_versions():
    relevant = [{1, 101}, {2}]  # article 1 exists in two versions
    ranked = [7, 101, 1, 8, 2]
    assert recall_at(ranked, relevant, 1) == 0.0
    assert recall_at(ranked, relevant, 2) == 0.5
    assert recall_at(ranked, relevant, 4) == 0.5  # the second version adds nothing
    assert recall_at(ranked, relevant, 5) == 1.0
    assert recall_at([], relevant, 10) == 0.0


def test_mrr_uses_the_first_relevant_rank_within_k():
    assert mrr_at([5, 6, 3], [{3}]) == pytest.approx(1 / 3)
    assert mrr_at([3], [{3}]) == 1.0
    assert mrr_at(list(range(20, 30)) + [3], [{3}]) == 0.0  # rank 11 is outside MRR@10


def test_ndcg_binary_gains():
    relevant = [{1}, {2}]
    assert ndcg_at([1, 2, 9], relevant) == pytest.approx(1.0)
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at([9, 1, 2], relevant) == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / ideal)
    assert ndcg_at([9, 1], [{1}]) == pytest.approx(1 / math.log2(3))
    assert ndcg_at([1, 1], [{1}]) == pytest.approx(1.0)  # a repeat earns nothing more


def test_score_averages_over_questions():
    result = score([([1], [{1}]), ([9, 2], [{2}, {3}])])
    assert result["recall@1"] == pytest.approx(0.5)
    assert result["recall@5"] == pytest.approx((1 + 0.5) / 2)
    assert result["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert score([])["recall@10"] == 0.0


def test_subset_keeps_relevant_laws_and_is_fixed(tmp_path):
    lines = []
    for law_no in range(30):
        for art in range(10):
            lines.append({"id": law_no * 10 + art, "law": f"法{law_no}(2020-01-01)", "category": "",
                          "chapter": "第一章 总则" if art < 5 else "第二章 附则", "article": f"第{art + 1}条",
                          "text": f"第{art + 1}条 内容{law_no}-{art}。"})
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    corpus = Corpus.load(path)
    queries = [{"query": "问", "relevant": [{"name": "x", "ids": [123]}]}]
    chosen = corpus.subset(queries, minimum=50)
    assert "法12(2020-01-01)" in chosen and len(chosen) == 5
    assert chosen == corpus.subset(queries, minimum=50)

    law_of_path = write_laws(corpus, ["法12(2020-01-01)"], tmp_path / "laws")
    file = tmp_path / "laws" / law_file_name("法12(2020-01-01)")
    assert law_of_path == {str(file.resolve()): "法12(2020-01-01)"}
    text = file.read_text(encoding="utf-8")
    assert text.startswith("法12\n") and text.count("第一章 总则") == 1 and text.count("第二章 附则") == 1
    manifest = json.loads((tmp_path / "laws" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest[file.name] == {"title": "法12", "doc_type": "regulation", "date": "2020-01-01"}
