"""The benchmark's scoring, on hand-made rankings, and its corpus building."""

import json
import math

import pytest

from bench.stard import Corpus, law_file_name, write_laws
from kb.search.metrics import mrr_at, ndcg_at, recall_at, score


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


def test_the_subset_is_exactly_the_one_the_results_were_measured_on():
    """The fixed seed picks the same 206 laws (15,025 articles) from the real STARD files every time."""
    import hashlib

    from bench.stard import DEFAULT_ARTICLES, SUBSET_MIN_ARTICLES, read_queries

    if not DEFAULT_ARTICLES.exists():
        pytest.skip(f"{DEFAULT_ARTICLES} is missing: the STARD files sit in ../shared beside the checkout, "
                    "which a user's clone does not have")
    corpus = Corpus.load(DEFAULT_ARTICLES)
    queries = read_queries(DEFAULT_ARTICLES.with_name("train.jsonl"))
    chosen = corpus.subset(queries, SUBSET_MIN_ARTICLES)
    assert len(chosen) == 206 and sum(len(corpus.by_law[law]) for law in chosen) == 15025
    assert hashlib.sha256("\n".join(chosen).encode()).hexdigest() == SUBSET_SHA256


SUBSET_SHA256 = "692164da671e3de07837ce65c23da905e894abdf296020345eee9b83f89f033f"  # the 206 law names, one a line


def tiny_corpus(tmp_path) -> Corpus:
    articles = [
        {"id": 1, "law": "候鸟保护法(2020-01-01)", "chapter": "第一章 总则", "article": "第一条",
         "text": "第一条 为了保护候鸟及其栖息地，制定本法。"},
        {"id": 2, "law": "候鸟保护法(2020-01-01)", "chapter": "第一章 总则", "article": "第二条",
         "text": "第二条 禁止在繁殖期捕猎候鸟。"},
        {"id": 3, "law": "候鸟保护法(2010-01-01)", "chapter": "第一章 总则", "article": "第二条",
         "text": "第二条 禁止捕猎候鸟。"},
        {"id": 4, "law": "城市绿化条例(2017-03-01)", "chapter": "", "article": "第一条",
         "text": "第一条 城市绿化工作由园林绿化行政主管部门负责。"},
    ]
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles), encoding="utf-8")
    return Corpus.load(path)


def test_evaluate_maps_each_hit_to_the_article_its_citation_names(tmp_path, minilm_dir):
    from bench.stard import evaluate
    from kb.config import Config
    from kb.library.knowledge_base import KnowledgeBase

    corpus = tiny_corpus(tmp_path)
    law_of_path = write_laws(corpus, sorted(corpus.by_law), tmp_path / "laws")
    kb = KnowledgeBase(Config.load(tmp_path / "kb", model=str(minilm_dir)))
    assert len(kb.ingest([tmp_path / "laws"], progress=False).added) == 3
    queries = [
        # the two versions of 第二条 are one group; the hit shows the newest version (id 2)
        {"query": "候鸟保护法第二条", "relevant": [{"name": "候鸟保护法第二条", "ids": [2, 3]}]},
        {"query": "城市绿化 园林", "relevant": [{"name": "城市绿化条例第一条", "ids": [4]}]},
        # relevant only in the old version: the newest version's hit does not count for it
        {"query": "候鸟保护法第二条", "relevant": [{"name": "旧版第二条", "ids": [3]}]},
    ]
    result = evaluate(kb, law_of_path, corpus, queries, ["keyword"])["keyword"]
    assert result["recall@1"] == pytest.approx(2 / 3) and result["recall@100"] == pytest.approx(2 / 3)
    assert result["questions"] == 3


