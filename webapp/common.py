"""What every page of the app shares: the one knowledge base and its lock, the session's kept
widgets, sign-in, the sidebar's filters, the result card and the cached result of a page. Document
text always goes through webapp.render, shown as text."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections import Counter
from pathlib import Path

import streamlit as st

from ingest import DOC_TYPES
from kb.config import Config
from kb.errors import AccessError, StudyKBError
from kb.language.places import Place
from kb.language.query import ArticleRef
from kb.library.auth import ROLES, Users, authorise
from kb.library.knowledge_base import KnowledgeBase
from kb.types import SEARCH_MODES, Filters, Hit
from webapp.render import escape, highlight

ICON = Path(__file__).resolve().parent / "icon.png"
PAGES = ("检索", "问答", "口径库", "引文核对", "学习台账", "文库", "文档", "新旧对照", "素材篮")
DATE_FORMAT = "YYYY-MM-DD"  # as dates are written everywhere else in the product
# Our own fixed style (no document text in it), for the English Streamlit shows and no setting turns
# off: the ⋮ menu (System / Light / Dark / Print / Record screen / Made with Streamlit) is hidden; the
# running indicator says 正在处理 instead of "Running… Stop"; an empty date box shows 年-月-日 instead of
# yyyy-mm-dd; the table toolbar's English tooltips go with the toolbar. A cited passage scrolled to
# stops below the fixed top bar, so its way back (返回检索结果) is not hidden under it.
APP_STYLE = """<style>
[data-testid="stMainMenu"] { display: none; }
[data-testid="stStatusWidget"] { font-size: 0 !important; }
[data-testid="stStatusWidget"] * { font-size: 0 !important; width: 0; overflow: hidden; }
[data-testid="stStatusWidget"]::after { content: "正在处理……"; font-size: 0.875rem; }
[data-testid="stDateInputField"] [data-placeholder="true"] { font-size: 0; }
[data-testid="stDateInputField"] [data-placeholder="true"]::after { font-size: 0.875rem; opacity: 0.6; }
[data-testid="stDateInputField"] [data-type="year"][data-placeholder="true"]::after { content: "年"; }
[data-testid="stDateInputField"] [data-type="month"][data-placeholder="true"]::after { content: "月"; }
[data-testid="stDateInputField"] [data-type="day"][data-placeholder="true"]::after { content: "日"; }
[data-testid="stElementToolbar"] { display: none; }
.st-key-cited { scroll-margin-top: 4.5rem; }
</style>"""
# Widgets whose values outlive a page switch (Streamlit forgets a widget's value when its page is not shown).
KEPT = ("query", "question", "f_types", "f_from", "f_to", "f_issuers", "f_places", "f_docs", "f_as_of", "f_mode",
        "compact")
DEFAULT_BASKET = "我的素材篮"
LOCK: list[threading.Lock] = []  # this run's knowledge-base lock, for callbacks


@st.cache_resource(show_spinner="正在加载知识库和向量模型（每个进程只加载一次）……")
def open_kb(data_dir: str, model: str) -> tuple[KnowledgeBase, threading.Lock]:
    """One knowledge base per data folder and model, for the life of the process. Sessions
    take turns with it (the lock): SQLite and the in-memory index are not shared mid-change."""
    kb = KnowledgeBase(Config.load(data_dir, model=model))
    kb.warm()
    return kb, threading.Lock()


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
            try:
                user = users.sign_in(name, password)
            except StudyKBError as exc:  # too many failures in a row: a pause
                st.error(exc.reason)
                return
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


def sidebar_filters(kb: KnowledgeBase, docs: list[dict]) -> tuple[Filters, str]:
    """The sidebar's search conditions, checked by the knowledge base (kb.filters) like the CLI's and the API's."""
    with st.sidebar:
        st.subheader("检索条件")
        # each choice says how many documents it holds, so an empty one (讲话 0) explains an empty result
        by_type = Counter(d["doc_type"] for d in docs)
        types = st.multiselect("文档类型", list(DOC_TYPES), format_func=lambda t: f"{DOC_TYPES[t]}（{by_type[t]}）",
                               key="f_types", placeholder="全部", select_all=False)
        earliest = dt.date(1949, 1, 1)
        date_from = st.date_input("起始日期", value=None, format=DATE_FORMAT, key="f_from", min_value=earliest,
                                  help="写作 2020-01-31，或点日历选择")
        date_to = st.date_input("截止日期", value=None, format=DATE_FORMAT, key="f_to", min_value=earliest,
                                help="写作 2020-12-31，或点日历选择")
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
        as_of = st.date_input("有效日期", value=None, format=DATE_FORMAT, key="f_as_of", min_value=earliest,
                              help="只检索该日有效的版本（同一法规的旧版本或尚未公布的新版本不出现）；不填则用现行版本")
        mode = st.selectbox("检索方式", list(SEARCH_MODES), format_func=SEARCH_MODES.get, key="f_mode")
    filters = kb.filters(types=types, date_from=date_from.isoformat() if date_from else None,
                         date_to=date_to.isoformat() if date_to else None, issuers=issuers, docs=doc_ids,
                         places=place_codes, as_of=as_of.isoformat() if as_of else None)
    return filters, mode


def doc_label(doc: dict) -> str:
    return doc["title"] + (f"（{doc['date']}）" if doc["date"] else "")


