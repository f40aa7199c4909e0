"""A material basket exported for a lecture: Markdown, or a DOCX that looks like a Chinese
official document (仿宋 body, 黑体 headings, all black, nothing italic). Each passage is verbatim
and followed by its own 出处 line; the reference list at the end names each document once, in
GB/T 7714-2015 style, with its issuer, 文号 and labelled dates (公布, 修订, 施行)."""

from __future__ import annotations

import io
import re

from kb.language.query import chinese_number
from kb.library.diff import STATUSES, Change
from kb.types import BasketItem, labelled_dates

BODY_FONT = "仿宋"  # East Asian fonts written into the DOCX; Word substitutes a near one if absent
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
REFERENCE_TYPE = {"regulation": "Z", "policy": "Z", "report": "R", "speech": "Z"}  # GB/T 7714 type codes
# GB/T 9704-2012: A4 paper, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (python-docx's own
# default is US Letter with one-inch margins, which Chinese offices print wrongly)
PAGE_MM = (210, 297)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARGINS_MM = {"top_margin": 37, "bottom_margin": 35, "left_margin": 28, "right_margin": 26}


def heading(n: int, item: BasketItem, chinese: bool) -> str:
    number = f"{chinese_number(n)}、" if chinese else f"{n}. "
    return f"{number}《{item.title}》{item.location}".rstrip()


def reference(item: BasketItem) -> str:
    """One GB/T 7714-2015 style entry: 国务院. 社会救助暂行办法：国务院令第649号[Z]. 2014年2月21日公布，…"""
    author = item.speaker or item.issuer
    title = item.title + (f"：{item.doc_number}" if item.doc_number else "")
    entry = (f"{author}. " if author else "") + f"{title}[{REFERENCE_TYPE.get(item.doc_type, 'Z')}]"
    when = labelled_dates(item.date, item.published, item.effective, item.doc_type)
    return entry + (f". {when}." if when else ".")


def references(items: list[BasketItem]) -> list[str]:
    """Each document once, in order of first use."""
    first: dict[tuple, BasketItem] = {}
    for item in items:
        first.setdefault((item.title, item.date, item.doc_number), item)
    return [reference(item) for item in first.values()]


def to_markdown(items: list[BasketItem], title: str = "学习素材", chinese_numbers: bool = False) -> str:
    lines = [f"# {title}", ""]
    for n, item in enumerate(items, 1):
        lines += [f"## {heading(n, item, chinese_numbers)}", ""]
        lines += [f"> {line}" if line else ">" for line in item.text.split("\n")]
        lines += ["", f"出处：{item.citation}", ""]
        if item.note.strip():
            lines += [f"备注：{item.note.strip()}", ""]
    lines += ["## 参考文献", ""]
    lines += [f"[{n}] {ref}" for n, ref in enumerate(references(items), 1)]
    return "\n".join(lines) + "\n"


