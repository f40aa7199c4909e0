"""Hybrid retrieval: BM25 over jieba words and dense vectors, fused by reciprocal rank.

Also: "exact phrases" in quotes, a citation typed as a query (社会救助暂行办法第十一条)
going straight to that article, glossary expansion, filters, and one result per
article however many of its chunks matched. Reading the query is kb.query; fusing and
grouping is kb.fusion; this module fetches the ranked lists and builds the hits.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from kb.errors import QueryError
from kb.fusion import ChunkKey, Group, Ranking, group_by_article, reciprocal_rank_fusion
from kb.place import Place, places_in, relation
from kb.query import ParsedQuery, is_bare_citation, match_titles, normalise_title, parse_citation, parse_query
from kb.rank import Candidate, Evidence, QuestionCues, Ranker, feature_matrix, for_group
from kb.relevance import RelevanceModel
from kb.store import Store, citation_from_row
from kb.text import Glossary, Words
from kb.types import SEARCH_MODES, Filters, Hit
from kb.vectors import VectorIndex

TERM_CHARS = 6  # a query this short is a term looked up (第一议题, 兜底保障), not a question
MAX_WORDS = 64  # a keyword query's most distinct words, whatever keyword_words says (FTS5's expression limit)


class Searcher:
    """One per knowledge base. `vectors` returns the current vector index (the knowledge base
    may reload it); `pool` runs the query embedding while SQLite ranks keywords (both release
    the GIL). The weights and depths are plain attributes: tuning code sets them directly."""

    def __init__(self, store: Store, vectors: Callable[[], VectorIndex], embed_query: Callable[[str], np.ndarray],
                 glossary: Glossary, words: Words, pool: Executor, keyword_depth: int = 100,
                 dense_depth: int = 100, rrf_k: int = 60, keyword_weight: float = 1.0, dense_weight: float = 1.0,
                 ranker: Ranker | None = None, home_place: Place | None = None,
                 relevance: RelevanceModel | None = None, keyword_words: int = 10, max_query_chars: int = 500):
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
        self.ranker = ranker  # learned fusion; None keeps reciprocal rank fusion
        self.home_place = home_place  # the office's place, for questions that name none
        self.relevance = relevance  # whether a hit answers at all; None: every hit counts
        self.keyword_words = keyword_words  # 0: every word (up to MAX_WORDS)
        self.max_query_chars = max_query_chars

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        if mode not in SEARCH_MODES:
            raise ValueError(f"未知的检索方式：{mode}（可选 {', '.join(SEARCH_MODES)}）")
        if len(query) > self.max_query_chars:
            raise QueryError(query[:20] + "……",
                             f"检索内容过长（{len(query)} 字），请精简到 {self.max_query_chars} 字以内")
        filters = filters or Filters()
        parsed = parse_query(query, self.glossary)
        hits = self.resolve_citations(parsed.text, filters)
        if hits and is_bare_citation(parsed.text):  # a lookup: the article is the answer, no model needed
            return hits[:k]
        parsed, groups, rows, rankings, query_vector = self._candidates(parsed, filters, mode, k)
        if self.ranker is not None and mode == "hybrid" and groups:
            for group, score in zip(groups, self.ranker.score(self._features(groups, rows, rankings, parsed))):
                group.score = float(score)
            groups = sorted(groups, key=lambda g: -g.score)
        if self.glossary.groups and not self.glossary.names_group(parsed.text):
            groups = group_order(groups, rows, self.glossary.groups)
        places = self.asked_places(parsed.text)
        if places:
            groups = place_order(groups, rows, places)
        seen = {(normalise_title(h.citation.title), h.article) for h in hits if h.article}
        members: dict[int, list[int]] = {}  # hit index → the chunks of its article that were found
        for group in groups:
            if len(hits) >= k:
                break
            if group.key not in seen:
                hits.append(self._hit(rows[group.chunk_id], group.score, sorted(group.sources)))
                members[len(hits) - 1] = group.members
        if self.relevance is not None and query_vector is not None:
            self._judge(hits, members, query_vector, parsed)
        return hits[:k]

    def _judge(self, hits: list[Hit], members: dict[int, list[int]], query_vector: np.ndarray,
               parsed: ParsedQuery) -> None:
        """Sets each found hit's relevance: the model's probability from how close the query is to
        the best of the article's chunks. A short term typed alone (第一议题) and found as written,
        or as its glossary term, is relevant however far the model puts it."""
        vectors = self.store.embeddings_of([c for ids in members.values() for c in ids])
        terms = [parsed.text.strip(), *parsed.phrases]
        if len(parsed.text.strip()) <= TERM_CHARS:
            terms += parsed.expansions
        terms = [t for t in terms if len(t) >= 2]
        for n, ids in members.items():
            hit = hits[n]
            similarity = max((float(vectors[c] @ query_vector) for c in ids if c in vectors), default=0.0)
            hit.relevance = self.relevance.probability(similarity)
            if any(t in hit.text or t in hit.citation.title or any(t in h for h in hit.citation.heading_path)
                   for t in terms):
                hit.relevance = max(hit.relevance, self.relevance.threshold)

    def answers(self, hit: Hit) -> bool:
        """Whether a hit passes the relevance threshold (an asked-for article always does; without
        a relevance model or in keyword search, every hit)."""
        return self.relevance is None or hit.relevance is None or hit.relevance >= self.relevance.threshold

    def candidates(self, query: str, filters: Filters | None = None) -> tuple[list[tuple], np.ndarray]:
        """The articles hybrid search considers for a question, as (normalised title, article) keys,
        with the learned ranker's features for each (for training it)."""
        parsed = parse_query(query, self.glossary)
        parsed, groups, rows, rankings, _ = self._candidates(parsed, filters or Filters(), "hybrid", 10)
        return [g.key for g in groups], self._features(groups, rows, rankings, parsed)

    def _candidates(self, parsed: ParsedQuery, filters: Filters, mode: str, k: int):
        """The query as searched, fused and grouped candidates (best first by reciprocal rank fusion),
        their chunks' rows, and the rankings they came from."""
        found = self._retrieve(parsed, filters, mode, k)
        if not found[0] and parsed.phrases:
            # no passage has the quoted words: in a question they often only stress a term
            # (户口未迁出的“外嫁女”), so the words are searched unquoted rather than finding nothing
            parsed = replace(parsed, phrases=[])
            found = self._retrieve(parsed, filters, mode, k)
        return (parsed, *found)

    def _retrieve(self, parsed: ParsedQuery, filters: Filters, mode: str, k: int):
        # Each retriever offers at least twice the articles asked for: chunks of one article merge.
        keyword_depth, dense_depth = max(self.keyword_depth, 2 * k), max(self.dense_depth, 2 * k)
        vectors = self.vectors()
        dense = mode in ("hybrid", "dense") and len(vectors)
        if dense:
            allowed = None
            if parsed.phrases:
                allowed = np.array(self.store.phrase_chunk_ids(parsed.phrases, filters, 100000), dtype=np.int64)
            elif filters.active():
                allowed = self.store.filtered_chunk_ids(filters)
            # embedding and the vector search run beside the keyword search
            dense_found = self.pool.submit(self._dense, vectors, " ".join([parsed.text, *parsed.expansions]),
                                           dense_depth, allowed)
        rankings: list[Ranking] = []
        if mode in ("hybrid", "keyword"):
            # The user's own words and the glossary-expanded words rank separately, so an
            # expansion (兜底 → 最低生活保障) adds candidates without drowning the original term.
            queries = [("keyword", self._selective(self.words(parsed.text)))]
            if parsed.expansions:
                queries.append(("expanded", self._selective(self.words(" ".join([parsed.text, *parsed.expansions])))))
            for role, words in queries:
                ranked = self.store.keyword_search(words, keyword_depth, filters, parsed.phrases)
                rankings.append(Ranking("keyword", [cid for cid, _ in ranked], self.keyword_weight / len(queries),
                                        [score for _, score in ranked], role))
            if not any(r.chunk_ids for r in rankings) and parsed.phrases:  # jieba split a phrase differently
                ids = self.store.phrase_chunk_ids(parsed.phrases, filters, keyword_depth)
                rankings.append(Ranking("keyword", ids, self.keyword_weight, role="keyword"))
        query_vector = None
        if dense:
            query_vector, ranked = dense_found.result()
            rankings.append(Ranking("dense", [cid for cid, _ in ranked], self.dense_weight,
                                    [score for _, score in ranked], "dense"))
        fused = reciprocal_rank_fusion(rankings, self.rrf_k)
        rows = self.store.chunks(list(fused))
        # the vector index may briefly hold ids a crashed run never committed: they have no row
        keys = {cid: ChunkKey(normalise_title(row["title"]), row["article"], row["date"]) for cid, row in rows.items()}
        return group_by_article(fused, keys), rows, rankings, query_vector

    def _dense(self, vectors: VectorIndex, text: str, depth: int, allowed: np.ndarray | None):
        query_vector = self.embed_query(text)
        return query_vector, vectors.search(query_vector, depth, allowed)

    def _selective(self, words: list[str]) -> list[str]:
        """At most `keyword_words` distinct words, the rarest in the knowledge base, in the question's
        order. A common word adds little to BM25 and much to its time: on the full statute corpus the
        keyword query's p95 fell from 58 to 36 ms at 10 words (bench/RESULTS.md)."""
        distinct = list(dict.fromkeys(words))
        most = min(self.keyword_words or MAX_WORDS, MAX_WORDS)
        if len(distinct) <= most:
            return distinct
        frequency = self.store.document_frequencies(distinct)
        keep = set(sorted(distinct, key=lambda w: (frequency[w], distinct.index(w)))[:most])
        return [w for w in distinct if w in keep]

    def _features(self, groups: list[Group], rows: dict, rankings: list[Ranking], parsed: ParsedQuery) -> np.ndarray:
        evidence: dict[str, dict[int, Evidence]] = {}
        for ranking in rankings:
            found = evidence.setdefault(ranking.role, {})
            for rank, cid in enumerate(ranking.chunk_ids):
                score = ranking.scores[rank] if rank < len(ranking.scores) else 0.0
                if cid not in found:
                    found[cid] = Evidence(rank, score)
        candidates = []
        for group in groups:
            row = rows[group.chunk_id]
            best = {role: min((found[c] for c in group.members if c in found), key=lambda e: e.rank, default=Evidence())
                    for role, found in evidence.items()}
            candidates.append(Candidate(best.get("keyword", Evidence()), best.get("expanded", Evidence()),
                                        best.get("dense", Evidence()), group.score, len(group.members),
                                        row["title"], row["heading_path"], row["text"]))
        intents = self.glossary.intents_in(parsed.text)
        cues = QuestionCues(self.words(parsed.text), [tuple(i.answers) for i in intents],
                            tuple(self.glossary.groups), self.glossary.names_group(parsed.text))
        return feature_matrix(candidates, cues)

    def asked_places(self, query: str) -> list[Place]:
        """The places a question is about: those it names, else the office's own."""
        return places_in(query) or ([self.home_place] if self.home_place else [])

    def _hit(self, row, score: float, matched: list[str], relevance: float | None = None) -> Hit:
        if row["article"]:
            first, start, end, page = self.store.article_span(row["doc_id"], row["article"])
            text = self.store.document_text(row["doc_id"], start, end)
            citation = citation_from_row(row, page=page)
            return Hit(first, row["doc_id"], score, text, citation, start, end, row["article"], matched, relevance)
        return Hit(row["id"], row["doc_id"], score, row["text"], citation_from_row(row), row["start"],
                   row["end"], "", matched, relevance)

    # ------------------------------------------------------------- citations
    def resolve_citations(self, text: str, filters: Filters) -> list[Hit]:
        """社会救助暂行办法第十一条 / 《慈善法》第10条 / 浙江社会救助条例第40条 → that article of each
        document the (possibly abbreviated) title names and that passes the filters: one hit per
        law, from its newest version that has the article. 社会救助条例第十条 names every province's."""
        ref = parse_citation(text)
        if not ref:
            return []
        titles = self.store.titles(filters)
        named = set(match_titles(ref.title, [(doc_id, title) for doc_id, title, _ in titles]))
        versions: dict[str, list[tuple[str, int]]] = {}
        for doc_id, title, date in titles:
            if doc_id in named:
                versions.setdefault(normalise_title(title), []).append((date, doc_id))
        found = []  # (whether it is another place's rule, hit)
        places = self.asked_places(text)
        for law in versions.values():
            for _, doc_id in sorted(law, reverse=True):
                span = self.store.article_span(doc_id, ref.article)
                if span:
                    row = self.store.chunks([span[0]])[span[0]]
                    hit = self._hit(row, float("inf"), ["citation"], 1.0)
                    found.append((bool(places) and elsewhere(row, places), hit))
                    break
        return [hit for _, hit in sorted(found, key=lambda f: f[0])]


def place_order(groups: list[Group], rows: dict, places: list[Place]) -> list[Group]:
    """The asked places' rules (and those within them) and national rules first; other places'
    rules after them, in their own order: demoted, never hidden."""
    return sorted(groups, key=lambda g: elsewhere(rows[g.chunk_id], places))


def elsewhere(row, places: list[Place]) -> bool:
    """Whether a chunk's document is another place's rule: it applies neither nationally nor in,
    above or within any asked place."""
    doc = Place(row["jurisdiction"])
    return all(relation(doc, place) == "other" for place in places)


def group_order(groups: list[Group], rows: dict, special: list[str]) -> list[Group]:
    """For a question that names no special group: rules written for one (军人抚恤优待条例) after
    the others, in their own order."""
    return sorted(groups, key=lambda g: for_group(rows[g.chunk_id]["title"], rows[g.chunk_id]["heading_path"], special))
