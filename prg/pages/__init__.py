"""The page stack every server-rendered page shares: the patient pages (/join, /s, /c) today, the staff
workspace next.

- `rendering`: the Jinja environment (autoescape on everywhere; a package's templates, then prg's), and
  `render_page()`, which renders a template in a language with the layout's context: `lang`, `dir` and `t`,
  the language's words. Templates extend prg/templates/public_base.html.
- `languages`: one rule for the page's language (`?lang=` / the form's `_lang`, else Accept-Language by
  q-value through babel, else the default), language names and text direction, the switcher's links.
- `catalogue`: the word catalogue, one JSON file per language in prg/locales, namespaced keys, each
  language's review status; English fills in a missing key.
- `protection`: the honeypot, the anti-forgery token of forms without an account, rate-limit keys.

A page in five lines:

    lang = choose_language(request, asked=request.query_params.get("lang"))
    t = words(lang)
    if await wait_before_next(request, "join", settings.join_requests_per_hour, scope=ods_code):
        return render_page("join_message.html", lang, 429, title=t("page.wait_title"), body=...)
    return render_page("join_form.html", lang, practice=name)   # the template writes {{ t("join.title") }}
"""

from prg.pages.catalogue import Words, catalogue, words
from prg.pages.languages import choose_language, language_links, language_name, text_direction
from prg.pages.protection import HONEYPOT, FormGuard, client_key, honeypot_filled, wait_before_next
from prg.pages.rendering import environment, errors_by_field, render, render_page

__all__ = [
    "HONEYPOT", "FormGuard", "Words", "catalogue", "choose_language", "client_key", "environment", "errors_by_field",
    "honeypot_filled", "language_links", "language_name", "render", "render_page", "text_direction",
    "wait_before_next", "words",
]
