"""The knowledge base: one object over the store, the vector index, the embedder and the
searcher, and the door to the services behind it (ingestion, versions, baskets). The CLI, the app
and the server are thin layers over these calls."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ingest import Document
from kb.config import Config
from kb.errors import ConfigError, DocumentNotFound, ModelMismatchError
from kb.language.places import Place, jurisdiction_of, place_by_name
from kb.language.query import QueryPlan, normalise_title
from kb.language.words import Glossary, Words
from kb.library.answer_book import AnswerBook
from kb.library.baskets import Baskets
from kb.library.filters import make_filters
from kb.library.ingestion import TRASH_REASONS, Ingestion, IngestReport, default_actor
from kb.library.ledger import Ledger
from kb.library.quote_check import QuoteChecker
from kb.library.related import Related
from kb.library.uploads import Settled, UploadResult, Uploads, Waiting
from kb.library.versions import Versions
from kb.models.embed import FLOAT, Embedder, leave_a_core, passage_model, same_vectors
from kb.search.answer import Answer, compose
from kb.search.rank import load_ranker
from kb.search.relevance import load_relevance
from kb.search.searcher import Searcher, SearchSettings
from kb.store.db import Store
from kb.store.live import LiveVectors
from kb.store.vectors import VectorIndex
from kb.types import Filters, Hit

__all__ = ["IngestReport", "KnowledgeBase", "default_actor", "home_place"]

log = logging.getLogger(__name__)
CONTEXT_CHARS = 300  # about this much text each side of a passage, in whole lines


def home_place(config: Config) -> Place | None:
    """The office's own place (config home_region), checked."""
    if not config.home_region:
        return None
    place = place_by_name(config.home_region)
    if place is None:
        raise ConfigError(f"home_region = {config.home_region}",
                          "无法识别的地名，请写省、市或区县的全称，如“浙江省”“杭州市”")
    return place


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
        self._last_query: tuple = (None, None)
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
        self.live = LiveVectors(self.store, self.config.data_dir / "vectors", on_reload=self._another_commit)
        self.versions = Versions(self.store, lambda: self.generation)
        self.baskets = Baskets(self.store, default_actor)
        self.answer_book = AnswerBook(self, default_actor)
        self.ingestion = Ingestion(self)
        self.uploads = Uploads(self.ingestion)
        self.quotes = QuoteChecker(self)  # 引文核对: kb.quotes.check(draft)
        self.provisions = Related(self)  # 法条联想: kb.provisions.of("社会救助暂行办法第十一条")
        self.ledger = Ledger(self, default_actor)  # 第一议题 学习台账
        # The keyword index was cut with the glossary's terms in jieba's dictionary: another glossary
        # cuts queries differently, so the index is cut again to match.
        self.vocabulary = hashlib.sha256("\n".join(sorted(set(terms))).encode()).hexdigest()
        if self.store.get_meta("glossary_vocabulary") != self.vocabulary and self.store.chunk_count():
            self._retokenize()
        if self.store.get_meta("jurisdictions_pending"):
            self._resolve_jurisdictions()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-query", initializer=leave_a_core)
        c = self.config
        settings = SearchSettings(c.keyword_depth, c.dense_depth, c.rrf_k, c.keyword_weight, c.dense_weight,
                                  c.keyword_words, c.max_query_chars)
        self.searcher = Searcher(self.store, lambda: self.vectors, self._embed_query,
                                 glossary, self.words, self._pool, settings, ranker, home,
                                 load_relevance(self.config), precedents=lambda: self.answer_book.precedents())

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

    def _embed_query(self, text: str):
        """The query model's vector, kept for the last text: a search and the 口径库's match embed the
        same question once, not twice."""
        key, last = (id(self.embedder), text), self._last_query  # read once: the pool thread may replace it
        if last[0] == key:
            return last[1]
        vector = self.embedder.encode_query(text)
        self._last_query = (key, vector)
        return vector

    @property
    def generation(self) -> int:
        return self.live.generation

    @property
    def vectors(self) -> VectorIndex:
        """The vector index as the store's latest commit has it."""
        return self.live.current()

    def _another_commit(self) -> None:
        """Another process committed: its new titles are words, and it may have re-embedded."""
        self.words.add([normalise_title(t) for _, t, _ in self.store.titles()])
        stored = self.store.get_meta("embedding_model")
        if self.check_model and stored and stored != self.passage_model:
            raise ModelMismatchError(self.config.db_path, f"另一进程已用模型“{stored}”重建了向量，本进程仍在用"
                                                          f"“{self.passage_model}”：请重新启动")

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
        """Adds or updates files; see Ingestion.ingest."""
        return self.ingestion.ingest(paths, prune, progress, overrides, on_progress, prune_all, actor)

    def upload(self, files: list[tuple[str, bytes]], actor: str = "", ask: bool = True,
               on_progress: Callable[[int, int], None] | None = None, max_mb: float | None = None) -> UploadResult:
        """Saves and ingests uploaded files (name, bytes); with `ask`, one that matches a stored
        document waits for `settle_upload`. See kb.library.uploads."""
        return self.uploads.upload(files, actor, ask, on_progress, max_mb)

    def settle_upload(self, waiting: Waiting, choice: str, actor: str = "", skip_ids: set[int] | None = None,
                      on_progress: Callable[[int, int], None] | None = None, take_new: tuple[str, ...] = (),
                      version_date: str = "") -> Settled:
        """replace, version or skip (UPLOAD_CHOICES) an upload that waited. See kb.library.uploads."""
        return self.uploads.settle(waiting, choice, actor, skip_ids, on_progress, take_new, version_date)

    def reembed(self, progress: bool = True) -> int:
        """Re-embed every stored chunk with the configured model (after changing models)."""
        return self.ingestion.reembed(progress)

    def _resolve_jurisdictions(self) -> None:
        """Where each stored document applies, for a knowledge base built before jurisdictions."""
        codes = {d["id"]: jurisdiction_of(d["title"], d["issuer"]).code for d in self.store.documents()}
        with self.store.transaction():
            self.store.set_jurisdictions(codes)
            self.store.conn.execute("DELETE FROM meta WHERE key = 'jurisdictions_pending'")

    def _retokenize(self) -> None:
        started = time.perf_counter()
        terms = [(cid, self.ingestion.terms(title, path, text))
                 for cid, title, path, text in self.store.chunks_for_terms()]
        with self.store.transaction():
            self.store.set_terms(terms)
            self.store.set_meta("glossary_vocabulary", self.vocabulary)
        log.info("术语表已更改，关键词索引已重新分词：%d 个片段，%.1f 秒", len(terms), time.perf_counter() - started)

    # ---------------------------------------------------------------- search
    def analyse(self, query: str) -> QueryPlan:
        """The one reading of a query (phrases, citation, places asked, expansions, keyword terms)."""
        return self.searcher.analyse(query)

    def filters(self, types: list[str] | None = None, date_from: str | None = None, date_to: str | None = None,
                issuers: list[str] | None = None, docs: list[str | int] | None = None,
                places: list[str] | None = None, as_of: str | None = None) -> Filters:
        """Filters from what a user typed, checked (see kb.library.filters). Raises QueryError or
        DocumentNotFound."""
        return make_filters(self.find_document, types, date_from, date_to, issuers, docs, places, as_of)

    def search(self, query: str | QueryPlan, k: int = 10, filters: Filters | None = None,
               mode: str = "hybrid") -> list[Hit]:
        filters = self._in_force(filters)
        plan = self.analyse(query) if isinstance(query, str) else query
        hits = self.searcher.search(plan, k=k, filters=filters, mode=mode)
        if mode != "hybrid":  # keyword or dense alone: what that retriever finds, as asked
            return hits
        return self.answer_book.first(plan, hits, k, filters)  # the window's approved answers first

    def _in_force(self, filters: Filters | None) -> Filters | None:
        """`as_of` made concrete: the documents in force that day (kb.library.versions.in_force)."""
        if not filters or not filters.as_of:
            return filters
        ids = self.versions.in_force(filters.as_of)
        if filters.doc_ids:
            ids = [i for i in ids if i in set(filters.doc_ids)]
        return replace(filters, doc_ids=ids or [-1], as_of=None)

    def search_json(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> dict:
        """A search as the CLI's --json and the HTTP API give it: each hit with whether it passes the
        relevance threshold and where it applies, the time taken, the places put first and the
        glossary terms also searched."""
        started = time.perf_counter()
        plan = self.analyse(query)
        hits = self.search(plan, k=k, filters=filters, mode=mode)
        ms = (time.perf_counter() - started) * 1000
        statuses = self.versions.statuses()
        return {"query": query, "ms": round(ms, 1),
                "hits": [{**h.to_dict(), "relevant": self.answers(h), "applies_in": h.citation.applies_in(),
                          "status": statuses.get(h.doc_id, ""),
                          "other_versions": self.versions.others(h.doc_id)}
                         for h in hits],
                "places": [p.label for p in plan.places], "expansions": list(plan.expansions)}

    def ask(self, question: str, filters: Filters | None = None, max_sources: int = 4,
            log_unanswered: bool = True) -> Answer:
        """An extractive answer from the passages that answer (the searcher's one judgement: relevant,
        and stating the kind of fact asked for, 几点, 多少钱, 几天); found=False when none does, and
        then, with `log_unanswered`, the question is kept in the 口径库's 未命中 list."""
        plan = self.analyse(question)
        hits = self.search(plan, k=max_sources, filters=filters)
        answering = [h for h in hits if self.answers(h)]
        answer = compose(question, hits, answering, self.words, list(plan.expansions), max_sources)
        if not answer.found and log_unanswered:
            self.answer_book.log_unanswered(question)  # 未命中: for the librarian to fill
        return answer

    def answers(self, hit: Hit) -> bool:
        """Whether a hit passes the relevance threshold (see kb.search.relevance)."""
        return self.searcher.answers(hit)

    # ---------------------------------------------------------------- library
    def documents(self) -> list[dict]:
        """Every document's metadata (without text), chunk count, and status among its law's
        versions (`version_status`, see kb.library.versions)."""
        statuses = self.versions.statuses()
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
        self.ingestion.write([], [(doc_id, doc.path, reason)], IngestReport(), actor)
        return doc.title

    def trash(self) -> list[dict]:
        """Deleted and replaced documents, newest first, with why each went (TRASH_REASONS)."""
        return [{**t, "reason_label": TRASH_REASONS.get(t["reason"], t["reason"])} for t in self.store.trash()]

    def restore(self, doc_id: int, actor: str = "") -> str:
        """Puts a trashed document back; see Ingestion.restore. Returns its title."""
        return self.ingestion.restore(doc_id, actor)

    def audit(self, limit: int = 200) -> list[dict]:
        """Who added, replaced, moved, deleted or restored what, newest first."""
        return self.store.audit(limit)

    def record(self, actor: str, action: str, subject: str) -> None:
        """One line of the audit log for a change made outside the library's own calls (users, tokens)."""
        self.store.log(actor or default_actor(), action, subject)

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
        faiss_file = VectorIndex.file_for(self.live.folder, self.generation)
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
