"""The practice's patient list export (CSV or XLSX from EMIS, SystmOne, Vision...), read in memory only.

It is personal data of every patient, so it is read for the mailing and dropped: nothing from it is stored.
Reading goes through `prg.uploads` (size, archive and formula checks); then:
- Headers are matched tolerantly: case, spaces and punctuation are ignored and each field has the names
  clinical systems use ("NHS Number", "NHS No", "nhs_number"; "Forename", "First name"; "DOB", "Date of
  Birth"; "Main Language", "Preferred language"...). Columns we do not know whose every value is yes/no
  ("Carer", "Housebound") become flags that can be targeted; a do-not-contact column ("Do not contact",
  "No contact", "Opt out", "Dissent") excludes people.
- NHS numbers are 10 digits (spaces or dashes allowed) whose last digit passes the modulus 11 check; a blank
  is allowed (temporary residents), a wrong one is an error.
- Dates of birth: `27-Jun-2026`, `27/06/2026`, `2026-06-27`, `27.06.2026`, `27 June 2026`, or a date cell;
  never in the future nor before 1890. Day-first always (UK systems): 06/07/2020 is 6 July.
- The same patient twice (the same NHS number and date of birth, or without an NHS number the same names,
  date of birth and postcode) is an error naming both rows. Two rows sharing an NHS number with different
  dates of birth are two people with a mistyped number: both are kept and a warning names the rows.
Every problem is reported at once with its spreadsheet row (header = row 1); a list with any problem gives
no letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from prg.errors import BadFile, ErrorDetail, FileTooLarge, InvalidInput
from prg.population.dimensions import NOT_RECORDED, parse_ethnic_category
from prg.uploads import read_rows, shown_name

#: Canonical field -> header spellings (compared after dropping case, spaces and punctuation).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhsnumber", "nhsno", "nhs", "nhsnum", "nhsnumbers"),
    "title": ("title", "salutation"),
    "first_name": ("forename", "forenames", "firstname", "givenname", "givennames", "first"),
    "last_name": ("surname", "lastname", "familyname", "last"),
    "date_of_birth": ("dob", "dateofbirth", "birthdate", "born"),
    "sex": ("sex", "gender"),
    "ethnic_code": ("ethniccategorycode", "ethniccode", "ethnicitycode", "ethniccategory"),
    "ethnicity": ("ethnicity", "ethnicorigin", "ethnicgroup", "ethnicitydescription"),
    "address_1": ("addressline1", "address1", "addr1", "address", "houseandstreet", "street", "premises"),
    "address_2": ("addressline2", "address2", "addr2"),
    "address_3": ("addressline3", "address3", "addr3", "locality"),
    "town": ("town", "city", "posttown", "addressline4", "address4"),
    "county": ("county", "addressline5", "address5"),
    "postcode": ("postcode", "postalcode", "pcode", "postcodes"),
    "email": ("email", "emailaddress", "mail"),
    "mobile": ("mobile", "mobilenumber", "mobilephone", "mobiletelephone", "mobileno", "mobiletel"),
    "language": ("mainlanguage", "language", "preferredlanguage", "firstlanguage", "spokenlanguage",
                 "mainspokenlanguage"),
    "do_not_contact": ("donotcontact", "nocontact", "dnc", "optout", "contactoptout", "dissent",
                       "donotcontactflag"),
}
REQUIRED = {"first_name": "Forename", "last_name": "Surname", "date_of_birth": "Date of Birth", "sex": "Sex",
            "address_1": "Address Line 1"}
ADDRESS_FIELDS = ("address_1", "address_2", "address_3", "town", "county")
DATE_FORMATS = ("%d-%b-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d %b %Y", "%d %B %Y",
                "%d-%B-%Y", "%Y/%m/%d", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S")
YES = frozenset({"yes", "y", "true", "1", "x", "t"})
NO = frozenset({"no", "n", "false", "0", "f", ""})
EARLIEST_BIRTH = date(1890, 1, 1)
#: At most this many problems are listed (the count of all of them is in the message).
MAX_LISTED = 200
_NON_ALNUM = re.compile(r"[^a-z0-9]")
_NHS_SEPARATORS = re.compile(r"[\s-]")


@dataclass(frozen=True)
class Patient:
    row: int
    nhs_number: str  # 10 digits, or "" when the list has none for this patient
    title: str
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str  # female | male | not_known
    ethnic_category: str  # NHS code, "Z" not stated or "99" not known
    address_lines: tuple[str, ...]
    postcode: str
    email: str
    mobile: str
    language: str  # as the list gives it ("Polish"); "" when not recorded
    do_not_contact: bool
    flags: frozenset[str] = field(default_factory=frozenset)  # flag columns that say yes, e.g. {"carer"}

    def age_on(self, on: date) -> int:
        return on.year - self.date_of_birth.year - ((on.month, on.day) < (self.date_of_birth.month,
                                                                            self.date_of_birth.day))


@dataclass
class PatientList:
    patients: list[Patient]
    flag_columns: dict[str, str]  # flag key -> the column's header
    warnings: list[str]


def header_key(header: str) -> str:
    return _NON_ALNUM.sub("", header.casefold())


def flag_key(header: str) -> str:
    """"Carer (Y/N)" -> "carer_y_n"; keys are what a target names (flag:carer)."""
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", header.casefold())).strip("_")[:50] or "flag"


def valid_nhs_number(digits: str) -> bool:
    """Modulus 11: weights 10..2 on the first nine digits; 11 - remainder (11 -> 0, 10 -> invalid) is the tenth."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


