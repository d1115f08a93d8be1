"""The patient list reader and the choice of recipients, on small golden inputs and the demo list."""

from __future__ import annotations

from datetime import date

import pytest

from prg.errors import BadFile, FileTooLarge, InvalidInput
from prg.recruitment.patient_list import flag_key, parse_birth_date, read_patient_list, valid_nhs_number
from prg.recruitment.targeting import band_range, choose, parse_group
from tests.helpers import DATA

TODAY = date(2026, 11, 24)


def read(text: str, **kwargs):
    return read_patient_list(text.encode(), "list.csv", max_rows=kwargs.pop("max_rows", 1000), today=TODAY, **kwargs)


def test_nhs_number_check_digit():
    # 943 476 5919 is the NHS's published example of a valid number.
    assert valid_nhs_number("9434765919")
    assert not valid_nhs_number("9434765918") and not valid_nhs_number("943476591") and not valid_nhs_number("94347659x9")
    # A check digit of 10 means the number is never issued.
    assert not any(valid_nhs_number(f"000000006{d}") for d in range(10))


@pytest.mark.parametrize("text", ["27-Jun-1980", "27/06/1980", "1980-06-27", "27.06.1980", "27 June 1980", "27 Jun 1980"])
def test_dates_of_birth_in_the_formats_clinical_systems_write(text):
    assert parse_birth_date(text, TODAY) == date(1980, 6, 27)


def test_bad_dates_of_birth():
    for text, message in [("2026-11-25", "in the future"), ("1889-12-31", "before 1890"), ("31/02/1980", "not a date"),
                          ("", "blank"), ("06/27/1980", "not a date")]:
        with pytest.raises(ValueError, match=message):
            parse_birth_date(text, TODAY)


def test_headers_are_matched_tolerantly_and_yes_no_columns_become_flags():
    listing = read("nhs_number;First Name;SURNAME;D.O.B.;Gender;Address line 1;Post Code;Preferred Language;"
                   "Carer (Y/N);Usual GP;Opt-out\n"
                   "943 476 5919;Ann;Lee;01/02/1950;F;1 Road;rv1 1aa;Polski;Y;Dr Who;N\n"
                   "9434765870;Bob;Lee;1951-03-04;M;2 Road;RV1 1AB;;n;Dr No;yes\n")
    ann, bob = listing.patients
    assert listing.flag_columns == {"carer_y_n": "Carer (Y/N)"}  # "Usual GP" is not yes/no
    assert (ann.nhs_number, ann.first_name, ann.date_of_birth, ann.sex, ann.postcode, ann.language) == (
        "9434765919", "Ann", date(1950, 2, 1), "female", "RV1 1AA", "Polski")
    assert ann.flags == {"carer_y_n"} and not bob.flags
    assert not ann.do_not_contact and bob.do_not_contact
    assert flag_key("Carer (Y/N)") == "carer_y_n"


def test_missing_columns_name_what_is_needed_and_what_was_found():
    with pytest.raises(BadFile) as caught:
        read("NHS Number,Name,Birth year\n9434765919,Ann Lee,1950\n")
    message = caught.value.errors[0].message
    assert "Forename" in message and "Date of Birth" in message and "Name, Birth year" in message


def test_every_bad_row_is_reported_with_its_number():
    header = "NHS Number,Forename,Surname,DOB,Sex,Address,Postcode,Ethnic Category Code\n"
    with pytest.raises(InvalidInput) as caught:
        read(header + "9434765918,A,B,01/01/1950,F,1 Road,RV1 1AA,A\n"
                      "9434765919,A,B,01/01/2027,F,1 Road,RV1 1AA,A\n"
                      ",A,B,01/01/1950,F,1 Road,RV1 1AA,Q\n"
                      ",C,D,01/01/1950,F,1 Road,RV1 1AA,A\n"
                      ",C,D,01/01/1950,F,1 road,RV11AA,A\n")
    rows = {(e.row, e.column): e.message for e in caught.value.errors}
    assert "not a valid NHS number" in rows[(2, "NHS Number")]
    assert "future" in rows[(3, "DOB")]
    assert "ethnic category" in rows[(4, "Ethnic Category Code")]
    assert "the same patient as row 5" in rows[(6, None)]


