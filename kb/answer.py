"""Extractive answers: the best passages' most relevant sentences, each marked [n],
and a citation list with the verbatim passages. No language model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.text import tokenize
from kb.types import Hit

_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")
NOT_FOUND = "知识库中没有找到与问题相关的内容。可以换个说法，或检查检索条件。"


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


def best_sentences(passage: str, words: set[str], limit: int = 2, short: int = 160) -> str:
    """The passage itself when short; else its sentences sharing most words with the question, in order."""
    if len(passage) <= short:
        return passage.replace("\n", "")
    sentences = [s.strip() for s in _SENTENCE.findall(passage) if s.strip()]
    scored = sorted(range(len(sentences)),
                    key=lambda i: (-len(words & set(tokenize(sentences[i]))), i))[:limit]
    return "……".join(sentences[i] for i in sorted(scored))


def compose(question: str, hits: list[Hit], expansions: list[str] | None = None, max_sources: int = 4) -> Answer:
    if not hits:
        return Answer(question, NOT_FOUND)
    words = set(tokenize(" ".join([question, *(expansions or [])])))
    sources = hits[:max_sources]
    lines = [f"关于“{question}”，知识库中的相关规定和论述如下："]
    for n, hit in enumerate(sources, 1):
        lines.append(f"{n}. {hit.citation.format()}：{best_sentences(hit.text, words)}[{n}]")
    return Answer(question, "\n".join(lines), sources)
