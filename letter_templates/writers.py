"""Documents out: letters as one DOCX (a letter a page), as one printable HTML page, and the mail-merge CSV.

The DOCX body is written as WordprocessingML directly (each paragraph escaped text in `w:t`) and inserted in
one go: python-docx's `add_paragraph` looks for the section properties at every call, which is quadratic
over thousands of letters. Each letter after the first starts with `w:pageBreakBefore`; every run carries
the letter's language (`w:lang`), and right-to-left letters get `w:bidi` paragraphs aligned right and
`w:rtl` runs, so Word lays out Urdu correctly. The HTML is self-contained (inline CSS, no scripts, no
external assets), rendered with autoescape in a sandboxed Jinja environment; each letter is an `<article>`
with its own `lang` and `dir` and breaks the printed page after it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from docx import Document as new_docx
from docx.oxml import parse_xml
from docx.shared import Mm
from jinja2.sandbox import SandboxedEnvironment

from letter_templates.renderer import Document, PracticeDetails, Recipient, languages, long_date

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: Text starting with one of these may run as a formula when a spreadsheet opens the CSV.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Letter:
    """One patient's letter: the filled template plus the practice's letterhead and the address block."""

    document: Document
    practice: PracticeDetails
    recipient: Recipient
    on: object  # datetime.date printed on the letter


# ---------------------------------------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------------------------------------


def _xml_text(text: str) -> str:
    return escape(_XML_ILLEGAL.sub("", text))


def _paragraph(text: str, *, lang: str, rtl: bool, bold: bool = False, size: int | None = None,
               style: str | None = None, page_break: bool = False, align: str | None = None,
               space_after: int = 120) -> str:
    ppr = []
    if style:
        ppr.append(f'<w:pStyle w:val="{style}"/>')
    if page_break:
        ppr.append("<w:pageBreakBefore/>")
    if rtl:
        ppr.append("<w:bidi/>")
    ppr.append(f'<w:spacing w:after="{space_after}"/>')
    align = align or ("right" if rtl else None)
    if align:
        ppr.append(f'<w:jc w:val="{align}"/>')
    rpr = []
    if bold:
        rpr.append("<w:b/><w:bCs/>")
    if size:
        rpr.append(f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>')
    if rtl:
        rpr.append("<w:rtl/>")
    rpr.append(f'<w:lang w:val="{lang}" w:bidi="{lang}"/>')
    run_props = "<w:rPr>" + "".join(rpr) + "</w:rPr>"
    pieces = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append("<w:br/>")
        pieces.append(f'<w:t xml:space="preserve">{_xml_text(line)}</w:t>')
    return f'<w:p><w:pPr>{"".join(ppr)}</w:pPr><w:r>{run_props}{"".join(pieces)}</w:r></w:p>'


def _letter_xml(letter: Letter, first: bool) -> str:
    doc, practice, to = letter.document, letter.practice, letter.recipient
    rtl = doc.direction == "rtl"
    lang = doc.lang_tag
    letterhead = "\n".join([practice.name, *[l.strip() for l in practice.address.splitlines() if l.strip()],
                            *([practice.postcode] if practice.postcode else []),
                            *([practice.phone] if practice.phone else []),
                            *([practice.email] if practice.email else [])])
    # The letterhead and address block stay left-to-right English text placed as an envelope window expects.
    parts = [
        _paragraph(letterhead, lang="en-GB", rtl=False, page_break=not first, align="right", space_after=240),
        _paragraph("\n".join([to.full_name, *to.address_lines, to.postcode]), lang="en-GB", rtl=False,
                   space_after=240),
        _paragraph(long_date(letter.on, doc.language), lang=lang, rtl=rtl, space_after=240),
    ]
    for block in doc.blocks:
        if block.style == "heading":
            parts.append(_paragraph(block.text, lang=lang, rtl=rtl, bold=True, size=28, style="Heading1"))
        else:
            parts.append(_paragraph(block.text, lang=lang, rtl=rtl, size=24))
    return "".join(parts)


def _a4(document, margin_mm: int = 20, size: tuple[int, int] = (210, 297)) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(size[0]), Mm(size[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(margin_mm))


def letters_docx(letters: Sequence[Letter], title: str = "Letters") -> bytes:
    """All letters in one A4 document, each starting on a new page."""
    document = new_docx()
    _a4(document)
    document.core_properties.title = title
    body = document.element.body
    sect_pr = body.find(f"{{{W_NS}}}sectPr")
    xml = "".join(_letter_xml(letter, i == 0) for i, letter in enumerate(letters))
    fragment = parse_xml(f'<w:body xmlns:w="{W_NS}">{xml}</w:body>')
    for paragraph in list(fragment):
        sect_pr.addprevious(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------

_HTML_ENV = SandboxedEnvironment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

LETTERS_HTML = _HTML_ENV.from_string("""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
@page { size: A4; margin: 20mm; }
body { font-family: Arial, "Noto Sans", "Noto Nastaliq Urdu", "Noto Sans Bengali", sans-serif; font-size: 12pt;
       line-height: 1.5; color: #000; background: #fff; margin: 0; }
.letter { break-after: page; page-break-after: always; max-width: 170mm; margin: 0 auto 2em; }
.letter:last-child { break-after: auto; page-break-after: auto; }
.letterhead { text-align: right; white-space: pre-line; margin-bottom: 1.5em; }
.to { white-space: pre-line; margin-bottom: 1.5em; }
.letter[dir=rtl] p, .letter[dir=rtl] h2 { text-align: right; }
p { white-space: pre-line; margin: 0 0 0.8em; }
h2 { font-size: 14pt; margin: 1em 0 0.6em; }
@media print { .screen-only { display: none; } }
@media screen { .letter { border-bottom: 1px dashed #555; padding: 1em 0 2em; } }
</style>
</head>
<body>
<main>
<h1 class="screen-only">{{ title }}</h1>
{% for letter in letters %}
<article class="letter" lang="{{ letter.lang }}" dir="{{ letter.dir }}">
<div class="letterhead" lang="en-GB" dir="ltr">{{ letter.letterhead }}</div>
<div class="to" lang="en-GB" dir="ltr">{{ letter.to }}</div>
<p>{{ letter.date }}</p>
{% for block in letter.blocks %}
{% if block.style == "heading" %}<h2>{{ block.text }}</h2>{% else %}<p>{{ block.text }}</p>{% endif %}
{% endfor %}
</article>
{% endfor %}
</main>
</body>
</html>
""")


def _letter_view(letter: Letter) -> dict[str, object]:
    practice, to, doc = letter.practice, letter.recipient, letter.document
    return {
        "lang": doc.lang_tag, "dir": doc.direction,
        "letterhead": "\n".join([practice.name, *[l.strip() for l in practice.address.splitlines() if l.strip()],
                                 *([practice.postcode] if practice.postcode else []),
                                 *([practice.phone] if practice.phone else [])]),
        "to": "\n".join([to.full_name, *to.address_lines, to.postcode]),
        "date": long_date(letter.on, doc.language), "blocks": doc.blocks,
    }


def letters_html(letters: Sequence[Letter], title: str = "Letters") -> str:
    """All letters as one printable page (one letter per printed page)."""
    return LETTERS_HTML.render(title=title, letters=[_letter_view(letter) for letter in letters])


# ---------------------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------------------


def csv_cell(value: object) -> object:
    """Numbers as they are; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def safe_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel and Word's mail merge read the accents and scripts right), every cell
    formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def language_name(code: str) -> str:
    return languages()[code].name
