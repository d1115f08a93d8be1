"""Virtual PRG consultations: a question or a draft (priorities, action plan) put to the group's members,
each through a single-use link to agree, disagree or comment; the tallies are the year's evidence.

Who is asked: active members with a standing `prg_contact` consent (virtual and "both" members by default,
or everyone), reached by e-mail unless their address bounced or they opted out, or by a CSV of links for
an SMS tool. Left and invited people are never asked.

Never twice: each member gets at most one `ConsultationDelivery` row per consultation (a unique index). A
send claims pending rows one at a time (pending -> sending, with the token's hash stored), hands the mail
to the SMTP server and marks it `sent` only once the server has accepted it. A send stops at the
per-minute limit (`PRG_MAIL_PER_MINUTE`) or when the server is unreachable, and the next call carries on
with the rows still pending. A row left in `sending` by a crash between the claim and the server's answer
is not sent again (the mail may have gone): it is counted under `deliveries.sending` for a person to check.
Tokens are 256-bit, stored as SHA-256 only.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

import anyio.to_thread
import msgspec

from prg.accounts.audit.services import record
from prg.accounts.security import new_token, token_hash
from prg.accounts.services import Identity, PracticeAccess, name_of_practice
from prg.db import utcnow, write_transaction
from prg.des import mailer, schemas
from prg.des.records import consultation_tallies
from prg.des.scheme_years import scheme_year
from prg.des.tables import ActionItem, Consultation, ConsultationDelivery, ContactBlock, Priority
from prg.errors import Conflict, DomainError, ErrorDetail, InvalidInput, NotFound
from prg.members.schemas import ConsultationCopy
from prg.members.schemas import ContactBlockOut as MemberContactBlock
from prg.members.services import active_members, consenting_members, member_addresses
from prg.settings import get_settings

log = logging.getLogger("prg.des.consultations")
PUBLIC_PATH = "/c"


class MailUnavailable(DomainError):
    """E-mail is not configured on this server: a state the practice can do nothing about here but use the
    SMS links, so a 409 (not a 5xx: the server is working as configured)."""

    status = 409
    title = "E-mail unavailable"
    slug = "mail-unavailable"


def _now() -> datetime:  # a seam for tests of the per-minute window
    return utcnow()


# --------------------------------------------------------------------------------------------------------
# Consultations
# --------------------------------------------------------------------------------------------------------


async def _row(access: PracticeAccess, year_code: str, consultation_id: int) -> dict[str, Any]:
    row = await Consultation.select().where(
        (Consultation.id == consultation_id) & (Consultation.practice == access.practice_id)
        & (Consultation.year_code == year_code)).output(load_json=True).first()
    if row is None:
        raise NotFound(f"No consultation {consultation_id} in {year_code} at {access.ods_code}.")
    return row


async def _out(row: dict[str, Any]) -> schemas.ConsultationOut:
    tally = (await consultation_tallies([row["id"]]))[row["id"]]
    statuses = await ConsultationDelivery.select(ConsultationDelivery.status).where(
        ConsultationDelivery.consultation == row["id"])
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    return schemas.ConsultationOut(
        id=row["id"], year=row["year_code"], title=row["title"], question=row["question"], subject=row["subject"],
        opens_on=row["opens_on"], closes_on=row["closes_on"], status=row["status"], outcome=row["outcome"],
        closed_on=row["closed_on"], item_ids=row["item_ids"] or [], tally=tally, deliveries=counts,
        audience=row["audience"])


async def _check_items(access: PracticeAccess, year_code: str, subject: str, item_ids: list[int]) -> None:
    if not item_ids:
        return
    table = {"priorities": Priority, "action_plan": ActionItem}.get(subject)
    if table is None:
        raise InvalidInput("Only consultations on priorities or the action plan name items.",
                           [ErrorDetail("leave empty for this subject", field="item_ids")])
    found = {r["id"] for r in await table.select(table.id).where(
        (table.practice == access.practice_id) & (table.year_code == year_code) & table.id.is_in(item_ids))}
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise InvalidInput("Some items are not in this year's list.",
                           [ErrorDetail(f"no item {i} in {year_code}", field="item_ids") for i in missing])


async def create_consultation(access: PracticeAccess, year_code: str, data: schemas.ConsultationIn,
                              actor: Identity) -> schemas.ConsultationOut:
    scheme_year(year_code)
    opens_on = data.opens_on or date.today()
    if data.closes_on and data.closes_on < opens_on:
        raise InvalidInput("The consultation closes before it opens.", [ErrorDetail("is before opens_on", field="closes_on")])
    item_ids = list(dict.fromkeys(data.item_ids))
    await _check_items(access, year_code, data.subject, item_ids)
    async with write_transaction():
        row = Consultation(practice=access.practice_id, year_code=year_code, title=data.title, question=data.question,
                           subject=data.subject, opens_on=opens_on, closes_on=data.closes_on, item_ids=item_ids,
                           audience=data.audience, created_at=utcnow())
        await row.save()
        await record("des.consultation_create", actor, practice_id=access.practice_id, entity="consultation",
                     entity_id=row.id)
    return await _out(await _row(access, year_code, row.id))


async def list_consultations(access: PracticeAccess, year_code: str) -> list[schemas.ConsultationOut]:
    scheme_year(year_code)
    rows = await Consultation.select().where(
        (Consultation.practice == access.practice_id) & (Consultation.year_code == year_code)
    ).order_by(Consultation.id).output(load_json=True)
    return [await _out(r) for r in rows]


async def get_consultation(access: PracticeAccess, year_code: str, consultation_id: int) -> schemas.ConsultationOut:
    return await _out(await _row(access, year_code, consultation_id))


async def delete_consultation(access: PracticeAccess, year_code: str, consultation_id: int, actor: Identity) -> None:
    """Remove the consultation with its deliveries and answers (links already sent stop working)."""
    async with write_transaction():
        await _row(access, year_code, consultation_id)
        await ConsultationDelivery.delete().where(ConsultationDelivery.consultation == consultation_id)
        await Consultation.delete().where(Consultation.id == consultation_id)
        await record("des.consultation_delete", actor, practice_id=access.practice_id, entity="consultation",
                     entity_id=consultation_id)


async def close_consultation(access: PracticeAccess, year_code: str, consultation_id: int, data: schemas.CloseIn,
                             actor: Identity) -> schemas.ConsultationOut:
    """Close with the outcome. `agreed` on priorities or an action plan records the group's agreement on the
    items the consultation named (date: `closed_on`, how: virtual consultation)."""
    closed_on = data.closed_on or date.today()
    if closed_on > date.today():
        raise InvalidInput("A consultation cannot close in the future.", [ErrorDetail("is in the future", field="closed_on")])
    async with write_transaction():
        row = await _row(access, year_code, consultation_id)
        if row["status"] == "closed":
            raise Conflict("This consultation is already closed.")
        if closed_on < row["opens_on"]:
            raise InvalidInput("It closes before it opened.", [ErrorDetail("is before opens_on", field="closed_on")])
        await Consultation.update({Consultation.status: "closed", Consultation.outcome: data.outcome,
                                   Consultation.closed_on: closed_on, Consultation.decisions: data.decisions}
                                  ).where(Consultation.id == consultation_id)
        items = row["item_ids"] or []
        if data.outcome == "agreed" and items:
            if row["subject"] == "priorities":
                await Priority.update({Priority.status: "agreed", Priority.agreed_on: closed_on,
                                       Priority.agreed_how: "virtual_consultation", Priority.consultation: consultation_id}
                                      ).where((Priority.practice == access.practice_id) & Priority.id.is_in(items))
            elif row["subject"] == "action_plan":
                await ActionItem.update({ActionItem.prg_agreed_on: closed_on,
                                         ActionItem.prg_agreed_how: "virtual_consultation",
                                         ActionItem.consultation: consultation_id, ActionItem.updated_at: utcnow()}
                                        ).where((ActionItem.practice == access.practice_id) & ActionItem.id.is_in(items))
                await ActionItem.update({ActionItem.status: "agreed"}).where(
                    (ActionItem.practice == access.practice_id) & ActionItem.id.is_in(items)
                    & (ActionItem.status == "proposed"))
        await record("des.consultation_close", actor, practice_id=access.practice_id, entity="consultation",
                     entity_id=consultation_id, details={"outcome": data.outcome})
    return await get_consultation(access, year_code, consultation_id)


# --------------------------------------------------------------------------------------------------------
# Who is asked
# --------------------------------------------------------------------------------------------------------


async def _recipients(practice_id: int, audience: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Active members who may be contacted, and how many others were skipped, by reason."""
    members = await active_members(practice_id)
    consenting = await consenting_members(practice_id, "prg_contact")
    blocked = {r["member"]: r["reason"] for r in await ContactBlock.select(ContactBlock.member, ContactBlock.reason).where(
        ContactBlock.practice == practice_id)}
    skipped: dict[str, int] = {}
    chosen = []
    for m in members:
        reason = None
        if audience == "virtual" and m["participation"] == "core":
            reason = "core_member"
        elif m["id"] not in consenting:
            reason = "no_contact_consent"
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            m["block"] = blocked.get(m["id"])
            chosen.append(m)
    return chosen, skipped


