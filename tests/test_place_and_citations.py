"""Where rules apply, and citations typed as queries, end to end: real Markdown files in a
temporary folder, a real SQLite file and FAISS index, the small packaged MiniLM model.

Covers:
- the jurisdiction each document gets at ingestion (from its title, or a manifest's
  declaration, which wins; an unknown declared place fails that file alone);
- place ranking: the places a question names (else config home_region) put their own and
  national rules first and other places' rules after them, demoted but still there;
- the jurisdiction filter (Filters.places, `kb search --place`), including places within;
- citations with abbreviated titles (浙江社会救助条例第40条, 民法典第1024条, 社会救助条例第四十条
  naming two provinces' rules), with filters, and odd queries that must not crash;
- the jurisdiction in `kb docs` and `kb search` output;
- a knowledge base from before jurisdictions, migrated when opened.

The two provinces' rules are near-identical (several articles are word for word the same but
for the place), so only the place can separate them.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import REGULATIONS

from kb.cli import main
from kb.config import Config
from kb.errors import ConfigError
from kb.language.places import NATIONAL, Place, jurisdiction_of, place_by_name
from kb.library.knowledge_base import KnowledgeBase
from kb.types import Filters, Hit

ZJ, SH = "浙江省社会救助条例", "上海市社会救助条例"
INTERIM = "社会救助暂行办法"
CIVIL_CODE = "中华人民共和国民法典"
GUIDE = "低保办理指南"  # names no place; its manifest declares 杭州市
MARS_FILE = "火星救助办法.md"  # its manifest declares a place that does not exist

ZJ_CODE, SH_CODE, HZ_CODE = "330000", "310000", "330100"
ZJ_LABEL, SH_LABEL, HZ_LABEL, NATIONAL_LABEL = "浙江省", "上海市", "浙江省杭州市", "全国"
# Enough hits for every article: a demoted rule comes after every national one (the ~80 articles of
# 社会救助暂行办法 and the 民法典 excerpt, related or not), so it is only seen with a large k.
EVERYTHING = 200


# ------------------------------------------------------------------ the corpus
# A province-level 社会救助条例, the same for every place but for the place's own name and 本省/本市:
# 第十一条 and 第四十一条 are word for word the same in every copy.
LOCAL_RULE = [
    "## 第一章 总则",
    "第一条 为了规范社会救助工作，保障公民的基本生活，促进社会公平，维护社会和谐稳定，"
    "根据国务院《社会救助暂行办法》等法律、行政法规，结合{own}实际，制定本条例。",
    "第二条 {own}行政区域内的最低生活保障、特困人员供养、受灾人员救助、医疗救助、教育救助、住房救助、"
    "就业救助、临时救助等社会救助及其相关管理活动，适用本条例。",
    "## 第二章 最低生活保障",
    "第十条 共同生活的家庭成员人均收入低于当地最低生活保障标准，且家庭财产状况符合{place}人民政府"
    "有关规定的，可以申请最低生活保障。",
    "第十一条 申请最低生活保障，由共同生活的家庭成员向户籍所在地的乡镇人民政府、街道办事处提出书面申请；"
    "家庭成员申请有困难的，可以委托村民委员会、居民委员会代为提出申请。",
    "第十二条 乡镇人民政府、街道办事处应当自受理申请之日起十个工作日内，通过入户调查、邻里访问、"
    "信函索证、信息核对等方式，对申请人的家庭收入和财产状况进行调查核实，并在申请人所在村、社区公示调查结果。",
    "## 第三章 特困人员供养",
    "第二十条 {own}对无劳动能力、无生活来源，且无法定赡养、抚养、扶养义务人或者其法定义务人无履行义务"
    "能力的老年人、残疾人以及未满十八周岁的未成年人，给予特困人员供养。",
    "第二十一条 特困人员供养的内容包括：提供基本生活条件；对生活不能自理的给予照料；提供疾病治疗；"
    "办理丧葬事宜。",
    "## 第五章 临时救助",
    "第四十条 因火灾、交通事故等意外事件，家庭成员突发重大疾病等原因，导致基本生活暂时出现严重困难的"
    "家庭，或者因生活必需支出突然增加超出家庭承受能力，导致基本生活暂时出现严重困难的最低生活保障家庭，"
    "可以按照{place}有关规定申请临时救助。",
    "第四十一条 申请临时救助，应当向乡镇人民政府、街道办事处提出，经审核、公示后，由县级人民政府民政部门"
    "审批；情况紧急的，可以先行救助，再补办手续。",
]


def local_rule(place: str, adopted: str) -> str:
    """LOCAL_RULE as `place`'s own, adopted as the line `adopted` says."""
    own = "本省" if place.endswith("省") else "本市"
    body = "\n\n".join(LOCAL_RULE).format(place=place, own=own)
    return f"# {place}社会救助条例\n\n{adopted}\n\n{body}\n"


