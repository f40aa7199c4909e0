"""Learning from questions: the query adapter (a standard sentence-transformers folder that
changes only queries), the learned ranker (LightGBM text), the glossary's intents and special
groups, and `kb train` end to end on real files with the small MiniLM model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REGULATIONS, copy_files

from kb.cli import main
from kb.config import Config
from kb.errors import ConfigError
from kb.language.words import Glossary
from kb.library.knowledge_base import KnowledgeBase
from kb.models.adapter import (
    AdapterSettings,
    adapt,
    adapter_info,
    read_adapter_weight,
    save_adapted_model,
    train_adapter,
)
from kb.models.embed import Embedder
from kb.search.metrics import mrr_at
from kb.search.rank import FEATURES, Candidate, Evidence, QuestionCues, Ranker, feature_matrix, train_ranker
from kb.search.train import TrainingError, read_pairs

FILES = [REGULATIONS / n for n in ("社会救助暂行办法(2019-03-02).md", "婚姻登记条例(2003-08-08).pdf",
                                   "社会团体登记管理条例(2016-02-06).md", "殡葬管理条例(2012-11-09).docx")]
TEXTS = ["申请最低生活保障，由共同生活的家庭成员提出书面申请。", "结婚登记应当出具的证件和证明材料"]


def near_identity(dim: int, seed: int = 0) -> np.ndarray:
    return (np.eye(dim) + 0.2 * np.random.RandomState(seed).randn(dim, dim)).astype(np.float32)


@pytest.fixture(scope="module")
def adapted(tmp_path_factory, minilm_dir):
    weight = near_identity(384)
    dest = save_adapted_model(minilm_dir, str(minilm_dir), weight, tmp_path_factory.mktemp("m") / "adapted")
    return dest, weight


def test_the_adapted_model_is_a_standard_folder_that_changes_only_queries(adapted, minilm_dir, tmp_path):
    from sentence_transformers import SentenceTransformer

    dest, weight = adapted
    base = SentenceTransformer(str(minilm_dir), device="cpu")
    model = SentenceTransformer(str(dest), device="cpu")  # plain sentence-transformers loads it
    before = base.encode(TEXTS, normalize_embeddings=True)
    assert np.allclose(model.encode(TEXTS, task="document", normalize_embeddings=True), before, atol=1e-6)
    assert np.allclose(model.encode(TEXTS, task="query", normalize_embeddings=True), adapt(before, weight), atol=1e-5)
    assert np.allclose(read_adapter_weight(dest), weight)
    assert adapter_info(dest)["base"] == str(minilm_dir)
    assert (dest / "model.safetensors").read_bytes() == (minilm_dir / "model.safetensors").read_bytes()

    # through the product: passages unchanged (and known to be: the same passage identity), queries adapted
    plain = Embedder(Config.load(tmp_path, model=str(minilm_dir)))
    tuned = Embedder(Config.load(tmp_path, model=str(dest)))
    assert np.allclose(tuned.encode_passages(TEXTS), plain.encode_passages(TEXTS), atol=1e-6)
    assert np.allclose(tuned.encode_query(TEXTS[0]), adapt(plain.encode_query(TEXTS[0]), weight)[0], atol=1e-5)
    assert np.allclose(tuned.encode_query(TEXTS[0], adapted=False), plain.encode_query(TEXTS[0]), atol=1e-6)
    assert tuned.identity("passage") == plain.identity()
    assert tuned.identity() != plain.identity()


def test_a_knowledge_base_built_with_the_base_model_takes_the_adapted_one_without_reembedding(
        adapted, tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", *FILES[:2])
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    ids, vectors = kb.store.embeddings()
    kb.close()
    dest, _ = adapted
    kb = KnowledgeBase(Config.load(minilm_config.data_dir, model=str(dest)))  # no ModelMismatchError
    after_ids, after = kb.store.embeddings()
    assert list(after_ids) == list(ids) and np.array_equal(after, vectors)
    assert kb.stats()["embedding_model"] == str(minilm_config.model)  # the passages' model, as recorded
    assert kb.search("婚姻登记条例第五条", k=1)[0].article == "第五条"
    assert kb.search("结婚登记 证件", k=3)


def test_train_adapter_learns_to_find_each_questions_passage():
    rng = np.random.RandomState(1)
    passages = rng.randn(300, 32).astype(np.float32)
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    mix = rng.randn(32, 32).astype(np.float32)  # queries live in a distorted space
    truth = rng.randint(0, 300, 200)
    queries = passages[truth] @ mix.T + 0.3 * rng.randn(200, 32).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    def mrr(q, idx):
        scores = q[idx] @ passages.T
        return np.mean([mrr_at(list(np.argsort(-s)[:10]), [{truth[i]}]) for i, s in zip(idx, scores)])

    train, test = np.arange(150), np.arange(150, 200)
    weight = train_adapter(queries[train], [[int(truth[i])] for i in train], passages,
                           AdapterSettings(epochs=30, identity_weight=0.01))
    assert weight.shape == (32, 32)
    # scored on questions it never saw: the map generalises rather than memorising
    assert mrr(adapt(queries, weight), test) > mrr(queries, test) + 0.2
    # an adapter already in use is refined, not replaced: training starts from it and stays near it
    refined = train_adapter(queries[test], [[int(truth[i])] for i in test], passages,
                            AdapterSettings(epochs=2, identity_weight=1.0), start=weight)
    assert np.abs(refined - weight).mean() < np.abs(refined - np.eye(32)).mean()


def candidates_where_title_cover_decides(rng, n: int = 30) -> tuple[list[Candidate], np.ndarray, QuestionCues]:
    words = ["最低生活保障", "申请"]
    cands, labels = [], []
    for i in range(n):
        relevant = i == rng.randint(n)
        title = "最低生活保障申请办法" if relevant else "殡葬管理条例"
        cands.append(Candidate(Evidence(rng.randint(100), rng.rand()), Evidence(),
                               Evidence(rng.randint(100), rng.rand()), rng.rand() / 30, 1, title, "", "正文"))
        labels.append(float(relevant))
    return cands, np.array(labels), QuestionCues(words)


def test_the_ranker_learns_from_features_and_is_saved_as_text(tmp_path):
    rng = np.random.RandomState(0)
    data = [candidates_where_title_cover_decides(rng) for _ in range(80)]
    text = train_ranker([feature_matrix(c, q) for c, _, q in data], [y for _, y, _ in data])
    assert text.startswith("tree") and "feature_names=" + " ".join(FEATURES) in text  # LightGBM text, no pickle
    path = tmp_path / "ranker.txt"
    path.write_text(text, encoding="utf-8")
    ranker = Ranker.load(path)
    cands, labels, cues = candidates_where_title_cover_decides(np.random.RandomState(99))
    if labels.max() == 0:
        labels[0], cands[0].title = 1.0, "最低生活保障申请办法"
    scores = ranker.score(feature_matrix(cands, cues))
    assert labels[int(np.argmax(scores))] == 1.0


def test_a_bad_ranker_file_is_a_clear_error(tmp_path):
    garbage = tmp_path / "ranker.txt"
    garbage.write_text("不是模型", encoding="utf-8")
    with pytest.raises(ConfigError, match="排序模型文件无效"):
        Ranker.load(garbage)
    with pytest.raises(ConfigError, match="无法读取"):
        Ranker.load(tmp_path / "missing.txt")
    rng = np.random.RandomState(0)
    data = [candidates_where_title_cover_decides(rng) for _ in range(30)]
    text = train_ranker([feature_matrix(c, q) for c, _, q in data], [y for _, y, _ in data])
    other = tmp_path / "other.txt"
    other.write_text(text.replace("feature_names=keyword_rank", "feature_names=something_else"), encoding="utf-8")
    with pytest.raises(ConfigError, match="特征与本版本不符"):
        Ranker.load(other)


def test_glossary_intents_and_groups_are_editable_and_become_features(tmp_path):
    path = tmp_path / "glossary.txt"
    path.write_text("低保 = 最低生活保障\n# 注释\n意图 期限：几天、多久 → 日内、期限\n群体：军人、烈士\n",
                    encoding="utf-8")
    glossary = Glossary.load(path)
    assert glossary.entries == {"低保": ["最低生活保障"]}  # intent and group lines are not expansions
    assert [i.name for i in glossary.intents_in("救助站管几天")] == ["期限"]
    assert glossary.intents_in("低保怎么申请") == []
    assert glossary.names_group("烈士遗属怎么申请抚恤") and not glossary.names_group("老人去世了丧葬费谁出")

    cands = [Candidate(title="殡葬管理条例", text="应当在30日内办理"),
             Candidate(title="军人抚恤优待条例", text="军人死亡的丧葬补助")]
    asked = QuestionCues(["丧葬"], [tuple(glossary.intents_in("几天")[0].answers)], tuple(glossary.groups), False)
    rows = feature_matrix(cands, asked)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert rows[:, col["intent_match"]].tolist() == [1.0, 0.0]
    assert rows[:, col["group_mismatch"]].tolist() == [0.0, 1.0]
    named = QuestionCues(["丧葬"], [], tuple(glossary.groups), True)  # the question names a group
    assert feature_matrix(cands, named)[:, col["group_mismatch"]].tolist() == [0.0, 0.0]


QUESTIONS = [
    ("低保怎么申请", "社会救助暂行办法", "第十一条"),
    ("申请最低生活保障要走哪些步骤", "社会救助暂行办法", "第十一条"),
    ("特困人员供养包括哪些内容", "社会救助暂行办法", "第十五条"),
    ("谁可以得到特困人员供养", "社会救助暂行办法", "第十四条"),
    ("临时救助给谁", "社会救助暂行办法", "第四十七条"),
    ("结婚登记要带哪些证件", "婚姻登记条例", "第五条"),
    ("结婚登记去哪里办", "婚姻登记条例", "第四条"),
    ("离婚登记要带什么", "婚姻登记条例", "第十一条"),
    ("成立社会团体要什么条件", "社会团体登记管理条例", "第十条"),
    ("社会团体的登记管理机关是谁", "社会团体登记管理条例", "第六条"),
    ("火化区可以土葬吗", "殡葬管理条例", "第四条"),
    ("殡仪馆可以建在哪里", "殡葬管理条例", "第十条"),
]


def test_kb_train_end_to_end(tmp_path, minilm_config, capsys):
    folder = copy_files(tmp_path / "docs", *FILES)
    data = str(minilm_config.data_dir)
    assert main(["--data", data, "--model", str(minilm_config.model), "ingest", str(folder), "--quiet"]) == 0
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"query": q, "relevant": [{"title": t, "article": a}]}, ensure_ascii=False)
                               for q, t, a in QUESTIONS), encoding="utf-8")
    out = tmp_path / "trained"
    capsys.readouterr()
    assert main(["--data", data, "--model", str(minilm_config.model), "train", str(pairs), "--out", str(out),
                 "--folds", "3", "--eval"]) == 0
    printed = capsys.readouterr().out
    assert "问答对 12 个，其中 12 个的条文在知识库中" in printed
    assert "| 混合 + 新适配器 + 新排序（训练结果） |" in printed and "| 关键词 |" in printed  # cross-validated table
    assert (out / "model" / "modules.json").exists() and (out / "ranker.txt").read_text().startswith("tree")
    report = json.loads((out / "train_report.json").read_text(encoding="utf-8"))
    assert set(report["cross_validation"]) >= {"current", "hybrid", "hybrid+adapter+ranker"}

    def mean_mrr(config: Config) -> float:
        kb = KnowledgeBase(config)
        runs = []
        for q, t, a in QUESTIONS:
            hits = kb.search(q, k=10)
            runs.append(mrr_at([(h.citation.title, h.article) for h in hits], [{(t, a)}]))
        kb.close()
        return float(np.mean(runs))

    base = mean_mrr(Config.load(data, model=str(minilm_config.model)))
    trained = mean_mrr(Config.load(data, model=str(out / "model"), ranker=str(out / "ranker.txt")))
    # on its own training questions (a test that learning happened, not a quality figure)
    assert trained > base + 0.1


def test_kb_train_takes_the_approved_answers_and_its_ranker_uses_them(tmp_path, minilm_config, capsys):
    """`kb train --answers`: the 口径库's approved questions are the pairs, and the ranker is trained with
    each question's nearest other answered questions as precedents, so it reads their votes."""
    folder = copy_files(tmp_path / "docs", *FILES)
    data = str(minilm_config.data_dir)
    model = str(minilm_config.model)
    assert main(["--data", data, "--model", model, "ingest", str(folder), "--quiet"]) == 0
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"query": q, "relevant": [{"title": t, "article": a}]}, ensure_ascii=False)
                               for q, t, a in QUESTIONS), encoding="utf-8")
    assert main(["--data", data, "--model", model, "answers", "import", str(pairs), "--approved"]) == 0
    out = tmp_path / "trained"
    capsys.readouterr()
    assert main(["--data", data, "--model", model, "train", "--answers", "--out", str(out), "--folds", "3"]) == 0
    assert "问答对 12 个，其中 12 个的条文在知识库中" in capsys.readouterr().out
    ranker = Ranker.load(out / "ranker.txt")
    assert {"precedent_best", "precedent_count", "precedent_share"} <= set(ranker.features)
    assert main(["--data", data, "--model", model, "train"]) == 1  # neither a file nor --answers


