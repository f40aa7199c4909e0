"""`kb serve`: the HTTP JSON API, started for real (uvicorn on a free port, over a real knowledge
base), and the CLI going through it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import REGULATIONS, REPORT, ROOT, copy_files

from kb.cli import main
from kb.config import Config
from kb.library.knowledge_base import KnowledgeBase


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def api(tmp_path_factory, minilm_dir):
    root = tmp_path_factory.mktemp("serve")
    files = copy_files(root / "files", REGULATIONS / "社会救助暂行办法(2019-03-02).md", REPORT)
    data = root / "data"
    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir)))
    assert not kb.ingest([files], progress=False).failed
    kb.close()
    port = free_port()
    env = {**os.environ, "STUDYKB_DATA": str(data), "STUDYKB_MODEL": str(minilm_dir)}
    log = open(root / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a health check, polled: the model loads slowly on a loaded machine
    while True:
        try:
            if get(url, "/api/health")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("kb serve did not start: " + (root / "serve.log").read_text(errors="replace"))
        time.sleep(0.3)
    yield url, data
    proc.terminate()
    try:  # waits for the exit, however loaded the machine
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def get(url: str, path: str, method: str = "GET", body: bytes | None = None,
        headers: dict | None = None) -> tuple[int, dict | list | str]:
    request = urllib.request.Request(url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            status, raw, kind = r.status, r.read(), r.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read(), exc.headers.get("content-type", "")
    return status, json.loads(raw) if "json" in kind else raw.decode()


def query(**params) -> str:
    return "?" + urllib.parse.urlencode(params, doseq=True)


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, dict]:
    boundary = "studykb-test-boundary"
    parts = []
    for name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_search_and_ask(api):
    url, _ = api
    status, result = get(url, "/api/search" + query(q="社会救助暂行办法第十一条", k=3))
    assert status == 200 and result["hits"][0]["article"] == "第十一条"
    assert result["hits"][0]["citation"]["formatted"].startswith("《社会救助暂行办法》")
    assert result["hits"][0]["relevant"] is True and result["hits"][0]["matched_by"] == ["citation"]
    status, result = get(url, "/api/search" + query(q="学习 制度", type="report", k=3))
    assert status == 200 and result["hits"] and all(h["citation"]["doc_type"] == "report" for h in result["hits"])
    status, answer = get(url, "/api/ask" + query(q="申请最低生活保障的程序"))
    assert status == 200 and answer["found"] is True and answer["citations"][0]["n"] == 1


def test_bad_requests_are_json_in_chinese_and_change_nothing(api):
    url, _ = api
    _, before = get(url, "/api/documents")
    for path, status, words in [
        ("/api/search", 422, "请求参数错误"),
        ("/api/search" + query(q="低保", mode="magic"), 400, "未知的检索方式"),
        ("/api/search" + query(q="低保", type="novel"), 400, "未知的文档类型"),
        ("/api/search" + query(q="低保", place="火星"), 400, "无法识别的地名"),
        ("/api/search" + query(q="低保", **{"from": "2019/01/01"}), 400, "日期格式"),
        ("/api/search" + query(q="低保", **{"from": "2020-13-45"}), 400, "日期格式"),  # shaped right, no such day
        ("/api/ask" + query(q="低保", as_of="2021-02-30"), 400, "日期格式"),
        ("/api/search" + query(q="低保", k=0), 422, "请求参数错误"),
        ("/api/documents/99999", 404, "没有这个文档"),
    ]:
        code, body = get(url, path)
        assert code == status and words in body["error"], (path, body)
    code, body = get(url, "/api/documents/99999", method="DELETE")
    assert code == 404 and "没有这个文档" in body["error"]
    doc_id = before[0]["id"]  # another web page may not delete, nor a page posing as another host read
    code, body = get(url, f"/api/documents/{doc_id}", method="DELETE", headers={"Origin": "http://evil.example"})
    assert code == 403 and "其他网页" in body["error"]
    code, body = get(url, f"/api/documents/{doc_id}", headers={"Host": "evil.example"})
    assert code == 403 and "本机地址" in body["error"]
    assert get(url, "/api/documents")[1] == before


def test_upload_read_and_delete(api):
    url, data = api
    notice = "关于做好冬季救助工作的通知\n\n一、加强巡查\n各区要加强夜间巡查，发现流浪乞讨人员及时引导到救助站。\n"
    body, headers = multipart([("../冬季救助通知.txt", notice.encode()), ("工具.exe", b"MZ"),
                               ("损坏.pdf", b"%PDF-1.4 not a pdf")])
    status, report = get(url, "/api/documents", "POST", body, headers)
    assert status == 201 and report["added"] == ["冬季救助通知.txt"]
    assert {f["file"] for f in report["failed"]} == {"工具.exe", "损坏.pdf"}
    assert sorted(p.name for p in (data / "uploads").iterdir()) == ["冬季救助通知.txt"]  # nothing else left
    doc = next(d for d in get(url, "/api/documents")[1] if d["title"] == "关于做好冬季救助工作的通知")
    status, full = get(url, f"/api/documents/{doc['id']}")
    assert status == 200 and full["text"].split() == notice.split()
    status, result = get(url, "/api/search" + query(q="夜间巡查", k=1))
    assert result["hits"][0]["doc_id"] == doc["id"]
    status, deleted = get(url, f"/api/documents/{doc['id']}", method="DELETE")
    assert status == 200 and deleted["title"] == "关于做好冬季救助工作的通知"
    assert get(url, f"/api/documents/{doc['id']}")[0] == 404
    status, trash = get(url, "/api/trash")  # deleted is not lost: the trash holds it, and gives it back
    assert status == 200 and [t["doc_id"] for t in trash] == [doc["id"]] and trash[0]["reason"] == "deleted"
    assert (data / "uploads" / "冬季救助通知.txt").exists()  # its original stays while it is in the trash
    status, restored = get(url, f"/api/trash/{doc['id']}/restore", "POST")
    assert status == 200 and restored["title"] == "关于做好冬季救助工作的通知"
    assert get(url, "/api/search" + query(q="夜间巡查", k=1))[1]["hits"][0]["doc_id"] == doc["id"]
    status, again = get(url, f"/api/trash/{doc['id']}/restore", "POST")
    assert status == 400 and "回收站中没有" in again["error"]


def test_stats_and_the_offline_api_page(api):
    url, _ = api
    status, stats = get(url, "/api/stats")
    assert status == 200 and stats["documents"] >= 2 and stats["chunks"] > 0
    status, page = get(url, "/docs")
    assert status == 200 and "/docs-static/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page  # nothing fetched from outside
    assert get(url, "/docs-static/swagger-ui-bundle.js")[0] == 200
    status, spec = get(url, "/openapi.json")
    assert {"/api/search", "/api/ask", "/api/documents", "/api/documents/{doc_id}", "/api/stats",
            "/api/health"} <= set(spec["paths"])


def test_the_cli_goes_through_a_running_server(api, capsys, tmp_path):
    url, _ = api
    empty = tmp_path / "nothing-here"  # no local knowledge base: the answer can only come from the server
    code = main(["--data", str(empty), "--server", url, "search", "社会救助暂行办法第十一条", "-k", "1"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("1. 《社会救助暂行办法》") and "共 1 条" in out
    code = main(["--data", str(empty), "--server", url, "ask", "申请最低生活保障的程序", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["found"] is True
    code = main(["--data", str(empty), "--server", url, "search", "低保", "--place", "全国", "--type", "regulation"])
    assert code == 0 and "《社会救助暂行办法》" in capsys.readouterr().out
    code = main(["--data", str(empty), "--server", url, "search", "低保", "--place", "浙江省", "--from", "bad"])
    assert code == 1 and "日期格式" in capsys.readouterr().err
    code = main(["--server", "http://127.0.0.1:9", "search", "低保"])
    assert code == 1 and "无法连接检索服务" in capsys.readouterr().err


def test_with_users_configured_changes_need_a_token_with_the_role(api, capsys, minilm_dir):
    """Reading stays open; uploading, deleting and restoring need an editor's token (users.toml is
    read per request, so `kb user` and `kb token` take effect at once). Runs last: it removes users.toml."""
    url, data = api
    users = data / "users.toml"
    try:
        for name, role in (("zhang", "editor"), ("li", "reader")):
            sys.stdin = __import__("io").StringIO("正确的密码12345\n")
            assert main(["--data", str(data), "user", "add", name, "--role", role, "--password-stdin"]) == 0
        assert "正确的密码" not in users.read_text(encoding="utf-8") and (users.stat().st_mode & 0o077) == 0
        capsys.readouterr()
        assert main(["--data", str(data), "token", "zhang"]) == 0
        editor = capsys.readouterr().out.strip()
        assert main(["--data", str(data), "token", "li"]) == 0
        reader = capsys.readouterr().out.strip()
        assert get(url, "/api/search" + query(q="救助", k=1))[0] == 200  # reading needs nobody
        body, headers = multipart([("通知.txt", "关于冬季救助的通知\n\n各区要加强夜间巡查。\n".encode())])
        status, refused = get(url, "/api/documents", "POST", body, headers)
        assert status == 401 and "需要登录" in refused["error"]
        status, refused = get(url, "/api/documents", "POST", body, {**headers, "Authorization": "Bearer skb_guessed"})
        assert status == 401
        as_reader = {**headers, "Authorization": f"Bearer {reader}"}
        status, refused = get(url, "/api/documents", "POST", body, as_reader)
        assert status == 403 and "权限不足" in refused["error"]
        status, added = get(url, "/api/documents", "POST", body, {**headers, "Authorization": f"Bearer {editor}"})
        assert status == 201 and added["added"] == ["通知.txt"]
        # an anonymous 300 MB upload is refused from its headers, before any of its body is read
        assert refused_before_the_body(url, 300 * 2**20) == 401
        # paths on the server: file names for anonymous readers, the whole path for a signed-in one
        anonymous = {d["title"]: d["path"] for d in get(url, "/api/documents")[1]}
        signed_in = {d["title"]: d["path"] for d in get(url, "/api/documents", headers={
            "Authorization": f"Bearer {reader}"})[1]}
        assert anonymous["关于冬季救助的通知"] == "通知.txt" and signed_in["关于冬季救助的通知"].startswith(str(data))
        assert all("/" not in path for path in anonymous.values())
        stats = get(url, "/api/stats")[1]
        assert "/" not in stats["database"] + stats["vector_file"]  # nor the knowledge base's own files
        doc = next(d for d in get(url, "/api/documents")[1] if d["title"] == "关于冬季救助的通知")
        assert get(url, f"/api/documents/{doc['id']}", "DELETE")[0] == 401
        status, _ = get(url, f"/api/documents/{doc['id']}", "DELETE", headers={"Authorization": f"Bearer {editor}"})
        assert status == 200
        # who did it, never what anyone searched
        audit = KnowledgeBase(Config.load(data, model=str(minilm_dir))).audit()
        assert [(a["user"], a["action"]) for a in audit[:2]] == [("zhang", "删除"), ("zhang", "新增")]
        assert not any("救助" == a["subject"] for a in audit)
        # the 口径库: a clerk (any signed-in user) confirms, only an editor approves
        answer = json.dumps({"question": "低保怎么申请", "title": "社会救助暂行办法", "article": "11"}).encode()
        as_json = {"Content-Type": "application/json"}
        assert get(url, "/api/answers/confirm", "POST", answer, as_json)[0] == 401
        status, confirmed = get(url, "/api/answers/confirm", "POST", answer,
                                {**as_json, "Authorization": f"Bearer {reader}"})
        assert status == 200 and confirmed["state"] == "draft"
        item = confirmed["item"]
        assert get(url, f"/api/answers/{item}/approve", "POST", b"{}",
                   {**as_json, "Authorization": f"Bearer {reader}"})[0] == 403
        assert get(url, f"/api/answers/{item}/approve", "POST", b"{}",
                   {**as_json, "Authorization": f"Bearer {editor}"})[0] == 200
        assert get(url, "/api/answers")[0] == 401  # colleagues' names and citizens' questions: signed in only
        as_clerk = {"Authorization": f"Bearer {reader}"}
        [listed] = get(url, "/api/answers" + query(state="approved"), headers=as_clerk)[1]
        assert listed["articles"][0]["article"] == "第十一条" and listed["created_by"] == "li"
        assert listed["reviewed_by"] == "zhang" and listed["state_label"] == "已审核"
        first = get(url, "/api/search" + query(q="低保怎么申请", k=1))[1]["hits"][0]
        assert first["approved_answer"] and first["article"] == "第十一条"
        assert get(url, "/api/answers/stats", headers=as_clerk)[1]["confirmed_per_week"][0][1] == 1
        bad = json.dumps({"question": "低保怎么申请", "title": "社会救助暂行办法", "article": "9" * 20}).encode()
        assert get(url, "/api/answers/confirm", "POST", bad, {**as_json, **as_clerk})[0] == 422
        absent = json.dumps({"question": "低保怎么申请", "title": "社会救助暂行办法", "article": "第九百条"}).encode()
        status, refused = get(url, "/api/answers/confirm", "POST", absent, {**as_json, **as_clerk})
        assert status == 400 and "文库中没有这一条" in refused["error"]
        assert get(url, f"/api/answers/{item}", "DELETE", headers={"Authorization": f"Bearer {editor}"})[0] == 200
        assert get(url, "/api/answers", headers=as_clerk)[1] == []
    finally:
        sys.stdin = sys.__stdin__
        users.unlink(missing_ok=True)


def refused_before_the_body(url: str, length: int) -> int:
    """The status answered to a POST that announces `length` bytes and sends only its headers."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(f"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {length}\r\n"
                  "Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n".encode())
        return int(s.recv(4096).split(b" ", 2)[1])  # answered without waiting for the 300 MB


