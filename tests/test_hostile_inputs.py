"""Files made to hurt (issue 22's hostile test): each is refused with a clear message naming the file
and the problem, before it costs the machine its memory, and nothing stored is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ingest import ReadError
from ingest.limits import Limits
from ingest.readers import read_file


def declared_bomb(path: Path, side: int = 12_000) -> Path:
    """A PNG of a few kilobytes that declares side × side pixels (144 million: 430 MB once decoded)."""
    Image.new("1", (side, side)).save(path, optimize=True)
    return path


def read_in_a_child(path: Path) -> list[str]:
    """read_file in a fresh process: its ReadError's reason, then its peak memory in MB. The peak comes
    from /proc (VmHWM), not getrusage: ru_maxrss carries the parent's peak over the fork."""
    code = ("from ingest.readers import read_file; from ingest import ReadError\n"
            f"try:\n    read_file({str(path)!r})\nexcept ReadError as exc:\n    print(exc.reason)\n"
            "peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
            "print(int(peak.split()[1]) // 1024)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent).stdout.splitlines()


def test_an_image_bomb_is_refused_from_its_header_without_decoding(tmp_path):
    bomb = declared_bomb(tmp_path / "扫描件.png")
    assert bomb.stat().st_size < 200_000
    out = read_in_a_child(bomb)
    assert "图片过大" in out[0] and "12000×12000" in out[0]
    assert int(out[-1]) < 300  # MB at the peak: the 430 MB of pixels were never decoded


def test_a_pdf_holding_an_image_bomb_is_refused_before_the_page_is_rendered(tmp_path):
    """A 3 KB PDF whose one page is a 12000 × 12000 image took a reader to 1 GB: the page is measured
    from the image's dictionary before PDFium (or pypdf) decodes it."""
    bomb = tmp_path / "扫描件.pdf"
    Image.new("1", (12_000, 12_000)).save(bomb, "PDF")
    assert bomb.stat().st_size < 10_000
    out = read_in_a_child(bomb)
    assert "第1页的图片过大" in out[0] and "12000×12000" in out[0]
    assert int(out[-1]) < 400  # MB at the peak (1,011 MB before)


def test_a_jpeg_in_a_pdf_is_measured_by_its_own_header_not_the_size_the_pdf_declares(tmp_path):
    lying = tmp_path / "扫描件.pdf"
    Image.new("L", (1500, 1500), 255).save(lying, "PDF")  # a JPEG (DCTDecode) page
    data = lying.read_bytes()
    assert b"/DCTDecode" in data
    lying.write_bytes(data.replace(b"/Width 1500", b"/Width 0010").replace(b"/Height 1500", b"/Height 0010"))
    with pytest.raises(ReadError, match="1500×1500"):
        read_file(lying, Limits(max_image_pixels=1_000_000))


def test_an_oversized_scanned_page_is_left_out_and_the_rest_of_the_pdf_kept(tmp_path):
    """One A3 page scanned at 600 dpi among text pages: that page is listed to check, the text stays."""
    from conftest import REGULATIONS
    from pypdf import PdfReader, PdfWriter

    big = tmp_path / "大图.pdf"
    Image.new("L", (1500, 1500), 255).save(big, "PDF")
    writer = PdfWriter()
    writer.add_page(PdfReader(REGULATIONS / "婚姻登记条例(2003-08-08).pdf").pages[0])
    writer.add_page(PdfReader(big).pages[0])
    mixed = tmp_path / "条例加扫描页.pdf"
    with open(mixed, "wb") as out:
        writer.write(out)
    raw = read_file(mixed, Limits(max_image_pixels=1_000_000))
    assert "婚姻登记" in raw.text and raw.ocr == {2: 0.0}


def test_a_tiff_of_too_many_pages_or_pixels_is_refused(tmp_path):
    frames = [Image.new("L", (2000, 2000), 255) for _ in range(4)]
    tiff = tmp_path / "多页.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:], compression="tiff_deflate")
    with pytest.raises(ReadError, match="图片页数过多") as caught:
        read_file(tiff, Limits(max_image_frames=3))
    assert str(caught.value.subject) == str(tiff)
    with pytest.raises(ReadError, match="图片总像素过多"):
        read_file(tiff, Limits(max_image_total_pixels=10_000_000))
    with pytest.raises(ReadError, match="第1页图片过大"):
        read_file(tiff, Limits(max_image_pixels=3_000_000))


def test_an_image_format_that_is_no_scan_is_refused_whatever_its_name(tmp_path):
    frames = [Image.new("L", (64, 64), n) for n in range(3)]
    gif = tmp_path / "动图.png"  # Pillow reads by content: a GIF named .png
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ReadError, match="不支持的图片格式（GIF）"):
        read_file(gif)


def test_a_truncated_image_says_it_is_damaged(tmp_path):
    broken = tmp_path / "坏图.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(ReadError, match="图片已损坏"):
        read_file(broken)


