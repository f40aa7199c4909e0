"""An embedding cache on disk, keyed by what the model is and the exact text, so that
re-running the benchmark (after changing ranking, not what is embedded) does not re-embed
65k articles. The key covers the model's content (Embedder.identity: the model folder's
files, the conversion that wrote them, the precision), never just its name: another model
at the same path, another precision or an adapter cannot be handed these vectors."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import numpy as np

from kb.models.embed import PASSAGE_GROUP, Embedder


class CachedEmbedder:
    """Wraps an Embedder; the same interface the knowledge base uses."""

    def __init__(self, embedder: Embedder, path: Path):
        self.inner = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self.adapter, self.precision, self.source = embedder.adapter, embedder.precision, embedder.source
        self._identity = embedder.identity()
        # passages key on what passage vectors depend on: an adapter added later reuses them
        self._prefix = {"query": json.dumps(self._identity, sort_keys=True),
                        "passage": json.dumps(embedder.identity("passage"), sort_keys=True)}
        self._prefix["base-query"] = self._prefix["passage"]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, check_same_thread=False)  # queries are embedded on a worker thread
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS vectors(key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        self.hits = self.misses = 0

    def _key(self, kind: str, text: str) -> bytes:
        # a base model's query vectors were stored as kind "query" under the passage identity
        prefix, stored_kind = self._prefix[kind], "query" if kind == "base-query" else kind
        return hashlib.sha256(f"{prefix}\0{stored_kind}\0{text}".encode()).digest()

    def identity(self, side: str = "query") -> dict:
        return self._identity if side == "query" else self.inner.identity(side)

    def _lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            marks = ",".join("?" * len(part))
            rows = self.conn.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part)
            found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return found

    def _store(self, keys: list[bytes], vectors: np.ndarray) -> None:
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                  [(k, v.astype(np.float32).tobytes()) for k, v in zip(keys, vectors)])

    def encode_passages(self, texts: list[str], progress=None) -> np.ndarray:
        keys = [self._key("passage", t) for t in texts]
        found = self._lookup(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if progress and len(texts) - len(missing):
            progress(len(texts) - len(missing))
        # Embed and store in slices, so that a run killed half-way keeps what it embedded.
        step = PASSAGE_GROUP
        for start in range(0, len(missing), step):
            part = missing[start:start + step]
            vectors = self.inner.encode_passages([texts[i] for i in part], progress=progress)
            self._store([keys[i] for i in part], vectors)
            found.update({keys[i]: v for i, v in zip(part, vectors)})
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)

    def encode_query(self, text: str, adapted: bool = True) -> np.ndarray:
        key = self._key("query" if adapted else "base-query", text)
        found = self._lookup([key])
        if key in found:
            return found[key]
        vector = self.inner.encode_query(text, adapted=adapted)
        self._store([key], vector[None, :])
        return vector
