"""The knowledge base: one object over the store, the vector index, the embedder and
the searcher. The CLI and the app are thin layers over these calls."""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ingest import Chunk, Document, ReadError, find_files, load_document, scan
from ingest.ocr import LOW_CONFIDENCE
from kb.answer import Answer, compose
from kb.baskets import Basket, BasketItem, add, basket_name
from kb.config import Config
from kb.diff import Article, Change, compare
from kb.embed import FLOAT, Embedder, leave_a_core, passage_model, same_vectors
from kb.errors import BasketError, ConfigError, DocumentNotFound, ModelMismatchError, StoreError
from kb.place import Place, jurisdiction_of, place_by_name
from kb.query import normalise_title, parse_query
from kb.rank import load_ranker
from kb.relevance import load_relevance, states_answer
from kb.search import Searcher
from kb.store import Store, text_hash
from kb.text import Glossary, Words
from kb.types import Filters, Hit
from kb.vectors import VectorIndex

log = logging.getLogger(__name__)
CONTEXT_CHARS = 300  # about this much text each side of a passage, in whole lines
SAME_TEXT = 0.8  # a file sharing this much of its text with a stored document is another copy or version of it
SHINGLE = 12  # characters per piece of text compared


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
class _Versions:
    """What the stored versions of each law say, at one generation of the knowledge base."""

    generation: int
    status: dict[int, str] = field(default_factory=dict)  # document id → VERSION_STATUSES
    repealed_on: dict[int, str] = field(default_factory=dict)  # document id → repealed that day (ISO)
    dates: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # law → (id, date) of each version


@dataclass
class _Pending:
    doc: Document
    chunks: list[Chunk]
    replaces: int | None
    vectors: np.ndarray | None = None
    terms: list[str] | None = None


def home_place(config: Config) -> Place | None:
    """The office's own place (config home_region), checked."""
    if not config.home_region:
        return None
    place = place_by_name(config.home_region)
    if place is None:
        raise ConfigError(f"home_region = {config.home_region}",
                          "无法识别的地名，请写省、市或区县的全称，如“浙江省”“杭州市”")
    return place


# what a manifest may change of an unchanged file without reading it again: not its title or type,
# which its chunks and keyword entries depend on
RELABELLED = ("issuer", "doc_number", "date", "published", "effective", "speaker", "jurisdiction", "status",
              "repealed")
_REPEALED = re.compile(r"《([^《》]{2,60})》(?:（[^）]{0,30}）)?[^。；《]{0,12}?(?:同时|即行|予以)?废止")
TRASH_REASONS = {"deleted": "删除", "pruned": "清理（文件已不存在）", "replaced": "被新上传的文件替换",
                 "edited": "文件修改前的版本"}


