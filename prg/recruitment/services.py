"""Use cases of the recruitment pack: targeted mailings from the practice's patient list, posters and leaflets,
campaigns kept as evidence (with responses per group), and the practice's own copies of the templates.

The patient list is read in memory, used and dropped: only the campaign's figures are stored. Other features
(the Local Patient Participation Report, the year guide) read campaigns through `list_campaigns`.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import anyio.to_thread
import msgspec

import letter_templates as lt
from prg.accounts.audit.services import record
from prg.accounts.services import Identity, PracticeAccess, get_practice
from prg.db import utcnow, write_transaction
from prg.errors import ErrorDetail, InvalidInput, NotFound
from prg.members.services import register_rows
from prg.recruitment import schemas
from prg.recruitment.patient_list import PatientList, read_patient_list
from prg.recruitment.tables import Campaign, CampaignGroup, TemplateOverride
from prg.recruitment.targeting import EXCLUSION_ORDER, Selection, TargetGroup, choose, parse_group
from prg.representativeness import services as representativeness
from prg.settings import get_settings
from prg.uploads import DOCX

#: Members who join through a campaign's channel this many days after it count as its responses.
RESPONSE_WINDOW_DAYS = 90
#: The members' recruitment_channel that answers a campaign of each channel (members have no "sms").
MEMBER_CHANNEL = {"letter": "letter", "email": "email", "sms": "other", "poster": "poster", "leaflet": "leaflet",
                  "prescription": "prescription", "website": "website", "clinician": "clinician", "other": "other"}
#: The comparisons whose gaps are the default targets, as the representativeness check makes them.
DEFAULT_DIMENSIONS = ("age_x_sex", "ethnicity")
EXCLUSION_LABELS = {
    "do_not_contact": "Flagged not to be contacted", "under_min_age": "Under the minimum age",
    "no_address": "No postal address", "no_email": "No e-mail address", "no_mobile": "No mobile number",
    "member": "Already on the PRG register",
}


class MailingOptions(msgspec.Struct, forbid_unknown_fields=True):
    template: schemas.LetterKind = "recruitment_core"
    channel: schemas.MailingChannel = "letter"
    groups: list[schemas.GroupKey] | None = None  # default: the gaps from the recruitment targets
    min_ratio: float = 0.8  # for the default targets, as /recruitment/targets
    sample_per_group: int | None = None
    seed: str | None = None
    name: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    meeting_date: date | None = None
    meeting_time: str = ""
    meeting_place: str = ""


@dataclass
class Download:
    content: bytes
    filename: str
    media_type: str
    campaign_id: int | None = None


# ---------------------------------------------------------------------------------------------------------
# Practice details and templates
# ---------------------------------------------------------------------------------------------------------


async def practice_details(access: PracticeAccess, *, contact_name: str = "", phone: str = "",
                           email: str = "") -> lt.PracticeDetails:
    practice = await get_practice(access)
    return lt.PracticeDetails(name=practice.name, address=practice.address or "", postcode=practice.postcode or "",
                              phone=phone, email=email, contact_name=contact_name)


def public_base(request_base: str) -> str:
    """The address patients reach us at: PRG_PUBLIC_BASE_URL, else the one the request came in on."""
    return (get_settings().public_base_url or request_base).rstrip("/")


def short_form(url: str) -> str:
    return url.split("://", 1)[-1]


async def _overrides(practice_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    rows = await TemplateOverride.select().where(TemplateOverride.practice == practice_id)
    return {(r["kind"], r["language"]): r for r in rows}


def _check_kind_language(kind: str, language: str) -> None:
    errors = []
    if kind not in lt.KINDS:
        errors.append(ErrorDetail(f"use one of {', '.join(lt.KINDS)}", field="kind"))
    if language not in lt.languages():
        errors.append(ErrorDetail(f"use one of {', '.join(lt.languages())}", field="language"))
    if errors:
        raise NotFound(f"No {kind[:30]} template in {language[:10]}.", errors)


async def list_templates(access: PracticeAccess) -> list[schemas.TemplateInfo]:
    overrides = await _overrides(access.practice_id)
    return [schemas.TemplateInfo(kind=kind, description=description, language=code, language_name=lang.name,
                                 direction=lang.direction, reviewed=lang.reviewed,
                                 overridden=(kind, code) in overrides)
            for kind, description in lt.KINDS.items() for code, lang in lt.languages().items()]


async def get_template(access: PracticeAccess, kind: str, language: str) -> schemas.TemplateText:
    _check_kind_language(kind, language)
    own = (await _overrides(access.practice_id)).get((kind, language))
    if own:
        return schemas.TemplateText(kind, language, own["body"], True, own["updated_at"])
    return schemas.TemplateText(kind, language, lt.shipped_source(kind, language), False)


async def set_template(access: PracticeAccess, kind: str, language: str, body: str,
                       actor: Identity) -> schemas.TemplateText:
    """Store the practice's own copy, after checking it can only print fields (see letter_templates)."""
    _check_kind_language(kind, language)
    try:
        lt.check_template(body)
    except lt.TemplateProblem as exc:
        detail = f"line {exc.line}: {exc.message}" if exc.line else exc.message
        raise InvalidInput("The template cannot be used.", [ErrorDetail(detail, field="body")]) from None
    async with write_transaction():
        where = ((TemplateOverride.practice == access.practice_id) & (TemplateOverride.kind == kind)
                 & (TemplateOverride.language == language))
        now = utcnow()
        if await TemplateOverride.exists().where(where):
            await TemplateOverride.update({TemplateOverride.body: body, TemplateOverride.updated_at: now}).where(where)
        else:
            await TemplateOverride.insert(TemplateOverride(practice=access.practice_id, kind=kind, language=language,
                                                           body=body, updated_at=now))
        await record("recruitment.template.set", actor, practice_id=access.practice_id, entity="template",
                     details={"kind": kind, "language": language})
    return await get_template(access, kind, language)