def test_a_shared_nhs_number_with_different_birth_dates_is_a_warning_not_a_duplicate():
    listing = read("NHS Number,Forename,Surname,DOB,Sex,Address,Postcode\n"
                   "9434765919,A,B,01/01/1950,F,1 Road,RV1 1AA\n"
                   "9434765919,C,D,02/02/1960,M,2 Road,RV1 1AB\n")
    assert len(listing.patients) == 2 and "Rows 2 and 3" in listing.warnings[0]


def test_too_many_rows():
    with pytest.raises(FileTooLarge, match="more than 3 rows"):
        read("Forename,Surname,DOB,Sex,Address\n" + "A,B,01/01/1950,F,1 Road\n" * 5, max_rows=3)


def test_the_demo_list_reads_whole():
    listing = read_patient_list((DATA / "practice-reports" / "Y90001-patient-list.csv").read_bytes(),
                                "Y90001-patient-list.csv", max_rows=100_000, today=TODAY)
    assert len(listing.patients) == 12_400 and listing.flag_columns == {"carer": "Carer"}
    assert sum(p.ethnic_category == "K" for p in listing.patients) == 470
    assert sum("carer" in p.flags for p in listing.patients) == 702


def test_group_keys():
    assert band_range("16-24") == (16, 24) and band_range("75+") == (75, None) and band_range("Under 16") == (0, 15)
    assert parse_group("age_x_sex:male:16-24").label == "Men aged 16-24"
    assert parse_group("ethnicity:K").label == "Asian or Asian British - Bangladeshi"
    for bad in ("ethnicity:Z", "age:old", "colour:red", "sex:other", "flag:Bad Key"):
        with pytest.raises(ValueError):
            parse_group(bad)


def test_choice_exclusions_members_and_sampling():
    listing = read("Forename,Surname,DOB,Sex,Address,Postcode,Ethnic Category Code,Do not contact\n"
                   "Ann,Lee,01/01/1950,F,1 Road,RV1 1AA,K,no\n"
                   "Bea,Lee,01/01/1951,F,2 Road,RV1 1AB,K,yes\n"
                   "Cat,Lee,01/01/2015,F,3 Road,RV1 1AC,K,no\n"
                   "Dee,Lee,01/01/1952,F,,,K,no\n"
                   "Eve,Lee,01/01/1953,F,5 Road,RV1 1AE,K,no\n"
                   "Fay,Lee,01/01/1954,F,6 Road,RV1 1AF,A,no\n"
                   "Gus,Lee,01/01/1955,M,7 Road,RV1 1AG,K,no\n")
    members = [{"first_name": "eve", "last_name": "LEE", "postcode": "rv11ae", "birth_year": 1953},
               {"first_name": "Gus", "last_name": "Lee", "postcode": "RV1 1AG", "birth_year": 1990}]  # not Gus
    selection = choose(listing.patients, [parse_group("ethnicity:K")], on=TODAY, channel="letter", min_age=16,
                       members=members)
    assert [p.first_name for p in selection.chosen] == ["Ann", "Gus"]
    assert dict(selection.excluded) == {"do_not_contact": 1, "under_min_age": 1, "no_address": 1, "member": 1}
    by_email = choose(listing.patients, [parse_group("ethnicity:K")], on=TODAY, channel="email", min_age=16,
                      members=[])
    assert by_email.chosen == [] and by_email.excluded["no_email"] == 4
    sample = choose(listing.patients, [parse_group("ethnicity:K"), parse_group("sex:female")], on=TODAY,
                    channel="letter", min_age=16, members=[], sample_per_group=1, seed="x")
    assert sample.eligible == {"ethnicity:K": 3, "sex:female": 3} and len(sample.chosen) in (1, 2)
