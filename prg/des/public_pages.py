"""The public consultation page at /c/{token}: a member's single-use link (no account: the link is the
credential). GET shows the question and changes nothing (mail scanners open links); POST records the
answer once; /c/{token}/opt-out stops further e-mails. The page speaks the language the link asks for
(`?lang=pl`) or the browser's, through prg.pages; the consultation service's messages are worded from the
catalogue's `consultation.problem_*` keys.
"""

from __future__ import annotations

from babel.dates import format_date
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from prg.des import consultations
from prg.errors import InvalidInput, NotFound
from prg.pages import choose_language, render_page, words

SERVICE_MESSAGES = "consultation.problem_"


def page_language(request: Request) -> str:
    return choose_language(request, asked=request.query_params.get("lang"))


def consultation_page(request: Request, lang: str, heading: str, status: int = 200, **context: object
                      ) -> Response[str]:
    """The page in `lang`; `heading` is a catalogue key, `message` is text already worded."""
    context = {"view": None, "form": False, "opt_out_form": False, "message": "", "error": False, "action": "",
               "comment": "", "closes_on": "", **context}
    if context["action"] and request.query_params.get("lang") == lang:
        context["action"] = f"{context['action']}?lang={lang}"  # the answer comes back in the language chosen
    view = context["view"]
    if isinstance(view, consultations.PublicConsultation) and view.closes_on:
        context["closes_on"] = format_date(view.closes_on, "d MMMM y", locale=lang)
    return render_page("consultation.html", lang, status, package="prg.des", heading=words(lang)(heading),
                       **context)


def link_not_found(request: Request, exc: NotFound) -> Response[str]:
    lang = page_language(request)
    return consultation_page(request, lang, "consultation.not_found_title", 404, error=True,
                             message=words(lang).message(exc.detail, SERVICE_MESSAGES))


def link_gone(request: Request, exc: consultations.LinkGone) -> Response[str]:
    """The consultation closed, or the link was used, while the member had the page open."""
    lang = page_language(request)
    return consultation_page(request, lang, "page.thank_you", 410,
                             message=words(lang).message(exc.detail, SERVICE_MESSAGES))


class PublicConsultationController(Controller):
    """GET shows the question, POST records the answer once, /opt-out stops further e-mails."""

    path = "/c"
    opt = {"exclude_from_auth": True}
    include_in_schema = False
    exception_handlers = {NotFound: link_not_found, consultations.LinkGone: link_gone}

    @get("/{token:str}")
    async def show(self, request: Request, token: FromPath[str]) -> Response[str]:
        view = await consultations.open_link(token)
        lang = page_language(request)
        t = words(lang)
        if view.answered:
            return consultation_page(request, lang, "page.thank_you", 410, view=view,
                                     message=t("consultation.already_answered"))
        if not view.open:
            return consultation_page(request, lang, "consultation.closed_title", 410, view=view,
                                     message=t("consultation.closed_body"))
        return consultation_page(request, lang, "consultation.question_title", view=view, form=True,
                                 action=f"/c/{token}")

    @post("/{token:str}", status_code=200)
    async def submit(self, request: Request, token: FromPath[str]) -> Response[str]:
        form = await request.form()
        answer, comment = str(form.get("answer") or ""), str(form.get("comment") or "")
        lang = page_language(request)
        t = words(lang)
        try:
            view = await consultations.answer(token, answer, comment)
        except InvalidInput as exc:
            view = await consultations.open_link(token)
            problem = exc.errors[0].message if exc.errors else exc.detail
            return consultation_page(request, lang, "consultation.question_title", 422, view=view, form=True,
                                     action=f"/c/{token}", error=True, comment=comment[:5000],
                                     message=t.message(problem, SERVICE_MESSAGES))
        return consultation_page(request, lang, "page.thank_you", view=view, message=t("consultation.recorded"))

    @get("/{token:str}/opt-out")
    async def opt_out_page(self, request: Request, token: FromPath[str]) -> Response[str]:
        view = await consultations.open_link(token)
        lang = page_language(request)
        return consultation_page(request, lang, "consultation.opt_out_title", view=view, opt_out_form=True,
                                 action=f"/c/{token}/opt-out", message=words(lang)("consultation.opt_out_body"))

    @post("/{token:str}/opt-out", status_code=200)
    async def opt_out(self, request: Request, token: FromPath[str]) -> Response[str]:
        await consultations.opt_out(token)
        lang = page_language(request)
        return consultation_page(request, lang, "consultation.opted_out_title",
                                 message=words(lang)("consultation.opted_out_body"))
