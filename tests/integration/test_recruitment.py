"""The recruitment pack through HTTP: a targeted mailing from the demo practice's patient list to the groups
the demo PRG lacks (recipients recomputed independently with pandas), broken lists, sampling, e-mail and SMS,
campaigns with responses, template overrides, posters and leaflets."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import docx
import pandas as pd
import pytest

from prg.demo import load_demo
from tests.helpers import DATA, DEMO

BASE = "/api/practices/Y90001/recruitment"
PATIENT_LIST = DATA / "practice-reports" / "Y90001-patient-list.csv"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DES_BANDS = [(0, 15, "Under 16"), (16, 24, "16-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"),
             (55, 64, "55-64"), (65, 74, "65-74"), (75, 200, "75+")]
TEMPLATE_LANGUAGE = {"Polish": "Polish", "Urdu": "Urdu", "Bengali": "Bengali"}


@pytest.fixture
async def demo(client, make_staff):
    await load_demo()
    return await make_staff("Y90001", "manager")


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name.rsplit("-", 1)[-1] if name.endswith(("summary.csv", "merge.csv")) else name.rsplit(".", 1)[-1]:
                archive.read(name) for name in archive.namelist()}


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def mail(client, staff, content: bytes = None, filename: str = "list.csv", **fields):
    content = PATIENT_LIST.read_bytes() if content is None else content
    return await client.post(f"{BASE}/mailing", headers=staff.headers, files={"file": (filename, content)},
                             data={k: str(v) for k, v in fields.items()})


def expected_recipients(target_keys: set[str], today: date) -> pd.DataFrame:
    """Independently of the code under test: the demo list's eligible patients in the target groups."""
    patients = pd.read_csv(PATIENT_LIST, dtype=str, keep_default_na=False)
    born = pd.to_datetime(patients["Date of Birth"], format="%d-%b-%Y")
    had_birthday = (born.dt.month < today.month) | ((born.dt.month == today.month) & (born.dt.day <= today.day))
    patients["age"] = today.year - born.dt.year - (~had_birthday).astype(int)
    band = pd.Series("", index=patients.index)
    for low, high, label in DES_BANDS:
        band[(patients["age"] >= low) & (patients["age"] <= high)] = label
    patients["age_sex_key"] = "age_x_sex:" + patients["Sex"].str.lower() + ":" + band
    patients["ethnic_key"] = "ethnicity:" + patients["Ethnic Category Code"]
    in_target = patients["age_sex_key"].isin(target_keys) | patients["ethnic_key"].isin(target_keys)

    register = pd.read_csv(DEMO / "Y90001-prg-register.csv", dtype=str, keep_default_na=False)
    member_keys = set(zip(register["First name"].str.lower(), register["Surname"].str.lower(),
                          register["Postcode"].str.replace(" ", "").str.upper(), register["Year of birth"]))
    patient_keys = list(zip(patients["Forename"].str.lower(), patients["Surname"].str.lower(),
                            patients["Postcode"].str.replace(" ", "").str.upper(), born.dt.year.astype(str)))
    is_member = pd.Series([k in member_keys for k in patient_keys], index=patients.index)
    has_address = (patients["Address Line 1"] != "") & (patients["Postcode"] != "")
    chosen = patients[in_target & (patients["age"] >= 16) & has_address & ~is_member].copy()
    chosen["language"] = chosen["Main Language"].map(TEMPLATE_LANGUAGE).fillna("English")
    return chosen


