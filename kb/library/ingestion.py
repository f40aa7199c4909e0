"""Reading files into the store: what is new, changed, moved, duplicated or unreadable; embedding
in batches with commits along the way; the one write path (trash, moves, relabels, new documents);
restoring and re-embedding. The upload workflow built on it is kb.library.uploads."""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from ingest import Chunk, Document, ReadError, content_hash, find_files, load_document, scan
from ingest.ocr import LOW_CONFIDENCE
from kb.language.places import jurisdiction_of
from kb.language.query import normalise_title
from kb.store.db import text_hash
from kb.store.vectors import VectorIndex

if TYPE_CHECKING:
    from kb.library.knowledge_base import KnowledgeBase

SAME_TEXT = 0.8  # a file sharing this much of its text with a stored document is another copy or version of it
SHINGLE = 12  # characters per piece of text compared
TRASH_REASONS = {"deleted": "删除", "pruned": "清理（文件已不存在）", "replaced": "被新上传的文件替换",
                 "edited": "文件修改前的版本"}


def default_actor() -> str:
    """Who changes the library when no one signed in: this machine's user."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (some containers)
        return "本机用户"


def text_overlap(new: str, stored: str) -> float:
    """The share of `new`'s text (in pieces of SHINGLE characters, whitespace ignored) found in `stored`."""
    a, b = "".join(new.split()), "".join(stored.split())
    pieces = [a[i:i + SHINGLE] for i in range(0, max(len(a) - SHINGLE + 1, 1), SHINGLE)]
    have = {b[i:i + SHINGLE] for i in range(max(len(b) - SHINGLE + 1, 1))}
    return sum(p in have for p in pieces) / len(pieces) if a else 0.0


def same_text(a: str, b: str) -> bool:
    """Most of each text is in the other: a chapter excerpt or a notice quoting a law is not the law."""
    return min(text_overlap(a, b), text_overlap(b, a)) >= SAME_TEXT


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, title already stored)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    removed: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old path, new path): the same content
    relabelled: list[str] = field(default_factory=list)  # unchanged files whose manifest metadata changed
    prune_refused: list[str] = field(default_factory=list)  # what --prune would have removed, had it been allowed
    notes: list[str] = field(default_factory=list)  # why pruning did less than asked
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0


@dataclass
class _Pending:
    doc: Document
    chunks: list[Chunk]
    replaces: int | None
    vectors: np.ndarray | None = None
    terms: list[str] | None = None


# what a manifest may change of an unchanged file without reading it again: not its title or type,
# which its chunks and keyword entries depend on
RELABELLED = ("issuer", "doc_number", "date", "published", "effective", "speaker", "jurisdiction", "status",
              "repealed")


