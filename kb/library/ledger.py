"""The 第一议题 学习台账: topics to study (议题库), sessions (学习活动), follow-up tasks (落实台账) and the
yearly plan, tied to the texts in the knowledge base.

The rules are pure functions of plain rows (`topic_status`, `year_stats`, `plan_held`): a topic is
conveyed by the first 党组会议 that takes it as its first agenda item, and must be within
`convey_days` (7) of its date: day 7 is on time, day 8 late. `Ledger` keeps the rows in the
knowledge base's SQLite file: each change is one transaction and one line of the audit log."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from kb.errors import StudyKBError
from kb.store import ledger as rows
from kb.store.ledger import TASK_STATES, Session, Task, Topic

KINDS = ("党组会议", "理论学习中心组学习", "专题研讨", "民政大讲堂", "支部学习", "个人自学")
CONVEYING = KINDS[0]  # the meeting at which a 第一议题 is conveyed, as its first item
TOPIC_STATUSES = {"pending": "待传达", "on_time": "按期传达", "late": "逾期传达", "overdue": "逾期未传达"}
SOURCES = ("文电", "学习强国", "媒体", "上级通知")
PROPOSED_TYPES = ("speech", "policy")  # documents offered as topics: speeches, central documents
MAX_TEXT = 20_000  # notes, a speech, a task: a page or two, not a book

__all__ = ["CONVEYING", "KINDS", "TASK_STATES", "TOPIC_STATUSES", "Ledger", "LedgerError", "Session", "Task",
           "Topic", "plan_held", "topic_status", "year_stats"]


class LedgerError(StudyKBError):
    """A topic, session or task that cannot be recorded as given."""


# ------------------------------------------------------------------ the rules
def conveyed_by(topic_id: int, sessions: list[Session]) -> Session | None:
    """The first 党组会议 that took the topic as its first agenda item."""
    return min((s for s in sessions if s.kind == CONVEYING and s.topics[:1] == [topic_id]),
               key=lambda s: (s.date, s.id), default=None)


def topic_status(topic: Topic, sessions: list[Session], today: str, days: int = 7) -> dict:
    """pending (待传达, with the days left), on_time (按期传达), late (逾期传达, with the days late) or
    overdue (逾期未传达, with the days past the deadline)."""
    date = dt.date.fromisoformat(topic.date)
    deadline = date + dt.timedelta(days=days)
    session = conveyed_by(topic.id, sessions)
    out = {"id": topic.id, "title": topic.title, "date": topic.date, "deadline": deadline.isoformat(),
           "conveyed": session.date if session else "", "session_id": session.id if session else None,
           "leader": topic.leader, "doc_id": topic.doc_id}
    if session:
        late = (dt.date.fromisoformat(session.date) - deadline).days
        status, days_off = ("late", late) if late > 0 else ("on_time", 0)
    else:
        left = (deadline - dt.date.fromisoformat(today)).days
        status, days_off = ("pending", left) if left >= 0 else ("overdue", -left)
    return {**out, "status": status, "label": TOPIC_STATUSES[status], "days": days_off}


def year_stats(year: int, sessions: list[Session], tasks: list[Task], topics: list[Topic], today: str,
               days: int = 7) -> dict:
    """A year's sessions by kind, 参学率 (present over expected), 落实率 (tasks done over all tasks of
    the year's sessions), sessions on one text and thematic ones, each member's 研讨发言 and lectures."""
    held = [s for s in sessions if s.date.startswith(f"{year}-")]
    ids = {s.id for s in held}
    own_tasks = [t for t in tasks if t.session_id in ids or (t.session_id is None and task_of_year(t, year))]
    present = sum(len(s.attendees) for s in held)
    expected = present + sum(len(s.absent) for s in held)
    speeches = Counter(sp["speaker"] for s in held for sp in s.speeches if sp.get("speaker"))
    lectures = Counter(s.lead for s in held if s.kind == "民政大讲堂" and s.lead)
    of_year = [topic_status(t, sessions, today, days) for t in topics if t.date.startswith(f"{year}-")]
    done = sum(t.status == "已完成" for t in own_tasks)
    return {"year": year, "sessions": {kind: sum(s.kind == kind for s in held) for kind in KINDS},
            "attendance_rate": round(present / expected, 4) if expected else None,
            "present": present, "expected": expected,
            "tasks": {"done": done, "total": len(own_tasks),
                      "overdue": sum(t.status != "已完成" and t.due and t.due < today for t in own_tasks)},
            "completion_rate": round(done / len(own_tasks), 4) if own_tasks else None,
            "single_text": sum(len(s.topics) == 1 for s in held), "thematic": sum(len(s.topics) > 1 for s in held),
            "topics": {status: sum(t["status"] == status for t in of_year) for status in TOPIC_STATUSES},
            "speeches": dict(speeches.most_common()), "lectures": dict(lectures.most_common())}


def task_of_year(task: Task, year: int) -> bool:
    """A task from no session belongs to the year it was recorded in."""
    return (task.created_at or task.due).startswith(f"{year}-")


def plan_held(plan: list[tuple[int, str]], year: int, sessions: list[Session], topics: list[Topic]) -> list[dict]:
    """Each month's planned subject against what was held: a session that month whose topics' titles,
    notes or measures name the subject."""
    titles = {t.id: t.title for t in topics}
    out = []
    for month, subject in plan:
        month_sessions = [s for s in sessions if s.date.startswith(f"{year}-{month:02d}-")]
        matching = [s for s in month_sessions if subject in " ".join([*(titles.get(i, "") for i in s.topics),
                                                                       s.notes, s.measures])]
        out.append({"month": month, "subject": subject, "held": bool(matching),
                    "sessions": [s.id for s in matching], "sessions_that_month": len(month_sessions)})
    return out


def iso_day(value: str, what: str) -> str:
    """2026-03-01, 2026/3/1 or 20260301 → 2026-03-01; a LedgerError naming `what` otherwise."""
    text = (value or "").strip().replace("/", "-").replace(".", "-")
    try:
        if len(text) == 8 and text.isdigit():
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
        y, m, d = (int(p) for p in text.split("-"))
        return dt.date(y, m, d).isoformat()
    except ValueError as exc:
        raise LedgerError(what, f"日期“{value}”无法识别，请写成 YYYY-MM-DD") from exc


def _text(value: str, what: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise LedgerError(what, "不能为空")
    if len(value) > MAX_TEXT:
        raise LedgerError(what, f"过长（{len(value)} 字，上限 {MAX_TEXT} 字）")
    return value


def _names(names: list[str] | str) -> list[str]:
    if isinstance(names, str):
        names = names.replace("，", ",").replace("、", ",").split(",")
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


# ------------------------------------------------------------------ the ledger of one knowledge base
class Ledger:
    def __init__(self, kb, default_actor: Callable[[], str] = lambda: ""):
        self.kb = kb
        self.store = kb.store
        self.default_actor = default_actor
        self.days = kb.config.convey_days

    # reading
    def topics(self) -> list[Topic]:
        return rows.all_of(self.store, Topic)

    def sessions(self) -> list[Session]:
        return sorted(rows.all_of(self.store, Session), key=lambda s: (s.date, s.id))

    def tasks(self) -> list[Task]:
        return rows.all_of(self.store, Task)

    def get(self, kind: type, row_id: int):
        found = rows.one(self.store, kind, row_id)
        if found is None:
            name = {Topic: "议题", Session: "学习活动", Task: "任务"}[kind]
            raise LedgerError(f"{name} {row_id}", "台账中没有这一条")
        return found

    def status(self, today: str = "") -> list[dict]:
        today = iso_day(today, "今天") if today else dt.date.today().isoformat()
        sessions = self.sessions()
        return [topic_status(t, sessions, today, self.days) for t in self.topics() if t.confirmed]

    def stats(self, year: int, today: str = "") -> dict:
        today = iso_day(today, "今天") if today else dt.date.today().isoformat()
        return year_stats(year, self.sessions(), self.tasks(), [t for t in self.topics() if t.confirmed], today,
                          self.days)

    def plan(self, year: int) -> list[dict]:
        return plan_held(rows.plan(self.store, year), year, self.sessions(), self.topics())

    def book(self, year: int, today: str = "") -> dict:
        """The year's ledger as plain data, for the exports and the API: topic statuses, sessions (with
        their topics' titles), tasks (with their session), the plan against what was held, statistics."""
        today = iso_day(today, "今天") if today else dt.date.today().isoformat()
        topics = {t.id: t for t in self.topics()}
        sessions = [s for s in self.sessions() if s.date.startswith(f"{year}-")]
        by_id = {s.id: s for s in self.sessions()}
        status = [row for row in self.status(today) if row["date"].startswith(f"{year}-")]
        tasks = [{**t.__dict__, "session": f"{by_id[t.session_id].date} {by_id[t.session_id].kind}"
                  if t.session_id in by_id else "", "overdue": t.status != "已完成" and bool(t.due) and t.due < today}
                 for t in self.tasks() if t.session_id in {s.id for s in sessions}
                 or (t.session_id is None and task_of_year(t, year))]
        return {"year": year, "today": today, "status": status,
                "sessions": [{**s.__dict__, "topic_titles": [topics[i].title for i in s.topics if i in topics]}
                             for s in sessions],
                "tasks": tasks, "plan": self.plan(year), "stats": self.stats(year, today)}

    def proposals(self) -> list[dict]:
        """Speeches and policy documents in the library that are no topic yet (for a one-click 设为议题)."""
        taken = {t.doc_id for t in self.topics()}
        return [d for d in self.kb.documents() if d["doc_type"] in PROPOSED_TYPES and d["id"] not in taken]

    # changes: one transaction and one audit line each
    def add_topic(self, title: str, date: str, received: str = "", source: str = "", leader: str = "",
                  doc: str | int | None = None, actor: str = "") -> Topic:
        doc_id, doc_title = None, ""
        if doc not in (None, ""):
            found = self.kb.find_document(doc)
            if found is None:
                raise LedgerError(str(doc), "文库中找不到这份文档（可写编号、路径或完整标题）")
            doc_id, doc_title = found["id"], found["title"]
            title = title or found["title"]
            date = date or found["date"]
        received = iso_day(received, "收到日期") if received else ""
        topic = Topic(0, _text(title, "议题名称", required=True), iso_day(date, "议题日期"), received,
                      _text(source, "来源"), _text(leader, "分管领导"), doc_id, doc_title, True,
                      actor or self.default_actor())
        return self._saved(topic, "新增议题", f"{topic.title}（{topic.date}）", actor)

    def add_session(self, date: str, kind: str, topics: list[int] | None = None, host: str = "", lead: str = "",
                    attendees: list[str] | str = (), absent: list[dict] | str = (), notes: str = "",
                    measures: str = "", speeches: list[dict] | None = None, basket_id: int | None = None,
                    actor: str = "") -> Session:
        if kind not in KINDS:
            raise LedgerError(kind, f"未知的学习形式（可选：{'、'.join(KINDS)}）")
        topic_ids = list(dict.fromkeys(int(t) for t in topics or []))
        for topic_id in topic_ids:
            self.get(Topic, topic_id)
        if isinstance(absent, str):  # "张三（出差）,李四"
            absent = [{"name": n.split("（")[0].split("(")[0].strip(),
                       "reason": n.split("（")[-1].split("(")[-1].rstrip("）)") if ("（" in n or "(" in n) else ""}
                      for n in _names(absent)]
        session = Session(0, iso_day(date, "活动日期"), kind, _text(host, "主持人"), _text(lead, "领学人"),
                          _names(attendees), [{"name": a["name"], "reason": a.get("reason", "")} for a in absent],
                          topic_ids, basket_id, _text(notes, "会议记录"), _text(measures, "落实措施"),
                          [{"speaker": _text(s["speaker"], "发言人", True), "text": _text(s.get("text", ""), "发言")}
                           for s in speeches or []], actor or self.default_actor())
        return self._saved(session, "新增学习活动", f"{session.date} {session.kind}", actor)

    def add_speech(self, session_id: int, speaker: str, text: str, actor: str = "") -> Session:
        with self.store.transaction():
            session = self.get(Session, session_id)
            session.speeches.append({"speaker": _text(speaker, "发言人", True), "text": _text(text, "发言")})
            rows.save(self.store, session)
            self.store.log(actor or self.default_actor(), "记录研讨发言", f"{session.date} {session.kind}：{speaker}")
        return session

    def add_task(self, text: str, owner: str = "", due: str = "", session_id: int | None = None,
                 department: str = "", articles: list[dict] | None = None, actor: str = "") -> Task:
        if session_id is not None:
            self.get(Session, session_id)
        task = Task(0, _text(text, "任务", required=True), session_id, _text(department, "责任部门"),
                    _text(owner, "责任人"), iso_day(due, "完成时限") if due else "", TASK_STATES[0], articles or [])
        return self._saved(task, "新增落实任务", task.text[:40], actor)

    def update_task(self, task_id: int, status: str, note: str = "", actor: str = "") -> Task:
        if status not in TASK_STATES:
            raise LedgerError(status, f"任务状态应为：{'、'.join(TASK_STATES)}")
        actor = actor or self.default_actor()
        with self.store.transaction():
            task = self.get(Task, task_id)
            task.status = status
            task.updates.append({"at": dt.datetime.now().isoformat(timespec="seconds"), "status": status,
                                 "note": _text(note, "进展说明"), "user": actor})
            rows.save(self.store, task)
            self.store.log(actor, "更新落实任务", f"{task.text[:40]} → {status}")
        return task

    def set_plan(self, year: int, month: int, subject: str, actor: str = "") -> None:
        if not 1 <= month <= 12:
            raise LedgerError(str(month), "月份应为 1 到 12")
        with self.store.transaction():
            rows.set_plan(self.store, year, month, _text(subject, "学习计划", required=True))
            self.store.log(actor or self.default_actor(), "制定学习计划", f"{year}年{month}月：{subject}")

    def remove(self, kind: type, row_id: int, actor: str = "") -> None:
        name = {Topic: "议题", Session: "学习活动", Task: "任务"}[kind]
        with self.store.transaction():
            item = self.get(kind, row_id)
            rows.delete(self.store, kind, row_id)
            self.store.log(actor or self.default_actor(), f"删除{name}", getattr(item, "title", "")
                           or getattr(item, "text", "")[:40] or f"{item.date} {getattr(item, 'kind', '')}")

    def _saved(self, item, action: str, subject: str, actor: str):
        with self.store.transaction():
            item.id = rows.save(self.store, item)
            self.store.log(actor or self.default_actor(), action, subject)
        return rows.one(self.store, type(item), item.id)
