"""The plain data that ingestion produces: a document with its metadata, and its chunks."""

from __future__ import annotations

from dataclasses import dataclass, field

DOC_TYPES = {
    "regulation": "法规制度",
    "speech": "讲话",
    "report": "工作报告",
    "policy": "政策文件",
    "other": "其他",
}
# a version's 时效性; a manifest or the text's own header may declare it, else the versions decide
VERSION_STATUSES = ("现行有效", "已被修改", "已废止")


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
    # where it applies: as a manifest declares it (浙江省, 全国), then as the knowledge base
    # resolves it from the title or issuer: a division code, "" for national
    jurisdiction: str = ""
    status: str = ""  # 时效性 as declared (VERSION_STATUSES), "" when the stored versions decide it
    repealed: str = ""  # ISO date it was repealed (废止日期), when declared
    text: str = ""
    source_format: str = ""
    content_hash: str = ""
    page_starts: list[int] = field(default_factory=list)
    id: int | None = None
    ocr_pages: dict[int, float] = field(default_factory=dict)  # pages read by OCR → confidence (not stored)


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
    ocr_confidence: float | None = None  # read by OCR from a scan: its page's mean confidence
