"""The upload workflow in the core (KnowledgeBase.upload and settle_upload), which the app and the API
share: save, find the stored documents an upload matches, then replace, keep a version or skip, and
leave no stray file behind. A real SQLite file, a real FAISS index, a real small model."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REGULATIONS, copy_files

from kb.library.knowledge_base import KnowledgeBase

LAW = "社会救助暂行办法"
ADDED = "\n第七十一条 本办法另有补充规定。\n"  # appended: another version of the law, not a copy


@pytest.fixture
def kb(minilm_config, tmp_path):
    kb = KnowledgeBase(minilm_config)
    report = kb.ingest([copy_files(tmp_path / "files", REGULATIONS / f"{LAW}(2019-03-02).md")], progress=False)
    assert report.added
    yield kb
    kb.close()


def same_law_typed_again(kb, edit: str = "") -> bytes:
    """The stored law's text as another file; `edit` appended makes it another version, not a copy."""
    stored = next(d for d in kb.documents() if d["title"] == LAW)
    return (kb.document(stored["id"]).text + edit).encode()


def uploads(kb) -> set[str]:
    folder = kb.config.uploads_path
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_new_file_is_ingested_and_a_refused_one_named(kb):
    result = kb.upload([("通知.txt", "关于做好冬季救助工作的通知\n\n各地要做好救助。\n".encode()), ("病毒.exe", b"MZ")],
                       actor="测试")
    assert [p.rsplit("/", 1)[-1] for p in result.report.added] == ["通知.txt"] and not result.waiting
    assert result.refused and result.refused[0][0] == "病毒.exe" and "不支持的文件类型" in result.refused[0][1]


def test_a_matching_upload_waits_and_skip_leaves_nothing(kb):
    result = kb.upload([(f"{LAW}.txt", same_law_typed_again(kb))])
    assert not result.report.added and len(result.waiting) == 1
    assert [d["title"] for d in result.waiting[0].similar] == [LAW]
    assert f"{LAW}.txt" in uploads(kb)  # saved, waiting for the choice
    settled = kb.settle_upload(result.waiting[0], "skip")
    assert not settled.report.added and f"{LAW}.txt" not in uploads(kb)
    assert [d["title"] for d in kb.documents()] == [LAW]


def test_keep_as_a_version_keeps_both(kb):
    waiting = kb.upload([(f"{LAW}.txt", same_law_typed_again(kb, ADDED))]).waiting[0]
    settled = kb.settle_upload(waiting, "version")
    assert settled.report.added and not settled.replaced
    assert [d["title"] for d in kb.documents()] == [LAW, LAW]


def test_replace_trashes_the_stored_one_and_restores_it_when_the_new_file_fails(kb):
    waiting = kb.upload([(f"{LAW}.txt", same_law_typed_again(kb))]).waiting[0]
    settled = kb.settle_upload(waiting, "replace", actor="测试")
    assert settled.report.added and [t for _, t in settled.replaced] == [LAW]
    assert [d["path"].rsplit("/", 1)[-1] for d in kb.documents()] == [f"{LAW}.txt"]
    assert [t["title"] for t in kb.trash()] == [LAW]

    # a replacement that cannot be read: the stored document comes back from the trash
    waiting = kb.upload([(f"{LAW}（修订）.txt", same_law_typed_again(kb, ADDED))]).waiting[0]
    broken = waiting.path
    with open(broken, "wb") as f:
        f.write(b"\xff\xfe\x00garbage")
    replaced_this_round: set[int] = set()
    settled = kb.settle_upload(waiting, "replace", skip_ids=replaced_this_round)
    assert not settled.report.added and settled.report.failed and not settled.replaced
    assert replaced_this_round == set()  # back in the library: another file of the round may still replace it
    assert [d["title"] for d in kb.documents()] == [LAW] and not settled.still_in_trash


