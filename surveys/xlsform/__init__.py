"""XLSForm import and export: survey definitions edited in Excel and exchanged with KoBoToolbox / ODK.

`import_xlsform(data)` reads an .xlsx XLSForm into a validated `SurveyDefinition`; `export_xlsform(defn)`
writes one, using the same conventions, so ``import_xlsform(export_xlsform(d)) == d``. Reading is safe:
the bytes must be a real .xlsx (zip checked against bombs and unsafe paths by `prg.uploads.check_zip`,
XML entity declarations refused, formulas refused, never evaluated), and every problem is reported as an
`InvalidInput` error whose `field` is the sheet (``survey``, ``choices``, ``settings``), with the
spreadsheet `row` (header = row 1) and `column`.

The supported subset (anything else is an error naming the sheet and row, never silently dropped):

- ``survey`` sheet columns: ``type``, ``name``, ``label``, ``hint``, ``required`` (yes/no), ``relevant``
  (the skip-logic subset of `surveys.skip_logic`: ``${q} = 'a'``, ``!=``, ``<``, ``<=``, ``>``, ``>=``
  with a quoted code or a number, ``selected(${q}, 'a')``, ``${q} != ''`` / ``${q} = ''``, ``and``,
  ``or``, ``not(...)``, parentheses), ``constraint`` (only ``. >= N`` and ``. <= N`` for numbers,
  ``. >= date('YYYY-MM-DD')`` / ``. <= date(...)`` for dates and ``string-length(.) <= N`` for text,
  joined by ``and``), ``appearance``, ``parameters`` (for ``range`` only), and our own optional columns
  ``prg_dimension`` (``sex``, ``age_band``, ``ethnicity`` or ``custom:<name>`` on a ``select_one``) and
  ``prg_top_box`` (space-separated codes). ``choice_filter``, ``calculation``, ``default``,
  ``read_only``, ``repeat_count``, ``trigger`` and media columns are refused when filled in; other columns
  (``constraint_message``, ``required_message``, ``guidance_hint``, KoBo's ``$kuid``...) are ignored.
- Types: ``select_one L`` (single choice), ``select_multiple L`` (multiple choice; KoBo's
  ``select_from_list_name`` column may name the list instead), ``integer`` and
  ``decimal`` (number), ``date``, ``text`` (short text; with appearance ``multiline``, long text),
  ``range`` with parameters ``start=0 end=10 step=1`` (0-10 scale), ``note`` (only as the first rows of a
  group, where it becomes the section's introduction; the group's ``hint`` does too), ``begin_group`` /
  ``end_group``. Metadata rows (``start``, ``end``, ``today``, ``deviceid``, ``username``, ``audit``...)
  are skipped: the product records its own submission date and nothing about the device.
- Sections: each top-level group is a section (its ``relevant`` is the section's ``show_if``); runs of
  questions outside any group become sections of their own (``section_1``...). Other nested groups are
  refused, except rating grids.
- Rating grid: a group with appearance ``table-list`` whose rows are all ``select_one`` over the same
  list (written by export, with rows named ``<grid>_<row>``; an optional first row with appearance
  ``label`` is a header), or a ``field-list`` group whose first ``select_one`` has appearance ``label``
  and the rest ``list-nolabel`` (the older ODK pattern). The group's label, hint, ``relevant`` and
  ``prg_top_box`` belong to the grid; its rows must all be required or all optional.
- ``choices`` sheet: ``list_name``, ``name``, ``label``, and ``prg_group`` (the population group of the
  option, for a question with ``prg_dimension``).
- ``settings`` sheet: ``form_title`` (in the default language; ``prg_form_title::Polish (pl)`` for
  others: pyxform cannot read translated titles), ``form_id``, ``version``, ``default_language``.
- Languages: ``label::English (en)``, ``hint::Polish (pl)``; a plain ``label`` column is the default
  language (``default_language``, else English). Names are lower-cased on import (KoBo writes
  ``Q1``); a name must then be lower-case letters, digits and ``_``, starting with a letter.
"""

from surveys.xlsform.exporter import export_xlsform
from surveys.xlsform.importer import MAX_BYTES, XLSFormImport, import_xlsform, read_xlsform
from surveys.xlsform.languages import language_column_name
from surveys.xlsform.report import ImportReport, ReportEntry

__all__ = [
    "MAX_BYTES", "ImportReport", "ReportEntry", "XLSFormImport", "export_xlsform", "import_xlsform",
    "language_column_name", "read_xlsform",
]  # fmt: skip
