"""studykb in the browser: 检索, 问答, 文库, 文档, 素材篮. A thin layer over kb.library:
the knowledge base and its model are loaded once per process and shared by every session
(one lock serialises them); document text always goes through webapp.render, shown as text.

    streamlit run app.py        (STUDYKB_DATA and the other settings as for the CLI)
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from pathlib import Path

import streamlit as st

from ingest import DOC_TYPES, SUPPORTED_SUFFIXES
from kb.answer import Answer
from kb.auth import ROLES, Users, authorise
from kb.baskets import BasketItem, move
from kb.config import Config
from kb.diff import STATUSES
from kb.errors import AccessError, QueryError, StudyKBError, UploadError
from kb.library import KnowledgeBase
from kb.place import Place
from kb.query import normalise_title, parse_query
from kb.types import SEARCH_MODES, Filters, Hit, labelled_dates, local_time
from kb.uploads import save_upload
from webapp.export import comparison_docx, to_docx, to_markdown
from webapp.render import document_blocks, escape, highlight, highlight_terms

ICON = Path(__file__).resolve().parent / "webapp" / "icon.png"
PAGES = ("检索", "问答", "文库", "文档", "新旧对照", "素材篮")
# Each example works on the bundled corpus (tests/test_app.py runs them): a question, a citation, a quoted phrase.
SEARCH_EXAMPLES = "例如：低保怎么申请、社会救助暂行办法第十一条、\"兜底\"（引号内为原文中的确切短语）"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Widgets whose values outlive a page switch (Streamlit forgets a widget's value when its page is not shown).
KEPT = ("query", "question", "f_types", "f_from", "f_to", "f_issuers", "f_places", "f_docs", "f_as_of", "f_mode",
        "compact")
FILTER_NAMES = {"doc_types": "文档类型", "date_from": "起始日期", "date_to": "截止日期", "doc_ids": "限定文档",
                "issuers": "发布机关", "places": "适用地域", "as_of": "有效日期"}
DEFAULT_BASKET = "我的素材篮"
LOCK: list[threading.Lock] = []  # this run's knowledge-base lock, for callbacks
# Our own fixed style (no document text in it): the uploader's English hints are hidden (its limit is
# stated in Chinese above it) and its button speaks Chinese.
UPLOADER_STYLE = """<style>
[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] { display: none; }
[data-testid="stFileUploaderDropzone"] button span[data-has-shortcut]::after { content: "选择文件"; }
</style>"""


@st.cache_resource(show_spinner="正在加载知识库和向量模型（每个进程只加载一次）……")
def open_kb(data_dir: str, model: str) -> tuple[KnowledgeBase, threading.Lock]:
    """One knowledge base per data folder and model, for the life of the process. Sessions
    take turns with it (the lock): SQLite and the in-memory index are not shared mid-change."""
    kb = KnowledgeBase(Config.load(data_dir, model=model))
    kb.warm()
    return kb, threading.Lock()


def main() -> None:
    # the icon is a file of ours: a :material/…: page icon is fetched from fonts.gstatic.com
    st.set_page_config(page_title="学习资料知识库", page_icon=str(ICON), layout="wide")
    config = Config.load()
    check_address(config)
    try:
        kb, lock = open_kb(str(config.data_dir), config.model)
        LOCK[:] = [lock]
    except StudyKBError as exc:  # a mismatched model or a damaged file: say so, don't show a traceback
        st.error(f"知识库无法打开：{exc}")
        st.stop()
    state = st.session_state
    for key in KEPT:  # re-set, so the value survives the run in which its widget is not drawn
        if key in state:
            state[key] = state[key]
    state.setdefault("page", PAGES[0])
    page = {"检索": search_page, "问答": ask_page, "文库": library_page, "文档": document_page,
            "新旧对照": compare_page, "素材篮": basket_page}
    with lock:
        with st.sidebar:
            st.title("学习资料知识库")
            st.radio("页面", PAGES, key="page", label_visibility="collapsed")
            docs = kb.documents()  # read once per run; every page works from this list
            basket = current_basket(kb)
            st.caption(escape(f"已收录 {len(docs)} 份文档 · {basket.name if basket else '素材篮'} "
                              f"{basket.items if basket else 0} 条"))
            sign_in(config)
        try:
            page[state.page](kb, config, docs)
        except StudyKBError as exc:  # e.g. a document another session just deleted
            st.error(f"出错了：{exc}")


# ------------------------------------------------------------------ who may change the library

def sign_in(config: Config) -> None:
    """The sidebar's sign-in, shown once users are configured (kb user add): reading needs none."""
    users = Users(config.users_path)
    if not users.configured:
        return
    state = st.session_state
    if state.get("signed_in") in users.users:
        user = users.users[state.signed_in]
        st.caption(escape(f"已登录：{user.name}（{ROLES[user.role]}）"))
        if st.button("退出登录", key="sign_out"):
            state.pop("signed_in")
            st.rerun()
        return
    with st.expander("登录（上传、删除、恢复需要）"), st.form("sign_in", border=False):
        name = st.text_input("用户名")
        password = st.text_input("密码", type="password")
        if st.form_submit_button("登录"):
            user = users.sign_in(name, password)
            if user is None:
                st.error("用户名或密码不对")
            else:
                state.signed_in = user.name
                st.rerun()