def _fonts(style_or_run, east_asian: str, size: float | None = None, bold: bool | None = None) -> None:
    """Black, upright, with the East Asian font set (python-docx sets only the Latin one)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = style_or_run.font
    font.name = LATIN_FONT
    font.italic = False
    font.color.rgb = RGBColor(0, 0, 0)
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    fonts = style_or_run.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):  # the theme overrides the name
        fonts.attrib.pop(qn(theme), None)


def _official(title: str):
    """A new DOCX with the official-document styles and a centred title."""
    from docx import Document as DocxDocument
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = DocxDocument()
    official_page(doc)
    _fonts(doc.styles["Normal"], BODY_FONT, 16)  # 三号仿宋, the body of an official document
    doc.styles["Normal"].paragraph_format.line_spacing = Pt(28)
    _fonts(doc.styles["Title"], TITLE_FONT, 22, bold=True)  # 二号
    for level in (1, 2):
        _fonts(doc.styles[f"Heading {level}"], HEADING_FONT, 16, bold=False)
    for border in doc.styles["Title"].element.xpath(".//w:pBdr"):  # Word's title underline
        border.getparent().remove(border)
    doc.add_paragraph(title, style="Title").alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def official_page(doc) -> None:
    """Every section of `doc` on A4 paper with the margins of GB/T 9704."""
    from docx.shared import Mm

    for section in doc.sections:
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        for side, mm in MARGINS_MM.items():
            setattr(section, side, Mm(mm))


def comparison_docx(old: dict, new: dict, changes: list[Change], unchanged: bool = False) -> bytes:
    """新旧对照表: two columns, the old version's article beside the new one's; what was deleted is
    struck through, what was added is bold and underlined (never italic); a third column says what
    happened. Unchanged articles only when `unchanged`."""
    from docx.shared import Pt

    doc = _official(f"《{new['title']}》新旧对照")
    doc.add_paragraph(f"{old['date']}版 → {new['date']}版。" + "，".join(
        f"{label} {sum(c.status == status for c in changes)} 条" for status, label in STATUSES.items()) + "。")
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, (f"{old['date']}版", f"{new['date']}版", "变化")):
        _fonts(cell.paragraphs[0].add_run(text), HEADING_FONT, 12)
    for change in changes:
        if change.status == "unchanged" and not unchanged:
            continue
        left, right, what = table.add_row().cells
        for cell, article, side in ((left, change.old, "delete"), (right, change.new, "insert")):
            if article is None:
                continue
            paragraph = cell.paragraphs[0]
            _fonts(paragraph.add_run(article.number + " "), HEADING_FONT, 12)
            for tag, text in change.pieces:
                if tag not in ("equal", side):
                    continue
                run = paragraph.add_run(text)
                _fonts(run, BODY_FONT, 12)
                if tag == "delete":
                    run.font.strike = True
                elif tag == "insert" and change.status != "added":
                    run.font.bold = run.font.underline = True
        _fonts(what.paragraphs[0].add_run(STATUSES[change.status]), BODY_FONT, 12)
    for row in table.rows:
        for cell, width in zip(row.cells, (6.8, 6.8, 2.0)):  # cm: the 156 mm between A4's margins
            cell.width = Pt(width * 28.35)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_docx(items: list[BasketItem], title: str = "学习素材", chinese_numbers: bool = False) -> bytes:
    from docx.shared import Pt

    doc = _official(title)
    for n, item in enumerate(items, 1):
        doc.add_paragraph(heading(n, item, chinese_numbers), style="Heading 2")
        for line in item.text.split("\n"):
            if line.strip():
                passage = doc.add_paragraph(line.strip())
                passage.paragraph_format.first_line_indent = Pt(32)  # two characters
        source = doc.add_paragraph()
        source.add_run("出处：").bold = True
        source.add_run(item.citation)
        if item.note.strip():
            note = doc.add_paragraph()
            note.add_run("备注：").bold = True
            note.add_run(item.note.strip())
    doc.add_paragraph("参考文献", style="Heading 1")
    for n, ref in enumerate(references(items), 1):
        doc.add_paragraph(f"[{n}] {ref}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ 引文核对: drafts in and out
DRAFT_SUFFIXES = (".txt", ".md", ".docx")
MAX_DRAFT_BYTES = 20 * 2**20
CHECK_AUTHOR = "引文核对"


def read_draft(name: str, data: bytes) -> str:
    """A draft's text: a TXT or MD file decoded, or a DOCX's body paragraphs one per line (the
    lines that `commented_docx` comments on). Raises ReadError naming the file and the problem."""
    from ingest.limits import Limits
    from ingest.readers import ReadError, check_archive, decode_text

    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in DRAFT_SUFFIXES:
        raise ReadError(name, f"不支持的稿件格式“{suffix or '无扩展名'}”，请用 TXT、MD 或 DOCX")
    if len(data) > MAX_DRAFT_BYTES:
        raise ReadError(name, f"文件过大（{len(data) / 2**20:.0f} MB，稿件上限 {MAX_DRAFT_BYTES // 2**20} MB）")
    if suffix != ".docx":
        return decode_text(name, data)[0].replace("\r\n", "\n")
    check_archive(name, data, Limits())
    return "\n".join(p.text for p in _open_docx(name, data).paragraphs)


def _open_docx(name: str, data: bytes):
    import zipfile

    import docx

    from ingest.readers import ReadError

    try:
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError(name, f"DOCX 文件已损坏或不是 Word 文档（{exc}）") from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("docx", "lxml")):
            raise ReadError(name, f"DOCX 文件已损坏或不是 Word 文档（{exc}）") from exc
        raise


def commented_docx(draft: str, results: list, original: tuple[str, bytes] | None = None) -> bytes:
    """The draft as a DOCX with a Word comment on each quotation (`results`: QuoteResult): its status,
    why, its source's citation and the source's wording. `original` (name, bytes of a DOCX): that
    document, kept as it is but for the comments; else a new A4 document of the draft's lines."""
    if original:
        doc = _open_docx(*original)
        paragraphs = doc.paragraphs
    else:
        doc = _official("稿件（引文核对）")
        paragraphs = [doc.add_paragraph(_xml_safe(line)) for line in draft.split("\n")]
    starts, at = [], 0
    for p in paragraphs:
        starts.append(at)
        at += len(p.text) + 1
    for result in results:
        q = result.quote
        n = max(i for i, s in enumerate(starts) if s <= q.start)
        paragraph, offset = paragraphs[n], starts[n]
        end = min(q.end, offset + len(paragraph.text))
        runs = _runs_between(paragraph, q.start - offset, end - offset)
        if runs:
            doc.add_comment(runs, _xml_safe(_comment(result)), author=CHECK_AUTHOR, initials="核")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """Characters XML cannot hold (a form feed from pdftotext, a NUL) as spaces: one for one, so the
    draft's offsets still hold."""
    return _NOT_XML.sub(" ", text)


