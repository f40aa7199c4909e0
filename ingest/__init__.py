"""Files → documents with metadata → structure-aware chunks.

`scan` is the one call the knowledge base makes: it finds the files, reads their
manifests, hashes each file, asks the caller whether it wants it (an unchanged file is
not read again), and yields each file's document and chunks, or its error."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunker import ChunkSizes, chunk_document
from ingest.errors import ReadError, StudyKBError
from ingest.limits import Limits, check_size
from ingest.metadata import recognise, status_named
from ingest.readers import SUPPORTED_SUFFIXES, read_file
from ingest.types import DOC_TYPES, VERSION_STATUSES, Chunk, Document

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
MANIFEST_VALUE_CHARS = 500  # a manifest's value is a title or a date, not a text (each is kept in memory per process)
OVERRIDABLE = ("title", "doc_type", "issuer", "doc_number", "date", "published", "effective", "speaker",
               "jurisdiction", "status", "repealed")

__all__ = ["DOC_TYPES", "SUPPORTED_SUFFIXES", "Chunk", "ChunkSizes", "Document", "Limits", "ReadError", "Scanned",
           "StudyKBError", "content_hash", "find_files", "load_document", "read_manifest", "scan"]


@dataclass
class Scanned:
    """One file of a scan: its document and chunks, or the reason it could not be read."""

    path: str  # as named by the caller
    digest: str = ""
    document: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    error: ReadError | None = None


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# declared metadata that neither chunks nor keyword entries depend on (not the title or the type)
RELABELLABLE = {"issuer", "doc_number", "date", "published", "effective", "speaker", "jurisdiction", "status",
                "repealed"}
READ_ATTEMPTS = 3
REREAD_PAUSE = 0.5  # seconds before a file that changed while it was read is read again


def _stamp(path: Path) -> tuple[int, int]:
    """What changes when a file is written: its size and modification time."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def find_files(paths: list[Path]) -> tuple[list[Path], list[ReadError]]:
    """Files named directly, and the supported files under folders (sorted, manifests skipped), and
    what was not taken: a link under a folder is followed only to a file inside that folder (never to
    /etc/passwd), and a looping or dangling link, or a linked folder, is reported rather than
    skipped in silence. A file name that is not valid UTF-8 is reported too: it cannot be stored."""
    out: list[Path] = []
    problems: list[ReadError] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        root = path.resolve()
        for found in sorted(path.rglob("*")):
            if found.name.startswith(".") or (found.suffix.lower() not in SUPPORTED_SUFFIXES and not found.is_dir()):
                continue
            if not _valid_name(found):
                shown = str(found).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                problems.append(ReadError(shown, "文件名不是有效的 UTF-8 编码（可能来自其他系统），请重命名后再入库"))
                continue
            if found.is_symlink():
                problem = _link_problem(found, root)
                if problem:
                    problems.append(ReadError(found, problem))
                continue  # a link to a file in the folder: that file is read as itself
            if found.is_file():
                out.append(found)
    return _without_outside_hard_links(out, paths, problems), problems


def _without_outside_hard_links(files: list[Path], paths: list[Path], problems: list[ReadError]) -> list[Path]:
    """Files found under a folder that are hard links to a file with a name outside the folders named
    (a second name for /etc/shadow, say, made where a symbolic link would be refused) are reported,
    not read: only where every name of the file lies in what was named do we know it belongs there."""
    folders = [p for p in paths if p.is_dir()]
    if not folders:
        return files
    names: dict[tuple[int, int], set[str]] = {}  # (device, inode) → its distinct names in the folders named
    for root in folders:  # folders may overlap (d and d/sub): a name is counted once
        for found in root.rglob("*"):
            try:
                info = found.lstat()
            except OSError:
                continue
            if info.st_nlink > 1 and found.is_file() and not found.is_symlink():
                names.setdefault((info.st_dev, info.st_ino), set()).add(str(found.resolve()))
    kept = []
    for path in files:
        try:
            info = path.lstat()
        except OSError:
            kept.append(path)  # gone meanwhile: reading it says so
            continue
        key = (info.st_dev, info.st_ino)
        if info.st_nlink > 1 and len(names.get(key, ())) < info.st_nlink:
            problems.append(ReadError(path, "这是指向入库文件夹以外文件的硬链接，为安全起见未读取"))
            continue
        kept.append(path)
    return kept


