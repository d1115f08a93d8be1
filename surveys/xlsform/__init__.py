"""XLSForm import and export: survey definitions edited in Excel and exchanged with KoBoToolbox / ODK.

`read_xlsform(data)` reads an .xlsx XLSForm into a validated `SurveyDefinition` and an import report of
what it did not carry over (`import_xlsform` gives the definition alone); `export_xlsform(defn)` writes
one that pyxform, KoBoToolbox and ODK accept, in conventions the import reads back, so
``import_xlsform(export_xlsform(d)) == d``. The parts:

- `workbook`: reading the workbook safely (bytes checked before any parser, formulas refused, rows read
  in proportion to the file's real content, a bound on reading time);
- `spelling`: every way pyxform lets an author write a header, type or yes/no (our copy of its tables);
- `columns`: what each column means to the import (read, refused when filled in, or reported);
- `expressions`: constraints, range parameters and choice filters in their supported subsets;
- `importer`: building the definition, every problem an `InvalidInput` error naming the sheet (`field`),
  the spreadsheet `row` (header = row 1) and `column`;
- `report`: the import report (ignored, left out, changed); `languages`; `exporter`.

The supported subset, what is refused (and why) and what is reported is in docs/surveys.md ("XLSForm").
"""

from surveys.xlsform.exporter import export_xlsform
from surveys.xlsform.importer import MAX_BYTES, XLSFormImport, import_xlsform, read_xlsform
from surveys.xlsform.languages import language_column_name
from surveys.xlsform.report import ImportReport, ReportEntry

__all__ = [
    "MAX_BYTES", "ImportReport", "ReportEntry", "XLSFormImport", "export_xlsform", "import_xlsform",
    "language_column_name", "read_xlsform",
]  # fmt: skip
