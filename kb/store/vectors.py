"""The FAISS index on disk, keyed by chunk id.

The embeddings themselves live in SQLite; this file is a derived copy for fast search.
Its name carries the store's generation (`vectors-<n>.faiss`): a new file is written
under a temporary name and renamed into place before the store commits that
generation, so after any crash the store names a complete file or the index is
rebuilt from SQLite.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import faiss
import numpy as np

_FILE = re.compile(r"^vectors-(\d+)\.faiss(\.tmp)?$")


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None):
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return self.index.ntotal

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int] | np.ndarray) -> None:
        if len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        if self.index.ntotal == 0 or k <= 0:
            return []
        params = None
        if allowed_ids is not None:
            if len(allowed_ids) == 0:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64)))
        scores, ids = self.index.search(np.asarray(query, dtype=np.float32).reshape(1, -1),
                                        min(k, self.index.ntotal), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    # ------------------------------------------------------------------ disk
    @staticmethod
    def file_for(folder: Path, generation: int) -> Path:
        return folder / f"vectors-{generation}.faiss"

    def save(self, folder: Path, generation: int) -> Path:
        """Write atomically: temporary file, fsync, rename. Older generations are removed
        only by `prune`, after the store has committed the new one."""
        folder.mkdir(parents=True, exist_ok=True)
        final = self.file_for(folder, generation)
        tmp = final.with_suffix(".faiss.tmp")
        faiss.write_index(self.index, str(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        return final

    @classmethod
    def load(cls, folder: Path, generation: int, dim: int) -> VectorIndex | None:
        path = cls.file_for(folder, generation)
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            return None
        if index.d != dim:
            return None
        return cls(dim, index)

    @staticmethod
    def prune(folder: Path, keep: int) -> None:
        """Removes the files (and left-over temporary files) of generations before `keep`. It runs
        after the commit, outside the write lock: a later generation's file, or the temporary file of
        a writer that took the lock since, belongs to another process and stays."""
        if not folder.exists():
            return
        for path in folder.iterdir():
            m = _FILE.match(path.name)
            if m and int(m.group(1)) < keep:
                path.unlink(missing_ok=True)
