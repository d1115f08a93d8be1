"""Done when: on the demo practice, a whole participation year walked through the API turns every component
of the guide to done, and removing a piece of evidence turns its component back.

The year is the current one (2026-27): survey responses are dated by the day they arrive, so the walk
happens "now". The demo practice brings the population profile and the PRG register; the walk adds
priorities agreed at a meeting, a survey built on them with responses, a discussion, an action plan agreed by
virtual consultation (real e-mail through a local SMTP server, a member answering through the link) and the
published report.
"""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from prg.accounts import services as accounts
from prg.accounts.tables import StaffUser
from prg.demo import MANAGER_EMAIL, load_demo
from prg.des.scheme_years import year_code_for
from tests.conftest import free_port

BASE = "/api/practices/Y90001"


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def inbox(configure):
    handler, port = Inbox(), free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    configure(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", mail_from="prg@y90001.example.org")
    yield handler
    server.stop()


@pytest.fixture
async def demo_manager(database):
    """The demo practice as `prg demo` loads it, and an API token for its manager."""
    await load_demo()
    user = await StaffUser.select(StaffUser.id).where(StaffUser.email == MANAGER_EMAIL).first()
    token = await accounts.create_token(user["id"], "walkthrough", None)
    return {"Authorization": f"Bearer {token.secret}"}


def statuses(guide: dict) -> dict[str, str]:
    return {c["key"]: c["status"] for c in guide["components"]}


async def test_a_whole_year_through_the_api(client, demo_manager, inbox):
    h = demo_manager
    year = year_code_for(date.today())
    api = f"{BASE}/years/{year}"

    async def guide() -> dict:
        response = await client.get(api, headers=h)
        assert response.status_code == 200, response.text
        return response.json()

    start = await guide()
    # The demo practice has a register and a population: the group exists and has been compared.
    assert statuses(start) == {"prg": "done", "priorities": "missing", "survey": "missing", "discussion": "missing",
                               "action_plan": "missing", "report": "missing"}
    prg = start["components"][0]
    assert {e["kind"] for e in prg["evidence"]} == {"members", "population_profile", "representativeness"}
    # Recruitment steps show in the year members joined (the demo group was recruited in 2011/12).
    first_year = (await client.get(f"{BASE}/years/2011-12", headers=h)).json()
    recruited = [e["description"] for e in first_year["components"][0]["evidence"] if e["kind"] == "recruitment"]
    assert recruited and all(re.match(r"\d+ member\(s\) joined through ", d) for d in recruited)
    assert "36 member(s)" in prg["evidence"][0]["description"]
    assert start["next_step"].startswith("Meet or consult the group")  # the first required open step (contract year)
    assert start["payment"]["payable"] is False

    # A recruitment step this year (posters for an under-represented group) shows as evidence.
    poster = await client.post(f"{BASE}/recruitment/campaigns", headers=h, json={
        "channel": "poster", "sent_on": date.today().isoformat(), "name": "Waiting-room posters", "total_sent": 4})
    assert poster.status_code == 201, poster.text
    steps = [e for e in (await guide())["components"][0]["evidence"] if e["kind"] == "recruitment"]
    assert [e["description"] for e in steps] == ["Recruitment by poster: Waiting-room posters (4 sent, 0 joined)"]
    assert steps[0]["link"] == f"{BASE}/recruitment/campaigns/{poster.json()['id']}"

    # Priorities: proposed, then agreed at a meeting.
    meeting = (await client.post(f"{api}/meetings", headers=h, json={
        "held_on": date.today().isoformat(), "purpose": "priorities", "title": "PRG meeting: priorities",
        "invited": 36, "attended": 11, "decisions": "Access by telephone and appointments first."})).json()
    phones = (await client.post(f"{api}/priorities", headers=h, json={
        "title": "Getting through on the telephone", "proposed_by": "prg"})).json()
    assert statuses(await guide())["priorities"] == "in_progress"

    # The survey built on the priority, published, with responses.
    survey = (await client.post(f"{BASE}/surveys/from-bank", headers=h, json={
        "title": {"en": "Our practice survey"},
        "sections": [{"id": "s", "questions": ["fft_2020_experience", "fft_2020_reason"]}]})).json()
    agreed = await client.patch(f"{api}/priorities/{phones['id']}", headers=h, json={
        "status": "agreed", "agreed_on": date.today().isoformat(), "agreed_how": "meeting",
        "engagement_id": meeting["id"],
        "survey_questions": [{"survey_id": survey["id"], "question_id": "fft_2020_experience"}]})
    assert agreed.status_code == 200, agreed.text
    assert statuses(await guide())["priorities"] == "done"
    assert (await client.post(f"{BASE}/surveys/{survey['id']}/publish", headers=h)).status_code == 200
    assert statuses(await guide())["survey"] == "in_progress"
    for answer in ["very_good", "good", "poor", "very_good", "neither"]:
        sent = await client.post(f"{BASE}/surveys/{survey['id']}/responses", headers=h,
                                 json={"answers": {"fft_2020_experience": answer}})
        assert sent.status_code == 201, sent.text
    after_survey = await guide()
    assert statuses(after_survey)["survey"] == "done"
    assert "5 response(s)" in after_survey["components"][2]["evidence"][0]["description"]

    # The discussion of the findings, after the survey.
    discussion = (await client.post(f"{api}/meetings", headers=h, json={
        "held_on": date.today().isoformat(), "purpose": "discussion", "title": "Survey results discussed",
        "attended": 9, "notes": "Results shared; phones are the main concern."})).json()
    assert statuses(await guide())["discussion"] == "done"

    # The action plan, agreed by virtual consultation: members with contact consent get an e-mail.
    members = (await client.get(f"{BASE}/members", headers=h, params={"limit": 100})).json()["items"]
    with_email = [m for m in members if m["email"] and m["participation"] != "core"][:3]
    for m in with_email:
        await client.post(f"{BASE}/members/{m['id']}/consents", headers=h,
                          json={"purpose": "prg_contact", "method": "paper", "wording_version": "2011"})
    item = (await client.post(f"{api}/action-items", headers=h, json={
        "finding": "Patients cannot get through on the phone at 8am", "proposed_change": "Two more lines at 8am",
        "owner": "Practice manager", "due_on": f"{int(year[:4]) + 1}-03-01", "survey_id": survey["id"],
        "priority_id": phones["id"]})).json()
    not_acting = (await client.post(f"{api}/action-items", headers=h, json={
        "finding": "Open on Sundays", "status": "not_acting",
        "not_acting_reason": "The practice cannot staff Sunday opening."})).json()
    assert statuses(await guide())["action_plan"] == "in_progress"
    consultation = (await client.post(f"{api}/consultations", headers=h, json={
        "title": "Our action plan", "question": "Do you agree with the action plan?", "subject": "action_plan",
        "item_ids": [item["id"], not_acting["id"]]})).json()
    sent = (await client.post(f"{api}/consultations/{consultation['id']}/send", headers=h)).json()
    assert sent["sent_now"] == len(with_email) == len(inbox.messages) == 3
    link = re.search(r"https://testserver\.local(/c/[A-Za-z0-9_-]+)\s", inbox.messages[0].get_content()).group(1)
    assert (await client.post(link, data={"answer": "agree", "comment": "Good plan"})).status_code == 200
    closed = await client.post(f"{api}/consultations/{consultation['id']}/close", headers=h, json={"outcome": "agreed"})
    assert closed.status_code == 200 and closed.json()["tally"]["agree"] == 1
    assert statuses(await guide())["action_plan"] == "done"

    # "You said, we did", for publication.
    view = (await client.get(f"{api}/you-said-we-did", headers=h)).json()
    assert [i["we_did"] for i in view["items"]] == ["Two more lines at 8am"]
    assert view["not_acted_on"][0]["we_did"] == "The practice cannot staff Sunday opening."
    page = await client.get(f"{api}/you-said-we-did", headers=h, params={"format": "html"})
    assert page.status_code == 200 and "Two more lines at 8am" in page.text

    # The report, published on the practice website.
    report = await client.put(f"{api}/report", headers=h, json={
        "published_on": date.today().isoformat(), "url": "https://riverside.example.nhs.uk/prg-report"})
    assert report.status_code == 200, report.text
    done = await guide()
    assert set(statuses(done).values()) == {"done"} and done["done"] == done["total"] == 6
    assert done["next_step"] is None and all(c["next_step"] is None for c in done["components"])
    assert done["deadlines"][0]["days_remaining"] == (date(int(year[:4]) + 1, 3, 31) - date.today()).days

    # Remove evidence: its component turns back, the rest stay done.
    assert (await client.delete(f"{api}/report", headers=h)).status_code == 204
    assert (await client.delete(f"{api}/meetings/{discussion['id']}", headers=h)).status_code == 204
    back = await guide()
    assert statuses(back) == {"prg": "done", "priorities": "done", "survey": "done", "discussion": "missing",
                              "action_plan": "done", "report": "missing"}
    assert back["next_step"].startswith("Meet or consult the group")
    assert (await client.patch(f"{api}/action-items/{item['id']}", headers=h,
                               json={"prg_agreed_on": None, "prg_agreed_how": None})).status_code == 200
    assert (await client.patch(f"{api}/action-items/{not_acting['id']}", headers=h,
                               json={"prg_agreed_on": None, "prg_agreed_how": None})).status_code == 200
    assert statuses(await guide())["action_plan"] == "in_progress"
    # Without the practice population the group cannot be checked for representativeness.
    profiles = (await client.get(f"{BASE}/population", headers=h, params={"dimension": "age_sex"})).json()["items"]
    for profile in profiles:
        assert (await client.delete(f"{BASE}/population/{profile['id']}", headers=h)).status_code == 204
    prg_back = (await guide())["components"][0]
    assert prg_back["status"] == "in_progress" and "Import the practice's population" in prg_back["next_step"]
