"""Virtual PRG consultations through HTTP, with a real SMTP server (aiosmtpd) on 127.0.0.1: who is asked,
mails received with working single-use links, the per-minute throttle, a paused send that resumes without
sending anyone twice, bounces and opt-outs, the CSV of links for an SMS tool, and the tally as evidence."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from prg.db import utcnow
from prg.des import consultations
from prg.des.tables import ConsultationDelivery
from tests.conftest import free_port

BASE = "/api/practices/Y90001"
YEAR = "2026-27"
CONSENT = {"purpose": "prg_contact", "method": "web", "wording_version": "v1"}


class Inbox:
    """An aiosmtpd handler keeping every accepted message; it can refuse recipients for a while (451)."""

    def __init__(self) -> None:
        self.messages = []
        self.refuse_after: int | None = None  # accept this many messages, then answer 451 to recipients

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if self.refuse_after is not None and len(self.messages) >= self.refuse_after:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        return [m["To"].addresses[0].addr_spec for m in self.messages]

    def link_for(self, address: str) -> str:
        message = next(m for m in self.messages if m["To"].addresses[0].addr_spec == address)
        body = message.get_content()
        return re.search(r"https://testserver\.local(/c/[A-Za-z0-9_-]+)\s", body).group(1)


@pytest.fixture
def inbox(configure):
    handler = Inbox()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    configure(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", mail_from="PRG <prg@y90001.example.org>",
              mail_per_minute=50)
    yield handler
    server.stop()


async def member(client, manager, first: str, *, email: str = "", phone: str = "", participation: str = "virtual",
                 consent: bool = True, status: str = "active") -> int:
    body = {"first_name": first, "last_name": "Example", "email": email, "phone": phone,
            "participation": participation, "status": status}
    if status == "left":
        body["left_on"] = "2026-05-01"
    if not email and not phone:
        body["address"] = "1 Road"
    created = await client.post(f"{BASE}/members", headers=manager.headers, json=body)
    assert created.status_code == 201, created.text
    member_id = created.json()["id"]
    if consent:
        assert (await client.post(f"{BASE}/members/{member_id}/consents", headers=manager.headers,
                                  json=CONSENT)).status_code == 201
    return member_id


async def group(client, manager) -> dict[str, int]:
    return {
        "ann": await member(client, manager, "Ann", email="ann@example.org"),
        "bob": await member(client, manager, "Bob", email="bob@example.org", participation="both"),
        "cat": await member(client, manager, "Cat", email="cat@example.org", participation="core"),
        "dan": await member(client, manager, "Dan", email="dan@example.org", consent=False),
        "eve": await member(client, manager, "Eve", email="eve@example.org", status="left"),
        "fay": await member(client, manager, "Fay", phone="07700 900123"),
        "gus": await member(client, manager, "Gus", email="gus@example.org"),
    }


async def consultation(client, manager, **extra) -> dict:
    created = await client.post(f"{BASE}/years/{YEAR}/consultations", headers=manager.headers, json={
        "title": "Saturday opening", "question": "We propose opening on Saturday mornings <b>9 to 12</b>.", **extra})
    assert created.status_code == 201, created.text
    return created.json()


async def send(client, manager, consultation_id: int) -> dict:
    response = await client.post(f"{BASE}/years/{YEAR}/consultations/{consultation_id}/send", headers=manager.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_mails_arrive_with_single_use_links_and_tallies(client, manager, inbox):
    people = await group(client, manager)
    bounced = await client.post(f"{BASE}/contact-blocks", headers=manager.headers,
                                json={"reason": "bounced", "email": "GUS@example.org"})
    assert bounced.status_code == 200 and bounced.json()[0]["member_id"] == people["gus"]
    c = await consultation(client, manager)
    result = await send(client, manager, c["id"])
    assert result["sent_now"] == 2 and result["pending"] == 0 and result["retry_after_seconds"] == 0
    assert result["skipped"] == {"core_member": 1, "no_contact_consent": 1, "bounced": 1, "no_email": 1}
    assert sorted(inbox.recipients()) == ["ann@example.org", "bob@example.org"]
    mail = inbox.messages[0]
    assert mail["Subject"] == "Test Surgery: Saturday opening" and mail["From"] == "PRG <prg@y90001.example.org>"
    assert mail["List-Unsubscribe"].startswith("<https://testserver.local/c/")
    # Tokens of at least 128 bits: token_urlsafe(32) is 43 characters of 6 bits.
    link = inbox.link_for("ann@example.org")
    assert len(link.removeprefix("/c/")) >= 43

    page = await client.get(link)
    assert page.status_code == 200 and "Saturday opening" in page.text
    assert "&lt;b&gt;9 to 12&lt;/b&gt;" in page.text and "<b>9" not in page.text
    missing_comment = await client.post(link, data={"answer": "comment", "comment": " "})
    assert missing_comment.status_code == 422 and "write a comment" in missing_comment.text
    answered = await client.post(link, data={"answer": "agree", "comment": "Yes please"})
    assert answered.status_code == 200 and "Your answer has been recorded" in answered.text
    again = await client.post(link, data={"answer": "disagree"})
    assert again.status_code == 410 and "already been used" in again.text
    assert (await client.get(link)).status_code == 410
    assert (await client.get("/c/not-a-real-token")).status_code == 404
    await client.post(inbox.link_for("bob@example.org"), data={"answer": "disagree", "comment": "Too early"})

    read = (await client.get(f"{BASE}/years/{YEAR}/consultations/{c['id']}", headers=manager.headers)).json()
    assert read["tally"] == {"recipients": 2, "sent": 2, "answered": 2, "agree": 1, "disagree": 1, "comments": 2}
    assert read["deliveries"] == {"sent": 2} and read["status"] == "sending"
    log = (await client.get(f"{BASE}/years/{YEAR}/meetings", headers=manager.headers)).json()
    assert log[0]["source"] == "consultation" and log[0]["attended"] == 2 and log[0]["invited"] == 2

    # Sending again sends nobody anything new.
    assert (await send(client, manager, c["id"]))["sent_now"] == 0 and len(inbox.messages) == 2

    # The member's subject access export holds what they were asked and what they said; a bounce is there too.
    bob = (await client.get(f"{BASE}/members/{people['bob']}/subject-access", headers=manager.headers)).json()
    assert [(c["title"], c["channel"], c["status"], c["answer"], c["comment"]) for c in bob["consultations"]] == [
        ("Saturday opening", "email", "sent", "disagree", "Too early")]
    gus = (await client.get(f"{BASE}/members/{people['gus']}/subject-access", headers=manager.headers)).json()
    assert gus["consultations"] == [] and [b["reason"] for b in gus["contact_blocks"]] == ["bounced"]
    page = await client.get(f"{BASE}/members/{people['bob']}/subject-access.html", headers=manager.headers)
    assert "Saturday opening" in page.text and "disagree on" in page.text and "Too early" in page.text
    assert "&lt;b&gt;9 to 12&lt;/b&gt;" in page.text and "<b>9" not in page.text

    # Erasure erases: the member's answer and comment go with them.
    assert (await client.delete(f"{BASE}/members/{people['bob']}", headers=manager.headers)).status_code == 204
    assert await ConsultationDelivery.count().where(ConsultationDelivery.member == people["bob"]) == 0
    assert await ConsultationDelivery.count().where(ConsultationDelivery.comment == "Too early") == 0


async def test_the_page_speaks_the_members_language(client, manager, inbox):
    await member(client, manager, "Ola", email="ola@example.org")
    c = await consultation(client, manager, closes_on="2099-01-31")
    await send(client, manager, c["id"])
    link = inbox.link_for("ola@example.org")
    english = await client.get(link)
    assert '<html lang="en" dir="ltr">' in english.text and "Please answer by 31 January 2099." in english.text
    polish = await client.get(link, headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.4"})
    assert polish.status_code == 200 and '<html lang="pl" dir="ltr">' in polish.text
    assert "Prosimy o Twoje zdanie" in polish.text and "Prosimy o odpowiedź do 31 stycznia 2099." in polish.text
    chosen = await client.get(link, params={"lang": "pl"}, headers={"Accept-Language": "en"})
    assert f'action="{link}?lang=pl"' in chosen.text  # the answer is sent back in the language chosen
    refused = await client.post(f"{link}?lang=pl", data={"answer": "comment", "comment": " "})
    assert refused.status_code == 422 and "napisz komentarz" in refused.text
    answered = await client.post(f"{link}?lang=pl", data={"answer": "agree"})
    assert answered.status_code == 200 and "Twoja odpowiedź została zapisana" in answered.text
    again = await client.post(f"{link}?lang=pl", data={"answer": "agree"})
    assert again.status_code == 410 and "Ten link został już użyty" in again.text
    missing = await client.get("/c/not-a-real-token", headers={"Accept-Language": "pl"})
    assert missing.status_code == 404 and "Ten link jest nieprawidłowy" in missing.text


async def test_throttle_and_paused_send_resume_without_resending(client, manager, inbox, configure, monkeypatch):
    for name in ("ann", "bob", "cat", "dan"):
        await member(client, manager, name.capitalize(), email=f"{name}@example.org")
    configure(mail_per_minute=3)
    c = await consultation(client, manager, audience="all")
    inbox.refuse_after = 1  # the server takes one mail, then says "try later"
    first = await send(client, manager, c["id"])
    assert first["sent_now"] == 1 and first["pending"] == 3 and first["retry_after_seconds"] > 0
    inbox.refuse_after = None
    second = await send(client, manager, c["id"])  # 1 sent in the last minute: 2 more allowed
    assert second["sent_now"] == 2 and second["pending"] == 1 and 0 < second["retry_after_seconds"] <= 60
    assert (await send(client, manager, c["id"]))["sent_now"] == 0  # the minute is not over
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(consultations, "_now", lambda: later)
    third = await send(client, manager, c["id"])
    assert third["sent_now"] == 1 and third["pending"] == 0 and third["sent_total"] == 4
    assert sorted(inbox.recipients()) == ["ann@example.org", "bob@example.org", "cat@example.org", "dan@example.org"]
    # A row left claimed by a crashed sender ("sending") is never sent again.
    late = await member(client, manager, "Hal", email="hal@example.org")
    monkeypatch.setattr(consultations, "_now", lambda: later + timedelta(seconds=120))
    await ConsultationDelivery.insert(ConsultationDelivery(consultation=c["id"], practice=1, member=late,
                                                           channel="email", status="sending"))
    assert (await send(client, manager, c["id"]))["sent_now"] == 0 and len(inbox.messages) == 4


async def test_opt_out_link_and_sms_links(client, manager, inbox):
    people = await group(client, manager)
    c = await consultation(client, manager)
    await send(client, manager, c["id"])
    opt_out = inbox.link_for("ann@example.org") + "/opt-out"
    page = await client.get(opt_out)
    assert page.status_code == 200 and "Stop these e-mails" in page.text
    assert (await client.post(opt_out)).status_code == 200
    blocks = (await client.get(f"{BASE}/contact-blocks", headers=manager.headers)).json()
    assert [(b["member_id"], b["reason"]) for b in blocks] == [(people["ann"], "opted_out")]
    later = await consultation(client, manager)
    assert (await send(client, manager, later["id"]))["skipped"]["opted_out"] == 1
    assert "ann@example.org" not in inbox.recipients()[2:]

    csv_response = await client.post(f"{BASE}/years/{YEAR}/consultations/{c['id']}/sms-links", headers=manager.headers)
    assert csv_response.status_code == 200 and csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert [(r["phone"], r["link"][:27]) for r in rows] == [("447700900123", "https://testserver.local/c/")]
    link = rows[0]["link"].removeprefix("https://testserver.local")
    assert (await client.post(link, data={"answer": "agree"})).status_code == 200
    again = await client.post(f"{BASE}/years/{YEAR}/consultations/{c['id']}/sms-links", headers=manager.headers)
    assert again.text.strip() == "reference,phone,link"
    assert (await client.delete(f"{BASE}/contact-blocks/{people['ann']}", headers=manager.headers)).status_code == 204


async def test_close_agreed_marks_action_plan_agreed(client, manager, inbox):
    item = (await client.post(f"{BASE}/years/{YEAR}/action-items", headers=manager.headers, json={
        "finding": "Hard to get through on the phone at 8am", "proposed_change": "Add two lines"})).json()
    wrong = await client.post(f"{BASE}/years/{YEAR}/consultations", headers=manager.headers, json={
        "title": "Plan", "question": "Agree?", "subject": "action_plan", "item_ids": [item["id"], 999]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "item_ids"
    c = await consultation(client, manager, subject="action_plan", item_ids=[item["id"]])
    closed = await client.post(f"{BASE}/years/{YEAR}/consultations/{c['id']}/close", headers=manager.headers,
                               json={"outcome": "agreed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    items = (await client.get(f"{BASE}/years/{YEAR}/action-items", headers=manager.headers)).json()
    assert items[0]["prg_agreed_how"] == "virtual_consultation" and items[0]["consultation_id"] == c["id"]
    assert items[0]["status"] == "agreed" and items[0]["prg_agreed_on"] is not None
    assert (await client.post(f"{BASE}/years/{YEAR}/consultations/{c['id']}/send",
                              headers=manager.headers)).status_code == 409


async def test_send_without_smtp_is_refused(client, manager):
    c = await consultation(client, manager)
    response = await client.post(f"{BASE}/years/{YEAR}/consultations/{c['id']}/send", headers=manager.headers)
    assert response.status_code == 409 and "SMTP" in response.json()["detail"]


def test_cli_send_resumes_across_runs(settings, configure, monkeypatch):
    """`prg consultation send`: each run is a fresh start; together they reach everyone once."""
    import asyncio

    from click.testing import CliRunner

    from prg.accounts.services import PracticeAccess
    from prg.accounts.tables import Practice
    from prg.cli import main
    from prg.des.schemas import ConsultationIn
    from prg.members.tables import Consent, Member

    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=(port := free_port()))
    server.start()
    try:
        configure(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", mail_from="prg@y90001.example.org",
                  mail_per_minute=2, public_base_url="https://prg.example.nhs.uk")
        assert CliRunner().invoke(main, ["demo"]).exit_code == 0

        async def prepare() -> int:
            practice = await Practice.select().where(Practice.ods_code == "Y90001").first()
            members = await Member.select(Member.id).where(
                (Member.email != "") & (Member.participation != "core") & (Member.status == "active")
            ).order_by(Member.id).limit(3)
            for m in members:
                await Consent(member=m["id"], practice=practice["id"], purpose="prg_contact", given_at=utcnow(),
                              method="paper", wording_version="2011").save()
            access = PracticeAccess(practice["id"], "Y90001", practice["name"], "manager")
            created = await consultations.create_consultation(
                access, YEAR, ConsultationIn(title="Saturdays", question="Open on Saturdays?"), None)
            return created.id

        consultation_id = asyncio.run(prepare())
        args = ["consultation", "send", "--practice", "y90001", "--year", YEAR, "--id", str(consultation_id)]
        first = CliRunner().invoke(main, [*args, "--once"])
        assert first.exit_code == 0 and "sent 2, failed 0, pending 1" in first.output, first.output
        again = CliRunner().invoke(main, [*args, "--once"])
        assert "sent 0, failed 0, pending 1" in again.output
        later = utcnow() + timedelta(seconds=61)
        monkeypatch.setattr(consultations, "_now", lambda: later)
        last = CliRunner().invoke(main, args)
        assert last.exit_code == 0 and "sent 1, failed 0, pending 0, sent in all 3" in last.output, last.output
        assert len(handler.messages) == len(set(handler.recipients())) == 3
        assert "https://prg.example.nhs.uk/c/" in handler.messages[0].get_content()
    finally:
        server.stop()