async def reset_template(access: PracticeAccess, kind: str, language: str, actor: Identity) -> None:
    """Go back to the shipped wording."""
    _check_kind_language(kind, language)
    async with write_transaction():
        where = ((TemplateOverride.practice == access.practice_id) & (TemplateOverride.kind == kind)
                 & (TemplateOverride.language == language))
        if not await TemplateOverride.exists().where(where):
            raise NotFound(f"The practice has no own {kind} template in {language}.")
        await TemplateOverride.delete().where(where)
        await record("recruitment.template.reset", actor, practice_id=access.practice_id, entity="template",
                     details={"kind": kind, "language": language})


# ---------------------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------------------


async def default_groups(access: PracticeAccess, min_ratio: float, min_age: int) -> tuple[list[TargetGroup], list[str]]:
    """The groups the recruitment targets say to invite more of (age x sex bands, ethnic categories), leaving
    out bands wholly under the minimum age. Dimensions without a population profile are skipped, with a note."""
    groups, notes = [], []
    for dimension in DEFAULT_DIMENSIONS:
        try:
            targets = await representativeness.targets(access, representativeness.parse_spec(dimension),
                                                       min_ratio=min_ratio, max_ratio=None, acceptance_rate=None,
                                                       acceptance=None)
        except (NotFound, InvalidInput) as exc:
            notes.append(f"No {dimension.replace('_', ' ')} targets: {exc.detail}")
            continue
        for row in targets.groups:
            if not row.additional_needed:
                continue
            group = parse_group(f"{dimension}:{row.group}", row.label)
            if group.band is not None and group.band[1] is not None and group.band[1] < min_age:
                continue
            groups.append(group)
    if not groups:
        raise InvalidInput(
            "There are no default target groups: " + ("; ".join(notes) if notes else
                                                      "every group already meets its recruitment target")
            + ". Name the groups to write to.", [ErrorDetail("name target groups, e.g. ethnicity:K", field="groups")])
    return groups, notes


def _groups_from_keys(keys: list[str], patient_list: PatientList | None = None) -> list[TargetGroup]:
    groups, errors = [], []
    for key in dict.fromkeys(keys):
        try:
            group = parse_group(key)
        except ValueError as exc:
            errors.append(ErrorDetail(str(exc), field="groups"))
            continue
        if patient_list is not None and group.kind == "flag" and group.value not in patient_list.flag_columns:
            errors.append(ErrorDetail(f"the patient list has no yes/no column '{group.value}' (its flag columns: "
                                      f"{', '.join(patient_list.flag_columns) or 'none'})", field="groups"))
            continue
        groups.append(group)
    if errors:
        raise InvalidInput("The target groups cannot be used.", errors)
    return groups


