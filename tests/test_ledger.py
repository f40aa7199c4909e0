"""The 第一议题 学习台账: the status rules at their boundaries, the year's statistics, the `kb ledger`
commands and their exports read back, the audit log, a restart and a crash mid-write."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import docx
import openpyxl
import pytest
from conftest import REPORT, ROOT

from kb.cli import main
from kb.config import Config
from kb.library.ledger import LedgerError, Session, Task, Topic, topic_status, year_stats


def topic(date: str = "2026-03-02", topic_id: int = 1) -> Topic:
    return Topic(topic_id, "习近平总书记关于民政工作的重要指示", date)


def meeting(date: str, topics: list[int], kind: str = "党组会议", session_id: int = 1) -> Session:
    return Session(session_id, date, kind, topics=topics)


@pytest.mark.parametrize(("conveyed", "status", "days"), [
    ("2026-03-02", "on_time", 0),  # the same day
    ("2026-03-09", "on_time", 0),  # day 7: the last day in time
    ("2026-03-10", "late", 1),  # day 8
    ("2026-04-01", "late", 23),
])
def test_conveyed_on_day_7_is_on_time_and_on_day_8_late(conveyed, status, days):
    row = topic_status(topic(), [meeting(conveyed, [1])], today="2026-05-01")
    assert (row["status"], row["days"], row["deadline"], row["conveyed"]) == (status, days, "2026-03-09", conveyed)


@pytest.mark.parametrize(("today", "status", "days"), [
    ("2026-03-02", "pending", 7), ("2026-03-09", "pending", 0), ("2026-03-10", "overdue", 1)])
def test_never_conveyed_is_pending_to_the_deadline_then_overdue(today, status, days):
    row = topic_status(topic(), [], today=today)
    label = {"pending": "待传达", "overdue": "逾期未传达"}[status]
    assert (row["status"], row["label"], row["days"]) == (status, label, days)


def test_only_a_party_group_meeting_taking_it_first_conveys_it():
    second_item = meeting("2026-03-03", [2, 1])  # covered, but not as the first agenda item
    seminar = meeting("2026-03-04", [1], kind="专题研讨", session_id=2)
    assert topic_status(topic(), [second_item, seminar], today="2026-03-20")["status"] == "overdue"
    later_first = meeting("2026-03-12", [1], session_id=3)
    row = topic_status(topic(), [second_item, seminar, later_first], today="2026-03-20")
    assert (row["status"], row["session_id"], row["days"]) == ("late", 3, 3)
    assert topic_status(topic(), [second_item], today="2026-03-20", days=10)["status"] == "overdue"


def test_a_years_statistics():
    sessions = [Session(1, "2026-03-09", "党组会议", attendees=["甲", "乙", "丙"],
                        absent=[{"name": "丁", "reason": "出差"}], topics=[1]),
                Session(2, "2026-03-12", "专题研讨", attendees=["甲", "乙"], topics=[1, 2],
                        speeches=[{"speaker": "甲", "text": ""}, {"speaker": "乙", "text": ""}]),
                Session(3, "2026-04-01", "民政大讲堂", lead="王局长", attendees=["甲", "乙", "丙", "丁"]),
                Session(4, "2025-12-30", "党组会议", attendees=["甲"])]
    tasks = [Task(1, "完善流程", 1, status="已完成"), Task(2, "修订办法", 1, due="2026-04-01"),
             Task(3, "去年的", 4, status="已完成"), Task(4, "去年记下的", None, created_at="2025-12-31 10:00:00"),
             Task(5, "今年记下的", None, due="2026-09-01", created_at="2026-01-02 10:00:00")]
    stats = year_stats(2026, sessions, tasks, [topic()], today="2026-05-01")
    assert stats["sessions"] == {"党组会议": 1, "理论学习中心组学习": 0, "专题研讨": 1, "民政大讲堂": 1, "支部学习": 0,
                                 "个人自学": 0}
    assert stats["attendance_rate"] == round(9 / 10, 4) and (stats["present"], stats["expected"]) == (9, 10)
    # the tasks of the year's sessions, and those from no session recorded in the year
    assert stats["tasks"] == {"done": 1, "total": 3, "overdue": 1} and stats["completion_rate"] == round(1 / 3, 4)
    assert (stats["single_text"], stats["thematic"]) == (1, 1)
    assert stats["speeches"] == {"甲": 1, "乙": 1} and stats["lectures"] == {"王局长": 1}
    assert stats["topics"]["on_time"] == 1


@pytest.fixture
def data(tmp_path):
    return str(tmp_path / "data")


def ledger_cli(data: str, capsys, *args: str) -> dict | list:
    assert main(["--data", data, "ledger", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_kb_ledger_records_reports_and_exports(data, tmp_path, capsys):
    topic_id = ledger_cli(data, capsys, "topic", "add", "习近平总书记关于民政工作的重要指示", "--date", "2026-03-02",
                          "--leader", "王局长")["id"]
    assert ledger_cli(data, capsys, "status", "--today", "2026-03-05")["topics"][0]["status"] == "pending"
    meeting_id = ledger_cli(data, capsys, "session", "add", "--date", "2026-03-09", "--kind", "党组会议",
                            "--topic", str(topic_id), "--host", "王局长", "--attendees", "甲,乙,丙",
                            "--absent", "丁（出差）")["id"]
    seminar = ledger_cli(data, capsys, "session", "add", "--date", "2026-03-12", "--kind", "专题研讨", "--topic",
                         str(topic_id), "--speech", "甲：兜牢民生底线", "--speech", "乙:提升窗口服务")
    assert [s["speaker"] for s in seminar["speeches"]] == ["甲", "乙"]
    task = ledger_cli(data, capsys, "task", "add", "完善低保审核确认流程", "--session", str(meeting_id),
                      "--owner", "张三", "--due", "2026-06-30")
    assert ledger_cli(data, capsys, "task", "done", str(task["id"]))["status"] == "已完成"
    [row] = ledger_cli(data, capsys, "status", "--today", "2026-03-20")["topics"]
    assert {k: row[k] for k in ("id", "title", "date", "deadline", "conveyed", "status")} == {
        "id": topic_id, "title": "习近平总书记关于民政工作的重要指示", "date": "2026-03-02",
        "deadline": "2026-03-09", "conveyed": "2026-03-09", "status": "on_time"}
    stats = ledger_cli(data, capsys, "stats", "--year", "2026")
    assert stats["sessions"]["党组会议"] == 1 and stats["sessions"]["专题研讨"] == 1
    assert stats["attendance_rate"] == 0.75 and stats["tasks"]["done"] == stats["tasks"]["total"] == 1

    word, excel = tmp_path / "台账.docx", tmp_path / "台账.xlsx"
    assert main(["--data", data, "ledger", "export", "--year", "2026", "--docx", str(word), "--xlsx", str(excel)]) == 0
    tables = docx.Document(str(word)).tables
    assert [c.text for c in tables[0].rows[1].cells] == ["1", "习近平总书记关于民政工作的重要指示", "2026-03-02",
                                                        "2026-03-09", "2026-03-09", "按期传达"]
    assert [c.text for c in tables[1].rows[1].cells][1:3] == ["2026-03-09", "党组会议"]
    assert "丁（出差）" in [c.text for c in tables[1].rows[1].cells]
    task_row = [c.text for c in tables[2].rows[1].cells]
    assert task_row[1:6] == ["完善低保审核确认流程", "", "张三", "2026-06-30", "已完成"]
    paragraphs = [p.text for p in docx.Document(str(word)).paragraphs]
    assert any("共传达学习“第一议题”1项，其中按期传达1项" in p and "参学率75%" in p for p in paragraphs)
    book = openpyxl.load_workbook(excel)
    assert book.sheetnames == ["第一议题", "学习活动", "落实台账", "统计"]
    assert [c.value for c in book["学习活动"][3]][1:3] == ["2026-03-12", "专题研讨"]
    minutes = tmp_path / "记录.docx"
    capsys.readouterr()
    assert main(["--data", data, "ledger", "session", "minutes", str(meeting_id), "--docx", str(minutes)]) == 0
    assert "主持人：王局长" in [p.text for p in docx.Document(str(minutes)).paragraphs]

    assert main(["--data", data, "audit"]) == 0
    audit = capsys.readouterr().out
    for action in ("新增议题", "新增学习活动", "新增落实任务", "更新落实任务"):
        assert action in audit


def test_bad_input_is_refused_with_its_reason_and_nothing_stored(data, capsys):
    assert main(["--data", data, "ledger", "topic", "add", "某议题", "--date", "2026-13-40"]) == 1
    assert "日期“2026-13-40”无法识别" in capsys.readouterr().err
    assert main(["--data", data, "ledger", "session", "add", "--date", "2026-03-09", "--kind", "党组会议",
                 "--topic", "99"]) == 1
    assert "议题 99" in capsys.readouterr().err
    assert ledger_cli(data, capsys, "session", "list") == []
    from kb.library.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(Config.load(data), check_model=False)
    with pytest.raises(LedgerError, match="任务状态"):
        kb.ledger.update_task(1, "搁置")
    assert kb.audit() == []


def test_the_ledger_survives_a_restart(data, capsys):
    from kb.library.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(Config.load(data), check_model=False)
    kb.ledger.add_session("2026-03-09", "理论学习中心组学习", attendees=["甲"], actor="编辑甲")
    kb.close()
    kb = KnowledgeBase(Config.load(data), check_model=False)
    [session] = kb.ledger.sessions()
    assert (session.kind, session.attendees, session.created_by) == ("理论学习中心组学习", ["甲"], "编辑甲")
    assert kb.audit()[0]["user"] == "编辑甲"


def test_a_speech_or_a_central_document_in_the_library_is_offered_as_a_topic(tmp_path, minilm_dir):
    from kb.library.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(Config.load(tmp_path / "data", model=str(minilm_dir)))
    speech = tmp_path / "在全省民政工作会议上的讲话.txt"
    speech.write_text("在全省民政工作会议上的讲话\n2026年3月2日\n同志们：民政工作关系民生、连着民心。\n",
                      encoding="utf-8")
    kb.ingest([speech, REPORT], progress=False, overrides={"doc_type": "speech"})
    offered = {d["title"]: d for d in kb.ledger.proposals()}
    assert "在全省民政工作会议上的讲话" in offered
    doc = offered["在全省民政工作会议上的讲话"]
    made = kb.ledger.add_topic("", "", doc=doc["id"], actor="编辑甲")
    assert (made.title, made.doc_id, made.date) == ("在全省民政工作会议上的讲话", doc["id"], doc["date"])
    assert "在全省民政工作会议上的讲话" not in {d["title"] for d in kb.ledger.proposals()}


WRITER = """
import sys
from kb.config import Config
from kb.library.knowledge_base import KnowledgeBase
kb = KnowledgeBase(Config.load(sys.argv[1]), check_model=False)
n = 0
while True:
    n += 1
    kb.ledger.add_task(f"任务{n}", owner="张三", due="2026-06-30", actor="写入进程")
