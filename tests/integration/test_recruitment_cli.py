"""`prg mailing`, run as a user runs it (click's runner, the real database)."""

from __future__ import annotations

import io
import zipfile

from click.testing import CliRunner

from prg.cli import main
from tests.helpers import DATA

PATIENT_LIST = str(DATA / "practice-reports" / "Y90001-patient-list.csv")


def prg(*args: str):
    return CliRunner().invoke(main, list(args))


def test_prg_mailing_writes_the_zip_and_records_the_campaign(settings, tmp_path):
    assert prg("practice", "add", "--ods", "Y90001", "--name", "Riverside").exit_code == 0
    out = tmp_path / "mailing.zip"
    for campaign in (1, 2):
        result = prg("mailing", "--practice", "y90001", "--list", PATIENT_LIST, "--out", str(out),
                     "--groups", "ethnicity:R", "--sample", "7", "--seed", "cli", "--contact-name", "Jo")
        assert result.exit_code == 0, result.output
        assert f"(campaign {campaign})" in result.output
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        merge = next(n for n in archive.namelist() if n.endswith("mail-merge.csv"))
        assert archive.read(merge).decode("utf-8-sig").count("\r\n") == 8  # header + 7 letters

    bad = prg("mailing", "--practice", "Y90001", "--list", str(out), "--out", str(tmp_path / "x.zip"),
              "--groups", "ethnicity:R")
    assert bad.exit_code == 1 and "Error" in bad.output and not (tmp_path / "x.zip").exists()
    unknown = prg("mailing", "--practice", "Y90009", "--list", PATIENT_LIST, "--out", str(tmp_path / "y.zip"))
    assert unknown.exit_code == 1 and "No practice Y90009" in unknown.output