def editor(config: Config) -> str | None:
    """The name this session's changes are recorded under, or None when it may not change the library."""
    users = Users(config.users_path)
    try:
        return authorise(users, users.users.get(st.session_state.get("signed_in", "")))
    except AccessError:
        return None


def check_address(config: Config) -> None:
    """Served beyond this machine only once users are configured: otherwise anyone could change it."""
    address = st.get_option("server.address") or ""
    if address not in ("localhost", "127.0.0.1", "::1") and not Users(config.users_path).configured:
        st.error(f"本界面正在监听 {address or '所有网卡'}，但还没有设置用户，任何人都能修改文库。请先用 "
                 "`kb user add 用户名 --role editor` 建立用户，或只在本机启动（--server.address localhost）。")
        st.stop()


# ------------------------------------------------------------------ shared parts

def sidebar_filters(docs: list[dict]) -> tuple[Filters, str]:
    with st.sidebar:
        st.subheader("检索条件")
        # each choice says how many documents it holds, so an empty one (讲话 0) explains an empty result
        by_type = Counter(d["doc_type"] for d in docs)
        types = st.multiselect("文档类型", list(DOC_TYPES), format_func=lambda t: f"{DOC_TYPES[t]}（{by_type[t]}）",
                               key="f_types", placeholder="全部", select_all=False)
        date_from = st.date_input("起始日期", value=None, key="f_from", min_value=dt.date(1949, 1, 1))
        date_to = st.date_input("截止日期", value=None, key="f_to", min_value=dt.date(1949, 1, 1))
        issuers = st.multiselect("发布机关", sorted({d["issuer"] for d in docs if d["issuer"]}), key="f_issuers",
                                 placeholder="全部", select_all=False)
        # the jurisdictions present, national first; each takes the places within it
        by_place = Counter(d["jurisdiction"] for d in docs)
        places = sorted(by_place, key=lambda code: (code != "", code))
        place_codes = st.multiselect("适用地域", places, key="f_places", placeholder="全部", select_all=False,
                                     format_func=lambda code: f"{Place(code).label}（{by_place[code]}）")
        titles = {d["id"]: doc_label(d) for d in docs}
        doc_ids = st.multiselect("限定文档", list(titles), format_func=titles.get, key="f_docs", placeholder="全部",
                                 select_all=False)  # no select_all: Streamlit's "Select all" entry is English
        as_of = st.date_input("有效日期", value=None, key="f_as_of", min_value=dt.date(1949, 1, 1),
                              help="只检索该日有效的版本（同一法规的旧版本或尚未公布的新版本不出现）；不填则用现行版本")
        mode = st.selectbox("检索方式", list(SEARCH_MODES), format_func=SEARCH_MODES.get, key="f_mode")
    filters = Filters(doc_types=types or None, date_from=date_from.isoformat() if date_from else None,
                      date_to=date_to.isoformat() if date_to else None, doc_ids=doc_ids or None,
                      issuers=issuers or None, places=place_codes or None,
                      as_of=as_of.isoformat() if as_of else None)
    return filters, mode


def doc_label(doc: dict) -> str:
    return doc["title"] + (f"（{doc['date']}）" if doc["date"] else "")