def open_document(doc_id: int, start: int | None = None, end: int | None = None) -> None:
    """Callback: show a document on the 文档 page, at a cited span when one is given; the page it
    was opened from is remembered, for the way back."""
    st.session_state.pop("related_for", None)  # the 法条联想 panel opens only from its own button
    if st.session_state.page != "文档":
        st.session_state.came_from = st.session_state.page
    st.session_state.page = "文档"
    st.session_state.doc_select = doc_id
    st.session_state.cited = (doc_id, start, end) if start is not None else None


def open_related(doc_id: int, article: str, start: int | None = None, end: int | None = None) -> None:
    """Callback: the document at an article, with its 法条联想 panel open."""
    open_document(doc_id, start, end)
    st.session_state.related_for = (doc_id, article)


def go_back() -> None:
    st.session_state.page = st.session_state.pop("came_from", PAGES[0])


def current_basket(kb: KnowledgeBase):
    """The basket being filled: the one chosen on the 素材篮 page, else the most recently changed."""
    baskets = kb.baskets.all()
    chosen = next((b for b in baskets if b.id == st.session_state.get("basket_id")), None)
    return chosen or (baskets[0] if baskets else None)


def add_to_basket(kb: KnowledgeBase, lock: threading.Lock, hit: Hit) -> None:
    with lock:  # a callback runs before the page, outside main()'s turn with the knowledge base
        try:
            _add_to_basket(kb, hit)
        except StudyKBError as exc:  # the passage's document was deleted since the card was drawn
            st.toast(escape(exc.reason))


def basket_user(config: Config) -> str | None:
    """Who this session's basket changes are recorded under; None when users exist and nobody signed
    in (baskets are shared: an anonymous session deleted an editor's). Any role may keep baskets."""
    users = Users(config.users_path)
    try:
        return authorise(users, users.users.get(st.session_state.get("signed_in", "")), role="reader")
    except AccessError:
        return None


def may_change_baskets() -> bool:
    """For a callback: whether this session may change baskets (set each run by app.main); says why not."""
    if st.session_state.get("basket_user") is None:
        st.toast("修改素材篮需要登录（在侧栏登录）")
        return False
    return True


def _add_to_basket(kb: KnowledgeBase, hit: Hit) -> None:
    if not may_change_baskets():
        return
    actor = st.session_state.basket_user
    basket = current_basket(kb)
    basket_id = basket.id if basket else kb.baskets.create(DEFAULT_BASKET, actor=actor)
    st.session_state.basket_id = basket_id
    name = basket.name if basket else DEFAULT_BASKET
    if kb.baskets.add(basket_id, hit, actor=actor):
        st.toast(escape(f"已加入“{name}”"))
    else:
        st.toast(escape(f"“{name}”中已有这段内容"))


def confirm_answer(kb: KnowledgeBase, lock: threading.Lock | None, question: str, hit: Hit | ArticleRef) -> None:
    """答对了: the 口径库 keeps the pair as a draft for an editor to review (kb.library.answer_book).
    `lock`: for a button's callback, which runs outside the page's turn; None from the page itself."""
    if st.session_state.get("basket_user") is None:  # the same rule as baskets: any signed-in user
        st.toast("确认答案需要登录（在侧栏登录）")
        return
    with lock or contextlib.nullcontext():
        try:
            item_id = kb.answer_book.confirm(question, hit, actor=st.session_state.basket_user)
        except StudyKBError as exc:
            st.toast(escape(exc.reason))
            return
    st.toast(escape(f"已记入口径库（第 {item_id} 条，待审核）"))


def approved_mark(hit: Hit) -> None:
    if hit.approved_answer:
        st.badge("本窗口已确认", icon=":material/verified:", color="green")


def hit_card(kb: KnowledgeBase, hit: Hit, n: int, terms: list[str], key: str, question: str = "") -> None:
    """A result card; with `question`, an article's card offers 答对了 for the 口径库."""
    c = hit.citation
    with st.container(border=True, key=f"{key}-card-{n}"):
        st.markdown(f"**{n}\\. {escape('《' + c.title + '》')}** {escape(c.location())}")
        approved_mark(hit)
        others = kb.versions.others(hit.doc_id)
        status = kb.versions.statuses().get(hit.doc_id, "") if others or c.doc_type == "regulation" else ""
        meta = [c.applies_in(), DOC_TYPES.get(c.doc_type, ""), c.speaker, c.doc_number, c.dated(),
                f"第{c.page}页" if c.page else "", status if status != "现行有效" or others else "",
                f"另有 {'、'.join(others)} 版" if others else ""]
        st.caption(escape(" · ".join(m for m in meta if m)))
        st.markdown(highlight(hit.text, terms))
        left, right, third, fourth, _ = st.columns([1, 1, 1, 1, 2])
        left.button("加入素材篮", key=f"{key}-add-{hit.chunk_id}", on_click=add_to_basket, args=(kb, LOCK[0], hit),
                    icon=":material/add:")
        right.button("查看原文", key=f"{key}-open-{hit.chunk_id}", on_click=open_document,
                     args=(hit.doc_id, hit.start, hit.end), icon=":material/description:")
        if question and hit.article:
            third.button("答对了", key=f"{key}-right-{hit.chunk_id}", on_click=confirm_answer,
                         args=(kb, LOCK[0], question, hit), icon=":material/check:",
                         help="这一条回答了问题：记入口径库，审核后同类问题优先显示它")
        if hit.article:
            fourth.button("法条联想", key=f"{key}-related-{hit.chunk_id}", on_click=open_related,
                          args=(hit.doc_id, hit.article, hit.start, hit.end), icon=":material/hub:",
                          help="本条引用了什么、被什么引用、其他版本中的对应条文、地方的配套规定")
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
