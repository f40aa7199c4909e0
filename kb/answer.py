"""Extractive answers: the best passages' most relevant sentences, each marked [n],
and a citation list with the verbatim passages. No language model."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.chunker import ITEM, split_sentences
from kb.text import Tokenize
from kb.types import Hit

NOT_FOUND = "知识库中没有找到与问题相关的内容。可以换个说法，或检查检索条件。"
QUOTED_CHARS = 40  # a long question is quoted only this far: the answer, not the echo, comes first


@dataclass
class Answer:
    question: str
    text: str
    sources: list[Hit] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "citations": [{"n": i, **hit.to_dict()} for i, hit in enumerate(self.sources, 1)],
        }


def best_sentences(passage: str, words: set[str], tokenize: Tokenize, limit: int = 2, short: int = 160) -> str:
    """The passage itself when short; else its sentences sharing most `words` (the question's)
    in order. A chosen sentence that introduces a list (ends with ：) keeps its items."""
    if len(passage) <= short:
        return passage.replace("\n", "")
    sentences: list[str] = []
    for line in passage.split("\n"):
        # an enumerated item (（一）…) stays whole; other lines split into sentences
        pieces = [line] if ITEM.match(line) else split_sentences(line)
        sentences.extend(p.strip() for p in pieces if p.strip())
    chosen = set(sorted(range(len(sentences)),
                        key=lambda i: (-len(words & set(tokenize(sentences[i]))), i))[:limit])
    for i in sorted(chosen):
        j = i + 1
        while sentences[i].endswith(("：", ":")) and j < len(sentences) and ITEM.match(sentences[j]):
            chosen.add(j)
            j += 1
    parts: list[str] = []
    for i in sorted(chosen):
        parts.append(sentences[i] if not parts or i - 1 in chosen else "……" + sentences[i])
    return "".join(parts)


def compose(question: str, hits: list[Hit], tokenize: Tokenize, expansions: list[str] | None = None,
            max_sources: int = 4) -> Answer:
    if not hits:
        return Answer(question, NOT_FOUND)
    words = set(tokenize(" ".join([question, *(expansions or [])])))
    # a citation asked for (慈善法第10条) is the answer: that article (each law's, when a title is
    # shared), not padded with whatever else matched
    cited = [h for h in hits if "citation" in h.matched_by]
    sources = (cited or hits)[:max_sources]
    asked = question if len(question) <= QUOTED_CHARS else question[:QUOTED_CHARS] + "……"
    lines = [f"关于“{asked}”，知识库中的相关规定和论述如下："]
    for n, hit in enumerate(sources, 1):
        lines.append(f"{n}. {hit.citation.format()}：{best_sentences(hit.text, words, tokenize)}[{n}]")
    return Answer(question, "\n".join(lines), sources)
