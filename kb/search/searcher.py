"""Hybrid retrieval: BM25 over jieba words and dense vectors, fused by reciprocal rank.

Also: "exact phrases" in quotes, a citation typed as a query (社会救助暂行办法第十一条)
going straight to that article, glossary expansion, filters, and one result per
article however many of its chunks matched. Reading the query is kb.language.query (one
QueryPlan per search); fusing and grouping is kb.search.fusion; this module fetches the ranked
lists and builds the hits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from kb.errors import QueryError
from kb.language.places import Place, places_in, relation
from kb.language.query import QueryPlan, analyse, match_titles, normalise_title
from kb.language.words import Glossary, Words
from kb.search.fusion import ChunkKey, Group, Ranking, group_by_article, reciprocal_rank_fusion
from kb.search.precedents import Precedents
from kb.search.rank import Candidate, Evidence, QuestionCues, Ranker, feature_matrix, for_group
from kb.search.relevance import RelevanceModel, states_answer
from kb.store.db import Store, citation_from_row
from kb.store.vectors import VectorIndex
from kb.types import SEARCH_MODES, Filters, Hit

TERM_CHARS = 6  # a query this short is a term looked up (第一议题, 兜底保障), not a question
MAX_WORDS = 64  # a keyword query's most distinct words, whatever keyword_words says (FTS5's expression limit)


@dataclass
class SearchSettings:
    """The searcher's knobs, from the configuration (kb.config.Config.search_settings); tuning code
    changes them on `Searcher.settings` directly."""

    keyword_depth: int = 100
    dense_depth: int = 100
    rrf_k: int = 60
    keyword_weight: float = 1.0
    dense_weight: float = 1.0
    keyword_words: int = 10  # 0: every word (up to MAX_WORDS)
    precedent_weight: float = 1.0  # answered questions' votes in reciprocal rank fusion
    max_query_chars: int = 500


class Searcher:
    """One per knowledge base. `vectors` returns the current vector index (the knowledge base
    may reload it); `pool` runs the query embedding while SQLite ranks keywords (both release
    the GIL)."""

    def __init__(self, store: Store, vectors: Callable[[], VectorIndex], embed_query: Callable[[str], np.ndarray],
                 glossary: Glossary, words: Words, pool: Executor, settings: SearchSettings | None = None,
                 ranker: Ranker | None = None, home_place: Place | None = None,
                 relevance: RelevanceModel | None = None,
                 precedents: Callable[[], Precedents | None] | None = None):
        self.store = store
        self.vectors = vectors
        self.embed_query = embed_query
        self.glossary = glossary
        self.words = words
        self.pool = pool
        self.settings = settings or SearchSettings()
        self.ranker = ranker  # learned fusion; None keeps reciprocal rank fusion
        self.home_place = home_place  # the office's place, for questions that name none
        self.relevance = relevance  # whether a hit answers at all; None: every hit counts
        # questions already answered (the approved 口径库), as the search's model embeds them
        self.precedents = precedents or (lambda: None)

    def analyse(self, query: str) -> QueryPlan:
        """The one reading of a query, with this knowledge base's glossary and words."""
        return analyse(query, self.glossary, self.words, self.home_place)

    def search(self, query: str | QueryPlan, k: int = 10, filters: Filters | None = None,
               mode: str = "hybrid") -> list[Hit]:
        if mode not in SEARCH_MODES:
            raise ValueError(f"未知的检索方式：{mode}（可选 {', '.join(SEARCH_MODES)}）")
        plan = self.analyse(query) if isinstance(query, str) else query
        if len(plan.query) > self.settings.max_query_chars:
            raise QueryError(plan.query[:20] + "……",
                             f"检索内容过长（{len(plan.query)} 字），请精简到 {self.settings.max_query_chars} 字以内")
        filters = filters or Filters()
        hits = self.resolve_citations(plan, filters)
        if hits and plan.bare_citation:  # a lookup: the article is the answer, no model needed
            return hits[:k]
        plan, groups, rows, rankings, query_vector = self._candidates(plan, filters, mode, k)
        if self.ranker is not None and mode == "hybrid" and groups:
            for group, score in zip(groups, self.ranker.score(self._features(groups, rows, rankings, plan))):
                group.score = float(score)
            groups = sorted(groups, key=lambda g: -g.score)
        if self.glossary.groups and not plan.names_group:
            groups = group_order(groups, rows, self.glossary.groups)
        if plan.places:
            groups = place_order(groups, rows, list(plan.places))
        seen = {(normalise_title(h.citation.title), h.article) for h in hits if h.article}
        members: dict[int, list[int]] = {}  # hit index → the chunks of its article that were found
        for group in groups:
            if len(hits) >= k:
                break
            if group.key not in seen:
                hits.append(self._hit(rows[group.chunk_id], group.score, sorted(group.sources)))
                members[len(hits) - 1] = group.members
        if self.relevance is not None and query_vector is not None:
            self._judge(hits, members, query_vector, plan)
        return hits[:k]

    def _judge(self, hits: list[Hit], members: dict[int, list[int]], query_vector: np.ndarray,
               plan: QueryPlan) -> None:
        """Sets each found hit's relevance: the model's probability from how close the query is to
        the best of the article's chunks. A short term typed alone (第一议题) and found as written,
        or as its glossary term, is relevant however far the model puts it. The one judgement that
        the search page, `kb ask` and the API share, so it also holds that a passage does not answer
        - a question asking a kind of fact (几天, 多少钱, 标准是多少) when it states none of that kind;
        - a question naming a place when nothing but the place is shared with it (明天北京会下雨吗 and
          宪法's 首都是北京)."""
        vectors = self.store.embeddings_of([c for ids in members.values() for c in ids])
        below = math.nextafter(self.relevance.threshold, 0.0)
        # only a place the question itself names (plan.places may be the office's home_region)
        own = [w for w in plan.words if len(w) >= 2 and not places_in(w)] if places_in(plan.text) else []
        terms = [plan.text.strip(), *plan.phrases]
        if len(plan.text.strip()) <= TERM_CHARS:
            terms += plan.expansions
        terms = [t for t in terms if len(t) >= 2]
        for n, ids in members.items():
            hit = hits[n]
            similarity = max((float(vectors[c] @ query_vector) for c in ids if c in vectors), default=0.0)
            hit.relevance = self.relevance.probability(similarity)
            where = " ".join([hit.text, hit.citation.title, *hit.citation.heading_path])
            if any(t in where for t in terms):
                hit.relevance = max(hit.relevance, self.relevance.threshold)
            if not states_answer(plan.text, hit.text):
                hit.relevance = min(hit.relevance, below)
            if own and not any(w in where for w in [*own, *plan.expansions]):
                hit.relevance = min(hit.relevance, below)

    def answers(self, hit: Hit) -> bool:
        """Whether a hit passes the relevance threshold (an asked-for article always does; without
        a relevance model or in keyword search, every hit)."""
        return self.relevance is None or hit.relevance is None or hit.relevance >= self.relevance.threshold

    def candidates(self, query: str, filters: Filters | None = None) -> tuple[list[tuple], np.ndarray]:
        """The articles hybrid search considers for a question, as (normalised title, article) keys,
        with the learned ranker's features for each (for training it)."""
        plan, groups, rows, rankings, _ = self._candidates(self.analyse(query), filters or Filters(), "hybrid", 10)
        return [g.key for g in groups], self._features(groups, rows, rankings, plan)

    def _candidates(self, plan: QueryPlan, filters: Filters, mode: str, k: int):
        """The query as searched, fused and grouped candidates (best first by reciprocal rank fusion),
        their chunks' rows, and the rankings they came from."""
        found = self._retrieve(plan, filters, mode, k)
        if not found[0] and plan.phrases:
            # no passage has the quoted words: in a question they often only stress a term
            # (户口未迁出的“外嫁女”), so the words are searched unquoted rather than finding nothing
            plan = plan.without_phrases()
            found = self._retrieve(plan, filters, mode, k)
        return (plan, *found)

    def _retrieve(self, plan: QueryPlan, filters: Filters, mode: str, k: int):
        # Each retriever offers at least twice the articles asked for: chunks of one article merge.
        s = self.settings
        keyword_depth, dense_depth = max(s.keyword_depth, 2 * k), max(s.dense_depth, 2 * k)
        vectors = self.vectors()
        dense = mode in ("hybrid", "dense") and len(vectors)
        if dense:
            allowed = None
            if plan.phrases:
                allowed = np.array(self.store.phrase_chunk_ids(list(plan.phrases), filters, 100000), dtype=np.int64)
            elif filters.active():
                allowed = self.store.filtered_chunk_ids(filters)
            # embedding and the vector search run beside the keyword search
            dense_found = self.pool.submit(self._dense, vectors, plan.embedded_text, dense_depth, allowed)
        rankings: list[Ranking] = []
        if mode in ("hybrid", "keyword"):
            # The user's own words and the glossary-expanded words rank separately, so an
            # expansion (兜底 → 最低生活保障) adds candidates without drowning the original term.
            queries = [("keyword", self._selective(list(plan.words)))]
            if plan.expansions:
                queries.append(("expanded", self._selective(list(plan.expanded_words))))
            for role, words in queries:
                ranked = self.store.keyword_search(words, keyword_depth, filters, list(plan.phrases))
                rankings.append(Ranking("keyword", [cid for cid, _ in ranked], s.keyword_weight / len(queries),
                                        [score for _, score in ranked], role))
            if not any(r.chunk_ids for r in rankings) and plan.phrases:  # jieba split a phrase differently
                ids = self.store.phrase_chunk_ids(list(plan.phrases), filters, keyword_depth)
                rankings.append(Ranking("keyword", ids, s.keyword_weight, role="keyword"))
        query_vector = None
        if dense:
            query_vector, ranked = dense_found.result()
            rankings.append(Ranking("dense", [cid for cid, _ in ranked], s.dense_weight,
                                    [score for _, score in ranked], "dense"))
        precedents = self.precedents() if mode == "hybrid" and query_vector is not None else None
        if precedents:
            votes = precedents.votes(query_vector)
            ids, shares = precedents.ranked_chunks(votes)
            if filters.active() or plan.phrases:  # the filters hold for what precedents bring too
                keep = set(allowed.tolist())
                ids, shares = [c for c in ids if c in keep], [v for c, v in zip(ids, shares) if c in keep]
            if ids:
                rankings.append(Ranking("precedent", ids, s.precedent_weight, shares, "precedent", votes))
        fused = reciprocal_rank_fusion(rankings, s.rrf_k)
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
        most = min(self.settings.keyword_words or MAX_WORDS, MAX_WORDS)
        if len(distinct) <= most:
            return distinct
        frequency = self.store.document_frequencies(distinct)
        keep = set(sorted(distinct, key=lambda w: (frequency[w], distinct.index(w)))[:most])
        return [w for w in distinct if w in keep]

    def _features(self, groups: list[Group], rows: dict, rankings: list[Ranking], plan: QueryPlan) -> np.ndarray:
        evidence: dict[str, dict[int, Evidence]] = {}
        for ranking in rankings:
            found = evidence.setdefault(ranking.role, {})
            for rank, cid in enumerate(ranking.chunk_ids):
                score = ranking.scores[rank] if rank < len(ranking.scores) else 0.0
                if cid not in found:
                    found[cid] = Evidence(rank, score)
        votes = next((r.votes for r in rankings if r.role == "precedent"), {})
        candidates = []
        for group in groups:
            row = rows[group.chunk_id]
            best = {role: min((found[c] for c in group.members if c in found), key=lambda e: e.rank, default=Evidence())
                    for role, found in evidence.items()}
            candidates.append(Candidate(best.get("keyword", Evidence()), best.get("expanded", Evidence()),
                                        best.get("dense", Evidence()), group.score, len(group.members),
                                        row["title"], row["heading_path"], row["text"], votes.get(group.key)))
        cues = QuestionCues(list(plan.words), [tuple(i.answers) for i in plan.intents],
                            tuple(self.glossary.groups), plan.names_group)
        return feature_matrix(candidates, cues)

    def passage_hit(self, chunk_id: int) -> Hit | None:
        """A stored passage as a search would show it (the whole article for a regulation)."""
        row = self.store.chunks([chunk_id]).get(chunk_id)
        return self._hit(row, 1.0, ["citation"], 1.0) if row else None

    def _hit(self, row, score: float, matched: list[str], relevance: float | None = None) -> Hit:
        if row["article"]:
            first, start, end, page = self.store.article_span(row["doc_id"], row["article"])
            text = self.store.document_text(row["doc_id"], start, end)
            citation = citation_from_row(row, page=page)
            return Hit(first, row["doc_id"], score, text, citation, start, end, row["article"], matched, relevance)
        return Hit(row["id"], row["doc_id"], score, row["text"], citation_from_row(row), row["start"],
                   row["end"], "", matched, relevance)

    # ------------------------------------------------------------- citations
    def resolve_citations(self, plan: QueryPlan, filters: Filters) -> list[Hit]:
        """社会救助暂行办法第十一条 / 《慈善法》第10条 / 浙江社会救助条例第40条 → that article of each
        document the (possibly abbreviated) title names and that passes the filters: one hit per
        law, from its newest version that has the article. 社会救助条例第十条 names every province's."""
        ref = plan.citation
        if not ref:
            return []
        titles = self.store.titles(filters)
        named = set(match_titles(ref.title, [(doc_id, title) for doc_id, title, _ in titles]))
        versions: dict[str, list[tuple[str, int]]] = {}
        for doc_id, title, date in titles:
            if doc_id in named:
                versions.setdefault(normalise_title(title), []).append((date, doc_id))
        found = []  # (whether it is another place's rule, hit)
        places = list(plan.places)
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
    rules after them, in their own order: demoted, never hidden. Within the first, the place's own
    rule implementing a national law comes before that law (own_rules_first)."""
    return own_rules_first(sorted(groups, key=lambda g: elsewhere(rows[g.chunk_id], places)), rows, places)


OWN_RULE_DEPTH = 10  # how far down a place's own implementing rule is looked for
_KIND = re.compile(r"(?:暂行)?(?:实施细则|实施办法|办法|条例|规定|细则|法)$")


def same_subject(law: str, local: str) -> bool:
    """Whether a local rule's title holds the national law's subject, its title without its kind:
    four characters of it in a row, or all of a shorter one (慈善法 → 慈善 in 上海市慈善条例;
    城市居民委员会组织法 → 居民委员会 in 上海市居民委员会工作条例)."""
    if not (_KIND.search(law) and _KIND.search(local)):  # laws and rules, not 关于……的意见 or 通知
        return False
    subject = _KIND.sub("", law)
    if len(subject) < 2:
        return False
    chars = min(4, len(subject))
    return any(subject[i:i + chars] in local for i in range(len(subject) - chars + 1))


def own_rules_first(groups: list[Group], rows: dict, places: list[Place]) -> list[Group]:
    """A place's rule on a national law's subject (same_subject: 上海市志愿服务条例 for 志愿服务条例,
    上海市慈善条例 for 慈善法) says concretely, for that place, what the law says in general: its best
    article found among the first OWN_RULE_DEPTH comes just before the law's first article. Another
    place's rule stays where it ranked."""
    out = list(groups)
    moved: set[str] = set()
    for i in range(min(OWN_RULE_DEPTH, len(out))):
        row = rows[out[i].chunk_id]
        law = normalise_title(row["title"])
        if row["jurisdiction"] or law in moved:
            continue
        for j in range(i + 1, min(OWN_RULE_DEPTH, len(out))):
            local = rows[out[j].chunk_id]
            if (local["jurisdiction"] and same_subject(law, normalise_title(local["title"]))
                    and any(relation(Place(local["jurisdiction"]), p) in ("same", "narrower") for p in places)):
                out.insert(i, out.pop(j))
                moved.add(law)
                break
    return out


def elsewhere(row, places: list[Place]) -> bool:
    """Whether a chunk's document is another place's rule: it applies neither nationally nor in,
    above or within any asked place."""
    doc = Place(row["jurisdiction"])
    return all(relation(doc, place) == "other" for place in places)


def group_order(groups: list[Group], rows: dict, special: list[str]) -> list[Group]:
    """For a question that names no special group: rules written for one (军人抚恤优待条例) after
    the others, in their own order."""
    return sorted(groups, key=lambda g: for_group(rows[g.chunk_id]["title"], rows[g.chunk_id]["heading_path"], special))
