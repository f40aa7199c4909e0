"""Words for the keyword index and queries: jieba segmentation, stop words, and the
editable glossary that expands plain-language terms into formal ones."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jieba

from kb.errors import ConfigError

jieba.setLogLevel(logging.WARNING)

STOP_WORDS = frozenset(
    "的 了 是 在 和 与 及 或 或者 并 对 为 以 于 由 等 把 被 将 从 向 也 都 "
    "就 而 但 其 之 所 该 本 此 这 那 我 你 他 她 它 我们 你们 他们 自己 "
    "请问 请 吗 呢 吧 啊 呀 么 怎么 怎样 怎么样 如何 什么 哪些 哪个 哪里 "
    "多少 是否 能否 可否 有没有 是不是 会不会 能 能不能 可以 需要 要 想 "
    "应该 应当 有 没有 没 不 一个 一些 个 些 还 又 再 得 地 着 过 给 让 "
    "用 去 来 上 下 中 里 后 前 时 时候".split()
)
Tokenize = Callable[[str], list[str]]  # a knowledge base's segmentation (Words), or any like it
_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_GLOSSARY_LINE = re.compile(r"^\s*([^#=\s][^=]*?)\s*=\s*(.+?)\s*$")


class Words:
    """Search-mode jieba words, lower-cased, without stop words and punctuation. Each knowledge
    base owns one, with its own jieba dictionary: the law titles and glossary terms it learns
    stay out of jieba's global dictionary and out of other knowledge bases."""

    def __init__(self, extra: list[str] | None = None):
        self._jieba = jieba.Tokenizer()
        self.add(extra or [])

    def __call__(self, text: str) -> list[str]:
        out = []
        for word in self._jieba.lcut_for_search(text):
            word = word.strip().lower()
            if word and word not in STOP_WORDS and _WORD.search(word):
                out.append(word)
        return out

    def add(self, words: list[str]) -> None:
        """Teach whole terms (law titles, glossary terms) so they are not split apart."""
        for word in words:
            if len(word) >= 2:
                self._jieba.add_word(word, freq=20000)


@dataclass
class Glossary:
    entries: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path | None = None) -> Glossary:
        if path is None:
            text = resources.files("kb").joinpath("data/glossary.txt").read_text(encoding="utf-8")
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(path, f"无法读取术语表（{exc}）") from exc
        entries: dict[str, list[str]] = {}
        for line in text.splitlines():
            m = _GLOSSARY_LINE.match(line)
            if m:
                expansions = [e.strip() for e in re.split(r"[、,，|]", m.group(2)) if e.strip()]
                entries.setdefault(m.group(1), []).extend(expansions)
        return cls(entries)

    def expansions(self, query: str) -> list[str]:
        found: list[str] = []
        for term, expansions in self.entries.items():
            if term in query:
                found.extend(e for e in expansions if e not in query and e not in found)
        return found

    def terms(self) -> list[str]:
        return list(self.entries) + [e for es in self.entries.values() for e in es]
