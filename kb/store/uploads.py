"""Files handed in through the app or the API: size-limited, names sanitised so nothing is written
outside the upload folder, unsupported types refused before anything is stored."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

from ingest import SUPPORTED_SUFFIXES, content_hash
from kb.errors import UploadError

NAME_MAX = 100
NAME_MAX_BYTES = 200  # file systems allow 255 bytes a name: room for "-2", ".part" and the suffix


def safe_name(name: str) -> str:
    """The last component of a client-side name (either slash), without control or reserved
    characters or leading dots, at most NAME_MAX characters, its suffix kept."""
    base = PureWindowsPath(PurePosixPath(name).name).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r'[\\/:*?"<>|]+', "_", base).strip().lstrip(".").strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:NAME_MAX] or "上传文件"
    while len(stem.encode("utf-8")) > NAME_MAX_BYTES:  # 100 Chinese characters are 300 bytes
        stem = stem[:-1]
    return f"{stem}.{suffix[:10]}" if suffix else stem


def save_upload(name: str, data: bytes, folder: Path, max_bytes: int) -> Path:
    """Writes one upload into `folder` and returns its path. Raises UploadError. A different
    file with the same name is kept beside it (name-2.pdf); the same content reuses the file."""
    clean = safe_name(name)
    suffix = Path(clean).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = "、".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
        raise UploadError(name, f"不支持的文件类型“{suffix or '无扩展名'}”（支持：{allowed}）")
    if len(data) > max_bytes:
        raise UploadError(name, f"文件过大（{len(data) / 2**20:.1f} MB，上限 {max_bytes / 2**20:.0f} MB）")
    if not data:
        raise UploadError(name, "文件为空")
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    stem, n = Path(clean).stem, 1
    path = folder / clean
    while path.exists():
        if content_hash(path) == digest:
            return path
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    if path.resolve().parent != folder.resolve():  # belt and braces: never outside the folder
        raise UploadError(name, "文件名无效")
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:  # a full disk, a read-only folder: this file fails, the others go on
        tmp.unlink(missing_ok=True)
        raise UploadError(name, f"无法保存上传的文件（{exc.strerror or exc}）") from exc
    return path