def open_document(doc_id: int, start: int | None = None, end: int | None = None) -> None:
    """Callback: show a document on the 文档 page, at a cited span when one is given; the page it
    was opened from is remembered, for the way back."""
    if st.session_state.page != "文档":
        st.session_state.came_from = st.session_state.page
    st.session_state.page = "文档"
    st.session_state.doc_select = doc_id
    st.session_state.cited = (doc_id, start, end) if start is not None else None


def current_basket(kb: KnowledgeBase):
    """The basket being filled: the one chosen on the 素材篮 page, else the most recently changed."""
    baskets = kb.baskets()
    chosen = next((b for b in baskets if b.id == st.session_state.get("basket_id")), None)
    return chosen or (baskets[0] if baskets else None)


def add_to_basket(kb: KnowledgeBase, lock: threading.Lock, hit: Hit) -> None:
    with lock:  # a callback runs before the page, outside main()'s turn with the knowledge base
        _add_to_basket(kb, hit)


def _add_to_basket(kb: KnowledgeBase, hit: Hit) -> None:
    basket = current_basket(kb)
    basket_id = basket.id if basket else kb.create_basket(DEFAULT_BASKET)
    st.session_state.basket_id = basket_id
    name = basket.name if basket else DEFAULT_BASKET
    if kb.add_to_basket(basket_id, hit):
        st.toast(escape(f"已加入“{name}”"))
    else:
        st.toast(escape(f"“{name}”中已有这段内容"))


def hit_card(kb: KnowledgeBase, hit: Hit, n: int, terms: list[str], key: str) -> None:
    c = hit.citation
    with st.container(border=True, key=f"{key}-card-{n}"):
        st.markdown(f"**{n}\\. {escape('《' + c.title + '》')}** {escape(c.location())}")
        others = kb.other_versions(hit)
        status = kb.version_statuses().get(hit.doc_id, "") if others or c.doc_type == "regulation" else ""
        meta = [c.applies_in(), DOC_TYPES.get(c.doc_type, ""), c.speaker, c.doc_number, c.dated(),
                f"第{c.page}页" if c.page else "", status if status != "现行有效" or others else "",
                f"另有 {'、'.join(others)} 版" if others else ""]
        st.caption(escape(" · ".join(m for m in meta if m)))
        st.markdown(highlight(hit.text, terms))
        left, right, _ = st.columns([1, 1, 4])
        left.button("加入素材篮", key=f"{key}-add-{hit.chunk_id}", on_click=add_to_basket, args=(kb, LOCK[0], hit),
                    icon=":material/add:")
        right.button("查看原文", key=f"{key}-open-{hit.chunk_id}", on_click=open_document,
                     args=(hit.doc_id, hit.start, hit.end), icon=":material/description:")
        with st.expander("上下文"):
            before, after = kb.context(hit)
            if before:
                st.markdown(escape(before))
            st.markdown(f"**{escape(hit.text)}**")
            if after:
                st.markdown(escape(after))


def cached(name: str, key: tuple, compute):
    """Keeps the last result per page in the session, so a click elsewhere does not re-run it."""
    slot = st.session_state.get(name)
    if slot is None or slot[0] != key:
        t0 = time.perf_counter()
        slot = (key, compute(), time.perf_counter() - t0)
        st.session_state[name] = slot
    return slot[1], slot[2]


# ------------------------------------------------------------------------ pages

def search_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("检索")
    filters, mode = sidebar_filters(docs)
    query = st.text_input("检索内容", key="query", placeholder=SEARCH_EXAMPLES)
    if not query.strip():
        st.info("输入问题或关键词后按回车。可用引号检索原文中的确切短语，也可直接输入“法规名+条号”。")
        return

    try:
        hits, seconds = cached("search_result", (query, repr(filters), mode),
                               lambda: kb.search(query, k=10, filters=filters, mode=mode))
    except QueryError as exc:
        st.warning(escape(exc.reason))
        return
    places = kb.asked_places(query)
    where = f"；{'、'.join(p.label for p in places)}和全国的规定排在前面" if places else ""
    left, right = st.columns([4, 1])
    left.caption(escape(f"共 {len(hits)} 条结果，用时 {seconds * 1000:.0f} 毫秒{where}"))
    compact = right.toggle("紧凑列表", key="compact", help="每条结果一行：标题、条目和首句")
    if expansions := kb.expansions(query):
        st.caption(escape(f"已同时检索：{'、'.join(expansions)}"))
    missing = [p for p in parse_query(query).phrases if not any(p in h.text for h in hits)]
    if missing and hits:
        st.caption(escape(f"原文中没有“{'”“'.join(missing)}”，以下结果不要求包含它"))
    if not hits:
        st.warning(escape(empty_reason(kb, query, filters, mode)))
    terms = highlight_terms(query, kb.words, kb.glossary)
    divided = False
    for n, hit in enumerate(hits, 1):
        if not divided and not kb.answers(hit):
            divided = True
            if n == 1:
                st.info("没有找到直接相关的内容，以下结果相关度较低。")
            else:
                st.divider()
                st.caption("以下结果相关度较低")
        if compact:
            hit_line(hit, n)
        else:
            hit_card(kb, hit, n, terms, "s")