async def _add_deliveries(consultation_id: int, practice_id: int, members: list[dict[str, Any]], channel: str,
                          *, status: str = "pending") -> list[int]:
    """New delivery rows for members who have none for this consultation; returns their member ids."""
    if not members:
        return []
    have = {r["member"] for r in await ConsultationDelivery.select(ConsultationDelivery.member).where(
        ConsultationDelivery.consultation == consultation_id)}
    new = [m for m in members if m["id"] not in have]
    if new:
        await ConsultationDelivery.insert(*[ConsultationDelivery(
            consultation=consultation_id, practice=practice_id, member=m["id"], channel=channel, status=status)
            for m in new])
    return [m["id"] for m in new]


def _base_url(request_base: str | None) -> str:
    return (get_settings().public_base_url or request_base or "").rstrip("/")


def answer_link(base: str, token: str) -> str:
    return f"{base}{PUBLIC_PATH}/{token}"


def _mail_body(practice_name: str, first_name: str, consultation: dict[str, Any], link: str) -> str:
    closes = f"\nPlease answer by {consultation['closes_on']:%-d %B %Y}.\n" if consultation["closes_on"] else ""
    return (
        f"Dear {first_name},\n\n"
        f"{practice_name} would like the Patient Participation Group's view on:\n\n"
        f"{consultation['title']}\n\n{consultation['question']}\n\n"
        f"Please tell us whether you agree or disagree, and add any comment, here:\n{link}\n{closes}\n"
        f"The link is for you alone and works once.\n\n"
        f"If you would rather not receive these e-mails, use this link:\n{link}/opt-out\n"
    )


