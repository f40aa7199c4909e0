"""Reading queries: pure functions, no model and no store."""

from __future__ import annotations

import pytest

from kb.language.query import ArticleRef, analyse, chinese_number, normalise_title, parse_citation
from kb.language.words import Glossary


@pytest.mark.parametrize("n, written", [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (105, "一百零五"),
                                        (110, "一百一十"), (1001, "一千零一"), (1260, "一千二百六十")])
def test_chinese_numbers_as_statutes_write_them(n, written):
    assert chinese_number(n) == written


def test_phrases_are_taken_from_every_kind_of_quote():
    parsed = analyse('"兜底保障" 与 “第一议题” 和 「中心组」')
    assert parsed.phrases == ("兜底保障", "第一议题", "中心组")
    assert '"' not in parsed.text and "“" not in parsed.text and "兜底保障" in parsed.text


def test_glossary_expansions_leave_out_words_already_asked():
    glossary = Glossary({"低保": ["最低生活保障", "低保"], "兜底": ["兜底保障"]})
    assert analyse("低保怎么申请", glossary).expansions == ("最低生活保障",)
    assert analyse("低保怎么申请").expansions == ()


@pytest.mark.parametrize("query, ref", [
    ("社会救助暂行办法第十一条", ArticleRef("社会救助暂行办法", "第十一条")),
    ("《中华人民共和国慈善法》第10条", ArticleRef("慈善法", "第十条")),
    ("慈善法 第 105 条怎么规定", ArticleRef("慈善法", "第一百零五条")),
    ("民法典第一千零七十九条之一", ArticleRef("民法典", "第一千零七十九条之一")),
])
def test_citations_typed_as_queries(query, ref):
    assert parse_citation(query) == ref


def test_a_question_without_an_article_number_is_no_citation():
    assert parse_citation("低保怎么申请") is None


def test_titles_compare_without_marks_prefix_or_version_date():
    assert normalise_title("《中华人民共和国慈善法》") == "慈善法"
    assert normalise_title("社会救助暂行办法(2019-03-02)") == "社会救助暂行办法"
    assert normalise_title("慈善法（2023年修正）") == "慈善法"
    assert normalise_title("民事诉讼法(2017年6月27日修正本)") == "民事诉讼法"
    for mark in ("（2018年10月26日第四次修正）", "(2019年第三次修正)", "（2018年修订版）", "（2020年5月28日通过）",
                 "(2020年5月28日)"):
        assert normalise_title("中华人民共和国公司法" + mark) == "公司法", mark


def test_a_bare_year_names_a_different_document_not_a_version():
    assert normalise_title("宪法修正案（1988年）") != normalise_title("宪法修正案（1993年）")
    assert normalise_title("人民检察院刑事诉讼规则（试行）(2012-11-22)") == "人民检察院刑事诉讼规则（试行）"


# --- one reading of the question (QueryPlan) ---------------------------------------------------------

def test_one_reading_holds_everything_later_steps_need():
    from kb.language.places import place_by_name
    from kb.language.words import Glossary, Words

    glossary = Glossary.load(None)
    plan = analyse("杭州低保怎么申请", glossary, Words(glossary.terms()))
    assert plan.places == (place_by_name("杭州市"),)
    assert "最低生活保障" in plan.expansions and "低保" in plan.words
    assert "最低生活保障" in plan.expanded_words and "最低生活保障" not in plan.words
    assert plan.citation is None and not plan.bare_citation
    assert plan.embedded_text.startswith("杭州低保怎么申请 ")


def test_a_citation_alone_is_a_lookup_and_within_a_question_is_not():
    lookup = analyse("《慈善法》第10条")
    assert lookup.citation == ArticleRef("慈善法", "第十条") and lookup.bare_citation
    question = analyse("根据婚姻登记条例第5条，结婚要带什么")
    assert question.citation == ArticleRef("根据婚姻登记条例", "第五条") and not question.bare_citation


def test_the_office_place_stands_in_when_the_question_names_none():
    from kb.language.places import place_by_name

    home = place_by_name("浙江省")
    assert analyse("低保怎么申请", home=home).places == (home,)
    assert analyse("上海低保怎么申请", home=home).places == (place_by_name("上海市"),)


def test_intents_and_groups_come_from_the_glossary():
    from kb.language.words import Glossary

    glossary = Glossary.load(None)
    assert [i.name for i in analyse("救助站管几天", glossary).intents] == ["期限"]
    assert analyse("烈士遗属怎么申请抚恤", glossary).names_group
    assert not analyse("老人去世了丧葬费谁出", glossary).names_group


def test_quoted_words_can_be_searched_unquoted():
    plan = analyse("户口未迁出的“外嫁女”")
    assert plan.phrases == ("外嫁女",) and plan.without_phrases().phrases == ()
    assert plan.without_phrases().text == plan.text
