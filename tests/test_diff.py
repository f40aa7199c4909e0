"""新旧对照 on the real 慈善法 pair (2016 and 2023) stored in a real knowledge base, and on small
made-up texts for each kind of change."""

from __future__ import annotations

import io
import json

import pytest
from conftest import REGULATIONS, ROOT, copy_files

from kb.cli import main
from kb.errors import DocumentNotFound
from kb.library.diff import Article, compare
from kb.library.knowledge_base import KnowledgeBase

CHARITY_2016 = ROOT / "tests" / "data" / "慈善法(2016-03-16).md"
CHARITY_2023 = REGULATIONS / "慈善法(2023-12-29).md"

# Read side by side in the two texts: (2016, 2023, what happened)
HAND_VERIFIED = [
    ("第二十二条", "第二十二条", "changed"),  # 登记满二年 → 满一年
    ("第二十六条", "第二十六条", "changed"),  # cooperation with a fundraising organisation, two paragraphs added
    ("第二十七条", "第二十八条", "renumbered"),  # 广播、电视、报刊以及网络服务提供者…
    ("第二十八条", "第二十九条", "renumbered"),  # 定向募捐
    ("第二十九条", "第三十条", "renumbered"),
    ("第三十条", "第七十条", "changed"),  # 突发事件 → the new chapter 应急慈善
    ("第四十六条", "第四十七条", "renumbered"),  # 慈善信托的受托人
    ("第五十二条", "第五十三条", "renumbered"),
    ("第七十一条", "第七十七条", "renumbered"),  # 信息公开义务
    ("第七十九条", "第八十六条", "renumbered"),  # 税收优惠
    ("第八十八条", "第九十七条", "renumbered"),  # 慈善文化
    ("第九十六条", "第一百零七条", "renumbered"),  # 行业自律
    ("第一百零一条", "第一百一十一条", "changed"),  # penalties for unlawful fundraising
    ("第一百零七条", "第一百一十三条", "changed"),  # 假借慈善名义 now the second paragraph of 113
    ("第一百一十二条", "第一百二十五条", "renumbered"),  # 本法自2016年9月1日起施行
]
ADDED = ["第二十七条", "第七十一条", "第九十六条", "第一百二十四条"]  # 互联网募捐, 应急机制, 社区慈善, 个人求助


@pytest.fixture(scope="module")
def charity(tmp_path_factory, minilm_dir):
    from kb.config import Config

    root = tmp_path_factory.mktemp("diff")
    files = copy_files(root / "files", CHARITY_2016, CHARITY_2023)
    kb = KnowledgeBase(Config.load(root / "data", model=str(minilm_dir)))
    assert len(kb.ingest([files], progress=False).added) == 2
    yield kb, root
    kb.close()


def test_the_2016_and_2023_charity_laws_pair_as_a_careful_reader_would(charity):
    kb, _ = charity
    old, new, changes = kb.versions.compare("慈善法")
    assert (old["date"], new["date"]) == ("2016-03-16", "2023-12-29")
    pairs = {(c.old.number if c.old else None, c.new.number if c.new else None): c.status for c in changes}
    for before, after, status in HAND_VERIFIED:
        assert pairs.get((before, after)) == status, (before, after)
    assert {c.new.number for c in changes if c.status == "added"} >= set(ADDED)
    assert len([c for c in changes if c.old]) == 112 and len([c for c in changes if c.new]) == 125
    changed = next(c for c in changes if c.old and c.old.number == "第二十二条")
    assert ("delete", "二") in changed.pieces and ("insert", "一") in changed.pieces
    assert [c.new.number for c in changes if c.new] == [a.number for a in kb.versions.articles(new["id"])]  # new order