def test_pairs_files_are_checked(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"query": "低保怎么申请",'
                    ' "relevant": [{"title": "《社会救助暂行办法》", "article": "第十一条"}]}\n'
                    '{"query": "谁可以成为个体工商户", "relevant": [{"name": "中华人民共和国民法典第五十四条"}]}\n',
                    encoding="utf-8")
    pairs = read_pairs(good)
    assert [p.relevant for p in pairs] == [[("社会救助暂行办法", "第十一条")], [("民法典", "第五十四条")]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "低保怎么申请", "relevant": [{"title": "社会救助暂行办法", "article": "第十一条"}]}\n'
                   '{"question": "缺少 query"}\n', encoding="utf-8")
    with pytest.raises(TrainingError, match="bad.jsonl:2"):
        read_pairs(bad)


def test_the_benchmark_cache_gives_an_adapted_model_its_bases_passages_but_not_its_queries(adapted, tmp_path,
                                                                                             minilm_dir):
    from bench.embed_cache import CachedEmbedder

    cache = tmp_path / "cache.sqlite3"
    base = CachedEmbedder(Embedder(Config.load(tmp_path, model=str(minilm_dir))), cache)
    passages = base.encode_passages(TEXTS)
    query = base.encode_query(TEXTS[0])
    dest, _ = adapted
    tuned = CachedEmbedder(Embedder(Config.load(tmp_path, model=str(dest))), cache)
    assert np.array_equal(tuned.encode_passages(TEXTS), passages) and (tuned.hits, tuned.misses) == (2, 0)
    assert not np.allclose(tuned.encode_query(TEXTS[0]), query, atol=1e-3)  # its own query vector
    assert np.array_equal(tuned.encode_query(TEXTS[0], adapted=False), query)  # the base's, from the cache