async def test_a_targeted_mailing_writes_to_exactly_the_eligible_patients_of_the_groups_the_prg_lacks(client, demo):
    targets = set()
    for dimension in ("age_x_sex", "ethnicity"):
        answer = (await client.get(f"/api/practices/Y90001/recruitment/targets?dimension={dimension}",
                                   headers=demo.headers)).json()
        targets |= {f"{dimension}:{g['group']}" for g in answer["groups"] if g["additional_needed"] > 0}
    assert any(k.startswith("ethnicity:") for k in targets) and any(k.startswith("age_x_sex:") for k in targets)

    response = await mail(client, demo, contact_name="Jo Bloggs", phone="01234 567890")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f'filename="Y90001-recruitment-mailing-{date.today().isoformat()}.zip"' in response.headers["content-disposition"]
    files = unzip(response.content)
    assert set(files) == {"docx", "html", "merge.csv", "summary.csv"}

    expected = expected_recipients(targets, date.today())
    merge = read_csv(files["merge.csv"])
    got = {(r["NHS number"], r["First name"], r["Surname"]): r["Letter language"] for r in merge}
    want = {(n.replace(" ", ""), f, s): lang for n, f, s, lang in
            zip(expected["NHS Number"], expected["Forename"], expected["Surname"], expected["language"])}
    assert len(got) == len(merge) == len(want) > 100
    assert got == want  # the same people, each in the right language
    assert {"Polish", "Urdu", "Bengali", "English"} <= set(got.values())

    # The DOCX: one letter a page, in the patient's language, right-to-left for Urdu.
    document = docx.Document(io.BytesIO(files["docx"]))
    paragraphs = document.paragraphs
    breaks = [i for i, p in enumerate(paragraphs) if p._p.find(f"{W}pPr/{W}pageBreakBefore") is not None]
    starts = [0, *breaks]
    assert len(starts) == len(merge)  # one letter a page
    assert all(paragraphs[i].text.startswith("Riverside Example Surgery (demo)\n1 Example Street") for i in starts)
    by_name = {}
    for begin, end in zip(starts, [*breaks, len(paragraphs)]):
        letter = paragraphs[begin:end]
        body = letter[4]
        lang = body._p.find(f"{W}r/{W}rPr/{W}lang").get(f"{W}val")
        by_name[letter[1].text] = (lang, body._p.find(f"{W}pPr/{W}bidi") is not None, letter[3].text)
    assert len(by_name) == len(merge)  # every letter's address block is different

    def block(row):
        return "\n".join([" ".join(p for p in (row["Title"], row["First name"], row["Surname"]) if p),
                          *[row[f"Address {i}"] for i in range(1, 6) if row[f"Address {i}"]], row["Postcode"]])
    row = next(r for r in merge if r["Letter language"] == "Urdu")
    lang, rtl, heading = by_name[block(row)]
    assert lang == "ur-PK" and rtl and "ہماری مدد کریں" in heading
    row = next(r for r in merge if r["Letter language"] == "Polish")
    lang, rtl, heading = by_name[block(row)]
    assert lang == "pl-PL" and not rtl and heading.startswith("Pomóż nam")

    html = files["html"].decode()
    assert html.count('<article class="letter"') == len(merge) and 'lang="ur-PK" dir="rtl"' in html
    assert "Riverside Example Surgery (demo)" in html and "01234 567890" in html

    summary = read_csv(files["summary.csv"])
    total = next(r for r in summary if r["Section"] == "total")
    assert int(total["Chosen"]) == len(merge)
    chosen_per_group = {r["Item"]: int(r["Chosen"]) for r in summary if r["Section"] == "group"}
    assert set(chosen_per_group) == {k for k in targets if not k.endswith(":Under 16")}
    for key, n in chosen_per_group.items():
        column = "ethnic_key" if key.startswith("ethnicity:") else "age_sex_key"
        assert n == int((expected[column] == key).sum()), key
    excluded = {r["Item"]: int(r["Chosen"]) for r in summary if r["Section"] == "excluded"}
    assert excluded["member"] > 0 and excluded["under_min_age"] > 0

    # The campaign is kept as evidence: groups, counts and languages, not the list.
    campaigns = (await client.get(f"{BASE}/campaigns", headers=demo.headers)).json()
    assert len(campaigns) == 1
    campaign = campaigns[0]
    assert campaign["id"] == int(response.headers["x-campaign-id"])
    assert campaign["channel"] == "letter" and campaign["total_sent"] == len(merge)
    assert campaign["sent_on"] == date.today().isoformat()
    assert {g["group"]: g["sent"] for g in campaign["groups"]} == chosen_per_group
    assert sum(campaign["languages"].values()) == len(merge) and campaign["languages"]["ur"] > 0
    assert "Margaret" not in str(campaigns)


