"""Re-create the PDF, DOCX and HTML files of the demo corpus from their Markdown
sources, so that `make run` exercises every reader. Run by hand (needs fpdf2 and a
CJK font such as Debian's fonts-wqy-microhei); the outputs are committed.

    python scripts/make_corpus_formats.py SOURCE_DIR corpus/regulations
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from ingest.readers import strip_markdown

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
TARGETS = {
    "婚姻登记条例(2003-08-08).md": "pdf",
    "殡葬管理条例(2012-11-09).md": "docx",
    "志愿服务条例(2017-08-22).md": "html",
}


def lines_of(md: Path) -> list[str]:
    return [line.strip() for line in strip_markdown(md.read_text(encoding="utf-8")).splitlines() if line.strip()]


def to_pdf(lines: list[str], out: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=FONT)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("wqy", size=18)
    pdf.multi_cell(0, 12, lines[0], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("wqy", size=12)
    for line in lines[1:]:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.set_title(lines[0])
    pdf.output(str(out))


def to_docx(lines: list[str], out: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        if line.startswith("第") and line.split(" ")[0].endswith("章"):
            document.add_heading(line, level=2)
        else:
            document.add_paragraph(line)
    document.core_properties.title = lines[0]
    document.save(str(out))


def to_html(lines: list[str], out: Path) -> None:
    body = [f"<h1>{html.escape(lines[0])}</h1>"]
    for line in lines[1:]:
        tag = "h2" if line.startswith("第") and line.split(" ")[0].endswith("章") else "p"
        body.append(f"<{tag}>{html.escape(line)}</{tag}>")
    out.write_text(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(lines[0])}</title></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n",
        encoding="utf-8",
    )


def main(source: Path, dest: Path) -> None:
    for name, fmt in TARGETS.items():
        lines = lines_of(source / name)
        out = dest / Path(name).with_suffix("." + fmt).name
        {"pdf": to_pdf, "docx": to_docx, "html": to_html}[fmt](lines, out)
        (dest / name).unlink(missing_ok=True)
        print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