def test_an_adapted_model_never_overwrites_its_base(tmp_path, minilm_dir):
    import shutil

    from kb.errors import ModelError

    base = tmp_path / "base"
    shutil.copytree(minilm_dir, base)
    for dest in (base, base / "adapted", tmp_path):
        with pytest.raises(ModelError, match="重叠"):
            save_adapted_model(base, "base", near_identity(384), dest)
    assert (base / "modules.json").exists() and not (base / "adapted").exists()


def test_the_default_model_is_rebuilt_when_the_shipped_adapter_changes(tmp_path, e5_models_dir, monkeypatch):
    import os
    import shutil

    import kb.models.embed
    from kb.config import BASE_MODEL, DEFAULT_MODEL
    from kb.models.embed import resolve_model

    models = tmp_path / "models"
    shutil.copytree(e5_models_dir / BASE_MODEL, models / BASE_MODEL, copy_function=os.link)
    config = Config.load(tmp_path / "data", model_dir=models)
    folder = resolve_model(config)  # built from the shipped adapter
    assert folder == models / DEFAULT_MODEL
    assert np.array_equal(read_adapter_weight(folder), np.load(kb.models.embed.DEFAULT_ADAPTER))
    newer = tmp_path / "query_adapter.npy"
    np.save(newer, near_identity(384, seed=3))
    monkeypatch.setattr(kb.models.embed, "DEFAULT_ADAPTER", newer)  # as after an upgrade
    assert resolve_model(config) == folder
    assert np.array_equal(read_adapter_weight(folder), np.load(newer))


@pytest.mark.parametrize("written, article", [("第10条", "第十条"), ("10", "第十条"), ("第十条", "第十条"),
                                               ("十条", "第十条"), ("第十条之一", "第十条之一")])
def test_a_pairs_article_is_read_as_statutes_number_it(written, article):
    from kb.search.train import article_name

    assert article_name(written) == article
