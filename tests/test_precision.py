"""int8 embedding on CPU (issue 12): the model quantised inside the sentence-transformers path,
recorded by the knowledge base, followed when unset and refused when it does not match."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REGULATIONS, copy_files

from kb.config import Config
from kb.errors import ConfigError, ModelMismatchError
from kb.library.knowledge_base import KnowledgeBase
from kb.models.embed import Embedder, pick_precision

TEXTS = ["社会救助制度坚持托底线、救急难、可持续。", "The quick brown fox jumps over the lazy dog.",
         "申请最低生活保障，按照下列程序办理。"]


def test_int8_vectors_stay_close_to_fp32(tmp_path, minilm_dir):
    fp32 = Embedder(Config.load(tmp_path, model=str(minilm_dir), precision="fp32"))
    int8 = Embedder(Config.load(tmp_path, model=str(minilm_dir), precision="int8"))
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    a, b = fp32.encode_passages(TEXTS), int8.encode_passages(TEXTS)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.95 and not np.allclose(a, b, atol=1e-4)  # close, and really quantised
    assert fp32.identity()["probe"] != int8.identity()["probe"]  # caches never mix them


@pytest.mark.parametrize("requested, device, message", [
    ("int8", "cuda", "只用于 CPU"), ("fp16", "cpu", "只用于 GPU"), ("int4", "cpu", "无法识别的精度")])
def test_a_precision_the_device_cannot_run_is_refused(requested, device, message):
    with pytest.raises(ConfigError, match=message):
        pick_precision(requested, device)


def test_the_knowledge_base_records_its_precision_and_keeps_to_it(tmp_path, minilm_dir, monkeypatch):
    monkeypatch.delenv("STUDYKB_PRECISION", raising=False)  # unset, as in an office
    folder = copy_files(tmp_path / "docs", REGULATIONS / "社会救助暂行办法(2019-03-02).md")
    data = tmp_path / "data"
    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir), precision="int8"))
    kb.ingest([folder], progress=False)
    assert kb.stats()["embedding_precision"] == "int8"
    kb.close()

    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir)))  # unset: follows the knowledge base
    assert kb.embedder.precision == "int8" and kb.search("最低生活保障 申请", k=1)
    kb.close()
    with pytest.raises(ModelMismatchError, match="int8 精度计算"):
        KnowledgeBase(Config.load(data, model=str(minilm_dir), precision="fp32"))

    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir), precision="fp32"), check_model=False)
    assert kb.reembed(progress=False) > 0  # kb reembed: the way to change it
    kb.close()
    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir)))
    assert kb.stats()["embedding_precision"] == "fp32" and kb.embedder.precision == "fp32"
    kb.close()


def test_smoothing_keeps_the_default_model_close_to_fp32_and_is_measured_once(tmp_path, e5_models_dir, monkeypatch):
    """int8 moves activation outliers into the weights (kb.int8): measured once per model folder on
    the shipped calibration passages, stored beside the models, and worth most of int8's error."""
    import torch

    from kb.models import int8

    texts = [line for line in (REGULATIONS / "社会救助暂行办法(2019-03-02).md").read_text(encoding="utf-8")
             .splitlines() if line.startswith("第")][:40]
    import shutil

    shutil.rmtree(e5_models_dir / "int8", ignore_errors=True)  # measured by this test, not an earlier one
    fp32 = Embedder(Config.load(tmp_path, model_dir=e5_models_dir, precision="fp32"))
    smoothed = Embedder(Config.load(tmp_path, model_dir=e5_models_dir, precision="int8"))
    stored = list((e5_models_dir / "int8").glob("*.safetensors"))
    assert stored, "the activation ranges are kept beside the models"
    plain = Embedder(Config.load(tmp_path, model_dir=e5_models_dir, precision="fp32"))
    int8.quantise(plain.model)  # what torch's dynamic quantisation alone gives
    reference = fp32.encode_passages(texts)
    worst = {name: float((reference * e.encode_passages(texts)).sum(axis=1).min())
             for name, e in (("smoothed", smoothed), ("plain", plain))}
    assert worst["smoothed"] > 0.99 and worst["smoothed"] > worst["plain"], worst
    adapter = [m for name, m in smoothed.model.named_modules() if name.endswith("query.0.linear")]
    assert adapter and type(adapter[0]) is torch.nn.Linear  # the query adapter stays in float

    def measured_again(*_args):
        raise AssertionError("the stored ranges should have been used")

    monkeypatch.setattr(int8, "activation_ranges", measured_again)
    again = Embedder(Config.load(tmp_path, model_dir=e5_models_dir, precision="int8"))
    assert np.allclose(again.encode_passages(texts[:3]), smoothed.encode_passages(texts[:3]), atol=1e-5)


def test_a_damaged_calibration_file_is_measured_again(tmp_path, minilm_dir):
    from kb.models import int8

    config = Config.load(tmp_path, model=str(minilm_dir), precision="int8")
    first = Embedder(config)
    (stored,) = (tmp_path / "models" / "int8").glob("*.safetensors")
    stored.write_bytes(b"not a safetensors file")
    second = Embedder(config)
    assert int8.load_ranges(stored, None, None)  # rewritten whole
    assert np.allclose(first.encode_passages(TEXTS), second.encode_passages(TEXTS), atol=1e-5)


def test_a_new_knowledge_base_on_cpu_embeds_at_int8(tmp_path, minilm_dir, monkeypatch):
    monkeypatch.delenv("STUDYKB_PRECISION", raising=False)  # the suite pins fp32 (conftest)
    folder = copy_files(tmp_path / "docs", REGULATIONS / "社会救助暂行办法(2019-03-02).md")
    kb = KnowledgeBase(Config.load(tmp_path / "data", model=str(minilm_dir), device="cpu"))
    kb.ingest([folder], progress=False)
    assert kb.embedder.precision == "int8" and kb.stats()["embedding_precision"] == "int8"
    kb.close()
