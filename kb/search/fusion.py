"""Fusing ranked lists and grouping chunks into articles, as plain functions over plain data.

Reciprocal rank fusion (Cormack et al., 2009): each list adds weight / (k + rank) to every
chunk it ranks. Grouping then gives one result per article, however many of its chunks
matched, with the versions of one law counted as one article shown from the newest."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ranking:
    """One retriever's chunk ids, best first."""

    name: str  # how the interfaces name the source: "keyword" | "dense"
    chunk_ids: list[int]
    weight: float = 1.0
    scores: list[float] = field(default_factory=list)  # the retriever's own scores, when it has them
    role: str = ""  # which evidence it is for learned fusion: "keyword" | "expanded" | "dense" | "precedent"
    votes: dict = field(default_factory=dict)  # precedents only: article key → kb.search.precedents.Vote


@dataclass
class Fused:
    score: float = 0.0
    sources: set[str] = field(default_factory=set)


@dataclass
class ChunkKey:
    """What grouping needs to know of a chunk."""

    title: str  # normalised law title
    article: str  # "" outside articles
    date: str  # the document's version date


@dataclass
class Group:
    """One article (or one chunk outside articles): the score of its best chunk, the chunk to
    show (from the newest version), and every retriever that found any of its chunks."""

    key: tuple
    score: float
    chunk_id: int
    sources: set[str]
    date: str
    members: list[int] = field(default_factory=list)  # every fused chunk of the article, best first


def reciprocal_rank_fusion(rankings: list[Ranking], k: int = 60) -> dict[int, Fused]:
    """Chunk id → fused score and the rankings that named it, in order of first appearance."""
    fused: dict[int, Fused] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking.chunk_ids):
            entry = fused.setdefault(chunk_id, Fused())
            entry.score += ranking.weight / (k + rank + 1)
            entry.sources.add(ranking.name)
    return fused


def group_by_article(fused: dict[int, Fused], keys: dict[int, ChunkKey]) -> list[Group]:
    """Groups, best first (ties keep the order of their best chunks). Chunks without a key
    (not in the store) are left out."""
    groups: dict[tuple, Group] = {}
    for chunk_id, entry in sorted(fused.items(), key=lambda kv: -kv[1].score):
        info = keys.get(chunk_id)
        if info is None:
            continue
        key = (info.title, info.article) if info.article else ("chunk", chunk_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, entry.score, chunk_id, set(), info.date)
        group.sources.update(entry.sources)
        group.members.append(chunk_id)
        if info.date > group.date:  # a newer version of the same article
            group.chunk_id, group.date = chunk_id, info.date
    return sorted(groups.values(), key=lambda g: -g.score)