def test_a_long_upload_never_blocks_a_search_and_readers_see_its_commit(api):
    """Changes go through the server's second knowledge base: searches answer while three laws are
    read and embedded (a 153-chunk upload held every search for 7.4 s), and see them once committed."""
    import threading

    url, _ = api
    laws = ["慈善法(2023-12-29).md", "未成年人保护法(2024-04-26).md", "老年人权益保障法(2018-12-29).md"]
    body, headers = multipart([(name, (REGULATIONS / name).read_bytes()) for name in laws])
    result: dict = {}
    upload = threading.Thread(target=lambda: result.update(report=get(url, "/api/documents", "POST", body, headers)))
    upload.start()
    time.sleep(1.0)  # the upload is reading and embedding now
    answered_during = []
    while upload.is_alive():
        started = time.monotonic()
        status, _ = get(url, "/api/search" + query(q="救助", k=3))
        if upload.is_alive():  # answered while the upload still ran
            answered_during.append((status, time.monotonic() - started))
        time.sleep(0.2)
    upload.join()
    status, report = result["report"]
    assert status == 201 and len(report["added"]) == 3 and report["chunks"] > 150
    assert answered_during and all(code == 200 for code, _ in answered_during)
    assert max(seconds for _, seconds in answered_during) < 5.0  # never the upload's whole time
    hits = get(url, "/api/search" + query(q="慈善组织", k=3))[1]["hits"]
    assert any(h["citation"]["title"] == "中华人民共和国慈善法" for h in hits)  # the readers see the commit