def default_actor() -> str:
    """Who changes the library when no one signed in: this machine's user."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (some containers)
        return "本机用户"


class KnowledgeBase:
    def __init__(self, config: Config | None = None, check_model: bool = True, embedder: Embedder | None = None):
        """`embedder`: an already-loaded model (the app shares one; the benchmark wraps it in a cache)."""
        self.config = config or Config.load()
        self.check_model = check_model
        ranker, home = load_ranker(self.config), home_place(self.config)  # checked before anything opens
        self.store = Store(self.config.db_path)
        glossary = Glossary.load(self.config.glossary)
        terms = glossary.terms()
        self._embedder = embedder
        self._dim_checked = False
        self._vectors: VectorIndex | None = None
        self._vectors_generation = -1  # the store's generation the index in memory was read at
        self._versions = _Versions(-1)  # version_statuses and what goes with them, at a generation
        self.passage_model = passage_model(self.config)
        stored = self.store.get_meta("embedding_model")
        if check_model and stored and stored != self.passage_model and self.store.chunk_count():
            raise ModelMismatchError(
                self.config.db_path,
                f"知识库由向量模型“{stored}”（{self.store.get_meta('embedding_dim')} 维）建立，"
                f"当前配置的模型是“{self.passage_model}”。请把配置改回“{stored}”，"
                f"或运行 `kb reembed` 用新模型重建全部向量（原文和元数据保留）。"
            )
        self._follow_precision()
        self.words = Words(terms + [normalise_title(t) for _, t, _ in self.store.titles()])
        # The keyword index was cut with the glossary's terms in jieba's dictionary: another glossary
        # cuts queries differently, so the index is cut again to match.
        self._vocabulary = hashlib.sha256("\n".join(sorted(set(terms))).encode()).hexdigest()
        if self.store.get_meta("glossary_vocabulary") != self._vocabulary and self.store.chunk_count():
            self._retokenize()
        if self.store.get_meta("jurisdictions_pending"):
            self._resolve_jurisdictions()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-query", initializer=leave_a_core)
        c = self.config
        self.searcher = Searcher(self.store, lambda: self.vectors, lambda text: self.embedder.encode_query(text),
                                 glossary, self.words, self._pool, c.keyword_depth, c.dense_depth, c.rrf_k,
                                 c.keyword_weight, c.dense_weight, ranker, home, load_relevance(self.config),
                                 c.keyword_words, c.max_query_chars)

    def _follow_precision(self) -> None:
        """A knowledge base's vectors were computed at one precision; queries and new passages use
        the same. Unset precision follows it; a configured one that does not match is refused
        (int8 and floating-point vectors differ in the third digit)."""
        if not self.store.chunk_count():
            return
        stored = self.store.get_meta("embedding_precision") or "fp32"  # built before precisions were recorded
        wanted = self.config.precision
        if not wanted:
            self.config = replace(self.config, precision="int8" if stored == "int8" else FLOAT)
        elif self.check_model and not same_vectors(stored, wanted):
            raise ModelMismatchError(
                self.config.db_path,
                f"知识库的向量以 {stored} 精度计算，当前配置为 {wanted}。请去掉 precision 设置（自动沿用 {stored}），"
                f"或运行 `kb reembed` 以 {wanted} 重建全部向量。")

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.store.close()

    # ------------------------------------------------------------ components
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder(self.config)
        if not self._dim_checked:
            stored_dim = self.store.get_meta("embedding_dim")
            if (self.check_model and stored_dim and int(stored_dim) != self._embedder.dim
                    and self.store.chunk_count()):
                raise ModelMismatchError(
                    self.config.db_path,
                    f"向量维度不符：知识库为 {stored_dim} 维，模型“{self.config.model}”为 {self._embedder.dim} 维。"
                    "请运行 `kb reembed` 重建向量。")
            self._dim_checked = True
        return self._embedder

    @property
    def vectors_dir(self) -> Path:
        return self.config.data_dir / "vectors"

    @property
    def generation(self) -> int:
        return int(self.store.get_meta("vector_generation") or 0)

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is not None and self.generation != self._vectors_generation:
            self._vectors = None  # another process committed: read its index (one SELECT per search)
            self.words.add([normalise_title(t) for _, t, _ in self.store.titles()])
            stored = self.store.get_meta("embedding_model")
            if self.check_model and stored and stored != self.passage_model:  # another process re-embedded
                raise ModelMismatchError(self.config.db_path, f"另一进程已用模型“{stored}”重建了向量，本进程仍在用"
                                                              f"“{self.passage_model}”：请重新启动")
        if self._vectors is None:
            dim = int(self.store.get_meta("embedding_dim") or 0)
            generation = self.generation  # once: the file and the number must agree
            index = VectorIndex.load(self.vectors_dir, generation, dim) if dim else None
            if index is None or len(index) != self.store.chunk_count():
                index = self._rebuild_vectors(dim)
            self._vectors, self._vectors_generation = index, generation
        return self._vectors

    def _rebuild_vectors(self, dim: int) -> VectorIndex:
        """Rebuild the FAISS file from the embeddings in SQLite (missing, stale or damaged file)."""
        ids, vectors = self.store.embeddings()
        index = VectorIndex(vectors.shape[1] if len(ids) else (dim or 1))
        index.add(ids, vectors)
        if len(ids):
            index.save(self.vectors_dir, self.generation)
        return index

    @property
    def glossary(self) -> Glossary:
        """The one glossary: the searcher's (tuning code may swap it there)."""
        return self.searcher.glossary

    def warm(self) -> None:
        """Load the model, the vector index, jieba's dictionary and the ranker now rather than at the
        first query (each costs up to a second on first use)."""
        self.vectors  # noqa: B018
        self.embedder.encode_query(self.words("预热")[0])
        if self.searcher.ranker is not None:
            self.searcher.ranker.booster  # noqa: B018  (LightGBM loads at first use)

    # ------------------------------------------------------------- ingestion
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
            if batch and time.perf_counter() - last_commit >= self.config.commit_seconds:
                self._commit(batch, [], report, actor)
                batch.clear()
                last_commit = time.perf_counter()

        for item in pending:
            t0 = time.perf_counter()
            limits = self.config.limits.start()

            def step(n: int, limits=limits, path=item.doc.path) -> None:
                bar.update(n)  # after each group of passages: commit what is ready, watch the time
                commit_if_due()
                limits.check_time(path)

            try:
                item.vectors = self.embedder.encode_passages([c.text for c in item.chunks], progress=step)
            except ReadError as exc:
                report.failed.append((item.doc.path, exc.reason))
                continue
            finally:
                report.embed_seconds += time.perf_counter() - t0
            item.terms = [self._terms(item.doc.title, c.heading_path, c.text) for c in item.chunks]
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
            if len(gone) > max(1.0, self.config.prune_max_share * len(self.documents())) and not prune_all:
                report.prune_refused = [path for _, path in gone]
            else:
                removals += [(doc_id, path, "pruned") for doc_id, path in gone]
        self._commit(batch, removals, report, actor, moves, relabels)
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
            existing = self.store.document_by_path(here)
            if existing and existing.content_hash == digest:
                report.unchanged.append(str(path))
                changes = self._relabelling(existing, declared, path, report)
                if changes:
                    relabels.append((existing.id, str(path), changes))
                    report.relabelled.append(str(path))
                return False
            same = self.store.document_by_hash(digest)
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
        scanned = scan(paths, self.config.chunk_sizes, overrides, wanted, self.config.limits)
        for item in tqdm(scanned, desc="读取", unit="个", disable=not progress, leave=False):
            if item.error:
                report.failed.append((item.error.path, item.error.reason))
                continue
            doc = item.document
            # the same text from another file (one law saved as UTF-8 and as GBK) is one document
            same = self.store.document_by_text(doc.text)
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
            self.words.add([normalise_title(doc.title)])
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
        doc, _ = load_document(Path(path), sizes=self.config.chunk_sizes)
        lines = sorted((line.strip() for line in doc.text.split("\n")), key=len, reverse=True)[:3]
        candidates: set[int] = set()  # documents holding one of its longest lines: only these are compared
        for line in lines:
            if len(line) >= SHINGLE:
                candidates |= {row["doc_id"] for row in self.store.chunks(
                    self.store.phrase_chunk_ids([line[:40]], limit=50)).values()}
        title = normalise_title(doc.title)
        found = []
        for d in self.documents():
            if d["path"] == doc.path or d["content_hash"] == doc.content_hash:
                continue
            same_name = normalise_title(d["title"]) == title and d["date"] == doc.date
            if same_name or (d["id"] in candidates and same_text(doc.text, self.document(d["id"]).text)):
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
        return [(d["id"], d["path"]) for d in self.store.documents()
                if d["id"] not in exclude and any(d["path"].startswith(r + "/") for r in roots)
                and not Path(d["path"]).exists()]

    def _commit(self, batch: list[_Pending], removals: list[tuple[int, str, str]], report: IngestReport,
                actor: str = "", moves: list[tuple[int, str, str]] | None = None,
                relabels: list[tuple[int, str, dict]] | None = None) -> None:
        """One SQLite transaction; the new FAISS file is in place before it commits. Removed and
        replaced documents go to the trash (`removals`: id, path, reason)."""
        moves, relabels = moves or [], relabels or []
        if not batch and not removals and not moves and not relabels:
            return
        actor = actor or default_actor()
        dim = batch[0].vectors.shape[1] if batch else None
        try:
            with self.store.transaction():
                # read inside the write lock: another process may have committed while this one waited
                vectors = self.vectors
                if dim and len(vectors) == 0 and vectors.dim != dim:
                    vectors = self._vectors = VectorIndex(dim)
                generation = self.generation + 1
                for doc_id, path, reason in removals:  # before moves: a file may be moved onto a stored one's path
                    vectors.remove(self.store.remove_document(doc_id, reason))
                    self.store.log(actor, TRASH_REASONS[reason], f"{doc_id} {path}")
                    if reason != "edited":
                        report.removed.append(path)
                for doc_id, path, new_hash in moves:
                    self.store.move_document(doc_id, path, new_hash)
                    self.store.log(actor, "移动", f"{doc_id} → {path}")
                for doc_id, path, changes in relabels:
                    self.store.set_metadata(doc_id, changes)
                    what = "，".join(f"{k}={v}" for k, v in changes.items())
                    self.store.log(actor, "修改信息", f"{doc_id} {path}：{what}")
                for item in batch:
                    if item.replaces is not None:
                        vectors.remove(self.store.remove_document(item.replaces, "edited"))
                    self.store.add_document(item.doc, item.chunks, item.vectors, item.terms)
                    vectors.add(np.array([c.id for c in item.chunks], dtype=np.int64), item.vectors)
                    (report.replaced if item.replaces is not None else report.added).append(item.doc.path)
                    self.store.log(actor, "更新" if item.replaces is not None else "新增",
                                   f"{item.doc.id} {item.doc.path}")
                    report.chunks += len(item.chunks)
                if batch:
                    self.store.set_meta("glossary_vocabulary", self._vocabulary)
                    self.store.set_meta("embedding_model", self.passage_model)
                    self.store.set_meta("embedding_dim", str(dim))
                    self.store.set_meta("embedding_precision", self.embedder.precision)
                purged = self.store.empty_trash(self.config.trash_days)
                self.store.set_meta("vector_generation", str(generation))
                vectors.save(self.vectors_dir, generation)
        except BaseException:
            self._vectors = None  # the in-memory index may hold uncommitted changes
            raise
        self._vectors_generation = generation
        VectorIndex.prune(self.vectors_dir, generation)
        self.discard_uploads(purged)  # an uploaded original goes when its document leaves the trash

    def _terms(self, title: str, heading_path: list[str], text: str) -> str:
        """A chunk's words in the keyword index: its document's title, its heading path and its text."""
        return " ".join(self.words(" ".join([title, *heading_path, text])))

    def _resolve_jurisdictions(self) -> None:
        """Where each stored document applies, for a knowledge base built before jurisdictions."""
        codes = {d["id"]: jurisdiction_of(d["title"], d["issuer"]).code for d in self.store.documents()}
        with self.store.transaction():
            self.store.set_jurisdictions(codes)
            self.store.conn.execute("DELETE FROM meta WHERE key = 'jurisdictions_pending'")

    def _retokenize(self) -> None:
        started = time.perf_counter()
        terms = [(cid, self._terms(title, path, text)) for cid, title, path, text in self.store.chunks_for_terms()]
        with self.store.transaction():
            self.store.set_terms(terms)
            self.store.set_meta("glossary_vocabulary", self._vocabulary)
        log.info("术语表已更改，关键词索引已重新分词：%d 个片段，%.1f 秒", len(terms), time.perf_counter() - started)

    # ---------------------------------------------------------------- search
    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        return self.searcher.search(query, k=k, filters=self._in_force(filters), mode=mode)

    def _in_force(self, filters: Filters | None) -> Filters | None:
        """`as_of` made concrete: the documents in force that day (of each law, the newest version dated on
        or before it; a law first dated after it is left out; an undated document always counts), less
        those repealed by then."""
        if not filters or not filters.as_of:
            return filters
        versions = self._versions_now()
        ids = []
        for group in versions.dates.values():
            ids += [doc_id for doc_id, date in group if not date]
            dated = [(date, doc_id) for doc_id, date in group if date and date <= filters.as_of]
            if dated:
                ids.append(max(dated)[1])
        ids = [i for i in ids if not versions.repealed_on.get(i, "9999") <= filters.as_of]
        if filters.doc_ids:
            ids = [i for i in ids if i in set(filters.doc_ids)]
        return replace(filters, doc_ids=ids or [-1], as_of=None)

    def version_statuses(self) -> dict[int, str]:
        """Each document's status among the versions of its law (VERSION_STATUSES): the newest dated
        version is in force, the older ones amended. Repealed (已废止):
        - a document that declares so itself (a manifest's status or repeal date, or 时效性：失效 or
          （已废止） in its header); when it is its law's newest version, every version of the law;
        - the versions older than another stored text that repeals the law (…《城市流浪乞讨人员收容遣送
          办法》同时废止), unless a version declares itself 现行有效 (the manifest's word beats the pattern).
        A version that declares itself 已被修改 is so. 现行有效 otherwise never beats a newer version."""
        return self._versions_now().status

    def _versions_now(self) -> _Versions:
        generation = self.generation  # read first: a commit after it is seen by the next call
        if self._versions.generation == generation:
            return self._versions
        docs = self.store.documents()
        laws: dict[str, list[dict]] = {}
        for d in docs:
            laws.setdefault(normalise_title(d["title"]), []).append(d)
        status: dict[int, str] = {}
        repealed_on: dict[int, str] = {}  # document id → the day it stopped being in force, when known
        for group in laws.values():
            dated = sorted((d for d in group if d["date"]), key=lambda d: d["date"])
            for d in group:
                status[d["id"]] = "已被修改" if d["date"] and d is not dated[-1] else "现行有效"
            if dated and dated[-1]["status"] == "已废止":  # the law itself was repealed
                status.update((d["id"], "已废止") for d in group)
        for doc_id, date, text in self.store.conn.execute(
                "SELECT id, date, text FROM documents WHERE instr(text, '废止') > 0"):
            for match in _REPEALED.finditer(text):
                for d in laws.get(normalise_title(match.group(1)), []):
                    if (d["id"] != doc_id and d["status"] != "现行有效"
                            and (not date or not d["date"] or d["date"] < date)):
                        status[d["id"]] = "已废止"
                        if date and date < repealed_on.get(d["id"], "9999"):
                            repealed_on[d["id"]] = date
        for d in docs:
            if d["status"] in ("已废止", "已被修改"):
                status[d["id"]] = d["status"]
            if d["status"] == "已废止" and d["repealed"]:
                repealed_on[d["id"]] = d["repealed"]
        self._versions = _Versions(generation, status, repealed_on,
                                   {key: [(d["id"], d["date"]) for d in group] for key, group in laws.items()})
        return self._versions

    def other_versions(self, hit: Hit) -> list[str]:
        """The dates of the other stored versions of a hit's law (for a badge: 另有 2016-03-16 版)."""
        dates = self._versions_now().dates
        return sorted(date for doc_id, date in dates.get(normalise_title(hit.citation.title), [])
                      if doc_id != hit.doc_id)

    def search_json(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> dict:
        """A search as the CLI's --json and the HTTP API give it: each hit with whether it passes the
        relevance threshold and where it applies, the time taken, the places put first and the
        glossary terms also searched."""
        started = time.perf_counter()
        hits = self.search(query, k=k, filters=filters, mode=mode)
        ms = (time.perf_counter() - started) * 1000
        return {"query": query, "ms": round(ms, 1),
                "hits": [{**h.to_dict(), "relevant": self.answers(h), "applies_in": h.citation.applies_in(),
                          "status": self.version_statuses().get(h.doc_id, ""),
                          "other_versions": self.other_versions(h)}
                         for h in hits],
                "places": [p.label for p in self.asked_places(query)], "expansions": self.expansions(query)}

    def expansions(self, query: str) -> list[str]:
        """The glossary's formal terms a search also looks for (兜底 → 最低生活保障)."""
        return parse_query(query, self.glossary).expansions

    def asked_places(self, query: str) -> list[Place]:
        """The places whose rules a search puts first: those the question names, else home_region."""
        return self.searcher.asked_places(query)

    def ask(self, question: str, filters: Filters | None = None, max_sources: int = 4) -> Answer:
        """An extractive answer from the passages that pass the relevance threshold and, when the
        question asks for a kind of fact (几点, 多少钱, 几天), state one; found=False when none does."""
        hits = self.search(question, k=max_sources, filters=filters)
        answering = [h for h in hits if self.answers(h)]
        if not any("citation" in h.matched_by or states_answer(question, h.text) for h in answering):
            answering = []
        return compose(question, hits, answering, self.words, parse_query(question, self.glossary).expansions,
                       max_sources)

    def answers(self, hit: Hit) -> bool:
        """Whether a hit passes the relevance threshold (see kb.relevance)."""
        return self.searcher.answers(hit)

    # ---------------------------------------------------------------- library
    def documents(self) -> list[dict]:
        """Every document's metadata (without text), chunk count, and status among its law's
        versions (`version_status`, see version_statuses)."""
        statuses = self.version_statuses()
        return [{**d, "version_status": statuses.get(d["id"], "")} for d in self.store.documents()]

    def find_document(self, ref: str | int) -> dict | None:
        """By id, path, or title (exact, then unique partial match)."""
        docs = self.documents()
        ref_s = str(ref)
        for key in ("id", "path", "title"):
            found = [d for d in docs if str(d[key]) == ref_s]
            if len(found) == 1:
                return found[0]
        partial = [d for d in docs if ref_s in d["title"] or normalise_title(ref_s) == normalise_title(d["title"])]
        return partial[0] if len(partial) == 1 else None

    def document(self, doc_id: int) -> Document:
        """A whole document with its text. Raises DocumentNotFound."""
        doc = self.store.document(doc_id)
        if doc is None:
            raise DocumentNotFound(f"编号 {doc_id}", "没有这个文档")
        return doc

    def context(self, hit: Hit, chars: int = CONTEXT_CHARS) -> tuple[str, str]:
        """The whole lines before and after a passage, about `chars` characters each side."""
        start = max(0, hit.start - chars)
        before = self.store.document_text(hit.doc_id, start, hit.start)
        after = self.store.document_text(hit.doc_id, hit.end, hit.end + chars)
        if start > 0 and "\n" in before:
            before = before.split("\n", 1)[1]
        if len(after) == chars and "\n" in after:
            after = after.rsplit("\n", 1)[0]
        return before.strip(), after.strip()

    def is_empty(self) -> bool:
        return self.store.chunk_count() == 0

    def versions(self, title: str) -> list[dict]:
        """The stored versions of a law (the same normalised title), oldest first."""
        wanted = normalise_title(title)
        return sorted((d for d in self.documents() if normalise_title(d["title"]) == wanted),
                      key=lambda d: (d["date"], d["id"]))

    def compare_versions(self, title: str, date_from: str = "", date_to: str = "") -> tuple[dict, dict, list[Change]]:
        """新旧对照 of two versions of a law: by default the newest and the one before it; a date picks the
        version in force that day (the newest dated on or before it). Raises DocumentNotFound."""
        versions = [v for v in self.versions(title) if v["date"]]
        if len(versions) < 2:
            raise DocumentNotFound(title, f"知识库中只有 {len(versions)} 个注明日期的版本，无法对照"
                                          "（同一法规的不同版本应标题相同、日期不同）")

        def at(day: str, default: dict) -> dict:
            if not day:
                return default
            found = [v for v in versions if v["date"] <= day]
            if not found:
                raise DocumentNotFound(day, f"{day} 时还没有《{versions[0]['title']}》"
                                            f"（最早的版本为 {versions[0]['date']}）")
            return found[-1]

        new = at(date_to, versions[-1])
        old = at(date_from, next((v for v in reversed(versions) if v["date"] < new["date"]), versions[0]))
        if old["id"] == new["id"]:
            raise DocumentNotFound(title, f"两个日期对应同一版本（{old['date']}），请换一个日期")
        return old, new, compare(self._articles(old["id"]), self._articles(new["id"]))

    def _articles(self, doc_id: int) -> list[Article]:
        return [Article(number, self.store.document_text(doc_id, start, end).strip(), heading)
                for number, heading, start, end in self.store.articles(doc_id)]

    def document_named(self, ref: str | int) -> dict:
        """The one document a user means by an id, a path or a title, for changing it: an id only as
        itself (29 never matches 慈善法(2023-12-29)), a title exactly or as normalised, never a part.
        Raises DocumentNotFound, naming the candidates when a title matches several."""
        docs = self.documents()
        ref_s = str(ref).strip()
        if ref_s.isdigit():
            found = [d for d in docs if str(d["id"]) == ref_s]
        else:
            here = str(Path(ref_s).expanduser().resolve())
            found = ([d for d in docs if d["path"] in (ref_s, here)] or [d for d in docs if d["title"] == ref_s]
                     or [d for d in docs if normalise_title(d["title"]) == normalise_title(ref_s)])
        if len(found) == 1:
            return found[0]
        if found:
            listed = "；".join(f"{d['id']}《{d['title']}》{d['date']}" for d in found[:8])
            raise DocumentNotFound(ref_s, f"匹配到 {len(found)} 个文档（{listed}），请用编号指定")
        raise DocumentNotFound(ref_s, "没有这个编号或完全相同标题的文档（用 kb docs 查看编号和标题）")

    def remove(self, doc_id: int, reason: str = "deleted", actor: str = "") -> str:
        """Moves a document, its chunks and vectors to the trash (`kb restore` brings it back). An
        uploaded file (a copy the knowledge base owns) stays on disk until the trash is emptied.
        Returns its title. Raises DocumentNotFound."""
        doc = self.document(doc_id)
        self._commit([], [(doc_id, doc.path, reason)], IngestReport(), actor)
        return doc.title

    def trash(self) -> list[dict]:
        """Deleted and replaced documents, newest first, with why each went (TRASH_REASONS)."""
        return [{**t, "reason_label": TRASH_REASONS.get(t["reason"], t["reason"])} for t in self.store.trash()]

    def restore(self, doc_id: int, actor: str = "") -> str:
        """Puts a trashed document back, with its id, chunks and vectors (recomputed when the model
        changed since). Returns its title. Raises StoreError (not in the trash, or its file or
        content is stored again)."""
        actor = actor or default_actor()
        try:
            with self.store.transaction():
                vectors = self.vectors  # inside the write lock (see _commit)
                generation = self.generation + 1
                ids, embeddings, model = self.store.restore_document(doc_id)
                if ids and (model != self.passage_model or embeddings.shape[1] != vectors.dim):
                    texts = dict(self.store.chunk_texts_of(ids))
                    embeddings = self.embedder.encode_passages([texts[i] for i in ids])
                    self.store.set_embeddings(ids, embeddings)
                vectors.add(np.array(ids, dtype=np.int64), embeddings)
                # its keyword terms cut again, as the glossary cuts them now
                rows = self.store.chunks(ids)
                self.store.set_terms([(i, self._terms(r["title"], json.loads(r["heading_path"]), r["text"]))
                                      for i, r in rows.items()])
                restored = self.store.document(doc_id)
                title = restored.title
                self.store.log(actor, "恢复", f"{doc_id} {restored.path}")  # as removals are logged
                self.store.set_meta("vector_generation", str(generation))
                vectors.save(self.vectors_dir, generation)
        except BaseException:
            self._vectors = None
            raise
        self._vectors_generation = generation
        VectorIndex.prune(self.vectors_dir, generation)
        self.words.add([normalise_title(title)])
        return title

    def audit(self, limit: int = 200) -> list[dict]:
        """Who added, replaced, moved, deleted or restored what, newest first."""
        return self.store.audit(limit)

    # ---------------------------------------------------------------- baskets
    def baskets(self) -> list[Basket]:
        return self.store.baskets()

    def create_basket(self, name: str) -> int:
        """A new, empty basket. Raises BasketError when the name is empty, too long or taken."""
        return self._basket_call(lambda n: self.store.create_basket(n), name)

    def rename_basket(self, basket_id: int, name: str) -> None:
        self._basket_call(lambda n: self.store.rename_basket(basket_id, n), name)

    def delete_basket(self, basket_id: int) -> None:
        self.store.delete_basket(basket_id)

    def basket(self, basket_id: int) -> list[BasketItem]:
        """A basket's passages in order. Raises BasketError when it no longer exists."""
        items = self.store.basket_items(basket_id)
        if items is None:
            raise BasketError(f"素材篮 {basket_id}", "没有这个素材篮（可能已被删除）")
        return items

    def save_basket(self, basket_id: int, items: list[BasketItem]) -> None:
        self.basket(basket_id)  # still there
        self.store.save_basket(basket_id, items)

    def add_to_basket(self, basket_id: int, hit: Hit) -> bool:
        """Appends a hit's passage; False when the basket already holds it."""
        items = self.basket(basket_id)
        added = add(items, BasketItem.from_hit(hit))
        if added:
            self.store.save_basket(basket_id, items)
        return added

    @staticmethod
    def _basket_call(call, name: str):
        try:
            return call(basket_name(name))
        except ValueError as exc:
            raise BasketError(name, str(exc)) from exc
        except StoreError as exc:
            raise BasketError(name, exc.reason) from exc

    def discard_uploads(self, paths: list[str]) -> None:
        """Deletes saved uploads that did not become documents (unreadable, the same content as another
        stored document, or skipped), or whose documents left the trash: the upload folder keeps only
        the originals of stored and trashed documents."""
        stored = {d["path"] for d in self.documents()} | {t["path"] for t in self.store.trash()}
        for path in {Path(p).resolve() for p in paths}:
            if self.config.is_upload(path) and str(path) not in stored:
                path.unlink(missing_ok=True)

    def stats(self) -> dict:
        docs = self.documents()
        by_type: dict[str, int] = {}
        for d in docs:
            by_type[d["doc_type"]] = by_type.get(d["doc_type"], 0) + 1
        faiss_file = VectorIndex.file_for(self.vectors_dir, self.generation)
        return {
            "documents": len(docs),
            "chunks": self.store.chunk_count(),
            "by_type": by_type,
            "embedding_model": self.store.get_meta("embedding_model") or self.passage_model,
            "query_model": self.config.model,
            "ranker": self.searcher.ranker.source if self.searcher.ranker else "",
            "embedding_dim": int(self.store.get_meta("embedding_dim") or 0),
            "embedding_precision": self.store.get_meta("embedding_precision") or ("fp32" if docs else ""),
            "database": str(self.config.db_path),
            "database_bytes": self.config.db_path.stat().st_size if self.config.db_path.exists() else 0,
            "vector_file": str(faiss_file),
            "vector_bytes": faiss_file.stat().st_size if faiss_file.exists() else 0,
        }

    def reembed(self, progress: bool = True) -> int:
        """Re-embed every stored chunk with the configured model (after changing models)."""
        ids, texts = [], []
        for chunk_id, text in self.store.chunk_texts():
            ids.append(chunk_id)
            texts.append(text)
        bar = tqdm(total=len(texts), desc="重建向量", unit="段", disable=not progress, leave=False)
        vectors = self.embedder.encode_passages(texts, progress=bar.update)
        bar.close()
        index = VectorIndex(self.embedder.dim)
        index.add(np.array(ids, dtype=np.int64), vectors)
        generation = self.generation + 1
        with self.store.transaction():
            self.store.set_embeddings(ids, vectors)
            self.store.set_meta("embedding_model", self.passage_model)
            self.store.set_meta("embedding_dim", str(self.embedder.dim))
            self.store.set_meta("embedding_precision", self.embedder.precision)
            self.store.set_meta("vector_generation", str(generation))
            index.save(self.vectors_dir, generation)
        VectorIndex.prune(self.vectors_dir, generation)
        self._vectors, self._vectors_generation = index, generation
        return len(ids)
