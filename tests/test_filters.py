"""Filters are built and checked in one place (kb.library.filters) for the CLI, the API and the app:
a date must be a real day, not a string that sorts like one."""

from __future__ import annotations

import pytest

from kb.errors import DocumentNotFound, QueryError
from kb.library.filters import check_day, make_filters
from kb.types import Filters

DOCS = {"1": {"id": 1, "title": "社会救助暂行办法"}, "社会救助暂行办法": {"id": 1, "title": "社会救助暂行办法"}}


@pytest.mark.parametrize("day", ["2020-13-45", "2020/01/01", "2021-02-29", "20200101", "2020-1-1", "昨天"])
def test_a_day_that_does_not_exist_is_refused_naming_it(day):
    with pytest.raises(QueryError, match="日期格式不对") as caught:
        check_day(day)
    assert caught.value.subject == day


def test_real_days_and_empty_ones_pass():
    assert check_day("2024-02-29") == "2024-02-29" and check_day(None) is None and check_day(" ") is None


def test_filters_from_what_a_user_typed():
    filters = make_filters(DOCS.get, types=["regulation"], date_from="2010-01-01", date_to="2020-12-31",
                           docs=["社会救助暂行办法"], places=["浙江省", "", "330100"], as_of="2019-03-02")
    assert filters == Filters(doc_types=["regulation"], date_from="2010-01-01", date_to="2020-12-31", doc_ids=[1],
                              places=["330000", "", "330100"], as_of="2019-03-02")
    assert not make_filters(DOCS.get).active()


@pytest.mark.parametrize("kwargs, error, words", [
    ({"types": ["novel"]}, QueryError, "未知的文档类型"),
    ({"places": ["火星"]}, QueryError, "无法识别的地名"),
    ({"docs": ["不存在的文档"]}, DocumentNotFound, "找不到这个文档"),
    ({"date_from": "2020-01-02", "date_to": "2020-01-01"}, QueryError, "起始日期晚于截止日期"),
    ({"as_of": "2020-13-45"}, QueryError, "有效日期格式不对"),
])
def test_what_cannot_filter_is_refused_with_a_reason(kwargs, error, words):
    with pytest.raises(error, match=words):
        make_filters(DOCS.get, **kwargs)


def test_the_cli_refuses_an_impossible_date_with_a_message(tmp_path, minilm_dir, capsys):
    from kb.cli import main

    note = tmp_path / "files" / "通知.txt"
    note.parent.mkdir()
    note.write_text("关于低保申请的通知\n\n申请最低生活保障，向乡镇人民政府提出。\n", encoding="utf-8")
    base = ["--data", str(tmp_path / "kb"), "--model", str(minilm_dir)]
    assert main([*base, "ingest", str(note.parent), "--quiet"]) == 0
    capsys.readouterr()
    assert main([*base, "search", "低保", "--from", "2020-13-45"]) == 1
    assert "起始日期格式不对" in capsys.readouterr().err
    assert main([*base, "search", "低保", "--as-of", "2020/01/01"]) == 1
    assert "有效日期格式不对" in capsys.readouterr().err
