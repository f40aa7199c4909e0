"""Every change to the library, its users and its baskets is in the audit log, and guessing a password
is slowed down (issue 22: user, token, trash-purge and basket changes were not audited; sign-in had no
back-off)."""

from __future__ import annotations

import sys
import time

import pytest
from conftest import REGULATIONS, copy_files

from kb.config import Config
from kb.library import auth
from kb.library.auth import SignInPaused, Users
from kb.library.knowledge_base import KnowledgeBase


@pytest.fixture
def users(tmp_path, monkeypatch) -> Users:
    monkeypatch.setattr(auth, "_FAILURES", auth._Failures())  # this test's own count
    users = Users(tmp_path / "users.toml")
    users.add("wang", "editor", "正确的密码12345")
    return users


def test_five_wrong_passwords_make_the_name_wait_and_the_wait_doubles(users, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    for _ in range(auth.FREE_TRIES):
        assert users.sign_in("wang", "猜的密码") is None
    with pytest.raises(SignInPaused, match="请 30 秒后再试"):
        users.sign_in("wang", "正确的密码12345")  # even the right password waits
    clock[0] += 31
    assert users.sign_in("wang", "又猜错了") is None
    with pytest.raises(SignInPaused, match="请 60 秒后再试"):
        users.sign_in("wang", "正确的密码12345")
    clock[0] += 61
    assert users.sign_in("wang", "正确的密码12345").name == "wang"  # and success clears the count
    assert users.sign_in("wang", "错一次") is None and users.sign_in("wang", "正确的密码12345")


def test_unknown_names_wait_too(users):
    for _ in range(auth.FREE_TRIES):
        assert users.sign_in("nobody", "x") is None
    with pytest.raises(SignInPaused):
        users.sign_in("nobody", "x")


def test_user_token_basket_and_purge_changes_are_audited(tmp_path, minilm_dir, capsys, monkeypatch):
    from kb.cli import main

    data = tmp_path / "data"
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("正确的密码12345\n"))
    assert main(["--data", str(data), "--model", str(minilm_dir), "user", "add", "li", "--role", "editor",
                 "--password-stdin"]) == 0
    assert main(["--data", str(data), "--model", str(minilm_dir), "token", "li"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    kb = KnowledgeBase(Config.load(data, model=str(minilm_dir), trash_days=0))
    kb.ingest([copy_files(tmp_path / "files", REGULATIONS / "社会救助暂行办法(2019-03-02).md")], progress=False)
    hit = kb.search("低保怎么申请", k=1)[0]
    basket = kb.baskets.create("讲稿", actor="li")
    kb.baskets.add(basket, hit, actor="li")
    kb.baskets.rename(basket, "讲稿二", actor="li")
    kb.baskets.save(basket, [], actor="li")
    kb.baskets.delete(basket, actor="li")
    doc = kb.documents()[0]
    kb.remove(doc["id"], actor="li")
    time.sleep(1.1)  # the trash keeps what was trashed within the same second as the purge (SQLite's now)
    kb.ingest([copy_files(tmp_path / "more", REGULATIONS / "殡葬管理条例(2012-11-09).docx")], progress=False,
              actor="li")  # a commit empties what trash_days (0) lets go
    actions = [(a["user"], a["action"]) for a in reversed(kb.audit())]
    subjects = " ".join(a["subject"] for a in kb.audit())
    assert {"设置用户", "生成令牌"} <= {action for _, action in actions}  # from the command line
    for action in ("新建素材篮", "加入素材篮", "重命名素材篮", "修改素材篮", "删除素材篮", "删除", "清空回收站"):
        assert ("li", action) in actions, action
    assert token not in subjects  # who got a token, never the token
    kb.close()
