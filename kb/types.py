"""The plain data passed between stages: reading → chunking → storing → ranking → citing."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

DOC_TYPES = {
    "regulation": "法规制度",
    "speech": "讲话",
    "report": "工作报告",
    "policy": "政策文件",
    "other": "其他",
}


@dataclass
class Document:
    path: str
    title: str
    doc_type: str = "other"
    issuer: str = ""
    doc_number: str = ""
    date: str = ""  # ISO date of this version (YYYY-MM-DD), "" when unknown
    published: str = ""  # as written, e.g. 2014年2月21日
    effective: str = ""  # 施行日期, as written
    speaker: str = ""
    text: str = ""
    source_format: str = ""
    content_hash: str = ""
    page_starts: list[int] = field(default_factory=list)
    id: int | None = None


@dataclass
class Chunk:
    text: str
    heading_path: list[str]
    start: int  # character offsets into Document.text
    end: int
    page: int | None = None
    article: str = ""  # 第十一条 for a regulation's article, "" otherwise
    seq: int = 0
    doc_id: int | None = None
    id: int | None = None


@dataclass
class Citation:
    title: str
    heading_path: list[str]
    page: int | None
    date: str
    doc_number: str
    doc_type: str
    speaker: str = ""

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
