"""Page images read by OCR: the scanned pages of a PDF (found by what covers them, rendered by PDFium
as a viewer shows them, one page in memory at a time) and the frames of an image file (measured
from their headers before any pixel is decoded)."""

from __future__ import annotations

import threading
from pathlib import Path

from ingest.errors import ReadError
from ingest.limits import Limits

SHORT_PAGE = 80  # characters: a page with less text than this and a page-sized image is a scan
SCAN_COVER = 0.5  # ... when images cover at least this share of the page
# A page is rendered for OCR at its scan's own resolution, within these: a 150-dpi scan reads almost
# perfectly, and more than 200 costs time (the detector works on the whole image) for little.
SCAN_DPI = (150, 200)
MAX_SCAN_SIDE = 4000  # pixels: a page that declares itself huge is rendered smaller, not into gigabytes


SCAN_FORMATS = ("PNG", "JPEG", "MPO", "TIFF", "BMP")  # what Pillow names the image suffixes we take
JPEG_FILTERS = {"DCTDecode", "JPXDecode"}  # image streams whose pixel size their own header states
_PDFIUM = threading.Lock()  # PDFium is not thread-safe: every call to it in this process holds this lock


class _Pages(dict):
    """Page index → the page's image or a function giving it; `refused`: pages not read, and why."""

    def __init__(self, pages=(), refused: dict[int, str] | None = None):
        super().__init__(pages)
        self.refused = refused or {}


class _RenderedPages(_Pages):
    """Page index → a function that renders the page as a reader sees it (PDFium: the page's rotation,
    every image strip, JBIG2 and CCITT scans, masks), called when OCR reaches the page so that one
    page at a time is held in memory. A page PDFium cannot render gives None: read as blank, it is
    listed among the low-confidence pages."""

    def __init__(self, document, pages: list[int], refused: dict[int, str] | None = None):
        super().__init__(((n, lambda n=n: self._render(n)) for n in pages), refused)
        self._document = document

    def _render(self, n: int):
        import pypdfium2 as pdfium

        with _PDFIUM:
            try:
                page = self._document[n]
            except pdfium.PdfiumError:
                return None
            try:
                width, height = page.get_size()
                dpi = min(max(_scan_dpi(page), SCAN_DPI[0]), SCAN_DPI[1])
                scale = min(dpi / 72, MAX_SCAN_SIDE / max(width, height, 1))
                return page.render(scale=scale).to_pil().convert("RGB")
            except pdfium.PdfiumError:
                return None
            finally:
                page.close()

    def close(self) -> None:
        with _PDFIUM:
            self._document.close()


def page_images(path: Path, data: bytes, reader, unread: list[int], short: list[int],
                limits: Limits | None = None) -> _Pages:
    """The pages to read by OCR, each as a function giving the page's image: those among `unread`
    that hold an image (a page with neither text nor image is blank), and those among `short` (a
    few words of text, such as a stamped page number) that images mostly cover. PDFium renders
    them; a file it cannot open, or whose pages it counts otherwise than pypdf (a broken file), falls
    back to each unread page's largest image as pypdf decodes it. Every image on those pages is
    measured first, from its dictionary and, for a JPEG, its own header (a 3 KB PDF can declare a
    gigabyte of pixels): a page holding one over the limit is not read (`refused`: page → why)."""
    import pypdfium2 as pdfium

    limits = limits or Limits()
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            document = None
        if document is not None and len(document) != len(reader.pages):
            document.close()
            document = None
        if document is not None:
            try:
                scanned = [n for n in sorted(unread + short) if _is_scan(document, n, short=n in short)]
                refused = {n: why for n in scanned if (why := _too_large(n, _pdfium_sizes(document, n), limits))}
            except BaseException:
                document.close()
                raise
            kept = [n for n in scanned if n not in refused]
            if kept:
                return _RenderedPages(document, kept, refused)
            document.close()
            return _Pages(refused=refused)
    measured = {n: _pypdf_images(reader.pages[n]) for n in unread}
    refused = {n: why for n, sizes in measured.items() if (why := _too_large(n, list(sizes.values()), limits))}
    found = {n: _largest_image(reader.pages[n], sizes) for n, sizes in measured.items() if n not in refused}
    return _Pages({n: image for n, image in found.items() if image is not None}, refused=refused)


def _too_large(n: int, sizes: list[tuple[int, int]], limits: Limits) -> str:
    """Why page n is not read by OCR (an image over the pixel limit), or ""."""
    for width, height in sizes:
        if width * height > limits.max_image_pixels:
            most = limits.max_image_pixels / 1e6
            return f"第{n + 1}页的图片过大（{width}×{height} 像素，上限 {most:.0f} 百万像素），该页未识别"
    return ""


