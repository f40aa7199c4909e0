"""Hybrid retrieval: BM25 over jieba words and dense vectors, fused by reciprocal rank.

Also: "exact phrases" in quotes, a citation typed as a query (社会救助暂行办法第十一条)
going straight to that article, glossary expansion, filters, and one result per
article however many of its chunks matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from kb.store import Filters, Store, citation_from_row
from kb.text import Glossary, tokenize
from kb.types import Hit
from kb.vectors import VectorIndex

MODES = ("hybrid", "keyword", "dense")
# The query is embedded on this thread while SQLite ranks keywords: both release the GIL.
_QUERY_EMBEDDING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-query")
_PHRASE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')
CN_DIGITS = "零一二三四五六七八九"
_CITATION = re.compile(
    r"《?([\u4e00-\u9fff（）()〈〉]{2,40}?)》?\s*第\s*([一二三四五六七八九十百千零〇两\d]+)\s*条(?:之([一二三四五六七八九十]+))?"
)


@dataclass
class ParsedQuery:
    text: str  # the query without quote marks
    phrases: list[str]
    expansions: list[str] = field(default_factory=list)


def parse_query(query: str, glossary: Glossary | None = None) -> ParsedQuery:
    phrases = [next(g for g in m.groups() if g) for m in _PHRASE.finditer(query)]
    text = _PHRASE.sub(lambda m: " " + next(g for g in m.groups() if g) + " ", query).strip()
    expansions = glossary.expansions(text) if glossary else []
    return ParsedQuery(text=text, phrases=[p.strip() for p in phrases if p.strip()], expansions=expansions)


def chinese_number(n: int) -> str:
    """11 → 十一, 105 → 一百零五 (article numbers as written in Chinese statutes)."""
    if n < 10:
        return CN_DIGITS[n]
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out, zero = "", False
    for value, name in units:
        digit, n = divmod(n, value)
        if digit:
            if zero:
                out += "零"
            out += ("" if value == 10 and digit == 1 and not out else CN_DIGITS[digit]) + name
            zero = False
        elif out:
            zero = True
    if n:
        out += ("零" if zero else "") + CN_DIGITS[n]
    return out


def normalise_title(title: str) -> str:
    title = re.sub(r"[《》〈〉\s]", "", title)
    title = re.sub(r"[（(]\d{4}[-年].*?[)）]$", "", title)
    return title.removeprefix("中华人民共和国")


class Searcher:
    def __init__(self, store: Store, vectors: VectorIndex, embed_query: Callable[[str], np.ndarray],
                 glossary: Glossary, keyword_depth: int = 100, dense_depth: int = 100, rrf_k: int = 60,
                 keyword_weight: float = 1.0, dense_weight: float = 1.0):
        self.store = store
        self.vectors = vectors
        self.embed_query = embed_query
        self.glossary = glossary
        self.keyword_depth = keyword_depth
        self.dense_depth = dense_depth
        self.rrf_k = rrf_k
        self.keyword_weight = keyword_weight
        self.dense_weight = dense_weight

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"未知的检索方式：{mode}（可选 {', '.join(MODES)}）")
        filters = filters or Filters()
        parsed = parse_query(query, self.glossary)
        # Each retriever offers at least twice the articles asked for: chunks of one article merge.
        keyword_depth, dense_depth = max(self.keyword_depth, 2 * k), max(self.dense_depth, 2 * k)
        hits: list[Hit] = []
        cited = self.resolve_citation(parsed.text, filters)
        if cited:
            hits.append(cited)
        scores: dict[int, float] = {}
        sources: dict[int, set[str]] = {}
        dense = mode in ("hybrid", "dense") and len(self.vectors)
        if dense:
            query_vector = _QUERY_EMBEDDING.submit(self.embed_query, " ".join([parsed.text, *parsed.expansions]))
        if mode in ("hybrid", "keyword"):
            # The user's own words and the glossary-expanded words rank separately, so an
            # expansion (兜底 → 最低生活保障) adds candidates without drowning the original term.
            queries = [tokenize(parsed.text)]
            if parsed.expansions:
                queries.append(tokenize(" ".join([parsed.text, *parsed.expansions])))
            for words in queries:
                ranked = self.store.keyword_search(words, keyword_depth, filters, parsed.phrases)
                self._fuse(scores, sources, ranked, self.keyword_weight / len(queries), "keyword")
            if not scores and parsed.phrases:  # a phrase whose words jieba splits differently
                ranked = [(cid, 0.0) for cid in self.store.phrase_chunk_ids(parsed.phrases, filters,
                                                                              keyword_depth)]
                self._fuse(scores, sources, ranked, self.keyword_weight, "keyword")
        if dense:
            allowed = None
            if parsed.phrases:
                allowed = np.array(self.store.phrase_chunk_ids(parsed.phrases, filters, 100000), dtype=np.int64)
            elif filters.active():
                allowed = self.store.filtered_chunk_ids(filters)
            ranked = self.vectors.search(query_vector.result(), dense_depth, allowed)
            self._fuse(scores, sources, ranked, self.dense_weight, "dense")
        hits.extend(self._group(scores, sources, k + len(hits), skip=hits))
        return hits[:k]

    def _fuse(self, scores: dict[int, float], sources: dict[int, set[str]], ranked: list[tuple[int, float]],
              weight: float, name: str) -> None:
        for rank, (chunk_id, _score) in enumerate(ranked):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (self.rrf_k + rank + 1)
            sources.setdefault(chunk_id, set()).add(name)

    def _group(self, scores: dict[int, float], sources: dict[int, set[str]], k: int, skip: list[Hit]) -> list[Hit]:
        """One hit per article (or per chunk outside articles), scored by its best chunk. The
        versions of one law count as one: the article is shown from the newest version."""
        rows = self.store.chunks(list(scores))
        groups: dict[tuple, list] = {}  # key → [score, chunk id, sources, version date]
        for chunk_id, score in sorted(scores.items(), key=lambda kv: -kv[1]):
            row = rows.get(chunk_id)
            if row is None:  # the vector index may briefly hold ids a crashed run never committed
                continue
            key = (normalise_title(row["title"]), row["article"]) if row["article"] else ("chunk", chunk_id)
            group = groups.setdefault(key, [score, chunk_id, set(), row["date"]])
            group[2].update(sources[chunk_id])
            if row["date"] > group[3]:  # a newer version of the same article
                group[1], group[3] = chunk_id, row["date"]
        seen = {(normalise_title(h.citation.title), h.article) for h in skip if h.article}
        out: list[Hit] = []
        for key, (score, chunk_id, matched, _date) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
            if key in seen:
                continue
            out.append(self._hit(rows[chunk_id], score, sorted(matched)))
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
        """社会救助暂行办法第十一条 / 《慈善法》第10条 → that article, if the knowledge base has it."""
        m = _CITATION.search(text)
        if not m:
            return None
        name = normalise_title(m.group(1))
        number = m.group(2)
        if number.isdigit():
            number = chinese_number(int(number))
        article = f"第{number}条" + (f"之{m.group(3)}" if m.group(3) else "")
        candidates = []
        for doc_id, title, date in self.store.titles():
            if filters.doc_ids and doc_id not in filters.doc_ids:
                continue
            norm = normalise_title(title)
            if norm == name:
                candidates.append((0, date, doc_id))
            elif name.endswith(norm) or norm.endswith(name):
                candidates.append((1, date, doc_id))
        # exact title first, then the newest version
        candidates.sort(key=lambda c: c[1], reverse=True)
        candidates.sort(key=lambda c: c[0])
        for _, _, doc_id in candidates:
            span = self.store.article_span(doc_id, article)
            if span:
                row = self.store.chunks([span[0]])[span[0]]
                return self._hit(row, float("inf"), ["citation"])
        return None
