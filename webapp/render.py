"""Document text → Streamlit markdown that shows it as text: every markup character is
escaped, so a passage containing HTML, script or markdown shows those characters and
runs nothing. Query words are highlighted."""

from __future__ import annotations

import re

from ingest.chunker import heading_level
from kb.language.query import analyse
from kb.language.words import Glossary, Tokenize

# CommonMark lets any ASCII punctuation be backslash-escaped; Streamlit adds :directives[] and $math$.
_MARKUP = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
HIGHLIGHT = ":red[**{}**]"  # colour and weight, no background: a background box opened gaps inside words


def _escape_line(line: str) -> str:
    return _MARKUP.sub(r"\\\1", line)


def escape(text: str) -> str:
    """Plain text as markdown that renders to exactly that text, line breaks kept."""
    return highlight(text, [])


def highlight_terms(query: str, tokenize: Tokenize, glossary: Glossary | None = None) -> list[str]:
    """The words of a query worth marking in a passage: its own words (as `tokenize`, the
    knowledge base's segmentation, finds them), quoted phrases and glossary expansions,
    longest first (single characters would mark half the page)."""
    plan = analyse(query, glossary, tokenize)
    words = set(plan.words) | set(plan.phrases) | set(plan.expansions)
    return sorted((w for w in words if len(w.strip()) >= 2), key=len, reverse=True)


def highlight(text: str, terms: list[str]) -> str:
    """Escaped markdown of `text` with each occurrence of a term highlighted."""
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))) if terms else None
    lines = []
    for line in text.split("\n"):
        line = line.strip(" \t")
        out, pos = [], 0
        for m in pattern.finditer(line) if pattern else []:
            out.append(_escape_line(line[pos:m.start()]))
            out.append(HIGHLIGHT.format(_escape_line(m.group())))
            pos = m.end()
        out.append(_escape_line(line[pos:]))
        lines.append("".join(out))
    return "  \n".join(lines)


def document_blocks(text: str, regulation: bool, cited: tuple[int, int] | None = None) -> list[tuple[str, str]]:
    """A document as ("heading", line) and ("text" | "cited", paragraphs) blocks, in order.
    Body lines between headings form one block; the lines overlapping the cited span form
    their own "cited" block, so the page can mark it and scroll to it."""
    blocks: list[tuple[str, str]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        if heading_level(line, regulation) is not None:
            blocks.append(("heading", line.strip()))
            continue
        kind = "cited" if cited and start < cited[1] and end > cited[0] else "text"
        if blocks and blocks[-1][0] == kind:
            blocks[-1] = (kind, blocks[-1][1] + "\n" + line)
        else:
            blocks.append((kind, line))
    return blocks
