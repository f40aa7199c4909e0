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


__all__ = ["VERSION_STATUSES", "VersionMap", "Versions", "in_force", "law_key", "laws", "read_versions"]


@dataclass
class VersionMap:
    """What the stored versions of each law say."""

    status: dict[int, str] = field(default_factory=dict)  # document id → VERSION_STATUSES
    repealed_on: dict[int, str] = field(default_factory=dict)  # document id → repealed that day (ISO)
    dates: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # law → (id, date) of each version
    law_of: dict[int, str] = field(default_factory=dict)  # document id → its law (a key of `dates`)


VERSIONED = ("regulation", "policy")  # kinds of document that have versions; a report or a speech is its own


def law_key(title: str) -> str:
    """The normalised title the versions of one law share (within one issuer, see laws)."""
    return normalise_title(title)


def laws(docs: list[dict]) -> dict[str, list[dict]]:
    """The documents grouped by the law they are versions of: a rule or policy's normalised title and,
    where versions under one title come from different issuers, its issuer (an undated or unnamed
    issuer joins when the title has one issuer only). Every other document (a 政府工作报告 of each
    year, a speech) is a law of its own."""
    by_title: dict[str, list[dict]] = {}
    out: dict[str, list[dict]] = {}
    for d in docs:
        if d.get("doc_type", "regulation") in VERSIONED:
            by_title.setdefault(law_key(d["title"]), []).append(d)
        else:
            out[f"{law_key(d['title'])}#{d['id']}"] = [d]
    for title, group in by_title.items():
        issuers = {_issuer(d) for d in group} - {""}
        for d in group:
            if len(issuers) <= 1:
                key = title
            else:  # one title, several issuers: a chain each; an unnamed issuer's document stands alone
                key = f"{title}@{_issuer(d)}" if _issuer(d) else f"{title}#{d['id']}"
            out.setdefault(key, []).append(d)
    return out


def _issuer(doc: dict) -> str:
    return "".join((doc.get("issuer") or "").split())


def read_versions(docs: list[dict], repealing: Iterable[tuple[int, str, str]]) -> VersionMap:
    """Each document's status among the versions of its law (`laws`). `docs`: id, title, doc_type,
    issuer, date, status and repealed of each document; `repealing`: (id, date, text) of the texts
    that say 废止.

    The newest dated version is in force, the older ones amended. Repealed (已废止):
    - a document that declares so itself (a manifest's status or repeal date, or 时效性：失效 or
      （已废止） in its header); when it is its law's newest version, every version of the law;
    - the versions older than another stored text that repeals the law, unless a version declares
      itself 现行有效 (the manifest's word beats the pattern).
    A version that declares itself 已被修改 is so. 现行有效 otherwise never beats a newer version."""
    grouped = laws(docs)
    named: dict[str, list[dict]] = {}  # a title as another text names it → every document bearing it
    for group in grouped.values():
        for d in group:
            named.setdefault(law_key(d["title"]), []).append(d)
    status: dict[int, str] = {}
    repealed_on: dict[int, str] = {}  # document id → the day it stopped being in force, when known
    for group in grouped.values():
        dated = sorted((d for d in group if d["date"]), key=lambda d: d["date"])
        newest = dated[-1]["date"] if dated else ""
        for d in group:
            status[d["id"]] = "已被修改" if d["date"] and d["date"] != newest else "现行有效"
        if dated and dated[-1]["status"] == "已废止":  # the law itself was repealed
            status.update((d["id"], "已废止") for d in group)
    for doc_id, date, text in repealing:
        for match in REPEALED.finditer(text):
            for d in named.get(law_key(match.group(1)), []):
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
    dates = {key: [(d["id"], d["date"]) for d in group] for key, group in grouped.items()}
    return VersionMap(status, repealed_on, dates, {d["id"]: key for key, group in grouped.items() for d in group})


def in_force(versions: VersionMap, day: str) -> list[int]:
    """The documents in force on `day` (ISO): of each law, the versions of the newest date on or before
    it (two documents of one date are not versions of each other: both count; a law first dated after
    the day is left out; an undated document always counts), less those repealed by then."""
    ids = []
    for group in versions.dates.values():
        ids += [doc_id for doc_id, date in group if not date]
        newest = max((date for _, date in group if date and date <= day), default="")
        ids += [doc_id for doc_id, date in group if newest and date == newest]
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

    def others(self, doc_id: int) -> list[str]:
        """The dates of the other stored versions of a document's law (for a badge: 另有 2016-03-16 版)."""
        versions = self.now()
        return sorted(date for other, date in versions.dates.get(versions.law_of.get(doc_id, ""), [])
                      if other != doc_id and date)

    def of(self, title: str) -> list[dict]:
        """The stored versions of a law named by its title, oldest first (of the issuer with the most,
        when several issuers have a rule of that title)."""
        wanted = law_key(title)
        versions = self.now()
        docs = {d["id"]: d for d in self.store.documents()}
        groups = [[docs[i] for i, _ in group if i in docs] for key, group in versions.dates.items()
                  if key == wanted or key.startswith(wanted + "@") or key.startswith(wanted + "#")]
        chosen = max(groups, key=len, default=[])
        return sorted(({**d, "version_status": versions.status.get(d["id"], "")} for d in chosen),
                      key=lambda d: (d["date"], d["id"]))

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
