"""Words for the keyword index and queries: jieba segmentation, stop words, and the
editable glossary that expands plain-language terms into formal ones."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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
_INTENT_LINE = re.compile(r"^\s*意图\s*(\S+?)\s*[:：]\s*(.+?)\s*(?:→|->)\s*(.+?)\s*$")
_GROUP_LINE = re.compile(r"^\s*群体\s*[:：]\s*(.+?)\s*$")


class Words:
    """Search-mode jieba words, lower-cased, without stop words and punctuation. Each knowledge
    base owns one, with its own jieba dictionary: the law titles and glossary terms it learns
    stay out of jieba's global dictionary and out of other knowledge bases."""

    def __init__(self, extra: list[str] | None = None):
        self._jieba = jieba.Tokenizer()
        self._pending: list[str] = []  # taught at the first cut: loading jieba's dictionary takes a second,
        self.add(extra or [])  # which `kb docs`, `kb stats` and `kb rm` need not pay

    def __call__(self, text: str) -> list[str]:
        if self._pending:
            for word in self._pending:
                self._jieba.add_word(word, freq=20000)
            self._pending = []
        out = []
        for word in self._jieba.lcut_for_search(text):
            word = word.strip().lower()
            if word and word not in STOP_WORDS and _WORD.search(word):
                out.append(word)
        return out

    def add(self, words: list[str]) -> None:
        """Teach whole terms (law titles, glossary terms) so they are not split apart."""
        self._pending.extend(word for word in words if len(word) >= 2)


def _items(text: str) -> list[str]:
    return [e.strip() for e in re.split(r"[、,，|]", text) if e.strip()]


@dataclass
class Intent:
    """A kind of question (条件, 材料, 期限 ...): the words that ask it and the words of an answer."""

    name: str
    asks: list[str]
    answers: list[str]


@dataclass
class Glossary:
    """The editable hand rules: term expansions (低保 = 最低生活保障), question intents
    (意图 条件：…… → ……) and special groups (群体：军人、烈士 ……)."""

    entries: dict[str, list[str]]
    intents: list[Intent] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

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
        intents: list[Intent] = []
        groups: list[str] = []
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            if m := _INTENT_LINE.match(line):
                intents.append(Intent(m.group(1), _items(m.group(2)), _items(m.group(3))))
            elif m := _GROUP_LINE.match(line):
                groups.extend(_items(m.group(1)))
            elif m := _GLOSSARY_LINE.match(line):
                entries.setdefault(m.group(1), []).extend(_items(m.group(2)))
        return cls(entries, intents, groups)

    def expansions(self, query: str) -> list[str]:
        found: list[str] = []
        for term, expansions in self.entries.items():
            if term in query:
                found.extend(e for e in expansions if e not in query and e not in found)
        return found

    def intents_in(self, query: str) -> list[Intent]:
        return [i for i in self.intents if any(w in query for w in i.asks)]

    def names_group(self, query: str) -> bool:
        return any(g in query for g in self.groups)

    def terms(self) -> list[str]:
        return list(self.entries) + [e for es in self.entries.values() for e in es]