_last_format = [DATE_FORMATS[0]]


@lru_cache(maxsize=512)
def _ethnic(text: str) -> str:
    return parse_ethnic_category(text or None)


def parse_birth_date(value: object, today: date) -> date:
    if isinstance(value, datetime):
        born = value.date()
    elif isinstance(value, date):
        born = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError("is blank")
        for fmt in (_last_format[0], *DATE_FORMATS):  # a list uses one format: try the last one first
            try:
                born = datetime.strptime(text, fmt).date()
                _last_format[0] = fmt
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"'{text[:40]}' is not a date: write it as 27-Jun-1980, 27/06/1980 or 1980-06-27")
    if born > today:
        raise ValueError(f"{born.isoformat()} is in the future")
    if born < EARLIEST_BIRTH:
        raise ValueError(f"{born.isoformat()} is before 1890")
    return born


def _sex(value: str) -> str:
    text = value.strip().casefold()
    return {"f": "female", "female": "female", "m": "male", "male": "male"}.get(text, "not_known")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _match_headers(headers: list[str], header_row: int) -> tuple[dict[str, int], dict[int, str]]:
    """Field -> column index for known headers, and the other columns (index -> header)."""
    lookup = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
    fields: dict[str, int] = {}
    others: dict[int, str] = {}
    errors = []
    for index, header in enumerate(headers):
        name = lookup.get(header_key(header))
        if name is None:
            if header.strip():
                others[index] = header.strip()
            continue
        if name in fields:
            errors.append(ErrorDetail(f"'{header[:60]}' and '{headers[fields[name]][:60]}' are both the "
                                      f"{name.replace('_', ' ')} column", row=header_row, column=header[:60]))
        fields[name] = index
    missing = [label for name, label in REQUIRED.items() if name not in fields]
    if missing:
        shown = ", ".join(h[:40] for h in headers if h.strip())[:400]
        errors.append(ErrorDetail(
            f"no column for {', '.join(missing)} (the header row has: {shown}). Export the list with these "
            "columns, or rename them", row=header_row))
    if errors:
        raise BadFile("The patient list does not have the columns a mailing needs.", errors)
    return fields, others