# --------------------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------------------


async def _sent_in_last_minute(practice_id: int) -> tuple[int, datetime | None]:
    since = _now() - timedelta(seconds=60)
    rows = await ConsultationDelivery.select(ConsultationDelivery.sent_at).where(
        (ConsultationDelivery.practice == practice_id) & (ConsultationDelivery.channel == "email")
        & (ConsultationDelivery.sent_at >= since))
    times = [r["sent_at"] for r in rows]
    return len(times), min(times, default=None)


async def _claim(delivery_id: int, hashed: str) -> bool:
    """Take a pending delivery for this sender (a concurrent sender gets False)."""
    async with write_transaction():
        claimed = await ConsultationDelivery.update(
            {ConsultationDelivery.status: "sending", ConsultationDelivery.claimed_at: _now(),
             ConsultationDelivery.token_hash: hashed}
        ).where((ConsultationDelivery.id == delivery_id) & (ConsultationDelivery.status == "pending")).returning(
            ConsultationDelivery.id)
    return bool(claimed)


async def _mark(delivery_id: int, values: dict[Any, Any]) -> None:
    async with write_transaction():
        await ConsultationDelivery.update(values).where(ConsultationDelivery.id == delivery_id)


async def send(access: PracticeAccess, year_code: str, consultation_id: int, actor: Identity,
               request_base: str | None = None) -> schemas.SendResult:
    """Send the consultation by e-mail to every member due one, up to the per-minute limit; call again to
    continue (`retry_after_seconds` says when). Safe to repeat and to run after a crash."""
    settings = get_settings()
    base = _base_url(request_base)
    async with write_transaction():
        row = await _row(access, year_code, consultation_id)
        if not settings.smtp_host or not settings.mail_from:
            raise MailUnavailable("E-mail is not set up on this server (PRG_SMTP_HOST, PRG_MAIL_FROM); "
                                  "use the CSV of links for an SMS tool instead.")
        if row["status"] == "closed":
            raise Conflict("This consultation is closed.")
        members, skipped = await _recipients(access.practice_id, row["audience"])
        reachable = []
        for m in members:
            reason = m["block"] or (None if m["email"] else "no_email")
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
            else:
                reachable.append(m)
        await _add_deliveries(consultation_id, access.practice_id, reachable, "email")
        if row["status"] == "draft":
            await Consultation.update({Consultation.status: "sending"}).where(Consultation.id == consultation_id)
        await record("des.consultation_send", actor, practice_id=access.practice_id, entity="consultation",
                     entity_id=consultation_id)
    sent_now = failed_now = 0
    recent, oldest = await _sent_in_last_minute(access.practice_id)
    budget = max(0, settings.mail_per_minute - recent)
    pending = await ConsultationDelivery.select(
        ConsultationDelivery.id, ConsultationDelivery.member).where(
        (ConsultationDelivery.consultation == consultation_id) & (ConsultationDelivery.status == "pending")
        & (ConsultationDelivery.channel == "email")).order_by(ConsultationDelivery.id)
    by_member = {m["id"]: m for m in members}
    blocks = {r["member"]: r["reason"] for r in await ContactBlock.select(ContactBlock.member, ContactBlock.reason).where(
        ContactBlock.practice == access.practice_id)}
    session: mailer.SmtpSession | None = None
    try:
        for delivery in pending:
            if sent_now >= budget:
                break
            member = by_member.get(delivery["member"])
            if member is None or delivery["member"] in blocks or not member["email"]:
                # Left, consent withdrawn, bounced or opted out since the row was made: never send.
                await _mark(delivery["id"], {ConsultationDelivery.status: "skipped"})
                continue
            token = new_token()
            if not await _claim(delivery["id"], token_hash(token)):
                continue
            link = answer_link(base, token)
            message = mailer.build_message(
                settings, to=member["email"], name=f"{member['first_name']} {member['last_name']}",
                subject=f"{access.name}: {row['title']}",
                body=_mail_body(access.name, member["first_name"], row, link), unsubscribe_url=f"{link}/opt-out")
            try:
                if session is None:
                    session = mailer.SmtpSession(settings)
                    await anyio.to_thread.run_sync(session.open)
                await anyio.to_thread.run_sync(session.send, message)
            except mailer.PermanentFailure as exc:
                failed_now += 1
                await _mark(delivery["id"], {ConsultationDelivery.status: "failed", ConsultationDelivery.error: str(exc)})
                continue
            except mailer.TemporaryFailure as exc:
                # Not sent: back to pending for the next run, and stop this one (the server is not taking mail).
                await _mark(delivery["id"], {ConsultationDelivery.status: "pending", ConsultationDelivery.token_hash: None,
                                             ConsultationDelivery.claimed_at: None, ConsultationDelivery.error: str(exc)})
                log.warning("consultation %s: sending paused: %s", consultation_id, exc)
                if session is not None:
                    await anyio.to_thread.run_sync(session.close)
                    session = None
                break
            await _mark(delivery["id"], {ConsultationDelivery.status: "sent", ConsultationDelivery.sent_at: _now(),
                                         ConsultationDelivery.error: ""})
            sent_now += 1
    finally:
        if session is not None:
            await anyio.to_thread.run_sync(session.close)

    left = await ConsultationDelivery.count().where(
        (ConsultationDelivery.consultation == consultation_id) & (ConsultationDelivery.status == "pending")
        & (ConsultationDelivery.channel == "email"))
    sent_total = await ConsultationDelivery.count().where(
        (ConsultationDelivery.consultation == consultation_id) & (ConsultationDelivery.status == "sent"))
    retry = 0
    if left:
        recent, oldest = await _sent_in_last_minute(access.practice_id)
        retry = 60 - int((_now() - oldest).total_seconds()) if recent >= settings.mail_per_minute and oldest else 60
        retry = max(retry, 1)
    return schemas.SendResult(consultation_id=consultation_id, sent_now=sent_now, failed_now=failed_now, pending=left,
                              sent_total=sent_total, skipped=skipped, throttle_per_minute=settings.mail_per_minute,
                              retry_after_seconds=retry)


