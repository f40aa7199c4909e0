"""Scans made from real text, for the OCR tests and benchmark: pages rendered at 150 dpi with a CJK font
(Debian's fonts-wqy-microhei, installed by `make setup`), optionally with noise and a slight
rotation, wrapped as an image-only PDF."""

from __future__ import annotations

import random
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 120
SIZE = 30  # pixels: about 14 pt at 150 dpi, a 小四/四号 body
CHARS_PER_LINE = (PAGE[0] - 2 * MARGIN) // SIZE
LINES_PER_PAGE = (PAGE[1] - 2 * MARGIN) // (SIZE * 3 // 2)


def layout(text: str) -> list[list[str]]:
    """The text's lines wrapped to the page width, in pages."""
    lines = []
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        while paragraph:
            lines.append(paragraph[:CHARS_PER_LINE])
            paragraph = paragraph[CHARS_PER_LINE:]
    return [lines[i:i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]


def render(lines: list[str], noisy: bool = False, seed: int = 0):
    """One page image; `noisy`: speckle noise and a rotation within ±2°."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), SIZE)
    for n, line in enumerate(lines):
        draw.text((MARGIN, MARGIN + n * SIZE * 3 // 2), line, font=font, fill=0)
    if noisy:
        rng = random.Random(seed)
        image = image.rotate(rng.uniform(-2, 2), resample=Image.BICUBIC, fillcolor=255)
        pixels = np.asarray(image, dtype=np.int16)
        noise = np.random.default_rng(seed).normal(0, 25, pixels.shape)
        image = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    return image.convert("RGB")


def scan_pdf(text: str, path: Path, noisy: bool = False) -> list[str]:
    """Writes `text` as an image-only PDF; returns each page's text as rendered."""
    pages = layout(text)
    images = [render(lines, noisy, seed=n) for n, lines in enumerate(pages)]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return ["\n".join(lines) for lines in pages]