def test_the_limits_are_settings(tmp_path):
    from kb.config import Config

    limits = Config.load(tmp_path).limits
    assert limits.max_image_pixels >= 35_000_000  # an A4 page scanned at 600 dpi still gets in
    json.dumps(limits.max_image_frames)


# --- manifest.json -----------------------------------------------------------------------------------

GOOD = "关于做好冬季救助工作的通知\n\n各地民政部门要做好冬季救助工作。\n"


@pytest.mark.parametrize("manifest, words", [
    ("[1, 2, 3]", "清单文件应为"),
    ('"就是一段文字"', "清单文件应为"),
    ("[" * 100_000, "清单文件格式错误"),
    (json.dumps({"通知.txt": {"title": "长" * 30_000}}), "过长"),
    (json.dumps({"通知.txt": {"date": "2020-13-45"}}), "日期 date“2020-13-45”无效"),
    (json.dumps({"通知.txt": {"published": "2020年2月30日"}}), "日期 published“2020年2月30日”无效"),
], ids=["array", "string", "deep", "long-title", "bad-date", "bad-written-date"])
def test_a_bad_manifest_is_reported_like_a_bad_file_and_the_good_files_still_get_in(tmp_path, manifest, words):
    from ingest import scan

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "manifest.json").write_text(manifest, encoding="utf-8")
    for n in range(3):
        (folder / f"通知{n}.txt").write_text(GOOD.replace("冬季", f"第{n + 1}季"), encoding="utf-8")
    items = list(scan([folder]))
    failed = [(Path(i.path).name, i.error.reason) for i in items if i.error]
    assert len(failed) == 1 and failed[0][0] == "manifest.json" and words in failed[0][1]
    assert sorted(Path(i.path).name for i in items if i.document) == ["通知0.txt", "通知1.txt", "通知2.txt"]


def test_a_good_manifest_still_declares_dates_in_either_form(tmp_path):
    from ingest import read_manifest

    (tmp_path / "manifest.json").write_text(json.dumps(
        {"a.txt": {"date": "2019年3月2日", "published": "2014年2月21日", "effective": "2014年5月1日"}}),
        encoding="utf-8")
    declared = read_manifest(tmp_path)[str((tmp_path / "a.txt").resolve())]
    assert declared["published"] == "2014年2月21日"  # as written, labelled where shown
    assert declared["date"] == "2019-03-02"  # a version's date is compared as ISO text


def test_a_hard_link_to_a_file_outside_the_folder_is_reported_not_read(tmp_path):
    import os

    from ingest import find_files

    secret = tmp_path / "outside" / "机密.txt"
    secret.parent.mkdir()
    secret.write_text("不应入库的内容\n", encoding="utf-8")
    folder = tmp_path / "files"
    folder.mkdir()
    os.link(secret, folder / "看似普通.txt")
    (folder / "普通.txt").write_text(GOOD, encoding="utf-8")
    os.link(folder / "普通.txt", folder / "普通的另一个名字.txt")  # two names inside: both fine
    for named in ([folder], [folder, folder]):  # a folder named twice (or a folder and its subfolder) counts once
        files, problems = find_files(named)
        assert sorted({f.name for f in files}) == ["普通.txt", "普通的另一个名字.txt"]
        assert {(Path(p.path).name, "硬链接" in p.reason) for p in problems} == {("看似普通.txt", True)}


def test_a_file_rewritten_while_it_is_read_is_read_again_whole(tmp_path, monkeypatch):
    import ingest

    folder = tmp_path / "files"
    folder.mkdir()
    note = folder / "通知.txt"
    note.write_text("关于冬季救助的通知\n\n第一段。\n", encoding="utf-8")
    real = ingest.load_document
    calls = []

    def written_meanwhile(path, *args, **kwargs):
        result = real(path, *args, **kwargs)
        calls.append(path)
        if len(calls) == 1:  # the office's copy finishes writing just after the first read
            with open(path, "a", encoding="utf-8") as f:
                f.write("第二段，写完了。\n")
        return result

    monkeypatch.setattr(ingest, "load_document", written_meanwhile)
    monkeypatch.setattr(ingest, "REREAD_PAUSE", 0)
    [item] = list(ingest.scan([folder]))
    assert item.error is None and "第二段，写完了。" in item.document.text and len(calls) == 2
    assert item.digest == ingest.content_hash(note)  # the hash is of what was read


def test_a_file_that_never_stops_changing_is_skipped_with_a_reason(tmp_path, monkeypatch):
    import ingest

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "日志.txt").write_text("不停写入的文件\n\n开始。\n", encoding="utf-8")
    real = ingest.load_document

    def always_written(path, *args, **kwargs):
        result = real(path, *args, **kwargs)
        with open(path, "a", encoding="utf-8") as f:
            f.write("又一行。\n")
        return result

    monkeypatch.setattr(ingest, "load_document", always_written)
    monkeypatch.setattr(ingest, "REREAD_PAUSE", 0)
    [item] = list(ingest.scan([folder]))
    assert item.document is None and "一再被改写" in item.error.reason
