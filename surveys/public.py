"""The public survey form at /s/{public_id}: what patients see.

Server-rendered with autoescaped Jinja and plain HTML forms, so it works without JavaScript, with a
screen reader and on an old phone. Each section is a page. Between pages nothing is stored: the
answers given so far travel in hidden fields of the next page, so a patient who gives up leaves no
trace. "Save and come back later" stores the answers under a link of their own (an invitation's, or a
new single-use resume link for open surveys). Submitting validates the whole response against the
published version and redirects to a thank-you page only after the response is committed.

Pages, language, honeypot and rate limit come from prg.pages: the page speaks the language the link or
form asks for, else the browser's, among the survey's languages (the form's own words from the word
catalogue, English where a language has none); a bot that fills the honeypot is thanked; submissions are
limited per client address per survey.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath

from prg.errors import Conflict, ErrorDetail, InvalidInput, NotFound
from prg import pages
from prg.settings import get_settings
from surveys import services
from surveys.answers import validate_response
from surveys.definition import (
    DateQuestion,
    MultipleChoiceQuestion,
    RatingGridQuestion,
    SurveyDefinition,
    grid_field,
)
from surveys.form_view import FormView
from surveys.services import PublishedSurvey


def survey_language(request: Request, definition: SurveyDefinition, asked: object) -> str:
    return pages.choose_language(request, definition.languages, asked, default=definition.default_language)


def thanks_redirect(public_id: str, lang: str) -> Response[bytes]:
    """303 to the thank-you page. A plain Response with a Location header: Litestar's `Redirect` builds
    the same answer at several times the cost on the submission hot path. Nothing here needs quoting:
    `public_id` names a stored survey (URL-safe base64) and `lang` is one of its language codes."""
    return Response(b"", status_code=303, media_type="text/plain",
                    headers={"location": f"/s/{public_id}/thanks?lang={lang}"})


def message(lang: str, status: int, title: str, body: str, **values: Any) -> Response[str]:
    """A page saying one thing: `title` and `body` are catalogue keys."""
    t = pages.words(lang)
    return pages.render_page("survey_message.html", lang, status, package="surveys", title=t(title),
                       body=t(body, **values), **values)


def not_found(lang: str) -> Response[str]:
    return message(lang, 404, "survey.not_found_title", "survey.not_found_body")


def already_sent(lang: str) -> Response[str]:
    return message(lang, 409, "survey.used_title", "survey.used_body")


# --- form data <-> answers --------------------------------------------------------------------------


def answers_from_form(definition: SurveyDefinition, form: FormMultiDict) -> dict[str, Any]:
    """The raw answers a posted form holds (current page and carried pages alike)."""
    answers: dict[str, Any] = {}
    for question in definition.questions():
        qid = question.id
        if isinstance(question, MultipleChoiceQuestion):
            values = [v for v in form.getall(qid, []) if v]
            if values:
                answers[qid] = values
        elif isinstance(question, RatingGridQuestion):
            rows = {row.id: form.get(grid_field(qid, row.id)) for row in question.rows}
            rows = {k: v for k, v in rows.items() if v}
            if rows:
                answers[qid] = rows
        elif isinstance(question, DateQuestion):
            parts = {p: (form.get(f"{qid}-{p}") or "").strip() for p in ("day", "month", "year")}
            if any(parts.values()):
                answers[qid] = parts
        else:
            value = form.get(qid)
            if value not in (None, ""):
                answers[qid] = value
    return answers


def carried_fields(definition: SurveyDefinition, answers: dict[str, Any], skip: set[str]) -> list[tuple[str, str]]:
    """Hidden (name, value) pairs carrying answers of other pages, in the form's own field names."""
    fields: list[tuple[str, str]] = []
    for question in definition.questions():
        qid = question.id
        if qid in skip or qid not in answers:
            continue
        value = answers[qid]
        if isinstance(value, list):
            fields += [(qid, str(v)) for v in value]
        elif isinstance(value, dict) and isinstance(question, RatingGridQuestion):
            fields += [(grid_field(qid, row), str(code)) for row, code in value.items()]
        elif isinstance(value, dict):
            fields += [(f"{qid}-{part}", str(v)) for part, v in value.items()]
        elif isinstance(question, DateQuestion) and isinstance(value, str) and len(value) == 10:
            year, month, day = value.split("-")
            fields += [(f"{qid}-day", day), (f"{qid}-month", month), (f"{qid}-year", year)]
        else:
            fields.append((qid, str(value)))
    return fields


def visible_pages(survey: PublishedSurvey, answers: dict[str, Any]) -> list[tuple[int, list[str]]]:
    """(section index, shown question ids) for each section with something to show: conditions on
    earlier pages' answers are applied; conditions on the same page's answers cannot be, yet."""
    shown = set(survey.compiled.shown(answers)) | survey.same_page_conditions
    result = []
    for index, section in enumerate(survey.definition.sections):
        ids = [q.id for q in section.questions if q.id in shown]
        if ids:
            result.append((index, ids))
    return result


def field_question(field: str) -> str:
    return field.split("[", 1)[0]


# --- the controller ------------------------------------------------------------------------------------