def sms_number(phone: str) -> str:
    """Digits only, in the international form SMS tools take (07700 900123 -> 447700900123). Digits only can
    never be read as a spreadsheet formula."""
    digits = re.sub(r"\D", "", phone)
    return "44" + digits[1:] if digits.startswith("0") else digits


async def sms_links(access: PracticeAccess, year_code: str, consultation_id: int, actor: Identity,
                    request_base: str | None = None, who: str = "without_email") -> str:
    """A CSV (reference, phone, link) of new single-use links for members due one who have a mobile number:
    by default those without an e-mail address (so e-mail and texts together reach everyone once). Each
    link is made once and counts as sent: download it again and only members added since appear."""
    base = _base_url(request_base)
    async with write_transaction():
        row = await _row(access, year_code, consultation_id)
        if row["status"] == "closed":
            raise Conflict("This consultation is closed.")
        members, _ = await _recipients(access.practice_id, row["audience"])
        chosen = [m for m in members if m["phone"] and (who == "all_with_phone" or not m["email"])]
        new_members = set(await _add_deliveries(consultation_id, access.practice_id, chosen, "sms", status="sending"))
        rows = []
        now = _now()
        for m in chosen:
            if m["id"] not in new_members:
                continue
            token = new_token()
            await ConsultationDelivery.update({
                ConsultationDelivery.status: "sent", ConsultationDelivery.token_hash: token_hash(token),
                ConsultationDelivery.sent_at: now, ConsultationDelivery.claimed_at: now,
            }).where((ConsultationDelivery.consultation == consultation_id) & (ConsultationDelivery.member == m["id"]))
            rows.append((m["reference"], sms_number(m["phone"]), answer_link(base, token)))
        if row["status"] == "draft":
            await Consultation.update({Consultation.status: "sending"}).where(Consultation.id == consultation_id)
        await record("des.consultation_sms_links", actor, practice_id=access.practice_id, entity="consultation",
                     entity_id=consultation_id, details={"links": len(rows)})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["reference", "phone", "link"])
    writer.writerows(rows)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------------