"""


def test_a_crash_mid_write_loses_nothing_committed_and_leaves_no_half_record(data):
    """kill -9 while a process writes tasks as fast as it can: the ledger opens, each task that is
    there is whole and has its line in the audit log, and none has a line without its task."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, data], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env={**os.environ})
    db = os.path.join(data, "kb.sqlite3")
    deadline, written = time.time() + 120, 0
    while time.time() < deadline and proc.poll() is None and written < 30:
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                written = conn.execute("SELECT count(*) FROM ledger_tasks").fetchone()[0]
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    assert proc.poll() is None, "the writer ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    from kb.library.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(Config.load(data), check_model=False)
    assert kb.store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    tasks = kb.ledger.tasks()
    logged = [a["subject"] for a in kb.audit(limit=100_000) if a["action"] == "新增落实任务"]
    assert len(tasks) >= 30 and sorted(logged) == sorted(t.text for t in tasks)
    assert [t.text for t in tasks] == [f"任务{n}" for n in range(1, len(tasks) + 1)]  # none lost between
    kb.ledger.add_task("重启后", actor="编辑甲")
    assert kb.ledger.tasks()[-1].text == "重启后"


def test_the_exports_open_with_no_sessions_at_all(data):
    from kb.export.ledger import ledger_docx, ledger_xlsx
    from kb.library.knowledge_base import KnowledgeBase

    book = KnowledgeBase(Config.load(data), check_model=False).ledger.book(2026, "2026-01-01")
    assert docx.Document(io.BytesIO(ledger_docx(book))).tables
    assert openpyxl.load_workbook(io.BytesIO(ledger_xlsx(book))).sheetnames[0] == "第一议题"
