"""Hybrid retrieval: BM25 over jieba words and dense vectors, fused by reciprocal rank.

Also: "exact phrases" in quotes, a citation typed as a query (社会救助暂行办法第十一条)
going straight to that article, glossary expansion, filters, and one result per
article however many of its chunks matched. Reading the query is kb.query; fusing and
grouping is kb.fusion; this module fetches the ranked lists and builds the hits.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np

from kb.fusion import ChunkKey, Ranking, group_by_article, reciprocal_rank_fusion
from kb.query import normalise_title, parse_citation, parse_query
from kb.store import Store, citation_from_row
from kb.text import Glossary, Words
from kb.types import SEARCH_MODES, Filters, Hit
from kb.vectors import VectorIndex


class Searcher:
    """One per knowledge base. `vectors` returns the current vector index (the knowledge base
    may reload it); `pool` runs the query embedding while SQLite ranks keywords (both release
    the GIL). The weights and depths are plain attributes: tuning code sets them directly."""

    def __init__(self, store: Store, vectors: Callable[[], VectorIndex], embed_query: Callable[[str], np.ndarray],
                 glossary: Glossary, words: Words, pool: Executor, keyword_depth: int = 100,
                 dense_depth: int = 100, rrf_k: int = 60, keyword_weight: float = 1.0, dense_weight: float = 1.0):
        self.store = store
        self.vectors = vectors
        self.embed_query = embed_query
        self.glossary = glossary
        self.words = words
        self.pool = pool
        self.keyword_depth = keyword_depth
        self.dense_depth = dense_depth
        self.rrf_k = rrf_k
        self.keyword_weight = keyword_weight
        self.dense_weight = dense_weight

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        if mode not in SEARCH_MODES:
            raise ValueError(f"未知的检索方式：{mode}（可选 {', '.join(SEARCH_MODES)}）")
        filters = filters or Filters()
        parsed = parse_query(query, self.glossary)
        # Each retriever offers at least twice the articles asked for: chunks of one article merge.
        keyword_depth, dense_depth = max(self.keyword_depth, 2 * k), max(self.dense_depth, 2 * k)
        hits: list[Hit] = []
        cited = self.resolve_citation(parsed.text, filters)
        if cited:
            hits.append(cited)
        vectors = self.vectors()
        dense = mode in ("hybrid", "dense") and len(vectors)
        if dense:
            query_vector = self.pool.submit(self.embed_query, " ".join([parsed.text, *parsed.expansions]))
        rankings: list[Ranking] = []
        if mode in ("hybrid", "keyword"):
            # The user's own words and the glossary-expanded words rank separately, so an
            # expansion (兜底 → 最低生活保障) adds candidates without drowning the original term.
            queries = [self.words(parsed.text)]
            if parsed.expansions:
                queries.append(self.words(" ".join([parsed.text, *parsed.expansions])))
            for words in queries:
                ranked = self.store.keyword_search(words, keyword_depth, filters, parsed.phrases)
                rankings.append(Ranking("keyword", [cid for cid, _ in ranked], self.keyword_weight / len(queries)))
            if not any(r.chunk_ids for r in rankings) and parsed.phrases:  # jieba split a phrase differently
                ids = self.store.phrase_chunk_ids(parsed.phrases, filters, keyword_depth)
                rankings.append(Ranking("keyword", ids, self.keyword_weight))
        if dense:
            allowed = None
            if parsed.phrases:
                allowed = np.array(self.store.phrase_chunk_ids(parsed.phrases, filters, 100000), dtype=np.int64)
            elif filters.active():
                allowed = self.store.filtered_chunk_ids(filters)
            ranked = vectors.search(query_vector.result(), dense_depth, allowed)
            rankings.append(Ranking("dense", [cid for cid, _ in ranked], self.dense_weight))
        hits.extend(self._grouped_hits(reciprocal_rank_fusion(rankings, self.rrf_k), k, skip=hits))
        return hits[:k]

    def _grouped_hits(self, fused: dict, k: int, skip: list[Hit]) -> list[Hit]:
        rows = self.store.chunks(list(fused))
        # the vector index may briefly hold ids a crashed run never committed: they have no row
        keys = {cid: ChunkKey(normalise_title(row["title"]), row["article"], row["date"]) for cid, row in rows.items()}
        seen = {(normalise_title(h.citation.title), h.article) for h in skip if h.article}
        out: list[Hit] = []
        for group in group_by_article(fused, keys):
            if group.key in seen:
                continue
            out.append(self._hit(rows[group.chunk_id], group.score, sorted(group.sources)))
            if len(out) >= k:
                break
        return out

    def _hit(self, row, score: float, matched: list[str]) -> Hit:
        if row["article"]:
            first, start, end, page = self.store.article_span(row["doc_id"], row["article"])
            text = self.store.document_text(row["doc_id"], start, end)
            citation = citation_from_row(row, page=page)
            return Hit(first, row["doc_id"], score, text, citation, start, end, row["article"], matched)
        return Hit(row["id"], row["doc_id"], score, row["text"], citation_from_row(row), row["start"],
                   row["end"], "", matched)

    # ------------------------------------------------------------- citations
    def resolve_citation(self, text: str, filters: Filters) -> Hit | None:
        """社会救助暂行办法第十一条 / 《慈善法》第10条 → that article, if a document that passes
        the filters has it."""
        ref = parse_citation(text)
        if not ref:
            return None
        candidates = []
        for doc_id, title, date in self.store.titles(filters):
            norm = normalise_title(title)
            if norm == ref.title:
                candidates.append((0, date, doc_id))
            elif ref.title.endswith(norm) or norm.endswith(ref.title):
                candidates.append((1, date, doc_id))
        # exact title first, then the newest version
        candidates.sort(key=lambda c: c[1], reverse=True)
        candidates.sort(key=lambda c: c[0])
        for _, _, doc_id in candidates:
            span = self.store.article_span(doc_id, ref.article)
            if span:
                row = self.store.chunks([span[0]])[span[0]]
                return self._hit(row, float("inf"), ["citation"])
        return None