CIVIL_CODE_EXCERPT = """# 中华人民共和国民法典

2020年5月28日第十三届全国人民代表大会第三次会议通过

## 第四编 人格权

### 第四章 肖像权

第一千零二十三条 对姓名等的许可使用，参照适用肖像许可使用的有关规定。

对自然人声音的保护，参照适用肖像权保护的有关规定。

### 第五章 名誉权和荣誉权

第一千零二十四条 民事主体享有名誉权。任何组织或者个人不得以侮辱、诽谤等方式侵害他人的名誉权。

名誉是对民事主体的品德、声望、才能、信用等的社会评价。

第一千零二十五条 行为人为公共利益实施新闻报道、舆论监督等行为，影响他人名誉的，不承担民事责任，\
但是有下列情形之一的除外：

（一）捏造、歪曲事实；

（二）对他人提供的严重失实内容未尽到合理核实义务；

（三）使用侮辱性言辞等贬损他人名誉。
"""

GUIDE_TEXT = """# 低保办理指南

一、申请条件

共同生活的家庭成员人均月收入低于当地最低生活保障标准，且家庭财产符合规定的，可以申请低保。

二、办理流程

申请人向户籍所在地街道办事处或者乡镇人民政府提出申请，也可以通过网上办事大厅提交材料。街道办事处、乡镇人民政府入户调查、公示后，报区、县（市）民政部门审批。

三、所需材料

户口簿、身份证、家庭收入和财产情况声明、授权核对家庭经济状况的书面材料。
"""

MARS_TEXT = """# 火星救助办法

第一条 为了保障火星居民的基本生活，制定本办法。

第二条 火星居民生活困难的，可以申请救助。
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_rules(folder: Path) -> Path:
    """The two provinces' rules, the national 社会救助暂行办法 and the 民法典 excerpt."""
    write(folder / f"{ZJ}.md", local_rule("浙江省", "2014年11月28日浙江省第十二届人民代表大会常务委员会"
                                                       "第十四次会议通过"))
    write(folder / f"{SH}.md", local_rule("上海市", "2019年1月30日上海市第十五届人民代表大会常务委员会"
                                                       "第九次会议通过"))
    shutil.copy(REGULATIONS / "社会救助暂行办法(2019-03-02).md", folder / "社会救助暂行办法(2019-03-02).md")
    write(folder / "中华人民共和国民法典（节选）.md", CIVIL_CODE_EXCERPT)
    return folder


def write_corpus(folder: Path) -> Path:
    """write_rules, plus a guide whose manifest declares 杭州市 and a file declaring 火星省."""
    write_rules(folder)
    write(folder / f"{GUIDE}.md", GUIDE_TEXT)
    write(folder / MARS_FILE, MARS_TEXT)
    manifest = {f"{GUIDE}.md": {"jurisdiction": "杭州市"}, MARS_FILE: {"jurisdiction": "火星省"}}
    write(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False))
    return folder


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def built(tmp_path_factory, minilm_dir):
    """The corpus ingested once: (knowledge base, ingest report, its config)."""
    root = tmp_path_factory.mktemp("places")
    folder = write_corpus(root / "docs")
    # Config(...) rather than Config.load: no STUDYKB_* variable or studykb.toml may reach it
    config = Config(data_dir=root / "data", model=str(minilm_dir))
    kb = KnowledgeBase(config)
    report = kb.ingest([folder], progress=False)
    yield kb, report, config
    kb.close()


@pytest.fixture(scope="module")
def kb(built) -> KnowledgeBase:
    return built[0]


@pytest.fixture(scope="module")
def at_home(built):
    """The same knowledge base opened with a home_region: home('浙江省') → a KnowledgeBase."""
    base, _, config = built
    opened: list[KnowledgeBase] = []

    def home(region: str) -> KnowledgeBase:
        kb = KnowledgeBase(dataclasses.replace(config, home_region=region), embedder=base.embedder)
        opened.append(kb)
        return kb

    yield home
    for kb in opened:
        kb.close()


