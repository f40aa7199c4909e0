"""Issue 13's defects, each reproduced on real files with a real SQLite file and FAISS index:
bounded work, links, moves, pruning, deletion by mistake, the trash, and a fresh view for a
knowledge base that lives long beside another process's ingest."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REGULATIONS, REPORT, copy_files

from bench.reliability import zip_bomb
from kb.errors import DocumentNotFound, StoreError
from kb.library.knowledge_base import KnowledgeBase
from kb.store.uploads import save_upload

RELIEF = REGULATIONS / "社会救助暂行办法(2019-03-02).md"
FUNERAL = REGULATIONS / "殡葬管理条例(2012-11-09).docx"
CHARITY = REGULATIONS / "慈善法(2023-12-29).md"
DISASTER = REGULATIONS / "自然灾害救助条例(2019-03-02).md"


def open_kb(config, **settings) -> KnowledgeBase:
    return KnowledgeBase(replace(config, **settings))


def titles(kb: KnowledgeBase) -> list[str]:
    return sorted(d["title"] for d in kb.documents())


def consistent(kb: KnowledgeBase) -> bool:
    return len(kb.vectors) == kb.store.chunk_count()


# ------------------------------------------------------------------ bounded work

def test_a_file_over_the_size_or_chunk_limit_fails_alone_and_the_good_files_are_committed(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF, REPORT)
    (folder / "一行.txt").write_text("救助" * 700_000, encoding="utf-8")  # 4 MB on one line
    kb = open_kb(minilm_config, max_file_mb=1)
    report = kb.ingest([folder], progress=False)
    failed = dict(report.failed)
    assert "文件过大" in failed[str(folder / "一行.txt")] and "max_file_mb" in failed[str(folder / "一行.txt")]
    assert len(report.added) == 2 and consistent(kb)

    (folder / "一行.txt").write_text("救助工作。" * 40_000, encoding="utf-8")  # 200,000 characters, under 1 MB
    report = open_kb(minilm_config, max_file_mb=1, max_chunks=100).ingest([folder], progress=False)
    assert "超过单个文档的上限 100" in dict(report.failed)[str(folder / "一行.txt")]


def test_a_long_document_does_not_hold_back_the_commit_of_those_before_it(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", REPORT, CHARITY)  # the report is embedded first, then 慈善法 at length
    kb = open_kb(minilm_config, commit_seconds=0.0, batch_size=2)
    stored_while_embedding = []
    encode = kb.embedder.encode_passages

    def watched(texts, progress=None):
        def step(n):
            progress(n)
            with sqlite3.connect(minilm_config.db_path) as other:  # what another process would see
                stored_while_embedding.append(other.execute("SELECT count(*) FROM documents").fetchone()[0])
        return encode(texts, progress=step)

    kb.embedder.encode_passages = watched
    kb.ingest([folder], progress=False)
    assert max(stored_while_embedding) >= 1 and len(kb.documents()) == 2  # the report, before 慈善法 was done


def test_a_file_that_takes_too_long_fails_alone(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF, REPORT)
    kb = open_kb(minilm_config, file_seconds=3.0, batch_size=2)
    encode = kb.embedder.encode_passages

    def slow_for_the_report(texts, progress=None):
        if any("第一议题" in t for t in texts):
            def step(n):
                time.sleep(3.5)  # a pathological file: a group of passages takes long
                progress(n)
            return encode(texts, progress=step)
        return encode(texts, progress=progress)

    kb.embedder.encode_passages = slow_for_the_report
    report = kb.ingest([folder], progress=False)
    assert "处理超时" in dict(report.failed)[str((folder / REPORT.name).resolve())]
    assert titles(kb) == ["社会救助暂行办法"] and consistent(kb)


def test_a_slow_file_that_keeps_moving_is_never_dropped(tmp_path, minilm_config):
    """A busy office PC: every group of passages is slow, the whole file takes several times the
    limit, yet each step is within it, so the file gets in (the limit catches a stall, not slowness)."""
    folder = copy_files(tmp_path / "docs", REPORT)
    kb = open_kb(minilm_config, file_seconds=1.5, batch_size=2)
    encode = kb.embedder.encode_passages

    steps = []

    def busy(texts, progress=None):
        def step(n):
            time.sleep(0.9)  # each group of passages takes most of the limit
            steps.append(n)
            progress(n)
        return encode(texts, progress=step)

    kb.embedder.encode_passages = busy
    report = kb.ingest([folder], progress=False)
    # The sleeps alone add up to at least twice the limit, whatever the machine's speed.
    assert len(steps) * 0.9 > 2 * 1.5
    assert not report.failed and report.added
    assert consistent(kb)


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated(tmp_path, minilm_config):
    import resource

    folder = copy_files(tmp_path / "docs", FUNERAL)
    kb = open_kb(minilm_config, max_unzipped_mb=50)
    kb.ingest([folder], progress=False)  # the model is loaded: what follows is the bomb's own memory
    zip_bomb(folder / "炸弹.docx", 300)  # 300 MB of zeros in a ~300 KB file
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = kb.ingest([folder], progress=False)
    assert "疑似压缩炸弹" in dict(report.failed)[str(folder / "炸弹.docx")]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 2**10  # KiB: never inflated
    zip_bomb(folder / "炸弹.docx", 2)  # under the size limit: only its ratio is wrong now
    report = kb.ingest([folder], progress=False)
    assert "压缩比异常" in dict(report.failed)[str(folder / "炸弹.docx")]
    assert titles(kb) == ["殡葬管理条例"]


# ------------------------------------------------------------------------- paths

def test_links_are_not_followed_out_of_the_folder_and_broken_ones_are_reported(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF)
    outside = copy_files(tmp_path / "elsewhere", REPORT) / REPORT.name
    (folder / "p.txt").symlink_to(outside)
    (folder / "悬空.txt").symlink_to(tmp_path / "没有这个文件.txt")
    (folder / "循环.txt").symlink_to(folder / "循环.txt")
    (folder / "同一文件.md").symlink_to(folder / RELIEF.name)
    (folder / "子目录").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    kb = KnowledgeBase(minilm_config)
    report = kb.ingest([folder], progress=False)
    failed = dict(report.failed)
    assert "入库文件夹以外" in failed[str(folder / "p.txt")]
    assert "不存在" in failed[str(folder / "悬空.txt")]
    assert "循环" in failed[str(folder / "循环.txt")]
    assert "文件夹" in failed[str(folder / "子目录")]
    assert str(folder / "同一文件.md") not in failed  # a link to a file in the folder: that file is read once
    assert titles(kb) == ["社会救助暂行办法"]


def test_a_renamed_subfolder_keeps_its_documents_under_their_new_paths(tmp_path, minilm_config):
    root = tmp_path / "corpus"
    copy_files(root / "法规", RELIEF, FUNERAL)
    copy_files(root / "汇报", REPORT)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([root], prune=True, progress=False)
    ids = {d["title"]: d["id"] for d in kb.documents()}
    (root / "法规").rename(root / "行政法规")
    report = kb.ingest([root], prune=True, progress=False)
    assert len(report.moved) == 2 and not report.removed and not report.added
    after = {d["title"]: (d["id"], d["path"]) for d in kb.documents()}
    assert {t: i for t, (i, _) in after.items()} == ids  # the same documents, not copies
    assert all("/行政法规/" in p for t, (_, p) in after.items() if t != REPORT.stem.split("“")[0] and "汇报" not in t)
    assert consistent(kb)

    # a moved corpus, then an edit: the moved document is updated, never doubled
    shutil.move(root, tmp_path / "moved")
    kb.ingest([tmp_path / "moved"], progress=False)
    edited = tmp_path / "moved" / "行政法规" / RELIEF.name
    edited.write_text(edited.read_text(encoding="utf-8") + "\n附：本办法由民政部负责解释。\n", encoding="utf-8")
    report = kb.ingest([tmp_path / "moved"], progress=False)
    assert len(report.replaced) == 1 and len(kb.documents()) == 3
    assert all(Path(d["path"]).exists() for d in kb.documents())


def test_prune_against_an_empty_or_missing_folder_removes_nothing(tmp_path, minilm_config):
    root = copy_files(tmp_path / "corpus", RELIEF, FUNERAL, REPORT)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([root], progress=False)
    shutil.move(root, tmp_path / "x")
    root.mkdir()
    report = kb.ingest([root], prune=True, progress=False)
    assert not report.removed and report.notes and len(kb.documents()) == 3
    root.rmdir()
    report = kb.ingest([root], prune=True, progress=False)
    assert not report.removed and "不存在" in report.notes[0] and len(kb.documents()) == 3


def test_prune_past_the_share_needs_a_yes_and_what_it_removes_can_be_restored(tmp_path, minilm_config):
    root = copy_files(tmp_path / "corpus", RELIEF, FUNERAL, REPORT, DISASTER)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([root], progress=False)
    (root / RELIEF.name).unlink()
    (root / FUNERAL.name).unlink()
    report = kb.ingest([root], prune=True, progress=False)
    assert len(report.prune_refused) == 2 and not report.removed and len(kb.documents()) == 4
    report = kb.ingest([root], prune=True, progress=False, prune_all=True)
    assert len(report.removed) == 2 and len(kb.documents()) == 2
    assert {t["title"] for t in kb.trash()} == {"社会救助暂行办法", "殡葬管理条例"}
    for item in kb.trash():
        kb.restore(item["doc_id"])
    assert len(kb.documents()) == 4 and not kb.trash() and consistent(kb)
    assert kb.search("最低生活保障 申请", k=1)[0].citation.title == "社会救助暂行办法"


# ---------------------------------------------------------- deletion by mistake

def test_rm_takes_an_exact_id_or_a_whole_title_never_a_part(tmp_path, minilm_config):
    kb = KnowledgeBase(minilm_config)
    kb.ingest([copy_files(tmp_path / "docs", CHARITY, RELIEF)], progress=False)
    ids = {d["title"]: d["id"] for d in kb.documents()}
    missing = max(ids.values()) + 27
    with pytest.raises(DocumentNotFound, match="没有这个编号"):
        kb.document_named(str(missing))
    with pytest.raises(DocumentNotFound):
        kb.document_named("29")  # a number in 慈善法(2023-12-29)'s name is not its id
    with pytest.raises(DocumentNotFound):
        kb.document_named("慈善")  # part of a title
    assert kb.document_named("慈善法")["id"] == ids["中华人民共和国慈善法"]  # the title as normalised
    assert kb.document_named(str(ids["社会救助暂行办法"]))["title"] == "社会救助暂行办法"


def test_kb_rm_asks_first_and_goes_to_the_trash(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF, REPORT)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    doc_id = kb.document_named("社会救助暂行办法")["id"]
    kb.close()
    kb_cli = [sys.executable, "-m", "kb.cli", "--data", str(minilm_config.data_dir), "--model", minilm_config.model]
    refused = subprocess.run([*kb_cli, "rm", "29"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert refused.returncode == 1 and "没有这个编号" in refused.stderr
    unconfirmed = subprocess.run([*kb_cli, "rm", str(doc_id)], capture_output=True, text=True,
                                 stdin=subprocess.DEVNULL)
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    done = subprocess.run([*kb_cli, "rm", str(doc_id), "--yes"], capture_output=True, text=True)
    assert done.returncode == 0 and "回收站" in done.stdout
    listed = subprocess.run([*kb_cli, "trash"], capture_output=True, text=True)
    assert "社会救助暂行办法" in listed.stdout and "删除" in listed.stdout
    restored = subprocess.run([*kb_cli, "restore", str(doc_id)], capture_output=True, text=True)
    assert restored.returncode == 0, restored.stderr
    kb = KnowledgeBase(minilm_config)
    assert kb.document_named("社会救助暂行办法")["id"] == doc_id and consistent(kb)
    assert [a["action"] for a in kb.audit()][:2] == ["恢复", "删除"]


def test_an_edit_keeps_the_previous_text_in_the_trash(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF, DISASTER)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    edited = folder / RELIEF.name
    shutil.copy(DISASTER, edited)  # edited to equal another document's bytes
    report = kb.ingest([folder], prune=True, progress=False)
    assert report.duplicates and titles(kb) == ["自然灾害救助条例"]
    assert [(t["title"], t["reason"]) for t in kb.trash()] == [("社会救助暂行办法", "edited")]
    assert all(h.citation.title != "社会救助暂行办法" for h in kb.search("最低生活保障", k=5))
    kb.restore(kb.trash()[0]["doc_id"])  # a user may still want it back
    assert titles(kb) == ["社会救助暂行办法", "自然灾害救助条例"] and consistent(kb)
    with pytest.raises(StoreError, match="回收站中没有"):
        kb.restore(kb.trash()[0]["doc_id"] if kb.trash() else 12345)


def test_a_replaced_version_cannot_come_back_over_the_current_one(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    edited = folder / RELIEF.name
    edited.write_text(edited.read_text(encoding="utf-8") + "\n附则补充。\n", encoding="utf-8")
    assert len(kb.ingest([folder], progress=False).replaced) == 1
    with pytest.raises(StoreError, match="另一版本"):
        kb.restore(kb.trash()[0]["doc_id"])
    assert len(kb.documents()) == 1 and consistent(kb)


# ------------------------------------------------------------------- fresh view

def test_a_long_lived_knowledge_base_sees_another_process_commit_at_its_next_search(tmp_path, minilm_config):
    reader = KnowledgeBase(minilm_config)
    reader.ingest([copy_files(tmp_path / "a", RELIEF)], progress=False)
    assert reader.search("火化 骨灰 殡仪馆", k=3, mode="dense")[0].citation.title == "社会救助暂行办法"
    writer = KnowledgeBase(minilm_config)
    writer.ingest([copy_files(tmp_path / "b", FUNERAL)], progress=False)
    writer.close()
    hits = reader.search("火化 骨灰 殡仪馆", k=3, mode="dense")
    assert "殡葬管理条例" in {h.citation.title for h in hits} and len(reader.vectors) == reader.store.chunk_count()


# ---------------------------------------------------------------- smaller ones

def test_one_text_in_six_encodings_is_one_document(tmp_path, minilm_config):
    folder = tmp_path / "docs"
    folder.mkdir()
    text = REPORT.read_text(encoding="utf-8")
    for n, encoding in enumerate(("utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le")):
        data = text.encode(encoding)
        (folder / f"汇报{n}.txt").write_bytes(b"\xff\xfe" + data if encoding == "utf-16-le" else data)
    kb = KnowledgeBase(minilm_config)
    report = kb.ingest([folder], progress=False)
    assert len(report.added) == 1 and len(report.duplicates) == 5 and len(kb.documents()) == 1


def test_odd_file_names_and_a_broken_manifest_each_give_one_clear_message(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF)
    (folder / "manifest.json").write_text("{broken", encoding="utf-8")
    odd = bytes(folder) + "/\xb2\xbb\xca\xc7UTF8.txt".encode("latin-1")  # GBK bytes in a name
    with open(odd, "wb") as fh:
        fh.write(REPORT.read_bytes())
    kb = KnowledgeBase(minilm_config)
    report = kb.ingest([folder, folder / RELIEF.name], progress=False)  # the folder and a file in it
    reasons = [r for _, r in report.failed]
    assert sum("清单文件格式错误" in r for r in reasons) == 1
    assert sum("不是有效的 UTF-8" in r for r in reasons) == 1
    assert titles(kb) == ["社会救助暂行办法"]


def test_an_upload_with_a_long_chinese_name_is_saved_under_a_shorter_one(tmp_path):
    name = "关于进一步加强和改进最低生活保障工作的意见" * 5 + ".txt"  # 105 characters, 311 bytes
    path = save_upload(name, REPORT.read_bytes(), tmp_path / "uploads", 2**20)
    assert path.exists() and len(path.name.encode("utf-8")) <= 255 and path.suffix == ".txt"


def test_a_file_moved_onto_another_stored_file_takes_its_place(tmp_path, minilm_config):
    folder = copy_files(tmp_path / "docs", RELIEF, DISASTER)
    kb = KnowledgeBase(minilm_config)
    kb.ingest([folder], progress=False)
    relief_id = kb.document_named("社会救助暂行办法")["id"]
    (folder / RELIEF.name).replace(folder / DISASTER.name)  # mv 社会救助….md 自然灾害救助条例….md
    report = kb.ingest([folder], prune=True, progress=False)
    assert report.moved and titles(kb) == ["社会救助暂行办法"] and consistent(kb)
    assert kb.documents()[0]["id"] == relief_id and kb.documents()[0]["path"] == str(folder / DISASTER.name)
    assert [t["title"] for t in kb.trash()] == ["自然灾害救助条例"]


def test_two_writers_never_overwrite_each_others_vectors(tmp_path, minilm_config):
    first, second = KnowledgeBase(minilm_config), KnowledgeBase(minilm_config)
    first.ingest([copy_files(tmp_path / "a", RELIEF)], progress=False)
    second.search("救助", k=1)  # reads the index at the first commit
    first.ingest([copy_files(tmp_path / "b", FUNERAL)], progress=False)
    second.ingest([copy_files(tmp_path / "c", DISASTER)], progress=False)  # must build on the second commit
    for kb in (first, second, KnowledgeBase(minilm_config)):
        kb.search("救助", k=1)
        assert len(kb.vectors) == kb.store.chunk_count() and len(kb.documents()) == 3


def test_a_writer_prunes_only_older_generations_not_a_later_writers_files(tmp_path):
    """prune runs after the commit, outside the write lock: by then another process may have taken the
    lock and written its own generation (or be writing its temporary file). Only older ones go."""
    from kb.store.vectors import VectorIndex

    for name in ("vectors-3.faiss", "vectors-4.faiss", "vectors-5.faiss", "vectors-6.faiss.tmp",
                 "vectors-2.faiss.tmp", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    VectorIndex.prune(tmp_path, keep=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "vectors-4.faiss", "vectors-5.faiss", "vectors-6.faiss.tmp"]


def test_a_commit_that_fails_leaves_no_open_transaction_behind(tmp_path):
    """A COMMIT that fails (a full disk, a deferred constraint) must roll back: left open, every later
    change would run inside that dead transaction and never be committed."""
    from kb.store.db import Store

    store = Store(tmp_path / "kb.sqlite3")
    store.conn.executescript("CREATE TEMP TABLE parent(id INTEGER PRIMARY KEY);"
                             "CREATE TEMP TABLE child(pid REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);")
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction():
            store.set_meta("note", "lost")
            store.conn.execute("INSERT INTO temp.child VALUES (7)")  # checked only at COMMIT
    assert not store.conn.in_transaction
    with store.transaction():
        store.set_meta("note", "kept")
    other = sqlite3.connect(tmp_path / "kb.sqlite3")
    assert other.execute("SELECT value FROM meta WHERE key = 'note'").fetchone() == ("kept",)
