"""Property test: hostile text (formula payloads, markup, control characters, very long text) fed through
every export writer never becomes a formula cell, a CSV formula, markup in a page or a field in a document."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from html.parser import HTMLParser
from types import SimpleNamespace

import openpyxl
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports.achievement_workbook import TemplateTable, write_achievement_workbook
from exports.collation_workbook import CollationData, ProfileTable, write_collation_workbook
from exports.paper_workbook import write_paper_workbook
from exports.report import Chart, ReportData, Section, Table, render_docx, render_html
from exports.results_workbook import write_results_workbook
from exports.safe import FORMULA_TRIGGERS, clean_cell_text, write_csv
from surveys.collation import collate
from surveys.definition import load_definition

PAYLOADS = ['=HYPERLINK("http://evil.example","click")', "=1+1", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
            '=cmd|"/c calc"!A1', "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}",
            "\x00\x01\x08\x0b\x1b text", "line\nbreak", "_x003D_1+1", "&amp; &lt;b&gt;", "\u202e\ufeff", "é" * 40_000]
hostile = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=60),
                    st.builds(lambda a, b: a + b, st.sampled_from(FORMULA_TRIGGERS), st.text(max_size=30)))
# Where a schema limits text (labels of a survey definition), the hostile text has to pass it first.
printable = st.one_of(st.sampled_from([p for p in PAYLOADS if p.isprintable() and len(p) < 300]),
                      st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")),
                              min_size=1, max_size=60)).filter(lambda s: s.strip())
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_no_formulas(content: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    # Only our own formulas: the comparison, payment and hidden helper sheets' fixed ones.
                    assert sheet.title in ("Comparison", "Calc", "Payment"), (sheet.title, cell.coordinate)
                    assert str(cell.value).startswith(("=COUNTIFS(", "=IF(", "=SUM(", "='Practice profile'!",
                                                       "=IFERROR(", "=(E", "=B6*B7")), cell.value


def texts(content: bytes) -> set[str]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {c.value for s in book.worksheets for row in s.iter_rows() for c in row if isinstance(c.value, str)}


def as_read(text: str) -> str:
    """What a reader gets back for a cell's text: XML parsers turn carriage returns into newlines."""
    return clean_cell_text(text).replace("\r\n", "\n").replace("\r", "\n")


def definition(label: str, option: str):
    return load_definition({"title": {"en": label[:200]}, "sections": [{"id": "s", "questions": [
        {"type": "single_choice", "id": "q1", "label": {"en": label}, "options": [
            {"code": "a", "label": {"en": option[:300]}}, {"code": "b", "label": {"en": "Other"}}]},
        {"type": "multiple_choice", "id": "q2", "label": {"en": label}, "options": [
            {"code": "x", "label": {"en": option[:300]}}, {"code": "y", "label": {"en": "Y"}}]},
        {"type": "long_text", "id": "q3", "label": {"en": label}}]}]})


@SETTINGS
@given(label=printable, option=printable, comment=hostile)
def test_results_workbook(label, option, comment):
    defn = definition(label, option)
    answers = [{"q1": "a", "q2": ["x"], "q3": comment}, {"q1": "b", "q3": comment}]
    results = {"version": 1, "weighting": None, **collate(defn, answers)}
    content = write_results_workbook(results, defn, [(a, "web", "en", "2026-11-01") for a in answers],
                                     practice="Y90001")
    assert_no_formulas(content)
    if "_x" not in comment and "\r" not in comment:
        assert as_read(comment) in texts(content) or not clean_cell_text(comment)


@SETTINGS
@given(name=hostile, address=hostile, value=hostile)
def test_collation_workbook(name, address, value):
    member = {"reference": "R1", "first_name": name, "last_name": name, "address": address, "status": "active",
              "sex": "female", "birth_year": 1960, "age_band": name, "ethnic_category": "A",
              "characteristics": {"carer": value}, "joined_on": date(2024, 1, 1)}
    table = ProfileTable("Sex", date(2026, 10, 1), [("female", name, 10), ("male", "Male", 12)])
    data = CollationData("Y90001", name, [member], ["carer"], sex=table)
    content = write_collation_workbook(data, spare_rows=5)
    assert_no_formulas(content)
    if "_x" not in name and "\r" not in name and clean_cell_text(name):
        assert as_read(name) in texts(content)


@SETTINGS
@given(label=printable, option=printable, title=hostile)
def test_paper_workbook(label, option, title):
    content = write_paper_workbook(definition(label, option), ods_code="Y90001", survey_id=1, version=1, title=title)
    assert_no_formulas(content)


@SETTINGS
@given(text=hostile)
def test_achievement_workbook(text):
    evidence = SimpleNamespace(date=date(2012, 5, 1), description=text)
    component = SimpleNamespace(title=text, status="done", weight=0.2, weight_confirmed=False, evidence=[evidence],
                                next_step=text)
    payment = SimpleNamespace(rate_per_patient=1.1, rate_confirmed=True, rate_source=text, list_size=100,
                              list_size_source=text, list_size_date=date(2012, 4, 1), maximum=110.0, payable=True,
                              note=text)
    guide = SimpleNamespace(practice="Y90001", title=text, starts_on=date(2012, 4, 1), ends_on=date(2013, 3, 31),
                            done=1, total=1, today=date(2013, 4, 1), components=[component], payment=payment)
    content = write_achievement_workbook(guide, practice_name=text,
                                         template=[TemplateTable(text, [(text, 0.5, None)])], template_notes=[text])
    assert_no_formulas(content)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "a", "div", "ul", "li",
                 "ol", "nav", "section", "strong", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure",
                 "figcaption", "span", "svg", "desc", "text", "rect"}


def report(text: str) -> ReportData:
    section = Section("prg_profile", text, paragraphs=[text], items=[text],
                      tables=[Table(text, [text, "Share"], [[text, text]])],
                      charts=[Chart(text, [text, "b"], [(text, [0.5, None])])])
    missing = Section("opening_hours", text, status="missing", missing_note=text)
    return ReportData("Y90001", text, "2012-13", text, date(2012, 4, 1), date(2013, 3, 31), date(2013, 3, 1), 10,
                      "", [section, missing], [text])


@SETTINGS
@given(text=hostile)
def test_report_html_and_docx(text):
    page = render_html(report(text))
    parser = Tags()
    parser.feed(page)
    assert parser.tags <= TEMPLATE_TAGS and parser.handlers == []
    assert "<script" not in page.lower()
    content = render_docx(report(text))
    document = Document(io.BytesIO(content))
    assert document.paragraphs
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("word/document.xml").decode()
    assert "instrText" not in xml and "fldSimple" not in xml


@SETTINGS
@given(cells=st.lists(hostile, min_size=1, max_size=6))
def test_csv(cells):
    text = write_csv([cells, [1, 2.5, None, True]])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for cell in rows[0]:
        assert not cell.startswith(FORMULA_TRIGGERS)
    assert rows[1] == ["1", "2.5", "", "TRUE"]