async def test_broken_lists_get_clear_answers_and_change_nothing(client, manager, configure):
    header = "NHS Number,Forename,Surname,Date of Birth,Sex,Address Line 1,Postcode\n"
    future = (date.today() + timedelta(days=3)).strftime("%d/%m/%Y")
    rows = ("999 303 9152,Ann,Lee,27-Jun-1960,Female,1 Road,RV1 1AA\n"
            "999 303 9153,Bob,Lee,1960-06-27,Male,1 Road,RV1 1AA\n"  # bad check digit
            f"999 573 7655,Cat,Lee,{future},Female,1 Road,RV1 1AA\n"
            "999 303 9152,Ann,Lee,27/06/1960,Female,1 Road,RV1 1AA\n"  # the first patient again
            "9995237655,Dan,Lee,31/02/1970,Male,1 Road,RV1 1AA\n")  # no such date
    response = await mail(client, manager, (header + rows).encode(), groups="sex:female")
    assert response.status_code == 422
    problems = {(e["row"], e.get("column")): e["message"] for e in response.json()["errors"]}
    assert "not a valid NHS number" in problems[(3, "NHS Number")]
    assert "in the future" in problems[(4, "Date of Birth")]
    assert "the same patient as row 2" in problems[(5, None)]
    assert "not a date" in problems[(6, "Date of Birth")]

    wrong = await mail(client, manager, b"Patient,Born\nAnn,1960\n", groups="sex:female")
    assert wrong.status_code == 400
    assert "Forename" in wrong.json()["errors"][0]["message"] and "Patient, Born" in wrong.json()["errors"][0]["message"]

    configure(mailing_max_rows=1000)
    many = header + "".join(f",P{i},Lee,01/01/1960,Female,1 Road,RV1 1AA\n" for i in range(1500))
    too_many = await mail(client, manager, many.encode(), groups="sex:female")
    assert too_many.status_code == 413 and "more than 1,000 rows" in too_many.json()["detail"]

    bad_option = await mail(client, manager, (header + rows.splitlines()[0] + "\n").encode(), groups="colour:blue")
    assert bad_option.status_code == 422 and bad_option.json()["errors"][0]["field"] == "groups"
    for field, value in [("template", "poster"), ("sample_per_group", "many"), ("channel", "fax"), ("min_ratio", "2")]:
        refused = await mail(client, manager, (header + rows.splitlines()[0] + "\n").encode(), **{field: value})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    assert (await client.get(f"{BASE}/campaigns", headers=manager.headers)).json() == []


async def test_two_hundred_thousand_rows_get_a_clear_answer(client, manager):
    header = "NHS Number,Forename,Surname,Date of Birth,Sex,Address Line 1,Postcode\n"
    body = ",Ann,Lee,01/01/1960,Female,1 Road,RV1 1AA\n" * 200_000
    response = await mail(client, manager, (header + body).encode(), groups="sex:female")
    assert response.status_code == 413
    assert "more than 100,000 rows" in response.json()["detail"]


XLSX_HEADER = ["NHS No", "First name", "Last name", "DOB", "Gender", "Address", "Town", "Post code", "Email",
               "Preferred language", "Carer", "Do not contact"]


