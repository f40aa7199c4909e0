"""The rows of the 学习台账 (kb.library.ledger holds the rules): topics, sessions, tasks, the plan."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field

from kb.store.db import Store

TASK_STATES = ("未开始", "推进中", "已完成")
_JSON = {"attendees", "absent", "topics", "speeches", "articles", "updates"}


@dataclass
class Topic:
    id: int
    title: str
    date: str  # issued or published: the days to convey it count from here
    received: str = ""
    source: str = ""
    leader: str = ""
    doc_id: int | None = None
    doc_title: str = ""
    confirmed: bool = True
    created_by: str = ""
    created_at: str = ""


@dataclass
class Session:
    id: int
    date: str
    kind: str
    host: str = ""
    lead: str = ""
    attendees: list[str] = field(default_factory=list)
    absent: list[dict] = field(default_factory=list)  # {"name", "reason"}
    topics: list[int] = field(default_factory=list)  # agenda order: the first is the first item
    basket_id: int | None = None
    notes: str = ""
    measures: str = ""
    speeches: list[dict] = field(default_factory=list)  # {"speaker", "text"}
    created_by: str = ""
    created_at: str = ""


@dataclass
class Task:
    id: int
    text: str
    session_id: int | None = None
    department: str = ""
    owner: str = ""
    due: str = ""
    status: str = TASK_STATES[0]
    articles: list[dict] = field(default_factory=list)  # {"title", "article"}
    updates: list[dict] = field(default_factory=list)  # {"at", "status", "note", "user"}
    created_at: str = ""


_TABLES = {Topic: "ledger_topics", Session: "ledger_sessions", Task: "ledger_tasks"}


def _row(kind: type, row: sqlite3.Row):
    values = {k: (json.loads(row[k]) if k in _JSON else row[k]) for k in row.keys()}
    if kind is Topic:
        values["confirmed"] = bool(values["confirmed"])
    return kind(**values)


def all_of(store: Store, kind: type) -> list:
    return [_row(kind, r) for r in store.conn.execute(f"SELECT * FROM {_TABLES[kind]} ORDER BY id")]


def one(store: Store, kind: type, row_id: int):
    row = store.conn.execute(f"SELECT * FROM {_TABLES[kind]} WHERE id = ?", (row_id,)).fetchone()
    return _row(kind, row) if row else None


def save(store: Store, item) -> int:
    """Inserts (id 0) or updates a topic, session or task; returns its id."""
    values = {k: (json.dumps(v, ensure_ascii=False) if k in _JSON else v) for k, v in asdict(item).items()
              if k not in ("id", "created_at")}
    table = _TABLES[type(item)]
    if item.id:
        store.conn.execute(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                           [*values.values(), item.id])
        return item.id
    cursor = store.conn.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                                list(values.values()))
    return int(cursor.lastrowid)


def delete(store: Store, kind: type, row_id: int) -> None:
    store.conn.execute(f"DELETE FROM {_TABLES[kind]} WHERE id = ?", (row_id,))


def plan(store: Store, year: int) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in store.conn.execute(
        "SELECT month, subject FROM ledger_plan WHERE year = ? ORDER BY month, subject", (year,))]


def set_plan(store: Store, year: int, month: int, subject: str) -> None:
    store.conn.execute("INSERT OR IGNORE INTO ledger_plan (year, month, subject) VALUES (?, ?, ?)",
                       (year, month, subject))
