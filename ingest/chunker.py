"""Structure-aware chunking of Chinese documents.

Regulations split at 条 with 编/章/节 kept in the heading path; an over-long 条
splits at its 款 with the article's head repeated. Reports and speeches split at
一、/（一）/1. headings, then at sentence ends into bounded, overlapping chunks.
Every chunk carries its heading path, character offsets and page.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ingest.articles import ARTICLE, NUMERAL
from ingest.types import Chunk

CN_NUM = NUMERAL
# PDF text often loses the space after 第X条; the lookahead keeps out references such as 第三条规定的.
_ARTICLE = re.compile(rf"^({ARTICLE})(?![的规所中和或、，及至])")
HEADING_LINE_MAX = 30
_PART = re.compile(rf"^第[{CN_NUM}\d]+编(?:[\s\u3000]*\S.*)?$")
_CHAPTER = re.compile(rf"^(?:第[{CN_NUM}\d]+章(?:[\s\u3000]*\S.*)?|序言|总则|附则|附件.{{0,30}})$")
_SECTION = re.compile(rf"^第[{CN_NUM}\d]+节(?:[\s\u3000]*\S.*)?$")

ITEM = re.compile(rf"^[（(][{CN_NUM}]+[)）]")  # （一） items of a 款, or second-level headings
_PROSE_HEADINGS = (
    re.compile(rf"^(?:第[{CN_NUM}]+部分|[{CN_NUM}]+、)"),
    ITEM,
    re.compile(r"^\d{1,2}(?:[.．、](?!\d)|\s)"),
)
_SENTENCE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』）)]*|$)")
HEADING_MAX = 40


@dataclass
class ChunkSizes:
    article_max: int = 500  # an article longer than this splits at its 款
    prose_max: int = 400
    prose_overlap: int = 80


@dataclass
class _Line:
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")  # whitespace and zero-width characters

def split_lines(text: str) -> list[_Line]:
    lines, pos = [], 0
    for raw in text.split("\n"):
        if raw.strip():
            lines.append(_Line(raw, pos))
        pos += len(raw) + 1
    return lines


def is_regulation(text: str) -> bool:
    return sum(1 for line in text.split("\n") if _ARTICLE.match(line)) >= 3


def chunk_document(text: str, page_starts: list[int] | None = None, title: str = "",
                   sizes: ChunkSizes | None = None, structure: str | None = None) -> list[Chunk]:
    """`structure` forces "regulation" or "prose"; by default it is read from the text."""
    sizes = sizes or ChunkSizes()
    lines = split_lines(text)
    if lines and title and lines[0].text.strip("《》 ") == title:
        lines = lines[1:]
    if structure is None:
        structure = "regulation" if is_regulation(text) else "prose"
    chunks = _regulation_chunks(lines, sizes) if structure == "regulation" else _prose_chunks(lines, [], sizes)
    # a chunk of nothing visible (a stray zero-width space) would be an empty card in every search
    chunks = [c for c in chunks if _INVISIBLE.sub("", c.text)]
    for seq, chunk in enumerate(chunks):
        chunk.seq = seq
        if page_starts:
            chunk.page = bisect_right(page_starts, chunk.start)
    return chunks


# ----------------------------------------------------------------- regulations

def _regulation_chunks(lines: list[_Line], sizes: ChunkSizes) -> list[Chunk]:
    part = chapter = section = ""
    chunks: list[Chunk] = []
    preamble: list[_Line] = []
    article: list[_Line] = []
    article_no = ""
    article_path: list[str] = []

    def flush_article() -> None:
        nonlocal article
        if article:
            chunks.extend(_article_chunks(article, article_no, article_path, sizes))
        article = []

    def flush_preamble() -> None:
        nonlocal preamble
        if preamble:
            path = [p for p in (part, chapter, section) if p]
            chunks.extend(_prose_chunks(preamble, path, sizes))
        preamble = []

    for line in lines:
        s = line.text.strip()
        level = _regulation_heading_level(s)
        if level is not None:
            flush_article()
            flush_preamble()
            if level == 0:
                part, chapter, section = _squash(s), "", ""
            elif level == 1:
                chapter, section = _squash(s), ""
            else:
                section = _squash(s)
            continue
        m = _ARTICLE.match(s)
        if m:
            flush_article()
            flush_preamble()
            article_no = m.group(1)
            article_path = [p for p in (part, chapter, section) if p] + [article_no]
            article = [line]
        elif article:
            article.append(line)
        elif _is_header_line(s):
            continue  # 公布/施行 lines under the title are metadata, not content
        else:
            preamble.append(line)
    flush_article()
    flush_preamble()
    return chunks


def _regulation_heading_level(s: str) -> int | None:
    if len(s) > HEADING_LINE_MAX:
        return None
    for level, pattern in enumerate((_PART, _CHAPTER, _SECTION)):
        if pattern.match(s):
            return level
    return None


def heading_level(line: str, regulation: bool) -> int | None:
    """The heading level of a line (0 = top) as the chunker reads it, None for body text."""
    line = line.strip()
    if regulation:
        return _regulation_heading_level(line)
    found = _prose_heading(line)
    return found[0] if found and found[1] == line else None


def _is_header_line(s: str) -> bool:
    return bool(re.match(r"^[（(]?\d{4}\s*年\s*\d{1,2}\s*月", s)) and len(s) < 200


def _squash(heading: str) -> str:
    return re.sub(r"[\s\u3000]+", " ", heading).strip()


def _article_chunks(lines: list[_Line], article_no: str, path: list[str], sizes: ChunkSizes) -> list[Chunk]:
    start, end = lines[0].start, lines[-1].end
    whole = "\n".join(line.text for line in lines)
    if len(whole) <= sizes.article_max:
        return [Chunk(whole, list(path), start, end, article=article_no)]
    # Over-long: split at 款 (lines), repeating the article's head so each piece reads on its own.
    head = lines[0].text
    head_prefix = head if len(head) <= 80 else head[:80] + "……"
    pieces: list[list[_Line]] = [[]]
    size = 0
    for line in _split_long_lines(lines, sizes.article_max - len(head_prefix) - 1):
        if pieces[-1] and size + len(line.text) > sizes.article_max - len(head_prefix):
            pieces.append([])
            size = 0
        pieces[-1].append(line)
        size += len(line.text) + 1
    chunks = []
    for i, piece in enumerate(pieces):
        body = "\n".join(line.text for line in piece)
        text = body if i == 0 else f"{head_prefix}\n{body}"
        chunks.append(Chunk(text, list(path), piece[0].start, piece[-1].end, article=article_no))
    return chunks


def _split_long_lines(lines: list[_Line], limit: int) -> list[_Line]:
    out: list[_Line] = []
    for line in lines:
        if len(line.text) <= limit:
            out.append(line)
            continue
        for text, start, _end in _pack(_sentences(line), limit, 0):
            out.append(_Line(text, start))
    return out


# ----------------------------------------------------------------------- prose

def _prose_heading(s: str) -> tuple[int, str] | None:
    for level, pattern in enumerate(_PROSE_HEADINGS):
        if pattern.match(s):
            if len(s) <= HEADING_MAX and not s.endswith(("。", "；")):
                return level, s
            m = re.match(rf"^(.{{2,{HEADING_MAX}}}?)[。：:；]", s)
            if m:
                return level, m.group(1)
            return None
    return None


def _prose_chunks(lines: list[_Line], base_path: list[str], sizes: ChunkSizes) -> list[Chunk]:
    chunks: list[Chunk] = []
    headings: list[str | None] = [None, None, None]
    section: list[_Line] = []

    def flush() -> None:
        nonlocal section
        if section:
            path = base_path + [h for h in headings if h]
            for text, start, end in _pack([s for line in section for s in _sentences(line)],
                                          sizes.prose_max, sizes.prose_overlap):
                chunks.append(Chunk(text, list(path), start, end))
        section = []

    for line in lines:
        s = line.text.strip()
        found = _prose_heading(s)
        if found:
            flush()
            level, heading = found
            headings[level] = heading
            for deeper in range(level + 1, len(headings)):
                headings[deeper] = None
            if len(s) > len(heading) + 1:  # heading runs into its paragraph: keep the text
                section.append(line)
            continue
        section.append(line)
    flush()
    return chunks


def split_sentences(text: str) -> list[str]:
    """Sentences of one line, each with its end punctuation and closing quotes."""
    return [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def _sentences(line: _Line) -> list[_Line]:
    out = []
    for m in _SENTENCE.finditer(line.text):
        if m.group(0).strip():
            out.append(_Line(m.group(0), line.start + m.start()))
    return out


def _pack(sentences: list[_Line], limit: int, overlap: int) -> list[tuple[str, int, int]]:
    """Greedy packing of consecutive sentences into spans of at most `limit` characters;
    each new span starts with the previous span's last sentences (up to `overlap` characters).
    A sentence longer than `limit` is cut into pieces."""
    units: list[_Line] = []
    for s in sentences:
        for i in range(0, len(s.text), limit):
            units.append(_Line(s.text[i:i + limit], s.start + i))
    spans: list[_Line] = []
    current: list[_Line] = []
    for unit in units:
        if current and unit.end - current[0].start > limit:
            spans.append(current)
            carry: list[_Line] = []
            for prev in reversed(current):
                if sum(len(c.text) for c in carry) + len(prev.text) > overlap:
                    break
                carry.insert(0, prev)
            current = carry if carry and unit.end - carry[0].start <= limit else []
        current.append(unit)
    if current:
        spans.append(current)
    return [_span_text(span) for span in spans]


def _span_text(span: list[_Line]) -> tuple[str, int, int]:
    # Sentences from different lines are joined by a newline, as in the document.
    text, pos = "", span[0].start
    for unit in span:
        if unit.start > pos:
            text += "\n"
        text += unit.text
        pos = unit.end
    return text, span[0].start, span[-1].end
