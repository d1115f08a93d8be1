"""Turning a practice's existing register spreadsheet (CSV or XLSX) into members.

Column names vary from practice to practice, so headers are matched after lower-casing and dropping
everything but letters and digits, against the synonyms below. Address lines are joined. A date of
birth column is reduced to the birth year at once (we keep no more than representativeness needs).
Other columns become practice-defined characteristics (e.g. "Carer" -> `carer`). Values are matched
leniently ("F", "Female", "Core member"...). Every bad cell of every row is reported together.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import msgspec

from prg.errors import ErrorDetail, InvalidInput
from prg.members.schemas import MemberIn
from prg.members.rules import rule_errors
from prg.population.dimensions import parse_ethnic_category
from prg.uploads import Table

FIELD_SYNONYMS = {
    "reference": ["reference", "ref", "memberref", "memberreference", "memberid", "membernumber", "prgref"],
    "title": ["title"],
    "first_name": ["firstname", "forename", "forenames", "givenname", "first"],
    "last_name": ["lastname", "surname", "familyname", "last"],
    "email": ["email", "emailaddress"],
    "phone": ["phone", "telephone", "tel", "mobile", "phonenumber", "mobilenumber", "telephonenumber", "mobilephone"],
    "postcode": ["postcode", "postalcode", "zip"],
    "preferred_contact": ["preferredcontact", "contactmethod", "preferredcontactmethod", "contactby", "contactpreference"],
    "participation": ["participation", "membershiptype", "membertype", "type", "corevirtual", "involvement"],
    "status": ["status", "memberstatus"],
    "joined_on": ["joined", "joineddate", "datejoined", "joinedon", "startdate", "datestarted"],
    "left_on": ["left", "leftdate", "dateleft", "lefton", "enddate"],
    "recruitment_channel": ["channel", "recruitmentchannel", "recruitedby", "source", "howrecruited", "recruitedvia"],
    "sex": ["sex", "gender"],
    "birth_year": ["birthyear", "yearofbirth", "yob"],
    "date_of_birth": ["dateofbirth", "dob", "birthdate"],
    "age_band": ["ageband", "agegroup", "agerange"],
    "ethnic_category": ["ethnicity", "ethniccategory", "ethnicgroup", "ethnicitycode", "ethniccode", "ethnicorigin"],
}
ADDRESS_HEADERS = ["address", "postaladdress", "address1", "address2", "address3", "address4", "addressline1",
                   "addressline2", "addressline3", "addressline4", "street", "town", "city", "county"]
_LOOKUP = {syn: field for field, syns in FIELD_SYNONYMS.items() for syn in syns}

VALUE_SYNONYMS = {
    "sex": {"f": "female", "female": "female", "woman": "female", "m": "male", "male": "male", "man": "male",
            "other": "other", "notstated": "not_stated", "prefernottosay": "not_stated", "notknown": "not_known",
            "unknown": "not_known", "u": "not_known", "indeterminate": "other"},
    "participation": {"core": "core", "coremember": "core", "meeting": "core", "virtual": "virtual",
                      "virtualmember": "virtual", "both": "both", "coreandvirtual": "both"},
    "status": {"invited": "invited", "active": "active", "current": "active", "member": "active",
               "left": "left", "former": "left", "resigned": "left"},
    "preferred_contact": {"email": "email", "phone": "phone", "telephone": "phone", "sms": "sms", "text": "sms",
                          "textmessage": "sms", "post": "post", "letter": "post"},
    "recruitment_channel": {"letter": "letter", "poster": "poster", "leaflet": "leaflet", "website": "website",
                            "web": "website", "clinician": "clinician", "gp": "clinician", "nurse": "clinician",
                            "prescription": "prescription", "email": "email", "selfsignup": "self_signup",
                            "other": "other"},
}
MAX_CHARACTERISTICS = 20


def _norm(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _key(header: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")
    return key if key and key[0].isalpha() else f"c_{key}"


def _date(value: object) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("is not a date (use e.g. 2024-03-31 or 31/03/2024)")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def map_headers(headers: list[str]) -> tuple[dict[int, str], list[int], dict[int, str]]:
    """Columns -> member fields, address columns in order, and the rest -> characteristic keys."""
    fields: dict[int, str] = {}
    address: list[int] = []
    extra: dict[int, str] = {}
    errors = []
    for index, header in enumerate(headers):
        normal = _norm(header)
        if normal in _LOOKUP:
            field = _LOOKUP[normal]
            if field in fields.values():
                errors.append(ErrorDetail(f"is a second column for {field}", row=1, column=header))
            fields[index] = field
        elif normal in ADDRESS_HEADERS:
            address.append(index)
        else:
            extra[index] = _key(header)
    missing = {"first_name", "last_name"} - set(fields.values())
    for field in sorted(missing):
        errors.append(ErrorDetail(f"no column for {field} (e.g. '{FIELD_SYNONYMS[field][0]}')", row=1))
    if len(extra) > MAX_CHARACTERISTICS:
        errors.append(ErrorDetail(f"more than {MAX_CHARACTERISTICS} unrecognised columns", row=1))
    if errors:
        raise InvalidInput("The header row does not match a PRG register.", errors)
    return fields, address, extra


def _msgspec_field(message: str) -> str | None:
    match = re.search(r"at `\$\.([a-z_]+)", message)
    return match.group(1) if match else None


def parse_members(table: Table) -> list[tuple[int, MemberIn]]:
    """Every row as (row number, MemberIn), or InvalidInput listing every bad row and column."""
    fields, address_columns, extra = map_headers(table.headers)
    column_of = {field: table.headers[i] for i, field in fields.items()}
    errors: list[ErrorDetail] = []
    members: list[tuple[int, MemberIn]] = []
    seen_refs: dict[str, int] = {}
    for number, cells in table.rows:
        row_errors: list[ErrorDetail] = []
        values: dict[str, Any] = {}
        for index, field in fields.items():
            raw = cells[index]
            if raw in (None, ""):
                continue
            try:
                if field in ("joined_on", "left_on"):
                    values[field] = _date(raw)
                elif field == "date_of_birth":
                    born = _date(raw)
                    values["birth_year"] = born.year if born else None
                elif field == "birth_year":
                    values[field] = int(float(raw))
                elif field == "ethnic_category":
                    values[field] = parse_ethnic_category(raw)
                elif field in VALUE_SYNONYMS:
                    normal = _norm(raw)
                    if normal not in VALUE_SYNONYMS[field]:
                        raise ValueError(f"{_text(raw)[:40]!r} is not one of {sorted(set(VALUE_SYNONYMS[field].values()))}")
                    values[field] = VALUE_SYNONYMS[field][normal]
                else:
                    values[field] = _text(raw)
            except ValueError as exc:
                row_errors.append(ErrorDetail(str(exc), row=number, column=table.headers[index]))
        lines = [_text(cells[i]) for i in address_columns if _text(cells[i])]
        if lines:
            values["address"] = "\n".join(lines)
        characteristics = {key: _text(cells[i]) for i, key in extra.items() if _text(cells[i])}
        if characteristics:
            values["characteristics"] = characteristics
        if not row_errors:
            try:
                member = msgspec.convert(values, MemberIn)
            except msgspec.ValidationError as exc:
                field = _msgspec_field(str(exc))
                row_errors.append(ErrorDetail(str(exc).split(" - at ")[0], row=number,
                                              column=column_of.get(field, field)))
            else:
                for problem in rule_errors(values):
                    row_errors.append(ErrorDetail(problem.message, row=number,
                                                  column=column_of.get(problem.field, problem.field)))
                if member.reference:
                    if member.reference in seen_refs:
                        row_errors.append(ErrorDetail(f"reference also used on row {seen_refs[member.reference]}",
                                                      row=number, column=column_of["reference"]))
                    seen_refs.setdefault(member.reference, number)
                members.append((number, member))
        errors.extend(row_errors)
    if errors:
        raise InvalidInput(f"{len({e.row for e in errors})} row(s) cannot be imported; nothing was imported.", errors)
    if not members:
        raise InvalidInput("The file has no members in it.", [ErrorDetail("no data rows", row=2)])
    return members