# Bounces and opt-outs
# --------------------------------------------------------------------------------------------------------


async def _block(practice_id: int, member_id: int, reason: str) -> None:
    where = (ContactBlock.practice == practice_id) & (ContactBlock.member == member_id)
    if await ContactBlock.exists().where(where):
        await ContactBlock.update({ContactBlock.reason: reason, ContactBlock.recorded_at: utcnow()}).where(where)
    else:
        await ContactBlock(practice=practice_id, member=member_id, reason=reason, recorded_at=utcnow()).save()


async def record_block(access: PracticeAccess, data: schemas.ContactBlockIn, actor: Identity) -> list[schemas.ContactBlockOut]:
    """Record a bounce (or an opt-out given another way) by address or by member; the member is not
    e-mailed again. An address shared by several members blocks each of them."""
    if (data.email is None) == (data.member_id is None):
        raise InvalidInput("Name the member or the address.", [ErrorDetail("give email or member_id, not both", field="email")])
    async with write_transaction():
        rows = await member_addresses(access.practice_id, data.member_id)
        if data.email is not None:
            rows = [r for r in rows if r["email"].strip().lower() == data.email.strip().lower()]
        if not rows:
            raise NotFound("No member with that address or number at this practice.")
        for r in rows:
            await _block(access.practice_id, r["id"], data.reason)
            await record("des.contact_block", actor, practice_id=access.practice_id, entity="member",
                         entity_id=r["id"], details={"reason": data.reason})
    return await list_blocks(access, [r["id"] for r in rows])


async def list_blocks(access: PracticeAccess, member_ids: list[int] | None = None) -> list[schemas.ContactBlockOut]:
    where = ContactBlock.practice == access.practice_id
    if member_ids is not None:
        where = where & ContactBlock.member.is_in(member_ids)
    rows = await ContactBlock.select().where(where).order_by(ContactBlock.id)
    return [schemas.ContactBlockOut(member_id=r["member"], reason=r["reason"], recorded_at=r["recorded_at"]) for r in rows]


async def lift_block(access: PracticeAccess, member_id: int, actor: Identity) -> None:
    async with write_transaction():
        where = (ContactBlock.practice == access.practice_id) & (ContactBlock.member == member_id)
        if not await ContactBlock.exists().where(where):
            raise NotFound(f"Member {member_id} is not blocked.")
        await ContactBlock.delete().where(where)
        await record("des.contact_unblock", actor, practice_id=access.practice_id, entity="member", entity_id=member_id)


