"""A query-side adapter for an embedding model, learned from question → article pairs.

The adapter is a linear map W on the query vector (then normalised): documents keep the vectors
they were stored with, so nothing is re-embedded. Trained with a softmax over every stored chunk
vector (the right article's chunks against all others), starting from the identity and pulled
back towards it, so that with few questions it stays close to the model it adapts.

Saved as a standard sentence-transformers folder: the base model's files (hard-linked where the
disk allows) with a Router at the end whose "query" route is Dense(W) + Normalize and whose
"document" route is empty. Any sentence-transformers code loads it; `studykb_adapter.json` names
the base model, so a knowledge base built with the base model accepts it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.errors import ModelError

ADAPTER_FILE = "studykb_adapter.json"
ROUTER_DIR = "3_Router"


@dataclass
class AdapterSettings:
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    scale: float = 50.0  # inverse temperature of the softmax over cosine similarities
    identity_weight: float = 1.0  # pull towards where training started (W = I, or the adapter in use)
    seed: int = 0


def train_adapter(queries: np.ndarray, positives: list[list[int]], passages: np.ndarray,
                  settings: AdapterSettings | None = None, start: np.ndarray | None = None) -> np.ndarray:
    """W (d × d) such that normalise(W q) ranks each question's positive passages (row indices
    into `passages`) above the rest. `queries` are the base model's normalised query vectors.
    Starts from `start` (an adapter already in use, so a few local questions refine it rather
    than replace it) or the identity, and is pulled back towards where it started."""
    import torch

    s = settings or AdapterSettings()
    torch.manual_seed(s.seed)
    keep = [i for i, p in enumerate(positives) if p]
    dim = queries.shape[1]
    q_all = torch.from_numpy(np.ascontiguousarray(queries[keep], dtype=np.float32))
    p_all = torch.from_numpy(np.ascontiguousarray(passages, dtype=np.float32))
    pos = [torch.tensor(positives[i], dtype=torch.long) for i in keep]
    origin = torch.eye(dim) if start is None else torch.from_numpy(np.array(start, dtype=np.float32))
    weight = torch.nn.Parameter(origin.clone())
    optimiser = torch.optim.Adam([weight], lr=s.learning_rate)
    generator = torch.Generator().manual_seed(s.seed)
    for _ in range(s.epochs):
        order = torch.randperm(len(keep), generator=generator)
        for start in range(0, len(keep), s.batch_size):
            rows = order[start:start + s.batch_size]
            adapted = torch.nn.functional.normalize(q_all[rows] @ weight.T, dim=1)
            logits = s.scale * adapted @ p_all.T
            total = torch.logsumexp(logits, dim=1)
            wanted = torch.stack([torch.logsumexp(logits[j, pos[int(r)]], dim=0) for j, r in enumerate(rows)])
            loss = (total - wanted).mean() + s.identity_weight * ((weight - origin) ** 2).sum() / dim
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return weight.detach().numpy().astype(np.float32)


def adapt(vectors: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """What the saved model's query route does to base query vectors: W q, normalised."""
    out = np.atleast_2d(vectors) @ weight.T
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def save_adapted_model(base_folder: Path, base_name: str, weight: np.ndarray, dest: Path,
                       about: dict | None = None) -> Path:
    """Writes the base model plus the query adapter to `dest` as a sentence-transformers folder
    (written beside and renamed into place, so a half-written folder is never loaded)."""
    import torch
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Router

    base_folder, dest = Path(base_folder), Path(dest)
    base, target = base_folder.resolve(), dest.resolve()
    if base == target or base in target.parents or target in base.parents:
        raise ModelError(dest, f"输出位置与基础模型 {base_folder} 重叠，会覆盖基础模型；请换一个输出文件夹")
    try:
        modules = json.loads((base_folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(base_folder, f"不是本地的 sentence-transformers 模型文件夹（{exc}）") from exc
    if any(m["type"].endswith("Router") for m in modules):
        raise ModelError(base_folder, "已经带有路由（Router），请对它的基础模型训练")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))  # one per writer
    for path in base_folder.rglob("*"):
        target = tmp / path.relative_to(base_folder)
        if path.is_dir():
            target.mkdir(exist_ok=True)
            continue
        if path.name == ADAPTER_FILE:
            continue
        try:
            os.link(path, target)  # the same bytes: 470 MB of weights are not copied
        except OSError:
            shutil.copy2(path, target)
    (tmp / "modules.json").unlink()
    dim = weight.shape[0]
    dense = Dense(dim, dim, bias=False, activation_function=torch.nn.Identity())
    with torch.no_grad():
        dense.linear.weight.copy_(torch.from_numpy(weight))
    router = Router({"query": [dense, Normalize()], "document": []}, default_route="document")
    router.save(str(tmp / ROUTER_DIR))
    modules.append({"idx": len(modules), "name": str(len(modules)), "path": ROUTER_DIR,
                    "type": "sentence_transformers.base.modules.router.Router"})
    (tmp / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
    (tmp / ADAPTER_FILE).write_text(json.dumps(
        {"base": base_name, "base_modules": (base_folder / "modules.json").read_text(encoding="utf-8"),
         **(about or {})}, ensure_ascii=False, indent=2), encoding="utf-8")
    if dest.exists():
        old = dest.with_name(dest.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(dest)
    return dest


def adapter_info(folder: Path | str) -> dict | None:
    """The adapter's record (base model name, ...) if `folder` is an adapted model, else None."""
    path = Path(folder) / ADAPTER_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_adapter_weight(folder: Path | str) -> np.ndarray:
    """W as saved in an adapted model's query route."""
    from safetensors.numpy import load_file

    dense = next((Path(folder) / ROUTER_DIR).glob("query_*_Dense"))
    tensors = load_file(str(dense / "model.safetensors"))
    return next(v for k, v in tensors.items() if k.endswith("weight")).astype(np.float32)
