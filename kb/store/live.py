"""The vector index in memory, following the store's generation.

Another process may commit at any time: each read compares the generation the index was loaded
at with the store's (one SELECT) and reloads when they differ. Every change goes through
`writing()`, the one commit path: inside the store's write lock it hands out the current index
and the next generation, writes the new FAISS file before the store commits, and drops the
in-memory copy when anything fails, so it never holds uncommitted vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.store.db import Store
from kb.store.vectors import VectorIndex


class LiveVectors:
    def __init__(self, store: Store, folder: Path, on_reload: Callable[[], None] | None = None):
        """`on_reload` runs when another process's commit is seen (the caller refreshes what it
        derives from the store: its title words, its model check)."""
        self.store = store
        self.folder = folder
        self.on_reload = on_reload
        self._index: VectorIndex | None = None
        self._generation = -1  # the store's generation the index in memory was read at

    @property
    def generation(self) -> int:
        return int(self.store.get_meta("vector_generation") or 0)

    def current(self) -> VectorIndex:
        if self._index is not None and self.generation != self._generation:
            self._index = None  # another process committed: read its index
            if self.on_reload:
                self.on_reload()
        if self._index is None:
            dim = int(self.store.get_meta("embedding_dim") or 0)
            generation = self.generation  # once: the file and the number must agree
            index = VectorIndex.load(self.folder, generation, dim) if dim else None
            if index is None or len(index) != self.store.chunk_count():
                index = self._rebuild(dim, generation)
            self._index, self._generation = index, generation
        return self._index

    def _rebuild(self, dim: int, generation: int) -> VectorIndex:
        """Rebuild the FAISS file from the embeddings in SQLite (missing, stale or damaged file)."""
        ids, vectors = self.store.embeddings()
        index = VectorIndex(vectors.shape[1] if len(ids) else (dim or 1))
        index.add(ids, vectors)
        if len(ids):
            index.save(self.folder, generation)
        return index

    @contextmanager
    def writing(self, dim: int | None = None, replace_with: VectorIndex | None = None) -> Iterator[VectorIndex]:
        """One transaction: yields the index to change (read inside the write lock: another process
        may have committed while this one waited). `dim`: the new vectors' size, which an empty
        index takes; `replace_with`: a whole new index (re-embedding). On success the new
        generation's file is in place before the store commits, and older files go after."""
        try:
            with self.store.transaction():
                index = replace_with or self.current()
                if dim and len(index) == 0 and index.dim != dim:
                    index = VectorIndex(dim)
                self._index = index
                generation = self.generation + 1
                yield index
                self.store.set_meta("vector_generation", str(generation))
                index.save(self.folder, generation)
        except BaseException:
            self._index = None  # the in-memory index may hold uncommitted changes
            raise
        self._generation = generation
        VectorIndex.prune(self.folder, generation)