class Ingestion:
    """Ingestion into one knowledge base: reading, embedding and the one write path."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        # path → what similar_documents read: the document and its chunks, or (digest, its ReadError)
        self._read: dict[str, tuple[Document, list[Chunk]] | tuple[str, ReadError]] = {}

    def _already_read(self, path: Path, digest: str) -> tuple[Document, list[Chunk]] | None:
        """What similar_documents read of this file, while its content is the same (taken once).
        Raises the ReadError it met: a file that failed, perhaps after minutes of OCR, fails once."""
        found = self._read.pop(str(path.resolve()), None)
        if found and isinstance(found[1], ReadError):
            if found[0] == digest:
                raise found[1]
            return None
        return found if found and found[0].content_hash == digest else None

    def ingest(self, paths: list[Path | str], prune: bool = False, progress: bool = True,
               overrides: dict | None = None, on_progress: Callable[[int, int], None] | None = None,
               prune_all: bool = False, actor: str = "") -> IngestReport:
        """Add or update files (unchanged ones are skipped by content hash; a moved or renamed file keeps
        its document under its new path). Work is committed every `config.commit_seconds`, also while
        one long document is embedded: a run killed half-way keeps what was committed, and a re-run
        completes it. Each file has `config.file_seconds`: one that takes longer fails alone.
        `prune` removes the documents of files gone from the folders named, to the trash; more than
        `config.prune_max_share` of the library only with `prune_all`, and nothing under a folder that
        is missing or holds no files. `on_progress(done, total)` reports embedded chunks (for the app)."""
        started = time.perf_counter()
        report = IngestReport()
        paths = [Path(p) for p in paths]
        actor = actor or default_actor()
        moves: list[tuple[int, str, str]] = []
        edited: list[tuple[int, str]] = []
        relabels: list[tuple[int, str, dict]] = []
        pending = self._read_files(paths, overrides or {}, report, progress, moves, edited, relabels)
        total = sum(len(p.chunks) for p in pending)
        done = 0
        bar = tqdm(total=total, desc="向量化", unit="段", disable=not progress or not total, leave=False)
        batch: list[_Pending] = []
        last_commit = time.perf_counter()

        def commit_if_due() -> None:
            nonlocal last_commit
            if batch and time.perf_counter() - last_commit >= self.kb.config.commit_seconds:
                self.write(batch, [], report, actor)
                batch.clear()
                last_commit = time.perf_counter()

        for item in pending:
            t0 = time.perf_counter()
            limits = self.kb.config.limits.start()

            def step(n: int, limits=limits, path=item.doc.path) -> None:
                bar.update(n)  # after each group of passages: commit what is ready, watch the time
                commit_if_due()
                limits.check_time(path)

            try:
                item.vectors = self.kb.embedder.encode_passages([c.text for c in item.chunks], progress=step)
            except ReadError as exc:
                report.failed.append((item.doc.path, exc.reason))
                continue
            finally:
                report.embed_seconds += time.perf_counter() - t0
            item.terms = [self.terms(item.doc.title, c.heading_path, c.text) for c in item.chunks]
            batch.append(item)
            done += len(item.chunks)
            if on_progress:
                on_progress(done, total)
            commit_if_due()
        bar.close()
        removals = [(doc_id, path, "edited") for doc_id, path in edited]
        if prune:
            gone = self._gone(paths, report, exclude={doc_id for doc_id, _, _ in moves})
            # one file deleted from disk is the everyday case; more than the share looks like a mistake
            if len(gone) > max(1.0, self.kb.config.prune_max_share * len(self.kb.documents())) and not prune_all:
                report.prune_refused = [path for _, path in gone]
            else:
                removals += [(doc_id, path, "pruned") for doc_id, path in gone]
        self.write(batch, removals, report, actor, moves, relabels)
        report.seconds = time.perf_counter() - started
        return report

    def _read_files(self, paths: list[Path], overrides: dict, report: IngestReport, progress: bool,
                    moves: list[tuple[int, str, str]], edited: list[tuple[int, str]],
                    relabels: list[tuple[int, str, dict]]) -> list[_Pending]:
        """Reads what is new or changed; records what is unchanged, moved, duplicated or unreadable.
        A file whose content is stored under a path that no longer exists was moved or renamed
        (`moves`: id, new path, hash); a file edited to another stored document's content leaves its
        old version to the trash (`edited`); an unchanged file whose manifest now declares other
        metadata keeps its chunks and vectors and takes the new metadata (`relabels`: id, path, changes)."""
        claimed: dict[str, str] = {}  # content or text hash → title, within this run
        replaces: dict[str, int] = {}  # file → the id of its stored older version

        def wanted(path: Path, digest: str, declared: dict) -> bool:
            here = str(path.resolve())
            existing = self.kb.store.document_by_path(here)
            if existing and existing.content_hash == digest:
                report.unchanged.append(str(path))
                changes = self._relabelling(existing, declared, path, report)
                if changes:
                    relabels.append((existing.id, str(path), changes))
                    report.relabelled.append(str(path))
                return False
            same = self.kb.store.document_by_hash(digest)
            if same and same.path != here:
                if not Path(same.path).exists() and not any(m[0] == same.id for m in moves):
                    moves.append((same.id, here, digest))
                    report.moved.append((same.path, str(path)))
                else:
                    report.duplicates.append((str(path), same.title))
                if existing:  # this file now holds another document's content: its old text goes
                    edited.append((existing.id, existing.path))
                return False
            if digest in claimed:
                report.duplicates.append((str(path), claimed[digest]))
                return False
            if existing:
                replaces[str(path)] = existing.id
            return True

        pending: list[_Pending] = []
        scanned = scan(paths, self.kb.config.chunk_sizes, overrides, wanted, self.kb.config.limits,
                       reuse=self._already_read)
        for item in tqdm(scanned, desc="读取", unit="个", disable=not progress, leave=False):
            if item.error:
                report.failed.append((item.error.path, item.error.reason))
                continue
            doc = item.document
            # the same text from another file (one law saved as UTF-8 and as GBK) is one document
            same = self.kb.store.document_by_text(doc.text)
            if same and same.path != doc.path and same.id != replaces.get(item.path):
                report.duplicates.append((item.path, same.title))
                continue
            if text_hash(doc.text) in claimed:
                report.duplicates.append((item.path, claimed[text_hash(doc.text)]))
                continue
            try:
                doc.jurisdiction = jurisdiction_of(doc.title, doc.issuer, str(doc.jurisdiction or "")).code
            except ValueError as exc:  # a manifest declares a place that does not exist
                report.failed.append((item.path, str(exc)))
                continue
            low = [f"第{n}页（{c:.2f}）" for n, c in sorted(doc.ocr_pages.items()) if c < LOW_CONFIDENCE]
            if low:
                report.notes.append(f"{item.path}：文字识别置信度较低，请核对原件：{'、'.join(low)}")
            claimed[item.digest] = claimed[text_hash(doc.text)] = doc.title
            self.kb.words.add([normalise_title(doc.title)])
            pending.append(_Pending(doc, item.chunks, replaces.get(item.path)))
        return pending

    def _relabelling(self, stored: Document, declared: dict, path: Path, report: IngestReport) -> dict:
        """What a manifest now declares differently of an unchanged file, among the metadata that
        neither its chunks nor its keyword entries depend on (RELABELLED)."""
        changes = {k: v for k, v in declared.items() if k in RELABELLED and getattr(stored, k) != v}
        if "jurisdiction" in changes or "issuer" in changes:  # where it applies follows the issuer, as on ingest
            try:
                code = jurisdiction_of(stored.title, changes.get("issuer", stored.issuer),
                                       str(declared.get("jurisdiction", ""))).code
            except ValueError as exc:  # a manifest declares a place that does not exist
                report.failed.append((str(path), str(exc)))
                return {}
            changes.pop("jurisdiction", None)
            if code != stored.jurisdiction:
                changes["jurisdiction"] = code
        return changes

    def similar_documents(self, path: Path | str) -> list[dict]:
        """Stored documents a file seems to be another copy or version of: the same title and date,
        or most of the same text (the .md and the .docx of one law). Not the file's own earlier
        version at the same path, nor an identical file (ingest skips those). Raises ReadError."""
        path = Path(path)
        try:  # hashed first: a file changed after it was read must not take the reading's result
            digest = content_hash(path)
        except OSError as exc:
            raise ReadError(path, f"无法读取文件（{exc.strerror or exc}）") from exc
        try:
            doc, chunks = load_document(path, sizes=self.kb.config.chunk_sizes, digest=digest,
                                        limits=self.kb.config.limits.start())
        except ReadError as exc:
            self._read[str(path.resolve())] = (digest, exc)
            raise
        self._read[str(path.resolve())] = (doc, chunks)  # an upload is read (and OCR'd) once: ingest reuses it
        lines = sorted((line.strip() for line in doc.text.split("\n")), key=len, reverse=True)[:3]
        candidates: set[int] = set()  # documents holding one of its longest lines: only these are compared
        for line in lines:
            if len(line) >= SHINGLE:
                candidates |= {row["doc_id"] for row in self.kb.store.chunks(
                    self.kb.store.phrase_chunk_ids([line[:40]], limit=50)).values()}
        title = normalise_title(doc.title)
        found = []
        for d in self.kb.documents():
            if d["path"] == doc.path or d["content_hash"] == doc.content_hash:
                continue
            same_name = normalise_title(d["title"]) == title and d["date"] == doc.date
            if same_name or (d["id"] in candidates and same_text(doc.text, self.kb.document(d["id"]).text)):
                found.append(d)
        return found

    def _gone(self, paths: list[Path], report: IngestReport, exclude: set[int]) -> list[tuple[int, str]]:
        """Stored documents whose files are gone from the folders named. A folder that is missing or
        holds no supported file prunes nothing: more likely a moved corpus or an unmounted drive than
        a library emptied on purpose."""
        roots = []
        for folder in paths:
            if not folder.is_dir():
                if not folder.exists():
                    report.notes.append(f"{folder} 不存在，未按它清理")
                continue
            if not find_files([folder])[0]:
                report.notes.append(f"{folder} 中没有可入库的文件，未按它清理（若确要清空，请用 kb rm 逐个删除）")
                continue
            roots.append(str(folder.resolve()))
        return [(d["id"], d["path"]) for d in self.kb.store.documents()
                if d["id"] not in exclude and any(d["path"].startswith(r + "/") for r in roots)
                and not Path(d["path"]).exists()]

    def write(self, batch: list[_Pending], removals: list[tuple[int, str, str]], report: IngestReport,
                actor: str = "", moves: list[tuple[int, str, str]] | None = None,
                relabels: list[tuple[int, str, dict]] | None = None) -> None:
        """One SQLite transaction; the new FAISS file is in place before it commits. Removed and
        replaced documents go to the trash (`removals`: id, path, reason)."""
        moves, relabels = moves or [], relabels or []
        if not batch and not removals and not moves and not relabels:
            return
        actor = actor or default_actor()
        dim = batch[0].vectors.shape[1] if batch else None
        store = self.kb.store
        with self.kb.live.writing(dim) as vectors:
            for doc_id, path, reason in removals:  # before moves: a file may be moved onto a stored one's path
                vectors.remove(store.remove_document(doc_id, reason))
                store.log(actor, TRASH_REASONS[reason], f"{doc_id} {path}")
                if reason != "edited":
                    report.removed.append(path)
            for doc_id, path, new_hash in moves:
                store.move_document(doc_id, path, new_hash)
                store.log(actor, "移动", f"{doc_id} → {path}")
            for doc_id, path, changes in relabels:
                store.set_metadata(doc_id, changes)
                what = "，".join(f"{k}={v}" for k, v in changes.items())
                store.log(actor, "修改信息", f"{doc_id} {path}：{what}")
            for item in batch:
                if item.replaces is not None:
                    vectors.remove(store.remove_document(item.replaces, "edited"))
                store.add_document(item.doc, item.chunks, item.vectors, item.terms)
                vectors.add(np.array([c.id for c in item.chunks], dtype=np.int64), item.vectors)
                (report.replaced if item.replaces is not None else report.added).append(item.doc.path)
                store.log(actor, "更新" if item.replaces is not None else "新增", f"{item.doc.id} {item.doc.path}")
                report.chunks += len(item.chunks)
            if batch:
                store.set_meta("glossary_vocabulary", self.kb.vocabulary)
                store.set_meta("embedding_model", self.kb.passage_model)
                store.set_meta("embedding_dim", str(dim))
                store.set_meta("embedding_precision", self.kb.embedder.precision)
            purged = store.empty_trash(self.kb.config.trash_days)
            for path in purged:  # gone for good: the trash kept them trash_days
                store.log(actor, "清空回收站", path)
        self.kb.discard_uploads(purged)  # an uploaded original goes when its document leaves the trash

    def terms(self, title: str, heading_path: list[str], text: str) -> str:
        """A chunk's words in the keyword index: its document's title, its heading path and its text."""
        return " ".join(self.kb.words(" ".join([title, *heading_path, text])))

    def restore(self, doc_id: int, actor: str = "") -> str:
        """Puts a trashed document back, with its id, chunks and vectors (recomputed when the model
        changed since). Returns its title. Raises StoreError (not in the trash, or its file or
        content is stored again)."""
        store = self.kb.store
        with self.kb.live.writing() as vectors:
            ids, embeddings, model = store.restore_document(doc_id)
            if ids and (model != self.kb.passage_model or embeddings.shape[1] != vectors.dim):
                texts = dict(store.chunk_texts_of(ids))
                embeddings = self.kb.embedder.encode_passages([texts[i] for i in ids])
                store.set_embeddings(ids, embeddings)
            vectors.add(np.array(ids, dtype=np.int64), embeddings)
            # its keyword terms cut again, as the glossary cuts them now
            rows = store.chunks(ids)
            store.set_terms([(i, self.terms(r["title"], json.loads(r["heading_path"]), r["text"]))
                             for i, r in rows.items()])
            restored = store.document(doc_id)
            store.log(actor or default_actor(), "恢复", f"{doc_id} {restored.path}")  # as removals are logged
        self.kb.words.add([normalise_title(restored.title)])
        return restored.title

    def reembed(self, progress: bool = True) -> int:
        """Re-embed every stored chunk with the configured model (after changing models)."""
        ids, texts = [], []
        for chunk_id, text in self.kb.store.chunk_texts():
            ids.append(chunk_id)
            texts.append(text)
        bar = tqdm(total=len(texts), desc="重建向量", unit="段", disable=not progress, leave=False)
        embedder = self.kb.embedder
        vectors = embedder.encode_passages(texts, progress=bar.update)
        bar.close()
        index = VectorIndex(embedder.dim)
        index.add(np.array(ids, dtype=np.int64), vectors)
        store = self.kb.store
        with self.kb.live.writing(replace_with=index):
            # embedding ran outside the write lock (minutes): another process may have added or removed
            # chunks since. Inside it, the index is made to match the library as it is now.
            now = dict(store.chunk_texts())
            embedded = set(ids)
            gone = [i for i in ids if i not in now]
            index.remove(gone)
            added = [i for i in now if i not in embedded]
            added_vectors = embedder.encode_passages([now[i] for i in added]) if added else vectors[:0]
            index.add(np.array(added, dtype=np.int64), added_vectors)
            keep = [n for n, i in enumerate(ids) if i in now]
            ids, vectors = [ids[n] for n in keep] + added, np.concatenate([vectors[keep], added_vectors])
            store.set_embeddings(ids, vectors)
            store.set_meta("embedding_model", self.kb.passage_model)
            store.set_meta("embedding_dim", str(embedder.dim))
            store.set_meta("embedding_precision", embedder.precision)
        return len(ids)
