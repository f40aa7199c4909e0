"""`kb serve`: the knowledge base over HTTP, as JSON, for other systems. A thin layer over
kb.library.knowledge_base like the CLI and the app: one process, the model loaded once, one lock around the
knowledge base. Errors are JSON with a Chinese message and a 4xx status; the OpenAPI page
(/docs) is served from the swagger-ui-bundle package, so it works offline.

    kb serve --host 127.0.0.1 --port 8600
    curl 'http://127.0.0.1:8600/api/search?q=低保怎么申请&k=3'
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ingest.types import DOC_TYPES
from kb.config import Config
from kb.errors import AccessError, ConfigError, DocumentNotFound, StudyKBError
from kb.export import DOCX_MIME, MAX_DRAFT_BYTES, commented_docx, read_draft
from kb.export.ledger import XLSX_MIME, ledger_docx, ledger_xlsx
from kb.language.query import ArticleRef
from kb.library.auth import Users, authorise
from kb.library.knowledge_base import KnowledgeBase
from kb.library.ledger import KINDS, TASK_STATES
from kb.library.quote_check import MAX_DRAFT_CHARS
from kb.types import SEARCH_MODES, Filters

LOCAL_NAMES = {"127.0.0.1", "localhost", "::1"}
MAX_REPEATED = 50  # values of one query parameter (doc=, place= …): thousands held the lock for seconds
MAX_ID = 2**62  # a document id SQLite can hold; larger is no document (and was an HTTP 500)
CHANGES = ("POST", "PUT", "PATCH", "DELETE")
READ_ONLY_POSTS = ("/api/check", "/api/check/file")  # a POST only because a draft is too long for a URL
ICON = Path(__file__).resolve().parent.parent / "webapp" / "icon.png"


MAX_FILES_PER_UPLOAD = 20  # with max_file_mb, the most one upload request may carry
DocId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="编号")]


ARTICLE_PATTERN = r"^(第?[0-9]{1,4}条?|第[零〇一二三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?)$"


class Confirmed(BaseModel):
    question: str = Field(min_length=1, max_length=200, description="问题")
    title: str = Field(min_length=1, max_length=200, description="法规名称")
    article: str = Field(min_length=1, max_length=20, pattern=ARTICLE_PATTERN, description="条号：第十一条 或 11")


class Review(BaseModel):
    review_due: str = Field("", max_length=10, description="复核日期 YYYY-MM-DD")
    text: str | None = Field(None, max_length=2000, description="简短的口径文字")


class Draft(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_DRAFT_CHARS, description="稿件全文")


CheckFormat = Annotated[str, Query(alias="format", pattern="^(json|docx)$",
                                   description="json（默认）或 docx：带批注的 Word 稿件")]


class NewTopic(BaseModel):
    title: str = Field("", max_length=500, description="议题名称（给了 doc 时可省略）")
    date: str = Field("", max_length=10, description="印发或发表日期 YYYY-MM-DD")
    doc: str | None = Field(None, max_length=500, description="文库中的文档：编号或标题")
    leader: str = Field("", max_length=50)
    received: str = Field("", max_length=10)
    source: str = Field("", max_length=20)


class NewSession(BaseModel):
    date: str = Field(max_length=10)
    kind: str = Field(max_length=20, description="、".join(KINDS))
    topics: list[int] = Field([], max_length=50, description="议题编号，按议程顺序；党组会议的第一个即传达的第一议题")
    host: str = Field("", max_length=50)
    lead: str = Field("", max_length=50)
    attendees: list[str] = Field([], max_length=500)
    absent: list[dict] = Field([], max_length=500, description='[{"name", "reason"}]')
    notes: str = Field("", max_length=20_000)
    measures: str = Field("", max_length=20_000)
    speeches: list[dict] = Field([], max_length=200, description='[{"speaker", "text"}]')


class NewTask(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    session: int | None = None
    owner: str = Field("", max_length=50)
    department: str = Field("", max_length=50)
    due: str = Field("", max_length=10)


class TaskUpdate(BaseModel):
    status: str = Field(description="、".join(TASK_STATES))
    note: str = Field("", max_length=2000)


class BadRequest(StudyKBError):
    """A request the API cannot serve as asked (an unknown type, place or mode)."""


def error(status: int, message: str, subject: str = "") -> JSONResponse:
    return JSONResponse({"error": message, "subject": subject}, status_code=status)


def create_app(config: Config, kb: KnowledgeBase | None = None, local_only: bool = True) -> FastAPI:
    """`local_only`: served on a loopback address, so every request must name this machine."""
    kb = kb or KnowledgeBase(config)
    kb.warm()
    lock = threading.Lock()  # the readers' knowledge base: SQLite and the in-memory index are not shared mid-change
    # Changes go through a second knowledge base (its own SQLite connection and index, the same model)
    # under their own lock: a long upload never blocks a search, and readers see each commit at their
    # next query, as another process's (kb.store.live).
    writer = KnowledgeBase(kb.config, embedder=kb.embedder)
    write_lock = threading.Lock()
    app = FastAPI(title="studykb 学习资料知识库 API", version="1", docs_url=None, redoc_url=None,
                  description="检索、问答和文库管理。所有回答都带出处；错误以 JSON 返回，含中文说明。")

    # Swagger UI from a package, never a CDN; fastapi-offline's reads the OpenAPI 3.1 that FastAPI writes
    # (swagger-ui-bundle's 3.x showed "Unable to render this definition")
    import fastapi_offline

    docs_static = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount("/docs-static", StaticFiles(directory=str(docs_static)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=app.title,
                                   swagger_js_url="/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-static/swagger-ui.css", swagger_favicon_url="/favicon.png")

    @app.get("/favicon.png", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(ICON)

    def editor(request: Request, role: str = "editor") -> str:
        """Who makes a change: the user of the request's token (users.toml is read again each time, so
        `kb user` and `kb token` take effect without a restart). Raises AccessError."""
        users = Users(config.users_path)
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        return authorise(users, users.by_token(token) if token else None, role)

    def reader_signed_in(request: Request) -> bool:
        """Whether the request carries a valid token (any role): only then are server paths shown."""
        try:
            editor(request, role="reader")
            return Users(config.users_path).configured
        except AccessError:
            return False

    def path_shown(request: Request):
        """How this request sees stored files' paths: whole when signed in, else the file name. Decided
        once per request (users.toml is read once, not once per listed document)."""
        if reader_signed_in(request):
            return lambda path: path
        return lambda path: Path(path).name

    @app.middleware("http")
    async def same_origin_only(request: Request, call_next):
        """A web page the user happens to open must not drive the API: a browser's cross-site POST or
        DELETE carries another Origin, and a DNS-rebinding page another Host than this machine's name."""
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if local_only and host not in LOCAL_NAMES:
            return error(403, "只接受本机地址的请求（localhost 或 127.0.0.1）", host)
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin:
            if urlsplit(origin).netloc != request.headers.get("host"):
                return error(403, "不接受其他网页发来的修改请求", origin)
        counts = Counter(key for key, _ in request.query_params.multi_items())
        crowded = [key for key, n in counts.items() if n > MAX_REPEATED]
        if crowded:
            return error(400, f"参数 {'、'.join(crowded)} 重复过多（每个参数最多 {MAX_REPEATED} 个值）", crowded[0])
        if request.url.path in READ_ONLY_POSTS:  # a draft checked changes nothing: anyone may, as anyone searches
            size = request.headers.get("content-length", "")
            if size.isdigit() and int(size) > MAX_DRAFT_BYTES + 2**16:
                return error(413, f"稿件过大（上限 {MAX_DRAFT_BYTES // 2**20} MB）", size)
        elif request.method in CHANGES and request.url.path.startswith("/api/"):
            # who may change the library, decided from the headers before any of the body is read
            try:
                # a clerk (any signed-in user) confirms an answer; an editor changes everything else
                editor(request, role="reader" if request.url.path == "/api/answers/confirm" else "editor")
            except AccessError as exc:
                return error(403 if exc.signed_in else 401, exc.reason, str(exc.subject))
            size = request.headers.get("content-length", "")
            most = config.max_file_mb * 2**20 * MAX_FILES_PER_UPLOAD
            if size.isdigit() and int(size) > most:
                return error(413, f"上传内容过大（上限 {most / 2**20:.0f} MB）", size)
        return await call_next(request)

    @app.exception_handler(StudyKBError)
    def studykb_error(request: Request, exc: StudyKBError) -> JSONResponse:
        status = 404 if isinstance(exc, DocumentNotFound) else 400
        if isinstance(exc, AccessError):
            status = 403 if exc.signed_in else 401
        return error(status, exc.reason, str(exc.subject))

    @app.exception_handler(RequestValidationError)
    def bad_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
        names = "、".join(str(e["loc"][-1]) for e in exc.errors())
        return error(422, f"请求参数错误：{names}（缺少或格式不对）", names)

    @app.get("/api/health")
    def health() -> dict:
        with lock:
            return {"status": "ok", "documents": len(kb.documents())}

    def request_filters(
            type: Annotated[list[str] | None, Query(description="文档类型：" + "、".join(DOC_TYPES))] = None,
            date_from: Annotated[str | None, Query(alias="from", description="起始日期 YYYY-MM-DD")] = None,
            date_to: Annotated[str | None, Query(alias="to", description="截止日期 YYYY-MM-DD")] = None,
            issuer: Annotated[list[str] | None, Query()] = None,
            doc: Annotated[list[str] | None, Query(description="文档编号或标题")] = None,
            place: Annotated[list[str] | None, Query(description="适用地域：全国、浙江省、330000……")] = None,
            as_of: Annotated[str | None, Query(description="只检索该日有效的版本 YYYY-MM-DD")] = None) -> Filters:
        """The filters of a search or a question, checked by the knowledge base as the CLI's and the app's."""
        with lock:
            return kb.filters(type, date_from, date_to, issuer, doc, place, as_of)

    @app.get("/api/search")
    def search(q: Annotated[str, Query(min_length=1, max_length=2000, description="问题、关键词或条文引用")],
               k: Annotated[int, Query(ge=1, le=100)] = 10,
               mode: Annotated[str, Query(description="hybrid | keyword | dense")] = "hybrid",
               filters: Filters = Depends(request_filters)) -> dict:  # noqa: B008 (a default: annotations are strings here)
        if mode not in SEARCH_MODES:
            raise BadRequest(mode, f"未知的检索方式（可选 {'、'.join(SEARCH_MODES)}）")
        with lock:
            return kb.search_json(q, k=k, filters=filters, mode=mode)

    @app.get("/api/ask")
    def ask(request: Request, q: Annotated[str, Query(min_length=1, max_length=2000)],
            filters: Filters = Depends(request_filters)) -> dict:  # noqa: B008
        # an unanswered question goes into the 未命中 list only from someone who may be asked about it
        # (anyone may read; a GET from any web page must not fill the list)
        logged = not Users(config.users_path).configured or reader_signed_in(request)
        with lock:
            return kb.ask(q, filters=filters, log_unanswered=logged).to_dict()

    @app.get("/api/documents")
    def documents(request: Request) -> list[dict]:
        with lock:
            docs = kb.documents()
        shown = path_shown(request)
        return [{**{k: v for k, v in d.items() if k != "content_hash"}, "path": shown(d["path"])} for d in docs]

    @app.get("/api/documents/{doc_id}")
    def document(doc_id: DocId, request: Request) -> dict:
        with lock:
            doc = asdict(kb.document(doc_id))
        doc.pop("page_starts", None)
        return {"id": doc_id, **doc, "path": path_shown(request)(doc["path"])}

    @app.post("/api/documents", status_code=201)
    def upload(request: Request,
               files: Annotated[list[UploadFile], File(description="PDF、DOCX、TXT、MD、HTML 文件")],
               similar: Annotated[str, Query(pattern="^(keep|replace|ask)$",
                                             description="与已收录文档标题日期相同或正文大部分相同的文件：keep 都保留"
                                                         "（默认），replace 替换已收录的（移入回收站），ask 不入库，"
                                                         "在 waiting 中列出")] = "keep",
               ) -> dict:
        actor = editor(request)
        # no more than one byte past the limit is read: save_upload refuses the file then
        files_read = [(f.filename or "", f.file.read(config.max_file_mb * 2**20 + 1)) for f in files]
        with write_lock:
            result = writer.upload(files_read, actor=actor, ask=similar != "keep")
            replaced = []
            if similar == "replace":  # as the app's 替换: the stored documents go to the trash
                skip: set[int] = set()
                for waiting in result.waiting:
                    settled = writer.settle_upload(waiting, "replace", actor=actor, skip_ids=skip)
                    for name in ("added", "replaced", "unchanged", "duplicates", "failed"):
                        getattr(result.report, name).extend(getattr(settled.report, name))
                    result.report.chunks += settled.report.chunks
                    replaced += [{"id": d["id"], "title": title} for d, title in settled.replaced]
                result.waiting = []
            for waiting in result.waiting:  # the API cannot ask back: what waits is named, not kept
                writer.settle_upload(waiting, "skip", actor=actor)
        report = result.report
        failed = ([{"file": name, "reason": reason} for name, reason in result.refused]
                  + [{"file": Path(p).name, "reason": r} for p, r in report.failed])
        return {"added": [Path(p).name for p in report.added + report.replaced],
                "unchanged": [Path(p).name for p in report.unchanged],
                "duplicates": [{"file": Path(p).name, "same_as": t} for p, t in report.duplicates],
                "failed": failed, "chunks": report.chunks,
                "waiting": [{"file": Path(w.path).name, "similar": [{k: d[k] for k in ("id", "title", "date")}
                                                                  for d in w.similar]} for w in result.waiting],
                "replaced_documents": replaced}

    def as_editor(request: Request, change):
        """A change to the library by the request's editor (401/403 otherwise), under the lock."""
        actor = editor(request)
        with write_lock:
            return change(actor)

    @app.delete("/api/documents/{doc_id}")
    def delete(doc_id: DocId, request: Request) -> dict:
        return as_editor(request, lambda actor: {"deleted": doc_id, "title": writer.remove(doc_id, actor=actor)})

    @app.get("/api/trash")
    def trash(request: Request) -> list[dict]:
        """Deleted and replaced documents, restorable until the trash is emptied."""
        with lock:
            items = kb.trash()
        shown = path_shown(request)
        return [{**item, "path": shown(item["path"])} for item in items]

    @app.post("/api/trash/{doc_id}/restore")
    def restore(doc_id: DocId, request: Request) -> dict:
        return as_editor(request, lambda actor: {"restored": doc_id, "title": writer.restore(doc_id, actor=actor)})

    @app.get("/api/answers")
    def answers(request: Request,
                state: Annotated[str, Query(pattern="^(|draft|approved|recheck)$",
                                            description="draft 待审核、approved 已审核、recheck 待复核；空：全部")] = ""
                ) -> list[dict]:
        """The 口径库: each item with its state (待审核 / 已审核 / 待复核) and why it is to be rechecked.
        It names colleagues and holds citizens' questions: when users exist, for signed-in users only."""
        editor(request, role="reader")
        with lock:
            return [kb.answer_book.to_dict(i) for i in kb.answer_book.items(state)]

    @app.get("/api/answers/stats")
    def answer_stats(request: Request, since: Annotated[str, Query(alias="from", max_length=10)] = "",
                     until: Annotated[str, Query(alias="to", max_length=10)] = "") -> dict:
        """热点问题, 未命中 and confirmations per week (signed-in users only, when users exist)."""
        editor(request, role="reader")
        with lock:
            return kb.answer_book.statistics(since, until)

    @app.post("/api/answers/confirm")
    def confirm_answer(answer: Confirmed, request: Request) -> dict:
        """答对了: the article (title and article, 第十一条) that answered a question. Any signed-in user."""
        actor = editor(request, role="reader")
        with write_lock:
            ref = ArticleRef(answer.title, answer.article)
            return {"item": writer.answer_book.confirm(answer.question, ref, actor=actor), "state": "draft"}

    @app.post("/api/answers/{item_id}/approve")
    def approve_answer(item_id: DocId, request: Request, review: Review | None = None) -> dict:
        """审核: the item counts from now (an editor)."""
        review = review or Review()
        return as_editor(request, lambda actor: {"item": writer.answer_book.approve(
            item_id, actor=actor, review_due=review.review_due, text=review.text), "state": "approved"})

    @app.delete("/api/answers/{item_id}")
    def delete_answer(item_id: DocId, request: Request) -> dict:
        return as_editor(request, lambda actor: writer.answer_book.remove(item_id, actor=actor) or {"deleted": item_id})

    def checked(draft: str, fmt: str, original: tuple[str, bytes] | None = None):
        with lock:
            report = kb.quotes.check(draft)
        if fmt == "docx":
            return Response(commented_docx(draft, report.results, original), media_type=DOCX_MIME,
                            headers={"Content-Disposition": "attachment; filename*=UTF-8''checked.docx"})
        return report.to_dict()

    @app.post("/api/check")
    def check(draft: Draft, fmt: CheckFormat = "json"):
        """引文核对：稿件中每处引文与原文逐字比对（exact、differs、wrong_article、outdated、not_found）。"""
        return checked(draft.text, fmt)

    @app.post("/api/check/file")
    def check_file(file: Annotated[UploadFile, File(description="TXT、MD 或 DOCX 稿件")], fmt: CheckFormat = "json"):
        """引文核对一个稿件文件；DOCX 稿件以 format=docx 取回时保留原格式，只加批注。"""
        name, data = file.filename or "draft.txt", file.file.read(MAX_DRAFT_BYTES + 1)
        draft = read_draft(name, data)
        return checked(draft, fmt, (name, data) if name.lower().endswith(".docx") else None)

    @app.get("/api/related")
    def related(ref: Annotated[str, Query(min_length=2, max_length=200, description="如 社会救助暂行办法第十一条")],
                place: Annotated[str | None, Query(max_length=50, description="只列这一地方的配套规定")] = None,
                ) -> dict:
        """法条联想：本条引用（cites）、引用本条（cited_by）、其他版本（versions）、地方规定（local）。"""
        with lock:
            return kb.provisions.of(ref, place=place)

    # ---------------------------------------------------------------- 学习台账
    @app.get("/api/ledger/status")
    def ledger_status(today: Annotated[str, Query(max_length=10)] = "") -> dict:
        with lock:
            return {"topics": kb.ledger.status(today)}

    @app.get("/api/ledger/stats")
    def ledger_stats(year: Annotated[int, Query(ge=2000, le=2100)],
                     today: Annotated[str, Query(max_length=10)] = "") -> dict:
        with lock:
            return kb.ledger.stats(year, today)

    @app.get("/api/ledger/book")
    def ledger_book(year: Annotated[int, Query(ge=2000, le=2100)], today: Annotated[str, Query(max_length=10)] = "",
                    fmt: Annotated[str, Query(alias="format", pattern="^(json|docx|xlsx)$")] = "json"):
        """The year's ledger: JSON, or the Word (docx) or Excel (xlsx) export."""
        with lock:
            book = kb.ledger.book(year, today)
        if fmt == "json":
            return book
        data, mime = (ledger_docx(book), DOCX_MIME) if fmt == "docx" else (ledger_xlsx(book), XLSX_MIME)
        return Response(data, media_type=mime,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''ledger-{year}.{fmt}"})

    @app.post("/api/ledger/topics", status_code=201)
    def ledger_topic(topic: NewTopic, request: Request) -> dict:
        return as_editor(request, lambda actor: asdict(writer.ledger.add_topic(
            topic.title, topic.date, topic.received, topic.source, topic.leader, topic.doc, actor=actor)))

    @app.post("/api/ledger/sessions", status_code=201)
    def ledger_session(session: NewSession, request: Request) -> dict:
        s = session
        return as_editor(request, lambda actor: asdict(writer.ledger.add_session(
            s.date, s.kind, s.topics, s.host, s.lead, s.attendees, s.absent, s.notes, s.measures, s.speeches,
            actor=actor)))

    @app.post("/api/ledger/tasks", status_code=201)
    def ledger_task(task: NewTask, request: Request) -> dict:
        return as_editor(request, lambda actor: asdict(writer.ledger.add_task(
            task.text, task.owner, task.due, task.session, task.department, actor=actor)))

    @app.post("/api/ledger/tasks/{task_id}")
    def ledger_task_update(task_id: DocId, update: TaskUpdate, request: Request) -> dict:
        return as_editor(request, lambda actor: asdict(writer.ledger.update_task(
            task_id, update.status, update.note, actor=actor)))

    @app.get("/api/stats")
    def stats(request: Request) -> dict:
        with lock:
            figures = kb.stats()
        shown = path_shown(request)
        return {**figures, **{k: shown(figures[k]) for k in ("database", "vector_file")}}

    return app


def serve(config: Config, host: str, port: int) -> None:
    import uvicorn

    if host not in LOCAL_NAMES and not Users(config.users_path).configured:
        raise ConfigError(f"--host {host}", "对其他机器开放前，请先用 kb user add 建立用户：否则任何人都能修改文库")

    uvicorn.run(create_app(config, local_only=host in LOCAL_NAMES), host=host, port=port, log_level="warning")