def read_patient_list(data: bytes, filename: str, *, max_rows: int, today: date | None = None) -> PatientList:
    """Every patient of the list, or InvalidInput / BadFile naming every bad row (see the module docstring)."""
    today = today or date.today()
    found = read_rows(data, filename, max_rows=max_rows, too_many_rows=FileTooLarge)
    if not found.rows:
        raise BadFile(f"{shown_name(filename)} is empty: it has no header row.")
    header_row, header_cells = found.rows[0]
    headers = [_text(h) for h in header_cells]
    fields, others = _match_headers(headers, header_row)
    errors = [ErrorDetail(p.message, row=p.row, column=headers[p.index] if p.index < len(headers) else None)
              for p in found.problems]
    body = found.rows[1:]
    if not body:
        raise BadFile(f"{shown_name(filename)} has a header row but no patients.")

    def cell(cells: list[object], name: str) -> object:
        index = fields.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    # Unknown columns are flags when every value is yes or no (and at least one says yes).
    flag_columns: dict[str, str] = {}
    for index, header in others.items():
        values = {_text(cells[index]).casefold() if index < len(cells) else "" for _, cells in body}
        if values <= (YES | NO) and values & YES:
            flag_columns[flag_key(header)] = header
    flag_index = {key: headers.index(header) for key, header in flag_columns.items()}

    patients: list[Patient] = []
    for number, cells in body:
        def bad(message: str, name: str) -> None:
            errors.append(ErrorDetail(message, row=number, column=headers[fields[name]][:60] if name in fields else None))

        nhs = _NHS_SEPARATORS.sub("", _text(cell(cells, "nhs_number")))
        if nhs and not valid_nhs_number(nhs):
            bad(f"'{nhs[:20]}' is not a valid NHS number (10 digits with a modulus 11 check digit)", "nhs_number")
        first, last = _text(cell(cells, "first_name")), _text(cell(cells, "last_name"))
        if not first and not last:
            bad("the patient has no name", "last_name")
        try:
            born = parse_birth_date(cell(cells, "date_of_birth"), today)
        except ValueError as exc:
            bad(f"date of birth {exc}", "date_of_birth")
            born = None
        code_source = cell(cells, "ethnic_code")
        if _text(code_source) == "" and "ethnicity" in fields:
            code_source = cell(cells, "ethnicity")
        try:
            ethnic = _ethnic(_text(code_source))
        except ValueError as exc:
            bad(str(exc)[:200], "ethnic_code" if "ethnic_code" in fields else "ethnicity")
            ethnic = NOT_RECORDED
        dnc_text = _text(cell(cells, "do_not_contact")).casefold()
        if dnc_text not in YES | NO:
            bad(f"'{dnc_text[:20]}' is not yes or no", "do_not_contact")
        if born is None:
            continue
        patients.append(Patient(
            row=number, nhs_number=nhs, title=_text(cell(cells, "title")), first_name=first, last_name=last,
            date_of_birth=born, sex=_sex(_text(cell(cells, "sex"))), ethnic_category=ethnic,
            address_lines=tuple(t for t in (_text(cell(cells, f)) for f in ADDRESS_FIELDS) if t),
            postcode=_text(cell(cells, "postcode")).upper(), email=_text(cell(cells, "email")),
            mobile=_text(cell(cells, "mobile")), language=_text(cell(cells, "language")),
            do_not_contact=dnc_text in YES,
            flags=frozenset(k for k, i in flag_index.items() if i < len(cells) and _text(cells[i]).casefold() in YES),
        ))

    warnings: list[str] = []
    by_key: dict[tuple, Patient] = {}
    by_nhs: dict[str, Patient] = {}
    for patient in patients:
        if patient.nhs_number:
            key = ("nhs", patient.nhs_number, patient.date_of_birth)
            other = by_nhs.get(patient.nhs_number)
            if other is not None and other.date_of_birth != patient.date_of_birth:
                warnings.append(f"Rows {other.row} and {patient.row} share the NHS number {patient.nhs_number} but "
                                "not the date of birth: check the number in the clinical system.")
            by_nhs.setdefault(patient.nhs_number, patient)
        else:
            key = ("name", patient.first_name.casefold(), patient.last_name.casefold(), patient.date_of_birth,
                   patient.postcode.replace(" ", ""))
        if key in by_key:
            errors.append(ErrorDetail(f"the same patient as row {by_key[key].row} (a duplicate)", row=patient.row))
        else:
            by_key[key] = patient
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        raise InvalidInput(
            f"The patient list has {len(errors):,} problem{'s' if len(errors) != 1 else ''}"
            f"{f'; the first {MAX_LISTED} are listed' if len(errors) > MAX_LISTED else ''}. Correct them and "
            "upload it again: no letters were made.", errors[:MAX_LISTED])
    return PatientList(patients, flag_columns, warnings)
