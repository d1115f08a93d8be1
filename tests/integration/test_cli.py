"""The `prg` command, run as a user runs it (click's runner, the real database)."""

from __future__ import annotations

import re
from datetime import date

from click.testing import CliRunner

from prg.cli import main


def prg(*args: str, input: str | None = None):  # noqa: A002 - click's own name
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def test_practice_user_and_token(settings):
    assert prg("migrate").exit_code == 0
    added = prg("practice", "add", "--ods", "a81001", "--name", "Example Surgery", "--list-size", "5000")
    assert added.exit_code == 0 and "A81001" in added.output
    user = prg("user", "add", "--email", "pm@example.org", "--practice", "A81001", "--role", "manager",
               input="a long enough password\na long enough password\n")
    assert user.exit_code == 0, user.output
    token = prg("token", "create", "--email", "pm@example.org", "--name", "script")
    assert token.exit_code == 0
    assert re.fullmatch(r"prg_[A-Za-z0-9_-]{43}\n", token.output)


def test_bad_input_is_a_clear_message_not_a_traceback(settings):
    prg("migrate")
    bad = prg("practice", "add", "--ods", "12345", "--name", "X")
    assert bad.exit_code != 0 and "ods_code" in bad.output
    prg("practice", "add", "--ods", "A81001", "--name", "X")
    again = prg("practice", "add", "--ods", "A81001", "--name", "X")
    assert again.exit_code == 1 and "already exists" in again.output
    missing = prg("token", "create", "--email", "nobody@example.org", "--name", "x")
    assert missing.exit_code == 1 and "No account" in missing.output


def test_demo_prints_credentials_and_loads_a_prg(settings):
    first = prg("demo")
    assert first.exit_code == 0, first.output
    password = re.search(r"Password:\s+(\S+)", first.output).group(1)
    again = prg("demo")  # running it twice refreshes the password and adds no one twice
    assert re.search(r"Password:\s+(\S+)", again.output).group(1) != password

    from prg.members.tables import Member

    assert Member.count().run_sync() == 36


def test_the_demo_has_last_winters_survey_with_results_and_evidence(demo_server):
    """The README's run command serves a survey with 300 responses from last winter: results weighted to
    the demo population, the Friends and Family Test return, and last year's guide counting it."""
    import httpx

    from prg.des.scheme_years import year_code_for

    base, password, _ = demo_server
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.post("/api/auth/login", json={"email": "manager@y90001.example.org",
                                                  "password": password}).status_code == 201
        [survey] = http.get("/api/practices/Y90001/surveys").json()
        api = f"/api/practices/Y90001/surveys/{survey['id']}"
        results = http.get(f"{api}/results", params={"weight": "true"})
        assert results.status_code == 200, results.text
        assert results.json()["responses"] == 300 and results.json()["weighting"]["converged"]
        this_year = year_code_for(date.today())
        last_year = f"{int(this_year[:4]) - 1}-{this_year[2:4]}"
        guide = {c["key"]: c for c in http.get(f"/api/practices/Y90001/years/{last_year}").json()["components"]}
        assert guide["survey"]["status"] == "done" and "300 response(s)" in guide["survey"]["evidence"][0]["description"]
        now = {c["key"]: c["status"] for c in http.get(f"/api/practices/Y90001/years/{this_year}").json()["components"]}
        assert now["survey"] == "missing"
        month = guide["survey"]["evidence"][0]["date"][:7]
        fft = http.get(f"{api}/fft", params={"month": month}).json()
        assert fft["responses"] > 0 and fft["total"]["total"] > 0