def _valid_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False


def _link_problem(link: Path, root: Path) -> str:
    """Why a symbolic link under `root` is not followed ("" for a link to a file inside root)."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return "符号链接指向的文件不存在，已跳过"
    except (RuntimeError, OSError):  # a loop
        return "符号链接形成循环，已跳过"
    if target.is_dir():
        return "链接到文件夹，未跟随（请直接入库该文件夹）"
    if not target.is_relative_to(root):
        return f"符号链接指向入库文件夹以外（{target}），为安全起见未读取"
    return ""


def read_manifest(folder: Path) -> dict[str, dict]:
    """`manifest.json` in a folder: {"relative/path.md": {"doc_type": "report", ...}} (metadata overrides)."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: [[[[… nested past Python's limit
        raise ReadError(path, f"清单文件格式错误（{exc}）") from exc
    files = data.get("files", data) if isinstance(data, dict) else data
    if not isinstance(files, dict):
        raise ReadError(path, "清单文件应为 {\"文件相对路径\": {元数据}} 的形式")
    out = {}
    for rel, meta in files.items():
        if not isinstance(meta, dict):
            raise ReadError(path, f"“{rel}”的元数据应为对象")
        unknown = set(meta) - set(OVERRIDABLE)
        if unknown:
            raise ReadError(path, f"“{rel}”含无法识别的字段：{', '.join(sorted(unknown))}")
        # text, or a whole number taken as text (a division code 330100); null, lists and true/false are refused
        not_text = sorted(k for k, v in meta.items() if not isinstance(v, str | int) or isinstance(v, bool))
        if not_text:
            raise ReadError(path, f"“{rel}”的字段 {', '.join(not_text)} 应为带引号的文字（如 \"2019-03-02\"）")
        meta = {k: str(v).strip() for k, v in meta.items()}
        long = sorted(k for k, v in meta.items() if len(v) > MANIFEST_VALUE_CHARS)
        if long:
            raise ReadError(path, f"“{rel}”的字段 {', '.join(long)} 过长（每项不超过 {MANIFEST_VALUE_CHARS} 字）")
        for key in ("date", "published", "effective"):
            if meta.get(key) and not _a_day(meta[key]):
                raise ReadError(path, f"“{rel}”的日期 {key}“{meta[key]}”无效（应写作 2014-05-01 或 2014年5月1日）")
        if meta.get("date"):  # a version's date is compared as ISO text: 2014年5月1日 → 2014-05-01
            meta["date"] = _a_day(meta["date"]).isoformat()
        if "doc_type" in meta and meta["doc_type"] not in DOC_TYPES:
            raise ReadError(path, f"“{rel}”的文档类型“{meta['doc_type']}”无效（可选：{', '.join(DOC_TYPES)}）")
        out[str((folder / rel).resolve())] = {**meta, **_declared_status(meta, path, rel)}
    return out