def test_an_uploaded_scan_is_read_by_ocr_once(kb, monkeypatch):
    """The upload compares the file with the library, then ingests it: one OCR of each page, not two
    (a one-page scan took 112 s, half of it reading the page a second time)."""
    import io

    import ingest.ocr
    from ingest.scans import FONT, layout, render

    if not FONT.exists():
        pytest.skip("fonts-wqy-microhei is installed by `make setup`")
    page = io.BytesIO()
    notice = "关于做好冬季救助工作的通知\n各区要加强夜间巡查，发现流浪乞讨人员及时引导到救助站。"
    render(layout(notice)[0]).save(page, "PNG")
    real, pages_read = ingest.ocr.read_pages, []

    def counted(images, count, *args, **kwargs):
        pages_read.append(count)
        return real(images, count, *args, **kwargs)

    monkeypatch.setattr(ingest.ocr, "read_pages", counted)
    result = kb.upload([("冬季救助通知.png", page.getvalue())])
    assert result.report.added and not result.waiting and pages_read == [1]
    assert any(d["title"] == "关于做好冬季救助工作的通知" for d in kb.documents())


def test_a_file_that_fails_to_read_is_read_once(kb, monkeypatch):
    """An unreadable upload fails in the comparison with the library; ingestion reports that failure
    rather than reading the file again (a scan that fails after minutes of OCR failed twice as long)."""
    import os

    import ingest

    real, reads = ingest.read_file, []

    def counted(path, *args, **kwargs):
        reads.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ingest, "read_file", counted)
    broken = [("随机.pdf", b"%PDF-1.4\n" + os.urandom(50_000)), ("截断.docx", b"PK\x03\x04" + os.urandom(900))]
    result = kb.upload(broken)
    assert sorted(Path(f).name for f, _ in result.report.failed) == ["截断.docx", "随机.pdf"]
    assert "PDF 文件已损坏" in dict((Path(f).name, r) for f, r in result.report.failed)["随机.pdf"]
    assert sorted(reads) == ["截断.docx", "随机.pdf"] and not uploads(kb)


def test_a_replacement_keeps_the_stored_metadata_unless_the_new_one_is_taken(kb):
    """A DOCX conversion of a law read its first date as the law's (2016 became 1998): replacing shows
    the difference and keeps the stored value unless the user picks the new one."""
    stored = next(d for d in kb.documents() if d["title"] == LAW)
    waiting = kb.upload([(f"{LAW}（转换）.txt", same_law_typed_again(kb, ADDED))]).waiting[0]
    differences = waiting.differences()
    assert differences.get("date", (None,))[0] == stored["date"] != differences["date"][1]
    kb.settle_upload(waiting, "replace")
    [now] = [d for d in kb.documents() if d["title"] == LAW]
    assert now["date"] == stored["date"] and now["id"] != stored["id"]  # the new file, the stored date

    again = same_law_typed_again(kb, ADDED + "第七十二条 又一条。\n")
    waiting = kb.upload([(f"{LAW}（再转换）.txt", again)]).waiting[0]
    new_date = waiting.differences()["date"][1]
    kb.settle_upload(waiting, "replace", take_new=("date",))
    assert [d["date"] for d in kb.documents() if d["title"] == LAW] == [new_date]


def test_a_new_version_must_have_its_own_date(kb):
    from kb.errors import UploadError

    stored = next(d for d in kb.documents() if d["title"] == LAW)
    waiting = kb.upload([(f"{LAW}（修订稿）.txt", same_law_typed_again(kb, ADDED))]).waiting[0]
    with pytest.raises(UploadError, match="与已收录的版本相同"):
        kb.settle_upload(waiting, "version", version_date=stored["date"])
    kb.settle_upload(waiting, "version", version_date="2024-05-01")
    dates = sorted(d["date"] for d in kb.documents() if d["title"] == LAW)
    assert dates == [stored["date"], "2024-05-01"]
    old, new, _ = kb.versions.compare(LAW)  # 新旧对照 takes the pair
    assert (old["date"], new["date"]) == (stored["date"], "2024-05-01")