def test_kb_diff_json_and_the_comparison_table(charity, capsys):
    from docx import Document as DocxDocument

    kb, root = charity
    data = ["--data", str(kb.config.data_dir), "--model", kb.config.model]
    assert main([*data, "diff", "中华人民共和国慈善法", "--from", "2020-01-01", "--json",
                 "--docx", str(root / "对照.docx")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["from"]["date"] == "2016-03-16" and out["to"]["date"] == "2023-12-29"
    assert {"status": "renumbered", "old": "第二十七条", "new": "第二十八条"}.items() <= next(
        c for c in out["changes"] if c["old"] == "第二十七条").items()
    assert {c["status"] for c in out["changes"]} <= {"unchanged", "renumbered", "changed", "added", "deleted"}
    table = DocxDocument(io.BytesIO((root / "对照.docx").read_bytes())).tables[0]
    assert [c.text for c in table.rows[0].cells] == ["2016-03-16版", "2023-12-29版", "变化"]
    runs = [r for row in table.rows for cell in row.cells for p in cell.paragraphs for r in p.runs]
    assert any(r.font.strike for r in runs) and any(r.font.underline for r in runs)
    assert not any(r.font.italic for r in runs)
    assert main([*data, "diff", "慈善法"]) == 0
    text = capsys.readouterr().out
    assert "2016-03-16 → 2023-12-29" in text and "〔删：二〕〔增：一〕" in text


def test_a_law_with_one_version_or_a_date_before_it_is_a_clear_error(charity):
    kb, _ = charity
    with pytest.raises(DocumentNotFound, match="只有"):
        kb.versions.compare("社会救助暂行办法")
    with pytest.raises(DocumentNotFound, match="最早的版本为 2016-03-16"):
        kb.versions.compare("慈善法", date_to="2010-01-01")


def article(number: str, text: str) -> Article:
    return Article(number, f"{number} {text}")


def test_each_kind_of_change_on_a_small_text():
    old = [article("第一条", "为了规范殡葬管理，制定本条例。"),
           article("第二条", "殡葬管理的方针是：积极地、有步骤地实行火葬，改革土葬。"),
           article("第三条", "国务院民政部门负责全国的殡葬管理工作。"),
           article("第四条", "本条例自发布之日起施行。")]
    new = [article("第一条", "为了规范殡葬管理，制定本条例。"),
           article("第二条", "殡葬管理的方针是：积极地、有步骤地实行火葬，改革土葬，节约殡葬用地。"),
           article("第三条", "禁止在耕地、林地建造坟墓。"),
           article("第四条", "本条例自发布之日起施行。")]
    assert [(c.status, c.old and c.old.number, c.new and c.new.number) for c in compare(old, new)] == [
        ("unchanged", "第一条", "第一条"), ("changed", "第二条", "第二条"), ("added", None, "第三条"),
        ("deleted", "第三条", None), ("unchanged", "第四条", "第四条")]
    moved = compare(old, [old[0], old[1], old[3], article("第五条", old[2].body)])
    assert [(c.status, c.old and c.old.number, c.new and c.new.number) for c in moved][-2:] == [
        ("unchanged", "第四条", "第四条"), ("renumbered", "第三条", "第五条")]  # moved out of order: still paired


def test_as_of_search_cites_the_version_in_force_that_day(charity):
    from kb.types import Filters

    kb, _ = charity
    question = "慈善组织登记满多久可以申请公开募捐资格"
    assert kb.search(question, k=1)[0].citation.date == "2023-12-29"  # the current version by default
    then = kb.search(question, k=3, filters=Filters(as_of="2020-01-01"))
    assert then and all(h.citation.date == "2016-03-16" for h in then)
    assert not kb.search(question, k=3, filters=Filters(as_of="2010-01-01"))  # the law did not exist yet
    lookup = kb.search("慈善法第二十六条", k=1, filters=Filters(as_of="2016-09-01"))
    assert lookup[0].citation.date == "2016-03-16" and "管理募得款物" in lookup[0].text
    statuses = kb.versions.statuses()
    assert {statuses[v["id"]] for v in kb.versions.of("慈善法")} == {"现行有效", "已被修改"}
    hit = kb.search(question, k=1)[0]
    assert kb.versions.others(hit.doc_id) == ["2016-03-16"]


def test_the_compare_page_shows_each_change_and_exports_it(charity, monkeypatch, minilm_dir):
    from streamlit.testing.v1 import AppTest

    kb, _ = charity
    monkeypatch.setenv("STUDYKB_DATA", str(kb.config.data_dir))
    monkeypatch.setenv("STUDYKB_MODEL", str(minilm_dir))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.sidebar.radio(key="page").set_value("新旧对照").run()
    assert not app.exception
    assert app.selectbox(key="cmp_law").value == "慈善法"
    assert "修改 47 条" in app.caption[0].value and "新增 13 条" in app.caption[0].value
    heads = [m.value for m in app.markdown if "→" in m.value]
    assert any("第二十七条 → 第二十八条" in h and "条号变动" in h for h in heads)
    assert not any("未改" in h for h in heads)  # unchanged articles only when asked for
    app.toggle(key="cmp_unchanged").set_value(True).run()
    assert any("未改" in m.value for m in app.markdown if "→" in m.value)
