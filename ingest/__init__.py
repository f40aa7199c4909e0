"""Files → documents with metadata → structure-aware chunks.

`scan` is the one call the knowledge base makes: it finds the files, reads their
manifests, hashes each file, asks the caller whether it wants it (an unchanged file is
not read again), and yields each file's document and chunks, or its error."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunker import ChunkSizes, chunk_document
from ingest.errors import ReadError, StudyKBError
from ingest.metadata import recognise
from ingest.readers import SUPPORTED_SUFFIXES, read_file
from ingest.types import DOC_TYPES, Chunk, Document

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
OVERRIDABLE = ("title", "doc_type", "issuer", "doc_number", "date", "published", "effective", "speaker",
               "jurisdiction")

__all__ = ["DOC_TYPES", "SUPPORTED_SUFFIXES", "Chunk", "ChunkSizes", "Document", "ReadError", "Scanned",
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


def find_files(paths: list[Path]) -> list[Path]:
    """Files named directly, and the supported files under folders (sorted, manifests skipped)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*")
                              if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")))
        else:
            out.append(path)
    return out


def read_manifest(folder: Path) -> dict[str, dict]:
    """`manifest.json` in a folder: {"relative/path.md": {"doc_type": "report", ...}} (metadata overrides)."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReadError(path, f"清单文件格式错误（{exc}）") from exc
    files = data.get("files", data)
    if not isinstance(files, dict):
        raise ReadError(path, "清单文件应为 {\"文件相对路径\": {元数据}} 的形式")
    out = {}
    for rel, meta in files.items():
        if not isinstance(meta, dict):
            raise ReadError(path, f"“{rel}”的元数据应为对象")
        unknown = set(meta) - set(OVERRIDABLE)
        if unknown:
            raise ReadError(path, f"“{rel}”含无法识别的字段：{', '.join(sorted(unknown))}")
        if "doc_type" in meta and meta["doc_type"] not in DOC_TYPES:
            raise ReadError(path, f"“{rel}”的文档类型“{meta['doc_type']}”无效（可选：{', '.join(DOC_TYPES)}）")
        out[str((folder / rel).resolve())] = meta
    return out


def load_document(path: Path, overrides: dict | None = None, sizes: ChunkSizes | None = None,
                  digest: str | None = None) -> tuple[Document, list[Chunk]]:
    """Read, recognise metadata (overrides win), and chunk one file. Raises ReadError."""
    raw = read_file(path)
    meta = recognise(raw.text, path)
    meta.update({k: v for k, v in (overrides or {}).items() if k in OVERRIDABLE})
    doc = Document(path=str(Path(path).resolve()), text=raw.text, source_format=raw.source_format,
                   content_hash=digest or content_hash(path), page_starts=raw.page_starts, **meta)
    structure = "regulation" if doc.doc_type == "regulation" else None
    chunks = chunk_document(raw.text, raw.page_starts, doc.title, sizes, structure=structure)
    if not chunks:
        raise ReadError(path, "没有切分出任何正文片段")
    return doc, chunks


def scan(paths: list[Path], sizes: ChunkSizes | None = None, overrides: dict | None = None,
         wanted: Callable[[Path, str], bool] | None = None) -> Iterator[Scanned]:
    """Every file named or under the folders named, in order. `wanted(path, digest)` is asked
    before a file is read (False: skip it, e.g. unchanged); `overrides` win over manifests.
    A bad manifest or file is yielded with its error and never stops the others."""
    manifest: dict[str, dict] = {}
    for folder in [p for p in paths if p.is_dir()]:
        for found in dict.fromkeys([folder, *(m.parent for m in folder.rglob(MANIFEST))]):  # each once
            try:
                manifest.update(read_manifest(found))
            except ReadError as exc:
                yield Scanned(exc.path, error=exc)
    for path in find_files(paths):
        item = Scanned(str(path))
        try:
            if not path.exists():
                raise ReadError(path, "文件不存在")
            item.digest = content_hash(path)
            if wanted and not wanted(path, item.digest):
                continue
            meta = {**manifest.get(str(path.resolve()), {}), **(overrides or {})}
            item.document, item.chunks = load_document(path, meta, sizes, item.digest)
        except ReadError as exc:
            item.error = exc
        except Exception as exc:  # a reader's bug on one hostile file must not stop the others
            log.warning("读取 %s 时程序出错", path, exc_info=True)  # the traceback, for whoever fixes it
            item.error = ReadError(path, f"读取时出错：{type(exc).__name__}: {exc}")
        yield item
