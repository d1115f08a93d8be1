from piccolo.columns import JSON, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from prg.accounts.tables import Practice


class Member(Table):
    """A member of a practice's Patient Reference Group. `reference` is unique per practice
    (see the migration) and is what spreadsheets use to match rows back to members."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    reference = Varchar(length=20)
    title = Varchar(length=20, default="")
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    email = Varchar(length=254, default="")
    phone = Varchar(length=30, default="")
    address = Text(default="")
    postcode = Varchar(length=10, default="")
    preferred_contact = Varchar(length=10, null=True, default=None)
    participation = Varchar(length=10, default="virtual")  # core | virtual | both
    status = Varchar(length=10, default="active", index=True)  # invited | active | left
    joined_on = Date(null=True, default=None)
    left_on = Date(null=True, default=None)
    recruitment_channel = Varchar(length=20, default="other")
    # Characteristics for representativeness: a birth year or an age band, never a date of birth.
    sex = Varchar(length=12, default="not_known")
    birth_year = Integer(null=True, default=None)
    age_band = Varchar(length=20, default="")
    ethnic_category = Varchar(length=2, default="99")
    characteristics = JSON(default="{}")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Consent(Table):
    """What a member agreed to, when, how and in which wording; withdrawal is recorded, not deleted."""

    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    purpose = Varchar(length=20)  # prg_contact | monitoring
    given_at = Timestamptz()
    method = Varchar(length=10)  # paper | web | verbal | email | phone
    wording_version = Varchar(length=50)
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawal_method = Varchar(length=10, default="")