def empty_reason(kb: KnowledgeBase, query: str, filters: Filters, mode: str) -> str:
    """Why a search found nothing: the filter that alone leaves nothing, when there is one."""
    if not filters.active() or not kb.search(query, k=1, mode=mode):
        return "没有找到相关内容。可以换个说法。"
    blocking = [label for name, label in FILTER_NAMES.items() if getattr(filters, name)
                and not kb.search(query, k=1, mode=mode, filters=Filters(**{name: getattr(filters, name)}))]
    which = "、".join(blocking) if blocking else "几个检索条件合在一起"
    return f"没有找到相关内容：检索条件（{which}）排除了全部结果。放宽或清除左侧的检索条件后再试。"


def hit_line(hit: Hit, n: int) -> None:
    """One line per hit: title, article and the passage's first line."""
    c = hit.citation
    first = hit.text.strip().split("\n")[0]
    first = first if len(first) <= 60 else first[:60] + "……"
    left, right = st.columns([12, 1])
    left.markdown(f"{n}\\. **{escape('《' + c.title + '》')}** {escape(c.location())} — {escape(first)}")
    right.button("原文", key=f"line-open-{hit.chunk_id}", on_click=open_document,
                 args=(hit.doc_id, hit.start, hit.end), help="查看原文")


def ask_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("问答")
    filters, _ = sidebar_filters(docs)
    question = st.text_input("问题", key="question", placeholder="例如：离婚要带什么材料")
    if not question.strip():
        st.info("输入问题后按回车。回答摘自知识库原文，并注明出处。")
        return

    answer: Answer
    try:
        answer, seconds = cached("ask_result", (question, repr(filters)), lambda: kb.ask(question, filters=filters))
    except QueryError as exc:
        st.warning(escape(exc.reason))
        return
    st.caption(f"用时 {seconds * 1000:.0f} 毫秒")
    terms = highlight_terms(question, kb.words, kb.glossary)
    if not answer.found:
        st.warning(escape(answer.text.split("以下")[0]))
        if answer.related:
            st.subheader("可能相关")
            for n, hit in enumerate(answer.related, 1):
                hit_card(kb, hit, n, terms, "r")
        return
    lead = answer.sources[0]
    with st.container(border=True, key="answer"):
        st.markdown(highlight(lead.text, terms))  # verbatim, its (一)(二)(三) on their own lines
        st.caption(escape("出处：" + lead.citation.format()))
        left, right, _ = st.columns([1, 1, 4])
        left.button("加入素材篮", key=f"lead-add-{lead.chunk_id}", on_click=add_to_basket, args=(kb, LOCK[0], lead),
                    icon=":material/add:")
        right.button("查看原文", key=f"lead-open-{lead.chunk_id}", on_click=open_document,
                     args=(lead.doc_id, lead.start, lead.end), icon=":material/description:")
    if len(answer.sources) > 1:
        st.subheader("其他相关规定和论述")
    for n, hit in enumerate(answer.sources[1:], 2):
        hit_card(kb, hit, n, terms, "a")


def library_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("文库")
    state = st.session_state
    state.setdefault("upload_round", 0)
    suffixes = sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES})
    actor = editor(config)
    if actor is None:
        st.info("上传、删除和恢复文档需要编辑权限：请先在侧栏登录。")
        library_table(docs)
        trash_section(kb, config, can_restore=False)
        return
    state.actor = actor
    st.html(UPLOADER_STYLE)
    files = st.file_uploader(f"上传文件（{'、'.join(suffixes)}；每个文件不超过 {config.max_file_mb} MB）",
                             accept_multiple_files=True, key=f"uploads-{state.upload_round}")
    if st.button("入库", type="primary", disabled=not files):
        ingest_uploads(kb, config, files)
        state.upload_round += 1  # a fresh uploader for the next batch
        st.rerun()
    for kind, message in state.pop("ingest_messages", []):
        getattr(st, kind)(escape(message))
    version_choices(kb, config)

    if not library_table(docs):
        return
    delete_section(kb, config, docs)
    trash_section(kb, config)