class PublicSurveyController(Controller):
    path = "/s"
    include_in_schema = False
    opt = {"exclude_from_auth": True}

    async def _survey(self, public_id: FromPath[str]) -> PublishedSurvey | None:
        if len(public_id) > 32:
            return None
        return await services.published_surveys.get(public_id)

    @get("/{public_id:str}")
    async def show(self, request: Request, public_id: FromPath[str]) -> Response[str]:
        survey = await self._survey(public_id)
        asked = request.query_params.get("lang")
        if survey is None:
            return not_found(pages.choose_language(request, asked=asked))
        lang = survey_language(request, survey.definition, asked)
        if survey.status != "open":
            return message(lang, 410, "survey.closed_title", "survey.closed_body")
        token = request.query_params.get("t") or None
        answers: dict[str, Any] = {}
        if token:
            try:
                invitation = await services.find_invitation(survey, token[:64])
            except NotFound:
                return not_found(lang)
            except Conflict:
                return already_sent(lang)
            answers = invitation["draft"] or {}
        elif survey.access == "invitation":
            return message(lang, 403, "survey.invite_title", "survey.invite_body")
        return self._page(request, survey, lang, token, answers, page=0, errors=[])

    @post("/{public_id:str}", status_code=200)
    async def answer(self, request: Request, public_id: FromPath[str]) -> Response:
        survey = await self._survey(public_id)
        form = await request.form()
        asked = form.get("_lang")
        if survey is None:
            return not_found(pages.choose_language(request, asked=asked))
        lang = survey_language(request, survey.definition, asked)
        if survey.status != "open":
            return message(lang, 410, "survey.closed_title", "survey.closed_body")
        token = (form.get("_t") or None) and str(form.get("_t"))[:64]
        if pages.honeypot_filled(form):  # a bot: thanked, and nothing is stored
            return thanks_redirect(public_id, lang)
        answers = answers_from_form(survey.definition, form)
        action = form.get("_action", "next")
        try:
            page = max(0, int(form.get("_page", "0")))
        except ValueError:
            page = 0
        if action == "back":
            return self._page(request, survey, lang, token, answers, page - 1, [])
        if action == "save":
            saved = await services.save_draft(survey, answers, token)
            link = f"{str(request.base_url).rstrip('/')}/s/{public_id}?t={saved}&lang={lang}"
            return message(lang, 200, "survey.saved_title", "survey.saved_body", link=link)
        if action == "submit":
            # The hot path: one check of the whole response, and pages are worked out only on a problem.
            try:
                submission = await services.prepare_submission(survey, answers, language=lang, mode="web",
                                                               token=token, hidden="drop")
            except Conflict:
                return already_sent(lang)
            except InvalidInput as exc:
                visible = visible_pages(survey, answers)
                first = next((i for i, (_, ids) in enumerate(visible)
                              if any(field_question(e.field or "") in ids for e in exc.errors)), 0)
                return self._page(request, survey, lang, token, answers, first, exc.errors)
            wait = await pages.wait_before_next(request, "survey", get_settings().survey_submissions_per_hour,
                                          scope=public_id)
            if wait is not None and not token:
                return message(lang, 429, "page.wait_title", "survey.slow_body", minutes=max(1, wait // 60))
            try:
                await request.app.state.response_writer.submit(submission)
            except Conflict:
                return already_sent(lang)
            return thanks_redirect(public_id, lang)
        problems = self._problems(survey, answers, lang)
        visible = visible_pages(survey, answers)
        page = min(page, len(visible) - 1)
        upto = {qid for _, ids in visible[: page + 1] for qid in ids}
        mine = [e for e in problems if field_question(e.field or "") in upto]
        return self._page(request, survey, lang, token, answers, page if mine or page == len(visible) - 1 else page + 1,
                          mine)

    @get("/{public_id:str}/thanks")
    async def thanks(self, request: Request, public_id: FromPath[str]) -> Response[str]:
        lang = pages.choose_language(request, asked=request.query_params.get("lang"))
        return message(lang, 200, "page.thank_you", "survey.thanks_body")

    def _problems(self, survey: PublishedSurvey, answers: dict[str, Any], lang: str) -> list:
        try:
            validate_response(survey.compiled, answers, lang, hidden="drop")
        except InvalidInput as exc:
            return exc.errors
        return []

    def _page(self, request: Request, survey: PublishedSurvey, lang: str, token: str | None,
              answers: dict[str, Any], page: int, errors: list) -> Response[str]:
        visible = visible_pages(survey, answers)
        page = max(0, min(page, len(visible) - 1))
        section_index, ids = visible[page]
        section = survey.definition.sections[section_index]
        questions = [q for q in section.questions if q.id in set(ids)]
        t = pages.words(lang)
        errors = [ErrorDetail(t.message(e.message, within="answer."), field=e.field) for e in errors]
        return pages.render_page(
            "survey_form.html", lang, 422 if errors else 200, package="surveys",
            survey=survey, d=survey.definition, section=section, questions=questions, page=page,
            page_count=len(visible), answers=answers, errors=errors, error_for=pages.errors_by_field(errors),
            token=token, carried=carried_fields(survey.definition, answers, set(ids)),
            languages=pages.language_links(lang, survey.definition.languages, names=survey.definition.language_names,
                                           t=token),
            grid_field=grid_field, field_question=field_question, kind=lambda q: q.__struct_config__.tag,
            # Issue 23: earlier answers in text, notes, cascading answer lists, defaults (on a page's first showing).
            view=FormView(survey.compiled, answers, lang, prefill=not errors, page=set(ids)),
        )
