"""The plain data the core passes on: what a search asks (Filters) and returns (Hit, with
its Citation). Documents and chunks come from ingestion (ingest.types)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Search modes and how the interfaces name them.
SEARCH_MODES = {"hybrid": "混合（推荐）", "keyword": "关键词", "dense": "语义"}
# How a hit was found, as the interfaces name it.
MATCH_LABELS = {"keyword": "关键词", "dense": "语义", "citation": "条文引用", "phrase": "短语"}


@dataclass
class Filters:
    doc_types: list[str] | None = None
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None
    doc_ids: list[int] | None = None
    issuers: list[str] | None = None
    places: list[str] | None = None  # jurisdictions (division codes, "" = 全国), each with what lies within it

    def active(self) -> bool:
        return any(v for v in (self.doc_types, self.date_from, self.date_to, self.doc_ids, self.issuers,
                               self.places))


@dataclass
class Citation:
    title: str
    heading_path: list[str]
    page: int | None
    date: str
    doc_number: str
    doc_type: str
    speaker: str = ""
    issuer: str = ""
    jurisdiction: str = ""  # where it applies: 全国, 浙江省, 浙江省杭州市 ...

    def applies_in(self) -> str:
        """Where a rule applies, for regulations and policy documents ("" for a speech or a report,
        which have an author rather than a jurisdiction)."""
        return (self.jurisdiction or "全国") if self.doc_type in ("regulation", "policy") else ""

    def location(self) -> str:
        return " › ".join(self.heading_path)

    def format(self) -> str:
        """《社会救助暂行办法》第二章 最低生活保障 › 第十一条（国务院令第649号，2019-03-02）"""
        text = f"《{self.title}》"
        if self.heading_path:
            text += self.location()
        extra = [x for x in (self.speaker, self.doc_number, self.date) if x]
        if self.page:
            extra.append(f"第{self.page}页")
        if extra:
            text += "（" + "，".join(extra) + "）"
        return text


@dataclass
class Hit:
    chunk_id: int
    doc_id: int
    score: float
    text: str  # verbatim passage: the whole article for a regulation
    citation: Citation
    start: int
    end: int
    article: str = ""
    matched_by: list[str] = field(default_factory=list)  # "keyword", "dense", "citation", "phrase"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["citation"]["formatted"] = self.citation.format()
        return data