def parse_options(raw: dict[str, Any]) -> MailingOptions:
    """Form fields (all text) as MailingOptions; every problem names its field."""
    values = {k: v for k, v in raw.items() if v not in (None, "")}
    if isinstance(values.get("groups"), str):
        values["groups"] = [g.strip() for g in values["groups"].split(",") if g.strip()]
    try:
        options = msgspec.convert(values, MailingOptions, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rsplit("$.", 1)[-1].split("[")[0].rstrip("`") if "$." in message else None
        raise InvalidInput("The mailing options are not valid.", [ErrorDetail(message, field=field)]) from None
    errors = []
    if options.sample_per_group is not None and not 1 <= options.sample_per_group <= 100_000:
        errors.append(ErrorDetail("must be from 1 to 100000", field="sample_per_group"))
    if not 0 < options.min_ratio <= 1:
        errors.append(ErrorDetail("must be above 0 and at most 1", field="min_ratio"))
    for name in ("name", "contact_name", "phone", "email", "meeting_time", "meeting_place", "seed"):
        text = getattr(options, name) or ""
        if len(text) > 200 or any(ord(c) < 32 for c in text):
            errors.append(ErrorDetail("must be one line of at most 200 characters", field=name))
    if errors:
        raise InvalidInput("The mailing options are not valid.", errors)
    return options


# ---------------------------------------------------------------------------------------------------------
# The mailing
# ---------------------------------------------------------------------------------------------------------


def _language_of(spoken: str) -> str:
    return lt.language_for(spoken) or lt.DEFAULT_LANGUAGE


def _build_zip(access: PracticeAccess, on: date, options: MailingOptions, practice: lt.PracticeDetails,
               groups: list[TargetGroup], selection: Selection, warnings: list[str],
               sources: dict[str, str | None], join_url: str) -> tuple[bytes, Counter]:
    """Every document of the mailing, in one ZIP (CPU-bound: runs in a worker thread)."""
    meeting = lt.MeetingDetails(options.meeting_date, options.meeting_time, options.meeting_place)
    labels = {g.key: g.label for g in groups}
    languages: Counter = Counter()
    letters, merge_rows, message_rows = [], [], []
    for patient in selection.chosen:
        language = _language_of(patient.language)
        languages[language] += 1
        recipient = lt.Recipient(patient.title, patient.first_name, patient.last_name, patient.address_lines,
                                 patient.postcode)
        context = lt.TemplateContext(practice, recipient, join_url=join_url, short_url=short_form(join_url),
                                     meeting=meeting, on=on)
        document = lt.render(options.template, language, context, sources.get(language))
        group_names = "; ".join(labels[k] for k in selection.groups_of[patient.row])
        address = list(patient.address_lines) + [""] * (5 - len(patient.address_lines))
        merge_rows.append([patient.nhs_number, patient.title, patient.first_name, patient.last_name, *address[:5],
                           patient.postcode, patient.email, patient.mobile, patient.language,
                           lt.languages()[language].name, group_names])
        if options.channel == "letter":
            letters.append(lt.Letter(document, practice, recipient, on))
        elif options.channel == "sms":
            sms = lt.split_sms(document.plain_text())
            message_rows.append([patient.nhs_number, patient.mobile, language, sms.encoding, sms.parts,
                                 " ".join(sms.segments)])
        else:
            message_rows.append([patient.nhs_number, patient.email, language, document.subject,
                                 document.plain_text()])
    stem = f"{access.ods_code}-{options.template.replace('_', '-')}-{on.isoformat()}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if options.channel == "letter":
            title = f"{practice.name}: {lt.KINDS[options.template]}, {on.isoformat()}"
            archive.writestr(f"{stem}-letters.docx", lt.letters_docx(letters, title))
            archive.writestr(f"{stem}-letters.html", lt.letters_html(letters, title))
        elif options.channel == "sms":
            archive.writestr(f"{stem}-texts.csv", lt.safe_csv(
                ["NHS number", "Mobile", "Language", "Encoding", "Segments", "Text"], message_rows))
        else:
            archive.writestr(f"{stem}-emails.csv", lt.safe_csv(
                ["NHS number", "Email", "Language", "Subject", "Body"], message_rows))
        archive.writestr(f"{stem}-mail-merge.csv", lt.safe_csv(
            ["NHS number", "Title", "First name", "Surname", "Address 1", "Address 2", "Address 3", "Address 4",
             "Address 5", "Postcode", "Email", "Mobile", "Main language", "Letter language", "Target groups"],
            merge_rows))
        summary: list[list[object]] = [["Section", "Item", "Label", "Eligible", "Chosen"]]
        summary += [["group", g.key, g.label, selection.eligible[g.key], selection.sent[g.key]] for g in groups]
        summary += [["total", "", "Letters" if options.channel == "letter" else "Messages", "",
                     len(selection.chosen)]]
        summary += [["excluded", reason, EXCLUSION_LABELS[reason], "", selection.excluded[reason]]
                    for reason in EXCLUSION_ORDER if selection.excluded[reason]]
        summary += [["language", code, lt.languages()[code].name, "", n] for code, n in sorted(languages.items())]
        if selection.seed:
            summary.append(["sample", "seed", selection.seed, "", ""])
        summary += [["warning", "", w, "", ""] for w in warnings]
        archive.writestr(f"{stem}-summary.csv", lt.safe_csv(summary[0], summary[1:]))
    return out.getvalue(), languages


async def make_mailing(access: PracticeAccess, content: bytes, filename: str, options: MailingOptions,
                       actor: Identity, request_base: str, *, today: date | None = None) -> Download:
    """Read the list, choose the recipients, render every letter or message, record the campaign, and return
    the ZIP. A list with any problem gives no letters and records nothing."""
    settings = get_settings()
    on = today or date.today()
    patient_list = await anyio.to_thread.run_sync(
        lambda: read_patient_list(content, filename, max_rows=settings.mailing_max_rows, today=on))
    notes: list[str] = []
    if options.groups:
        groups = _groups_from_keys(options.groups, patient_list)
    else:
        groups, notes = await default_groups(access, options.min_ratio, settings.mailing_min_age)
    seed = options.seed or (secrets.token_hex(8) if options.sample_per_group else "")
    selection = choose(patient_list.patients, groups, on=on, channel=options.channel,
                       min_age=settings.mailing_min_age, members=await register_rows(access.practice_id),
                       sample_per_group=options.sample_per_group, seed=seed)
    if not selection.chosen:
        raise InvalidInput("No patient of the list is in the target groups and can be written to.",
                           [ErrorDetail(f"{selection.excluded[r]} excluded: {EXCLUSION_LABELS[r].lower()}",
                                        field="groups") for r in EXCLUSION_ORDER if selection.excluded[r]]
                           or [ErrorDetail("no patient of the list is in these groups", field="groups")])
    practice = await practice_details(access, contact_name=options.contact_name, phone=options.phone,
                                      email=options.email)
    overrides = await _overrides(access.practice_id)
    sources = {code: (overrides.get((options.template, code)) or {}).get("body") for code in lt.languages()}
    join_url = f"{public_base(request_base)}/join/{access.ods_code}"
    try:
        archive, languages = await anyio.to_thread.run_sync(
            lambda: _build_zip(access, on, options, practice, groups, selection, patient_list.warnings + notes,
                               sources, join_url))
    except lt.TemplateProblem as exc:
        raise InvalidInput("The practice's own template cannot be filled in.",
                           [ErrorDetail(exc.message, field="template")]) from None
    campaign_id = await _record(access, actor, on=on, channel=options.channel, template=options.template,
                                name=options.name or lt.KINDS[options.template], total=len(selection.chosen),
                                languages=dict(languages), excluded=dict(selection.excluded), seed=seed,
                                groups=[(g.key, g.label, selection.eligible[g.key], selection.sent[g.key])
                                        for g in groups], notes="\n".join(patient_list.warnings[:20] + notes))
    name = f"{access.ods_code}-recruitment-mailing-{on.isoformat()}.zip"
    return Download(archive, name, "application/zip", campaign_id)


# ---------------------------------------------------------------------------------------------------------
# Posters and leaflets
# ---------------------------------------------------------------------------------------------------------


async def print_piece(access: PracticeAccess, *, kind: str, size: str | None, file_format: str, language: str,
                      survey: str | None, request_base: str, phone: str = "") -> Download:
    """A poster (A4) or leaflet (A5) whose QR code opens the PRG sign-up page, or a survey when named."""
    if language not in lt.languages():
        raise InvalidInput("No templates in that language.",
                           [ErrorDetail(f"use one of {', '.join(lt.languages())}", field="language")])
    size = size or ("a4" if kind == "poster" else "a5")
    base = public_base(request_base)
    url = f"{base}/s/{survey}" if survey else f"{base}/join/{access.ods_code}"
    practice = await practice_details(access, phone=phone)
    own = (await _overrides(access.practice_id)).get((kind, language))
    context = lt.TemplateContext(practice, join_url=url, short_url=short_form(url))
    try:
        document = lt.render(kind, language, context, own["body"] if own else None)
    except lt.TemplateProblem as exc:
        raise InvalidInput("The practice's own template cannot be filled in.", [ErrorDetail(exc.message, field="kind")]) from None
    piece = lt.PrintPiece(document, practice, url, short_form(url), size)
    stem = f"{access.ods_code}-{kind}-{size}-{language}-{date.today().isoformat()}"
    if file_format == "html":
        return Download(lt.piece_html(piece).encode(), f"{stem}.html", "text/html")
    content = await anyio.to_thread.run_sync(lambda: lt.piece_docx(piece))
    return Download(content, f"{stem}.docx", DOCX)


# ---------------------------------------------------------------------------------------------------------
# Campaigns as evidence
# ---------------------------------------------------------------------------------------------------------


async def _record(access: PracticeAccess, actor: Identity | None, *, on: date, channel: str, template: str,
                  name: str, total: int, languages: dict[str, int], excluded: dict[str, int], seed: str,
                  groups: list[tuple[str, str, int, int]], notes: str) -> int:
    async with write_transaction():
        campaign = Campaign(practice=access.practice_id, sent_on=on, channel=channel, template=template,
                            name=name[:100], total_sent=total, language_counts=languages, excluded=excluded,
                            seed=seed, notes=notes[:4000], created_at=utcnow())
        await campaign.save()
        if groups:
            await CampaignGroup.insert(*[CampaignGroup(campaign=campaign.id, practice=access.practice_id,
                                                       group_key=key, label=label[:150], eligible=eligible,
                                                       sent=sent) for key, label, eligible, sent in groups])
        await record("recruitment.campaign", actor, practice_id=access.practice_id, entity="campaign",
                     entity_id=campaign.id, details={"channel": channel, "sent": total})
    return campaign.id


async def record_campaign(access: PracticeAccess, data: schemas.CampaignIn, actor: Identity) -> schemas.CampaignOut:
    """Record posters, leaflets or other recruitment as evidence (no patient list involved)."""
    if data.sent_on > date.today():
        raise InvalidInput("The campaign's date is in the future.", [ErrorDetail("is in the future", field="sent_on")])
    groups = _groups_from_keys(list(data.groups))
    campaign_id = await _record(access, actor, on=data.sent_on, channel=data.channel, template="", name=data.name,
                                total=data.total_sent, languages={}, excluded={}, seed="",
                                groups=[(g.key, g.label, 0, 0) for g in groups], notes=data.notes)
    return await get_campaign(access, campaign_id)


async def _responses(practice_id: int, campaigns: list[dict[str, Any]]) -> dict[int, tuple[int, Counter]]:
    """Campaign id -> (members who joined through its channel within the window, the same per group)."""
    if not campaigns:
        return {}
    groups_by_campaign: dict[int, list[dict[str, Any]]] = {}
    for row in await CampaignGroup.select().where(
            CampaignGroup.campaign.is_in([c["id"] for c in campaigns])).order_by(CampaignGroup.id):
        groups_by_campaign.setdefault(row["campaign"], []).append(row)
    first = min(c["sent_on"] for c in campaigns)
    members = [m for m in await register_rows(practice_id) if m["joined_on"] is not None and m["joined_on"] >= first]
    out = {}
    for campaign in campaigns:
        channel = MEMBER_CHANNEL.get(campaign["channel"], "other")
        end = campaign["sent_on"] + timedelta(days=RESPONSE_WINDOW_DAYS)
        joined = [m for m in members if m["recruitment_channel"] == channel
                  and campaign["sent_on"] <= m["joined_on"] <= end]
        per_group: Counter = Counter()
        for row in groups_by_campaign.get(campaign["id"], []):
            try:
                group = parse_group(row["group_key"], row["label"])
            except ValueError:
                continue
            per_group[row["group_key"]] = sum(1 for m in joined if group.has_member(m, campaign["sent_on"]))
        out[campaign["id"]] = (len(joined), per_group)
    return out


def _campaign_out(row: dict[str, Any], groups: list[dict[str, Any]], joined: int, per_group: Counter) -> schemas.CampaignOut:
    return schemas.CampaignOut(
        id=row["id"], sent_on=row["sent_on"], channel=row["channel"],
        member_channel=MEMBER_CHANNEL.get(row["channel"], "other"), template=row["template"], name=row["name"],
        total_sent=row["total_sent"], languages=row["language_counts"] or {}, excluded=row["excluded"] or {},
        groups=[schemas.CampaignGroupOut(group=g["group_key"], label=g["label"], eligible=g["eligible"],
                                         sent=g["sent"], joined=per_group[g["group_key"]],
                                         response_rate=round(per_group[g["group_key"]] / g["sent"], 4) if g["sent"] else None)
                for g in groups],
        joined=joined, response_window_days=RESPONSE_WINDOW_DAYS, notes=row["notes"], created_at=row["created_at"],
    )


async def list_campaigns(access: PracticeAccess, date_from: date | None = None,
                         date_to: date | None = None) -> list[schemas.CampaignOut]:
    """The practice's campaigns sent between the dates (inclusive; either may be left out), oldest first, each
    with its groups and the members who joined through its channel since (the response per group)."""
    where = Campaign.practice == access.practice_id
    if date_from is not None:
        where &= Campaign.sent_on >= date_from
    if date_to is not None:
        where &= Campaign.sent_on <= date_to
    rows = await Campaign.select().where(where).order_by(Campaign.sent_on).order_by(Campaign.id).output(load_json=True)
    if not rows:
        return []
    groups: dict[int, list[dict[str, Any]]] = {}
    for g in await CampaignGroup.select().where(CampaignGroup.campaign.is_in([r["id"] for r in rows])).order_by(CampaignGroup.id):
        groups.setdefault(g["campaign"], []).append(g)
    responses = await _responses(access.practice_id, rows)
    return [_campaign_out(r, groups.get(r["id"], []), *responses[r["id"]]) for r in rows]


async def get_campaign(access: PracticeAccess, campaign_id: int) -> schemas.CampaignOut:
    row = await Campaign.select().where((Campaign.id == campaign_id) & (Campaign.practice == access.practice_id)
                                        ).output(load_json=True).first()
    if row is None:
        raise NotFound(f"No campaign {campaign_id} at {access.ods_code}.")
    groups = await CampaignGroup.select().where(CampaignGroup.campaign == campaign_id).order_by(CampaignGroup.id)
    joined, per_group = (await _responses(access.practice_id, [row]))[campaign_id]
    return _campaign_out(row, groups, joined, per_group)


async def delete_campaign(access: PracticeAccess, campaign_id: int, actor: Identity) -> None:
    async with write_transaction():
        if not await Campaign.exists().where((Campaign.id == campaign_id) & (Campaign.practice == access.practice_id)):
            raise NotFound(f"No campaign {campaign_id} at {access.ods_code}.")
        await Campaign.delete().where((Campaign.id == campaign_id) & (Campaign.practice == access.practice_id))
        await record("recruitment.campaign.delete", actor, practice_id=access.practice_id, entity="campaign",
                     entity_id=campaign_id)

