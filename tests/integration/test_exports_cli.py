"""`prg export ...`: every file written to --out, opened back, for the demo practice."""

from __future__ import annotations

import csv
import io

import openpyxl
from click.testing import CliRunner
from docx import Document

from prg.cli import main, run


def prg(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def published_survey() -> int:
    from prg.accounts.services import PracticeAccess
    from prg.accounts.tables import Practice
    from surveys import schemas, services
    from surveys.definition import load_definition

    definition = load_definition({"title": {"en": "CLI survey"}, "sections": [{"id": "s", "questions": [
        {"type": "single_choice", "id": "fft", "label": {"en": "Overall, how was your experience of our service?"},
         "options": [{"code": c, "label": {"en": c}} for c in
                     ("very_good", "good", "neither", "poor", "very_poor", "dont_know")]}]}]})

    async def work() -> int:
        row = await Practice.select(Practice.id).where(Practice.ods_code == "Y90001").first()
        access = PracticeAccess(row["id"], "Y90001", "Demo", "manager")
        survey = await services.create_survey(access, schemas.SurveyCreate(definition=definition), None)
        await services.publish(access, survey.id, None)
        return survey.id

    return run(work)


def test_every_export_is_written_to_out(settings, tmp_path):
    assert prg("demo").exit_code == 0
    survey_id = published_survey()
    out = tmp_path / "collation.xlsx"
    done = prg("export", "collation", "--practice", "y90001", "--out", str(out))
    assert done.exit_code == 0, done.output
    members = openpyxl.load_workbook(out)["Members"]
    assert sum(1 for row in members.iter_rows(min_row=2, values_only=True) if row[0]) == 36
    for command, name in ((["results", "--survey", str(survey_id)], "results.xlsx"),
                          (["paper-entry", "--survey", str(survey_id)], "paper.xlsx"),
                          (["achievement", "--year", "2012-13"], "achievement.xlsx")):
        done = prg("export", *command, "--practice", "Y90001", "--out", str(tmp_path / name))
        assert done.exit_code == 0, done.output
        assert openpyxl.load_workbook(tmp_path / name).sheetnames
    done = prg("export", "report", "--practice", "Y90001", "--year", "2012-13", "--format", "docx",
               "--out", str(tmp_path / "report.docx"))
    assert done.exit_code == 0, done.output
    assert Document(tmp_path / "report.docx").paragraphs[0].text.endswith("Local Patient Participation Report")
    done = prg("export", "report", "--practice", "Y90001", "--year", "2012-13", "--out", str(tmp_path / "r.html"))
    assert "<h1>" in (tmp_path / "r.html").read_text()
    done = prg("export", "fft", "--practice", "Y90001", "--survey", str(survey_id), "--month", "2026-11",
               "--out", str(tmp_path / "fft.csv"))
    assert done.exit_code == 0, done.output
    rows = list(csv.reader(io.StringIO((tmp_path / "fft.csv").read_text())))
    assert rows[0][:3] == ["practice_code", "month", "mode"] and rows[-1][2] == "Total"


def test_export_errors_are_messages(settings, tmp_path):
    assert prg("migrate").exit_code == 0
    missing = prg("export", "collation", "--practice", "Z99999", "--out", str(tmp_path / "x.xlsx"))
    assert missing.exit_code == 1 and "No practice Z99999" in missing.output
    assert prg("demo").exit_code == 0
    bad = prg("export", "report", "--practice", "Y90001", "--year", "1999-00", "--out", str(tmp_path / "x.html"))
    assert bad.exit_code == 1 and not (tmp_path / "x.html").exists()