def _comment(result) -> str:
    from kb.library.quote_check import STATUSES

    lines = [f"【{STATUSES[result.status]}】" + (result.note or "")]
    changes = [(kind, quoted, source) for kind, quoted, source in result.differences if kind != "equal"]
    if changes:
        said = {"changed": "改", "added": "多", "missing": "漏"}
        lines.append("差异：" + "；".join(f"{said[k]}“{q or s}”" + (f"（原文“{s}”）" if k == "changed" else "")
                                        for k, q, s in changes[:8]))
    if result.source:
        lines.append("出处：" + result.source["citation"])
    if result.current and result.status != "exact":
        lines.append(("现行表述：" if result.status == "outdated" else "原文：") + result.current)
    return "\n".join(lines)


def _runs_between(paragraph, start: int, end: int) -> list:
    """The runs that hold characters [start, end) of a paragraph's text, a run of plain text split
    where a boundary falls inside it; a run that cannot be split (a page break, a picture) or a
    hyperlink is taken whole where the range touches it ([] when it touches none)."""
    _split_at(paragraph, start)
    _split_at(paragraph, end)
    held, at = [], 0
    for item in paragraph.iter_inner_content():
        length = len(item.text)
        if length and at < end and start < at + length:
            held.extend(item.runs if hasattr(item, "runs") else [item])  # a hyperlink: its runs
        at += length
    return held


_PLAIN = {"rPr", "t", "tab", "lastRenderedPageBreak"}  # what a split run may hold (Word's page-break hint is dropped)


def _split_at(paragraph, offset: int) -> None:
    """Splits the plain-text run in which `offset` falls inside, in two runs of the same formatting."""
    import copy

    from docx.text.run import Run

    at = 0
    for item in paragraph.iter_inner_content():
        length = len(item.text)
        if at < offset < at + length:
            if hasattr(item, "font") and all(child.tag.rsplit("}", 1)[-1] in _PLAIN for child in item._r):
                text, k = item.text, offset - at
                right = copy.deepcopy(item._r)
                item._r.addnext(right)
                item.text = text[:k]
                Run(right, item._parent).text = text[k:]
            return
        at += length
