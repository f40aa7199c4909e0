"""How much work one file may cost, so that a pathological file fails alone: its size, what an
archive may inflate to, its chunks and images, and the seconds one step of its reading or embedding
may take."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from ingest.errors import ReadError

__all__ = ["Limits", "check_size"]


@dataclass(frozen=True)
class Limits:
    """How much work one file may cost, so that a pathological file fails alone: its size on disk,
    what an archive (DOCX) may inflate to, its chunks and images, and the seconds one step of its
    reading or embedding may take."""

    max_file_bytes: int = 50 * 2**20
    max_unzipped_bytes: int = 200 * 2**20
    max_zip_ratio: float = 100.0  # inflated ÷ compressed, for members over 1 MB: XML compresses ~10×
    max_chunks: int = 5000  # 民法典, the longest statute, is about 1,300
    # An image is measured from its header before any pixel is decoded: a small file can declare a
    # huge picture (a decompression bomb). A4 scanned at 600 dpi is 35 million pixels.
    max_image_pixels: int = 60_000_000  # one page (frame)
    max_image_frames: int = 1000  # pages of one TIFF
    max_image_total_pixels: int = 2_000_000_000  # all its pages together (about 250 A4 pages at 300 dpi)
    seconds: float = 300.0  # the most one step (a page read, a group of passages embedded) may take
    clock: _Clock | None = None  # when this file's work last moved on, set per file by start()

    def start(self) -> Limits:
        return replace(self, clock=_Clock(time.monotonic()))

    def check_time(self, path: Path | str) -> None:
        """Called as a file's work moves on (each page read, each group of passages embedded): it fails
        the file when this step took longer than `seconds`. The limit stops a file that stalls, not
        one that is slow: a long law on a busy machine makes steady progress and is never dropped."""
        if self.clock is None:
            return
        now = time.monotonic()
        if now - self.clock.last > self.seconds:
            raise ReadError(path, f"处理超时（超过 {self.seconds:.0f} 秒没有进展），已跳过；"
                                  "可在 studykb.toml 中调整 file_seconds")
        self.clock.last = now


@dataclass
class _Clock:
    last: float


def check_size(path: Path, limits: Limits) -> None:
    """Refuses a file over the size limit, before it is hashed or read. Raises OSError when it is gone."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ReadError(path, f"文件过大（{size / 2**20:.1f} MB，上限 {limits.max_file_bytes / 2**20:.0f} MB；"
                              "可在 studykb.toml 中调整 max_file_mb）")
