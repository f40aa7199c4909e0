"""A citation's title, as users type it, against the titles of stored documents: pure functions."""

from __future__ import annotations

import pytest

from kb.language.query import (
    ABBREVIATED,
    EXACT,
    SUFFIX,
    chinese_number,
    match_class,
    match_titles,
    normalise_title,
    parse_citation,
)

STORED = [
    "中华人民共和国慈善法",
    "中华人民共和国民法典",
    "殡葬管理条例",
    "婚姻登记条例",
    "浙江省社会救助条例",
    "上海市社会救助条例",
    "社会救助暂行办法",
    "中华人民共和国宪法",
    "军人抚恤优待条例",
    "社会团体登记管理条例",
    "中华人民共和国老年人权益保障法",
    "城市生活无着的流浪乞讨人员救助管理办法",
]
TITLES = list(enumerate(STORED))
# more places, and laws that share words with each other
MORE = TITLES + list(enumerate([
    "广西壮族自治区社会救助条例",
    "浙江省杭州市殡葬管理条例",
    "中华人民共和国香港特别行政区基本法",
    "中华人民共和国劳动合同法",
    "中华人民共和国民事诉讼法",
    "中华人民共和国刑事诉讼法",
    "人民检察院刑事诉讼规则（试行）",
], start=len(STORED)))


def cited(query: str, titles=TITLES) -> list[str]:
    """What a query typed by a user cites, as the stored titles."""
    ref = parse_citation(query)
    assert ref is not None, query
    names = dict(titles)
    return [names[i] for i in match_titles(ref.title, titles)]


@pytest.mark.parametrize("query, titles", [
    ("《社会救助暂行办法》第十一条", ["社会救助暂行办法"]),
    ("社会救助暂行办法第十一条", ["社会救助暂行办法"]),
    ("慈善法第10条", ["中华人民共和国慈善法"]),
    ("《中华人民共和国慈善法》第十条", ["中华人民共和国慈善法"]),
    ("民法典第1024条", ["中华人民共和国民法典"]),
    ("宪法第五条", ["中华人民共和国宪法"]),
    ("婚姻登记条例第三条", ["婚姻登记条例"]),
    ("中华人民共和国老年人权益保障法第十条", ["中华人民共和国老年人权益保障法"]),
])
def test_a_title_as_stored_or_without_the_state_prefix_is_exact(query, titles):
    assert cited(query) == titles


def test_a_province_named_without_its_admin_suffix():
    assert cited("浙江社会救助条例第40条") == ["浙江省社会救助条例"]
    assert cited("上海社会救助条例第40条") == ["上海市社会救助条例"]
    assert cited("广西社会救助条例第3条", MORE) == ["广西壮族自治区社会救助条例"]
    assert cited("广西壮族自治区社会救助条例第3条", MORE) == ["广西壮族自治区社会救助条例"]


def test_a_city_named_without_its_province_or_admin_suffix():
    assert cited("杭州市殡葬管理条例第3条", MORE) == ["浙江省杭州市殡葬管理条例"]
    assert cited("杭州殡葬条例第3条", MORE) == ["浙江省杭州市殡葬管理条例"]
    # the national regulation, not the city's, when the city is not named
    assert cited("殡葬条例第十条", MORE) == ["殡葬管理条例"]
    assert cited("殡葬管理条例第十条", MORE) == ["殡葬管理条例"]


def test_a_title_without_its_place_names_every_such_place():
    assert cited("社会救助条例第十条") == ["浙江省社会救助条例", "上海市社会救助条例"]
    provinces = ["浙江省社会救助条例", "上海市社会救助条例", "广西壮族自治区社会救助条例"]
    assert cited("社会救助条例第十条", MORE) == provinces


@pytest.mark.parametrize("query, title", [
    ("殡葬条例第十条", "殡葬管理条例"),
    ("军人抚恤条例第十条", "军人抚恤优待条例"),
    ("社会团体条例第三条", "社会团体登记管理条例"),  # 6 of 10 characters: just enough
    ("社会团体登记条例第三条", "社会团体登记管理条例"),
    ("老年人保障法第三条", "中华人民共和国老年人权益保障法"),
    ("流浪乞讨人员救助管理办法第三条", "城市生活无着的流浪乞讨人员救助管理办法"),
])
def test_informal_titles_that_leave_words_out(query, title):
    assert cited(query) == [title]


