"""The README's claims about the command line, the configuration and the data folder, one short
test each, through `kb.cli.main` wherever a command exists: real SQLite and FAISS files, the
small packaged MiniLM model (the default Chinese model only where the claim is about it).
Every test picks inputs whose result differs when the feature is switched off."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import REGULATIONS, REPORT, copy_files

from kb.cli import main
from kb.config import DEFAULT_MODEL, Config
from kb.errors import ConfigError
from kb.library.knowledge_base import KnowledgeBase
from kb.models.embed import Embedder, resolve_model

VAGRANTS = REGULATIONS / "城市生活无着的流浪乞讨人员救助管理办法(2003-06-20).md"  # the smallest law: 18 chunks
DIVISIONS = REGULATIONS / "行政区划管理条例(2018-10-10).md"
RESIDENTS = REGULATIONS / "城市居民委员会组织法(2018-12-29).md"
VAGRANTS_TITLE, DIVISIONS_TITLE = "城市生活无着的流浪乞讨人员救助管理办法", "行政区划管理条例"
REPORT_TITLE = "市民政局党组落实“第一议题”制度情况汇报"


@pytest.fixture(autouse=True)
def clean_environment(tmp_path, monkeypatch):
    """No STUDYKB_* variable or studykb.toml of the person running the tests reaches them."""
    for var in ("STUDYKB_DATA", "STUDYKB_MODEL", "STUDYKB_MODEL_DIR", "STUDYKB_DEVICE", "STUDYKB_GLOSSARY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory, minilm_dir) -> Path:
    """A read-only knowledge base: three laws (2003, 2018-10, 2018-12) and the report (no date)."""
    root = tmp_path_factory.mktemp("shared")
    folder = copy_files(root / "docs", VAGRANTS, DIVISIONS, RESIDENTS, REPORT)
    assert main(["--data", str(root / "data"), "--model", str(minilm_dir), "ingest", str(folder), "--quiet"]) == 0
    return root / "data"


@pytest.fixture
def kb(capsys, minilm_dir):
    """`kb --data DATA --model MiniLM ARGS...` → (exit status, stdout, stderr)."""

    def run(data: Path, *args: str) -> tuple[int, str, str]:
        code = main(["--data", str(data), "--model", str(minilm_dir), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def as_json(result: tuple[int, str, str]):
    code, out, err = result
    assert code == 0, err
    return json.loads(out)


def hits(kb, data: Path, *args: str) -> list[dict]:
    return as_json(kb(data, "search", *args, "--json"))["hits"]


def docs(kb, data: Path) -> dict[str, dict]:
    return {d["title"]: d for d in as_json(kb(data, "docs", "--json"))}


# ------------------------------------------------------------------ commands
def test_ingest_type_sets_the_documents_type_by_english_or_chinese_name(tmp_path, kb, shared):
    detected = docs(kb, shared)
    assert (detected[VAGRANTS_TITLE]["doc_type"], detected[REPORT_TITLE]["doc_type"]) == ("regulation", "report")
    data = tmp_path / "data"
    assert kb(data, "ingest", str(copy_files(tmp_path / "a", VAGRANTS)), "--type", "工作报告", "--quiet")[0] == 0
    assert kb(data, "ingest", str(copy_files(tmp_path / "b", REPORT)), "--type", "policy", "--quiet")[0] == 0
    stored = docs(kb, data)
    assert (stored[VAGRANTS_TITLE]["doc_type"], stored[REPORT_TITLE]["doc_type"]) == ("report", "policy")


def test_ingest_prune_drops_documents_whose_files_are_gone_and_only_then(tmp_path, kb):
    data, folder = tmp_path / "data", copy_files(tmp_path / "docs", VAGRANTS, REPORT)
    assert kb(data, "ingest", str(folder), "--quiet")[0] == 0
    (folder / REPORT.name).unlink()
    assert kb(data, "ingest", str(folder), "--quiet")[0] == 0
    assert set(docs(kb, data)) == {VAGRANTS_TITLE, REPORT_TITLE}
    code, out, _ = kb(data, "ingest", str(folder), "--prune", "--quiet")
    assert code == 0 and f"删除  {folder / REPORT.name}" in out
    assert set(docs(kb, data)) == {VAGRANTS_TITLE}


def test_search_from_and_to_keep_hits_within_the_dates(kb, shared):
    everything = {h["citation"]["date"] for h in hits(kb, shared, "人民政府", "-k", "20")}
    assert {"2003-06-20", "2018-10-10", "2018-12-29"} <= everything
    old = hits(kb, shared, "人民政府", "-k", "20", "--to", "2010-01-01")
    assert old and {h["citation"]["date"] for h in old} == {"2003-06-20"}
    new = hits(kb, shared, "人民政府", "-k", "20", "--from", "2018-11-01")
    assert new and {h["citation"]["date"] for h in new} == {"2018-12-29"}
    between = hits(kb, shared, "人民政府", "-k", "20", "--from", "2018-01-01", "--to", "2018-11-01")
    assert between and {h["citation"]["date"] for h in between} == {"2018-10-10"}


def test_search_mode_decides_which_retrievers_find_the_hits(kb, shared):
    for mode in ("keyword", "dense"):
        found = hits(kb, shared, "救助管理站 求助", "--mode", mode)
        assert found and all(h["matched_by"] == [mode] for h in found), mode
    found = hits(kb, shared, "救助管理站 求助", "--mode", "hybrid")
    assert any(h["matched_by"] == ["dense", "keyword"] for h in found)


def test_search_doc_restricts_to_one_document_by_id_or_title(kb, shared):
    everywhere = hits(kb, shared, "人民政府", "-k", "10")
    target = docs(kb, shared)[DIVISIONS_TITLE]
    assert {h["doc_id"] for h in everywhere} - {target["id"]}
    for ref in (str(target["id"]), DIVISIONS_TITLE):
        found = hits(kb, shared, "人民政府", "-k", "10", "--doc", ref)
        assert found and all(h["citation"]["title"] == DIVISIONS_TITLE and h["doc_id"] == target["id"]
                             for h in found), ref


def test_chinese_type_name_filters_search_like_the_english_one(kb, shared):
    everywhere = hits(kb, shared, "学习 工作", "-k", "10")
    assert {h["citation"]["doc_type"] for h in everywhere} == {"regulation", "report"}
    chinese = hits(kb, shared, "学习 工作", "-k", "10", "--type", "工作报告")
    assert chinese and all(h["citation"]["doc_type"] == "report" for h in chinese)
    assert chinese == hits(kb, shared, "学习 工作", "-k", "10", "--type", "report")


def test_stats_json_counts_what_docs_json_lists(kb, shared):
    stats, listing = as_json(kb(shared, "stats", "--json")), docs(kb, shared).values()
    assert stats["documents"] == len(listing) == 4
    assert stats["chunks"] == sum(d["chunks"] for d in listing) > 4
    assert stats["by_type"] == dict(Counter(d["doc_type"] for d in listing)) == {"regulation": 3, "report": 1}
    assert stats["vector_bytes"] == Path(stats["vector_file"]).stat().st_size > 0


def test_rm_removes_a_document_by_id_relative_path_or_absolute_path(tmp_path, kb, shared, monkeypatch):
    data = shutil.copytree(shared, tmp_path / "data")
    listed = docs(kb, data)
    code, out, _ = kb(data, "rm", str(listed[VAGRANTS_TITLE]["id"]), "--yes")
    assert code == 0 and f"已将《{VAGRANTS_TITLE}》移入回收站" in out
    folder = Path(listed[DIVISIONS_TITLE]["path"]).parent
    monkeypatch.chdir(folder.parent)
    assert kb(data, "rm", f"{folder.name}/{DIVISIONS.name}", "--yes")[0] == 0  # as typed to `kb ingest`
    assert kb(data, "rm", listed[REPORT_TITLE]["path"], "--yes")[0] == 0
    assert set(docs(kb, data)) == set(listed) - {VAGRANTS_TITLE, DIVISIONS_TITLE, REPORT_TITLE}
    assert (folder / DIVISIONS.name).exists()  # the user's own file stays


def test_model_build_rewrites_an_existing_model_only_with_force(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STUDYKB_MODEL_DIR", str(tmp_path / "models"))
    folder = tmp_path / "models" / "multilingual-e5-small"
    data = ["--data", str(tmp_path / "data")]
    assert main([*data, "model-build"]) == 0
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert (folder / "modules.json") in files and not (tmp_path / "data" / "models").exists()
    for path in files:
        os.utime(path, ns=(0, 0))
    capsys.readouterr()
    assert main([*data, "model-build"]) == 0
    assert "已存在" in capsys.readouterr().out and all(p.stat().st_mtime_ns == 0 for p in files)
    assert main([*data, "model-build", "--force"]) == 0
    assert "已生成" in capsys.readouterr().out and all(p.stat().st_mtime_ns > 0 for p in files)


def test_reembed_stores_the_new_models_vectors(tmp_path, kb, monkeypatch, minilm_dir, e5_models_dir):
    data = tmp_path / "data"
    assert kb(data, "ingest", str(copy_files(tmp_path / "docs", VAGRANTS)), "--quiet")[0] == 0
    monkeypatch.setenv("STUDYKB_MODEL_DIR", str(e5_models_dir))
    assert main(["--data", str(data), "reembed"]) == 0  # to the default model
    e5 = KnowledgeBase(Config.load(data))  # opens without a model mismatch now
    ids, stored = e5.store.embeddings()
    chunk_id, text = next(iter(e5.store.chunk_texts()))
    vector = stored[list(ids).index(chunk_id)]
    assert np.allclose(vector, e5.embedder.encode_passages([text])[0], atol=1e-4)
    minilm = Embedder(Config.load(data, model=str(minilm_dir)))
    assert not np.allclose(vector, minilm.encode_passages([text])[0], atol=1e-2)
    assert len(e5.vectors) == len(ids) and e5.search("救助管理站", k=1, mode="dense")
    e5.close()


# ------------------------------------------------------------- configuration
def test_studykb_toml_in_the_working_directory_is_read(tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "studykb.toml").write_text("rrf_k = 7\nbatch_size = 3\n", encoding="utf-8")
    assert Config.load(tmp_path / "data").rrf_k == 60
    monkeypatch.chdir(tmp_path / "elsewhere")
    config = Config.load(tmp_path / "data")
    assert (config.rrf_k, config.batch_size) == (7, 3)


def test_environment_variables_win_over_studykb_toml(tmp_path, monkeypatch):
    (tmp_path / "studykb.toml").write_text('model = "toml-model"\nmodel_dir = "toml-models"\ndevice = "meta"\n'
                                           'glossary = "toml-glossary.txt"\n', encoding="utf-8")
    assert Config.load(tmp_path / "data").model == "toml-model"
    env = {"STUDYKB_MODEL": "env-model", "STUDYKB_MODEL_DIR": str(tmp_path / "env-models"),
           "STUDYKB_DEVICE": "cpu", "STUDYKB_GLOSSARY": str(tmp_path / "env-glossary.txt")}
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    config = Config.load(tmp_path / "data")
    assert (config.model, config.models_path, config.device, config.glossary) == (
        "env-model", tmp_path / "env-models", "cpu", tmp_path / "env-glossary.txt")


def test_studykb_model_dir_is_where_the_default_model_is_looked_for(tmp_path, monkeypatch, e5_models_dir):
    monkeypatch.setenv("STUDYKB_MODEL_DIR", str(e5_models_dir))
    config = Config.load(tmp_path / "data")
    assert resolve_model(config) == e5_models_dir / DEFAULT_MODEL
    assert Embedder(config).dim == 384
    assert not (tmp_path / "data").exists()  # nothing was built under <data>/models


def test_studykb_device_reaches_the_model_and_a_bad_one_is_a_clear_error(tmp_path, kb, shared, monkeypatch,
                                                                          minilm_dir):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # left alone, the model would go to the GPU
    monkeypatch.setenv("STUDYKB_DEVICE", "cpu")
    assert Embedder(Config.load(tmp_path / "data", model=str(minilm_dir))).model.device.type == "cpu"
    monkeypatch.setenv("STUDYKB_DEVICE", "bogus")
    with pytest.raises(ConfigError, match="bogus"):
        Embedder(Config.load(tmp_path / "data", model=str(minilm_dir)))
    code, _, err = kb(shared, "search", "救助")
    assert code == 1 and err.startswith("错误：") and "bogus" in err and "Traceback" not in err
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("STUDYKB_DEVICE", "cuda")
    with pytest.raises(ConfigError, match="CUDA"):
        Embedder(Config.load(tmp_path / "data", model=str(minilm_dir)))


def test_studykb_glossary_replaces_the_bundled_glossary(tmp_path, kb, shared, monkeypatch, minilm_dir):
    assert not hits(kb, shared, "避风港", "--mode", "keyword")
    bundled = KnowledgeBase(Config.load(shared, model=str(minilm_dir)))
    assert bundled.glossary.expansions("救助站") == ["救助管理站"]
    bundled.close()
    glossary = tmp_path / "术语表.txt"
    glossary.write_text("# 自定义\n避风港 = 救助管理站\n", encoding="utf-8")
    monkeypatch.setenv("STUDYKB_GLOSSARY", str(glossary))
    found = hits(kb, shared, "避风港", "--mode", "keyword")
    assert found and all(h["citation"]["title"] == VAGRANTS_TITLE for h in found)
    custom = KnowledgeBase(Config.load(shared, model=str(minilm_dir)))
    assert custom.glossary.expansions("救助站") == []
    custom.close()


def test_chunk_sizes_in_studykb_toml_change_chunking(tmp_path, kb, shared, minilm_dir):
    data = tmp_path / "data"
    data.mkdir()
    (data / "studykb.toml").write_text("[chunk_sizes]\nprose_max = 120\nprose_overlap = 20\n", encoding="utf-8")
    assert kb(data, "ingest", str(copy_files(tmp_path / "docs", REPORT)), "--quiet")[0] == 0
    assert docs(kb, data)[REPORT_TITLE]["chunks"] > docs(kb, shared)[REPORT_TITLE]["chunks"]
    small = KnowledgeBase(Config.load(data, model=str(minilm_dir)))
    assert max(len(text) for _, text in small.store.chunk_texts()) <= 120
    small.close()


def test_fusion_weights_and_rrf_k_reach_the_searcher(tmp_path, shared, minilm_dir):
    (tmp_path / "studykb.toml").write_text("keyword_weight = 2.5\ndense_weight = 0\nrrf_k = 5\n", encoding="utf-8")
    tuned = KnowledgeBase(Config.load(shared, model=str(minilm_dir)))
    searcher = tuned.searcher
    assert (searcher.settings.keyword_weight, searcher.settings.dense_weight, searcher.settings.rrf_k) == (2.5, 0, 5)
    query = "居民委员会 选举"

    def ranking(kb, mode):
        return [h.chunk_id for h in kb.search(query, k=5, mode=mode)]

    keyword = ranking(tuned, "keyword")
    assert ranking(tuned, "hybrid") == keyword and len(keyword) == 5
    assert tuned.search(query, k=1)[0].score == pytest.approx(2.5 / (5 + 1))
    default = KnowledgeBase(Config.load(shared, model=str(minilm_dir), keyword_weight=1.0, dense_weight=1.0,
                                        rrf_k=60))
    assert ranking(default, "hybrid") != keyword
    tuned.close()
    default.close()


def test_an_unknown_setting_is_an_error_that_names_it(tmp_path):
    toml = tmp_path / "studykb.toml"
    toml.write_text("keyword_wieght = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="keyword_wieght") as err:
        Config.load(tmp_path / "data")
    assert err.value.subject == str(toml)  # the file that holds it
    toml.write_text("[chunk_sizes]\nprose_maxx = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="prose_maxx.*prose_max") as err:
        Config.load(tmp_path / "data")
    assert err.value.subject == str(toml)


# ------------------------------------------------------------------- storage
def test_a_damaged_vector_file_is_rebuilt_from_sqlite(tmp_path, shared, minilm_dir):
    config = Config.load(shutil.copytree(shared, tmp_path / "data"), model=str(minilm_dir))
    kb = KnowledgeBase(config)
    vector_file, chunks = Path(kb.stats()["vector_file"]), kb.store.chunk_count()
    expected = [h.chunk_id for h in kb.search("救助管理站 求助", k=5, mode="dense")]
    kb.close()
    intact = vector_file.read_bytes()
    for damaged in (b"\x13garbage" * 1000, intact[:len(intact) // 2]):
        vector_file.write_bytes(damaged)
        kb = KnowledgeBase(config)
        assert [h.chunk_id for h in kb.search("救助管理站 求助", k=5, mode="dense")] == expected
        assert len(kb.vectors) == chunks
        kb.close()
        assert faiss.read_index(str(vector_file)).ntotal == chunks  # the file itself was rewritten
