"""Population profiles: dated snapshots of a practice's registered patients along one dimension.

Imports only ever add a profile, so the history of what was imported stays; "the latest per dimension" is
one index probe on (practice, dimension, extract_date, id) (see the migration). Counts live one row per
group, small in number (a profile of sex x single year of age has 192 rows), in the order of the source.
"""

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from prg.accounts.tables import Practice, StaffUser


class PopulationProfile(Table):
    """One imported (or entered) snapshot of the registered list along one dimension.

    `dimension` is `age_sex` (sex x age, from the NHS Digital files: `age_detail` says `single_year` or
    `five_year`), `ethnicity` (NHS Data Dictionary ETHNIC CATEGORY codes) or `custom:<key>`, where `key` is
    the member characteristic the groups are matched against (e.g. `custom:carer`) and `label` is the
    dimension's name as the practice writes it ("Carer status").
    """

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    dimension = Varchar(length=60)
    label = Varchar(length=100, default="")
    age_detail = Varchar(length=12, default="")  # single_year | five_year (age_sex only)
    extract_date = Date()
    source_filename = Varchar(length=300, default="")
    publication = Varchar(length=100, default="")
    total = Integer()
    created_at = Timestamptz()
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, default=None)


class PopulationCount(Table):
    """Registered patients in one group of a profile.

    Age rows carry `sex` and the ages `age_from`..`age_to` inclusive (`age_to` null: "and over", NHS
    Digital's top-coded 95+); ethnicity and custom rows carry `category` (the ETHNIC CATEGORY code, or the
    custom group's name). `position` keeps the source's order.
    """

    profile = ForeignKey(references=PopulationProfile, on_delete=OnDelete.cascade, index=True)
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade)
    position = Integer()
    sex = Varchar(length=6, default="")
    age_from = Integer(null=True, default=None)
    age_to = Integer(null=True, default=None)
    category = Varchar(length=100, default="")
    patients = Integer()
