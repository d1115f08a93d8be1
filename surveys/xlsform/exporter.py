"""XLSForm export: a survey definition as a workbook KoBoToolbox, ODK and pyxform can read, in the
conventions `surveys.xlsform.importer` reads back (the subset is in docs/surveys.md, "XLSForm")."""

from __future__ import annotations

import io

from surveys import skip_logic
from surveys.definition import (
    MAX_TEXT,
    DateQuestion,
    LongTextQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    RatingGridQuestion,
    ScaleQuestion,
    ShortTextQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
)
from surveys.xlsform.languages import language_column_name

__all__ = ["export_xlsform"]


def _number_text(value: int | float) -> str:
    return skip_logic._literal(value)


def _bounds(prefix: str, low: str | None, high: str | None, low_exclusive: bool = False,
            high_exclusive: bool = False) -> str:
    parts = []
    if low is not None:
        parts.append(f"{prefix} {'>' if low_exclusive else '>='} {low}")
    if high is not None:
        parts.append(f"{prefix} {'<' if high_exclusive else '<='} {high}")
    return " and ".join(parts)


def _choice_filter(q: SingleChoiceQuestion | MultipleChoiceQuestion, kinds: dict[str, Question]) -> str:
    """The XLSForm choice_filter of a question: `site = ${site}`, or `selected(${q}, col)` for a
    multiple-choice answer."""
    parts = []
    for column, target in q.choice_filter.items():
        if isinstance(kinds.get(target), MultipleChoiceQuestion):
            parts.append(f"selected(${{{target}}}, {column})")
        else:
            parts.append(f"{column} = ${{{target}}}")
    return " and ".join(parts)