def library_table(docs: list[dict]) -> bool:
    st.subheader(f"已收录文档（{len(docs)} 份）")
    if not docs:
        st.info("知识库是空的。请上传文件，或在命令行运行 `kb ingest 文件夹`。")
        return False
    st.dataframe(
        [{"编号": d["id"], "标题": d["title"], "类型": DOC_TYPES.get(d["doc_type"], d["doc_type"]),
          "发布机关": d["issuer"], "适用地域": Place(d["jurisdiction"]).label, "文号": d["doc_number"],
          "日期": labelled_dates(d["date"], d["published"], d["effective"], d["doc_type"]),
          "时效性": d["version_status"] if d["doc_type"] == "regulation" or d["version_status"] != "现行有效" else "",
          "片段数": d["chunks"], "文件名": Path(d["path"]).name,
          "格式": d["source_format"], "入库时间": local_time(d["added_at"])} for d in docs],
        hide_index=True, width="stretch")
    return True


def delete_section(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    state = st.session_state
    with st.expander("删除文档"):
        # nothing chosen in advance; each entry says which file it came from and when, so two copies differ
        titles = {d["id"]: f"{d['title']}（{d['date'] or '无日期'}；{Path(d['path']).name}，"
                           f"{local_time(d['added_at'])} 入库）" for d in docs}
        doc_id = st.selectbox("要删除的文档", list(titles), format_func=titles.get, key="delete_doc", index=None,
                              placeholder="请选择文档")
        confirm = st.checkbox(f"确认删除（移入回收站，{config.trash_days:g} 天内可恢复）",
                              key=f"delete_confirm-{state.upload_round}")
        if st.button("删除", disabled=not confirm or doc_id is None):
            title = kb.remove(doc_id, actor=state.actor)
            state.ingest_messages = [("success", f"已将《{title}》移入回收站")]
            state.upload_round += 1  # unticks the confirmation
            st.rerun()


def trash_section(kb: KnowledgeBase, config: Config, can_restore: bool = True) -> None:
    """Deleted, pruned and replaced documents, each restorable until the trash is emptied."""
    trash = kb.trash()
    with st.expander(f"回收站（{len(trash)} 份）"):
        if not trash:
            st.caption(f"删除和被替换的文档在这里保留 {config.trash_days:g} 天。")
            return
        for item in trash:
            left, right = st.columns([5, 1])
            left.markdown(escape(f"《{item['title']}》 {item['reason_label']}，{local_time(item['trashed_at'])}，"
                                 f"{item['chunks']} 个片段（{Path(item['path']).name}）"))
            if can_restore and right.button("恢复", key=f"restore-{item['doc_id']}"):
                try:
                    title = kb.restore(item["doc_id"], actor=st.session_state.actor)
                    st.session_state.ingest_messages = [("success", f"已恢复《{title}》")]
                except StudyKBError as exc:
                    st.session_state.ingest_messages = [("warning", exc.reason)]
                st.rerun()


VERSION_CHOICES = {"replace": "替换已收录的文档", "version": "另存为新版本（都保留）", "skip": "跳过，不入库"}


def ingest_uploads(kb: KnowledgeBase, config: Config, files) -> None:
    """Saves and ingests uploads. A file that is another copy or version of a stored document
    (same title and date, or most of the same text) waits for the user's choice instead."""
    messages: list[tuple[str, str]] = []
    paths: list[Path] = []
    for f in files:
        try:
            paths.append(save_upload(f.name, f.getvalue(), config.uploads_path, config.max_file_mb * 2**20))
        except UploadError as exc:
            messages.append(("error", f"未入库：{exc.name}：{exc.reason}"))
    ready, pending = [], []
    for path in dict.fromkeys(paths):  # a file once
        try:
            similar = kb.similar_documents(path)
        except StudyKBError:
            similar = []  # unreadable: ingestion says why
        if similar:
            pending.append((str(path), [{k: d[k] for k in ("id", "title", "date", "path", "added_at")}
                                        for d in similar]))
        else:
            ready.append(path)
    if ready:
        messages += run_ingest(kb, config, ready)
    # added to any still awaiting a choice: a second batch never drops the first
    st.session_state.pending_versions = st.session_state.get("pending_versions", []) + pending
    st.session_state.ingest_messages = messages


def run_ingest(kb: KnowledgeBase, config: Config, paths: list[Path]) -> list[tuple[str, str]]:
    messages: list[tuple[str, str]] = []
    bar = st.progress(0.0, text="正在读取和切分……")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"正在向量化：{done}/{total} 段")

    report = kb.ingest(paths, progress=False, on_progress=progress, actor=st.session_state.actor)
    bar.progress(1.0, text="完成")
    kb.discard_uploads([path for path, _ in report.failed + report.duplicates])
    names = {str(p.resolve()): p.name for p in paths}
    for path in report.added + report.replaced:
        messages.append(("success", f"已入库：{names.get(path, Path(path).name)}"))
    for path in report.unchanged:
        messages.append(("info", f"内容未变，跳过：{Path(path).name}"))
    for path, title in report.duplicates:
        messages.append(("info", f"与已收录的《{title}》内容相同，跳过：{Path(path).name}"))
    for path, reason in report.failed:
        messages.append(("error", f"未入库：{Path(path).name}：{reason}"))
    if report.chunks:
        messages.append(("caption", f"新增 {report.chunks} 个片段，用时 {report.seconds:.1f} 秒"))
    return messages