# --------------------------------------------------------------------------------------------------------
# The member's side: the single-use link
# --------------------------------------------------------------------------------------------------------


class LinkGone(DomainError):
    status = 410
    title = "Gone"
    slug = "link-used"


class PublicConsultation(msgspec.Struct):
    practice: str
    title: str
    question: str
    closes_on: date | None
    answered: bool
    open: bool


async def _delivery_for(token: str) -> dict[str, Any]:
    if not token or len(token) > 100:
        raise NotFound("This link is not right. Check it against the message you were sent.")
    row = await ConsultationDelivery.select(
        ConsultationDelivery.id, ConsultationDelivery.consultation, ConsultationDelivery.practice,
        ConsultationDelivery.member, ConsultationDelivery.answered_at,
    ).where(ConsultationDelivery.token_hash == token_hash(token)).first()
    if row is None:
        raise NotFound("This link is not right. Check it against the message you were sent.")
    return row


async def open_link(token: str) -> PublicConsultation:
    delivery = await _delivery_for(token)
    c = await Consultation.select().where(Consultation.id == delivery["consultation"]).first()
    practice_name = await name_of_practice(delivery["practice"])
    is_open = c["status"] != "closed" and (c["closes_on"] is None or c["closes_on"] >= date.today())
    return PublicConsultation(practice=practice_name, title=c["title"], question=c["question"],
                              closes_on=c["closes_on"], answered=delivery["answered_at"] is not None, open=is_open)


async def answer(token: str, answer_value: str, comment: str) -> PublicConsultation:
    """Record the member's answer: once. A second use of the link is refused (410)."""
    if answer_value not in ("agree", "disagree", "comment"):
        raise InvalidInput("Choose agree, disagree or comment.", [ErrorDetail("choose one", field="answer")])
    comment = comment.strip()
    if len(comment) > 5000:
        raise InvalidInput("The comment is too long.", [ErrorDetail("at most 5000 characters", field="comment")])
    if answer_value == "comment" and not comment:
        raise InvalidInput("Write your comment.", [ErrorDetail("write a comment", field="comment")])
    view = await open_link(token)
    if not view.open:
        raise LinkGone("This consultation has closed. Thank you for your interest.")
    async with write_transaction():
        done = await ConsultationDelivery.update({
            ConsultationDelivery.answer: answer_value, ConsultationDelivery.comment: comment,
            ConsultationDelivery.answered_at: utcnow(),
        }).where((ConsultationDelivery.token_hash == token_hash(token)) & ConsultationDelivery.answered_at.is_null()
                 ).returning(ConsultationDelivery.id)
    if not done:
        raise LinkGone("This link has already been used to answer. Thank you.")
    view.answered = True
    return view


async def opt_out(token: str) -> None:
    """The member asks for no more consultation e-mails (works whether or not they answered)."""
    delivery = await _delivery_for(token)
    async with write_transaction():
        await _block(delivery["practice"], delivery["member"], "opted_out")


class ConsultationCorrespondence:
    """The year's part of a member's subject access export (`prg.members.services.MemberCorrespondence`):
    each consultation put to them with their answer, and each block on e-mailing them."""

    async def consultations_of(self, practice_id: int, member_id: int) -> list[ConsultationCopy]:
        rows = await ConsultationDelivery.select(
            ConsultationDelivery.consultation.title.as_alias("title"),
            ConsultationDelivery.consultation.question.as_alias("question"),
            ConsultationDelivery.channel, ConsultationDelivery.status, ConsultationDelivery.sent_at,
            ConsultationDelivery.answer, ConsultationDelivery.comment, ConsultationDelivery.answered_at,
        ).where((ConsultationDelivery.member == member_id) & (ConsultationDelivery.practice == practice_id)
                ).order_by(ConsultationDelivery.id)
        return [msgspec.convert(r, ConsultationCopy, strict=False) for r in rows]

    async def contact_blocks_of(self, practice_id: int, member_id: int) -> list[MemberContactBlock]:
        rows = await ContactBlock.select(ContactBlock.reason, ContactBlock.recorded_at).where(
            (ContactBlock.member == member_id) & (ContactBlock.practice == practice_id)).order_by(ContactBlock.id)
        return [msgspec.convert(r, MemberContactBlock, strict=False) for r in rows]
