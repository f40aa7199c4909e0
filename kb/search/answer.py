"""Extractive answers: the best passage verbatim with its citation, then the most relevant
sentences of further passages, each marked [n]. Only passages that pass the relevance threshold
answer; when none does, the answer says so and the nearest passages are offered as 可能相关.
No language model."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.chunker import ITEM, split_sentences
from kb.language.words import Tokenize
from kb.types import Hit

NOT_FOUND = "知识库中没有找到与问题相关的内容。可以换个说法，或检查检索条件。"
NOT_ANSWERED = "知识库中没有找到直接回答这个问题的规定。"
QUOTED_CHARS = 40  # a long question is quoted only this far: the answer, not the echo, comes first


@dataclass
class Answer:
    question: str
    text: str
    sources: list[Hit] = field(default_factory=list)  # the passages that answer, cited [n]
    related: list[Hit] = field(default_factory=list)  # when none answers: the nearest, as 可能相关
    found: bool = False

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.text,
            "citations": [{"n": i, **hit.to_dict()} for i, hit in enumerate(self.sources, 1)],
            "related": [hit.to_dict() for hit in self.related],
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


def compose(question: str, hits: list[Hit], answering: list[Hit], tokenize: Tokenize,
            expansions: list[str] | None = None, max_sources: int = 4) -> Answer:
    """`hits`: what the search found, best first; `answering`: those of them that answer. The best
    answering passage leads, whole and with its line breaks (a list of conditions stays a list);
    further ones follow as their most relevant sentences."""
    if not hits:
        return Answer(question, NOT_FOUND)
    if not answering:
        return Answer(question, NOT_ANSWERED + "以下内容可能相关，请核对原文。", related=hits[:max_sources])
    words = set(tokenize(" ".join([question, *(expansions or [])])))
    # a citation asked for (慈善法第10条) is the answer: that article (each law's, when a title is
    # shared), not padded with whatever else matched
    cited = [h for h in answering if "citation" in h.matched_by]
    sources = (cited or answering)[:max_sources]
    asked = question if len(question) <= QUOTED_CHARS else question[:QUOTED_CHARS] + "……"
    lead = sources[0]
    lines = [f"关于“{asked}”，最相关的是{lead.citation.format()}：", lead.text.strip() + "[1]"]
    if len(sources) > 1:
        lines.append("其他相关规定和论述：")
    for n, hit in enumerate(sources[1:], 2):
        lines.append(f"{n}. {hit.citation.format()}：{best_sentences(hit.text, words, tokenize)}[{n}]")
    return Answer(question, "\n".join(lines), sources, found=True)
