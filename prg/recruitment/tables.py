from piccolo.columns import JSON, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from prg.accounts.tables import Practice


class Campaign(Table):
    """A recruitment step taken, kept as evidence: a targeted mailing (letters, e-mails, texts) or posters and
    leaflets put out. The patient list a mailing was drawn from is never stored: only what is here."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    sent_on = Date()
    channel = Varchar(length=20)  # letter | email | sms | poster | leaflet | prescription | website | other
    template = Varchar(length=30, default="")  # the template kind used (recruitment_core ...)
    name = Varchar(length=100, default="")
    total_sent = Integer(default=0)
    language_counts = JSON(default="{}")  # template language -> pieces sent in it
    excluded = JSON(default="{}")  # reason -> patients left out (members, no address, under the age...)
    seed = Varchar(length=40, default="")  # the random sample's seed, so the choice can be repeated
    notes = Text(default="")
    created_at = Timestamptz()


class CampaignGroup(Table):
    """One target group of a campaign: how many patients of the list were eligible, and how many were sent to."""

    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.cascade, index=True)
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    group_key = Varchar(length=80)  # age_x_sex:female:16-24 | ethnicity:K | flag:carer ...
    label = Varchar(length=150)
    eligible = Integer(default=0)
    sent = Integer(default=0)


class TemplateOverride(Table):
    """A practice's own wording for one template kind in one language (unique per practice, kind, language)."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=30)
    language = Varchar(length=10)
    body = Text()
    updated_at = Timestamptz()
