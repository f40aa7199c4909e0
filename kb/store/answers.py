"""The rows of the 口径库 (kb.library.answer_book holds the rules): items and the window's log."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from kb.language.query import normalise_title
from kb.store.db import Store

DRAFT, APPROVED = "draft", "approved"


@dataclass
class AnswerItem:
    id: int
    question: str  # 标准问
    articles: list[dict]  # {"title", "article", "date"}: the law's version date when it was confirmed
    similar: list[str] = field(default_factory=list)  # 相似问
    text: str = ""  # an optional short 口径
    issuer: str = ""  # 发文单位
    nature: str = ""  # 材料性质
    status: str = DRAFT
    created_by: str = ""
    created_at: str = ""
    reviewed_by: str = ""
    reviewed_at: str = ""
    review_due: str = ""

    def questions(self) -> list[str]:
        return [self.question, *self.similar]

    def article_keys(self) -> frozenset[tuple[str, str]]:
        return frozenset((a["title"], a["article"]) for a in self.articles)


def _item(row: sqlite3.Row) -> AnswerItem:
    return AnswerItem(row["id"], row["question"], json.loads(row["articles"]), json.loads(row["similar"]),
                      row["text"], row["issuer"], row["nature"], row["status"], row["created_by"],
                      row["created_at"], row["reviewed_by"], row["reviewed_at"], row["review_due"])


def items(store: Store) -> list[AnswerItem]:
    return [_item(r) for r in store.conn.execute("SELECT * FROM answer_items ORDER BY id")]


def item(store: Store, item_id: int) -> AnswerItem | None:
    row = store.conn.execute("SELECT * FROM answer_items WHERE id = ?", (item_id,)).fetchone()
    return _item(row) if row else None


def save_item(store: Store, it: AnswerItem) -> int:
    """Inserts (id 0) or updates an item; returns its id."""
    values = [it.question, json.dumps(it.similar, ensure_ascii=False), json.dumps(it.articles, ensure_ascii=False),
              it.text, it.issuer, it.nature, it.status, it.created_by, it.reviewed_by, it.reviewed_at, it.review_due]
    columns = ("question, similar, articles, text, issuer, nature, status, created_by, reviewed_by, reviewed_at,"
               " review_due")
    if it.id:
        assignments = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
        store.conn.execute(f"UPDATE answer_items SET {assignments} WHERE id = ?", [*values, it.id])
        return it.id
    cursor = store.conn.execute(f"INSERT INTO answer_items({columns}) VALUES ({', '.join('?' * len(values))})", values)
    return int(cursor.lastrowid)


def delete_item(store: Store, item_id: int) -> None:
    store.conn.execute("DELETE FROM answer_items WHERE id = ?", (item_id,))


def log_question(store: Store, user: str, question: str, found: bool, title: str = "", article: str = "") -> None:
    store.conn.execute("INSERT INTO answer_log(user, question, found, title, article) VALUES (?, ?, ?, ?, ?)",
                       (user, question, int(found), title, article))


def log(store: Store, since: str = "", until: str = "") -> list[dict]:
    """The log between two ISO days (inclusive; empty: open), oldest first."""
    rows = store.conn.execute(
        "SELECT * FROM answer_log WHERE (? = '' OR at >= ?) AND (? = '' OR at < date(?, '+1 day')) ORDER BY id",
        (since, since, until, until))
    return [dict(r) for r in rows]


def article_chunks(store: Store, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    """The chunks of each article named by (normalised title, article), in every stored version."""
    titles = {title for title, _ in keys}
    out: dict[tuple[str, str], list[int]] = {}
    for doc_id, title, _ in store.titles():
        law = normalise_title(title)
        if law in titles:
            for cid, article in store.conn.execute(
                    "SELECT id, article FROM chunks WHERE doc_id = ? AND article != ''", (doc_id,)):
                if (law, article) in keys:
                    out.setdefault((law, article), []).append(cid)
    return out