def test_short_forms_of_long_laws():
    assert cited("民诉法第三条", MORE) == ["中华人民共和国民事诉讼法"]
    assert cited("刑诉法第三条", MORE) == ["中华人民共和国刑事诉讼法"]
    assert cited("香港基本法第三条", MORE) == ["中华人民共和国香港特别行政区基本法"]
    assert cited("人民检察院刑事诉讼规则第三条", MORE) == ["人民检察院刑事诉讼规则（试行）"]


@pytest.mark.parametrize("query, title", [
    ("根据殡葬条例第十条，丧葬费由谁出", "殡葬管理条例"),
    ("请问民法典第1024条怎么规定", "中华人民共和国民法典"),
    ("根据慈善法第十条", "中华人民共和国慈善法"),
    ("依照中华人民共和国慈善法第十条", "中华人民共和国慈善法"),
    ("按照婚姻登记条例第五条", "婚姻登记条例"),
    ("根据浙江社会救助条例第十条", "浙江省社会救助条例"),
    ("根据流浪乞讨人员救助管理办法第三条", "城市生活无着的流浪乞讨人员救助管理办法"),
])
def test_a_citation_inside_a_sentence(query, title):
    assert cited(query) == [title]


def test_words_of_a_sentence_before_a_place_law_find_every_province():
    assert cited("根据社会救助条例第十条") == ["浙江省社会救助条例", "上海市社会救助条例"]


@pytest.mark.parametrize("query", [
    "婚姻法第三条",  # not 婚姻登记条例 (a 条例 is no 法), not 民法典
    "民法第三条",  # not 民法典
    "救助条例第三条",  # too generic: no stored title is a place and then 救助条例
    "灾害救助条例第三条",  # not stored: not the provinces' 社会救助条例 through 救助条例
    "救助管理办法第三条",  # a tail of four characters is not enough
    "宗教团体登记管理条例第三条",  # not 社会团体登记管理条例 through 团体登记管理条例
    "浙江省救助条例第三条",  # 救助条例 does not start as 社会救助条例 does
    "北京市社会救助条例第三条",  # another province's
    "社会救助条例实施办法第三条",
    "老年人法第三条",  # 4 of 8 characters
])
def test_titles_that_name_no_stored_document(query):
    assert cited(query) == []


@pytest.mark.parametrize("query", [
    "合同法第三条",  # not 劳动合同法: a tail of two characters
    "刑法第三条",  # not 刑事诉讼法: 2 of 5 characters
    "澳门基本法第三条",  # not 香港特别行政区基本法 through 基本法
    "浙江省殡葬管理条例第三条",  # the province's is not the city's
])
def test_titles_that_name_no_stored_document_among_more(query):
    assert cited(query, MORE) == []


def test_婚姻登记条例_names_neither_婚姻法_nor_民法典():
    titles = [(1, "中华人民共和国婚姻法"), (2, "中华人民共和国民法典")]
    assert match_titles("婚姻登记条例", titles) == []
    assert match_titles("婚姻法", titles + [(3, "婚姻登记条例")]) == [1]


def test_exact_beats_suffix_beats_abbreviation():
    titles = [(1, "社会救助条例"), (2, "浙江省社会救助条例"), (3, "社会救助管理条例")]
    assert match_titles("社会救助条例", titles) == [1]
    assert match_titles("社会救助条例", titles[1:]) == [2]
    assert match_titles("社会救助条例", titles[2:]) == [3]
    assert match_class("社会救助条例", "社会救助条例") == EXACT
    assert match_class("社会救助条例", "浙江省社会救助条例") == SUFFIX
    assert match_class("社会救助条例", "社会救助管理条例") == ABBREVIATED
    assert match_class("浙江社会救助条例", "浙江省社会救助条例") == ABBREVIATED


def test_the_longest_form_of_the_captured_text_that_names_anything_decides():
    # 浙江社会救助条例 names Zhejiang's; its tail 社会救助条例 (every province's) is not tried
    assert match_titles("浙江社会救助条例", [(1, "浙江省社会救助条例"), (2, "上海市社会救助条例")]) == [1]


def test_every_version_of_a_law_is_returned_for_the_caller_to_pick():
    titles = [(1, "中华人民共和国慈善法(2016-03-16)"), (2, "中华人民共和国慈善法（2023年修正）"),
              (3, "中华人民共和国民法典")]
    assert match_titles("慈善法", titles) == [1, 2]
    assert match_titles(normalise_title("《慈善法》（2023年修正）"), titles) == [1, 2]


def test_a_bare_year_still_names_a_document():
    titles = [(1, "宪法修正案（1988年）"), (2, "宪法修正案（1993年）")]
    assert match_titles("宪法修正案（1993年）", titles) == [2]