def xlsx_list(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(XLSX_HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_xlsx_list_with_other_headers_flags_sampling_and_exclusions(client, manager):
    member = {"first_name": "Zofia", "last_name": "Nowak", "postcode": "RV1 2AA", "birth_year": 1980,
              "address": "2 Lane"}
    assert (await client.post("/api/practices/Y90001/members", headers=manager.headers, json=member)).status_code == 201
    rows = [
        ["", "Zofia", "Nowak", date(1980, 5, 1), "F", "2 Lane", "Town", "RV1 2AA", "", "Polish", "Yes", "No"],  # member
        ["", "Ewa", "Nowak", date(1981, 5, 1), "F", "3 Lane", "Town", "RV1 2AB", "", "Polski", "Yes", "No"],
        ["", "Iqbal", "Shah", "1970-01-02", "M", "", "Town", "", "", "Urdu", "Yes", "No"],  # no address
        ["", "Tom", "Shah", "02.01.1972", "M", "4 Lane", "Town", "RV1 2AC", "", "English", "Yes", "Yes"],  # do not contact
        ["", "Amy", "Shah", date(2015, 1, 1), "F", "5 Lane", "Town", "RV1 2AD", "", "English", "Yes", "No"],  # under 16
        ["", "=HYPERLINK(\"x\")", "Cole", "3 March 1975", "M", "+6 Lane", "Town", "RV1 2AE", "", "Bengali", "Yes", "No"],
        ["", "Rhys", "Cole", "1975-03-03", "M", "6 Lane", "Town", "RV1 2AF", "", "Welsh", "No", "No"],  # not a carer
    ]
    response = await mail(client, manager, xlsx_list(rows), "list.xlsx", groups="flag:carer")
    # Text starting with "=" in a workbook cell is refused as a formula (the list is re-exported as text).
    assert response.status_code == 422 and response.json()["errors"][0]["row"] == 7
    rows[5][1] = "Ola"
    response = await mail(client, manager, xlsx_list(rows), "list.xlsx", groups="flag:carer")
    assert response.status_code == 200, response.text
    files = unzip(response.content)
    merge = read_csv(files["merge.csv"])
    assert [(r["First name"], r["Letter language"]) for r in merge] == [("Ewa", "Polish"), ("Ola", "Bengali")]
    assert merge[1]["Address 1"] == "'+6 Lane"  # formula-safe
    excluded = {r["Item"]: r["Chosen"] for r in read_csv(files["summary.csv"]) if r["Section"] == "excluded"}
    assert excluded == {"member": "1", "no_address": "1", "do_not_contact": "1", "under_min_age": "1"}

    unknown_flag = await mail(client, manager, xlsx_list(rows), "list.xlsx", groups="flag:housebound")
    assert unknown_flag.status_code == 422 and "carer" in unknown_flag.json()["errors"][0]["message"]


async def test_a_random_sample_per_group_is_repeatable_with_its_seed(client, manager):
    names = lambda r: [row["Surname"] for row in read_csv(unzip(r.content)["merge.csv"])]  # noqa: E731
    first = await mail(client, manager, groups="ethnicity:K,ethnicity:R", sample_per_group=5, seed="abc")
    again = await mail(client, manager, groups="ethnicity:K,ethnicity:R", sample_per_group=5, seed="abc")
    other = await mail(client, manager, groups="ethnicity:K,ethnicity:R", sample_per_group=5, seed="xyz")
    assert first.status_code == 200, first.text
    assert len(names(first)) == 10 and names(first) == names(again) != names(other)
    summary = read_csv(unzip(first.content)["summary.csv"])
    groups = {r["Item"]: (int(r["Eligible"]), int(r["Chosen"])) for r in summary if r["Section"] == "group"}
    assert set(groups) == {"ethnicity:K", "ethnicity:R"}
    assert all(eligible > 5 and chosen == 5 for eligible, chosen in groups.values())
    assert any(r["Item"] == "seed" and r["Label"] == "abc" for r in summary)


async def test_texts_and_emails(client, manager):
    sms = await mail(client, manager, groups="ethnicity:R", channel="sms", template="sms", sample_per_group=20, seed="1")
    assert sms.status_code == 200, sms.text
    files = unzip(sms.content)
    assert "docx" not in files
    archive = zipfile.ZipFile(io.BytesIO(sms.content))
    texts = read_csv(archive.read(next(n for n in archive.namelist() if n.endswith("texts.csv"))))
    assert len(texts) == 20 and all(t["Mobile"] for t in texts)
    english = [t for t in texts if t["Language"] == "en"]
    assert english and all(t["Encoding"] == "gsm7" and t["Segments"] == "1" and len(t["Text"]) <= 160 for t in english)
    assert "/join/Y90001" in english[0]["Text"]

    email = await mail(client, manager, groups="ethnicity:K", channel="email", template="email")
    archive = zipfile.ZipFile(io.BytesIO(email.content))
    emails = read_csv(archive.read(next(n for n in archive.namelist() if n.endswith("emails.csv"))))
    assert emails and all("@" in e["Email"] for e in emails)
    assert any(e["Language"] == "bn" and "প্রিয়" in e["Body"] for e in emails)
    campaigns = (await client.get(f"{BASE}/campaigns", headers=manager.headers)).json()
    assert [c["channel"] for c in campaigns] == ["sms", "email"]


async def test_responses_per_group_come_from_members_who_join_through_the_channel(client, manager):
    response = await mail(client, manager, groups="ethnicity:K,ethnicity:R", sample_per_group=10, seed="s")
    campaign_id = int(response.headers["x-campaign-id"])
    today = date.today().isoformat()
    joiners = [  # two Bangladeshi patients and one Chinese answer the letter; one came through a poster
        {"first_name": "A", "last_name": "One", "ethnic_category": "K", "recruitment_channel": "letter", "joined_on": today},
        {"first_name": "B", "last_name": "Two", "ethnic_category": "K", "recruitment_channel": "letter", "joined_on": today},
        {"first_name": "C", "last_name": "Three", "ethnic_category": "R", "recruitment_channel": "letter", "joined_on": today},
        {"first_name": "D", "last_name": "Four", "ethnic_category": "K", "recruitment_channel": "poster", "joined_on": today},
    ]
    for member in joiners:
        assert (await client.post("/api/practices/Y90001/members", headers=manager.headers, json=member)).status_code == 201
    campaign = (await client.get(f"{BASE}/campaigns/{campaign_id}", headers=manager.headers)).json()
    rates = {g["group"]: (g["sent"], g["joined"], g["response_rate"]) for g in campaign["groups"]}
    assert rates == {"ethnicity:K": (10, 2, 0.2), "ethnicity:R": (10, 1, 0.1)}
    assert campaign["joined"] == 3

    from prg.accounts.services import practice_access
    from prg.recruitment.services import list_campaigns

    access = await practice_access(manager.user_id, "Y90001")
    assert [c.id for c in await list_campaigns(access, date.today(), date.today())] == [campaign_id]
    assert await list_campaigns(access, date.today() + timedelta(days=1), None) == []

    poster = await client.post(f"{BASE}/campaigns", headers=manager.headers, json={
        "channel": "poster", "sent_on": today, "name": "Waiting-room posters", "total_sent": 4,
        "groups": ["ethnicity:K"]})
    assert poster.status_code == 201 and poster.json()["groups"][0]["joined"] == 1
    future = await client.post(f"{BASE}/campaigns", headers=manager.headers, json={
        "channel": "poster", "sent_on": "2999-01-01", "name": "x"})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "sent_on"


async def test_a_practice_uses_its_own_wording(client, manager):
    url = f"{BASE}/templates/recruitment_core/en"
    shipped = (await client.get(url, headers=manager.headers)).json()
    assert shipped["overridden"] is False and "Patient Reference Group" in shipped["body"]
    listing = (await client.get(f"{BASE}/templates", headers=manager.headers)).json()
    assert {(t["kind"], t["language"]) for t in listing} >= {("sms", "ur"), ("poster", "bn"), ("follow_up", "pl")}
    assert next(t for t in listing if t["language"] == "ur")["direction"] == "rtl"

    for body, needle in [("{% for x in range(9) %}x{% endfor %}", "For"), ("{{ practice.__class__ }}", "__class__"),
                         ("{{ nonsense }}", "nonsense"), ("{% if %}", "syntax")]:
        refused = await client.put(url, headers=manager.headers, json={"body": body})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body", body
        assert needle in refused.json()["errors"][0]["message"], refused.json()
    own = "# Come and join us\n\nHello {{ patient.first_name }}, call {{ practice.phone | default('us') }}."
    stored = await client.put(url, headers=manager.headers, json={"body": own})
    assert stored.status_code == 200 and stored.json()["overridden"] is True
    response = await mail(client, manager, groups="ethnicity:R", sample_per_group=3, seed="1")
    html = unzip(response.content)["html"].decode()
    english = html.count("Come and join us")
    assert english >= 1 and "Hello " in html
    assert (await client.delete(url, headers=manager.headers)).status_code == 204
    assert (await client.get(url, headers=manager.headers)).json()["overridden"] is False
    assert (await client.get(f"{BASE}/templates/letter/xx", headers=manager.headers)).status_code == 404


async def test_posters_and_leaflets(client, manager, configure):
    configure(public_base_url="https://prg.example.nhs.uk")
    poster = await client.get(f"{BASE}/poster.html?phone=01234%20567890", headers=manager.headers)
    assert poster.status_code == 200 and poster.headers["content-type"] == "text/html; charset=utf-8"
    assert 'filename="Y90001-poster-a4-en-' in poster.headers["content-disposition"]
    assert "size: A4" in poster.text and "<svg" in poster.text and "prg.example.nhs.uk/join/Y90001" in poster.text
    leaflet = await client.get(f"{BASE}/leaflet.docx?language=pl", headers=manager.headers)
    assert leaflet.status_code == 200
    document = docx.Document(io.BytesIO(leaflet.content))
    section = document.sections[0]
    assert round(section.page_width.mm) == 148 and round(section.page_height.mm) == 210
    assert any("Zeskanuj kod QR" in p.text for p in document.paragraphs)
    assert len(document.inline_shapes) == 1
    survey = await client.get(f"{BASE}/poster.html?survey=abcdEFGH1234", headers=manager.headers)
    assert "prg.example.nhs.uk/s/abcdEFGH1234" in survey.text
    assert (await client.get(f"{BASE}/poster.docx?language=xx", headers=manager.headers)).status_code == 422
