"""Material baskets for lecture preparation: named lists of passages, each kept as it was
collected (verbatim text, citation and the document's particulars for the reference list) with a
note. They live in the knowledge base, so they outlast a reload or a restart and every user of
one instance sees the same baskets; a passage stays in a basket even if its document is removed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from kb.types import Hit

NAME_CHARS = 60


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


def basket_name(name: str) -> str:
    """A basket's name, trimmed; ValueError (in Chinese) when empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("素材篮名称不能为空")
    if len(name) > NAME_CHARS:
        raise ValueError(f"素材篮名称不能超过 {NAME_CHARS} 个字")
    return name


def add(items: list[BasketItem], item: BasketItem) -> bool:
    """Appends unless the same passage is already there; True when added."""
    if any(i.key() == item.key() for i in items):
        return False
    items.append(item)
    return True


def move(items: list[BasketItem], index: int, delta: int) -> None:
    """Moves one item up (delta -1) or down (+1); out-of-range moves do nothing."""
    target = index + delta
    if 0 <= index < len(items) and 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