def version_choices(kb: KnowledgeBase, config: Config) -> None:
    """Asks what to do with each upload that matches a stored document, then does it."""
    pending = st.session_state.get("pending_versions") or []
    if not pending:
        return
    st.warning("以下文件与已收录的文档标题和日期相同，或正文大部分相同。请选择处理方式：")
    for path, similar in pending:
        same = "、".join(f"《{d['title']}》（{d['date'] or '无日期'}；{Path(d['path']).name}，"
                        f"{local_time(d['added_at'])} 入库）"
                        for d in similar)
        # keyed by the saved file: a choice made for one file never carries over to another
        st.radio(escape(f"{Path(path).name} —— 与 {same} 相同或相近"), list(VERSION_CHOICES), index=None,
                 format_func=VERSION_CHOICES.get, key=f"version-{path}")
    chosen = [st.session_state.get(f"version-{path}") for path, _ in pending]
    if st.button("按所选处理", type="primary", disabled=None in chosen):
        messages: list[tuple[str, str]] = []
        removed: set[int] = set()
        try:
            for (path, similar), choice in zip(pending, chosen):
                st.session_state.pop(f"version-{path}", None)
                if choice == "skip":
                    kb.discard_uploads([path])
                    messages.append(("info", f"已跳过：{Path(path).name}"))
                    continue
                # to replace, the old documents go to the trash first (the new file may hold the same
                # text in another format), and come back if the new file does not get in
                replaced = []
                for d in similar if choice == "replace" else []:
                    if d["id"] in removed:  # the .md and the .docx of one law both replaced it
                        continue
                    removed.add(d["id"])
                    try:
                        replaced.append((d, kb.remove(d["id"], reason="replaced", actor=st.session_state.actor)))
                    except StudyKBError:
                        pass  # already gone (another session removed it)
                done = []
                try:
                    done = run_ingest(kb, config, [Path(path)])
                finally:  # whatever happened to the new file, the old ones are not left in the trash for it
                    messages += done
                    if any(kind == "success" for kind, _ in done):
                        messages += [("success", f"已替换《{title}》（{Path(d['path']).name}）")
                                     for d, title in replaced]
                    else:
                        for d, title in replaced:
                            try:
                                kb.restore(d["id"], actor=st.session_state.actor)
                            except StudyKBError as exc:
                                messages.append(("warning", f"《{title}》仍在回收站中：{exc.reason}"))
        finally:
            st.session_state.pending_versions = []
        st.session_state.ingest_messages = messages
        st.session_state.upload_round += 1
        st.rerun()


