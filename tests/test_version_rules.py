"""The rules of a law's versions (kb.library.versions), pure: metadata in, statuses out. No store,
no model: these run in `make test-fast`."""

from __future__ import annotations

from kb.library.versions import in_force, read_versions


def doc(id: int, title: str, date: str = "", status: str = "", repealed: str = "", doc_type: str = "regulation",
        issuer: str = "") -> dict:
    return {"id": id, "title": title, "date": date, "status": status, "repealed": repealed, "doc_type": doc_type,
            "issuer": issuer}


CHARITY = [doc(1, "中华人民共和国慈善法", "2016-03-16"), doc(2, "慈善法(2023-12-29)", "2023-12-29")]


def test_the_newest_dated_version_is_in_force_and_the_older_amended():
    versions = read_versions(CHARITY, [])
    assert versions.status == {1: "已被修改", 2: "现行有效"}
    assert versions.dates == {"慈善法": [(1, "2016-03-16"), (2, "2023-12-29")]}


def test_a_day_picks_the_version_in_force_then():
    versions = read_versions(CHARITY, [])
    assert in_force(versions, "2020-01-01") == [1]
    assert in_force(versions, "2023-12-29") == [2]
    assert in_force(versions, "2010-01-01") == []  # the law did not exist yet


def test_an_undated_document_always_counts():
    versions = read_versions([*CHARITY, doc(3, "讲话稿")], [])
    assert 3 in in_force(versions, "1990-01-01")


def test_another_text_repeals_the_versions_before_it_from_its_date():
    laws = [doc(1, "城市流浪乞讨人员收容遣送办法", "1982-05-12"),
            doc(2, "城市生活无着的流浪乞讨人员救助管理办法", "2003-06-20")]
    repealing = [(2, "2003-06-20", "本办法自2003年8月1日起施行。《城市流浪乞讨人员收容遣送办法》同时废止。")]
    versions = read_versions(laws, repealing)
    assert versions.status[1] == "已废止" and versions.repealed_on == {1: "2003-06-20"}
    assert in_force(versions, "2003-06-19") == [1]  # the new one was not dated yet
    assert in_force(versions, "2003-06-20") == [2]


def test_a_declared_status_beats_the_pattern_and_the_dates():
    laws = [doc(1, "某办法", "2000-01-01", status="现行有效"), doc(2, "另一规定", "2005-01-01")]
    repealing = [(2, "2005-01-01", "《某办法》同时废止。")]
    assert read_versions(laws, repealing).status[1] == "现行有效"  # the manifest's word wins
    repealed = read_versions([doc(1, "某办法", "2000-01-01", status="已废止", repealed="2010-05-01")], [])
    assert repealed.status[1] == "已废止" and in_force(repealed, "2010-04-30") == [1]
    assert in_force(repealed, "2010-05-01") == []


def test_a_repealed_newest_version_repeals_the_whole_law():
    laws = [doc(1, "某条例", "2000-01-01"), doc(2, "某条例(2010-01-01)", "2010-01-01", status="已废止")]
    assert read_versions(laws, []).status == {1: "已废止", 2: "已废止"}


def test_a_repealing_text_does_not_end_a_law_re_enacted_after_it():
    laws = [doc(1, "某办法", "2000-01-01"), doc(2, "某办法(2020-01-01)", "2020-01-01")]
    repealing = [(3, "2010-01-01", "《某办法》同时废止")]
    versions = read_versions(laws, repealing)
    assert versions.status == {1: "已废止", 2: "现行有效"} and 2 in in_force(versions, "2021-01-01")


# --- what is a version of what (issue 22: grouped by the bare title, an as-of search hid documents) -----

def test_two_years_reports_of_one_title_are_not_versions_of_each_other():
    reports = [doc(1, "政府工作报告", "2023-03-05", doc_type="report"),
               doc(2, "政府工作报告", "2024-03-05", doc_type="report")]
    versions = read_versions(reports, [])
    assert versions.status == {1: "现行有效", 2: "现行有效"}
    assert in_force(versions, "2024-12-31") == [1, 2]  # both were given, both stay


def test_two_documents_of_one_title_and_date_are_both_kept():
    same = [doc(1, "某条例", "2016-02-06"), doc(2, "某条例", "2016-02-06")]
    versions = read_versions(same, [])
    assert versions.status == {1: "现行有效", 2: "现行有效"} and sorted(in_force(versions, "2020-01-01")) == [1, 2]


def test_one_title_from_two_issuers_is_two_laws():
    rules = [doc(1, "实施办法", "2010-01-01", issuer="甲市人民政府"),
             doc(2, "实施办法", "2020-01-01", issuer="乙市人民政府"),
             doc(3, "实施办法", "2021-01-01", issuer="甲市人民政府")]
    versions = read_versions(rules, [])
    assert versions.status == {1: "已被修改", 2: "现行有效", 3: "现行有效"}
    assert sorted(in_force(versions, "2020-06-01")) == [1, 2]
    assert versions.law_of[1] == versions.law_of[3] != versions.law_of[2]


def test_a_version_without_an_issuer_joins_the_one_chain_of_its_title():
    charity = [doc(1, "慈善法", "2016-03-16", issuer="全国人民代表大会"), doc(2, "慈善法", "2023-12-29")]
    versions = read_versions(charity, [])
    assert versions.status == {1: "已被修改", 2: "现行有效"}