def test_nothing_to_match():
    assert match_titles("慈善法", []) == []
    assert match_titles("", TITLES) == []
    assert match_titles("法", TITLES) == []


# ------------------------------------------------------------------------- article numbers
@pytest.mark.parametrize("n, written", [(9999, "九千九百九十九"), (10000, "一万"), (10001, "一万零一"),
                                        (10010, "一万零一十"), (11000, "一万一千"), (100000, "十万"),
                                        (110000, "十一万"), (1010000, "一百零一万"),
                                        (12345, "一万二千三百四十五")])
def test_numbers_past_9999_are_written_in_万(n, written):
    assert chinese_number(n) == written


@pytest.mark.parametrize("n", [-1, 100_000_000])
def test_numbers_out_of_range_are_refused_plainly(n):
    with pytest.raises(ValueError):
        chinese_number(n)


def test_an_absurd_article_number_is_no_citation():
    assert parse_citation("慈善法第9999条").article == "第九千九百九十九条"
    assert parse_citation("慈善法第0010条").article == "第十条"
    assert parse_citation("慈善法第10000条") is None
    assert parse_citation("慈善法第" + "9" * 5000 + "条") is None  # past int()'s limit on digits


# ------------------------------------------------------------------------- cutting a sentence
@pytest.mark.parametrize("query, title", [
    ("请问殡葬条例第十条", "殡葬管理条例"),  # a lead-in: every class, abbreviations included
    ("我想知道军人抚恤条例第十条", "军人抚恤优待条例"),
    ("民法典和慈善法第十条", "中华人民共和国慈善法"),
    ("新修订的慈善法第十条", "中华人民共和国慈善法"),
    ("新慈善法第十条", "中华人民共和国慈善法"),  # no lead-in: only a stored title exactly
])
def test_cuts_after_lead_in_words_and_exact_titles_after_any_cut(query, title):
    assert cited(query) == [title]


def test_a_cut_inside_a_title_is_no_abbreviation():
    titles = [(1, "中华人民共和国安全生产法"), (2, "殡葬管理条例")]
    assert match_titles("数据安全法", titles) == []  # not 安全法 → 安全生产法: 据 is no lead-in
    assert match_titles("食品安全法", titles) == []
    assert match_titles("新殡葬条例", titles) == []  # an abbreviation needs a clean cut
    assert match_titles("那个宪法", [(1, "中华人民共和国宪法")]) == []  # two characters after an unclean cut


def test_no_cut_goes_past_a_place():
    assert cited("根据北京市社会救助条例第三条") == []
    assert cited("根据浙江省社会救助条例第三条") == ["浙江省社会救助条例"]
    titles = [(1, "上海市社会救助条例"), (2, "浙江省养老服务条例")]
    assert match_titles("浙江社会救助条例", titles) == []  # 浙江 is a place: a stored title names it


def test_a_tail_shared_by_several_titles_is_boilerplate():
    titles = [(1, "关于审理非法行医刑事案件具体应用法律若干问题的解释"),
              (2, "最高人民法院、最高人民检察院关于办理诈骗刑事案件具体应用法律若干问题的解释")]
    assert match_titles("关于审理黑社会性质组织犯罪的刑事案件具体应用法律若干问题的解释", titles) == []
    # a tail that ends one title only is a name
    assert match_titles("审理非法行医刑事案件具体应用法律若干问题的解释", titles) == [1]


def test_an_ordinal_names_another_document():
    titles = [(1, "最高人民法院关于审理劳动争议案件适用法律若干问题的解释（二）")]
    assert match_titles("最高人民法院关于审理劳动争议案件适用法律若干问题的解释", titles) == []
    assert match_titles("最高人民法院关于审理劳动争议案件适用法律问题的解释（二）", titles) == [1]


@pytest.mark.parametrize("title", ["城市市容和环境卫生管理条例", "人力资源市场暂行条例", "行政区划管理条例",
                                   "保税区海关监管办法", "民族区域自治法"])
def test_words_that_end_in_an_admin_character_are_no_place(title):
    # a place would bar the abbreviation of the whole title and stop cuts after its name
    assert match_class(title, title) == EXACT
    assert match_titles("根据" + title, [(1, title)]) == [1]


def test_abbreviations_of_titles_whose_words_end_in_an_admin_character():
    assert match_titles("人力资源市场条例", [(1, "人力资源市场暂行条例")]) == [1]