def document_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("文档")
    by_id = {d["id"]: d for d in docs}
    if not by_id:
        st.info("知识库是空的。")
        return
    state = st.session_state
    if state.get("doc_select") not in by_id:
        state.doc_select = next(iter(by_id))
    came_from = state.get("came_from")
    if came_from in ("检索", "问答"):
        back = "返回检索结果" if came_from == "检索" else "返回问答"
        st.button(back, on_click=go_back, icon=":material/arrow_back:")
    doc_id = st.selectbox("文档", list(by_id), key="doc_select", format_func=lambda i: doc_label(by_id[i]))
    doc = kb.document(doc_id)
    meta = [DOC_TYPES.get(doc.doc_type, ""), doc.issuer, doc.doc_number,
            labelled_dates(doc.date, doc.published, doc.effective, doc.doc_type), f"{by_id[doc_id]['chunks']} 个片段"]
    st.subheader(escape(doc.title))
    st.caption(escape(" · ".join(m for m in meta if m)))
    cited = state.get("cited")
    span = (cited[1], cited[2]) if cited and cited[0] == doc_id else None
    for kind, text in document_blocks(doc.text, doc.doc_type == "regulation", span):
        if kind == "heading":
            st.markdown(f"##### {escape(text)}")
        elif kind == "cited":
            with st.container(border=True, key="cited"):
                st.caption("▼ 引用位置")
                st.markdown(escape(text))
        else:
            st.markdown(escape(text))
    if span:
        # Our own fixed script (no document text in it): bring the cited passage into view.
        st.html("<script>setTimeout(() => document.querySelector('.st-key-cited')"
                "?.scrollIntoView({block: 'center'}), 300)</script>", unsafe_allow_javascript=True)


def go_back() -> None:
    st.session_state.page = st.session_state.pop("came_from", PAGES[0])


def compare_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    """新旧对照: two versions of one law, article by article, aligned by content."""
    st.header("新旧对照")
    laws: dict[str, list[dict]] = {}
    for d in docs:
        if d["date"]:
            laws.setdefault(normalise_title(d["title"]), []).append(d)
    laws = {title: sorted(v, key=lambda d: d["date"]) for title, v in laws.items() if len(v) > 1}
    if not laws:
        st.info("知识库中还没有同一法规的两个版本（标题相同、日期不同）。上传另一版本后即可逐条对照。")
        return
    title = st.selectbox("法规", sorted(laws), key="cmp_law", format_func=lambda t: laws[t][-1]["title"])
    versions = laws[title]
    left, right = st.columns(2)
    dates = [v["date"] for v in versions]
    old_date = left.selectbox("旧版本", dates, index=len(dates) - 2, key=f"cmp_from-{title}")
    new_date = right.selectbox("新版本", dates, index=len(dates) - 1, key=f"cmp_to-{title}")
    if old_date >= new_date:
        st.warning("旧版本的日期应早于新版本。")
        return
    (old, new, changes), _ = cached("compare_result", (title, old_date, new_date, kb.generation),
                                    lambda: kb.compare_versions(title, old_date, new_date))  # not on every rerun
    st.caption(escape("，".join(f"{label} {sum(c.status == s for c in changes)} 条" for s, label in STATUSES.items())))
    show_unchanged = st.toggle("显示未改的条文", key="cmp_unchanged")
    st.download_button("导出新旧对照表（DOCX）", data=comparison_docx(old, new, changes, show_unchanged),
                       file_name=f"{new['title']}新旧对照.docx", mime=DOCX_MIME, icon=":material/download:",
                       on_click="ignore")
    for change in changes:
        if change.status == "unchanged" and not show_unchanged:
            continue
        with st.container(border=True):
            head = " → ".join(a.number for a in (change.old, change.new) if a)
            st.markdown(f"**{escape(head)}** · {STATUSES[change.status]}")
            columns = st.columns(2)
            for column, article, side in ((columns[0], change.old, "delete"), (columns[1], change.new, "insert")):
                if article is None:
                    column.caption("（无）")
                    continue
                pieces = [escape(text) if tag == "equal" else
                          (f":red[~~{escape(text)}~~]" if tag == "delete" else f":green[**{escape(text)}**]")
                          for tag, text in change.pieces if tag in ("equal", side)]
                column.markdown("".join(pieces) if change.status in ("changed",) else escape(article.body))