def _a_day(text: str) -> dt.date | None:
    """2014-05-01 or 2014年5月1日 as a day that exists, else None."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})-(\d{2})|年(\d{1,2})月(\d{1,2})日)", text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2) or m.group(4)), int(m.group(3) or m.group(5)))
    except ValueError:
        return None


def _declared_status(meta: dict, path: Path, rel: str) -> dict:
    """A manifest entry's status and repeal date, checked: {"status": "失效"} → 已废止; a repeal
    date alone means 已废止; {"status": ""} leaves it to the versions again."""
    out = {}
    if "status" in meta:
        out["status"] = status_named(meta["status"])
        if not out["status"] and meta["status"].strip():
            raise ReadError(path, f"“{rel}”的时效性“{meta['status']}”无效（可选：{'、'.join(VERSION_STATUSES)}）")
    if meta.get("repealed"):
        try:
            out["repealed"] = dt.date.fromisoformat(str(meta["repealed"])).isoformat()
        except ValueError:
            raise ReadError(path, f"“{rel}”的废止日期“{meta['repealed']}”无效（应写作 2014-05-01）") from None
        if out.setdefault("status", "已废止") != "已废止":
            raise ReadError(path, f"“{rel}”写了废止日期，时效性却是“{out['status']}”")
    elif out.get("status") == "":
        out["repealed"] = ""  # cleared together
    return out


def load_document(path: Path, overrides: dict | None = None, sizes: ChunkSizes | None = None,
                  digest: str | None = None, limits: Limits | None = None) -> tuple[Document, list[Chunk]]:
    """Read, recognise metadata (overrides win), and chunk one file. Raises ReadError."""
    limits = limits or Limits()
    raw = read_file(path, limits)
    meta = recognise(raw.text, path)
    meta.update({k: v for k, v in (overrides or {}).items() if k in OVERRIDABLE})
    doc = Document(path=str(Path(path).resolve()), text=raw.text, source_format=raw.source_format,
                   content_hash=digest or content_hash(path), page_starts=raw.page_starts, ocr_pages=raw.ocr,
                   **meta)
    structure = "regulation" if doc.doc_type == "regulation" else None
    chunks = chunk_document(raw.text, raw.page_starts, doc.title, sizes, structure=structure)
    if not chunks:
        raise ReadError(path, "没有切分出任何正文片段")
    for chunk in chunks:
        chunk.ocr_confidence = raw.ocr.get(chunk.page) if chunk.page else None
    if len(chunks) > limits.max_chunks:
        raise ReadError(path, f"切分出 {len(chunks)} 个片段，超过单个文档的上限 {limits.max_chunks}"
                              "（文件是否缺少换行或结构？可在 studykb.toml 中调整 max_chunks）")
    limits.check_time(path)
    return doc, chunks


def scan(paths: list[Path], sizes: ChunkSizes | None = None, overrides: dict | None = None,
         wanted: Callable[[Path, str, dict], bool] | None = None, limits: Limits | None = None,
         reuse: Callable[[Path, str], tuple[Document, list[Chunk]] | None] | None = None) -> Iterator[Scanned]:
    """Every file named or under the folders named, in order. `wanted(path, digest, declared)` is
    asked before a file is read, with the metadata its manifest declares (False: skip it, e.g.
    unchanged); `overrides` win over manifests. `reuse(path, digest)` may give what was already read
    of a file with that content (an upload compared with the library first: its scan is OCR'd once)
    where no metadata is declared for it.
    A bad manifest, link or file is yielded with its error and never stops the others."""
    limits = limits or Limits()
    manifest: dict[str, dict] = {}
    folders = set()
    for root in (p for p in paths if p.is_dir()):
        for found in root.rglob(MANIFEST):
            problem = _link_problem(found, root.resolve()) if found.is_symlink() else ""
            if problem:
                yield Scanned(str(found), error=ReadError(found, problem))
            else:
                folders.add(found.parent.resolve())
    for found in sorted(folders):  # each once, however many of the named paths hold it
        try:
            manifest.update(read_manifest(found))
        except ReadError as exc:
            yield Scanned(exc.path, error=exc)
    files, problems = find_files(paths)
    for problem in problems:
        yield Scanned(problem.path, error=problem)
    for path in files:
        item = Scanned(str(path))
        try:
            if not path.exists():
                raise ReadError(path, "文件不存在")
            check_size(path, limits)
            meta = {**manifest.get(str(path.resolve()), {}), **(overrides or {})}
            for attempt in range(READ_ATTEMPTS):  # a file being written while it is read is read again
                before = _stamp(path)
                item.digest = content_hash(path)
                if wanted and not wanted(path, item.digest, meta):
                    break
                read = reuse(path, item.digest) if reuse and set(meta) <= RELABELLABLE else None
                if read:  # what the chunks do not depend on is set on the document read before
                    for key, value in meta.items():
                        setattr(read[0], key, value)
                item.document, item.chunks = read or load_document(path, meta, sizes, item.digest, limits.start())
                if _stamp(path) == before:
                    break
                item.document, item.chunks = None, []
                if attempt == READ_ATTEMPTS - 1:
                    raise ReadError(path, "文件在读取过程中一再被改写，已跳过（请等文件写完后再入库）")
                time.sleep(REREAD_PAUSE)
            if item.document is None:
                continue
        except ReadError as exc:
            item.error = exc
        except Exception as exc:  # a reader's bug on one hostile file must not stop the others
            log.warning("读取 %s 时程序出错", path, exc_info=True)  # the traceback, for whoever fixes it
            item.error = ReadError(path, f"读取时出错：{type(exc).__name__}: {exc}")
        yield item
