"""The PRG collation workbook: the practice's "Excel tool for collating PRG data", live.

Sheets:
- **Members** (first, so the same workbook uploads back through the register importer): one row per
  member, columns named as `prg.members.importer` reads them, drop-down lists (data validation) for sex,
  age band, ethnic category, participation, status, channel and preferred contact, and 1,000 spare rows
  carrying the same lists for new members. No formula on this sheet: uploads refuse formulas.
- **Practice profile**: the registered population by sex, DES age band and high-level ethnic group, from
  the latest imported NHS Digital / ethnicity profiles (with their extract dates).
- **Comparison**: per group, patients and practice %, then PRG members and PRG % as live formulas
  (COUNTIFS over the Members sheet, active members only), and the difference in percentage points, so
  the workbook keeps working offline as rows are added; native charts of practice % against PRG % by age
  band and by ethnic group. Each formula carries its cached value (computed here the same way), so the
  figures show before Excel recalculates.
- **Calc** (hidden): each Members row's DES age band (from its birth year at the profile's extract date,
  birthday assumed 1 July as `prg.population.dimensions.age_at` does, else its age band if it is a DES
  band) and its high-level ethnic group, for the COUNTIFS.
- **Lists** (hidden): the drop-down values.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from exports.safe import SafeSheet
from prg.members.importer import map_headers
from prg.population.dimensions import ETHNIC_CATEGORIES, HIGH_LEVEL_GROUPS, STATED_CODES, high_level_group

SPARE_ROWS = 1000
DES_BANDS = ["Under 16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
DES_LOWER = [0, 16, 25, 35, 45, 55, 65, 75]
SEXES = ["female", "male", "other", "not_stated", "not_known"]
PARTICIPATION = ["core", "virtual", "both"]
STATUSES = ["invited", "active", "left"]
CHANNELS = ["letter", "poster", "leaflet", "website", "clinician", "prescription", "email", "self_signup", "other"]
CONTACTS = ["email", "phone", "sms", "post"]
# (header, member field); the headers are ones prg.members.importer recognises.
COLUMNS = [("Reference", "reference"), ("Title", "title"), ("First name", "first_name"), ("Last name", "last_name"),
           ("Email", "email"), ("Phone", "phone"), ("Address", "address"), ("Postcode", "postcode"),
           ("Preferred contact", "preferred_contact"), ("Participation", "participation"), ("Status", "status"),
           ("Joined", "joined_on"), ("Left", "left_on"), ("Channel", "recruitment_channel"), ("Sex", "sex"),
           ("Birth year", "birth_year"), ("Age band", "age_band"), ("Ethnicity", "ethnic_category")]
COL = {f: i for i, (_, f) in enumerate(COLUMNS)}


def ethnicity_label(code: str) -> str:
    return f"{code} - {ETHNIC_CATEGORIES.get(code, code)}"


@dataclass
class ProfileTable:
    """One dimension of the practice profile: groups as (key, label, patients)."""

    title: str
    extract_date: date
    groups: list[tuple[str, str, int]]


@dataclass
class CollationData:
    ods_code: str
    practice_name: str
    members: list[Mapping[str, Any]]
    characteristic_keys: list[str] = field(default_factory=list)
    sex: ProfileTable | None = None
    age: ProfileTable | None = None
    ethnicity: ProfileTable | None = None


def member_age_band(member: Mapping[str, Any], on: date) -> str:
    """What the Calc sheet's formula gives for a member (kept in step with `_age_formula`)."""
    born = member.get("birth_year")
    if born is not None:
        if born > on.year:
            return ""
        age = max(0, on.year - born - (0 if on.month >= 7 else 1))
        return next(label for label, lower in zip(reversed(DES_BANDS), reversed(DES_LOWER)) if age >= lower)
    band = (member.get("age_band") or "").strip()
    return band if band in DES_BANDS else ""


def _age_formula(r: int, ref: str) -> str:
    born = xl_rowcol_to_cell(r, COL["birth_year"])
    band = xl_rowcol_to_cell(r, COL["age_band"])
    lowers = ",".join(str(x) for x in DES_LOWER)
    labels = ",".join(f'"{b}"' for b in DES_BANDS)
    return (f'=IF(Members!{born}<>"",IF(Members!{born}>YEAR({ref}),"",LOOKUP(MAX(0,YEAR({ref})-Members!{born}'
            f'-IF(MONTH({ref})>=7,0,1)),{{{lowers}}},{{{labels}}})),'
            f'IF(ISNUMBER(MATCH(Members!{band},Lists!$E$2:$E$9,0)),Members!{band},""))')


def _group_formula(r: int) -> str:
    cell = xl_rowcol_to_cell(r, COL["ethnic_category"])
    return f'=IFERROR(VLOOKUP(LEFT(Members!{cell},FIND(" ",Members!{cell}&" ")-1),Lists!$G$2:$H$17,2,FALSE),"")'


