"""The material basket for lecture preparation: passages collected in order, each with its
citation and a note, exported to Markdown or DOCX with a citation list at the end."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

from kb.types import Hit

EXPORT_FONT = "宋体"  # East Asian font name written into the DOCX; Word falls back if absent


@dataclass
class BasketItem:
    chunk_id: int
    doc_id: int
    title: str
    location: str  # heading path: 第二章 最低生活保障 › 第十一条
    citation: str  # the formatted citation: 《社会救助暂行办法》第二章 … › 第十一条（…）
    text: str  # verbatim passage
    start: int
    end: int
    note: str = ""

    @classmethod
    def from_hit(cls, hit: Hit) -> BasketItem:
        return cls(hit.chunk_id, hit.doc_id, hit.citation.title, hit.citation.location(), hit.citation.format(),
                   hit.text, hit.start, hit.end)

    def key(self) -> tuple[int, int, int]:
        return self.doc_id, self.start, self.end

    def to_dict(self) -> dict:
        return asdict(self)


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


def citation_list(items: list[BasketItem]) -> list[str]:
    """Each distinct citation once, in order of first use."""
    return list(dict.fromkeys(i.citation for i in items))


def to_markdown(items: list[BasketItem], title: str = "学习素材") -> str:
    lines = [f"# {title}", ""]
    for n, item in enumerate(items, 1):
        lines += [f"## {n}. 《{item.title}》{item.location}", ""]
        lines += [f"> {line}" if line else ">" for line in item.text.split("\n")]
        lines += ["", f"出处：{item.citation}", ""]
        if item.note.strip():
            lines += [f"备注：{item.note.strip()}", ""]
    lines += ["## 引用文献", ""]
    lines += [f"{n}. {c}" for n, c in enumerate(citation_list(items), 1)]
    return "\n".join(lines) + "\n"


def to_docx(items: list[BasketItem], title: str = "学习素材") -> bytes:
    from docx import Document as DocxDocument
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = DocxDocument()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EXPORT_FONT)
    doc.add_heading(title, level=0)
    for n, item in enumerate(items, 1):
        doc.add_heading(f"{n}. 《{item.title}》{item.location}", level=2)
        for line in item.text.split("\n"):
            doc.add_paragraph(line, style="Quote")
        source = doc.add_paragraph()
        source.add_run("出处：").bold = True
        source.add_run(item.citation)
        if item.note.strip():
            note = doc.add_paragraph()
            note.add_run("备注：").bold = True
            note.add_run(item.note.strip())
    doc.add_heading("引用文献", level=1)
    for citation in citation_list(items):
        doc.add_paragraph(citation, style="List Number")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