def export_xlsform(defn: SurveyDefinition, *, form_id: str = "prg_survey", version: str | None = None) -> bytes:
    """Write a definition as an XLSForm (.xlsx bytes) that KoBoToolbox, ODK and pyxform can read.

    Conventions: one group per section (appearance field-list; the intro as a first note, other notes
    before the question they precede), one choice list per choice question named after it (with a column per
    choice-filter column), rating grids as table-list groups with rows named ``<grid>_<row>``, ranges as
    `range` with their parameters, text bounds as constraints (none for the product's own limit),
    calculations as calculate rows after the last group, and our `prg_*` columns for dimensions and top box.
    Languages are written as ``English (en)``, or ``Klingonese (qaa)`` with the name an author gave one
    babel does not know.
    Every cell is written as text, so nothing in a label can become a formula.
    """
    import openpyxl
    from openpyxl.styles import Font

    langs = list(defn.languages)
    lang_names = {lang: language_column_name(lang, defn.language_names.get(lang)) for lang in langs}
    kinds = {q.id: q for q in defn.questions()}
    survey_headers = (
        ["type", "name"]
        + [f"label::{lang_names[lang]}" for lang in langs]
        + [f"hint::{lang_names[lang]}" for lang in langs]
        + ["required", "relevant", "constraint", "appearance", "parameters", "choice_filter", "default",
           "calculation", "prg_dimension", "prg_top_box"]
    )
    filter_columns = list(dict.fromkeys(
        column for q in defn.questions() if isinstance(q, (SingleChoiceQuestion, MultipleChoiceQuestion))
        for column in q.choice_filter if column != "name"
    ))
    choice_headers = (["list_name", "name"] + [f"label::{lang_names[lang]}" for lang in langs] + ["prg_group"]
                      + filter_columns)
    survey_rows: list[dict[str, str]] = []
    choice_rows: list[dict[str, str]] = []
    taken = {s.id for s in defn.sections} | {q.id for q in defn.questions()} | {
        n.id for s in defn.sections for n in s.notes} | {c.id for c in defn.calculations}
    for q in defn.questions():
        if isinstance(q, RatingGridQuestion):
            taken |= {f"{q.id}_{r.id}" for r in q.rows}

    def texts(column: str, text: dict[str, str] | None) -> dict[str, str]:
        return {f"{column}::{lang_names[lang]}": value for lang, value in (text or {}).items() if lang in lang_names}

    def relevant(show_if: str | None) -> str:
        return skip_logic.to_xpath(show_if) if show_if else ""

    def choices(list_name: str, q: Question) -> None:
        groups = q.dimension.groups if isinstance(q, SingleChoiceQuestion) and q.dimension else {}
        for option in q.options:  # type: ignore[union-attr]
            row = {"list_name": list_name, "name": option.code, **texts("label", option.label), **option.filters}
            if option.code in groups:
                row["prg_group"] = groups[option.code]
            choice_rows.append(row)

    for section in defn.sections:
        survey_rows.append(
            {"type": "begin_group", "name": section.id, **texts("label", section.title),
             "relevant": relevant(section.show_if), "appearance": "field-list"}
        )  # fmt: skip
        if section.intro:
            name, n = f"{section.id}_intro", 1
            while name in taken:
                n += 1
                name = f"{section.id}_intro_{n}"
            taken.add(name)
            survey_rows.append({"type": "note", "name": name, **texts("label", section.intro)})
        def notes(before: str | None) -> None:
            for note in section.notes:
                if note.before == before:
                    survey_rows.append({"type": "note", "name": note.id, **texts("label", note.label),
                                        **texts("hint", note.help), "relevant": relevant(note.show_if)})

        for q in section.questions:
            notes(q.id)
            row: dict[str, str] = {"name": q.id, **texts("label", q.label), **texts("hint", q.help)}
            row["required"] = "yes" if q.required else ""
            row["relevant"] = relevant(q.show_if)
            row["default"] = q.default or ""
            if isinstance(q, SingleChoiceQuestion):
                row["type"] = f"select_one {q.id}"
                row["prg_top_box"] = " ".join(q.top_box)
                row["prg_dimension"] = q.dimension.name if q.dimension else ""
                row["choice_filter"] = _choice_filter(q, kinds)
                choices(q.id, q)
            elif isinstance(q, MultipleChoiceQuestion):
                row["type"] = f"select_multiple {q.id}"
                row["choice_filter"] = _choice_filter(q, kinds)
                choices(q.id, q)
            elif isinstance(q, RatingGridQuestion):
                survey_rows.append(
                    {"type": "begin_group", "name": q.id, **texts("label", q.label), **texts("hint", q.help),
                     "relevant": row["relevant"], "appearance": "table-list", "prg_top_box": " ".join(q.top_box)}
                )  # fmt: skip
                for grid_row in q.rows:
                    survey_rows.append(
                        {"type": f"select_one {q.id}", "name": f"{q.id}_{grid_row.id}",
                         **texts("label", grid_row.label), "required": row["required"]}
                    )  # fmt: skip
                survey_rows.append({"type": "end_group", "name": q.id})
                choices(q.id, q)
                continue
            elif isinstance(q, ScaleQuestion):
                row["type"] = "range"
                row["parameters"] = "start=0 end=10 step=1"
            elif isinstance(q, NumberQuestion) and q.step is not None:
                row["type"] = "range"
                row["parameters"] = f"start={_number_text(q.min)} end={_number_text(q.max)} step={_number_text(q.step)}"  # type: ignore[arg-type]
            elif isinstance(q, NumberQuestion):
                row["type"] = "integer" if q.integer else "decimal"
                low = None if q.min is None else _number_text(q.min)
                high = None if q.max is None else _number_text(q.max)
                row["constraint"] = _bounds(".", low, high, q.min_exclusive, q.max_exclusive)
            elif isinstance(q, DateQuestion):
                low = None if q.min is None else f"date('{q.min.isoformat()}')"
                high = None if q.max is None else f"date('{q.max.isoformat()}')"
                row["type"] = "date"
                row["constraint"] = _bounds(".", low, high)
            elif isinstance(q, (ShortTextQuestion, LongTextQuestion)):
                row["type"] = "text"
                if q.max_length < MAX_TEXT:  # the product's own limit is not the author's: not written
                    row["constraint"] = f"string-length(.) <= {q.max_length}"
                if isinstance(q, LongTextQuestion):
                    row["appearance"] = "multiline"
            survey_rows.append(row)
        notes(None)
        survey_rows.append({"type": "end_group", "name": section.id})
    for calculation in defn.calculations:
        survey_rows.append({"type": "calculate", "name": calculation.id, "calculation": calculation.calculation})

    settings = {
        "form_title": defn.title.get(defn.default_language, ""),
        "form_id": form_id,
        "version": version or "",
        "default_language": lang_names[defn.default_language],
    }
    settings_headers = ["form_title", "form_id", "version", "default_language"]
    for lang in langs:
        if lang != defn.default_language and lang in defn.title:
            header = f"prg_form_title::{lang_names[lang]}"
            settings_headers.append(header)
            settings[header] = defn.title[lang]

    book = openpyxl.Workbook()
    bold = Font(bold=True)
    for ws, title, headers, rows in (
        (book.active, "survey", survey_headers, survey_rows),
        (book.create_sheet(), "choices", choice_headers, choice_rows),
        (book.create_sheet(), "settings", settings_headers, [settings]),
    ):
        ws.title = title
        for col, header in enumerate(headers, start=1):
            cell = ws.cell(row=1, column=col, value=header)
            cell.data_type = "s"
            cell.font = bold
            ws.column_dimensions[cell.column_letter].width = 40 if header.startswith(("label", "hint")) else 18
        for r, values in enumerate(rows, start=2):
            for col, header in enumerate(headers, start=1):
                value = values.get(header, "")
                if value:
                    cell = ws.cell(row=r, column=col, value=value)
                    cell.data_type = "s"  # text, never a formula, whatever it starts with
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