@pytest.fixture(autouse=True)
def clean_environment(tmp_path, monkeypatch):
    """No STUDYKB_* variable or studykb.toml of the person running the tests reaches the CLI."""
    for var in ("STUDYKB_DATA", "STUDYKB_MODEL", "STUDYKB_MODEL_DIR", "STUDYKB_DEVICE", "STUDYKB_GLOSSARY",
                "STUDYKB_RANKER", "STUDYKB_HOME_REGION", "STUDYKB_PRECISION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli(capsys, built, minilm_dir):
    """`kb --data DATA --model MiniLM ARGS...` on the shared knowledge base → (status, stdout, stderr)."""
    data = built[2].data_dir

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data", str(data), "--model", str(minilm_dir), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


# ------------------------------------------------------------------ helpers
def where(hit: Hit) -> str:
    return Place(hit.citation.jurisdiction).label


def article(hit: Hit) -> tuple[str, str]:
    return hit.citation.title, hit.article


def code_of(name: str) -> str:
    place = place_by_name(name)
    assert place is not None, name
    return place.code


def assert_demoted(hits: list[Hit], first: str, demoted: set[str]) -> None:
    """The first local rule lies in `first` (a label, or a province label it starts with); every hit
    from a `demoted` place comes after every other hit; and some demoted hit is still there."""
    labels = [where(h) for h in hits]
    local = [label for label in labels if label != NATIONAL_LABEL]
    assert local and local[0].startswith(first), labels
    low = [i for i, label in enumerate(labels) if label in demoted]
    kept = [i for i, label in enumerate(labels) if label not in demoted]
    assert low, f"other places' rules must be demoted, not hidden: {labels}"
    assert kept and max(kept) < min(low), labels


# ------------------------------------------------------------------ 1. jurisdictions
def test_jurisdictions_from_titles_and_manifest(kb, built):
    report = built[1]
    docs = {d["title"]: d for d in kb.documents()}
    assert {t: d["jurisdiction"] for t, d in docs.items()} == {
        ZJ: ZJ_CODE, SH: SH_CODE, INTERIM: "", CIVIL_CODE: "", GUIDE: HZ_CODE}
    assert len(report.added) == 5
    # the guide's title names no place: the manifest's declaration is what made it 杭州市
    assert jurisdiction_of(GUIDE) == NATIONAL
    # hits carry the label, not the code
    labels = {article(h)[0]: where(h) for h in kb.search("最低生活保障 申请", k=40)}
    assert {labels[ZJ], labels[SH], labels[INTERIM], labels[GUIDE]} == {ZJ_LABEL, SH_LABEL, NATIONAL_LABEL, HZ_LABEL}


def test_an_unknown_declared_place_fails_that_file_alone(kb, built):
    report = built[1]
    assert len(report.failed) == 1
    path, reason = report.failed[0]
    assert Path(path).name == MARS_FILE and "火星省" in reason
    assert "火星救助办法" not in {d["title"] for d in kb.documents()}


# ------------------------------------------------------------------ 2. place ranking
@pytest.mark.parametrize("question, first, demoted", [
    ("杭州低保怎么申请", ZJ_LABEL, {SH_LABEL}),
    ("温州低保怎么申请", ZJ_LABEL, {SH_LABEL, HZ_LABEL}),  # a sibling city's guide is elsewhere too
    ("宁波最低生活保障向哪里申请", ZJ_LABEL, {SH_LABEL, HZ_LABEL}),
    ("浦东低保怎么申请", SH_LABEL, {ZJ_LABEL, HZ_LABEL}),
    ("上海申请临时救助需要什么条件", SH_LABEL, {ZJ_LABEL, HZ_LABEL}),
])
def test_a_place_in_the_question_ranks_its_rules_first(kb, question, first, demoted):
    hits = kb.search(question, k=EVERYTHING)
    assert_demoted(hits, first, demoted)
    if first == ZJ_LABEL:
        assert any(article(h)[0] == ZJ for h in hits)


@pytest.mark.parametrize("region, first, demoted", [
    ("浙江省", ZJ_LABEL, {SH_LABEL}),
    ("上海市", SH_LABEL, {ZJ_LABEL, HZ_LABEL}),
])
def test_home_region_ranks_the_offices_rules_first(at_home, region, first, demoted):
    assert_demoted(at_home(region).search("低保怎么申请", k=EVERYTHING), first, demoted)


def test_a_place_in_the_question_overrides_home_region(at_home):
    office = at_home("上海市")
    assert_demoted(office.search("杭州低保怎么申请", k=EVERYTHING), ZJ_LABEL, {SH_LABEL})
    assert_demoted(office.search("低保怎么申请", k=EVERYTHING), SH_LABEL, {ZJ_LABEL, HZ_LABEL})


def test_home_region_from_the_environment(built, monkeypatch):
    base, _, config = built
    monkeypatch.setenv("STUDYKB_HOME_REGION", "上海市")
    loaded = Config.load(config.data_dir, model=config.model)
    assert loaded.home_region == "上海市"
    office = KnowledgeBase(loaded, embedder=base.embedder)
    try:
        assert_demoted(office.search("低保怎么申请", k=EVERYTHING), SH_LABEL, {ZJ_LABEL, HZ_LABEL})
    finally:
        office.close()


def test_an_unknown_home_region_is_a_clear_error(built):
    config = dataclasses.replace(built[2], home_region="火星省")
    with pytest.raises(ConfigError, match="火星省"):
        KnowledgeBase(config)


# ------------------------------------------------------------------ 3. the jurisdiction filter
def test_place_filter_keeps_that_place_and_places_within(kb):
    assert {where(h) for h in kb.search("最低生活保障 申请", k=40)} == {
        ZJ_LABEL, SH_LABEL, NATIONAL_LABEL, HZ_LABEL}  # unfiltered, every place competes
    zhejiang = kb.search("最低生活保障 申请", k=40, filters=Filters(places=[code_of("浙江")]))
    assert {where(h) for h in zhejiang} == {ZJ_LABEL, HZ_LABEL}
    national = kb.search("最低生活保障 申请", k=40, filters=Filters(places=[""]))
    assert {where(h) for h in national} == {NATIONAL_LABEL}
    hangzhou = kb.search("最低生活保障 申请", k=40, filters=Filters(places=[code_of("杭州")]))
    assert {article(h)[0] for h in hangzhou} == {GUIDE}  # the province containing it is not within it
    both = kb.search("最低生活保障 申请", k=40, filters=Filters(places=[SH_CODE, ""]))
    assert {where(h) for h in both} == {SH_LABEL, NATIONAL_LABEL}


def test_cli_place_filter_prints_the_jurisdiction(cli):
    code, out, err = cli("search", "最低生活保障 申请", "-k", "20", "--place", "上海")
    assert code == 0, err
    cards = [line for line in out.splitlines() if re.match(r"\d+\. ", line)]
    assert cards and all(line.endswith("〔上海市〕") for line in cards), cards
    code, out, err = cli("search", "最低生活保障 申请", "-k", "20", "--place", "全国", "--json")
    assert code == 0, err
    hits = json.loads(out)["hits"]
    assert hits and {h["citation"]["jurisdiction"] for h in hits} == {NATIONAL_LABEL}


def test_cli_unknown_place_is_a_chinese_usage_error(capsys, built, minilm_dir):
    with pytest.raises(SystemExit) as exit_:
        main(["--data", str(built[2].data_dir), "--model", str(minilm_dir), "search", "低保", "--place", "火星"])
    assert exit_.value.code == 2  # argparse's usage error
    assert "无法识别的地名“火星”" in capsys.readouterr().err


# ------------------------------------------------------------------ 4. citations
def test_abbreviated_place_title_cites_that_provinces_article(kb):
    hits = kb.search("浙江社会救助条例第40条", k=5)
    assert article(hits[0]) == (ZJ, "第四十条") and "citation" in hits[0].matched_by
    assert hits[0].text.startswith("第四十条 因火灾") and "按照浙江省有关规定" in hits[0].text
    assert [article(h) for h in hits if "citation" in h.matched_by] == [(ZJ, "第四十条")]


def test_a_title_every_province_shares_cites_each(kb):
    hits = kb.search("社会救助条例第四十条", k=5)
    assert {article(h) for h in hits[:2]} == {(ZJ, "第四十条"), (SH, "第四十条")}
    assert all("citation" in h.matched_by for h in hits[:2])
    assert {where(h) for h in hits[:2]} == {ZJ_LABEL, SH_LABEL}


@pytest.mark.parametrize("region, first", [("上海市", SH), ("浙江省", ZJ)])
def test_citation_hits_of_several_provinces_put_the_offices_first(at_home, region, first):
    hits = at_home(region).search("社会救助条例第四十条", k=5)
    assert article(hits[0]) == (first, "第四十条") and {article(h) for h in hits[:2]} == {(ZJ, "第四十条"),
                                                                                            (SH, "第四十条")}


def test_a_numeric_jurisdiction_in_a_manifest_is_a_division_code(tmp_path, minilm_dir):
    folder = tmp_path / "docs"
    write(folder / f"{GUIDE}.md", GUIDE_TEXT)
    write(folder / "manifest.json", json.dumps({f"{GUIDE}.md": {"jurisdiction": 330100}}))  # a number, not text
    kb = KnowledgeBase(Config(data_dir=tmp_path / "data", model=str(minilm_dir)))
    report = kb.ingest([folder], progress=False)
    assert not report.failed and [d["jurisdiction"] for d in kb.documents()] == [HZ_CODE]
    kb.close()


@pytest.mark.parametrize("query, expected, opening", [
    ("民法典第1024条", (CIVIL_CODE, "第一千零二十四条"), "第一千零二十四条 民事主体享有名誉权"),
    ("《中华人民共和国民法典》第一千零二十五条", (CIVIL_CODE, "第一千零二十五条"), "第一千零二十五条 行为人"),
    ("社会救助暂行办法第11条", (INTERIM, "第十一条"), "第十一条 申请最低生活保障"),
    ("根据社会救助办法第十一条", (INTERIM, "第十一条"), "第十一条 申请最低生活保障"),  # 暂行 left out
    ("上海社会救助条例第十一条", (SH, "第十一条"), "第十一条 申请最低生活保障"),
])
def test_citations_go_straight_to_the_article(kb, query, expected, opening):
    first = kb.search(query, k=3)[0]
    assert article(first) == expected and "citation" in first.matched_by
    assert first.text.startswith(opening)


def test_a_filter_keeps_a_cited_document_out(kb):
    hits = kb.search("浙江社会救助条例第40条", k=10, filters=Filters(places=[code_of("上海")]))
    assert hits and all(where(h) == SH_LABEL for h in hits)
    assert not any(article(h)[0] == ZJ or "citation" in h.matched_by for h in hits)


@pytest.mark.parametrize("query", ["第10000条", "社会救助暂行办法第10000条", "社会救助条例第99999999999条"])
def test_article_numbers_past_any_statute_cite_nothing(kb, query):
    hits = kb.search(query, k=5)
    assert isinstance(hits, list) and not any("citation" in h.matched_by for h in hits)


SURROGATES = ["\ud800", "\ud800\udfff\ud800", "浙江社会救助条例第40条\ud800", "杭州\udcff低保"]


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
@pytest.mark.parametrize("query", SURROGATES)
def test_lone_surrogates_do_not_crash_search(kb, query, mode):
    # the tokenizer refuses a lone surrogate (TypeError); the query is cleaned before anything sees it
    assert isinstance(kb.search(query, k=5, mode=mode), list)


# ------------------------------------------------------------------ 5. CLI listings
def test_cli_docs_shows_each_documents_jurisdiction(cli):
    code, out, err = cli("docs")
    assert code == 0, err
    lines = {title: line for line in out.splitlines() for title in (ZJ, SH, INTERIM, GUIDE) if f"《{title}》" in line}
    assert "〔浙江省〕" in lines[ZJ] and "〔上海市〕" in lines[SH]
    assert "〔全国〕" in lines[INTERIM] and "〔浙江省杭州市〕" in lines[GUIDE]
    code, out, err = cli("docs", "--json")
    assert code == 0, err
    assert {d["title"]: d["jurisdiction"] for d in json.loads(out)}[GUIDE] == HZ_CODE


def test_cli_search_json_hits_carry_the_jurisdiction(cli):
    code, out, err = cli("search", "社会救助条例第四十条", "-k", "10", "--json")
    assert code == 0, err
    hits = json.loads(out)["hits"]  # a bare citation: each province's article, and nothing else
    assert {(h["citation"]["title"], h["citation"]["jurisdiction"]) for h in hits} == {(ZJ, ZJ_LABEL), (SH, SH_LABEL)}
    code, out, err = cli("search", "社会救助条例第四十条怎么规定", "-k", "10", "--json")
    assert code == 0, err
    hits = json.loads(out)["hits"]
    assert {(h["citation"]["title"], h["citation"]["jurisdiction"]) for h in hits[:2]} == {
        (ZJ, ZJ_LABEL), (SH, SH_LABEL)}
    assert {h["citation"]["jurisdiction"] for h in hits} <= {ZJ_LABEL, SH_LABEL, HZ_LABEL, NATIONAL_LABEL}
    assert NATIONAL_LABEL in {h["citation"]["jurisdiction"] for h in hits}


# ------------------------------------------------------------------ 6. migration
def test_an_old_knowledge_base_gets_jurisdictions_when_opened(tmp_path, minilm_config):
    folder = write_rules(tmp_path / "docs")
    kb = KnowledgeBase(minilm_config)
    assert len(kb.ingest([folder], progress=False).added) == 4
    kb.close()
    with sqlite3.connect(minilm_config.db_path) as conn:  # as a knowledge base from before jurisdictions
        conn.execute("ALTER TABLE documents DROP COLUMN jurisdiction")
        columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
    conn.close()
    assert "jurisdiction" not in columns

    kb = KnowledgeBase(minilm_config)
    try:
        assert {d["title"]: d["jurisdiction"] for d in kb.documents()} == {
            ZJ: ZJ_CODE, SH: SH_CODE, INTERIM: "", CIVIL_CODE: ""}
        assert kb.store.get_meta("jurisdictions_pending") is None
        first = kb.search("浙江社会救助条例第40条", k=3)[0]
        assert article(first) == (ZJ, "第四十条") and where(first) == ZJ_LABEL
        shanghai = kb.search("最低生活保障 申请", k=20, filters=Filters(places=[SH_CODE]))
        assert shanghai and {where(h) for h in shanghai} == {SH_LABEL}
        assert_demoted(kb.search("杭州低保怎么申请", k=EVERYTHING), ZJ_LABEL, {SH_LABEL})
    finally:
        kb.close()
    reopened = KnowledgeBase(minilm_config)  # migrated once: opening again changes nothing
    try:
        assert {d["title"]: d["jurisdiction"] for d in reopened.documents()}[SH] == SH_CODE
    finally:
        reopened.close()


def test_a_places_own_rule_implementing_a_national_law_comes_before_that_law():
    """上海市志愿服务条例 says for 上海 what 志愿服务条例 says in general: asked in 上海 (named or as the
    office's home), its best article comes just before the national law's first one. Another place's
    rule keeps its rank, after them."""
    from kb.search.fusion import Group
    from kb.search.searcher import place_order

    shanghai, beijing = place_by_name("上海市"), place_by_name("北京市")
    rows = {1: {"title": "志愿服务条例", "jurisdiction": ""},
            2: {"title": "中华人民共和国慈善法", "jurisdiction": ""},
            3: {"title": "北京市志愿服务促进条例", "jurisdiction": beijing.code},
            4: {"title": "上海市志愿服务条例", "jurisdiction": shanghai.code},
            5: {"title": "上海市慈善条例", "jurisdiction": shanghai.code},
            6: {"title": "志愿服务条例", "jurisdiction": ""}}
    groups = [Group((rows[i]["title"], f"第{i}条"), 1.0 / i, i, set(), "") for i in rows]

    def order(place) -> list[int]:
        return [g.chunk_id for g in place_order(groups, rows, [place])]

    # 上海: its 志愿服务条例 before the national one, its 慈善条例 before 慈善法; 北京's rule goes last
    assert order(shanghai) == [4, 1, 5, 2, 6, 3]
    # 北京: its own 志愿服务 rule moves up; 上海's go last
    assert order(beijing) == [3, 1, 2, 6, 4, 5]


def test_only_laws_and_rules_share_a_subject():
    from kb.search.searcher import same_subject

    assert same_subject("慈善法", "上海市慈善条例") and same_subject("城市居民委员会组织法", "上海市居民委员会工作条例")
    assert not same_subject("关于进一步加强养老服务工作的意见", "上海市关于进一步加强基层治理的意见")
    assert not same_subject("慈善法", "上海市志愿服务条例")
