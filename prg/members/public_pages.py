"""The public sign-up page at /join/{ods_code}, over `signup.sign_up`.

What a patient sees: one server-rendered page (plain HTML form, no JavaScript) asking the questions
`signup` describes; sending it redirects (303) to a thank-you page. On any error the page comes back with
the answers kept, an error summary linking to each field and a message beside it; nothing is stored.
`?via=poster` (a poster's QR code) names the recruitment channel; `?lang=pl` the language.

Protection, in the order a POST meets it (prg.pages.protection has the details):
1. Request size: the form's body is capped at `MAX_BODY_BYTES` (413 beyond), far below uploads' limit.
2. Rate limit: `PRG_JOIN_REQUESTS_PER_HOUR` sends per client address per practice (every send counts,
   whatever its outcome), else a 429 "wait" page.
3. Anti-forgery token, bound to the practice; a refused form comes back (403) with the answers kept and a
   fresh token, so a patient who left it open too long only sends again.
4. Honeypot: a bot that fills it is thanked and nothing is stored.
5. The answers, checked by `signup.sign_up`, which stores the member or says what to correct.

Nothing personal is logged: log lines name the practice and the new member's number only.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from prg.errors import ErrorDetail, NotFound
from prg.members import signup
from prg.pages import (
    FormGuard,
    choose_language,
    errors_by_field,
    honeypot_filled,
    language_links,
    render_page,
    wait_before_next,
    words,
)
from prg.settings import get_settings

log = logging.getLogger("prg.members.signup")

MAX_BODY_BYTES = 16_384
GUARD = FormGuard(purpose="join", cookie="prg_join", path="/join")


def read_form(form: Any) -> dict[str, str]:
    """The posted answers as text, as they will be shown back on the form."""
    answers = {}
    for name in signup.ANSWERS:
        value = form.get(name)
        answers[name] = value.strip() if isinstance(value, str) else ""
    answers["address"] = answers["address"].replace("\r\n", "\n").replace("\r", "\n")
    return answers


def message(lang: str, status: int, title: str, body: str, practice: str = "", **values: Any) -> Response[str]:
    """A page saying one thing: `title` and `body` are catalogue keys."""
    t = words(lang)
    return render_page("join_message.html", lang, status, title=t(title),
                       body=t(body, practice=practice, **values), practice=practice)


def practice_not_found(request: Request, _: NotFound) -> Response[str]:
    lang = choose_language(request, asked=request.query_params.get("lang"))
    return message(lang, 404, "join.not_found_title", "join.not_found_body")


def form_page(request: Request, practice: dict[str, Any], lang: str, channel: str, answers: dict[str, str],
              errors: list[ErrorDetail], status: int) -> Response[str]:
    token, cookie = GUARD.issue(request, practice["ods_code"])
    t = words(lang)
    via = None if channel == signup.DEFAULT_CHANNEL else channel
    return render_page(
        "join_form.html", lang, status, cookies=[cookie],
        practice=practice["name"], ods=practice["ods_code"], via=channel, answers=answers, errors=errors,
        error_for=errors_by_field(errors), token=token, csrf_field=GUARD.field,
        languages=language_links(lang, via=via),
        participation=t.choices("join.participation_", signup.PARTICIPATION),
        contact_methods=t.choices("join.contact_", signup.CONTACT_METHODS),
        sexes=t.choices("join.sex_", signup.SEXES),
        age_bands=t.choices("join.age_band_", signup.AGE_BANDS),
        ethnic_groups=t.choices("join.ethnic_", signup.ETHNIC_CODES),
        carer=t.choices("join.carer_", signup.CARER),
    )


class JoinController(Controller):
    """GET shows the form, POST sends it, /thanks confirms. Public: no account, no JavaScript."""

    path = "/join"
    include_in_schema = False
    opt = {"exclude_from_auth": True}
    exception_handlers = {NotFound: practice_not_found}

    @get("/{ods_code:str}")
    async def show(self, request: Request, ods_code: FromPath[str]) -> Response[str]:
        lang = choose_language(request, asked=request.query_params.get("lang"))
        practice = await signup.practice_for_signup(ods_code)
        empty = dict.fromkeys(signup.ANSWERS, "")
        channel = signup.channel_of(request.query_params.get("via"))
        return form_page(request, practice, lang, channel, empty, [], 200)

    @post("/{ods_code:str}", status_code=200, request_max_body_size=MAX_BODY_BYTES)
    async def send(self, request: Request, ods_code: FromPath[str]) -> Response:
        lang = choose_language(request, asked=request.query_params.get("lang"))
        practice = await signup.practice_for_signup(ods_code)
        ods = practice["ods_code"]
        wait = await wait_before_next(request, "join", get_settings().join_requests_per_hour, scope=ods)
        if wait is not None:
            response = message(lang, 429, "page.wait_title", "join.slow_body", practice["name"],
                               minutes=max(1, wait // 60))
            response.headers["retry-after"] = str(wait)
            return response
        form = await request.form()
        lang = choose_language(request, asked=form.get("_lang"))
        channel = signup.channel_of(form.get("_via"))
        answers = read_form(form)
        if not GUARD.sent_is_valid(request, ods, form):
            log.info("PRG sign-up form for %s refused: missing, forged or expired token", ods)
            expired = [ErrorDetail(words(lang)("join.err_expired"), field="send")]
            return form_page(request, practice, lang, channel, answers, expired, 403)
        thanks = Redirect(f"/join/{ods}/thanks?lang={lang}", status_code=303)
        if honeypot_filled(form):
            log.info("PRG sign-up form for %s: honeypot filled, nothing stored", ods)
            return thanks
        try:
            member_id = await signup.sign_up(practice["id"], answers, channel)
        except signup.SignUpRefused as refused:
            t = words(lang)
            errors = [ErrorDetail(t(p.key, **p.values), field=p.field) for p in refused.problems]
            return form_page(request, practice, lang, channel, answers, errors, 422)
        log.info("PRG sign-up for %s: member %s invited (channel %s)", ods, member_id, channel)
        return thanks

    @get("/{ods_code:str}/thanks")
    async def thanks(self, request: Request, ods_code: FromPath[str]) -> Response[str]:
        lang = choose_language(request, asked=request.query_params.get("lang"))
        practice = await signup.practice_for_signup(ods_code)
        return message(lang, 200, "page.thank_you", "join.thanks_body", practice["name"])