def _header_size(raw: bytes) -> tuple[int, int]:
    """A JPEG's (or JPEG 2000's) size from its own header: a PDF's /Width may say 10 for 30000."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as image:
            return image.size
    except Exception:
        return 0, 0


def _pdfium_sizes(document, n: int) -> list[tuple[int, int]]:
    """The pixel size of each image on page n (nothing decoded)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        page = document[n]
    except pdfium.PdfiumError:
        return []
    try:
        sizes = []
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
            try:
                width, height = image.get_px_size()
                if set(image.get_filters()) & JPEG_FILTERS:
                    header = _header_size(bytes(image.get_data(decode_simple=False)))
                    width, height = max(width, header[0]), max(height, header[1])
                sizes.append((width, height))
            except Exception:  # PDFium cannot measure it: nor will it decode it
                continue
        return sizes
    finally:
        page.close()


def _pypdf_images(page) -> dict[str, tuple[int, int]]:
    """Each image among a page's resources by name, with its pixel size: /Width and /Height, and a
    JPEG's own header (nothing decoded)."""
    try:
        xobjects = page["/Resources"].get_object()["/XObject"].get_object()
    except Exception:
        return {}
    sizes = {}
    for name, ref in xobjects.items():
        try:
            image = ref.get_object()
            if image.get("/Subtype") != "/Image":
                continue
            width, height = abs(int(image["/Width"])), abs(int(image["/Height"]))
            filters = image.get("/Filter")
            names = {str(f).lstrip("/") for f in (filters if isinstance(filters, list) else [filters])}
            if names & JPEG_FILTERS:
                header = _header_size(image.get_data())
                width, height = max(width, header[0]), max(height, header[1])
            sizes[name] = (width, height)
        except Exception:
            continue
    return sizes


def _is_scan(document, n: int, short: bool) -> bool:
    """Whether page n is to be read by OCR (see page_images); call holding _PDFIUM."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        page = document[n]
    except pdfium.PdfiumError:
        return False
    try:
        images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
        if not short:
            return next(images, None) is not None
        width, height = page.get_size()
        covered = sum(_area(image) for image in images)  # strips add up
        return covered >= SCAN_COVER * width * height
    except pdfium.PdfiumError:
        return False
    finally:
        page.close()


def _scan_dpi(page) -> float:
    """The resolution of the page's sharpest image as placed on the page (pixels per inch); 0 without one."""
    import pypdfium2.raw as pdfium_c

    best = 0.0
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        try:
            pixels_wide, _ = image.get_px_size()
            left, _, right, _ = image.get_bounds()
        except Exception:  # an image PDFium cannot measure: the others decide
            continue
        if right > left:
            best = max(best, pixels_wide / ((right - left) / 72))
    return best


def _area(image) -> float:
    """The page area an image object covers (points²); 0 when PDFium cannot tell."""
    try:
        left, bottom, right, top = image.get_bounds()
    except Exception:
        return 0.0
    return max(0.0, right - left) * max(0.0, top - bottom)


def _largest_image(page, sizes: dict[str, tuple[int, int]]):
    """A scanned page's image, the largest of those measured (`_pypdf_images`; the only one decoded),
    as PIL, or None."""
    if not sizes:
        return None
    try:
        return page.images[max(sizes, key=lambda name: sizes[name][0] * sizes[name][1])].image
    except Exception:  # an image pypdf cannot decode: the page stays as its text layer
        return None


def read_by_ocr(path: Path, images: list, limits: Limits) -> list:
    """Pages read by OCR, with a progress bar per page; within the file's time budget."""
    from tqdm import tqdm

    from ingest.ocr import read_pages

    bar = tqdm(total=len(images), desc=f"文字识别 {path.name}", unit="页", leave=False)
    try:
        pages = read_pages(images, len(images), on_page=lambda n: (bar.update(1), limits.check_time(path)))
    finally:
        bar.close()
    return pages


def frame_count(path: Path, data: bytes, limits: Limits) -> int:
    """How many frames an image holds, each within the pixel limits (headers only, nothing decoded).
    Raises ReadError naming the file and the limit."""
    import io

    from PIL import Image, ImageSequence, UnidentifiedImageError

    total = frames = 0
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in SCAN_FORMATS:  # Pillow goes by content: a GIF named .png is still a GIF
                raise ReadError(path, f"不支持的图片格式（{image.format}），扫描件请用 PNG、JPEG、TIFF 或 BMP")
            for frame in ImageSequence.Iterator(image):
                frames += 1
                width, height = frame.size
                if frames > limits.max_image_frames:
                    raise ReadError(path, f"图片页数过多（超过 {limits.max_image_frames} 页），未识别")
                if width * height > limits.max_image_pixels:
                    raise ReadError(path, f"第{frames}页图片过大（{width}×{height} 像素，上限 "
                                          f"{limits.max_image_pixels / 1e6:.0f} 百万像素），未识别")
                total += width * height
                if total > limits.max_image_total_pixels:
                    raise ReadError(path, f"图片总像素过多（超过 {limits.max_image_total_pixels / 1e6:.0f} "
                                          "百万像素），未识别")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, EOFError) as exc:
        raise ReadError(path, f"图片已损坏或过大，无法识别（{exc}）") from exc
    return frames


def upright(frame):
    """A frame as a viewer shows it: a phone photo keeps its turn in the EXIF orientation tag (a
    malformed tag leaves the frame as stored)."""
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(frame)
    except Exception:
        return frame
