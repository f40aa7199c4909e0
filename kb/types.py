"""The plain data the core passes on: what a search asks (Filters) and returns (Hit, with
its Citation). Documents and chunks come from ingestion (ingest.types)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields

from kb.language.places import Place

# Search modes and how the interfaces name them.
SEARCH_MODES = {"hybrid": "混合（推荐）", "keyword": "关键词", "dense": "语义"}
# How a hit was found, as the interfaces name it.
MATCH_LABELS = {"keyword": "关键词", "dense": "语义", "citation": "条文引用", "phrase": "短语", "precedent": "口径库",
                "approved": "本窗口已确认"}


def labelled_dates(date: str, published: str = "", effective: str = "", doc_type: str = "") -> str:
    """A document's dates, each saying what it is: 2014年2月21日公布，2019-03-02修订，2014年5月1日施行.
    `date` is the version's (ISO); a law known only by it is "2019-03-02版" (it may be a revision)."""
    out = []
    if published:
        out.append(f"{published}公布")
    if date and date != _iso(published):
        if published:
            if is_revision(_iso(published), date):  # else the same rule's promulgation, weeks after adoption
                out.append(f"{date}修订")
        else:
            out.append(f"{date}{'版' if doc_type == 'regulation' else '发布'}")
    if effective:
        out.append(f"{effective}施行")
    return "，".join(out)


def is_revision(first: str, version: str) -> bool:
    """Whether a version dated `version` revised a rule first dated `first` (ISO dates). Dates weeks
    apart are one rule's adoption and promulgation (通过 2003-07-30, 公布 2003-08-08), not a revision."""
    try:
        return (dt.date.fromisoformat(version) - dt.date.fromisoformat(first)).days > 180
    except ValueError:
        return False


def _iso(written: str) -> str:
    """2014年2月21日 → 2014-02-21 ("" when not such a date)."""
    parts = written.replace("年", "-").replace("月", "-").rstrip("日").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return ""
    return f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"


@dataclass
class Filters:
    doc_types: list[str] | None = None
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None
    doc_ids: list[int] | None = None
    issuers: list[str] | None = None
    places: list[str] | None = None  # jurisdictions (division codes, "" = 全国), each with what lies within it
    as_of: str | None = None  # ISO date: of each law, only the version in force that day

    def active(self) -> bool:
        return any(v for v in (self.doc_types, self.date_from, self.date_to, self.doc_ids, self.issuers,
                               self.places, self.as_of))


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
    jurisdiction: str = ""  # where it applies, as a division code ("" = 全国); its label is computed where shown
    published: str = ""  # 公布 date as written (2014年2月21日), when known
    effective: str = ""  # 施行 date as written, when known

    def applies_in(self) -> str:
        """Where a rule applies, for regulations and policy documents ("" for a speech or a report,
        which have an author rather than a jurisdiction)."""
        return Place(self.jurisdiction).label if self.doc_type in ("regulation", "policy") else ""

    def location(self) -> str:
        return " ".join(self.heading_path)  # 第二章 最低生活保障 第十一条: no marks inside a citation

    def dated(self) -> str:
        """The version's date, labelled when known what it is: 2019-03-02修订 (a revision of a rule first
        published earlier), 2017-06-07公布, else the bare date."""
        first = _iso(self.published)
        if not self.date or not first:
            return self.date
        if first == self.date:
            return self.date + "公布"
        return self.date + "修订" if is_revision(first, self.date) else self.date

    def format(self) -> str:
        """《社会救助暂行办法》第二章 最低生活保障 第十一条（国务院令第649号，2019-03-02修订）"""
        text = f"《{self.title}》"
        if self.heading_path:
            text += self.location()
        extra = [x for x in (self.speaker, self.doc_number, self.dated()) if x]
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
    relevance: float | None = None  # the probability that it answers the question (kb.search.relevance), when known
    approved_answer: bool = False  # an approved 口径库 item answers the question with it (本窗口已确认)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["citation"]["formatted"] = self.citation.format()
        # shown as a label (浙江省杭州市, 全国), as it always was in the JSON; the code beside it
        data["citation"]["jurisdiction_code"] = self.citation.jurisdiction
        data["citation"]["jurisdiction"] = Place(self.citation.jurisdiction).label
        return data


@dataclass
class BasketItem:
    chunk_id: int
    doc_id: int
    title: str
    location: str  # heading path: 第二章 最低生活保障 第十一条
    citation: str  # the formatted citation: 《社会救助暂行办法》第二章 最低生活保障 第十一条（…）
    text: str  # verbatim passage
    start: int
    end: int
    note: str = ""
    # the document's particulars, for the reference list
    doc_type: str = ""
    issuer: str = ""
    doc_number: str = ""
    date: str = ""
    published: str = ""
    effective: str = ""
    speaker: str = ""

    @classmethod
    def from_hit(cls, hit: Hit) -> BasketItem:
        c = hit.citation
        return cls(hit.chunk_id, hit.doc_id, c.title, c.location(), c.format(), hit.text, hit.start, hit.end,
                   doc_type=c.doc_type, issuer=c.issuer, doc_number=c.doc_number, date=c.date,
                   published=c.published, effective=c.effective, speaker=c.speaker)

    @classmethod
    def from_dict(cls, data: dict) -> BasketItem:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def key(self) -> tuple[int, int, int]:
        return self.doc_id, self.start, self.end

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Basket:
    id: int
    name: str
    items: int  # how many passages it holds
    updated_at: str


def local_time(stored: str) -> str:
    """A time the store wrote (UTC, SQLite's datetime('now')) in this machine's time zone, to the minute."""
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC).astimezone()
    except ValueError:
        return stored
    return moment.strftime("%Y-%m-%d %H:%M")