def test_cached_vectors_are_never_another_models(tmp_path, minilm_dir, e5_models_dir):
    """Two different models under one name (the same folder path, the same dimension) must not
    share cached vectors; the same model does, for passages and queries alike."""
    import shutil

    import numpy as np

    from bench.embed_cache import CachedEmbedder
    from kb.config import Config
    from kb.models.embed import Embedder

    folder, cache = tmp_path / "model", tmp_path / "cache.sqlite3"
    config = Config.load(tmp_path / "data", model=str(folder))
    texts = ["申请最低生活保障，由共同生活的家庭成员提出书面申请。", "The weather is fine."]

    shutil.copytree(minilm_dir, folder)
    first = CachedEmbedder(Embedder(config), cache)
    minilm_vectors = first.encode_passages(texts)
    minilm_query = first.encode_query("低保怎么申请")
    again = CachedEmbedder(Embedder(config), cache)
    assert np.array_equal(again.encode_passages(texts), minilm_vectors) and (again.hits, again.misses) == (2, 0)
    assert np.array_equal(again.encode_query("低保怎么申请"), minilm_query)

    shutil.rmtree(folder)
    shutil.copytree(e5_models_dir / "multilingual-e5-small", folder)
    e5 = Embedder(config)
    assert (e5.name, e5.dim) == (first.name, first.dim)  # same name, same size: only the content differs
    cached = CachedEmbedder(e5, cache)
    vectors = cached.encode_passages(texts)
    assert (cached.hits, cached.misses) == (0, 2)
    assert np.allclose(vectors, e5.encode_passages(texts), atol=1e-5)
    assert not np.allclose(vectors, minilm_vectors, atol=1e-2)
    assert np.allclose(cached.encode_query("低保怎么申请"), e5.encode_query("低保怎么申请"), atol=1e-5)


def test_another_precision_is_another_cache_entry(tmp_path, minilm_dir):
    import torch

    from bench.embed_cache import CachedEmbedder
    from kb.config import Config
    from kb.models.embed import Embedder

    embedder = Embedder(Config.load(tmp_path / "data", model=str(minilm_dir)))
    cache = tmp_path / "cache.sqlite3"
    CachedEmbedder(embedder, cache).encode_passages(["text"])
    int8 = CachedEmbedder(Embedder(Config.load(tmp_path / "data", model=str(minilm_dir), precision="int8")), cache)
    int8.encode_passages(["text"])
    assert int8.precision == "int8" and (int8.hits, int8.misses) == (0, 1)
    embedder.model.to(torch.bfloat16)  # cast in memory: the configured label stays, the weights' type does not
    assert embedder.precision == "fp32" and embedder.identity()["precision"] == "bfloat16"
    lower = CachedEmbedder(embedder, cache)
    lower.encode_passages(["text"])
    assert (lower.hits, lower.misses) == (0, 1)


def test_a_model_changed_in_memory_is_another_cache_entry(tmp_path, minilm_dir):
    """Dynamic int8 quantisation keeps the folder and the float32 embeddings, so only what the
    model computes (the identity's probe) can tell the two apart."""
    import torch

    from bench.embed_cache import CachedEmbedder
    from kb.config import Config
    from kb.models.embed import Embedder

    embedder = Embedder(Config.load(tmp_path / "data", model=str(minilm_dir)))
    cache = tmp_path / "cache.sqlite3"
    CachedEmbedder(embedder, cache).encode_passages(["text"])
    embedder.model = torch.ao.quantization.quantize_dynamic(embedder.model, {torch.nn.Linear}, dtype=torch.qint8)
    assert embedder.identity()["precision"] == "float32"  # the parameters alone do not show it
    quantised = CachedEmbedder(embedder, cache)
    quantised.encode_passages(["text"])
    assert (quantised.hits, quantised.misses) == (0, 1)


def test_the_shipped_pieces_are_never_scored_on_the_questions_they_were_trained_on(capsys):
    from bench.stard import DEFAULT_QUERIES, main

    with pytest.raises(SystemExit) as exit_:
        main([str(DEFAULT_QUERIES), "--shipped"])
    assert exit_.value.code == 2 and "--cv" in capsys.readouterr().err