def write_collation_workbook(data: CollationData, today: date | None = None, spare_rows: int = SPARE_ROWS) -> bytes:
    today = today or date.today()
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"strings_to_formulas": False, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    head = book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7"})
    title = book.add_format({"bold": True, "font_size": 14})
    pct = book.add_format({"num_format": "0.0%"})
    pp = book.add_format({"num_format": "+0.0;-0.0;0.0"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    note = book.add_format({"italic": True, "font_color": "#555555"})

    members_ws = book.add_worksheet("Members")
    profile_ws = book.add_worksheet("Practice profile")
    comparison_ws = book.add_worksheet("Comparison")
    calc_ws = book.add_worksheet("Calc")
    lists_ws = book.add_worksheet("Lists")
    calc_ws.hide()
    lists_ws.hide()
    members_ws.activate()

    # Lists
    lists = SafeSheet(lists_ws)
    for col, (name, values) in enumerate([("Sex", SEXES), ("Participation", PARTICIPATION), ("Status", STATUSES),
                                          ("Channel", CHANNELS), ("Age band", DES_BANDS),
                                          ("Ethnicity", [ethnicity_label(c) for c in ETHNIC_CATEGORIES])]):
        lists.text(0, col, name, head)
        for r, value in enumerate(values, start=1):
            lists.text(r, col, value)
    lists.header(0, ["Code", "Group"], head, col=6)
    for r, code in enumerate(STATED_CODES, start=1):
        lists.text(r, 6, code)
        lists.text(r, 7, high_level_group(code) or "")
    lists.text(0, 8, "Preferred contact", head)
    for r, value in enumerate(CONTACTS, start=1):
        lists.text(r, 8, value)

    # Members
    members = SafeSheet(members_ws)
    headers = [h for h, _ in COLUMNS] + list(data.characteristic_keys)
    members.header(0, headers, head)
    members_ws.freeze_panes(1, 4)
    members_ws.set_column(0, len(headers) - 1, 14)
    members_ws.set_column(COL["address"], COL["address"], 30)
    members_ws.set_column(COL["ethnic_category"], COL["ethnic_category"], 34)
    for r, member in enumerate(data.members, start=1):
        for col, (_, name) in enumerate(COLUMNS):
            value = member.get(name)
            if name == "ethnic_category":
                members.text(r, col, ethnicity_label(value or "99"))
            elif name == "birth_year":
                members.number(r, col, value)
            elif name in ("joined_on", "left_on"):
                if value:
                    members.value(r, col, value, day)
            else:
                members.text(r, col, value or "")
        characteristics = member.get("characteristics") or {}
        for offset, key in enumerate(data.characteristic_keys):
            members.text(r, len(COLUMNS) + offset, characteristics.get(key, ""))
    last = len(data.members) + spare_rows
    validations = [("sex", "=Lists!$A$2:$A$6"), ("participation", "=Lists!$B$2:$B$4"),
                   ("status", "=Lists!$C$2:$C$4"), ("recruitment_channel", "=Lists!$D$2:$D$10"),
                   ("ethnic_category", f"=Lists!$F$2:$F${len(ETHNIC_CATEGORIES) + 1}"),
                   ("preferred_contact", "=Lists!$I$2:$I$5")]
    for name, source in validations:
        members_ws.data_validation(1, COL[name], last, COL[name], {
            "validate": "list", "source": source, "error_title": "Choose from the list",
            "error_message": "Pick a value from the drop-down list."})
    # Age band: the DES bands are offered, other bands ("25-29") are allowed with a warning.
    members_ws.data_validation(1, COL["age_band"], last, COL["age_band"], {
        "validate": "list", "source": "=Lists!$E$2:$E$9", "error_type": "warning",
        "error_message": "Not a DES age band: the comparison counts only the bands listed (or a birth year)."})
    members_ws.data_validation(1, COL["birth_year"], last, COL["birth_year"], {
        "validate": "integer", "criteria": "between", "minimum": 1890, "maximum": today.year,
        "error_message": "A year of birth, e.g. 1950."})
    for name in ("joined_on", "left_on"):
        members_ws.write_blank(last, COL[name], None, day)

    # Practice profile
    profile = SafeSheet(profile_ws)
    profile_ws.set_column(0, 0, 34)
    profile_ws.set_column(1, 3, 16)
    profile.text(0, 0, f"{data.practice_name} ({data.ods_code}): registered patients", title)
    reference = next((t.extract_date for t in (data.age, data.sex, data.ethnicity) if t), today)
    profile.text(1, 0, "Ages are worked out at")
    profile.value(1, 1, reference, day)
    ref = "'Practice profile'!$B$2"
    row = 3
    where: dict[str, tuple[int, ProfileTable | None]] = {}
    for key, table, fallback in (("sex", data.sex, "Sex"), ("age", data.age, "Age band (DES)"),
                                 ("ethnicity", data.ethnicity, "Ethnic group")):
        if table is None:
            profile.text(row, 0, f"{fallback}: no population profile imported yet", note)
            where[key] = (row, None)
            row += 2
            continue
        profile.text(row, 0, table.title, head)
        profile.text(row, 1, "Patients", head)
        profile.text(row, 2, "Extract date", head)
        profile.value(row, 3, table.extract_date, day)
        where[key] = (row + 1, table)
        for offset, (_, label, patients) in enumerate(table.groups, start=1):
            profile.text(row + offset, 0, label)
            profile.number(row + offset, 1, patients)
        row += len(table.groups) + 2

    # Calc (hidden): per Members row, the age band and ethnic group the comparison counts.
    calc = SafeSheet(calc_ws)
    calc.header(0, ["Age band", "Ethnic group"])
    for r in range(1, last + 1):
        member = data.members[r - 1] if r <= len(data.members) else {}
        calc.formula(r, 0, _age_formula(r, ref), cached=member_age_band(member, reference) if member else "")
        code = member.get("ethnic_category") or "" if member else ""
        calc.formula(r, 1, _group_formula(r), cached=high_level_group(code) or "" if code in STATED_CODES else "")

    # Comparison
    comparison = SafeSheet(comparison_ws)
    comparison_ws.set_column(0, 0, 30)
    comparison_ws.set_column(1, 6, 14)
    comparison.text(0, 0, f"{data.practice_name} ({data.ods_code}): PRG against the practice", title)
    comparison.text(1, 0, "PRG figures are formulas over the Members sheet (active members): edit the members "
                          "and they update.", note)
    status = f"Members!$K$2:$K${last + 1}"
    active = [m for m in data.members if m.get("status") == "active"]
    row = 3
    charts = []
    specs = [
        ("sex", "Sex", f"Members!$O$2:$O${last + 1}",
         {g: sum(1 for m in active if m.get("sex") == g) for g in ("female", "male")}),
        ("age", "Age band", f"Calc!$A$2:$A${last + 1}",
         {b: sum(1 for m in active if member_age_band(m, reference) == b) for b in DES_BANDS}),
        ("ethnicity", "Ethnic group", f"Calc!$B$2:$B${last + 1}",
         {g: sum(1 for m in active if m.get("ethnic_category") in STATED_CODES
                 and high_level_group(m["ethnic_category"]) == g) for g in HIGH_LEVEL_GROUPS}),
    ]
    for key, name, criteria_range, cached_counts in specs:
        first_row, table = where[key]
        groups = table.groups if table else [(g, g, 0) for g in cached_counts]
        comparison.header(row, [name, "Patients", "Practice %", "PRG members", "PRG %", "Difference (points)"], head)
        top = row + 1
        bottom = row + len(groups)
        members_total = sum(cached_counts.get(k, 0) for k, _, _ in groups)
        patients_total = sum(p for _, _, p in groups)
        for offset, (group_key, label, patients) in enumerate(groups):
            r = top + offset
            comparison.text(r, 0, label)
            if table:
                comparison.formula(r, 1, f"='Practice profile'!{xl_rowcol_to_cell(first_row + offset, 1)}",
                                   cached=patients)
            else:
                comparison.text(r, 1, "no profile", note)
            patients_range = f"$B${top + 1}:$B${bottom + 1}"
            members_range = f"$D${top + 1}:$D${bottom + 1}"
            practice_share = patients / patients_total if patients_total else 0
            comparison.formula(r, 2, f"=IF(SUM({patients_range})=0,0,B{r + 1}/SUM({patients_range}))", pct,
                               cached=practice_share)
            count = cached_counts.get(group_key, 0)
            comparison.formula(r, 3, f'=COUNTIFS({criteria_range},"{group_key}",{status},"active")',
                               cached=count)
            prg_share = count / members_total if members_total else 0
            comparison.formula(r, 4, f"=IF(SUM({members_range})=0,0,D{r + 1}/SUM({members_range}))", pct,
                               cached=prg_share)
            comparison.formula(r, 5, f"=(E{r + 1}-C{r + 1})*100", pp, cached=(prg_share - practice_share) * 100)
        comparison.text(bottom + 1, 0, "Total")
        comparison.formula(bottom + 1, 1, f"=SUM(B{top + 1}:B{bottom + 1})", cached=patients_total)
        comparison.formula(bottom + 1, 3, f"=SUM(D{top + 1}:D{bottom + 1})", cached=members_total)
        if key in ("age", "ethnicity"):
            charts.append((name, top, bottom))
        row = bottom + 3
    for i, (name, top, bottom) in enumerate(charts):
        chart = book.add_chart({"type": "column"})
        for col, series in ((2, "Practice %"), (4, "PRG %")):
            chart.add_series({"name": series, "categories": ["Comparison", top, 0, bottom, 0],
                              "values": ["Comparison", top, col, bottom, col]})
        chart.set_title({"name": f"Practice against PRG by {name.lower()}"})
        chart.set_y_axis({"num_format": "0%", "name": "Share"})
        comparison_ws.insert_chart(3 + i * 18, 7, chart)
    book.close()
    return output.getvalue()


def collation_sheet_fields(headers: Sequence[str]) -> set[str]:
    """The member fields an uploaded Members sheet carries (what an update may change)."""
    fields, address, extra = map_headers(list(headers))
    found = {"birth_year" if f == "date_of_birth" else f for f in fields.values()}
    if address:
        found.add("address")
    if extra:
        found.add("characteristics")
    return found