def test_hostile_parameters_get_a_4xx_with_a_reason_and_change_nothing(api):
    url, _ = api
    _, before = get(url, "/api/documents")
    for path, status, words in [
        ("/api/documents/" + "9" * 30, 422, "请求参数错误"),  # an id past SQLite's integers was an HTTP 500
        ("/api/documents/" + "9" * 30, 422, "doc_id"),
        ("/api/search?q=低保" + "&place=浙江省" * 2000, 400, "重复过多"),  # thousands of places were a 500
        ("/api/search?q=低保" + "&doc=1" * 10_000, 400, "重复过多"),  # and held the lock for seconds
    ]:
        code, body = get(url, urllib.parse.quote(path, safe="/?=&"), method="GET")
        assert code == status and words in body["error"] + body.get("subject", ""), (path[:60], body)
    code, body = get(url, "/api/documents/" + "9" * 30, method="DELETE")
    assert code in (401, 422)
    assert get(url, "/api/documents")[1] == before


def test_serving_beyond_this_machine_needs_users(tmp_path, minilm_dir, capsys):
    code = main(["--data", str(tmp_path / "data"), "--model", str(minilm_dir), "serve", "--host", "0.0.0.0"])
    assert code == 1 and "kb user add" in capsys.readouterr().err


def test_the_api_page_renders_offline_in_a_browser(api):
    """/docs in headless Chromium: the operations are drawn from the OpenAPI 3.1 description FastAPI
    writes, with every file from this machine (Swagger UI 3.x said "Unable to render this definition")."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    chromium = Path(os.environ.get("STUDYKB_CHROMIUM", "/usr/bin/chromium"))
    if not chromium.exists():
        pytest.fail(f"{chromium} is missing: install Debian's chromium (make test does)")
    url, _ = api
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        elsewhere = []
        page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith((url, "data:")) else None)
        page.goto(url + "/docs")
        page.locator(".opblock").first.wait_for(timeout=60_000)
        text = page.locator("body").inner_text()
        operations = page.locator(".opblock").count()
        browser.close()
    assert "Unable to render" not in text and "/api/search" in text and operations >= 8
    assert elsewhere == []


DRAFT = ("《社会救助暂行办法》第十一条规定：“申请最低生活保障，按照下列程序办理”。\n"
         "第十六条规定：“申请特困人员供养，由本人向户籍所在地的乡镇政府、街道办事处提出书面申请”。\n"
         "“国家对最低生活保障家庭应当每月上门慰问一次”（《社会救助暂行办法》第九条）。")


def test_check_a_draft_as_json_and_as_a_commented_docx(api):
    import io

    import docx

    url, _ = api
    body = json.dumps({"text": DRAFT}).encode()
    status, result = get(url, "/api/check", "POST", body, {"Content-Type": "application/json"})
    assert status == 200
    assert [q["status"] for q in result["quotes"]] == ["exact", "differs", "not_found"]
    first, second = result["quotes"][0], result["quotes"][1]
    assert DRAFT[first["start"]:first["end"]] == first["text"] and first["source"]["article"] == "第十一条"
    assert second["differences"] == [["missing", "", "人民"]] and second["source"]["article"] == "第十六条"
    request = urllib.request.Request(url + "/api/check?format=docx", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        comments = [c.text for c in docx.Document(io.BytesIO(r.read())).comments]
    assert len(comments) == 3 and comments[1].startswith("【有出入】") and "漏“人民”" in comments[1]
    upload, headers = multipart([("稿件.txt", DRAFT.encode("gb18030"))])
    status, result = get(url, "/api/check/file", "POST", upload.replace(b'name="files"', b'name="file"'), headers)
    assert status == 200 and [q["status"] for q in result["quotes"]] == ["exact", "differs", "not_found"]
    upload, headers = multipart([("稿件.pdf", b"%PDF-1.4")])
    status, result = get(url, "/api/check/file", "POST", upload.replace(b'name="files"', b'name="file"'), headers)
    assert status == 400 and result["subject"] == "稿件.pdf" and "不支持的稿件格式" in result["error"]


def test_related_provisions_over_http(api):
    url, _ = api
    status, related = get(url, "/api/related" + query(ref="社会救助暂行办法第十一条"))
    assert status == 200 and set(related) == {"article", "cites", "cited_by", "versions", "local"}
    assert [(e["title"], e["article"], e["kind"]) for e in related["cited_by"]] == [
        ("社会救助暂行办法", "第十六条", "article")]
    status, result = get(url, "/api/related" + query(ref="社会救助暂行办法第九百条"))
    assert status == 404 and "第九百条" in result["error"]


def test_the_ledger_over_http(api):
    import io

    import openpyxl

    url, _ = api
    json_headers = {"Content-Type": "application/json"}
    status, topic = get(url, "/api/ledger/topics", "POST",
                        json.dumps({"title": "关于民政工作的重要指示", "date": "2026-03-02"}).encode(), json_headers)
    assert status == 201 and topic["id"] >= 1
    session = {"date": "2026-03-10", "kind": "党组会议", "topics": [topic["id"]], "attendees": ["甲", "乙"]}
    status, made = get(url, "/api/ledger/sessions", "POST", json.dumps(session).encode(), json_headers)
    assert status == 201 and made["topics"] == [topic["id"]]
    new_task = {"text": "修订办法", "session": made["id"], "due": "2026-06-30"}
    status, task = get(url, "/api/ledger/tasks", "POST", json.dumps(new_task).encode(), json_headers)
    status, done = get(url, f"/api/ledger/tasks/{task['id']}", "POST",
                       json.dumps({"status": "已完成", "note": "已印发"}).encode(), json_headers)
    assert status == 200 and done["status"] == "已完成" and done["updates"][0]["note"] == "已印发"
    status, result = get(url, "/api/ledger/status" + query(today="2026-03-20"))
    row = next(t for t in result["topics"] if t["id"] == topic["id"])
    assert (row["status"], row["days"]) == ("late", 1)  # day 8
    status, stats = get(url, "/api/ledger/stats" + query(year=2026))
    assert stats["sessions"]["党组会议"] >= 1 and stats["tasks"]["done"] >= 1
    with urllib.request.urlopen(url + "/api/ledger/book" + query(year=2026, format="xlsx"), timeout=60) as r:
        book = openpyxl.load_workbook(io.BytesIO(r.read()))
    assert [c.value for c in book["第一议题"][2]][5] == "逾期传达（1天）"
    status, result = get(url, "/api/ledger/sessions", "POST",
                         json.dumps({**session, "kind": "茶话会"}).encode(), json_headers)
    assert status == 400 and "未知的学习形式" in result["error"]
