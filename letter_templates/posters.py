"""Posters (A4, for the waiting room) and leaflets (A5, to attach to prescriptions), with a QR code.

The QR code (segno, error correction M) carries the full sign-up or survey address; beside it the short
address is printed for people who type it. DOCX embeds the code as a PNG; the printable HTML carries it as
inline SVG (no external file, no script) with a text alternative naming the address.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno
from docx import Document as new_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from letter_templates.renderer import Document, PracticeDetails

SIZES = {"a4": (210, 297), "a5": (148, 210)}
#: Printed width of the QR code: easily scanned from a metre away on A4, from a hand on A5.
QR_MM = {"a4": 70, "a5": 45}


@dataclass(frozen=True)
class PrintPiece:
    document: Document  # the filled poster or leaflet template
    practice: PracticeDetails
    url: str  # what the QR code opens
    short_url: str  # what is printed for typing
    size: str  # a4 | a5


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_png(url: str, scale: int = 10) -> bytes:
    out = io.BytesIO()
    qr_code(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(url: str, label: str) -> Markup:
    """Inline SVG with a text alternative (role=img + aria-label), safe to place in an autoescaped page."""
    svg = qr_code(url).svg_inline(scale=6, border=4, svgclass="qr", lineclass="qr-line")
    # segno writes `<svg width=...`; the label is escaped by Markup.format.
    return Markup(svg.replace("<svg ", Markup('<svg role="img" aria-label="{}" ').format(label), 1))


def _set_rtl(paragraph) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.insert(0, OxmlElement("w:bidi"))
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in paragraph.runs:
        run._r.get_or_add_rPr().append(OxmlElement("w:rtl"))


def _lang(run, tag: str) -> None:
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), tag)
    lang.set(qn("w:bidi"), tag)
    run._r.get_or_add_rPr().append(lang)


def piece_docx(piece: PrintPiece) -> bytes:
    """The poster or leaflet as a one-page DOCX of its size, the QR code embedded as a PNG."""
    doc, practice = piece.document, piece.practice
    width, height = SIZES[piece.size]
    big = piece.size == "a4"
    out_doc = new_docx()
    section = out_doc.sections[0]
    section.page_width, section.page_height = Mm(width), Mm(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15 if big else 10))
    out_doc.core_properties.title = doc.heading
    rtl = doc.direction == "rtl"

    def add(text: str, size: float, *, bold: bool = False, center: bool = False, style: str | None = None):
        paragraph = out_doc.add_paragraph(style=style)
        run = paragraph.add_run(text)
        run.font.size, run.font.bold = Pt(size), bold
        _lang(run, doc.lang_tag)
        if rtl:
            _set_rtl(paragraph)
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        return paragraph

    if practice.logo_png:
        out_doc.add_picture(io.BytesIO(practice.logo_png), width=Mm(40 if big else 28))
    add(practice.name, 18 if big else 12, bold=True, center=True)
    for block in doc.blocks:
        if block.style == "heading":
            add(block.text, 36 if big else 20, bold=True, center=True, style="Title")
        else:
            add(block.text, 20 if big else 12)
    picture = out_doc.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.add_run().add_picture(io.BytesIO(qr_png(piece.url)), width=Mm(QR_MM[piece.size]))
    add(piece.short_url, 24 if big else 14, bold=True, center=True)
    out = io.BytesIO()
    out_doc.save(out)
    return out.getvalue()


_ENV = SandboxedEnvironment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
PIECE_HTML = _ENV.from_string("""<!doctype html>
<html lang="{{ doc.lang_tag }}" dir="{{ doc.direction }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.heading }}</title>
<style>
@page { size: {{ size_name }}; margin: {{ margin }}mm; }
body { font-family: Arial, "Noto Sans", "Noto Nastaliq Urdu", "Noto Sans Bengali", sans-serif; color: #000;
       background: #fff; margin: 0; line-height: 1.4; }
main { max-width: {{ width - 2 * margin }}mm; margin: 0 auto; padding: {{ margin }}mm 0; text-align: center; }
.practice { font-size: {{ 18 if big else 12 }}pt; font-weight: bold; margin: 0 0 0.5em; }
h1 { font-size: {{ 36 if big else 20 }}pt; margin: 0.3em 0 0.5em; color: #003087; }
p { font-size: {{ 20 if big else 12 }}pt; margin: 0 0 0.7em; white-space: pre-line; }
.qr { width: {{ qr_mm }}mm; height: {{ qr_mm }}mm; }
.qr-line { stroke: #000; }
.short-url { font-size: {{ 24 if big else 14 }}pt; font-weight: bold; direction: ltr; unicode-bidi: isolate; }
.logo { max-width: {{ 40 if big else 28 }}mm; }
</style>
</head>
<body>
<main>
{% if logo %}<img class="logo" src="data:image/png;base64,{{ logo }}" alt="{{ practice.name }} logo">{% endif %}
<p class="practice">{{ practice.name }}</p>
{% for block in doc.blocks %}
{% if block.style == "heading" %}<h1>{{ block.text }}</h1>{% else %}<p>{{ block.text }}</p>{% endif %}
{% endfor %}
<figure>{{ svg }}
<figcaption class="short-url"><a href="{{ url }}">{{ short_url }}</a></figcaption>
</figure>
</main>
</body>
</html>
""")


def piece_html(piece: PrintPiece) -> str:
    """The poster or leaflet as a self-contained printable page, the QR code as inline SVG."""
    width, _ = SIZES[piece.size]
    big = piece.size == "a4"
    return PIECE_HTML.render(
        doc=piece.document, practice=piece.practice, url=piece.url, short_url=piece.short_url,
        svg=qr_svg(piece.url, f"QR code: {piece.url}"), size_name=piece.size.upper(), width=width,
        margin=15 if big else 10, big=big, qr_mm=QR_MM[piece.size],
        logo=base64.b64encode(piece.practice.logo_png).decode() if piece.practice.logo_png else "",
    )