def basket_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("素材篮")
    state = st.session_state
    baskets = {b.id: b for b in kb.baskets()}
    with st.expander("新建素材篮", expanded=not baskets):
        name = st.text_input("名称", key="new_basket", placeholder="例如：讲稿：兜底保障专题")
        if st.button("新建", disabled=not name.strip()):
            try:
                state.basket_id = kb.create_basket(name)
                state.pop("new_basket")
                st.rerun()
            except StudyKBError as exc:
                st.error(escape(exc.reason))
    if not baskets:
        st.info("还没有素材篮。新建一个，或在“检索”“问答”页点“加入素材篮”（自动建立“我的素材篮”）。")
        return
    current = current_basket(kb)
    state.basket_id = st.selectbox("当前素材篮", list(baskets), index=list(baskets).index(current.id),
                                   format_func=lambda i: f"{baskets[i].name}（{baskets[i].items} 条）")
    basket = baskets[state.basket_id]
    items = kb.basket(basket.id)
    with st.expander("重命名或删除"):
        new_name = st.text_input("新名称", value=basket.name, key=f"rename-{basket.id}")
        if st.button("重命名", disabled=new_name.strip() in ("", basket.name)):
            try:
                kb.rename_basket(basket.id, new_name)
                st.rerun()
            except StudyKBError as exc:
                st.error(escape(exc.reason))
        confirm = st.checkbox(escape(f"确认删除“{basket.name}”及其 {len(items)} 条内容"), key=f"drop-{basket.id}")
        if st.button("删除素材篮", disabled=not confirm):
            kb.delete_basket(basket.id)
            state.pop("basket_id", None)
            st.rerun()
    if not items:
        st.info("这个素材篮是空的。在“检索”或“问答”页点“加入素材篮”收集段落。")
        return
    for i, item in enumerate(items):
        key = f"{basket.id}-{item.doc_id}-{item.start}-{item.end}"
        with st.container(border=True):
            st.markdown(f"**{i + 1}\\. {escape('《' + item.title + '》')}** {escape(item.location)}")
            st.markdown(escape(item.text))
            st.caption(escape("出处：" + item.citation))
            st.text_area("备注", value=item.note, key=f"note-{key}", on_change=set_note,
                         args=(kb, basket.id, item.key(), f"note-{key}"), height=68)
            up, down, remove, _ = st.columns([1, 1, 1, 5])
            up.button("上移", key=f"up-{key}", on_click=edit_basket, args=(kb, basket.id, item.key(), move, -1),
                      disabled=i == 0, icon=":material/arrow_upward:")
            down.button("下移", key=f"down-{key}", on_click=edit_basket, args=(kb, basket.id, item.key(), move, 1),
                        disabled=i == len(items) - 1, icon=":material/arrow_downward:")
            remove.button("移除", key=f"rm-{key}", on_click=edit_basket, args=(kb, basket.id, item.key(), remove_item),
                          icon=":material/delete:")
    title = basket.name
    chinese = st.checkbox("标题用“一、二、三”编号", key="chinese_numbers")
    file_name = "".join(c if c not in '\\/:*?"<>|' else "_" for c in title)
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("导出 Word", data=to_docx(items, title, chinese), file_name=f"{file_name}.docx",
                         mime=DOCX_MIME, icon=":material/download:", on_click="ignore")
    right.download_button("导出 Markdown", data=to_markdown(items, title, chinese), file_name=f"{file_name}.md",
                          mime="text/markdown", icon=":material/download:", on_click="ignore")


def edit_basket(kb: KnowledgeBase, basket_id: int, item_key: tuple, change, *args) -> None:
    """Callback: applies a change (move, remove) to one passage of the stored basket, found by what it
    is, not where it was drawn (another user may have changed the basket since), under the lock."""
    with LOCK[0]:
        try:
            items = kb.basket(basket_id)
        except StudyKBError as exc:  # deleted meanwhile
            st.toast(exc.reason)
            return
        index = next((n for n, i in enumerate(items) if i.key() == item_key), None)
        if index is None:
            st.toast("这段内容已不在素材篮中（可能已被他人移除）")
            return
        change(items, index, *args)
        kb.save_basket(basket_id, items)


def remove_item(items: list[BasketItem], index: int) -> None:
    items.pop(index)


def set_note(kb: KnowledgeBase, basket_id: int, item_key: tuple, key: str) -> None:
    def change(items: list[BasketItem], index: int) -> None:
        items[index].note = st.session_state[key]
    edit_basket(kb, basket_id, item_key, change)


main()
