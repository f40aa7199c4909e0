"""Read a file into plain text, with page starts where the format has pages.

One reader per format; each raises `ReadError` naming the file and the reason,
so a bad file never stops the others.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ingest.articles import ARTICLE_LINE
from ingest.errors import ReadError
from ingest.images import SHORT_PAGE, frame_count, page_images, read_by_ocr, upright
from ingest.limits import Limits, check_size

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")  # scans, read by OCR
SUPPORTED_SUFFIXES = (".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm", *IMAGE_SUFFIXES)


@dataclass
class RawText:
    text: str
    source_format: str
    # Character offset at which each page starts (page 1 first); empty for formats without pages.
    page_starts: list[int] = field(default_factory=list)
    encoding: str | None = None
    ocr: dict[int, float] = field(default_factory=dict)  # page (from 1) read by OCR → its mean confidence


def read_file(path: Path, limits: Limits | None = None) -> RawText:
    path = Path(path)
    limits = limits or Limits()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReadError(path, f"不支持的文件类型“{suffix or '无扩展名'}”（支持 PDF、DOCX、TXT、MD、HTML 和扫描图片）")
    try:
        check_size(path, limits)
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"无法读取文件（{exc.strerror or exc}）") from exc
    if not data.strip():
        raise ReadError(path, "文件为空")
    if suffix == ".pdf":
        raw = _read_pdf(path, data, limits)
    elif suffix == ".docx":
        raw = _read_docx(path, data, limits)
    elif suffix in IMAGE_SUFFIXES:
        raw = _read_image(path, data, limits)
    elif suffix in (".html", ".htm"):
        raw = _read_html(path, data)
    else:
        text, encoding = decode_text(path, data)
        if suffix in (".md", ".markdown"):
            text = strip_markdown(text)
        raw = RawText(clean_text(text), "markdown" if suffix != ".txt" else "text", encoding=encoding)
    if not raw.text.strip():
        raise ReadError(path, "文件中没有可提取的文字（扫描件也未识别出文字）")
    return raw


# ---------------------------------------------------------------- plain text

def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """Decode by BOM, then strict UTF-8, then the likeliest of GB18030 (a superset of GBK)
    and BOM-less UTF-16."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise ReadError(path, f"文件标明为 {enc} 编码，但内容无法按此解码") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # GB18030 (a superset of GBK) or BOM-less UTF-16: each decodes many byte strings, so
    # keep the reading that looks most like Chinese text.
    best, best_enc, best_score = None, None, 0.0
    for enc in ("gb18030", "utf-16-le", "utf-16-be"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if score > best_score:
            best, best_enc, best_score = text, enc, score
    if best is None or best_score < 0.8:
        raise ReadError(path, "无法识别文本编码（支持 UTF-8、UTF-16、GBK/GB18030），或内容不是文本")
    return best, best_enc


def _plausibility(text: str) -> float:
    """Share of characters that are printable ASCII, whitespace or in the common GB2312 set."""
    sample = text[:5000]
    if not sample:
        return 0.0
    good = 0
    for ch in sample:
        if ch in "\n\r\t" or " " <= ch <= "~":
            good += 1
        else:
            try:
                ch.encode("gb2312")
                good += 1
            except UnicodeEncodeError:
                pass
    return good / len(sample)


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_MD_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def strip_markdown(text: str) -> str:
    text = _MD_COMMENT.sub("", text)
    lines = []
    for line in text.splitlines():
        line = _MD_HEADING.sub("", line)
        line = _MD_EMPHASIS.sub(r"\2", line)
        lines.append(line)
    return "\n".join(lines)


def clean_text(text: str) -> str:
    """One paragraph a line: unify newlines, drop indentation, trailing spaces and blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = (line.strip(" \t\u3000\xa0\ufeff") for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------- PDF

def _read_pdf(path: Path, data: bytes, limits: Limits) -> RawText:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError(path, "PDF 已加密，需要密码才能读取")
        pages, unread, short = [], [], []  # pages with no usable text layer; with a few words of one
        for n, page in enumerate(reader.pages):
            limits.check_time(path)
            text = page.extract_text() or ""
            if not readable(text):
                unread.append(n)
            elif _visible(text) < SHORT_PAGE:
                short.append(n)
            pages.append(text)
        scans = page_images(path, data, reader, unread, short, limits) if unread or short else {}
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ReadError(path, f"PDF 文件已损坏或格式不正确（{exc}）") from exc
    except Exception as exc:  # pypdf (and pypdfium2) raise assorted errors of their own on broken files
        if type(exc).__module__.startswith(("pypdf", "pypdfium2")):
            raise ReadError(path, f"PDF 文件已损坏或格式不正确（{exc}）") from exc
        raise
    ocr = {}
    if scans:
        try:
            read = read_by_ocr(path, list(scans.values()), limits)
        finally:
            getattr(scans, "close", lambda: None)()
        for n, page in zip(scans, read, strict=True):
            if n in unread or _visible(page.text) > max(2 * _visible(pages[n]), SHORT_PAGE):  # the scan says more
                pages[n], ocr[n + 1] = page.text, page.confidence
    refused = getattr(scans, "refused", {})
    if refused and not any(_visible(page) for page in pages):
        raise ReadError(path, next(iter(refused.values())))  # nothing else to keep: say why
    for n in refused:
        ocr[n + 1] = 0.0  # listed among the pages to check against the paper
    text, starts = join_wrapped_lines([clean_text(page) for page in pages])
    return RawText(text, "pdf+ocr" if ocr else "pdf", page_starts=starts, ocr=ocr)


def _visible(text: str) -> int:
    """How many characters a text has, spaces and newlines left out."""
    return len("".join(text.split()))


def readable(text: str) -> bool:
    """Whether a PDF page's text layer is worth keeping: some characters, mostly Chinese, letters,
    digits or punctuation (a broken font's layer is private-use or control characters)."""
    chars = [c for c in text if not c.isspace()]
    if len(chars) < 10:
        return False
    good = sum(c.isalnum() or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" or c in ".,;:()[]-"
               for c in chars)
    return good / len(chars) >= 0.7


def _read_image(path: Path, data: bytes, limits: Limits) -> RawText:
    """A scanned page (PNG, JPG, a multi-page TIFF) read by OCR, one page per frame. Every frame's size
    is read from its header and checked against the limits before any is decoded; then each frame is
    decoded when OCR reaches it, so only the pages being read are in memory."""
    frames = frame_count(path, data, limits)

    def frame(n: int):
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.seek(n)
            return upright(image).convert("RGB")

    try:
        read = read_by_ocr(path, [lambda n=n: frame(n) for n in range(frames)], limits)
    except (OSError, ValueError) as exc:  # a frame whose pixels are damaged
        raise ReadError(path, f"图片已损坏，无法识别（{exc}）") from exc
    text, starts = join_wrapped_lines([clean_text(page.text) for page in read])
    return RawText(text, "image+ocr", page_starts=starts,
                   ocr={n: page.confidence for n, page in enumerate(read, 1)})


_SENTENCE_END = "。！？；：:;!?”」』）)"
_BLOCK_START = re.compile(
    r"^(第[一二三四五六七八九十百千零〇\d]+[编章节条]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]"
    r"|\d+[.．、]|\d{4}\s*年)"
)


_BARE_ARTICLE = ARTICLE_LINE


def join_wrapped_lines(pages: list[str], full: float = 0.7) -> tuple[str, list[int]]:
    """PDF text breaks lines where the page did. A line as wide as the widest (within
    `full`) that does not end a sentence was wrapped: join it to the next, also across a
    page break, unless the next starts a heading, article, numbered item or dated line.
    An article number alone on its line is joined to its text with a space.
    Returns the text and the offset at which each page starts."""
    width = max((len(line) for page in pages for line in page.split("\n")), default=0)
    out: list[str] = []
    starts: list[int] = []
    length = 0  # characters in out, joined by newlines
    wrapped = False
    for page in pages:
        for i, line in enumerate(page.split("\n")):
            join = bool(out) and bool(line) and not _BLOCK_START.match(line)
            if join and _BARE_ARTICLE.match(out[-1]):
                out[-1] += " "
                length += 1
            elif not (join and wrapped):
                join = False
            if i == 0:
                starts.append(length + (0 if join or not out else 1))
            if join:
                out[-1] += line
                length += len(line)
            else:
                length += len(line) + (1 if out else 0)
                out.append(line)
            wrapped = bool(out[-1]) and len(line) >= full * width and not out[-1].endswith(tuple(_SENTENCE_END))
    return "\n".join(out), starts


# --------------------------------------------------------------------- DOCX

def check_archive(path: Path, data: bytes, limits: Limits) -> None:
    """Refuses a zip (DOCX) that would inflate past the limits, reading only its directory: a zip bomb
    is refused before any of it is inflated. zipfile stops each member at its declared size."""
    import io

    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ReadError(path, f"DOCX 文件已损坏或不是 Word 文档（{exc}）") from exc
    total = sum(m.file_size for m in members)
    if total > limits.max_unzipped_bytes:
        raise ReadError(path, f"解压后过大（{total / 2**20:.0f} MB，上限 {limits.max_unzipped_bytes / 2**20:.0f} MB），"
                              "疑似压缩炸弹，已拒绝")
    for m in members:
        if m.file_size > 2**20 and m.file_size > limits.max_zip_ratio * max(m.compress_size, 1):
            raise ReadError(path, f"其中的 {m.filename} 压缩比异常（{m.file_size // max(m.compress_size, 1)} 倍），"
                                  "疑似压缩炸弹，已拒绝")


def _read_docx(path: Path, data: bytes, limits: Limits) -> RawText:
    import io

    import docx

    check_archive(path, data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError(path, f"DOCX 文件已损坏或不是 Word 文档（{exc}）") from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("docx", "lxml")):
            raise ReadError(path, f"DOCX 文件已损坏或不是 Word 文档（{exc}）") from exc
        raise
    return RawText(clean_text("\n".join(_docx_lines(document))), "docx")


def _docx_lines(container) -> list[str]:
    """The text of a document or a table cell in reading order: paragraphs, and each table row as one
    line of its cells, a table nested in a cell included (python-docx's cell.text leaves it out)."""
    from docx.table import Table

    lines: list[str] = []
    for item in container.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                lines.append("　".join(" ".join(_docx_lines(cell)).strip() for cell in row.cells))
        else:
            lines.append(item.text)
    return lines


# --------------------------------------------------------------------- HTML

def _read_html(path: Path, data: bytes) -> RawText:
    from bs4 import BeautifulSoup

    text, encoding = decode_text(path, data)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    body = soup.get_text("\n")
    if title and not body.lstrip().startswith(title):
        body = title + "\n" + body
    return RawText(clean_text(body), "html", encoding=encoding)
