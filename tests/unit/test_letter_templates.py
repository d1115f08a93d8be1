"""The recruitment pack's templates and renderer: every kind in every language, right-to-left text, SMS
segments, practices' own templates, escaping, and the documents (DOCX opened back with python-docx)."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date

import docx
import numpy as np
import pytest
import zxingcpp

import letter_templates as lt
from letter_templates.posters import qr_code

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
PRACTICE = lt.PracticeDetails(name="Riverside <b>Surgery</b> & Co", address="1 Example Street\nExampleton",
                              postcode="RV1 1AA", phone="01234 567890", email="prg@example.org")
PATIENT = lt.Recipient("Ms", "Aisha", "Khan", ("2 Low Road", "Exampleton"), "RV1 2AB")
CONTEXT = lt.TemplateContext(PRACTICE, PATIENT, join_url="https://prg.example.org/join/Y90001",
                             short_url="prg.example.org/join/Y90001",
                             meeting=lt.MeetingDetails(date(2026, 12, 3), "18:30", "the practice"), on=date(2026, 11, 24))


def test_there_are_english_and_three_more_languages_one_right_to_left():
    codes = list(lt.languages())
    assert codes[0] == "en" and {"pl", "ur", "bn"} <= set(codes)
    assert lt.languages()["ur"].direction == "rtl" and lt.languages()["pl"].direction == "ltr"
    assert not lt.languages()["ur"].reviewed and lt.languages()["en"].reviewed


@pytest.mark.parametrize("language", ["en", "pl", "ur", "bn"])
@pytest.mark.parametrize("kind", list(lt.KINDS))
def test_every_kind_renders_in_every_language_with_the_practice_and_patient(kind, language):
    document = lt.render(kind, language, CONTEXT)
    text = document.plain_text()
    assert PRACTICE.name in text and "{{" not in text and "{%" not in text
    assert document.language == language and document.lang_tag == lt.languages()[language].tag
    if kind in lt.LETTER_KINDS or kind == "email":
        assert "Ms Khan" in text  # the salutation
    if kind in ("poster", "leaflet"):
        assert "prg.example.org/join/Y90001" in text
    if kind in ("meeting_invitation",):
        assert "18:30" in text and "2026" in text  # the meeting date in the language's own words
    if kind in ("email", "recruitment_core"):
        assert document.subject


def test_dates_are_written_in_the_letters_language():
    assert lt.long_date(date(2026, 11, 24), "en") == "24 November 2026"
    assert lt.long_date(date(2026, 11, 24), "pl") == "24 listopada 2026"


def test_patient_list_languages_map_to_templates():
    assert lt.language_for("Polish") == lt.language_for("polski") == lt.language_for("PL") == "pl"
    assert lt.language_for("Urdu") == "ur" and lt.language_for("Bengali") == lt.language_for("Bangla") == "bn"
    assert lt.language_for("Somali") is None and lt.language_for("") is None


def test_the_english_text_message_fits_one_gsm7_sms():
    sms = lt.split_sms(lt.render("sms", "en", CONTEXT).plain_text())
    assert sms.encoding == "gsm7" and sms.parts == 1 and sms.units <= 160


def test_sms_segments():
    assert lt.split_sms("a" * 160).parts == 1
    long = lt.split_sms(" ".join(["word"] * 60))  # 299 characters: two 153-place parts
    assert long.encoding == "gsm7" and long.parts == 2 and all(len(s) <= 153 for s in long.segments)
    assert " ".join(long.segments) == " ".join(["word"] * 60)  # split at spaces, nothing lost
    assert lt.split_sms("€" * 80).units == 160 and lt.split_sms("€" * 81).parts == 2  # extension chars cost 2
    polish = lt.split_sms("Zapraszamy do naszej Grupy Pacjentów, aby pomóc ulepszyć usługi przychodni.")
    assert polish.encoding == "ucs2" and polish.parts == 2 and all(len(s) <= 67 for s in polish.segments)
    urdu = lt.split_sms(lt.render("sms", "ur", CONTEXT).plain_text())
    assert urdu.encoding == "ucs2" and all(len(s) <= 67 for s in urdu.segments)
    assert lt.split_sms("x" * 400).parts == 3  # a word longer than a part is cut between characters


def test_a_practices_own_template_may_only_print_fields():
    lt.check_template("Dear {{ salutation }},\n\n{% if practice.phone %}Call {{ practice.phone | upper }}{% endif %}")
    for source, needle in [("{% for i in range(10) %}{% endfor %}", "For"), ("{{ ''.__class__ }}", "__class__"),
                           ("{{ practice.name.format(1) }}", "Call"), ("{% set x = 1 %}", "Assign"),
                           ("{{ salutation | attr('x') }}", "attr"), ("{{ missing }}", "missing"),
                           ("{% if %}", "syntax"), ("", "empty"), ("x" * 20_001, "limit")]:
        with pytest.raises(lt.TemplateProblem) as caught:
            lt.check_template(source)
        assert needle in caught.value.message, source


def test_a_practices_own_template_renders_instead_of_the_shipped_one():
    own = "Subject: Hello\n# Join us\n\nDear {{ salutation }}, see {{ join_url }}."
    document = lt.render("recruitment_core", "pl", CONTEXT, own)
    assert document.subject == "Hello" and document.heading == "Join us" and document.language == "pl"
    assert document.blocks[1].text == "Dear Ms Khan, see https://prg.example.org/join/Y90001."


def test_names_and_template_text_never_become_markup_in_html():
    hostile = lt.Recipient("", "<script>alert(1)</script>", "O'Neil & Sons", ("<img src=x>",), "RV1 2AB")
    own = "# <i>Own</i> heading\n\nHello {{ patient.first_name }}"
    letter = lt.Letter(lt.render("recruitment_core", "en", lt.TemplateContext(PRACTICE, hostile), own),
                       PRACTICE, hostile, date(2026, 11, 24))
    html = lt.letters_html([letter], "Letters")
    assert "<script>" not in html and "<img src=x>" not in html and "<i>Own" not in html and "<b>Surgery" not in html
    assert "&lt;script&gt;" in html and "&lt;i&gt;Own&lt;/i&gt; heading" in html


def test_letters_docx_has_one_letter_a_page_in_each_language():
    letters = [lt.Letter(lt.render("recruitment_core", code, CONTEXT), PRACTICE, PATIENT, date(2026, 11, 24))
               for code in ("en", "pl", "ur", "bn")]
    document = docx.Document(io.BytesIO(lt.letters_docx(letters, "Test")))
    paragraphs = document.paragraphs
    starts = [0] + [i for i, p in enumerate(paragraphs) if p._p.find(f"{W}pPr/{W}pageBreakBefore") is not None]
    assert len(starts) == 4
    assert round(document.sections[0].page_width.mm) == 210 and round(document.sections[0].page_height.mm) == 297
    langs, rtl = [], []
    for start in starts:
        assert paragraphs[start].text.startswith(PRACTICE.name)  # escaped in XML, whole in the document
        date_paragraph = paragraphs[start + 2]
        langs.append(date_paragraph._p.find(f"{W}r/{W}rPr/{W}lang").get(f"{W}val"))
        rtl.append(date_paragraph._p.find(f"{W}pPr/{W}bidi") is not None)
    assert langs == ["en-GB", "pl-PL", "ur-PK", "bn-BD"]
    assert rtl == [False, False, True, False]
    urdu_heading = paragraphs[starts[2] + 3]
    assert urdu_heading.alignment == 2 and urdu_heading.style.name == "Heading 1"  # right-aligned heading
    assert "24 listopada 2026" in paragraphs[starts[1] + 2].text


def test_mail_merge_csv_neutralises_formulas():
    content = lt.safe_csv(["Name", "Count"], [["=1+1", 3], ["+44 7700", 1], ["-x", 0], ["@SUM(A1)", 0],
                                              ["\tTab", 0], ["plain", 2]]).decode("utf-8-sig")
    lines = content.splitlines()
    assert lines[1:] == ["'=1+1,3", "'+44 7700,1", "'-x,0", "'@SUM(A1),0", "'\tTab,0", "plain,2"]


def decode(matrix) -> str:
    image = np.array([[0 if dark else 255 for dark in row] for row in matrix], dtype=np.uint8)
    image = np.kron(image, np.ones((8, 8), dtype=np.uint8))  # 8 pixels a module
    [result] = zxingcpp.read_barcodes(image)
    return result.text


def png_pixels(png: bytes) -> np.ndarray:
    """The greyscale pixels of a PNG as segno writes it (1-bit, no interlace), without an imaging library."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        kind = png[pos + 4:pos + 8]
        chunks.setdefault(kind, []).append(png[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    assert depth == 1 and interlace == 0
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride = (width + 7) // 8
    rows, previous = [], bytes(stride)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        data = bytearray(line[1:])
        if line[0] == 1:  # Sub (one byte a pixel group at 1 bit)
            for i in range(1, stride):
                data[i] = (data[i] + data[i - 1]) & 0xFF
        elif line[0] == 2:  # Up
            data = bytearray((a + b) & 0xFF for a, b in zip(data, previous))
        else:
            assert line[0] == 0, f"PNG filter {line[0]} not handled"
        previous = bytes(data)
        rows.append(np.unpackbits(np.frombuffer(previous, dtype=np.uint8))[:width])
    pixels = np.array(rows, dtype=np.uint8)
    if colour == 3:  # palette: index 0 is dark in segno's two-colour palette when it is black
        palette = chunks[b"PLTE"][0]
        lightness = [sum(palette[i * 3:i * 3 + 3]) for i in range(len(palette) // 3)]
        return np.where(pixels == 1, min(lightness[1] // 3, 255), min(lightness[0] // 3, 255)).astype(np.uint8)
    return (pixels * 255).astype(np.uint8)


def test_posters_carry_a_qr_code_that_decodes_to_the_sign_up_address():
    url = "https://prg.example.org/join/Y90001"
    code = qr_code(url)
    assert decode(code.matrix_iter(border=4)) == url
    for size in ("a4", "a5"):
        piece = lt.PrintPiece(lt.render("poster" if size == "a4" else "leaflet", "ur", CONTEXT), PRACTICE, url,
                              "prg.example.org/join/Y90001", size)
        document = docx.Document(io.BytesIO(lt.piece_docx(piece)))
        [shape] = document.inline_shapes
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        png = document.part.related_parts[blip].blob
        assert png == lt.qr_png(url)
        [result] = zxingcpp.read_barcodes(png_pixels(png))
        assert result.text == url
        html = lt.piece_html(piece)
        assert f"size: {size.upper()}" in html and 'dir="rtl"' in html and 'role="img"' in html
