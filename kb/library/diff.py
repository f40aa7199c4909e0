"""新旧对照: two versions of a law, article by article, aligned by content rather than by number.

An amendment inserts and deletes articles, so 第二十二条 of the old text may be 第二十三条 of the
new one. Articles are paired by the similarity of their text (difflib, character level), in order
(an amendment renumbers but does not reorder), by dynamic programming over the pairs that are
similar enough; then each pair is unchanged, renumbered (the same text under another number) or
changed, and what is left is added or deleted."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from ingest.articles import ARTICLE

_NUMBER = re.compile(rf"^\s*{ARTICLE}\s*")
SIMILAR = 0.5  # pairs less alike than this are an addition and a deletion, not a change
STATUSES = {"unchanged": "未改", "renumbered": "条号变动", "changed": "修改", "added": "新增", "deleted": "删除"}


@dataclass
class Article:
    number: str  # 第十条
    text: str  # as written, number included
    heading: str = ""  # its chapter (第二章 慈善组织)

    @property
    def body(self) -> str:
        """The text without its number, spaces normalised: what is compared."""
        return re.sub(r"\s+", "", _NUMBER.sub("", self.text))


@dataclass
class Change:
    status: str  # unchanged | renumbered | changed | added | deleted
    old: Article | None
    new: Article | None
    similarity: float = 1.0
    # the character-level differences of a change: ("equal" | "delete" | "insert", text), in order
    pieces: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"status": self.status, "old": self.old.number if self.old else None,
                "new": self.new.number if self.new else None, "similarity": round(self.similarity, 3),
                "old_text": self.old.text if self.old else None, "new_text": self.new.text if self.new else None,
                "pieces": [list(p) for p in self.pieces]}


CONTAINED = 30  # an article this long or longer, kept whole inside a longer new one, is the same article


def similarity(a: str, b: str) -> float:
    """How alike two articles' texts are, 0–1: difflib's ratio, or, when the shorter is mostly kept
    inside the longer (an amendment that adds paragraphs), 0.9 × the share of it kept."""
    if not a and not b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    shorter = min(len(a), len(b))
    if matcher.quick_ratio() < SIMILAR and (shorter < CONTAINED or matcher.quick_ratio() * (len(a) + len(b))
                                            < 2 * SIMILAR * shorter):
        return 0.0
    kept = sum(block.size for block in matcher.get_matching_blocks())
    contained = 0.9 * kept / shorter if shorter >= CONTAINED else 0.0
    return max(2 * kept / (len(a) + len(b)), contained)


def compare(old: list[Article], new: list[Article]) -> list[Change]:
    """The changes from `old` to `new`, in the new text's order (deletions where they stood)."""
    old_bodies, new_bodies = [a.body for a in old], [a.body for a in new]
    exact = {body: j for j, body in reversed(list(enumerate(new_bodies)))}
    score = [[0.0] * len(new) for _ in old]
    for i, body in enumerate(old_bodies):
        j = exact.get(body)
        for k, other in enumerate(new_bodies):
            score[i][k] = 1.0 if k == j else similarity(body, other) if j is None else 0.0
    # best[i][k]: the most similarity from old[i:] and new[k:], pairing in order
    best = [[0.0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for i in range(len(old) - 1, -1, -1):
        for k in range(len(new) - 1, -1, -1):
            paired = score[i][k] + best[i + 1][k + 1] if score[i][k] >= SIMILAR else 0.0
            best[i][k] = max(best[i + 1][k], best[i][k + 1], paired)
    changes: list[Change] = []
    i = k = 0  # walk the best in-order pairing
    while i < len(old) or k < len(new):
        if i < len(old) and k < len(new) and score[i][k] >= SIMILAR \
                and best[i][k] == score[i][k] + best[i + 1][k + 1]:
            changes.append(_pair(old[i], new[k], score[i][k]))
            i, k = i + 1, k + 1
        elif k < len(new) and (i == len(old) or best[i][k] == best[i][k + 1]):
            changes.append(Change("added", None, new[k], 0.0, [("insert", new[k].body)]))
            k += 1
        else:
            changes.append(Change("deleted", old[i], None, 0.0, [("delete", old[i].body)]))
            i += 1
    return _moved(changes, score, {id(a): n for n, a in enumerate(old)}, {id(a): n for n, a in enumerate(new)})


def _moved(changes: list[Change], score: list[list[float]], old_index: dict, new_index: dict) -> list[Change]:
    """An article moved to another chapter (out of order) is left as a deletion and an addition by the
    in-order pairing: pair those that are alike, the most alike first, at the new article's place."""
    deleted = [c for c in changes if c.status == "deleted"]
    added = [c for c in changes if c.status == "added"]
    pairs = sorted(((score[old_index[id(d.old)]][new_index[id(a.new)]], n, m) for n, d in enumerate(deleted)
                    for m, a in enumerate(added)), reverse=True)
    used_old, used_new, paired = set(), set(), {}
    for value, n, m in pairs:
        if value < SIMILAR:
            break
        if n not in used_old and m not in used_new:
            used_old.add(n)
            used_new.add(m)
            paired[id(added[m])] = _pair(deleted[n].old, added[m].new, value)
    gone = {id(deleted[n]) for n in used_old}
    return [paired.get(id(c), c) for c in changes if id(c) not in gone]


def _pair(old: Article, new: Article, score: float) -> Change:
    if old.body == new.body:
        return Change("unchanged" if old.number == new.number else "renumbered", old, new, 1.0,
                      [("equal", new.body)])
    matcher = difflib.SequenceMatcher(None, old.body, new.body, autojunk=False)
    pieces: list[tuple[str, str]] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            pieces.append(("delete", old.body[a0:a1]))
        if tag in ("insert", "replace"):
            pieces.append(("insert", new.body[b0:b1]))
        if tag == "equal":
            pieces.append(("equal", old.body[a0:a1]))
    return Change("changed", old, new, score, pieces)


def summary(changes: list[Change]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for change in changes:
        counts[change.status] += 1
    return counts


def marked(change: Change) -> str:
    """A change as one line of text: 〔删：…〕 and 〔增：…〕 around what differs."""
    out = []
    for tag, text in change.pieces:
        out.append(text if tag == "equal" else f"〔{'删' if tag == 'delete' else '增'}：{text}〕")
    return "".join(out)
