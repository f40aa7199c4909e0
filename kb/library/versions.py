"""The versions of a law: which is in force, which amended or repealed, which was in force on a day.

The rules (`read_versions`, `in_force`) are pure: documents' metadata and the texts that repeal
other laws in, a `VersionMap` out; no store and no model (tests/test_version_rules.py). `Versions`
applies them to a knowledge base's store, once per generation, and answers 新旧对照.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingest.types import VERSION_STATUSES
from kb.errors import DocumentNotFound
from kb.language.query import normalise_title
from kb.library.diff import Article, Change, compare
from kb.store.db import Store

# …《城市流浪乞讨人员收容遣送办法》同时废止: another text repeals a law by name
REPEALED = re.compile(r"《([^《》]{2,60})》(?:（[^）]{0,30}）)?[^。；《]{0,12}?(?:同时|即行|予以)?废止")


__all__ = ["VERSION_STATUSES", "VersionMap", "Versions", "in_force", "law_key", "read_versions"]


@dataclass
class VersionMap:
    """What the stored versions of each law say."""

    status: dict[int, str] = field(default_factory=dict)  # document id → VERSION_STATUSES
    repealed_on: dict[int, str] = field(default_factory=dict)  # document id → repealed that day (ISO)
    dates: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # law → (id, date) of each version


def law_key(title: str) -> str:
    """The versions of one law share this key."""
    return normalise_title(title)


def read_versions(docs: list[dict], repealing: Iterable[tuple[int, str, str]]) -> VersionMap:
    """Each document's status among the versions of its law. `docs`: id, title, date, status and
    repealed of each document; `repealing`: (id, date, text) of the texts that say 废止.

    The newest dated version is in force, the older ones amended. Repealed (已废止):
    - a document that declares so itself (a manifest's status or repeal date, or 时效性：失效 or
      （已废止） in its header); when it is its law's newest version, every version of the law;
    - the versions older than another stored text that repeals the law, unless a version declares
      itself 现行有效 (the manifest's word beats the pattern).
    A version that declares itself 已被修改 is so. 现行有效 otherwise never beats a newer version."""
    laws: dict[str, list[dict]] = {}
    for d in docs:
        laws.setdefault(law_key(d["title"]), []).append(d)
    status: dict[int, str] = {}
    repealed_on: dict[int, str] = {}  # document id → the day it stopped being in force, when known
    for group in laws.values():
        dated = sorted((d for d in group if d["date"]), key=lambda d: d["date"])
        for d in group:
            status[d["id"]] = "已被修改" if d["date"] and d is not dated[-1] else "现行有效"
        if dated and dated[-1]["status"] == "已废止":  # the law itself was repealed
            status.update((d["id"], "已废止") for d in group)
    for doc_id, date, text in repealing:
        for match in REPEALED.finditer(text):
            for d in laws.get(law_key(match.group(1)), []):
                if (d["id"] != doc_id and d["status"] != "现行有效"
                        and (not date or not d["date"] or d["date"] < date)):
                    status[d["id"]] = "已废止"
                    if date and date < repealed_on.get(d["id"], "9999"):
                        repealed_on[d["id"]] = date
    for d in docs:
        if d["status"] in ("已废止", "已被修改"):
            status[d["id"]] = d["status"]
        if d["status"] == "已废止" and d["repealed"]:
            repealed_on[d["id"]] = d["repealed"]
    return VersionMap(status, repealed_on, {key: [(d["id"], d["date"]) for d in group] for key, group in laws.items()})


def in_force(versions: VersionMap, day: str) -> list[int]:
    """The documents in force on `day` (ISO): of each law, the newest version dated on or before it
    (a law first dated after it is left out; an undated document always counts), less those
    repealed by then."""
    ids = []
    for group in versions.dates.values():
        ids += [doc_id for doc_id, date in group if not date]
        dated = [(date, doc_id) for doc_id, date in group if date and date <= day]
        if dated:
            ids.append(max(dated)[1])
    return [i for i in ids if not versions.repealed_on.get(i, "9999") <= day]


class Versions:
    """The version rules over one store, read again only when its generation changes."""

    def __init__(self, store: Store, generation):
        """`generation()`: the store's current generation (a commit changes it)."""
        self.store = store
        self._generation = generation
        self._cached: tuple[int, VersionMap] = (-1, VersionMap())

    def now(self) -> VersionMap:
        generation = self._generation()  # read first: a commit after it is seen by the next call
        if self._cached[0] != generation:
            repealing = self.store.conn.execute("SELECT id, date, text FROM documents WHERE instr(text, '废止') > 0")
            self._cached = (generation, read_versions(self.store.documents(), repealing))
        return self._cached[1]

    def statuses(self) -> dict[int, str]:
        """Each document's status among the versions of its law (see read_versions)."""
        return self.now().status

    def in_force(self, day: str) -> list[int]:
        return in_force(self.now(), day)

    def others(self, doc_id: int, title: str) -> list[str]:
        """The dates of the other stored versions of a document's law (for a badge: 另有 2016-03-16 版)."""
        return sorted(date for other, date in self.now().dates.get(law_key(title), []) if other != doc_id)

    def of(self, title: str) -> list[dict]:
        """The stored versions of a law, oldest first."""
        wanted = law_key(title)
        statuses = self.statuses()
        return sorted(({**d, "version_status": statuses.get(d["id"], "")} for d in self.store.documents()
                       if law_key(d["title"]) == wanted), key=lambda d: (d["date"], d["id"]))

    def compare(self, title: str, date_from: str = "", date_to: str = "") -> tuple[dict, dict, list[Change]]:
        """新旧对照 of two versions of a law: by default the newest and the one before it; a date picks the
        version in force that day (the newest dated on or before it). Raises DocumentNotFound."""
        versions = [v for v in self.of(title) if v["date"]]
        if len(versions) < 2:
            raise DocumentNotFound(title, f"知识库中只有 {len(versions)} 个注明日期的版本，无法对照"
                                          "（同一法规的不同版本应标题相同、日期不同）")

        def at(day: str, default: dict) -> dict:
            if not day:
                return default
            found = [v for v in versions if v["date"] <= day]
            if not found:
                raise DocumentNotFound(day, f"{day} 时还没有《{versions[0]['title']}》"
                                            f"（最早的版本为 {versions[0]['date']}）")
            return found[-1]

        new = at(date_to, versions[-1])
        old = at(date_from, next((v for v in reversed(versions) if v["date"] < new["date"]), versions[0]))
        if old["id"] == new["id"]:
            raise DocumentNotFound(title, f"两个日期对应同一版本（{old['date']}），请换一个日期")
        return old, new, compare(self.articles(old["id"]), self.articles(new["id"]))

    def articles(self, doc_id: int) -> list[Article]:
        return [Article(number, self.store.document_text(doc_id, start, end).strip(), heading)
                for number, heading, start, end in self.store.articles(doc_id)]
